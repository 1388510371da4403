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

use super::engine::{Activity, GroupCount};
use crate::domain::programmes::Programme;
use std::collections::{BTreeMap, HashMap};
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

impl super::engine::ProgrammeActivity {
    /// Adds the programme's delivery (counted by [`tally`]) to the figures
    /// read from its kept completions.
    pub fn add_delivery(&mut self, delivered: ProgrammeDelivery) {
        let ProgrammeDelivery {
            totals,
            organisations,
            modules,
            mut started,
        } = delivered;
        self.totals = totals;
        self.organisations = organisations;
        self.modules = modules;
        for completion in &mut self.completions {
            completion.started = started.remove(&completion.completion_id).unwrap_or_default();
        }
    }
}

/// The period's delivery: all training, and each of `programmes` by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    pub training: Activity,
    pub training_organisations: Vec<String>,
    pub programmes: BTreeMap<String, ProgrammeDelivery>,
}

/// A set of small dense indexes (see [`Dense`]): a bit each.
#[derive(Default)]
struct BitSet(Vec<u64>);

impl BitSet {
    /// Adds `index`; true if it was not there yet.
    fn insert(&mut self, index: u32) -> bool {
        let (word, bit) = ((index / 64) as usize, index % 64);
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        let was = self.0[word] & (1 << bit) != 0;
        self.0[word] |= 1 << bit;
        !was
    }
}

/// Numbers the ids met (organisations, and people whose ids are not small:
/// see [`person_index`]) 0, 1, 2… in the order they are met, so
/// each level's set of them is a bit set: one look-up per record instead of
/// one per level, and the counts come as the bits are set.
///
/// The database's ids are small whole numbers, so most are looked up in a
/// table indexed by the id itself (4 bytes for each id up to the highest
/// met); only an id beyond [`DIRECT_MOST`] is hashed. Hashing every id was
/// most of the tally's time (70–100 ms of a year's 190,000 records).
#[derive(Default)]
struct Dense {
    direct: Vec<u32>,
    others: HashMap<i64, u32, BuildHasherDefault<IdHasher>>,
    met: u32,
}

/// Ids below this are looked up in [`Dense`]'s table.
const DIRECT_MOST: i64 = 1 << 24;

/// A table entry for an id not met yet.
const NOT_MET: u32 = u32::MAX;

impl Dense {
    fn index(&mut self, id: i64) -> u32 {
        let next = self.met;
        if (0..DIRECT_MOST).contains(&id) {
            let at = id as usize;
            if at >= self.direct.len() {
                self.direct.resize((at + 1).next_power_of_two(), NOT_MET);
            }
            if self.direct[at] == NOT_MET {
                self.direct[at] = next;
                self.met += 1;
            }
            return self.direct[at];
        }
        let index = *self.others.entry(id).or_insert(next);
        if index == next {
            self.met += 1;
        }
        index
    }
}

/// A person's number in the levels' sets: their id itself where it is a
/// small whole number, as the database's are (the sets are then a bit for
/// each id up to the highest met: 25 KB for 200,000 people), and numbers
/// after those from `others` for any other. Numbering people in the order
/// met took a look-up in a table of 4 bytes an id for every record, a fifth
/// of the counting's time.
fn person_index(others: &mut Dense, id: i64) -> u32 {
    match u32::try_from(id) {
        Ok(small) if id < DIRECT_MOST => small,
        _ => DIRECT_MOST as u32 + others.index(id),
    }
}

/// One level's counts (all training, a programme, a module).
#[derive(Default)]
struct Level {
    activity: Activity,
    people: BitSet,
}

impl Level {
    fn add(&mut self, person: Option<u32>, mark: Mark) {
        match (mark, person) {
            (Mark::Present, Some(person)) => {
                self.activity.attendances += 1;
                if self.people.insert(person) {
                    self.activity.people += 1;
                }
            }
            (Mark::Absent, _) => self.activity.absences += 1,
            _ => {}
        }
    }
}

/// Where a session's records count: its programme (when it is one of those
/// counted), its module's level and the completions the module counts
/// towards (indexes into [`Counter::started`]), and whether a present
/// record has counted the session yet.
struct SessionSlot {
    programme: Option<usize>,
    module: usize,
    completions: Vec<usize>,
    counted: bool,
}

struct ProgrammeLevels<'a> {
    programme: &'a Programme,
    totals: Level,
    organisations: BitSet,
    /// Module id → index into [`Counter::modules`].
    modules: BTreeMap<&'a str, usize>,
}

/// A completion of a programme (by index) and each present record at one
/// of its modules: (person, their organisation).
struct Started<'a> {
    programme: usize,
    completion: &'a str,
    records: Vec<(u32, i64)>,
}

