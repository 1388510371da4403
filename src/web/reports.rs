//! The programme lead's dashboard, the board report in every format,
//! published reports, and each organisation's own progress report.

use super::auth::CurrentUser;
use super::csrf::{CsrfForm, ReasonForm};
use super::date_field::DateField;
use super::templates::{Template, Templates};
use super::{AppState, Page, SignedIn};
use crate::db::audit::{self, Entry};
use crate::db::{organisations, published, Db};
use crate::domain::report::chart::{svg, text_alternative};
use crate::domain::report::{render, Format, Period, Preset, Records, Report};
use crate::error::{AppError, AppResult};
use crate::reports::{build_for_organisation, build_shared, Scope, Sources};
use rocket::form::FromForm;
use rocket::http::{ContentType, Header};
use rocket::response::{Flash, Redirect, Responder};
use rocket::{get, post, routes, Route};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, Weak};

pub fn routes() -> Vec<Route> {
    routes![
        dashboard,
        section_page,
        download,
        publish_page,
        publish,
        published_list,
        published_show,
        published_file,
        withdraw,
        organisation_report,
    ]
}

/// A file sent as an attachment: a report, the register, a certificate or a zip of them.
/// (`X-Content-Type-Options: nosniff` comes with every response, from
/// [`super::headers`]; set here too, Rocket's Shield logged a warning for each file.)
#[derive(Responder)]
pub struct ReportFile {
    body: Vec<u8>,
    content_type: ContentType,
    disposition: Header<'static>,
}

pub fn attachment(body: Vec<u8>, content_type: &str, file_name: String) -> ReportFile {
    ReportFile {
        body,
        content_type: ContentType::parse_flexible(content_type).unwrap_or(ContentType::Binary),
        disposition: Header::new("Content-Disposition", format!("attachment; filename=\"{file_name}\"")),
    }
}

fn lead_only(user: &CurrentUser) -> AppResult<()> {
    user.require(|a| a.is_programme_lead())
}

/// Today in the partnership's time zone, as every page counts it.
fn today(state: &AppState) -> chrono::NaiveDate {
    state.clock.today()
}

