//! The `qmtrack` command line. One module per subcommand.

mod backup;
mod certificates;
mod demo;
mod demo_evidence;
mod demo_large;
pub mod import;
mod import_awards;
mod migrate;
mod reminders;
mod report;
mod serve;
mod standards;
mod token;
mod user;

use crate::app::AppState;
use crate::config::{AppConfig, LogFormat};
use crate::db;
use crate::error::StartupError;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "qmtrack",
    version,
    about = "Domestic abuse quality marks and workforce training for a local partnership"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the web server (the default): 127.0.0.1:8000 unless configured otherwise
    Serve,
    /// Create the database if needed and apply any pending migrations, then exit
    Migrate,
    /// Work with the standards library
    Standards {
        #[command(subcommand)]
        command: StandardsCommand,
    },
    /// Manage user accounts
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Load a realistic demo data set (safe to run again: adds nothing twice)
    Demo(DemoArgs),
    /// Issue, render and batch certificates
    Certificates {
        #[command(subcommand)]
        command: certificates::CertificatesCommand,
    },
    /// Write the board report (or one organisation's progress report) for a period
    Report(report::ReportArgs),
    /// Import a sign-in sheet (xlsx, xlsm, xls, ods or csv): the same engine as the web import
    ImportAttendance(import::ImportArgs),
    /// Import awards made before qmtrack from a spreadsheet (organisation, framework,
    /// awarded on, expires on, revoked on): checks and shows them; records them with --commit
    ImportAwards(import_awards::ImportAwardsArgs),
    /// Write a consistent backup (database, files and a manifest) while the app serves
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty database and data folder, checking it against its manifest
    Restore(backup::RestoreArgs),
    /// Copy the SQLite database to an empty PostgreSQL database and check every table
    CopyDatabase(backup::CopyDatabaseArgs),
    /// Reminder emails: queue what has come due, deliver the outbox
    Reminders {
        #[command(subcommand)]
        command: reminders::RemindersCommand,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoScale {
    /// A dozen organisations with every state to look at
    Normal,
    /// The normal demo plus 10,000 organisations, 200,000 people and
    /// 1,000,000 attendance records over five years: what the benchmarks use
    Large,
}

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    #[arg(long, value_enum, default_value = "normal")]
    scale: DemoScale,
    /// With --scale large: how many organisations
    #[arg(long, default_value_t = 10_000)]
    organisations: usize,
    /// With --scale large: how many people
    #[arg(long, default_value_t = 200_000)]
    people: usize,
    /// With --scale large: how many attendance records
    #[arg(long, default_value_t = 1_000_000)]
    attendance: usize,
    /// With --scale large: how many assessments (spread over every state)
    #[arg(long, default_value_t = 3_000)]
    assessments: usize,
    /// With --scale large: the random seed (the same seed and date give the same data)
    #[arg(long, default_value_t = 2007)]
    seed: u64,
    /// With --scale large: the day the five years end (day/month/year or YYYY-MM-DD); today if not given
    #[arg(long)]
    as_of: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum StandardsCommand {
    /// Check the framework files; prints `file:line: message` for each problem
    Check {
        /// The folder holding the framework files
        #[arg(default_value = "standards")]
        dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user; prints a generated password unless --password-stdin is given
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// programme_lead, assessor, training_lead or org_member
        #[arg(long)]
        role: String,
        /// For org_member: the organisation's id or exact name
        #[arg(long)]
        organisation: Option<String>,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Print a one-time link that lets a user choose a new password (shown once)
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (it is shown only once)
    Create {
        #[arg(long)]
        email: String,
        /// What the token is for, e.g. "quarterly export script"
        #[arg(long, default_value = "command line")]
        label: String,
    },
}

pub async fn run(cli: Cli) -> ExitCode {
    init_tracing();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::run().await,
        Command::Migrate => migrate::run().await,
        Command::Standards {
            command: StandardsCommand::Check { dir },
        } => return standards::check(&dir),
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    name,
                    role,
                    organisation,
                    password_stdin,
                },
        } => {
            user::add(user::AddArgs {
                email,
                name,
                role,
                organisation,
                password_stdin,
            })
            .await
        }
        Command::User {
            command: UserCommand::ResetPassword { email },
        } => user::reset_password(&email).await,
        Command::Token {
            command: TokenCommand::Create { email, label },
        } => token::create(&email, &label).await,
        Command::Demo(args) => match args.scale {
            DemoScale::Normal => demo::run().await,
            DemoScale::Large => match large_size(&args) {
                Ok(size) => demo_large::run(size).await,
                Err(message) => Err(StartupError::Refused(message)),
            },
        },
        Command::Certificates { command } => certificates::run(command).await,
        Command::Report(args) => report::run(args).await,
        Command::ImportAttendance(args) => return import::run(args).await,
        Command::ImportAwards(args) => return import_awards::run(args).await,
        Command::Backup(args) => backup::run_backup(args).await,
        Command::Restore(args) => backup::run_restore(args).await,
        Command::CopyDatabase(args) => backup::run_copy_database(args).await,
        Command::Reminders { command } => reminders::run(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qmtrack: {e}");
            ExitCode::FAILURE
        }
    }
}

