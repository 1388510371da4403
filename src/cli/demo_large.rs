//! `qmtrack demo --scale large`: the normal demo, then a partnership the size
//! the benchmarks are measured on (10,000 organisations, 200,000 people,
//! 1,000,000 attendance records over five years, 3,000 assessments in every
//! state, and the training certificates all that attendance earns).
//!
//! Everything is drawn from a fixed seed and dated back from `--as-of`
//! (today unless given), so the same seed and date give the same data.
//! It goes through the same workflows as every other door, so it cannot
//! drift from what the product does: organisations and untrained staff as
//! the web pages add them; attendance, the people it brings and their
//! sessions and cohorts as attendance imports (one per half-year of sheets,
//! each undoable from the import history) whose commits issue the
//! certificates; assessments by the normal demo's lifecycle builder; a few
//! certificates revoked and reissued as the certificate pages do.
use crate::app::imports as import_flow;
use crate::app::{self, Acting, AppState, Ctx};
use crate::db::{certificates, imports, Pool};
use crate::domain::completion::AttendanceStatus;
use crate::domain::import::matching::{OrgChoice, PersonChoice, Resolution};
use crate::domain::import::{AttendanceRecord, ModuleRef, PersonRef};
use crate::domain::organisation::{OrganisationDetails, OrganisationInput};
use crate::domain::person::{PersonDetails, PersonInput};
use crate::domain::programmes::{Programme, ProgrammeLibrary};
use crate::error::StartupError;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// How big the data set is; the defaults are the benchmark's.
#[derive(Debug, Clone)]
pub struct Size {
    pub organisations: usize,
    pub people: usize,
    pub attendance: usize,
    pub assessments: usize,
    pub years: i64,
    pub seed: u64,
    pub as_of: Option<NaiveDate>,
}

impl Default for Size {
    fn default() -> Self {
        Size {
            organisations: 10_000,
            people: 200_000,
            attendance: 1_000_000,
            assessments: 3_000,
            years: 5,
            seed: 2007,
            as_of: None,
        }
    }
}

/// Attendance rows committed per import: half a year of sheets at full size.
const ROWS_PER_IMPORT: usize = 100_000;

pub async fn run(size: Size) -> Result<(), StartupError> {
    // The small demo first: its users (with printed passwords) sign in to the large set.
    super::demo::run().await?;
    let (state, pool) = super::open_app("demo").await?;
    let as_of = size.as_of.unwrap_or_else(|| Utc::now().date_naive());
    let started = Instant::now();
    let progress = |what: &str| println!("[{:>6.1}s] {what}", started.elapsed().as_secs_f64());

    // Names already on record (the normal demo's) are not drawn again.
    let existing: HashSet<String> = imports::known_organisations(&pool)
        .await?
        .iter()
        .map(|o| crate::domain::organisation::name_key(&o.name))
        .collect();
    let mut rng = StdRng::seed_from_u64(size.seed);
    let plan = Plan::draw(&mut rng, &size, &state.programmes, as_of, existing);
    let marker = format!("qmtrack demo --scale large seed {} as of {as_of}", size.seed);
    if imports::committed_with_hash(&pool, &import_flow::sha256_hex(marker.as_bytes()))
        .await?
        .is_some()
    {
        println!(
            "The large data set (seed {}, as of {as_of}) is already loaded.",
            size.seed
        );
        return Ok(());
    }
    progress(&format!(
        "Planned {} organisations, {} people, {} attendance records in {} sessions.",
        plan.organisations.len(),
        plan.people.len(),
        plan.rows.len(),
        plan.sessions.len()
    ));

    // The five years end on `as_of`: everything is recorded as of then, so
    // completions, certificates and awards are current where they should be.
    let at = as_of.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc();
    let ctx = state.ctx(&pool).at(at);
    let acting = Acting::command_line("demo --scale large");
    let org_ids = write_organisations(ctx, &acting, &plan).await?;
    progress(&format!("{} organisations written.", org_ids.len()));

    let person_ids = write_attendance(ctx, &acting, &plan, &org_ids, &marker, &progress).await?;
    let untrained = write_untrained_people(ctx, &acting, &plan, &org_ids, &person_ids).await?;
    progress(&format!("{untrained} people without training written."));

    let assessed = write_assessments(&state, &pool, &plan, &org_ids, size.assessments, at, &mut rng).await?;
    progress(&format!("{assessed} assessments written."));

    let (issued, changed) = change_some_certificates(ctx, &acting).await?;
    progress(&format!(
        "{issued} training certificates issued by the imports; {changed} of them revoked or reissued."
    ));
    println!(
        "The large data set is loaded in {:.0} s; sign in as the demo users above.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct PlannedOrganisation {
    name: String,
    org_type: &'static str,
    locality: &'static str,
    address: String,
}

struct PlannedPerson {
    organisation: usize,
    full_name: String,
    email: String,
    job_title: &'static str,
}

/// A session: programme, module, date and (for cohort courses) the cohort's name.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PlannedSession {
    programme: usize,
    module: usize,
    date: NaiveDate,
    cohort: Option<u32>,
}

