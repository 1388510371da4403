//! One screen for text arriving in query strings, on every page and the API:
//! a value with a control character in it (NUL and the like, see
//! [`validation::plain_text`]) is refused with 422 and a message naming the
//! parameter before any handler sees it. Form bodies get the same check in
//! [`super::csrf::CsrfForm`], and the domain's own field checks use it too.

use crate::domain::validation;
use crate::web::errors::ErrorPage;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::uri::Origin;
use rocket::http::{Method, Status};
use rocket::{get, routes, Data, Request, Route};

/// Where a refused request is sent; under `/api/v1` for the API, so its
/// answer is JSON.
const REFUSED_PATH: &str = "/__refused-input";

pub fn routes() -> Vec<Route> {
    routes![refused]
}

/// The parameter a request was refused for.
struct RefusedField(Option<String>);

pub struct InputScreen;

#[rocket::async_trait]
impl Fairing for InputScreen {
    fn info(&self) -> Info {
        Info {
            name: "Input screen",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let refused = req
            .query_fields()
            .find(|field| {
                validation::plain_text(field.name.source()).is_err() || validation::plain_text(field.value).is_err()
            })
            .map(|field| {
                field
                    .name
                    .source()
                    .chars()
                    .filter(|c| !c.is_control())
                    .collect::<String>()
            });
        let Some(name) = refused else { return };
        let target = if crate::web::errors::is_api_request(req) {
            format!("/api/v1{REFUSED_PATH}")
        } else {
            REFUSED_PATH.to_string()
        };
        req.local_cache(|| RefusedField(Some(name)));
        if let Ok(uri) = Origin::parse_owned(target) {
            req.set_uri(uri);
            req.set_method(Method::Get);
        }
    }
}

#[get("/__refused-input")]
fn refused(req_field: RefusedFieldName) -> ErrorPage {
    ErrorPage {
        status: Status::UnprocessableEntity,
        message: format!(
            "The value for “{}” contains a character that cannot be used (a control character such as NUL). Remove it and try again.",
            req_field.0
        ),
    }
}

/// The name the fairing stored; a direct visit to the path has none.
pub struct RefusedFieldName(String);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for RefusedFieldName {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> rocket::request::Outcome<Self, Self::Error> {
        match &req.local_cache(|| RefusedField(None)).0 {
            Some(name) => rocket::request::Outcome::Success(RefusedFieldName(name.clone())),
            None => rocket::request::Outcome::Forward(Status::NotFound),
        }
    }
}
