//! Pages rendered from the Tera templates in the `template_dir` folder
//! (`templates` unless Rocket's configuration says otherwise), each named
//! by its path without `.html.tera`: `templates/training/programme.html.tera`
//! is `training/programme`.
//!
//! The context a handler builds (a `serde_json::Value`) goes to Tera as it
//! is. rocket_dyn_templates, used before, turned it into figment's value
//! when a page was made and back into JSON when it was sent: two copies of
//! every page's data, an eighth of the server's processor time under load.

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::{Build, Rocket};
use serde_json::Value;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use tera::Tera;

/// Every template, loaded once at start.
pub struct Templates(Tera);

/// What template files end with; the rest of the path is the name.
const SUFFIX: &str = ".html.tera";

impl Templates {
    /// Loads every `*.html.tera` file under `dir`, with the shared filters.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let mut files = Vec::new();
        collect(dir, dir, &mut files).map_err(|e| format!("cannot read the templates in {}: {e}", dir.display()))?;
        if files.is_empty() {
            return Err(format!("no templates (*{SUFFIX}) in {}", dir.display()));
        }
        let mut tera = Tera::default();
        tera.autoescape_on(vec![SUFFIX]);
        super::filters::register(&mut tera);
        tera.add_template_files(files)
            .map_err(|e| format!("the templates in {} do not load: {}", dir.display(), chain(&e)))?;
        Ok(Templates(tera))
    }

    /// The page `name` with `context` (a JSON object).
    pub fn render(&self, name: &str, context: Value) -> Result<String, String> {
        let context = tera::Context::from_value(context).map_err(|e| chain(&e))?;
        self.0.render(name, &context).map_err(|e| chain(&e))
    }
}

/// `dir`'s template files, recursively, each with its name.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(PathBuf, Option<String>)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
            continue;
        }
        let Ok(relative) = path.strip_prefix(root) else {
            continue;
        };
        let relative = relative.to_string_lossy().replace('\\', "/");
        if let Some(name) = relative.strip_suffix(SUFFIX) {
            let name = name.to_string();
            files.push((path, Some(name)));
        }
    }
    Ok(())
}

/// A Tera error with its causes: the first line alone ("Failed to render
/// 'x'") does not say what went wrong.
fn chain(error: &tera::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// Loads the templates when the server starts; refuses to start without them.
pub struct TemplatesFairing;

#[rocket::async_trait]
impl Fairing for TemplatesFairing {
    fn info(&self) -> Info {
        Info {
            name: "Templates",
            kind: Kind::Ignite,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let dir: PathBuf = rocket
            .figment()
            .extract_inner::<rocket::figment::value::magic::RelativePathBuf>("template_dir")
            .map(|dir| dir.relative())
            .unwrap_or_else(|_| PathBuf::from("templates"));
        match Templates::load(&dir) {
            Ok(templates) => Ok(rocket.manage(templates)),
            Err(e) => {
                tracing::error!("{e}");
                Err(rocket)
            }
        }
    }
}

/// A page to send: a template's name and its context.
pub struct Template {
    name: Cow<'static, str>,
    context: Value,
}

impl Template {
    pub fn render(name: impl Into<Cow<'static, str>>, context: Value) -> Self {
        Template {
            name: name.into(),
            context,
        }
    }
}

impl<'r> Responder<'r, 'static> for Template {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let Some(templates) = req.rocket().state::<Templates>() else {
            tracing::error!("the templates were not loaded");
            return Err(Status::InternalServerError);
        };
        let Template { name, context } = self;
        match templates.render(&name, context) {
            Ok(html) => (ContentType::HTML, html).respond_to(req),
            Err(e) => {
                tracing::error!(template = %name, "a page could not be rendered: {e}");
                Err(Status::InternalServerError)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn templates(files: &[(&str, &str)]) -> Result<Templates, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        for (name, text) in files {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            std::fs::write(path, text).map_err(|e| e.to_string())?;
        }
        Templates::load(dir.path())
    }

    #[test]
    fn templates_are_named_by_their_path_without_the_suffix_and_escape_html() {
        let loaded = templates(&[
            ("base.html.tera", "<main>{% block content %}{% endblock %}</main>"),
            (
                "training/page.html.tera",
                "{% extends \"base\" %}{% block content %}{{ name }} on {{ day | uk_date }}{% endblock %}",
            ),
            ("notes.txt", "not a template"),
        ])
        .expect("loads");
        let html = loaded
            .render("training/page", json!({"name": "<b>Ann</b>", "day": "2026-03-03"}))
            .expect("renders");
        assert_eq!(html, "<main>&lt;b&gt;Ann&lt;&#x2F;b&gt; on 3 March 2026</main>");
        assert!(loaded.render("notes", json!({})).is_err());
    }

    #[test]
    fn a_broken_template_or_an_empty_folder_is_refused_with_the_reason() {
        let broken = templates(&[("page.html.tera", "{% if %}")]).err().unwrap_or_default();
        assert!(broken.contains("page"), "{broken}");
        let empty = templates(&[]).err().unwrap_or_default();
        assert!(empty.contains("no templates"), "{empty}");
    }

    #[test]
    fn a_missing_value_is_an_error_that_says_which() {
        let loaded = templates(&[("page.html.tera", "{{ missing.name }}")]).expect("loads");
        let error = loaded.render("page", json!({})).err().unwrap_or_default();
        assert!(error.contains("missing"), "{error}");
    }
}