/// The period asked for: a preset, or two dates, or this financial year.
pub(super) fn chosen_period(
    state: &AppState,
    preset: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> (Period, Option<Preset>, Option<String>) {
    let today = today(state);
    if let (Some(from), Some(to)) = (from.filter(|f| !f.is_empty()), to.filter(|t| !t.is_empty())) {
        return match Period::parse(from, to) {
            Ok(period) => (period, None, None),
            Err(message) => (Preset::FinancialYear.period(today), None, Some(message)),
        };
    }
    let preset = preset.and_then(Preset::parse).unwrap_or(Preset::FinancialYear);
    (preset.period(today), Some(preset), None)
}

/// The period picker's radio buttons.
pub(super) fn preset_choices(today: chrono::NaiveDate, chosen: Option<Preset>) -> Vec<Value> {
    Preset::ALL
        .into_iter()
        .map(|p| json!({"value": p.as_str(), "label": p.label(), "period": p.period(today).label(), "selected": Some(p) == chosen}))
        .collect()
}

fn records_link(records: &Records) -> String {
    match records {
        Records::Assessments { framework, state } => format!("/assessments?framework={framework}&state={state}"),
        Records::ReviewQueue => "/reviews".into(),
        Records::Programme { programme } => format!("/training/programmes/{programme}"),
        Records::ProgrammeOrganisations { programme } => format!("/training/programmes/{programme}/organisations"),
        Records::Sessions { programme } => format!("/training/sessions?programme={programme}"),
        Records::Cohort { id } => format!("/training/cohorts/{id}"),
    }
}

/// How many names a figure lists on a page. The downloads list them all; a
/// page names the first few and how many more, since a large partnership's
/// "organisations reached" runs to thousands of names (1.5 MB of HTML on
/// every view of the dashboard), and the figure links to the full list.
const ITEMS_ON_A_PAGE: usize = 20;

/// The report as a template sees it: sections, groups with their chart
/// (SVG and text alternative) and figures with their links.
pub fn report_view(report: &Report, narrative: &BTreeMap<String, String>, links: bool) -> Value {
    let sections: Vec<Value> = report
        .sections
        .iter()
        .enumerate()
        .map(|(number, section)| {
            let groups: Vec<Value> = section
                .groups
                .iter()
                .enumerate()
                .map(|(index, group)| {
                    let figures: Vec<Value> = group
                        .figures
                        .iter()
                        .map(|f| {
                            let shown = &f.items[..f.items.len().min(ITEMS_ON_A_PAGE)];
                            json!({
                                "id": f.id, "label": f.label, "value": f.value, "previous": f.previous,
                                "change": f.change(), "items": shown, "more": f.items.len() - shown.len(),
                                "link": if links { f.records.as_ref().map(records_link) } else { None },
                            })
                        })
                        .collect();
                    let chart = (group.chart && !group.figures.is_empty())
                        .then(|| svg(group, &format!("chart-{}-{}", number + 1, index + 1)));
                    json!({
                        "number": format!("{}.{}", number + 1, index + 1),
                        "title": group.title,
                        "chart": chart,
                        "alt": text_alternative(group),
                        "figures": figures,
                    })
                })
                .collect();
            json!({
                "number": number + 1, "id": section.id, "title": section.title, "groups": groups,
                "notes": section.notes,
                "narrative": narrative.get(&section.id).map(|t| t.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>()).unwrap_or_default(),
            })
        })
        .collect();
    json!({
        "title": report.title,
        "organisation": report.organisation,
        "period": {"from": report.period.from, "to": report.period.to, "label": report.period.label()},
        "previous_period": {"from": report.previous_period.from, "to": report.previous_period.to, "label": report.previous_period.label()},
        "sections": sections,
    })
}

/// Groups with more figures than this (a breakdown by locality, a long
/// list of cohorts) are a link on the dashboard, to their section's own
/// page: the dashboard is the summary a programme lead reads at a glance,
/// and drawing every breakdown made it 400 KB on each view.
const DASHBOARD_GROUP_FIGURES: usize = 10;

/// The dashboard's view of a report: [`report_view`] with each large group
/// replaced by its title, how many figures it has and a link to it on its
/// section's page ([`section_page`]).
fn dashboard_view(report: &Report) -> Value {
    let mut view = report_view(report, &BTreeMap::new(), true);
    let query = period_query(report.period);
    for (section, source) in view["sections"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .zip(&report.sections)
    {
        for (group, figures) in section["groups"]
            .as_array_mut()
            .into_iter()
            .flatten()
            .zip(source.groups.iter().map(|g| g.figures.len()))
        {
            if figures > DASHBOARD_GROUP_FIGURES {
                let number = group["number"].clone();
                *group = json!({
                    "number": number, "title": group["title"], "count": figures,
                    "href": format!("/reports/sections/{}?{query}#group-{}", source.id, number.as_str().unwrap_or_default()),
                });
            }
        }
    }
    view
}

fn period_query(period: Period) -> String {
    format!("from={}&to={}", period.from, period.to)
}

fn sources<'a>(db: &'a Db, state: &'a AppState) -> Sources<'a> {
    Sources {
        pool: db,
        standards: &state.standards,
        programmes: &state.programmes,
        renewal_notice_days: state.config.renewal_notice_days,
    }
}

/// The partnership's report, computed once for the data as it stands (see
/// [`crate::app::figures`]).
async fn partnership_report(db: &Db, state: &AppState, period: Period) -> AppResult<Arc<Report>> {
    Ok(build_shared(&state.figures, sources(db, state), period, &Scope::default()).await?)
}

/// How many reports' figures [`figures_html`] keeps: the presets and a few
/// chosen periods of the data as it stands.
const FIGURES_HTML_KEPT: usize = 8;

/// The figures' HTML of the reports shown lately, by report. A report is
/// shared unchanged by everyone who asks until the data changes (see
/// [`crate::app::figures`]), and so are its figures' tables and charts:
/// hundreds of rows that took most of the dashboard's time to render on
/// each view. Held by a weak reference, so an entry goes with its report.
static FIGURES_HTML: Mutex<VecDeque<(Weak<Report>, Arc<String>)>> = Mutex::new(VecDeque::new());

/// The `reports/figures` template for `report` with links to the records,
/// rendered once for each report.
fn figures_html(templates: &Templates, report: &Arc<Report>) -> AppResult<Arc<String>> {
    let same = |(kept, _): &&(Weak<Report>, Arc<String>)| kept.upgrade().is_some_and(|r| Arc::ptr_eq(&r, report));
    // A panic elsewhere while the lock was held leaves the list intact.
    let lock = || FIGURES_HTML.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, html)) = lock().iter().find(same) {
        return Ok(html.clone());
    }
    let context = json!({"report": dashboard_view(report)});
    let html = Arc::new(
        templates
            .render("reports/figures", context)
            .map_err(|e| AppError::Internal(format!("the report's figures could not be rendered: {e}")))?,
    );
    let mut kept = lock();
    kept.retain(|(report, _)| report.strong_count() > 0);
    while kept.len() >= FIGURES_HTML_KEPT {
        kept.pop_front();
    }
    kept.push_back((Arc::downgrade(report), html.clone()));
    Ok(html)
}