struct Plan {
    organisations: Vec<PlannedOrganisation>,
    people: Vec<PlannedPerson>,
    sessions: Vec<PlannedSession>,
    /// (person, session, status), in date order.
    rows: Vec<(u32, u32, AttendanceStatus)>,
    /// Each cohort's name, by its number less one.
    cohort_names: Vec<String>,
    programmes: Vec<Programme>,
}

const PLACE_STARTS: &[&str] = &[
    "Ash", "Beck", "Birch", "Brook", "Clay", "Cold", "Elm", "Fair", "Fern", "Green", "Hazel", "High", "Holly", "Kings",
    "Lark", "Long", "Marsh", "Mill", "North", "Oak", "Pen", "Queens", "Red", "Rose", "South", "Stan", "Thorn", "Wood",
    "West", "East", "Whit", "Wil",
];
const PLACE_ENDS: &[&str] = &[
    "ford", "field", "ham", "ley", "bridge", "by", "ton", "well", "wick", "stead", "mouth", "worth", "dale", "gate",
    "hurst", "borough",
];
const LOCALITIES: &[&str] = &[
    "Northbridge Central",
    "East Vale",
    "West Northbridge",
    "Meadowfield",
    "Riverside",
    "Canal Quarter",
    "Hillside",
    "Old Town",
    "Millbrook",
    "Southmoor",
    "Ashby Green",
    "Kingsmead",
    "Borough-wide",
];
const STREETS: &[&str] = &[
    "High Street",
    "Station Road",
    "Mill Lane",
    "Church Street",
    "Victoria Road",
    "Market Place",
    "Park Avenue",
    "Queen Street",
];
const FIRST_NAMES: &[&str] = &[
    "Aisha",
    "Amara",
    "Ben",
    "Chloe",
    "Daniel",
    "Emma",
    "Fatima",
    "Gareth",
    "Grace",
    "Hannah",
    "Ian",
    "Jamal",
    "Joanna",
    "Karen",
    "Kwame",
    "Leila",
    "Lucy",
    "Łukasz",
    "Marcus",
    "Mohammed",
    "Niamh",
    "Oluwaseun",
    "Paul",
    "Priya",
    "Rebecca",
    "Ruth",
    "Saoirse",
    "Siobhán",
    "Sophie",
    "Tomás",
    "Tomasz",
    "Zoë",
    "Yusuf",
    "Wei",
    "Anna",
    "David",
    "Sarah",
    "James",
    "Olivia",
    "Noah",
    "Amelia",
    "Harpreet",
    "Kofi",
    "Ewa",
    "Dmitri",
    "Isla",
    "Rhys",
    "Catrin",
    "Nguyễn",
    "Ana",
];
const LAST_NAMES: &[&str] = &[
    "Adeyemi",
    "Ahmed",
    "Begum",
    "Bell",
    "Boateng",
    "Brooks",
    "Byrne",
    "Carter",
    "Clarke",
    "Dunn",
    "Ellis",
    "Fletcher",
    "García",
    "Grant",
    "Haddad",
    "Hart",
    "Holt",
    "Iqbal",
    "Jennings",
    "Kaur",
    "Kelly",
    "Kowalski",
    "Lewis",
    "Marsh",
    "Mensah",
    "Moss",
    "Nowak",
    "Nwosu",
    "O'Brien",
    "Okafor",
    "Patel",
    "Price",
    "Rahman",
    "Reid",
    "Shah",
    "Singh",
    "Smith",
    "Taylor",
    "Turner",
    "Whitfield",
    "Wiśniewska",
    "Williams",
    "Jones",
    "Evans",
    "Thomas",
    "Roberts",
    "Chen",
    "Ó Murchú",
    "Ní Bhriain",
    "Hughes",
];

