//! qmtrack: domestic abuse quality marks and workforce training for a local
//! partnership.
//!
//! Module map:
//! - [`app`]: the workflows (enrol, submit, award, renew, certificates,
//!   registers, users, …): each owns its transaction, audit entry and side
//!   effects; the web, the API, the command line and the demo all call them
//! - [`config`]: typed configuration (Rocket.toml + `QMTRACK_*` variables)
//! - [`domain`]: the product's rules in plain Rust: roles and permissions,
//!   organisations, people, users, the standards library and its loader,
//!   the assessment lifecycle, evidence and file types
//! - [`db`]: the pool, migrations and one repository per aggregate (all SQL)
//! - [`web`]: browser routes by feature, request guards, CSRF, headers
//! - [`api`]: `/api/v1` and its OpenAPI document
//! - [`storage`]: the evidence file store
//! - [`cli`]: one module per subcommand of the `qmtrack` binary
//! - [`metrics`]: request counts and timings, and the Prometheus text
//!   format `/metrics` is written in (the route is in `web::observe`)
//! - [`error`]: the one error type (its pages are in `web::errors`) and the
//!   start-up / command-line error
//!
//! [`build_rocket`] builds the whole app; the binary and the tests share it.

#![recursion_limit = "512"]

pub mod api;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod recovery;
pub mod reports;
pub mod security;
pub mod storage;
pub mod web;

pub use clock::Clock;

use config::AppConfig;
use error::StartupError;
use rocket::figment::Figment;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;
use std::sync::Arc;

/// Builds the app from a figment (normally [`AppConfig::figment`]). Loads and
/// checks the standards first: a broken file stops start-up with
/// `file:line: message`. The database is connected and migrated on ignition.
pub fn build_rocket(figment: Figment, clock: Clock) -> Result<Rocket<Build>, StartupError> {
    let config = AppConfig::from_figment(&figment)?;
    clock::set_time_zone(clock::parse_time_zone(&config.time_zone).map_err(StartupError::Refused)?);
    let standards = domain::standards::load_dir(&config.standards_dir).map_err(StartupError::Standards)?;
    let training_dir = config.standards_dir.join("training");
    // A standards folder without training programmes is allowed (the quality
    // marks can run alone); a broken programme file is not.
    let programmes = if training_dir.is_dir() {
        domain::programmes::load_dir(&training_dir).map_err(StartupError::Standards)?
    } else {
        tracing::warn!("no training programmes: {} does not exist", training_dir.display());
        domain::programmes::ProgrammeLibrary::default()
    };
    let wrong_references = domain::training_requirement::check_references(&standards, &programmes);
    if !wrong_references.is_empty() {
        return Err(StartupError::Standards(wrong_references));
    }
    let figment = raise_upload_limits(figment, config.evidence_max_bytes.max(config.import_max_bytes))
        .merge(("databases.qmtrack.url", config.effective_database_url()))
        .merge(("databases.qmtrack.max_connections", config.database_max_connections));
    let evidence_store = storage::EvidenceStore::new(&config.data_dir);
    // Left by a process that stopped mid-upload.
    if let Err(e) = evidence_store.sweep_incoming() {
        tracing::warn!("could not tidy the evidence folder: {e}");
    }
    // Rocket streams uploads to its temporary folder before a handler runs:
    // inside the data folder (never the system's, where a killed upload
    // would stay), and this process's own, swept once the process is gone.
    let scratch = storage::Scratch::open(&config.data_dir).map_err(|e| {
        StartupError::Io(std::io::Error::new(
            e.kind(),
            format!("cannot make the upload folder under {}: {e}", config.data_dir.display()),
        ))
    })?;
    let figment = figment.merge(("temp_dir", scratch.dir().display().to_string()));
    let issuer = config.certificate_issuer().map_err(StartupError::Refused)?;
    let database_url = config.effective_database_url();
    let state = app::AppState {
        server_id: scratch.id(),
        files: evidence_store,
        issuer,
        config,
        clock,
        standards: Arc::new(standards),
        programmes: Arc::new(programmes),
        import_analyses: Arc::default(),
        figures: Arc::default(),
    };
    Ok(rocket::custom(figment)
        .manage(web::evaluations::PostLimiter::default())
        .attach(db::Db::init())
        .attach(rocket::fairing::AdHoc::try_on_ignite(
            "Shared files, this server's presence, and recovery after a restart",
            move |rocket| share_with_other_servers(rocket, state, database_url),
        ))
        .attach(rocket::fairing::AdHoc::on_liftoff(
            "Watching for imports whose server has gone",
            |rocket| {
                Box::pin(async move {
                    let (Some(pool), Some(state)) = (db::Db::fetch(rocket), rocket.state::<app::AppState>()) else {
                        return;
                    };
                    rocket::tokio::spawn(recovery::watch_for_abandoned_imports(
                        (**pool).clone(),
                        state.files.clone(),
                        state.config.data_dir.clone(),
                        rocket.shutdown(),
                    ));
                })
            },
        ))
        .attach(rocket::fairing::AdHoc::on_liftoff(
            "Copying the database log back",
            |rocket| {
                Box::pin(async move {
                    if let Some(pool) = db::Db::fetch(rocket) {
                        rocket::tokio::spawn(db::checkpoint::watch((**pool).clone(), rocket.shutdown()));
                    }
                })
            },
        ))
        .attach(rocket::fairing::AdHoc::on_liftoff("Reminders by email", |rocket| {
            Box::pin(async move {
                let (Some(pool), Some(state)) = (db::Db::fetch(rocket), rocket.state::<app::AppState>()) else {
                    return;
                };
                rocket::tokio::spawn(app::reminders::run_in_background(
                    (**pool).clone(),
                    state.config.clone(),
                    state.clock.clone(),
                    state.standards.clone(),
                    rocket.shutdown(),
                ));
            })
        }))
        .attach(rocket::fairing::AdHoc::try_on_ignite(
            "kept completions",
            bring_completions_up_to_date,
        ))
        .attach(web::templates::TemplatesFairing)
        .attach(web::headers::SecurityHeaders)
        .attach(web::observe::Observe::default())
        .attach(web::input::InputScreen)
        .manage(scratch)
        .mount("/", web::routes())
        .mount(api::openapi::MOUNT, api::routes())
        .mount(api::openapi::MOUNT, web::input::routes())
        .register("/", web::catchers())
        .register(api::openapi::MOUNT, api::catchers()))
}

