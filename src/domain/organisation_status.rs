//! Where an organisation stands with its quality marks, in one line or a
//! few: "Awarded DAHA accreditation, expires 3 May 2027", "In progress" or
//! "—". Worked out from its assessments' states and dates, like every award
//! state, never stored.

use super::assessment::{award_status, AwardStatus, State};
use super::dates::uk_date;
use chrono::NaiveDate;
use serde::Serialize;

/// What the status needs to know about one of the organisation's assessments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentFact {
    pub organisation_id: i64,
    pub framework_name: String,
    pub state: State,
    pub expires_on: Option<NaiveDate>,
    /// A renewal of this award has itself been awarded.
    pub renewed: bool,
}

/// The organisations list's status filter, and the kinds of line it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    /// Holds at least one current award.
    Awarded,
    /// Holds a current award that is due for renewal.
    RenewalDue,
    /// No current award, but an assessment under way.
    InProgress,
    /// No current award and nothing under way, but an award in the past.
    Expired,
    /// No current award, nothing under way and no award that ran its
    /// course: an award was taken away.
    Revoked,
    /// Has never enrolled on anything.
    NotStarted,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 6] = [
        StatusFilter::Awarded,
        StatusFilter::RenewalDue,
        StatusFilter::InProgress,
        StatusFilter::Expired,
        StatusFilter::Revoked,
        StatusFilter::NotStarted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Awarded => "awarded",
            StatusFilter::RenewalDue => "renewal_due",
            StatusFilter::InProgress => "in_progress",
            StatusFilter::Expired => "expired",
            StatusFilter::Revoked => "revoked",
            StatusFilter::NotStarted => "not_started",
        }
    }

    pub fn parse(text: &str) -> Option<StatusFilter> {
        StatusFilter::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }

    /// Whether an organisation showing `line` is among those this filter
    /// finds: a renewal due is also an award held. The list's filter (in
    /// SQL, `db::organisation_status`) must agree with this for every
    /// status; `tests/home_pages.rs` checks that it does.
    pub fn finds(self, line: &StatusLine) -> bool {
        self == line.status || (self == StatusFilter::Awarded && line.status == StatusFilter::RenewalDue)
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::Awarded => "Holds an award",
            StatusFilter::RenewalDue => "Renewal due",
            StatusFilter::InProgress => "In progress",
            StatusFilter::Expired => "Award expired",
            StatusFilter::Revoked => "Award revoked",
            StatusFilter::NotStarted => "Not started",
        }
    }
}

/// One line of an organisation's status, with the tag colour it is shown in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusLine {
    pub text: String,
    pub colour: &'static str,
    /// The kind of line, as the list's filter names it.
    pub status: StatusFilter,
}

fn line(text: String, colour: &'static str, status: StatusFilter) -> StatusLine {
    StatusLine { text, colour, status }
}

/// The status of one organisation from its assessments: a line per current
/// award (soonest expiry first); otherwise "In progress", "Award expired on
/// …", "Award revoked", or "—" for an organisation that has not started.
pub fn summarise(facts: &[&AssessmentFact], today: NaiveDate, notice_days: u64) -> Vec<StatusLine> {
    let mut current: Vec<(NaiveDate, &AssessmentFact, AwardStatus)> = facts
        .iter()
        .filter(|f| f.state == State::Awarded && !f.renewed)
        .filter_map(|f| {
            let expires = f.expires_on?;
            let status = award_status(expires, today, notice_days);
            (status != AwardStatus::Expired).then_some((expires, *f, status))
        })
        .collect();
    current.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.framework_name.cmp(&b.1.framework_name)));
    if !current.is_empty() {
        return current
            .into_iter()
            .map(|(expires, fact, status)| match status {
                AwardStatus::RenewalDue => line(
                    format!("Awarded {}, renewal due by {}", fact.framework_name, uk_date(expires)),
                    "yellow",
                    StatusFilter::RenewalDue,
                ),
                _ => line(
                    format!("Awarded {}, expires {}", fact.framework_name, uk_date(expires)),
                    "green",
                    StatusFilter::Awarded,
                ),
            })
            .collect();
    }
    if facts.iter().any(|f| f.state.is_open()) {
        return vec![line("In progress".into(), "blue", StatusFilter::InProgress)];
    }
    let last_expiry = facts
        .iter()
        .filter(|f| f.state == State::Awarded)
        .filter_map(|f| f.expires_on)
        .max();
    if let Some(expired) = last_expiry {
        return vec![line(
            format!("Award expired on {}", uk_date(expired)),
            "red",
            StatusFilter::Expired,
        )];
    }
    if facts.iter().any(|f| f.state == State::Revoked) {
        return vec![line("Award revoked".into(), "red", StatusFilter::Revoked)];
    }
    vec![line("—".into(), "grey", StatusFilter::NotStarted)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::iso as day;

    fn fact(name: &str, state: State, expires: Option<&str>, renewed: bool) -> AssessmentFact {
        AssessmentFact {
            organisation_id: 1,
            framework_name: name.into(),
            state,
            expires_on: expires.map(day),
            renewed,
        }
    }

    fn texts(facts: &[AssessmentFact], today: &str) -> Vec<String> {
        let refs: Vec<&AssessmentFact> = facts.iter().collect();
        summarise(&refs, day(today), 90).into_iter().map(|l| l.text).collect()
    }

    #[test]
    fn nothing_is_a_dash() {
        assert_eq!(texts(&[], "2026-03-02"), ["—"]);
    }

    #[test]
    fn a_current_award_names_its_framework_and_expiry() {
        let facts = [fact("DAHA accreditation", State::Awarded, Some("2027-05-03"), false)];
        assert_eq!(
            texts(&facts, "2026-03-02"),
            ["Awarded DAHA accreditation, expires 3 May 2027"]
        );
        // 90 days before expiry the renewal is due; on the day it has expired.
        assert_eq!(
            texts(&facts, "2027-02-02"),
            ["Awarded DAHA accreditation, renewal due by 3 May 2027"]
        );
        assert_eq!(texts(&facts, "2027-05-03"), ["Award expired on 3 May 2027"]);
    }

    #[test]
    fn an_award_outranks_work_in_progress_and_a_renewed_award_gives_way() {
        let facts = [
            fact("DAHA accreditation", State::Awarded, Some("2027-05-03"), true),
            fact("DAHA accreditation", State::Awarded, Some("2030-05-03"), false),
            fact("Workplace mark", State::InProgress, None, false),
        ];
        assert_eq!(
            texts(&facts, "2027-04-01"),
            ["Awarded DAHA accreditation, expires 3 May 2030"]
        );
    }

    #[test]
    fn open_work_without_an_award_is_in_progress_and_revoked_is_said() {
        let open = [fact("Mark", State::ChangesRequested, None, false)];
        assert_eq!(texts(&open, "2026-03-02"), ["In progress"]);
        let revoked = [fact("Mark", State::Revoked, Some("2028-01-01"), false)];
        assert_eq!(texts(&revoked, "2026-03-02"), ["Award revoked"]);
    }
}
