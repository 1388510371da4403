//! Reminders by email: what goes into the outbox and how it leaves.
//!
//! - Events (changes requested, an assessment sent for review, an award's
//!   certificate issued) are queued by their workflows inside the event's
//!   own transaction: no event without its message, no message for an
//!   event that was rolled back.
//! - [`scan`] queues what the calendar brings (renewals due 90, 30 and 7
//!   days before expiry, evidence running out, training lapsing within 60
//!   days, the programme lead's weekly digest). Every message has a key
//!   naming the reminder and its recipient, so scanning again queues
//!   nothing twice. The server runs it every few minutes
//!   ([`run_in_background`]); `qmtrack reminders scan` runs it by hand.
//! - [`send_due`] delivers what is due over SMTP, trying failures again
//!   with back-off ([`text::retry_delay`]); nothing is sent while no mail
//!   server is configured, and the programme lead's outbox page shows what
//!   is waiting. A message not sent within [`text::WITHDRAW_AFTER_DAYS`] of
//!   being queued is withdrawn as out of date rather than sent late.
//!
//! Recipients who turned a kind off on their account page are left out
//! when the message is queued.

use super::{Acting, Ctx};
use crate::config::AppConfig;
use crate::db::assessments::AssessmentRow;
use crate::db::audit::{self, Entry};
use crate::db::outbox::{self, Audience, NewMessage};
use crate::db::users::UserRow;
use crate::db::{self, attention, Conn, Pool};
use crate::domain::reminders::{self as text, Kind, Message, Signature, SmtpSecurity};
use crate::domain::standards::StandardsLibrary;
use crate::error::AppResult;
use crate::Clock;
use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::json;
use std::sync::Arc;

/// How long a sender holds the messages it claimed before another may try
/// them: longer than a delivery can take (the SMTP timeout is 30 s).
const CLAIM_LEASE_MINUTES: i64 = 10;

/// Messages claimed at a time.
const CLAIM_BATCH: i64 = 20;

/// How the emails sign off, from configuration.
pub fn signature(config: &AppConfig) -> Signature {
    Signature {
        partnership: config.partnership_name.trim().to_string(),
        base_url: config.public_base_url.trim().to_string(),
    }
}

