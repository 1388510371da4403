//! The facts a report needs for one period, read through indexes: sessions
//! by date, kept completions by completion and date, completion spells by
//! the day they started. Nothing here works completion out from attendance.

use super::{db_run, Instant, Pool};
use crate::domain::assessment::State;
use crate::domain::programmes::{Programme, ProgrammeLibrary};
use crate::domain::report::delivery::{
    by_group, tally, AttendanceFact, Delivery, Mark, OrganisationFacts, SessionFacts,
};
use crate::domain::report::engine::{
    AwardRecord, CohortActivity, CompletionActivity, GroupCount, OpenAssessment, PeriodData, ProgrammeActivity,
    StandingAtEnd,
};
use crate::domain::report::Period;
use chrono::{DateTime, NaiveDate, Utc};
use rocket::tokio::sync::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Each organisation's name, type and locality by id: what the figures group
/// people and records by.
pub type Organisations = Arc<HashMap<i64, OrganisationFacts>>;

/// Each completion's holders by organisation type and locality, by completion id.
type Holding = BTreeMap<String, Vec<GroupCount>>;

/// What the periods of one report (a period and the one before it) read
/// once between them: the organisations, and each programme's holders at
/// both periods' ends, counted in one pass over its spells (a pass is most
/// of the work, and the two ends' holders are nearly the same spells).
/// The first period to need a read makes it; the other waits for it.
pub struct SharedReads {
    organisation_id: i64,
    ends: [NaiveDate; 2],
    organisations: OnceCell<Organisations>,
    holding: std::sync::Mutex<HashMap<String, Arc<OnceCell<[Holding; 2]>>>>,
    events: OnceCell<Vec<EventRow>>,
}

impl SharedReads {
    /// For the report on `period` (compared with the one before it), of
    /// `organisation_id` (0 for the whole partnership).
    pub fn new(period: Period, organisation_id: i64) -> SharedReads {
        SharedReads {
            organisation_id,
            ends: [period.previous().to, period.to],
            organisations: OnceCell::new(),
            holding: Default::default(),
            events: OnceCell::new(),
        }
    }

    /// The assessment events before the end of `end` (only the report's
    /// organisation's, if it has one): read once up to the later of the
    /// report's ends, and each period takes those before its own.
    async fn events_until(&self, pool: &Pool, end: NaiveDate) -> Result<std::borrow::Cow<'_, [EventRow]>, sqlx::Error> {
        let later = self.ends[0].max(self.ends[1]);
        if end > later {
            // Not one of the report's periods: read on its own.
            return Ok(std::borrow::Cow::Owned(
                events_before(pool, next_day(end), self.organisation_id).await?,
            ));
        }
        let shared = self
            .events
            .get_or_try_init(|| events_before(pool, next_day(later), self.organisation_id))
            .await?;
        Ok(std::borrow::Cow::Borrowed(shared))
    }

    /// Every organisation (or only the report's one).
    pub async fn organisations(&self, pool: &Pool) -> Result<&Organisations, sqlx::Error> {
        self.organisations
            .get_or_try_init(|| async {
                let rows: Vec<(i64, String, String, String)> = super::rows(
                    &mut pool.acquire().await?,
                    "SELECT id, name, org_type, locality FROM organisations WHERE ($1 = 0 OR id = $1)",
                    &[self.organisation_id.into()],
                )
                .await?;
                let facts = rows.into_iter().map(|(id, name, org_type, locality)| {
                    (
                        id,
                        OrganisationFacts {
                            name,
                            org_type,
                            locality,
                        },
                    )
                });
                Ok(Arc::new(facts.collect()))
            })
            .await
    }

    /// The programme's holders at `end`, read with those at the report's
    /// other end.
    async fn holding(
        &self,
        conn: &mut super::Conn,
        programme: &Programme,
        end: NaiveDate,
        organisations: &HashMap<i64, OrganisationFacts>,
    ) -> Result<Holding, sqlx::Error> {
        let Some(at) = self.ends.iter().position(|e| *e == end) else {
            // Not one of the report's ends: read on its own.
            let [held, _] = holders(conn, programme, [end, end], self.organisation_id, organisations).await?;
            return Ok(held);
        };
        let slot = {
            let mut slots = self.holding.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            slots.entry(programme.id.clone()).or_default().clone()
        };
        let both = slot
            .get_or_try_init(|| holders(conn, programme, self.ends, self.organisation_id, organisations))
            .await?;
        Ok(both[at].clone())
    }
}

