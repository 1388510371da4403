//! Frameworks of standards (DAHA, the DVA Quality Mark and its versions),
//! loaded from `standards/*.toml`. The format is documented in
//! `standards/README.md`. Every problem is reported as `file:line: message`
//! so a person editing a file can go straight to it.

use super::training_requirement::{self, Amount, TrainingRequirement};
use super::versions::{Versioned, Versions};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::ops::RangeInclusive;
use std::path::Path;
use toml::Spanned;

pub const FORMAT_VERSION: i64 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Framework {
    pub id: String,
    pub name: String,
    pub version: String,
    pub validity_months: u32,
    pub audience: String,
    pub summary: String,
    pub illustrative: bool,
    pub areas: Vec<Area>,
    pub file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Area {
    pub id: String,
    pub title: String,
    pub summary: Option<String>,
    pub standards: Vec<Standard>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Standard {
    pub id: String,
    pub title: String,
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Criterion {
    pub id: String,
    pub text: String,
    pub guidance: String,
    pub evidence: String,
    pub mandatory: bool,
    /// Training that counts as evidence for it; see [`super::training_requirement`].
    pub training: Option<TrainingRequirement>,
}

impl Framework {
    pub fn criteria(&self) -> impl Iterator<Item = &Criterion> {
        self.areas
            .iter()
            .flat_map(|area| area.standards.iter())
            .flat_map(|standard| standard.criteria.iter())
    }

    pub fn area(&self, id: &str) -> Option<&Area> {
        self.areas.iter().find(|area| area.id == id)
    }

    pub fn criterion_count(&self) -> usize {
        self.criteria().count()
    }

    pub fn mandatory_count(&self) -> usize {
        self.criteria().filter(|c| c.mandatory).count()
    }
}

impl Area {
    pub fn criterion_count(&self) -> usize {
        self.standards.iter().map(|s| s.criteria.len()).sum()
    }
}

/// One problem in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardsError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for StandardsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// All loaded frameworks, every version, ordered by id then version; the
/// current version of each is what new enrolments use.
pub type StandardsLibrary = Versions<Framework>;

impl Versioned for Framework {
    fn id(&self) -> &str {
        &self.id
    }

    fn version(&self) -> &str {
        &self.version
    }
}

/// "2024.10" is newer than "2024.9": numeric parts compare as numbers.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| -> Vec<(u64, String)> {
        v.split(['.', '-'])
            .map(|p| (p.parse::<u64>().unwrap_or(u64::MAX), p.to_string()))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

/// Parses every `*.toml` directly inside `dir` with `parse(file, file_name,
/// text)`, in name order, collecting every problem rather than stopping at
/// the first. `what` names the files in messages ("framework",
/// "training programme"). Frameworks and training programmes share this.
pub(crate) fn parse_toml_dir<T>(
    dir: &Path,
    what: &str,
    parse: impl Fn(&str, &str, &str) -> Result<T, Vec<StandardsError>>,
) -> Result<Vec<T>, Vec<StandardsError>> {
    let display_dir = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![StandardsError {
            file: display_dir.clone(),
            line: 0,
            message: format!("cannot read the {what} folder: {e}"),
        }]
    })?;
    let mut paths: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();

    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                match parse(&file, &file_name, &text) {
                    Ok(found) => parsed.push(found),
                    Err(mut found) => errors.append(&mut found),
                }
            }
            Err(e) => errors.push(StandardsError {
                file,
                line: 0,
                message: format!("cannot read the file: {e}"),
            }),
        }
    }
    if parsed.is_empty() && errors.is_empty() {
        errors.push(StandardsError {
            file: display_dir,
            line: 0,
            message: format!("no {what} files (*.toml) found"),
        });
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

/// Loads every `*.toml` directly inside `dir` (subfolders such as `training/`
/// hold other kinds of file). Returns every problem found, not just the first.
pub fn load_dir(dir: &Path) -> Result<StandardsLibrary, Vec<StandardsError>> {
    parse_toml_dir(dir, "framework", parse_framework).map(StandardsLibrary::new)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    format: Spanned<i64>,
    id: Spanned<String>,
    name: Spanned<String>,
    version: Spanned<String>,
    validity_months: Spanned<i64>,
    audience: Spanned<String>,
    summary: Spanned<String>,
    illustrative: bool,
    #[serde(default)]
    areas: Vec<RawArea>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    id: Spanned<String>,
    title: Spanned<String>,
    summary: Option<Spanned<String>>,
    #[serde(default)]
    standards: Vec<RawStandard>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStandard {
    id: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    criteria: Vec<RawCriterion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    id: Spanned<String>,
    text: Spanned<String>,
    guidance: Spanned<String>,
    evidence: Spanned<String>,
    mandatory: bool,
    training: Option<RawTraining>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraining {
    programme: Spanned<String>,
    completion: Spanned<String>,
    share: Option<Spanned<f64>>,
    people: Option<Spanned<i64>>,
    category: Option<Spanned<String>>,
}

/// Collects problems with the line each one is on, for a framework file
/// here and a programme file in [`super::programmes`] (which adds its own
/// checks to it).
pub(crate) struct Checker<'a> {
    pub(crate) file: &'a str,
    text: &'a str,
    pub(crate) errors: Vec<StandardsError>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        Checker {
            file,
            text,
            errors: Vec::new(),
        }
    }

    /// The file's content as `T` and its `format` checked, or `None` (with
    /// the error noted) when it is not TOML of that shape.
    pub(crate) fn read<T: serde::de::DeserializeOwned>(
        &mut self,
        format: fn(&T) -> &Spanned<i64>,
        supported: i64,
    ) -> Option<T> {
        let raw: T = match read_toml(self.text) {
            Ok(raw) => raw,
            Err((offset, message)) => {
                self.error_at(offset, message);
                return None;
            }
        };
        if let Some((offset, message)) = unsupported_format(format(&raw), supported) {
            self.error_at(offset, message);
        }
        Some(raw)
    }

    /// `value` if nothing was wrong, or every problem found.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, Vec<StandardsError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }

    pub(crate) fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
    }

    pub(crate) fn error_at(&mut self, offset: usize, message: impl Into<String>) {
        let line = self.line_of(offset);
        self.errors.push(StandardsError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        });
    }

    /// A whole number that must lie within `range`; `None`, with the error
    /// noted, when it does not.
    pub(crate) fn number_within(
        &mut self,
        value: &Spanned<i64>,
        what: &str,
        range: RangeInclusive<i64>,
    ) -> Option<u32> {
        let number = *value.get_ref();
        if !range.contains(&number) {
            self.error_at(
                value.span().start,
                format!(
                    "{what} must be between {} and {}, not {number}",
                    range.start(),
                    range.end()
                ),
            );
            return None;
        }
        u32::try_from(number).ok()
    }

    /// Each version of a `what` ("framework") has its own file, added beside
    /// the old one and named `{id}-{version}.toml`; `at` is where the id is.
    pub(crate) fn file_name_fits(&mut self, file_name: &str, id: &str, version: &str, at: usize, what: &str) {
        let expected_name = format!("{id}-{version}.toml");
        if !id.is_empty() && !version.is_empty() && file_name != expected_name {
            self.error_at(
                at,
                format!("the file must be named \"{expected_name}\" (each version of a {what} has its own file, added beside the old one)"),
            );
        }
    }

    /// A text that must say something; returns it trimmed.
    pub(crate) fn text(&mut self, value: &Spanned<String>, what: &str) -> String {
        let trimmed = value.get_ref().trim();
        if trimmed.is_empty() {
            self.error_at(value.span().start, format!("{what} must not be empty"));
        }
        trimmed.to_string()
    }

    /// An id that is unique among its kind and, below the top level, starts
    /// with its parent's id and a dot ("1.2" in area "1").
    fn id(&mut self, value: &Spanned<String>, kind: &str, parent: Option<&str>, seen: &mut HashSet<String>) -> String {
        let id = self.text(value, &format!("{kind} id"));
        let offset = value.span().start;
        if !id.is_empty() && !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
            self.error_at(
                offset,
                format!("{kind} id \"{id}\" may use only letters, digits, dots and hyphens"),
            );
        }
        if let Some(parent) = parent {
            if !id.starts_with(&format!("{parent}.")) {
                self.error_at(offset, format!("{kind} id \"{id}\" must start with \"{parent}.\""));
            }
        }
        if !seen.insert(id.clone()) {
            self.error_at(offset, format!("duplicate {kind} id \"{id}\""));
        }
        id
    }
}

