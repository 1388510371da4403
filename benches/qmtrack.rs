//! The project's benchmarks: `cargo bench --bench qmtrack [-- NAME_FILTER]`.
//!
//! A plain harness (no criterion) because the targets in SPEC §6 are about
//! whole operations measured side by side in one run (an import against
//! calamine alone, 1,000 certificates, a report over a large data set), plus
//! peak memory. Each benchmark prints min / median / max wall time over its
//! iterations and the process's peak resident memory so far. Later work adds
//! benchmarks to `main` below.

use qmtrack::domain::access::OrgScope;
use qmtrack::domain::organisation::{OrganisationDetails, OrganisationInput};
use std::time::{Duration, Instant};

struct Report {
    name: &'static str,
    runs: Vec<Duration>,
}

impl Report {
    fn print(&self) {
        let mut runs = self.runs.clone();
        runs.sort();
        let median = runs[runs.len() / 2];
        println!(
            "{:<44} n={:<4} min {:>10.3?}  median {:>10.3?}  max {:>10.3?}  peak RSS {}",
            self.name,
            runs.len(),
            runs[0],
            median,
            runs[runs.len() - 1],
            peak_rss()
        );
    }
}

/// Peak resident set size of this process (Linux), for memory targets.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "n/a".into())
}

fn selected(name: &str) -> bool {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

fn bench(name: &'static str, iterations: usize, mut f: impl FnMut()) {
    if !selected(name) {
        return;
    }
    f(); // warm-up
    let runs = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    Report { name, runs }.print();
}

fn main() {
    let standards = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("standards");
    bench("standards: load and check the library", 50, || {
        let library = qmtrack::domain::standards::load_dir(&standards).expect("valid standards");
        std::hint::black_box(library);
    });
    bench("security: argon2id hash (one log-in's cost)", 5, || {
        std::hint::black_box(qmtrack::security::hash_password("correct horse battery staple").expect("hash"));
    });

    let runtime = rocket::tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let pool = runtime.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("bench.sqlite").display());
        let pool = qmtrack::db::connect(&url, 4).await.expect("connect");
        qmtrack::db::migrate(&pool).await.expect("migrate");
        pool
    });
    if selected("organisations") {
        runtime.block_on(async {
            let mut tx = pool.begin().await.expect("tx");
            for i in 0..10_000 {
                let details = OrganisationDetails::try_from(&OrganisationInput {
                    name: format!("Organisation {i:05}"),
                    org_type: "employer".into(),
                    locality: format!("Locality {}", i % 40),
                    ..Default::default()
                })
                .expect("valid");
                qmtrack::db::organisations::insert(&mut tx, &details, "2026-01-01T00:00:00Z")
                    .await
                    .expect("insert");
            }
            tx.commit().await.expect("commit");
        });
    }
    bench("organisations: search 10,000 (SQLite, one page)", 50, || {
        runtime.block_on(async {
            let found = qmtrack::db::organisations::search(
                &pool,
                &qmtrack::db::organisations::Search {
                    scope: OrgScope::All,
                    text: "locality 7",
                    org_type: None,
                    limit: 50,
                    offset: 0,
                },
            )
            .await
            .expect("search");
            std::hint::black_box(found);
        });
    });
}
