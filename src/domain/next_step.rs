//! What an organisation should do next about one of its assessments, as its
//! members' home page says it: the one thing that moves it on, or that there
//! is nothing to do while someone else has it.

use super::assessment::{AwardStatus, Standing, State};
use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Mandatory criteria without valid evidence: add it.
    AddEvidence { missing: usize },
    /// Everything mandatory has evidence: send it for review.
    Submit,
    /// With an assessor: wait.
    WaitForReview,
    /// The assessor asked for changes on this many criteria.
    AnswerFeedback { criteria: usize },
    /// Recommended: the programme lead makes the award.
    WaitForAward,
    /// Awarded and current: nothing to do until renewal.
    Hold { expires_on: NaiveDate },
    /// Within the notice period: start (or carry on with) the renewal.
    Renew { due_on: NaiveDate, renewal_started: bool },
    /// The award has expired: enrol again.
    EnrolAgain { expired_on: NaiveDate },
    /// Revoked: talk to the programme lead.
    Revoked,
    /// Replaced by an awarded renewal: nothing to show.
    Renewed,
}

impl NextStep {
    /// `missing` and `needing_action` count criteria from the assessment's
    /// progress; they only matter for the states that look at them.
    pub fn of(
        standing: Standing,
        expires_on: Option<NaiveDate>,
        renewal_started: bool,
        missing: usize,
        needing_action: usize,
    ) -> NextStep {
        match standing {
            Standing::Working(State::Enrolled | State::InProgress) if missing > 0 => NextStep::AddEvidence { missing },
            Standing::Working(State::Enrolled | State::InProgress) => NextStep::Submit,
            Standing::Working(State::ChangesRequested) => NextStep::AnswerFeedback {
                criteria: needing_action,
            },
            Standing::Working(State::Recommended) => NextStep::WaitForAward,
            Standing::Working(_) => NextStep::WaitForReview,
            Standing::Award(status) => match (status, expires_on) {
                (AwardStatus::Awarded, Some(expires_on)) => NextStep::Hold { expires_on },
                (AwardStatus::RenewalDue, Some(due_on)) => NextStep::Renew {
                    due_on,
                    renewal_started,
                },
                (AwardStatus::Expired, Some(expired_on)) => NextStep::EnrolAgain { expired_on },
                // An award always has an expiry; without one there is nothing to count down.
                (_, None) => NextStep::Renewed,
            },
            Standing::Renewed => NextStep::Renewed,
            Standing::Revoked => NextStep::Revoked,
        }
    }

    /// Whether the organisation has something to do (rather than wait).
    pub fn is_action(self) -> bool {
        matches!(
            self,
            NextStep::AddEvidence { .. }
                | NextStep::Submit
                | NextStep::AnswerFeedback { .. }
                | NextStep::Renew { .. }
                | NextStep::EnrolAgain { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::iso as day;

    #[test]
    fn work_in_hand_points_at_evidence_then_submission() {
        let working = Standing::Working(State::InProgress);
        assert_eq!(
            NextStep::of(working, None, false, 3, 0),
            NextStep::AddEvidence { missing: 3 }
        );
        assert_eq!(NextStep::of(working, None, false, 0, 0), NextStep::Submit);
        assert_eq!(
            NextStep::of(Standing::Working(State::ChangesRequested), None, false, 0, 2),
            NextStep::AnswerFeedback { criteria: 2 }
        );
        assert!(!NextStep::of(Standing::Working(State::Resubmitted), None, false, 0, 0).is_action());
    }

    #[test]
    fn an_award_asks_for_renewal_only_when_it_is_due() {
        let expires = Some(day("2027-05-03"));
        assert_eq!(
            NextStep::of(Standing::Award(AwardStatus::Awarded), expires, false, 0, 0),
            NextStep::Hold {
                expires_on: day("2027-05-03")
            }
        );
        let due = NextStep::of(Standing::Award(AwardStatus::RenewalDue), expires, true, 0, 0);
        assert_eq!(
            due,
            NextStep::Renew {
                due_on: day("2027-05-03"),
                renewal_started: true
            }
        );
        assert!(due.is_action());
        assert_eq!(
            NextStep::of(Standing::Award(AwardStatus::Expired), expires, false, 0, 0),
            NextStep::EnrolAgain {
                expired_on: day("2027-05-03")
            }
        );
    }
}
