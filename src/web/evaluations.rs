//! Session evaluations: the public form at `/evaluate/<token>` (no account,
//! nothing about the respondent kept, posts limited per client address in
//! memory), and for the training staff a session's results with its link
//! and QR code, the results by programme for a period, the sign-in sheet
//! PDF, and the import of another survey tool's export.

use super::csrf::{CarriesCsrfToken, CsrfForm, CsrfMultipart, MultipartRefusal};
use super::imports::{read_sheet_upload, SheetUpload};
use super::reports::{attachment, chosen_period, preset_choices, PeriodQuery, ReportFile};
use super::templates::Template;
use super::training::{programme_name, session_rows};
use super::{AppState, Page, SignedIn, Visitor};
use crate::app::evaluations::{self as workflow, NotTaken, OverCap, Results, SessionForm};
use crate::domain::evaluation::{Answers, Availability, EvaluationForm, ImportPreview};
use crate::domain::import::read::read_workbook;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use rocket::fs::TempFile;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route, State};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

pub fn routes() -> Vec<Route> {
    routes![
        form,
        answer,
        sent,
        session_results,
        programme_results,
        sign_in_sheet,
        import_preview,
        import_confirm
    ]
}

/// Posts one client address may make to evaluation forms in an hour.
pub const POSTS_PER_HOUR: u32 = 60;
/// Addresses remembered at most; past this, windows that have ended are
/// forgotten (and, in a flood, all of them).
const MAX_CLIENTS: usize = 10_000;

/// Evaluation posts per client address in the current hour, in memory only:
/// the addresses are never stored, logged or tied to an answer.
#[derive(Default)]
pub struct PostLimiter {
    windows: Mutex<HashMap<IpAddr, (DateTime<Utc>, u32)>>,
}

/// The part of an address one client controls: the whole IPv4 address, the
/// /64 network of an IPv6 one (a client can pick any address within it).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            for segment in segments.iter_mut().skip(4) {
                *segment = 0;
            }
            IpAddr::V6(segments.into())
        }
    }
}

impl PostLimiter {
    /// Counts a post from `ip` at `now`; false when it is over the limit.
    pub fn allow(&self, ip: IpAddr, now: DateTime<Utc>) -> bool {
        let window = Duration::hours(1);
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= MAX_CLIENTS {
            windows.retain(|_, (started, _)| now - *started < window);
            if windows.len() >= MAX_CLIENTS {
                windows.clear();
            }
        }
        let entry = windows.entry(client_key(ip)).or_insert((now, 0));
        if now - entry.0 >= window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= POSTS_PER_HOUR
    }
}

/// The session as the public form and the staff pages name it.
fn session_view(state: &AppState, found: &SessionForm<'_>) -> Value {
    let mut view = session_rows(state, vec![found.session.clone()])
        .pop()
        .unwrap_or(Value::Null);
    view["programme_name"] = json!(found.programme.name);
    view["long_date"] = json!(crate::domain::certificate::long_date(found.session.session_date));
    view
}

fn form_view(form: &EvaluationForm, given: &Answers) -> Value {
    let questions: Vec<Value> = form
        .questions
        .iter()
        .map(|q| {
            let chosen = given.answers.get(&q.id);
            let answers: Vec<Value> = q
                .scale
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    // The first answer carries the question's field id, which the error summary links to.
                    let id = if i == 0 {
                        format!("q-{}", q.id)
                    } else {
                        format!("q-{}-{}", q.id, i + 1)
                    };
                    json!({"value": a, "id": id, "checked": chosen == Some(a)})
                })
                .collect();
            json!({"id": q.id, "field": format!("q-{}", q.id), "text": q.text, "answers": answers})
        })
        .collect();
    json!({"questions": questions, "comment": form.comment, "closes_after_days": form.closes_after_days})
}

