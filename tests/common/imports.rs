//! Importing sign-in sheets as a training lead would: uploading and
//! committing in the browser, or running `qmtrack import-attendance`.

use super::{Browser, TestApp};
use reqwest::StatusCode;
use serde_json::Value;
use std::process::{Command, Output};

/// Uploads a sheet as a person would, returning the response to the upload.
pub async fn upload(browser: &Browser, file_name: &str, bytes: Vec<u8>, fields: &[(&str, &str)]) -> reqwest::Response {
    upload_to(
        browser,
        "/training/imports",
        "/training/imports",
        file_name,
        bytes,
        fields,
    )
    .await
}

/// Posts a file with `fields` to `path` as the upload form there would,
/// with the CSRF token of `token_page`.
pub async fn upload_to(
    browser: &Browser,
    token_page: &str,
    path: &str,
    file_name: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = browser.csrf_token(token_page).await;
    let mut form = reqwest::multipart::Form::new().text("csrf_token", token).part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string()),
    );
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    browser
        .client
        .post(format!("{}{path}", browser.base))
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

/// Waits for an import's background work to finish and returns its page.
pub async fn finished(browser: &Browser, import_path: &str) -> String {
    for _ in 0..400 {
        let (_, body) = browser.get_text(import_path).await;
        if !body.contains("Importing") {
            return body;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the import did not finish");
}

/// Commits an uploaded import and waits for the background work to finish.
pub async fn commit(browser: &Browser, import_path: &str) -> String {
    let res = browser.submit(import_path, &format!("{import_path}/commit"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    finished(browser, import_path).await
}

/// Runs the `qmtrack` binary against the test app's database.
pub fn qmtrack(app: &TestApp, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qmtrack"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("QMTRACK_DATABASE_URL", &app.database_url)
        .env("QMTRACK_DATA_DIR", &app.data_dir)
        .env("QMTRACK_LOG", "warn")
        .output()
        .expect("run qmtrack")
}

pub fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "not JSON: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}
