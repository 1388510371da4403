//! Training: programmes, sessions and registers, cohorts, and who has
//! completed what (person by person, organisation by organisation).

use super::auth::CurrentUser;
use super::csrf::CsrfForm;
use super::organisation_pick::{pick, OrganisationPick};
use super::templates::Template;
use super::{choice_options, page_offset, url_encode, AppState, FormOutcome, Page, SignedIn, PAGE_SIZE};
use crate::app::training::{self as workflow, Attendee, SignUpRefused};
use crate::app::training_views::module_title;
use crate::app::training_views::{by_person, fact};
use crate::db::training::{self, PersonFactRow};
use crate::db::{completions, organisations, people, Db};
use crate::domain::completion::{
    organisation_progress, person_completions, AttendanceFact, AttendanceStatus, CompletionState, OrganisationProgress,
    OrganisationTrainingState,
};
use crate::domain::import::ModuleRef;
use crate::domain::programmes::Programme;
use crate::domain::validation::{self, FieldErrors};
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route, State};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

pub fn routes() -> Vec<Route> {
    routes![
        index,
        programme,
        programme_organisations,
        sign_up,
        sessions,
        new_session_page,
        create_session,
        session,
        save_register,
        add_attendee,
        cohort,
        save_cohort,
        ambassadors,
        person_training
    ]
}

fn today(state: &AppState) -> NaiveDate {
    state.clock.today()
}

fn programme_or_404<'a>(state: &'a AppState, id: &str) -> AppResult<&'a Programme> {
    state.programmes.current_version(id).ok_or(AppError::NotFound)
}

pub fn programme_name(state: &AppState, programme_id: &str) -> String {
    state
        .programmes
        .current_version(programme_id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| programme_id.to_string())
}

/// For each of the programme's completions, how many of these people hold it now.
fn completed_counts(
    programme: &Programme,
    people: &[(&PersonFactRow, Vec<AttendanceFact>)],
    today: NaiveDate,
) -> Vec<Value> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (_, facts) in people {
        for held in person_completions(programme, facts, today) {
            if held.state == CompletionState::Completed {
                *counts.entry(held.completion_id).or_insert(0) += 1;
            }
        }
    }
    programme
        .completions
        .iter()
        .map(|c| json!({"title": c.title, "people": counts.get(&c.id).copied().unwrap_or(0)}))
        .collect()
}

/// One completion as the pages show it: a coloured tag and readable dates.
fn completion_view(c: crate::domain::completion::PersonCompletion) -> Value {
    let (label, colour) = state_label(&c.state);
    let readable = crate::domain::dates::uk_date;
    json!({"title": c.title, "label": label, "colour": colour, "completed_on": c.completed_on.map(readable),
        "lapses_on": c.lapses_on.map(readable), "blocked_by": c.blocked_by})
}

fn state_label(state: &CompletionState) -> (&'static str, &'static str) {
    match state {
        CompletionState::Completed => ("Completed", "green"),
        CompletionState::Lapsed => ("Lapsed", "red"),
        CompletionState::InProgress { .. } => ("In progress", "blue"),
        CompletionState::NotStarted => ("Not started", "grey"),
    }
}

fn staff_only(user: &CurrentUser) -> AppResult<()> {
    user.require(|a| a.can_view_all_training())
}

/// The programmes with their recent activity. Figures over all time are the
/// dashboard's; this page reads only the last year's sessions, so its cost
/// does not grow with the history.
#[get("/training")]
async fn index(signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    staff_only(user)?;
    let today = today(state);
    let since = today - chrono::Duration::days(365);
    let activity: HashMap<String, (i64, NaiveDate)> = training::programme_activity(db, since, today)
        .await?
        .into_iter()
        .map(|(programme, sessions, last)| (programme, (sessions, last)))
        .collect();
    let programmes: Vec<Value> = state
        .programmes
        .current()
        .into_iter()
        .map(|p| {
            let (sessions, last) = activity.get(&p.id).map_or((0, None), |(n, last)| (*n, Some(*last)));
            json!({"id": p.id, "name": p.name, "audience": p.audience, "summary": p.summary, "modules": p.modules.len(),
                "sessions_last_year": sessions, "last_session": last.map(crate::domain::dates::uk_date),
                "has_organisation_rule": p.organisation_rule.is_some()})
        })
        .collect();
    Ok(page.render(
        "training/index",
        json!({"title": "Training", "section": "training", "programmes": programmes,
            "can_manage": user.actor().can_manage_training()}),
    ))
}