/// The public page in one of its states, with the status it answers with.
fn public_page(
    page: &Page<'_>,
    state: &AppState,
    found: &SessionForm<'_>,
    status: Status,
    shown: &str,
    extra: Value,
) -> (Status, Template) {
    let mut context = json!({
        "title": format!("Evaluation: {}", found.programme.name),
        "session": session_view(state, found),
        "shown": shown,
        "form": form_view(found.form, &Answers::default()),
    });
    if let (Value::Object(map), Value::Object(more)) = (&mut context, extra) {
        map.extend(more);
    }
    (status, page.render("evaluations/form", context))
}

fn refusal_page(page: &Page<'_>, state: &AppState, found: &SessionForm<'_>, refused: NotTaken) -> (Status, Template) {
    let day = crate::domain::certificate::long_date;
    match refused {
        NotTaken::NotYetOpen { opens } => public_page(
            page,
            state,
            found,
            Status::Conflict,
            "not_yet_open",
            json!({"opens": day(opens)}),
        ),
        NotTaken::Closed { last_day } => public_page(
            page,
            state,
            found,
            Status::Conflict,
            "closed",
            json!({"last_day": day(last_day)}),
        ),
        NotTaken::Full => public_page(page, state, found, Status::Conflict, "full", json!({})),
    }
}

/// `GET /evaluate/<token>`: the form, or why it cannot be answered today.
#[get("/evaluate/<token>")]
async fn form(token: &str, visitor: Visitor<'_>) -> AppResult<(Status, Template)> {
    let Visitor(page, db, state) = visitor;
    let (found, availability) = workflow::public_form(state.ctx(db), token).await?;
    Ok(match availability {
        Availability::Open { last_day } => public_page(
            &page,
            state,
            &found,
            Status::Ok,
            "open",
            json!({"last_day": crate::domain::certificate::long_date(last_day)}),
        ),
        Availability::NotYetOpen { opens } => {
            let (_, shown) = refusal_page(&page, state, &found, NotTaken::NotYetOpen { opens });
            (Status::Ok, shown)
        }
        Availability::Closed { last_day } => {
            let (_, shown) = refusal_page(&page, state, &found, NotTaken::Closed { last_day });
            (Status::Ok, shown)
        }
    })
}

#[derive(FromForm)]
pub struct AnswerForm {
    /// question id → the answer chosen
    #[field(default = HashMap::new())]
    answer: HashMap<String, String>,
    #[field(default = String::new())]
    comment: String,
}

/// `POST /evaluate/<token>`: one anonymous response.
#[post("/evaluate/<token>", data = "<posted>")]
async fn answer(
    token: &str,
    posted: CsrfForm<AnswerForm>,
    ip: Option<IpAddr>,
    visitor: Visitor<'_>,
    limiter: &State<PostLimiter>,
) -> AppResult<Answered> {
    let Visitor(page, db, state) = visitor;
    let ctx = state.ctx(db);
    // Without an address (not over TCP) every such client shares one count.
    let ip = ip.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    if !limiter.allow(ip, ctx.now) {
        return Ok(Answered::Page((
            Status::TooManyRequests,
            page.render(
                "evaluations/too_many",
                json!({"title": "Too many answers from this network", "per_hour": POSTS_PER_HOUR}),
            ),
        )));
    }
    let (found, availability) = workflow::public_form(ctx, token).await?;
    let posted = posted.0;
    // Answers to a form that is not open are not looked at: the workflow
    // says why it takes none.
    let answers = match (availability, found.form.read_answers(&posted.answer, &posted.comment)) {
        (Availability::Open { last_day }, Err(problems)) => {
            let given = Answers {
                answers: posted.answer.into_iter().collect(),
                comment: String::new(),
            };
            let field_errors: serde_json::Map<String, Value> = problems
                .iter()
                .map(|p| (p.field.clone(), Value::String(p.message.clone())))
                .collect();
            return Ok(Answered::Page(public_page(
                &page,
                state,
                &found,
                Status::UnprocessableEntity,
                "open",
                json!({"errors": problems, "field_errors": field_errors, "form": form_view(found.form, &given),
                    "comment_value": posted.comment, "last_day": crate::domain::certificate::long_date(last_day)}),
            )));
        }
        (_, read) => read.unwrap_or_default(),
    };
    Ok(match workflow::respond(ctx, token, &answers).await? {
        // On to a page of its own, so reloading it does not answer again.
        Ok(()) => Answered::Sent(Box::new(Redirect::to(format!("/evaluate/{token}/sent")))),
        Err(refused) => Answered::Page(refusal_page(&page, state, &found, refused)),
    })
}

