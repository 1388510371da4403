//! The start page: where each role begins, with what to do next.
//! - The programme lead starts on the dashboard, under a short list of
//!   what needs their attention: awards due for renewal, the review queue's
//!   oldest items and imports waiting.
//! - An assessor sees the review queue's oldest items and their ages.
//! - A training lead sees sessions coming up, registers still to take and
//!   imports waiting in preview, and people whose training lapses soon.
//! - An organisation member sees where their organisation stands on each
//!   assessment and the next step, renewals due, evidence about to run out
//!   its certificates and its staff's training by programme. Only their own
//!   organisation: everything here is
//!   read with their organisation's id, never one from the request.

use super::auth::CurrentUser;
use super::reports::PeriodQuery;
use super::templates::{Template, Templates};
use super::{AppState, Page, SignedIn};
use crate::app::assessments::{load_view_in, standing, Summary};
use crate::clock::display;
use crate::db::assessments::{self, AssessmentRow};
use crate::db::{attention, home as reads, organisations, Conn, Db};
use crate::domain::access::{OrgScope, Role};
use crate::domain::assessment::State;
use crate::domain::dates::uk_date;
use crate::domain::next_step::NextStep;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Days, NaiveDate, Utc};
use rocket::{get, routes, Route};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![home]
}

/// How many items each list on a home page shows; the full lists are a link away.
const HOME_LIST: i64 = 10;

/// Registers older than this are history rather than a job for today: a
/// register is taken from the sign-in sheet within weeks, and a session
/// unmarked for longer is found on the Training pages. The page says so.
const REGISTER_LOOKBACK_DAYS: u64 = 90;

/// How far ahead the training lead is warned of training that lapses.
const LAPSE_WARNING_DAYS: u64 = 60;

/// The programme lead's attention list is a short block above the figures.
const ATTENTION_LIST: i64 = 5;

#[get("/?<period..>")]
async fn home(
    period: PeriodQuery<'_>,
    templates: &rocket::State<Templates>,
    signed_in: SignedIn<'_>,
) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    match (user.user.role, user.actor().org_scope()) {
        (Role::ProgrammeLead, _) => {
            let attention = async { lead_attention(user, db, state).await.map(Some) };
            super::reports::dashboard_page(&page, templates, db, state, period, attention).await
        }
        (Role::Assessor, _) => assessor_home(user, &page, db, state).await,
        (Role::TrainingLead, _) => training_lead_home(&page, db, state).await,
        (Role::OrgMember, OrgScope::Only(organisation_id)) => {
            member_home(user, &page, db, state, organisation_id).await
        }
        (Role::OrgMember, OrgScope::All) => Err(AppError::NotFound),
    }
}

fn framework_name(state: &AppState, id: &str, version: &str) -> String {
    state
        .standards
        .get(id, version)
        .map(|f| f.name.clone())
        .unwrap_or_else(|| id.to_string())
}

fn date_display(day: NaiveDate) -> String {
    uk_date(day)
}

fn days_after(today: NaiveDate, days: u64) -> NaiveDate {
    today.checked_add_days(Days::new(days)).unwrap_or(today)
}

