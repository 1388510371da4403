//! Certificates: issued for training completions (after a register, an
//! import or on request) and for awards (with the award), revoked with a
//! reason, and reissued under a new code with the old one pointing to it.

use super::{Acting, Ctx};
use crate::db::audit::{self, Entry};
use crate::db::certificates::{self, CertificateRow, NewCertificate};
use crate::db::Conn;
use crate::db::{self, Backend, Pool};
use crate::domain::access::{Actor, OrgScope};
use crate::domain::certificate::Kind;
use crate::domain::programmes::ProgrammeLibrary;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

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
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
}

/// The award's certificate, inside the award's own transaction; one per
/// assessment. Returns its code.
pub(super) async fn issue_for_award(
    conn: &mut Conn,
    now: DateTime<Utc>,
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
            programme_id: None,
            completion_id: None,
            assessment_id: Some(award.assessment_id),
            holder_name: award.holder_name,
            title: award.title,
            issued_on: award.issued_on,
            expires_on: Some(award.expires_on),
        },
        now,
    )
    .await?;
    let entry = Entry::of("certificate.issue", "certificate", Some(id))
        .within(award.organisation_id)
        .after(json!({"code": code, "kind": Kind::Award, "assessment_id": award.assessment_id}));
    audit::record(conn, by.at(now), entry).await?;
    Ok(code)
}

/// When an award is revoked, inside the revocation's transaction: its
/// certificates must no longer verify as valid.
pub(super) async fn revoke_for_award(
    conn: &mut Conn,
    now: DateTime<Utc>,
    by: &audit::Actor,
    organisation_id: i64,
    assessment_id: i64,
    reason: &str,
) -> AppResult<()> {
    let revoked = certificates::revoke_for_assessment(conn, assessment_id, reason, now).await?;
    for (id, code) in revoked {
        let entry = Entry::of("certificate.revoke", "certificate", Some(id))
            .within(organisation_id)
            .before(json!({"code": code}))
            .after(json!({"reason": reason, "with_award": assessment_id}));
        audit::record(conn, by.at(now), entry).await?;
    }
    Ok(())
}

/// Whose completions [`issue_training`] looks at.
#[derive(Debug, Clone, Copy)]
pub enum Holders<'a> {
    Everyone,
    These(&'a [i64]),
}

/// Issues a training certificate for each kept completion (current or
/// lapsed) that has none for the same period yet, inside the caller's write
/// transaction: the workflow that changed the attendance issues what it
/// earned, all or nothing, with one audit entry for the batch (an import can
/// earn thousands at once). Idempotent: see [`certificates::uncertified`].
/// Also issues for `known`: completions the caller knows to be uncertified
/// without asking (those of people created in this very transaction, who
/// cannot hold a certificate yet); `holders` should not name those people.
/// Returns the new certificates' ids.
pub async fn issue_training(
    tx: &mut Conn,
    backend: Backend,
    programmes: &ProgrammeLibrary,
    stamp: DateTime<Utc>,
    by: &audit::Actor,
    holders: Holders<'_>,
    known: Vec<certificates::Uncertified>,
) -> Result<Vec<i64>, sqlx::Error> {
    let people = match holders {
        Holders::Everyone => None,
        Holders::These([]) if known.is_empty() => return Ok(Vec::new()),
        Holders::These(ids) => Some(ids),
    };
    // Two writers issuing at once on PostgreSQL would both find the same
    // completion uncovered; they take turns. SQLite's writers already do.
    certificates::take_issuing_turn(tx, backend, people.is_none()).await?;
    let mut found = match people {
        Some([]) => Vec::new(),
        _ => certificates::uncertified(tx, people).await?,
    };
    // Everyone's query already reads them.
    let known = if people.is_none() { Vec::new() } else { known };
    if !known.is_empty() {
        found.extend(known);
        // Ids are given in the order the query reads them.
        found.sort_by(|a, b| {
            (a.person_id, &a.programme_id, &a.completion_id).cmp(&(b.person_id, &b.programme_id, &b.completion_id))
        });
    }
    let titles: Vec<Option<String>> = found
        .iter()
        .map(|c| {
            let programme = programmes.current_version(&c.programme_id)?;
            let completion = programme.completion(&c.completion_id)?;
            Some(crate::domain::certificate::training_title(
                &programme.name,
                &completion.title,
            ))
        })
        .collect();
    let new: Vec<NewCertificate> = found
        .iter()
        .zip(&titles)
        .filter_map(|(c, title)| {
            Some(NewCertificate {
                kind: Kind::Training,
                person_id: Some(c.person_id),
                organisation_id: c.organisation_id,
                programme_id: Some(&c.programme_id),
                completion_id: Some(&c.completion_id),
                assessment_id: None,
                holder_name: &c.holder_name,
                title: title.as_deref()?,
                issued_on: c.completed_on?,
                expires_on: c.lapses_on,
            })
        })
        .collect();
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let ids = certificates::insert_training(tx, &new, stamp).await?;
    let entry =
        Entry::of("certificate.issue", "certificate", None).after(json!({"kind": Kind::Training, "issued": ids.len()}));
    audit::record(tx, by.at(stamp), entry).await?;
    Ok(ids)
}

/// [`issue_training`] for everyone, in a transaction of its own: what the
/// training lead's "Issue certificates" runs. Returns how many were issued.
pub async fn issue_for_completions(
    db: &Pool,
    programmes: &ProgrammeLibrary,
    now: DateTime<Utc>,
    by: &audit::Actor,
) -> AppResult<usize> {
    let stamp = now;
    let mut tx = db::begin_write(db).await?;
    let issued = issue_training(
        &mut tx,
        db.backend(),
        programmes,
        stamp,
        by,
        Holders::Everyone,
        Vec::new(),
    )
    .await?;
    tx.commit().await?;
    Ok(issued.len())
}

/// [`issue_for_completions`] for a signed-in training lead or programme lead.
pub async fn issue_missing(ctx: Ctx<'_>, acting: &Acting) -> AppResult<usize> {
    acting.require(|a| a.can_manage_training())?;
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
    acting.require(|a| a.is_programme_lead())?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Ok(Err(NeedsText(
            "Give the reason for revoking (it is not shown to the public).",
        )));
    }
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if !certificates::revoke(&mut tx, id, reason, now).await? {
        return Err(already_replaced());
    }
    let entry = Entry::of("certificate.revoke", "certificate", Some(id))
        .within(row.organisation_id)
        .before(json!({"code": row.code}))
        .after(json!({"reason": reason}));
    audit::record(&mut tx, acting.at(now), entry).await?;
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
    acting.require(|a| a.is_programme_lead())?;
    let name = holder_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Ok(Err(NeedsText("Enter the name to print, up to 200 characters.")));
    }
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let Some((new_id, code)) = certificates::reissue(&mut tx, &row, name, now).await? else {
        return Err(already_replaced());
    };
    let entry = Entry::of("certificate.reissue", "certificate", Some(new_id))
        .within(row.organisation_id)
        .before(json!({"code": row.code, "holder_name": row.holder_name}))
        .after(json!({"code": code, "holder_name": name}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(Ok(Reissued { id: new_id, code }))
}