fn large_size(args: &DemoArgs) -> Result<demo_large::Size, String> {
    let as_of = match args.as_of.as_deref() {
        None => None,
        Some(text) => Some(
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .or_else(|| crate::domain::import::values::parse_date_text(text))
                .ok_or_else(|| format!("--as-of: “{text}” is not a date"))?,
        ),
    };
    Ok(demo_large::Size {
        organisations: args.organisations.max(1),
        people: args.people.max(1),
        attendance: args.attendance,
        assessments: args.assessments,
        seed: args.seed,
        as_of,
        ..demo_large::Size::default()
    })
}

/// Log lines go to standard error, as text or (`QMTRACK_LOG_FORMAT=json`)
/// one JSON object per line. Rocket's own lines come through here too; by
/// default its per-request ones are left out (`rocket::server` below
/// warnings, and its indented `rocket::server::_` details), since they show
/// the path asked for with its query string, and `web::observe` logs each
/// request once without.
const DEFAULT_LOG_FILTER: &str = "info,rocket::server=warn,rocket::server::_=off";

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QMTRACK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    // A configuration that cannot be read is reported when a command loads it.
    let format = AppConfig::load().map(|config| config.log_format).unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}

/// Configuration and a migrated pool, for commands that work on the database.
pub(crate) async fn open_database() -> Result<(AppConfig, db::Pool), StartupError> {
    let config = AppConfig::load()?;
    let pool = db::connect(&config.effective_database_url(), 2).await?;
    db::migrate(&pool).await?;
    Ok((config, pool))
}

/// What a command records as the server running something: it runs no
/// background work another server could need to know about.
pub(crate) const COMMAND_LINE_SERVER: &str = "command-line";

/// What a command needs to run workflows: the shared state the server would
/// have (configuration, clock, standards and programmes) and a migrated pool.
/// `command` names the command in the audit log, should completions need
/// working out again.
pub(crate) async fn open_app(command: &str) -> Result<(AppState, db::Pool), StartupError> {
    let (config, pool) = open_database().await?;
    let standards = crate::domain::standards::load_dir(&config.standards_dir).map_err(StartupError::Standards)?;
    let training_dir = config.standards_dir.join("training");
    let programmes = if training_dir.is_dir() {
        crate::domain::programmes::load_dir(&training_dir).map_err(StartupError::Standards)?
    } else {
        crate::domain::programmes::ProgrammeLibrary::default()
    };
    let wrong_references = crate::domain::training_requirement::check_references(&standards, &programmes);
    if !wrong_references.is_empty() {
        return Err(StartupError::Standards(wrong_references));
    }
    // Completions kept under other programme files are worked out again
    // before any command writes through the workflows, as the server does on
    // start. On a new database this records the files they were worked out
    // with, so a server started after `qmtrack demo` does not rebuild them all.
    let clock = crate::Clock::system();
    let actor = db::audit::Actor::command_line(command);
    if crate::app::completions::bring_up_to_date(&pool, &programmes, &actor, clock.now())
        .await?
        .is_some()
    {
        tracing::info!("completions worked out again from attendance");
    }
    let config_dir = config.data_dir.clone();
    let state = AppState {
        issuer: config.certificate_issuer().map_err(StartupError::Refused)?,
        config,
        clock,
        standards: std::sync::Arc::new(standards),
        programmes: std::sync::Arc::new(programmes),
        server_id: COMMAND_LINE_SERVER.to_string(),
        files: crate::storage::EvidenceStore::for_database(&config_dir, &pool),
        import_analyses: std::sync::Arc::default(),
        figures: std::sync::Arc::default(),
    };
    Ok((state, pool))
}
