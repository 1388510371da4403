//! Who you are: the session guard, log-in, log-out and first-run set-up.

use super::csrf::CsrfForm;
use super::templates::Template;
use super::{AppState, FormOutcome, Page, SignedIn, Visitor};
use crate::db::audit::{self};
use crate::db::{sessions, throttle, users, Db};
use crate::domain::access::{Actor, Role};
use crate::domain::login::{client_network, keys as throttle_keys, Attempt, Count, Gate, Limit, LoginPolicy};
use crate::domain::user::{NewUser, NewUserInput};
use crate::error::{AppError, AppResult};
use crate::security::{decoy_hash, random_token, sha256_hex, verify_password};
use chrono::{DateTime, Duration, Utc};
use rocket::http::{CookieJar, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route, State};
use serde_json::json;
use std::net::IpAddr;

pub const SESSION_COOKIE: &str = "qmtrack_session";

pub fn routes() -> Vec<Route> {
    routes![login_page, login, logout, setup_page, setup]
}

/// The signed-in user behind a valid session cookie.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: users::UserRow,
    pub session_id: i64,
    pub csrf_token: String,
}

impl CurrentUser {
    pub fn actor(&self) -> Actor {
        self.user.actor()
    }

    /// Who is acting, for a workflow in [`crate::app`].
    pub fn acting(&self) -> crate::app::Acting {
        crate::app::Acting::user(&self.user)
    }

    pub fn audit_actor(&self) -> audit::Actor {
        audit::Actor::user(self.user.id, &self.user.email)
    }

    /// Refuses with 403 unless `allowed` says yes.
    pub fn require(&self, allowed: impl FnOnce(&Actor) -> bool) -> AppResult<()> {
        if allowed(&self.actor()) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// The user a guard already found for this request, if any (for error pages).
pub fn cached_user<'r>(req: &'r Request<'_>) -> Option<&'r CurrentUser> {
    req.local_cache(|| None::<CurrentUser>).as_ref()
}

/// The token of an `Authorization: Bearer …` header, if one was sent.
pub fn bearer_token<'r>(req: &'r Request<'_>) -> Option<&'r str> {
    req.headers()
        .get_one("Authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
}

/// `/login?next=…` for the page that was asked for (GET pages only).
pub fn login_redirect_target(req: &Request<'_>) -> String {
    let path = req.uri().to_string();
    if req.method() == rocket::http::Method::Get && path != "/" && safe_next(&path) {
        format!(
            "/login?next={}",
            url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
        )
    } else {
        "/login".into()
    }
}

/// Only paths on this site: never `//host` or `https://host`, and only
/// visible ASCII (a tab, a line break or a non-ASCII character cannot go into
/// a `Location` header, and browsers ignore tabs in URLs: `/\t/evil.example`).
fn safe_next(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.bytes().all(|b| b.is_ascii_graphic())
}

async fn load_session(req: &Request<'_>) -> Result<Option<CurrentUser>, AppError> {
    let Some(cookie) = req.cookies().get(SESSION_COOKIE) else {
        return Ok(None);
    };
    let token_hash = sha256_hex(cookie.value());
    let (Some(db), Some(state)) = (req.rocket().state::<Db>(), req.rocket().state::<AppState>()) else {
        return Err(AppError::internal("application state missing"));
    };
    let Some(session) = sessions::find_by_token_hash(db, &token_hash).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let idle_limit = Duration::minutes(state.config.session_idle_minutes);
    let last_seen = session.last_seen_at;
    let expired = session.expires_at <= now || now - last_seen > idle_limit;
    if expired {
        sessions::revoke(db, session.id, now).await?;
        return Ok(None);
    }
    // Writing on every request would serialise readers behind SQLite's one
    // writer; a minute's precision is plenty for an idle limit of minutes.
    if now - last_seen > Duration::seconds(60) {
        sessions::touch(db, session.id, now).await?;
    }
    Ok(Some(CurrentUser {
        user: session.user,
        session_id: session.id,
        csrf_token: session.csrf_token,
    }))
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r CurrentUser {
    type Error = AppError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let mut failure = None;
        let cached = req
            .local_cache_async(async {
                match load_session(req).await {
                    Ok(user) => user,
                    Err(e) => {
                        failure = Some(e);
                        None
                    }
                }
            })
            .await;
        match (cached, failure) {
            (Some(user), _) => Outcome::Success(user),
            (None, Some(e)) => {
                tracing::error!("session lookup failed: {e}");
                Outcome::Error((Status::InternalServerError, e))
            }
            (None, None) => Outcome::Error((Status::Unauthorized, AppError::Unauthorized)),
        }
    }
}

/// [`SignedIn`] if `allowed` says the user's role may use the route, else
/// 403 (or the usual 401 for nobody signed in). Upload routes take a guard
/// built on this: request guards run before the data guard, so a role that
/// may not upload is refused before its body is read, not after receiving
/// 25 MiB.
async fn signed_in_with_role<'r>(
    req: &'r Request<'_>,
    allowed: impl FnOnce(&CurrentUser) -> bool,
) -> Outcome<SignedIn<'r>, AppError> {
    match req.guard::<SignedIn<'r>>().await {
        Outcome::Success(signed_in) if allowed(signed_in.0) => Outcome::Success(signed_in),
        Outcome::Success(_) => Outcome::Error((Status::Forbidden, AppError::Forbidden)),
        other => other,
    }
}

