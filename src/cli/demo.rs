//! `qmtrack demo`: a realistic, fictional partnership to try the app with.
//! Every record is looked up before it is added, so running it again adds
//! nothing. Users get random passwords, printed once when they are created.

use crate::app::{self, Acting, AppState};
use crate::db::{organisations, people, users, Pool};
use crate::domain::completion::AttendanceStatus;
use crate::domain::organisation::{name_key, OrganisationDetails, OrganisationInput};
use crate::domain::person::{PersonDetails, PersonInput};
use crate::domain::user::{NewUser, NewUserInput};
use crate::error::StartupError;
use crate::security::random_password;

struct DemoOrg {
    name: &'static str,
    org_type: &'static str,
    locality: &'static str,
    address: &'static str,
    lead: (&'static str, &'static str),
    staff: &'static [(&'static str, &'static str)],
}

const DOMAIN: &str = "example.org";

/// A fictional borough's partnership. Names show the spread the app must handle.
const ORGANISATIONS: &[DemoOrg] = &[
    DemoOrg {
        name: "Northbridge Homes",
        org_type: "housing_provider",
        locality: "Northbridge Central",
        address: "1 Canal Wharf, Northbridge NB1 2AA",
        lead: ("Siobhán Ní Bhriain", "Tenancy Services Manager"),
        staff: &[
            ("Siobhán Ní Bhriain", "Tenancy Services Manager"),
            ("Marcus Bell", "Housing Officer"),
            ("Aisha Rahman", "Income Officer"),
            ("Zoë O'Brien", "Neighbourhood Officer"),
            ("Daniel Okafor", "Repairs Supervisor"),
        ],
    },
    DemoOrg {
        name: "Vale Valley Housing Association",
        org_type: "housing_provider",
        locality: "East Vale",
        address: "22 Market Street, East Vale NB4 7QT",
        lead: ("Gareth Price", "Head of Housing Management"),
        staff: &[
            ("Gareth Price", "Head of Housing Management"),
            ("Nguyễn Thị Lan", "Tenancy Sustainment Officer"),
            ("Helen Marsh", "Housing Officer"),
            ("Tomasz Kowalski", "Anti-social Behaviour Officer"),
        ],
    },
    DemoOrg {
        name: "Riverside Medical Practice",
        org_type: "gp_practice",
        locality: "Northbridge Central",
        address: "Riverside Health Centre, Mill Lane, Northbridge NB1 5RP",
        lead: ("Dr Priya Shah", "GP Partner"),
        staff: &[
            ("Dr Priya Shah", "GP Partner"),
            ("Dr Łukasz Nowak", "Salaried GP"),
            ("Emma Clarke", "Practice Nurse"),
            ("Joanna Wiśniewska", "Receptionist"),
            ("Karen Holt", "Practice Manager"),
        ],
    },
    DemoOrg {
        name: "Hillside Surgery",
        org_type: "gp_practice",
        locality: "West Northbridge",
        address: "4 Hill Road, Northbridge NB6 1HS",
        lead: ("Dr Tomás Ó Murchú", "GP Partner"),
        staff: &[
            ("Dr Tomás Ó Murchú", "GP Partner"),
            ("Dr Olivia Grant", "GP Registrar"),
            ("Fatima Begum", "Healthcare Assistant"),
            ("Ruth Adeyemi", "Reception Lead"),
        ],
    },
    DemoOrg {
        name: "Sure Start Meadowfield Children's Centre",
        org_type: "childrens_centre",
        locality: "Meadowfield",
        address: "Meadowfield Primary Campus, School Lane, NB3 8MF",
        lead: ("Claire Dunn", "Centre Manager"),
        staff: &[
            ("Claire Dunn", "Centre Manager"),
            ("Oluwaseun Adebayo", "Family Support Worker"),
            ("Lucy Hart", "Early Years Practitioner"),
        ],
    },
    DemoOrg {
        name: "Northbridge Council Children's Social Care",
        org_type: "council_service",
        locality: "Borough-wide",
        address: "Civic Centre, Northbridge NB1 1CC",
        lead: ("Mohammed Iqbal", "Principal Social Worker"),
        staff: &[
            ("Mohammed Iqbal", "Principal Social Worker"),
            ("Zoë Turner", "Social Worker"),
            ("Priya Patel", "Social Worker"),
            ("Tomás García", "Senior Practitioner"),
            ("Hannah Lewis", "Team Manager"),
        ],
    },
    DemoOrg {
        name: "Northbridge Council Adult Social Care",
        org_type: "council_service",
        locality: "Borough-wide",
        address: "Civic Centre, Northbridge NB1 1CC",
        lead: ("Rebecca Moss", "Safeguarding Adults Lead"),
        staff: &[
            ("Rebecca Moss", "Safeguarding Adults Lead"),
            ("Kwame Mensah", "Social Worker"),
        ],
    },
    DemoOrg {
        name: "Northbridge Police Safeguarding Unit",
        org_type: "police",
        locality: "Borough-wide",
        address: "Northbridge Police Station, Queen Street, NB1 3PS",
        lead: ("DI Sarah Whitfield", "Detective Inspector"),
        staff: &[
            ("DI Sarah Whitfield", "Detective Inspector"),
            ("PC Jamal Ahmed", "Domestic Abuse Officer"),
        ],
    },
    DemoOrg {
        name: "Northbridge General Hospital",
        org_type: "health",
        locality: "Northbridge Central",
        address: "Infirmary Road, Northbridge NB2 4GH",
        lead: ("Saoirse Kelly", "Named Nurse for Safeguarding"),
        staff: &[
            ("Saoirse Kelly", "Named Nurse for Safeguarding"),
            ("Ben Carter", "Emergency Department Sister"),
            ("Amara Nwosu", "Midwife"),
        ],
    },
    DemoOrg {
        name: "Probation Service Northbridge",
        org_type: "probation",
        locality: "Borough-wide",
        address: "Probation Office, Station Road, NB1 6PO",
        lead: ("Ian Fletcher", "Senior Probation Officer"),
        staff: &[
            ("Ian Fletcher", "Senior Probation Officer"),
            ("Grace Ellis", "Probation Officer"),
        ],
    },
    DemoOrg {
        name: "Safe Haven Domestic Abuse Service",
        org_type: "voluntary_sector",
        locality: "Borough-wide",
        address: "Confidential address",
        lead: ("Hannah Brooks", "Service Manager"),
        staff: &[
            ("Hannah Brooks", "Service Manager"),
            ("Kwame Boateng", "IDVA"),
            ("Niamh Byrne", "IRIS Advocate Educator"),
            ("Leila Haddad", "Outreach Worker"),
        ],
    },
    DemoOrg {
        name: "Northbridge Building Society",
        org_type: "employer",
        locality: "Northbridge Central",
        address: "10 High Street, Northbridge NB1 4BS",
        lead: ("Paul Jennings", "HR Business Partner"),
        staff: &[
            ("Paul Jennings", "HR Business Partner"),
            ("Sophie Reid", "Branch Manager"),
        ],
    },
];

