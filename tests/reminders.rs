//! Reminders by email, delivered to a real SMTP server: Debian's
//! python3-aiosmtpd (`tests/support/smtp_sink.py`), started by each test on
//! a free port, which writes every message it accepts to a folder the test
//! reads. The app is driven over HTTP as people would use it; the scan and
//! the sender run from the programme lead's outbox page (with the test's
//! clock), from the command line, or as the server's own background round.

mod assessment_support;
mod common;

use assessment_support::*;
use chrono::Duration;
use common::{dva_session_attended_by, location, texts, Browser, Options, TestApp};
use reqwest::StatusCode;
use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The SMTP server, stopped when dropped.
struct SmtpSink {
    port: u16,
    folder: tempfile::TempDir,
    child: Child,
}

impl SmtpSink {
    fn start() -> SmtpSink {
        SmtpSink::start_with(&[])
    }

    /// With `smtp_sink.py`'s optional arguments (TLS and a required sign-in).
    fn start_with(options: &[&str]) -> SmtpSink {
        let folder = tempfile::tempdir().expect("mail folder");
        // A port the system calls free, let go just before the server takes it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let python = std::env::var("QMTRACK_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(folder.path())
            .arg(port.to_string())
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {python} {}: {e} (install python3-aiosmtpd)", script.display()));
        let mut ready = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufReader::new(stdout).read_line(&mut ready).expect("read");
        assert_eq!(
            ready.trim(),
            "ready",
            "the SMTP server did not start (is python3-aiosmtpd installed?)"
        );
        SmtpSink { port, folder, child }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, oldest first.
    fn received(&self) -> Vec<Mail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.folder.path())
            .expect("mail folder")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                let json: Value = serde_json::from_slice(&std::fs::read(p).expect("mail")).expect("JSON");
                Mail {
                    to: json["rcpt_tos"]
                        .as_array()
                        .expect("recipients")
                        .iter()
                        .map(|t| t.as_str().unwrap_or_default().to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                    from: json["from"].as_str().unwrap_or_default().to_string(),
                    subject: json["subject"].as_str().unwrap_or_default().to_string(),
                    text: json["text"].as_str().unwrap_or_default().to_string(),
                    html: json["html"].as_str().unwrap_or_default().to_string(),
                    raw: json["raw"].as_str().unwrap_or_default().to_string(),
                }
            })
            .collect()
    }

    /// Makes the server answer every message with a temporary failure, or stop doing so.
    fn refuse(&self, refusing: bool) {
        self.flag("refuse", refusing);
    }

    /// Makes the server stop answering once it has a message, or answer again.
    fn stall(&self, stalling: bool) {
        self.flag("stall", stalling);
    }

    fn flag(&self, name: &str, on: bool) {
        let flag = self.folder.path().join(name);
        if on {
            std::fs::write(flag, b"").expect("flag");
        } else {
            std::fs::remove_file(flag).expect("flag");
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A certificate authority of the test's own and a certificate it issued
/// to 127.0.0.1 for the mail server, made with the openssl command.
struct Authority {
    folder: tempfile::TempDir,
}

impl Authority {
    fn make() -> Authority {
        let folder = tempfile::tempdir().expect("certificate folder");
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(folder.path())
                .output()
                .unwrap_or_else(|e| panic!("openssl {args:?}: {e} (install openssl)"));
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        openssl(
            &[
                &["req", "-x509"][..],
                &key,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=qmtrack test authority",
                ],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req"][..],
                &key,
                &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
            ]
            .concat(),
        );
        std::fs::write(
            folder.path().join("server.ext"),
            "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .expect("extensions");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
        Authority { folder }
    }

    fn file(&self, name: &str) -> String {
        self.folder.path().join(name).display().to_string()
    }
}

#[derive(Debug, Clone)]
struct Mail {
    to: String,
    from: String,
    subject: String,
    text: String,
    html: String,
    raw: String,
}

/// The app, configured to deliver through `sink`, without a background round.
async fn app_with(sink: &SmtpSink) -> TestApp {
    app_sending_to(sink.url(), None).await
}

/// The app, configured to deliver to the mail server at `url`, trusting the
/// certificate authorities in `authorities` besides the public ones.
async fn app_sending_to(url: String, authorities: Option<String>) -> TestApp {
    TestApp::spawn_with(Options {
        settings: vec![
            ("smtp_url", url),
            ("smtp_ca_file", authorities.unwrap_or_default()),
            ("smtp_timeout_seconds", "5".into()),
            ("smtp_from", "qmtrack@council.example".into()),
            ("reminders_every_seconds", "0".into()),
            ("public_base_url", "https://qm.council.example".into()),
        ],
        ..Options::default()
    })
    .await
}

async fn scan(lead: &Browser) -> String {
    let res = lead.submit("/outbox", "/outbox/scan", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    flash_of(lead, &location(&res)).await
}

async fn send(lead: &Browser) -> String {
    let res = lead.submit("/outbox", "/outbox/send", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    flash_of(lead, &location(&res)).await
}

/// The message the page after a form shows.
async fn flash_of(browser: &Browser, page: &str) -> String {
    let (status, body) = browser.get_text(page).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    texts(&body, "[role=alert], [role=status]").join(" ")
}

/// (recipient, subject) of each message, sorted.
fn summary(mails: &[Mail]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = mails.iter().map(|m| (m.to.clone(), m.subject.clone())).collect();
    all.sort();
    all
}

#[rocket::async_test]
async fn every_kind_of_reminder_arrives_once_with_no_casework_and_not_to_who_turned_it_off() {
    let sink = SmtpSink::start();
    let app = app_with(&sink).await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Riverside Homes", "housing_provider").await;
    let member = app.user(&lead, "m@riverside.example", "org_member", Some(org)).await;
    let quiet = app
        .user(&lead, "quiet@riverside.example", "org_member", Some(org))
        .await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    let trainer = app.user(&lead, "trainer@council.example", "training_lead", None).await;

    // One member turns every reminder off on their account page.
    let (_, body) = quiet.get_text("/account").await;
    let offered: Vec<String> = common::attrs(&body, "input[name=wanted]", "value");
    assert_eq!(
        offered,
        [
            "renewal_due",
            "evidence_expiring",
            "changes_requested",
            "certificate_issued",
            "training_lapsing"
        ]
    );
    let res = quiet.submit("/account", "/account/reminders", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = quiet.get_text("/account").await;
    assert!(common::attrs(&body, "input[name=wanted][checked]", "value").is_empty());

    // The assessment: evidence with a confidential file that stops being
    // valid on 20 March, sent for review, sent back, sent again, awarded.
    let id = enrol(&member, None, "daha").await;
    fill(&member, id, &criteria("daha", true)).await;
    let res = upload(
        &member,
        id,
        "1.2.1",
        "Safeguarding log.docx",
        samples::docx("Confidential casework about a named survivor"),
        &[
            ("valid_until", "2026-03-20"),
            ("title", "Confidential safeguarding log"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(submit(&member, id).await.status(), StatusCode::SEE_OTHER);
    let first = criteria("daha", true)[0].clone();
    let res = decide(
        &assessor,
        id,
        &[(&first, "not_met", "Secret feedback about the refuge")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = assessor
        .submit(
            &format!("/assessments/{id}/review"),
            &format!("/assessments/{id}/request-changes"),
            &[("note", "Private note on the case")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(submit(&member, id).await.status(), StatusCode::SEE_OTHER);
    meet_all(&assessor, id, &criteria("daha", false)).await;
    assert_eq!(award(&lead, id, "2026-03-02").await.status(), StatusCode::SEE_OTHER);

    // Training held by a Riverside person lapses on 10 April 2026, within 60 days.
    dva_session_attended_by(&trainer, "10/04/2023", &[("Pat Trainee", org)]).await;

    // Before anything is sent, the programme lead sees the queue.
    let queued_by_scan = scan(&lead).await;
    assert!(queued_by_scan.contains("3 reminders were queued"), "{queued_by_scan}");
    let (_, body) = lead.get_text("/outbox").await;
    let waiting = texts(&body, "#outbox tbody tr");
    assert_eq!(waiting.len(), 7, "{waiting:?}");
    assert!(sink.received().is_empty());

    // Delivered: each once. Sending again and scanning again change nothing.
    assert!(send(&lead).await.contains("7 sent"));
    assert!(send(&lead).await.contains("0 sent"));
    assert!(scan(&lead).await.contains("No new reminders"));
    assert!(send(&lead).await.contains("0 sent"));
    let mails = sink.received();
    let member_address = "m@riverside.example".to_string();
    let assessor_address = "a@council.example".to_string();
    assert_eq!(
        summary(&mails),
        [
            (
                assessor_address.clone(),
                "DAHA accreditation: Riverside Homes has sent an assessment for review".into()
            ),
            (
                assessor_address,
                "DAHA accreditation: Riverside Homes has sent an assessment for review".into()
            ),
            (
                "jo@example.org".into(),
                "Training lapses on 10 April 2026 at Riverside Homes".into()
            ),
            (
                "lead@council.example".into(),
                "Domestic Abuse Partnership: the week starting 2 March 2026".into()
            ),
            (
                member_address.clone(),
                "DAHA accreditation: award made and certificate issued".into()
            ),
            (
                member_address.clone(),
                "DAHA accreditation: evidence expires on 20 March 2026".into()
            ),
            (
                member_address.clone(),
                "DAHA accreditation: the assessor has asked for changes".into()
            ),
        ]
    );
    let submitted: Vec<&Mail> = mails.iter().filter(|m| m.to == "a@council.example").collect();
    assert!(
        submitted[0].text.contains("has been sent for review."),
        "{}",
        submitted[0].text
    );
    assert!(
        submitted[1].text.contains("sent back for review after changes"),
        "{}",
        submitted[1].text
    );
    let digest = mails.iter().find(|m| m.to == "lead@council.example").expect("digest");
    assert!(
        digest.text.contains("0 assessments waiting for an assessor"),
        "{}",
        digest.text
    );
    assert!(digest.text.contains("1 training completion lapsing"), "{}", digest.text);

    for mail in &mails {
        assert_eq!(mail.from, "qmtrack@council.example");
        assert!(mail.text.contains("https://qm.council.example/login"), "{}", mail.text);
        assert!(
            mail.html.contains("href=\"https://qm.council.example/login\""),
            "{}",
            mail.html
        );
        assert!(mail.raw.contains("multipart/alternative"), "plain text and HTML");
        for secret in [
            "Confidential",
            "survivor",
            "Safeguarding log",
            "Secret feedback",
            "Private note",
            "We do this",
            "Our approach",
            "Pat Trainee",
        ] {
            assert!(!mail.raw.contains(secret), "{secret} in {}", mail.raw);
            assert!(
                !mail.text.contains(secret) && !mail.html.contains(secret),
                "{secret} in {}",
                mail.subject
            );
        }
    }
    assert!(mails.iter().all(|m| m.to != "quiet@riverside.example"));
    let (_, body) = lead.get_text("/outbox?status=sent").await;
    assert_eq!(texts(&body, "#outbox tbody tr").len(), 7);

    // 60 days before the award expires (2 March 2029): the 90-day renewal
    // notice, once, and the new week's digest.
    let people = [(&lead, "lead@council.example")];
    assessment_support::time_passes(&app, Duration::days(1036), &people).await;
    assert!(scan(&lead).await.contains("2 reminders were queued"));
    assert!(scan(&lead).await.contains("No new reminders"));
    assert!(send(&lead).await.contains("2 sent"));
    let later: Vec<Mail> = sink.received().into_iter().skip(mails.len()).collect();
    assert_eq!(
        summary(&later),
        [
            (
                "lead@council.example".to_string(),
                "Domestic Abuse Partnership: the week starting 1 January 2029".to_string()
            ),
            (
                member_address.clone(),
                "DAHA accreditation: renewal due within 90 days".into()
            ),
        ]
    );
    assert!(later[..].iter().any(|m| m
        .text
        .contains("Riverside Homes's DAHA accreditation award expires on 2 March 2029")));

    // 25 days before: the 30-day notice; 5 days before: the 7-day one (each
    // sent in the round after its scan, as the server's own round does).
    assessment_support::time_passes(&app, Duration::days(35), &people).await;
    scan(&lead).await;
    send(&lead).await;
    assessment_support::time_passes(&app, Duration::days(20), &people).await;
    scan(&lead).await;
    send(&lead).await;
    let renewals: Vec<String> = sink
        .received()
        .into_iter()
        .filter(|m| m.subject.contains("renewal due"))
        .map(|m| format!("{} {}", m.to, m.subject))
        .collect();
    assert_eq!(
        renewals,
        [
            "m@riverside.example DAHA accreditation: renewal due within 90 days",
            "m@riverside.example DAHA accreditation: renewal due within 30 days",
            "m@riverside.example DAHA accreditation: renewal due within 7 days",
        ]
    );
}

#[rocket::async_test]
async fn two_senders_at_once_deliver_each_message_once() {
    let sink = SmtpSink::start();
    let app = app_with(&sink).await;
    let lead = app.programme_lead().await;
    let trainer = app.user(&lead, "trainer@council.example", "training_lead", None).await;
    let mut register = Vec::new();
    let mut names = Vec::new();
    for n in 1..=24 {
        names.push(format!("Organisation {n:02}"));
    }
    for name in &names {
        register.push(app.organisation(&lead, name, "housing_provider").await);
    }
    let people: Vec<String> = (1..=24).map(|n| format!("Person {n:02}")).collect();
    let attendees: Vec<(&str, i64)> = people
        .iter()
        .map(|p| p.as_str())
        .zip(register.iter().copied())
        .collect();
    dva_session_attended_by(&trainer, "10/04/2023", &attendees).await;
    assert!(scan(&lead).await.contains("25 reminders were queued"));

    // Two senders at once (two requests: two claims racing on the database).
    let other = lead.clone();
    let (a, b) = rocket::tokio::join!(send(&lead), send(&other));
    let sent = |flash: &str| -> usize {
        flash
            .split_whitespace()
            .zip(flash.split_whitespace().skip(1))
            .find(|(_, w)| w.starts_with("sent"))
            .and_then(|(n, _)| n.parse().ok())
            .unwrap_or_else(|| panic!("no count in {flash}"))
    };
    assert_eq!(sent(&a) + sent(&b), 25, "{a} / {b}");
    let mails = sink.received();
    assert_eq!(mails.len(), 25);
    let mut subjects: Vec<String> = mails.iter().map(|m| m.subject.clone()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 25, "each message once: {subjects:?}");
    for name in &names {
        assert!(subjects.contains(&format!("Training lapses on 10 April 2026 at {name}")));
    }
}

#[rocket::async_test]
async fn a_failing_mail_server_is_tried_again_with_back_off_and_nothing_is_lost() {
    let sink = SmtpSink::start();
    let app = app_with(&sink).await;
    let lead = app.programme_lead().await;
    sink.refuse(true);
    assert!(scan(&lead).await.contains("1 reminder was queued"));

    // Refused: recorded with the server's answer, due again in a minute.
    assert!(send(&lead).await.contains("0 sent; 1 could not be delivered"));
    let (_, body) = lead.get_text("/outbox?status=failed").await;
    let error = texts(&body, "#outbox .qm-last-error").join(" ");
    assert!(error.contains("451") || error.contains("Mailbox busy"), "{error}");
    assert_eq!(texts(&body, "#outbox tbody tr td:nth-child(6)"), ["1"]);
    assert!(send(&lead).await.contains("0 sent"), "not due again yet");

    // A minute on: tried again, refused again; now it waits two minutes.
    app.clock.advance(Duration::seconds(61));
    assert!(send(&lead).await.contains("1 could not be delivered"));
    app.clock.advance(Duration::seconds(61));
    assert!(send(&lead).await.contains("0 sent"), "backing off");
    let (_, body) = lead.get_text("/outbox?status=failed").await;
    assert_eq!(texts(&body, "#outbox tbody tr td:nth-child(6)"), ["2"]);
    assert!(sink.received().is_empty());

    // The server recovers: delivered once, and no longer failing.
    sink.refuse(false);
    app.clock.advance(Duration::seconds(61));
    assert!(send(&lead).await.contains("1 sent"));
    assert!(send(&lead).await.contains("0 sent"));
    let mails = sink.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "lead@council.example");
    let (_, body) = lead.get_text("/outbox?status=failed").await;
    assert!(texts(&body, "#outbox tbody tr").is_empty());
}

#[rocket::async_test]
async fn a_mail_service_is_reached_over_tls_with_its_certificate_checked_before_the_sign_in() {
    let authority = Authority::make();
    let (cert, key) = (authority.file("server.pem"), authority.file("server.key"));
    for (mode, url) in [
        ("starttls", "smtp://qm%40council:s3cret@127.0.0.1:{port}?tls=required"),
        ("tls", "smtps://qm%40council:s3cret@127.0.0.1:{port}"),
    ] {
        let sink = SmtpSink::start_with(&[mode, &cert, &key, "qm@council", "s3cret"]);
        let url = url.replace("{port}", &sink.port.to_string());

        // Trusting only the public authorities, qmtrack will not talk to a
        // server whose certificate they did not issue: nothing is sent.
        let app = app_sending_to(url.clone(), None).await;
        let lead = app.programme_lead().await;
        assert!(scan(&lead).await.contains("1 reminder was queued"));
        assert!(send(&lead).await.contains("0 sent; 1 could not be delivered"), "{mode}");
        let (_, body) = lead.get_text("/outbox?status=failed").await;
        let error = texts(&body, "#outbox .qm-last-error").join(" ");
        assert!(error.to_lowercase().contains("certificate"), "{mode}: {error}");
        assert!(sink.received().is_empty());

        // Trusting the council's own authority: signed in over TLS and delivered.
        let app = app_sending_to(url.clone(), Some(authority.file("ca.pem"))).await;
        let lead = app.programme_lead().await;
        assert!(scan(&lead).await.contains("1 reminder was queued"));
        assert!(send(&lead).await.contains("1 sent"), "{mode}");
        let mails = sink.received();
        assert_eq!(mails.len(), 1, "{mode}");
        assert_eq!(mails[0].to, "lead@council.example");
    }
}

#[rocket::async_test]
async fn a_mail_server_setting_that_would_expose_a_password_is_refused() {
    let app = app_sending_to("smtp://qm:s3cret@mail.council.example".into(), None).await;
    let lead = app.programme_lead().await;
    assert!(scan(&lead).await.contains("1 reminder was queued"));
    // Said on the outbox page, without the password; the reminder waits.
    let said = send(&lead).await;
    assert!(said.contains("nothing was sent"), "{said}");
    assert!(said.contains("tls=required") && !said.contains("s3cret"), "{said}");
    let (_, body) = lead.get_text("/outbox").await;
    assert_eq!(texts(&body, "#outbox tbody tr").len(), 1, "still waiting");
}

#[rocket::async_test]
async fn a_mail_server_that_stops_answering_does_not_hold_up_the_round() {
    let sink = SmtpSink::start();
    let app = app_with(&sink).await;
    let lead = app.programme_lead().await;
    sink.stall(true);
    assert!(scan(&lead).await.contains("1 reminder was queued"));
    // Given up on after the app's limit (5 s here), and kept for its next try.
    let started = std::time::Instant::now();
    assert!(send(&lead).await.contains("0 sent; 1 could not be delivered"));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let (_, body) = lead.get_text("/outbox?status=failed").await;
    let error = texts(&body, "#outbox .qm-last-error").join(" ");
    assert!(error.contains("did not take the message within 5 s"), "{error}");

    sink.stall(false);
    app.clock.advance(Duration::seconds(61));
    assert!(send(&lead).await.contains("1 sent"));
    assert_eq!(sink.received().len(), 1);
}

#[rocket::async_test]
async fn a_reminder_not_sent_within_a_fortnight_is_withdrawn_not_sent_late() {
    let sink = SmtpSink::start();
    let app = app_with(&sink).await;
    let lead = app.programme_lead().await;
    sink.refuse(true);
    assert!(scan(&lead).await.contains("1 reminder was queued"));
    assert!(send(&lead).await.contains("1 could not be delivered"));

    // Still failing after 13 days: kept, and tried again.
    let people = [(&lead, "lead@council.example")];
    assessment_support::time_passes(&app, Duration::days(13), &people).await;
    assert!(send(&lead).await.contains("1 could not be delivered"));

    // The server is back after more than a fortnight: the digest of a week
    // long gone is withdrawn, not sent late.
    assessment_support::time_passes(&app, Duration::days(2), &people).await;
    sink.refuse(false);
    let flash = send(&lead).await;
    assert!(
        flash.contains("0 sent.") && flash.contains("1 was out of date and withdrawn unsent"),
        "{flash}"
    );
    assert!(sink.received().is_empty());
    let (_, body) = lead.get_text("/outbox?status=withdrawn").await;
    let rows = texts(&body, "#outbox tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("the week starting 2 March 2026"), "{rows:?}");
    assert_eq!(
        texts(&body, "#outbox .qm-withdrawn-reason"),
        ["Out of date: not sent within 14 days of being queued"]
    );
    let tabs = texts(&body, "nav[aria-label=Outbox] li").join(" | ");
    assert!(
        tabs.contains("Waiting (0)") && tabs.contains("Failing (0)") && tabs.contains("Withdrawn (1)"),
        "{tabs}"
    );

    // This week's digest is queued as usual and sent; the withdrawn one never is.
    assert!(scan(&lead).await.contains("1 reminder was queued"));
    assert!(send(&lead).await.contains("1 sent."));
    let mails = sink.received();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains("16 March 2026"), "{}", mails[0].subject);
}

#[rocket::async_test]
async fn nothing_is_sent_without_a_mail_server_and_the_lead_sees_what_would_have_gone() {
    let app = TestApp::spawn_with(Options {
        settings: vec![("reminders_every_seconds", "0".into())],
        ..Options::default()
    })
    .await;
    let lead = app.programme_lead().await;
    let (_, body) = lead.get_text("/outbox").await;
    assert!(common::page_text(&body).contains("No mail server is configured, so nothing is sent"));
    assert!(body.contains("/outbox/scan") && !body.contains("/outbox/send"));
    scan(&lead).await;
    let res = lead.submit("/outbox", "/outbox/send", &[]).await;
    assert_eq!(location(&res), "/outbox");
    let (_, body) = lead.get_text("/outbox").await;
    let rows = texts(&body, "#outbox tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("lead@council.example") && rows[0].contains("the week starting 2 March 2026"));

    // Only the programme lead sees the outbox.
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    assert_eq!(assessor.get("/outbox").await.status(), StatusCode::FORBIDDEN);
    let res = assessor.submit("/account", "/outbox/scan", &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[rocket::async_test]
async fn the_command_line_and_the_servers_own_round_scan_and_send() {
    let sink = SmtpSink::start();
    // The server's round, every second: the digest arrives with no one asking.
    let app = TestApp::spawn_with(Options {
        settings: vec![
            ("smtp_url", sink.url()),
            ("smtp_from", "qmtrack@council.example".into()),
            ("reminders_every_seconds", "1".into()),
        ],
        ..Options::default()
    })
    .await;
    let _lead = app.programme_lead().await;
    let mut waited = 0;
    while sink.received().is_empty() && waited < 100 {
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    let mails = sink.received();
    assert_eq!(mails.len(), 1, "the background round delivered the digest");
    assert_eq!(mails[0].to, "lead@council.example");

    // The command line, on the system clock: this week's digest (unless
    // the test's week is this week), then nothing more on a second run.
    let out = common::qmtrack(&app, &["reminders", "send"]);
    assert!(!out.status.success(), "no mail server in its environment");
    assert!(String::from_utf8_lossy(&out.stderr).contains("QMTRACK_SMTP_URL"));
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_qmtrack"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("QMTRACK_DATABASE_URL", &app.database_url)
            .env("QMTRACK_DATA_DIR", &app.data_dir)
            .env("QMTRACK_SMTP_URL", sink.url())
            .env("QMTRACK_SMTP_FROM", "qmtrack@council.example")
            .env("QMTRACK_LOG", "warn")
            .output()
            .expect("run qmtrack");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(run(&["reminders", "scan"]).trim(), "1 reminders queued");
    assert_eq!(run(&["reminders", "scan"]).trim(), "0 reminders queued");
    let sent = run(&["reminders", "send"]);
    let mails = sink.received();
    assert_eq!(mails.len(), 2, "{sent}");
    assert!(mails[1].subject.contains("the week starting"));
    assert_ne!(mails[0].subject, mails[1].subject);
}
