//! What kind of file an upload really is, judged from its content and never
//! from its name or the browser's Content-Type (both are whatever the sender
//! says). Evidence may only be one of [`FileKind`]; a name whose extension
//! disagrees with the content is refused, so a file cannot be disguised as
//! another kind and opened by the wrong program on an assessor's machine.
//!
//! Zip-based office formats are told apart by looking inside the container:
//! OpenDocument files start with an uncompressed `mimetype` entry naming the
//! kind; Office Open XML files carry `[Content_Types].xml` and their main part
//! (`word/document.xml`, `xl/workbook.xml`). Legacy Word and Excel files are
//! OLE compound files, told apart by the streams in their directory.

use std::io::{self, Read, Seek, SeekFrom};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Docx,
    Xlsx,
    Odt,
    Ods,
    Doc,
    Xls,
    Png,
    Jpeg,
}

impl FileKind {
    pub const ALL: [FileKind; 9] = [
        FileKind::Pdf,
        FileKind::Docx,
        FileKind::Xlsx,
        FileKind::Odt,
        FileKind::Ods,
        FileKind::Doc,
        FileKind::Xls,
        FileKind::Png,
        FileKind::Jpeg,
    ];

    /// How the kind is stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Docx => "docx",
            FileKind::Xlsx => "xlsx",
            FileKind::Odt => "odt",
            FileKind::Ods => "ods",
            FileKind::Doc => "doc",
            FileKind::Xls => "xls",
            FileKind::Png => "png",
            FileKind::Jpeg => "jpeg",
        }
    }

    pub fn parse(text: &str) -> Option<FileKind> {
        FileKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            FileKind::Pdf => "PDF document",
            FileKind::Docx => "Word document",
            FileKind::Xlsx => "Excel spreadsheet",
            FileKind::Odt => "OpenDocument text",
            FileKind::Ods => "OpenDocument spreadsheet",
            FileKind::Doc => "Word 97-2003 document",
            FileKind::Xls => "Excel 97-2003 spreadsheet",
            FileKind::Png => "PNG image",
            FileKind::Jpeg => "JPEG image",
        }
    }

    /// The media type a download is sent with.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Odt => "application/vnd.oasis.opendocument.text",
            FileKind::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            FileKind::Doc => "application/msword",
            FileKind::Xls => "application/vnd.ms-excel",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
        }
    }

    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileKind::Pdf => &["pdf"],
            FileKind::Docx => &["docx"],
            FileKind::Xlsx => &["xlsx"],
            FileKind::Odt => &["odt"],
            FileKind::Ods => &["ods"],
            FileKind::Doc => &["doc"],
            FileKind::Xls => &["xls"],
            FileKind::Png => &["png"],
            FileKind::Jpeg => &["jpg", "jpeg"],
        }
    }

    /// The kind a file name promises, from its extension (any case).
    pub fn from_file_name(name: &str) -> Option<FileKind> {
        let (_, ext) = name.rsplit_once('.')?;
        let ext = ext.to_ascii_lowercase();
        FileKind::ALL
            .into_iter()
            .find(|k| k.extensions().contains(&ext.as_str()))
    }
}

/// The list people are shown when a file is refused.
pub const ALLOWED_DESCRIPTION: &str =
    "a PDF, a Word or Excel file (.docx, .xlsx, .doc, .xls), an OpenDocument file (.odt, .ods), or a PNG or JPEG image";

/// Why a file name is refused, in words for the person who chose it.
pub fn check_file_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("The file has no name. Rename it and try again.".into());
    }
    if name.chars().any(char::is_control) {
        return Err("The file name contains hidden control characters. Rename the file and try again.".into());
    }
    if name.chars().any(crate::domain::validation::is_bidi_control) {
        return Err(
            "The file name contains characters that change the direction of text, which can disguise its type. Rename the file and try again."
                .into(),
        );
    }
    if name.contains('/') || name.contains('\\') || name == "." || name == ".." || name.contains(':') {
        return Err(
            "The file name must be just a name, without folders or drive letters (no /, \\ or :). Rename the file and try again."
                .into(),
        );
    }
    if name.chars().count() > 200 {
        return Err("The file name must be 200 characters or fewer. Rename the file and try again.".into());
    }
    if FileKind::from_file_name(name).is_none() {
        return Err(format!(
            "The file must be {ALLOWED_DESCRIPTION}. “{name}” does not end with one of those extensions."
        ));
    }
    Ok(())
}

