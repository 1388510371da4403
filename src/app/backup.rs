//! Backups, restores and the move from SQLite to PostgreSQL.
//!
//! A backup is one zip archive: the database as of one moment, every file
//! under the data folder a row names (evidence, and the sheets of imports
//! waiting to be committed), and a manifest with the schema version, each
//! table's rows and each entry's SHA-256 (see [`crate::domain::backup`]).
//! On SQLite the database part is a `VACUUM INTO` copy, consistent while
//! writers carry on; on PostgreSQL it is every table read as JSON rows in
//! one REPEATABLE READ transaction. Files are named by their hash and never
//! change once written, and a file is stored before its row commits, so
//! every file the snapshot names is there to copy after it.
//!
//! A restore unpacks into a folder beside the data, checking every entry
//! against the manifest, before anything is put in place; it goes only into
//! an empty database and data folder.
//!
//! The copy to PostgreSQL reads a SQLite snapshot with the same reader a
//! PostgreSQL backup uses and writes with the same writer a PostgreSQL
//! restore uses, in one transaction, then checks every table's rows.

use crate::config::AppConfig;
use crate::db::{self, backup as sql, Pool};
use crate::domain::backup::{self as archive, Entry, Manifest};
use crate::error::StartupError;
use crate::storage::EvidenceStore;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

/// Rows read (and written) at a time.
const PAGE: i64 = 2_000;

/// What a restore or a copy put in place.
#[derive(Debug, Clone)]
pub struct Restored {
    pub tables: BTreeMap<String, i64>,
    pub files: usize,
    pub file_bytes: u64,
}

impl Restored {
    pub fn rows(&self) -> i64 {
        self.tables.values().sum()
    }
}

/// Writes a backup of the database `pool` serves and of the files under
/// `config.data_dir` it names, to `out`, and returns its manifest.
pub async fn backup(config: &AppConfig, pool: &Pool, out: &Path, now: DateTime<Utc>) -> Result<Manifest, StartupError> {
    let staging = Staging::beside(out)?;
    let mut parts: Vec<(String, PathBuf)> = Vec::new();
    let (tables, schema_version, files) = match pool {
        Pool::Sqlite { .. } => {
            let snapshot = staging.path().join(archive::SQLITE_DATABASE);
            sqlite_snapshot(pool, &snapshot).await?;
            let copy = sql::open_sqlite_file(&snapshot).await?;
            let read = describe(&copy, &config.data_dir).await;
            copy.close().await;
            parts.push((archive::SQLITE_DATABASE.to_string(), snapshot));
            read?
        }
        Pool::Postgres { .. } => {
            // Only reads, and is rolled back; on PostgreSQL `begin_write`
            // is a plain BEGIN, which the snapshot setting must follow.
            let mut tx = db::begin_write(pool).await?;
            sql::read_as_of_one_moment(&mut tx).await?;
            let mut tables = BTreeMap::new();
            std::fs::create_dir_all(staging.path().join(archive::TABLES_DIR))?;
            for table in sql::tables(&mut tx).await? {
                let name = format!("{}{}.jsonl", archive::TABLES_DIR, table.name);
                let path = staging.path().join(&name);
                let written = export_table(&mut tx, &table, &path).await?;
                let counted = sql::count_rows(&mut tx, &table.name).await?;
                if written != counted {
                    return Err(StartupError::Refused(format!(
                        "{}: read {written} rows but the table has {counted}",
                        table.name
                    )));
                }
                tables.insert(table.name, counted);
                parts.push((name, path));
            }
            let version = sql::schema_version(&mut tx).await?;
            let store = EvidenceStore::for_database(&config.data_dir, pool);
            let mut files = Vec::new();
            for name in referenced_files(&mut tx, &store).await? {
                let staged = staging.path().join(archive::FILES_DIR).join(&name);
                if let Some(parent) = staged.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                store.export(&mut tx, &name, &staged).await?;
                files.push((format!("{}{name}", archive::FILES_DIR), staged));
            }
            tx.rollback().await?;
            (tables, version, files)
        }
    };
    parts.extend(files);
    let manifest = Manifest {
        format: archive::FORMAT,
        qmtrack_version: env!("CARGO_PKG_VERSION").to_string(),
        backend: pool.backend().name().to_string(),
        schema_version,
        created_at: now.to_rfc3339(),
        tables,
        entries: Vec::new(),
    };
    let out = out.to_path_buf();
    let written = rocket::tokio::task::spawn_blocking(move || write_archive(&out, manifest, &parts))
        .await
        .map_err(|e| StartupError::Refused(format!("writing the archive stopped: {e}")))??;
    drop(staging);
    Ok(written)
}

