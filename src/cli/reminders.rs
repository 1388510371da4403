//! `qmtrack reminders`: look for reminders that have come due, and deliver
//! the outbox, with the workflows the server's own round runs.

use crate::app::reminders::{self, Delivery};
use crate::error::StartupError;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum RemindersCommand {
    /// Queue the reminders that have come due (renewals, expiring evidence, lapsing training, the weekly digest)
    Scan,
    /// Deliver the queued emails that are due through QMTRACK_SMTP_URL
    Send,
}

pub async fn run(command: RemindersCommand) -> Result<(), StartupError> {
    let (state, pool) = super::open_app("reminders").await?;
    match command {
        RemindersCommand::Scan => {
            let queued = reminders::scan(&pool, &state.standards, &state.config, state.clock.now()).await?;
            println!("{queued} reminders queued");
        }
        RemindersCommand::Send => match reminders::send_due(&pool, &state.config, &state.clock).await? {
            Delivery::NotConfigured => {
                return Err(StartupError::Refused(
                    "no mail server is configured: set QMTRACK_SMTP_URL (and QMTRACK_SMTP_FROM)".into(),
                ))
            }
            Delivery::Misconfigured(wrong) => {
                return Err(StartupError::Refused(format!(
                    "the mail server settings are wrong, so nothing was sent: {wrong}"
                )))
            }
            Delivery::Done {
                sent,
                failed,
                withdrawn,
            } => {
                println!("{sent} sent, {failed} failed (to be tried again), {withdrawn} withdrawn as out of date");
            }
        },
    }
    pool.close().await;
    Ok(())
}