/// What a post to the form answers: a page (refused, or the form again
/// with its problems), or on to the thank-you page.
#[derive(rocket::Responder)]
pub enum Answered {
    Page((Status, Template)),
    // Boxed: a redirect is several times the size of a page to render.
    Sent(Box<Redirect>),
}

/// `GET /evaluate/<token>/sent`: thanks, after an answer was taken.
#[get("/evaluate/<token>/sent")]
async fn sent(token: &str, visitor: Visitor<'_>) -> AppResult<Template> {
    let Visitor(page, db, state) = visitor;
    let (found, _) = workflow::public_form(state.ctx(db), token).await?;
    Ok(public_page(&page, state, &found, Status::Ok, "thanks", json!({})).1)
}

/// The public link of a token, as printed and shown.
fn public_url(state: &AppState, token: &str) -> String {
    format!(
        "{}/evaluate/{token}",
        state.config.public_base_url.trim_end_matches('/')
    )
}

fn results_view(results: &Results) -> Value {
    json!({"responses": results.responses, "questions": results.questions, "comments": results.comments,
        "summary": crate::domain::evaluation::summary(results.responses, &results.questions)})
}

/// `GET /training/sessions/<id>/evaluation`: the session's results, link and
/// QR code (the link is made the first time this page is opened).
#[get("/training/sessions/<id>/evaluation")]
async fn session_results(id: i64, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    let acting = user.acting();
    let ctx = state.ctx(db);
    let (found, results) = workflow::session_results(ctx, &acting, id).await?;
    let token = workflow::link(ctx, &acting, id).await?;
    let url = public_url(state, &token);
    let qr = crate::domain::qr::svg(&url, "QR code of the evaluation link").map_err(AppError::internal)?;
    let availability = found.form.availability(found.session.session_date, state.clock.today());
    let cap = crate::domain::evaluation::response_cap(found.session.capacity, found.session.attended);
    Ok(page.render(
        "evaluations/session",
        json!({"title": format!("Evaluation: {}", found.programme.name), "section": "training",
            "session": session_view(state, &found), "results": results_view(&results), "url": url, "qr": qr,
            "availability": availability, "cap": cap,
            "opens": crate::domain::certificate::long_date(found.session.session_date),
            "last_day": crate::domain::certificate::long_date(found.form.last_day(found.session.session_date))}),
    ))
}

/// `GET /training/evaluations`: each programme's results for sessions held
/// in a period, picked as the reports' periods are.
#[get("/training/evaluations?<query..>")]
async fn programme_results(query: PeriodQuery<'_>, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    let (preset, (from, from_echo), (to, to_echo)) = query.parts();
    let (period, chosen, error) = chosen_period(state, preset, Some(&from), Some(&to));
    let programmes = workflow::programme_results(state.ctx(db), &user.acting(), period.from, period.to).await?;
    let programmes: Vec<Value> = programmes
        .iter()
        .map(|(programme, results)| json!({"id": programme.id, "name": programme.name, "results": results_view(results)}))
        .collect();
    let errors: Vec<Value> = error.iter().map(|m| json!({"field": "from", "message": m})).collect();
    Ok(page.render(
        "evaluations/programmes",
        json!({"title": "Session evaluations", "section": "training", "programmes": programmes,
            "period": {"label": period.label(), "from": period.from, "to": period.to},
            "presets": preset_choices(state.clock.today(), chosen), "custom": chosen.is_none(),
            "values": {"from": from_echo, "to": to_echo}, "errors": errors,
            "field_errors": if let Some(m) = &error { json!({"from": m}) } else { json!({}) }}),
    ))
}