/// Checks a named file's content against what its name promises.
pub fn check_content<R: Read + Seek>(name: &str, content: &mut R) -> Result<FileKind, String> {
    let promised = FileKind::from_file_name(name).ok_or_else(|| format!("The file must be {ALLOWED_DESCRIPTION}."))?;
    let actual = detect(content).map_err(|e| format!("The file could not be read: {e}"))?;
    match actual {
        Some(kind) if kind == promised => Ok(kind),
        Some(kind) => Err(format!(
            "The file’s name says it is a {} but its content is a {}. Check you chose the right file, or save it with the right extension.",
            promised.label(),
            kind.label()
        )),
        None => Err(format!(
            "The file’s name says it is a {} but its content is not. It may be damaged, or another kind of file renamed. Upload {ALLOWED_DESCRIPTION}.",
            promised.label()
        )),
    }
}

/// The kind of the content, or `None` if it is none of the allowed kinds.
pub fn detect<R: Read + Seek>(content: &mut R) -> io::Result<Option<FileKind>> {
    let mut head = [0u8; 1024];
    content.seek(SeekFrom::Start(0))?;
    let n = read_up_to(content, &mut head)?;
    let head = &head[..n];
    // The first bytes only say what the file claims to be; each kind is then
    // checked through to its end, so a header pasted onto something else
    // (HTML after a PNG signature, `%PDF-` in a web page) is refused.
    let claimed = if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileKind::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileKind::Jpeg)
    } else if head.windows(5).any(|w| w == b"%PDF-") {
        // Readers accept a PDF header anywhere in the first kilobyte.
        Some(FileKind::Pdf)
    } else {
        None
    };
    if let Some(kind) = claimed {
        content.seek(SeekFrom::Start(0))?;
        let mut whole = Vec::new();
        content.read_to_end(&mut whole)?;
        let sound = match kind {
            FileKind::Png => structure::png_is_sound(&whole),
            FileKind::Jpeg => structure::jpeg_is_sound(&whole),
            _ => structure::pdf_is_sound(&whole),
        };
        return Ok(sound.then_some(kind));
    }
    if head.starts_with(b"PK\x03\x04") {
        let kind = zip_kind(content, head)?;
        if kind.is_some() && !structure::zip_is_sound(content)? {
            return Ok(None);
        }
        return Ok(kind);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return ole_kind(content);
    }
    Ok(None)
}

fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Entry names from a zip's central directory (at most `limit` of them).
fn zip_entry_names<R: Read + Seek>(content: &mut R, limit: usize) -> io::Result<Option<Vec<String>>> {
    let len = content.seek(SeekFrom::End(0))?;
    // The end record is 22 bytes plus a comment of up to 65,535.
    let tail_len = len.min(22 + 65_535);
    content.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    content.read_exact(&mut tail)?;
    let Some(end) = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))
    else {
        return Ok(None);
    };
    let (Some(cd_size), Some(cd_offset)) = (u32_at(&tail, end + 12), u32_at(&tail, end + 16)) else {
        return Ok(None);
    };
    // Zip64 markers or a directory that runs past the end: not a file we accept.
    if cd_size == u32::MAX
        || cd_offset == u32::MAX
        || u64::from(cd_offset) + u64::from(cd_size) > len
        || cd_size > 8 << 20
    {
        return Ok(None);
    }
    content.seek(SeekFrom::Start(u64::from(cd_offset)))?;
    let mut directory = vec![0u8; cd_size as usize];
    content.read_exact(&mut directory)?;
    let mut names = Vec::new();
    let mut at = 0usize;
    while names.len() < limit && directory.get(at..at + 4) == Some(b"PK\x01\x02") {
        let (Some(name_len), Some(extra_len), Some(comment_len)) = (
            u16_at(&directory, at + 28),
            u16_at(&directory, at + 30),
            u16_at(&directory, at + 32),
        ) else {
            return Ok(None);
        };
        let start = at + 46;
        let Some(name) = directory.get(start..start + name_len as usize) else {
            return Ok(None);
        };
        names.push(String::from_utf8_lossy(name).into_owned());
        at = start + name_len as usize + extra_len as usize + comment_len as usize;
    }
    Ok(Some(names))
}