struct Counter<'a> {
    all: Level,
    reached: BitSet,
    programmes: Vec<ProgrammeLevels<'a>>,
    modules: Vec<Level>,
    started: Vec<Started<'a>>,
    slots: Vec<SessionSlot>,
    /// Session id → index into `slots`.
    slot_of: HashMap<i64, usize, BuildHasherDefault<IdHasher>>,
    /// Numbers for the people whose ids are not small (see [`person_index`]).
    people: Dense,
    /// Organisation id → its dense index and id, for the names at the end.
    organisations: Dense,
    organisation_ids: Vec<i64>,
}

impl<'a> Counter<'a> {
    /// The index of the session's slot, made when it is first met.
    fn slot(&mut self, session_id: i64, session: &'a SessionFacts) -> usize {
        if let Some(slot) = self.slot_of.get(&session_id) {
            return *slot;
        }
        let programme = self
            .programmes
            .iter()
            .position(|p| p.programme.id == session.programme_id);
        let (module, completions) = match programme {
            Some(index) => {
                let next = self.modules.len();
                let levels = &mut self.programmes[index];
                let module = *levels.modules.entry(session.module_id.as_str()).or_insert(next);
                if module == next {
                    self.modules.push(Level::default());
                }
                let programme = levels.programme;
                let completions = programme
                    .completions
                    .iter()
                    .filter(|c| c.modules.contains(&session.module_id))
                    .filter_map(|c| {
                        self.started
                            .iter()
                            .position(|s| s.programme == index && s.completion == c.id.as_str())
                    })
                    .collect();
                (module, completions)
            }
            None => (usize::MAX, Vec::new()),
        };
        self.slots.push(SessionSlot {
            programme,
            module,
            completions,
            counted: false,
        });
        let slot = self.slots.len() - 1;
        self.slot_of.insert(session_id, slot);
        slot
    }

    /// Counts one record of the session in `slots[slot]`.
    fn add(&mut self, fact: &AttendanceFact, slot: usize) {
        let slot = &mut self.slots[slot];
        let present = fact.mark == Mark::Present;
        let person = present.then(|| person_index(&mut self.people, fact.person_id));
        self.all.add(person, fact.mark);
        let first_present = present && !slot.counted;
        if first_present {
            slot.counted = true;
            self.all.activity.sessions += 1;
        }
        let organisation = if present {
            let index = self.organisations.index(fact.organisation_id);
            if index as usize == self.organisation_ids.len() {
                self.organisation_ids.push(fact.organisation_id);
            }
            self.reached.insert(index);
            Some(index)
        } else {
            None
        };
        let Some(programme) = slot.programme else {
            return;
        };
        let levels = &mut self.programmes[programme];
        levels.totals.add(person, fact.mark);
        let module = &mut self.modules[slot.module];
        module.add(person, fact.mark);
        if first_present {
            levels.totals.activity.sessions += 1;
            module.activity.sessions += 1;
        }
        let (Some(person), Some(organisation)) = (person, organisation) else {
            return;
        };
        levels.organisations.insert(organisation);
        for completion in &slot.completions {
            if let Some(started) = self.started.get_mut(*completion) {
                started.records.push((person, fact.organisation_id));
            }
        }
    }
}

