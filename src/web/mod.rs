//! The browser-facing side: routes grouped by feature, request guards,
//! fairings and catchers. Handlers stay thin: they turn the request into
//! typed input, call a workflow in [`crate::app`] (or read through the data
//! layer), and pick a page.

pub mod account;
pub mod assessments;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod award_history;
pub mod certificates;
pub mod csrf;
pub mod date_field;
pub mod errors;
pub mod evaluations;
pub mod evidence;
pub mod filters;
pub mod frameworks;
pub mod headers;
pub mod health;
pub mod home;
pub mod imports;
pub mod input;
pub mod observe;
pub mod organisation_pick;
pub mod organisations;
pub mod password_reset;
pub mod people;
pub mod register;
pub mod reminders;
pub mod reports;
pub mod reviews;
pub mod templates;
pub mod training;
pub mod users;

use crate::db::Db;
use crate::domain::access::Role;
use crate::domain::validation::FieldErrors;
use crate::error::AppError;
use auth::CurrentUser;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::{FlashMessage, FromRequest, Outcome, Request};
use rocket::{Catcher, Route, State};
use rocket_db_pools::Database;
use serde_json::{json, Map, Value};
use templates::Template;

pub use crate::app::AppState;

pub fn routes() -> Vec<Route> {
    [
        assets::routes(),
        account::routes(),
        assessments::routes(),
        audit::routes(),
        auth::routes(),
        award_history::routes(),
        certificates::routes(),
        evaluations::routes(),
        evidence::routes(),
        frameworks::routes(),
        health::routes(),
        home::routes(),
        imports::routes(),
        input::routes(),
        observe::routes(),
        organisations::routes(),
        password_reset::routes(),
        people::routes(),
        register::routes(),
        reminders::routes(),
        reports::routes(),
        training::routes(),
        reviews::routes(),
        users::routes(),
    ]
    .concat()
}

pub fn catchers() -> Vec<Catcher> {
    rocket::catchers![catch_any]
}

/// One catcher for every status: a page in the site's layout (or JSON under
/// `/api/`), with the signed-in user's navigation where there is one.
#[rocket::catch(default)]
async fn catch_any(status: Status, req: &Request<'_>) -> Result<errors::ErrorPage, rocket::response::Redirect> {
    if status == Status::Unauthorized && !errors::is_api_request(req) {
        return Err(rocket::response::Redirect::to(auth::login_redirect_target(req)));
    }
    let _ = req.guard::<Option<&CurrentUser>>().await;
    let message = match &req.local_cache(|| csrf::Refusal(None)).0 {
        Some(reason) if matches!(status, Status::Forbidden | Status::UnprocessableEntity) => reason.clone(),
        _ => crate::error::default_message(status).to_string(),
    };
    Ok(errors::ErrorPage { status, message })
}

/// The navigation a role sees. `section` marks the current item.
fn nav(user: &CurrentUser) -> Vec<Value> {
    let mut items = vec![json!({"href": "/", "label": "Home", "section": "home"})];
    match (user.user.role, user.user.organisation_id) {
        (Role::OrgMember, Some(org)) => items.push(
            json!({"href": format!("/organisations/{org}"), "label": "Your organisation", "section": "organisations"}),
        ),
        _ => items.push(json!({"href": "/organisations", "label": "Organisations", "section": "organisations"})),
    }
    match user.user.role {
        Role::OrgMember => {
            items.push(json!({"href": "/assessments", "label": "Your assessments", "section": "assessments"}))
        }
        Role::ProgrammeLead | Role::Assessor => {
            items.push(json!({"href": "/assessments", "label": "Assessments", "section": "assessments"}));
            items.push(json!({"href": "/reviews", "label": "Review queue", "section": "reviews"}));
        }
        Role::TrainingLead => {}
    }
    items.push(json!({"href": "/frameworks", "label": "Standards", "section": "frameworks"}));
    if user.actor().can_view_all_training() {
        items.push(json!({"href": "/training", "label": "Training", "section": "training"}));
    }
    items.push(json!({"href": "/training/ambassadors", "label": "Ambassadors", "section": "ambassadors"}));
    items.push(json!({"href": "/certificates", "label": "Certificates", "section": "certificates"}));
    if user.user.role == Role::ProgrammeLead {
        items.push(json!({"href": "/users", "label": "Users", "section": "users"}));
        items.push(json!({"href": "/audit", "label": "Audit log", "section": "audit"}));
        items.push(json!({"href": "/outbox", "label": "Outbox", "section": "outbox"}));
    }
    items.push(json!({"href": "/account", "label": "Your account", "section": "account"}));
    items
}

