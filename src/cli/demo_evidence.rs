//! The evidence part of `qmtrack demo`: assessments at every stage of the
//! lifecycle for the demo organisations, with real (tiny) files in the
//! evidence store, decisions and feedback. Every step goes through the same
//! workflow the web uses, acted by the demo users and dated in the past
//! relative to today, so the queue has ages, awards carry certificates and
//! fall due for renewal, and the history and audit log read as they would.
//! An organisation that already has an assessment on a framework is
//! skipped, so running the demo again adds nothing.

use crate::app::assessments::{self as assessments_flow, EnrolInput};
use crate::app::evidence::{self as evidence_flow, StoredFile, Target};
use crate::app::reviews::{self as reviews_flow, DecisionInput};
use crate::app::{Acting, AppState, Ctx};
use crate::db::{assessments, evidence, organisations, users, Pool};
use crate::domain::access::Role;
use crate::domain::assessment::Decision;
use crate::domain::evidence::{EvidenceDetails, EvidenceKind};
use crate::domain::filetype::{samples, FileKind};
use crate::domain::organisation::name_key;
use crate::domain::standards::Framework;
use crate::error::{AppError, StartupError};
use crate::storage::EvidenceStore;
use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Enrolled,
    InProgress,
    Submitted,
    ChangesRequested,
    Resubmitted,
    Recommended,
    Awarded,
    /// Awarded long enough ago that renewal is due, with the renewal started.
    RenewalStarted,
    Expired,
    Revoked,
}

impl Stage {
    pub(super) const ALL: [Stage; 10] = [
        Stage::Enrolled,
        Stage::InProgress,
        Stage::Submitted,
        Stage::ChangesRequested,
        Stage::Resubmitted,
        Stage::Recommended,
        Stage::Awarded,
        Stage::RenewalStarted,
        Stage::Expired,
        Stage::Revoked,
    ];
}

pub(super) struct Scenario<'a> {
    pub organisation: &'a str,
    pub framework: &'a str,
    pub stage: Stage,
    /// How long ago the organisation enrolled.
    pub enrolled_days_ago: i64,
}

const SCENARIOS: &[Scenario<'static>] = &[
    Scenario {
        organisation: "Northbridge Homes",
        framework: "daha",
        stage: Stage::RenewalStarted,
        enrolled_days_ago: 1_090,
    },
    Scenario {
        organisation: "Vale Valley Housing Association",
        framework: "daha",
        stage: Stage::Submitted,
        enrolled_days_ago: 32,
    },
    Scenario {
        organisation: "Riverside Medical Practice",
        framework: "dva-quality-mark-gp",
        stage: Stage::ChangesRequested,
        enrolled_days_ago: 35,
    },
    Scenario {
        organisation: "Hillside Surgery",
        framework: "dva-quality-mark-gp",
        stage: Stage::Resubmitted,
        enrolled_days_ago: 43,
    },
    Scenario {
        organisation: "Sure Start Meadowfield Children's Centre",
        framework: "dva-quality-mark-service",
        stage: Stage::InProgress,
        enrolled_days_ago: 15,
    },
    Scenario {
        organisation: "Safe Haven Domestic Abuse Service",
        framework: "dva-quality-mark-service",
        stage: Stage::Recommended,
        enrolled_days_ago: 40,
    },
    Scenario {
        organisation: "Northbridge Building Society",
        framework: "dva-quality-mark-workplace",
        stage: Stage::Awarded,
        enrolled_days_ago: 200,
    },
    Scenario {
        organisation: "Northbridge Council Adult Social Care",
        framework: "dva-quality-mark-service",
        stage: Stage::Enrolled,
        enrolled_days_ago: 4,
    },
    Scenario {
        organisation: "Probation Service Northbridge",
        framework: "dva-quality-mark-service",
        stage: Stage::Revoked,
        enrolled_days_ago: 800,
    },
    Scenario {
        organisation: "Northbridge General Hospital",
        framework: "dva-quality-mark-service",
        stage: Stage::Expired,
        enrolled_days_ago: 1_200,
    },
];