/// The furthest page a listing that walks history backwards will go: past
/// it, the programme's report or the API serves better than paging.
const MAX_WALK_PAGE: i64 = 200;

/// The people on one page of a programme (most recent first) with their
/// completions, worked out from their own attendance only.
async fn programme_people(
    db: &Db,
    programme: &Programme,
    today: NaiveDate,
    page: i64,
) -> AppResult<(Vec<Value>, bool)> {
    let skip = usize::try_from((page - 1) * PAGE_SIZE).unwrap_or(0);
    let take = usize::try_from(PAGE_SIZE).unwrap_or(50);
    let (ids, more, rows) = training::programme_people_with_facts(db, &programme.id, skip, take).await?;
    let mut grouped: HashMap<i64, (&PersonFactRow, Vec<AttendanceFact>)> = by_person(&rows)
        .into_iter()
        .map(|(person, facts)| (person.person_id, (person, facts)))
        .collect();
    let people = ids
        .iter()
        .filter_map(|id| grouped.remove(id))
        .map(|(person, facts)| {
            let completions: Vec<Value> = person_completions(programme, &facts, today)
                .into_iter()
                .map(completion_view)
                .collect();
            json!({"id": person.person_id, "name": person.full_name, "organisation": person.organisation_name,
                "organisation_id": person.organisation_id, "completions": completions})
        })
        .collect();
    Ok((people, more))
}

#[get("/training/programmes/<id>?<page>")]
async fn programme(id: &str, page: Option<i64>, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, view, db, state) = signed_in;
    staff_only(user)?;
    let programme = programme_or_404(state, id)?;
    let page = page.unwrap_or(1).clamp(1, MAX_WALK_PAGE);
    // The three lists read at once: none needs another's rows.
    let ((people, more), cohorts, sessions) = rocket::tokio::try_join!(
        programme_people(db, programme, today(state), page),
        async { Ok(training::cohorts(db, &programme.id, RECENT_COHORTS).await?) },
        async { Ok(training::sessions(db, &programme.id, 20, 0).await?) },
    )?;
    Ok(view.render(
        "training/programme",
        json!({"title": programme.name, "section": "training", "programme": programme, "people": people,
            "page": page, "has_next": more && page < MAX_WALK_PAGE,
            "pager_href": format!("/training/programmes/{}?", programme.id),
            "cohorts": cohorts, "sessions": session_rows(state, sessions),
            "can_manage": user.actor().can_manage_training()}),
    ))
}

/// Cohorts listed on a programme's page, newest first.
const RECENT_COHORTS: i64 = 20;

