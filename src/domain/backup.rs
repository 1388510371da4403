//! What a backup archive holds and the rules for reading it back: the
//! manifest, which paths it may name, and how its row counts are compared.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The manifest's name inside the archive.
pub const MANIFEST: &str = "manifest.json";
/// A SQLite backup's database file inside the archive.
pub const SQLITE_DATABASE: &str = "database.sqlite";
/// Where a PostgreSQL backup's tables are: one JSON object a line per table.
pub const TABLES_DIR: &str = "tables/";
/// Where the files under the data folder are, by their path under it.
pub const FILES_DIR: &str = "files/";
/// The manifest format this version writes and reads.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    pub qmtrack_version: String,
    /// "sqlite" or "postgres": what the archive's database part is.
    pub backend: String,
    /// The last migration applied to the database backed up.
    pub schema_version: i64,
    pub created_at: String,
    /// Rows in each table.
    pub tables: BTreeMap<String, i64>,
    /// Every entry of the archive but the manifest, by its name there.
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

impl Manifest {
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The files for the data folder: (archive name, path under the folder).
    pub fn files(&self) -> impl Iterator<Item = (&Entry, &str)> {
        self.entries
            .iter()
            .filter_map(|e| e.name.strip_prefix(FILES_DIR).map(|path| (e, path)))
    }
}

/// Whether a path under the data folder, as an archive names it, stays
/// inside it: plain names joined by `/`, no `..`, nothing absolute.
pub fn is_safe_relative_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'))
}

/// The tables whose rows differ from the manifest: (table, expected, found).
pub fn count_differences(expected: &BTreeMap<String, i64>, found: &BTreeMap<String, i64>) -> Vec<(String, i64, i64)> {
    let names: BTreeSet<&String> = expected.keys().chain(found.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let want = expected.get(name).copied().unwrap_or(0);
            let got = found.get(name).copied().unwrap_or(0);
            (want != got).then(|| (name.clone(), want, got))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths_cannot_leave_the_data_folder() {
        assert!(is_safe_relative_path("evidence/abc"));
        assert!(is_safe_relative_path("imports/3.upload"));
        for bad in ["", "/etc/passwd", "../x", "evidence/../../x", "a//b", "a\\..\\b", "./a"] {
            assert!(!is_safe_relative_path(bad), "{bad}");
        }
    }

    #[test]
    fn differences_name_the_table_and_both_counts() {
        let expected = BTreeMap::from([("people".to_string(), 3), ("users".to_string(), 1)]);
        let found = BTreeMap::from([
            ("people".to_string(), 2),
            ("users".to_string(), 1),
            ("extra".to_string(), 4),
        ]);
        assert_eq!(
            count_differences(&expected, &found),
            vec![("extra".to_string(), 0, 4), ("people".to_string(), 3, 2)]
        );
    }
}
