//! The evidence part of `qmtrack demo`: assessments at every stage of the
//! lifecycle for the demo organisations, with real (tiny) files in the
//! evidence store, decisions and feedback, and the history and audit entries
//! the app itself would have written. Dates are set in the past relative to
//! today, so the queue has ages and awards fall due for renewal. An
//! organisation that already has an assessment on a framework is skipped,
//! so running the demo again adds nothing.

use crate::clock::to_db;
use crate::config::AppConfig;
use crate::db::assessments::{self, NewAssessment, NewDecision};
use crate::db::audit::{self, Actor, Entry};
use crate::db::evidence::{self, FileRef, NewEvidence};
use crate::db::{organisations, users, Pool};
use crate::domain::assessment::{self as lifecycle, CarryCandidate, Decision, State};
use crate::domain::filetype::{samples, FileKind};
use crate::domain::organisation::name_key;
use crate::domain::standards::{Framework, StandardsLibrary};
use crate::error::AppError;
use crate::storage::EvidenceStore;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::AnyConnection;

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

/// Who the demo's steps are recorded as: the demo users where they exist.
struct People {
    lead: Actor,
    assessor: Actor,
}

async fn person(pool: &Pool, email: &str) -> Result<Actor, AppError> {
    Ok(match users::find_by_email(pool, email).await? {
        Some(user) => Actor::user(user.id, &user.email),
        None => Actor::command_line("demo"),
    })
}

pub async fn run(config: &AppConfig, pool: &Pool, now: DateTime<Utc>) -> Result<(), AppError> {
    let library = crate::domain::standards::load_dir(&config.standards_dir).map_err(AppError::Standards)?;
    let store = EvidenceStore::new(&config.data_dir);
    let people = People {
        lead: person(pool, "alex.morgan@northbridge.example.org").await?,
        assessor: person(pool, "bernadette.kaur@northbridge.example.org").await?,
    };
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
        let framework = library
            .current_version(scenario.framework)
            .ok_or_else(|| AppError::Internal(format!("demo framework {} is missing", scenario.framework)))?;
        // Organisations without a demo user are shown as their contact working in the app.
        let member = match users::find_by_email(pool, &member_email(scenario.organisation)).await? {
            Some(user) => Actor::user(user.id, &user.email),
            None => Actor {
                user_id: None,
                label: organisations::find(pool, organisation_id)
                    .await?
                    .map(|o| o.contact_email)
                    .unwrap_or_else(|| "demo".into()),
            },
        };
        files += build(
            pool,
            &store,
            &library,
            framework,
            &people,
            &member,
            organisation_id,
            scenario,
            now,
        )
        .await?;
        added += 1;
    }
    println!(
        "Assessments: {added} added ({} in the demo set), {files} evidence files stored.",
        SCENARIOS.len()
    );
    Ok(())
}

