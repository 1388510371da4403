//! Reminders by email: the kinds of message, what each says, and when a
//! failed delivery is tried again. Plain Rust: the workflows decide who gets
//! what (`app::reminders`), the data layer keeps the outbox.
//!
//! An email may cross networks nobody here controls, so it names only
//! organisations, frameworks, dates and counts, and links to the sign-in
//! page: never evidence (titles, statements, files), feedback, notes or
//! people's names. The details are behind the sign-in.

use super::dates::uk_date;
use chrono::{Duration, NaiveDate};
use serde::Serialize;

/// A kind of message; each user can turn each kind off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    RenewalDue,
    EvidenceExpiring,
    ChangesRequested,
    AssessmentSubmitted,
    CertificateIssued,
    TrainingLapsing,
    WeeklyDigest,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::RenewalDue,
        Kind::EvidenceExpiring,
        Kind::ChangesRequested,
        Kind::AssessmentSubmitted,
        Kind::CertificateIssued,
        Kind::TrainingLapsing,
        Kind::WeeklyDigest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RenewalDue => "renewal_due",
            Kind::EvidenceExpiring => "evidence_expiring",
            Kind::ChangesRequested => "changes_requested",
            Kind::AssessmentSubmitted => "assessment_submitted",
            Kind::CertificateIssued => "certificate_issued",
            Kind::TrainingLapsing => "training_lapsing",
            Kind::WeeklyDigest => "weekly_digest",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// What the account page calls it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::RenewalDue => "An award's renewal is due (90, 30 and 7 days before it expires)",
            Kind::EvidenceExpiring => "Evidence is about to stop being valid",
            Kind::ChangesRequested => "An assessor has asked for changes",
            Kind::AssessmentSubmitted => "An assessment has been sent for review",
            Kind::CertificateIssued => "An award's certificate has been issued",
            Kind::TrainingLapsing => "Training at your organisation lapses within 60 days",
            Kind::WeeklyDigest => "A weekly summary (programme leads)",
        }
    }
}

impl Kind {
    /// The kinds someone in `role` can receive: what their account page
    /// offers to turn off. Training lapsing goes to an organisation's
    /// contact address, which anyone's may be.
    pub fn for_role(role: super::access::Role) -> Vec<Kind> {
        use super::access::Role;
        match role {
            Role::OrgMember => vec![
                Kind::RenewalDue,
                Kind::EvidenceExpiring,
                Kind::ChangesRequested,
                Kind::CertificateIssued,
                Kind::TrainingLapsing,
            ],
            Role::Assessor => vec![Kind::AssessmentSubmitted, Kind::TrainingLapsing],
            Role::ProgrammeLead => vec![Kind::WeeklyDigest, Kind::TrainingLapsing],
            Role::TrainingLead => vec![Kind::TrainingLapsing],
        }
    }
}

/// Days before an award's expiry on which its renewal reminders go.
pub const RENEWAL_NOTICES: [i64; 3] = [90, 30, 7];

/// How far ahead training lapses are told to the organisation's contact.
pub const TRAINING_LAPSE_DAYS: u64 = 60;

/// How far ahead expiring evidence is told.
pub const EVIDENCE_NOTICE_DAYS: u64 = 30;

/// Which renewal notice is due with `days_left` until expiry: the nearest
/// of 90, 30 and 7 days that has been reached. A scan that first sees an
/// award 20 days out sends the 30-day notice only, not the 90-day one late.
pub fn renewal_notice(days_left: i64) -> Option<i64> {
    if days_left <= 0 {
        return None;
    }
    RENEWAL_NOTICES.into_iter().rev().find(|notice| days_left <= *notice)
}

/// How long to wait before trying again after `attempts` failed deliveries:
/// a minute, then doubling, never more than six hours. A message is never
/// given up: the programme lead sees it failing on the outbox page.
pub fn retry_delay(attempts: i64) -> Duration {
    const CAP_MINUTES: i64 = 6 * 60;
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    Duration::minutes(2_i64.saturating_pow(doublings).min(CAP_MINUTES))
}

/// A reminder not sent within this many days of being queued is out of date
/// (a renewal notice for a week already past, a digest of a week gone) and is
/// withdrawn instead of sent late: configuring a mail server on a database
/// that has queued for months sends only the last fortnight's.
pub const WITHDRAW_AFTER_DAYS: i64 = 14;

