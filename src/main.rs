//! The `qmtrack` binary: parses arguments and hands over to one command.

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of the C library's allocator. Under load a fifth of the
/// server's time went to glibc's malloc and free (rows decoded, page
/// contexts built and rendered, each a heap of small strings), much of it
/// merging freed chunks; mimalloc's per-thread free lists make that a few
/// per cent. The benchmarks use the same allocator, so they measure what
/// the binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[rocket::main]
async fn main() -> ExitCode {
    let cli = qmtrack::cli::Cli::parse();
    qmtrack::cli::run(cli).await
}
