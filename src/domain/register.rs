//! The public register of award holders, as the page, the CSV and the JSON
//! give it: current awards grouped by framework. Which awards are current is
//! decided by their dates when the register is read, so it needs no job.

use super::dates::uk_date;
use super::report::export::safe_text;
use chrono::NaiveDate;
use serde::Serialize;

/// One organisation holding one framework's award.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub organisation: String,
    pub locality: String,
    pub framework_id: String,
    pub framework_name: String,
    pub awarded_on: NaiveDate,
    pub expires_on: NaiveDate,
    /// The public page that checks the award certificate, when one was issued.
    pub verify_url: Option<String>,
}

impl Holder {
    pub fn awarded_display(&self) -> String {
        uk_date(self.awarded_on)
    }

    pub fn expires_display(&self) -> String {
        uk_date(self.expires_on)
    }
}

/// A framework and the organisations holding its award, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameworkHolders {
    pub framework_id: String,
    pub framework_name: String,
    pub holders: Vec<Holder>,
}

/// Groups holders by framework: frameworks in name order, organisations in
/// name order within each (case ignored, as people read a list).
pub fn by_framework(mut holders: Vec<Holder>) -> Vec<FrameworkHolders> {
    holders.sort_by(|a, b| {
        (
            a.framework_name.to_lowercase(),
            &a.framework_id,
            a.organisation.to_lowercase(),
        )
            .cmp(&(
                b.framework_name.to_lowercase(),
                &b.framework_id,
                b.organisation.to_lowercase(),
            ))
    });
    let mut grouped: Vec<FrameworkHolders> = Vec::new();
    for holder in holders {
        match grouped.last_mut() {
            Some(group) if group.framework_id == holder.framework_id => group.holders.push(holder),
            _ => grouped.push(FrameworkHolders {
                framework_id: holder.framework_id.clone(),
                framework_name: holder.framework_name.clone(),
                holders: vec![holder],
            }),
        }
    }
    grouped
}

/// `framework,organisation,locality,awarded_on,expires_on,verify_url`, one
/// row per holder. Names come from users, so each text cell is made safe
/// from being read as a spreadsheet formula.
pub fn csv(register: &[FrameworkHolders]) -> Result<Vec<u8>, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "framework",
            "organisation",
            "locality",
            "awarded_on",
            "expires_on",
            "verify_url",
        ])
        .map_err(|e| e.to_string())?;
    for holder in register.iter().flat_map(|f| f.holders.iter()) {
        writer
            .write_record([
                safe_text(&holder.framework_name),
                safe_text(&holder.organisation),
                safe_text(&holder.locality),
                holder.awarded_on.to_string(),
                holder.expires_on.to_string(),
                holder.verify_url.clone().unwrap_or_default(),
            ])
            .map_err(|e| e.to_string())?;
    }
    writer.into_inner().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(framework: &str, organisation: &str) -> Holder {
        Holder {
            organisation: organisation.into(),
            locality: "Leeds".into(),
            framework_id: framework.to_lowercase(),
            framework_name: framework.into(),
            awarded_on: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default(),
            expires_on: NaiveDate::from_ymd_opt(2029, 1, 5).unwrap_or_default(),
            verify_url: None,
        }
    }

    #[test]
    fn holders_are_grouped_by_framework_in_name_order() {
        let grouped = by_framework(vec![
            holder("Workplace", "zeta Ltd"),
            holder("Health", "Beta"),
            holder("Workplace", "Alpha"),
        ]);
        let names: Vec<(&str, Vec<&str>)> = grouped
            .iter()
            .map(|g| {
                (
                    g.framework_name.as_str(),
                    g.holders.iter().map(|h| h.organisation.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [("Health", vec!["Beta"]), ("Workplace", vec!["Alpha", "zeta Ltd"])]
        );
    }

    #[test]
    fn csv_cells_never_become_formulas() {
        let text =
            String::from_utf8(csv(&by_framework(vec![holder("Workplace", "=HYPERLINK(\"x\")")])).unwrap_or_default())
                .unwrap_or_default();
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.starts_with("framework,organisation,locality,awarded_on,expires_on,verify_url\n"));
        assert!(text.contains(",2026-01-05,2029-01-05,"), "{text}");
    }
}