/// Builds many assessments (organisation id, scenario) with the same steps
/// as the demo's own, for the large data set. The organisations' staff are
/// recorded by their organisation's name, as they have no accounts.
pub(super) async fn build_many<'a>(
    config: &AppConfig,
    pool: &Pool,
    scenarios: impl Iterator<Item = (i64, Scenario<'a>)>,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let library = crate::domain::standards::load_dir(&config.standards_dir).map_err(AppError::Standards)?;
    let store = EvidenceStore::new(&config.data_dir);
    let people = People {
        lead: person(pool, "alex.morgan@northbridge.example.org").await?,
        assessor: person(pool, "bernadette.kaur@northbridge.example.org").await?,
    };
    let mut built = 0;
    for (organisation_id, scenario) in scenarios {
        let framework = library
            .current_version(scenario.framework)
            .ok_or_else(|| AppError::Internal(format!("demo framework {} is missing", scenario.framework)))?;
        let member = Actor {
            user_id: None,
            label: format!("staff of {}", scenario.organisation),
        };
        build(
            pool,
            &store,
            &library,
            framework,
            &people,
            &member,
            organisation_id,
            &scenario,
            now,
        )
        .await?;
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

/// Everything that happens to one assessment, in order, each step dated.
struct Builder<'a> {
    store: &'a EvidenceStore,
    framework: &'a Framework,
    organisation_id: i64,
    organisation: &'a str,
    id: i64,
    state: State,
    submission: i64,
    files: usize,
}

impl Builder<'_> {
    /// Moves the assessment on, recording the step (and in the audit log, as `action`).
    async fn event(
        &mut self,
        conn: &mut AnyConnection,
        at: &str,
        actor: &Actor,
        to: State,
        note: &str,
        action: Option<&str>,
    ) -> Result<(), AppError> {
        let from = self.state;
        if from != to && !assessments::set_state(conn, self.id, from, to, at).await? {
            return Err(AppError::Internal(format!(
                "demo assessment {} moved unexpectedly",
                self.id
            )));
        }
        assessments::record_event(conn, self.id, at, actor, from.as_str(), to, note).await?;
        if let Some(action) = action {
            audit::record(
                conn,
                at,
                actor,
                Entry {
                    action,
                    entity: "assessment",
                    entity_id: Some(self.id),
                    organisation_id: Some(self.organisation_id),
                    before: Some(json!({"state": from.as_str()})),
                    after: Some(json!({"state": to.as_str(), "note": note})),
                },
            )
            .await?;
        }
        self.state = to;
        Ok(())
    }

    /// A file, statement or link for `criterion`, picked by position so the demo has some of each.
    async fn evidence(
        &mut self,
        conn: &mut AnyConnection,
        at: DateTime<Utc>,
        actor: &Actor,
        index: usize,
        criterion_id: &str,
        replaces: Option<(i64, i64)>,
    ) -> Result<(), AppError> {
        let Some(criterion) = self.framework.criteria().find(|c| c.id == criterion_id) else {
            return Ok(());
        };
        let applies_from = (at - Duration::days(30)).date_naive().format("%Y-%m-%d").to_string();
        let slug: String = self
            .organisation
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-");
        let version_note = if replaces.is_some() { " (revised)" } else { "" };
        let (kind, title, statement, url, bytes, name, file_kind, valid_until) = match index % 6 {
            0 | 3 => {
                let title = format!("{}{version_note}", title_for(&criterion.evidence));
                let pdf = samples::pdf(
                    &title.chars().filter(char::is_ascii).collect::<String>(),
                    &[self.organisation, &format!("Criterion {}", criterion.id), "Demo document: fictional content."],
                );
                let name = format!("{} {}{}.pdf", slug, criterion.id, if replaces.is_some() { " v2" } else { "" });
                // Reviewed every three years or so: due a little after an award would end.
                let until = (at + Duration::days(1_155)).date_naive().format("%Y-%m-%d").to_string();
                ("file", title, String::new(), String::new(), Some(pdf), name, Some(FileKind::Pdf), until)
            }
            5 => {
                let png = samples::png(48, 32, [29, 112, 184]);
                let name = format!("{slug} poster {}.png", criterion.id);
                ("file", "Poster on display in reception".to_string(), String::new(), String::new(), Some(png), name, Some(FileKind::Png), String::new())
            }
            4 => (
                "link",
                "Page on our website".to_string(),
                String::new(),
                format!("https://{slug}.example.org/domestic-abuse/{}", criterion.id),
                None,
                String::new(),
                None,
                String::new(),
            ),
            _ => (
                "statement",
                format!("How we meet {}{version_note}", criterion.id),
                format!(
                    "{} is committed to this standard.\n\n{}\n\nOur domestic abuse lead reviews this every quarter and reports to the senior management team.",
                    self.organisation, criterion.text
                ),
                String::new(),
                None,
                String::new(),
                None,
                String::new(),
            ),
        };
        let stored = match &bytes {
            Some(bytes) => {
                let stored = self.store.put_bytes(bytes).await.map_err(AppError::internal)?;
                if stored.newly_created {
                    self.files += 1;
                }
                Some(stored)
            }
            None => None,
        };
        let file = match (&stored, file_kind) {
            (Some(stored), Some(kind)) => FileRef {
                sha256: &stored.sha256,
                name: &name,
                kind: kind.as_str(),
                size: i64::try_from(stored.size).unwrap_or(0),
            },
            _ => FileRef::default(),
        };
        let now = to_db(at);
        if let Some((_, _)) = replaces {
            let current = evidence::for_assessment_in(conn, self.id).await?;
            if let Some(old) = current
                .iter()
                .find(|e| e.criterion_id == criterion_id && e.is_current())
            {
                evidence::supersede(conn, old.id, &now).await?;
            }
        }
        let id = evidence::insert(
            conn,
            &NewEvidence {
                assessment_id: self.id,
                organisation_id: self.organisation_id,
                criterion_id,
                replaces,
                kind,
                title: &title,
                statement: &statement,
                url: &url,
                file: file.clone(),
                applies_from: &applies_from,
                valid_until: &valid_until,
                for_submission: self.submission + 1,
                carried_from: None,
            },
            actor,
            &now,
        )
        .await?;
        audit::record(
            conn,
            &now,
            actor,
            Entry {
                action: if replaces.is_some() {
                    "evidence.replace"
                } else {
                    "evidence.add"
                },
                entity: "evidence",
                entity_id: Some(id),
                organisation_id: Some(self.organisation_id),
                before: None,
                after: Some(
                    json!({"assessment_id": self.id, "criterion_id": criterion_id, "kind": kind,
                    "title": title, "file_name": file.name, "file_sha256": file.sha256}),
                ),
            },
        )
        .await?;
        Ok(())
    }

    async fn submit(&mut self, conn: &mut AnyConnection, at: &str, actor: &Actor) -> Result<(), AppError> {
        let to = self
            .state
            .apply(lifecycle::Action::Submit)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        assessments::submit(conn, self.id, self.state, to, at).await?;
        let from = self.state;
        self.state = to;
        self.submission += 1;
        assessments::record_event(conn, self.id, at, actor, from.as_str(), to, "").await?;
        audit::record(
            conn,
            at,
            actor,
            Entry {
                action: if to == State::Resubmitted {
                    "assessment.resubmit"
                } else {
                    "assessment.submit"
                },
                entity: "assessment",
                entity_id: Some(self.id),
                organisation_id: Some(self.organisation_id),
                before: Some(json!({"state": from.as_str()})),
                after: Some(json!({"state": to.as_str(), "submission": self.submission})),
            },
        )
        .await?;
        Ok(())
    }

    /// Decisions on every criterion with evidence: met, except those in `gaps`.
    async fn decide(
        &mut self,
        conn: &mut AnyConnection,
        at: &str,
        assessor: &Actor,
        gaps: &[(&str, Decision, &str)],
    ) -> Result<(), AppError> {
        let with_evidence: Vec<String> = evidence::for_assessment_in(conn, self.id)
            .await?
            .into_iter()
            .filter(|e| e.is_current())
            .map(|e| e.criterion_id)
            .collect();
        for criterion in self.framework.criteria() {
            let (decision, feedback) = match gaps.iter().find(|(id, _, _)| *id == criterion.id) {
                Some((_, decision, feedback)) => (*decision, *feedback),
                None if with_evidence.contains(&criterion.id) => (Decision::Met, ""),
                None if !criterion.mandatory => {
                    (Decision::NotApplicable, "Not relevant to this organisation's services.")
                }
                None => (Decision::NotMet, "No evidence was provided."),
            };
            assessments::insert_decision(
                conn,
                self.id,
                &NewDecision {
                    criterion_id: &criterion.id,
                    submission: self.submission,
                    decision: decision.as_str(),
                    feedback,
                },
                assessor,
                at,
            )
            .await?;
        }
        if self.state != State::UnderReview {
            self.event(
                conn,
                at,
                assessor,
                State::UnderReview,
                "Review started",
                Some("review.decide"),
            )
            .await?;
        }
        Ok(())
    }

    async fn award(&mut self, conn: &mut AnyConnection, on: DateTime<Utc>, lead: &Actor) -> Result<(), AppError> {
        let awarded_on = on.date_naive();
        let expires_on = lifecycle::expiry_date(awarded_on, self.framework.validity_months);
        let at = to_db(on);
        let (a, e) = (
            awarded_on.format("%Y-%m-%d").to_string(),
            expires_on.format("%Y-%m-%d").to_string(),
        );
        assessments::award(conn, self.id, self.state, &a, &e, &at).await?;
        let from = self.state;
        self.state = State::Awarded;
        let note = format!(
            "Awarded on {}; expires on {}",
            lifecycle::display_date(awarded_on),
            lifecycle::display_date(expires_on)
        );
        assessments::record_event(conn, self.id, &at, lead, from.as_str(), State::Awarded, &note).await?;
        audit::record(
            conn,
            &at,
            lead,
            Entry {
                action: "assessment.award",
                entity: "assessment",
                entity_id: Some(self.id),
                organisation_id: Some(self.organisation_id),
                before: Some(json!({"state": from.as_str()})),
                after: Some(json!({"state": "awarded", "awarded_on": a, "expires_on": e})),
            },
        )
        .await?;
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
async fn build(
    pool: &Pool,
    store: &EvidenceStore,
    library: &StandardsLibrary,
    framework: &Framework,
    people: &People,
    member: &Actor,
    organisation_id: i64,
    scenario: &Scenario<'_>,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let day = |d: i64| now - Duration::days(scenario.enrolled_days_ago - d);
    let mut tx = crate::db::begin_write(pool).await?;
    let enrolled_at = to_db(day(0));
    let id = assessments::insert(
        &mut tx,
        &NewAssessment {
            organisation_id,
            framework_id: &framework.id,
            framework_version: &framework.version,
            state: State::Enrolled,
            renewal_of: None,
        },
        &enrolled_at,
    )
    .await?;
    let mut b = Builder {
        store,
        framework,
        organisation_id,
        organisation: scenario.organisation,
        id,
        state: State::Enrolled,
        submission: 0,
        files: 0,
    };
    let note = format!("Enrolled on {} version {}", framework.name, framework.version);
    assessments::record_event(&mut tx, id, &enrolled_at, member, "", State::Enrolled, &note).await?;
    audit::record(
        &mut tx,
        &enrolled_at,
        member,
        Entry {
            action: "assessment.enrol",
            entity: "assessment",
            entity_id: Some(id),
            organisation_id: Some(organisation_id),
            before: None,
            after: Some(json!({"framework_id": framework.id, "framework_version": framework.version})),
        },
    )
    .await?;
    if scenario.stage == Stage::Enrolled {
        tx.commit().await?;
        return Ok(0);
    }

    // Evidence for every mandatory criterion (half of them while still in
    // progress) and a few optional ones.
    let mandatory: Vec<String> = framework
        .criteria()
        .filter(|c| c.mandatory)
        .map(|c| c.id.clone())
        .collect();
    let optional: Vec<String> = framework
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
    let at = to_db(day(2));
    b.event(&mut tx, &at, member, State::InProgress, "First evidence added", None)
        .await?;
    for (i, criterion) in chosen.iter().enumerate() {
        b.evidence(&mut tx, day(2 + (i as i64 % 10)), member, i, criterion, None)
            .await?;
    }
    if scenario.stage == Stage::InProgress {
        tx.commit().await?;
        return Ok(b.files);
    }

    b.submit(&mut tx, &to_db(day(20)), member).await?;
    if scenario.stage == Stage::Submitted {
        tx.commit().await?;
        return Ok(b.files);
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
    b.decide(&mut tx, &to_db(day(30)), &people.assessor, &gaps).await?;
    if !gaps.is_empty() {
        b.event(
            &mut tx,
            &to_db(day(30)),
            &people.assessor,
            State::ChangesRequested,
            "Thank you: most of the evidence is strong. Two criteria need more before we can recommend an award; see the feedback on each.",
            Some("assessment.request_changes"),
        )
        .await?;
        if scenario.stage == Stage::ChangesRequested {
            tx.commit().await?;
            return Ok(b.files);
        }
        // The organisation answers the feedback with new versions, then resubmits.
        for (criterion, _, _) in &gaps {
            let current = evidence::for_assessment_in(&mut tx, id).await?;
            let replaces = current
                .iter()
                .find(|e| e.criterion_id == *criterion && e.is_current())
                .map(|e| (e.item_id, e.version));
            b.evidence(&mut tx, day(38), member, 0, criterion, replaces).await?;
        }
        b.submit(&mut tx, &to_db(day(40)), member).await?;
        tx.commit().await?;
        return Ok(b.files);
    }
    if scenario.stage == Stage::Recommended {
        b.event(
            &mut tx,
            &to_db(day(31)),
            &people.assessor,
            State::Recommended,
            "",
            Some("assessment.recommend"),
        )
        .await?;
        tx.commit().await?;
        return Ok(b.files);
    }

    b.award(&mut tx, day(45), &people.lead).await?;
    if scenario.stage == Stage::Revoked {
        let reason = "A Domestic Homicide Review found that the service's domestic abuse procedure was not followed and the named lead post has been vacant for a year. The organisation may re-apply once both are addressed.";
        let at = to_db(now - Duration::days(30));
        assessments::revoke(&mut tx, id, reason, &at).await?;
        assessments::record_event(&mut tx, id, &at, &people.lead, "awarded", State::Revoked, reason).await?;
        audit::record(
            &mut tx,
            &at,
            &people.lead,
            Entry {
                action: "assessment.revoke",
                entity: "assessment",
                entity_id: Some(id),
                organisation_id: Some(organisation_id),
                before: Some(json!({"state": "awarded"})),
                after: Some(json!({"state": "revoked", "reason": reason})),
            },
        )
        .await?;
    }
    if scenario.stage == Stage::RenewalStarted {
        renew(&mut tx, &b, library, member, now - Duration::days(10)).await?;
    }
    tx.commit().await?;
    Ok(b.files)
}

/// Starts the renewal as the app does: current version, valid evidence carried over.
async fn renew(
    conn: &mut AnyConnection,
    old: &Builder<'_>,
    library: &StandardsLibrary,
    member: &Actor,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    let framework = library
        .current_version(&old.framework.id)
        .ok_or_else(|| AppError::Internal("demo framework is missing".into()))?;
    let now = to_db(at);
    let current: Vec<_> = evidence::for_assessment_in(conn, old.id)
        .await?
        .into_iter()
        .filter(|e| e.is_current())
        .collect();
    let candidates: Vec<CarryCandidate> = current
        .iter()
        .map(|e| CarryCandidate {
            evidence_id: e.id,
            criterion_id: e.criterion_id.clone(),
            valid_until: e.valid_until.as_deref().and_then(lifecycle::parse_date),
        })
        .collect();
    let carried = lifecycle::carry_over(&candidates, framework, at.date_naive());
    let id = assessments::insert(
        conn,
        &NewAssessment {
            organisation_id: old.organisation_id,
            framework_id: &framework.id,
            framework_version: &framework.version,
            state: State::InProgress,
            renewal_of: Some(old.id),
        },
        &now,
    )
    .await?;
    for (evidence_id, _) in &carried {
        let Some(e) = current.iter().find(|e| e.id == *evidence_id) else {
            continue;
        };
        evidence::insert(
            conn,
            &NewEvidence {
                assessment_id: id,
                organisation_id: old.organisation_id,
                criterion_id: &e.criterion_id,
                replaces: None,
                kind: &e.kind,
                title: &e.title,
                statement: &e.statement,
                url: &e.url,
                file: FileRef {
                    sha256: &e.file_sha256,
                    name: &e.file_name,
                    kind: &e.file_type,
                    size: e.file_size,
                },
                applies_from: &e.applies_from,
                valid_until: e.valid_until.as_deref().unwrap_or(""),
                for_submission: 1,
                carried_from: Some(e.id),
            },
            member,
            &now,
        )
        .await?;
    }
    let note = format!(
        "Renewal of assessment {} on {} version {}; {} item(s) of evidence carried over",
        old.id,
        framework.name,
        framework.version,
        carried.len()
    );
    assessments::record_event(conn, id, &now, member, "", State::InProgress, &note).await?;
    audit::record(
        conn,
        &now,
        member,
        Entry {
            action: "assessment.renew",
            entity: "assessment",
            entity_id: Some(id),
            organisation_id: Some(old.organisation_id),
            before: None,
            after: Some(json!({"renewal_of": old.id, "carried_over": carried.len()})),
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_is_in_the_demo_and_names_a_demo_organisation() {
        use Stage::*;
        for stage in [
            Enrolled,
            InProgress,
            Submitted,
            ChangesRequested,
            Resubmitted,
            Recommended,
            Awarded,
            RenewalStarted,
            Expired,
            Revoked,
        ] {
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