/// (type, weight among organisations, weight for staff size, name patterns with {p} for a place)
const TYPES: &[(&str, u32, u32, &[&str])] = &[
    (
        "employer",
        22,
        25,
        &[
            "{p} Building Society",
            "{p} Logistics",
            "{p} Leisure Centre",
            "{p} Engineering Ltd",
            "{p} Solicitors",
            "{p} Bakery",
        ],
    ),
    (
        "voluntary_sector",
        18,
        10,
        &[
            "{p} Women's Aid",
            "{p} Domestic Abuse Service",
            "{p} Citizens Advice",
            "{p} Food Bank",
            "{p} Men's Project",
            "{p} Community Trust",
        ],
    ),
    (
        "gp_practice",
        10,
        14,
        &[
            "{p} Surgery",
            "{p} Medical Practice",
            "{p} Health Centre",
            "{p} Family Practice",
        ],
    ),
    (
        "housing_provider",
        10,
        30,
        &["{p} Homes", "{p} Housing Association", "{p} Housing Trust"],
    ),
    (
        "council_service",
        8,
        45,
        &[
            "{p} Council Children's Social Care",
            "{p} Council Adult Social Care",
            "{p} Council Housing Options",
            "{p} Council Early Help",
        ],
    ),
    (
        "health",
        10,
        40,
        &[
            "{p} General Hospital",
            "{p} Community Health Services",
            "{p} Mental Health Team",
            "{p} Maternity Unit",
        ],
    ),
    (
        "childrens_centre",
        6,
        10,
        &["Sure Start {p} Children's Centre", "{p} Family Hub"],
    ),
    (
        "police",
        4,
        35,
        &["{p} Neighbourhood Policing Team", "{p} Police Safeguarding Unit"],
    ),
    (
        "probation",
        3,
        20,
        &["Probation Service {p}", "{p} Probation Delivery Unit"],
    ),
    (
        "other",
        9,
        8,
        &["{p} Faith Forum", "{p} Sports Club", "{p} Residents' Association"],
    ),
];

fn job_titles(org_type: &str) -> &'static [&'static str] {
    match org_type {
        "gp_practice" => &[
            "GP Partner",
            "Salaried GP",
            "Practice Nurse",
            "Healthcare Assistant",
            "Receptionist",
            "Receptionist",
            "Administrator",
            "Practice Manager",
        ],
        "council_service" => &[
            "Social Worker",
            "Social Worker",
            "Senior Practitioner",
            "Team Manager",
            "Family Support Worker",
        ],
        "health" => &[
            "Staff Nurse",
            "Midwife",
            "Health Visitor",
            "Doctor",
            "Ward Sister",
            "Safeguarding Nurse",
        ],
        "police" => &["Police Constable", "Detective Constable", "Sergeant", "PCSO"],
        "housing_provider" => &[
            "Housing Officer",
            "Tenancy Sustainment Officer",
            "Income Officer",
            "Repairs Supervisor",
        ],
        _ => &[
            "Manager",
            "Support Worker",
            "Administrator",
            "Volunteer",
            "Team Leader",
            "Adviser",
        ],
    }
}

/// How likely a member of staff of this type is to go on this programme.
fn affinity(programme_id: &str, org_type: &str) -> u32 {
    match (programme_id, org_type) {
        ("dva-awareness", _) => 6,
        ("domestic-abuse-ambassadors", "employer") => 3,
        ("domestic-abuse-ambassadors", _) => 1,
        ("iris", "gp_practice") => 8,
        ("iris", _) => 0,
        (
            "marac-briefing",
            "police" | "health" | "council_service" | "voluntary_sector" | "probation" | "housing_provider",
        ) => 3,
        ("marac-briefing", _) => 0,
        ("routine-enquiry", "health" | "gp_practice" | "housing_provider" | "childrens_centre") => 3,
        ("routine-enquiry", _) => 0,
        ("safe-and-together", "council_service") => 4,
        ("safe-and-together", "police" | "health" | "housing_provider") => 1,
        ("safe-and-together", _) => 0,
        _ => 1,
    }
}

fn weighted<'a, T>(rng: &mut StdRng, items: &'a [(T, u32)]) -> Option<&'a T> {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    if total == 0 {
        return None;
    }
    let mut pick = rng.gen_range(0..total);
    for (item, weight) in items {
        if pick < *weight {
            return Some(item);
        }
        pick -= weight;
    }
    None
}

fn status(rng: &mut StdRng) -> AttendanceStatus {
    match rng.gen_range(0..100) {
        0..=87 => AttendanceStatus::Attended,
        88..=91 => AttendanceStatus::Partial,
        92..=97 => AttendanceStatus::Absent,
        _ => AttendanceStatus::Cancelled,
    }
}