/// Declares a guard for the signed-in user whose role `$allowed` accepts,
/// refused through [`signed_in_with_role`].
macro_rules! role_guard {
    ($(#[$doc:meta])* $name:ident, $allowed:expr) => {
        $(#[$doc])*
        pub struct $name<'r>(pub SignedIn<'r>);

        #[rocket::async_trait]
        impl<'r> FromRequest<'r> for $name<'r> {
            type Error = AppError;

            async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
                signed_in_with_role(req, $allowed).await.map($name)
            }
        }
    };
}

role_guard!(
    /// A signed-in user whose role may add evidence to some organisation's
    /// assessments (the organisation's members and the programme lead),
    /// checked before the upload body is read. Which organisation, the
    /// handler still checks.
    AssessmentWorker,
    |user: &CurrentUser| matches!(user.user.role, Role::ProgrammeLead | Role::OrgMember)
);

role_guard!(
    /// A signed-in user who runs training (sessions, registers, imports),
    /// checked before an uploaded sheet is read.
    TrainingManager,
    |user: &CurrentUser| user.actor().can_manage_training()
);

role_guard!(
    /// The signed-in programme lead, checked before an upload is read.
    ProgrammeLead,
    |user: &CurrentUser| user.actor().is_programme_lead()
);

#[derive(FromForm)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

#[get("/login?<next>")]
async fn login_page(page: Page<'_>, db: &Db, next: Option<String>) -> AppResult<Result<Template, Redirect>> {
    if users::count(db).await? == 0 {
        return Ok(Err(Redirect::to("/setup")));
    }
    if page.user.is_some() {
        return Ok(Err(Redirect::to("/")));
    }
    Ok(Ok(page.render(
        "auth/login",
        json!({"title": "Sign in", "next": next.filter(|n| safe_next(n)),
            "reset_link_hours": super::password_reset::LINK_HOURS}),
    )))
}

fn login_policy(state: &AppState) -> LoginPolicy {
    LoginPolicy {
        slowdown_after: state.config.login_slowdown_after,
        lockout_after: state.config.login_lockout_after,
        address_lockout_after: state.config.login_address_lockout_after,
        lockout: Duration::minutes(state.config.login_lockout_minutes),
        delay_step_ms: state.config.login_delay_ms,
    }
}

/// Counts this attempt under each of its keys before the password is
/// checked (see [`crate::domain::login`]).
async fn count_attempt(
    db: &Db,
    policy: &LoginPolicy,
    now: DateTime<Utc>,
    email: &str,
    address: &str,
) -> AppResult<Attempt> {
    let expired = policy.window_expired_before(now);
    let mut counts = Vec::with_capacity(3);
    // One transaction, so an attempt's place in the queue is the same under
    // every key: parallel attempts cannot each slip under a different limit.
    let mut tx = crate::db::begin_write(db).await?;
    for key in throttle_keys(email, address) {
        let counter = throttle::hit(&mut tx, &key, now, expired).await?;
        counts.push(Count {
            hits: counter.hits,
            window_started: counter.window_started_at,
        });
    }
    tx.commit().await?;
    let [pair, email_count, address_count] = counts[..] else {
        return Err(AppError::internal("a log-in attempt has three counts"));
    };
    Ok(Attempt {
        pair,
        email: email_count,
        address: address_count,
        known_address: throttle::is_known_address(db, email, address).await?,
    })
}

