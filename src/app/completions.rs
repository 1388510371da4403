//! Kept completions (who holds what, and when it lapses) are derived from
//! attendance and the programme files. When the files change, or on a
//! database from before completions were kept, every door that opens the
//! app (the server, each command) works them all out again first, through
//! this one workflow, so the audit log says when and why they moved.

use crate::db::audit::{self, Actor, Entry};
use crate::db::completions::{self, Rebuilt};
use crate::db::{self, Pool};
use crate::domain::programmes::ProgrammeLibrary;
use chrono::{DateTime, Utc};
use serde_json::json;

/// Works every completion out again unless they are current under
/// `programmes`; `None` when nothing needed doing. The rebuild and its audit
/// entry share one transaction.
pub async fn bring_up_to_date(
    pool: &Pool,
    programmes: &ProgrammeLibrary,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Option<Rebuilt>, sqlx::Error> {
    // The usual case, a start on an up-to-date database, takes no write lock.
    if completions::are_current(pool, programmes).await? {
        return Ok(None);
    }
    let mut tx = db::begin_write(pool).await?;
    let Some(rebuilt) = completions::rebuild_if_stale(&mut tx, programmes).await? else {
        return Ok(None);
    };
    // A new database records the files with nothing to work out: no entry.
    if rebuilt.completions_before == 0 && rebuilt.completions == 0 {
        tx.commit().await?;
        return Ok(Some(rebuilt));
    }
    let versions: Vec<String> = programmes
        .current()
        .iter()
        .map(|p| format!("{} {}", p.id, p.version))
        .collect();
    let entry = Entry::of("completions.rebuild", "completions", None)
        .before(json!({ "completions": rebuilt.completions_before }))
        .after(json!({
            "programmes": versions,
            "completions": rebuilt.completions,
            "spells": rebuilt.spells,
        }));
    audit::record(&mut tx, actor.at(now), entry).await?;
    tx.commit().await?;
    Ok(Some(rebuilt))
}