/// How each organisation stands against the programme's organisation rule
/// (IRIS: practices signed up, in training, fully trained).
#[get("/training/programmes/<id>/organisations?<state>&<page>")]
async fn programme_organisations(
    id: &str,
    state: Option<&str>,
    page: Option<i64>,
    signed_in: SignedIn<'_>,
) -> AppResult<Template> {
    let SignedIn(user, view, db, app) = signed_in;
    staff_only(user)?;
    let programme = programme_or_404(app, id)?;
    let rule = programme.organisation_rule.as_ref().ok_or(AppError::NotFound)?;
    // Each organisation's staff who started and who hold each completion
    // today, counted from the kept completions (as the reports count them at
    // the end of a period): not worked out again from every attendance at
    // the programme, which took 2-3 s for IRIS on the large data set.
    let (standings, signups) = rocket::tokio::try_join!(
        crate::db::reports::standings(db, &programme.id, today(app), 0, None),
        training::signups(db, &programme.id)
    )?;
    // Signed-up organisations are listed even before anyone has trained.
    let signed_up_on: HashMap<i64, NaiveDate> = signups.iter().map(|(id, _, on)| (*id, *on)).collect();
    let signed_up: Vec<(i64, String)> = signups.into_iter().map(|(id, name, _)| (id, name)).collect();
    let mut by_name: Vec<(String, i64, OrganisationProgress)> =
        crate::domain::report::engine::organisation_standings(programme, &signed_up, &standings)
            .into_iter()
            .filter_map(|(id, (name, progress))| Some((name, id, progress?)))
            .collect();
    by_name.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    // Every state's count, each a link to its organisations; a page of
    // those chosen (thousands of practices on a large partnership).
    let count = |state: OrganisationTrainingState| by_name.iter().filter(|o| o.2.state == state).count();
    let chosen = state.and_then(|slug| STATES.into_iter().find(|s| state_names(*s).0 == slug));
    let shown: Vec<&(String, i64, OrganisationProgress)> = by_name
        .iter()
        .filter(|(_, _, progress)| chosen.is_none_or(|state| progress.state == state))
        .collect();
    let (page, offset) = page_offset(page);
    let pages = (shown.len() as i64 + PAGE_SIZE - 1) / PAGE_SIZE;
    let organisations: Vec<Value> = shown
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(PAGE_SIZE as usize)
        .map(|(name, org_id, progress)| {
            let (_, label, colour) = state_names(progress.state);
            json!({"id": org_id, "name": name, "label": label, "colour": colour, "requirements": progress.requirements,
                "signed_up_on": signed_up_on.get(org_id)})
        })
        .collect();
    let filters: Vec<Value> = STATES
        .into_iter()
        .map(|state| {
            let (slug, label, _) = state_names(state);
            json!({"slug": slug, "label": label, "count": count(state)})
        })
        .collect();
    let states: Vec<String> = STATES
        .into_iter()
        .filter(|state| count(*state) > 0)
        .map(|state| format!("{} {}", count(state), state_names(state).1.to_lowercase()))
        .collect();
    let summary = match states.is_empty() {
        true => format!("{} signed up.", by_name.len()),
        false => format!("{} signed up: {}.", by_name.len(), states.join(", ")),
    };
    let chosen = chosen.map(|state| state_names(state).0);
    let base = format!("/training/programmes/{}/organisations?", programme.id);
    let pager_href = match chosen {
        Some(slug) => format!("{base}state={slug}&"),
        None => base.clone(),
    };
    Ok(view.render(
        "training/organisations",
        json!({"title": format!("{}: {}", programme.name, rule.title), "section": "training", "programme": programme,
            "rule": rule, "organisations": organisations, "filters": filters, "chosen": chosen, "signed_up": by_name.len(),
            "summary": summary,
            "shown": shown.len(), "page": page, "pages": pages, "pager_href": pager_href, "all_href": base,
            "organisation": OrganisationPick::default(), "can_manage": user.actor().can_manage_training()}),
    ))
}

/// The organisation rule's states, in the order the page lists them.
const STATES: [OrganisationTrainingState; 3] = [
    OrganisationTrainingState::FullyTrained,
    OrganisationTrainingState::InTraining,
    OrganisationTrainingState::NotStarted,
];

/// A state's name in the page's links, its label and its tag's colour.
fn state_names(state: OrganisationTrainingState) -> (&'static str, &'static str, &'static str) {
    match state {
        OrganisationTrainingState::FullyTrained => ("fully-trained", "Fully trained", "green"),
        OrganisationTrainingState::InTraining => ("in-training", "In training", "blue"),
        OrganisationTrainingState::NotStarted => ("not-started", "Not started", "grey"),
    }
}

#[derive(FromForm)]
pub struct SignupForm {
    #[field(default = String::new())]
    organisation_id: String,
    date: String,
}

