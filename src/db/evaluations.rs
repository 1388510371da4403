//! Session evaluations: each session's public link, and the anonymous
//! responses given through it or imported. A response row holds the
//! session, the day and the answers, nothing else (see migration 0034).

use super::{Conn, Instant, Pool};
use crate::domain::evaluation::Answers;
use chrono::{DateTime, NaiveDate, Utc};

/// The token of a session's evaluation link, if it has one yet.
pub async fn link_of_session(conn: &mut Conn, session_id: i64) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT token FROM evaluation_links WHERE session_id = $1";
    super::first_value(conn, sql, &[session_id.into()]).await
}

/// Gives the session a link with `token` unless it already has one (two
/// people opening it at once both end up with the first's). True when this
/// call made it.
pub async fn create_link(
    conn: &mut Conn,
    session_id: i64,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let added = super::execute(
        conn,
        "INSERT INTO evaluation_links (session_id, token, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (session_id) DO NOTHING",
        &[session_id.into(), token.into(), Instant(now).into()],
    )
    .await?;
    Ok(added == 1)
}

/// The session a link token belongs to.
pub async fn session_of_token(pool: &Pool, token: &str) -> Result<Option<i64>, sqlx::Error> {
    let sql = "SELECT session_id FROM evaluation_links WHERE token = $1";
    super::first_value(&mut pool.acquire().await?, sql, &[token.into()]).await
}

/// Holds the session's link row until the transaction ends, so that two
/// answers arriving together are counted against the cap one after the
/// other (PostgreSQL; a SQLite write transaction is alone already).
pub async fn lock_session(conn: &mut Conn, session_id: i64) -> Result<(), sqlx::Error> {
    super::execute(
        conn,
        "UPDATE evaluation_links SET token = token WHERE session_id = $1",
        &[session_id.into()],
    )
    .await?;
    Ok(())
}

pub async fn response_count(conn: &mut Conn, session_id: i64) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM evaluation_responses WHERE session_id = $1";
    super::one_value(conn, sql, &[session_id.into()]).await
}

fn encode(answers: &Answers) -> Result<String, sqlx::Error> {
    serde_json::to_string(&answers.answers)
        .map_err(|e| sqlx::Error::Protocol(format!("evaluation answers could not be written: {e}")))
}

fn decode(answers: &str, comment: String) -> Result<Answers, sqlx::Error> {
    let answers = serde_json::from_str(answers).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Answers { answers, comment })
}

/// Adds responses to a session, all given on `day`.
pub async fn insert_responses(
    conn: &mut Conn,
    session_id: i64,
    day: NaiveDate,
    responses: &[Answers],
) -> Result<(), sqlx::Error> {
    use super::Bind;
    let mut rows = Vec::with_capacity(responses.len());
    for response in responses {
        rows.push(vec![
            Bind::Int(session_id),
            Bind::Date(day),
            Bind::Text(encode(response)?.into()),
            Bind::Text(response.comment.as_str().into()),
        ]);
    }
    super::insert_many(
        conn,
        "evaluation_responses (session_id, answered_on, answers, comment)",
        &rows,
    )
    .await
}

/// A session's responses. Comments come sorted by their text, so the order
/// in which people answered (which a trainer could match to faces) is not
/// shown anywhere.
pub async fn session_responses(pool: &Pool, session_id: i64) -> Result<Vec<Answers>, sqlx::Error> {
    let sql = "SELECT answers, comment FROM evaluation_responses WHERE session_id = $1 ORDER BY comment, answers";
    let rows: Vec<(String, String)> = super::rows(&mut pool.acquire().await?, sql, &[session_id.into()]).await?;
    rows.into_iter()
        .map(|(answers, comment)| decode(&answers, comment))
        .collect()
}

/// Responses to sessions held from `from` to `to`, with each session's
/// programme: what the results by programme and the board report count.
pub async fn responses_in_period(
    pool: &Pool,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(String, Answers)>, sqlx::Error> {
    let sql = "SELECT s.programme_id, r.answers, r.comment
         FROM evaluation_responses r JOIN training_sessions s ON s.id = r.session_id
         WHERE s.session_date >= $1 AND s.session_date <= $2
         ORDER BY s.programme_id, r.comment, r.answers";
    let rows: Vec<(String, String, String)> =
        super::rows(&mut pool.acquire().await?, sql, &[from.into(), to.into()]).await?;
    rows.into_iter()
        .map(|(programme, answers, comment)| Ok((programme, decode(&answers, comment)?)))
        .collect()
}
