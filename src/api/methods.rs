//! 405 Method Not Allowed for the API's paths.
//!
//! Every operation is a GET (HEAD comes with it), but Rocket answers a
//! method it has no route for with 404, which tells a client the path does
//! not exist. These catch-all routes answer any other method on a path the
//! OpenAPI document lists with 405 and an `Allow` header (RFC 9110), and
//! leave unknown paths to the ordinary 404.

use super::openapi;
use crate::error::default_message;
use crate::web::errors::{render_error, ErrorPage};
use rocket::http::{Header, Method, Status};
use rocket::response::{self, Responder};
use rocket::route::{Handler, Outcome};
use rocket::Either;
use rocket::{Catcher, Data, Request, Route};

/// The methods no API path has a route for. OPTIONS is left to Rocket.
const REFUSED: [Method; 6] = [
    Method::Post,
    Method::Put,
    Method::Delete,
    Method::Patch,
    Method::Trace,
    Method::Connect,
];

/// What an API path allows.
const ALLOW: &str = "GET, HEAD";

/// Below every real route, so they are tried last.
const RANK: isize = 100;

/// The API's own catcher (registered at [`openapi::MOUNT`]): every error
/// as JSON, and a method Rocket could not parse as 405.
pub fn catchers() -> Vec<Catcher> {
    rocket::catchers![catch_any]
}

#[rocket::catch(default)]
fn catch_any(status: Status, req: &Request<'_>) -> Either<ErrorPage, NotAllowed> {
    match NotAllowed::for_unparsed_method(status, req) {
        Some(refusal) => Either::Right(refusal),
        None => Either::Left(ErrorPage {
            status,
            message: default_message(status).to_string(),
        }),
    }
}

pub fn routes() -> Vec<Route> {
    REFUSED
        .into_iter()
        .map(|method| Route::ranked(RANK, method, "/<_..>", MethodNotAllowed))
        .collect()
}

#[derive(Clone)]
struct MethodNotAllowed;

#[rocket::async_trait]
impl Handler for MethodNotAllowed {
    async fn handle<'r>(&self, req: &'r Request<'_>, _: Data<'r>) -> Outcome<'r> {
        match NotAllowed::for_request(req) {
            Some(refusal) => Outcome::from(req, refusal),
            None => Outcome::Error(Status::NotFound),
        }
    }
}

/// A 405 answer naming the methods the path allows.
struct NotAllowed {
    method: String,
}

impl NotAllowed {
    /// A refusal when `req` is for one of the API's documented paths.
    fn for_request(req: &Request<'_>) -> Option<Self> {
        let path = req.uri().path();
        let within_api = path.as_str().strip_prefix(openapi::MOUNT)?;
        openapi::template_for(within_api).map(|_| NotAllowed {
            method: req.method().to_string(),
        })
    }

    /// Rocket cannot parse a method it does not know (QUERY, say): it sends
    /// the request to the catchers as a 400 that no route was chosen for,
    /// with GET in place of the method. On an API path nothing else does
    /// that (no API route reads a body), so that is a method not allowed.
    fn for_unparsed_method(status: Status, req: &Request<'_>) -> Option<Self> {
        if status != Status::BadRequest || req.route().is_some() {
            return None;
        }
        Self::for_request(req).map(|_| NotAllowed {
            method: "This method".to_string(),
        })
    }
}

impl<'r> Responder<'r, 'static> for NotAllowed {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let message = format!("{} is not allowed here; this path allows {ALLOW}.", self.method);
        let mut response = render_error(req, Status::MethodNotAllowed, &message)?;
        response.set_header(Header::new("Allow", ALLOW));
        Ok(response)
    }
}