/// Who the demo's steps are acted by: the demo users where they exist.
struct People {
    lead: Acting,
    assessor: Acting,
}

async fn acting(pool: &Pool, email: &str) -> Result<Acting, StartupError> {
    Ok(match users::find_by_email(pool, email).await? {
        Some(user) => Acting::user(&user),
        None => Acting::command_line("demo"),
    })
}

/// A step the demo expected to be allowed was refused: the demo's data and
/// the workflows' rules disagree, which is a bug worth stopping for.
fn refused(step: &str, organisation: &str, why: impl std::fmt::Debug) -> StartupError {
    StartupError::Refused(format!("demo {step} for {organisation} was refused: {why:?}"))
}

/// What every demo assessment is built with: the app, the evidence store
/// and the demo's programme lead and assessor.
struct Workshop<'a> {
    state: &'a AppState,
    pool: &'a Pool,
    store: EvidenceStore,
    people: People,
}

impl<'a> Workshop<'a> {
    async fn open(state: &'a AppState, pool: &'a Pool) -> Result<Workshop<'a>, StartupError> {
        Ok(Workshop {
            state,
            pool,
            store: state.files.clone(),
            people: People {
                lead: acting(pool, "alex.morgan@northbridge.example.org").await?,
                assessor: acting(pool, "bernadette.kaur@northbridge.example.org").await?,
            },
        })
    }

    /// Tells one scenario's story for `organisation_id`, `member` acting for
    /// the organisation; returns how many evidence files it stored.
    async fn build(
        &self,
        organisation_id: i64,
        member: &Acting,
        scenario: &Scenario<'_>,
        now: DateTime<Utc>,
    ) -> Result<usize, StartupError> {
        let framework = self
            .state
            .standards
            .current_version(scenario.framework)
            .ok_or_else(|| StartupError::Refused(format!("demo framework {} is missing", scenario.framework)))?;
        let mut builder = Builder {
            ctx: self.state.ctx(self.pool),
            store: &self.store,
            framework,
            organisation_id,
            organisation: scenario.organisation,
            id: 0,
            files: 0,
        };
        builder.build(&self.people, member, scenario, now).await?;
        Ok(builder.files)
    }
}

pub async fn run(state: &AppState, pool: &Pool, now: DateTime<Utc>) -> Result<(), StartupError> {
    let workshop = Workshop::open(state, pool).await?;
    let (mut added, mut files) = (0, 0);
    for scenario in SCENARIOS {
        let mut conn = pool.acquire().await?;
        let Some(organisation_id) = organisations::find_by_name(&mut conn, &name_key(scenario.organisation)).await?
        else {
            continue;
        };
        if !assessments::for_organisation_framework(&mut conn, organisation_id, scenario.framework)
            .await?
            .is_empty()
        {
            continue;
        }
        drop(conn);
        // Organisations without a demo user are shown as their contact working in the app.
        let member = match users::find_by_email(pool, &member_email(scenario.organisation)).await? {
            Some(user) => Acting::user(&user),
            None => {
                let contact = organisations::find(pool, organisation_id)
                    .await?
                    .map(|o| o.contact_email)
                    .unwrap_or_else(|| "demo".into());
                Acting::without_account(Role::OrgMember, Some(organisation_id), &contact)
            }
        };
        files += workshop.build(organisation_id, &member, scenario, now).await?;
        added += 1;
    }
    println!(
        "Assessments: {added} added ({} in the demo set), {files} evidence files stored.",
        SCENARIOS.len()
    );
    Ok(())
}

/// Builds many assessments (organisation id, scenario) with the same steps
/// as the demo's own, for the large data set. The organisations' staff have
/// no accounts, so each acts as its organisation's staff.
pub(super) async fn build_many<'a>(
    state: &AppState,
    pool: &Pool,
    scenarios: impl Iterator<Item = (i64, Scenario<'a>)>,
    now: DateTime<Utc>,
) -> Result<usize, StartupError> {
    let workshop = Workshop::open(state, pool).await?;
    let mut built = 0;
    for (organisation_id, scenario) in scenarios {
        let member = Acting::without_account(
            Role::OrgMember,
            Some(organisation_id),
            &format!("staff of {}", scenario.organisation),
        );
        workshop.build(organisation_id, &member, &scenario, now).await?;
        built += 1;
    }
    Ok(built)
}