/// Why a message was withdrawn, as the outbox shows it.
pub fn withdrawn_reason() -> String {
    format!("Out of date: not sent within {WITHDRAW_AFTER_DAYS} days of being queued")
}

/// Where the mail server is, read from `QMTRACK_SMTP_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    /// User and password, when the server wants a sign-in.
    pub credentials: Option<(String, String)>,
    pub security: SmtpSecurity,
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (`smtp://`), for a relay on the same host or a trusted network.
    Plain,
    /// STARTTLS, required (`smtp://…?tls=required`, usually port 587): the
    /// connection is encrypted, and the server's certificate checked,
    /// before the sign-in or any message is sent. A server that does not
    /// offer it gets nothing.
    StartTls,
    /// TLS from the first byte (`smtps://`, port 465 unless given).
    Tls,
}

/// Reads `smtp://[user:password@]host[:port][?tls=required]` (port 25 when
/// not given) or `smtps://[user:password@]host[:port]` (port 465); `Err`
/// says what is wrong, without repeating the password. A password is sent
/// over plain SMTP only to the same machine: anywhere else it would cross
/// the network readable.
pub fn parse_smtp_url(text: &str) -> Result<SmtpServer, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("QMTRACK_SMTP_URL is not a URL ({e})"))?;
    let (mut security, default_port) = match url.scheme() {
        "smtp" => (SmtpSecurity::Plain, 25),
        "smtps" => (SmtpSecurity::Tls, 465),
        other => {
            return Err(format!(
                "QMTRACK_SMTP_URL must start with smtp:// or smtps:// (got {other}://)"
            ))
        }
    };
    for (name, value) in url.query_pairs() {
        match (name.as_ref(), value.as_ref(), security) {
            ("tls", "required", SmtpSecurity::Plain) => security = SmtpSecurity::StartTls,
            ("tls", "required", SmtpSecurity::Tls | SmtpSecurity::StartTls) => {}
            ("tls", other, _) => {
                return Err(format!(
                    "QMTRACK_SMTP_URL: tls={other} is not understood; tls=required asks for STARTTLS"
                ))
            }
            (other, ..) => return Err(format!("QMTRACK_SMTP_URL: the setting {other} is not understood")),
        }
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("QMTRACK_SMTP_URL names no host")?
        .to_string();
    // Percent-decoded; a `+` is itself (form decoding would make it a space).
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("v={}", s.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let credentials = match (url.username(), url.password()) {
        ("", None) => None,
        (user, password) => Some((decode(user), decode(password.unwrap_or_default()))),
    };
    // An smtp:// URL's host is text to the URL parser, addresses included.
    let same_machine = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if credentials.is_some() && security == SmtpSecurity::Plain && !same_machine {
        return Err(format!(
            "QMTRACK_SMTP_URL signs in to {host} over plain SMTP, which would send the password readable: \
             add ?tls=required (STARTTLS) or use smtps://"
        ));
    }
    Ok(SmtpServer {
        host,
        port: url.port().unwrap_or(default_port),
        credentials,
        security,
    })
}

/// One message as it goes into the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What every message signs off with.
#[derive(Debug, Clone)]
pub struct Signature {
    pub partnership: String,
    /// The service's address, without a trailing slash.
    pub base_url: String,
}

impl Signature {
    fn sign_in(&self) -> String {
        format!("{}/login", self.base_url.trim_end_matches('/'))
    }

    /// The message from its subject and paragraphs (plain text; escaped for HTML).
    fn message(&self, subject: String, paragraphs: &[String]) -> Message {
        let link = self.sign_in();
        let footer = format!(
            "You get this email from {} because you use qmtrack. You can turn each kind of email off on \
             your account page after signing in.",
            self.partnership
        );
        let mut text = String::new();
        for paragraph in paragraphs {
            text.push_str(paragraph);
            text.push_str("\n\n");
        }
        text.push_str(&format!("Sign in to see the details: {link}\n\n-- \n{footer}\n"));
        let mut html = String::from("<!DOCTYPE html>\n<html><body>\n");
        for paragraph in paragraphs {
            html.push_str(&format!("<p>{}</p>\n", escape(paragraph)));
        }
        html.push_str(&format!(
            "<p><a href=\"{}\">Sign in to see the details</a></p>\n<hr>\n<p><small>{}</small></p>\n</body></html>\n",
            escape(&link),
            escape(&footer)
        ));
        Message { subject, text, html }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn plural(count: i64, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// To the organisation's members: its award expires on `expires_on`.
pub fn renewal_due(
    sig: &Signature,
    organisation: &str,
    framework: &str,
    expires_on: NaiveDate,
    notice: i64,
) -> Message {
    sig.message(
        format!("{framework}: renewal due within {notice} days"),
        &[
            format!("{organisation}'s {framework} award expires on {}.", uk_date(expires_on)),
            "To keep it, start the renewal and send it for review before then.".to_string(),
        ],
    )
}

/// To the organisation's members: `count` items of an assessment's evidence
/// stop being valid on `valid_until`.
pub fn evidence_expiring(
    sig: &Signature,
    organisation: &str,
    framework: &str,
    count: i64,
    valid_until: NaiveDate,
) -> Message {
    sig.message(
        format!("{framework}: evidence expires on {}", uk_date(valid_until)),
        &[
            format!(
                "{} of {organisation}'s {framework} evidence stops being valid after {}.",
                plural(count, "item", "items"),
                uk_date(valid_until)
            ),
            "Replace it with current evidence so the criteria it supports stay met.".to_string(),
        ],
    )
}

/// To the organisation's members: the assessor sent the assessment back.
pub fn changes_requested(sig: &Signature, organisation: &str, framework: &str) -> Message {
    sig.message(
        format!("{framework}: the assessor has asked for changes"),
        &[
            format!("The assessor has sent {organisation}'s {framework} assessment back with feedback."),
            "Make the changes and send the assessment for review again.".to_string(),
        ],
    )
}

/// To assessors: an assessment is waiting for review.
pub fn assessment_submitted(sig: &Signature, organisation: &str, framework: &str, again: bool) -> Message {
    let how = if again {
        "sent back for review after changes"
    } else {
        "sent for review"
    };
    sig.message(
        format!("{framework}: {organisation} has sent an assessment for review"),
        &[format!("{organisation}'s {framework} assessment has been {how}.")],
    )
}

/// To the organisation's members: the award and its certificate.
pub fn certificate_issued(sig: &Signature, organisation: &str, framework: &str, expires_on: NaiveDate) -> Message {
    sig.message(
        format!("{framework}: award made and certificate issued"),
        &[
            format!(
                "{organisation} has been awarded {framework}, valid until {}.",
                uk_date(expires_on)
            ),
            "The certificate can be downloaded after signing in.".to_string(),
        ],
    )
}

/// To the organisation's contact: `count` people's training lapses on `lapses_on`.
pub fn training_lapsing(sig: &Signature, organisation: &str, count: i64, lapses_on: NaiveDate) -> Message {
    sig.message(
        format!("Training lapses on {} at {organisation}", uk_date(lapses_on)),
        &[
            format!(
                "Training held by {} at {organisation} lapses on {} unless they attend a refresher.",
                plural(count, "person", "people"),
                uk_date(lapses_on)
            ),
            "Sign in to see who, and book them on a session.".to_string(),
        ],
    )
}

/// The week's figures for the programme lead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digest {
    pub week_starting: NaiveDate,
    pub awaiting_review: i64,
    pub renewals_due: i64,
    pub training_lapsing: i64,
    pub undelivered: i64,
}

pub fn weekly_digest(sig: &Signature, digest: &Digest) -> Message {
    let mut lines = vec![
        format!("The week starting {}:", uk_date(digest.week_starting)),
        format!(
            "{} waiting for an assessor.",
            plural(digest.awaiting_review, "assessment", "assessments")
        ),
        format!(
            "{} due for renewal within 90 days.",
            plural(digest.renewals_due, "award", "awards")
        ),
        format!(
            "{} lapsing within {TRAINING_LAPSE_DAYS} days.",
            plural(digest.training_lapsing, "training completion", "training completions")
        ),
    ];
    if digest.undelivered > 0 {
        lines.push(format!(
            "{} not yet delivered: see the outbox.",
            plural(digest.undelivered, "email", "emails")
        ));
    }
    sig.message(
        format!(
            "{}: the week starting {}",
            sig.partnership,
            uk_date(digest.week_starting)
        ),
        &lines,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig() -> Signature {
        Signature {
            partnership: "Vale <Partnership>".into(),
            base_url: "https://qm.example/".into(),
        }
    }

    #[test]
    fn the_nearest_renewal_notice_reached_is_due() {
        assert_eq!(renewal_notice(120), None);
        assert_eq!(renewal_notice(91), None);
        assert_eq!(renewal_notice(90), Some(90));
        assert_eq!(renewal_notice(31), Some(90));
        assert_eq!(renewal_notice(30), Some(30));
        assert_eq!(renewal_notice(20), Some(30));
        assert_eq!(renewal_notice(7), Some(7));
        assert_eq!(renewal_notice(1), Some(7));
        assert_eq!(renewal_notice(0), None);
        assert_eq!(renewal_notice(-3), None);
    }

    #[test]
    fn retries_back_off_by_doubling_up_to_six_hours() {
        let minutes: Vec<i64> = (0..=12).map(|a| retry_delay(a).num_minutes()).collect();
        assert_eq!(minutes, [1, 1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360, 360]);
        assert_eq!(retry_delay(i64::MAX).num_minutes(), 360);
    }

    #[test]
    fn messages_link_to_sign_in_and_escape_names_in_html() {
        let m = changes_requested(&sig(), "Smith & Sons <Housing>", "DAHA");
        assert!(m.text.contains("Smith & Sons <Housing>'s DAHA assessment"));
        assert!(m.text.contains("https://qm.example/login"));
        assert!(m.html.contains("Smith &amp; Sons &lt;Housing&gt;&#39;s DAHA"));
        assert!(!m.html.contains("<Housing>"));
        assert!(m.html.contains("href=\"https://qm.example/login\""));
        assert!(m.html.contains("Vale &lt;Partnership&gt;"));
    }

    #[test]
    fn counts_read_as_english() {
        let day = NaiveDate::from_ymd_opt(2026, 5, 1).expect("date");
        assert!(training_lapsing(&sig(), "Org", 1, day)
            .text
            .contains("held by 1 person at Org"));
        assert!(training_lapsing(&sig(), "Org", 3, day)
            .text
            .contains("held by 3 people at Org"));
        assert!(evidence_expiring(&sig(), "Org", "DAHA", 2, day)
            .subject
            .contains("1 May 2026"));
        let digest = weekly_digest(
            &sig(),
            &Digest {
                week_starting: day,
                awaiting_review: 1,
                renewals_due: 0,
                training_lapsing: 12,
                undelivered: 0,
            },
        );
        assert!(digest.text.contains("1 assessment waiting"));
        assert!(digest.text.contains("0 awards due"));
        assert!(!digest.text.contains("outbox"));
    }

    #[test]
    fn smtp_urls_name_host_port_sign_in_and_protection() {
        let server = |host: &str, port, credentials: Option<(&str, &str)>, security| {
            Ok(SmtpServer {
                host: host.into(),
                port,
                credentials: credentials.map(|(u, p)| (u.into(), p.into())),
                security,
            })
        };
        assert_eq!(
            parse_smtp_url("smtp://mail.council.example"),
            server("mail.council.example", 25, None, SmtpSecurity::Plain)
        );
        assert_eq!(
            parse_smtp_url(" smtp://qm%40council:p%2Fs+s@127.0.0.1:2525 "),
            server("127.0.0.1", 2525, Some(("qm@council", "p/s+s")), SmtpSecurity::Plain)
        );
        assert_eq!(
            parse_smtp_url("smtp://qm:pw@mail.council.example:587?tls=required"),
            server("mail.council.example", 587, Some(("qm", "pw")), SmtpSecurity::StartTls)
        );
        assert_eq!(
            parse_smtp_url("smtps://qm:pw@mail.council.example"),
            server("mail.council.example", 465, Some(("qm", "pw")), SmtpSecurity::Tls)
        );
        assert_eq!(
            parse_smtp_url("smtp://qm:pw@localhost:2525"),
            server("localhost", 2525, Some(("qm", "pw")), SmtpSecurity::Plain)
        );
        assert!(parse_smtp_url("smtp://qm:pw@[::1]:2525").is_ok());
        assert!(parse_smtp_url("smtp://qm:pw@10.0.0.5:25").is_err(), "another machine");
        // A password over plain SMTP to another machine is refused, without repeating it.
        let refused = parse_smtp_url("smtp://qm:secret@mail.council.example");
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("tls=required") && !e.contains("secret")),
            "{refused:?}"
        );
        assert!(parse_smtp_url("smtp://mail.example?tls=maybe").is_err());
        assert!(parse_smtp_url("smtp://mail.example?port=2").is_err());
        assert!(parse_smtp_url("imap://x:secret@mail.example").is_err_and(|e| !e.contains("secret")));
        assert!(parse_smtp_url("mail.example").is_err());
    }

    #[test]
    fn kinds_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("nonsense"), None);
    }
}
