//! [`SqliteStore`]: the embedded, durable [`Store`]. One file, WAL mode, a single writer thread
//! that group-commits (`writer.rs`), and a small pool of read-only connections for concurrent
//! reads (`read.rs`). The file and its `-wal`/`-shm` companions are private (0600): they hold the
//! customer's whole support history.

mod archive;
mod read;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use deskmove_core::connector::TargetInstance;
use deskmove_core::{Problem, RecordKind, SourceKey};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::error::StoreError;
use crate::rows;
use crate::store::Store;
use crate::types::{
    Activity, BlobMeta, Dump, LedgerEntry, LoadBatch, NewRun, Run, RunId, RunStatus, StagedBatch,
    StatusReport, StoredProblem, StoredRaw, StoredRecord, ThreadPosition,
};
pub use archive::ArchiveHit;
use writer::Command;

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

/// What a committed write survives.
///
/// Both settings survive the deskmove process being killed (SIGKILL, OOM, panic): in WAL mode a
/// commit has reached the OS (the `-wal` file's page cache) before it returns, and the OS writes
/// it out even though the process is gone. They differ only on power loss or a kernel crash:
///
/// - [`Normal`](Durability::Normal) (`synchronous=NORMAL`, the default) fsyncs only at WAL
///   checkpoints, so the last commits before a power cut may be lost — never corrupted, and never
///   half a batch, because a batch and its cursor are one transaction. Extraction then simply
///   resumes from the older cursor. The cost of a lost *ledger* entry is higher (the target may
///   already hold the record), but a crash between a target write and its ledger commit exists
///   under any setting, so loaders must look up existing target records by source id anyway.
/// - [`Full`](Durability::Full) (`synchronous=FULL`) fsyncs the WAL at every commit, closing that
///   window at the price of one fsync per group commit. Choose it on machines that lose power.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=NORMAL`: safe against process death; power loss may drop the last commits.
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is fsynced before it returns.
    Full,
}

/// Tuning for [`SqliteStore`]; the defaults suit a laptop.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// What a committed write survives.
    pub durability: Durability,
    /// How long a connection waits for a lock held by another process (e.g. a `deskmove status`
    /// reading while a run writes) before failing.
    pub busy_timeout: Duration,
    /// The most queued writes the writer commits in one transaction.
    pub max_group: usize,
    /// The most idle read connections kept open.
    pub max_idle_readers: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            durability: Durability::Normal,
            busy_timeout: Duration::from_secs(10),
            max_group: 64,
            max_idle_readers: 4,
        }
    }
}

/// The SQLite [`Store`]. Open it once per process and share it (e.g. in an `Arc`); every method
/// may be called from any task. Call [`close`](SqliteStore::close) to wait for pending writes.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    // Behind a mutex only so `close` can drop it to stop the writer.
    sender: Mutex<Option<mpsc::Sender<Command>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Arc<ReaderPool>,
}

