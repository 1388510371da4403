//! The stylesheet, compiled into the binary so the app needs no served folder.

use rocket::http::ContentType;
use rocket::{get, routes, Route};

const STYLESHEET: &str = include_str!("../../static/qmtrack.css");

pub fn routes() -> Vec<Route> {
    routes![stylesheet]
}

#[get("/static/qmtrack.css")]
fn stylesheet() -> (ContentType, &'static str) {
    (ContentType::CSS, STYLESHEET)
}