fn zip_kind<R: Read + Seek>(content: &mut R, head: &[u8]) -> io::Result<Option<FileKind>> {
    let Some(names) = zip_entry_names(content, 10_000)? else {
        return Ok(None);
    };
    // OpenDocument: the first entry is "mimetype", stored uncompressed, so
    // its text sits in the local header right at the start of the file.
    let method = u16_at(head, 8);
    let size = u32_at(head, 18).unwrap_or(0) as usize;
    let name_len = u16_at(head, 26).unwrap_or(0) as usize;
    let extra_len = u16_at(head, 28).unwrap_or(0) as usize;
    if method == Some(0) && head.get(30..30 + name_len) == Some(b"mimetype") {
        let start = 30 + name_len + extra_len;
        let mimetype = head.get(start..start + size).unwrap_or_default();
        return Ok(match mimetype {
            b"application/vnd.oasis.opendocument.text" => Some(FileKind::Odt),
            b"application/vnd.oasis.opendocument.spreadsheet" => Some(FileKind::Ods),
            _ => None,
        });
    }
    let has = |wanted: &str| names.iter().any(|n| n == wanted);
    if !has("[Content_Types].xml") {
        return Ok(None);
    }
    Ok(if has("word/document.xml") {
        Some(FileKind::Docx)
    } else if has("xl/workbook.xml") {
        Some(FileKind::Xlsx)
    } else {
        None
    })
}

const OLE_END_OF_CHAIN: u32 = 0xFFFF_FFFE;
const OLE_FREE: u32 = 0xFFFF_FFFF;

/// Reads the stream names in an OLE compound file's directory.
fn ole_stream_names<R: Read + Seek>(content: &mut R) -> io::Result<Option<Vec<String>>> {
    let len = content.seek(SeekFrom::End(0))?;
    let mut header = [0u8; 512];
    content.seek(SeekFrom::Start(0))?;
    if read_up_to(content, &mut header)? < 512 {
        return Ok(None);
    }
    let shift = u16_at(&header, 0x1E).unwrap_or(0);
    if shift != 9 && shift != 12 {
        return Ok(None);
    }
    let sector_size = 1usize << shift;
    let read_sector = |content: &mut R, id: u32| -> io::Result<Option<Vec<u8>>> {
        let offset = (u64::from(id) + 1) << shift;
        if offset + sector_size as u64 > len {
            return Ok(None);
        }
        content.seek(SeekFrom::Start(offset))?;
        let mut sector = vec![0u8; sector_size];
        content.read_exact(&mut sector)?;
        Ok(Some(sector))
    };
    // The allocation table's sectors, as far as the header lists them (109
    // entries: room for files far larger than the upload limit).
    let fat_sectors = u32_at(&header, 0x2C).unwrap_or(0).min(109) as usize;
    let mut fat: Vec<u32> = Vec::new();
    for i in 0..fat_sectors {
        let id = u32_at(&header, 0x4C + 4 * i).unwrap_or(OLE_FREE);
        if id >= OLE_END_OF_CHAIN {
            continue;
        }
        let Some(sector) = read_sector(content, id)? else {
            return Ok(None);
        };
        fat.extend(sector.chunks_exact(4).filter_map(|c| u32_at(c, 0)));
    }
    let mut names = Vec::new();
    let mut next = u32_at(&header, 0x30).unwrap_or(OLE_END_OF_CHAIN);
    let mut visited = 0;
    // Bounded, so a looping chain in a hostile file cannot keep us here.
    while next < OLE_END_OF_CHAIN && visited < 4096 {
        visited += 1;
        let Some(sector) = read_sector(content, next)? else {
            return Ok(None);
        };
        for entry in sector.chunks_exact(128) {
            let name_bytes = u16_at(entry, 0x40).unwrap_or(0).min(64) as usize;
            let units: Vec<u16> = entry[..name_bytes.saturating_sub(2)]
                .chunks_exact(2)
                .filter_map(|c| u16_at(c, 0))
                .collect();
            if !units.is_empty() {
                names.push(String::from_utf16_lossy(&units));
            }
        }
        next = fat.get(next as usize).copied().unwrap_or(OLE_END_OF_CHAIN);
    }
    Ok(Some(names))
}

