//! Each session's attendance kept as one text (migration 0044), for the
//! reports: a year's attendance is read as a few thousand texts rather
//! than as a quarter of a million rows. Every write of attendance calls
//! [`refresh`] for the sessions it changed, in its own transaction.

use super::{in_list, Conn, Pool};
use std::collections::{BTreeMap, BTreeSet};

/// One record of a session's text: `person:organisation:mark`. The
/// organisation is the one kept with the record, or its person's where a
/// backup from before migration 0038 left it out (people never change
/// organisation, so the text cannot go out of date by that).
const RECORD: &str = "CAST(a.person_id AS TEXT) || ':'
    || CAST(COALESCE(a.organisation_id, (SELECT p.organisation_id FROM people p WHERE p.id = a.person_id)) AS TEXT)
    || ':' || CASE WHEN a.status IN ('attended', 'partial') THEN '1' WHEN a.status = 'absent' THEN '2' ELSE '3' END";

/// A record's mark in [`RECORD`].
pub const PRESENT: u8 = b'1';
pub const ABSENT: u8 = b'2';

/// How many sessions one statement refreshes.
const SESSIONS_A_STATEMENT: usize = 200;

/// Makes these sessions' texts again from their attendance as it now is;
/// a session left with no attendance loses its text.
pub async fn refresh(conn: &mut Conn, sessions: &BTreeSet<i64>) -> Result<(), sqlx::Error> {
    let backend = conn.backend();
    let joined = backend.join_texts();
    let sessions: Vec<super::Bind> = sessions.iter().map(|id| super::Bind::Int(*id)).collect();
    // On PostgreSQL two writers marking the same session at once would each
    // make its text without the other's uncommitted mark, and the later
    // commit would keep a text missing the earlier one's. They take turns
    // per session (a row lock, in id order so that two writers never wait on
    // each other), and the one that waited reads the other's marks once they
    // are committed. SQLite's writers already take turns.
    if backend == super::Backend::Postgres {
        for chunk in sessions.chunks(SESSIONS_A_STATEMENT) {
            let listed = in_list(backend, 1, chunk.len());
            let sql = format!("SELECT id FROM training_sessions WHERE id IN ({listed}) ORDER BY id FOR NO KEY UPDATE");
            super::execute(conn, &sql, chunk).await?;
        }
    }
    for chunk in sessions.chunks(SESSIONS_A_STATEMENT) {
        let listed = in_list(backend, 1, chunk.len());
        super::execute(
            conn,
            &format!("DELETE FROM session_records WHERE session_id IN ({listed})"),
            chunk,
        )
        .await?;
        super::execute(
            conn,
            &format!(
                "INSERT INTO session_records (session_id, records)
                 SELECT a.session_id, {joined}({RECORD}, ',') FROM attendance a
                 WHERE a.session_id IN ({listed}) GROUP BY a.session_id"
            ),
            chunk,
        )
        .await?;
    }
    Ok(())
}

/// Texts of sessions whose every record the caller has in hand (the
/// sessions an import made), made as [`RECORD`] would make them.
#[derive(Default)]
pub struct Texts(BTreeMap<i64, String>);

impl Texts {
    pub fn add(&mut self, session: i64, person: i64, organisation: i64, status: &str) {
        use std::fmt::Write;
        let text = self.0.entry(session).or_default();
        if !text.is_empty() {
            text.push(',');
        }
        let mark = match status {
            "attended" | "partial" => '1',
            "absent" => '2',
            _ => '3',
        };
        let _ = write!(text, "{person}:{organisation}:{mark}");
    }

    /// Forgets these sessions' texts (to be refreshed from the database).
    pub fn leave_out(&mut self, sessions: &BTreeSet<i64>) {
        self.0.retain(|session, _| !sessions.contains(session));
    }

    /// Keeps the texts, for sessions that have none yet.
    pub async fn insert(self, conn: &mut Conn) -> Result<(), sqlx::Error> {
        let rows: Vec<Vec<super::Bind>> = self
            .0
            .into_iter()
            .map(|(session, text)| vec![super::Bind::Int(session), super::Bind::Text(text.into())])
            .collect();
        super::insert_many(conn, "session_records (session_id, records)", &rows).await
    }
}

/// The sessions whose attendance an import wrote or changed.
pub async fn sessions_of_import(conn: &mut Conn, import_id: i64) -> Result<BTreeSet<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = super::rows(
        conn,
        "SELECT DISTINCT a.session_id FROM attendance a WHERE a.import_id = $1
         UNION SELECT a.session_id FROM attendance a
            JOIN import_effects e ON e.entity_id = a.id AND e.kind = 'attendance_updated'
            WHERE e.import_id = $1",
        &[import_id.into()],
    )
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Each session's records as kept, sorted (a text's order is not kept).
pub async fn kept(pool: &Pool) -> Result<BTreeMap<i64, Vec<String>>, sqlx::Error> {
    let rows: Vec<(i64, String)> = super::rows(
        &mut pool.acquire().await?,
        "SELECT session_id, records FROM session_records",
        &[],
    )
    .await?;
    Ok(split(rows))
}

/// Each session's records worked out from its attendance now, sorted: what
/// [`kept`] must equal.
pub async fn from_scratch(pool: &Pool) -> Result<BTreeMap<i64, Vec<String>>, sqlx::Error> {
    let joined = pool.backend().join_texts();
    let rows: Vec<(i64, String)> = super::rows(
        &mut pool.acquire().await?,
        &format!("SELECT a.session_id, {joined}({RECORD}, ',') FROM attendance a GROUP BY a.session_id"),
        &[],
    )
    .await?;
    Ok(split(rows))
}

fn split(rows: Vec<(i64, String)>) -> BTreeMap<i64, Vec<String>> {
    rows.into_iter()
        .map(|(session, records)| {
            let mut each: Vec<String> = records.split(',').map(str::to_string).collect();
            each.sort();
            (session, each)
        })
        .collect()
}

/// The records of a session's text: (person, organisation, mark) each.
/// Read a byte at a time: a year is 230,000 records, and splitting and
/// parsing each field on its own took the counting twice as long. A record
/// that is not one (which the database never writes) is left out.
pub fn parse(text: &str) -> impl Iterator<Item = (i64, i64, u8)> + '_ {
    text.split(',').filter_map(|record| {
        let bytes = record.as_bytes();
        let (person, rest) = leading_number(bytes)?;
        let (organisation, rest) = leading_number(rest.strip_prefix(b":")?)?;
        match rest {
            [b':', mark] => Some((person, organisation, *mark)),
            _ => None,
        }
    })
}

/// The whole number at the start of `bytes`, and what follows it.
fn leading_number(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 18 {
        return None;
    }
    let value = bytes[..digits]
        .iter()
        .fold(0i64, |value, digit| value * 10 + i64::from(digit - b'0'));
    Some((value, &bytes[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_person_organisation_and_mark() {
        let read: Vec<_> = parse("12:7:1,3:40:2,3:40,x:40:1,5:6:3,7:8:12,:1:1").collect();
        assert_eq!(read, vec![(12, 7, PRESENT), (3, 40, ABSENT), (5, 6, b'3')]);
        assert_eq!(parse("").count(), 0);
    }
}
