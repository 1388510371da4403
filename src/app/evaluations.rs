//! Session evaluations: a session's public link (made, audited, the first
//! time staff open its evaluation), anonymous answers through it, responses
//! imported from another survey tool, and the results by session and by
//! programme.
//!
//! An answer given through the public link writes no audit entry: the entry
//! would carry the moment it was given and so tie it to whoever was seen
//! answering. What it changes is counted in the report's data version
//! instead ([`crate::db::statistics::data_version`]).

use super::{Acting, Ctx};
use crate::db::audit::{self, Entry};
use crate::db::training::{self, SessionRow};
use crate::db::{self, evaluations as rows};
use crate::domain::evaluation::{response_cap, tally, Answers, Availability, EvaluationForm, QuestionTally};
use crate::domain::programmes::{Programme, ProgrammeLibrary};
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// Results and links are for the training staff: the training lead and the
/// programme lead. An organisation's member never sees responses.
pub fn may_see_results(acting: &Acting) -> AppResult<()> {
    acting.require(|a| a.can_manage_training())
}

/// A session with its programme and that programme's form.
pub struct SessionForm<'a> {
    pub session: SessionRow,
    pub programme: &'a Programme,
    pub form: &'a EvaluationForm,
}

/// The programme version a session was delivered under (or, if that file
/// has gone, the current one) when it has an evaluation form.
pub fn programme_with_form<'a>(programmes: &'a ProgrammeLibrary, session: &SessionRow) -> Option<&'a Programme> {
    programmes
        .get(&session.programme_id, &session.programme_version)
        .or_else(|| programmes.current_version(&session.programme_id))
        .filter(|p| p.evaluation.is_some())
}

/// The session and the form of the programme version it was delivered
/// under; not found when the session does not exist or its programme has
/// no evaluation form.
pub async fn session_form(ctx: Ctx<'_>, session_id: i64) -> AppResult<SessionForm<'_>> {
    let session = training::session(ctx.db, session_id).await?.ok_or(AppError::NotFound)?;
    let programme = programme_with_form(&ctx.app.programmes, &session).ok_or(AppError::NotFound)?;
    let form = programme.evaluation.as_ref().ok_or(AppError::NotFound)?;
    Ok(SessionForm {
        session,
        programme,
        form,
    })
}

/// The session's evaluation link token, made (and audited) the first time
/// anyone asks for it.
pub async fn link(ctx: Ctx<'_>, acting: &Acting, session_id: i64) -> AppResult<String> {
    may_see_results(acting)?;
    if let Some(token) = rows::link_of_session(&mut ctx.db.acquire().await?, session_id).await? {
        return Ok(token);
    }
    let found = session_form(ctx, session_id).await?;
    let mut tx = db::begin_write(ctx.db).await?;
    let made = rows::create_link(&mut tx, session_id, &crate::security::random_token(), ctx.now).await?;
    if made {
        let entry = Entry::of("evaluation.link", "training_session", Some(session_id)).after(json!({
            "programme": found.programme.id,
            "module": found.session.module_id,
            "session_date": found.session.session_date.to_string(),
        }));
        audit::record(&mut tx, acting.at(ctx.now), entry).await?;
    }
    let token = rows::link_of_session(&mut tx, session_id)
        .await?
        .ok_or_else(|| AppError::internal("the evaluation link just made is missing"))?;
    tx.commit().await?;
    Ok(token)
}

/// The form behind a public link, and whether it takes answers today.
pub async fn public_form<'a>(ctx: Ctx<'a>, token: &str) -> AppResult<(SessionForm<'a>, Availability)> {
    // Tokens are 43 URL-safe characters; anything else is not one.
    if token.len() > 64 {
        return Err(AppError::NotFound);
    }
    let session_id = rows::session_of_token(ctx.db, token).await?.ok_or(AppError::NotFound)?;
    let found = session_form(ctx, session_id).await?;
    let availability = found.form.availability(found.session.session_date, local_today(ctx));
    Ok((found, availability))
}

fn local_today(ctx: Ctx<'_>) -> NaiveDate {
    crate::clock::local_date(ctx.now)
}

/// Why an answer was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotTaken {
    NotYetOpen {
        opens: NaiveDate,
    },
    Closed {
        last_day: NaiveDate,
    },
    /// The session has had as many responses as it can take.
    Full,
}

