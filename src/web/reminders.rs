//! The outbox, for the programme lead: the reminder emails queued, sent and
//! failing (with the mail server's answer), so that before a mail server is
//! configured they can see what would have gone; and buttons to look for
//! reminders and deliver them now rather than at the server's next round.

use super::csrf::{CsrfForm, TokenOnly};
use super::templates::Template;
use super::{page_offset, SignedIn, PAGE_SIZE};
use crate::app::reminders::{self, Delivery};
use crate::clock::display;
use crate::db::outbox::{self, Status};
use crate::domain::reminders::Kind;
use crate::error::AppResult;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route};
use serde_json::json;

pub fn routes() -> Vec<Route> {
    routes![list, scan, send]
}

#[get("/outbox?<status>&<page>")]
async fn list(signed_in: SignedIn<'_>, status: Option<String>, page: Option<i64>) -> AppResult<Template> {
    let SignedIn(user, view, db, state) = signed_in;
    user.require(|a| a.is_programme_lead())?;
    let (status_name, chosen) = match status.as_deref() {
        Some("failed") => ("failed", Status::Failed),
        Some("sent") => ("sent", Status::Sent),
        Some("withdrawn") => ("withdrawn", Status::Withdrawn),
        _ => ("queued", Status::Queued),
    };
    let (page, offset) = page_offset(page);
    let (rows, total) = outbox::list(db, chosen, PAGE_SIZE, offset).await?;
    let mut counts = serde_json::Map::new();
    for (name, each) in [
        ("queued", Status::Queued),
        ("failed", Status::Failed),
        ("sent", Status::Sent),
        ("withdrawn", Status::Withdrawn),
    ] {
        counts.insert(name.into(), json!(outbox::list(db, each, 0, 0).await?.1));
    }
    let messages: Vec<_> = rows
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "kind": Kind::parse(&m.kind).map(|k| k.label()).unwrap_or(m.kind.as_str()),
                "recipient": m.recipient,
                "subject": m.subject,
                "created": display(m.created_at),
                "next_attempt": display(m.next_attempt_at),
                "attempts": m.attempts,
                "last_error": m.last_error,
                "sent": m.sent_at.map(display),
                "withdrawn": m.withdrawn_at.map(display),
                "withdrawn_reason": m.withdrawn_reason,
            })
        })
        .collect();
    Ok(view.render(
        "reminders/outbox",
        json!({
            "title": "Outbox",
            "section": "outbox",
            "configured": !state.config.smtp_url.trim().is_empty(),
            "withdraw_after_days": crate::domain::reminders::WITHDRAW_AFTER_DAYS,
            "status": status_name,
            "counts": counts,
            "messages": messages,
            "total": total,
            "page": page,
            "pages": (total + PAGE_SIZE - 1) / PAGE_SIZE,
        }),
    ))
}

#[post("/outbox/scan", data = "<_form>")]
async fn scan(_form: CsrfForm<TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    let queued = reminders::scan_now(state.ctx(db), &user.acting()).await?;
    let message = match queued {
        0 => "No new reminders were due.".to_string(),
        1 => "1 reminder was queued.".to_string(),
        n => format!("{n} reminders were queued."),
    };
    Ok(Flash::success(Redirect::to("/outbox"), message))
}

#[post("/outbox/send", data = "<_form>")]
async fn send(_form: CsrfForm<TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    Ok(match reminders::send_now(state.ctx(db), &user.acting()).await? {
        Delivery::NotConfigured => Flash::error(
            Redirect::to("/outbox"),
            "No mail server is configured (QMTRACK_SMTP_URL), so nothing was sent.",
        ),
        Delivery::Misconfigured(wrong) => Flash::error(
            Redirect::to("/outbox"),
            format!("The mail server settings are wrong, so nothing was sent: {wrong}"),
        ),
        Delivery::Done {
            sent,
            failed: 0,
            withdrawn,
        } => Flash::success(
            Redirect::to("/outbox"),
            format!("{sent} sent.{}", withdrawn_note(withdrawn)),
        ),
        Delivery::Done {
            sent,
            failed,
            withdrawn,
        } => Flash::error(
            Redirect::to("/outbox?status=failed"),
            format!(
                "{sent} sent; {failed} could not be delivered and will be tried again.{}",
                withdrawn_note(withdrawn)
            ),
        ),
    })
}

/// " 3 were out of date and withdrawn unsent." after a round that withdrew any.
fn withdrawn_note(withdrawn: u64) -> String {
    match withdrawn {
        0 => String::new(),
        1 => " 1 was out of date and withdrawn unsent.".to_string(),
        n => format!(" {n} were out of date and withdrawn unsent."),
    }
}
