//! `qmtrack serve`: the web server.

use crate::config::AppConfig;
use crate::error::StartupError;
use crate::Clock;

pub async fn run() -> Result<(), StartupError> {
    let rocket = crate::build_rocket(AppConfig::figment(), Clock::system())?;
    rocket.launch().await.map_err(Box::new)?;
    Ok(())
}