/// Merges what every page needs (who is signed in, navigation, CSRF token,
/// flash message) into a page's own context.
pub fn page_context(user: Option<&CurrentUser>, csrf_token: Option<&str>, page: Value) -> Value {
    let mut context = match page {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let Some(user) = user {
        context.insert(
            "me".into(),
            json!({
                "id": user.user.id,
                "name": user.user.name,
                "email": user.user.email,
                "role": user.user.role.as_str(),
                "role_label": user.user.role.label(),
                "organisation_id": user.user.organisation_id,
                "organisation_name": user.user.organisation_name,
            }),
        );
        context.insert("nav".into(), Value::Array(nav(user)));
        context
            .entry("csrf_token")
            .or_insert_with(|| Value::String(user.csrf_token.clone()));
    }
    if let Some(token) = csrf_token {
        context.insert("csrf_token".into(), Value::String(token.to_string()));
    }
    Value::Object(context)
}

/// Request guard for rendering a page: the user (if any), the flash message
/// and a CSRF token that the next form post will be checked against.
pub struct Page<'r> {
    pub user: Option<&'r CurrentUser>,
    flash: Option<(String, String)>,
    csrf_token: String,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Page<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let user = req.guard::<Option<&CurrentUser>>().await.succeeded().flatten();
        let flash = req
            .guard::<Option<FlashMessage<'_>>>()
            .await
            .succeeded()
            .flatten()
            .map(|f| (f.kind().to_string(), f.message().to_string()));
        let csrf_token = match user {
            Some(user) => user.csrf_token.clone(),
            None => csrf::anonymous_token(req.cookies(), req.rocket().state::<AppState>()),
        };
        Outcome::Success(Page {
            user,
            flash,
            csrf_token,
        })
    }
}

impl Page<'_> {
    pub fn render(&self, template: &'static str, context: Value) -> Template {
        let mut context = page_context(self.user, Some(&self.csrf_token), context);
        if let Value::Object(map) = &mut context {
            if let Some((kind, message)) = &self.flash {
                map.insert("flash".into(), json!({"kind": kind, "message": message}));
            }
            // Templates may look these up unconditionally.
            for (key, empty) in [
                ("values", json!({})),
                ("field_errors", json!({})),
                ("errors", json!([])),
                ("section", json!("")),
            ] {
                map.entry(key).or_insert(empty);
            }
        }
        Template::render(template, context)
    }

    /// Re-shows a form with its errors: the summary at the top links to each field.
    pub fn render_errors(
        &self,
        template: &'static str,
        errors: &FieldErrors,
        mut context: Value,
    ) -> (Status, Template) {
        if let Value::Object(map) = &mut context {
            map.insert("errors".into(), json!(errors.0));
            let by_field: Map<String, Value> = errors
                .0
                .iter()
                .rev()
                .map(|e| (e.field.to_string(), Value::String(e.message.clone())))
                .collect();
            map.insert("field_errors".into(), Value::Object(by_field));
        }
        (Status::UnprocessableEntity, self.render(template, context))
    }
}

/// What a form post answers: on to the next page with a flash message, or
/// the form again with its errors.
pub type FormOutcome = Result<rocket::response::Flash<rocket::response::Redirect>, (Status, Template)>;

