//! Member organisations of the partnership.

use super::validation::{self, FieldErrors};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgType {
    HousingProvider,
    GpPractice,
    ChildrensCentre,
    CouncilService,
    Police,
    Health,
    Probation,
    VoluntarySector,
    Employer,
    Other,
}

impl OrgType {
    pub const ALL: [OrgType; 10] = [
        OrgType::HousingProvider,
        OrgType::GpPractice,
        OrgType::ChildrensCentre,
        OrgType::CouncilService,
        OrgType::Police,
        OrgType::Health,
        OrgType::Probation,
        OrgType::VoluntarySector,
        OrgType::Employer,
        OrgType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgType::HousingProvider => "housing_provider",
            OrgType::GpPractice => "gp_practice",
            OrgType::ChildrensCentre => "childrens_centre",
            OrgType::CouncilService => "council_service",
            OrgType::Police => "police",
            OrgType::Health => "health",
            OrgType::Probation => "probation",
            OrgType::VoluntarySector => "voluntary_sector",
            OrgType::Employer => "employer",
            OrgType::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OrgType::HousingProvider => "Housing provider",
            OrgType::GpPractice => "GP practice",
            OrgType::ChildrensCentre => "Children's centre",
            OrgType::CouncilService => "Council service",
            OrgType::Police => "Police",
            OrgType::Health => "Health",
            OrgType::Probation => "Probation",
            OrgType::VoluntarySector => "Voluntary sector",
            OrgType::Employer => "Employer",
            OrgType::Other => "Other",
        }
    }

    pub fn parse(text: &str) -> Option<OrgType> {
        OrgType::ALL.into_iter().find(|t| t.as_str() == text.trim())
    }

    /// Stored values that no longer parse still show, rather than fail the page.
    pub fn label_for(text: &str) -> String {
        OrgType::parse(text)
            .map(|t| t.label().to_string())
            .unwrap_or_else(|| text.to_string())
    }
}

/// An organisation's details, its type as given (`String`) or as checked
/// ([`OrgType`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Organisation<Type> {
    pub name: String,
    pub org_type: Type,
    pub locality: String,
    pub address: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub da_lead_name: String,
    pub da_lead_email: String,
}

/// What a form or the demo loader supplies for an organisation.
pub type OrganisationInput = Organisation<String>;

/// An organisation that has passed validation and is ready to store.
pub type OrganisationDetails = Organisation<OrgType>;

impl OrganisationDetails {
    /// Two names that differ only in case or spacing are the same organisation.
    pub fn name_key(&self) -> String {
        name_key(&self.name)
    }
}

