//! Session evaluations: the short form a programme file defines (a few
//! questions with fixed answer scales and one free-text question), when a
//! session's form is open, how many answers a session may take, how answers
//! are read from the form and from another survey tool's export, and how
//! they are counted for the results pages and the board report.
//!
//! Answers are anonymous by construction: an [`Answers`] holds the chosen
//! answers and the comment, nothing about who gave them.

use crate::domain::programmes::normalise;
use crate::domain::standards::Checker;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use toml::Spanned;

/// A form open for more than three months after its session is no longer
/// about that session; a typo (days for weeks) is more likely.
const MAX_CLOSES_AFTER_DAYS: i64 = 90;
/// A handful of questions keeps the form quick to answer on a phone.
const MAX_QUESTIONS: usize = 6;
const MIN_SCALE: usize = 2;
const MAX_SCALE: usize = 7;
/// The free-text answer's length limit, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;
/// However small a session, this many answers are accepted (the trainer may
/// pass the link on to colleagues who joined late).
pub const MIN_RESPONSE_CAP: i64 = 30;
/// Answers allowed per place or attendee: some people answer on two devices,
/// but many times more than were there is not a real response.
pub const RESPONSES_PER_PLACE: i64 = 3;

/// A programme's evaluation form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvaluationForm {
    /// The form closes at the end of the day this many days after the session.
    pub closes_after_days: u32,
    pub questions: Vec<Question>,
    /// The free-text question, if the form asks one.
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Question {
    pub id: String,
    pub text: String,
    /// The answers offered, in the order shown.
    pub scale: Vec<String>,
    /// The answer the report quotes as a share ("To a great extent").
    pub headline: String,
    /// How the report words the headline share after its percentage
    /// ("said it will help them improve their practice to a great extent").
    pub reported_as: Option<String>,
}

impl Question {
    /// The words that follow the percentage in the report's sentence.
    pub fn headline_phrase(&self) -> String {
        match &self.reported_as {
            Some(phrase) => phrase.clone(),
            None => format!("answered “{}” to “{}”", self.headline, self.text),
        }
    }

    /// The answer on the scale that `text` names, compared as sheets are
    /// (case, punctuation and spacing ignored).
    pub fn answer_named(&self, text: &str) -> Option<&str> {
        let wanted = normalise(text);
        if wanted.is_empty() {
            return None;
        }
        self.scale
            .iter()
            .find(|answer| normalise(answer) == wanted)
            .map(String::as_str)
    }
}

/// Whether a session's form takes answers on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Availability {
    /// Before the session day.
    NotYetOpen {
        opens: NaiveDate,
    },
    /// From the session day to the last day, inclusive.
    Open {
        last_day: NaiveDate,
    },
    Closed {
        last_day: NaiveDate,
    },
}

impl EvaluationForm {
    /// The last day the form of a session on `session_date` takes answers.
    pub fn last_day(&self, session_date: NaiveDate) -> NaiveDate {
        session_date + Duration::days(i64::from(self.closes_after_days))
    }

    pub fn availability(&self, session_date: NaiveDate, today: NaiveDate) -> Availability {
        let last_day = self.last_day(session_date);
        if today < session_date {
            Availability::NotYetOpen { opens: session_date }
        } else if today <= last_day {
            Availability::Open { last_day }
        } else {
            Availability::Closed { last_day }
        }
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// The answers a form post gave (question id → answer as shown), checked:
    /// every question answered with an answer of its scale, the comment plain
    /// text of a sensible length. Problems name the field they belong to.
    pub fn read_answers(&self, given: &HashMap<String, String>, comment: &str) -> Result<Answers, Vec<AnswerProblem>> {
        let mut problems = Vec::new();
        let mut answers = BTreeMap::new();
        for question in &self.questions {
            let chosen = given.get(&question.id).map(|a| a.trim()).unwrap_or_default();
            match question.scale.iter().find(|answer| answer.as_str() == chosen) {
                Some(answer) => {
                    answers.insert(question.id.clone(), answer.clone());
                }
                None => problems.push(AnswerProblem {
                    field: format!("q-{}", question.id),
                    message: format!("Choose an answer to “{}”", question.text),
                }),
            }
        }
        let comment = if self.comment.is_some() { comment.trim() } else { "" };
        if crate::domain::validation::plain_text(comment).is_err() {
            problems.push(AnswerProblem {
                field: "comment".into(),
                message: "Your comment contains a character that cannot be used (a control character). Remove it and try again.".into(),
            });
        } else if comment.chars().count() > MAX_COMMENT_CHARS {
            problems.push(AnswerProblem {
                field: "comment".into(),
                message: format!("Your comment must be {MAX_COMMENT_CHARS} characters or fewer"),
            });
        }
        if problems.is_empty() {
            Ok(Answers {
                answers,
                comment: comment.to_string(),
            })
        } else {
            Err(problems)
        }
    }
}

/// One problem with a form post, for the error summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerProblem {
    pub field: String,
    pub message: String,
}

