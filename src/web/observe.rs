//! Watching the service run: every request gets an id (sent back as
//! `X-Request-Id`, shown on error pages, written in its log line), is
//! counted and timed by route for `/metrics`, and is logged once when
//! answered.
//!
//! Labels and log lines name the matched route's pattern
//! (`/organisations/<id>`), never the path asked for: no id, query string
//! or name becomes a label value, and the log holds no form values,
//! cookies or query strings.

use super::AppState;
use crate::db::{self, Db};
use crate::metrics::{Exposition, HttpMetrics, Kind, CONTENT_TYPE};
use crate::security::{constant_time_eq, sha256_hex};
use rocket::fairing::{self, Fairing, Info};
use rocket::http::{ContentType, Header, Status};
use rocket::request::{self, FromRequest, Request};
use rocket::response::{self, Responder, Response};
use rocket::{get, routes, Build, Data, Rocket, Route, State};
use std::io::Cursor;
use std::sync::Arc;
use std::time::Instant;

pub const REQUEST_ID_HEADER: &str = "X-Request-Id";

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

pub fn routes() -> Vec<Route> {
    routes![metrics]
}

/// The fairing: attach once; it makes the request counts available to
/// `/metrics`.
#[derive(Default)]
pub struct Observe {
    metrics: Arc<HttpMetrics>,
}

/// When a request arrived and the id it goes by.
struct Arrival {
    id: String,
    at: Instant,
}

fn arrival<'r>(req: &'r Request<'_>) -> &'r Arrival {
    req.local_cache(|| Arrival {
        id: new_request_id(),
        at: Instant::now(),
    })
}

/// The id of this request, as sent back in `X-Request-Id`.
pub fn request_id<'r>(req: &'r Request<'_>) -> &'r str {
    &arrival(req).id
}

/// 96 random bits: short enough to read out over the phone.
fn new_request_id() -> String {
    let mut id = crate::security::random_token();
    id.truncate(16);
    id
}

/// A path as it may be logged: a public evaluation link's token is a
/// secret that, with the time of a log line, could tie an answer to its
/// session and moment, so `/evaluate/<token>` is written `/evaluate/…`.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/evaluate/") {
        Some(rest) if !rest.is_empty() => "/evaluate/…".into(),
        _ => path.into(),
    }
}

/// An id a proxy sent that is safe to put in a header, a page and a log
/// line as it is.
fn plain_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[rocket::async_trait]
impl Fairing for Observe {
    fn info(&self) -> Info {
        Info {
            name: "Request ids, metrics and request logs",
            kind: fairing::Kind::Ignite | fairing::Kind::Request | fairing::Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        Ok(rocket.manage(self.metrics.clone()))
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let trusted = req
            .rocket()
            .state::<AppState>()
            .is_some_and(|state| state.config.trust_request_id_header);
        let given = trusted
            .then(|| req.headers().get_one(REQUEST_ID_HEADER))
            .flatten()
            .filter(|id| plain_id(id))
            .map(str::to_string);
        req.local_cache(|| Arrival {
            id: given.unwrap_or_else(new_request_id),
            at: Instant::now(),
        });
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let arrival = arrival(req);
        let elapsed = arrival.at.elapsed();
        let route = req
            .route()
            .map(|route| route.uri.origin.path().as_str())
            .unwrap_or(UNMATCHED);
        let method = req.method().as_str();
        let status = res.status().code;
        self.metrics.record(route, method, status, elapsed.as_secs_f64());
        res.set_header(Header::new(REQUEST_ID_HEADER, arrival.id.clone()));
        tracing::info!(
            target: "qmtrack::request",
            request_id = %arrival.id,
            method,
            route,
            status,
            // To the microsecond.
            duration_ms = elapsed.as_micros() as f64 / 1000.0,
            "answered"
        );
    }
}

/// The `Authorization: Bearer …` value, as sent.
pub struct BearerToken<'r>(Option<&'r str>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for BearerToken<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        request::Outcome::Success(BearerToken(super::auth::bearer_token(req)))
    }
}