fn framework_name(standards: &StandardsLibrary, id: &str, version: &str) -> String {
    standards
        .get(id, version)
        .map(|f| f.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Queues `message` for everyone in `audience` who has not turned `kind`
/// off, each under `kind:key:recipient`. Returns how many were new.
async fn queue(
    conn: &mut Conn,
    now: DateTime<Utc>,
    kind: Kind,
    key: &str,
    audience: Audience,
    message: &Message,
) -> Result<usize, sqlx::Error> {
    let mut added = 0;
    for recipient in outbox::recipients(conn, audience, kind).await? {
        let who = match recipient.user_id {
            Some(id) => format!("u{id}"),
            None => recipient.email.to_lowercase(),
        };
        let dedupe_key = format!("{}:{key}:{who}", kind.as_str());
        let new = NewMessage {
            kind,
            dedupe_key: &dedupe_key,
            user_id: recipient.user_id,
            recipient: &recipient.email,
            subject: &message.subject,
            text: &message.text,
            html: &message.html,
        };
        if outbox::enqueue(conn, &new, now).await? {
            added += 1;
        }
    }
    Ok(added)
}

// ------------------------------------------------------------ events

/// The assessor sent `row` back (inside `request_changes`' transaction).
pub(crate) async fn changes_requested(conn: &mut Conn, ctx: Ctx<'_>, row: &AssessmentRow) -> AppResult<()> {
    let framework = framework_name(&ctx.app.standards, &row.framework_id, &row.framework_version);
    let message = text::changes_requested(&signature(&ctx.app.config), &row.organisation_name, &framework);
    let key = format!("{}:{}", row.id, row.submission);
    queue(
        conn,
        ctx.now,
        Kind::ChangesRequested,
        &key,
        Audience::MembersOf(row.organisation_id),
        &message,
    )
    .await?;
    Ok(())
}

/// `row` was sent for review as its `submission`th submission (inside `submit`'s transaction).
pub(crate) async fn submitted(conn: &mut Conn, ctx: Ctx<'_>, row: &AssessmentRow, submission: i64) -> AppResult<()> {
    let framework = framework_name(&ctx.app.standards, &row.framework_id, &row.framework_version);
    let message = text::assessment_submitted(
        &signature(&ctx.app.config),
        &row.organisation_name,
        &framework,
        submission > 1,
    );
    let key = format!("{}:{submission}", row.id);
    queue(
        conn,
        ctx.now,
        Kind::AssessmentSubmitted,
        &key,
        Audience::Assessors,
        &message,
    )
    .await?;
    Ok(())
}

/// `row` was awarded, with the certificate `code` (inside `award`'s transaction).
pub(crate) async fn award_certificate_issued(
    conn: &mut Conn,
    ctx: Ctx<'_>,
    row: &AssessmentRow,
    expires_on: NaiveDate,
    code: &str,
) -> AppResult<()> {
    let framework = framework_name(&ctx.app.standards, &row.framework_id, &row.framework_version);
    let message = text::certificate_issued(
        &signature(&ctx.app.config),
        &row.organisation_name,
        &framework,
        expires_on,
    );
    queue(
        conn,
        ctx.now,
        Kind::CertificateIssued,
        code,
        Audience::MembersOf(row.organisation_id),
        &message,
    )
    .await?;
    Ok(())
}

// ------------------------------------------------------------ the scan

fn days_after(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_add_days(Days::new(days)).unwrap_or(day)
}

/// Queues the reminders the calendar has brought by `now`; returns how
/// many messages were new. Safe to run any number of times, on any server.
pub async fn scan(
    pool: &Pool,
    standards: &StandardsLibrary,
    config: &AppConfig,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let today = crate::clock::local_date(now);
    let sig = signature(config);
    let renewal_window = days_after(today, text::RENEWAL_NOTICES[0].unsigned_abs());
    let awards = attention::awards_due(pool, today, renewal_window, i64::MAX).await?;
    let renewals_due = awards.len() as i64;
    let lapse_until = days_after(today, text::TRAINING_LAPSE_DAYS);
    let (_, training_lapsing) = attention::lapsing_training(pool, today, lapse_until, 0).await?;
    let awaiting_review = attention::review_queue_total(pool).await?;
    let (evidence, lapsing, undelivered) = {
        let mut conn = pool.acquire().await?;
        (
            db::reminders::evidence_running_out(&mut conn, today, days_after(today, text::EVIDENCE_NOTICE_DAYS))
                .await?,
            db::reminders::training_lapsing(&mut conn, today, lapse_until).await?,
            outbox::undelivered(&mut conn).await?,
        )
    };

    let mut tx = db::begin_write(pool).await?;
    let mut added = 0;
    for award in &awards {
        let Some(notice) = text::renewal_notice((award.expires_on - today).num_days()) else {
            continue;
        };
        let framework = framework_name(standards, &award.framework_id, &award.framework_version);
        let message = text::renewal_due(&sig, &award.organisation_name, &framework, award.expires_on, notice);
        let key = format!("{}:{notice}", award.id);
        let audience = Audience::MembersOf(award.organisation_id);
        added += queue(&mut tx, now, Kind::RenewalDue, &key, audience, &message).await?;
    }
    for item in &evidence {
        let framework = framework_name(standards, &item.framework_id, &item.framework_version);
        let message = text::evidence_expiring(&sig, &item.organisation_name, &framework, item.items, item.valid_until);
        let key = format!("{}:{}", item.assessment_id, item.valid_until);
        let audience = Audience::MembersOf(item.organisation_id);
        added += queue(&mut tx, now, Kind::EvidenceExpiring, &key, audience, &message).await?;
    }
    for group in &lapsing {
        let message = text::training_lapsing(&sig, &group.organisation_name, group.people, group.lapses_on);
        let key = format!("{}:{}", group.organisation_id, group.lapses_on);
        let audience = Audience::ContactOf(group.organisation_id);
        added += queue(&mut tx, now, Kind::TrainingLapsing, &key, audience, &message).await?;
    }
    let week_starting = today
        .checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_monday())))
        .unwrap_or(today);
    let digest = text::Digest {
        week_starting,
        awaiting_review,
        renewals_due,
        training_lapsing,
        undelivered,
    };
    let message = text::weekly_digest(&sig, &digest);
    added += queue(
        &mut tx,
        now,
        Kind::WeeklyDigest,
        &week_starting.to_string(),
        Audience::ProgrammeLeads,
        &message,
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

/// [`scan`] for a signed-in programme lead ("Look for reminders now").
pub async fn scan_now(ctx: Ctx<'_>, acting: &Acting) -> AppResult<usize> {
    acting.require(|a| a.is_programme_lead())?;
    scan(ctx.db, &ctx.app.standards, &ctx.app.config, ctx.now).await
}

// ------------------------------------------------------------ delivery

/// What a round of delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// No mail server is configured: the messages wait in the outbox.
    NotConfigured,
    /// The mail server settings are wrong (what is wrong, with no
    /// password): nothing was tried, and the messages wait in the outbox.
    Misconfigured(String),
    Done {
        sent: usize,
        failed: usize,
        /// Out of date before they could be sent, so withdrawn.
        withdrawn: u64,
    },
}

