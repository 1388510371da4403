//! `qmtrack certificates`: issue what is missing, render one certificate to
//! a PDF, or many to a ZIP, with the same code the web uses.

use crate::app::{self, Acting, AppState};
use crate::db::certificates::{self, Filter};
use crate::error::{AppError, StartupError};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum CertificatesCommand {
    /// Issue certificates for completions that have none yet (as the web does after imports)
    Issue,
    /// Write one certificate's PDF
    Render {
        /// The certificate's code, e.g. K7QM-3XPA-WT9C-HD2E
        code: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write many certificates' PDFs into one ZIP
    Batch {
        /// Only this training programme (its id, e.g. "ambassadors")
        #[arg(long)]
        programme: Option<String>,
        /// Only this organisation (its id or exact name)
        #[arg(long)]
        organisation: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
}

pub async fn run(command: CertificatesCommand) -> Result<(), StartupError> {
    let (state, pool) = super::open_app("certificates").await?;
    let config = &state.config;
    match command {
        CertificatesCommand::Issue => {
            let acting = Acting::command_line("certificates issue");
            let issued = app::certificates::issue_missing(state.ctx(&pool), &acting).await?;
            println!("{issued} certificates issued");
        }
        CertificatesCommand::Render { code, out } => {
            let row = match crate::domain::certificate::normalise_code(&code) {
                Some(code) => certificates::find_by_code(&pool, &code).await?,
                None => None,
            }
            .ok_or_else(|| StartupError::Refused(format!("there is no certificate with the code {code}")))?;
            let pdf = crate::domain::certificate_pdf::render(
                &row.content(&config.certificate_issuer().map_err(StartupError::Refused)?),
            )
            .map_err(AppError::Internal)?;
            std::fs::write(&out, pdf)
                .map_err(|e| StartupError::Refused(format!("cannot write {}: {e}", out.display())))?;
            eprintln!("{} ({}) written to {}", row.code, row.holder_name, out.display());
        }
        CertificatesCommand::Batch {
            programme,
            organisation,
            out,
        } => {
            let organisation_id = match organisation.as_deref() {
                None => 0,
                Some(text) => match text.parse::<i64>() {
                    Ok(id) => id,
                    Err(_) => {
                        let mut conn = pool.acquire().await?;
                        let key = crate::domain::organisation::name_key(text);
                        crate::db::organisations::find_by_name(&mut conn, &key).await?
                    }
                    .ok_or_else(|| StartupError::Refused(format!("there is no organisation called {text}")))?,
                },
            };
            let filter = Filter {
                organisation_id,
                programme_id: programme.as_deref().unwrap_or(""),
                ..Filter::default()
            };
            let rows = certificates::list(&pool, &filter).await?;
            let zip =
                crate::web::certificates::zip_of(&rows, &config.certificate_issuer().map_err(StartupError::Refused)?)?;
            std::fs::write(&out, zip)
                .map_err(|e| StartupError::Refused(format!("cannot write {}: {e}", out.display())))?;
            eprintln!("{} certificates written to {}", rows.len(), out.display());
        }
    }
    Ok(())
}

/// For `qmtrack demo`: every completion's certificate, and (once) one
/// revoked and one reissued so every state can be seen; lapsed completions
/// give the expired ones. Running it again adds nothing.
pub(super) async fn demo(state: &AppState, pool: &crate::db::Pool, acting: &Acting) -> Result<(), StartupError> {
    let ctx = state.ctx(pool);
    let today = ctx.today();
    let issued = app::certificates::issue_missing(ctx, acting).await?;
    let rows = certificates::list(
        pool,
        &Filter {
            kind: "training",
            ..Filter::default()
        },
    )
    .await?;
    let valid: Vec<_> = rows
        .iter()
        .filter(|r| r.state(today) == crate::domain::certificate::State::Valid)
        .collect();
    if !rows.iter().any(|r| r.revoked_at.is_some()) {
        if let Some(row) = valid.first() {
            // Whatever the outcome, the demo carries on: a refusal here only
            // means the state it wanted to show is already there.
            let _ = app::certificates::revoke(ctx, acting, row.id, "Demo: issued to the wrong person").await?;
        }
    }
    if !rows.iter().any(|r| r.superseded_by_code.is_some()) {
        if let Some(row) = valid.get(1) {
            let _ = app::certificates::reissue(ctx, acting, row.id, &row.holder_name).await?;
        }
    }
    let awards = certificates::list(
        pool,
        &Filter {
            kind: "award",
            ..Filter::default()
        },
    )
    .await?
    .len();
    println!(
        "Certificates: {issued} issued ({} training, {awards} for awards, in all).",
        rows.len()
    );
    Ok(())
}