/// `GET /training/sessions/<id>/sign-in-sheet.pdf`: an A4 sheet to sign,
/// with the evaluation link and its QR code when the programme has a form.
#[get("/training/sessions/<id>/sign-in-sheet.pdf")]
async fn sign_in_sheet(id: i64, signed_in: SignedIn<'_>) -> AppResult<ReportFile> {
    let SignedIn(user, _, db, state) = signed_in;
    let acting = user.acting();
    workflow::may_see_results(&acting)?;
    let session = crate::db::training::session(db, id).await?.ok_or(AppError::NotFound)?;
    let evaluation_url = if workflow::programme_with_form(&state.programmes, &session).is_some() {
        Some(public_url(state, &workflow::link(state.ctx(db), &acting, id).await?))
    } else {
        None
    };
    let view = session_rows(state, vec![session.clone()]).pop().unwrap_or(Value::Null);
    let mut when_and_where = crate::domain::certificate::long_date(session.session_date);
    if let Some(time) = &session.start_time {
        when_and_where.push_str(&format!(", {time}"));
    }
    if session.online {
        when_and_where.push_str(", online");
    } else if !session.venue.is_empty() {
        when_and_where.push_str(&format!(", {}", session.venue));
    }
    let content = crate::domain::sign_in_sheet::SheetContent {
        programme: programme_name(state, &session.programme_id),
        session: view["module_title"].as_str().unwrap_or_default().to_string(),
        when_and_where,
        trainer: session.trainer.clone(),
        evaluation_url,
    };
    let body = rocket::tokio::task::spawn_blocking(move || crate::domain::sign_in_sheet::render(&content))
        .await
        .map_err(|e| AppError::Internal(format!("sign-in sheet stopped: {e}")))?
        .map_err(AppError::Internal)?;
    Ok(attachment(
        body,
        "application/pdf",
        format!("sign-in-sheet-{}-{}.pdf", session.module_id, session.session_date),
    ))
}

#[derive(FromForm)]
pub struct ImportUpload<'r> {
    csrf_token: String,
    file: Option<TempFile<'r>>,
}

impl CarriesCsrfToken for ImportUpload<'_> {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

impl<'r> SheetUpload<'r> for ImportUpload<'r> {
    fn file(&mut self) -> Option<&mut TempFile<'r>> {
        self.file.as_mut()
    }
}

/// What another tool's export holds for this form: the first sheet with
/// anything in it, its first row the headings.
fn preview_of(form: &EvaluationForm, bytes: &[u8], file_name: &str, max_bytes: u64) -> Result<ImportPreview, String> {
    let (_, sheets) = read_workbook(bytes, file_name, max_bytes).map_err(|e| e.to_string())?;
    let rows: Vec<Vec<String>> = sheets
        .into_iter()
        .find(|s| s.rows.iter().any(|r| r.iter().any(|c| !c.is_empty())))
        .map(|s| s.rows.iter().map(|r| r.iter().map(|c| c.display()).collect()).collect())
        .unwrap_or_default();
    let Some((headings, rest)) = rows.split_first() else {
        return Err("The file has no rows.".into());
    };
    let preview = form.read_sheet(headings, rest);
    if preview.missing_questions.len() == form.questions.len() {
        return Err(
            "No column heading matches a question of this programme's form. The headings must be the questions' wording."
                .into(),
        );
    }
    Ok(preview)
}