impl Checker<'_> {
    /// A criterion's training requirement as written; whether its programme
    /// and completion exist is [`training_requirement::check_references`]'s
    /// business, once the programmes are loaded too.
    fn training(&mut self, criterion_id: &str, raw: &RawTraining) -> Option<TrainingRequirement> {
        let at = raw.programme.span().start;
        let programme = self.text(&raw.programme, "training programme");
        let completion = self.text(&raw.completion, "training completion");
        let category = raw.category.as_ref().map(|c| {
            let category = training_requirement::normalise_category(c.get_ref());
            if category.is_none() {
                self.error_at(
                    c.span().start,
                    format!("criterion {criterion_id}: training category must not be empty"),
                );
            }
            category
        });
        let share = raw.share.as_ref().map(|s| *s.get_ref());
        let people = raw.people.as_ref().map(|p| *p.get_ref());
        let problems = training_requirement::shape_problems(criterion_id, share, people);
        let valid = problems.is_empty() && !programme.is_empty() && !completion.is_empty();
        for problem in problems {
            let offset = raw
                .share
                .as_ref()
                .map(|s| s.span().start)
                .or(raw.people.as_ref().map(|p| p.span().start))
                .unwrap_or(at);
            self.error_at(offset, problem);
        }
        let amount = match (share, people) {
            (Some(share), None) => Amount::Share(share),
            (None, Some(people)) => Amount::People(u32::try_from(people).ok()?),
            _ => return None,
        };
        let line = self.line_of(at);
        valid.then(|| TrainingRequirement {
            programme,
            completion,
            amount,
            category: category.flatten(),
            line,
        })
    }
}

