//! Training programmes (domestic abuse ambassadors, IRIS, Safe & Together,
//! briefings), loaded from `standards/training/*.toml`. The format is
//! documented in `standards/training/README.md`. Like the frameworks, every
//! problem is reported as `file:line: message` and all problems are collected,
//! so whoever edits a file can fix them in one pass.
//!
//! Besides the model, this module decides which module a sign-in sheet means:
//! sheets name courses in many ways ("IRIS Clinical Training - Session 1",
//! "Day 2 Interviewing"), so modules carry synonyms and [`ProgrammeLibrary::match_module`]
//! matches text against them.

use crate::domain::standards::{Checker, StandardsError};
use crate::domain::versions::{Versioned, Versions};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use toml::Spanned;

pub const FORMAT_VERSION: i64 = 1;

/// Refresher periods beyond ten years are almost certainly a typo (months
/// written as days, say), and the frameworks use the same bound.
const MAX_REFRESHER_MONTHS: i64 = 120;

/// A requirement such as "at least 1 admin person" with a huge number is a
/// typo; no practice or team has this many staff on one course.
const MAX_AT_LEAST: i64 = 1000;

/// One module is one session on one date, so it cannot last longer than a day.
const MAX_MODULE_HOURS: f64 = 24.0;

#[derive(Debug, Clone, Serialize)]
pub struct Programme {
    pub id: String,
    pub name: String,
    pub version: String,
    pub audience: String,
    pub summary: String,
    /// Default refresher period for the programme's completions; `None`
    /// means completions never lapse unless a completion sets its own.
    pub refresher_months: Option<u32>,
    pub modules: Vec<Module>,
    pub completions: Vec<Completion>,
    pub organisation_rule: Option<OrganisationRule>,
    /// The form attendees answer after a session, if the programme has one.
    pub evaluation: Option<crate::domain::evaluation::EvaluationForm>,
    /// The file it was loaded from, for messages.
    pub file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Module {
    pub id: String,
    pub title: String,
    /// Other names sign-in sheets use for this module.
    pub synonyms: Vec<String>,
    pub hours: Option<f64>,
}

/// A named outcome a person achieves by attending modules.
#[derive(Debug, Clone, Serialize)]
pub struct Completion {
    pub id: String,
    pub title: String,
    /// Every one of these must be attended (a partial attendance does not count).
    pub modules: Vec<String>,
    /// Id of a completion that must be complete before any of this
    /// completion's modules are attended (Safe & Together: CORE before Supervisor).
    pub after: Option<String>,
    /// Modules whose attendance renews this completion.
    pub refreshed_by: Vec<String>,
    /// Overrides the programme's refresher period; see [`Programme::refresher_months_of`].
    pub refresher_months: Option<u32>,
}

/// When an organisation counts as fully trained (IRIS practices).
#[derive(Debug, Clone, Serialize)]
pub struct OrganisationRule {
    pub title: String,
    /// The rule in plain English, shown in the app beside the figures.
    pub explanation: String,
    pub requires: Vec<Requirement>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Requirement {
    pub completion: String,
    pub at_least: u32,
    /// Everyone in the organisation who attended any module of the completion
    /// must have completed it, so a half-trained clinician holds the practice back.
    pub everyone_who_started: bool,
}

impl Programme {
    pub fn module(&self, id: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.id == id)
    }

    pub fn completion(&self, id: &str) -> Option<&Completion> {
        self.completions.iter().find(|c| c.id == id)
    }

    /// The refresher period that applies to a completion: its own, else the programme's.
    pub fn refresher_months_of(&self, completion: &Completion) -> Option<u32> {
        completion.refresher_months.or(self.refresher_months)
    }

    /// The module of this programme that `text` names, by the same rules as
    /// [`ProgrammeLibrary::match_module`]. For sheets already known to be about
    /// this programme, such as the day columns of a CORE cohort grid.
    pub fn module_by_text(&self, text: &str) -> Option<&Module> {
        let mut phrases = Vec::new();
        for (index, module) in self.modules.iter().enumerate() {
            push_phrases(&mut phrases, index, module);
        }
        match_phrases(text, &phrases).and_then(|index| self.modules.get(index))
    }
}

/// Which module some text names. Always a current version of a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleMatch {
    pub programme_id: String,
    pub programme_version: String,
    pub module_id: String,
}

/// All loaded programmes, every version, ordered by id then version.
#[derive(Debug, Clone, Default)]
pub struct ProgrammeLibrary {
    programmes: Versions<Programme>,
    /// Normalised names of the modules of current versions, built once
    /// because imports match every title and heading cell against them.
    /// Keys are (index into `programmes`, index into its modules).
    phrases: Vec<Phrase<(usize, usize)>>,
}

impl Versioned for Programme {
    fn id(&self) -> &str {
        &self.id
    }

    fn version(&self) -> &str {
        &self.version
    }
}

impl ProgrammeLibrary {
    pub fn new(programmes: Vec<Programme>) -> Self {
        let programmes = Versions::new(programmes);
        let mut phrases = Vec::new();
        for (programme_index, programme) in programmes.current_indexed() {
            for (module_index, module) in programme.modules.iter().enumerate() {
                push_phrases(&mut phrases, (programme_index, module_index), module);
            }
        }
        Self { programmes, phrases }
    }

    pub fn all(&self) -> &[Programme] {
        self.programmes.all()
    }

    pub fn get(&self, id: &str, version: &str) -> Option<&Programme> {
        self.programmes.get(id, version)
    }

    /// The newest version of each programme: what new sessions use.
    pub fn current(&self) -> Vec<&Programme> {
        self.programmes.current()
    }

    pub fn current_version(&self, id: &str) -> Option<&Programme> {
        self.programmes.current_version(id)
    }

