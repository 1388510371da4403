//! `qmtrack standards check [DIR]`.

use crate::domain::standards::load_dir;
use crate::domain::training_requirement::check_references;
use std::path::Path;
use std::process::ExitCode;

/// Checks the frameworks in DIR and the training programmes in DIR/training,
/// and that every training requirement in a framework names a programme and
/// completion that exist.
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
            let references = match &programmes {
                Ok(programmes) => check_references(&library, programmes),
                // Which references are wrong cannot be told while the programmes do not load.
                Err(_) => Vec::new(),
            };
            for error in &references {
                eprintln!("{error}");
            }
            for framework in library.all() {
                println!(
                    "{}: {} {} ({} areas, {} criteria, {} mandatory, {} with a training requirement)",
                    framework.file,
                    framework.name,
                    framework.version,
                    framework.areas.len(),
                    framework.criterion_count(),
                    framework.mandatory_count(),
                    framework.criteria().filter(|c| c.training.is_some()).count()
                );
            }
            if !references.is_empty() {
                eprintln!("{} problem(s) found.", references.len());
                return ExitCode::FAILURE;
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
