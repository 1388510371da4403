//! The file store: evidence files, named by the SHA-256 of their content
//! and stored once however often uploaded, and the sheets of imports waiting
//! for their commit.
//!
//! Where the files live depends on the database:
//! - SQLite: under `<data dir>/evidence/` and `<data dir>/imports/`, never
//!   under a served folder;
//! - PostgreSQL: in the database itself (`stored_files`, in chunks; see
//!   [`crate::db::stored_files`]), so every app server sharing it sees the
//!   same files. A file is written chunk by chunk in one transaction and
//!   read back chunk by chunk, never whole in memory.
//!
//! Either way a file is known by its name as the data folder would hold it
//! (`evidence/<sha256>`, `imports/<id>.upload`), which is also its name in a
//! backup archive.
//!
//! An upload is written to a temporary file in the local evidence folder
//! (so the final rename is atomic on one file system), checked, then
//! renamed to its hash (or copied into the database and removed), and only
//! then is the database row committed. A failure at any step before that
//! removes the temporary file (the [`Incoming`] guard does it on drop, so an
//! early return or a dropped request cannot leave one behind); a failure
//! after it removes the stored file again if this upload created it.
//!
//! Files are readable by the service's user only (mode 0600): they hold
//! personal data. A temporary file is locked while its upload is alive, so a
//! start-up sweep can tell one left by a killed process (nobody holds the
//! lock) from one another app server sharing the folder is still writing.
//!
//! [`Scratch`] is the folder Rocket streams uploads into before a handler
//! sees them, one per running process under `<data dir>/tmp/`, locked the
//! same way and swept the same way.

use crate::db::{self, stored_files, Pool};
use rocket::tokio::io::{AsyncRead, AsyncReadExt, AsyncSeek, AsyncWriteExt};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

const INCOMING_PREFIX: &str = ".incoming-";

/// The size of one chunk of a file kept in the database.
const CHUNK_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct EvidenceStore {
    data_dir: PathBuf,
    /// The local evidence folder: the files themselves on SQLite, uploads
    /// in transit only when the database holds the files.
    dir: PathBuf,
    /// Set when the files are kept in the database.
    database: Option<Pool>,
}

impl std::fmt::Debug for EvidenceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceStore")
            .field("dir", &self.dir)
            .field("in_database", &self.database.is_some())
            .finish()
    }
}

/// An evidence file's name in the store, or None for anything that is not
/// a SHA-256 in lower-case hex, so a stored value can never name a path.
pub fn evidence_name(sha256: &str) -> Option<String> {
    let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    valid.then(|| format!("evidence/{sha256}"))
}

/// A pending import's sheet's name in the store.
pub fn sheet_name(import_id: i64) -> String {
    format!("imports/{import_id}.upload")
}

/// The import a sheet's name belongs to.
fn sheet_id(name: &str) -> Option<i64> {
    name.strip_prefix("imports/")?.strip_suffix(".upload")?.parse().ok()
}

fn database_error(error: sqlx::Error) -> io::Error {
    io::Error::other(error)
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: u64 },
    #[error("the file store failed: {0}")]
    Io(#[from] io::Error),
}

/// An upload written to a temporary file, not yet in the store. Dropping it
/// removes the temporary file.
#[derive(Debug)]
pub struct Incoming {
    path: PathBuf,
    pub sha256: String,
    pub size: u64,
    /// Held open (and locked) until the file is stored or removed.
    _lock: Option<std::fs::File>,
}

impl Incoming {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A file now in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
    /// False when identical content was already stored (by any upload).
    pub newly_created: bool,
}