/// Records one anonymous response: the session, today's date (not the
/// time) and the answers, if the form is open and the session not full.
pub async fn respond(ctx: Ctx<'_>, token: &str, answers: &Answers) -> AppResult<Result<(), NotTaken>> {
    let (found, availability) = public_form(ctx, token).await?;
    match availability {
        Availability::NotYetOpen { opens } => return Ok(Err(NotTaken::NotYetOpen { opens })),
        Availability::Closed { last_day } => return Ok(Err(NotTaken::Closed { last_day })),
        Availability::Open { .. } => {}
    }
    let session = &found.session;
    let cap = response_cap(session.capacity, session.attended);
    let mut tx = db::begin_write(ctx.db).await?;
    rows::lock_session(&mut tx, session.id).await?;
    if rows::response_count(&mut tx, session.id).await? >= cap {
        tx.rollback().await?;
        return Ok(Err(NotTaken::Full));
    }
    rows::insert_responses(&mut tx, session.id, local_today(ctx), std::slice::from_ref(answers)).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Why an import was not added: the session would have more responses
/// than it may take, with how many more it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverCap {
    pub room: i64,
}

/// Adds responses exported from another survey tool to a session, dated
/// the session's day (an export's own times are not kept), audited with
/// how many and from which file. The session's cap holds here too.
pub async fn import(
    ctx: Ctx<'_>,
    acting: &Acting,
    session_id: i64,
    file_name: &str,
    responses: &[Answers],
) -> AppResult<Result<usize, OverCap>> {
    acting.require(|a| a.can_manage_training())?;
    let found = session_form(ctx, session_id).await?;
    let cap = response_cap(found.session.capacity, found.session.attended);
    let mut tx = db::begin_write(ctx.db).await?;
    rows::lock_session(&mut tx, session_id).await?;
    let room = (cap - rows::response_count(&mut tx, session_id).await?).max(0);
    if i64::try_from(responses.len()).unwrap_or(i64::MAX) > room {
        tx.rollback().await?;
        return Ok(Err(OverCap { room }));
    }
    rows::insert_responses(&mut tx, session_id, found.session.session_date, responses).await?;
    let entry = Entry::of("evaluation.import", "training_session", Some(session_id))
        .after(json!({"responses": responses.len(), "file": file_name}));
    audit::record(&mut tx, acting.at(ctx.now), entry).await?;
    tx.commit().await?;
    Ok(Ok(responses.len()))
}

/// A session's or a programme's results.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub responses: i64,
    pub questions: Vec<QuestionTally>,
    /// The free-text answers, in alphabetical order.
    pub comments: Vec<String>,
}

pub fn results(form: &EvaluationForm, responses: &[Answers]) -> Results {
    let mut comments: Vec<String> = responses
        .iter()
        .map(|r| r.comment.clone())
        .filter(|c| !c.is_empty())
        .collect();
    comments.sort();
    Results {
        responses: i64::try_from(responses.len()).unwrap_or(i64::MAX),
        questions: tally(form, responses.iter()),
        comments,
    }
}

/// A session's results.
pub async fn session_results<'a>(
    ctx: Ctx<'a>,
    acting: &Acting,
    session_id: i64,
) -> AppResult<(SessionForm<'a>, Results)> {
    may_see_results(acting)?;
    let found = session_form(ctx, session_id).await?;
    let responses = rows::session_responses(ctx.db, session_id).await?;
    let results = results(found.form, &responses);
    Ok((found, results))
}

/// A session's results as the API gives them: counts and the free-text
/// answers, never a response by itself.
#[derive(Debug, Clone, Serialize)]
pub struct SessionEvaluation {
    pub session_id: i64,
    pub programme_id: String,
    pub programme_version: String,
    pub session_date: NaiveDate,
    #[serde(flatten)]
    pub results: Results,
}

/// [`session_results`] for the API.
pub async fn session_evaluation(ctx: Ctx<'_>, acting: &Acting, session_id: i64) -> AppResult<SessionEvaluation> {
    let (found, results) = session_results(ctx, acting, session_id).await?;
    Ok(SessionEvaluation {
        session_id: found.session.id,
        programme_id: found.programme.id.clone(),
        programme_version: found.programme.version.clone(),
        session_date: found.session.session_date,
        results,
    })
}

/// Each current programme with a form and its results for sessions held
/// from `from` to `to`.
pub async fn programme_results<'a>(
    ctx: Ctx<'a>,
    acting: &Acting,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<(&'a Programme, Results)>> {
    may_see_results(acting)?;
    let mut by_programme: BTreeMap<String, Vec<Answers>> = BTreeMap::new();
    for (programme, answers) in rows::responses_in_period(ctx.db, from, to).await? {
        by_programme.entry(programme).or_default().push(answers);
    }
    Ok(ctx
        .app
        .programmes
        .current()
        .into_iter()
        .filter_map(|programme| {
            let form = programme.evaluation.as_ref()?;
            let responses = by_programme.remove(&programme.id).unwrap_or_default();
            Some((programme, results(form, &responses)))
        })
        .collect())
}
