//! Plain Rust: the rules of the product, with no web or database types.

pub mod access;
pub mod assessment;
pub mod audit_labels;
pub mod backup;
pub mod certificate;
pub mod certificate_pdf;
pub mod completion;
pub mod dates;
pub mod evaluation;
pub mod evidence;
pub mod filetype;
pub mod import;
pub mod login;
pub mod logo;
pub mod next_step;
pub mod organisation;
pub mod organisation_status;
pub mod person;
pub mod programmes;
pub mod register;
pub mod reminders;
pub mod report;
pub mod standards;
pub mod user;
pub mod validation;
