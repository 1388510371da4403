//! An organisation's own progress report opens with where it stands: each
//! assessment and the mandatory criteria it still needs evidence for, the
//! evidence about to stop counting, its staff trained as a share of the
//! people on its staff list, and its certificates. These are facts of the
//! day the report is made (the training share is at the end of the period,
//! as the rest of the report counts), so they carry no "previous period".

use super::{Figure, Group, Section};
use crate::domain::dates::uk_date;
use chrono::NaiveDate;

/// One assessment, as the organisation should see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentStanding {
    pub framework_id: String,
    pub framework_name: String,
    pub state_label: String,
    pub expires_on: Option<NaiveDate>,
    /// "1.2 The organisation has a domestic abuse policy…", for each
    /// mandatory criterion with no usable evidence yet.
    pub outstanding: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringEvidence {
    pub title: String,
    pub criterion_id: String,
    pub framework_name: String,
    pub valid_until: NaiveDate,
}

/// People on the staff list holding a completion at the end of the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffTrained {
    /// `programme.completion`, as in the training figures' ids.
    pub id: String,
    pub label: String,
    pub holding: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StandingFacts {
    pub assessments: Vec<AssessmentStanding>,
    pub expiring: Vec<ExpiringEvidence>,
    pub notice_days: u64,
    pub staff: i64,
    pub trained: Vec<StaffTrained>,
    /// "DVA Quality Mark, issued 3 May 2024, code …" for each valid award certificate.
    pub award_certificates: Vec<String>,
    pub training_certificates: i64,
}

const SECTION: &str = "standing";

fn figure(id: String, label: String, value: i64, items: Vec<String>) -> Figure {
    Figure {
        id,
        section: SECTION.into(),
        label,
        value,
        previous: None,
        items,
        records: None,
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A whole-number percentage, rounded half up; 0 with nobody on the list.
pub fn share(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    (part.clamp(0, whole) * 200 + whole) / (2 * whole)
}

pub fn section(organisation: &str, facts: &StandingFacts) -> Section {
    let mut groups = Vec::new();

    let assessments: Vec<Figure> = facts
        .assessments
        .iter()
        .map(|a| {
            let expiry = a
                .expires_on
                .map(|d| format!(", expires on {}", uk_date(d)))
                .unwrap_or_default();
            figure(
                format!("standing.assessment.{}", a.framework_id),
                format!(
                    "{} ({}{expiry}): mandatory criteria still needing evidence",
                    a.framework_name, a.state_label
                ),
                count(a.outstanding.len()),
                a.outstanding.clone(),
            )
        })
        .collect();
    if !assessments.is_empty() {
        groups.push(Group {
            title: "Assessments".into(),
            chart: false,
            figures: assessments,
        });
    }

    groups.push(Group {
        title: "Evidence".into(),
        chart: false,
        figures: vec![figure(
            "standing.evidence.expiring".into(),
            format!("Evidence that stops being valid in the next {} days", facts.notice_days),
            count(facts.expiring.len()),
            facts
                .expiring
                .iter()
                .map(|e| {
                    format!(
                        "{} ({}, criterion {}): valid until {}",
                        e.title,
                        e.framework_name,
                        e.criterion_id,
                        uk_date(e.valid_until)
                    )
                })
                .collect(),
        )],
    });

    let mut staff = vec![figure(
        "standing.staff.listed".into(),
        "People on the staff list".into(),
        facts.staff,
        Vec::new(),
    )];
    staff.extend(facts.trained.iter().map(|t| {
        figure(
            format!("standing.staff.{}.share", t.id),
            format!(
                "{}: share of the staff list holding it at the end of the period (%)",
                t.label
            ),
            share(t.holding, facts.staff),
            vec![format!("{} of {} people", t.holding, facts.staff)],
        )
    }));
    groups.push(Group {
        title: "Staff trained".into(),
        chart: false,
        figures: staff,
    });

    groups.push(Group {
        title: "Certificates".into(),
        chart: false,
        figures: vec![
            figure(
                "standing.certificates.award".into(),
                "Award certificates in force".into(),
                count(facts.award_certificates.len()),
                facts.award_certificates.clone(),
            ),
            figure(
                "standing.certificates.training".into(),
                "Training certificates held by staff".into(),
                facts.training_certificates,
                Vec::new(),
            ),
        ],
    });

    Section {
        notes: Vec::new(),
        id: SECTION.into(),
        title: format!("Where {organisation} stands"),
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::iso as day;

    #[test]
    fn shares_round_half_up_and_never_divide_by_nobody() {
        assert_eq!(share(1, 3), 33);
        assert_eq!(share(2, 3), 67);
        assert_eq!(share(1, 8), 13);
        assert_eq!(share(5, 0), 0);
        assert_eq!(share(9, 4), 100, "more holders than the list counts is all of it");
    }

    #[test]
    fn every_fact_becomes_a_figure_that_names_what_it_counts() {
        let facts = StandingFacts {
            assessments: vec![AssessmentStanding {
                framework_id: "daha".into(),
                framework_name: "DAHA accreditation".into(),
                state_label: "In progress".into(),
                expires_on: None,
                outstanding: vec!["1.1 Policy".into(), "2.3 Training".into()],
            }],
            expiring: vec![ExpiringEvidence {
                title: "Safeguarding policy".into(),
                criterion_id: "1.1".into(),
                framework_name: "DAHA accreditation".into(),
                valid_until: day("2027-01-31"),
            }],
            notice_days: 90,
            staff: 40,
            trained: vec![StaffTrained {
                id: "dva-awareness.awareness".into(),
                label: "DVA awareness".into(),
                holding: 12,
            }],
            award_certificates: vec![],
            training_certificates: 12,
        };
        let section = section("Northbridge Homes", &facts);
        assert_eq!(section.title, "Where Northbridge Homes stands");
        let all: Vec<&Figure> = section.groups.iter().flat_map(|g| g.figures.iter()).collect();
        let find = |id: &str| all.iter().find(|f| f.id == id).copied().expect(id);
        let daha = find("standing.assessment.daha");
        assert_eq!((daha.value, daha.items.len()), (2, 2));
        assert!(daha.label.starts_with("DAHA accreditation (In progress)"));
        let expiring = find("standing.evidence.expiring");
        assert_eq!(expiring.value, 1);
        assert!(expiring.items[0].contains("31 January 2027"), "{:?}", expiring.items);
        assert_eq!(find("standing.staff.dva-awareness.awareness.share").value, 30);
        assert_eq!(find("standing.staff.listed").value, 40);
        assert_eq!(find("standing.certificates.training").value, 12);
        assert!(all.iter().all(|f| f.previous.is_none()));
    }
}