/// The dashboard (also the programme lead's home page, where `attention`
/// lists what needs doing above the figures).
pub async fn dashboard_page(
    page: &Page<'_>,
    templates: &Templates,
    db: &Db,
    state: &AppState,
    query: PeriodQuery<'_>,
    attention: impl std::future::Future<Output = AppResult<Option<Value>>>,
) -> AppResult<Template> {
    let PeriodQuery { preset, from, to } = query;
    let (from, to) = (from.unwrap_or_default(), to.unwrap_or_default());
    let (period, chosen, error) = chosen_period(state, preset, Some(&from.text()), Some(&to.text()));
    // Neither waits for the other's statements.
    let (report, attention) = rocket::tokio::try_join!(partnership_report(db, state, period), attention)?;
    let today = today(state);
    let presets = preset_choices(today, chosen);
    let query = period_query(period);
    let formats: Vec<Value> = Format::ALL
        .into_iter()
        .map(|f| json!({"href": format!("/reports/board.{}?{query}", f.as_str()), "label": f.label()}))
        .collect();
    let errors: Vec<Value> = error
        .iter()
        .map(|message| json!({"field": "from", "message": message}))
        .collect();
    Ok(page.render(
        "reports/dashboard",
        json!({
            "title": "Dashboard",
            "section": "home",
            "report": {"period": {"label": report.period.label()}, "previous_period": {"label": report.previous_period.label()}},
            "figures_html": figures_html(templates, &report)?.as_str(),
            "presets": presets,
            "custom": chosen.is_none(),
            "values": {"from": from.echo(), "to": to.echo()},
            "errors": errors,
            "field_errors": if let Some(m) = &error { json!({"from": m}) } else { json!({}) },
            "formats": formats,
            "publish_href": format!("/reports/publish?{query}"),
            "attention": attention,
        }),
    ))
}

/// The dashboard's period as the query asks for it (`?preset=…`, or
/// `?from=…&to=…` with each date whole or in parts), on `/` and `/reports`.
#[derive(FromForm)]
pub struct PeriodQuery<'r> {
    preset: Option<&'r str>,
    from: Option<DateField>,
    to: Option<DateField>,
}

impl PeriodQuery<'_> {
    /// The preset, and each date as typed (whole, or joined from its parts)
    /// with how the form shows it again.
    pub(super) fn parts(&self) -> (Option<&str>, (String, Value), (String, Value)) {
        let date = |field: &Option<DateField>| {
            let field = field.clone().unwrap_or_default();
            (field.text(), field.echo())
        };
        (self.preset, date(&self.from), date(&self.to))
    }
}

#[get("/reports?<query..>")]
async fn dashboard(
    query: PeriodQuery<'_>,
    templates: &rocket::State<Templates>,
    signed_in: SignedIn<'_>,
) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    lead_only(user)?;
    dashboard_page(&page, templates, db, state, query, async { Ok(None) }).await
}