/// Records that an organisation has signed up (an IRIS practice joining the programme).
#[post("/training/programmes/<id>/organisations", data = "<form>")]
async fn sign_up(id: &str, form: CsrfForm<SignupForm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    user.require(|a| a.can_manage_training())?;
    let programme = programme_or_404(state, id)?;
    programme.organisation_rule.as_ref().ok_or(AppError::NotFound)?;
    let back = Redirect::to(format!("/training/programmes/{}/organisations", programme.id));
    // Typed by name (or a number, as links carry it): not a list of every
    // organisation, which on the large set was 10,000 options.
    let picked = pick(db, &form.0.organisation_id).await?;
    if let Some(message) = picked.refusal() {
        return Ok(Flash::error(back, message));
    }
    let Some(org) = picked.id else {
        return Ok(Flash::error(
            back,
            "Type the name of the organisation that has signed up.",
        ));
    };
    let date = match form.0.date.trim() {
        "" => today(state),
        text => match crate::domain::import::values::parse_date_text(text) {
            Some(date) => date,
            None => return Ok(Flash::error(back, "Enter the date they signed up, like 14/01/2025.")),
        },
    };
    Ok(
        match workflow::sign_up(state.ctx(db), &user.acting(), &programme.id, org, date).await? {
            Ok(name) => Flash::success(back, format!("{name} is signed up to {}.", programme.name)),
            Err(SignUpRefused::AlreadySignedUp(name)) => Flash::error(back, format!("{name} is already signed up.")),
        },
    )
}

pub(super) fn session_rows(state: &AppState, sessions: Vec<training::SessionRow>) -> Vec<Value> {
    sessions
        .into_iter()
        .map(|s| {
            let mut value = json!(s);
            value["module_title"] = json!(module_title(state, &s.programme_id, &s.module_id));
            value["programme_name"] = json!(programme_name(state, &s.programme_id));
            value["date_display"] = json!(crate::domain::dates::uk_date(s.session_date));
            value
        })
        .collect()
}

#[get("/training/sessions?<programme>&<page>")]
async fn sessions(programme: Option<String>, page: Option<i64>, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, view, db, state) = signed_in;
    staff_only(user)?;
    let filter = programme.unwrap_or_default();
    let (page, offset) = page_offset(page.map(|p| p.min(MAX_WALK_PAGE)));
    // One more than a page, to know whether another follows.
    let mut rows = training::sessions(db, &filter, PAGE_SIZE + 1, offset).await?;
    let has_next = rows.len() > usize::try_from(PAGE_SIZE).unwrap_or(50) && page < MAX_WALK_PAGE;
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(50));
    let programmes: Vec<Value> = state
        .programmes
        .current()
        .iter()
        .map(|p| json!({"id": p.id, "name": p.name}))
        .collect();
    Ok(view.render(
        "training/sessions",
        json!({"title": "Training sessions", "section": "training", "sessions": session_rows(state, rows),
            "page": page, "has_next": has_next,
            "pager_href": format!("/training/sessions?programme={}&", url_encode(&filter)),
            "programmes": programmes, "filter": filter, "can_manage": user.actor().can_manage_training()}),
    ))
}

fn module_choices(state: &AppState) -> Vec<Value> {
    state
        .programmes
        .current()
        .into_iter()
        .flat_map(|p| {
            p.modules.iter().map(
                move |m| json!({"value": format!("{}/{}", p.id, m.id), "label": format!("{}: {}", p.name, m.title)}),
            )
        })
        .collect()
}

#[get("/training/sessions/new")]
async fn new_session_page(user: &CurrentUser, page: Page<'_>, state: &State<AppState>) -> AppResult<Template> {
    user.require(|a| a.can_manage_training())?;
    Ok(page.render(
        "training/session_form",
        json!({"title": "Add a training session", "section": "training", "modules": module_choices(state), "values": {}}),
    ))
}

#[derive(FromForm)]
pub struct SessionForm {
    #[field(default = String::new())]
    module: String,
    date: String,
    start_time: String,
    venue: String,
    #[field(default = false)]
    online: bool,
    trainer: String,
    capacity: String,
    cohort: String,
}

