//! What the audit log's internal action and record names mean to a person
//! reading the log. The names stay as stored (scripts filter on them); only
//! the page shows these labels.

/// "import.commit" → "Attendance imported". An action without a label (one
/// added later) is shown readably rather than hidden: "Widget: tidy up".
pub fn action_label(action: &str) -> String {
    let known = match action {
        "api_token.create" => "API token created",
        "api_token.revoke" => "API token revoked",
        "assessment.enrol" => "Enrolled on a framework",
        "assessment.submit" => "Assessment sent for review",
        "assessment.resubmit" => "Assessment resubmitted",
        "assessment.request_changes" => "Changes requested",
        "assessment.recommend" => "Award recommended",
        "assessment.award" => "Award made",
        "assessment.revoke" => "Award revoked",
        "assessment.renew" => "Renewal started",
        "attendance.mark" => "Attendance recorded",
        "award_history.commit" => "Award history imported",
        "award_history.undo" => "Award history import undone",
        "award_history.discard" => "Award history upload discarded",
        "certificate.reissue" => "Certificate reissued",
        "certificate.revoke" => "Certificate revoked",
        "completions.rebuild" => "Completions worked out again",
        "evaluation.import" => "Evaluation responses imported",
        "evaluation.link" => "Evaluation link made",
        "evidence.add" => "Evidence added",
        "evidence.replace" => "Evidence replaced",
        "evidence.remove" => "Evidence removed",
        "evidence.download" => "Evidence file opened",
        "import.commit" => "Attendance imported",
        "import.undo" => "Import undone",
        "organisation.create" => "Organisation added",
        "organisation.update" => "Organisation details changed",
        "organisation.alias.add" => "Other name added",
        "organisation.alias.remove" => "Other name removed",
        "person.create" => "Person added",
        "person.update" => "Person's details changed",
        "programme.signup" => "Signed up to a programme",
        "register.opt_in" => "Listed on the public register again",
        "register.opt_out" => "Chose not to be on the public register",
        "register.hide" => "Register listing hidden",
        "register.show" => "Register listing shown again",
        "review.decide" => "Review decisions saved",
        "session.create" => "Training session added",
        "user.create" => "User added",
        "user.role" => "Role changed",
        "user.deactivate" => "User deactivated",
        "user.reactivate" => "User reactivated",
        "user.password" => "Password changed",
        "user.reminders" => "Reminder emails chosen",
        "user.password_reset_link" => "Password reset link made",
        "user.password_reset" => "Password reset",
        _ => return readable(action),
    };
    known.to_string()
}

/// "training_session" → "Training session".
pub fn record_label(entity: &str) -> String {
    match entity {
        "api_token" => "API token".to_string(),
        other => readable(other),
    }
}

fn readable(name: &str) -> String {
    let words = name.replace(['_', '.'], " ");
    let mut parts = words.split_whitespace();
    let Some(first) = parts.next() else {
        return String::new();
    };
    let mut chars = first.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    std::iter::once(first)
        .chain(parts.map(str::to_string))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_as_what_happened() {
        assert_eq!(action_label("import.commit"), "Attendance imported");
        assert_eq!(action_label("user.password_reset"), "Password reset");
        assert_eq!(action_label("report.publish_board"), "Report publish board");
        assert_eq!(record_label("training_session"), "Training session");
        assert_eq!(record_label("api_token"), "API token");
        assert_eq!(record_label(""), "");
    }
}
