//! Reading a partnership's spreadsheet of awards made before qmtrack
//! (organisation, framework, awarded on, expires on, sometimes revoked on)
//! into historic awards, with every problem named by sheet, row and column.
//!
//! It reads cells with the attendance import's reader, finds the heading row
//! the same way ([`super::best_header_row`]), reads dates as the UK writes
//! them ([`super::values::parse_date`]) and finds organisations by name or
//! alias ([`super::matching::organisations_by_key`]); only the headings and
//! the checks are its own.

use super::matching::{organisations_by_key, KnownOrganisation, NewOrganisation, OrgChoice};
use super::read::Sheet;
use super::values::{column_letter, contains_words, normalise, parse_date};
use super::{best_header_row, Cell, Issue, Severity};
use crate::domain::assessment::expiry_date;
use crate::domain::organisation::infer_type;
use crate::domain::standards::{Framework, StandardsLibrary};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// What a column of an award history holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AwardField {
    Organisation,
    Framework,
    AwardedOn,
    ExpiresOn,
    RevokedOn,
}

impl AwardField {
    pub fn label(self) -> &'static str {
        match self {
            AwardField::Organisation => "organisation",
            AwardField::Framework => "framework",
            AwardField::AwardedOn => "awarded on",
            AwardField::ExpiresOn => "expires on",
            AwardField::RevokedOn => "revoked on",
        }
    }

    /// The field a heading names. Words are checked from the most telling
    /// ("revoked", "expires") to the least ("award"), so "Award revoked" is a
    /// revocation date and "Award" alone is the framework.
    pub fn from_heading(heading: &str) -> Option<AwardField> {
        let words = normalise(heading);
        const BY_WORDS: &[(AwardField, &[&str])] = &[
            (AwardField::RevokedOn, &["revoked", "revocation", "withdrawn"]),
            (
                AwardField::ExpiresOn,
                &["expires", "expiry", "expired", "valid until", "renewal due"],
            ),
            (
                AwardField::AwardedOn,
                &[
                    "awarded",
                    "award date",
                    "date of award",
                    "accredited on",
                    "date accredited",
                ],
            ),
            (
                AwardField::Framework,
                &[
                    "framework",
                    "quality mark",
                    "scheme",
                    "accreditation",
                    "award",
                    "standard",
                ],
            ),
            (
                AwardField::Organisation,
                &[
                    "organisation",
                    "organization",
                    "agency",
                    "provider",
                    "practice",
                    "employer",
                ],
            ),
        ];
        BY_WORDS
            .iter()
            .find(|(_, phrases)| phrases.iter().any(|p| contains_words(&words, p)))
            .map(|(field, _)| *field)
    }
}

/// An award already on record, for the overlap check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedAward {
    pub organisation_id: i64,
    pub framework_id: String,
    pub awarded_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub revoked_on: Option<NaiveDate>,
}

/// The days an award is held: from its award to the start of its expiry or
/// revocation (as the figures engine counts it), open-ended without either.
fn held(awarded_on: NaiveDate, expires_on: Option<NaiveDate>, revoked_on: Option<NaiveDate>) -> (NaiveDate, NaiveDate) {
    let end = match (expires_on, revoked_on) {
        (Some(e), Some(r)) => e.min(r),
        (Some(day), None) | (None, Some(day)) => day,
        (None, None) => NaiveDate::MAX,
    };
    (awarded_on, end)
}

fn overlaps(a: (NaiveDate, NaiveDate), b: (NaiveDate, NaiveDate)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// One award of the sheet, ready to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoricAward {
    pub sheet: String,
    /// 1-based, as in the spreadsheet.
    pub row: usize,
    pub organisation: OrgChoice,
    pub organisation_name: String,
    pub framework_id: String,
    pub framework_version: String,
    pub framework_name: String,
    pub awarded_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub revoked_on: Option<NaiveDate>,
}

