//! How an [`AppError`] looks to a person: a page in the site's layout, or
//! JSON under `/api/`. Kept here rather than beside the error type so the
//! error type knows nothing of pages.

use super::templates::Template;
use crate::error::{default_title, AppError};
use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder, Response};
use serde::Serialize;
use std::io::Cursor;

pub fn is_api_request(req: &Request<'_>) -> bool {
    req.uri().path().as_str().starts_with("/api/")
}

#[derive(Serialize)]
struct ApiError<'a> {
    error: ApiErrorBody<'a>,
}

#[derive(Serialize)]
struct ApiErrorBody<'a> {
    status: u16,
    message: &'a str,
}

#[derive(Serialize)]
struct ErrorContext<'a> {
    title: &'static str,
    message: &'a str,
    status: u16,
    section: &'static str,
    errors: [(); 0],
    /// The request's id, for a person to quote and an operator to find in
    /// the log.
    reference: &'a str,
}

/// The response for `status` with `message`: JSON under `/api/`, a page elsewhere.
pub fn render_error(req: &Request<'_>, status: Status, message: &str) -> response::Result<'static> {
    if is_api_request(req) {
        let body = serde_json::to_string(&ApiError {
            error: ApiErrorBody {
                status: status.code,
                message,
            },
        })
        .map_err(|_| Status::InternalServerError)?;
        return Response::build()
            .status(status)
            .header(ContentType::JSON)
            .sized_body(body.len(), Cursor::new(body))
            .ok();
    }
    let user = super::auth::cached_user(req);
    let page = serde_json::to_value(ErrorContext {
        title: default_title(status),
        message,
        status: status.code,
        section: "",
        errors: [],
        reference: super::observe::request_id(req),
    })
    .map_err(|_| Status::InternalServerError)?;
    let context = super::page_context(user, None, page);
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
        // The path without its query: no search terms or names in the log.
        let request_id = super::observe::request_id(req);
        let path = super::observe::loggable_path(req.uri().path().as_str());
        if !self.is_refusal() {
            tracing::error!(request_id, %path, "request failed: {self}");
        } else if !matches!(self, AppError::Unauthorized) {
            tracing::info!(request_id, %path, "refused: {self}");
        }
        if matches!(self, AppError::Unauthorized) && !is_api_request(req) {
            return Redirect::to(super::auth::login_redirect_target(req)).respond_to(req);
        }
        render_error(req, self.status(), &self.public_message())
    }
}