#[post("/training/sessions", data = "<form>")]
async fn create_session(form: CsrfForm<SessionForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, page, db, state) = signed_in;
    user.require(|a| a.can_manage_training())?;
    let form = form.0;
    let mut errors = FieldErrors::default();
    let module = form.module.split_once('/').and_then(|(programme_id, module_id)| {
        let programme = state.programmes.current_version(programme_id)?;
        programme.modules.iter().find(|m| m.id == module_id).map(|m| ModuleRef {
            programme_id: programme.id.clone(),
            programme_version: programme.version.clone(),
            module_id: m.id.clone(),
        })
    });
    if module.is_none() {
        errors.add("module", "Select the module this session delivers");
    }
    let date = crate::domain::import::values::parse_date_text(&form.date);
    if date.is_none() {
        errors.add("date", "Enter the date of the session, like 14/01/2025");
    }
    let start_time = validation::optional(&mut errors, "start_time", &form.start_time, "the start time", 20);
    let venue = validation::optional(&mut errors, "venue", &form.venue, "the venue", 200);
    let trainer = validation::optional(&mut errors, "trainer", &form.trainer, "the trainer", 200);
    let cohort = validation::optional(&mut errors, "cohort", &form.cohort, "the cohort name", 100);
    let capacity = match form.capacity.trim() {
        "" => None,
        text => {
            let places = text.parse::<u32>().ok().filter(|c| (1..=10_000).contains(c));
            if places.is_none() {
                errors.add("capacity", "Capacity must be a whole number of places, like 20");
            }
            places
        }
    };
    let (Some(module), Some(date), true) = (module, date, errors.is_empty()) else {
        let values = json!({"module": form.module, "date": form.date, "start_time": form.start_time, "venue": form.venue,
            "online": form.online, "trainer": form.trainer, "capacity": form.capacity, "cohort": form.cohort});
        let context = json!({"title": "Add a training session", "section": "training", "modules": module_choices(state), "values": values});
        return Ok(Err(page.render_errors("training/session_form", &errors, context)));
    };
    let input = workflow::SessionInput {
        module: &module,
        date,
        start_time: Some(start_time.as_str()).filter(|time| !time.is_empty()),
        venue: &venue,
        online: form.online,
        trainer: &trainer,
        capacity,
        cohort: &cohort,
    };
    let id = workflow::create_session(state.ctx(db), &user.acting(), &input).await?;
    Ok(Ok(Flash::success(
        Redirect::to(format!("/training/sessions/{id}")),
        "The session has been added. Take the register below.",
    )))
}

async fn session_or_404(db: &Db, id: i64) -> AppResult<training::SessionRow> {
    training::session(db, id).await?.ok_or(AppError::NotFound)
}

fn status_options() -> Vec<Value> {
    let marks = [
        AttendanceStatus::Attended,
        AttendanceStatus::Partial,
        AttendanceStatus::Absent,
        AttendanceStatus::Cancelled,
    ];
    choice_options(&marks, |s| (s.as_str(), s.label()))
}

#[get("/training/sessions/<id>")]
async fn session(id: i64, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    staff_only(user)?;
    let row = session_or_404(db, id).await?;
    let register = training::register(db, id).await?;
    let has_evaluation = crate::app::evaluations::programme_with_form(&state.programmes, &row).is_some();
    Ok(page.render(
        "training/session",
        json!({"title": format!("{} on {}", module_title(state, &row.programme_id, &row.module_id), row.session_date),
            "section": "training", "session": session_rows(state, vec![row]).pop(), "register": register,
            "statuses": status_options(), "organisation": OrganisationPick::default(),
            "has_evaluation": has_evaluation, "can_manage": user.actor().can_manage_training()}),
    ))
}

#[derive(FromForm)]
pub struct RegisterForm {
    /// attendance id → status
    #[field(default = HashMap::new())]
    status: HashMap<String, String>,
}

