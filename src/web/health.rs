//! `GET /healthz` for load balancers and monitoring.

use crate::db::{self, Db};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, routes, Route};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![healthz]
}

#[get("/healthz")]
async fn healthz(db: &Db) -> (Status, Json<Value>) {
    match db::applied_migrations(db).await {
        Ok(migrations) => (
            Status::Ok,
            Json(json!({
                "status": "ok",
                "database": {"backend": db.backend().name(), "state": "ok", "migrations": migrations}
            })),
        ),
        Err(e) => {
            tracing::error!("health check failed: {e}");
            (
                Status::ServiceUnavailable,
                Json(json!({
                    "status": "error",
                    "database": {"backend": db.backend().name(), "state": "unavailable"}
                })),
            )
        }
    }
}