/// One section of the partnership's report with every group in full: where
/// the dashboard's links to its large breakdowns lead.
#[get("/reports/sections/<id>?<query..>")]
async fn section_page(id: &str, query: PeriodQuery<'_>, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    lead_only(user)?;
    let PeriodQuery { preset, from, to } = query;
    let (from, to) = (from.unwrap_or_default(), to.unwrap_or_default());
    let (period, _, _) = chosen_period(state, preset, Some(&from.text()), Some(&to.text()));
    let report = partnership_report(db, state, period).await?;
    let mut view = report_view(&report, &BTreeMap::new(), true);
    let section = view["sections"]
        .as_array_mut()
        .and_then(|sections| sections.iter_mut().find(|s| s["id"] == id))
        .map(Value::take)
        .ok_or(AppError::NotFound)?;
    let title = format!(
        "{} {}",
        section["number"],
        section["title"].as_str().unwrap_or_default()
    );
    view["sections"] = json!([section]);
    Ok(page.render(
        "reports/section",
        json!({
            "title": title,
            "section": "home",
            "report": view,
            "dashboard_href": format!("/reports?{}", period_query(period)),
        }),
    ))
}

async fn rendered(report: Arc<Report>, narrative: BTreeMap<String, String>, format: Format) -> AppResult<Vec<u8>> {
    rocket::tokio::task::spawn_blocking(move || render(&report, &narrative, format))
        .await
        .map_err(|e| AppError::Internal(format!("report rendering stopped: {e}")))?
        .map_err(AppError::Internal)
}

fn file_name(stem: &str, period: Period, format: Format) -> String {
    format!("{stem}-{}-to-{}.{}", period.from, period.to, format.as_str())
}

/// `GET /reports/board.pdf?from=…&to=…` (and .html, .xlsx, .csv, .json).
#[get("/reports/<name>?<from>&<to>", rank = 3)]
async fn download(name: &str, from: &str, to: &str, signed_in: SignedIn<'_>) -> AppResult<ReportFile> {
    let SignedIn(user, _, db, state) = signed_in;
    lead_only(user)?;
    let format = name
        .strip_prefix("board.")
        .and_then(Format::parse)
        .ok_or(AppError::NotFound)?;
    let period = Period::parse(from, to).map_err(AppError::BadRequest)?;
    let report = partnership_report(db, state, period).await?;
    let body = rendered(report, BTreeMap::new(), format).await?;
    Ok(attachment(
        body,
        format.content_type(),
        file_name("board-report", period, format),
    ))
}

#[get("/reports/publish?<from>&<to>")]
async fn publish_page(from: &str, to: &str, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    lead_only(user)?;
    let period = Period::parse(from, to).map_err(AppError::BadRequest)?;
    let report = partnership_report(db, state, period).await?;
    Ok(page.render(
        "reports/publish",
        json!({
            "title": "Publish the board report",
            "section": "home",
            "report": report_view(&report, &BTreeMap::new(), false),
            "from": period.from, "to": period.to,
        }),
    ))
}

#[derive(FromForm)]
pub struct PublishForm {
    from: String,
    to: String,
    /// Narrative by section id.
    #[field(default = HashMap::new())]
    narrative: HashMap<String, String>,
}