fn ole_kind<R: Read + Seek>(content: &mut R) -> io::Result<Option<FileKind>> {
    let Some(names) = ole_stream_names(content)? else {
        return Ok(None);
    };
    let has = |wanted: &str| names.iter().any(|n| n == wanted);
    Ok(if has("WordDocument") {
        Some(FileKind::Doc)
    } else if has("Workbook") || has("Book") {
        Some(FileKind::Xls)
    } else {
        None
    })
}

/// Checks that a file holds together as its kind all the way through.
mod structure {
    use std::io::{self, Read, Seek, SeekFrom};

    /// lopdf parses it: a cross-reference table (or one it can rebuild), a
    /// catalogue, and at least one page.
    pub fn pdf_is_sound(bytes: &[u8]) -> bool {
        // Readers ignore bytes after the last end-of-file marker (some
        // writers pad files), and look for the cross-reference offset just
        // before it; lopdf looks at the very end, so the padding is cut off.
        let end = bytes
            .windows(5)
            .rposition(|w| w == b"%%EOF")
            .map_or(bytes.len(), |at| at + 5);
        lopdf::Document::load_mem(&bytes[..end]).is_ok_and(|document| !document.get_pages().is_empty())
    }

    /// Chunks with valid lengths and CRCs from the signature to `IEND` (and
    /// nothing after), `IHDR` first, and image data that inflates to exactly
    /// the size the header promises.
    pub fn png_is_sound(bytes: &[u8]) -> bool {
        let mut at = 8;
        let mut header: Option<[u8; 13]> = None;
        let mut image_data = Vec::new();
        loop {
            let Some(length) = bytes
                .get(at..at + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            else {
                return false;
            };
            let length = length as usize;
            let Some(chunk) = bytes.get(at + 4..(at + 8).saturating_add(length)) else {
                return false;
            };
            let Some(stored_crc) = bytes
                .get(at + 8 + length..at + 12 + length)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            else {
                return false;
            };
            let mut crc = flate2::Crc::new();
            crc.update(chunk);
            if crc.sum() != stored_crc {
                return false;
            }
            let (kind, data) = chunk.split_at(4);
            if !kind.iter().all(u8::is_ascii_alphabetic) {
                return false;
            }
            at += 12 + length;
            match kind {
                b"IHDR" if header.is_none() && data.len() == 13 => {
                    let mut fields = [0u8; 13];
                    fields.copy_from_slice(data);
                    header = Some(fields);
                }
                _ if header.is_none() => return false,
                b"IDAT" => image_data.extend_from_slice(data),
                b"IEND" => break,
                _ => {}
            }
        }
        let Some(header) = header else { return false };
        at == bytes.len() && image_data_inflates(&header, &image_data)
    }

    fn image_data_inflates(header: &[u8; 13], data: &[u8]) -> bool {
        let width = u64::from(u32::from_be_bytes([header[0], header[1], header[2], header[3]]));
        let height = u64::from(u32::from_be_bytes([header[4], header[5], header[6], header[7]]));
        let (depth, colour, interlaced) = (u64::from(header[8]), header[9], header[12] == 1);
        let channels = match colour {
            0 | 3 => 1,
            4 => 2,
            2 => 3,
            6 => 4,
            _ => return false,
        };
        if width == 0 || height == 0 || !matches!(depth, 1 | 2 | 4 | 8 | 16) {
            return false;
        }
        // One filter byte per row, then the row's pixels.
        let expected = height.saturating_mul(1 + (width.saturating_mul(channels * depth)).div_ceil(8));
        // Interlaced images store seven passes; bound them the same way.
        let limit = if interlaced {
            expected.saturating_mul(2)
        } else {
            expected
        };
        let mut inflated = flate2::read::ZlibDecoder::new(data).take(limit.saturating_add(1));
        match io::copy(&mut inflated, &mut io::sink()) {
            Ok(n) if interlaced => n > 0 && n <= limit,
            Ok(n) => n == expected,
            Err(_) => false,
        }
    }

    /// Segments with consistent lengths from `SOI` through a frame header
    /// and a scan, ending with `EOI`. (Decoding the pixels would need a JPEG
    /// decoder, which this project does not carry.)
    pub fn jpeg_is_sound(bytes: &[u8]) -> bool {
        let mut at = 2;
        let (mut frame, mut scan) = (false, false);
        while !scan {
            let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
                return false;
            };
            match marker {
                // Fill bytes before a marker.
                0xFF => {
                    at += 1;
                    continue;
                }
                0xD8 | 0xD9 | 0x01 | 0xD0..=0xD7 | 0x00 => return false,
                _ => {}
            }
            let Some(length) = bytes
                .get(at + 2..at + 4)
                .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            else {
                return false;
            };
            if length < 2 || at + 2 + length > bytes.len() {
                return false;
            }
            match marker {
                0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => frame = true,
                0xDA => scan = true,
                _ => {}
            }
            at += 2 + length;
        }
        // The entropy-coded data runs to the end-of-image marker; some
        // writers leave padding after it.
        let body = &bytes[at..];
        let end = body.windows(2).rposition(|w| *w == [0xFF, 0xD9]);
        frame && end.is_some_and(|end| body[end + 2..].iter().all(|&b| b == 0))
    }

