//! The application layer: every workflow the product has, each one function
//! that takes who is acting and typed input and returns a typed outcome.
//! Each owns its transaction (begun with [`crate::db::begin_write`]), its
//! audit entry and its side effects (an award's certificate, a revoked
//! award's certificates). The web pages, the API, the command line and the
//! demo all call these, so they cannot drift apart.
//!
//! A workflow returns `AppResult<Result<Outcome, Refused>>`: the outer error
//! is something the caller cannot fix by editing the form (not found, not
//! allowed, a conflict with someone else's change, a fault); the inner
//! `Refused` is a typed, correctable refusal that a page shows beside the
//! fields it concerns.
//!
//! - [`assessments`]: enrol, submit, award, revoke, start a renewal, and the
//!   views of an assessment that pages and the API show
//! - [`evidence`]: add, replace and remove evidence; record a download
//! - [`frameworks`]: the views of the standards library
//! - [`reviews`]: record decisions, request changes, recommend an award
//! - [`certificates`]: issue (training and award), revoke, reissue
//! - [`completions`]: work kept completions out again when the programme
//!   files change
//! - [`evaluations`]: session evaluation links, anonymous answers, imported
//!   responses and their results
//! - [`training`]: registers, cohort grids, sessions, programme sign-ups
//! - [`training_views`]: sessions, registers and completions as pages and
//!   the API show them
//! - [`accounts`]: users, passwords, sessions and API tokens
//! - [`organisations`]: organisations and their people
//! - [`award_history`]: importing awards made before qmtrack, and undoing it
//! - [`backup`]: backups, restores and the copy from SQLite to PostgreSQL
//! - [`import_runs`]: imports committed in the background, watched from any
//!   app server
//! - [`reminders`]: reminder emails queued in the outbox, and their delivery

pub mod accounts;
pub mod assessments;
pub mod award_history;
pub mod backup;
pub mod certificates;
pub mod completions;
pub mod evaluations;
pub mod evidence;
pub mod figures;
pub mod frameworks;
pub mod import_runs;
pub mod imports;
pub mod organisations;
pub mod register;
pub mod reminders;
pub mod reviews;
pub mod training;
pub mod training_requirements;
pub mod training_views;

use crate::config::AppConfig;
use crate::db::{audit, users::UserRow, Pool};
use crate::domain::access::{Actor, Role};
use crate::domain::programmes::ProgrammeLibrary;
use crate::domain::standards::StandardsLibrary;
use crate::error::{AppError, AppResult};
use crate::Clock;
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

/// What every entry point shares besides the database: configuration, the
/// clock and the loaded standards and programmes. The web server manages one;
/// a command builds its own.
pub struct AppState {
    pub config: AppConfig,
    pub clock: Clock,
    pub standards: Arc<StandardsLibrary>,
    pub programmes: Arc<ProgrammeLibrary>,
    /// Who issues certificates (name, signatory, logo), from configuration.
    pub issuer: crate::domain::certificate::Issuer,
    /// This process's name among the app servers sharing the database: it
    /// is recorded with each import it commits (see [`import_runs`]).
    pub server_id: String,
    /// Evidence files and uploaded sheets: in the data folder, or in the
    /// database when several app servers share a PostgreSQL one.
    pub files: crate::storage::EvidenceStore,
    /// Pending imports' sheets as read, so viewing and committing one does not parse it again.
    pub import_analyses: Arc<imports::AnalysisCache>,
    /// Report figures already computed (see [`figures`]).
    pub figures: Arc<figures::FiguresCache>,
}

impl AppState {
    /// The context for a workflow acting now.
    pub fn ctx<'a>(&'a self, db: &'a Pool) -> Ctx<'a> {
        Ctx {
            db,
            app: self,
            now: self.clock.now(),
        }
    }
}

/// A workflow's surroundings: the database, the shared state and the moment
/// it acts at (the clock's now, or an earlier moment when the demo builds a
/// history).
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub db: &'a Pool,
    pub app: &'a AppState,
    pub now: DateTime<Utc>,
}

impl Ctx<'_> {
    /// The same surroundings at another moment.
    pub fn at(self, now: DateTime<Utc>) -> Self {
        Ctx { now, ..self }
    }

    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }
}

/// Who is acting: what they may do, and how the audit log names them.
#[derive(Debug, Clone)]
pub struct Acting {
    pub access: Actor,
    pub audit: audit::Actor,
}

impl Acting {
    pub fn user(user: &UserRow) -> Self {
        Acting {
            access: user.actor(),
            audit: audit::Actor::user(user.id, &user.email),
        }
    }

    /// Whoever runs a command has the database in hand already, so the
    /// command acts with the programme lead's permissions.
    pub fn command_line(command: &str) -> Self {
        Acting {
            access: Actor {
                user_id: 0,
                role: Role::ProgrammeLead,
                organisation_id: None,
            },
            audit: audit::Actor::command_line(command),
        }
    }

    /// This actor acting at `now`, as the audit log records it.
    pub fn at(&self, now: DateTime<Utc>) -> audit::Stamp<'_> {
        self.audit.at(now)
    }

    /// Refuses as not allowed unless `allowed` says this actor may.
    pub fn require(&self, allowed: impl FnOnce(&Actor) -> bool) -> AppResult<()> {
        if allowed(&self.access) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Someone with `role` who has no account here (the demo's organisation
    /// contacts), named in the audit log as `label`.
    pub fn without_account(role: Role, organisation_id: Option<i64>, label: &str) -> Self {
        Acting {
            access: Actor {
                user_id: 0,
                role,
                organisation_id,
            },
            audit: audit::Actor {
                user_id: None,
                label: label.to_string(),
            },
        }
    }
}

/// A record named for a person to pick or read: an organisation in the API's
/// assessments, a suggestion under a form's organisation field.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IdName {
    pub id: i64,
    pub name: String,
}
