//! Accounts: who can log in, and with which role.

use super::access::Role;
use super::validation::{self, FieldErrors};
use crate::security::MIN_PASSWORD_LEN;

#[derive(Debug, Clone, Default)]
pub struct NewUserInput {
    pub name: String,
    pub email: String,
    pub role: String,
    pub organisation_id: Option<i64>,
    pub password: String,
    pub password_confirm: String,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub organisation_id: Option<i64>,
    pub password: String,
}

/// Checks a new password; reports against the `password` field.
pub fn check_password(errors: &mut FieldErrors, password: &str, confirm: &str) {
    if password.chars().count() < MIN_PASSWORD_LEN {
        errors.add(
            "password",
            format!("Password must be at least {MIN_PASSWORD_LEN} characters"),
        );
    } else if password.len() > 1024 {
        errors.add("password", "Password must be 1,024 characters or fewer");
    } else if password != confirm {
        errors.add("password_confirm", "The passwords do not match");
    }
}

/// Organisation members belong to exactly one organisation; council staff to none.
pub fn check_role_and_organisation(
    errors: &mut FieldErrors,
    role: &str,
    organisation_id: Option<i64>,
) -> (Role, Option<i64>) {
    match Role::parse(role) {
        None => {
            errors.add("role", "Select a role");
            (Role::OrgMember, None)
        }
        Some(Role::OrgMember) => {
            if organisation_id.is_none() {
                errors.add("organisation_id", "Select the organisation this person works for");
            }
            (Role::OrgMember, organisation_id)
        }
        Some(role) => (role, None),
    }
}

impl TryFrom<&NewUserInput> for NewUser {
    type Error = FieldErrors;

    fn try_from(input: &NewUserInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = validation::required(&mut errors, "name", &input.name, "their full name", 200);
        let email = validation::email(&mut errors, "email", &input.email, true);
        let (role, organisation_id) = check_role_and_organisation(&mut errors, &input.role, input.organisation_id);
        check_password(&mut errors, &input.password, &input.password_confirm);
        errors.into_result(|| NewUser {
            name,
            email,
            role,
            organisation_id,
            password: input.password.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NewUserInput {
        NewUserInput {
            name: "Amira Khan".into(),
            email: "Amira.Khan@council.example".into(),
            role: "assessor".into(),
            organisation_id: Some(4),
            password: "a long enough passphrase".into(),
            password_confirm: "a long enough passphrase".into(),
        }
    }

    #[test]
    fn council_roles_drop_any_organisation() {
        let user = NewUser::try_from(&input()).expect("valid");
        assert_eq!(user.role, Role::Assessor);
        assert_eq!(user.organisation_id, None);
        assert_eq!(user.email, "amira.khan@council.example");
    }

    #[test]
    fn members_need_an_organisation() {
        let mut form = input();
        form.role = "org_member".into();
        form.organisation_id = None;
        let errors = NewUser::try_from(&form).expect_err("invalid");
        assert_eq!(errors.0[0].field, "organisation_id");
    }

    #[test]
    fn short_or_mismatched_passwords_are_refused() {
        let mut form = input();
        form.password = "short".into();
        assert_eq!(NewUser::try_from(&form).expect_err("short").0[0].field, "password");
        let mut form = input();
        form.password_confirm = "something else entirely".into();
        assert_eq!(
            NewUser::try_from(&form).expect_err("mismatch").0[0].field,
            "password_confirm"
        );
    }
}
