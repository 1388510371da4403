//! Who may do what. Every route asks these questions; nothing else decides.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    ProgrammeLead,
    Assessor,
    TrainingLead,
    OrgMember,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::ProgrammeLead, Role::Assessor, Role::TrainingLead, Role::OrgMember];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::ProgrammeLead => "programme_lead",
            Role::Assessor => "assessor",
            Role::TrainingLead => "training_lead",
            Role::OrgMember => "org_member",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::ProgrammeLead => "Programme lead",
            Role::Assessor => "Assessor",
            Role::TrainingLead => "Training lead",
            Role::OrgMember => "Organisation member",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Role::ProgrammeLead => "Runs the programme: users, organisations, awards and the board report",
            Role::Assessor => "Reviews evidence and recommends awards",
            Role::TrainingLead => "Runs training sessions and records attendance",
            Role::OrgMember => "Works for one member organisation and sees only its records",
        }
    }
}

/// The signed-in user, as far as permissions are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    pub organisation_id: Option<i64>,
}

/// Which organisations' records a query may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgScope {
    All,
    Only(i64),
}

impl Actor {
    pub fn org_scope(&self) -> OrgScope {
        match (self.role, self.organisation_id) {
            (Role::OrgMember, Some(id)) => OrgScope::Only(id),
            // An organisation member with no organisation sees nothing; the
            // database refuses that combination, this is belt and braces.
            (Role::OrgMember, None) => OrgScope::Only(-1),
            _ => OrgScope::All,
        }
    }

    pub fn is_programme_lead(&self) -> bool {
        self.role == Role::ProgrammeLead
    }

    pub fn can_manage_users(&self) -> bool {
        self.is_programme_lead()
    }

    pub fn can_add_organisation(&self) -> bool {
        self.is_programme_lead()
    }

    pub fn can_view_organisation(&self, organisation_id: i64) -> bool {
        match self.org_scope() {
            OrgScope::All => true,
            OrgScope::Only(own) => own == organisation_id,
        }
    }

    /// Assessors and training leads read organisations but do not change them.
    pub fn can_edit_organisation(&self, organisation_id: i64) -> bool {
        match self.role {
            Role::ProgrammeLead => true,
            Role::OrgMember => self.organisation_id == Some(organisation_id),
            Role::Assessor | Role::TrainingLead => false,
        }
    }

    /// Sessions, registers and imports: the people who run training.
    pub fn can_manage_training(&self) -> bool {
        matches!(self.role, Role::ProgrammeLead | Role::TrainingLead)
    }

    /// Training records across organisations (assessors read them too).
    pub fn can_view_all_training(&self) -> bool {
        !matches!(self.role, Role::OrgMember)
    }

    /// Training leads add people as they take registers, so they may too.
    pub fn can_edit_people_of(&self, organisation_id: i64) -> bool {
        match self.role {
            Role::ProgrammeLead | Role::TrainingLead => true,
            Role::OrgMember => self.organisation_id == Some(organisation_id),
            Role::Assessor => false,
        }
    }

    /// Assessments and their evidence are confidential: the organisation
    /// itself, assessors and the programme lead. Training leads have no part
    /// in them.
    pub fn can_view_assessments(&self) -> bool {
        !matches!(self.role, Role::TrainingLead)
    }

    pub fn can_view_assessments_of(&self, organisation_id: i64) -> bool {
        self.can_view_assessments() && self.can_view_organisation(organisation_id)
    }

    /// Enrolling, adding evidence, submitting and starting a renewal: the
    /// organisation's own members, or the programme lead on its behalf.
    pub fn can_work_on_assessments_of(&self, organisation_id: i64) -> bool {
        match self.role {
            Role::ProgrammeLead => true,
            Role::OrgMember => self.organisation_id == Some(organisation_id),
            Role::Assessor | Role::TrainingLead => false,
        }
    }

    /// Evidence files may be opened by whoever may see the assessment.
    pub fn can_download_evidence_of(&self, organisation_id: i64) -> bool {
        self.can_view_assessments_of(organisation_id)
    }

    /// Recording decisions, requesting changes, recommending an award.
    pub fn can_review(&self) -> bool {
        matches!(self.role, Role::Assessor | Role::ProgrammeLead)
    }

    /// Making and taking away awards is the programme lead's alone.
    pub fn can_award(&self) -> bool {
        self.is_programme_lead()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, organisation_id: Option<i64>) -> Actor {
        Actor {
            user_id: 1,
            role,
            organisation_id,
        }
    }

    #[test]
    fn roles_round_trip_through_text() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn members_see_and_edit_only_their_own_organisation() {
        let member = actor(Role::OrgMember, Some(7));
        assert_eq!(member.org_scope(), OrgScope::Only(7));
        assert!(member.can_view_organisation(7));
        assert!(!member.can_view_organisation(8));
        assert!(member.can_edit_organisation(7));
        assert!(!member.can_edit_organisation(8));
        assert!(member.can_edit_people_of(7));
        assert!(!member.can_edit_people_of(8));
        assert!(!member.can_add_organisation());
        assert!(!member.can_manage_users());
    }

    #[test]
    fn council_roles_see_everything_but_only_the_lead_administers() {
        for role in [Role::Assessor, Role::TrainingLead] {
            let staff = actor(role, None);
            assert_eq!(staff.org_scope(), OrgScope::All);
            assert!(!staff.can_edit_organisation(3));
            assert!(!staff.can_manage_users());
        }
        assert!(actor(Role::TrainingLead, None).can_edit_people_of(3));
        assert!(!actor(Role::Assessor, None).can_edit_people_of(3));
        let lead = actor(Role::ProgrammeLead, None);
        assert!(lead.can_manage_users() && lead.can_add_organisation() && lead.can_edit_organisation(3));
    }

    #[test]
    fn assessments_belong_to_the_organisation_its_reviewers_and_the_lead() {
        let member = actor(Role::OrgMember, Some(7));
        assert!(member.can_view_assessments_of(7) && member.can_work_on_assessments_of(7));
        assert!(member.can_download_evidence_of(7));
        assert!(!member.can_view_assessments_of(8) && !member.can_work_on_assessments_of(8));
        assert!(!member.can_download_evidence_of(8));
        assert!(!member.can_review() && !member.can_award());

        let assessor = actor(Role::Assessor, None);
        assert!(assessor.can_view_assessments_of(8) && assessor.can_download_evidence_of(8));
        assert!(assessor.can_review() && !assessor.can_award());
        assert!(
            !assessor.can_work_on_assessments_of(8),
            "assessors judge, they do not supply evidence"
        );

        let trainer = actor(Role::TrainingLead, None);
        assert!(!trainer.can_view_assessments() && !trainer.can_download_evidence_of(8));
        assert!(!trainer.can_review() && !trainer.can_work_on_assessments_of(8));

        let lead = actor(Role::ProgrammeLead, None);
        assert!(lead.can_work_on_assessments_of(8) && lead.can_review() && lead.can_award());
    }
}