/// What the programme lead should look at first: awards due for renewal,
/// the review queue's oldest items and imports waiting in preview, each
/// with a link to where it is dealt with and how many there are in all.
async fn lead_attention(user: &CurrentUser, db: &Db, state: &AppState) -> AppResult<Value> {
    let today = state.clock.today();
    let due_by = days_after(today, state.config.renewal_notice_days);
    // Four small reads, none waiting on another.
    let (awards, queue, imports, totals) = rocket::tokio::try_join!(
        attention::awards_due(db, today, due_by, ATTENTION_LIST),
        reads::review_queue_head(db, user.user.id, ATTENTION_LIST),
        reads::pending_imports(db, ATTENTION_LIST),
        attention::lead_totals(db, today, due_by),
    )?;
    let awards: Vec<Value> = awards
        .into_iter()
        .map(|a| {
            json!({"organisation_name": a.organisation_name,
                "framework_name": framework_name(state, &a.framework_id, &a.framework_version),
                "expires": date_display(a.expires_on),
                "renewal_started": a.renewal_id.is_some(),
                "href": format!("/assessments/{}", a.renewal_id.unwrap_or(a.id))})
        })
        .collect();
    let queue: Vec<Value> = queue
        .into_iter()
        .map(|item| {
            json!({"organisation_name": item.organisation_name,
                "framework_name": framework_name(state, &item.framework_id, &item.framework_version),
                "age": super::reviews::age(days_ago(today, item.submitted_at)),
                "href": format!("/assessments/{}", item.id)})
        })
        .collect();
    let imports: Vec<Value> = imports
        .into_iter()
        .map(|i| json!({"id": i.id, "file_name": i.file_name, "by": i.actor_label, "at": display(i.created_at)}))
        .collect();
    Ok(json!({
        "awards": awards, "awards_more": totals.awards_due - awards.len() as i64,
        "notice_days": state.config.renewal_notice_days,
        "queue": queue, "queue_more": totals.review_queue - queue.len() as i64,
        "imports": imports, "imports_more": totals.pending_imports - imports.len() as i64,
    }))
}

/// What a completion is called: "Safe & Together: CORE training".
fn completion_title(state: &AppState, programme_id: &str, completion_id: &str) -> String {
    let Some(programme) = state.programmes.current_version(programme_id) else {
        return programme_id.to_string();
    };
    programme
        .completions
        .iter()
        .find(|c| c.id == completion_id)
        .map_or_else(
            || programme.name.clone(),
            |c| crate::domain::certificate::training_title(&programme.name, &c.title),
        )
}

fn days_ago(today: NaiveDate, at: DateTime<Utc>) -> i64 {
    (today - crate::clock::local_date(at)).num_days()
}

async fn assessor_home(user: &CurrentUser, page: &Page<'_>, db: &Db, state: &AppState) -> AppResult<Template> {
    let today = state.clock.today();
    let queue: Vec<Value> = reads::review_queue_head(db, user.user.id, HOME_LIST)
        .await?
        .into_iter()
        .map(|item| {
            let days = days_ago(today, item.submitted_at);
            json!({
                "id": item.id,
                "organisation_name": item.organisation_name,
                "framework_name": framework_name(state, &item.framework_id, &item.framework_version),
                "renewal": item.is_renewal,
                "state_label": item.state.label(),
                "submission_label": if item.submission > 1 { format!("Resubmission {}", item.submission - 1) } else { "First submission".into() },
                "sent": display(item.submitted_at),
                "age_days": days,
                "age": super::reviews::age(days),
                "started_by_me": item.my_decisions > 0,
            })
        })
        .collect();
    let counts = reads::review_counts(db).await?;
    let count = |wanted: &[State]| -> i64 { counts.iter().filter(|(s, _)| wanted.contains(s)).map(|(_, n)| n).sum() };
    let waiting = count(&[State::Submitted, State::Resubmitted, State::UnderReview]);
    Ok(page.render(
        "home/assessor",
        json!({
            "title": "Assessments to review",
            "section": "home",
            "queue": queue,
            "waiting": waiting,
            "recommended": count(&[State::Recommended]),
            "sent_back": count(&[State::ChangesRequested]),
        }),
    ))
}

/// A session on the training lead's home, with the link that does its job.
fn session_json(state: &AppState, s: &reads::SessionItem) -> Value {
    let register_href = match s.cohort_id {
        Some(cohort) => format!("/training/cohorts/{cohort}"),
        None => format!("/training/sessions/{}", s.id),
    };
    json!({
        "id": s.id,
        "date_display": date_display(s.session_date),
        "start_time": s.start_time,
        "venue": s.venue,
        "programme_name": super::training::programme_name(state, &s.programme_id),
        "module_title": crate::app::training_views::module_title(state, &s.programme_id, &s.module_id),
        "cohort_name": s.cohort_name,
        "href": format!("/training/sessions/{}", s.id),
        "register_href": register_href,
    })
}