#[post("/training/sessions/<id>/register", data = "<form>")]
async fn save_register(id: i64, form: CsrfForm<RegisterForm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    user.require(|a| a.can_manage_training())?;
    let marks: HashMap<i64, AttendanceStatus> = form
        .0
        .status
        .iter()
        .filter_map(|(attendance, status)| Some((attendance.parse().ok()?, AttendanceStatus::parse(status)?)))
        .collect();
    let changed = workflow::save_register(state.ctx(db), &user.acting(), id, &marks).await?;
    Ok(Flash::success(
        Redirect::to(format!("/training/sessions/{id}")),
        format!("The register has been saved ({changed} changed)."),
    ))
}

#[derive(FromForm)]
pub struct AttendeeForm {
    #[field(default = String::new())]
    organisation_id: String,
    full_name: String,
    email: String,
    #[field(default = String::new())]
    status: String,
}

/// Finds the person (by email, then by name in the organisation) or adds them, then marks them.
#[post("/training/sessions/<id>/attendees", data = "<form>")]
async fn add_attendee(id: i64, form: CsrfForm<AttendeeForm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    user.require(|a| a.can_manage_training())?;
    session_or_404(db, id).await?;
    let back = Redirect::to(format!("/training/sessions/{id}"));
    let form = form.0;
    let input = crate::domain::person::PersonInput {
        full_name: form.full_name.clone(),
        email: form.email.clone(),
        job_title: String::new(),
        ..Default::default()
    };
    let person = match crate::domain::person::PersonDetails::try_from(&input) {
        Ok(person) => person,
        Err(errors) => {
            return Ok(Flash::error(
                back,
                errors
                    .0
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join(". "),
            ))
        }
    };
    let status = AttendanceStatus::parse(&form.status).unwrap_or(AttendanceStatus::Attended);
    let picked = pick(db, &form.organisation_id).await?;
    if let Some(message) = picked.refusal() {
        return Ok(Flash::error(back, message));
    }
    let organisation_id = picked.id;
    // Only those who could be this person: anyone with the email, and the
    // organisation's own staff (by index), never everyone on record.
    let emails: Vec<&str> = Some(person.email.as_str())
        .filter(|e| !e.is_empty())
        .into_iter()
        .collect();
    let staff: Vec<i64> = organisation_id.into_iter().collect();
    let known = crate::db::imports::people_for(db, &emails, &staff, &[]).await?;
    let existing = known
        .iter()
        .find(|p| !person.email.is_empty() && p.email == person.email)
        .or_else(|| {
            let key = crate::domain::import::values::name_key(&person.full_name);
            known.iter().find(|p| {
                Some(p.organisation_id) == organisation_id
                    && crate::domain::import::values::name_key(&p.full_name) == key
            })
        })
        .map(|p| p.id);
    let attendee = match (existing, organisation_id) {
        (Some(id), _) => Attendee::Known(id),
        (None, Some(organisation_id)) => Attendee::New {
            organisation_id,
            person: &person,
        },
        (None, None) => {
            return Ok(Flash::error(
                back,
                format!(
                    "{} is not on record yet: choose their organisation to add them.",
                    person.full_name
                ),
            ))
        }
    };
    workflow::add_attendee(state.ctx(db), &user.acting(), id, attendee, status).await?;
    Ok(Flash::success(
        back,
        format!(
            "{} is on the register as {}.",
            person.full_name,
            status.label().to_lowercase()
        ),
    ))
}

#[get("/training/cohorts/<id>")]
async fn cohort(id: i64, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    staff_only(user)?;
    let cohort = training::cohort(db, id).await?.ok_or(AppError::NotFound)?;
    let programme = programme_or_404(state, &cohort.programme_id)?;
    let sessions = training::cohort_sessions(db, id).await?;
    let register = training::cohort_register(db, id).await?;
    let mut people: BTreeMap<(String, i64), HashMap<i64, String>> = BTreeMap::new();
    for row in &register {
        people
            .entry((row.full_name.clone(), row.person_id))
            .or_default()
            .insert(row.session_id, row.status.clone());
    }
    let rows: Vec<Value> = people
        .into_iter()
        .map(|((name, person_id), marks)| {
            let cells: Vec<Value> = sessions
                .iter()
                .map(|s| json!({"session_id": s.id, "status": marks.get(&s.id).cloned().unwrap_or_default()}))
                .collect();
            let attended = marks.values().filter(|s| s.as_str() == "attended").count();
            json!({"person_id": person_id, "name": name, "cells": cells, "attended": attended})
        })
        .collect();
    let kept = crate::db::reports::cohort_activity(db, &programme.id, id, cohort.name.clone(), today(state), 0).await?;
    let progress = crate::domain::report::engine::cohort_aim(programme, &kept.modules).map(|aim| {
        json!({"completed": crate::domain::report::engine::cohort_completed(programme, &kept),
            "people": kept.people, "title": aim.title})
    });
    Ok(page.render(
        "training/cohort",
        json!({"title": format!("{}: {}", programme.name, cohort.name), "section": "training", "cohort": cohort,
            "progress": progress,
            "programme": programme, "sessions": session_rows(state, sessions), "rows": rows, "statuses": status_options(),
            "can_manage": user.actor().can_manage_training()}),
    ))
}