/// Once the database is up: the files go where every app server sharing it
/// sees them (see [`storage`]), this process makes itself known to the
/// others ([`recovery::Presence`]), and what a stopped one left is tidied.
async fn share_with_other_servers(
    rocket: Rocket<Build>,
    mut state: app::AppState,
    database_url: String,
) -> rocket::fairing::Result {
    let Some(db) = db::Db::fetch(&rocket) else {
        return Err(rocket);
    };
    let pool: db::Pool = (**db).clone();
    state.files = storage::EvidenceStore::for_database(&state.config.data_dir, &pool);
    let presence = match recovery::Presence::claim(&pool, &database_url, &state.server_id).await {
        Ok(presence) => presence,
        Err(e) => {
            tracing::error!("could not make this server known to the database: {e}");
            return Err(rocket);
        }
    };
    if let Err(e) = recovery::after_restart(&pool, &state.files, &state.config.data_dir, &state.clock).await {
        tracing::error!("could not tidy up after a restart: {e}");
        return Err(rocket);
    }
    Ok(rocket.manage(state).manage(presence))
}

/// A database from before completions were kept, or kept under other
/// programme files, has them worked out again before the first request.
async fn bring_completions_up_to_date(rocket: Rocket<Build>) -> rocket::fairing::Result {
    let (Some(pool), Some(state)) = (db::Db::fetch(&rocket), rocket.state::<web::AppState>()) else {
        return Err(rocket);
    };
    let actor = db::audit::Actor::command_line("serve");
    match app::completions::bring_up_to_date(pool, &state.programmes, &actor, state.clock.now()).await {
        Ok(Some(rebuilt)) => {
            tracing::info!(
                completions = rebuilt.completions,
                "completions worked out again from attendance"
            );
            Ok(rocket)
        }
        Ok(None) => Ok(rocket),
        Err(e) => {
            tracing::error!("could not work out completions: {e}");
            Err(rocket)
        }
    }
}

/// Rocket must read a whole evidence file before the app can refuse it as
/// too large, so its `file` and `data-form` limits are raised (never
/// lowered) to just over `QMTRACK_EVIDENCE_MAX_BYTES`. The app's own check
/// decides what is accepted.
fn raise_upload_limits(figment: Figment, evidence_max_bytes: u64) -> Figment {
    let current = |key: &str| -> u64 {
        figment
            .extract_inner::<rocket::data::ByteUnit>(key)
            .map(|limit| limit.as_u64())
            .unwrap_or(0)
    };
    let file = evidence_max_bytes.saturating_add(1);
    // Room for the form's other fields and the multipart framing.
    let data_form = evidence_max_bytes.saturating_add(1024 * 1024);
    let (file, data_form) = (
        file.max(current("limits.file")),
        data_form.max(current("limits.data-form")),
    );
    figment
        .merge(("limits.file", file))
        .merge(("limits.data-form", data_form))
}
