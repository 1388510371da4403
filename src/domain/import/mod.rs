//! The attendance import: from a sign-in sheet to attendance records, with
//! every problem named by sheet, row and column. Plain Rust: the web page,
//! the command line and the benchmark all call the same engine.
//!
//! The steps: [`read::read_workbook`] turns bytes into cells;
//! [`analyse`] finds each sheet's header row below any title block, maps
//! columns to fields by their headings (or the user's choice), recognises
//! people × days grids, and reads each row into an [`AttendanceRecord`].
//! Matching people and organisations against the database, and committing,
//! happen in `db::imports`.

pub mod matching;
pub mod read;
pub mod values;

use crate::domain::completion::AttendanceStatus;
use crate::domain::programmes::ProgrammeLibrary;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use values::{column_letter, normalise, parse_date, parse_status};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Bool(bool),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        matches!(self, Cell::Empty)
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(text) => Some(text),
            _ => None,
        }
    }

    /// How the cell reads, for messages and person details.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) => text.clone(),
            Cell::Number(n) if n.fract() == 0.0 => format!("{n:.0}"),
            Cell::Number(n) => n.to_string(),
            Cell::Date(date) => date.format("%d/%m/%Y").to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        }
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    FullName,
    FirstName,
    Surname,
    Email,
    Organisation,
    JobTitle,
    Date,
    Module,
    Status,
    Ignore,
}