/// One response: question id → the answer chosen (a question left
/// unanswered, as an imported row may leave one, is absent), and the comment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    pub answers: BTreeMap<String, String>,
    pub comment: String,
}

/// How many responses a session takes: three per place or per attendee,
/// whichever is more, and never fewer than [`MIN_RESPONSE_CAP`].
pub fn response_cap(places: Option<i64>, attendance: i64) -> i64 {
    let people = places.unwrap_or(0).max(attendance).max(0);
    people.saturating_mul(RESPONSES_PER_PLACE).max(MIN_RESPONSE_CAP)
}

/// A share as a whole percentage, rounded half up; 0 of 0 is 0.
pub fn percent(count: i64, of: i64) -> i64 {
    if of <= 0 {
        0
    } else {
        (count.saturating_mul(200) + of) / (of * 2)
    }
}

/// One answer's count and share of those who answered the question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerCount {
    pub answer: String,
    pub count: i64,
    pub percent: i64,
    pub headline: bool,
}

/// The answers to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionTally {
    pub id: String,
    pub text: String,
    pub headline: String,
    /// Responses that answered it.
    pub answered: i64,
    pub counts: Vec<AnswerCount>,
    /// The share answering the headline answer, as a whole percentage.
    pub headline_percent: i64,
    /// "92% said it will help them improve their practice to a great extent".
    pub sentence: String,
}

/// Counts the responses against the form: every answer of each scale, in
/// order, with its share. Answers no longer on the form's scale (a form
/// reworded since) are not counted.
pub fn tally<'a>(
    form: &EvaluationForm,
    responses: impl IntoIterator<Item = &'a Answers> + Clone,
) -> Vec<QuestionTally> {
    form.questions
        .iter()
        .map(|question| {
            let mut counts: Vec<i64> = vec![0; question.scale.len()];
            for response in responses.clone() {
                if let Some(index) = response
                    .answers
                    .get(&question.id)
                    .and_then(|given| question.scale.iter().position(|a| a == given))
                {
                    if let Some(slot) = counts.get_mut(index) {
                        *slot += 1;
                    }
                }
            }
            let answered: i64 = counts.iter().sum();
            let counts: Vec<AnswerCount> = question
                .scale
                .iter()
                .zip(counts)
                .map(|(answer, count)| AnswerCount {
                    answer: answer.clone(),
                    count,
                    percent: percent(count, answered),
                    headline: *answer == question.headline,
                })
                .collect();
            let headline_count = counts.iter().find(|c| c.headline).map_or(0, |c| c.count);
            let headline_percent = percent(headline_count, answered);
            QuestionTally {
                id: question.id.clone(),
                text: question.text.clone(),
                headline: question.headline.clone(),
                answered,
                counts,
                headline_percent,
                sentence: format!("{headline_percent}% {}", question.headline_phrase()),
            }
        })
        .collect()
}

/// "12 responses; 92% said it will help them improve their practice to a
/// great extent; 75% …": the line the board report quotes.
pub fn summary(responses: i64, tallies: &[QuestionTally]) -> String {
    let noun = if responses == 1 { "response" } else { "responses" };
    let mut parts = vec![format!("{responses} {noun}")];
    if responses > 0 {
        parts.extend(tallies.iter().map(|t| t.sentence.clone()));
    }
    parts.join("; ")
}

/// Which columns of an exported sheet hold which question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMatch {
    /// (question index, column index) for each question found.
    pub questions: Vec<(usize, usize)>,
    pub comment: Option<usize>,
}