/// A programme's holders of each completion at each of `ends`, from one
/// pass over its spells. A person holds a completion through one spell at a
/// time, so counting spells counts people.
async fn holders(
    conn: &mut super::Conn,
    programme: &Programme,
    ends: [NaiveDate; 2],
    organisation_id: i64,
    organisations: &HashMap<i64, OrganisationFacts>,
) -> Result<[Holding; 2], sqlx::Error> {
    // Spells that began by the later end and had not lapsed by the earlier,
    // each one number: organisation × 4, + 1 if held at the earlier end, + 2
    // if at the later (one that began by the later end is held then unless
    // it lapsed). A number for each end took SQLite and the counting here
    // twice the conversions for what is mostly the same spells.
    let joined = conn.backend().join_texts();
    let sql = format!(
        "SELECT cs.completion_id,
                {joined}(CAST(cs.organisation_id * 4
                    + CASE WHEN cs.held_from <= $2 AND (cs.held_until IS NULL OR cs.held_until > $2) THEN {AT_EARLIER} ELSE 0 END
                    + CASE WHEN cs.held_until IS NULL OR cs.held_until > $3 THEN {AT_LATER} ELSE 0 END AS TEXT), ',')
         FROM completion_spells cs
         WHERE cs.programme_id = $1 AND cs.held_from <= $3 AND (cs.held_until IS NULL OR cs.held_until > $2)
           AND ($4 = 0 OR cs.organisation_id = $4)
         GROUP BY cs.completion_id"
    );
    let (earlier, later) = (ends[0].min(ends[1]), ends[0].max(ends[1]));
    let values = [
        programme.id.as_str().into(),
        earlier.into(),
        later.into(),
        organisation_id.into(),
    ];
    let rows: Vec<(String, String)> = super::rows(conn, &sql, &values).await?;
    let mut at_earlier = Holding::new();
    let mut at_later = Holding::new();
    for (completion, spells) in rows {
        let spells: Vec<i64> = spells.split(',').filter_map(|n| n.parse().ok()).collect();
        let held_at = |end: i64| {
            let organisations_held = spells.iter().filter(move |n| (*n % 4) & end != 0).map(|n| (n / 4, 1));
            by_group(organisations_held, organisations)
        };
        at_earlier.insert(completion.clone(), held_at(AT_EARLIER));
        at_later.insert(completion, held_at(AT_LATER));
    }
    Ok(if ends[0] <= ends[1] {
        [at_earlier, at_later]
    } else {
        [at_later, at_earlier]
    })
}

/// How [`holders`]' read marks the ends at which a spell was held.
const AT_EARLIER: i64 = 1;
const AT_LATER: i64 = 2;

/// Organisation ids joined by commas, each once for every thing counted,
/// counted by the organisations' type and locality.
fn organisation_counts(ids: &str, organisations: &HashMap<i64, OrganisationFacts>) -> Vec<GroupCount> {
    let each = ids.split(',').filter_map(|id| id.parse().ok());
    by_group(each.map(|id| (id, 1)), organisations)
}

/// Every fact the engine needs for `period`, one of the periods `shared`
/// was made for: the whole partnership's records, or only its organisation's.
pub async fn period_data(
    pool: &Pool,
    programmes: &ProgrammeLibrary,
    period: Period,
    renewal_notice_days: u64,
    shared: &SharedReads,
) -> Result<PeriodData, sqlx::Error> {
    let started = std::time::Instant::now();
    let organisation_id = shared.organisation_id;
    let current = programmes.current();
    // Everything at once, each read on a connection of its own. The
    // period's attendance (the longest read) asks for its connection first,
    // before the organisations that the other reads wait for.
    let (mut delivery, awards, open_assessments, mut activities) = rocket::tokio::try_join!(
        delivery(pool, &current, period, shared),
        awards(pool, period.to, organisation_id),
        async { open_assessments(pool, shared, period.to, shared.organisations(pool).await?).await },
        async {
            let organisations = shared.organisations(pool).await?;
            rocket::futures::future::try_join_all(
                current
                    .iter()
                    .map(|programme| programme_activity(pool, programme, period, organisations, shared)),
            )
            .await
        },
    )?;
    for activity in &mut activities {
        let delivered = delivery.programmes.remove(&activity.programme_id).unwrap_or_default();
        activity.add_delivery(delivered);
    }
    tracing::debug!(?period, took = ?started.elapsed(), "figures: the period's facts");
    let evaluations = if organisation_id == 0 {
        let mut by_programme: BTreeMap<String, Vec<crate::domain::evaluation::Answers>> = BTreeMap::new();
        for (programme, answers) in super::evaluations::responses_in_period(pool, period.from, period.to).await? {
            by_programme.entry(programme).or_default().push(answers);
        }
        Some(by_programme)
    } else {
        None
    };
    Ok(PeriodData {
        evaluations,
        period,
        renewal_notice_days,
        awards,
        open_assessments,
        programmes: activities,
        training: delivery.training,
        training_organisations: delivery.training_organisations,
    })
}

