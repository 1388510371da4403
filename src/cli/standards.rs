//! `qmtrack standards check [DIR]`.

use crate::domain::standards::load_dir;
use std::path::Path;
use std::process::ExitCode;

/// Checks the frameworks in DIR and the training programmes in DIR/training.
pub fn check(dir: &Path) -> ExitCode {
    let training = dir.join("training");
    let programmes = if training.is_dir() {
        crate::domain::programmes::load_dir(&training)
    } else {
        Ok(Default::default())
    };
    if let Err(errors) = &programmes {
        for error in errors {
            eprintln!("{error}");
        }
    }
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
            match programmes {
                Ok(programmes) => {
                    println!("{} training programme files are valid.", programmes.all().len());
                    ExitCode::SUCCESS
                }
                Err(_) => ExitCode::FAILURE,
            }
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