/// Restores `archive_path` into the configured database and data folder,
/// which must both be empty.
pub async fn restore(config: &AppConfig, archive_path: &Path) -> Result<(Manifest, Restored), StartupError> {
    let url = config.effective_database_url();
    let backend = db::Backend::from_url(&url)
        .ok_or_else(|| StartupError::Refused(format!("unknown database URL {}", db::redact_url(&url))))?;
    std::fs::create_dir_all(&config.data_dir)?;
    let occupied = files_already_in(&config.data_dir)?;
    if let Some(path) = occupied.first() {
        return Err(StartupError::Refused(format!(
            "the data folder {} already holds files ({} and {} more); restore only into an empty one",
            config.data_dir.display(),
            path.display(),
            occupied.len() - 1
        )));
    }
    let staging = Staging::inside(&config.data_dir)?;
    let (source, folder) = (archive_path.to_path_buf(), staging.path().to_path_buf());
    let manifest = rocket::tokio::task::spawn_blocking(move || unpack_verified(&source, &folder))
        .await
        .map_err(|e| StartupError::Refused(format!("reading the archive stopped: {e}")))??;
    if manifest.backend != backend.name() {
        return Err(StartupError::Refused(format!(
            "this is a backup of a {} database and the configured one is {}: restore it into {} (then use copy-database to move to PostgreSQL)",
            manifest.backend,
            backend.name(),
            manifest.backend
        )));
    }
    let tables = match backend {
        db::Backend::Sqlite => restore_sqlite(&url, &manifest, staging.path()).await?,
        db::Backend::Postgres => restore_postgres(&url, &manifest, staging.path()).await?,
    };
    let mut restored = Restored {
        tables,
        files: 0,
        file_bytes: 0,
    };
    // Into the data folder, or into the PostgreSQL database the servers share.
    let target = db::connect(&url, 2).await?;
    let store = EvidenceStore::for_database(&config.data_dir, &target);
    let placed = async {
        for (entry, relative) in manifest.files() {
            store
                .import(relative, &entry.sha256, &staging.path().join(&entry.name))
                .await?;
            restored.files += 1;
            restored.file_bytes += entry.size;
        }
        Ok::<(), std::io::Error>(())
    }
    .await;
    target.close().await;
    placed?;
    drop(staging);
    Ok((manifest, restored))
}

/// Copies the SQLite database `source` serves to the empty PostgreSQL
/// database at `to_url` (migrated here to the same version), and checks
/// every file under `data_dir` a row names against its hash.
pub async fn copy_to_postgres(config: &AppConfig, source: &Pool, to_url: &str) -> Result<Restored, StartupError> {
    if source.backend() != db::Backend::Sqlite {
        return Err(StartupError::Refused(
            "copy-database copies from SQLite; the configured database is already PostgreSQL".into(),
        ));
    }
    if db::Backend::from_url(to_url) != Some(db::Backend::Postgres) {
        return Err(StartupError::Refused("--to must be a postgres:// URL".into()));
    }
    let staging = Staging::inside(&config.data_dir)?;
    let snapshot_path = staging.path().join(archive::SQLITE_DATABASE);
    sqlite_snapshot(source, &snapshot_path).await?;
    let snapshot = sql::open_sqlite_file(&snapshot_path).await?;
    let copied = copy_snapshot(&snapshot, to_url, &config.data_dir).await;
    snapshot.close().await;
    drop(staging);
    copied
}