impl Field {
    pub const CHOICES: [Field; 10] = [
        Field::FullName,
        Field::FirstName,
        Field::Surname,
        Field::Email,
        Field::Organisation,
        Field::JobTitle,
        Field::Date,
        Field::Module,
        Field::Status,
        Field::Ignore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::FullName => "full_name",
            Field::FirstName => "first_name",
            Field::Surname => "surname",
            Field::Email => "email",
            Field::Organisation => "organisation",
            Field::JobTitle => "job_title",
            Field::Date => "date",
            Field::Module => "module",
            Field::Status => "status",
            Field::Ignore => "ignore",
        }
    }

    pub fn parse(text: &str) -> Option<Field> {
        Field::CHOICES.into_iter().find(|f| f.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::FullName => "Full name",
            Field::FirstName => "First name",
            Field::Surname => "Surname",
            Field::Email => "Email",
            Field::Organisation => "Organisation",
            Field::JobTitle => "Job title",
            Field::Date => "Session date",
            Field::Module => "Course or module",
            Field::Status => "Attendance mark",
            Field::Ignore => "Not used",
        }
    }

    /// Headings people use for each field, normalised.
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::FullName => &[
                "name",
                "full name",
                "attendee",
                "attendee name",
                "delegate",
                "delegate name",
                "participant",
                "learner",
                "staff name",
                "staff member",
                "name of attendee",
                "person",
            ],
            Field::FirstName => &["first name", "forename", "forenames", "given name", "first"],
            Field::Surname => &["surname", "last name", "family name", "last"],
            Field::Email => &[
                "email",
                "email address",
                "e mail",
                "e mail address",
                "work email",
                "contact email",
            ],
            Field::Organisation => &[
                "organisation",
                "organization",
                "organisation name",
                "practice",
                "gp practice",
                "practice name",
                "agency",
                "service",
                "employer",
                "company",
                "org",
            ],
            Field::JobTitle => &["job title", "role", "position", "designation", "job role"],
            Field::Date => &[
                "date",
                "course date",
                "session date",
                "training date",
                "date attended",
                "date of session",
            ],
            Field::Module => &[
                "course",
                "course title",
                "briefing",
                "session",
                "module",
                "training",
                "event",
                "course name",
            ],
            Field::Status => &[
                "attended",
                "attendance",
                "status",
                "present",
                "attended y n",
                "attended yes no",
            ],
            Field::Ignore => &[
                "signature",
                "signed",
                "sign",
                "team",
                "notes",
                "comments",
                "dietary requirements",
                "phone",
                "telephone",
            ],
        }
    }

    fn from_heading(heading: &str) -> Option<Field> {
        let heading = normalise(heading);
        Field::CHOICES
            .into_iter()
            .find(|f| f.synonyms().contains(&heading.as_str()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem, located as precisely as the file allows (rows are 1-based as in the spreadsheet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub severity: Severity,
    pub sheet: String,
    pub row: Option<usize>,
    pub column: Option<String>,
    pub message: String,
}

/// A module of a training programme.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ModuleRef {
    pub programme_id: String,
    pub programme_version: String,
    pub module_id: String,
}

/// A person as the sheet describes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonRef {
    pub full_name: String,
    pub email: String,
    pub organisation: String,
    pub job_title: String,
}

impl PersonRef {
    /// Rows for one person share this: the email if given, else the name.
    pub fn key(&self) -> String {
        if self.email.is_empty() {
            format!(
                "name:{}|{}",
                values::name_key(&self.full_name),
                normalise(&self.organisation)
            )
        } else {
            format!("email:{}", self.email)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttendanceRecord {
    /// [`PersonRef::key`], worked out once: matching looks it up several times a record.
    #[serde(skip)]
    pub person_key: String,
    pub sheet: String,
    pub row: usize,
    pub column: String,
    pub person: PersonRef,
    pub module: ModuleRef,
    pub date: NaiveDate,
    pub status: AttendanceStatus,
    /// Multi-day grids are cohorts: one per sheet.
    pub cohort: Option<String>,
}

/// How one sheet was read, shown in the preview so the user can correct it.
#[derive(Debug, Clone, Serialize)]
pub struct SheetLayout {
    pub sheet: String,
    /// 1-based row of the headings, if any were found.
    pub header_row: Option<usize>,
    pub columns: Vec<ColumnLayout>,
    pub grid: bool,
    pub module_from_title: Option<ModuleRef>,
    pub date_from_title: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnLayout {
    pub letter: String,
    pub index: usize,
    pub heading: String,
    pub field: Option<Field>,
    /// For a column of a people × days grid: the module and date it records.
    pub day: Option<(ModuleRef, Option<NaiveDate>)>,
}

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Module for sheets that do not say (text matched against the programmes).
    pub module: Option<String>,
    pub date: Option<NaiveDate>,
    /// Only this sheet.
    pub sheet: Option<String>,
    /// The user's column choices: (sheet, 0-based column) → field.
    pub mapping: HashMap<(String, usize), Field>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Analysis {
    pub layouts: Vec<SheetLayout>,
    pub records: Vec<AttendanceRecord>,
    pub issues: Vec<Issue>,
}

impl Analysis {
    pub fn error_count(&self) -> usize {
        self.issues.iter().filter(|i| i.severity == Severity::Error).count()
    }

    pub fn warning_count(&self) -> usize {
        self.issues.iter().filter(|i| i.severity == Severity::Warning).count()
    }
}

/// Texts that start a footer row rather than a person.
const FOOTERS: &[&str] = &[
    "total",
    "totals",
    "total attended",
    "number attended",
    "count",
    "grand total",
    "sub total",
    "subtotal",
];

const HEADER_SEARCH_ROWS: usize = 30;

pub fn analyse(sheets: &[read::Sheet], programmes: &ProgrammeLibrary, options: &ImportOptions) -> Analysis {
    let mut analysis = Analysis::default();
    let option_module = match &options.module {
        Some(text) => match programmes.match_module(text) {
            Some(found) => Some(module_ref(
                found.programme_id.as_ref(),
                found.programme_version.as_ref(),
                found.module_id.as_ref(),
            )),
            None => {
                analysis.issues.push(Issue {
                    severity: Severity::Error,
                    sheet: String::new(),
                    row: None,
                    column: None,
                    message: format!("“{text}” is not a module of any training programme."),
                });
                None
            }
        },
        None => None,
    };
    let mut seen_sheet = false;
    for sheet in sheets {
        if options.sheet.as_ref().is_some_and(|wanted| wanted != &sheet.name) {
            continue;
        }
        seen_sheet = true;
        SheetReader {
            sheet,
            programmes,
            options,
            option_module: option_module.as_ref(),
            analysis: &mut analysis,
            module_cache: Default::default(),
        }
        .read();
    }
    if let (Some(wanted), false) = (&options.sheet, seen_sheet) {
        analysis.issues.push(Issue {
            severity: Severity::Error,
            sheet: wanted.clone(),
            row: None,
            column: None,
            message: format!(
                "There is no sheet called “{wanted}”. The sheets are: {}.",
                sheets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    drop_duplicates(&mut analysis);
    analysis.issues.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(a.sheet.cmp(&b.sheet))
            .then(a.row.cmp(&b.row))
    });
    analysis
}

fn module_ref(programme_id: &str, programme_version: &str, module_id: &str) -> ModuleRef {
    ModuleRef {
        programme_id: programme_id.to_string(),
        programme_version: programme_version.to_string(),
        module_id: module_id.to_string(),
    }
}

/// The same person, module and date twice: the later row wins, with a warning.
fn drop_duplicates(analysis: &mut Analysis) {
    // Borrowed keys: this runs over every record of a large sheet.
    let mut last: HashMap<(&str, &ModuleRef, NaiveDate, Option<&str>), usize> =
        HashMap::with_capacity(analysis.records.len());
    let mut repeated = Vec::new();
    for (i, record) in analysis.records.iter().enumerate() {
        let key = (
            record.person_key.as_str(),
            &record.module,
            record.date,
            record.cohort.as_deref(),
        );
        if let Some(previous) = last.insert(key, i) {
            repeated.push((previous, i));
        }
    }
    if repeated.is_empty() {
        return;
    }
    let keep: std::collections::HashSet<usize> = last.into_values().collect();
    for (previous, i) in repeated {
        let (earlier, record) = (&analysis.records[previous], &analysis.records[i]);
        analysis.issues.push(Issue {
            severity: Severity::Warning,
            sheet: record.sheet.clone(),
            row: Some(record.row),
            column: None,
            message: format!(
                "{} appears twice for the same session (also row {} of {}); this row is used.",
                record.person.full_name, earlier.row, earlier.sheet
            ),
        });
    }
    let mut index = 0;
    analysis.records.retain(|_| {
        let kept = keep.contains(&index);
        index += 1;
        kept
    });
}

struct SheetReader<'a> {
    sheet: &'a read::Sheet,
    programmes: &'a ProgrammeLibrary,
    options: &'a ImportOptions,
    option_module: Option<&'a ModuleRef>,
    analysis: &'a mut Analysis,
    /// A course column repeats a handful of texts thousands of times: match each once.
    module_cache: std::cell::RefCell<HashMap<String, Option<ModuleRef>>>,
}

impl SheetReader<'_> {
    fn issue(&mut self, severity: Severity, row: Option<usize>, column: Option<usize>, message: String) {
        self.analysis.issues.push(Issue {
            severity,
            sheet: self.sheet.name.clone(),
            row: row.map(|r| r + 1),
            column: column.map(column_letter),
            message,
        });
    }

    fn text_at(&self, row: usize, column: Option<usize>) -> String {
        column
            .map(|c| self.cell(row, c).display().trim().to_string())
            .unwrap_or_default()
    }

    fn cell(&self, row: usize, column: usize) -> &Cell {
        self.sheet
            .rows
            .get(row)
            .and_then(|r| r.get(column))
            .unwrap_or(&Cell::Empty)
    }

    fn match_module(&self, text: &str) -> Option<ModuleRef> {
        if let Some(found) = self.module_cache.borrow().get(text) {
            return found.clone();
        }
        let found = self
            .programmes
            .match_module(text)
            .map(|m| module_ref(&m.programme_id, &m.programme_version, &m.module_id));
        self.module_cache.borrow_mut().insert(text.to_string(), found.clone());
        found
    }

    /// The row whose cells look most like headings: at least two recognised
    /// headings including a name, searched below any title block.
    fn find_header(&self) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        for (index, row) in self.sheet.rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
            let fields: Vec<Field> = row
                .iter()
                .filter_map(|c| c.text())
                .filter_map(Field::from_heading)
                .collect();
            let has_name = fields
                .iter()
                .any(|f| matches!(f, Field::FullName | Field::Surname | Field::FirstName));
            let days = row
                .iter()
                .filter_map(|c| c.text())
                .filter(|t| self.match_module(t).is_some())
                .count();
            let score = fields.iter().filter(|f| **f != Field::Ignore).count() + days;
            if has_name && score >= 2 && best.is_none_or(|(_, s)| score > s) {
                best = Some((index, score));
            }
        }
        best.map(|(index, _)| index)
    }

    fn read(mut self) {
        let Some(header) = self.find_header() else {
            if self.sheet.rows.iter().any(|r| r.iter().any(|c| !c.is_empty())) {
                self.issue(
                    Severity::Error,
                    None,
                    None,
                    "No heading row was found (looked for a row with a Name column and at least one other heading such as Email, Organisation, Date or Attended). Check the headings, or choose the columns below.".into(),
                );
            }
            return;
        };

        // The title block: a course name and a date above the headings.
        let (mut module_from_title, mut date_from_title) = (None, None);
        for row in 0..header {
            let cells = self.sheet.rows.get(row).map(Vec::as_slice).unwrap_or_default();
            for (column, cell) in cells.iter().enumerate() {
                if let Cell::Text(text) = cell {
                    if module_from_title.is_none() {
                        module_from_title = self.match_module(text);
                    }
                    let label = normalise(text);
                    if date_from_title.is_none() && (label == "date" || label.starts_with("date ")) {
                        date_from_title = values::parse_date_text(text)
                            .or_else(|| cells[column + 1..].iter().find(|c| !c.is_empty()).and_then(parse_date));
                    }
                }
            }
        }

        let width = self.sheet.rows.get(header).map(Vec::len).unwrap_or(0);
        let mut columns = Vec::new();
        for index in 0..width {
            let heading = self.cell(header, index).display();
            let chosen = self.options.mapping.get(&(self.sheet.name.clone(), index)).copied();
            let day = if chosen.is_none() && Field::from_heading(&heading).is_none() && !heading.is_empty() {
                self.match_module(&heading).map(|module| {
                    let date = if header > 0 {
                        parse_date(self.cell(header - 1, index))
                    } else {
                        None
                    };
                    (module, date)
                })
            } else {
                None
            };
            let field = chosen.or_else(|| {
                if day.is_some() {
                    None
                } else {
                    Field::from_heading(&heading)
                }
            });
            columns.push(ColumnLayout {
                letter: column_letter(index),
                index,
                heading,
                field,
                day,
            });
        }
        let column_of = |field: Field| columns.iter().find(|c| c.field == Some(field)).map(|c| c.index);
        let grid = columns.iter().any(|c| c.day.is_some());
        let layout = SheetLayout {
            sheet: self.sheet.name.clone(),
            header_row: Some(header + 1),
            columns: columns.clone(),
            grid,
            module_from_title: module_from_title.clone(),
            date_from_title,
        };

        let name_column = column_of(Field::FullName);
        let (first_column, surname_column) = (column_of(Field::FirstName), column_of(Field::Surname));
        if name_column.is_none() && (first_column.is_none() || surname_column.is_none()) {
            self.issue(
                Severity::Error,
                Some(header),
                None,
                "There is no Name column (or First name and Surname columns).".into(),
            );
            self.analysis.layouts.push(layout);
            return;
        }
        let email_column = column_of(Field::Email);
        let organisation_column = column_of(Field::Organisation);
        let job_column = column_of(Field::JobTitle);
        let date_column = column_of(Field::Date);
        let module_column = column_of(Field::Module);
        let status_column = column_of(Field::Status);
        let sheet_module = self.option_module.cloned().or(module_from_title);
        let sheet_date = self.options.date.or(date_from_title);
        let cohort = grid.then(|| self.sheet.name.clone());

        let mut reported_missing_module = false;
        let mut reported_missing_date = false;
        for row in header + 1..self.sheet.rows.len() {
            let cells = &self.sheet.rows[row];
            if cells.iter().all(Cell::is_empty) {
                continue;
            }
            if cells.iter().find(|c| !c.is_empty()).is_some_and(is_footer) {
                continue;
            }
            let full_name = match name_column {
                Some(_) => values::display_name(&self.text_at(row, name_column)),
                None => values::display_name(&format!(
                    "{} {}",
                    self.text_at(row, first_column),
                    self.text_at(row, surname_column)
                )),
            };
            if full_name.trim().is_empty() {
                self.issue(
                    Severity::Error,
                    Some(row),
                    name_column.or(first_column),
                    "This row has no name.".into(),
                );
                continue;
            }
            let mut email = self.text_at(row, email_column).to_lowercase();
            if !email.is_empty() && !crate::domain::validation::looks_like_email(&email) {
                self.issue(
                    Severity::Warning,
                    Some(row),
                    email_column,
                    format!("“{email}” is not an email address; {full_name} will be matched by name."),
                );
                email.clear();
            }
            let person = PersonRef {
                full_name,
                email,
                organisation: values::tidy_spaces(&self.text_at(row, organisation_column)),
                job_title: self.text_at(row, job_column),
            };
            let person_key = person.key();

            if grid {
                for column in columns.iter().filter(|c| c.day.is_some()) {
                    let Some((module, day_date)) = column.day.clone() else {
                        continue;
                    };
                    let Some(date) = day_date.or(sheet_date) else {
                        if !reported_missing_date {
                            self.issue(
                                Severity::Error,
                                Some(header),
                                Some(column.index),
                                format!(
                                    "There is no date above “{}”; add the dates of the days, or give one date.",
                                    column.heading
                                ),
                            );
                            reported_missing_date = true;
                        }
                        continue;
                    };
                    let status = match parse_status(self.cell(row, column.index)) {
                        Some(Some(status)) => status,
                        // No mark in a grid: the person did not attend that day.
                        Some(None) => AttendanceStatus::Absent,
                        None => {
                            let mark = self.cell(row, column.index).display();
                            self.issue(Severity::Error, Some(row), Some(column.index), unknown_mark(&mark));
                            continue;
                        }
                    };
                    self.analysis.records.push(AttendanceRecord {
                        person_key: person_key.clone(),
                        sheet: self.sheet.name.clone(),
                        row: row + 1,
                        column: column.letter.clone(),
                        person: person.clone(),
                        module,
                        date,
                        status,
                        cohort: cohort.clone(),
                    });
                }
                continue;
            }

            let module = match module_column {
                Some(column) => {
                    let text = self.cell(row, column).display();
                    match self.match_module(&text) {
                        Some(module) => Some(module),
                        None if text.trim().is_empty() => sheet_module.clone(),
                        None => {
                            self.issue(
                                Severity::Error,
                                Some(row),
                                Some(column),
                                format!("“{text}” is not a module of any training programme."),
                            );
                            continue;
                        }
                    }
                }
                None => sheet_module.clone(),
            };
            let Some(module) = module else {
                if !reported_missing_module {
                    self.issue(
                        Severity::Error,
                        None,
                        None,
                        "It is not clear which training this sheet records: there is no Course column and the title does not name a module. Choose the module.".into(),
                    );
                    reported_missing_module = true;
                }
                continue;
            };
            let date = match date_column {
                Some(column) if !self.cell(row, column).is_empty() => match parse_date(self.cell(row, column)) {
                    Some(date) => Some(date),
                    None => {
                        let text = self.cell(row, column).display();
                        self.issue(
                            Severity::Error,
                            Some(row),
                            Some(column),
                            format!("“{text}” is not a date (use day/month/year, like 03/03/2025)."),
                        );
                        continue;
                    }
                },
                _ => sheet_date,
            };
            let Some(date) = date else {
                if !reported_missing_date {
                    self.issue(Severity::Error, None, None, "The sheet does not say when the session was: there is no Date column or date in the title. Give the date.".into());
                    reported_missing_date = true;
                }
                continue;
            };
            let status = match status_column {
                None => AttendanceStatus::Attended,
                Some(column) => match parse_status(self.cell(row, column)) {
                    Some(Some(status)) => status,
                    Some(None) => {
                        self.issue(
                            Severity::Warning,
                            Some(row),
                            Some(column),
                            format!("No attendance mark for {}; recorded as not attended.", person.full_name),
                        );
                        AttendanceStatus::Absent
                    }
                    None => {
                        let mark = self.cell(row, column).display();
                        self.issue(Severity::Error, Some(row), Some(column), unknown_mark(&mark));
                        continue;
                    }
                },
            };
            self.analysis.records.push(AttendanceRecord {
                person_key: person_key.clone(),
                sheet: self.sheet.name.clone(),
                row: row + 1,
                column: status_column.map(column_letter).unwrap_or_default(),
                person,
                module,
                date,
                status,
                cohort: None,
            });
        }
        self.analysis.layouts.push(layout);
    }
}

/// "Total attended", "Totals:" and the like end a register; they are not people.
fn is_footer(cell: &Cell) -> bool {
    let Cell::Text(text) = cell else { return false };
    // Cheap test first: nearly every row is a name, and names are not footers.
    let lower = text.trim_start().to_lowercase();
    if !FOOTERS.iter().any(|f| lower.starts_with(f)) {
        return false;
    }
    let normal = normalise(text);
    FOOTERS
        .iter()
        .any(|f| normal == *f || normal.starts_with(&format!("{f} ")))
}

fn unknown_mark(mark: &str) -> String {
    format!(
        "“{mark}” is not an attendance mark qmtrack understands (use Y/N, ✓, Attended, Absent, Partial or Cancelled)."
    )
}

/// Counts for the preview and the command line's JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub records: usize,
    pub people: usize,
    pub sessions: usize,
    pub by_status: BTreeMap<String, usize>,
}

pub fn summarise(records: &[AttendanceRecord]) -> Summary {
    let people: std::collections::HashSet<&str> = records.iter().map(|r| r.person_key.as_str()).collect();
    let sessions: std::collections::HashSet<(&ModuleRef, NaiveDate, &Option<String>)> =
        records.iter().map(|r| (&r.module, r.date, &r.cohort)).collect();
    let mut by_status = BTreeMap::new();
    for record in records {
        *by_status.entry(record.status.as_str().to_string()).or_insert(0) += 1;
    }
    Summary {
        records: records.len(),
        people: people.len(),
        sessions: sessions.len(),
        by_status,
    }
}