/// `POST /training/sessions/<id>/evaluation/import`: reads an export and
/// shows what would be added, to confirm.
#[post("/training/sessions/<id>/evaluation/import", data = "<upload>")]
async fn import_preview(
    id: i64,
    upload: Result<CsrfMultipart<ImportUpload<'_>>, MultipartRefusal>,
    signed_in: SignedIn<'_>,
) -> AppResult<(Status, Template)> {
    let SignedIn(user, page, db, state) = signed_in;
    let acting = user.acting();
    if !acting.access.can_manage_training() {
        return Err(AppError::Forbidden);
    }
    let found = workflow::session_form(state.ctx(db), id).await?;
    let mut context = json!({"title": "Import evaluation responses", "section": "training",
        "session": session_view(state, &found)});
    let max_bytes = state.config.import_max_bytes;
    let (_, file_name, bytes) = match read_sheet_upload(upload, max_bytes, "an exported survey file").await? {
        Ok(read) => read,
        Err(refused) => return Ok(refused.shown(&page, "evaluations/import", &mut context)),
    };
    let preview = match preview_of(found.form, &bytes, &file_name, max_bytes) {
        Ok(preview) => preview,
        Err(message) => {
            let (_, shown) = page.render_errors(
                "evaluations/import",
                &crate::domain::validation::FieldErrors(vec![crate::domain::validation::FieldError {
                    field: "file",
                    message,
                }]),
                context,
            );
            return Ok((Status::UnprocessableEntity, shown));
        }
    };
    let encoded = serde_json::to_string(&preview.responses).map_err(AppError::internal)?;
    if let Value::Object(map) = &mut context {
        map.insert("preview".into(), json!(preview));
        map.insert("encoded".into(), json!(encoded));
        map.insert("file_name".into(), json!(file_name));
    }
    Ok((Status::Ok, page.render("evaluations/import", context)))
}

#[derive(FromForm)]
pub struct ImportConfirm {
    responses: String,
    #[field(default = String::new())]
    file_name: String,
}

/// `POST /training/sessions/<id>/evaluation/import/confirm`: adds the
/// previewed responses, each answer checked against the form again.
#[post("/training/sessions/<id>/evaluation/import/confirm", data = "<form>")]
async fn import_confirm(id: i64, form: CsrfForm<ImportConfirm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    let acting = user.acting();
    let ctx = state.ctx(db);
    let found = workflow::session_form(ctx, id).await?;
    let responses: Vec<Answers> = serde_json::from_str(&form.0.responses)
        .map_err(|_| AppError::BadRequest("the previewed responses could not be read; upload the file again".into()))?;
    let fits = |r: &Answers| {
        r.answers
            .iter()
            .all(|(question, answer)| found.form.question(question).is_some_and(|q| q.scale.contains(answer)))
            && r.comment.chars().count() <= crate::domain::evaluation::MAX_COMMENT_CHARS
            && crate::domain::validation::plain_text(&r.comment).is_ok()
    };
    if !responses.iter().all(fits) {
        return Err(AppError::BadRequest(
            "the previewed responses do not fit this form; upload the file again".into(),
        ));
    }
    let file_name: String = form.0.file_name.chars().filter(|c| !c.is_control()).take(200).collect();
    let back = Redirect::to(format!("/training/sessions/{id}/evaluation"));
    Ok(
        match workflow::import(ctx, &acting, id, &file_name, &responses).await? {
            Ok(added) => {
                let noun = if added == 1 { "response" } else { "responses" };
                Flash::success(back, format!("{added} {noun} imported."))
            }
            Err(OverCap { room }) => Flash::error(
                back,
                format!(
                    "Nothing was imported: the file has {} responses and this session can take {room} more.",
                    responses.len()
                ),
            ),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_an_hours_posts_and_an_ipv6_network_counts_as_one() {
        let limiter = PostLimiter::default();
        let start = DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let one: IpAddr = "2001:db8:1:2::1".parse().expect("address");
        let same_network: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("address");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("address");
        for _ in 0..POSTS_PER_HOUR / 2 {
            assert!(limiter.allow(one, start));
            assert!(limiter.allow(same_network, start));
        }
        assert!(!limiter.allow(one, start + Duration::minutes(59)));
        assert!(limiter.allow(other, start));
        assert!(limiter.allow(same_network, start + Duration::minutes(60)));
    }
}
