//! Turning an uploaded file into rows of cells, safely. Workbooks are read
//! with calamine (cached values only: formulas are never evaluated), CSV with
//! the csv crate. Anything that is not a readable spreadsheet is refused with
//! a message a training lead can act on.

use super::Cell;
use calamine::{Data, Reader};
use chrono::NaiveDate;
use std::io::{Cursor, Read};

/// One sheet's cells, row by row (row 0 is the sheet's first row).
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    Xlsx,
    Xls,
    Ods,
    Csv,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is {size} bytes; the limit is {limit} bytes.")]
    TooLarge { size: u64, limit: u64 },
    #[error("The file unpacks to {unpacked} bytes from {packed}, which is out of proportion for a sign-in sheet, so it was not opened.")]
    ZipBomb { packed: u64, unpacked: u64 },
    #[error("The workbook is protected with a password. Save a copy without a password and upload that.")]
    Encrypted,
    #[error("This is not a spreadsheet qmtrack can read. Upload an Excel (.xlsx, .xlsm, .xls), OpenDocument (.ods) or CSV file.")]
    NotASpreadsheet,
    #[error("The file's name says {extension} but its content is {actual}. Check you chose the right file.")]
    Mismatch { extension: String, actual: &'static str },
    #[error("The workbook could not be read: {0}")]
    Unreadable(String),
    #[error("The CSV file could not be read: {0}")]
    BadCsv(String),
    #[error("The workbook has no sheets with anything in them.")]
    NoData,
}

/// Largest total a workbook may unpack to, and how many times its packed size.
const MAX_UNPACKED: u64 = 512 * 1024 * 1024;
const MAX_RATIO: u64 = 100;

/// What the bytes are, from their content; the name only breaks ties (CSV has no signature).
pub fn detect(bytes: &[u8], file_name: &str) -> Result<FileKind, ReadError> {
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let kind = if bytes.starts_with(b"PK\x03\x04") {
        if zip_has_entry(bytes, "mimetype", b"application/vnd.oasis.opendocument.spreadsheet") {
            FileKind::Ods
        } else if zip_has_entry(bytes, "[Content_Types].xml", b"") {
            FileKind::Xlsx
        } else {
            return Err(ReadError::NotASpreadsheet);
        }
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An OLE container: a legacy .xls, or an encrypted .xlsx (Office wraps those in OLE).
        if contains(bytes, &utf16("EncryptionInfo")) || matches!(extension.as_str(), "xlsx" | "xlsm") {
            return Err(ReadError::Encrypted);
        }
        FileKind::Xls
    } else if looks_like_text(bytes) {
        FileKind::Csv
    } else {
        return Err(ReadError::NotASpreadsheet);
    };
    let expected = match extension.as_str() {
        "xlsx" | "xlsm" => Some(FileKind::Xlsx),
        "xls" => Some(FileKind::Xls),
        "ods" => Some(FileKind::Ods),
        "csv" | "txt" => Some(FileKind::Csv),
        _ => None,
    };
    match expected {
        Some(expected) if expected != kind => Err(ReadError::Mismatch {
            extension: format!(".{extension}"),
            actual: match kind {
                FileKind::Xlsx => "an Excel workbook (.xlsx)",
                FileKind::Xls => "a legacy Excel workbook (.xls)",
                FileKind::Ods => "an OpenDocument spreadsheet (.ods)",
                FileKind::Csv => "plain text",
            },
        }),
        _ => Ok(kind),
    }
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn looks_like_text(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(8192)];
    !sample.contains(&0) && (std::str::from_utf8(sample).is_ok() || sample.iter().all(|b| *b >= 0x09))
}

fn zip_has_entry(bytes: &[u8], name: &str, starts_with: &[u8]) -> bool {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return false;
    };
    let Ok(mut entry) = archive.by_name(name) else {
        return false;
    };
    let mut head = vec![0u8; starts_with.len()];
    entry.read_exact(&mut head).is_ok() && head == starts_with
}