/// Request guard for a signed-in page: who is signed in, the page to render
/// with, the database and the shared state, which nearly every page handler
/// needs together (a handler names them as it likes:
/// `let SignedIn(user, page, db, state) = signed_in;`). Refuses like
/// `&CurrentUser` (401 for nobody signed in).
pub struct SignedIn<'r>(pub &'r CurrentUser, pub Page<'r>, pub &'r Db, pub &'r State<AppState>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignedIn<'r> {
    type Error = AppError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let user = rocket::outcome::try_outcome!(req.guard::<&CurrentUser>().await);
        let Visitor(page, db, state) = rocket::outcome::try_outcome!(req.guard::<Visitor<'r>>().await);
        Outcome::Success(SignedIn(user, page, db, state))
    }
}

/// What a page open to anyone needs (signing in, setting up, checking a
/// certificate, resetting a password, answering an evaluation): the page,
/// the database and the app's state. [`SignedIn`] is this with the user.
pub struct Visitor<'r>(pub Page<'r>, pub &'r Db, pub &'r State<AppState>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Visitor<'r> {
    type Error = AppError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let page = match req.guard::<Page<'r>>().await {
            Outcome::Success(page) => page,
            Outcome::Forward(status) => return Outcome::Forward(status),
            Outcome::Error((_, never)) => match never {},
        };
        // Both are managed from launch on; missing would be a set-up bug.
        let (Some(db), Some(state)) = (Db::fetch(req.rocket()), State::get(req.rocket())) else {
            return Outcome::Error((
                Status::InternalServerError,
                AppError::internal("the database or the app state is not managed"),
            ));
        };
        Outcome::Success(Visitor(page, db, state))
    }
}

/// What a form offers for a fixed set of choices (a `<select>`, radio
/// buttons): for each, the value the form sends and the label it shows.
pub fn choice_options<T>(choices: &[T], value_and_label: impl Fn(&T) -> (&str, &str)) -> Vec<Value> {
    choices
        .iter()
        .map(|choice| {
            let (value, label) = value_and_label(choice);
            json!({"value": value, "label": label})
        })
        .collect()
}

/// How a page shown again with `errors` (entries of [`error_list`]) answers:
/// 422 when there are any, and each field's first message by field name for
/// the templates; 200 and no messages when there are none.
pub fn status_and_field_errors(errors: &[Value]) -> (Status, Map<String, Value>) {
    let status = if errors.is_empty() {
        Status::Ok
    } else {
        Status::UnprocessableEntity
    };
    let field_errors = errors
        .iter()
        .rev()
        .filter_map(|e| Some((e["field"].as_str()?.to_string(), e["message"].clone())))
        .collect();
    (status, field_errors)
}

/// A workflow's field errors as the list the templates' error summary shows.
pub fn error_list(errors: &FieldErrors) -> Vec<Value> {
    errors
        .0
        .iter()
        .map(|e| json!({"field": e.field, "message": e.message}))
        .collect()
}

/// Adds a cookie with the site's settings: HTTP-only, SameSite=Lax, Secure when configured.
pub fn set_cookie(jar: &CookieJar<'_>, state: Option<&AppState>, name: &'static str, value: String) {
    let secure = state.map(|s| s.config.secure_cookies).unwrap_or(false);
    let cookie = Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/");
    jar.add(cookie);
}

/// Pagination: 1-based page numbers from the query string, 50 rows a page.
pub const PAGE_SIZE: i64 = 50;

/// Far beyond any real list, and small enough that the offset cannot overflow.
pub const MAX_PAGE: i64 = 1_000_000;

/// A value made safe to put in a query string.
pub fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub fn page_offset(page: Option<i64>) -> (i64, i64) {
    let page = page.unwrap_or(1).clamp(1, MAX_PAGE);
    (page, (page - 1) * PAGE_SIZE)
}

#[cfg(test)]
mod tests {
    #[test]
    fn page_numbers_are_bounded() {
        assert_eq!(super::page_offset(None), (1, 0));
        assert_eq!(super::page_offset(Some(-5)), (1, 0));
        assert_eq!(super::page_offset(Some(3)), (3, 100));
        let (page, offset) = super::page_offset(Some(i64::MAX));
        assert_eq!(page, super::MAX_PAGE);
        assert!(offset > 0);
    }
}