/// Freezes the report: figures, narrative, author, time and every rendered
/// file with its SHA-256. Nothing about it changes afterwards.
#[post("/reports/publish", data = "<form>")]
async fn publish(form: CsrfForm<PublishForm>, signed_in: SignedIn<'_>) -> AppResult<Redirect> {
    let SignedIn(user, _, db, state) = signed_in;
    lead_only(user)?;
    let form = form.0;
    let period = Period::parse(&form.from, &form.to).map_err(AppError::BadRequest)?;
    let report = partnership_report(db, state, period).await?;
    let section_ids: Vec<&str> = report.sections.iter().map(|s| s.id.as_str()).collect();
    // Only sections of this report, and no empty ones.
    let narrative: BTreeMap<String, String> = form
        .narrative
        .into_iter()
        .filter(|(id, text)| section_ids.contains(&id.as_str()) && !text.trim().is_empty())
        .map(|(id, text)| (id, text.replace("\r\n", "\n").trim().to_string()))
        .collect();
    let mut files = Vec::new();
    for format in Format::ALL {
        let body = rendered(report.clone(), narrative.clone(), format).await?;
        let sha = format!("{:x}", Sha256::digest(&body));
        files.push((format, sha, body));
    }
    let figures_json = serde_json::to_string(&*report).map_err(AppError::internal)?;
    let narrative_json = serde_json::to_string(&narrative).map_err(AppError::internal)?;
    let now = state.clock.now();
    let actor = user.audit_actor();
    let title = format!("{}: {}", report.title, period.label());
    let mut tx = crate::db::begin_write(db).await?;
    let id = published::insert(
        &mut tx,
        &published::NewPublished {
            title: &title,
            period_from: period.from,
            period_to: period.to,
            figures_json: &figures_json,
            narrative_json: &narrative_json,
            author_user_id: actor.user_id,
            author_label: &user.user.name,
        },
        now,
    )
    .await?;
    for (format, sha, body) in &files {
        published::insert_file(&mut tx, id, format.as_str(), format.content_type(), sha, body).await?;
    }
    let files_json: Vec<_> = files
        .iter()
        .map(|(f, sha, _)| json!({"format": f.as_str(), "sha256": sha}))
        .collect();
    let entry =
        Entry::of("report.publish", "published_report", Some(id)).after(json!({"title": title, "files": files_json}));
    audit::record(&mut tx, actor.at(now), entry).await?;
    tx.commit().await?;
    Ok(Redirect::to(format!("/reports/published/{id}")))
}

#[get("/reports/published")]
async fn published_list(user: &CurrentUser, page: Page<'_>, db: &Db) -> AppResult<Template> {
    lead_only(user)?;
    let rows = published::list(db).await?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"id": r.id, "title": r.title, "author": r.author_label,
                "published_at": crate::clock::display(r.published_at),
                "withdrawn": r.withdrawn_at.is_some()})
        })
        .collect();
    Ok(page.render(
        "reports/published_list",
        json!({"title": "Published reports", "section": "home", "reports": rows}),
    ))
}

async fn published_or_404(db: &Db, id: i64) -> AppResult<published::PublishedRow> {
    published::find(db, id).await?.ok_or(AppError::NotFound)
}

#[get("/reports/published/<id>")]
async fn published_show(id: i64, user: &CurrentUser, page: Page<'_>, db: &Db) -> AppResult<Template> {
    lead_only(user)?;
    let row = published_or_404(db, id).await?;
    let report: Report = serde_json::from_str(&row.figures_json).map_err(AppError::internal)?;
    let narrative: BTreeMap<String, String> = serde_json::from_str(&row.narrative_json).unwrap_or_default();
    let files: Vec<Value> = published::files(db, id)
        .await?
        .into_iter()
        .map(|f| {
            let label = Format::parse(&f.format).map_or(f.format.as_str(), |format| format.label());
            json!({"href": format!("/reports/published/{id}/file/{}", f.format), "label": label,
                "sha256": f.sha256, "size": f.size})
        })
        .collect();
    Ok(page.render(
        "reports/published_show",
        json!({
            "title": row.title,
            "section": "home",
            "published": {"id": row.id, "title": row.title, "author": row.author_label,
                "published_at": crate::clock::display(row.published_at),
                "withdrawn_at": row.withdrawn_at.map(crate::clock::display),
                "withdrawn_reason": row.withdrawn_reason},
            "report": report_view(&report, &narrative, false),
            "files": files,
        }),
    ))
}

