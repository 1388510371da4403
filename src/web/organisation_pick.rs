//! Picking an organisation on a form by typing its name, instead of a
//! drop-down of every organisation (ten thousand names made a page of
//! 600 KB). Works without scripts: the form sends what was typed; an exact
//! name, or text only one organisation's name contains, picks it. Otherwise
//! the form comes back with the field in error and the names that match
//! offered as the input's suggestions (`<datalist>`) and listed beneath it.

use crate::app::IdName;
use crate::db::{organisation_search, Pool};
use crate::domain::organisation::name_key;
use serde::Serialize;

/// How many matching names the form offers when the text picks none.
const SUGGESTIONS: i64 = 10;

/// What the organisation field says after reading what was typed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OrganisationPick {
    /// The organisation picked; none when the field was left blank or did
    /// not pick one (then `error` says why).
    pub id: Option<i64>,
    /// What the field shows again: the picked organisation's name, or the text.
    pub value: String,
    pub error: Option<String>,
    pub suggestions: Vec<IdName>,
}

impl OrganisationPick {
    /// Why the text picked no organisation, with the names it matched, as
    /// one line for a flash message; `None` when it picked one or was blank.
    pub fn refusal(&self) -> Option<String> {
        let message = self.error.clone()?;
        if self.suggestions.is_empty() {
            return Some(message);
        }
        let names: Vec<&str> = self.suggestions.iter().map(|s| s.name.as_str()).collect();
        Some(format!("{message}: {}", names.join("; ")))
    }

    /// The field for an organisation already chosen (a form shown again, a link).
    pub fn chosen(id: i64, name: String) -> Self {
        OrganisationPick {
            id: Some(id),
            value: name,
            ..OrganisationPick::default()
        }
    }
}

/// Reads the field. A number is an organisation's id, as links to a
/// filtered page carry it.
pub async fn pick(pool: &Pool, typed: &str) -> Result<OrganisationPick, sqlx::Error> {
    let text = typed.trim();
    if text.is_empty() {
        return Ok(OrganisationPick::default());
    }
    if let Ok(id) = text.parse::<i64>() {
        return Ok(match organisation_search::name_of(pool, id).await? {
            Some(name) => OrganisationPick::chosen(id, name),
            None => refused(text, format!("There is no organisation number {id}"), Vec::new()),
        });
    }
    let key = name_key(text);
    let found = organisation_search::matching(pool, &key, SUGGESTIONS + 1).await?;
    let exact = found.first().filter(|(_, name)| name_key(name) == key);
    if let Some((id, name)) = exact.or(found.first().filter(|_| found.len() == 1)) {
        return Ok(OrganisationPick::chosen(*id, name.clone()));
    }
    let message = match found.len() {
        0 => format!("No organisation’s name contains “{text}”: check the spelling, or type less of the name"),
        n if n as i64 > SUGGESTIONS => {
            format!("More than {SUGGESTIONS} organisations’ names contain “{text}”: type more of the name")
        }
        n => format!("{n} organisations’ names contain “{text}”: choose one of them below"),
    };
    let suggestions = found
        .into_iter()
        .take(SUGGESTIONS as usize)
        .map(|(id, name)| IdName { id, name })
        .collect();
    Ok(refused(text, message, suggestions))
}

fn refused(text: &str, message: String, suggestions: Vec<IdName>) -> OrganisationPick {
    OrganisationPick {
        id: None,
        value: text.to_string(),
        error: Some(message),
        suggestions,
    }
}