    pub fn versions(&self, id: &str) -> Vec<&Programme> {
        self.programmes.versions(id)
    }

    /// The module of a current programme that `text` (a sheet title, a course
    /// column, a day heading) names, or `None` when nothing or more than one
    /// module fits. Comparison ignores case, punctuation and spacing, and
    /// reads "&" as "and". An exact title or synonym wins, then an exact id;
    /// otherwise a module whose title or synonym appears inside the text, or
    /// contains the text, if it is the only one. When several modules' names
    /// appear inside the text and one of them holds all the others
    /// ("DA Ambassador initial training day 2" holds day 1's "DA Ambassador
    /// initial training"), the longer, more specific one wins.
    pub fn match_module(&self, text: &str) -> Option<ModuleMatch> {
        let (programme_index, module_index) = match_phrases(text, &self.phrases)?;
        let programme = self.programmes.all().get(programme_index)?;
        let module = programme.modules.get(module_index)?;
        Some(ModuleMatch {
            programme_id: programme.id.clone(),
            programme_version: programme.version.clone(),
            module_id: module.id.clone(),
        })
    }
}

/// Lower-case, "&" as "and", apostrophes dropped ("Children's" and
/// "Childrens" are the same course), any other punctuation as a space, and
/// single spaces: so "S&T CORE - Day 1" and "s and t core day 1" compare equal.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '&' {
            out.push_str(" and ");
        } else if c == '\'' || c == '\u{2019}' {
            // Dropped rather than spaced: "O'Brien" stays one word.
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else {
            out.push(' ');
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, PartialEq)]
enum PhraseKind {
    /// A title or synonym.
    Name,
    /// A module id: matched only when the text is exactly the id, because
    /// ids such as "refresher" or "overview" are too general to look for
    /// inside other text.
    Id,
}

#[derive(Debug, Clone)]
struct Phrase<K> {
    key: K,
    text: String,
    kind: PhraseKind,
}

fn push_phrases<K: Copy>(phrases: &mut Vec<Phrase<K>>, key: K, module: &Module) {
    for name in std::iter::once(&module.title).chain(module.synonyms.iter()) {
        let text = normalise(name);
        if !text.is_empty() {
            phrases.push(Phrase {
                key,
                text,
                kind: PhraseKind::Name,
            });
        }
    }
    let id = normalise(&module.id);
    if !id.is_empty() {
        phrases.push(Phrase {
            key,
            text: id,
            kind: PhraseKind::Id,
        });
    }
}

/// Whether `needle` occurs in `hay` as whole words (both already normalised),
/// so "day 1" is not found in "day 12".
fn contains_words(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let bytes = hay.as_bytes();
    // Word starts follow a space, which is ASCII, so every start is a char boundary.
    (0..hay.len())
        .filter(|&start| start == 0 || bytes.get(start - 1) == Some(&b' '))
        .any(|start| {
            hay.get(start..).is_some_and(|rest| rest.starts_with(needle))
                && matches!(bytes.get(start + needle.len()), None | Some(b' '))
        })
}

fn word_count(text: &str) -> usize {
    text.split(' ').count()
}

fn push_distinct<K: PartialEq>(keys: &mut Vec<K>, key: K) {
    if !keys.contains(&key) {
        keys.push(key);
    }
}

/// The one key whose phrases fit `text` best; see [`ProgrammeLibrary::match_module`].
fn match_phrases<K: Copy + PartialEq>(text: &str, phrases: &[Phrase<K>]) -> Option<K> {
    let text = normalise(text);
    if text.is_empty() {
        return None;
    }
    for kind in [PhraseKind::Name, PhraseKind::Id] {
        let mut exact = Vec::new();
        for phrase in phrases.iter().filter(|p| p.kind == kind && p.text == text) {
            push_distinct(&mut exact, phrase.key);
        }
        match exact.as_slice() {
            [] => {}
            [only] => return Some(*only),
            // Two modules answer to exactly this text: no guess can be trusted.
            _ => return None,
        }
    }

    // Containment works on at least two words on the contained side: a
    // single word such as "Practice" or "Supervisor" is a column heading or a
    // job title far more often than a course, so it must match exactly.
    let text_words = word_count(&text);
    let mut inside: Vec<(K, &str)> = Vec::new();
    let mut keys: Vec<K> = Vec::new();
    let mut around: Vec<K> = Vec::new();
    for phrase in phrases.iter().filter(|p| p.kind == PhraseKind::Name) {
        if word_count(&phrase.text) >= 2 && contains_words(&text, &phrase.text) {
            inside.push((phrase.key, &phrase.text));
            push_distinct(&mut keys, phrase.key);
        } else if text_words >= 2 && contains_words(&phrase.text, &text) {
            push_distinct(&mut around, phrase.key);
            push_distinct(&mut keys, phrase.key);
        }
    }
    if let [only] = keys.as_slice() {
        return Some(*only);
    }
    // A module is less specific than another when everything of it found in
    // the text lies within a longer name of the other that was also found.
    let dominated = |key: K| {
        !around.contains(&key)
            && inside.iter().filter(|(k, _)| *k == key).all(|(_, mine)| {
                inside
                    .iter()
                    .any(|(other, theirs)| *other != key && theirs.len() > mine.len() && contains_words(theirs, mine))
            })
    };
    let remaining: Vec<K> = keys.iter().copied().filter(|key| !dominated(*key)).collect();
    match remaining.as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

/// The programmes this repository ships in `standards/training/`, for
/// tests: a file that does not load fails the test with its every problem.
#[cfg(test)]
pub(crate) fn shipped() -> ProgrammeLibrary {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("standards").join("training");
    load_dir(&dir).unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
        )
    })
}