#[derive(Debug)]
struct ReaderPool {
    path: PathBuf,
    busy_timeout: Duration,
    max_idle: usize,
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(StoreError::sqlite("opening a read connection"))?;
                c.busy_timeout(self.busy_timeout)
                    .map_err(StoreError::sqlite("configuring a read connection"))?;
                c
            }
        };
        let result = f(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
        result
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` with default options. Blocking: it creates
    /// the file, applies migrations and starts the writer thread.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// Opens (creating if needed) the store at `path`.
    ///
    /// The file is created 0600 before SQLite sees it, and an existing file and its `-wal`/`-shm`
    /// are set to 0600, whatever the umask. Schema migrations are applied in order.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        create_private(&path)?;
        let mut conn = Connection::open(&path).map_err(StoreError::sqlite("opening the store"))?;
        configure_writer(&conn, &options)?;
        embedded::migrations::runner()
            .run(&mut conn)
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        // SQLite creates -wal/-shm with the main file's mode; set it anyway, umask-free.
        for suffix in ["-wal", "-shm"] {
            let mut companion = path.clone().into_os_string();
            companion.push(suffix);
            let companion = PathBuf::from(companion);
            if companion.exists() {
                set_private(&companion)?;
            }
        }
        let (tx, rx) = mpsc::channel();
        let max_group = options.max_group.max(1);
        let writer = std::thread::Builder::new()
            .name("deskmove-store-writer".into())
            .spawn(move || writer::run(conn, rx, max_group))
            .map_err(StoreError::io("starting the writer thread for", &path))?;
        tracing::debug!(path = %path.display(), "Staging store opened.");
        Ok(Self {
            readers: Arc::new(ReaderPool {
                path: path.clone(),
                busy_timeout: options.busy_timeout,
                max_idle: options.max_idle_readers,
                idle: Mutex::new(Vec::new()),
            }),
            path,
            sender: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
        })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for every pending write to commit, then stops the writer and closes the file.
    /// Blocking. Dropping the store without `close` also stops the writer, without waiting.
    pub fn close(self) -> Result<(), StoreError> {
        // Readers first: the last connection to close checkpoints and removes the WAL, and a
        // read-only connection cannot.
        self.readers
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        drop(self.sender.lock().unwrap_or_else(|e| e.into_inner()).take());
        let handle = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            handle
                .join()
                .map_err(|_| StoreError::Internal("the store writer thread panicked".into()))?;
        }
        Ok(())
    }

    async fn write<T: Send>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Command,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        {
            let sender = self.sender.lock().unwrap_or_else(|e| e.into_inner());
            let sender = sender.as_ref().ok_or(StoreError::Closed)?;
            sender.send(make(tx)).map_err(|_| StoreError::Closed)?;
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pool = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || pool.with(f))
            .await
            .map_err(|e| StoreError::Internal(format!("a store read task failed: {e}")))?
    }
}

fn configure_writer(conn: &Connection, options: &SqliteOptions) -> Result<(), StoreError> {
    let err = StoreError::sqlite;
    conn.busy_timeout(options.busy_timeout)
        .map_err(err("setting busy_timeout"))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(err("enabling WAL"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Invalid(format!(
            "the store's file system does not support WAL (journal mode stayed `{mode}`); put the store on a local disk"
        )));
    }
    let sync = match options.durability {
        Durability::Normal => "NORMAL",
        Durability::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)
        .map_err(err("setting synchronous"))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(err("enabling foreign keys"))?;
    // 32 MiB of page cache (default 2 MiB): index pages of big stores stay in memory instead of
    // being re-read from the file on every insert.
    conn.pragma_update(None, "cache_size", -32_768)
        .map_err(err("setting cache_size"))?;
    // Each batch is a savepoint in a group transaction: the pages it changes are first copied
    // to a sub-journal, by default a temporary file. In memory it costs no write call per page
    // (a profile of a 5,000-entry ledger batch: about a third of the writer's time).
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(err("setting temp_store"))?;
    // Room for every write statement, so the writer never re-prepares one.
    conn.set_prepared_statement_cache_capacity(32);
    Ok(())
}

#[cfg(unix)]
fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(StoreError::io("creating", path))?;
    // `mode` is filtered by the umask and ignored for an existing file: set it explicitly.
    set_private(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> Result<(), StoreError> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map(drop)
        .map_err(StoreError::io("creating", path))
}

#[cfg(unix)]
fn set_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(StoreError::io("restricting permissions of", path))
}

#[cfg(not(unix))]
fn set_private(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

impl Store for SqliteStore {
    async fn start_run(&self, run: NewRun) -> Result<RunId, StoreError> {
        self.write(|tx| Command::StartRun(run, tx)).await
    }

    async fn finish_run(
        &self,
        run: RunId,
        status: RunStatus,
        finished_at: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.write(|tx| Command::FinishRun(run, status, finished_at, tx))
            .await
    }

    async fn put_batch(&self, batch: StagedBatch) -> Result<(), StoreError> {
        // Serialise and hash on the blocking pool: the writer thread stays for SQL only, and the
        // caller's task (which may drive a whole stream's calls) is not held up.
        let prepared = tokio::task::spawn_blocking(move || rows::prepare_batch(batch))
            .await
            .map_err(|e| StoreError::Internal(format!("preparing a batch failed: {e}")))??;
        self.write(|tx| Command::Batch(prepared, tx)).await
    }

    async fn put_loads(&self, batch: LoadBatch) -> Result<(), StoreError> {
        let prepared = rows::prepare_loads(batch)?;
        self.write(|tx| Command::Loads(prepared, tx)).await
    }

    async fn put_blob(&self, blob: BlobMeta) -> Result<BlobMeta, StoreError> {
        self.write(|tx| Command::Blob(blob, tx)).await
    }

    async fn cursor(&self, stream: &str) -> Result<Option<String>, StoreError> {
        let stream = stream.to_owned();
        self.read(move |c| read::cursor(c, &stream)).await
    }

    async fn record(&self, key: &SourceKey) -> Result<Option<StoredRecord>, StoreError> {
        let key = key.clone();
        self.read(move |c| read::record(c, &key)).await
    }

    async fn records(
        &self,
        kind: RecordKind,
        after: Option<&SourceKey>,
        limit: usize,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let after = after.cloned();
        self.read(move |c| read::records(c, kind, after.as_ref(), limit))
            .await
    }

    async fn messages_in_thread_order(
        &self,
        after: Option<&ThreadPosition>,
        limit: usize,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let after = after.cloned();
        self.read(move |c| read::messages_in_thread_order(c, after.as_ref(), limit))
            .await
    }

    async fn thread_messages(
        &self,
        conversations: &[SourceKey],
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let conversations = conversations.to_vec();
        self.read(move |c| read::thread_messages(c, &conversations))
            .await
    }

    async fn raw(&self, key: &SourceKey) -> Result<Option<StoredRaw>, StoreError> {
        let key = key.clone();
        self.read(move |c| read::raw(c, &key)).await
    }

    async fn ledger(
        &self,
        key: &SourceKey,
        target: &TargetInstance,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        let (key, target) = (key.clone(), target.clone());
        self.read(move |c| read::ledger(c, &key, &target)).await
    }

    async fn ledger_entries(
        &self,
        keys: &[SourceKey],
        target: &TargetInstance,
    ) -> Result<Vec<Option<LedgerEntry>>, StoreError> {
        let (keys, target) = (keys.to_vec(), target.clone());
        self.read(move |c| keys.iter().map(|k| read::ledger(c, k, &target)).collect())
            .await
    }

    async fn created_by(
        &self,
        run: RunId,
        target: &TargetInstance,
        kind: RecordKind,
        after: Option<&SourceKey>,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        let (target, after) = (target.clone(), after.cloned());
        self.read(move |c| read::ledger_page(c, Some(run), &target, kind, after.as_ref(), limit))
            .await
    }

    async fn ledger_page(
        &self,
        target: &TargetInstance,
        kind: RecordKind,
        after: Option<&SourceKey>,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        let (target, after) = (target.clone(), after.cloned());
        self.read(move |c| read::ledger_page(c, None, &target, kind, after.as_ref(), limit))
            .await
    }

    async fn problems(
        &self,
        after: Option<&Problem>,
        limit: usize,
    ) -> Result<Vec<StoredProblem>, StoreError> {
        let after = after.cloned();
        self.read(move |c| read::problems(c, after.as_ref(), limit))
            .await
    }

    async fn blob(&self, hash: &str) -> Result<Option<BlobMeta>, StoreError> {
        let hash = hash.to_owned();
        self.read(move |c| read::blob(c, &hash)).await
    }

    async fn runs(&self) -> Result<Vec<Run>, StoreError> {
        self.read(read::runs).await
    }

    async fn activity(&self, run: RunId) -> Result<Vec<Activity>, StoreError> {
        self.read(move |c| read::activity(c, run)).await
    }

    async fn status(&self, examples: usize) -> Result<StatusReport, StoreError> {
        self.read(move |c| read::status(c, examples)).await
    }

    async fn dump(&self) -> Result<Dump, StoreError> {
        self.read(read::dump).await
    }
}