/// The period's delivery, from one read of its sessions and attendance (see
/// [`crate::domain::report::delivery`]); only the report's organisation's
/// records if it has one.
async fn delivery(
    pool: &Pool,
    programmes: &[&Programme],
    period: Period,
    shared: &SharedReads,
) -> Result<Delivery, sqlx::Error> {
    // A year is 230,000 attendance records: read as each session's records
    // kept joined into one text (migration 0044), a few thousand rows. Read
    // as rows, they cost the driver several times what SQLite spends finding
    // them; joined at each read, building the texts was most of the read
    // (50 of 60 ms a year on the large data set). In date order, as the
    // index gives the sessions. A session counts as delivered only when
    // someone attended it, so the sessions come with their records rather
    // than from a read of their own.
    let attendance_sql = "SELECT s.id, s.programme_id, s.module_id, r.records
         FROM training_sessions s
         JOIN session_records r ON r.session_id = s.id
         WHERE s.session_date >= $1 AND s.session_date <= $2
         ORDER BY s.session_date, s.id";
    let started = std::time::Instant::now();
    let values = [period.from.into(), period.to.into()];
    let attendance: Vec<(i64, String, String, String)> =
        super::rows(&mut pool.acquire().await?, attendance_sql, &values).await?;
    let read = started.elapsed();
    let organisations = shared.organisations(pool).await?.clone();
    // Tens of milliseconds of counting: off the async threads, and so at the
    // same time as the other period's.
    let programmes: Vec<Programme> = programmes.iter().map(|p| (*p).clone()).collect();
    let organisation_id = shared.organisation_id;
    let counted = rocket::tokio::task::spawn_blocking(move || {
        let mut sessions = HashMap::with_capacity(attendance.len());
        let mut records = Vec::with_capacity(attendance.len());
        for (id, programme_id, module_id, joined) in attendance {
            sessions.insert(
                id,
                SessionFacts {
                    programme_id,
                    module_id,
                },
            );
            records.push((id, joined));
        }
        let facts = records.iter().flat_map(|(session_id, records)| {
            super::session_records::parse(records)
                .map(|record| attendance_fact(*session_id, record))
                .filter(|fact| organisation_id == 0 || fact.organisation_id == organisation_id)
        });
        let programmes: Vec<&Programme> = programmes.iter().collect();
        tally(&programmes, &sessions, facts, &organisations)
    })
    .await
    .map_err(|e| sqlx::Error::Protocol(format!("counting the period's attendance stopped: {e}")))?;
    tracing::debug!(?period, ?read, counted = ?started.elapsed() - read, "figures: the period's attendance");
    Ok(counted)
}

/// One record of a session's kept text (see [`super::session_records`]).
fn attendance_fact(session_id: i64, (person_id, organisation_id, mark): (i64, i64, u8)) -> AttendanceFact {
    let mark = match mark {
        super::session_records::PRESENT => Mark::Present,
        super::session_records::ABSENT => Mark::Absent,
        _ => Mark::Other,
    };
    AttendanceFact {
        session_id,
        person_id,
        organisation_id,
        mark,
    }
}

/// (organisation, its name, framework, awarded on, expires on, revoked at) of an award.
type AwardRow = (i64, String, String, NaiveDate, Option<NaiveDate>, Option<DateTime<Utc>>);

