//! The evidence file store: files under `<data dir>/evidence/`, never under
//! a served folder, each named by the SHA-256 of its content.
//!
//! An upload is written to a temporary file in the same folder (so the final
//! rename is atomic on one file system), checked, then renamed to its hash,
//! and only then is the database row committed. A failure at any step before
//! the rename removes the temporary file (the [`Incoming`] guard does it on
//! drop, so an early return or a dropped request cannot leave one behind);
//! a failure after it removes the file again if this upload created it.
//! Identical content uploaded twice is stored once.
//!
//! Files are readable by the service's user only (mode 0600): they hold
//! personal data. A temporary file is locked while its upload is alive, so a
//! start-up sweep can tell one left by a killed process (nobody holds the
//! lock) from one another app server sharing the folder is still writing.
//!
//! [`Scratch`] is the folder Rocket streams uploads into before a handler
//! sees them, one per running process under `<data dir>/tmp/`, locked the
//! same way and swept the same way.

use rocket::tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use sha2::{Digest, Sha256};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

const INCOMING_PREFIX: &str = ".incoming-";

#[derive(Debug, Clone)]
pub struct EvidenceStore {
    dir: PathBuf,
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
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("evidence"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file with this hash lives; None for anything that is not a
    /// SHA-256 in lower-case hex, so a stored value can never name a path.
    pub fn path_for(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| self.dir.join(sha256))
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

    /// Renames a received file to its hash.
    pub async fn commit(&self, mut incoming: Incoming) -> Result<Stored, StoreError> {
        let target = self
            .path_for(&incoming.sha256)
            .ok_or_else(|| io::Error::other("received file has no hash"))?;
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
        if stored.newly_created {
            if let Some(path) = self.path_for(&stored.sha256) {
                if let Err(e) = rocket::tokio::fs::remove_file(&path).await {
                    tracing::warn!("could not remove {}: {e}", path.display());
                }
            }
        }
    }

    /// Stores bytes held in memory (the demo data set).
    pub async fn put_bytes(&self, bytes: &[u8]) -> Result<Stored, StoreError> {
        let incoming = self.receive(bytes, u64::MAX).await?;
        self.commit(incoming).await
    }

    pub async fn open(&self, sha256: &str) -> io::Result<rocket::tokio::fs::File> {
        let path = self
            .path_for(sha256)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not a stored file"))?;
        rocket::tokio::fs::File::open(path).await
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