async fn copy_snapshot(snapshot: &Pool, to_url: &str, data_dir: &Path) -> Result<Restored, StartupError> {
    let (expected, version, files) = describe(snapshot, data_dir).await?;
    let mut from = snapshot.acquire().await?;
    let target = open_empty_postgres(to_url, version).await?;
    let mut tx = db::begin_write(&target).await?;
    let source_tables = sql::tables(&mut from).await?;
    let (order, keys) = start_filling(&mut tx, &expected).await?;
    for name in &order {
        let Some(table) = source_tables.iter().find(|t| &t.name == name) else {
            continue;
        };
        let columns = sql::columns(&mut from, &table.name).await?;
        let types = sql::column_types(postgres(&mut tx)?, &table.name).await?;
        let mut after = 0;
        loop {
            let page = sql::export_page(&mut from, table, &columns, after, PAGE).await?;
            let Some((last, _)) = page.last() else { break };
            after = *last;
            let rows = page
                .iter()
                .map(|(_, json)| parse_row(&table.name, json))
                .collect::<Result<Vec<_>, _>>()?;
            sql::insert_json_rows(postgres(&mut tx)?, &table.name, &types, &rows).await?;
            if !table.has_id {
                break;
            }
        }
    }
    finish_filling(&mut tx, &keys, &expected).await?;
    tx.commit().await?;
    let checked = rocket::tokio::task::spawn_blocking(move || check_files(&files))
        .await
        .map_err(|e| StartupError::Refused(format!("checking the files stopped: {e}")));
    // The servers on PostgreSQL read the files from the database: copied in
    // chunk by chunk, each with the hash just checked.
    let copied = async {
        let checked = checked??;
        let store = EvidenceStore::for_database(data_dir, &target);
        let mut bytes = 0;
        for file in &checked {
            store.import(&file.name, &file.sha256, &file.path).await?;
            bytes += file.size;
        }
        Ok::<_, StartupError>((checked.len(), bytes))
    }
    .await;
    target.close().await;
    let (files, file_bytes) = copied?;
    Ok(Restored {
        tables: expected,
        files,
        file_bytes,
    })
}

async fn restore_sqlite(url: &str, manifest: &Manifest, staging: &Path) -> Result<BTreeMap<String, i64>, StartupError> {
    let target = sql::sqlite_file(url).ok_or_else(|| StartupError::Refused(format!("{url} names no database file")))?;
    if target.exists() {
        let existing = sql::open_sqlite_file(&target).await?;
        let counts = async { row_counts(&mut existing.acquire().await?).await }.await;
        existing.close().await;
        refuse_if_any_rows(&counts?, &target.display().to_string())?;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
        }
    }
    let unpacked = staging.join(archive::SQLITE_DATABASE);
    let copy = sql::open_sqlite_file(&unpacked).await?;
    let counts = async { row_counts(&mut copy.acquire().await?).await }.await;
    copy.close().await;
    let counts = counts?;
    refuse_differences(&manifest.tables, &counts)?;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::rename(&unpacked, &target)?;
    Ok(counts)
}

async fn restore_postgres(
    url: &str,
    manifest: &Manifest,
    staging: &Path,
) -> Result<BTreeMap<String, i64>, StartupError> {
    let target = open_empty_postgres(url, manifest.schema_version).await?;
    let mut tx = db::begin_write(&target).await?;
    let (order, keys) = start_filling(&mut tx, &manifest.tables).await?;
    for name in order {
        let path = staging.join(format!("{}{name}.jsonl", archive::TABLES_DIR));
        let types = sql::column_types(postgres(&mut tx)?, &name).await?;
        let mut lines = std::io::BufReader::new(std::fs::File::open(&path)?).lines();
        loop {
            let mut rows = Vec::new();
            for line in lines.by_ref().take(PAGE as usize) {
                rows.push(parse_row(&name, &line?)?);
            }
            if rows.is_empty() {
                break;
            }
            sql::insert_json_rows(postgres(&mut tx)?, &name, &types, &rows).await?;
        }
    }
    finish_filling(&mut tx, &keys, &manifest.tables).await?;
    tx.commit().await?;
    target.close().await;
    Ok(manifest.tables.clone())
}

/// Connects to a PostgreSQL database, brings its schema up to date and
/// checks it is empty and at `schema_version`.
async fn open_empty_postgres(url: &str, schema_version: i64) -> Result<Pool, StartupError> {
    let pool = db::connect(url, 2).await?;
    db::migrate(&pool).await?;
    let mut conn = pool.acquire().await?;
    refuse_if_any_rows(&row_counts(&mut conn).await?, &db::redact_url(url))?;
    let version = sql::schema_version(&mut conn).await?;
    if version != schema_version {
        return Err(StartupError::Refused(format!(
            "the data is at schema version {schema_version} and this qmtrack's is {version}: use the qmtrack version that matches it"
        )));
    }
    drop(conn);
    Ok(pool)
}

