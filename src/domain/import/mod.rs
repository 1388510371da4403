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

pub mod awards;
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
    StaffCategory,
    Date,
    Module,
    Status,
    Ignore,
}

impl Field {
    pub const CHOICES: [Field; 11] = [
        Field::FullName,
        Field::FirstName,
        Field::Surname,
        Field::Email,
        Field::Organisation,
        Field::JobTitle,
        Field::StaffCategory,
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
            Field::StaffCategory => "staff_category",
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
            Field::StaffCategory => "Staff category",
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
                "participant name",
                // Headings that say the name is written in two parts in one cell.
                "surname first name",
                "surname forename",
                "surname forenames",
                "last name first name",
                "family name first name",
                "first name surname",
                "forename surname",
                "first name last name",
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
            Field::StaffCategory => &[
                "staff category",
                "role category",
                "category",
                "staff group",
                "staff type",
            ],
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
        if let Some(field) = Field::CHOICES
            .into_iter()
            .find(|f| f.synonyms().contains(&heading.as_str()))
        {
            return Some(field);
        }
        // "NHS email", "Work e-mail address": any heading that names an email.
        let words: Vec<&str> = heading.split(' ').collect();
        let names_email = words.contains(&"email") || words.windows(2).any(|w| w == ["e", "mail"]);
        names_email.then_some(Field::Email)
    }