/// The configured mail server and sender, or `None` when there is none.
/// `Err` says what is wrong with the settings.
fn mailer(config: &AppConfig) -> Result<Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>, String> {
    if config.smtp_url.trim().is_empty() {
        return Ok(None);
    }
    let server = text::parse_smtp_url(&config.smtp_url)?;
    let from: Mailbox = config
        .smtp_from
        .trim()
        .parse()
        .map_err(|e| format!("QMTRACK_SMTP_FROM is not an email address ({e})"))?;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host.as_str())
        .port(server.port)
        .timeout(Some(send_limit(config)));
    builder = match server.security {
        SmtpSecurity::Plain => builder,
        SmtpSecurity::StartTls => builder.tls(Tls::Required(tls_parameters(config, &server.host)?)),
        SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls_parameters(config, &server.host)?)),
    };
    if let Some((user, password)) = server.credentials {
        builder = builder.credentials(Credentials::new(user, password));
    }
    Ok(Some((builder.build(), from)))
}

/// How long one message may take to hand over. lettre's own timeout covers
/// only connecting: a server that stopped answering part-way through a
/// message would otherwise hold the round up for ever.
fn send_limit(config: &AppConfig) -> std::time::Duration {
    std::time::Duration::from_secs(config.smtp_timeout_seconds.max(1))
}

/// How the mail server's certificate is checked: against the public
/// certificate authorities (Mozilla's list, built in) and those in
/// `QMTRACK_SMTP_CA_FILE`, for `host`.
fn tls_parameters(config: &AppConfig, host: &str) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(host.to_string());
    if !config.smtp_ca_file.as_os_str().is_empty() {
        let shown = config.smtp_ca_file.display();
        let pem = std::fs::read(&config.smtp_ca_file)
            .map_err(|e| format!("QMTRACK_SMTP_CA_FILE {shown} could not be read ({e})"))?;
        let authorities = Certificate::from_pem(&pem)
            .map_err(|e| format!("QMTRACK_SMTP_CA_FILE {shown} holds no PEM certificate ({e})"))?;
        builder = builder.add_root_certificate(authorities);
    }
    builder
        .build_rustls()
        .map_err(|e| format!("the mail server's TLS could not be set up ({e})"))
}

