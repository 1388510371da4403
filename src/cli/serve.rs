//! `qmtrack serve`: the web server.

use crate::config::AppConfig;
use crate::error::AppError;
use crate::Clock;

pub async fn run() -> Result<(), AppError> {
    let rocket = crate::build_rocket(AppConfig::figment(), Clock::system())?;
    rocket.launch().await.map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(())
}
