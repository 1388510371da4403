//! Organisations and their people: add and edit them, and the other names
//! an organisation goes by on sign-in sheets.

use super::{Acting, Ctx};
use crate::db::audit::{self, Entry};
use crate::db::organisations::OrganisationRow;
use crate::db::people::PersonRow;
use crate::db::{self, organisations, people};
use crate::domain::organisation::OrganisationDetails;
use crate::domain::person::PersonDetails;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use serde_json::json;

fn name_taken(details: &OrganisationDetails) -> FieldErrors {
    let mut errors = FieldErrors::default();
    errors.add(
        "name",
        format!("There is already an organisation called {}", details.name),
    );
    errors
}

/// Adds an organisation, unless one of the same name exists.
pub async fn create(
    ctx: Ctx<'_>,
    acting: &Acting,
    details: &OrganisationDetails,
) -> AppResult<Result<i64, FieldErrors>> {
    acting.require(|a| a.can_add_organisation())?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if organisations::find_by_name(&mut tx, &details.name_key())
        .await?
        .is_some()
    {
        return Ok(Err(name_taken(details)));
    }
    let id = organisations::insert(&mut tx, details, now).await?;
    let entry = Entry::organisation("organisation.create", id).after(json!(details));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// Saves an organisation's details, unless another has the new name.
pub async fn update(
    ctx: Ctx<'_>,
    acting: &Acting,
    before: &OrganisationRow,
    details: &OrganisationDetails,
) -> AppResult<Result<(), FieldErrors>> {
    acting.require(|a| a.can_edit_organisation(before.id))?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if organisations::find_by_name(&mut tx, &details.name_key())
        .await?
        .is_some_and(|other| other != before.id)
    {
        return Ok(Err(name_taken(details)));
    }
    organisations::update(&mut tx, before.id, details, now).await?;
    let entry = Entry::organisation("organisation.update", before.id)
        .before(json!(before))
        .after(json!(details));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

fn may_edit_aliases(acting: &Acting, organisation_id: i64) -> AppResult<()> {
    acting.require(|a| a.can_edit_organisation(organisation_id) || a.can_manage_training())
}

/// Adds another name for `org`; refused (with why) if it is its name or another's.
pub async fn add_alias(
    ctx: Ctx<'_>,
    acting: &Acting,
    org: &OrganisationRow,
    alias: &str,
) -> AppResult<Result<(), &'static str>> {
    may_edit_aliases(acting, org.id)?;
    let key = crate::domain::import::values::normalise(alias);
    if key.is_empty() {
        return Ok(Err("Enter the other name the organisation goes by."));
    }
    if crate::domain::import::values::normalise(&org.name) == key {
        return Ok(Err("That is already the organisation's name."));
    }
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if let Some(owner) = organisations::alias_owner(&mut tx, &key).await? {
        return Ok(Err(if owner == org.id {
            "The organisation already has that name."
        } else {
            "Another organisation already goes by that name."
        }));
    }
    let alias_id = organisations::add_alias(&mut tx, org.id, alias, &key).await?;
    let entry =
        Entry::organisation("organisation.alias.add", org.id).after(json!({"alias": alias, "alias_id": alias_id}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

pub async fn remove_alias(ctx: Ctx<'_>, acting: &Acting, organisation_id: i64, alias_id: i64) -> AppResult<()> {
    may_edit_aliases(acting, organisation_id)?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if !organisations::remove_alias(&mut tx, organisation_id, alias_id).await? {
        return Err(AppError::NotFound);
    }
    let entry = Entry::organisation("organisation.alias.remove", organisation_id).before(json!({"alias_id": alias_id}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(())
}

fn person_json(person: &PersonDetails) -> serde_json::Value {
    json!({"full_name": person.full_name, "email": person.email, "job_title": person.job_title,
        "staff_category": person.staff_category})
}

/// Adds a person to an organisation's staff.
pub async fn add_person(ctx: Ctx<'_>, acting: &Acting, organisation_id: i64, person: &PersonDetails) -> AppResult<i64> {
    acting.require(|a| a.can_edit_people_of(organisation_id))?;
    let mut tx = db::begin_write(ctx.db).await?;
    let id = insert_person(&mut tx, ctx.now, &acting.audit, organisation_id, person).await?;
    tx.commit().await?;
    Ok(id)
}

/// A new person on an organisation's staff, with its audit entry, inside
/// the caller's transaction (adding staff, or marking a newcomer on a register).
pub(super) async fn insert_person(
    tx: &mut db::Conn,
    now: DateTime<Utc>,
    by: &audit::Actor,
    organisation_id: i64,
    person: &PersonDetails,
) -> AppResult<i64> {
    let id = people::insert(tx, organisation_id, person, now).await?;
    let entry = Entry::of("person.create", "person", Some(id))
        .within(organisation_id)
        .after(person_json(person));
    audit::record(tx, by.at(now), entry).await?;
    Ok(id)
}

pub async fn update_person(ctx: Ctx<'_>, acting: &Acting, before: &PersonRow, person: &PersonDetails) -> AppResult<()> {
    acting.require(|a| a.can_edit_people_of(before.organisation_id))?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    people::update(&mut tx, before.id, person, now).await?;
    let entry = Entry::of("person.update", "person", Some(before.id))
        .within(before.organisation_id)
        .before(json!(before))
        .after(person_json(person));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(())
}