struct DemoUser {
    name: &'static str,
    email: &'static str,
    role: &'static str,
    organisation: Option<&'static str>,
}

const USERS: &[DemoUser] = &[
    DemoUser {
        name: "Alex Morgan",
        email: "alex.morgan@northbridge.example.org",
        role: "programme_lead",
        organisation: None,
    },
    DemoUser {
        name: "Bernadette Kaur",
        email: "bernadette.kaur@northbridge.example.org",
        role: "assessor",
        organisation: None,
    },
    DemoUser {
        name: "Chris Osei",
        email: "chris.osei@northbridge.example.org",
        role: "assessor",
        organisation: None,
    },
    DemoUser {
        name: "Niamh Byrne",
        email: "niamh.byrne@safehaven.example.org",
        role: "training_lead",
        organisation: None,
    },
    DemoUser {
        name: "Tom Whitaker",
        email: "tom.whitaker@northbridge.example.org",
        role: "training_lead",
        organisation: None,
    },
    DemoUser {
        name: "Siobhán Ní Bhriain",
        email: "siobhan.nibhriain@northbridgehomes.example.org",
        role: "org_member",
        organisation: Some("Northbridge Homes"),
    },
    DemoUser {
        name: "Karen Holt",
        email: "karen.holt@riverside.example.org",
        role: "org_member",
        organisation: Some("Riverside Medical Practice"),
    },
    DemoUser {
        name: "Claire Dunn",
        email: "claire.dunn@meadowfield.example.org",
        role: "org_member",
        organisation: Some("Sure Start Meadowfield Children's Centre"),
    },
];