/// `/metrics`, or why not.
enum Scrape {
    Page(String),
    /// No token is configured: as if there were no such page.
    NotServed,
    WrongToken,
}

impl<'r> Responder<'r, 'static> for Scrape {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        match self {
            Scrape::Page(text) => Response::build()
                .header(ContentType::parse_flexible(CONTENT_TYPE).unwrap_or(ContentType::Plain))
                .sized_body(text.len(), Cursor::new(text))
                .ok(),
            Scrape::NotServed => Err(Status::NotFound),
            Scrape::WrongToken => {
                let text = "401 Unauthorized: send the metrics token as `Authorization: Bearer <token>`\n";
                Response::build()
                    .status(Status::Unauthorized)
                    .header(ContentType::Plain)
                    .header(Header::new("WWW-Authenticate", "Bearer realm=\"metrics\""))
                    .sized_body(text.len(), Cursor::new(text))
                    .ok()
            }
        }
    }
}

#[get("/metrics")]
async fn metrics(token: BearerToken<'_>, state: &State<AppState>, http: &State<Arc<HttpMetrics>>, db: &Db) -> Scrape {
    let expected = state.config.metrics_token.trim();
    if expected.is_empty() {
        return Scrape::NotServed;
    }
    // Digests of equal length, so not even the token's length shows.
    let given = token.0.unwrap_or_default();
    if !constant_time_eq(&sha256_hex(given), &sha256_hex(expected)) {
        return Scrape::WrongToken;
    }
    let mut out = Exposition::default();
    http.write(&mut out);
    write_database_gauges(&mut out, db).await;
    Scrape::Page(out.into_text())
}

async fn write_database_gauges(out: &mut Exposition, db: &Db) {
    // Read before the query below borrows a connection of its own.
    let pools = db::metrics::pool_use(db);
    type Reading = fn(&db::metrics::PoolUse) -> u32;
    let families: [(&str, &str, Reading); 4] = [
        ("qmtrack_db_pool_connections", "Connections open in the pool.", |p| {
            p.size
        }),
        ("qmtrack_db_pool_idle", "Open connections waiting to be used.", |p| {
            p.idle
        }),
        ("qmtrack_db_pool_in_use", "Connections lent out now.", |p| p.in_use()),
        ("qmtrack_db_pool_max", "The most connections the pool opens.", |p| p.max),
    ];
    for (name, help, value) in families {
        out.family(name, help, Kind::Gauge);
        for pool in &pools {
            out.sample(name, &[("pool", pool.name)], f64::from(value(pool)));
        }
    }
    match imports_and_outbox(db).await {
        Ok((running, outbox)) => {
            out.gauge(
                "qmtrack_imports_running",
                "Imports being committed now, by any app server on this database.",
                running as f64,
            );
            out.gauge(
                "qmtrack_outbox_depth",
                "Reminder emails in the outbox not yet delivered.",
                outbox as f64,
            );
            out.gauge("qmtrack_database_up", "1 when the database answered this scrape.", 1.0);
        }
        Err(e) => {
            tracing::warn!("metrics: the database did not answer: {e}");
            out.gauge("qmtrack_database_up", "1 when the database answered this scrape.", 0.0);
        }
    }
}

async fn imports_and_outbox(db: &Db) -> Result<(i64, i64), sqlx::Error> {
    Ok((
        db::metrics::imports_running(db).await?,
        db::metrics::outbox_depth(db).await?,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_evaluation_token_is_never_logged() {
        assert_eq!(super::loggable_path("/evaluate/abcDEF_-123"), "/evaluate/…");
        assert_eq!(super::loggable_path("/evaluate/"), "/evaluate/");
        assert_eq!(super::loggable_path("/organisations/12"), "/organisations/12");
    }
}