/// The demo member who works for the organisation, if there is one.
fn member_email(organisation: &str) -> String {
    match organisation {
        "Northbridge Homes" => "siobhan.nibhriain@northbridgehomes.example.org",
        "Riverside Medical Practice" => "karen.holt@riverside.example.org",
        "Sure Start Meadowfield Children's Centre" => "claire.dunn@meadowfield.example.org",
        _ => "",
    }
    .to_string()
}

/// One short line from a criterion's "evidence expected", for a file title.
fn title_for(expected: &str) -> String {
    let first = expected.split([';', '.']).next().unwrap_or(expected).trim();
    first.chars().take(120).collect()
}

/// One assessment's story, told step by step through the workflows.
struct Builder<'a> {
    ctx: Ctx<'a>,
    store: &'a EvidenceStore,
    framework: &'a Framework,
    organisation_id: i64,
    organisation: &'a str,
    id: i64,
    files: usize,
}

impl Builder<'_> {
    /// A file, statement or link for `criterion`, picked by position so the
    /// demo has some of each; with `replaces`, its next version.
    async fn evidence(
        &mut self,
        at: DateTime<Utc>,
        member: &Acting,
        index: usize,
        criterion_id: &str,
        replaces: bool,
    ) -> Result<(), StartupError> {
        let ctx = self.ctx.at(at);
        let Some(criterion) = self.framework.criteria().find(|c| c.id == criterion_id) else {
            return Ok(());
        };
        let slug: String = self
            .organisation
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-");
        let version_note = if replaces { " (revised)" } else { "" };
        let mut details = EvidenceDetails {
            kind: EvidenceKind::Statement,
            title: String::new(),
            statement: String::new(),
            url: String::new(),
            applies_from: (at - Duration::days(30)).date_naive(),
            valid_until: None,
        };
        let mut file: Option<(Vec<u8>, String, FileKind)> = None;
        match index % 6 {
            0 | 3 => {
                details.kind = EvidenceKind::File;
                details.title = format!("{}{version_note}", title_for(&criterion.evidence));
                let pdf = samples::pdf(
                    &details.title.chars().filter(char::is_ascii).collect::<String>(),
                    &[
                        self.organisation,
                        &format!("Criterion {}", criterion.id),
                        "Demo document: fictional content.",
                    ],
                );
                let name = format!("{} {}{}.pdf", slug, criterion.id, if replaces { " v2" } else { "" });
                // Reviewed every three years or so: due a little after an award would end.
                details.valid_until = Some((at + Duration::days(1_155)).date_naive());
                file = Some((pdf, name, FileKind::Pdf));
            }
            5 => {
                details.kind = EvidenceKind::File;
                details.title = "Poster on display in reception".into();
                let png = samples::png(48, 32, [29, 112, 184]);
                file = Some((png, format!("{slug} poster {}.png", criterion.id), FileKind::Png));
            }
            4 => {
                details.kind = EvidenceKind::Link;
                details.title = "Page on our website".into();
                details.url = format!("https://{slug}.example.org/domestic-abuse/{}", criterion.id);
            }
            _ => {
                details.title = format!("How we meet {}{version_note}", criterion.id);
                details.statement = format!(
                    "{} is committed to this standard.\n\n{}\n\nOur domestic abuse lead reviews this every quarter and reports to the senior management team.",
                    self.organisation, criterion.text
                );
            }
        }
        let stored = match &file {
            Some((bytes, _, _)) => {
                let stored = self.store.put_bytes(bytes).await.map_err(AppError::internal)?;
                if stored.newly_created {
                    self.files += 1;
                }
                Some(stored)
            }
            None => None,
        };
        let stored_file = match (&stored, &file) {
            (Some(stored), Some((_, name, kind))) => Some(StoredFile {
                sha256: &stored.sha256,
                name,
                kind: *kind,
                size: stored.size,
            }),
            _ => None,
        };
        let row = assessments::find(ctx.db, self.id).await?.ok_or(AppError::NotFound)?;
        let replaces = if replaces {
            evidence::for_assessment(ctx.db, self.id)
                .await?
                .into_iter()
                .find(|e| e.criterion_id == criterion_id && e.is_current())
        } else {
            None
        };
        let target = Target {
            row,
            criterion,
            replaces,
        };
        evidence_flow::save(ctx, member, &target, &details, stored_file.as_ref()).await?;
        Ok(())
    }

    async fn submit(&self, at: DateTime<Utc>, member: &Acting) -> Result<(), StartupError> {
        assessments_flow::submit(self.ctx.at(at), member, self.id)
            .await?
            .map_err(|missing| refused("submission", self.organisation, missing))?;
        Ok(())
    }

    /// Decisions on every criterion: met where there is evidence, except those in `gaps`.
    async fn decide(
        &self,
        at: DateTime<Utc>,
        assessor: &Acting,
        gaps: &[(&str, Decision, &str)],
    ) -> Result<(), StartupError> {
        let ctx = self.ctx.at(at);
        let with_evidence: Vec<String> = evidence::for_assessment(ctx.db, self.id)
            .await?
            .into_iter()
            .filter(|e| e.is_current())
            .map(|e| e.criterion_id)
            .collect();
        let decisions: Vec<DecisionInput> = self
            .framework
            .criteria()
            .map(|criterion| {
                let (decision, feedback) = match gaps.iter().find(|(id, _, _)| *id == criterion.id) {
                    Some((_, decision, feedback)) => (*decision, *feedback),
                    None if with_evidence.contains(&criterion.id) => (Decision::Met, ""),
                    None if !criterion.mandatory => {
                        (Decision::NotApplicable, "Not relevant to this organisation's services.")
                    }
                    None => (Decision::NotMet, "No evidence was provided."),
                };
                DecisionInput {
                    criterion_id: criterion.id.clone(),
                    decision,
                    feedback: feedback.to_string(),
                }
            })
            .collect();
        let seen = assessments::find(ctx.db, self.id).await?.ok_or(AppError::NotFound)?;
        reviews_flow::record_decisions(ctx, assessor, &seen, &decisions).await?;
        Ok(())
    }

    async fn build(
        &mut self,
        people: &People,
        member: &Acting,
        scenario: &Scenario<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StartupError> {
        let day = |d: i64| now - Duration::days(scenario.enrolled_days_ago - d);
        let enrolled = assessments_flow::enrol(
            self.ctx.at(day(0)),
            member,
            &EnrolInput {
                organisation_id: Some(self.organisation_id),
                framework_id: &self.framework.id,
            },
        )
        .await?
        .map_err(|e| refused("enrolment", self.organisation, e))?;
        self.id = enrolled.id;
        if scenario.stage == Stage::Enrolled {
            return Ok(());
        }

        // Evidence for every mandatory criterion (half of them while still in
        // progress) and a few optional ones.
        let mandatory: Vec<String> = self
            .framework
            .criteria()
            .filter(|c| c.mandatory)
            .map(|c| c.id.clone())
            .collect();
        let optional: Vec<String> = self
            .framework
            .criteria()
            .filter(|c| !c.mandatory)
            .map(|c| c.id.clone())
            .take(3)
            .collect();
        let chosen: Vec<String> = if scenario.stage == Stage::InProgress {
            mandatory.iter().step_by(2).cloned().collect()
        } else {
            mandatory.iter().chain(optional.iter()).cloned().collect()
        };
        for (i, criterion) in chosen.iter().enumerate() {
            self.evidence(day(2 + (i as i64 % 10)), member, i, criterion, false)
                .await?;
        }
        if scenario.stage == Stage::InProgress {
            return Ok(());
        }

        self.submit(day(20), member).await?;
        if scenario.stage == Stage::Submitted {
            return Ok(());
        }

        let gaps: Vec<(&str, Decision, &str)> = match scenario.stage {
            Stage::ChangesRequested | Stage::Resubmitted => vec![
                (
                    mandatory[0].as_str(),
                    Decision::PartiallyMet,
                    "The policy is dated 2019 and has not been reviewed since. Please send the current, board-approved version.",
                ),
                (
                    mandatory[2].as_str(),
                    Decision::NotMet,
                    "The statement describes intentions, not practice. Please add training records or audit results that show this happens.",
                ),
            ],
            _ => Vec::new(),
        };
        self.decide(day(30), &people.assessor, &gaps).await?;
        if !gaps.is_empty() {
            reviews_flow::request_changes(
                self.ctx.at(day(30)),
                &people.assessor,
                self.id,
                "Thank you: most of the evidence is strong. Two criteria need more before we can recommend an award; see the feedback on each.",
            )
            .await?
            .map_err(|e| refused("request for changes", self.organisation, e))?;
            if scenario.stage == Stage::ChangesRequested {
                return Ok(());
            }
            // The organisation answers the feedback with new versions, then resubmits.
            for (criterion, _, _) in &gaps {
                self.evidence(day(38), member, 0, criterion, true).await?;
            }
            self.submit(day(40), member).await?;
            return Ok(());
        }
        if scenario.stage == Stage::Recommended {
            reviews_flow::recommend(self.ctx.at(day(31)), &people.assessor, self.id)
                .await?
                .map_err(|e| refused("recommendation", self.organisation, e))?;
            return Ok(());
        }

        let awarded =
            assessments_flow::award(self.ctx.at(day(45)), &people.lead, self.id, Some(day(45).date_naive())).await?;
        if let Err(why) = awarded {
            let why = match why {
                assessments_flow::AwardRefused::Date(message) => message,
                assessments_flow::AwardRefused::Blocking(blocking) => format!("{blocking:?}"),
            };
            return Err(refused("award", self.organisation, why));
        }
        match scenario.stage {
            Stage::Revoked => {
                let reason = "A Domestic Homicide Review found that the service's domestic abuse procedure was not followed and the named lead post has been vacant for a year. The organisation may re-apply once both are addressed.";
                assessments_flow::revoke(self.ctx.at(now - Duration::days(30)), &people.lead, self.id, reason)
                    .await?
                    .map_err(|e| refused("revocation", self.organisation, e))?;
            }
            Stage::RenewalStarted => {
                assessments_flow::start_renewal(self.ctx.at(now - Duration::days(10)), member, self.id).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::assessment as lifecycle;

    #[test]
    fn every_stage_is_in_the_demo_and_names_a_demo_organisation() {
        for stage in Stage::ALL {
            assert!(SCENARIOS.iter().any(|s| s.stage == stage), "{stage:?}");
        }
        for scenario in SCENARIOS {
            assert!(
                super::super::demo::has_organisation(scenario.organisation),
                "{}",
                scenario.organisation
            );
        }
    }

    #[test]
    fn the_dates_put_each_award_where_its_stage_says() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("date");
        let status = |enrolled_days_ago: i64| {
            let awarded = today - Duration::days(enrolled_days_ago - 45);
            lifecycle::award_status(lifecycle::expiry_date(awarded, 36), today, 90)
        };
        for scenario in SCENARIOS {
            let expected = match scenario.stage {
                Stage::RenewalStarted => lifecycle::AwardStatus::RenewalDue,
                Stage::Expired => lifecycle::AwardStatus::Expired,
                Stage::Awarded | Stage::Revoked => lifecycle::AwardStatus::Awarded,
                _ => continue,
            };
            assert_eq!(
                status(scenario.enrolled_days_ago),
                expected,
                "{}",
                scenario.organisation
            );
        }
    }

    #[test]
    fn file_titles_are_short() {
        assert_eq!(
            title_for("Current domestic abuse policy, approved by the board; dated"),
            "Current domestic abuse policy, approved by the board"
        );
    }
}