/// Sessions run on weekdays: a weekend date moves to the Monday.
fn weekday(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => date + Duration::days(2),
        Weekday::Sun => date + Duration::days(1),
        _ => date,
    }
}

fn ascii_slug(text: &str, separator: &str) -> String {
    let folded: String = text
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'ă' => 'a',
            'é' | 'ễ' | 'ë' => 'e',
            'í' => 'i',
            'ó' | 'Ó' | 'ö' => 'o',
            'ú' | 'ü' => 'u',
            'ł' | 'Ł' => 'l',
            'ś' | 'Ś' => 's',
            'ế' => 'e',
            'ĩ' | 'ị' => 'i',
            'Ø' | 'ø' => 'o',
            other => other,
        })
        .collect();
    folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(separator)
}

impl Plan {
    fn draw(
        rng: &mut StdRng,
        size: &Size,
        library: &ProgrammeLibrary,
        as_of: NaiveDate,
        taken: HashSet<String>,
    ) -> Plan {
        let programmes: Vec<Programme> = library.current().into_iter().cloned().collect();
        let organisations = draw_organisations(rng, size.organisations, taken);
        let people = draw_people(rng, size.people, &organisations);
        let mut plan = Plan {
            organisations,
            people,
            sessions: Vec::new(),
            rows: Vec::new(),
            cohort_names: Vec::new(),
            programmes,
        };
        plan.draw_attendance(rng, size, as_of);
        plan
    }