/// A sheet of awards as read: the awards, what is wrong with it, and the
/// organisations that importing it would add.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AwardSheet {
    pub awards: Vec<HistoricAward>,
    pub issues: Vec<Issue>,
    pub new_organisations: Vec<NewOrganisation>,
    /// (sheet, 1-based heading row) of each sheet read.
    pub headings: Vec<(String, usize)>,
}

impl AwardSheet {
    pub fn error_count(&self) -> usize {
        self.issues.iter().filter(|i| i.severity == Severity::Error).count()
    }
}

/// What reading needs besides the sheet.
pub struct Context<'a> {
    pub organisations: &'a [KnownOrganisation],
    pub recorded: &'a [RecordedAward],
    pub standards: &'a StandardsLibrary,
    /// Add organisations that are not on record, rather than call them errors.
    pub create_organisations: bool,
}

/// The framework a cell names: by id, by name, or by the name with
/// "Domestic Violence and Abuse" shortened to "DVA" as partnerships write it.
fn framework_keys(framework: &Framework) -> Vec<String> {
    let name = normalise(&framework.name);
    let short = name.replace("domestic violence and abuse", "dva");
    vec![normalise(&framework.id), name, short]
}

pub fn read_awards(sheets: &[Sheet], context: &Context<'_>) -> AwardSheet {
    let mut read = AwardSheet::default();
    let frameworks: HashMap<String, &Framework> = context
        .standards
        .current()
        .into_iter()
        .flat_map(|f| framework_keys(f).into_iter().map(move |k| (k, f)))
        .collect();
    let known_frameworks: Vec<String> = context.standards.current().iter().map(|f| f.name.clone()).collect();
    let organisations = organisations_by_key(context.organisations);
    // New organisations by key: the name as first written.
    let mut new_organisations: BTreeMap<String, String> = BTreeMap::new();
    for sheet in sheets {
        let Some(header) = best_header_row(&sheet.rows, heading_score) else {
            continue;
        };
        read.headings.push((sheet.name.clone(), header + 1));
        let mut columns: BTreeMap<AwardField, usize> = BTreeMap::new();
        for (index, cell) in sheet.rows[header].iter().enumerate() {
            if let Some(field) = cell.text().and_then(AwardField::from_heading) {
                columns.entry(field).or_insert(index);
            }
        }
        for (index, row) in sheet.rows.iter().enumerate().skip(header + 1) {
            if row.iter().all(Cell::is_empty) {
                continue;
            }
            let mut reader = RowReader {
                sheet: &sheet.name,
                row,
                number: index + 1,
                columns: &columns,
                issues: &mut read.issues,
            };
            let organisation_name = reader.text(AwardField::Organisation);
            let framework_text = reader.text(AwardField::Framework);
            let organisation = if organisation_name.is_empty() {
                reader.error(AwardField::Organisation, "No organisation is given.".into());
                None
            } else {
                let key = normalise(&organisation_name);
                match organisations.get(key.as_str()) {
                    Some(found) => Some((OrgChoice::Existing(found.id), found.name.clone())),
                    None if context.create_organisations => {
                        let name = new_organisations.entry(key).or_insert(organisation_name.clone());
                        Some((OrgChoice::New(name.clone()), name.clone()))
                    }
                    None => {
                        reader.error(
                            AwardField::Organisation,
                            format!(
                                "There is no organisation called “{organisation_name}”. Add it (or its other name) first, or import with the option to create organisations."
                            ),
                        );
                        None
                    }
                }
            };
            let framework = if framework_text.is_empty() {
                reader.error(AwardField::Framework, "No framework is given.".into());
                None
            } else {
                let found = frameworks.get(&normalise(&framework_text)).copied();
                if found.is_none() {
                    reader.error(
                        AwardField::Framework,
                        format!(
                            "“{framework_text}” is not a framework; use one of {}.",
                            known_frameworks.join("; ")
                        ),
                    );
                }
                found
            };
            let awarded_on = reader.date(AwardField::AwardedOn, true);
            let expires_given = reader.date(AwardField::ExpiresOn, false);
            let revoked_on = reader.date(AwardField::RevokedOn, false);
            let (Some((organisation, organisation_name)), Some(framework), Some(Some(awarded_on))) =
                (organisation, framework, awarded_on)
            else {
                continue;
            };
            let (Some(expires_given), Some(revoked_on)) = (expires_given, revoked_on) else {
                continue;
            };
            // Without an expiry the award lasts as long as the framework says.
            let expires_on = expires_given.unwrap_or_else(|| expiry_date(awarded_on, framework.validity_months));
            if expires_on <= awarded_on {
                reader.error(
                    AwardField::ExpiresOn,
                    format!(
                        "The award expires ({}) before it was awarded ({}).",
                        expires_on.format("%d/%m/%Y"),
                        awarded_on.format("%d/%m/%Y")
                    ),
                );
                continue;
            }
            if revoked_on.is_some_and(|r| r < awarded_on) {
                reader.error(
                    AwardField::RevokedOn,
                    format!(
                        "The award is revoked before it was awarded ({}).",
                        awarded_on.format("%d/%m/%Y")
                    ),
                );
                continue;
            }
            read.awards.push(HistoricAward {
                sheet: sheet.name.clone(),
                row: index + 1,
                organisation,
                organisation_name,
                framework_id: framework.id.clone(),
                framework_version: framework.version.clone(),
                framework_name: framework.name.clone(),
                awarded_on,
                expires_on,
                revoked_on,
            });
        }
    }
    if read.headings.is_empty() {
        read.issues.push(Issue::new(
            Severity::Error,
            sheets.first().map(|s| s.name.as_str()).unwrap_or_default(),
            None,
            None,
            "No sheet has headings for the organisation and the date it was awarded (for example “Organisation”, “Framework”, “Awarded on”, “Expires on”).".into(),
        ));
    }
    check_overlaps(&mut read, context.recorded);
    read.new_organisations = new_organisations
        .into_values()
        .map(|name| {
            let (org_type, reason) = infer_type(&name, &[]);
            NewOrganisation {
                type_label: org_type.label(),
                org_type,
                reason,
                name,
            }
        })
        .collect();
    read
}

