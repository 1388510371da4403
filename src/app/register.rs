//! The public register of award holders: reading it as of today, and the
//! two ways a listing is withheld (the organisation's own choice, the
//! programme lead's hiding), each audited.

use super::{Acting, Ctx};
use crate::db::audit::{self, Entry};
use crate::db::register::{self as rows, RegisterChoice};
use crate::db::{self, organisations::OrganisationRow};
use crate::domain::certificate::verify_url;
use crate::domain::register::{by_framework, FrameworkHolders, Holder};
use crate::domain::validation::{required, FieldErrors};
use crate::error::AppResult;
use serde_json::json;

/// The register as it stands on the workflow's day (in the partnership's
/// time zone), grouped by framework.
pub async fn current(ctx: Ctx<'_>) -> AppResult<Vec<FrameworkHolders>> {
    let today = crate::clock::local_date(ctx.now);
    let listed = rows::current_awards(ctx.db, today).await?;
    let holders = listed
        .into_iter()
        .map(|row| {
            let framework_name = ctx
                .app
                .standards
                .get(&row.framework_id, &row.framework_version)
                .map_or_else(|| row.framework_id.clone(), |f| f.name.clone());
            Holder {
                organisation: row.organisation_name,
                locality: row.locality,
                framework_name,
                awarded_on: row.awarded_on,
                expires_on: row.expires_on,
                verify_url: row
                    .certificate_code
                    .map(|code| verify_url(&ctx.app.config.public_base_url, &code)),
                framework_id: row.framework_id,
            }
        })
        .collect();
    Ok(by_framework(holders))
}

/// What a change to a listing asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingChange {
    /// The organisation chooses to be listed (`true`) or not.
    Listed(bool),
    /// The programme lead hides the listing, saying why, or shows it again.
    Hide {
        reason: String,
    },
    Show,
}

/// Applies a change to an organisation's listing. Its members and the
/// programme lead may opt it in or out; only the lead may hide or show it.
/// A hiding needs a reason, so the log says why.
pub async fn change_listing(
    ctx: Ctx<'_>,
    acting: &Acting,
    org: &OrganisationRow,
    change: ListingChange,
) -> AppResult<Result<(), FieldErrors>> {
    acting.require(|a| match change {
        ListingChange::Listed(_) => a.can_edit_organisation(org.id),
        ListingChange::Hide { .. } | ListingChange::Show => a.is_programme_lead(),
    })?;
    let change = match change {
        ListingChange::Hide { reason } => {
            let mut errors = FieldErrors::default();
            let reason = required(&mut errors, "reason", &reason, "why the listing is hidden", 500);
            if !errors.is_empty() {
                return Ok(Err(errors));
            }
            ListingChange::Hide { reason }
        }
        other => other,
    };
    let mut tx = db::begin_write(ctx.db).await?;
    let before = rows::choice(&mut tx, org.id).await?;
    let (after, action) = match change {
        ListingChange::Listed(listed) => (
            RegisterChoice {
                opted_out: !listed,
                ..before.clone()
            },
            if listed { "register.opt_in" } else { "register.opt_out" },
        ),
        ListingChange::Hide { reason } => (
            RegisterChoice {
                hidden: true,
                hidden_reason: Some(reason),
                ..before.clone()
            },
            "register.hide",
        ),
        ListingChange::Show => (
            RegisterChoice {
                hidden: false,
                hidden_reason: None,
                ..before.clone()
            },
            "register.show",
        ),
    };
    rows::save_choice(&mut tx, org.id, &after, ctx.now).await?;
    let entry = Entry::organisation(action, org.id)
        .before(json!(before))
        .after(json!(after));
    audit::record(&mut tx, acting.at(ctx.now), entry).await?;
    tx.commit().await?;
    Ok(Ok(()))
}