    fn draw_attendance(&mut self, rng: &mut StdRng, size: &Size, as_of: NaiveDate) {
        let first_day = as_of - Duration::days(365 * size.years);
        let window = (as_of - first_day).num_days().max(1);
        let mut session_index: HashMap<PlannedSession, u32> = HashMap::new();
        let mut cohorts: HashMap<(usize, NaiveDate), u32> = HashMap::new();
        let mut rows: Vec<(NaiveDate, u32, u32, AttendanceStatus)> = Vec::with_capacity(size.attendance);
        // One mark per person and session, as the register allows.
        let mut marked: HashSet<u64> = HashSet::with_capacity(size.attendance);
        // A tenth of staff never train; the rest share the attendance out.
        let mut order: Vec<usize> = (0..self.people.len()).filter(|i| i % 10 != 9).collect();
        order.shuffle(rng);
        let mean = (size.attendance / order.len().max(1)).max(1);
        let mut round = 0;
        while rows.len() < size.attendance && !order.is_empty() && round < 20 {
            round += 1;
            for &person in &order {
                if rows.len() >= size.attendance {
                    break;
                }
                let quota = rng.gen_range(1..=mean * 2 - 1).min(size.attendance - rows.len());
                let org_type = self.organisations[self.people[person].organisation].org_type;
                let job = self.people[person].job_title;
                let mut added = 0;
                let mut tries = 0;
                while added < quota && tries < 8 {
                    tries += 1;
                    let choices: Vec<(usize, u32)> = self
                        .programmes
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (i, affinity(&p.id, org_type)))
                        .collect();
                    let Some(&programme) = weighted(rng, &choices) else {
                        break;
                    };
                    let start = first_day + Duration::days(rng.gen_range(0..window));
                    let track = self.track(rng, programme, job, start, as_of);
                    for (module, date, cohort_start) in track {
                        if added >= quota {
                            break;
                        }
                        let cohort = cohort_start.map(|start| {
                            let next = cohorts.len() as u32 + 1;
                            *cohorts.entry((programme, start)).or_insert_with(|| {
                                self.cohort_names
                                    .push(format!("Cohort {next} ({})", start.format("%B %Y")));
                                next
                            })
                        });
                        let key = PlannedSession {
                            programme,
                            module,
                            date,
                            cohort,
                        };
                        let next = self.sessions.len() as u32;
                        let session = *session_index.entry(key.clone()).or_insert_with(|| {
                            self.sessions.push(key);
                            next
                        });
                        if marked.insert((u64::from(person as u32) << 32) | u64::from(session)) {
                            rows.push((date, person as u32, session, status(rng)));
                            added += 1;
                        }
                    }
                }
            }
        }
        rows.sort_by_key(|(date, person, session, _)| (*date, *session, *person));
        self.rows = rows.into_iter().map(|(_, p, s, st)| (p, s, st)).collect();
    }

    /// One person's way through a programme from `start`: a completion's
    /// modules in order (after what it requires), then refreshers. Each entry
    /// is (module index, date, cohort start date for multi-day courses).
    fn track(
        &self,
        rng: &mut StdRng,
        programme: usize,
        job: &str,
        start: NaiveDate,
        as_of: NaiveDate,
    ) -> Vec<(usize, NaiveDate, Option<NaiveDate>)> {
        let p = &self.programmes[programme];
        let module_index = |id: &str| p.modules.iter().position(|m| m.id == id);
        let clinician = ["GP", "Nurse", "Doctor", "Healthcare"].iter().any(|w| job.contains(w));
        let completion = match p.id.as_str() {
            "iris" if job == "Practice Manager" => p.completions.iter().find(|c| c.id == "champion"),
            "iris" if clinician => p.completions.iter().find(|c| c.id == "clinical"),
            "iris" => p.completions.iter().find(|c| c.id == "admin"),
            _ => {
                let roots: Vec<_> = p.completions.iter().filter(|c| c.after.is_none()).collect();
                roots.choose(rng).copied()
            }
        };
        let Some(completion) = completion else {
            return Vec::new();
        };
        let mut chain = vec![completion];
        // Some go on to what builds on it (CORE, then Supervisor).
        if let Some(next) = p
            .completions
            .iter()
            .find(|c| c.after.as_deref() == Some(&completion.id))
        {
            if rng.gen_bool(0.2) {
                chain.push(next);
            }
        }
        let mut out = Vec::new();
        let mut date = weekday(start);
        for c in chain {
            // Courses of three days or more run as cohorts on consecutive days from a Monday.
            let cohort = c.modules.len() >= 3;
            if cohort {
                date = date + Duration::days((7 - date.weekday().num_days_from_monday() as i64) % 7);
            }
            let cohort_start = cohort.then_some(date);
            for (n, module) in c.modules.iter().enumerate() {
                let Some(m) = module_index(module) else { continue };
                let day = if cohort {
                    cohort_start.unwrap_or(date) + Duration::days(n as i64)
                } else {
                    date
                };
                if day > as_of {
                    return out;
                }
                out.push((m, day, cohort_start));
                if !cohort {
                    date = weekday(day + Duration::days(rng.gen_range(7..60)));
                }
            }
            date = weekday(date + Duration::days(rng.gen_range(30..120)));
        }
        // Refreshers: ambassadors' network sessions every couple of months;
        // three-yearly courses done again around when they lapse.
        let refresh: Vec<usize> = completion.refreshed_by.iter().filter_map(|m| module_index(m)).collect();
        if let (Some(&first), Some(months)) = (refresh.first(), p.refresher_months_of(completion)) {
            let network = refresh.len() > 1;
            let gap = if network {
                60
            } else {
                i64::from(months) * 30 - rng.gen_range(0..60)
            };
            let mut day = date + Duration::days(gap);
            while day <= as_of && rng.gen_bool(if network { 0.8 } else { 0.5 }) {
                out.push((
                    if network {
                        refresh[rng.gen_range(0..refresh.len())]
                    } else {
                        first
                    },
                    weekday(day),
                    None,
                ));
                day += Duration::days(gap + rng.gen_range(0..30));
            }
        }
        out.retain(|(_, d, _)| *d <= as_of);
        out
    }
}

fn draw_organisations(rng: &mut StdRng, count: usize, mut taken: HashSet<String>) -> Vec<PlannedOrganisation> {
    let types: Vec<(usize, u32)> = TYPES.iter().enumerate().map(|(i, t)| (i, t.1)).collect();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let Some(&t) = weighted(rng, &types) else { break };
        let (org_type, _, _, patterns) = TYPES[t];
        let place = format!(
            "{}{}",
            PLACE_STARTS[rng.gen_range(0..PLACE_STARTS.len())],
            PLACE_ENDS[rng.gen_range(0..PLACE_ENDS.len())]
        );
        let locality = LOCALITIES[rng.gen_range(0..LOCALITIES.len())];
        let pattern = patterns[rng.gen_range(0..patterns.len())];
        let mut name = pattern.replace("{p}", &place);
        // Branches of the same name are told apart as people tell them apart.
        if taken.contains(&crate::domain::organisation::name_key(&name)) {
            name = format!("{name} ({locality})");
        }
        let mut branch = 2;
        while taken.contains(&crate::domain::organisation::name_key(&name)) {
            name = format!("{} ({locality}) {branch}", pattern.replace("{p}", &place));
            branch += 1;
        }
        taken.insert(crate::domain::organisation::name_key(&name));
        let address = format!(
            "{} {}, {place} NB{} {}{}{}",
            rng.gen_range(1..200),
            STREETS[rng.gen_range(0..STREETS.len())],
            rng.gen_range(1..20),
            rng.gen_range(1..10),
            (b'A' + rng.gen_range(0..26)) as char,
            (b'A' + rng.gen_range(0..26)) as char
        );
        out.push(PlannedOrganisation {
            name,
            org_type,
            locality,
            address,
        });
    }
    out
}