impl EvidenceStore {
    /// Files in the data folder.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            dir: data_dir.join("evidence"),
            database: None,
        }
    }

    /// The store for a site served by `pool`: in the database when it is
    /// PostgreSQL (app servers share it), else in the data folder.
    pub fn for_database(data_dir: &Path, pool: &Pool) -> Self {
        Self {
            database: (pool.backend() == db::Backend::Postgres).then(|| pool.clone()),
            ..Self::new(data_dir)
        }
    }

    pub fn in_database(&self) -> bool {
        self.database.is_some()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file with this hash lives in the data folder; None for
    /// anything that is not a SHA-256 in lower-case hex.
    pub fn path_for(&self, sha256: &str) -> Option<PathBuf> {
        evidence_name(sha256).map(|name| self.data_dir.join(name))
    }

    /// Streams `reader` into a temporary file in the store's folder, hashing
    /// as it goes. Refuses more than `max` bytes.
    pub async fn receive<R: AsyncRead + Unpin>(&self, mut reader: R, max: u64) -> Result<Incoming, StoreError> {
        rocket::tokio::fs::create_dir_all(&self.dir).await?;
        let path = self
            .dir
            .join(format!("{INCOMING_PREFIX}{}", crate::security::random_token()));
        // The guard exists before the file does, so every exit below cleans up.
        let mut incoming = Incoming {
            path,
            sha256: String::new(),
            size: 0,
            _lock: None,
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&incoming.path)?;
        // Nobody else has the new file's name yet, so this cannot wait.
        file.try_lock().map_err(io::Error::other)?;
        incoming._lock = Some(file.try_clone()?);
        let mut file = rocket::tokio::fs::File::from_std(file);
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            incoming.size += n as u64;
            if incoming.size > max {
                return Err(StoreError::TooLarge { max });
            }
            hasher.update(&buffer[..n]);
            file.write_all(&buffer[..n]).await?;
        }
        file.flush().await?;
        // On disk before the database says it exists.
        file.sync_all().await?;
        incoming.sha256 = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(incoming)
    }

    /// Renames a received file to its hash (or copies it into the database
    /// under its hash and removes it).
    pub async fn commit(&self, mut incoming: Incoming) -> Result<Stored, StoreError> {
        let name = evidence_name(&incoming.sha256).ok_or_else(|| io::Error::other("received file has no hash"))?;
        if let Some(pool) = &self.database {
            let created = copy_into_database(pool, &name, &incoming.sha256, incoming.size, &incoming.path).await?;
            // Dropping `incoming` removes the local copy.
            return Ok(Stored {
                sha256: incoming.sha256.clone(),
                size: incoming.size,
                newly_created: created,
            });
        }
        let target = self.data_dir.join(name);
        let existed = rocket::tokio::fs::try_exists(&target).await?;
        if !existed {
            rocket::tokio::fs::rename(&incoming.path, &target).await?;
            // Renamed away: nothing left for the guard to remove.
            incoming.path = PathBuf::new();
        }
        // If it existed, dropping `incoming` removes the duplicate.
        Ok(Stored {
            sha256: incoming.sha256.clone(),
            size: incoming.size,
            newly_created: !existed,
        })
    }

    /// Undoes [`commit`](Self::commit) when the database row could not be
    /// saved. A file that was already there belongs to other rows and stays.
    pub async fn discard(&self, stored: &Stored) {
        if !stored.newly_created {
            return;
        }
        if let (Some(pool), Some(name)) = (&self.database, evidence_name(&stored.sha256)) {
            if let Err(e) = stored_files::delete(pool, &name).await {
                tracing::warn!("could not remove {name}: {e}");
            }
            return;
        }
        if let Some(path) = self.path_for(&stored.sha256) {
            if let Err(e) = rocket::tokio::fs::remove_file(&path).await {
                tracing::warn!("could not remove {}: {e}", path.display());
            }
        }
    }

    /// Stores bytes held in memory (the demo data set).
    pub async fn put_bytes(&self, bytes: &[u8]) -> Result<Stored, StoreError> {
        let incoming = self.receive(bytes, u64::MAX).await?;
        self.commit(incoming).await
    }

    /// An evidence file, to read from the start.
    pub async fn open(&self, sha256: &str) -> io::Result<StoredFile> {
        let name = evidence_name(sha256).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not a stored file"))?;
        self.open_named(&name).await
    }

    /// A file by its name in the store (`evidence/…`, `imports/…`).
    pub async fn open_named(&self, name: &str) -> io::Result<StoredFile> {
        match &self.database {
            Some(pool) => {
                let size = stored_files::size(pool, name)
                    .await
                    .map_err(database_error)?
                    .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{name} is not stored")))?;
                Ok(StoredFile {
                    size: u64::try_from(size).unwrap_or(0),
                    body: Body::Database(ChunkReader::new(pool.clone(), name)),
                })
            }
            None => {
                let file = rocket::tokio::fs::File::open(self.data_dir.join(name)).await?;
                let size = file.metadata().await?.len();
                Ok(StoredFile {
                    size,
                    body: Body::Folder(file),
                })
            }
        }
    }

    /// Keeps a pending import's sheet until its commit. In the folder it is
    /// written to a temporary name and renamed, so a half-written one is
    /// never read; in the database it is written in one transaction.
    pub async fn save_sheet(&self, import_id: i64, bytes: &[u8]) -> io::Result<()> {
        let name = sheet_name(import_id);
        if let Some(pool) = &self.database {
            let sha256 = crate::app::imports::sha256_hex(bytes);
            let mut tx = db::begin_write(pool).await.map_err(database_error)?;
            let now = chrono::Utc::now();
            if !stored_files::insert(&mut tx, &name, &sha256, bytes.len() as u64, now)
                .await
                .map_err(database_error)?
            {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{name} is already stored"),
                ));
            }
            for (seq, chunk) in bytes.chunks(CHUNK_BYTES).enumerate() {
                stored_files::insert_chunk(&mut tx, &name, seq as i64, chunk)
                    .await
                    .map_err(database_error)?;
            }
            return tx.commit().await.map_err(database_error);
        }
        let path = self.data_dir.join(&name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let temporary = path.with_extension("partial");
        write_private(&temporary, bytes)?;
        std::fs::rename(&temporary, &path)
    }

    /// A pending import's sheet, whole (the reader needs all of it).
    pub async fn load_sheet(&self, import_id: i64) -> io::Result<Vec<u8>> {
        let mut stored = self.open_named(&sheet_name(import_id)).await?;
        let mut bytes = Vec::with_capacity(usize::try_from(stored.size).unwrap_or(0));
        stored.read_to_end(&mut bytes).await?;
        Ok(bytes)
    }

    /// Removes a sheet no longer needed (it holds personal data); one
    /// already gone is no error.
    pub async fn remove_sheet(&self, import_id: i64) {
        let name = sheet_name(import_id);
        let removed = match &self.database {
            Some(pool) => stored_files::delete(pool, &name)
                .await
                .map(|_| ())
                .map_err(database_error),
            None => match std::fs::remove_file(self.data_dir.join(&name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        };
        if let Err(e) = removed {
            tracing::warn!("could not remove {name}: {e}");
        }
    }

    /// The imports whose sheets are stored.
    pub async fn sheet_ids(&self) -> io::Result<Vec<i64>> {
        let names = match &self.database {
            Some(pool) => stored_files::names_starting(pool, "imports/")
                .await
                .map_err(database_error)?,
            None => match std::fs::read_dir(self.data_dir.join("imports")) {
                Ok(entries) => entries
                    .flatten()
                    .map(|e| format!("imports/{}", e.file_name().to_string_lossy()))
                    .collect(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(e),
            },
        };
        Ok(names.iter().filter_map(|n| sheet_id(n)).collect())
    }

    /// Copies a stored file to a local file (a backup), reading its chunks
    /// through `conn` so a backup sees files as of its snapshot.
    pub async fn export(&self, conn: &mut db::Conn, name: &str, to: &Path) -> io::Result<()> {
        if self.database.is_none() {
            return Err(io::Error::other("the files are in the data folder; read them there"));
        }
        let mut out = rocket::tokio::fs::File::from_std(create_private(to)?);
        let mut seq = 0;
        while let Some(bytes) = stored_files::chunk_in(conn, name, seq).await.map_err(database_error)? {
            out.write_all(&bytes).await?;
            seq += 1;
        }
        if seq == 0
            && stored_files::size(self.pool()?, name)
                .await
                .map_err(database_error)?
                .is_none()
        {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{name} (named by the database) is not stored"),
            ));
        }
        out.flush().await?;
        out.sync_all().await
    }

    /// Puts the local file `from` (restored, or copied from a SQLite site)
    /// into the store as `name`, moving it when the store is a folder.
    pub async fn import(&self, name: &str, sha256: &str, from: &Path) -> io::Result<()> {
        match &self.database {
            Some(pool) => {
                let size = rocket::tokio::fs::metadata(from).await?.len();
                copy_into_database(pool, name, sha256, size, from).await?;
                Ok(())
            }
            None => {
                let target = self.data_dir.join(name);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::rename(from, target)
            }
        }
    }

    fn pool(&self) -> io::Result<&Pool> {
        self.database
            .as_ref()
            .ok_or_else(|| io::Error::other("not a database store"))
    }

    /// Removes temporary files left by a process that stopped mid-upload:
    /// those whose lock nobody holds. One being written by another app
    /// server sharing the folder is locked, and stays.
    pub fn sweep_incoming(&self) -> io::Result<usize> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let abandoned =
                entry.file_name().to_string_lossy().starts_with(INCOMING_PREFIX) && nobody_holds(&entry.path());
            if abandoned && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Writes a whole file readable by the service's user only (mode 0600),
/// replacing any file of that name.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = create_private(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Opens a new file readable by the service's user only (mode 0600) for
/// writing in parts, replacing any file of that name.
pub fn create_private(path: &Path) -> io::Result<std::fs::File> {
    // Removed first: opening an existing file keeps its old, perhaps wider, mode.
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Narrows every file in `dir` that others could read or write to mode
/// 0600: files written by an older version, or copied in by hand with the
/// usual 0644, hold personal data all the same. Returns how many changed.
pub fn make_private(dir: &Path) -> io::Result<usize> {
    use std::os::unix::fs::PermissionsExt;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut changed = 0;
    for entry in entries.flatten() {
        let Ok(metadata) = entry.metadata() else { continue };
        if metadata.is_file() && metadata.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Copies a local file into the database as `name`, chunk by chunk, in one
/// transaction; false (and nothing written) when a file of that name is
/// already there.
async fn copy_into_database(pool: &Pool, name: &str, sha256: &str, size: u64, from: &Path) -> io::Result<bool> {
    let mut file = rocket::tokio::fs::File::open(from).await?;
    let mut tx = db::begin_write(pool).await.map_err(database_error)?;
    if !stored_files::insert(&mut tx, name, sha256, size, chrono::Utc::now())
        .await
        .map_err(database_error)?
    {
        return Ok(false);
    }
    let mut buffer = vec![0u8; CHUNK_BYTES];
    let mut seq = 0;
    loop {
        // Fill the chunk: a read may return less than asked.
        let mut filled = 0;
        while filled < CHUNK_BYTES {
            let n = file.read(&mut buffer[filled..]).await?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        stored_files::insert_chunk(&mut tx, name, seq, &buffer[..filled])
            .await
            .map_err(database_error)?;
        seq += 1;
    }
    tx.commit().await.map_err(database_error)?;
    Ok(true)
}

/// A stored file opened for reading: from the data folder or, chunk by
/// chunk, from the database.
pub struct StoredFile {
    pub size: u64,
    body: Body,
}

enum Body {
    Folder(rocket::tokio::fs::File),
    Database(ChunkReader),
}

type ChunkFetch = Pin<Box<dyn Future<Output = Result<Option<Vec<u8>>, sqlx::Error>> + Send>>;

/// Reads a file from the database one chunk (one query) at a time.
struct ChunkReader {
    pool: Pool,
    name: String,
    next: i64,
    chunk: Vec<u8>,
    at: usize,
    position: u64,
    fetching: Option<ChunkFetch>,
}

impl ChunkReader {
    fn new(pool: Pool, name: &str) -> Self {
        ChunkReader {
            pool,
            name: name.to_string(),
            next: 0,
            chunk: Vec::new(),
            at: 0,
            position: 0,
            fetching: None,
        }
    }
}

impl AsyncRead for ChunkReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut rocket::tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.at < this.chunk.len() {
                let n = buf.remaining().min(this.chunk.len() - this.at);
                buf.put_slice(&this.chunk[this.at..this.at + n]);
                this.at += n;
                this.position += n as u64;
                return Poll::Ready(Ok(()));
            }
            let fetching = this.fetching.get_or_insert_with(|| {
                let (pool, name, seq) = (this.pool.clone(), this.name.clone(), this.next);
                Box::pin(async move { stored_files::chunk(&pool, &name, seq).await })
            });
            let fetched = match fetching.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(fetched) => fetched,
            };
            this.fetching = None;
            match fetched {
                Ok(Some(chunk)) => {
                    this.chunk = chunk;
                    this.at = 0;
                    this.next += 1;
                }
                // Past the last chunk: the end of the file.
                Ok(None) => return Poll::Ready(Ok(())),
                Err(e) => return Poll::Ready(Err(database_error(e))),
            }
        }
    }
}

impl AsyncRead for StoredFile {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut rocket::tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.body {
            Body::Folder(file) => Pin::new(file).poll_read(cx, buf),
            Body::Database(reader) => Pin::new(reader).poll_read(cx, buf),
        }
    }
}