/// Whether a heading names `text`: the same words, or the text inside the
/// heading as whole words (survey tools number their columns:
/// "Q1. To what extent …").
fn heading_names(heading: &str, text: &str) -> bool {
    let (heading, text) = (normalise(heading), normalise(text));
    if heading.is_empty() || text.is_empty() {
        return false;
    }
    heading == text || format!(" {heading} ").contains(&format!(" {text} "))
}

/// What an import of another tool's export would add.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportPreview {
    pub responses: Vec<Answers>,
    /// "Row 4: “Quite a lot” is not an answer to “…”".
    pub problems: Vec<String>,
    /// Questions of the form that no column heading named.
    pub missing_questions: Vec<String>,
}

impl EvaluationForm {
    /// The columns whose headings name the form's questions (and comment).
    pub fn match_columns(&self, headings: &[String]) -> ColumnMatch {
        let mut used = HashSet::new();
        let mut questions = Vec::new();
        for (index, question) in self.questions.iter().enumerate() {
            if let Some(column) = headings
                .iter()
                .enumerate()
                .position(|(column, heading)| !used.contains(&column) && heading_names(heading, &question.text))
            {
                used.insert(column);
                questions.push((index, column));
            }
        }
        let comment = self.comment.as_ref().and_then(|text| {
            headings
                .iter()
                .enumerate()
                .position(|(column, heading)| !used.contains(&column) && heading_names(heading, text))
        });
        ColumnMatch { questions, comment }
    }