fn draw_people(rng: &mut StdRng, count: usize, organisations: &[PlannedOrganisation]) -> Vec<PlannedPerson> {
    // Staff sizes vary by type and, within a type, a lot (a few large employers).
    let weights: Vec<(usize, u32)> = organisations
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let base = TYPES.iter().find(|t| t.0 == o.org_type).map_or(10, |t| t.2);
            (i, base * rng.gen_range(1..=6) / 3 + 1)
        })
        .collect();
    let total: u64 = weights.iter().map(|(_, w)| u64::from(*w)).sum();
    let mut cumulative = Vec::with_capacity(weights.len());
    let mut running = 0u64;
    for (_, w) in &weights {
        running += u64::from(*w);
        cumulative.push(running);
    }
    (0..count)
        .map(|n| {
            let pick = rng.gen_range(0..total.max(1));
            let organisation = cumulative.partition_point(|c| *c <= pick).min(organisations.len() - 1);
            let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
            let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
            let titles = job_titles(organisations[organisation].org_type);
            let domain = ascii_slug(&organisations[organisation].name, "");
            let domain: String = domain.chars().take(30).collect();
            PlannedPerson {
                organisation,
                full_name: format!("{first} {last}"),
                // The number keeps two staff of the same name apart, as real addresses do.
                email: format!(
                    "{}.{}{}@{domain}.example.org",
                    ascii_slug(first, "."),
                    ascii_slug(last, "."),
                    n
                ),
                job_title: titles[rng.gen_range(0..titles.len())],
            }
        })
        .collect()
}

/// Through the same workflow as the organisation pages (validation, audit
/// entry). Returns the database id of each planned organisation.
async fn write_organisations(ctx: Ctx<'_>, acting: &Acting, plan: &Plan) -> Result<Vec<i64>, StartupError> {
    let mut ids = Vec::with_capacity(plan.organisations.len());
    for o in &plan.organisations {
        let slug = ascii_slug(&o.name, "");
        let input = OrganisationInput {
            name: o.name.clone(),
            org_type: o.org_type.into(),
            locality: o.locality.into(),
            address: o.address.clone(),
            contact_name: String::new(),
            contact_email: format!("info@{}.example.org", slug.chars().take(30).collect::<String>()),
            contact_phone: "01632 960000".into(),
            da_lead_name: String::new(),
            da_lead_email: String::new(),
        };
        let details = OrganisationDetails::try_from(&input).map_err(|e| invalid(&o.name, e))?;
        let id = app::organisations::create(ctx, acting, &details)
            .await?
            .map_err(|e| invalid(&o.name, e))?;
        ids.push(id);
    }
    Ok(ids)
}

fn invalid(what: &str, problems: impl std::fmt::Debug) -> StartupError {
    StartupError::Refused(format!("planned {what} is invalid: {problems:?}"))
}

fn person_key(person: &PlannedPerson) -> String {
    PersonRef {
        full_name: person.full_name.clone(),
        email: person.email.clone(),
        organisation: String::new(),
        job_title: String::new(),
        staff_category: None,
    }
    .key()
}

