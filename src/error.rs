//! The two error types. [`AppError`] is what a request or a workflow can end
//! in: it becomes a friendly page or JSON (see `web::errors`) and the
//! underlying cause is logged, never shown. [`StartupError`] is what stops
//! the server from starting or a command from finishing.

use crate::domain::standards::StandardsError;
use rocket::http::Status;

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
    /// Someone else changed the record first (a second "start renewal", an
    /// edit to something that has moved on). The message says what happened.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the form had expired or did not come from this site")]
    Csrf,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
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
            AppError::Conflict(_) => Status::Conflict,
            AppError::Database(e) if is_duplicate(e) => Status::Conflict,
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

    /// Whether this is the person's doing (logged quietly) rather than a fault.
    pub fn is_refusal(&self) -> bool {
        match self {
            AppError::Database(e) => is_duplicate(e),
            other => matches!(
                other,
                AppError::NotFound
                    | AppError::Forbidden
                    | AppError::BadRequest(_)
                    | AppError::Conflict(_)
                    | AppError::Csrf
                    | AppError::Unauthorized
            ),
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

pub fn default_title(status: Status) -> &'static str {
    match status.code {
        400 => "There is a problem with the request",
        401 => "You need to sign in",
        403 => "You do not have permission to see this page",
        404 => "Page not found",
        409 => "Someone else got there first",
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
        409 => "Something changed or was saved while you were working, perhaps by someone else just now. Go back, reload the page and try again.",
        413 => "Make the file smaller and try again.",
        422 => "Check what you entered and try again.",
        429 => "Wait a moment and try again.",
        _ => "Try again later. Nothing you entered has been lost unless the page says so.",
    }
}

/// Why the server could not start or a command could not finish. Printed
/// once as `qmtrack: …`; none of it reaches a web page.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration error: {0}")]
    Config(#[from] Box<rocket::figment::Error>),
    #[error("standards files are invalid:\n{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Standards(Vec<StandardsError>),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot open the database: {0}")]
    Pool(#[from] crate::db::PoolError),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The command was asked for something it cannot do (an unknown user, a bad argument).
    #[error("{0}")]
    Refused(String),
    #[error("the server stopped: {0}")]
    Server(#[from] Box<rocket::Error>),
    #[error("{}", .0.public_message_for_cli())]
    App(#[from] AppError),
}

impl AppError {
    /// On the command line the whole cause may be shown: the operator runs it.
    fn public_message_for_cli(&self) -> String {
        match self {
            AppError::NotFound => "not found".into(),
            AppError::Forbidden => "not allowed".into(),
            other => other.to_string(),
        }
    }
}

impl From<rocket::figment::Error> for StartupError {
    fn from(error: rocket::figment::Error) -> Self {
        StartupError::Config(Box::new(error))
    }
}