/// A heading row names the organisation and the award date, and scores by
/// how many of the fields it names.
fn heading_score(row: &[Cell]) -> Option<usize> {
    let mut fields: Vec<AwardField> = row
        .iter()
        .filter_map(|c| c.text())
        .filter_map(AwardField::from_heading)
        .collect();
    fields.sort_unstable();
    fields.dedup();
    (fields.contains(&AwardField::Organisation) && fields.contains(&AwardField::AwardedOn)).then_some(fields.len())
}

/// Duplicate rows, rows that overlap each other, and rows that overlap an
/// award on record, for the same organisation and framework. Rows with any
/// of these are errors and are not imported.
fn check_overlaps(read: &mut AwardSheet, recorded: &[RecordedAward]) {
    let mut problems: Vec<(usize, String)> = Vec::new();
    for (index, award) in read.awards.iter().enumerate() {
        let span = held(award.awarded_on, Some(award.expires_on), award.revoked_on);
        let same_place = |other: &&HistoricAward| {
            other.organisation == award.organisation && other.framework_id == award.framework_id
        };
        if let Some(twin) = read.awards[..index]
            .iter()
            .filter(same_place)
            .find(|other| other.awarded_on == award.awarded_on)
        {
            problems.push((
                index,
                format!("This row repeats row {} of sheet “{}”.", twin.row, twin.sheet),
            ));
            continue;
        }
        if let Some(other) = read.awards[..index]
            .iter()
            .filter(same_place)
            .find(|other| overlaps(span, held(other.awarded_on, Some(other.expires_on), other.revoked_on)))
        {
            problems.push((
                index,
                format!(
                    "This award overlaps the one on row {} of sheet “{}” for the same organisation and framework.",
                    other.row, other.sheet
                ),
            ));
            continue;
        }
        if let OrgChoice::Existing(organisation_id) = award.organisation {
            if let Some(on_record) = recorded.iter().find(|r| {
                r.organisation_id == organisation_id
                    && r.framework_id == award.framework_id
                    && overlaps(span, held(r.awarded_on, r.expires_on, r.revoked_on))
            }) {
                problems.push((
                    index,
                    format!(
                        "This award overlaps the award of {} already on record for {} ({}).",
                        on_record.awarded_on.format("%d/%m/%Y"),
                        award.organisation_name,
                        award.framework_name
                    ),
                ));
            }
        }
    }
    for (index, message) in problems.iter().rev() {
        let award = read.awards.remove(*index);
        read.issues.push(Issue::new(
            Severity::Error,
            &award.sheet,
            Some(award.row),
            None,
            message.clone(),
        ));
    }
    read.issues
        .sort_by(|a, b| a.sheet.cmp(&b.sheet).then(a.row.cmp(&b.row)));
}