/// Refuses a zip container whose entries claim far more than the file could
/// reasonably hold, before any of it is decompressed.
fn check_zip_proportions(bytes: &[u8]) -> Result<(), ReadError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ReadError::Unreadable(e.to_string()))?;
    let mut unpacked: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| ReadError::Unreadable(e.to_string()))?;
        unpacked = unpacked.saturating_add(entry.size());
    }
    let packed = bytes.len() as u64;
    if unpacked > MAX_UNPACKED || unpacked > packed.saturating_mul(MAX_RATIO).max(10 * 1024 * 1024) {
        return Err(ReadError::ZipBomb { packed, unpacked });
    }
    Ok(())
}

/// Reads every sheet. `max_bytes` is the upload limit.
pub fn read_workbook(bytes: &[u8], file_name: &str, max_bytes: u64) -> Result<(FileKind, Vec<Sheet>), ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit: max_bytes,
        });
    }
    let kind = detect(bytes, file_name)?;
    let sheets = match kind {
        FileKind::Csv => vec![read_csv(bytes, file_name)?],
        FileKind::Xlsx | FileKind::Ods => {
            check_zip_proportions(bytes)?;
            read_calamine(bytes, &kind)?
        }
        FileKind::Xls => read_calamine(bytes, &kind)?,
    };
    if sheets
        .iter()
        .all(|s| s.rows.iter().all(|r| r.iter().all(Cell::is_empty)))
    {
        return Err(ReadError::NoData);
    }
    Ok((kind, sheets))
}

fn read_calamine(bytes: &[u8], kind: &FileKind) -> Result<Vec<Sheet>, ReadError> {
    let cursor = Cursor::new(bytes);
    let unreadable = |e: calamine::Error| match e {
        calamine::Error::Xls(calamine::XlsError::Password) => ReadError::Encrypted,
        other => ReadError::Unreadable(other.to_string()),
    };
    let mut workbook: calamine::Sheets<_> = match kind {
        FileKind::Xlsx => calamine::Sheets::Xlsx(calamine::Xlsx::new(cursor).map_err(|e| unreadable(e.into()))?),
        FileKind::Ods => calamine::Sheets::Ods(calamine::Ods::new(cursor).map_err(|e| unreadable(e.into()))?),
        _ => calamine::Sheets::Xls(calamine::Xls::new(cursor).map_err(|e| unreadable(e.into()))?),
    };
    if let calamine::Sheets::Xlsx(xlsx) = &mut workbook {
        return read_xlsx_by_reference(xlsx);
    }
    let mut sheets = Vec::new();
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name).map_err(unreadable)?;
        // Ranges start at the first used cell; pad so row and column numbers match the sheet's.
        let (top, left) = range.start().map(|(r, c)| (r as usize, c as usize)).unwrap_or((0, 0));
        let mut rows: Vec<Vec<Cell>> = vec![Vec::new(); top];
        for row in range.rows() {
            let mut cells = vec![Cell::Empty; left];
            cells.extend(row.iter().map(cell_from));
            rows.push(cells);
        }
        sheets.push(Sheet { name, rows });
    }
    Ok(sheets)
}

/// For .xlsx, read cells as references into the shared string table rather
/// than copies (the common case in files Excel writes): one copy instead of two.
fn read_xlsx_by_reference(workbook: &mut calamine::Xlsx<Cursor<&[u8]>>) -> Result<Vec<Sheet>, ReadError> {
    use calamine::{DataRef, ReaderRef};
    let mut sheets = Vec::new();
    for name in workbook.sheet_names() {
        let range = workbook
            .worksheet_range_ref(&name)
            .map_err(|e| ReadError::Unreadable(e.to_string()))?;
        let (top, left) = range.start().map(|(r, c)| (r as usize, c as usize)).unwrap_or((0, 0));
        let mut rows: Vec<Vec<Cell>> = vec![Vec::new(); top];
        for row in range.rows() {
            let mut cells = vec![Cell::Empty; left];
            cells.extend(row.iter().map(|data| match data {
                DataRef::SharedString(s) => text_cell(s),
                DataRef::String(s) => text_cell(s),
                DataRef::Int(i) => Cell::Number(*i as f64),
                DataRef::Float(f) => Cell::Number(*f),
                DataRef::Bool(b) => Cell::Bool(*b),
                DataRef::DateTime(dt) => cell_from(&Data::DateTime(*dt)),
                DataRef::DateTimeIso(s) => cell_from(&Data::DateTimeIso(s.clone())),
                DataRef::DurationIso(s) => text_cell(s),
                DataRef::Error(_) | DataRef::Empty => Cell::Empty,
            }));
            rows.push(cells);
        }
        sheets.push(Sheet { name, rows });
    }
    Ok(sheets)
}