#[derive(FromForm)]
pub struct CohortForm {
    /// "person-session" → status ("" for no mark)
    #[field(default = HashMap::new())]
    mark: HashMap<String, String>,
}

#[post("/training/cohorts/<id>", data = "<form>")]
async fn save_cohort(id: i64, form: CsrfForm<CohortForm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    user.require(|a| a.can_manage_training())?;
    let marks: HashMap<(i64, i64), AttendanceStatus> = form
        .0
        .mark
        .iter()
        .filter_map(|(key, value)| {
            let (person, session) = key.split_once('-')?;
            Some((
                (person.parse().ok()?, session.parse().ok()?),
                AttendanceStatus::parse(value)?,
            ))
        })
        .collect();
    let changed = workflow::save_cohort(state.ctx(db), &user.acting(), id, &marks).await?;
    Ok(Flash::success(
        Redirect::to(format!("/training/cohorts/{id}")),
        format!("The cohort's attendance has been saved ({changed} changed)."),
    ))
}

/// Active ambassadors: a safe person to talk to. Work contact details only,
/// and open to every signed-in user, as the scheme intends. Those who
/// qualified most recently come first; read from the kept completions, so
/// the page costs the same whatever the programme's history.
#[get("/training/ambassadors?<organisation>&<q>&<page>")]
async fn ambassadors(
    organisation: Option<i64>,
    q: Option<String>,
    page: Option<i64>,
    signed_in: SignedIn<'_>,
) -> AppResult<Template> {
    let SignedIn(_, view, db, state) = signed_in;
    let programme = programme_or_404(state, "domestic-abuse-ambassadors")?;
    let today = today(state);
    let page = page.unwrap_or(1).clamp(1, MAX_WALK_PAGE);
    let q = q.unwrap_or_default();
    // An organisation typed by name: one match is taken, several are offered.
    let mut matches: Vec<Value> = Vec::new();
    let mut organisation = organisation;
    if organisation.is_none() && !q.trim().is_empty() {
        let (found, _) = organisations::search(
            db,
            &organisations::Search {
                scope: crate::domain::access::OrgScope::All,
                text: &q,
                org_type: None,
                limit: 20,
                offset: 0,
            },
        )
        .await?;
        match found.as_slice() {
            [only] => organisation = Some(only.id),
            _ => matches = found.iter().map(|o| json!({"id": o.id, "name": o.name})).collect(),
        }
    }
    let organisation_name = match organisation {
        Some(id) => Some(organisations::find(db, id).await?.ok_or(AppError::NotFound)?.name),
        None => None,
    };
    let skip = usize::try_from((page - 1) * PAGE_SIZE).unwrap_or(0);
    let take = usize::try_from(PAGE_SIZE).unwrap_or(50);
    // An ambassador holds the programme's completion today: read from the
    // kept spells, which end on the day it lapses unless refreshed.
    let (mut active, more): (Vec<Value>, bool) = match (programme.completions.first(), matches.is_empty()) {
        (Some(completion), true) => {
            let (holders, more) =
                completions::holders_on(db, &programme.id, &completion.id, today, organisation, skip, take).await?;
            (holders.iter().map(ambassador_view).collect(), more)
        }
        _ => (Vec::new(), false),
    };
    // Pages follow who qualified most recently; within a page, people look others up by organisation and name.
    active.sort_by(|a, b| {
        (a["organisation"].as_str(), a["name"].as_str()).cmp(&(b["organisation"].as_str(), b["name"].as_str()))
    });
    Ok(view.render(
        "training/ambassadors",
        json!({"title": "Domestic abuse ambassadors", "section": "ambassadors", "ambassadors": active,
            "search_value": organisation_name.clone().unwrap_or_else(|| q.clone()),
            "organisation": organisation, "organisation_name": organisation_name, "q": q, "matches": matches,
            "page": page, "has_next": more && page < MAX_WALK_PAGE,
            "pager_href": format!("/training/ambassadors?organisation={}&", organisation.map(|o| o.to_string()).unwrap_or_default())}),
    ))
}

