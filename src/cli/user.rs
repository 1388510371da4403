//! `qmtrack user add`.

use crate::app::{accounts, AppState};
use crate::config::AppConfig;
use crate::db::audit;
use crate::db::organisations;
use crate::domain::organisation::name_key;
use crate::domain::user::{NewUser, NewUserInput};
use crate::error::StartupError;
use crate::security::random_password;
use crate::Clock;
use std::sync::Arc;

pub struct AddArgs {
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation: Option<String>,
    pub password_stdin: bool,
}

pub async fn add(args: AddArgs) -> Result<(), StartupError> {
    let (config, pool) = super::open_database().await?;
    let organisation_id = match &args.organisation {
        None => None,
        Some(given) => {
            let mut conn = pool.acquire().await?;
            let by_name = organisations::find_by_name(&mut conn, &name_key(given)).await?;
            let by_id = match given.trim().parse::<i64>() {
                Ok(id) => organisations::find(&pool, id).await?.map(|o| o.id),
                Err(_) => None,
            };
            Some(
                by_name
                    .or(by_id)
                    .ok_or_else(|| StartupError::Refused(format!("no organisation called or numbered \"{given}\"")))?,
            )
        }
    };
    let (password, generated) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(StartupError::Io)?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (random_password(), true)
    };
    let input = NewUserInput {
        name: args.name,
        email: args.email,
        role: args.role,
        organisation_id,
        password_confirm: password.clone(),
        password,
    };
    let user = NewUser::try_from(&input).map_err(|errors| {
        StartupError::Refused(
            errors
                .0
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let state = cli_state(config)?;
    if let Err(refused) =
        accounts::create_user(state.ctx(&pool), &audit::Actor::command_line("user add"), &user, false).await?
    {
        return Err(StartupError::Refused(match refused {
            accounts::CreateUserRefused::EmailTaken(email) => format!("there is already a user with the email {email}"),
            accounts::CreateUserRefused::NotFirst => "there are users already".into(),
        }));
    }
    println!(
        "Added {} <{}> as {}.",
        user.name,
        user.email,
        user.role.label().to_lowercase()
    );
    if generated {
        println!("Password: {}", user.password);
    }
    Ok(())
}

/// `qmtrack user reset-password`: the same one-time link the programme lead
/// can make in the browser, for when no lead can sign in.
pub async fn reset_password(email: &str) -> Result<(), StartupError> {
    let (config, pool) = super::open_database().await?;
    let user = crate::db::users::find_by_email(&pool, &email.trim().to_lowercase())
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| StartupError::Refused(format!("there is no active user with the email {email}")))?;
    let (link, expires) = crate::web::password_reset::create_link(
        &pool,
        &config.public_base_url,
        chrono::Utc::now(),
        &user,
        &audit::Actor::command_line("user reset-password"),
    )
    .await?;
    println!("{link}");
    eprintln!(
        "A one-time link for {} <{}> to choose a new password, until {} (UTC). It is shown only this once.",
        user.name,
        user.email,
        crate::clock::display(expires)
    );
    Ok(())
}

/// For commands that add users only: no standards or programmes are loaded.
pub(crate) fn cli_state(config: AppConfig) -> Result<AppState, StartupError> {
    let files = crate::storage::EvidenceStore::new(&config.data_dir);
    Ok(AppState {
        issuer: config.certificate_issuer().map_err(StartupError::Refused)?,
        config,
        clock: Clock::system(),
        standards: Arc::default(),
        programmes: Arc::default(),
        server_id: super::COMMAND_LINE_SERVER.to_string(),
        files,
        import_analyses: Arc::default(),
        figures: Arc::default(),
    })
}
