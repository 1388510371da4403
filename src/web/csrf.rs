//! CSRF protection for every form. A signed-in user's forms carry the token
//! stored with their session; before log-in (the log-in and set-up pages) the
//! token is a random cookie that the form must repeat (double submit).
//! [`CsrfForm`] refuses a post whose token does not match before the handler
//! ever sees it.

use super::auth::CurrentUser;
use super::AppState;
use crate::domain::validation;
use crate::security::{constant_time_eq, random_token};
use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::{ContentType, CookieJar, Status};
use rocket::request::Request;

pub const FIELD: &str = "csrf_token";
const COOKIE: &str = "qmtrack_csrf";

/// Why a request was refused (403, or 422 for a control character), for the
/// error page to say.
pub struct Refusal(pub Option<String>);

const CSRF_REFUSAL: &str =
    "This form had expired or did not come from this site. Go back, reload the page and try again.";

/// The pre-log-in token, creating its cookie on first use.
pub fn anonymous_token(jar: &CookieJar<'_>, state: Option<&AppState>) -> String {
    if let Some(existing) = jar.get(COOKIE) {
        return existing.value().to_string();
    }
    let token = random_token();
    super::set_cookie(jar, state, COOKIE, token.clone());
    token
}

/// A url-encoded form whose `csrf_token` field has been checked.
pub struct CsrfForm<T>(pub T);

fn refuse<'r, T>(req: &'r Request<'_>, status: Status, why: &'static str) -> data::Outcome<'r, T, String> {
    if status == Status::Forbidden {
        req.local_cache(|| Refusal(Some(CSRF_REFUSAL.into())));
    }
    data::Outcome::Error((status, why.to_string()))
}

#[rocket::async_trait]
impl<'r, T> FromData<'r> for CsrfForm<T>
where
    T: for<'a> FromForm<'a> + Send + 'static,
{
    type Error = String;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        if req.content_type() != Some(&ContentType::Form) {
            return refuse(req, Status::UnsupportedMediaType, "expected a form");
        }
        let limit = req.limits().get("form").unwrap_or_else(|| 64.kibibytes());
        let body = match data.open(limit).into_string().await {
            Ok(body) if body.is_complete() => body.into_inner(),
            Ok(_) => return refuse(req, Status::PayloadTooLarge, "form too large"),
            Err(_) => return refuse(req, Status::BadRequest, "unreadable form"),
        };
        let submitted = body
            .split('&')
            .find_map(|pair| pair.strip_prefix("csrf_token="))
            .unwrap_or_default();
        let expected = match req.guard::<Option<&CurrentUser>>().await.succeeded().flatten() {
            Some(user) => Some(user.csrf_token.clone()),
            None => req.cookies().get(COOKIE).map(|c| c.value().to_string()),
        };
        match expected {
            Some(expected) if !submitted.is_empty() && constant_time_eq(submitted, &expected) => {}
            _ => return refuse(req, Status::Forbidden, "csrf token missing or wrong"),
        }
        if let Some(field) = field_with_control_character(&body) {
            req.local_cache(|| {
                Refusal(Some(format!(
                    "“{field}” contains a character that cannot be used (a control character such as NUL). Go back, remove it and try again."
                )))
            });
            return data::Outcome::Error((Status::UnprocessableEntity, "control character in a field".into()));
        }
        match Form::<T>::parse_encoded(rocket::http::RawStr::new(&body)) {
            Ok(value) => data::Outcome::Success(CsrfForm(value)),
            Err(errors) => {
                tracing::info!(path = %super::observe::loggable_path(req.uri().path().as_str()), "form could not be parsed: {errors}");
                refuse(req, Status::UnprocessableEntity, "form could not be parsed")
            }
        }
    }
}

/// The first field of a url-encoded body whose value (or name) fails the
/// shared text check, named without the offending characters.
fn field_with_control_character(body: &str) -> Option<String> {
    url::form_urlencoded::parse(body.as_bytes())
        .find(|(name, value)| validation::plain_text(name).is_err() || validation::plain_text(value).is_err())
        .map(|(name, _)| name.chars().filter(|c| !c.is_control()).collect())
}

/// For posts that carry nothing but the token (log out, revoke).
#[derive(rocket::FromForm)]
pub struct TokenOnly {
    #[allow(dead_code)]
    csrf_token: String,
}

/// For posts that carry only a reason, which may be left empty (revoking an
/// award or a certificate, withdrawing a published report).
#[derive(rocket::FromForm)]
pub struct ReasonForm {
    #[field(default = String::new())]
    pub reason: String,
}

/// A multipart form (a file upload) carries its token as a field like any
/// other; [`CsrfMultipart`] needs to find it.
pub trait CarriesCsrfToken {
    fn csrf_token(&self) -> &str;
}

/// Why a multipart form was not accepted.
#[derive(Debug)]
pub enum MultipartRefusal {
    /// Over Rocket's `data-form` limit: the page says how large files may be.
    TooLarge,
    /// The token was missing or wrong.
    Csrf,
    /// Cut off, malformed, or not multipart at all.
    Unreadable(String),
}

/// A `multipart/form-data` form whose `csrf_token` field has been checked
/// against the session's. Handlers take `Result<CsrfMultipart<T>,
/// MultipartRefusal>` so they can answer "too large" with their own page.
pub struct CsrfMultipart<T>(pub T);

#[rocket::async_trait]
impl<'r, T> FromData<'r> for CsrfMultipart<T>
where
    T: FromForm<'r> + CarriesCsrfToken + Send + 'r,
{
    type Error = MultipartRefusal;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        if !req.content_type().is_some_and(|ct| ct.is_form_data()) {
            return data::Outcome::Error((
                Status::UnsupportedMediaType,
                MultipartRefusal::Unreadable("expected multipart/form-data".into()),
            ));
        }
        let form = match Form::<T>::from_data(req, data).await {
            data::Outcome::Success(form) => form.into_inner(),
            // Rocket reports a body cut off in transit as "invalid length"
            // with no limit, and gives it the same 413 as one over a limit.
            data::Outcome::Error((status, errors))
                if errors.iter().any(|e| {
                    e.status() == Status::PayloadTooLarge
                        && !matches!(e.kind, rocket::form::error::ErrorKind::InvalidLength { max: None, .. })
                }) =>
            {
                tracing::info!(path = %super::observe::loggable_path(req.uri().path().as_str()), "upload over the form limit: {errors}");
                return data::Outcome::Error((status, MultipartRefusal::TooLarge));
            }
            data::Outcome::Error((status, errors)) => {
                tracing::info!(path = %super::observe::loggable_path(req.uri().path().as_str()), "multipart form could not be read: {errors}");
                return data::Outcome::Error((status, MultipartRefusal::Unreadable(errors.to_string())));
            }
            data::Outcome::Forward((data, status)) => return data::Outcome::Forward((data, status)),
        };
        let expected = req
            .guard::<Option<&CurrentUser>>()
            .await
            .succeeded()
            .flatten()
            .map(|user| user.csrf_token.clone());
        match expected {
            Some(expected) if !form.csrf_token().is_empty() && constant_time_eq(form.csrf_token(), &expected) => {
                data::Outcome::Success(CsrfMultipart(form))
            }
            _ => {
                req.local_cache(|| Refusal(Some(CSRF_REFUSAL.into())));
                data::Outcome::Error((Status::Forbidden, MultipartRefusal::Csrf))
            }
        }
    }
}