/// Deserialises a standards file; a syntax or shape error comes back as the
/// byte offset it was found at and a one-line message, ready for `file:line:`.
fn read_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, (usize, String)> {
    toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        // toml's messages can run over several lines; keep `file:line: message` on one.
        (offset, e.message().split_whitespace().collect::<Vec<_>>().join(" "))
    })
}

/// The problem with a file's `format` number, if it is not one this build reads.
fn unsupported_format(format: &Spanned<i64>, supported: i64) -> Option<(usize, String)> {
    (*format.get_ref() != supported).then(|| {
        (
            format.span().start,
            format!(
                "format {} is not supported (this version of qmtrack reads format {supported})",
                format.get_ref()
            ),
        )
    })
}

/// Parses and checks one framework file. `file` is how errors name it;
/// `file_name` is its bare name, which must be `{id}-{version}.toml`.
pub fn parse_framework(file: &str, file_name: &str, text: &str) -> Result<Framework, Vec<StandardsError>> {
    let mut check = Checker::new(file, text);
    let Some(raw) = check.read(|raw: &RawFramework| &raw.format, FORMAT_VERSION) else {
        return Err(check.errors);
    };
    let id = check.text(&raw.id, "id");
    if !id.is_empty()
        && !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        check.error_at(
            raw.id.span().start,
            format!("id \"{id}\" may use only lower-case letters, digits and hyphens"),
        );
    }
    let name = check.text(&raw.name, "name");
    let version = check.text(&raw.version, "version");
    check.file_name_fits(file_name, &id, &version, raw.id.span().start, "framework");
    let validity_months = check.number_within(&raw.validity_months, "validity_months", 1..=120);
    let audience = check.text(&raw.audience, "audience");
    let summary = check.text(&raw.summary, "summary");

    if raw.areas.is_empty() {
        check.error_at(0, "a framework needs at least one [[areas]]");
    }
    let (mut area_ids, mut standard_ids, mut criterion_ids) = (HashSet::new(), HashSet::new(), HashSet::new());
    let mut areas = Vec::new();
    for raw_area in &raw.areas {
        let area_id = check.id(&raw_area.id, "area", None, &mut area_ids);
        let title = check.text(&raw_area.title, "area title");
        let area_summary = raw_area.summary.as_ref().map(|s| check.text(s, "area summary"));
        if raw_area.standards.is_empty() {
            check.error_at(
                raw_area.id.span().start,
                format!("area \"{area_id}\" has no [[areas.standards]]"),
            );
        }
        let mut standards = Vec::new();
        for raw_standard in &raw_area.standards {
            let standard_id = check.id(&raw_standard.id, "standard", Some(&area_id), &mut standard_ids);
            let standard_title = check.text(&raw_standard.title, "standard title");
            if raw_standard.criteria.is_empty() {
                check.error_at(
                    raw_standard.id.span().start,
                    format!("standard \"{standard_id}\" has no [[areas.standards.criteria]]"),
                );
            }
            let mut criteria = Vec::new();
            for raw_criterion in &raw_standard.criteria {
                let id = check.id(&raw_criterion.id, "criterion", Some(&standard_id), &mut criterion_ids);
                let training = raw_criterion.training.as_ref().and_then(|raw| check.training(&id, raw));
                criteria.push(Criterion {
                    id,
                    text: check.text(&raw_criterion.text, "criterion text"),
                    guidance: check.text(&raw_criterion.guidance, "criterion guidance"),
                    evidence: check.text(&raw_criterion.evidence, "criterion evidence"),
                    mandatory: raw_criterion.mandatory,
                    training,
                });
            }
            standards.push(Standard {
                id: standard_id,
                title: standard_title,
                criteria,
            });
        }
        areas.push(Area {
            id: area_id,
            title,
            summary: area_summary,
            standards,
        });
    }
    let framework = Framework {
        id,
        name,
        version,
        validity_months: validity_months.unwrap_or(0),
        audience,
        summary,
        illustrative: raw.illustrative,
        areas,
        file: file.to_string(),
    };
    if !raw.areas.is_empty() && framework.mandatory_count() == 0 && framework.criterion_count() > 0 {
        check.error_at(0, "a framework needs at least one mandatory criterion");
    }
    check.finish(framework)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"format = 1
