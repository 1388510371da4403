//! People: staff of member organisations who train or hold roles. Most never log in.

use super::training_requirement::normalise_category;
use super::validation::{self, FieldErrors};

#[derive(Debug, Clone, Default)]
pub struct PersonInput {
    pub full_name: String,
    pub email: String,
    pub job_title: String,
    pub staff_category: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonDetails {
    pub full_name: String,
    pub email: String,
    pub job_title: String,
    /// "frontline", "clinician": what a framework's training requirement may
    /// count (see [`super::training_requirement`]); stored normalised.
    pub staff_category: Option<String>,
}

impl TryFrom<&PersonInput> for PersonDetails {
    type Error = FieldErrors;

    fn try_from(input: &PersonInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let full_name = validation::required(
            &mut errors,
            "full_name",
            &input.full_name,
            "the person's full name",
            200,
        );
        let email = validation::email(&mut errors, "email", &input.email, false);
        let job_title = validation::optional(&mut errors, "job_title", &input.job_title, "the job title", 200);
        let staff_category = validation::optional(
            &mut errors,
            "staff_category",
            &input.staff_category,
            "the staff category",
            60,
        );
        errors.into_result(|| PersonDetails {
            full_name: full_name.split_whitespace().collect::<Vec<_>>().join(" "),
            email,
            job_title,
            staff_category: normalise_category(&staff_category),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_their_accents_and_lose_extra_spaces() {
        let input = PersonInput {
            full_name: "  Łukasz   Nowak ".into(),
            email: "L.Nowak@Practice.NHS.UK".into(),
            job_title: "GP".into(),
            staff_category: " Clinician ".into(),
        };
        let person = PersonDetails::try_from(&input).expect("valid");
        assert_eq!(person.full_name, "Łukasz Nowak");
        assert_eq!(person.email, "l.nowak@practice.nhs.uk");
        assert_eq!(person.staff_category.as_deref(), Some("clinician"));
    }

    #[test]
    fn a_name_is_required() {
        let errors = PersonDetails::try_from(&PersonInput::default()).expect_err("invalid");
        assert_eq!(errors.0[0].field, "full_name");
    }
}
