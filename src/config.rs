//! Typed configuration. Defaults live here and in `Rocket.toml`; any key can be
//! overridden by an environment variable named `QMTRACK_<KEY>` (for example
//! `QMTRACK_DATABASE_URL`, `QMTRACK_DATA_DIR`). Secrets come only from the
//! environment.

use rocket::figment::providers::{Env, Serialized};
use rocket::figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AppConfig {
    /// Where the SQLite database and (later) evidence files live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means SQLite inside `data_dir`.
    pub database_url: String,
    /// Connections the pool keeps for reads (the quick lane has half as many
    /// again); by default twice the processors (see [`default_max_connections`]).
    pub database_max_connections: u32,
    pub standards_dir: PathBuf,
    /// The address people reach the service on; used in links we print.
    pub public_base_url: String,
    /// Mark cookies `Secure`; turn on whenever the service is behind HTTPS.
    pub secure_cookies: bool,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// Failed log-ins for one email before each further attempt is slowed.
    pub login_slowdown_after: i64,
    /// Failed log-ins for one email before it is locked for a while.
    pub login_lockout_after: i64,
    pub login_lockout_minutes: i64,
    /// Failed log-ins from one address (at any email) before it is refused,
    /// except for users who have signed in from there before.
    pub login_address_lockout_after: i64,
    /// Added delay per failure past `login_slowdown_after`, capped at 5 s.
    pub login_delay_ms: u64,
    /// Largest sign-in sheet accepted for import, in bytes.
    pub import_max_bytes: u64,
    /// The largest evidence file accepted, in bytes (default 25 MiB).
    pub evidence_max_bytes: u64,
    /// How many days before an award expires it shows as "renewal due".
    pub renewal_notice_days: u64,
    /// The partnership's name, printed on every certificate as its issuer.
    pub partnership_name: String,
    /// Printed under the signature line of certificates, such as
    /// "Dr A. Khan, Domestic abuse programme lead"; empty leaves the line out.
    pub certificate_signatory: String,
    /// A PNG or JPEG printed on certificates; empty for none. Read and
    /// checked when the service starts: a file that is missing or not such
    /// an image stops it with a message naming the file.
    pub partnership_logo: PathBuf,
    /// The partnership's time zone: times are shown in it.
    pub time_zone: String,
    /// The bearer token a scraper sends for `/metrics`; empty (the default)
    /// and `/metrics` is not served at all. A secret: set it in the
    /// environment (`QMTRACK_METRICS_TOKEN`), never in Rocket.toml.
    pub metrics_token: String,
    /// Take each request's id from its `X-Request-Id` header (when it is a
    /// plain id) instead of making one: only behind a proxy that sets it.
    pub trust_request_id_header: bool,
    /// How log lines are written: `text` for people, `json` (one object per
    /// line) for a log collector.
    pub log_format: LogFormat,
    /// The mail server reminders go through, as `smtp://host:port` (or
    /// `smtp://user:password@host:port`, `…?tls=required` for STARTTLS,
    /// `smtps://` for TLS from the start); empty: nothing is sent, and the
    /// programme lead's outbox page shows what would have gone.
    pub smtp_url: String,
    /// A PEM file of certificate authorities to trust for the mail server,
    /// besides the public ones qmtrack knows (for a council's own CA);
    /// empty for only the public ones.
    pub smtp_ca_file: PathBuf,
    /// The address reminders come from, such as `qmtrack@council.example`.
    pub smtp_from: String,
    /// How long, in seconds, one message may take to hand to the mail
    /// server, connecting included, before it is left for its next try (a
    /// server that stops answering must not hold up the other messages).
    pub smtp_timeout_seconds: u64,
    /// How often, in seconds, the server looks for reminders that have come
    /// due and delivers the outbox; 0 leaves it to `qmtrack reminders`.
    pub reminders_every_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Twice the processors, from 2 to 16. On SQLite each connection is a
/// thread, and a read is work for a processor, not a wait for the disk (the
/// file is mapped): connections beyond about two a processor only add
/// threads taking turns with the server's own two, which render every page
/// and send every response. On the 2-core machine, with 64 clients, 8
/// connections left the dashboard at 75-81 ms (p99) and 4 at 30-31 ms, with
/// every other page the same and as many requests a second.
fn default_max_connections() -> u32 {
    let processors = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    u32::try_from(processors * 2).unwrap_or(16).clamp(2, 16)
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            database_max_connections: default_max_connections(),
            standards_dir: PathBuf::from("standards"),
            public_base_url: "http://127.0.0.1:8000".into(),
            secure_cookies: false,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            login_slowdown_after: 3,
            login_lockout_after: 10,
            login_lockout_minutes: 15,
            login_address_lockout_after: 30,
            login_delay_ms: 500,
            import_max_bytes: 20 * 1024 * 1024,
            evidence_max_bytes: 25 * 1024 * 1024,
            renewal_notice_days: 90,
            partnership_name: "Domestic Abuse Partnership".into(),
            certificate_signatory: String::new(),
            partnership_logo: PathBuf::new(),
            time_zone: "Europe/London".into(),
            metrics_token: String::new(),
            trust_request_id_header: false,
            log_format: LogFormat::Text,
            smtp_url: String::new(),
            smtp_ca_file: PathBuf::new(),
            smtp_from: "qmtrack@localhost".into(),
            smtp_timeout_seconds: 60,
            reminders_every_seconds: 300,
        }
    }
}

impl AppConfig {
    /// Rocket's own figment (Rocket.toml, ROCKET_*) with our defaults under it
    /// and QMTRACK_* variables over it.
    pub fn figment() -> Figment {
        Figment::from(Serialized::defaults(AppConfig::default()))
            .merge(rocket::Config::figment())
            // QMTRACK_LOG is the log filter, read where logging starts; as
            // `log` here Rocket took it for its own old setting and warned
            // on every start that it is deprecated.
            .merge(Env::prefixed("QMTRACK_").ignore(&["LOG"]).global())
    }

    pub fn from_figment(figment: &Figment) -> Result<Self, Box<rocket::figment::Error>> {
        figment.extract().map_err(Box::new)
    }

    pub fn load() -> Result<Self, Box<rocket::figment::Error>> {
        Self::from_figment(&Self::figment())
    }

    /// Who issues certificates, with the logo read and decoded: call it
    /// once, at start (it reads the file), and keep the result.
    pub fn certificate_issuer(&self) -> Result<crate::domain::certificate::Issuer, String> {
        let logo = if self.partnership_logo.as_os_str().is_empty() {
            None
        } else {
            let logo = crate::domain::logo::Logo::load(&self.partnership_logo)
                .map_err(|e| format!("partnership_logo (QMTRACK_PARTNERSHIP_LOGO): {e}"))?;
            Some(std::sync::Arc::new(logo))
        };
        Ok(crate::domain::certificate::Issuer {
            public_base_url: self.public_base_url.clone(),
            partnership: self.partnership_name.trim().to_string(),
            signatory: self.certificate_signatory.trim().to_string(),
            logo,
        })
    }

    pub fn effective_database_url(&self) -> String {
        if self.database_url.trim().is_empty() {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("qmtrack.sqlite").display())
        } else {
            self.database_url.trim().to_string()
        }
    }
}