/// Awards made by the end of the period.
async fn awards(pool: &Pool, end: NaiveDate, organisation_id: i64) -> Result<Vec<AwardRecord>, sqlx::Error> {
    let sql = "SELECT a.organisation_id, o.name, a.framework_id, a.awarded_on, a.expires_on, a.revoked_at
         FROM assessments a JOIN organisations o ON o.id = a.organisation_id
         WHERE a.awarded_on IS NOT NULL AND a.awarded_on <= $1
           AND ($2 = 0 OR a.organisation_id = $2)";
    let rows: Vec<AwardRow> =
        super::rows(&mut pool.acquire().await?, sql, &[end.into(), organisation_id.into()]).await?;
    Ok(rows
        .into_iter()
        .map(
            |(organisation_id, organisation_name, framework_id, awarded, expires, revoked)| AwardRecord {
                organisation_id,
                organisation_name,
                framework_id,
                awarded_on: awarded,
                expires_on: expires,
                revoked_on: revoked.map(|at| at.date_naive()),
            },
        )
        .collect())
}

/// Assessments open at the end of the period, with the state their history
/// gives them then (not the state they have now), from the events the
/// report's periods share.
async fn open_assessments(
    pool: &Pool,
    shared: &SharedReads,
    end: NaiveDate,
    organisations: &HashMap<i64, OrganisationFacts>,
) -> Result<Vec<OpenAssessment>, sqlx::Error> {
    let before = next_day(end);
    let mut latest: BTreeMap<i64, OpenAssessment> = BTreeMap::new();
    for (id, framework_id, organisation_id, to_state, at) in shared.events_until(pool, end).await?.iter() {
        if *at >= before {
            continue;
        }
        let (Some(state), Some(organisation)) = (State::parse(to_state), organisations.get(organisation_id)) else {
            continue;
        };
        let entry = latest.entry(*id).or_insert_with(|| OpenAssessment {
            assessment_id: *id,
            framework_id: framework_id.clone(),
            organisation_name: organisation.name.clone(),
            state,
            waiting_since: None,
        });
        if matches!(state, State::Submitted | State::Resubmitted) {
            entry.waiting_since = Some(at.date_naive());
        }
        entry.state = state;
    }
    Ok(latest.into_values().filter(|a| a.state.is_open()).collect())
}

/// The first instant after `day` (UTC), as the events' instants are kept.
fn next_day(day: NaiveDate) -> DateTime<Utc> {
    day.succ_opt().unwrap_or(day).and_time(chrono::NaiveTime::MIN).and_utc()
}

/// (assessment, framework, organisation, state it moved to, when) of an
/// assessment event, in the order they happened for each assessment.
type EventRow = (i64, String, i64, String, DateTime<Utc>);

/// The assessment events before `before` (of one organisation, or every one's for 0).
async fn events_before(pool: &Pool, before: DateTime<Utc>, organisation_id: i64) -> Result<Vec<EventRow>, sqlx::Error> {
    super::rows(
        &mut pool.acquire().await?,
        "SELECT a.id, a.framework_id, a.organisation_id, e.to_state, e.at
         FROM assessment_events e JOIN assessments a ON a.id = e.assessment_id
         WHERE e.at < $1 AND ($2 = 0 OR a.organisation_id = $2)
         ORDER BY a.id, e.at, e.id",
        &[Instant(before).into(), organisation_id.into()],
    )
    .await
}