/// The tables of `counts` the target has (a table it lacks must have no
/// rows), with its foreign keys dropped until [`finish_filling`] adds them
/// back, so tables can be filled in any order.
async fn start_filling(
    tx: &mut db::Tx,
    counts: &BTreeMap<String, i64>,
) -> Result<(Vec<String>, Vec<sql::ForeignKey>), StartupError> {
    let pg = postgres(tx)?;
    let mut present = Vec::new();
    for (name, rows) in counts {
        if sql::column_types(pg, name).await?.is_empty() {
            if *rows > 0 {
                return Err(StartupError::Refused(format!(
                    "the target database has no table {name} for its {rows} rows"
                )));
            }
        } else {
            present.push(name.clone());
        }
    }
    let keys = sql::foreign_keys(pg).await?;
    for key in &keys {
        sql::drop_foreign_key(pg, key).await?;
    }
    Ok((present, keys))
}

/// Adds the foreign keys back (checking every reference), checks every
/// table holds the rows expected, and moves each id sequence past the ids
/// copied in.
async fn finish_filling(
    tx: &mut db::Tx,
    keys: &[sql::ForeignKey],
    expected: &BTreeMap<String, i64>,
) -> Result<(), StartupError> {
    for key in keys {
        sql::add_foreign_key(postgres(tx)?, key).await.map_err(|e| {
            StartupError::Refused(format!(
                "a row of {} names a row that is not there ({e})",
                key.table_name
            ))
        })?;
    }
    let mut found = BTreeMap::new();
    for (name, rows) in expected {
        if *rows > 0 {
            found.insert(name.clone(), sql::count_rows(tx, name).await?);
            let columns = sql::column_types(postgres(tx)?, name).await?;
            if columns.iter().any(|(column, _)| column == "id") {
                sql::advance_id_sequence(postgres(tx)?, name).await?;
            }
        }
    }
    let expected: BTreeMap<String, i64> = expected
        .iter()
        .filter(|(_, rows)| **rows > 0)
        .map(|(n, r)| (n.clone(), *r))
        .collect();
    refuse_differences(&expected, &found)
}

/// The PostgreSQL connection of a write transaction.
fn postgres(tx: &mut db::Tx) -> Result<&mut sqlx::PgConnection, StartupError> {
    match tx {
        db::Tx::Postgres(tx) => Ok(&mut **tx),
        db::Tx::Sqlite(..) => Err(StartupError::Refused("the target database is not PostgreSQL".into())),
    }
}

fn refuse_differences(expected: &BTreeMap<String, i64>, found: &BTreeMap<String, i64>) -> Result<(), StartupError> {
    let differences = archive::count_differences(expected, found);
    if differences.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = differences
        .iter()
        .map(|(table, want, got)| format!("{table}: {want} expected, {got} found"))
        .collect();
    Err(StartupError::Refused(format!(
        "the rows do not match the manifest ({}); nothing was restored",
        listed.join("; ")
    )))
}

fn refuse_if_any_rows(counts: &BTreeMap<String, i64>, what: &str) -> Result<(), StartupError> {
    let filled: Vec<String> = counts
        .iter()
        .filter(|(_, rows)| **rows > 0)
        .map(|(table, rows)| format!("{table} has {rows}"))
        .collect();
    if filled.is_empty() {
        return Ok(());
    }
    Err(StartupError::Refused(format!(
        "the database {what} is not empty ({}); restore or copy only into an empty database",
        filled.join(", ")
    )))
}

async fn row_counts(conn: &mut db::Conn) -> Result<BTreeMap<String, i64>, sqlx::Error> {
    let mut counts = BTreeMap::new();
    for table in sql::tables(conn).await? {
        let rows = sql::count_rows(conn, &table.name).await?;
        counts.insert(table.name, rows);
    }
    Ok(counts)
}

/// A snapshot's row counts, schema version and the files it names.
async fn describe(
    snapshot: &Pool,
    data_dir: &Path,
) -> Result<(BTreeMap<String, i64>, i64, Vec<(String, PathBuf)>), StartupError> {
    let mut conn = snapshot.acquire().await?;
    let counts = row_counts(&mut conn).await?;
    let version = sql::schema_version(&mut conn).await?;
    let files = in_data_folder(
        referenced_files(&mut conn, &EvidenceStore::new(data_dir)).await?,
        data_dir,
    );
    Ok((counts, version, files))
}