#[post("/login", data = "<form>")]
async fn login(
    form: CsrfForm<LoginForm>,
    visitor: Visitor<'_>,
    jar: &CookieJar<'_>,
    ip: Option<IpAddr>,
) -> AppResult<Result<Redirect, (Status, Template)>> {
    let Visitor(page, db, state) = visitor;
    let form = form.0;
    let email = form.email.trim().to_lowercase();
    let next = form.next.filter(|n| safe_next(n));
    let show_error = |status: Status, message: String| {
        let context = json!({
            "title": "Sign in",
            "email": email,
            "next": next,
            "errors": [{"field": "email", "message": message}],
            "reset_link_hours": super::password_reset::LINK_HOURS,
        });
        (status, page.render("auth/login", context))
    };
    if email.is_empty() || form.password.is_empty() {
        return Ok(Err(show_error(
            Status::UnprocessableEntity,
            "Enter your email address and password".into(),
        )));
    }

    let policy = login_policy(state);
    let now = state.clock.now();
    let address = ip.map(client_network).unwrap_or_default();
    let attempt = count_attempt(db, &policy, now, &email, &address).await?;
    match policy.gate(&attempt) {
        Gate::Locked { until, limit } => {
            let from = match limit {
                Limit::Email => "with this email address",
                Limit::Address => "from this network address",
            };
            let message = format!(
                "Too many failed attempts to sign in {from}. Try again after {} (UTC).",
                until.format("%H:%M")
            );
            return Ok(Err(show_error(Status::TooManyRequests, message)));
        }
        Gate::Open { delay_ms } if delay_ms > 0 => {
            rocket::tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        }
        Gate::Open { .. } => {}
    }

    let user = users::find_by_email(db, &email).await?;
    let stored_hash = user
        .as_ref()
        .filter(|u| u.active)
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| decoy_hash().to_string());
    let password = form.password;
    let verified = rocket::tokio::task::spawn_blocking(move || verify_password(&password, &stored_hash))
        .await
        .map_err(AppError::internal)?;
    let user = match user {
        Some(user) if verified && user.active => user,
        _ => {
            let message = "The email address or password is not right. Check them and try again.".to_string();
            return Ok(Err(show_error(Status::Unauthorized, message)));
        }
    };
    // The attempt was the user's own: their count from this address starts
    // again, the success itself does not count against the email or the
    // address, and failures elsewhere can no longer lock them out of here.
    // Failures from elsewhere still count against the email: signing in
    // does not hand a guesser a fresh allowance.
    let [pair_key, email_key, address_key] = throttle_keys(&email, &address);
    throttle::clear(db, &pair_key).await?;
    throttle::forgive(db, &email_key).await?;
    throttle::forgive(db, &address_key).await?;
    throttle::remember_address(db, &email, &address, now).await?;
    start_session(db, state, jar, user.id).await?;
    Ok(Ok(Redirect::to(next.unwrap_or_else(|| "/".into()))))
}

async fn start_session(db: &Db, state: &AppState, jar: &CookieJar<'_>, user_id: i64) -> AppResult<()> {
    let now = state.clock.now();
    let token = random_token();
    let csrf_token = random_token();
    let expires_at = now + Duration::hours(state.config.session_absolute_hours);
    let mut conn = db.acquire().await?;
    sessions::create(
        &mut conn,
        sessions::NewSession {
            token_hash: &sha256_hex(&token),
            user_id,
            csrf_token: &csrf_token,
            now,
            expires_at,
        },
    )
    .await?;
    super::set_cookie(jar, Some(state), SESSION_COOKIE, token);
    Ok(())
}

#[post("/logout", data = "<_form>")]
async fn logout(
    _form: CsrfForm<super::csrf::TokenOnly>,
    user: &CurrentUser,
    db: &Db,
    state: &State<AppState>,
    jar: &CookieJar<'_>,
) -> AppResult<Flash<Redirect>> {
    sessions::revoke(db, user.session_id, state.clock.now()).await?;
    jar.remove(rocket::http::Cookie::from(SESSION_COOKIE));
    Ok(Flash::success(Redirect::to("/login"), "You have signed out."))
}

#[derive(FromForm)]
pub struct SetupForm {
    name: String,
    email: String,
    password: String,
    password_confirm: String,
}

#[get("/setup")]
async fn setup_page(page: Page<'_>, db: &Db) -> AppResult<Template> {
    if users::count(db).await? > 0 {
        return Err(AppError::NotFound);
    }
    Ok(page.render("auth/setup", json!({"title": "Set up qmtrack"})))
}

/// Creates the first programme lead. Gone for good once any user exists.
#[post("/setup", data = "<form>")]
async fn setup(form: CsrfForm<SetupForm>, visitor: Visitor<'_>, jar: &CookieJar<'_>) -> AppResult<FormOutcome> {
    let Visitor(page, db, state) = visitor;
    if users::count(db).await? > 0 {
        return Err(AppError::NotFound);
    }
    let form = form.0;
    let input = NewUserInput {
        name: form.name,
        email: form.email,
        role: Role::ProgrammeLead.as_str().into(),
        organisation_id: None,
        password: form.password,
        password_confirm: form.password_confirm,
    };
    let new_user = match NewUser::try_from(&input) {
        Ok(user) => user,
        Err(errors) => {
            let context = json!({"title": "Set up qmtrack", "name": input.name, "email": input.email});
            return Ok(Err(page.render_errors("auth/setup", &errors, context)));
        }
    };
    let created = crate::app::accounts::create_user(
        state.ctx(db),
        &audit::Actor::command_line("first-run set-up"),
        &new_user,
        true,
    )
    .await?;
    let Ok(user_id) = created else {
        return Err(AppError::NotFound);
    };
    start_session(db, state, jar, user_id).await?;
    Ok(Ok(Flash::success(
        Redirect::to("/"),
        "Your programme lead account is ready. Add organisations and users next.",
    )))
}

pub use crate::app::accounts::hash_off_thread;

#[cfg(test)]
mod tests {
    #[test]
    fn next_is_a_plain_path_on_this_site() {
        assert!(super::safe_next("/organisations/3?tab=people"));
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/a\r\nSet-Cookie: x=1",
            "/caf\u{e9}",
            "/a b",
            "relative",
        ] {
            assert!(!super::safe_next(bad), "{bad:?}");
        }
    }
}