/// Rocket sends a body of known size only if it can seek; a download is
/// sent from the start with its size given, so a file in the database only
/// needs to tell where it is, and refuses to move.
impl AsyncSeek for StoredFile {
    fn start_seek(mut self: Pin<&mut Self>, position: io::SeekFrom) -> io::Result<()> {
        match &mut self.body {
            Body::Folder(file) => Pin::new(file).start_seek(position),
            Body::Database(_) if position == io::SeekFrom::Current(0) => Ok(()),
            Body::Database(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a file in the database is read from the start",
            )),
        }
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        match &mut self.body {
            Body::Folder(file) => Pin::new(file).poll_complete(cx),
            Body::Database(reader) => Poll::Ready(Ok(reader.position)),
        }
    }
}

/// Whether a file's lock is free: the process that wrote it has gone.
fn nobody_holds(path: &Path) -> bool {
    std::fs::File::open(path).is_ok_and(|file| file.try_lock().is_ok())
}

const SCRATCH_LOCK: &str = "lock";

/// This process's folder for uploads in transit (Rocket's `temp_dir`),
/// locked for as long as the process lives.
#[derive(Debug)]
pub struct Scratch {
    dir: PathBuf,
    _lock: std::fs::File,
}

impl Scratch {
    /// Removes the folders of processes that have gone (with whatever
    /// half-received uploads they held), then makes and locks this one's.
    pub fn open(data_dir: &Path) -> io::Result<Scratch> {
        let parent = data_dir.join("tmp");
        std::fs::create_dir_all(&parent)?;
        Self::sweep(&parent)?;
        // Made under a name the sweep leaves alone, and renamed once locked,
        // so another process starting at the same moment never removes it.
        let name = crate::security::random_token()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect::<String>();
        let making = parent.join(format!(".new-{name}"));
        std::fs::create_dir(&making)?;
        let lock = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(making.join(SCRATCH_LOCK))?;
        lock.try_lock().map_err(io::Error::other)?;
        let dir = parent.join(name);
        std::fs::rename(&making, &dir)?;
        Ok(Scratch { dir, _lock: lock })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder's name: random, unique to this process, and how the
    /// process is known among the app servers (see [`crate::recovery`]).
    pub fn id(&self) -> String {
        self.dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Whether the process whose folder is named `id` is still running.
    pub fn is_live(data_dir: &Path, id: &str) -> bool {
        let named_safely = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric());
        let lock = data_dir.join("tmp").join(id).join(SCRATCH_LOCK);
        named_safely && lock.exists() && !nobody_holds(&lock)
    }

    fn sweep(parent: &Path) -> io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(parent)?.flatten() {
            let path = entry.path();
            let being_made = entry.file_name().to_string_lossy().starts_with(".new-");
            let gone = if being_made {
                // Only one that has sat unfinished for a while.
                entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|at| at.elapsed().ok())
                    .is_some_and(|age| age > std::time::Duration::from_secs(60))
            } else {
                nobody_holds(&path.join(SCRATCH_LOCK)) || !path.join(SCRATCH_LOCK).exists()
            };
            if gone && path.is_dir() && std::fs::remove_dir_all(&path).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Gives `good` bytes, then fails like a dropped connection.
    struct Interrupted {
        good: usize,
    }

    impl AsyncRead for Interrupted {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut rocket::tokio::io::ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if self.good == 0 {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::ConnectionReset, "peer went away")));
            }
            let n = self.good.min(buf.remaining()).min(1000);
            buf.put_slice(&vec![b'x'; n]);
            self.good -= n;
            Poll::Ready(Ok(()))
        }
    }

    #[rocket::async_test]
    async fn a_file_is_named_by_its_hash_and_stored_once() {
        let dir = tempfile::tempdir().expect("dir");
        let store = EvidenceStore::new(dir.path());
        let first = store.put_bytes(b"policy").await.expect("stored");
        assert_eq!(
            first.sha256,
            "823412d1eacb67956220e532959f0104603057c88704863ca38e7cd188fda812"
        );
        assert!(first.newly_created);
        let again = store.put_bytes(b"policy").await.expect("stored");
        assert_eq!(again.sha256, first.sha256);
        assert!(!again.newly_created, "the same content is kept once");
        assert_eq!(
            files_in(store.dir()),
            [first.sha256.as_str()],
            "no temporary files left"
        );
        let mut content = String::new();
        store
            .open(&first.sha256)
            .await
            .expect("open")
            .read_to_string(&mut content)
            .await
            .expect("read");
        assert_eq!(content, "policy");
    }

    #[rocket::async_test]
    async fn an_interrupted_or_oversized_upload_leaves_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let store = EvidenceStore::new(dir.path());
        let error = store
            .receive(Interrupted { good: 5000 }, 1 << 20)
            .await
            .expect_err("interrupted");
        assert!(matches!(error, StoreError::Io(_)));
        assert!(files_in(store.dir()).is_empty(), "{:?}", files_in(store.dir()));
        let error = store.receive(&[0u8; 2049][..], 2048).await.expect_err("too large");
        assert!(matches!(error, StoreError::TooLarge { max: 2048 }));
        assert!(files_in(store.dir()).is_empty());
        // Received but then refused (say, the wrong type): dropping it cleans up.
        let incoming = store.receive(&b"not a pdf"[..], 2048).await.expect("received");
        assert_eq!(files_in(store.dir()).len(), 1);
        drop(incoming);
        assert!(files_in(store.dir()).is_empty());
    }

    #[rocket::async_test]
    async fn a_failed_database_write_takes_a_new_file_back_out() {
        let dir = tempfile::tempdir().expect("dir");
        let store = EvidenceStore::new(dir.path());
        let kept = store.put_bytes(b"shared").await.expect("stored");
        let duplicate = store.put_bytes(b"shared").await.expect("stored");
        store.discard(&duplicate).await;
        assert_eq!(files_in(store.dir()), [kept.sha256.as_str()], "others' file stays");
        let fresh = store.put_bytes(b"fresh").await.expect("stored");
        store.discard(&fresh).await;
        assert_eq!(files_in(store.dir()), [kept.sha256]);
    }

    #[test]
    fn only_hashes_name_files() {
        let store = EvidenceStore::new(Path::new("/data"));
        assert!(store.path_for(&"a".repeat(64)).is_some());
        for bad in [
            "../../etc/passwd",
            "",
            &"A".repeat(64),
            &"a".repeat(63),
            &format!("{}/", "a".repeat(63)),
        ] {
            assert!(store.path_for(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn abandoned_temporary_files_are_swept_and_live_ones_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let store = EvidenceStore::new(dir.path());
        std::fs::create_dir_all(store.dir()).expect("dir");
        std::fs::write(store.dir().join(".incoming-old"), b"half").expect("write");
        std::fs::write(store.dir().join("a".repeat(64)), b"kept").expect("write");
        let live = std::fs::File::create(store.dir().join(".incoming-live")).expect("create");
        live.try_lock().expect("lock");
        assert_eq!(store.sweep_incoming().expect("sweep"), 1);
        let mut left = vec![".incoming-live".to_string(), "a".repeat(64)];
        left.sort();
        assert_eq!(files_in(store.dir()), left);
        drop(live);
        assert_eq!(store.sweep_incoming().expect("sweep"), 1);
        assert_eq!(files_in(store.dir()), ["a".repeat(64)]);
    }

    #[rocket::async_test]
    async fn files_are_private_to_the_service() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let store = EvidenceStore::new(dir.path());
        let stored = store.put_bytes(b"confidential").await.expect("stored");
        let path = store.path_for(&stored.sha256).expect("path");
        let mode = std::fs::metadata(path).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn files_others_could_read_are_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let mode_of = |name: &str| {
            std::fs::metadata(dir.path().join(name))
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777
        };
        for (name, mode) in [
            ("wide", 0o644),
            ("group", 0o640),
            ("private", 0o600),
            ("owner-only", 0o400),
        ] {
            std::fs::write(dir.path().join(name), b"personal").expect("write");
            std::fs::set_permissions(dir.path().join(name), std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        assert_eq!(make_private(dir.path()).expect("tightened"), 2);
        assert_eq!(
            ["wide", "group", "private", "owner-only"].map(mode_of),
            [0o600, 0o600, 0o600, 0o400]
        );
        write_private(&dir.path().join("wide"), b"again").expect("written");
        assert_eq!(mode_of("wide"), 0o600);
        std::fs::set_permissions(dir.path().join("wide"), std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_private(&dir.path().join("wide"), b"replaced").expect("written");
        assert_eq!(mode_of("wide"), 0o600, "rewriting a wide file does not keep its mode");
        assert_eq!(make_private(&dir.path().join("missing")).expect("nothing to do"), 0);
    }

    #[test]
    fn a_scratch_folder_outlives_nobody() {
        let dir = tempfile::tempdir().expect("dir");
        let first = Scratch::open(dir.path()).expect("scratch");
        std::fs::write(first.dir().join("upload"), b"half").expect("write");
        let second = Scratch::open(dir.path()).expect("scratch");
        assert!(first.dir().join("upload").exists(), "a live process keeps its folder");
        let gone = first.dir().to_path_buf();
        drop(first);
        let third = Scratch::open(dir.path()).expect("scratch");
        assert!(!gone.exists(), "a dead process's folder is swept");
        assert!(second.dir().exists() && third.dir().exists());
    }
}