async fn sqlite_snapshot(pool: &Pool, path: &Path) -> Result<(), StartupError> {
    let mut conn = pool.acquire().await?;
    if let db::PooledConnection::Sqlite(conn) = &mut conn {
        sql::sqlite_snapshot(conn, &path.display().to_string()).await?;
    }
    Ok(())
}

/// Writes one table's rows to `path` as JSON lines; returns how many.
async fn export_table(conn: &mut db::Conn, table: &sql::Table, path: &Path) -> Result<i64, StartupError> {
    let columns = sql::columns(conn, &table.name).await?;
    let mut out = std::io::BufWriter::new(crate::storage::create_private(path)?);
    let (mut after, mut written) = (0, 0);
    loop {
        let page = sql::export_page(conn, table, &columns, after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, json) in &page {
            out.write_all(json.as_bytes())?;
            out.write_all(b"\n")?;
            written += 1;
        }
        if !table.has_id {
            break;
        }
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(written)
}

fn parse_row(table: &str, json: &str) -> Result<serde_json::Map<String, serde_json::Value>, StartupError> {
    serde_json::from_str(json).map_err(|e| StartupError::Refused(format!("a row of {table} is not a JSON object: {e}")))
}

/// Every file the database names, by its name in the store (which is its
/// path under the data folder).
async fn referenced_files(conn: &mut db::Conn, store: &EvidenceStore) -> Result<Vec<String>, StartupError> {
    let mut files = Vec::new();
    for sha256 in sql::evidence_files(conn).await? {
        let name = crate::storage::evidence_name(&sha256).ok_or_else(|| {
            StartupError::Refused(format!("an evidence row names “{sha256}”, which is not a file's hash"))
        })?;
        files.push(name);
    }
    // Only an import waiting for its commit keeps its sheet.
    let sheets = store.sheet_ids().await?;
    for id in sql::import_ids(conn).await? {
        if sheets.contains(&id) {
            files.push(crate::storage::sheet_name(id));
        }
    }
    Ok(files)
}

/// Files in the data folder: (their name in an archive, where they are).
fn in_data_folder(names: Vec<String>, data_dir: &Path) -> Vec<(String, PathBuf)> {
    names
        .into_iter()
        .map(|name| (format!("{}{name}", archive::FILES_DIR), data_dir.join(name)))
        .collect()
}

/// A file checked against its name and ready to copy.
struct CheckedFile {
    /// Its name in the store.
    name: String,
    path: PathBuf,
    sha256: String,
    size: u64,
}

/// Checks every file exists and that each evidence file (named by its
/// hash) still has that hash.
fn check_files(files: &[(String, PathBuf)]) -> Result<Vec<CheckedFile>, StartupError> {
    let mut checked = Vec::new();
    for (name, path) in files {
        let file = std::fs::File::open(path)
            .map_err(|e| StartupError::Refused(format!("{} (named by the database): {e}", path.display())))?;
        let (sha256, size) = copy_hashing(file, &mut std::io::sink())?;
        let named = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.contains("/evidence/") && sha256 != named {
            return Err(StartupError::Refused(format!(
                "{} does not have the content its name says (SHA-256 {sha256})",
                path.display()
            )));
        }
        checked.push(CheckedFile {
            name: name.strip_prefix(archive::FILES_DIR).unwrap_or(name).to_string(),
            path: path.clone(),
            sha256,
            size,
        });
    }
    Ok(checked)
}

/// Writes the archive to a private temporary file beside `out`, then moves
/// it into place, so a half-written archive never has the name asked for.
fn write_archive(out: &Path, mut manifest: Manifest, parts: &[(String, PathBuf)]) -> Result<Manifest, StartupError> {
    let partial = out.with_extension("partial");
    let file = crate::storage::create_private(&partial)?;
    let written = (|| -> Result<std::fs::File, StartupError> {
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true)
            .unix_permissions(0o600);
        for (name, path) in parts {
            let source = std::fs::File::open(path)
                .map_err(|e| StartupError::Refused(format!("{} (named by the database): {e}", path.display())))?;
            zip.start_file(name.as_str(), options).map_err(zip_error)?;
            let (sha256, size) = copy_hashing(source, &mut zip)?;
            manifest.entries.push(Entry {
                name: name.clone(),
                size,
                sha256,
            });
        }
        zip.start_file(archive::MANIFEST, options).map_err(zip_error)?;
        zip.write_all(&serde_json::to_vec_pretty(&manifest).map_err(|e| StartupError::Refused(e.to_string()))?)?;
        let buffered = zip.finish().map_err(zip_error)?;
        buffered.into_inner().map_err(|e| StartupError::Io(e.into_error()))
    })();
    match written {
        Ok(file) => {
            file.sync_all()?;
            std::fs::rename(&partial, out)?;
            Ok(manifest)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Unpacks every entry the manifest lists into `folder`, each private, and
/// checks its size and SHA-256; refuses an archive that differs in any.
fn unpack_verified(archive_path: &Path, folder: &Path) -> Result<Manifest, StartupError> {
    let file = std::fs::File::open(archive_path)?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| StartupError::Refused(format!("{} is not a qmtrack backup: {e}", archive_path.display())))?;
    let manifest: Manifest = {
        let mut text = Vec::new();
        zip.by_name(archive::MANIFEST)
            .map_err(|_| StartupError::Refused(format!("{} has no manifest", archive_path.display())))?
            .read_to_end(&mut text)?;
        serde_json::from_slice(&text).map_err(|e| StartupError::Refused(format!("the manifest is unreadable: {e}")))?
    };
    if manifest.format != archive::FORMAT {
        return Err(StartupError::Refused(format!(
            "the archive is in format {}; this qmtrack reads format {}",
            manifest.format,
            archive::FORMAT
        )));
    }
    let has_database = match manifest.backend.as_str() {
        "sqlite" => manifest.entry(archive::SQLITE_DATABASE).is_some(),
        _ => manifest
            .tables
            .keys()
            .all(|t| manifest.entry(&format!("{}{t}.jsonl", archive::TABLES_DIR)).is_some()),
    };
    if !has_database {
        return Err(StartupError::Refused("the archive lacks part of its database".into()));
    }
    for entry in &manifest.entries {
        if !archive::is_safe_relative_path(&entry.name) {
            return Err(StartupError::Refused(format!(
                "the archive names an unsafe path “{}”",
                entry.name
            )));
        }
        let inside = zip
            .by_name(&entry.name)
            .map_err(|_| StartupError::Refused(format!("the archive lacks {}", entry.name)))?;
        let target = folder.join(&entry.name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = std::io::BufWriter::new(crate::storage::create_private(&target)?);
        let (sha256, size) = copy_hashing(inside, &mut out)?;
        out.flush()?;
        if sha256 != entry.sha256 || size != entry.size {
            return Err(StartupError::Refused(format!(
                "{} does not match the manifest (SHA-256 {sha256}, {size} bytes; the manifest says {}, {} bytes): the archive is damaged or was altered, and nothing was restored",
                entry.name, entry.sha256, entry.size
            )));
        }
    }
    Ok(manifest)
}

/// Copies `from` to `to`, returning the SHA-256 (lower-case hex) and size.
fn copy_hashing(mut from: impl Read, to: &mut impl Write) -> Result<(String, u64), StartupError> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = from.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        to.write_all(&buffer[..n])?;
        size += n as u64;
    }
    Ok((hasher.finalize().iter().map(|b| format!("{b:02x}")).collect(), size))
}

fn zip_error(error: zip::result::ZipError) -> StartupError {
    StartupError::Refused(format!("the archive could not be written: {error}"))
}

/// Regular files already in the folders a restore fills.
fn files_already_in(data_dir: &Path) -> Result<Vec<PathBuf>, StartupError> {
    let mut found = Vec::new();
    for folder in ["evidence", "imports"] {
        let entries = match std::fs::read_dir(data_dir.join(folder)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                found.push(entry.path());
            }
        }
    }
    Ok(found)
}

/// A private working folder, removed with whatever is left in it when the
/// command ends (done or not).
struct Staging(PathBuf);

impl Staging {
    fn inside(folder: &Path) -> std::io::Result<Staging> {
        std::fs::create_dir_all(folder)?;
        Self::at(folder.join(format!(".backup-{}", staging_suffix())))
    }

    fn beside(file: &Path) -> std::io::Result<Staging> {
        let folder = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self::inside(folder)
    }

    fn at(path: PathBuf) -> std::io::Result<Staging> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(Staging(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn staging_suffix() -> String {
    crate::security::random_token()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect()
}