/// Commits the attendance as imports of half a year's sheets each, through
/// the import's own commit. Returns each planned person's id (0 if untrained).
async fn write_attendance(
    ctx: Ctx<'_>,
    acting: &Acting,
    plan: &Plan,
    org_ids: &[i64],
    marker: &str,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Vec<i64>, StartupError> {
    let pool = ctx.db;
    let now = ctx.now;
    let mut person_ids = vec![0i64; plan.people.len()];
    let chunks: Vec<&[(u32, u32, AttendanceStatus)]> = plan.rows.chunks(ROWS_PER_IMPORT).collect();
    for (n, chunk) in chunks.iter().enumerate() {
        let first = plan.sessions[chunk[0].1 as usize].date;
        let last = plan.sessions[chunk[chunk.len() - 1].1 as usize].date;
        let file_name = format!("Sign-in sheets {first} to {last}.xlsx");
        // The last import carries the marker, so a finished load is recognised.
        let hash_source = if n + 1 == chunks.len() {
            marker.to_string()
        } else {
            format!("{marker} part {n}")
        };
        let mut resolution = Resolution::default();
        let mut records = Vec::with_capacity(chunk.len());
        for (row, (person, session, status)) in chunk.iter().enumerate() {
            let p = &plan.people[*person as usize];
            let s = &plan.sessions[*session as usize];
            let programme = &plan.programmes[s.programme];
            let key = person_key(p);
            resolution
                .people
                .entry(key.clone())
                .or_insert_with(|| match person_ids[*person as usize] {
                    0 => PersonChoice::New {
                        full_name: p.full_name.clone(),
                        email: p.email.clone(),
                        job_title: p.job_title.into(),
                        organisation: OrgChoice::Existing(org_ids[p.organisation]),
                    },
                    id => PersonChoice::Existing(id),
                });
            records.push(AttendanceRecord {
                person_key: key,
                sheet: programme.name.clone(),
                row: row + 2,
                column: String::new(),
                person: PersonRef {
                    full_name: p.full_name.clone(),
                    email: p.email.clone(),
                    organisation: plan.organisations[p.organisation].name.clone(),
                    job_title: p.job_title.into(),
                    staff_category: None,
                },
                module: ModuleRef {
                    programme_id: programme.id.clone(),
                    programme_version: programme.version.clone(),
                    module_id: programme.modules[s.module].id.clone(),
                },
                date: s.date,
                status: *status,
                cohort: s.cohort.and_then(|c| plan.cohort_names.get(c as usize - 1).cloned()),
            });
        }
        let sha256 = import_flow::sha256_hex(hash_source.as_bytes());
        let import_id = import_flow::start(
            pool,
            &acting.audit,
            &file_name,
            &sha256,
            &import_flow::Choices::default(),
            now,
        )
        .await?;
        let preview = import_flow::prepared(&file_name, &sha256, records, resolution);
        let request = import_flow::CommitRequest::new(pool, &ctx.app.programmes, import_id, &acting.audit, now);
        let outcome = import_flow::commit(&request, &preview, &|_, _| {})
            .await
            .map_err(|e| StartupError::Refused(format!("import of “{file_name}” failed: {e}")))?;
        // Who the import added, so later sheets find them as people already on record.
        let by_email: HashMap<String, i64> = imports::known_people(pool)
            .await?
            .into_iter()
            .map(|k| (k.email, k.id))
            .collect();
        for &(person, _, _) in chunk.iter() {
            let slot = &mut person_ids[person as usize];
            if *slot == 0 {
                *slot = by_email.get(&plan.people[person as usize].email).copied().unwrap_or(0);
            }
        }
        progress(&format!(
            "Import {}/{} “{file_name}”: {} attendance records, {} new people, {} new sessions.",
            n + 1,
            chunks.len(),
            outcome.attendance_created,
            outcome.people_created,
            outcome.sessions_created
        ));
    }
    Ok(person_ids)
}

/// Staff on record who have not trained yet, added as the people pages add them.
async fn write_untrained_people(
    ctx: Ctx<'_>,
    acting: &Acting,
    plan: &Plan,
    org_ids: &[i64],
    person_ids: &[i64],
) -> Result<usize, StartupError> {
    let mut added = 0;
    for (person, id) in plan.people.iter().zip(person_ids) {
        if *id != 0 {
            continue;
        }
        let details = PersonDetails::try_from(&PersonInput {
            full_name: person.full_name.clone(),
            email: person.email.clone(),
            job_title: person.job_title.into(),
            ..Default::default()
        })
        .map_err(|e| invalid(&person.full_name, e))?;
        app::organisations::add_person(ctx, acting, org_ids[person.organisation], &details).await?;
        added += 1;
    }
    Ok(added)
}

/// Assessments spread over every stage of the lifecycle, each built step by
/// step by the normal demo's builder (events, evidence, decisions, audit).
async fn write_assessments(
    state: &AppState,
    pool: &Pool,
    plan: &Plan,
    org_ids: &[i64],
    count: usize,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> Result<usize, StartupError> {
    use super::demo_evidence::{Scenario, Stage};
    let mut chosen: Vec<usize> = (0..plan.organisations.len()).collect();
    chosen.shuffle(rng);
    let mut scenarios = Vec::with_capacity(count);
    for (n, &org) in chosen.iter().cycle().take(count).enumerate() {
        let stage = Stage::ALL[n % Stage::ALL.len()];
        let framework = match plan.organisations[org].org_type {
            "gp_practice" => "dva-quality-mark-gp",
            "housing_provider" => "daha",
            "employer" => "dva-quality-mark-workplace",
            _ => "dva-quality-mark-service",
        };
        // Days since enrolling that put the award where the stage says
        // (awarded 45 days after enrolling, for three years).
        let enrolled_days_ago = match stage {
            Stage::Awarded => rng.gen_range(60..950),
            Stage::RenewalStarted => rng.gen_range(1_060..1_120),
            Stage::Expired => rng.gen_range(1_200..1_800),
            Stage::Revoked => rng.gen_range(100..950),
            _ => rng.gen_range(4..45),
        };
        scenarios.push((org, framework, stage, enrolled_days_ago));
    }
    let built = super::demo_evidence::build_many(
        state,
        pool,
        scenarios.iter().map(|(org, framework, stage, days)| {
            (
                org_ids[*org],
                Scenario {
                    organisation: &plan.organisations[*org].name,
                    framework,
                    stage: *stage,
                    enrolled_days_ago: *days,
                },
            )
        }),
        now,
    )
    .await?;
    Ok(built)
}

/// The imports issued a certificate for every completion, as they do for a
/// training lead. A few are revoked or reissued through the same workflows
/// as the certificate pages, so every state shows. Returns (issued, changed).
async fn change_some_certificates(ctx: Ctx<'_>, acting: &Acting) -> Result<(usize, usize), StartupError> {
    let ids = certificates::training_ids(ctx.db).await?;
    let mut changed = 0;
    for (n, id) in ids.iter().enumerate().filter(|(n, _)| n % 500 == 7) {
        let done = if n % 1000 == 7 {
            app::certificates::revoke(ctx, acting, *id, "Demo: issued to the wrong person")
                .await?
                .is_ok()
        } else {
            let Some(row) = certificates::find(ctx.db, *id).await? else {
                continue;
            };
            app::certificates::reissue(ctx, acting, *id, &row.holder_name)
                .await?
                .is_ok()
        };
        changed += usize::from(done);
    }
    Ok((ids.len(), changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> ProgrammeLibrary {
        crate::domain::programmes::load_dir(std::path::Path::new("standards/training")).expect("programmes")
    }

    fn small() -> Size {
        Size {
            organisations: 60,
            people: 600,
            attendance: 3_000,
            as_of: NaiveDate::from_ymd_opt(2026, 6, 1),
            ..Size::default()
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_partnership() {
        let library = library();
        let draw = || {
            let size = small();
            let mut rng = StdRng::seed_from_u64(size.seed);
            Plan::draw(&mut rng, &size, &library, size.as_of.expect("date"), HashSet::new())
        };
        let (a, b) = (draw(), draw());
        assert_eq!(a.rows, b.rows);
        assert_eq!(
            a.people.iter().map(|p| &p.email).collect::<Vec<_>>(),
            b.people.iter().map(|p| &p.email).collect::<Vec<_>>()
        );
        assert_eq!(a.rows.len(), 3_000);
    }

    #[test]
    fn the_plan_is_realistic_and_well_formed() {
        let library = library();
        let size = small();
        let as_of = size.as_of.expect("date");
        let mut rng = StdRng::seed_from_u64(size.seed);
        let plan = Plan::draw(&mut rng, &size, &library, as_of, HashSet::new());
        let names: HashSet<String> = plan
            .organisations
            .iter()
            .map(|o| crate::domain::organisation::name_key(&o.name))
            .collect();
        assert_eq!(names.len(), plan.organisations.len(), "organisation names are unique");
        assert!(plan.organisations.iter().any(|o| o.org_type == "gp_practice"));
        let emails: HashSet<&str> = plan.people.iter().map(|p| p.email.as_str()).collect();
        assert_eq!(emails.len(), plan.people.len(), "emails are unique");
        let mut seen = HashSet::new();
        for (person, session, _) in &plan.rows {
            assert!(seen.insert((*person, *session)), "one mark per person and session");
            let s = &plan.sessions[*session as usize];
            assert!(s.date <= as_of && s.date > as_of - Duration::days(365 * 5 + 1));
            assert!(!matches!(s.date.weekday(), Weekday::Sat | Weekday::Sun));
            let org_type = plan.organisations[plan.people[*person as usize].organisation].org_type;
            if plan.programmes[s.programme].id == "iris" {
                assert_eq!(org_type, "gp_practice", "only practices do IRIS");
            }
        }
        let programmes: HashSet<usize> = plan.sessions.iter().map(|s| s.programme).collect();
        assert_eq!(programmes.len(), plan.programmes.len(), "every programme has sessions");
    }
}
