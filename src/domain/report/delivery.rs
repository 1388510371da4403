//! Training delivered in a period, worked out in one pass over the period's
//! attendance: sessions, attendances, people and absences for all training,
//! each programme and each module, the organisations reached, and the people
//! who started each completion by organisation type and locality.
//!
//! One pass, because the figures need distinct people at every level (a
//! person at two modules of a programme is one person of the programme), so
//! no level can be summed from another; reading the period's attendance once
//! and counting here replaced one indexed scan of it per figure (about twenty
//! for a year), which made the first report of a year take seconds.

use super::engine::{count, Activity, GroupCount};
use crate::domain::programmes::Programme;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes the ids the tally counts (a few million set insertions for a
/// year): a multiply in place of the default hasher's rounds, which took
/// most of the tally's time. The ids are the database's own, not anyone's
/// choice, so nothing can be gained by colliding them.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_i64(&mut self, n: i64) {
        self.0 = (self.0 ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        // The table picks a bucket by the low bits: fold the well-mixed high ones in.
        self.0 ^ (self.0 >> 29)
    }
}

type IdSet = HashSet<i64, BuildHasherDefault<IdHasher>>;
type IdMap = HashMap<i64, i64, BuildHasherDefault<IdHasher>>;

/// What a session is (for the sessions in the period).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    pub programme_id: String,
    pub module_id: String,
}

/// How an attendance was marked, as far as the figures care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Attended in full or in part.
    Present,
    /// Booked and marked absent.
    Absent,
    /// Anything else (a cancelled booking): the session is not counted for it.
    Other,
}

/// One attendance record of the period, with the organisation its person belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttendanceFact {
    pub session_id: i64,
    pub person_id: i64,
    pub organisation_id: i64,
    pub mark: Mark,
}

/// The organisation facts the figures group by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationFacts {
    pub name: String,
    pub org_type: String,
    pub locality: String,
}

/// One programme's delivery in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgrammeDelivery {
    pub totals: Activity,
    /// Names of the organisations whose staff attended, in order.
    pub organisations: Vec<String>,
    /// By module: every module with an attendance record in the period.
    pub modules: Vec<(String, Activity)>,
    /// People present at any of each completion's modules, by completion id.
    pub started: BTreeMap<String, Vec<GroupCount>>,
}

/// The period's delivery: all training, and each of `programmes` by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    pub training: Activity,
    pub training_organisations: Vec<String>,
    pub programmes: BTreeMap<String, ProgrammeDelivery>,
}

/// Distinct sessions and people as they are counted.
#[derive(Default)]
struct Tally {
    sessions: IdSet,
    attendances: i64,
    people: IdSet,
    absences: i64,
}

impl Tally {
    fn add(&mut self, fact: &AttendanceFact) {
        match fact.mark {
            Mark::Present => {
                self.sessions.insert(fact.session_id);
                self.attendances += 1;
                self.people.insert(fact.person_id);
            }
            Mark::Absent => self.absences += 1,
            Mark::Other => {}
        }
    }

    fn activity(&self) -> Activity {
        Activity {
            sessions: count(self.sessions.len()),
            attendances: self.attendances,
            people: count(self.people.len()),
            absences: self.absences,
        }
    }
}

#[derive(Default)]
struct ProgrammeTally<'a> {
    totals: Tally,
    organisations: IdSet,
    modules: BTreeMap<&'a str, Tally>,
    /// Completion id → (person, their organisation) present at one of its modules.
    started: BTreeMap<&'a str, IdMap>,
}

/// Counts `attendance` (records of sessions in `sessions`; others are
/// skipped) for all training and for each of `programmes`.
pub fn tally(
    programmes: &[&Programme],
    sessions: &HashMap<i64, SessionFacts>,
    attendance: impl IntoIterator<Item = AttendanceFact>,
    organisations: &HashMap<i64, OrganisationFacts>,
) -> Delivery {
    let mut all = Tally::default();
    let mut reached = IdSet::default();
    let mut by_programme: BTreeMap<&str, ProgrammeTally> = programmes
        .iter()
        .map(|p| (p.id.as_str(), ProgrammeTally::default()))
        .collect();
    // Which completions each module of each programme counts towards.
    let completions_of: HashMap<(&str, &str), Vec<&str>> = programmes
        .iter()
        .flat_map(|p| {
            p.modules.iter().map(move |m| {
                let of = p
                    .completions
                    .iter()
                    .filter(|c| c.modules.contains(&m.id))
                    .map(|c| c.id.as_str())
                    .collect();
                ((p.id.as_str(), m.id.as_str()), of)
            })
        })
        .collect();

    // The completions of the last fact's session: facts come a session at a time.
    let mut last: Option<(i64, Option<&Vec<&str>>)> = None;
    for fact in attendance {
        let Some(session) = sessions.get(&fact.session_id) else {
            continue;
        };
        all.add(&fact);
        let present = fact.mark == Mark::Present;
        if present {
            reached.insert(fact.organisation_id);
        }
        let Some(programme) = by_programme.get_mut(session.programme_id.as_str()) else {
            continue;
        };
        programme.totals.add(&fact);
        programme
            .modules
            .entry(session.module_id.as_str())
            .or_default()
            .add(&fact);
        if !present {
            continue;
        }
        programme.organisations.insert(fact.organisation_id);
        let completions = match last {
            Some((id, completions)) if id == fact.session_id => completions,
            _ => {
                let key = (session.programme_id.as_str(), session.module_id.as_str());
                let completions = completions_of.get(&key);
                last = Some((fact.session_id, completions));
                completions
            }
        };
        for completion in completions.into_iter().flatten() {
            programme
                .started
                .entry(completion)
                .or_default()
                .insert(fact.person_id, fact.organisation_id);
        }
    }

    let names = |ids: &IdSet| -> Vec<String> {
        let set: BTreeSet<&str> = ids
            .iter()
            .filter_map(|id| organisations.get(id))
            .map(|o| o.name.as_str())
            .collect();
        set.into_iter().map(str::to_string).collect()
    };
    let programmes = by_programme
        .into_iter()
        .map(|(id, t)| {
            let started = t
                .started
                .into_iter()
                .map(|(completion, people)| {
                    let counts = people.values().map(|o| (*o, 1));
                    (completion.to_string(), by_group(counts, organisations))
                })
                .collect();
            let delivery = ProgrammeDelivery {
                totals: t.totals.activity(),
                organisations: names(&t.organisations),
                modules: t
                    .modules
                    .into_iter()
                    .map(|(m, tally)| (m.to_string(), tally.activity()))
                    .collect(),
                started,
            };
            (id.to_string(), delivery)
        })
        .collect();
    Delivery {
        training: all.activity(),
        training_organisations: names(&reached),
        programmes,
    }
}