/// Counts `attendance` (records of sessions in `sessions`; others are
/// skipped) for all training and for each of `programmes`.
pub fn tally(
    programmes: &[&Programme],
    sessions: &HashMap<i64, SessionFacts>,
    attendance: impl IntoIterator<Item = AttendanceFact>,
    organisations: &HashMap<i64, OrganisationFacts>,
) -> Delivery {
    let mut counter = Counter {
        all: Level::default(),
        reached: BitSet::default(),
        programmes: programmes
            .iter()
            .map(|programme| ProgrammeLevels {
                programme,
                totals: Level::default(),
                organisations: BitSet::default(),
                modules: BTreeMap::new(),
            })
            .collect(),
        modules: Vec::new(),
        started: programmes
            .iter()
            .enumerate()
            .flat_map(|(programme, p)| {
                p.completions.iter().map(move |c| Started {
                    programme,
                    completion: c.id.as_str(),
                    records: Vec::new(),
                })
            })
            .collect(),
        slots: Vec::new(),
        slot_of: HashMap::default(),
        people: Dense::default(),
        organisations: Dense::default(),
        organisation_ids: Vec::new(),
    };
    // Records come a session at a time: its slot is looked up once.
    let mut current: Option<(i64, usize)> = None;
    for fact in attendance {
        let slot = match current {
            Some((id, slot)) if id == fact.session_id => slot,
            _ => {
                let Some(session) = sessions.get(&fact.session_id) else {
                    continue;
                };
                let slot = counter.slot(fact.session_id, session);
                current = Some((fact.session_id, slot));
                slot
            }
        };
        counter.add(&fact, slot);
    }

    // The organisations met, in order of name, sorted once: each level's
    // list is those of them in its set (a set of names for each level
    // compared names all over again, for thousands of organisations).
    let mut by_name: Vec<(&str, usize)> = counter
        .organisation_ids
        .iter()
        .enumerate()
        .filter_map(|(index, id)| organisations.get(id).map(|o| (o.name.as_str(), index)))
        .collect();
    by_name.sort_unstable();
    let names = |bits: &BitSet| -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (name, index) in &by_name {
            let in_set = bits
                .0
                .get(index / 64)
                .is_some_and(|word| word & (1 << (index % 64)) != 0);
            // Two organisations of the same name are named once.
            if in_set && names.last().map(String::as_str) != Some(*name) {
                names.push(name.to_string());
            }
        }
        names
    };
    let mut started: Vec<BTreeMap<String, Vec<GroupCount>>> = vec![BTreeMap::new(); programmes.len()];
    for Started {
        programme,
        completion,
        records,
    } in &counter.started
    {
        if records.is_empty() {
            continue;
        }
        // Each person once, with the organisation of their last record.
        let mut seen = BitSet::default();
        let counts = records
            .iter()
            .rev()
            .filter(|(person, _)| seen.insert(*person))
            .map(|(_, organisation)| (*organisation, 1));
        started[*programme].insert(completion.to_string(), by_group(counts, organisations));
    }
    let programmes = counter
        .programmes
        .iter()
        .zip(started)
        .map(|(levels, started)| {
            let delivery = ProgrammeDelivery {
                totals: levels.totals.activity.clone(),
                organisations: names(&levels.organisations),
                modules: levels
                    .modules
                    .iter()
                    .map(|(module, index)| (module.to_string(), counter.modules[*index].activity.clone()))
                    .collect(),
                started,
            };
            (levels.programme.id.clone(), delivery)
        })
        .collect();
    Delivery {
        training: counter.all.activity.clone(),
        training_organisations: names(&counter.reached),
        programmes,
    }
}

/// Organisation ids below this are summed in [`by_group`]'s table (8 bytes
/// an id up to the highest met: a megabyte at most).
const DIRECT_SUMS_MOST: i64 = 1 << 17;