async fn training_lead_home(page: &Page<'_>, db: &Db, state: &AppState) -> AppResult<Template> {
    let today = state.clock.today();
    let since_date = today
        .checked_sub_days(Days::new(REGISTER_LOOKBACK_DAYS))
        .unwrap_or(today);
    let since = since_date;
    let upcoming: Vec<Value> = reads::upcoming_sessions(db, today, HOME_LIST)
        .await?
        .iter()
        .map(|s| session_json(state, s))
        .collect();
    let (unmarked, unmarked_total) = reads::registers_to_take(db, since, today, HOME_LIST).await?;
    let unmarked: Vec<Value> = unmarked.iter().map(|s| session_json(state, s)).collect();
    let imports: Vec<Value> = reads::pending_imports(db, HOME_LIST)
        .await?
        .into_iter()
        .map(|i| json!({"id": i.id, "file_name": i.file_name, "by": i.actor_label, "at": display(i.created_at)}))
        .collect();
    let lapse_by = days_after(today, LAPSE_WARNING_DAYS);
    let (lapsing, lapsing_total) = attention::lapsing_training(db, today, lapse_by, HOME_LIST).await?;
    let lapsing: Vec<Value> = lapsing
        .into_iter()
        .map(|l| {
            json!({"name": l.full_name, "organisation_name": l.organisation_name,
                "training": completion_title(state, &l.programme_id, &l.completion_id),
                "lapses": date_display(l.lapses_on),
                "href": format!("/people/{}/training", l.person_id)})
        })
        .collect();
    Ok(page.render(
        "home/training_lead",
        json!({
            "title": "Training: what needs doing",
            "section": "home",
            "upcoming": upcoming,
            "unmarked": unmarked,
            "unmarked_total": unmarked_total,
            "register_since": uk_date(since_date),
            "register_days": REGISTER_LOOKBACK_DAYS,
            "imports": imports,
            "lapsing": lapsing,
            "lapsing_more": lapsing_total - lapsing.len() as i64,
            "lapse_days": LAPSE_WARNING_DAYS,
            "lapse_by": uk_date(lapse_by),
        }),
    ))
}

/// The organisation's assessments as its pages show them: where each
/// stands and, for its own members, the next step. Awards replaced by a
/// renewal are left out: the renewal speaks for them.
/// Reads on `conn` (see [`crate::app::assessments::load_view_in`]).
pub(crate) async fn assessment_cards(
    conn: &mut Conn,
    user: &CurrentUser,
    db: &Db,
    state: &AppState,
    organisation_id: i64,
) -> AppResult<Vec<Value>> {
    let rows = assessments::of_organisation_in(conn, organisation_id).await?;
    let today = state.clock.today();
    let mut to_do = Vec::with_capacity(rows.len());
    for row in &rows {
        to_do.push(criteria_to_do(conn, user, db, state, row).await?);
    }
    let mut cards = Vec::new();
    for (row, (missing, needing)) in rows.into_iter().zip(to_do) {
        let standing = standing(&row, state, today);
        let step = NextStep::of(standing, row.expires_on, row.renewed_by.is_some(), missing, needing);
        if step == NextStep::Renewed {
            continue;
        }
        let mut card = json!(Summary::of(&row, state, today));
        card["next"] = next_step_json(step, &row);
        card["action"] = json!(step.is_action());
        cards.push(card);
    }
    // What needs doing comes first.
    cards.sort_by_key(|c| !c["action"].as_bool().unwrap_or(false));
    Ok(cards)
}