/// Reads one row's cells by field, noting problems as it goes.
struct RowReader<'a> {
    sheet: &'a str,
    row: &'a [Cell],
    number: usize,
    columns: &'a BTreeMap<AwardField, usize>,
    issues: &'a mut Vec<Issue>,
}

impl RowReader<'_> {
    fn cell(&self, field: AwardField) -> &Cell {
        self.columns
            .get(&field)
            .and_then(|c| self.row.get(*c))
            .unwrap_or(&Cell::Empty)
    }

    fn text(&self, field: AwardField) -> String {
        super::values::tidy_spaces(self.cell(field).display().trim())
    }

    fn error(&mut self, field: AwardField, message: String) {
        let column = self.columns.get(&field).map(|c| column_letter(*c));
        self.issues.push(Issue::new(
            Severity::Error,
            self.sheet,
            Some(self.number),
            column,
            message,
        ));
    }

    /// `Some(None)` for an empty cell, `None` (with an error) for one that is
    /// not a date or for a required date that is missing.
    fn date(&mut self, field: AwardField, required: bool) -> Option<Option<NaiveDate>> {
        let cell = self.cell(field).clone();
        if cell.is_empty() || cell.text().is_some_and(|t| t.trim().is_empty()) {
            if required {
                self.error(field, format!("No {} date is given.", field.label()));
                return None;
            }
            return Some(None);
        }
        match parse_date(&cell) {
            Some(date) => Some(Some(date)),
            None => {
                self.error(
                    field,
                    format!(
                        "“{}” is not a date for {} (use day/month/year, like 03/03/2015).",
                        cell.display(),
                        field.label()
                    ),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_read_from_the_most_telling_word() {
        assert_eq!(AwardField::from_heading("Award revoked"), Some(AwardField::RevokedOn));
        assert_eq!(AwardField::from_heading("Expiry date"), Some(AwardField::ExpiresOn));
        assert_eq!(AwardField::from_heading("Date awarded"), Some(AwardField::AwardedOn));
        assert_eq!(AwardField::from_heading("Award"), Some(AwardField::Framework));
        assert_eq!(AwardField::from_heading("Agency"), Some(AwardField::Organisation));
        assert_eq!(AwardField::from_heading("Notes"), None);
    }

    #[test]
    fn an_award_ends_at_the_earlier_of_expiry_and_revocation() {
        let day = |t: &str| NaiveDate::parse_from_str(t, "%Y-%m-%d").unwrap();
        let first = held(day("2010-01-01"), Some(day("2013-01-01")), None);
        let renewal = held(day("2013-01-01"), Some(day("2016-01-01")), None);
        assert!(!overlaps(first, renewal), "a renewal from the day of expiry follows on");
        let early = held(day("2012-06-01"), Some(day("2015-06-01")), None);
        assert!(overlaps(first, early));
        let revoked = held(day("2010-01-01"), Some(day("2013-01-01")), Some(day("2011-01-01")));
        assert!(!overlaps(
            revoked,
            held(day("2011-01-01"), Some(day("2014-01-01")), None)
        ));
    }
}