fn work_email(name: &str, org: &str) -> String {
    let ascii = |text: &str| -> String {
        text.chars()
            .filter_map(|c| match c {
                'a'..='z' | 'A'..='Z' => Some(c.to_ascii_lowercase()),
                'á' | 'à' | 'ă' => Some('a'),
                'é' | 'ễ' | 'ế' => Some('e'),
                'í' | 'ị' => Some('i'),
                'ó' | 'ö' => Some('o'),
                'ú' | 'ü' => Some('u'),
                'ł' | 'Ł' => Some('l'),
                'ś' | 'Ś' => Some('s'),
                'ë' => Some('e'),
                'Ó' => Some('o'),
                'Đ' | 'đ' => Some('d'),
                ' ' | '-' => Some('.'),
                _ => None,
            })
            .collect()
    };
    let person = name
        .trim_start_matches("Dr ")
        .trim_start_matches("DI ")
        .trim_start_matches("PC ");
    let org_word = ascii(org.split_whitespace().next().unwrap_or("org"));
    format!("{}@{}.{DOMAIN}", ascii(person), org_word)
}

/// A demo record that fails its own checks is a bug in this file.
fn invalid(what: &str, problems: impl std::fmt::Debug) -> StartupError {
    StartupError::Refused(format!("demo {what} is invalid: {problems:?}"))
}

/// Builds everything through the same workflows the web uses, so the demo's
/// records carry the audit entries and certificates real ones would.
pub async fn run() -> Result<(), StartupError> {
    let (state, pool) = super::open_app("demo").await?;
    let acting = Acting::command_line("demo");
    let ctx = state.ctx(&pool);
    let (mut orgs_added, mut people_added) = (0, 0);
    for demo in ORGANISATIONS {
        let existing = {
            let mut conn = pool.acquire().await?;
            organisations::find_by_name(&mut conn, &name_key(demo.name)).await?
        };
        let org_id = match existing {
            Some(id) => id,
            None => {
                let input = OrganisationInput {
                    name: demo.name.into(),
                    org_type: demo.org_type.into(),
                    locality: demo.locality.into(),
                    address: demo.address.into(),
                    contact_name: demo.lead.0.into(),
                    contact_email: work_email(demo.lead.0, demo.name),
                    contact_phone: "01632 960000".into(),
                    da_lead_name: demo.lead.0.into(),
                    da_lead_email: work_email(demo.lead.0, demo.name),
                };
                let details = OrganisationDetails::try_from(&input).map_err(|e| invalid(demo.name, e))?;
                let id = app::organisations::create(ctx, &acting, &details)
                    .await?
                    .map_err(|e| invalid(demo.name, e))?;
                orgs_added += 1;
                id
            }
        };
        for (name, job) in demo.staff {
            let mut conn = pool.acquire().await?;
            if people::find_in_organisation(&mut conn, org_id, name).await?.is_some() {
                continue;
            }
            drop(conn);
            let person = PersonDetails::try_from(&PersonInput {
                full_name: (*name).into(),
                email: work_email(name, demo.name),
                job_title: (*job).into(),
                staff_category: demo_category(job).into(),
            })
            .map_err(|e| invalid(name, e))?;
            app::organisations::add_person(ctx, &acting, org_id, &person).await?;
            people_added += 1;
        }
    }
    println!(
        "Organisations: {orgs_added} added ({} in the demo set).",
        ORGANISATIONS.len()
    );
    println!("People: {people_added} added.");
    load_training(&state, &pool, &acting).await?;

    println!("\nDemo users (sign in at {}/login):", state.config.public_base_url);
    for demo in USERS {
        if users::find_by_email(&pool, demo.email).await?.is_some() {
            println!(
                "  {:<16} {:<48} already exists; password unchanged",
                demo.role, demo.email
            );
            continue;
        }
        let organisation_id = match demo.organisation {
            Some(name) => {
                let mut conn = pool.acquire().await?;
                organisations::find_by_name(&mut conn, &name_key(name)).await?
            }
            None => None,
        };
        let password = random_password();
        let user = NewUser::try_from(&NewUserInput {
            name: demo.name.into(),
            email: demo.email.into(),
            role: demo.role.into(),
            organisation_id,
            password: password.clone(),
            password_confirm: password.clone(),
        })
        .map_err(|e| invalid(demo.email, e))?;
        app::accounts::add_user(ctx, &acting, &user)
            .await?
            .map_err(|e| invalid(demo.email, e))?;
        println!("  {:<16} {:<48} password: {password}", demo.role, demo.email);
    }
    println!();
    super::demo_evidence::run(&state, &pool, chrono::Utc::now()).await?;
    super::certificates::demo(&state, &pool, &acting).await?;
    Ok(())
}