    /// What a user may type for a field (`--map "Outcome=status"`): the
    /// stored name or the label, in any case.
    pub fn from_user(text: &str) -> Option<Field> {
        let wanted = normalise(text);
        Field::CHOICES
            .into_iter()
            .find(|f| normalise(f.as_str()) == wanted || normalise(f.label()) == wanted)
            .or(match wanted.as_str() {
                "name" => Some(Field::FullName),
                "course" | "training" => Some(Field::Module),
                "attendance" | "attended" => Some(Field::Status),
                "organization" => Some(Field::Organisation),
                _ => None,
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem, located as precisely as the file allows (rows are 1-based as in
/// the spreadsheet). Problems with one cause are one issue covering many rows,
/// so a grid of 80 people without an organisation reads as one problem, not 320.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub severity: Severity,
    pub sheet: String,
    /// The first row the problem is on.
    pub row: Option<usize>,
    pub column: Option<String>,
    pub message: String,
    /// How many rows (or people) share this problem.
    pub count: usize,
    /// The rows it covers, as ranges ("4–83, 90").
    pub rows: String,
    #[serde(skip)]
    covers: Vec<usize>,
}

impl Issue {
    /// The order issues are listed in: errors first, then by sheet and row.
    pub fn listing_order(a: &Issue, b: &Issue) -> std::cmp::Ordering {
        a.severity
            .cmp(&b.severity)
            .then(a.sheet.cmp(&b.sheet))
            .then(a.row.cmp(&b.row))
    }

    pub fn new(severity: Severity, sheet: &str, row: Option<usize>, column: Option<String>, message: String) -> Issue {
        Issue {
            severity,
            sheet: sheet.to_string(),
            row,
            column,
            message,
            count: 1,
            rows: row.map(|r| r.to_string()).unwrap_or_default(),
            covers: row.into_iter().collect(),
        }
    }

    /// One problem shared by several rows (`count` may be people rather than rows).
    pub fn covering(severity: Severity, sheet: &str, rows: Vec<usize>, count: usize, message: String) -> Issue {
        let mut issue = Issue::new(severity, sheet, None, None, message);
        issue.covers = rows;
        issue.count = count;
        issue.settle();
        issue
    }

    fn settle(&mut self) {
        self.covers.sort_unstable();
        self.covers.dedup();
        self.row = self.covers.first().copied().or(self.row);
        self.rows = row_ranges(&self.covers);
    }

    /// Where the problem is, in words: "sheet “A”, rows 4–9, column D".
    pub fn place(&self) -> String {
        let mut place = Vec::new();
        if !self.sheet.is_empty() {
            place.push(format!("sheet “{}”", self.sheet));
        }
        if !self.rows.is_empty() {
            let plural = self.rows.contains([',', '–']);
            place.push(format!("{} {}", if plural { "rows" } else { "row" }, self.rows));
        }
        if let Some(column) = &self.column {
            place.push(format!("column {column}"));
        }
        place.join(", ")
    }
}

/// "4–9, 12, 15–20": rows in order, consecutive ones as a range; long lists end in "…".
pub fn row_ranges(rows: &[usize]) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for &row in rows {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == row || *end == row => *end = row,
            _ => ranges.push((row, row)),
        }
    }
    const SHOWN: usize = 12;
    let mut text: Vec<String> = ranges
        .iter()
        .take(SHOWN)
        .map(|(start, end)| {
            if start == end {
                start.to_string()
            } else {
                format!("{start}–{end}")
            }
        })
        .collect();
    if ranges.len() > SHOWN {
        text.push("…".into());
    }
    text.join(", ")
}

/// One issue per cause: those with the same severity, sheet, column and
/// message are merged, keeping every row they cover.
pub fn group_issues(issues: Vec<Issue>) -> Vec<Issue> {
    let mut grouped: Vec<Issue> = Vec::with_capacity(issues.len());
    let mut index: HashMap<(Severity, String, Option<String>, String), usize> = HashMap::new();
    for issue in issues {
        let key = (
            issue.severity,
            issue.sheet.clone(),
            issue.column.clone(),
            issue.message.clone(),
        );
        match index.get(&key) {
            Some(&at) => {
                let into = &mut grouped[at];
                into.count += issue.count;
                into.covers.extend(issue.covers);
            }
            None => {
                index.insert(key, grouped.len());
                grouped.push(issue);
            }
        }
    }
    for issue in &mut grouped {
        issue.settle();
    }
    grouped.sort_by(Issue::listing_order);
    grouped
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
    /// The sheet's staff category, normalised; the person's is set to it
    /// when the import is committed (see `db::imports`).
    pub staff_category: Option<String>,
}

impl PersonRef {
    /// Rows for one person share this: the email if given, else the name and
    /// organisation. Two rows with one name and different emails are two
    /// people, as they are when they come from two files.
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
    /// Why that row.
    pub header_reason: String,
    pub columns: Vec<ColumnLayout>,
    pub grid: bool,
    pub module_from_title: Option<ModuleRef>,
    pub date_from_title: Option<NaiveDate>,
    /// The training the sheet records, in words ("IRIS: IRIS clinical session 1").
    pub modules: Vec<String>,
    /// The session dates found, in order.
    pub dates: Vec<NaiveDate>,
    /// Choices made for the whole sheet, each with its reason.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnLayout {
    pub letter: String,
    pub index: usize,
    pub heading: String,
    pub field: Option<Field>,
    /// For a column of a people × days grid: the module and date it records.
    pub day: Option<(ModuleRef, Option<NaiveDate>)>,
    /// Why the column was read this way (empty when it is not used).
    pub reason: String,
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
    /// Column choices by heading on every sheet (`--map "Outcome=status"`), keyed by the normalised heading.
    pub heading_mapping: HashMap<String, Field>,
    /// The 1-based row of the headings, when the user says where it is.
    pub header_row: Option<usize>,
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

/// The 0-based row, among the first [`HEADER_SEARCH_ROWS`], that `score`
/// rates highest as a heading row (`None` for a row that cannot be one):
/// every kind of sheet this app reads finds its headings below any title
/// block the same way, and only says what its headings are.
pub fn best_header_row(rows: &[Vec<Cell>], score: impl Fn(&[Cell]) -> Option<usize>) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (index, row) in rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
        if let Some(points) = score(row) {
            if best.is_none_or(|(_, s)| points > s) {
                best = Some((index, points));
            }
        }
    }
    best.map(|(index, _)| index)
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

/// How many values below the headings are looked at to judge a column by its content.
const CONTENT_SAMPLE_ROWS: usize = 500;

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
                analysis.issues.push(Issue::new(
                    Severity::Error,
                    "",
                    None,
                    None,
                    format!("“{text}” is not a module of any training programme."),
                ));
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
        analysis.issues.push(Issue::new(
            Severity::Error,
            wanted,
            None,
            None,
            format!(
                "There is no sheet called “{wanted}”. The sheets are: {}.",
                sheets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    drop_duplicates(&mut analysis);
    describe_sheets(&mut analysis, programmes);
    analysis.issues = group_issues(std::mem::take(&mut analysis.issues));
    analysis
}

/// "IRIS: IRIS clinical session 1", for messages and the preview.
pub fn module_label(programmes: &ProgrammeLibrary, module: &ModuleRef) -> String {
    match programmes.get(&module.programme_id, &module.programme_version) {
        Some(programme) => {
            let title = programme
                .module(&module.module_id)
                .map(|m| m.title.as_str())
                .unwrap_or(module.module_id.as_str());
            format!("{}: {title}", programme.name)
        }
        None => format!("{}: {}", module.programme_id, module.module_id),
    }
}

/// Fills in what each sheet was found to record: its modules and session dates.
fn describe_sheets(analysis: &mut Analysis, programmes: &ProgrammeLibrary) {
    let mut found: HashMap<&str, (Vec<&ModuleRef>, Vec<NaiveDate>)> = HashMap::new();
    for record in &analysis.records {
        let (modules, dates) = found.entry(record.sheet.as_str()).or_default();
        if !modules.contains(&&record.module) {
            modules.push(&record.module);
        }
        if !dates.contains(&record.date) {
            dates.push(record.date);
        }
    }
    for layout in &mut analysis.layouts {
        if let Some((modules, dates)) = found.get(layout.sheet.as_str()) {
            layout.modules = modules.iter().map(|m| module_label(programmes, m)).collect();
            layout.dates = dates.clone();
            layout.dates.sort_unstable();
        }
    }
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
        analysis.issues.push(Issue::new(
            Severity::Warning,
            &record.sheet,
            Some(record.row),
            None,
            format!(
                "{} appears twice for the same session (also row {} of {}); this row is used.",
                record.person.full_name, earlier.row, earlier.sheet
            ),
        ));
    }
    let mut index = 0;
    analysis.records.retain(|_| {
        let kept = keep.contains(&index);
        index += 1;
        kept
    });
}

/// The number of a "Day 2", "Day 2 (08/10/2024)" or "Day 2 AM" heading.
fn day_number(heading: &str) -> Option<usize> {
    let normal = normalise(heading);
    let mut words = normal.split(' ');
    match (words.next(), words.next()) {
        (Some("day"), Some(number)) => number.parse().ok().filter(|n| (1..=31).contains(n)),
        _ => None,
    }
}

/// Headings of part of a day: "AM", "Day 1 PM", "Morning", "Afternoon session".
fn is_half_day(heading: &str) -> bool {
    normalise(heading)
        .split(' ')
        .any(|w| matches!(w, "am" | "pm" | "morning" | "afternoon"))
}

/// A session attended in parts counts as attended only when every part was.
fn combine_parts(parts: &[AttendanceStatus]) -> AttendanceStatus {
    use AttendanceStatus::*;
    if parts.iter().all(|s| *s == Attended) {
        Attended
    } else if parts.iter().any(|s| matches!(s, Attended | Partial)) {
        Partial
    } else if !parts.is_empty() && parts.iter().all(|s| *s == Cancelled) {
        Cancelled
    } else {
        Absent
    }
}

/// The days of a course, from a sheet title naming its programme.
struct TitledCourse {
    modules: Vec<ModuleRef>,
    /// "“CORE training” of Safe & Together"
    described: String,
    programme: String,
}

struct SheetReader<'a> {
    sheet: &'a read::Sheet,
    programmes: &'a ProgrammeLibrary,
    options: &'a ImportOptions,
    option_module: Option<&'a ModuleRef>,
    analysis: &'a mut Analysis,
    /// A course column repeats a handful of texts thousands of times: match each once.
    module_cache: std::sync::RwLock<HashMap<String, Option<ModuleRef>>>,
}

/// Rows of a sheet at which it is read in two halves at once.
const PARALLEL_ROWS: usize = 10_000;

const MISSING_MODULE: &str = "It is not clear which training this sheet records:";

/// What reading some of a sheet's rows found.
#[derive(Default)]
struct RowsRead {
    records: Vec<AttendanceRecord>,
    issues: Vec<Issue>,
    missing_module: bool,
}

impl SheetReader<'_> {
    fn issue(&mut self, severity: Severity, row: Option<usize>, column: Option<usize>, message: String) {
        self.analysis.issues.push(Issue::new(
            severity,
            &self.sheet.name,
            row.map(|r| r + 1),
            column.map(column_letter),
            message,
        ));
    }

    /// [`Self::issue`] into a list of its own, for rows read on another thread.
    fn issue_into(
        &self,
        issues: &mut Vec<Issue>,
        severity: Severity,
        row: Option<usize>,
        column: Option<usize>,
        message: String,
    ) {
        issues.push(Issue::new(
            severity,
            &self.sheet.name,
            row.map(|r| r + 1),
            column.map(column_letter),
            message,
        ));
    }

    fn text_at(&self, row: usize, column: Option<usize>) -> String {
        match column.map(|c| self.cell(row, c)) {
            None => String::new(),
            // Most cells are text: trimmed without an intermediate copy.
            Some(Cell::Text(text)) => text.trim().to_string(),
            Some(other) => other.display().trim().to_string(),
        }
    }

    fn cell(&self, row: usize, column: usize) -> &Cell {
        self.sheet
            .rows
            .get(row)
            .and_then(|r| r.get(column))
            .unwrap_or(&Cell::Empty)
    }

    fn match_module(&self, text: &str) -> Option<ModuleRef> {
        if let Some(found) = self.module_cache.read().ok().and_then(|cache| cache.get(text).cloned()) {
            return found;
        }
        let found = self
            .programmes
            .match_module(text)
            .map(|m| module_ref(&m.programme_id, &m.programme_version, &m.module_id));
        if let Ok(mut cache) = self.module_cache.write() {
            cache.insert(text.to_string(), found.clone());
        }
        found
    }

    fn module_title(&self, module: &ModuleRef) -> String {
        self.programmes
            .get(&module.programme_id, &module.programme_version)
            .and_then(|p| p.module(&module.module_id))
            .map(|m| m.title.clone())
            .unwrap_or_else(|| module.module_id.clone())
    }

    /// The row whose cells look most like headings: at least two recognised
    /// headings including a name, searched below any title block.
    fn find_header(&self) -> Option<usize> {
        best_header_row(&self.sheet.rows, |row| {
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
                .filter(|t| self.match_module(t).is_some() || day_number(t).is_some())
                .count();
            let score = fields.iter().filter(|f| **f != Field::Ignore).count() + days;
            (has_name && score >= 2).then_some(score)
        })
    }

    /// A title such as "Safe & Together CORE training: Cohort A" names a
    /// programme; its "Day N" columns are then the days of the course the
    /// title names (or of the programme's course with enough days), in order.
    fn course_in_title(&self, titles: &[String], days: usize) -> Option<TitledCourse> {
        let title = normalise(&titles.join(" "));
        let mut best: Option<(&crate::domain::programmes::Programme, usize)> = None;
        for programme in self.programmes.current() {
            for name in [normalise(&programme.name), normalise(&programme.id)] {
                if values::contains_words(&title, &name) && best.is_none_or(|(_, length)| name.len() > length) {
                    best = Some((programme, name.len()));
                }
            }
        }
        let (programme, _) = best?;
        let to_refs = |ids: &[String]| -> Vec<ModuleRef> {
            ids.iter()
                .map(|id| module_ref(&programme.id, &programme.version, id))
                .collect()
        };
        let course = programme
            .completions
            .iter()
            .filter(|c| c.modules.len() >= days)
            .max_by_key(|c| (values::contains_words(&title, &normalise(&c.title)), c.modules.len()));
        match course {
            Some(course) => Some(TitledCourse {
                modules: to_refs(&course.modules),
                described: format!("“{}” of {}", course.title, programme.name),
                programme: programme.name.clone(),
            }),
            None if programme.modules.len() >= days => Some(TitledCourse {
                modules: to_refs(&programme.modules.iter().map(|m| m.id.clone()).collect::<Vec<_>>()),
                described: programme.name.clone(),
                programme: programme.name.clone(),
            }),
            None => None,
        }
    }

    /// What a column holds, judged by its values when its heading says
    /// nothing: email addresses, course names, attendance marks or dates.
    fn field_from_values(
        &self,
        header: usize,
        column: &ColumnLayout,
        taken: &[Field],
        grid: bool,
    ) -> Option<(Field, String)> {
        let values: Vec<&Cell> = self
            .sheet
            .rows
            .iter()
            .skip(header + 1)
            .take(CONTENT_SAMPLE_ROWS)
            .filter_map(|row| row.get(column.index))
            .filter(|cell| !cell.is_empty() && !is_footer(cell))
            .collect();
        if values.is_empty() {
            return None;
        }
        let mostly = |n: usize| n * 10 >= values.len() * 9;
        let free = |field: Field| !taken.contains(&field);
        let emails = values
            .iter()
            .filter(|c| c.text().is_some_and(crate::domain::validation::looks_like_email))
            .count();
        if free(Field::Email) && mostly(emails) {
            return Some((Field::Email, "its values are email addresses".into()));
        }
        let mut modules: Vec<ModuleRef> = Vec::new();
        let mut matched = 0;
        for cell in &values {
            if let Some(module) = self.match_module(&cell.display()) {
                matched += 1;
                if !modules.contains(&module) {
                    modules.push(module);
                }
            }
        }
        if free(Field::Module) && mostly(matched) {
            let mut titles: Vec<String> = modules
                .iter()
                .take(3)
                .map(|m| format!("“{}”", self.module_title(m)))
                .collect();
            if modules.len() > 3 {
                titles.push(format!("{} more", modules.len() - 3));
            }
            return Some((Field::Module, format!("its values match {}", titles.join(", "))));
        }
        let mut marks: Vec<String> = Vec::new();
        let mut is_mark = 0;
        for cell in &values {
            if matches!(parse_status(cell), Some(Some(_))) {
                is_mark += 1;
                let shown = cell.display();
                if marks.len() < 4 && !marks.contains(&shown) {
                    marks.push(shown);
                }
            }
        }
        let half_day = is_half_day(&column.heading);
        if !grid && (free(Field::Status) || half_day) && mostly(is_mark) {
            let shown: Vec<String> = marks.iter().map(|m| format!("“{m}”")).collect();
            return Some((
                Field::Status,
                format!("its values are attendance marks ({})", shown.join(", ")),
            ));
        }
        let dates = values.iter().filter(|c| parse_date(c).is_some()).count();
        if free(Field::Date) && mostly(dates) {
            return Some((Field::Date, "its values are dates".into()));
        }
        None
    }

    fn read(mut self) {
        let (header, header_reason) = match self.options.header_row {
            Some(chosen) => {
                if chosen == 0 || chosen > self.sheet.rows.len() {
                    let rows = self.sheet.rows.len();
                    self.issue(
                        Severity::Error,
                        None,
                        None,
                        format!("The headings cannot be on row {chosen}: this sheet has {rows} rows."),
                    );
                    return;
                }
                (chosen - 1, "you chose this row".to_string())
            }
            None => match self.find_header() {
                Some(header) => (
                    header,
                    "the first row whose headings name the person and something else about the attendance".to_string(),
                ),
                None => {
                    if self.sheet.rows.iter().any(|r| r.iter().any(|c| !c.is_empty())) {
                        self.issue(
                            Severity::Error,
                            None,
                            None,
                            "No heading row was found (looked for a row with a Name column and at least one other heading such as Email, Organisation, Date or Attended). Check the headings, or say which row holds them.".into(),
                        );
                    }
                    return;
                }
            },
        };
        let mut notes = Vec::new();

        // The title block: a course name and a date above the headings.
        let (mut module_from_title, mut date_from_title) = (None, None);
        let mut titles = Vec::new();
        for row in 0..header {
            let cells = self.sheet.rows.get(row).map(Vec::as_slice).unwrap_or_default();
            for (column, cell) in cells.iter().enumerate() {
                if let Cell::Text(text) = cell {
                    titles.push(text.clone());
                    if module_from_title.is_none() {
                        module_from_title = self.match_module(text);
                        if let Some(module) = &module_from_title {
                            notes.push(format!(
                                "The title “{text}” names the module “{}”.",
                                self.module_title(module)
                            ));
                        }
                    }
                    let label = normalise(text);
                    if date_from_title.is_none() && (label == "date" || label.starts_with("date ")) {
                        date_from_title = values::parse_date_text(text)
                            .or_else(|| cells[column + 1..].iter().find(|c| !c.is_empty()).and_then(parse_date));
                        if let Some(date) = date_from_title {
                            notes.push(format!(
                                "The session date {} is from the title block.",
                                date.format("%d/%m/%Y")
                            ));
                        }
                    }
                }
            }
        }

        let width = self.sheet.rows.get(header).map(Vec::len).unwrap_or(0);
        let above = |reader: &Self, index: usize| {
            if header > 0 {
                parse_date(reader.cell(header - 1, index))
            } else {
                None
            }
        };
        let mut columns = Vec::new();
        for index in 0..width {
            let heading = self.cell(header, index).display();
            let chosen = self
                .options
                .mapping
                .get(&(self.sheet.name.clone(), index))
                .or_else(|| self.options.heading_mapping.get(&normalise(&heading)))
                .copied();
            let (field, day, reason) = if let Some(field) = chosen {
                (Some(field), None, "you chose it".to_string())
            } else if let Some(field) = Field::from_heading(&heading) {
                (Some(field), None, format!("its heading “{heading}”"))
            } else if let Some(module) = (!heading.is_empty()).then(|| self.match_module(&heading)).flatten() {
                let date = values::date_in_text(&heading).or_else(|| above(&self, index));
                let reason = format!("its heading names the module “{}”", self.module_title(&module));
                (None, Some((module, date)), reason)
            } else {
                (None, None, String::new())
            };
            columns.push(ColumnLayout {
                letter: column_letter(index),
                index,
                heading,
                field,
                day,
                reason,
            });
        }

        // "Day 1 … Day 4" under a title naming a programme: the days of its
        // course, whatever a bare "Day 3" might match on its own.
        {
            let numbered: Vec<(usize, usize)> = columns
                .iter()
                .filter(|c| c.field.is_none())
                .filter_map(|c| day_number(&c.heading).map(|n| (c.index, n)))
                .collect();
            let most = numbered.iter().map(|(_, n)| *n).max().unwrap_or(0);
            if let Some(course) = (most > 0).then(|| self.course_in_title(&titles, most)).flatten() {
                for (index, n) in numbered {
                    let date = values::date_in_text(&columns[index].heading).or_else(|| above(&self, index));
                    let module = course.modules[n - 1].clone();
                    columns[index].reason =
                        format!("day {n} of {}: “{}”", course.described, self.module_title(&module));
                    columns[index].day = Some((module, date));
                }
                notes.push(format!(
                    "The “Day N” columns are the days of {} in order, because the title names {}.",
                    course.described, course.programme
                ));
            }
        }
        let grid = columns.iter().any(|c| c.day.is_some());

        for index in 0..columns.len() {
            if columns[index].field.is_some() || columns[index].day.is_some() {
                continue;
            }
            let taken: Vec<Field> = columns.iter().filter_map(|c| c.field).collect();
            if let Some((field, reason)) = self.field_from_values(header, &columns[index], &taken, grid) {
                columns[index].field = Some(field);
                columns[index].reason = reason;
            }
        }

        let column_of = |field: Field| columns.iter().find(|c| c.field == Some(field)).map(|c| c.index);
        let status_columns: Vec<usize> = columns
            .iter()
            .filter(|c| c.field == Some(Field::Status))
            .map(|c| c.index)
            .collect();
        // Grid columns recording the same module on the same day are parts of one session (AM and PM).
        let mut days: Vec<(ModuleRef, Option<NaiveDate>, Vec<usize>)> = Vec::new();
        for column in &columns {
            let Some((module, date)) = &column.day else { continue };
            match days.iter_mut().find(|(m, d, _)| m == module && d == date) {
                Some((_, _, parts)) => parts.push(column.index),
                None => days.push((module.clone(), *date, vec![column.index])),
            }
        }
        let parts_heading = |parts: &[usize]| {
            parts
                .iter()
                .map(|p| format!("“{}”", columns[*p].heading))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        for (_, _, parts) in days.iter().filter(|(_, _, parts)| parts.len() > 1) {
            notes.push(format!(
                "{} are parts of one session: attended only when every part is marked attended, partly attended when some are.",
                parts_heading(parts)
            ));
        }
        if status_columns.len() > 1 {
            notes.push(format!(
                "{} are parts of one session: attended only when every part is marked attended, partly attended when some are.",
                parts_heading(&status_columns)
            ));
        }
        let layout = SheetLayout {
            sheet: self.sheet.name.clone(),
            header_row: Some(header + 1),
            header_reason,
            columns: columns.clone(),
            grid,
            module_from_title: module_from_title.clone(),
            date_from_title,
            modules: Vec::new(),
            dates: Vec::new(),
            notes,
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
        let category_column = column_of(Field::StaffCategory);
        let date_column = column_of(Field::Date);
        let module_column = column_of(Field::Module);
        let sheet_module = self.option_module.cloned().or(module_from_title);
        let sheet_date = self.options.date.or(date_from_title);
        let cohort = grid.then(|| self.sheet.name.clone());

        // Rows are read independently of each other: a long sheet is read in
        // two halves side by side, the second on another thread, and the
        // halves joined in order as if read in one pass.
        let read_rows = |rows: std::ops::Range<usize>| {
            let mut out = RowsRead::default();
            for row in rows {
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
                    self.issue_into(
                        &mut out.issues,
                        Severity::Error,
                        Some(row),
                        name_column.or(first_column),
                        "This row has no name.".into(),
                    );
                    continue;
                }
                let mut email = self.text_at(row, email_column).to_lowercase();
                if !email.is_empty() && !crate::domain::validation::looks_like_email(&email) {
                    self.issue_into(
                        &mut out.issues,
                        Severity::Warning,
                        Some(row),
                        email_column,
                        format!("“{email}” is not an email address, so this person is matched by name."),
                    );
                    email.clear();
                }
                let person = PersonRef {
                    full_name,
                    email,
                    organisation: values::tidy_spaces(&self.text_at(row, organisation_column)),
                    job_title: self.text_at(row, job_column),
                    staff_category: crate::domain::training_requirement::normalise_category(
                        &self.text_at(row, category_column),
                    ),
                };
                let person_key = person.key();

                if grid {
                    for (module, day_date, parts) in &days {
                        let Some(date) = day_date.or(sheet_date) else {
                            self.issue_into(&mut out.issues,
                                Severity::Error,
                                Some(header),
                                parts.first().copied(),
                                format!(
                                    "There is no date for “{}”; put the date in the heading or above it, or give one date.",
                                    columns[parts[0]].heading
                                ),
                            );
                            continue;
                        };
                        let mut marks = Vec::with_capacity(parts.len());
                        for part in parts {
                            match parse_status(self.cell(row, *part)) {
                                Some(Some(status)) => marks.push(status),
                                // No mark in a grid: the person did not attend that day (or part).
                                Some(None) => marks.push(AttendanceStatus::Absent),
                                None => {
                                    let mark = self.cell(row, *part).display();
                                    self.issue_into(
                                        &mut out.issues,
                                        Severity::Error,
                                        Some(row),
                                        Some(*part),
                                        unknown_mark(&mark),
                                    );
                                }
                            }
                        }
                        if marks.len() != parts.len() {
                            continue;
                        }
                        out.records.push(AttendanceRecord {
                            person_key: person_key.clone(),
                            sheet: self.sheet.name.clone(),
                            row: row + 1,
                            column: column_letter(parts[0]),
                            person: person.clone(),
                            module: module.clone(),
                            date,
                            status: combine_parts(&marks),
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
                                self.issue_into(
                                    &mut out.issues,
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
                    if !out.missing_module {
                        self.issue_into(&mut out.issues,
                            Severity::Error,
                            None,
                            None,
                            format!("{MISSING_MODULE} no column holds course names and the title does not name a module. Choose the module."),
                        );
                        out.missing_module = true;
                    }
                    continue;
                };
                let date = match date_column {
                    Some(column) if !self.cell(row, column).is_empty() => match parse_date(self.cell(row, column)) {
                        Some(date) => Some(date),
                        None => {
                            let text = self.cell(row, column).display();
                            self.issue_into(
                                &mut out.issues,
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
                    self.issue_into(&mut out.issues,
                        Severity::Error,
                        Some(row),
                        date_column,
                        "There is no session date for this row: no date in the Date column or the title. Give the date."
                            .into(),
                    );
                    continue;
                };
                let status = if status_columns.is_empty() {
                    AttendanceStatus::Attended
                } else {
                    let mut marks = Vec::with_capacity(status_columns.len());
                    let mut unreadable = false;
                    for column in &status_columns {
                        match parse_status(self.cell(row, *column)) {
                            Some(mark) => marks.push(mark),
                            None => {
                                let mark = self.cell(row, *column).display();
                                self.issue_into(
                                    &mut out.issues,
                                    Severity::Error,
                                    Some(row),
                                    Some(*column),
                                    unknown_mark(&mark),
                                );
                                unreadable = true;
                            }
                        }
                    }
                    if unreadable {
                        continue;
                    }
                    if marks.iter().all(Option::is_none) {
                        self.issue_into(
                            &mut out.issues,
                            Severity::Warning,
                            Some(row),
                            status_columns.first().copied(),
                            "No attendance mark; recorded as not attended.".into(),
                        );
                    }
                    let marks: Vec<AttendanceStatus> = marks
                        .into_iter()
                        .map(|m| m.unwrap_or(AttendanceStatus::Absent))
                        .collect();
                    combine_parts(&marks)
                };
                out.records.push(AttendanceRecord {
                    person_key: person_key.clone(),
                    sheet: self.sheet.name.clone(),
                    row: row + 1,
                    column: status_columns.first().map(|c| column_letter(*c)).unwrap_or_default(),
                    person,
                    module,
                    date,
                    status,
                    cohort: None,
                });
            }
            out
        };
        let rows = header + 1..self.sheet.rows.len();
        let halves = if rows.len() >= PARALLEL_ROWS {
            let middle = rows.start + rows.len() / 2;
            std::thread::scope(|scope| {
                let second = scope.spawn(|| read_rows(middle..rows.end));
                let first = read_rows(rows.start..middle);
                match second.join() {
                    Ok(second) => vec![first, second],
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            })
        } else {
            vec![read_rows(rows)]
        };
        let mut missing_module_reported = false;
        for half in halves {
            self.analysis.records.extend(half.records);
            for issue in half.issues {
                // The one "which training" question, however many halves ask it.
                if issue.row.is_none() && issue.column.is_none() && issue.message.starts_with(MISSING_MODULE) {
                    if missing_module_reported {
                        continue;
                    }
                    missing_module_reported = true;
                }
                self.analysis.issues.push(issue);
            }
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