/// Counts by organisation, summed by the organisations' type and locality
/// (for people, each person once with their one organisation).
pub fn by_group(
    counts: impl IntoIterator<Item = (i64, i64)>,
    organisations: &HashMap<i64, OrganisationFacts>,
) -> Vec<GroupCount> {
    // Summed by organisation first: a count for each person (140,000 for a
    // year's awareness course) compared two texts at every step down the
    // tree of groups; the organisations are a few thousand. Their ids are
    // small whole numbers, so most are summed in a table indexed by the id
    // (hashing 400,000 ids a report was a few per cent of its time).
    let mut direct: Vec<i64> = Vec::new();
    let mut others: HashMap<i64, i64, BuildHasherDefault<IdHasher>> = HashMap::default();
    for (organisation, n) in counts {
        match usize::try_from(organisation) {
            Ok(at) if organisation < DIRECT_SUMS_MOST => {
                if at >= direct.len() {
                    direct.resize((at + 1).next_power_of_two(), 0);
                }
                direct[at] += n;
            }
            _ => *others.entry(organisation).or_default() += n,
        }
    }
    let by_organisation = direct
        .into_iter()
        .enumerate()
        .filter(|(_, n)| *n != 0)
        .map(|(at, n)| (at as i64, n))
        .chain(others);
    let mut sums: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for (organisation, n) in by_organisation {
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

    fn session(programme: &Programme, module: &str) -> SessionFacts {
        SessionFacts {
            programme_id: programme.id.clone(),
            module_id: module.to_string(),
        }
    }

    /// A GP practice (10) and a police force (20) in `police_locality`.
    fn practice_and_police(police_locality: &str) -> HashMap<i64, OrganisationFacts> {
        HashMap::from([
            (10, organisation("Riverside Surgery", "gp_practice", "North")),
            (20, organisation("Meadowfield Police", "police", police_locality)),
        ])
    }

    #[test]
    fn organisations_reached_are_named_in_order_of_name_each_name_once() {
        let library = shipped();
        let marac = library.current_version("marac-briefing").expect("MARAC ships");
        let sessions = HashMap::from([(1, session(marac, &marac.modules[0].id))]);
        let organisations = HashMap::from([
            (10, organisation("Riverside Surgery", "gp_practice", "North")),
            (20, organisation("Meadowfield Police", "police", "South")),
            (30, organisation("Ashby Homes", "housing_provider", "South")),
            (40, organisation("Meadowfield Police", "police", "North")),
            (50, organisation("Zephyr Trust", "charity", "North")),
        ]);
        // Met in id order 10, 40, 20, 30; 50 only absent, so not reached.
        let attendance = vec![
            fact(1, 1, 10, Mark::Present),
            fact(1, 2, 40, Mark::Present),
            fact(1, 3, 20, Mark::Present),
            fact(1, 4, 30, Mark::Present),
            fact(1, 5, 50, Mark::Absent),
        ];
        let delivery = tally(&[marac], &sessions, attendance, &organisations);
        let expected = ["Ashby Homes", "Meadowfield Police", "Riverside Surgery"].map(String::from);
        assert_eq!(delivery.training_organisations, expected);
        assert_eq!(delivery.programmes["marac-briefing"].organisations, expected);
    }

    #[test]
    fn people_are_counted_once_whatever_the_size_of_their_ids() {
        let library = shipped();
        let marac = library.current_version("marac-briefing").expect("MARAC ships");
        let sessions = HashMap::from([
            (1, session(marac, &marac.modules[0].id)),
            (2, session(marac, &marac.modules[0].id)),
        ]);
        let big = DIRECT_MOST + 7;
        // Each person twice: small, beyond the direct numbers, negative, and
        // the direct numbers' own first value past a big one.
        let people = [3, big, -2, i64::from(u32::MAX) + 1, DIRECT_MOST];
        let attendance: Vec<AttendanceFact> = [1, 2]
            .into_iter()
            .flat_map(|session| people.map(|person| fact(session, person, 10, Mark::Present)))
            .collect();
        let delivery = tally(&[marac], &sessions, attendance, &practice_and_police(""));
        assert_eq!(delivery.training.attendances, 10);
        assert_eq!(delivery.training.people, 5);
        assert_eq!(delivery.programmes["marac-briefing"].totals.people, 5);
    }

    #[test]
    fn ids_are_numbered_in_the_order_met_whether_small_or_not() {
        let mut dense = Dense::default();
        let big = DIRECT_MOST + 5;
        let order = [7, big, 0, 7, -3, big, 1 << 20];
        let indexes: Vec<u32> = order.iter().map(|id| dense.index(*id)).collect();
        assert_eq!(indexes, [0, 1, 2, 0, 3, 1, 4]);
    }

    #[test]
    fn counts_are_summed_by_type_and_locality_whatever_the_size_of_the_ids() {
        let big = DIRECT_SUMS_MOST + 3;
        let organisations = HashMap::from([
            (10, organisation("Riverside Surgery", "gp_practice", "North")),
            (big, organisation("Hillside Surgery", "gp_practice", "North")),
            (-4, organisation("Old Police", "police", "South")),
            (20, organisation("Meadowfield Police", "police", "South")),
        ]);
        // 99 is no organisation on record: not counted.
        let counts = [(10, 1), (big, 2), (20, 1), (-4, 5), (99, 7), (10, 1)];
        let groups: Vec<(String, String, i64)> = by_group(counts, &organisations)
            .into_iter()
            .map(|g| (g.org_type, g.locality, g.count))
            .collect();
        assert_eq!(
            groups,
            [
                ("gp_practice".to_string(), "North".to_string(), 4),
                ("police".to_string(), "South".to_string(), 6),
            ]
        );
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
        let sessions = HashMap::from([
            (1, session(iris, first)),
            (2, session(iris, second)),
            (3, session(marac, &marac.modules[0].id)),
        ]);
        let organisations = practice_and_police("");
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

    #[test]
    fn records_out_of_session_order_count_each_session_once_and_a_mover_once_where_last_seen() {
        let library = shipped();
        let marac = library.current_version("marac-briefing").expect("MARAC ships");
        let module = &marac.modules[0].id;
        let completion = marac
            .completions
            .iter()
            .find(|c| c.modules.contains(module))
            .expect("a MARAC completion counts its module");
        let sessions = HashMap::from([(1, session(marac, module)), (2, session(marac, module))]);
        let attendance = vec![
            fact(1, 1, 10, Mark::Absent),
            fact(2, 1, 10, Mark::Present),
            // Back to session 1: present this time, and now at the police.
            fact(1, 1, 20, Mark::Present),
            fact(2, 2, 20, Mark::Present),
        ];
        let delivery = tally(&[marac], &sessions, attendance, &practice_and_police("South"));
        let expected = Activity {
            sessions: 2,
            attendances: 3,
            people: 2,
            absences: 1,
        };
        assert_eq!(delivery.training, expected);
        assert_eq!(delivery.programmes[&marac.id].totals, expected);
        assert_eq!(delivery.programmes[&marac.id].modules, vec![(module.clone(), expected)]);
        assert_eq!(
            delivery.programmes[&marac.id].started[&completion.id],
            vec![GroupCount {
                org_type: "police".into(),
                locality: "South".into(),
                count: 2
            }]
        );
    }
}
