//! The one error type. It renders a friendly page for people and JSON for the
//! API, and logs the underlying cause (never shown to the user).

use crate::domain::standards::StandardsError;
use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder, Response};
use rocket_dyn_templates::Template;
use serde_json::json;
use std::io::Cursor;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("not signed in")]
    Unauthorized,
    #[error("{0}")]
    BadRequest(String),
    #[error("the form had expired or did not come from this site")]
    Csrf,
    /// Someone else's change got there first (a second commit of one import):
    /// a 409 page saying what happened, never a 500.
    #[error("{0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("configuration error: {0}")]
    Config(#[from] Box<rocket::figment::Error>),
    #[error("standards files are invalid:\n{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Standards(Vec<StandardsError>),
    #[error("{0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }

    pub fn status(&self) -> Status {
        match self {
            AppError::NotFound => Status::NotFound,
            AppError::Forbidden | AppError::Csrf => Status::Forbidden,
            AppError::Unauthorized => Status::Unauthorized,
            AppError::BadRequest(_) => Status::BadRequest,
            AppError::Database(e) if is_duplicate(e) => Status::Conflict,
            AppError::Conflict(_) => Status::Conflict,
            _ => Status::InternalServerError,
        }
    }

    /// What a person may be told. Internal causes stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            AppError::BadRequest(message) | AppError::Conflict(message) => message.clone(),
            AppError::Csrf => {
                "This form had expired or did not come from this site. Go back, reload the page and try again.".into()
            }
            other => default_message(other.status()).to_string(),
        }
    }
}

/// A unique constraint refused a row: two people saved the same thing, or
/// one saved something that already exists. Their answer is a 409 saying
/// so, not a server error.
fn is_duplicate(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

impl From<rocket::figment::Error> for AppError {
    fn from(error: rocket::figment::Error) -> Self {
        AppError::Config(Box::new(error))
    }
}

pub fn default_title(status: Status) -> &'static str {
    match status.code {
        400 => "There is a problem with the request",
        401 => "You need to sign in",
        403 => "You do not have permission to see this page",
        404 => "Page not found",
        409 => "That already exists",
        413 => "The file is too large",
        422 => "The request could not be understood",
        429 => "Too many requests",
        _ => "Sorry, there is a problem with the service",
    }
}

pub fn default_message(status: Status) -> &'static str {
    match status.code {
        400 => "Check what you entered and try again.",
        401 => "Sign in to continue.",
        403 => "If you think you should have access, contact your programme lead.",
        404 => "If you typed the web address, check it is correct. If you followed a link, it may be out of date.",
        409 => "Something with the same details has already been saved, perhaps by someone else just now. Go back, check what is there and try again.",
        413 => "Make the file smaller and try again.",
        422 => "Check what you entered and try again.",
        429 => "Wait a moment and try again.",
        _ => "Try again later. Nothing you entered has been lost unless the page says so.",
    }
}

pub fn is_api_request(req: &Request<'_>) -> bool {
    req.uri().path().as_str().starts_with("/api/")
}

/// The response for `status` with `message`: JSON under `/api/`, a page elsewhere.
pub fn render_error(req: &Request<'_>, status: Status, message: &str) -> response::Result<'static> {
    if is_api_request(req) {
        let body = json!({ "error": { "status": status.code, "message": message } }).to_string();
        return Response::build()
            .status(status)
            .header(ContentType::JSON)
            .sized_body(body.len(), Cursor::new(body))
            .ok();
    }
    let user = crate::web::auth::cached_user(req);
    let context = crate::web::page_context(
        user,
        None,
        json!({
            "title": default_title(status),
            "message": message,
            "status": status.code,
            "section": "",
            "errors": [],
        }),
    );
    let mut response = Template::render("error", context).respond_to(req)?;
    response.set_status(status);
    Ok(response)
}

/// An error page (or API error) with a given status and message.
pub struct ErrorPage {
    pub status: Status,
    pub message: String,
}

impl<'r> Responder<'r, 'static> for ErrorPage {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        render_error(req, self.status, &self.message)
    }
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        match &self {
            AppError::NotFound
            | AppError::Forbidden
            | AppError::BadRequest(_)
            | AppError::Conflict(_)
            | AppError::Csrf => {
                tracing::info!(path = %req.uri(), "refused: {self}");
            }
            AppError::Database(e) if is_duplicate(e) => {
                tracing::info!(path = %req.uri(), "refused as a duplicate: {self}")
            }
            AppError::Unauthorized => {}
            _ => tracing::error!(path = %req.uri(), "request failed: {self}"),
        }
        if matches!(self, AppError::Unauthorized) && !is_api_request(req) {
            return Redirect::to(crate::web::auth::login_redirect_target(req)).respond_to(req);
        }
        render_error(req, self.status(), &self.public_message())
    }
}