#[get("/reports/published/<id>/file/<format>")]
async fn published_file(id: i64, format: &str, user: &CurrentUser, db: &Db) -> AppResult<ReportFile> {
    lead_only(user)?;
    let row = published_or_404(db, id).await?;
    let format = Format::parse(format).ok_or(AppError::NotFound)?;
    let (content_type, body) = published::file(db, id, format.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let period = Period::new(row.period_from, row.period_to).map_err(AppError::internal)?;
    Ok(attachment(
        body,
        &content_type,
        file_name(&format!("board-report-{id}"), period, format),
    ))
}

#[post("/reports/published/<id>/withdraw", data = "<form>")]
async fn withdraw(id: i64, form: CsrfForm<ReasonForm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    lead_only(user)?;
    let row = published_or_404(db, id).await?;
    let back = Redirect::to(format!("/reports/published/{id}"));
    let reason = form.0.reason.trim().to_string();
    if reason.is_empty() {
        return Ok(Flash::error(back, "Give the reason for withdrawing the report."));
    }
    let now = state.clock.now();
    let mut tx = crate::db::begin_write(db).await?;
    if !published::withdraw(&mut tx, id, &reason, now).await? {
        return Ok(Flash::error(back, "This report has already been withdrawn."));
    }
    let entry = Entry::of("report.withdraw", "published_report", Some(id))
        .before(json!({"title": row.title}))
        .after(json!({"reason": reason}));
    audit::record(&mut tx, user.audit_actor().at(now), entry).await?;
    tx.commit().await?;
    Ok(Flash::success(
        back,
        "The report has been withdrawn. It stays on record, unchanged.",
    ))
}

#[derive(Responder)]
pub enum OrganisationReport {
    Page(Template),
    File(ReportFile),
}

/// `GET /organisations/<id>/report` (and `?format=pdf`): the organisation's
/// own progress. Its members see only their own (another's is "not
/// found"); the programme lead and assessors see any.
#[get("/organisations/<id>/report?<preset>&<from>&<to>&<format>")]
#[allow(clippy::too_many_arguments)]
async fn organisation_report(
    id: i64,
    preset: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    format: Option<&str>,
    signed_in: SignedIn<'_>,
) -> AppResult<OrganisationReport> {
    let SignedIn(user, page, db, state) = signed_in;
    let actor = user.actor();
    let allowed = actor.is_programme_lead() || actor.can_review() || actor.organisation_id == Some(id);
    if !allowed {
        return Err(AppError::NotFound);
    }
    let organisation = organisations::find(db, id).await?.ok_or(AppError::NotFound)?;
    let (period, chosen, _) = chosen_period(state, preset, from, to);
    let scope = Scope {
        organisation_id: id,
        organisation_name: Some(organisation.name.clone()),
    };
    let report = build_for_organisation(sources(db, state), period, &scope, today(state)).await?;
    if let Some(format) = format {
        let format = Format::parse(format).ok_or(AppError::NotFound)?;
        let body = rendered(Arc::new(report), BTreeMap::new(), format).await?;
        return Ok(OrganisationReport::File(attachment(
            body,
            format.content_type(),
            file_name(&format!("progress-report-{id}"), period, format),
        )));
    }
    let today = today(state);
    let presets = preset_choices(today, chosen);
    let query = format!("from={}&to={}", period.from, period.to);
    Ok(OrganisationReport::Page(page.render(
        "reports/organisation",
        json!({
            "title": format!("Progress report: {}", organisation.name),
            "section": "organisations",
            "organisation": {"id": id, "name": organisation.name},
            "report": report_view(&report, &BTreeMap::new(), false),
            "presets": presets,
            "pdf_href": format!("/organisations/{id}/report?{query}&format=pdf"),
            "html_href": format!("/organisations/{id}/report?{query}&format=html"),
        }),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::report::Figure;
    use chrono::NaiveDate;

    #[test]
    fn a_page_names_the_first_twenty_and_counts_the_rest() {
        let day = |d| NaiveDate::from_ymd_opt(2025, 4, d).expect("a date");
        let period = Period::new(day(1), day(30)).expect("a period");
        let figure = |id: &str, names: usize| Figure {
            id: id.into(),
            section: "training".into(),
            label: id.into(),
            value: i64::try_from(names).unwrap_or_default(),
            previous: None,
            items: (1..=names).map(|n| format!("Organisation {n}")).collect(),
            records: None,
        };
        let report =
            crate::domain::report::one_table_report(period, "training", vec![figure("many", 25), figure("few", 3)]);
        let view = report_view(&report, &BTreeMap::new(), true);
        let figures = &view["sections"][0]["groups"][0]["figures"];
        assert_eq!(figures[0]["items"].as_array().map(Vec::len), Some(20));
        assert_eq!(figures[0]["items"][19], "Organisation 20");
        assert_eq!(figures[0]["more"], 5);
        assert_eq!(figures[1]["items"].as_array().map(Vec::len), Some(3));
        assert_eq!(figures[1]["more"], 0);
    }
}