/// Mandatory criteria still without evidence, and criteria the assessor
/// sent back, for the states where the organisation works on it.
async fn criteria_to_do(
    conn: &mut Conn,
    user: &CurrentUser,
    db: &Db,
    state: &AppState,
    row: &AssessmentRow,
) -> AppResult<(usize, usize)> {
    if !row.state.evidence_editable() {
        return Ok((0, 0));
    }
    let view = load_view_in(conn, state.ctx(db), &user.actor(), row.clone()).await?;
    Ok((
        view.progress.missing_for_submission().len(),
        view.progress.needing_action().len(),
    ))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The sentence and link for a next step.
fn next_step_json(step: NextStep, row: &AssessmentRow) -> Value {
    let page = format!("/assessments/{}", row.id);
    let (text, link, href) = match step {
        NextStep::AddEvidence { missing } => (
            format!(
                "{} still {} evidence before you can send it for review.",
                plural(missing, "mandatory criterion", "mandatory criteria"),
                if missing == 1 { "needs" } else { "need" }
            ),
            "Add evidence",
            page,
        ),
        NextStep::Submit => (
            "Every mandatory criterion has evidence. Check it and send it for review.".into(),
            "Send for review",
            page,
        ),
        NextStep::WaitForReview => (
            "An assessor is reviewing your evidence. There is nothing to do until they reply.".into(),
            "See the assessment",
            page,
        ),
        NextStep::AnswerFeedback { criteria } => (
            format!(
                "The assessor asked for changes on {}. Answer the feedback, then resubmit.",
                plural(criteria, "criterion", "criteria")
            ),
            "See the feedback",
            page,
        ),
        NextStep::WaitForAward => (
            "The assessor has recommended the award. The programme lead makes it.".into(),
            "See the assessment",
            page,
        ),
        NextStep::Hold { expires_on } => (format!("Awarded until {}.", uk_date(expires_on)), "See the award", page),
        NextStep::Renew {
            due_on,
            renewal_started: true,
        } => (
            format!("Renewal due on {}. You have started the renewal.", uk_date(due_on)),
            "Carry on with the renewal",
            row.renewed_by.map_or(page, |id| format!("/assessments/{id}")),
        ),
        NextStep::Renew { due_on, .. } => (
            format!(
                "Renewal due on {}. Start the renewal to keep the award.",
                uk_date(due_on)
            ),
            "Start the renewal",
            page,
        ),
        NextStep::EnrolAgain { expired_on } => (
            format!(
                "The award expired on {}. Enrol again to regain it.",
                uk_date(expired_on)
            ),
            "Enrol again",
            "/assessments/new".into(),
        ),
        NextStep::Revoked => (
            "The award was revoked. Ask the programme lead what happens next.".into(),
            "See the assessment",
            page,
        ),
        NextStep::Renewed => (String::new(), "", page),
    };
    json!({"text": text, "link": link, "href": href})
}

/// The organisation's award certificates and its staff's training
/// certificates (a count), as pages show them.
pub(crate) async fn certificates_json(
    conn: &mut Conn,
    state: &AppState,
    organisation_id: i64,
    with_awards: bool,
) -> AppResult<Value> {
    let (awards, training) = reads::organisation_certificates_in(conn, organisation_id).await?;
    let today = state.clock.today();
    let awards: Vec<Value> = if with_awards {
        awards
            .iter()
            .map(|c| {
                let standing = crate::domain::certificate::State::of(
                    c.expires_on,
                    c.revoked_at.map(|at| at.date_naive()),
                    c.superseded_by_code.as_deref(),
                    today,
                );
                json!({"id": c.id, "code": c.code, "title": c.title, "issued": date_display(c.issued_on),
                    "expires": c.expires_on.map(date_display).unwrap_or_default(),
                    "state": standing.label(),
                    "colour": if standing.as_str() == "valid" { "green" } else { "grey" }})
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(json!({"awards": awards, "training": training,
        "href": format!("/certificates?organisation={organisation_id}")}))
}

async fn member_home(
    user: &CurrentUser,
    page: &Page<'_>,
    db: &Db,
    state: &AppState,
    organisation_id: i64,
) -> AppResult<Template> {
    // The page's own reads on one connection: one wait for a connection's
    // turn on a busy server, not one for each.
    let mut conn = db.acquire().await?;
    let conn = &mut conn;
    let organisation = organisations::find_in(conn, organisation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let cards = one_card_per_award(assessment_cards(conn, user, db, state, organisation_id).await?);
    // The renewals due, said at the top in so many words.
    let renewals: Vec<Value> = cards
        .iter()
        .filter(|c| c["standing"] == "renewal_due")
        .map(|c| {
            json!({"framework_name": c["framework_name"], "due": c["expires_display"], "href": c["next"]["href"],
                "link": c["next"]["link"]})
        })
        .collect();
    let today = state.clock.today();
    let until = days_after(today, state.config.renewal_notice_days);
    let evidence: Vec<Value> = reads::expiring_evidence_in(conn, organisation_id, today, until, HOME_LIST)
        .await?
        .into_iter()
        .map(|e| {
            json!({"title": e.title, "criterion_id": e.criterion_id,
            "framework_name": framework_name(state, &e.framework_id, &e.framework_version),
            "valid_until": date_display(e.valid_until),
            "href": format!("/assessments/{}/criteria/{}", e.assessment_id, e.criterion_id)})
        })
        .collect();
    Ok(page.render(
        "home/member",
        json!({
            "title": format!("Next steps for {}", organisation.name),
            "section": "home",
            "organisation": {"id": organisation.id, "name": organisation.name},
            "assessments": cards,
            "renewals": renewals,
            "evidence_more": attention::expiring_evidence_total(conn, organisation_id, today, until).await?
                - evidence.len() as i64,
            "evidence": evidence,
            "training": staff_training(conn, state, organisation_id).await?,
            "notice_days": state.config.renewal_notice_days,
            "certificates": certificates_json(conn, state, organisation_id, true).await?,
        }),
    ))
}

/// During a renewal the award and its renewal are one quality mark to the
/// member: the renewal's card is folded into the award's, which says when
/// the award runs out and what the renewal needs next.
fn one_card_per_award(cards: Vec<Value>) -> Vec<Value> {
    let (renewals, mut cards): (Vec<Value>, Vec<Value>) =
        cards.into_iter().partition(|c| c["renewal_of"].as_i64().is_some());
    for renewal in renewals {
        let award = cards
            .iter_mut()
            .find(|c| c["id"].as_i64() == renewal["renewal_of"].as_i64());
        let Some(award) = award else {
            // The award itself is not shown (it was replaced): the renewal stands alone.
            cards.push(renewal);
            continue;
        };
        let held = match award["standing"].as_str() {
            Some("expired") => format!(
                "The award expired on {}.",
                award["expires_display"].as_str().unwrap_or("")
            ),
            _ => format!(
                "The award runs until {}.",
                award["expires_display"].as_str().unwrap_or("")
            ),
        };
        award["next"] = json!({
            "text": format!("{held} You have started the renewal: {}", renewal["next"]["text"].as_str().unwrap_or("")),
            "link": renewal["next"]["link"],
            "href": renewal["next"]["href"],
        });
        award["renewal_id"] = renewal["id"].clone();
        award["action"] = renewal["action"].clone();
    }
    cards.sort_by_key(|c| !c["action"].as_bool().unwrap_or(false));
    cards
}

/// The organisation's staff training by programme, with each completion's
/// holders as a share of its staff list.
async fn staff_training(conn: &mut Conn, state: &AppState, organisation_id: i64) -> AppResult<Value> {
    let staff = crate::db::people::count_for_organisation_in(conn, organisation_id).await?;
    let programmes: Vec<Value> = super::training::organisation_summary(conn, state, organisation_id)
        .await?
        .into_iter()
        .map(|mut programme| {
            if let Some(completions) = programme["completions"].as_array_mut() {
                for c in completions {
                    let people = c["people"].as_i64().unwrap_or(0);
                    c["share"] = json!(crate::domain::report::standing::share(people, staff));
                }
            }
            programme
        })
        .collect();
    Ok(json!({"staff": staff, "programmes": programmes}))
}
