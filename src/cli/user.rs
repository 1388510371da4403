//! `qmtrack user add`.

use crate::config::AppConfig;
use crate::db::audit;
use crate::db::organisations;
use crate::domain::organisation::name_key;
use crate::domain::user::{NewUser, NewUserInput};
use crate::error::AppError;
use crate::security::random_password;
use crate::web::auth::create_user;
use crate::web::AppState;
use crate::Clock;
use std::sync::Arc;

pub struct AddArgs {
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation: Option<String>,
    pub password_stdin: bool,
}

pub async fn add(args: AddArgs) -> Result<(), AppError> {
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
                    .ok_or_else(|| AppError::BadRequest(format!("no organisation called or numbered \"{given}\"")))?,
            )
        }
    };
    let (password, generated) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(AppError::internal)?;
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
        AppError::BadRequest(
            errors
                .0
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let state = cli_state(config);
    create_user(&pool, &state, &user, &audit::Actor::command_line("user add"), false).await?;
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

/// Commands share the web's user-creation path, which reads the clock from app state.
pub(crate) fn cli_state(config: AppConfig) -> AppState {
    AppState {
        config,
        clock: Clock::system(),
        standards: Arc::default(),
        programmes: Arc::default(),
        import_progress: Arc::default(),
        import_analyses: Arc::default(),
    }
}
