//! Certificates: issued for training completions (after a register, an
//! import or on request) and for awards (with the award), revoked with a
//! reason, and reissued under a new code with the old one pointing to it.

use super::{Acting, Ctx};
use crate::db::audit::{self, Entry};
use crate::db::certificates::{self, CertificateRow, NewCertificate};
use crate::db::{self, Pool};
use crate::domain::access::{Actor, OrgScope};
use crate::domain::certificate::Kind;
use crate::domain::completion::{person_completions, AttendanceFact, AttendanceStatus, CompletionState};
use crate::domain::programmes::ProgrammeLibrary;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sqlx::AnyConnection;

/// Whether `actor` may see the certificate: its organisation, or anyone who sees all.
pub fn visible_to(actor: &Actor, row: &CertificateRow) -> bool {
    match actor.org_scope() {
        OrgScope::All => true,
        OrgScope::Only(own) => own == row.organisation_id,
    }
}

/// The certificate, if `actor` may see it ("not found" otherwise, so ids cannot be probed).
pub async fn visible(db: &Pool, actor: &Actor, id: i64) -> AppResult<CertificateRow> {
    match certificates::find(db, id).await? {
        Some(row) if visible_to(actor, &row) => Ok(row),
        _ => Err(AppError::NotFound),
    }
}

/// What an award's certificate says.
pub struct AwardCertificate<'a> {
    pub assessment_id: i64,
    pub organisation_id: i64,
    pub holder_name: &'a str,
    pub title: &'a str,
    pub issued_on: &'a str,
    pub expires_on: &'a str,
}

/// The award's certificate, inside the award's own transaction; one per
/// assessment. Returns its code.
pub(super) async fn issue_for_award(
    conn: &mut AnyConnection,
    now: &str,
    by: &audit::Actor,
    award: &AwardCertificate<'_>,
) -> AppResult<String> {
    if let Some(code) = certificates::award_certificate_code(conn, award.assessment_id).await? {
        return Ok(code);
    }
    let (id, code) = certificates::insert(
        conn,
        &NewCertificate {
            kind: Kind::Award,
            person_id: None,
            organisation_id: award.organisation_id,
            programme_id: "",
            completion_id: "",
            assessment_id: Some(award.assessment_id),
            holder_name: award.holder_name,
            title: award.title,
            issued_on: award.issued_on,
            expires_on: award.expires_on,
        },
        now,
    )
    .await?;
    audit::record(
        conn,
        now,
        by,
        Entry::of("certificate.issue", "certificate", Some(id))
            .within(Some(award.organisation_id))
            .after(json!({"code": code, "kind": Kind::Award, "assessment_id": award.assessment_id})),
    )
    .await?;
    Ok(code)
}

/// When an award is revoked, inside the revocation's transaction: its
/// certificates must no longer verify as valid.
pub(super) async fn revoke_for_award(
    conn: &mut AnyConnection,
    now: &str,
    by: &audit::Actor,
    organisation_id: i64,
    assessment_id: i64,
    reason: &str,
) -> AppResult<()> {
    let revoked = certificates::revoke_for_assessment(conn, assessment_id, reason, now).await?;
    for (id, code) in revoked {
        audit::record(
            conn,
            now,
            by,
            Entry::of("certificate.revoke", "certificate", Some(id))
                .within(Some(organisation_id))
                .before(json!({"code": code}))
                .after(json!({"reason": reason, "with_award": assessment_id})),
        )
        .await?;
    }
    Ok(())
}