fn ambassador_view(holder: &completions::Holder) -> Value {
    json!({"name": holder.full_name, "organisation": holder.organisation_name, "email": holder.email,
        "until": holder.held_until.map(crate::domain::dates::uk_date)})
}

/// One person's training record, for staff and for their own organisation.
#[get("/people/<id>/training")]
async fn person_training(id: i64, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    // Both at once (one wait for connections, not two); the attendance is
    // shown only once the person is known to be visible.
    let (person, rows) = rocket::tokio::try_join!(people::find(db, id), training::person_facts(db, id))?;
    let person = person.ok_or(AppError::NotFound)?;
    if !user.actor().can_view_organisation(person.organisation_id) {
        return Err(AppError::NotFound);
    }
    let today = today(state);
    let mut by_programme: BTreeMap<String, Vec<PersonFactRow>> = BTreeMap::new();
    for row in &rows {
        by_programme
            .entry(row.programme_id.clone())
            .or_default()
            .push(row.clone());
    }
    let programmes: Vec<Value> = by_programme
        .iter()
        .filter_map(|(programme_id, rows)| {
            let programme = state.programmes.current_version(programme_id)?;
            let facts: Vec<AttendanceFact> = rows.iter().filter_map(fact).collect();
            let completions: Vec<Value> = person_completions(programme, &facts, today)
                .into_iter()
                .map(completion_view)
                .collect();
            let attendance: Vec<Value> = rows
                .iter()
                .map(|r| {
                    json!({"module": module_title(state, &r.programme_id, &r.module_id), "date": r.session_date,
                    "status": AttendanceStatus::parse(&r.status).map(|s| s.label()).unwrap_or("")})
                })
                .collect();
            Some(json!({"name": programme.name, "completions": completions, "attendance": attendance}))
        })
        .collect();
    Ok(page.render(
        "training/person",
        json!({"title": format!("Training: {}", person.full_name), "section": "organisations", "person": person, "programmes": programmes}),
    ))
}

/// Staff of one organisation trained, by programme: for the organisation's page.
pub async fn organisation_summary(
    conn: &mut crate::db::Conn,
    state: &AppState,
    organisation_id: i64,
) -> AppResult<Vec<Value>> {
    let today = today(state);
    let rows = training::organisation_facts_in(conn, "", organisation_id).await?;
    let mut by_programme: BTreeMap<String, Vec<PersonFactRow>> = BTreeMap::new();
    for row in rows {
        by_programme.entry(row.programme_id.clone()).or_default().push(row);
    }
    Ok(by_programme
        .iter()
        .filter_map(|(programme_id, rows)| {
            let programme = state.programmes.current_version(programme_id)?;
            let people = by_person(rows);
            let completions = completed_counts(programme, &people, today);
            let people_facts: Vec<Vec<AttendanceFact>> = people.iter().map(|(_, f)| f.clone()).collect();
            let organisation_state = organisation_progress(programme, &people_facts, today).map(|p| json!(p));
            Some(
                json!({"id": programme.id, "name": programme.name, "people": people.len(), "completions": completions,
                "organisation_state": organisation_state}),
            )
        })
        .collect())
}
