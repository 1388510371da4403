//! `qmtrack standards check [DIR]`.

use crate::domain::standards::load_dir;
use std::path::Path;
use std::process::ExitCode;

pub fn check(dir: &Path) -> ExitCode {
    match load_dir(dir) {
        Ok(library) => {
            for framework in library.all() {
                println!(
                    "{}: {} {} ({} areas, {} criteria, {} mandatory)",
                    framework.file,
                    framework.name,
                    framework.version,
                    framework.areas.len(),
                    framework.criterion_count(),
                    framework.mandatory_count()
                );
            }
            println!("{} framework files are valid.", library.all().len());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for error in &errors {
                eprintln!("{error}");
            }
            eprintln!("{} problem(s) found.", errors.len());
            ExitCode::FAILURE
        }
    }
}