id = "test-mark"
name = "Test mark"
version = "1.0"
validity_months = 36
audience = "Anyone"
summary = "A framework for tests."
illustrative = true

[[areas]]
id = "1"
title = "Policies"

[[areas.standards]]
id = "1.1"
title = "There is a policy"

[[areas.standards.criteria]]
id = "1.1.1"
text = "A written policy exists."
guidance = "Look for a dated policy."
evidence = "The policy."
mandatory = true

[[areas.standards.criteria]]
id = "1.1.2"
text = "Staff know the policy."
guidance = "Ask staff."
evidence = "Briefing records."
mandatory = false
"#;

    fn parse(text: &str) -> Result<Framework, Vec<StandardsError>> {
        parse_framework("standards/test-mark-1.0.toml", "test-mark-1.0.toml", text)
    }

    fn only_error(text: &str) -> String {
        let errors = parse(text).expect_err("should fail");
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors[0].to_string()
    }

    #[test]
    fn a_good_file_loads_with_its_structure() {
        let framework = parse(GOOD).expect("valid");
        assert_eq!(framework.id, "test-mark");
        assert_eq!(framework.areas.len(), 1);
        assert_eq!(framework.criterion_count(), 2);
        assert_eq!(framework.mandatory_count(), 1);
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let broken = GOOD.replace("title = \"Policies\"", "title = \"Policies");
        assert!(only_error(&broken).starts_with("standards/test-mark-1.0.toml:12: "));
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let broken = GOOD.replace("mandatory = false", "mandatory = false\nweight = 3");
        let error = only_error(&broken);
        assert!(error.starts_with("standards/test-mark-1.0.toml:"), "{error}");
        assert!(error.contains("weight"), "{error}");
        assert!(error.contains(":31:"), "{error}");
    }

    #[test]
    fn a_missing_key_is_reported() {
        let broken = GOOD.replace("guidance = \"Ask staff.\"\n", "");
        assert!(only_error(&broken).contains("guidance"));
    }

    #[test]
    fn duplicate_and_misplaced_ids_name_their_lines() {
        let broken = GOOD.replace("id = \"1.1.2\"", "id = \"1.1.1\"");
        assert_eq!(
            only_error(&broken),
            "standards/test-mark-1.0.toml:26: duplicate criterion id \"1.1.1\""
        );
        let broken = GOOD.replace("id = \"1.1.2\"", "id = \"2.1.2\"");
        assert_eq!(
            only_error(&broken),
            "standards/test-mark-1.0.toml:26: criterion id \"2.1.2\" must start with \"1.1.\""
        );
    }

    #[test]
    fn empty_text_and_bad_validity_are_reported() {
        let broken = GOOD.replace("text = \"Staff know the policy.\"", "text = \"  \"");
        assert_eq!(
            only_error(&broken),
            "standards/test-mark-1.0.toml:27: criterion text must not be empty"
        );
        let broken = GOOD.replace("validity_months = 36", "validity_months = 0");
        assert!(only_error(&broken).starts_with("standards/test-mark-1.0.toml:5: validity_months"));
    }

    #[test]
    fn the_file_name_must_carry_id_and_version() {
        let errors = parse_framework("x/other.toml", "other.toml", GOOD).expect_err("misnamed");
        assert!(errors[0].message.contains("test-mark-1.0.toml"));
    }

    #[test]
    fn no_mandatory_criterion_is_refused() {
        let broken = GOOD.replace("mandatory = true", "mandatory = false");
        assert!(only_error(&broken).contains("at least one mandatory criterion"));
    }

    const TRAINED: &str = "mandatory = false\n\n[areas.standards.criteria.training]\nprogramme = \"dva-awareness\"\ncompletion = \"aware\"\n";

    #[test]
    fn a_training_requirement_is_read_with_its_line() {
        let text = GOOD.replace(
            "mandatory = false\n",
            &format!("{TRAINED}share = 0.8\ncategory = \" Frontline \"\n"),
        );
        let framework = parse(&text).expect("valid");
        let criterion = framework.criteria().find(|c| c.id == "1.1.2").expect("criterion");
        let training = criterion.training.as_ref().expect("training");
        assert_eq!(training.programme, "dva-awareness");
        assert_eq!(training.completion, "aware");
        assert_eq!(training.amount, Amount::Share(0.8));
        assert_eq!(training.category.as_deref(), Some("frontline"));
        assert_eq!(training.line, 33);
        assert!(framework.criteria().next().is_some_and(|c| c.training.is_none()));
    }

    #[test]
    fn a_whole_share_may_be_written_as_an_integer() {
        // Framework authors write "share = 1" for all staff as often as "1.0".
        let text = GOOD.replace("mandatory = false\n", &format!("{TRAINED}share = 1\n"));
        let framework = parse(&text).expect("valid");
        let criterion = framework.criteria().find(|c| c.id == "1.1.2").expect("criterion");
        let training = criterion.training.as_ref().expect("training");
        assert_eq!(training.amount, Amount::Share(1.0));
    }

    #[test]
    fn a_training_requirement_must_say_how_many() {
        let both = GOOD.replace("mandatory = false\n", &format!("{TRAINED}share = 0.8\npeople = 2\n"));
        assert!(only_error(&both)
            .contains("criterion 1.1.2: a training requirement gives either share or people, not both"));
        let neither = GOOD.replace("mandatory = false\n", TRAINED);
        assert!(only_error(&neither)
            .starts_with("standards/test-mark-1.0.toml:33: criterion 1.1.2: a training requirement needs"));
        let big = GOOD.replace("mandatory = false\n", &format!("{TRAINED}share = 1.5\n"));
        assert!(only_error(&big).contains(":35: criterion 1.1.2: share must be more than 0 and at most 1"));
        let none = GOOD.replace("mandatory = false\n", &format!("{TRAINED}people = 0\n"));
        assert!(only_error(&none).contains("people must be at least 1"));
        let unknown = GOOD.replace("mandatory = false\n", &format!("{TRAINED}people = 1\nshare_of = 2\n"));
        assert!(only_error(&unknown).contains("share_of"));
    }

    #[test]
    fn training_references_are_checked_against_the_programmes() {
        let programmes = crate::domain::programmes::shipped();
        let good = GOOD.replace("mandatory = false\n", &format!("{TRAINED}people = 1\n"));
        let library = StandardsLibrary::new(vec![parse(&good).expect("valid")]);
        assert!(training_requirement::check_references(&library, &programmes).is_empty());
        let wrong = good.replace("completion = \"aware\"", "completion = \"expert\"");
        let library = StandardsLibrary::new(vec![parse(&wrong).expect("valid shape")]);
        let errors = training_requirement::check_references(&library, &programmes);
        assert_eq!(
            errors[0].to_string(),
            "standards/test-mark-1.0.toml:33: criterion 1.1.2: programme \"dva-awareness\" has no completion \"expert\" (it has: aware)"
        );
        let unknown = good.replace("programme = \"dva-awareness\"", "programme = \"juggling\"");
        let library = StandardsLibrary::new(vec![parse(&unknown).expect("valid shape")]);
        let errors = training_requirement::check_references(&library, &programmes);
        assert!(
            errors[0]
                .message
                .contains("training programme \"juggling\" is not one of"),
            "{errors:?}"
        );
    }

    #[test]
    fn versions_compare_numerically_and_current_is_newest() {
        assert_eq!(compare_versions("2024.9", "2024.10"), Ordering::Less);
        let mut old = parse(GOOD).expect("valid");
        old.version = "1.9".into();
        let mut new = old.clone();
        new.version = "1.10".into();
        let library = StandardsLibrary::new(vec![new, old]);
        assert_eq!(library.current().len(), 1);
        assert_eq!(
            library.current_version("test-mark").map(|f| f.version.as_str()),
            Some("1.10")
        );
        assert_eq!(library.versions("test-mark").len(), 2);
    }

    #[test]
    fn the_shipped_standards_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("standards");
        let library = load_dir(&dir).unwrap_or_else(|errors| {
            panic!(
                "{}",
                errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
            )
        });
        let daha = library.current_version("daha").expect("DAHA ships");
        let titles: Vec<_> = daha.areas.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Policies & Procedures",
                "Case Management",
                "Risk Management",
                "Inclusivity & Accessibility",
                "Perpetrator Management",
                "Partnership Working",
                "Training",
                "Publicity & Awareness"
            ]
        );
        assert!(library.all().len() >= 4);
        assert!(library.all().iter().all(|f| f.illustrative));
    }
}