/// Issues a certificate for each completion (current or lapsed) that has
/// none for the same period yet, as of `now`. Idempotent: any earlier
/// certificate for the same person, completion and expiry (even a revoked or
/// replaced one) counts, so a revocation is not undone by the next run; a
/// refresher that moves the expiry earns a new certificate. Returns how many
/// were issued. Takes the pool and library rather than a [`Ctx`] so an
/// import finishing in the background can call it.
pub async fn issue_for_completions(
    db: &Pool,
    programmes: &ProgrammeLibrary,
    now: DateTime<Utc>,
    by: &audit::Actor,
) -> AppResult<usize> {
    let today = now.date_naive();
    let existing = certificates::training_certificate_keys(&mut *db.acquire().await?).await?;
    let mut to_issue: Vec<Pending> = Vec::new();
    for programme in programmes.current() {
        let facts = db::training::programme_facts(db, &programme.id).await?;
        for rows in facts.chunk_by(|a, b| a.person_id == b.person_id) {
            let person = rows[0].person_id;
            let mine: Vec<AttendanceFact> = rows
                .iter()
                .filter_map(|f| {
                    Some(AttendanceFact {
                        module_id: f.module_id.clone(),
                        date: certificates::date(&f.session_date)?,
                        status: AttendanceStatus::parse(&f.status)?,
                    })
                })
                .collect();
            for completion in person_completions(programme, &mine, today) {
                // A lapsed completion was earned too: its certificate shows as expired.
                if !matches!(completion.state, CompletionState::Completed | CompletionState::Lapsed) {
                    continue;
                }
                let Some(completed_on) = completion.completed_on else {
                    continue;
                };
                let expires = completion.lapses_on.map(|d| d.to_string()).unwrap_or_default();
                let key = (
                    person,
                    programme.id.clone(),
                    completion.completion_id.clone(),
                    expires.clone(),
                );
                if existing.contains(&key) {
                    continue;
                }
                to_issue.push(Pending {
                    person_id: person,
                    organisation_id: rows[0].organisation_id,
                    holder_name: rows[0].full_name.clone(),
                    programme_id: programme.id.clone(),
                    completion_id: completion.completion_id.clone(),
                    title: crate::domain::certificate::training_title(&programme.name, &completion.title),
                    issued_on: completed_on,
                    expires_on: expires,
                });
            }
        }
    }
    if to_issue.is_empty() {
        return Ok(0);
    }
    let stamp = crate::clock::to_db(now);
    // Saving two registers at once runs this twice at once: the second run
    // must see what the first issued, so the check is made again inside the
    // transaction, one run at a time.
    let mut tx = db::begin_write(db).await?;
    certificates::take_issuing_turn(&mut tx, db.backend).await?;
    let existing = certificates::training_certificate_keys(&mut tx).await?;
    to_issue.retain(|p| {
        !existing.contains(&(
            p.person_id,
            p.programme_id.clone(),
            p.completion_id.clone(),
            p.expires_on.clone(),
        ))
    });
    if to_issue.is_empty() {
        return Ok(0);
    }
    for pending in &to_issue {
        certificates::insert(
            &mut tx,
            &NewCertificate {
                kind: Kind::Training,
                person_id: Some(pending.person_id),
                organisation_id: pending.organisation_id,
                programme_id: &pending.programme_id,
                completion_id: &pending.completion_id,
                assessment_id: None,
                holder_name: &pending.holder_name,
                title: &pending.title,
                issued_on: &pending.issued_on.to_string(),
                expires_on: &pending.expires_on,
            },
            &stamp,
        )
        .await?;
    }
    // One entry for the batch: an import can earn thousands at once.
    audit::record(
        &mut tx,
        &stamp,
        by,
        Entry::of("certificate.issue", "certificate", None)
            .after(json!({"kind": Kind::Training, "issued": to_issue.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(to_issue.len())
}

/// A training certificate waiting to be issued.
struct Pending {
    person_id: i64,
    organisation_id: i64,
    holder_name: String,
    programme_id: String,
    completion_id: String,
    title: String,
    issued_on: NaiveDate,
    expires_on: String,
}

/// [`issue_for_completions`] for a signed-in training lead or programme lead.
pub async fn issue_missing(ctx: Ctx<'_>, acting: &Acting) -> AppResult<usize> {
    if !acting.access.can_manage_training() {
        return Err(AppError::Forbidden);
    }
    issue_for_completions(ctx.db, &ctx.app.programmes, ctx.now, &acting.audit).await
}

fn already_replaced() -> AppError {
    AppError::Conflict("This certificate has already been revoked or replaced.".into())
}

/// Why a revocation or reissue was not made: shown beside the form.
pub struct NeedsText(pub &'static str);

/// Revokes one certificate, with a reason that the public never sees.
pub async fn revoke(ctx: Ctx<'_>, acting: &Acting, id: i64, reason: &str) -> AppResult<Result<(), NeedsText>> {
    let row = visible(ctx.db, &acting.access, id).await?;
    if !acting.access.is_programme_lead() {
        return Err(AppError::Forbidden);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Ok(Err(NeedsText(
            "Give the reason for revoking (it is not shown to the public).",
        )));
    }
    let now = ctx.stamp();
    let mut tx = db::begin_write(ctx.db).await?;
    if !certificates::revoke(&mut tx, id, reason, &now).await? {
        return Err(already_replaced());
    }
    audit::record(
        &mut tx,
        &now,
        &acting.audit,
        Entry::of("certificate.revoke", "certificate", Some(id))
            .within(Some(row.organisation_id))
            .before(json!({"code": row.code}))
            .after(json!({"reason": reason})),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

pub struct Reissued {
    pub id: i64,
    pub code: String,
}

/// A copy under a new code with the name to print (a corrected spelling,
/// a changed name); the old code then verifies as superseded.
pub async fn reissue(
    ctx: Ctx<'_>,
    acting: &Acting,
    id: i64,
    holder_name: &str,
) -> AppResult<Result<Reissued, NeedsText>> {
    let row = visible(ctx.db, &acting.access, id).await?;
    if !acting.access.is_programme_lead() {
        return Err(AppError::Forbidden);
    }
    let name = holder_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Ok(Err(NeedsText("Enter the name to print, up to 200 characters.")));
    }
    let now = ctx.stamp();
    let mut tx = db::begin_write(ctx.db).await?;
    let Some((new_id, code)) = certificates::reissue(&mut tx, &row, name, &now).await? else {
        return Err(already_replaced());
    };
    audit::record(
        &mut tx,
        &now,
        &acting.audit,
        Entry::of("certificate.reissue", "certificate", Some(new_id))
            .within(Some(row.organisation_id))
            .before(json!({"code": row.code, "holder_name": row.holder_name}))
            .after(json!({"code": code, "holder_name": name})),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Reissued { id: new_id, code }))
}
