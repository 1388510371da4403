//! The `qmtrack` binary: parses arguments and hands over to one command.

use clap::Parser;
use std::process::ExitCode;

#[rocket::main]
async fn main() -> ExitCode {
    let cli = qmtrack::cli::Cli::parse();
    qmtrack::cli::run(cli).await
}