/// Delivers every message due at the clock's now, one at a time; each
/// failure is recorded with its error and tried again later.
pub async fn send_due(pool: &Pool, config: &AppConfig, clock: &Clock) -> AppResult<Delivery> {
    let (transport, from) = match mailer(config) {
        Ok(Some(mailer)) => mailer,
        Ok(None) => return Ok(Delivery::NotConfigured),
        Err(wrong) => return Ok(Delivery::Misconfigured(wrong)),
    };
    let now = clock.now();
    let withdrawn = outbox::withdraw_queued_before(
        pool,
        now - Duration::days(text::WITHDRAW_AFTER_DAYS),
        now,
        &text::withdrawn_reason(),
    )
    .await?;
    if withdrawn > 0 {
        tracing::info!("{withdrawn} reminders were out of date and withdrawn unsent");
    }
    let limit = send_limit(config);
    let (mut sent, mut failed) = (0, 0);
    loop {
        let claimed = outbox::claim_due(pool, clock.now(), Duration::minutes(CLAIM_LEASE_MINUTES), CLAIM_BATCH).await?;
        if claimed.is_empty() {
            break;
        }
        for message in claimed {
            let outcome = match build_email(&from, &message) {
                Ok(email) => match rocket::tokio::time::timeout(limit, transport.send(email)).await {
                    Ok(handed_over) => handed_over.map(drop).map_err(|e| e.to_string()),
                    Err(_) => Err(format!(
                        "the mail server did not take the message within {} s",
                        limit.as_secs()
                    )),
                },
                Err(e) => Err(e),
            };
            match outcome {
                Ok(()) => {
                    outbox::mark_sent(pool, message.id, clock.now()).await?;
                    sent += 1;
                }
                Err(error) => {
                    let retry_at = clock.now() + text::retry_delay(message.attempts);
                    tracing::warn!(
                        "could not deliver reminder {} to {} (attempt {}): {error}",
                        message.id,
                        message.recipient,
                        message.attempts
                    );
                    outbox::mark_failed(pool, message.id, retry_at, &error).await?;
                    failed += 1;
                }
            }
        }
    }
    Ok(Delivery::Done {
        sent,
        failed,
        withdrawn,
    })
}

fn build_email(from: &Mailbox, message: &outbox::Claimed) -> Result<lettre::Message, String> {
    let to: Mailbox = message
        .recipient
        .parse()
        .map_err(|e| format!("“{}” is not an email address ({e})", message.recipient))?;
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            message.body_text.clone(),
            message.body_html.clone(),
        ))
        .map_err(|e| e.to_string())
}

/// [`send_due`] for a signed-in programme lead ("Send now").
pub async fn send_now(ctx: Ctx<'_>, acting: &Acting) -> AppResult<Delivery> {
    acting.require(|a| a.is_programme_lead())?;
    send_due(ctx.db, &ctx.app.config, &ctx.app.clock).await
}

/// The server's own round every `reminders_every_seconds`: scan, then deliver.
pub async fn run_in_background(
    pool: Pool,
    config: AppConfig,
    clock: Clock,
    standards: Arc<StandardsLibrary>,
    shutdown: rocket::Shutdown,
) {
    if config.reminders_every_seconds == 0 {
        return;
    }
    let every = std::time::Duration::from_secs(config.reminders_every_seconds);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        rocket::tokio::select! {
            _ = &mut shutdown => return,
            _ = rocket::tokio::time::sleep(every) => {}
        }
        if let Err(e) = scan(&pool, &standards, &config, clock.now()).await {
            tracing::warn!("could not look for reminders: {e}");
        }
        match send_due(&pool, &config, &clock).await {
            Err(e) => tracing::warn!("could not deliver reminders: {e}"),
            Ok(Delivery::Misconfigured(wrong)) => tracing::warn!("could not deliver reminders: {wrong}"),
            Ok(_) => {}
        }
    }
}

// ------------------------------------------------------------ choices

/// The kinds `user` has turned off.
pub async fn turned_off(db: &Pool, user_id: i64) -> AppResult<Vec<Kind>> {
    Ok(outbox::opt_outs(&mut db.acquire().await?, user_id).await?)
}

/// Records which of the kinds offered to `user` (see [`Kind::for_role`])
/// they want; those not in `wanted` are turned off, and choices about kinds
/// not offered stay as they were.
pub async fn choose(ctx: Ctx<'_>, acting: &Acting, user: &UserRow, wanted: &[Kind]) -> AppResult<()> {
    acting.require(|a| a.user_id == user.id)?;
    let offered = Kind::for_role(user.role);
    let mut tx = db::begin_write(ctx.db).await?;
    let before = outbox::opt_outs(&mut tx, user.id).await?;
    let off: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| {
            if offered.contains(k) {
                !wanted.contains(k)
            } else {
                before.contains(k)
            }
        })
        .collect();
    outbox::set_opt_outs(&mut tx, user.id, &off).await?;
    let entry = Entry::user("user.reminders", user.id, user.organisation_id)
        .before(json!({"turned_off": before}))
        .after(json!({"turned_off": off}));
    audit::record(&mut tx, acting.at(ctx.now), entry).await?;
    tx.commit().await?;
    Ok(())
}