/// Counts by organisation, summed by the organisations' type and locality
/// (for people, each person once with their one organisation).
pub fn by_group(
    counts: impl IntoIterator<Item = (i64, i64)>,
    organisations: &HashMap<i64, OrganisationFacts>,
) -> Vec<GroupCount> {
    let mut sums: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for (organisation, n) in counts {
        if let Some(o) = organisations.get(&organisation) {
            *sums.entry((o.org_type.as_str(), o.locality.as_str())).or_default() += n;
        }
    }
    sums.into_iter()
        .map(|((org_type, locality), count)| GroupCount {
            org_type: org_type.to_string(),
            locality: locality.to_string(),
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::programmes::shipped;

    fn organisation(name: &str, org_type: &str, locality: &str) -> OrganisationFacts {
        OrganisationFacts {
            name: name.into(),
            org_type: org_type.into(),
            locality: locality.into(),
        }
    }

    fn fact(session_id: i64, person_id: i64, organisation_id: i64, mark: Mark) -> AttendanceFact {
        AttendanceFact {
            session_id,
            person_id,
            organisation_id,
            mark,
        }
    }

    #[test]
    fn people_are_counted_once_at_each_level_and_absences_do_not_start_anything() {
        let library = shipped();
        let iris = library.current_version("iris").expect("IRIS ships");
        let marac = library.current_version("marac-briefing").expect("MARAC ships");
        let clinical = iris
            .completions
            .iter()
            .find(|c| c.modules.len() > 1)
            .expect("IRIS has a completion of several modules");
        let (first, second) = (&clinical.modules[0], &clinical.modules[1]);
        let session = |programme: &Programme, module: &str| SessionFacts {
            programme_id: programme.id.clone(),
            module_id: module.to_string(),
        };
        let sessions = HashMap::from([
            (1, session(iris, first)),
            (2, session(iris, second)),
            (3, session(marac, &marac.modules[0].id)),
        ]);
        let organisations = HashMap::from([
            (10, organisation("Riverside Surgery", "gp_practice", "North")),
            (20, organisation("Meadowfield Police", "police", "")),
        ]);
        let attendance = vec![
            // Person 1 attends both IRIS modules: one person, two attendances.
            fact(1, 1, 10, Mark::Present),
            fact(2, 1, 10, Mark::Present),
            // Person 2 is absent from IRIS and present at MARAC.
            fact(1, 2, 20, Mark::Absent),
            fact(3, 2, 20, Mark::Present),
            // A cancelled booking counts nowhere; an unknown session is skipped.
            fact(2, 3, 20, Mark::Other),
            fact(99, 4, 20, Mark::Present),
        ];
        let delivery = tally(&[iris, marac], &sessions, attendance, &organisations);

        assert_eq!(
            delivery.training,
            Activity {
                sessions: 3,
                attendances: 3,
                people: 2,
                absences: 1
            }
        );
        assert_eq!(
            delivery.training_organisations,
            vec!["Meadowfield Police".to_string(), "Riverside Surgery".to_string()]
        );
        let iris_delivery = &delivery.programmes["iris"];
        assert_eq!(
            iris_delivery.totals,
            Activity {
                sessions: 2,
                attendances: 2,
                people: 1,
                absences: 1
            }
        );
        assert_eq!(iris_delivery.organisations, vec!["Riverside Surgery".to_string()]);
        let first_module = iris_delivery
            .modules
            .iter()
            .find(|(m, _)| m == first)
            .map(|(_, a)| a.clone());
        assert_eq!(
            first_module,
            Some(Activity {
                sessions: 1,
                attendances: 1,
                people: 1,
                absences: 1
            })
        );
        // A cancelled booking adds nobody to the module.
        let second_module = iris_delivery.modules.iter().find(|(m, _)| m == second);
        assert_eq!(second_module.map(|(_, a)| a.people), Some(1));
        assert_eq!(
            iris_delivery.started[&clinical.id],
            vec![GroupCount {
                org_type: "gp_practice".into(),
                locality: "North".into(),
                count: 1
            }]
        );
        assert_eq!(delivery.programmes["marac-briefing"].totals.people, 1);
    }
}