/// Counts by completion, organisation type and locality of the rows
/// `inner` selects (`completion_id` and `organisation_id`, a row for each
/// thing counted). Each completion's organisations come as one joined text
/// and are counted here: grouping them by organisation in SQL sorted every
/// row (10 of the 11 ms that a year's 20,000 awareness completions took on
/// the large set), and a row for each organisation cost the driver more
/// than SQLite spends counting.
async fn counts_by_group(
    conn: &mut super::Conn,
    inner: &str,
    values: &[super::Bind<'_>],
    organisations: &HashMap<i64, OrganisationFacts>,
) -> Result<BTreeMap<String, Vec<GroupCount>>, sqlx::Error> {
    let joined = conn.backend().join_texts();
    let sql = format!(
        "SELECT c.completion_id, {joined}(CAST(c.organisation_id AS TEXT), ',')
         FROM ({inner}) c GROUP BY c.completion_id"
    );
    let rows: Vec<(String, String)> = super::rows(conn, &sql, values).await?;
    Ok(rows
        .into_iter()
        .map(|(completion, ids)| (completion, organisation_counts(&ids, organisations)))
        .collect())
}

/// A programme's figures from its kept completions, sign-ups and cohorts:
/// everything but its delivery, which [`delivery`] counts for every
/// programme at once.
async fn programme_activity(
    pool: &Pool,
    programme: &Programme,
    period: Period,
    organisations: &HashMap<i64, OrganisationFacts>,
    shared: &SharedReads,
) -> Result<ProgrammeActivity, sqlx::Error> {
    let organisation_id = shared.organisation_id;
    let (from, to) = (period.from, period.to);
    let mut conn = pool.acquire().await?;
    // The programme's completions named one by one: each is then a range of
    // `person_completions_by_completed` by date, where "any completion"
    // read every completion the programme ever kept (140,000 for the large
    // set's awareness course, to count the year's 15,000).
    let named: Vec<String> = (0..programme.completions.len())
        .map(|i| format!("${}", i + 5))
        .collect();
    let completed_sql = format!(
        "SELECT pc.completion_id, pc.organisation_id
         FROM person_completions pc
         WHERE pc.programme_id = $1 AND pc.completion_id IN ({}) AND pc.completed_on >= $2 AND pc.completed_on <= $3
           AND ($4 = 0 OR pc.organisation_id = $4)",
        named.join(", ")
    );
    let mut values: Vec<super::Bind> = vec![
        programme.id.as_str().into(),
        from.into(),
        to.into(),
        organisation_id.into(),
    ];
    values.extend(programme.completions.iter().map(|c| c.id.as_str().into()));
    let completed = if programme.completions.is_empty() {
        BTreeMap::new()
    } else {
        counts_by_group(&mut conn, &completed_sql, &values, organisations).await?
    };
    let holding = shared.holding(&mut conn, programme, to, organisations).await?;
    // The queries below take their own connections.
    drop(conn);
    let completions = programme
        .completions
        .iter()
        .map(|c| CompletionActivity {
            completion_id: c.id.clone(),
            started: Vec::new(),
            completed: completed.get(&c.id).cloned().unwrap_or_default(),
            holding: holding.get(&c.id).cloned().unwrap_or_default(),
        })
        .collect();

    let (signed_up, standings) = if programme.organisation_rule.is_some() {
        (
            signed_up(pool, &programme.id, period.to, organisation_id).await?,
            standings(pool, &programme.id, period.to, organisation_id, Some(organisations)).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let cohorts = cohorts(pool, &programme.id, period, organisation_id).await?;
    Ok(ProgrammeActivity {
        programme_id: programme.id.clone(),
        totals: Default::default(),
        organisations: Vec::new(),
        modules: Vec::new(),
        completions,
        signed_up,
        standings,
        cohorts,
    })
}

async fn signed_up(
    pool: &Pool,
    programme_id: &str,
    end: NaiveDate,
    organisation_id: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    db_run!(pool => {
        sqlx::query_as(
            "SELECT s.organisation_id, o.name FROM programme_signups s JOIN organisations o ON o.id = s.organisation_id
             WHERE s.programme_id = $1 AND s.signed_up_on <= $2 AND ($3 = 0 OR s.organisation_id = $3)",
        )
        .bind(programme_id)
        .bind(end)
        .bind(organisation_id)
        .fetch_all(pool)
        .await
    })
}

/// Each organisation's people who had started each of the programme's
/// completions by `end`, and how many of them held it then
/// (`organisation_id` 0 for every organisation). The organisations' names
/// come from `known` when the caller has read them, else from the database.
pub async fn standings(
    pool: &Pool,
    programme_id: &str,
    end: NaiveDate,
    organisation_id: i64,
    known: Option<&HashMap<i64, OrganisationFacts>>,
) -> Result<Vec<StandingAtEnd>, sqlx::Error> {
    // Read as one text a completion, each started record
    // "organisation:person" and each holder's person id, and counted here:
    // grouping them in SQL sorted every record and built an index on the
    // holders for each request (24 ms for IRIS on the large set, now 5).
    // A person holds a completion through one spell at a time; the set keeps
    // the count right even if spells were ever to overlap.
    let joined = pool.backend().join_texts();
    let started_sql = format!(
        "SELECT pc.completion_id,
                {joined}(CAST(pc.organisation_id AS TEXT) || ':' || CAST(pc.person_id AS TEXT), ',')
         FROM person_completions pc
         WHERE pc.programme_id = $1 AND pc.started_on <= $2 AND ($3 = 0 OR pc.organisation_id = $3)
         GROUP BY pc.completion_id"
    );
    let held_sql = format!(
        "SELECT cs.completion_id, {joined}(CAST(cs.person_id AS TEXT), ',')
         FROM completion_spells cs
         WHERE cs.programme_id = $1 AND cs.held_from <= $2 AND (cs.held_until IS NULL OR cs.held_until > $2)
           AND ($3 = 0 OR cs.organisation_id = $3)
         GROUP BY cs.completion_id"
    );
    let names_sql = "SELECT o.id, o.name FROM organisations o
         WHERE o.id IN (SELECT pc.organisation_id FROM person_completions pc
                        WHERE pc.programme_id = $1 AND pc.started_on <= $2 AND ($3 = 0 OR pc.organisation_id = $3))";
    let values = [programme_id.into(), end.into(), organisation_id.into()];
    let mut conn = pool.acquire().await?;
    let started: Vec<(String, String)> = super::rows(&mut conn, &started_sql, &values).await?;
    let held: Vec<(String, String)> = super::rows(&mut conn, &held_sql, &values).await?;
    let names: HashMap<i64, String> = match known {
        Some(_) => HashMap::new(),
        None => super::rows(&mut conn, names_sql, &values).await?.into_iter().collect(),
    };
    let name_of = |id: i64| match known {
        Some(known) => known.get(&id).map(|o| o.name.clone()),
        None => names.get(&id).cloned(),
    };
    let numbers = |text: &str| -> Vec<i64> { text.split(',').filter_map(|n| n.parse().ok()).collect() };
    let held: HashMap<String, std::collections::HashSet<i64>> = held
        .into_iter()
        .map(|(completion, people)| (completion, numbers(&people).into_iter().collect()))
        .collect();
    // (organisation, completion) → (started, holding)
    let mut counts: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
    for (completion, records) in started {
        let holders = held.get(&completion);
        for record in records.split(',') {
            let Some((organisation, person)) = record.split_once(':') else {
                continue;
            };
            let (Ok(organisation), Ok(person)) = (organisation.parse::<i64>(), person.parse::<i64>()) else {
                continue;
            };
            let count = counts.entry((organisation, completion.clone())).or_default();
            count.0 += 1;
            if holders.is_some_and(|h| h.contains(&person)) {
                count.1 += 1;
            }
        }
    }
    Ok(counts
        .into_iter()
        .filter_map(|((organisation_id, completion_id), (started, holding))| {
            Some(StandingAtEnd {
                organisation_id,
                organisation_name: name_of(organisation_id)?,
                completion_id,
                started,
                holding,
            })
        })
        .collect())
}

/// Cohorts with a session in the period.
async fn cohorts(
    pool: &Pool,
    programme_id: &str,
    period: Period,
    organisation_id: i64,
) -> Result<Vec<CohortActivity>, sqlx::Error> {
    let found: Vec<(i64, String)> = db_run!(pool => { sqlx::query_as(
        "SELECT DISTINCT c.id, c.name FROM cohorts c JOIN training_sessions s ON s.cohort_id = c.id
         WHERE c.programme_id = $1 AND s.session_date >= $2 AND s.session_date <= $3 ORDER BY c.name",
    )
    .bind(programme_id)
    .bind(period.from)
    .bind(period.to)
    .fetch_all(pool)
    .await? });
    cohort_activities(pool, programme_id, found, period.to, organisation_id).await
}

/// One cohort: its people (0 for every organisation, else only that one's)
/// and how many had completed each completion by `end`.
pub async fn cohort_activity(
    pool: &Pool,
    programme_id: &str,
    id: i64,
    name: String,
    end: NaiveDate,
    organisation_id: i64,
) -> Result<CohortActivity, sqlx::Error> {
    let mut one = cohort_activities(pool, programme_id, vec![(id, name.clone())], end, organisation_id).await?;
    Ok(one.pop().unwrap_or(CohortActivity {
        id,
        name,
        people: 0,
        modules: Vec::new(),
        completed: Vec::new(),
    }))
}

/// How many cohorts one set of statements reads: a year holds a few hundred.
const COHORTS_A_STATEMENT: usize = 200;

/// [`cohort_activity`] for each of `cohorts` (id, name), in that order: three
/// statements for every [`COHORTS_A_STATEMENT`] cohorts rather than three a
/// cohort (a year's board report has hundreds of cohorts, twice over).
async fn cohort_activities(
    pool: &Pool,
    programme_id: &str,
    cohorts: Vec<(i64, String)>,
    end: NaiveDate,
    organisation_id: i64,
) -> Result<Vec<CohortActivity>, sqlx::Error> {
    let mut people: HashMap<i64, i64> = HashMap::new();
    let mut modules: HashMap<i64, Vec<String>> = HashMap::new();
    let mut completed: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
    let mut conn = pool.acquire().await?;
    for chunk in cohorts.chunks(COHORTS_A_STATEMENT) {
        let ids: Vec<super::Bind> = chunk.iter().map(|(id, _)| super::Bind::Int(*id)).collect();
        // Numbered on both backends: a few hundred values a statement.
        let listed = |first: usize| {
            (first..first + ids.len())
                .map(|n| format!("${n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut values = vec![organisation_id.into()];
        values.extend(ids.iter().cloned());
        // The people are looked up only to keep one organisation's: for
        // everyone's, the attendance alone answers.
        let their_organisation = match organisation_id {
            0 => "$1 = 0",
            _ => "EXISTS (SELECT 1 FROM people p WHERE p.id = a.person_id AND p.organisation_id = $1)",
        };
        let sql = format!(
            "SELECT s.cohort_id, COUNT(DISTINCT a.person_id) FROM training_sessions s
             JOIN attendance a ON a.session_id = s.id
             WHERE s.cohort_id IN ({}) AND {their_organisation}
             GROUP BY s.cohort_id",
            listed(2)
        );
        let counted: Vec<(i64, i64)> = super::rows(&mut conn, &sql, &values).await?;
        people.extend(counted);
        let sql = format!(
            "SELECT DISTINCT cohort_id, module_id FROM training_sessions WHERE cohort_id IN ({}) ORDER BY module_id",
            listed(1)
        );
        let taught: Vec<(i64, String)> = super::rows(&mut conn, &sql, &ids).await?;
        for (cohort, module) in taught {
            modules.entry(cohort).or_default().push(module);
        }
        // From each cohort's few people to their completions: SQLite
        // otherwise walks every completion of the programme and asks whether
        // its person is in the cohort (150 ms a cohort on the large data
        // set). CROSS JOIN keeps SQLite to this order; for PostgreSQL it is
        // an inner join like any other.
        let sql = format!(
            "SELECT cohort.cohort_id, pc.completion_id, COUNT(*)
             FROM (SELECT DISTINCT s.cohort_id, a.person_id FROM training_sessions s
                   JOIN attendance a ON a.session_id = s.id WHERE s.cohort_id IN ({})) cohort
             CROSS JOIN person_completions pc
             WHERE pc.person_id = cohort.person_id AND pc.programme_id = $1
               AND pc.completed_on IS NOT NULL AND pc.completed_on <= $2
               AND ($3 = 0 OR pc.organisation_id = $3)
             GROUP BY cohort.cohort_id, pc.completion_id
             ORDER BY cohort.cohort_id, pc.completion_id",
            listed(4)
        );
        let mut values = vec![programme_id.into(), end.into(), organisation_id.into()];
        values.extend(ids.iter().cloned());
        let counts: Vec<(i64, String, i64)> = super::rows(&mut conn, &sql, &values).await?;
        for (cohort, completion, count) in counts {
            completed.entry(cohort).or_default().push((completion, count));
        }
    }
    Ok(cohorts
        .into_iter()
        .map(|(id, name)| CohortActivity {
            id,
            name,
            people: people.get(&id).copied().unwrap_or(0),
            modules: modules.remove(&id).unwrap_or_default(),
            completed: completed.remove(&id).unwrap_or_default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_record_gives_back_its_person_organisation_and_mark() {
        let facts: Vec<(i64, i64, i64, Mark)> = crate::db::session_records::parse("199999:10000:2,1:4:1,3:5:3")
            .map(|record| attendance_fact(7, record))
            .map(|f| (f.session_id, f.person_id, f.organisation_id, f.mark))
            .collect();
        assert_eq!(
            facts,
            vec![
                (7, 199_999, 10_000, Mark::Absent),
                (7, 1, 4, Mark::Present),
                (7, 3, 5, Mark::Other)
            ]
        );
    }
}