    /// Reads the responses of a sheet whose first row is `headings`. A row
    /// with nothing in the matched columns is skipped; a row with an answer
    /// that is not on its question's scale is reported by its row number
    /// (as a spreadsheet numbers it, the headings being row 1) and left out.
    pub fn read_sheet(&self, headings: &[String], rows: &[Vec<String>]) -> ImportPreview {
        let columns = self.match_columns(headings);
        let missing_questions = self
            .questions
            .iter()
            .enumerate()
            .filter(|(index, _)| !columns.questions.iter().any(|(q, _)| q == index))
            .map(|(_, q)| q.text.clone())
            .collect();
        let mut preview = ImportPreview {
            missing_questions,
            ..ImportPreview::default()
        };
        let cell = |row: &Vec<String>, column: usize| row.get(column).map(|c| c.trim().to_string()).unwrap_or_default();
        for (offset, row) in rows.iter().enumerate() {
            let row_number = offset + 2;
            let mut answers = BTreeMap::new();
            let mut problems = Vec::new();
            for (question_index, column) in &columns.questions {
                let Some(question) = self.questions.get(*question_index) else {
                    continue;
                };
                let given = cell(row, *column);
                if given.is_empty() {
                    continue;
                }
                match question.answer_named(&given) {
                    Some(answer) => {
                        answers.insert(question.id.clone(), answer.to_string());
                    }
                    None => problems.push(format!(
                        "Row {row_number}: “{given}” is not an answer to “{}” (the answers are {})",
                        question.text,
                        question
                            .scale
                            .iter()
                            .map(|a| format!("“{a}”"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
            }
            let comment: String = columns
                .comment
                .map(|column| cell(row, column))
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
                .take(MAX_COMMENT_CHARS)
                .collect();
            if !problems.is_empty() {
                preview.problems.extend(problems);
            } else if !answers.is_empty() || !comment.is_empty() {
                preview.responses.push(Answers { answers, comment });
            }
        }
        preview
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvaluation {
    closes_after_days: Option<Spanned<i64>>,
    #[serde(default)]
    questions: Vec<RawQuestion>,
    comment: Option<RawComment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    text: Spanned<String>,
    scale: Spanned<Vec<Spanned<String>>>,
    headline: Spanned<String>,
    reported_as: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComment {
    text: Spanned<String>,
}

/// How long a form stays open when the file does not say.
const DEFAULT_CLOSES_AFTER_DAYS: u32 = 14;

/// Checks a programme file's `[evaluation]` table.
pub(crate) fn check_evaluation(check: &mut Checker, raw: &RawEvaluation, at: usize) -> EvaluationForm {
    let closes_after_days = match &raw.closes_after_days {
        None => DEFAULT_CLOSES_AFTER_DAYS,
        Some(value) => check
            .number_within(value, "closes_after_days", 0..=MAX_CLOSES_AFTER_DAYS)
            .unwrap_or(0),
    };
    if raw.questions.is_empty() {
        check.error_at(at, "an [evaluation] needs at least one [[evaluation.questions]]");
    }
    if raw.questions.len() > MAX_QUESTIONS {
        check.error_at(
            at,
            format!(
                "an [evaluation] may ask at most {MAX_QUESTIONS} questions, not {}",
                raw.questions.len()
            ),
        );
    }
    let mut ids = HashSet::new();
    let mut texts = HashSet::new();
    let mut questions = Vec::new();
    for raw_question in &raw.questions {
        let id = check.plain_id(&raw_question.id, "question", &mut ids);
        let text = check.text(&raw_question.text, "question text");
        if !text.is_empty() && !texts.insert(normalise(&text)) {
            check.error_at(
                raw_question.text.span().start,
                format!("two questions ask “{text}”; an import could not tell their columns apart"),
            );
        }
        let mut scale: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for answer in raw_question.scale.get_ref() {
            let written = check.text(answer, "answer");
            if written.is_empty() {
                continue;
            }
            if !seen.insert(normalise(&written)) {
                check.error_at(
                    answer.span().start,
                    format!("question \"{id}\" offers “{written}” twice"),
                );
            }
            scale.push(written);
        }
        let offered = raw_question.scale.get_ref().len();
        if !(MIN_SCALE..=MAX_SCALE).contains(&offered) {
            check.error_at(
                raw_question.scale.span().start,
                format!("question \"{id}\" needs from {MIN_SCALE} to {MAX_SCALE} answers on its scale, not {offered}"),
            );
        }
        let headline = check.text(&raw_question.headline, "headline");
        if !headline.is_empty() && !scale.contains(&headline) {
            check.error_at(
                raw_question.headline.span().start,
                format!("the headline “{headline}” of question \"{id}\" is not one of its answers"),
            );
        }
        let reported_as = raw_question
            .reported_as
            .as_ref()
            .map(|phrase| check.text(phrase, "reported_as"));
        questions.push(Question {
            id,
            text,
            scale,
            headline,
            reported_as,
        });
    }
    let comment = raw.comment.as_ref().map(|c| check.text(&c.text, "comment text"));
    EvaluationForm {
        closes_after_days,
        questions,
        comment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::iso as day;

    fn form() -> EvaluationForm {
        EvaluationForm {
            closes_after_days: 14,
            questions: vec![Question {
                id: "practice".into(),
                text: "To what extent will this training help you improve your practice?".into(),
                scale: vec!["To a great extent".into(), "To some extent".into(), "Not at all".into()],
                headline: "To a great extent".into(),
                reported_as: Some("said it will improve their practice to a great extent".into()),
            }],
            comment: Some("Anything else?".into()),
        }
    }

    /// A programme file with `evaluation` as its `[evaluation]` table.
    fn programme_with(evaluation: &str) -> Result<crate::domain::programmes::Programme, Vec<String>> {
        let text = format!(
            "format = 1\nid = \"t\"\nname = \"T\"\nversion = \"1.0\"\naudience = \"A\"\nsummary = \"S\"\n\
             [[modules]]\nid = \"m\"\ntitle = \"Module\"\n[[completions]]\nid = \"c\"\ntitle = \"C\"\nmodules = [\"m\"]\n\
             {evaluation}"
        );
        crate::domain::programmes::parse_programme("t-1.0.toml", "t-1.0.toml", &text)
            .map_err(|errors| errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn a_programme_file_defines_its_form_and_mistakes_name_their_lines() {
        let good = programme_with(
            "[evaluation]\ncloses_after_days = 7\n[[evaluation.questions]]\nid = \"q\"\ntext = \"Useful?\"\n\
             scale = [\"Yes\", \"No\"]\nheadline = \"Yes\"\n[evaluation.comment]\ntext = \"Anything else?\"\n",
        )
        .expect("loads");
        let form = good.evaluation.expect("a form");
        assert_eq!(form.closes_after_days, 7);
        assert_eq!(form.questions[0].headline_phrase(), "answered “Yes” to “Useful?”");
        assert_eq!(form.comment.as_deref(), Some("Anything else?"));

        let errors = programme_with(
            "[evaluation]\nclosing = 3\n[[evaluation.questions]]\nid = \"q\"\ntext = \"Useful?\"\nscale = [\"Yes\"]\nheadline = \"Yes\"\n",
        )
        .expect_err("unknown key");
        assert!(errors[0].contains("closing"), "{errors:?}");
        let errors = programme_with(
            "[evaluation]\n[[evaluation.questions]]\nid = \"q\"\ntext = \"Useful?\"\n\
             scale = [\"Yes\", \"yes\", \"No\"]\nheadline = \"Maybe\"\n",
        )
        .expect_err("bad scale");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].contains(":18:") && errors[0].contains("offers “yes” twice"),
            "{errors:?}"
        );
        assert!(
            errors[1].contains(":19:") && errors[1].contains("“Maybe”"),
            "{errors:?}"
        );
        let errors = programme_with("[evaluation]\ncloses_after_days = 400\n").expect_err("no questions");
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn the_form_opens_on_the_day_and_closes_after_the_last_day() {
        let f = form();
        let session = day("2026-03-02");
        assert_eq!(
            f.availability(session, day("2026-03-01")),
            Availability::NotYetOpen { opens: session }
        );
        assert!(matches!(f.availability(session, session), Availability::Open { .. }));
        assert!(matches!(
            f.availability(session, day("2026-03-16")),
            Availability::Open { .. }
        ));
        assert!(matches!(
            f.availability(session, day("2026-03-17")),
            Availability::Closed { .. }
        ));
    }

    #[test]
    fn the_cap_is_three_a_place_and_at_least_thirty() {
        assert_eq!(response_cap(None, 0), 30);
        assert_eq!(response_cap(Some(5), 2), 30);
        assert_eq!(response_cap(Some(20), 12), 60);
        assert_eq!(response_cap(Some(10), 40), 120);
    }

    #[test]
    fn shares_round_half_up_and_the_sentence_quotes_the_headline() {
        assert_eq!(percent(2, 3), 67);
        assert_eq!(percent(1, 8), 13);
        assert_eq!(percent(0, 0), 0);
        let f = form();
        let answer = |a: &str| Answers {
            answers: BTreeMap::from([("practice".to_string(), a.to_string())]),
            comment: String::new(),
        };
        let responses = [
            answer("To a great extent"),
            answer("To a great extent"),
            answer("Not at all"),
        ];
        let tallies = tally(&f, responses.iter());
        assert_eq!(tallies[0].answered, 3);
        assert_eq!(tallies[0].headline_percent, 67);
        assert_eq!(
            summary(3, &tallies),
            "3 responses; 67% said it will improve their practice to a great extent"
        );
    }

    #[test]
    fn a_post_must_answer_every_question_from_its_scale() {
        let f = form();
        let mut given = HashMap::new();
        assert_eq!(f.read_answers(&given, "").unwrap_err()[0].field, "q-practice");
        given.insert("practice".to_string(), "Somewhat".to_string());
        assert!(f.read_answers(&given, "").is_err());
        given.insert("practice".to_string(), "To some extent".to_string());
        let read = f.read_answers(&given, "  Thanks  ").expect("answers");
        assert_eq!(read.comment, "Thanks");
    }

    #[test]
    fn an_export_is_matched_by_heading_and_bad_answers_are_named_by_row() {
        let f = form();
        let headings = vec![
            "Timestamp".to_string(),
            "Q1. To what extent will this training help you improve your practice?".to_string(),
            "Anything else?".to_string(),
        ];
        let rows = vec![
            vec!["x".into(), "to a great extent".into(), "Good".into()],
            vec!["x".into(), "Quite a lot".into(), String::new()],
            vec![String::new(), String::new(), String::new()],
        ];
        let preview = f.read_sheet(&headings, &rows);
        assert_eq!(preview.responses.len(), 1);
        assert_eq!(preview.responses[0].answers["practice"], "To a great extent");
        assert_eq!(preview.responses[0].comment, "Good");
        assert_eq!(preview.problems.len(), 1);
        assert!(
            preview.problems[0].starts_with("Row 3: “Quite a lot”"),
            "{:?}",
            preview.problems
        );
        assert!(preview.missing_questions.is_empty());
    }
}
