//! qmtrack: domestic abuse quality marks and workforce training for a local
//! partnership.
//!
//! Module map:
//! - [`config`]: typed configuration (Rocket.toml + `QMTRACK_*` variables)
//! - [`domain`]: the product's rules in plain Rust: roles and permissions,
//!   organisations, people, users, the standards library and its loader
//! - [`db`]: the pool, migrations and one repository per aggregate (all SQL)
//! - [`web`]: browser routes by feature, request guards, CSRF, headers
//! - [`api`]: `/api/v1` and its OpenAPI document
//! - [`cli`]: one module per subcommand of the `qmtrack` binary
//! - [`error`]: the one error type and how it renders
//!
//! [`build_rocket`] builds the whole app; the binary and the tests share it.

#![recursion_limit = "512"]

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod imports;
pub mod security;
pub mod web;

pub use clock::Clock;

use config::AppConfig;
use error::AppError;
use rocket::figment::Figment;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;
use rocket_dyn_templates::Template;
use std::sync::Arc;

/// Builds the app from a figment (normally [`AppConfig::figment`]). Loads and
/// checks the standards first: a broken file stops start-up with
/// `file:line: message`. The database is connected and migrated on ignition.
pub fn build_rocket(figment: Figment, clock: Clock) -> Result<Rocket<Build>, AppError> {
    let config = AppConfig::from_figment(&figment)?;
    let standards = domain::standards::load_dir(&config.standards_dir).map_err(AppError::Standards)?;
    let programmes =
        domain::programmes::load_dir(&config.standards_dir.join("training")).map_err(AppError::Standards)?;
    let figment = figment
        .merge(("databases.qmtrack.url", config.effective_database_url()))
        .merge(("databases.qmtrack.max_connections", config.database_max_connections));
    let state = web::AppState {
        config,
        clock,
        standards: Arc::new(standards),
        programmes: Arc::new(programmes),
        import_progress: Arc::default(),
    };
    Ok(rocket::custom(figment)
        .attach(db::Db::init())
        .attach(Template::fairing())
        .attach(web::headers::SecurityHeaders)
        .manage(state)
        .mount("/", web::routes())
        .mount("/api/v1", api::routes())
        .register("/", web::catchers()))
}