/// Loads every `*.toml` directly inside `dir` (normally `standards/training/`).
/// Returns every problem found, not just the first.
pub fn load_dir(dir: &Path) -> Result<ProgrammeLibrary, Vec<StandardsError>> {
    let parsed = crate::domain::standards::parse_toml_dir(dir, "training programme", parse_with_names)?;
    let mut errors = Vec::new();
    let (programmes, names): (Vec<Programme>, Vec<Vec<NameAt>>) = parsed.into_iter().unzip();
    let library = ProgrammeLibrary::new(programmes);
    check_names_across_programmes(&library, &names, &mut errors);
    if errors.is_empty() {
        Ok(library)
    } else {
        Err(errors)
    }
}

/// A module title or synonym and where it was written, for checks that span files.
#[derive(Debug, Clone)]
struct NameAt {
    file: String,
    line: usize,
    written: String,
    normalised: String,
    programme_id: String,
    module_id: String,
}

/// A name shared by modules of two different programmes would make every
/// sheet that uses it unmatched, so it is refused when the files load rather
/// than discovered at import time. Only current versions are matched, so
/// only they are compared.
fn check_names_across_programmes(library: &ProgrammeLibrary, names: &[Vec<NameAt>], errors: &mut Vec<StandardsError>) {
    let current_files: HashSet<&str> = library.current().iter().map(|p| p.file.as_str()).collect();
    let mut seen: HashMap<&str, &NameAt> = HashMap::new();
    let mut current: Vec<&NameAt> = names
        .iter()
        .flatten()
        .filter(|name| current_files.contains(name.file.as_str()))
        .collect();
    current.sort_by(|a, b| a.file.cmp(&b.file).then(a.line.cmp(&b.line)));
    for name in current {
        match seen.get(name.normalised.as_str()) {
            Some(first) if first.programme_id != name.programme_id => errors.push(StandardsError {
                file: name.file.clone(),
                line: name.line,
                message: format!(
                    "\"{}\" (module \"{}\") is also a name of module \"{}\" of programme \"{}\" ({}:{}); a sheet using it could not be matched",
                    name.written, name.module_id, first.module_id, first.programme_id, first.file, first.line
                ),
            }),
            Some(_) => {}
            None => {
                seen.insert(&name.normalised, name);
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgramme {
    format: Spanned<i64>,
    id: Spanned<String>,
    name: Spanned<String>,
    version: Spanned<String>,
    audience: Spanned<String>,
    summary: Spanned<String>,
    refresher_months: Option<Spanned<i64>>,
    #[serde(default)]
    modules: Vec<RawModule>,
    #[serde(default)]
    completions: Vec<RawCompletion>,
    organisation_rule: Option<RawOrganisationRule>,
    evaluation: Option<Spanned<crate::domain::evaluation::RawEvaluation>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    id: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    synonyms: Vec<Spanned<String>>,
    hours: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCompletion {
    id: Spanned<String>,
    title: Spanned<String>,
    modules: Spanned<Vec<Spanned<String>>>,
    after: Option<Spanned<String>>,
    #[serde(default)]
    refreshed_by: Vec<Spanned<String>>,
    refresher_months: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganisationRule {
    title: Spanned<String>,
    explanation: Spanned<String>,
    #[serde(default)]
    requires: Vec<RawRequirement>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    completion: Spanned<String>,
    at_least: Option<Spanned<i64>>,
    #[serde(default)]
    everyone_who_started: bool,
}

/// The checks only a programme file has.
impl Checker<'_> {
    /// Ids end up in URLs and in the database, so they keep to a plain alphabet.
    pub(crate) fn plain_id(&mut self, value: &Spanned<String>, kind: &str, seen: &mut HashSet<String>) -> String {
        let id = self.text(value, &format!("{kind} id"));
        let offset = value.span().start;
        if !id.is_empty()
            && !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            self.error_at(
                offset,
                format!("{kind} id \"{id}\" may use only lower-case letters, digits and hyphens"),
            );
        }
        if !id.is_empty() && !seen.insert(id.clone()) {
            self.error_at(offset, format!("duplicate {kind} id \"{id}\""));
        }
        id
    }

    fn refresher_months(&mut self, value: &Option<Spanned<i64>>) -> Option<u32> {
        self.number_within(value.as_ref()?, "refresher_months", 1..=MAX_REFRESHER_MONTHS)
    }

    /// A reference to a module of this programme, by id.
    fn module_ref(&mut self, value: &Spanned<String>, modules: &HashSet<String>, context: &str) -> String {
        let id = value.get_ref().trim().to_string();
        if !modules.contains(&id) {
            self.error_at(value.span().start, format!("{context} names unknown module \"{id}\""));
        }
        id
    }

    /// The modules a list names, each once: an unknown module or one listed
    /// again is reported, `context` saying whose list it is.
    fn module_list(&mut self, values: &[Spanned<String>], modules: &HashSet<String>, context: &str) -> Vec<String> {
        let mut listed: Vec<String> = Vec::new();
        for value in values {
            let module_id = self.module_ref(value, modules, context);
            if listed.contains(&module_id) {
                self.error_at(
                    value.span().start,
                    format!("{context} lists module \"{module_id}\" twice"),
                );
            } else {
                listed.push(module_id);
            }
        }
        listed
    }
}

/// Parses and checks one programme file. `file` is how errors name it;
/// `file_name` is its bare name, which must be `{id}-{version}.toml`.
pub fn parse_programme(file: &str, file_name: &str, text: &str) -> Result<Programme, Vec<StandardsError>> {
    parse_with_names(file, file_name, text).map(|(programme, _)| programme)
}

fn parse_with_names(file: &str, file_name: &str, text: &str) -> Result<(Programme, Vec<NameAt>), Vec<StandardsError>> {
    let mut check = Checker::new(file, text);
    let Some(raw) = check.read(|raw: &RawProgramme| &raw.format, FORMAT_VERSION) else {
        return Err(check.errors);
    };
    let id = check.plain_id(&raw.id, "programme", &mut HashSet::new());
    let name = check.text(&raw.name, "name");
    let version = check.text(&raw.version, "version");
    check.file_name_fits(file_name, &id, &version, raw.id.span().start, "programme");
    let audience = check.text(&raw.audience, "audience");
    let summary = check.text(&raw.summary, "summary");
    let refresher_months = check.refresher_months(&raw.refresher_months);

    let (modules, names) = check_modules(&mut check, &raw, &id);
    let module_ids: HashSet<String> = modules.iter().map(|m| m.id.clone()).collect();
    let completions = check_completions(&mut check, &raw, &module_ids);
    let organisation_rule = raw
        .organisation_rule
        .as_ref()
        .map(|rule| check_organisation_rule(&mut check, rule, &completions));
    let evaluation = raw
        .evaluation
        .as_ref()
        .map(|form| crate::domain::evaluation::check_evaluation(&mut check, form.get_ref(), form.span().start));

    let programme = Programme {
        id,
        name,
        version,
        audience,
        summary,
        refresher_months,
        modules,
        completions,
        organisation_rule,
        evaluation,
        file: file.to_string(),
    };
    check.finish((programme, names))
}

fn check_modules(check: &mut Checker, raw: &RawProgramme, programme_id: &str) -> (Vec<Module>, Vec<NameAt>) {
    if raw.modules.is_empty() {
        check.error_at(0, "a programme needs at least one [[modules]]");
    }
    let mut ids = HashSet::new();
    let mut modules = Vec::new();
    let mut names: Vec<NameAt> = Vec::new();
    // Normalised title, synonym or id → the module it belongs to, so that no
    // text can name two modules of one programme.
    let mut owner: HashMap<String, String> = HashMap::new();
    for raw_module in &raw.modules {
        let id = check.plain_id(&raw_module.id, "module", &mut ids);
        let title = check.text(&raw_module.title, "module title");
        let mut synonyms = Vec::new();
        for synonym in &raw_module.synonyms {
            synonyms.push(check.text(synonym, "synonym"));
        }
        let hours = raw_module.hours.as_ref().and_then(|hours| {
            let value = *hours.get_ref();
            if value.is_finite() && value > 0.0 && value <= MAX_MODULE_HOURS {
                Some(value)
            } else {
                check.error_at(
                    hours.span().start,
                    format!("hours must be more than 0 and at most {MAX_MODULE_HOURS}, not {value}"),
                );
                None
            }
        });

        let id_spanned = std::iter::once((&raw_module.id, "id"));
        let named =
            std::iter::once((&raw_module.title, "title")).chain(raw_module.synonyms.iter().map(|s| (s, "synonym")));
        for (value, what) in id_spanned.chain(named) {
            let written = value.get_ref().trim();
            if written.is_empty() {
                continue; // already reported as empty
            }
            let normalised = normalise(written);
            if normalised.is_empty() {
                check.error_at(
                    value.span().start,
                    format!("{what} \"{written}\" has no letters or digits, so no sheet could match it"),
                );
                continue;
            }
            match owner.get(&normalised) {
                Some(other) if *other != id => {
                    let message = format!(
                        "{what} \"{written}\" of module \"{id}\" is also a name of module \"{other}\"; a sheet using it could not be matched"
                    );
                    check.error_at(value.span().start, message);
                }
                Some(_) => {}
                None => {
                    owner.insert(normalised.clone(), id.clone());
                }
            }
            if what != "id" {
                names.push(NameAt {
                    file: check.file.to_string(),
                    line: check.line_of(value.span().start),
                    written: written.to_string(),
                    normalised,
                    programme_id: programme_id.to_string(),
                    module_id: id.clone(),
                });
            }
        }
        modules.push(Module {
            id,
            title,
            synonyms,
            hours,
        });
    }
    (modules, names)
}

fn check_completions(check: &mut Checker, raw: &RawProgramme, module_ids: &HashSet<String>) -> Vec<Completion> {
    if raw.completions.is_empty() {
        check.error_at(0, "a programme needs at least one [[completions]]");
    }
    let mut ids = HashSet::new();
    let mut completions = Vec::new();
    for raw_completion in &raw.completions {
        let id = check.plain_id(&raw_completion.id, "completion", &mut ids);
        let title = check.text(&raw_completion.title, "completion title");
        if raw_completion.modules.get_ref().is_empty() {
            check.error_at(
                raw_completion.modules.span().start,
                format!("completion \"{id}\" needs at least one module"),
            );
        }
        let modules = check.module_list(
            raw_completion.modules.get_ref(),
            module_ids,
            &format!("completion \"{id}\""),
        );
        let refreshed_by = check.module_list(
            &raw_completion.refreshed_by,
            module_ids,
            &format!("refreshed_by of completion \"{id}\""),
        );
        let refresher_months = check.refresher_months(&raw_completion.refresher_months);
        // Whether a period was written at all: a bad value is reported on its own line already.
        let lapses = raw_completion.refresher_months.is_some() || raw.refresher_months.is_some();
        if let Some(first) = raw_completion.refreshed_by.first() {
            if !lapses {
                check.error_at(
                    first.span().start,
                    format!("completion \"{id}\" has refreshed_by but never lapses; set refresher_months on it or on the programme"),
                );
            }
        }
        // `after = ""` is accepted as "no prerequisite" so a template with
        // every key written out still loads.
        let after = raw_completion
            .after
            .as_ref()
            .map(|a| a.get_ref().trim().to_string())
            .filter(|a| !a.is_empty());
        completions.push(Completion {
            id,
            title,
            modules,
            after,
            refreshed_by,
            refresher_months,
        });
    }
    check_prerequisites(check, raw, &completions);
    completions
}

/// `after` must name another completion of the programme, and following the
/// `after` links must never come back round (that person could never finish).
fn check_prerequisites(check: &mut Checker, raw: &RawProgramme, completions: &[Completion]) {
    let index_of = |id: &str| completions.iter().position(|c| c.id == id);
    let mut reported_cycles: HashSet<usize> = HashSet::new();
    for (index, (completion, raw_completion)) in completions.iter().zip(&raw.completions).enumerate() {
        let (Some(after), Some(raw_after)) = (&completion.after, &raw_completion.after) else {
            continue;
        };
        let offset = raw_after.span().start;
        if *after == completion.id {
            check.error_at(offset, format!("completion \"{after}\" cannot come after itself"));
            reported_cycles.insert(index);
            continue;
        }
        if index_of(after).is_none() {
            check.error_at(
                offset,
                format!(
                    "completion \"{}\" comes after unknown completion \"{after}\"",
                    completion.id
                ),
            );
            continue;
        }
        if reported_cycles.contains(&index) {
            continue;
        }
        // Each completion has at most one `after`, so the links form a chain;
        // walking it for at most `len` steps either ends or returns here.
        let mut path = vec![index];
        let mut next = index_of(after);
        while let Some(current) = next {
            if current == index {
                let names: Vec<&str> = path
                    .iter()
                    .chain(std::iter::once(&index))
                    .filter_map(|i| completions.get(*i).map(|c| c.id.as_str()))
                    .collect();
                check.error_at(
                    offset,
                    format!("completions come after each other in a circle: {}", names.join(" → ")),
                );
                reported_cycles.extend(path.iter().copied());
                break;
            }
            if path.contains(&current) || path.len() > completions.len() {
                break; // a circle that does not include this completion; reported at its own members
            }
            path.push(current);
            next = completions
                .get(current)
                .and_then(|c| c.after.as_deref())
                .and_then(index_of);
        }
    }
}

fn check_organisation_rule(
    check: &mut Checker,
    raw: &RawOrganisationRule,
    completions: &[Completion],
) -> OrganisationRule {
    let title = check.text(&raw.title, "organisation_rule title");
    let explanation = check.text(&raw.explanation, "organisation_rule explanation");
    if raw.requires.is_empty() {
        check.error_at(
            raw.title.span().start,
            "organisation_rule needs at least one [[organisation_rule.requires]]",
        );
    }
    let mut seen = HashSet::new();
    let mut requires = Vec::new();
    for raw_requirement in &raw.requires {
        let completion = raw_requirement.completion.get_ref().trim().to_string();
        let offset = raw_requirement.completion.span().start;
        if !completions.iter().any(|c| c.id == completion) {
            check.error_at(
                offset,
                format!("organisation_rule requires unknown completion \"{completion}\""),
            );
        } else if !seen.insert(completion.clone()) {
            check.error_at(
                offset,
                format!("organisation_rule requires completion \"{completion}\" twice"),
            );
        }
        let at_least = match &raw_requirement.at_least {
            None => 1,
            Some(value) => check.number_within(value, "at_least", 1..=MAX_AT_LEAST).unwrap_or(0),
        };
        requires.push(Requirement {
            completion,
            at_least,
            everyone_who_started: raw_requirement.everyone_who_started,
        });
    }
    OrganisationRule {
        title,
        explanation,
        requires,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"format = 1
id = "test-course"
name = "Test course"
version = "1.0"
audience = "Anyone"
summary = "A programme for tests."
refresher_months = 24

[[modules]]
id = "day-1"
title = "Day 1: basics"
synonyms = ["Test course day 1", "Basics day"]
hours = 6.5

[[modules]]
id = "day-2"
title = "Day 2: practice"
synonyms = ["Test course day 2"]

[[modules]]
id = "advanced"
title = "Advanced session"
hours = 3

[[modules]]
id = "network"
title = "Network meeting"

[[completions]]
id = "basic"
title = "Basic training"
modules = ["day-1", "day-2"]
refreshed_by = ["network"]

[[completions]]
id = "advanced"
title = "Advanced training"
modules = ["advanced"]
after = "basic"
refresher_months = 12

[organisation_rule]
title = "Team trained"
explanation = "One person has done the advanced training and everyone who started the basics finished them."
[[organisation_rule.requires]]
completion = "basic"
everyone_who_started = true
[[organisation_rule.requires]]
completion = "advanced"
at_least = 1
"#;

    const FILE: &str = "standards/training/test-course-1.0.toml";

    fn parse(text: &str) -> Result<Programme, Vec<StandardsError>> {
        parse_programme(FILE, "test-course-1.0.toml", text)
    }

    fn only_error(text: &str) -> String {
        let errors = parse(text).expect_err("should fail");
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors[0].to_string()
    }

    /// The one error of the good file with `find` replaced by `replace`.
    fn error_after(find: &str, replace: &str) -> String {
        only_error(&GOOD.replace(find, replace))
    }

    #[test]
    fn a_good_file_loads_with_its_structure() {
        let programme = parse(GOOD).expect("valid");
        assert_eq!(programme.id, "test-course");
        assert_eq!(programme.modules.len(), 4);
        assert_eq!(programme.module("day-1").and_then(|m| m.hours), Some(6.5));
        // An integer is read as a number of hours too.
        assert_eq!(programme.module("advanced").and_then(|m| m.hours), Some(3.0));
        let basic = programme.completion("basic").expect("basic");
        assert_eq!(basic.modules, ["day-1", "day-2"]);
        assert_eq!(basic.after, None);
        assert_eq!(programme.refresher_months_of(basic), Some(24));
        let advanced = programme.completion("advanced").expect("advanced");
        assert_eq!(advanced.after.as_deref(), Some("basic"));
        assert_eq!(programme.refresher_months_of(advanced), Some(12));
        let rule = programme.organisation_rule.as_ref().expect("rule");
        assert_eq!(rule.requires.len(), 2);
        assert_eq!(rule.requires[0].at_least, 1, "at_least defaults to 1");
        assert!(rule.requires[0].everyone_who_started);
        assert!(!rule.requires[1].everyone_who_started);
    }

    #[test]
    fn an_empty_after_means_no_prerequisite() {
        let programme = parse(&GOOD.replace("after = \"basic\"", "after = \"\"")).expect("valid");
        assert_eq!(programme.completion("advanced").and_then(|c| c.after.clone()), None);
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let broken = GOOD.replace("title = \"Day 2: practice\"", "title = \"Day 2: practice");
        assert!(only_error(&broken).starts_with(&format!("{FILE}:17: ")), "{broken}");
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let broken = GOOD.replace("hours = 3\n", "hours = 3\ncapacity = 20\n");
        let error = only_error(&broken);
        assert!(error.starts_with(&format!("{FILE}:24: ")), "{error}");
        assert!(error.contains("capacity"), "{error}");
        let broken = GOOD.replace("at_least = 1\n", "at_least = 1\nweight = 2\n");
        let error = only_error(&broken);
        assert!(error.contains("weight"), "{error}");
        assert!(error.starts_with(&format!("{FILE}:51: ")), "{error}");
    }

    #[test]
    fn a_missing_key_is_reported() {
        let broken = GOOD.replace("title = \"Network meeting\"\n", "");
        assert!(only_error(&broken).contains("title"));
    }

    #[test]
    fn duplicate_ids_name_their_lines() {
        let broken = GOOD.replace("id = \"network\"", "id = \"day-2\"");
        let errors = parse(&broken).expect_err("duplicate");
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(
            text.contains(&format!("{FILE}:26: duplicate module id \"day-2\"")),
            "{text:?}"
        );
        let broken = GOOD.replace(
            "id = \"advanced\"\ntitle = \"Advanced training\"",
            "id = \"basic\"\ntitle = \"Advanced training\"",
        );
        let errors = parse(&broken).expect_err("duplicate");
        assert_eq!(
            errors[0].to_string(),
            format!("{FILE}:36: duplicate completion id \"basic\"")
        );
    }

    #[test]
    fn a_bad_id_is_refused() {
        let broken = GOOD.replace("id = \"day-1\"", "id = \"Day 1\"");
        let errors = parse(&broken).expect_err("bad id");
        assert!(errors[0]
            .to_string()
            .starts_with(&format!("{FILE}:10: module id \"Day 1\" may use only")));
    }

    #[test]
    fn unknown_modules_and_completions_name_their_lines() {
        assert_eq!(
            error_after("modules = [\"day-1\", \"day-2\"]", "modules = [\"day-1\", \"day-3\"]"),
            format!("{FILE}:32: completion \"basic\" names unknown module \"day-3\"")
        );
        assert_eq!(
            error_after("refreshed_by = [\"network\"]", "refreshed_by = [\"networking\"]"),
            format!("{FILE}:33: refreshed_by of completion \"basic\" names unknown module \"networking\"")
        );
        assert_eq!(
            error_after("after = \"basic\"", "after = \"basics\""),
            format!("{FILE}:39: completion \"advanced\" comes after unknown completion \"basics\"")
        );
        assert_eq!(
            error_after("completion = \"advanced\"", "completion = \"expert\""),
            format!("{FILE}:49: organisation_rule requires unknown completion \"expert\"")
        );
    }

    #[test]
    fn a_module_listed_twice_is_refused() {
        assert_eq!(
            error_after("modules = [\"day-1\", \"day-2\"]", "modules = [\"day-1\", \"day-1\"]"),
            format!("{FILE}:32: completion \"basic\" lists module \"day-1\" twice")
        );
        assert_eq!(
            error_after(
                "refreshed_by = [\"network\"]",
                "refreshed_by = [\"network\", \"network\"]",
            ),
            format!("{FILE}:33: refreshed_by of completion \"basic\" lists module \"network\" twice")
        );
    }

    #[test]
    fn circles_in_after_are_refused() {
        assert_eq!(
            error_after("after = \"basic\"", "after = \"advanced\""),
            format!("{FILE}:39: completion \"advanced\" cannot come after itself")
        );
        let broken = GOOD.replace(
            "refreshed_by = [\"network\"]\n",
            "refreshed_by = [\"network\"]\nafter = \"advanced\"\n",
        );
        let errors = parse(&broken).expect_err("circle");
        assert_eq!(errors.len(), 1, "one circle, one message: {errors:?}");
        assert_eq!(
            errors[0].to_string(),
            format!("{FILE}:34: completions come after each other in a circle: basic → advanced → basic")
        );
    }

    #[test]
    fn empty_titles_are_refused() {
        assert_eq!(
            error_after("title = \"Advanced session\"", "title = \" \""),
            format!("{FILE}:22: module title must not be empty")
        );
        assert_eq!(
            error_after("title = \"Basic training\"", "title = \"\""),
            format!("{FILE}:31: completion title must not be empty")
        );
        let start = GOOD.find("explanation = ").expect("explanation");
        let end = start + GOOD[start..].find('\n').expect("line end");
        let broken = format!("{}explanation = \"\"{}", &GOOD[..start], &GOOD[end..]);
        assert_eq!(
            only_error(&broken),
            format!("{FILE}:44: organisation_rule explanation must not be empty")
        );
    }

    #[test]
    fn refresher_months_must_be_sensible() {
        assert_eq!(
            error_after("refresher_months = 24", "refresher_months = 0"),
            format!("{FILE}:7: refresher_months must be between 1 and 120, not 0")
        );
        assert_eq!(
            error_after("refresher_months = 12", "refresher_months = 121"),
            format!("{FILE}:40: refresher_months must be between 1 and 120, not 121")
        );
        // Renewal makes no sense for something that never lapses.
        assert_eq!(
            error_after("refresher_months = 24\n", ""),
            format!(
                "{FILE}:32: completion \"basic\" has refreshed_by but never lapses; set refresher_months on it or on the programme"
            )
        );
    }

    #[test]
    fn a_name_may_belong_to_only_one_module() {
        assert_eq!(
            error_after(
            "synonyms = [\"Test course day 2\"]",
            "synonyms = [\"Test course day 2\", \"basics  DAY!\"]",
        ),
            format!("{FILE}:18: synonym \"basics  DAY!\" of module \"day-2\" is also a name of module \"day-1\"; a sheet using it could not be matched")
        );
        let broken = GOOD.replace("title = \"Network meeting\"", "title = \"Day 1 - Basics\"");
        assert!(only_error(&broken).contains("title \"Day 1 - Basics\" of module \"network\""));
        let broken = GOOD.replace("synonyms = [\"Test course day 2\"]", "synonyms = [\"--\"]");
        assert!(only_error(&broken).contains("has no letters or digits"));
    }

    #[test]
    fn hours_format_and_structure_are_checked() {
        let broken = GOOD.replace("hours = 6.5", "hours = 0");
        assert!(only_error(&broken).starts_with(&format!("{FILE}:13: hours must be more than 0")));
        let broken = GOOD.replace("format = 1", "format = 2");
        assert!(only_error(&broken).starts_with(&format!("{FILE}:1: format 2 is not supported")));
        let broken = GOOD.replace("at_least = 1", "at_least = 0");
        assert!(only_error(&broken).starts_with(&format!("{FILE}:50: at_least must be between 1")));
        assert_eq!(
            error_after("modules = [\"advanced\"]", "modules = []"),
            format!("{FILE}:38: completion \"advanced\" needs at least one module")
        );
        let cut = GOOD.find("[[completions]]").expect("has completions");
        let errors = parse(&GOOD[..cut]).expect_err("no completions");
        assert!(errors
            .iter()
            .any(|e| e.message.contains("at least one [[completions]]")));
    }

    #[test]
    fn several_problems_are_all_reported() {
        let broken = GOOD
            .replace("title = \"Advanced session\"", "title = \"\"")
            .replace("refresher_months = 12", "refresher_months = 500")
            .replace("completion = \"advanced\"", "completion = \"expert\"");
        assert_eq!(parse(&broken).expect_err("broken").len(), 3);
    }

    #[test]
    fn the_file_name_must_carry_id_and_version() {
        let errors = parse_programme("x/other.toml", "other.toml", GOOD).expect_err("misnamed");
        assert!(errors[0].message.contains("test-course-1.0.toml"));
    }

    #[test]
    fn versions_sort_and_current_is_newest() {
        let mut old = parse(GOOD).expect("valid");
        old.version = "1.9".into();
        let mut new = old.clone();
        new.version = "1.10".into();
        new.modules[0].synonyms.push("Brand new name".into());
        let library = ProgrammeLibrary::new(vec![new, old]);
        assert_eq!(library.current().len(), 1);
        assert_eq!(
            library.current_version("test-course").map(|p| p.version.as_str()),
            Some("1.10")
        );
        assert_eq!(library.versions("test-course").len(), 2);
        assert!(library.get("test-course", "1.9").is_some());
        let found = library.match_module("brand new name").expect("current version matched");
        assert_eq!(found.programme_version, "1.10");
    }

    #[test]
    fn the_shipped_programmes_load() {
        let library = shipped();
        let ids: Vec<&str> = library.current().iter().map(|p| p.id.as_str()).collect();
        for id in [
            "domestic-abuse-ambassadors",
            "dva-awareness",
            "iris",
            "marac-briefing",
            "routine-enquiry",
            "safe-and-together",
        ] {
            assert!(ids.contains(&id), "{id} ships: {ids:?}");
        }
        let st = library.current_version("safe-and-together").expect("S&T");
        assert_eq!(
            st.completion("supervisor").and_then(|c| c.after.as_deref()),
            Some("core")
        );
        let core = st.completion("core").expect("core");
        assert_eq!(core.modules.len(), 4);
        let iris = library.current_version("iris").expect("IRIS");
        let rule = iris.organisation_rule.as_ref().expect("IRIS has a practice rule");
        assert_eq!(rule.title, "Practice fully trained");
        assert_eq!(rule.requires.len(), 3);
        let awareness = library.current_version("dva-awareness").expect("DVA awareness");
        assert_eq!(awareness.modules.len(), 1);
        assert_eq!(awareness.modules[0].hours, Some(3.0));
        let ambassadors = library
            .current_version("domestic-abuse-ambassadors")
            .expect("ambassadors");
        let ambassador = ambassadors.completion("ambassador").expect("ambassador");
        assert_eq!(ambassadors.refresher_months_of(ambassador), Some(24));
    }

    fn matched(library: &ProgrammeLibrary, text: &str) -> Option<(String, String)> {
        library.match_module(text).map(|m| (m.programme_id, m.module_id))
    }

    fn expect(library: &ProgrammeLibrary, text: &str, programme: &str, module: &str) {
        assert_eq!(
            matched(library, text),
            Some((programme.to_string(), module.to_string())),
            "{text:?}"
        );
    }

    #[test]
    fn sample_sheet_texts_match_their_modules() {
        let library = shipped();
        let cases = [
            ("IRIS Clinical Training - Session 1", "iris", "clinical-1"),
            ("IRIS clinical session 2", "iris", "clinical-2"),
            ("IRIS admin training", "iris", "admin-reception"),
            ("reception and admin", "iris", "admin-reception"),
            ("Reception & Admin", "iris", "admin-reception"),
            ("IRIS practice champion training", "iris", "practice-champion"),
            ("MARAC briefing", "marac-briefing", "marac-briefing"),
            ("Day 1 Assessment", "safe-and-together", "core-day-1"),
            ("Day 2 Interviewing", "safe-and-together", "core-day-2"),
            ("Day 3 Documentation", "safe-and-together", "core-day-3"),
            ("Day 4 Case Planning", "safe-and-together", "core-day-4"),
            ("Safe & Together CORE day 3", "safe-and-together", "core-day-3"),
            ("S&T CORE day 1", "safe-and-together", "core-day-1"),
            ("Safe and Together Overview", "safe-and-together", "overview"),
            ("Safe & Together supervisor training", "safe-and-together", "supervisor"),
            (
                "DA Ambassador initial training",
                "domestic-abuse-ambassadors",
                "initial-day-1",
            ),
            ("DA Ambassador day 2", "domestic-abuse-ambassadors", "initial-day-2"),
            (
                "Ambassador training day 1",
                "domestic-abuse-ambassadors",
                "initial-day-1",
            ),
            (
                "Ambassador network session",
                "domestic-abuse-ambassadors",
                "network-session",
            ),
            ("DA Ambassador refresher", "domestic-abuse-ambassadors", "refresher"),
            ("Routine enquiry", "routine-enquiry", "routine-enquiry"),
            ("Routine enquiry briefing", "routine-enquiry", "routine-enquiry"),
            ("DVA awareness", "dva-awareness", "dva-awareness"),
            ("Domestic abuse awareness training", "dva-awareness", "dva-awareness"),
        ];
        for (text, programme, module) in cases {
            expect(&library, text, programme, module);
        }
    }

    #[test]
    fn variants_match_by_containment() {
        let library = shipped();
        // Extra words around a known name.
        expect(
            &library,
            "  iris   CLINICAL training -- session 1 (am)",
            "iris",
            "clinical-1",
        );
        expect(
            &library,
            "MARAC briefing, 14 January",
            "marac-briefing",
            "marac-briefing",
        );
        expect(
            &library,
            "Routine enquiry briefing for health visitors",
            "routine-enquiry",
            "routine-enquiry",
        );
        expect(
            &library,
            "Safe & Together CORE Day 2: Interviewing",
            "safe-and-together",
            "core-day-2",
        );
        // The longer name found wins over a shorter one it holds.
        expect(
            &library,
            "DA Ambassador initial training day 2 - morning",
            "domestic-abuse-ambassadors",
            "initial-day-2",
        );
        // A shortened name inside a known one.
        expect(&library, "practice champion", "iris", "practice-champion");
        // An exact id.
        expect(&library, "core-day-4", "safe-and-together", "core-day-4");
    }

    #[test]
    fn ambiguous_or_unknown_text_matches_nothing() {
        let library = shipped();
        for text in [
            "Day 1",                         // CORE, ambassador and more
            "Training",                      // everything
            "Safe & Together CORE training", // the course, not a day of it
            "Name",
            "Practice", // a column heading, not the champion session
            "Date:",
            "Trainers: Advocate Educator / Clinical Lead",
            "Total attended",
            "",
            "   ",
            "MARAC briefing and DA Ambassador day 2",
        ] {
            assert_eq!(matched(&library, text), None, "{text:?}");
        }
    }

    #[test]
    fn grid_headings_match_within_a_programme() {
        let library = shipped();
        let st = library.current_version("safe-and-together").expect("S&T");
        let days: Vec<Option<&str>> = [
            "Day 1 Assessment",
            "Day 2 Interviewing",
            "Day 3 Documentation",
            "Day 4 Case Planning",
            "Email",
        ]
        .iter()
        .map(|h| st.module_by_text(h).map(|m| m.id.as_str()))
        .collect();
        assert_eq!(
            days,
            [
                Some("core-day-1"),
                Some("core-day-2"),
                Some("core-day-3"),
                Some("core-day-4"),
                None
            ]
        );
        // Within one programme, "Day 3" is no longer ambiguous.
        assert_eq!(st.module_by_text("Day 3").map(|m| m.id.as_str()), Some("core-day-3"));
        let iris = library.current_version("iris").expect("IRIS");
        assert!(iris.module_by_text("Day 3").is_none());
    }

    #[test]
    fn normalising_ignores_case_punctuation_and_spacing() {
        assert_eq!(
            normalise("  S&T  CORE - Day 1: Assessment "),
            "s and t core day 1 assessment"
        );
        assert_eq!(normalise("Children’s social workers"), "childrens social workers");
        assert_eq!(normalise("Zoë O'Brien"), "zoë obrien");
        assert!(contains_words("core day 12", "core day 12"));
        assert!(!contains_words("core day 12", "day 1"));
        assert!(contains_words("a core day 1 b", "day 1"));
        assert!(!contains_words("xday 1", "day 1"));
    }

    #[test]
    fn a_name_shared_across_programmes_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("test-course-1.0.toml"), GOOD).expect("write");
        // Every name changed except day 1's synonym "Basics day".
        let other = GOOD
            .replace("id = \"test-course\"", "id = \"other-course\"")
            .replace("Test course", "Other course")
            .replace("Day 1: basics", "Other 1")
            .replace("Day 2: practice", "Other 2")
            .replace("Advanced session", "Other advanced")
            .replace("Network meeting", "Other network");
        std::fs::write(dir.path().join("other-course-1.0.toml"), other).expect("write");
        let errors = load_dir(dir.path()).expect_err("shared name");
        assert_eq!(errors.len(), 1, "{errors:?}");
        let error = errors[0].to_string();
        assert!(error.contains("test-course-1.0.toml:12: \"Basics day\""), "{error}");
        assert!(error.contains("other-course-1.0.toml:12"), "{error}");
    }
}