fn cell_from(data: &Data) -> Cell {
    match data {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) => text_cell(s),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) if dt.is_datetime() => match dt.as_datetime() {
            Some(at) => Cell::Date(at.date()),
            None => Cell::Number(dt.as_f64()),
        },
        Data::DateTime(dt) => Cell::Number(dt.as_f64()),
        Data::DateTimeIso(s) => match NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d") {
            Ok(date) => Cell::Date(date),
            Err(_) => text_cell(s),
        },
        Data::DurationIso(s) => text_cell(s),
    }
}

fn text_cell(text: &str) -> Cell {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(trimmed.to_string())
    }
}

fn read_csv(bytes: &[u8], file_name: &str) -> Result<Sheet, ReadError> {
    // Excel writes a byte-order mark at the start of "CSV UTF-8" files.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        // Older Excel saves CSV as Windows-1252; Latin-1 is the same for letters people use in names here.
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|b| *b as char).collect::<String>()),
    };
    let delimiter = if text
        .lines()
        .next()
        .is_some_and(|l| l.matches(';').count() > l.matches(',').count())
    {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ReadError::BadCsv(e.to_string()))?;
        rows.push(record.iter().map(text_cell).collect());
    }
    let name = file_name
        .rsplit_once('.')
        .map(|(n, _)| n)
        .unwrap_or(file_name)
        .to_string();
    Ok(Sheet { name, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_the_kind_and_a_wrong_extension_is_refused() {
        assert_eq!(detect(b"Name,Date\nA,1\n", "x.csv"), Ok(FileKind::Csv));
        assert!(matches!(
            detect(b"Name,Date\n", "x.xlsx"),
            Err(ReadError::Mismatch { .. })
        ));
        assert_eq!(
            detect(&[0x89, b'P', b'N', b'G', 0, 0, 0, 0], "x.png"),
            Err(ReadError::NotASpreadsheet)
        );
        assert_eq!(detect(b"PK\x03\x04junk", "x.xlsx"), Err(ReadError::NotASpreadsheet));
        let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
        assert_eq!(detect(&ole, "x.xlsx"), Err(ReadError::Encrypted));
        assert_eq!(detect(&ole, "x.xls"), Ok(FileKind::Xls));
    }

    #[test]
    fn empty_and_oversized_files_are_refused() {
        assert_eq!(read_workbook(b"", "x.csv", 100).map(|_| ()), Err(ReadError::Empty));
        assert!(matches!(
            read_workbook(b"a,b,c", "x.csv", 2),
            Err(ReadError::TooLarge { .. })
        ));
        assert_eq!(
            read_workbook(b"\n,,\n", "x.csv", 100).map(|_| ()),
            Err(ReadError::NoData)
        );
    }

    #[test]
    fn csv_keeps_accents_and_drops_a_byte_order_mark() {
        let (_, sheets) =
            read_workbook("\u{feff}Name,Org\nZoë O'Brien, Refuge \n".as_bytes(), "s.csv", 1000).expect("reads");
        assert_eq!(sheets[0].rows[0][0], Cell::Text("Name".into()));
        assert_eq!(
            sheets[0].rows[1],
            vec![Cell::Text("Zoë O'Brien".into()), Cell::Text("Refuge".into())]
        );
    }

    #[test]
    fn a_zip_that_claims_to_unpack_enormously_is_refused_unopened() {
        use std::io::Write;
        let mut packed = Vec::new();
        {
            let mut writer = zip::ZipWriter::new(Cursor::new(&mut packed));
            let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            writer.start_file("[Content_Types].xml", options).expect("entry");
            writer.write_all(b"<Types/>").expect("write");
            writer.start_file("xl/worksheets/sheet1.xml", options).expect("entry");
            let zeros = vec![0u8; 1024 * 1024];
            for _ in 0..40 {
                writer.write_all(&zeros).expect("write");
            }
            writer.finish().expect("finish");
        }
        assert!(matches!(
            read_workbook(&packed, "bomb.xlsx", 25 * 1024 * 1024),
            Err(ReadError::ZipBomb { .. })
        ));
    }
}