/// Who attended what, so that every completion state shows: an IRIS practice
/// fully trained and one part-way, a CORE cohort mid-course, ambassadors
/// active and lapsed. (organisation, person, programme, module, days ago, status, cohort)
// One row a line: the table reads as a register.
#[rustfmt::skip]
const ATTENDANCE: &[(&str, &str, &str, &str, i64, &str, &str)] = &[
    ("Riverside Medical Practice", "Dr Priya Shah", "iris", "clinical-1", 120, "attended", ""),
    ("Riverside Medical Practice", "Dr Łukasz Nowak", "iris", "clinical-1", 120, "attended", ""),
    ("Riverside Medical Practice", "Emma Clarke", "iris", "clinical-1", 120, "attended", ""),
    ("Riverside Medical Practice", "Dr Priya Shah", "iris", "clinical-2", 90, "attended", ""),
    ("Riverside Medical Practice", "Dr Łukasz Nowak", "iris", "clinical-2", 90, "attended", ""),
    ("Riverside Medical Practice", "Emma Clarke", "iris", "clinical-2", 90, "attended", ""),
    ("Riverside Medical Practice", "Joanna Wiśniewska", "iris", "admin-reception", 100, "attended", ""),
    ("Riverside Medical Practice", "Karen Holt", "iris", "practice-champion", 80, "attended", ""),
    ("Hillside Surgery", "Dr Tomás Ó Murchú", "iris", "clinical-1", 60, "attended", ""),
    ("Hillside Surgery", "Dr Olivia Grant", "iris", "clinical-1", 60, "partial", ""),
    ("Hillside Surgery", "Ruth Adeyemi", "iris", "admin-reception", 45, "attended", ""),
    ("Northbridge Council Children's Social Care", "Zoë Turner", "safe-and-together", "core-day-1", 9, "attended", "Cohort 5"),
    ("Northbridge Council Children's Social Care", "Priya Patel", "safe-and-together", "core-day-1", 9, "attended", "Cohort 5"),
    ("Northbridge Council Children's Social Care", "Tomás García", "safe-and-together", "core-day-1", 9, "attended", "Cohort 5"),
    ("Northbridge Council Children's Social Care", "Zoë Turner", "safe-and-together", "core-day-2", 8, "attended", "Cohort 5"),
    ("Northbridge Council Children's Social Care", "Priya Patel", "safe-and-together", "core-day-2", 8, "partial", "Cohort 5"),
    ("Northbridge Council Children's Social Care", "Tomás García", "safe-and-together", "core-day-2", 8, "attended", "Cohort 5"),
    ("Northbridge Council Children's Social Care", "Hannah Lewis", "safe-and-together", "overview", 30, "attended", ""),
    ("Northbridge Police Safeguarding Unit", "PC Jamal Ahmed", "safe-and-together", "overview", 30, "attended", ""),
    ("Northbridge Homes", "Siobhán Ní Bhriain", "domestic-abuse-ambassadors", "initial-day-1", 200, "attended", ""),
    ("Northbridge Homes", "Siobhán Ní Bhriain", "domestic-abuse-ambassadors", "initial-day-2", 193, "attended", ""),
    ("Northbridge Homes", "Aisha Rahman", "domestic-abuse-ambassadors", "initial-day-1", 200, "attended", ""),
    ("Northbridge Homes", "Aisha Rahman", "domestic-abuse-ambassadors", "initial-day-2", 193, "attended", ""),
    ("Northbridge Homes", "Marcus Bell", "domestic-abuse-ambassadors", "initial-day-1", 1300, "attended", ""),
    ("Northbridge Homes", "Marcus Bell", "domestic-abuse-ambassadors", "initial-day-2", 1293, "attended", ""),
    ("Northbridge Building Society", "Sophie Reid", "domestic-abuse-ambassadors", "initial-day-1", 200, "attended", ""),
    ("Northbridge Building Society", "Sophie Reid", "domestic-abuse-ambassadors", "initial-day-2", 193, "absent", ""),
    ("Safe Haven Domestic Abuse Service", "Kwame Boateng", "marac-briefing", "marac-briefing", 40, "attended", ""),
    ("Northbridge General Hospital", "Saoirse Kelly", "marac-briefing", "marac-briefing", 40, "attended", ""),
    ("Northbridge General Hospital", "Ben Carter", "dva-awareness", "dva-awareness", 20, "attended", ""),
    ("Probation Service Northbridge", "Grace Ellis", "routine-enquiry", "routine-enquiry", 15, "cancelled", ""),
];