pub fn name_key(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Words in an organisation's name that say its type, checked in this order
/// ("Children's Centre" before "Children's Services", "Housing Trust" before "Trust").
const TYPE_WORDS: &[(OrgType, &[&str])] = &[
    (OrgType::Probation, &["probation"]),
    (OrgType::Police, &["police", "constabulary"]),
    (
        OrgType::ChildrensCentre,
        &["childrens centre", "children centre", "family centre", "family hub"],
    ),
    (
        OrgType::GpPractice,
        &[
            "surgery",
            "medical centre",
            "medical center",
            "medical practice",
            "health centre",
            "group practice",
        ],
    ),
    (
        OrgType::Health,
        &[
            "hospital",
            "nhs",
            "dental",
            "dentist",
            "dentists",
            "pharmacy",
            "opticians",
            "clinic",
            "mental health",
            "health visiting",
            "ambulance",
        ],
    ),
    (OrgType::HousingProvider, &["housing", "homes", "housing association"]),
    (
        OrgType::CouncilService,
        &[
            "council",
            "social care",
            "childrens services",
            "adult services",
            "libraries",
            "library",
            "borough",
        ],
    ),
    (
        OrgType::VoluntarySector,
        &[
            "citizens advice",
            "refuge",
            "womens aid",
            "charity",
            "community trust",
            "foundation",
            "voluntary",
        ],
    ),
];

/// Names in which "practice" or "surgery" is not a GP practice: a dental,
/// veterinary or legal practice, or "best practice" in a charity's or
/// company's name.
const NOT_A_GP_PRACTICE: &[&str] = &[
    "dental",
    "veterinary",
    "vets",
    "law",
    "legal",
    "solicitors",
    "best practice",
    "good practice",
];

/// The type an organisation most likely has, judged from its name and then
/// from its staff's email addresses, with the reason (shown in an import's
/// preview so a wrong guess is easy to spot). A bare "practice" is the
/// weakest clue, taken only when nothing else in the name says what it is:
/// "Best Practice Housing" is a housing provider.
pub fn infer_type(name: &str, emails: &[&str]) -> (OrgType, String) {
    use crate::domain::import::values::contains_words;
    let words = crate::domain::import::values::normalise(&name.replace(['\'', '’'], ""));
    let not_a_gp = NOT_A_GP_PRACTICE.iter().any(|w| contains_words(&words, w));
    for (org_type, phrases) in TYPE_WORDS {
        if *org_type == OrgType::GpPractice && not_a_gp {
            continue;
        }
        if let Some(phrase) = phrases.iter().find(|p| contains_words(&words, p)) {
            return (*org_type, format!("its name contains “{phrase}”"));
        }
    }
    if contains_words(&words, "practice") && !not_a_gp {
        return (OrgType::GpPractice, "its name contains “practice”".into());
    }
    for email in emails {
        let Some((_, domain)) = email.rsplit_once('@') else {
            continue;
        };
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.contains(&"nhs") {
            return (OrgType::GpPractice, format!("its staff have NHS addresses (@{domain})"));
        }
        if labels.contains(&"police") {
            return (OrgType::Police, format!("its staff have police addresses (@{domain})"));
        }
    }
    (
        OrgType::Other,
        "nothing in its name or email addresses says what it is".into(),
    )
}

impl TryFrom<&OrganisationInput> for OrganisationDetails {
    type Error = FieldErrors;

    fn try_from(input: &OrganisationInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = validation::required(&mut errors, "name", &input.name, "the organisation's name", 200);
        let org_type = OrgType::parse(&input.org_type);
        if org_type.is_none() {
            errors.add("org_type", "Select the type of organisation");
        }
        let locality = validation::optional(&mut errors, "locality", &input.locality, "the locality", 100);
        let address = validation::optional(&mut errors, "address", &input.address, "the address", 500);
        let contact_name = validation::optional(
            &mut errors,
            "contact_name",
            &input.contact_name,
            "the contact's name",
            200,
        );
        let contact_email = validation::email(&mut errors, "contact_email", &input.contact_email, false);
        let contact_phone = validation::optional(
            &mut errors,
            "contact_phone",
            &input.contact_phone,
            "the phone number",
            40,
        );
        let da_lead_name = validation::optional(
            &mut errors,
            "da_lead_name",
            &input.da_lead_name,
            "the domestic abuse lead's name",
            200,
        );
        let da_lead_email = validation::email(&mut errors, "da_lead_email", &input.da_lead_email, false);
        let org_type = org_type.unwrap_or(OrgType::Other);
        errors.into_result(|| OrganisationDetails {
            name: name.split_whitespace().collect::<Vec<_>>().join(" "),
            org_type,
            locality,
            address,
            contact_name,
            contact_email,
            contact_phone,
            da_lead_name,
            da_lead_email,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_input_becomes_details() {
        let input = OrganisationInput {
            name: "  Riverside   Housing ".into(),
            org_type: "housing_provider".into(),
            contact_email: "Lead@Riverside.ORG".into(),
            ..Default::default()
        };
        let details = OrganisationDetails::try_from(&input).expect("valid");
        assert_eq!(details.name, "Riverside Housing");
        assert_eq!(details.org_type, OrgType::HousingProvider);
        assert_eq!(details.contact_email, "lead@riverside.org");
        assert_eq!(details.name_key(), "riverside housing");
    }

    #[test]
    fn missing_name_and_type_are_reported_by_field() {
        let input = OrganisationInput {
            contact_email: "not an email".into(),
            ..Default::default()
        };
        let errors = OrganisationDetails::try_from(&input).expect_err("invalid");
        let fields: Vec<_> = errors.0.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "org_type", "contact_email"]);
    }

    #[test]
    fn types_are_inferred_from_names_and_addresses() {
        let cases = [
            ("Riverside Medical Centre", OrgType::GpPractice),
            ("Hollybush Surgery", OrgType::GpPractice),
            ("The Oval Practice", OrgType::GpPractice),
            ("Best Practice Housing", OrgType::HousingProvider),
            ("Good Practice Partnership", OrgType::Other),
            ("Hilltop Dental Practice", OrgType::Health),
            ("Hilltop Dental Surgery", OrgType::Health),
            ("Meadow Veterinary Practice", OrgType::Other),
            ("Kaur Law Practice", OrgType::Other),
            ("Police - Public Protection", OrgType::Police),
            ("Children's Centre East", OrgType::ChildrensCentre),
            ("Northbridge Children's Services", OrgType::CouncilService),
            ("Northbridge General Hospital", OrgType::Health),
            ("Northbridge Homes", OrgType::HousingProvider),
            ("Riverside Housing Trust", OrgType::HousingProvider),
            ("Citizens Advice", OrgType::VoluntarySector),
            ("Probation", OrgType::Probation),
            ("Job Centre Plus", OrgType::Other),
        ];
        for (name, want) in cases {
            assert_eq!(infer_type(name, &[]).0, want, "{name}");
        }
        let (by_address, why) = infer_type("Dr Patel and Partners", &["a@drpatel.nhs.net"]);
        assert_eq!(by_address, OrgType::GpPractice);
        assert!(why.contains("nhs.net"), "{why}");
    }

    #[test]
    fn every_type_round_trips() {
        for t in OrgType::ALL {
            assert_eq!(OrgType::parse(t.as_str()), Some(t));
        }
        assert_eq!(OrgType::label_for("gp_practice"), "GP practice");
        assert_eq!(OrgType::label_for("retired_type"), "retired_type");
    }
}