    /// The zip's directory agrees with its entries, and every entry unpacks
    /// with a matching checksum (within a bound, against zip bombs).
    pub fn zip_is_sound<R: Read + Seek>(content: &mut R) -> io::Result<bool> {
        let size = content.seek(SeekFrom::End(0))?;
        content.seek(SeekFrom::Start(0))?;
        let Ok(mut archive) = zip::ZipArchive::new(&mut *content) else {
            return Ok(false);
        };
        let mut budget = size.saturating_mul(100).max(64 * 1024 * 1024);
        for index in 0..archive.len() {
            let Ok(mut entry) = archive.by_index(index) else {
                return Ok(false);
            };
            match io::copy(&mut (&mut entry).take(budget.saturating_add(1)), &mut io::sink()) {
                Ok(n) if n <= budget => budget -= n,
                _ => return Ok(false),
            }
        }
        Ok(true)
    }
}

/// Small, real files of every accepted kind, built in code: the demo data
/// set stores them as evidence and the tests upload them.
pub mod samples {
    /// CRC-32 (IEEE), as zip and PNG need.
    pub fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
        !crc
    }

    /// A one-page PDF with a heading and lines of text (ASCII; other
    /// characters become "?", which the built-in fonts cannot show anyway).
    pub fn pdf(title: &str, lines: &[&str]) -> Vec<u8> {
        let escape = |text: &str| -> String {
            text.chars()
                .map(|c| match c {
                    '(' | ')' | '\\' => format!("\\{c}"),
                    ' '..='~' => c.to_string(),
                    _ => "?".into(),
                })
                .collect()
        };
        let mut stream = format!("BT /F1 18 Tf 72 770 Td ({}) Tj /F1 11 Tf", escape(title));
        for line in lines {
            stream.push_str(&format!(" 0 -22 Td ({}) Tj", escape(line)));
        }
        stream.push_str(" ET");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
                .to_string(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
            format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for offset in offsets {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    /// A PNG of one colour, `width` × `height`, with uncompressed (stored)
    /// deflate blocks so no compressor is needed.
    pub fn png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
        // Each row: filter type 0 (none), then the pixels.
        let row: Vec<u8> = std::iter::once(0)
            .chain(rgb.iter().copied().cycle().take(3 * width as usize))
            .collect();
        let raw: Vec<u8> = row.iter().copied().cycle().take(row.len() * height as usize).collect();
        let mut zlib = vec![0x78, 0x01];
        let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
        for (i, block) in blocks.iter().enumerate() {
            zlib.push(u8::from(i + 1 == blocks.len()));
            let len = block.len() as u16;
            zlib.extend_from_slice(&len.to_le_bytes());
            zlib.extend_from_slice(&(!len).to_le_bytes());
            zlib.extend_from_slice(block);
        }
        let (mut a, mut b) = (1u32, 0u32);
        for &byte in &raw {
            a = (a + u32::from(byte)) % 65_521;
            b = (b + a) % 65_521;
        }
        zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
        let chunk = |out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]| {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let mut crc_input = kind.to_vec();
            crc_input.extend_from_slice(data);
            out.extend_from_slice(&crc_input);
            out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        };
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(&mut out, b"IDAT", &zlib);
        chunk(&mut out, b"IEND", &[]);
        out
    }

    /// A JPEG's structure: the segments a decoder needs in order (JFIF,
    /// quantisation table, frame, Huffman table, scan), entropy-coded data,
    /// and the end marker.
    pub fn jpeg() -> Vec<u8> {
        let segment = |out: &mut Vec<u8>, marker: u8, data: &[u8]| {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
            out.extend_from_slice(data);
        };
        let mut out = vec![0xFF, 0xD8];
        segment(&mut out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let mut table = vec![0u8];
        table.extend_from_slice(&[1u8; 64]);
        segment(&mut out, 0xDB, &table);
        // 8 × 8 pixels, one grey component.
        segment(&mut out, 0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
        let mut huffman = vec![0x00, 1];
        huffman.extend_from_slice(&[0u8; 15]);
        huffman.push(0);
        segment(&mut out, 0xC4, &huffman);
        segment(&mut out, 0xDA, &[1, 1, 0, 0, 63, 0]);
        out.extend_from_slice(&[0x00, 0x00]);
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }

    /// A zip of stored (uncompressed) entries, in the order given.
    pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut directory = Vec::new();
        for (name, data) in entries {
            let offset = out.len() as u32;
            let crc = crc32(data);
            let size = data.len() as u32;
            let common = |v: &mut Vec<u8>| {
                v.extend_from_slice(&20u16.to_le_bytes()); // version needed
                v.extend_from_slice(&0u16.to_le_bytes()); // flags
                v.extend_from_slice(&0u16.to_le_bytes()); // method: stored
                v.extend_from_slice(&0u16.to_le_bytes()); // time
                v.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
                v.extend_from_slice(&crc.to_le_bytes());
                v.extend_from_slice(&size.to_le_bytes());
                v.extend_from_slice(&size.to_le_bytes());
                v.extend_from_slice(&(name.len() as u16).to_le_bytes());
                v.extend_from_slice(&0u16.to_le_bytes()); // extra length
            };
            out.extend_from_slice(b"PK\x03\x04");
            common(&mut out);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            directory.extend_from_slice(b"PK\x01\x02");
            directory.extend_from_slice(&20u16.to_le_bytes()); // version made by
            common(&mut directory);
            directory.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
            directory.extend_from_slice(&0u32.to_le_bytes()); // external attributes
            directory.extend_from_slice(&offset.to_le_bytes());
            directory.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&directory);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0; 4]); // disk numbers
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(directory.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    const CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;

    pub fn docx(text: &str) -> Vec<u8> {
        let body = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:body></w:document>"#,
            xml_escape(text)
        );
        zip(&[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("word/document.xml", body.as_bytes()),
        ])
    }

    pub fn xlsx() -> Vec<u8> {
        zip(&[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("xl/workbook.xml", b"<workbook/>"),
        ])
    }

    pub fn odt() -> Vec<u8> {
        zip(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<office:document-content/>"),
        ])
    }

    pub fn ods() -> Vec<u8> {
        zip(&[
            ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
            ("content.xml", b"<office:document-content/>"),
        ])
    }

    /// A minimal OLE compound file whose directory holds `stream`
    /// ("WordDocument" for .doc, "Workbook" for .xls).
    pub fn ole(stream: &str) -> Vec<u8> {
        let mut header = vec![0u8; 512];
        header[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
        header[0x18..0x1A].copy_from_slice(&0x3Eu16.to_le_bytes());
        header[0x1A..0x1C].copy_from_slice(&3u16.to_le_bytes());
        header[0x1C..0x1E].copy_from_slice(&0xFFFEu16.to_le_bytes());
        header[0x1E..0x20].copy_from_slice(&9u16.to_le_bytes());
        header[0x20..0x22].copy_from_slice(&6u16.to_le_bytes());
        header[0x2C..0x30].copy_from_slice(&1u32.to_le_bytes()); // one FAT sector
        header[0x30..0x34].copy_from_slice(&1u32.to_le_bytes()); // directory in sector 1
        header[0x38..0x3C].copy_from_slice(&4096u32.to_le_bytes());
        header[0x3C..0x40].copy_from_slice(&super::OLE_END_OF_CHAIN.to_le_bytes());
        header[0x44..0x48].copy_from_slice(&super::OLE_END_OF_CHAIN.to_le_bytes());
        for i in 0..109 {
            let id = if i == 0 { 0 } else { super::OLE_FREE };
            header[0x4C + 4 * i..0x50 + 4 * i].copy_from_slice(&id.to_le_bytes());
        }
        let mut fat = vec![0xFFu8; 512];
        fat[..4].copy_from_slice(&0xFFFF_FFFDu32.to_le_bytes()); // this FAT sector
        fat[4..8].copy_from_slice(&super::OLE_END_OF_CHAIN.to_le_bytes()); // directory
        let mut directory = vec![0u8; 512];
        for (i, (name, kind)) in [("Root Entry", 5u8), (stream, 2u8)].iter().enumerate() {
            let entry = &mut directory[i * 128..(i + 1) * 128];
            let units: Vec<u16> = name.encode_utf16().collect();
            for (j, unit) in units.iter().enumerate() {
                entry[2 * j..2 * j + 2].copy_from_slice(&unit.to_le_bytes());
            }
            entry[0x40..0x42].copy_from_slice(&((units.len() as u16 + 1) * 2).to_le_bytes());
            entry[0x42] = *kind;
        }
        [header, fat, directory].concat()
    }

    fn xml_escape(text: &str) -> String {
        text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn kind_of(bytes: Vec<u8>) -> Option<FileKind> {
        detect(&mut Cursor::new(bytes)).expect("readable")
    }

    #[test]
    fn every_accepted_kind_is_recognised_from_its_content() {
        assert_eq!(kind_of(samples::pdf("Policy", &["line"])), Some(FileKind::Pdf));
        assert_eq!(kind_of(samples::png(2, 2, [0, 0, 0])), Some(FileKind::Png));
        assert_eq!(kind_of(samples::jpeg()), Some(FileKind::Jpeg));
        assert_eq!(kind_of(samples::docx("hello")), Some(FileKind::Docx));
        assert_eq!(kind_of(samples::xlsx()), Some(FileKind::Xlsx));
        assert_eq!(kind_of(samples::odt()), Some(FileKind::Odt));
        assert_eq!(kind_of(samples::ods()), Some(FileKind::Ods));
        assert_eq!(kind_of(samples::ole("WordDocument")), Some(FileKind::Doc));
        assert_eq!(kind_of(samples::ole("Workbook")), Some(FileKind::Xls));
    }

    #[test]
    fn other_content_is_not_accepted() {
        assert_eq!(kind_of(b"<html><script>alert(1)</script>".to_vec()), None);
        assert_eq!(kind_of(b"MZ\x90\x00 an executable".to_vec()), None);
        assert_eq!(kind_of(Vec::new()), None);
        // A zip that is neither office format, and an OLE file without the streams.
        assert_eq!(kind_of(samples::zip(&[("evil.exe", b"MZ")])), None);
        assert_eq!(kind_of(samples::ole("Something")), None);
        assert_eq!(kind_of(samples::zip(&[("mimetype", b"application/epub+zip")])), None);
        // Truncated containers are refused rather than trusted.
        let mut docx = samples::docx("x");
        docx.truncate(docx.len() / 2);
        assert_eq!(kind_of(docx), None);
        let mut ole = samples::ole("WordDocument");
        ole.truncate(600);
        assert_eq!(kind_of(ole), None);
    }

    #[test]
    fn a_name_must_agree_with_the_content() {
        let pdf = samples::pdf("x", &[]);
        assert_eq!(check_content("Policy.PDF", &mut Cursor::new(&pdf)), Ok(FileKind::Pdf));
        let error = check_content("policy.docx", &mut Cursor::new(&pdf)).expect_err("mismatch");
        assert!(
            error.contains("Word document") && error.contains("PDF document"),
            "{error}"
        );
        let error = check_content("photo.png", &mut Cursor::new(b"not an image")).expect_err("not a png");
        assert!(error.contains("PNG image"), "{error}");
        assert_eq!(
            check_content("photo.jpeg", &mut Cursor::new(samples::jpeg())),
            Ok(FileKind::Jpeg)
        );
    }

    #[test]
    fn a_header_pasted_onto_something_else_is_refused() {
        let html = b"<html><body><script>alert(1)</script></body></html>".to_vec();
        let mut pdf_in_html = b"<html><!-- %PDF-1.4 -->".to_vec();
        pdf_in_html.extend_from_slice(&html);
        assert_eq!(kind_of(pdf_in_html), None);
        let mut png_then_html = b"\x89PNG\r\n\x1a\n".to_vec();
        png_then_html.extend_from_slice(&html);
        assert_eq!(kind_of(png_then_html), None);
        let mut jpeg_then_html = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'];
        jpeg_then_html.extend_from_slice(&html);
        assert_eq!(kind_of(jpeg_then_html), None);
        // A real PNG with something after its end, or a chunk damaged.
        let mut png = samples::png(2, 2, [1, 2, 3]);
        png.extend_from_slice(&html);
        assert_eq!(kind_of(png), None);
        let mut png = samples::png(2, 2, [1, 2, 3]);
        png[40] ^= 0xFF;
        assert_eq!(kind_of(png), None);
        // A PDF cut short no longer parses.
        let mut pdf = samples::pdf("Policy", &["line"]);
        pdf.truncate(pdf.len() / 3);
        assert_eq!(kind_of(pdf), None);
        // A Word file whose entry was damaged fails its checksum.
        let mut docx = samples::docx("hello there");
        if let Some(at) = docx.windows(5).position(|w| w == b"hello") {
            docx[at] = b'j';
        }
        assert_eq!(kind_of(docx), None);
    }

    #[test]
    fn direction_overrides_are_refused_in_file_names() {
        let error = check_file_name("a\u{202e}gpj.pdf").expect_err("override");
        assert!(error.contains("direction"), "{error}");
        assert!(check_file_name("سياسة.pdf").is_ok());
    }

    #[test]
    fn file_names_with_paths_or_control_characters_are_refused() {
        assert!(check_file_name("DA policy 2025.pdf").is_ok());
        assert!(check_file_name("Politique d’égalité.docx").is_ok());
        for bad in [
            "",
            "  ",
            "../../etc/passwd.pdf",
            "C:\\Users\\me\\policy.pdf",
            "folder/policy.pdf",
            "policy\n.pdf",
            "pol\u{7}icy.pdf",
            "policy.exe",
            "policy",
            "c:policy.pdf",
        ] {
            assert!(check_file_name(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(check_file_name(&format!("{}.pdf", "a".repeat(200))).is_err());
    }

    #[test]
    fn kinds_round_trip_and_know_their_extensions() {
        for kind in FileKind::ALL {
            assert_eq!(FileKind::parse(kind.as_str()), Some(kind));
            for ext in kind.extensions() {
                assert_eq!(FileKind::from_file_name(&format!("x.{ext}")), Some(kind));
            }
        }
        assert_eq!(FileKind::from_file_name("X.JPG"), Some(FileKind::Jpeg));
        assert_eq!(FileKind::from_file_name("noextension"), None);
    }

    #[test]
    fn the_sample_png_is_well_formed() {
        let png = samples::png(3, 2, [200, 10, 10]);
        // IHDR's CRC covers its type and data.
        let ihdr = &png[12..12 + 4 + 13];
        let stored = u32::from_be_bytes(png[29..33].try_into().expect("4 bytes"));
        assert_eq!(samples::crc32(ihdr), stored);
        assert_eq!(samples::crc32(b"123456789"), 0xCBF4_3926);
    }
}