/// Training sessions dated relative to the first run, so the states above hold
/// then. A second run finds the demo cohort and adds nothing.
async fn load_training(state: &AppState, pool: &Pool, acting: &Acting) -> Result<(), StartupError> {
    let programmes = &state.programmes;
    if crate::db::training::find_cohort(pool, "safe-and-together", "Cohort 5")
        .await?
        .is_some()
    {
        println!("Training: already loaded.");
        return Ok(());
    }
    let ctx = state.ctx(pool);
    let today = ctx.today();
    let module_ref = |programme_id: &str, module_id: &str| {
        programmes
            .current_version(programme_id)
            .map(|programme| crate::domain::import::ModuleRef {
                programme_id: programme.id.clone(),
                programme_version: programme.version.clone(),
                module_id: module_id.to_string(),
            })
    };
    let mut found = Vec::new();
    for (organisation, person, programme_id, module_id, days_ago, status, cohort) in ATTENDANCE {
        let Some(module) = module_ref(programme_id, module_id) else {
            continue;
        };
        let mut conn = pool.acquire().await?;
        let Some(org_id) = organisations::find_by_name(&mut conn, &name_key(organisation)).await? else {
            continue;
        };
        let Some(person_id) = people::find_in_organisation(&mut conn, org_id, person).await? else {
            continue;
        };
        let status = AttendanceStatus::parse(status).ok_or_else(|| invalid("attendance", status))?;
        found.push((
            module,
            today - chrono::Duration::days(*days_ago),
            *cohort,
            person_id,
            status,
        ));
    }
    let marks: Vec<app::training::Mark<'_>> = found
        .iter()
        .map(|(module, date, cohort, person_id, status)| app::training::Mark {
            module,
            date: *date,
            cohort,
            person_id: *person_id,
            status: *status,
        })
        .collect();
    let marked = app::training::record_attendance(ctx, acting, &marks).await?;
    for practice in ["Riverside Medical Practice", "Hillside Surgery"] {
        let mut conn = pool.acquire().await?;
        if let Some(org_id) = organisations::find_by_name(&mut conn, &name_key(practice)).await? {
            drop(conn);
            // Already signed up is fine: the demo only wants it to be so.
            let _ = app::training::sign_up(ctx, acting, "iris", org_id, today - chrono::Duration::days(150)).await?;
        }
    }
    // CORE days 3 and 4 of the demo cohort are still to come.
    let ahead: Vec<_> = [("core-day-3", 5), ("core-day-4", 6)]
        .into_iter()
        .filter_map(|(module_id, days_ahead)| {
            Some((
                module_ref("safe-and-together", module_id)?,
                today + chrono::Duration::days(days_ahead),
            ))
        })
        .collect();
    for (module, date) in &ahead {
        let session = app::training::SessionInput {
            module,
            date: *date,
            start_time: None,
            venue: "",
            online: false,
            trainer: "",
            capacity: None,
            cohort: "Cohort 5",
        };
        app::training::create_session(ctx, acting, &session).await?;
    }
    println!("Training: {marked} attendance records in demo sessions and a CORE cohort mid-course.");
    let answered = load_evaluations(ctx, acting).await?;
    println!("Evaluations: {answered} anonymous responses to the demo sessions.");
    Ok(())
}

/// Comments some demo respondents leave.
const DEMO_COMMENTS: [&str; 4] = [
    "Really practical, thank you.",
    "More time on case studies would help.",
    "The trainer made a difficult subject easy to talk about.",
    "Could we have a follow-up session in six months?",
];

/// A few responses to each past demo session whose programme has a form,
/// given on the session day through its link as attendees would. Mostly
/// the headline answer, some the next, a few the one after.
async fn load_evaluations(ctx: app::Ctx<'_>, acting: &Acting) -> Result<usize, StartupError> {
    let sessions = crate::db::training::sessions(ctx.db, "", 500, 0).await?;
    let mut answered = 0;
    for session in sessions.iter().filter(|s| s.session_date <= ctx.today()) {
        let Some(programme) = app::evaluations::programme_with_form(&ctx.app.programmes, session) else {
            continue;
        };
        let Some(form) = &programme.evaluation else {
            continue;
        };
        let token = app::evaluations::link(ctx, acting, session.id).await?;
        let Some(on_the_day) = session.session_date.and_hms_opt(15, 0, 0) else {
            continue;
        };
        let at = ctx.at(on_the_day.and_utc());
        for n in 0..(session.attended * 2).max(3) {
            let answers = form
                .questions
                .iter()
                .enumerate()
                .filter_map(|(q, question)| {
                    let spread =
                        (usize::try_from(n).unwrap_or(0) * 7 + q * 3 + usize::try_from(session.id).unwrap_or(0)) % 10;
                    let index = match spread {
                        0..=6 => 0,
                        7..=8 => 1,
                        _ => 2,
                    };
                    let answer = question.scale.get(index).or(question.scale.last())?;
                    Some((question.id.clone(), answer.clone()))
                })
                .collect();
            let comment = if n % 3 == 0 {
                DEMO_COMMENTS[usize::try_from(n + session.id).unwrap_or(0) % DEMO_COMMENTS.len()].to_string()
            } else {
                String::new()
            };
            let response = crate::domain::evaluation::Answers { answers, comment };
            if app::evaluations::respond(at, &token, &response).await?.is_ok() {
                answered += 1;
            }
        }
    }
    Ok(answered)
}

/// Whether the demo set has an organisation of this name (for the other demo parts' tests).
#[cfg(test)]
pub(super) fn has_organisation(name: &str) -> bool {
    ORGANISATIONS.iter().any(|o| o.name == name)
}

/// A staff category for a demo job, so the frameworks' training
/// requirements have categorised staff to count.
fn demo_category(job: &str) -> &'static str {
    let has = |word: &str| job.split_whitespace().any(|w| w == word);
    if has("GP") || has("Nurse") || has("Midwife") || job == "Healthcare Assistant" {
        "clinician"
    } else if has("Reception") || has("Receptionist") {
        "admin"
    } else if has("Lead") || job == "IDVA" {
        "dva lead"
    } else if job.ends_with("Manager") || has("Head") {
        "manager"
    } else {
        "frontline"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_emails_are_plain_ascii() {
        assert_eq!(
            work_email("Dr Łukasz Nowak", "Riverside Medical Practice"),
            "lukasz.nowak@riverside.example.org"
        );
        assert_eq!(
            work_email("Siobhán Ní Bhriain", "Northbridge Homes"),
            "siobhan.ni.bhriain@northbridge.example.org"
        );
    }

    #[test]
    fn every_demo_member_names_a_demo_organisation() {
        for user in USERS {
            if let Some(org) = user.organisation {
                assert!(ORGANISATIONS.iter().any(|o| o.name == org), "{org}");
            }
        }
    }
}
