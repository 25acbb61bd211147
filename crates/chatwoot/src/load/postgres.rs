//! The PostgreSQL load path: history written straight into a self-hosted Chatwoot's tables, with
//! the original times and authors, as Chatwoot itself would have written them
//! (research/chatwoot.md §6–§7; schema `2026_01_14_201315`).
//!
//! - **Preflight** ([`schema`]): the schema version from `schema_migrations`, every column the
//!   loader writes with its type, the account, its display-id sequence and the inbox; then the
//!   `deskmove.provenance` table, which records — in the same transaction as each batch — which
//!   rows deskmove created and which it only matched.
//! - **Bulk writes**: one transaction per batch; the batch is COPY'd (binary) into temporary
//!   tables and moved into Chatwoot's tables by set-based `INSERT … SELECT … RETURNING`.
//! - **Idempotent**: before inserting, a batch looks for what a committed-but-unrecorded earlier
//!   attempt wrote — `deskmove.provenance` (contacts, labels, definitions, canned responses),
//!   `conversations.identifier`, `messages.source_id` in the conversation, the attachment's
//!   `meta.deskmove_source` — so a crash between a commit and the ledger's never duplicates.
//! - **Undoable** ([`rollback`]): removes only rows deskmove created (and their files); rows it
//!   matched (an existing contact or label) are left as they were.
//!
//! Agents, teams and inboxes are never created here: Chatwoot creates their side rows in Ruby
//! and caches them in the browser (§6 "Things better created through the API"). The loader
//! matches agents by email and teams by name and reports each one it cannot find.

mod activestorage;
mod contacts;
mod conversations;
mod directory;
mod messages;
mod read_back;
mod rollback;
pub mod schema;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use deskmove_core::connector::{Fidelity, FidelityItem, Keep, LoadResult, Preflight, Resolve};
use deskmove_core::{
    Classify, ErrorKind, Problem, Record, RecordKind, SourceKey, Stage, Target, TargetInstance,
    TargetRef,
};
use deskmove_store::BlobStore;
use tokio::sync::{Mutex, MutexGuard, OnceCell};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

pub use schema::SUPPORTED_SCHEMA_VERSIONS;

/// How to reach Chatwoot's database and where to write.
#[derive(Clone)]
pub struct PostgresOptions {
    url: String,
    /// The Chatwoot account (`accounts.id`) history is written into.
    pub account_id: i64,
    /// The inbox conversations go into (`inboxes.id`, of that account; an API-channel inbox).
    pub inbox_id: i64,
    /// Where ActiveStorage's Disk service keeps files: the directory holding `storage/`'s
    /// contents (in the official Docker setup, the `storage_data` volume mounted at
    /// `/app/storage`). Files go to `<dir>/<k[0..2]>/<k[2..4]>/<key>`.
    pub storage_dir: PathBuf,
    /// `active_storage_blobs.service_name`: Chatwoot's `ACTIVE_STORAGE_SERVICE` (`local` by
    /// default). Only the Disk layout is written; for `amazon`/`s3_compatible` upload the files
    /// separately (not done by this path yet).
    pub service_name: String,
    /// The AgentBot (`agent_bots.id`) bot-written messages are sent as; without one they have no
    /// sender and the bot is named in `content_attributes.original_author`.
    pub agent_bot_id: Option<i64>,
    /// Load even though `schema_migrations` names a schema this version was not checked
    /// against (the column check still runs).
    pub allow_unsupported_schema: bool,
    /// Match contacts already in the account by identifier, then email, instead of failing
    /// them on Chatwoot's unique indexes. Matched contacts are never changed nor rolled back.
    pub match_existing_contacts: bool,
}

impl fmt::Debug for PostgresOptions {
    // The URL may carry a password: never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &"<redacted>")
            .field("account_id", &self.account_id)
            .field("inbox_id", &self.inbox_id)
            .field("storage_dir", &self.storage_dir)
            .field("service_name", &self.service_name)
            .field("agent_bot_id", &self.agent_bot_id)
            .field("allow_unsupported_schema", &self.allow_unsupported_schema)
            .field("match_existing_contacts", &self.match_existing_contacts)
            .finish()
    }
}

impl PostgresOptions {
    /// Options for `url` (a libpq URL or key/value string, read from an environment variable by
    /// the caller), account and inbox, writing files under `storage_dir`.
    pub fn new(
        url: impl Into<String>,
        account_id: i64,
        inbox_id: i64,
        storage_dir: impl Into<PathBuf>,
    ) -> Self {
        Self {
            url: url.into(),
            account_id,
            inbox_id,
            storage_dir: storage_dir.into(),
            service_name: "local".into(),
            agent_bot_id: None,
            allow_unsupported_schema: false,
            match_existing_contacts: true,
        }
    }

    /// Options whose URL is read from the environment variable `var` (never logged).
    pub fn from_env(
        var: &str,
        account_id: i64,
        inbox_id: i64,
        storage_dir: impl Into<PathBuf>,
    ) -> Result<Self, PostgresError> {
        let url = std::env::var(var).map_err(|_| {
            PostgresError::Config(format!(
                "the environment variable `{var}` holding Chatwoot's database URL is not set"
            ))
        })?;
        Ok(Self::new(url, account_id, inbox_id, storage_dir))
    }
}

/// Why a call of the PostgreSQL path failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// The database said no, or the connection broke.
    #[error("{context}: {source}")]
    Db {
        /// What was being done.
        context: &'static str,
        /// The driver's error (it never holds the password).
        #[source]
        source: tokio_postgres::Error,
    },
    /// The settings or the target database are not usable as they are.
    #[error("{0}")]
    Config(String),
    /// Writing an attachment's file failed.
    #[error("writing attachment files: {0}")]
    Io(#[from] std::io::Error),
    /// Reading an attachment's bytes from the blob store failed.
    #[error("reading staged attachment bytes: {0}")]
    Blob(#[from] deskmove_store::StoreError),
    /// An invariant broke.
    #[error("{0}")]
    Internal(String),
}

impl PostgresError {
    fn db(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Self {
        move |source| Self::Db { context, source }
    }
}

impl Classify for PostgresError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Db { source, .. } => db_kind(source),
            Self::Config(_) => ErrorKind::Config,
            Self::Io(_) => ErrorKind::Io,
            Self::Blob(e) => e.kind(),
            Self::Internal(_) => ErrorKind::Internal,
        }
    }
}

fn db_kind(e: &tokio_postgres::Error) -> ErrorKind {
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection broke or could not be made.
        return ErrorKind::Transient;
    };
    let c = code.code();
    if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::LOCK_NOT_AVAILABLE
        || *code == SqlState::QUERY_CANCELED
        || c.starts_with("08")
        || c.starts_with("57P")
        || c.starts_with("53")
    {
        ErrorKind::Transient
    } else if c.starts_with("28") {
        ErrorKind::Auth
    } else if c == "42501" {
        ErrorKind::Forbidden
    } else if c.starts_with("23") {
        ErrorKind::Conflict
    } else if c.starts_with("22") {
        ErrorKind::Validation
    } else if c.starts_with("42") || c.starts_with("3D") {
        ErrorKind::Config
    } else {
        ErrorKind::Internal
    }
}

/// The Chatwoot target through PostgreSQL.
pub struct PostgresTarget {
    options: PostgresOptions,
    instance: TargetInstance,
    blobs: BlobStore,
    client: Mutex<Option<Client>>,
    checked: OnceCell<Result<(), String>>,
}

impl fmt::Debug for PostgresTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresTarget")
            .field("instance", &self.instance)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A connection borrowed for one call.
pub(crate) type Conn<'a> = MutexGuard<'a, Option<Client>>;

impl PostgresTarget {
    /// A target for `options`, reading attachment bytes from `blobs` (the run's blob store).
    /// Connects lazily; [`Target::preflight`] is the first call that needs the database.
    pub fn new(options: PostgresOptions, blobs: BlobStore) -> Result<Self, PostgresError> {
        let config = tokio_postgres::Config::from_str(&options.url).map_err(|_| {
            PostgresError::Config(
                "the Chatwoot database URL is not a valid PostgreSQL connection string".into(),
            )
        })?;
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let db = config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or("postgres");
        // Two databases on one server are two targets: the database is part of the host.
        let instance = TargetInstance::new(
            crate::NAME,
            format!("{host}:{port}/{db}"),
            options.account_id.to_string(),
            "postgres",
        );
        Ok(Self {
            options,
            instance,
            blobs,
            client: Mutex::new(None),
            checked: OnceCell::new(),
        })
    }

    /// The options in use.
    pub fn options(&self) -> &PostgresOptions {
        &self.options
    }

    /// A live connection (reconnecting after a broken one).
    pub(crate) async fn conn(&self) -> Result<Conn<'_>, PostgresError> {
        let mut guard = self.client.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            let (client, connection) = tokio_postgres::connect(&self.options.url, NoTls)
                .await
                .map_err(PostgresError::db("connecting to Chatwoot's database"))?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, "The connection to Chatwoot's database ended.");
                }
            });
            // The trigram GIN index on `messages.content` is most of a bulk load's cost: a
            // larger pending list, merged with more memory, makes each merge cover more rows
            // (fewer, cheaper passes over the index). Both are per-session settings any role
            // may change; Chatwoot's own sessions keep the server's values.
            client
                .batch_execute(
                    "SET search_path = public; SET TIME ZONE 'UTC';
                     SET work_mem = '64MB'; SET gin_pending_list_limit = '32MB'",
                )
                .await
                .map_err(PostgresError::db("setting up the session"))?;
            *guard = Some(client);
        }
        Ok(guard)
    }

    /// Runs the schema check once; every load refuses to write after a failed check.
    async fn ensure_checked(&self) -> Result<(), PostgresError> {
        let outcome = self
            .checked
            .get_or_try_init(|| async {
                let pre = self.check().await?;
                Ok::<_, PostgresError>(if pre.ok() {
                    Ok(())
                } else {
                    Err(pre.refusals.join(" "))
                })
            })
            .await?;
        outcome.clone().map_err(PostgresError::Config)
    }

    async fn check(&self) -> Result<Preflight, PostgresError> {
        let mut conn = self.conn().await?;
        let client = client(&mut conn)?;
        schema::preflight(client, &self.options).await
    }
}

pub(crate) fn client<'a>(conn: &'a mut Conn<'_>) -> Result<&'a mut Client, PostgresError> {
    conn.as_mut()
        .ok_or_else(|| PostgresError::Internal("no database connection".into()))
}

/// The id a ref names, when it is one of ours (a number).
pub(crate) fn ref_id(refs: &impl Resolve, key: &SourceKey) -> Option<i64> {
    refs.target_ref(key).and_then(|r| r.id.parse().ok())
}

/// A problem of the load stage.
pub(crate) fn problem(
    key: &SourceKey,
    kind: ErrorKind,
    code: &str,
    reason: impl Into<String>,
) -> Problem {
    Problem::new(key.clone(), Stage::Load, kind, code, reason)
}

/// A parent the record cannot be written without is not in the target (yet).
pub(crate) fn parent_missing(key: &SourceKey, parent: &SourceKey) -> LoadResult {
    LoadResult::failed(problem(
        key,
        ErrorKind::NotFound,
        "parent_not_loaded",
        format!("{parent} is not in Chatwoot yet; this record is tried again on the next run."),
    ))
}

impl Target for PostgresTarget {
    type Error = PostgresError;

    fn instance(&self) -> TargetInstance {
        self.instance.clone()
    }

    /// Batches of 5,000: each is one transaction with a COPY per table, so the per-batch
    /// round trips and index merges are spread over many rows.
    fn batch_size(&self) -> usize {
        5_000
    }

    fn fidelity(&self) -> Fidelity {
        use RecordKind as K;
        let item = |kind, aspect: &str, keep, note: &str| FidelityItem {
            kind,
            aspect: aspect.into(),
            keep,
            note: note.into(),
        };
        Fidelity {
            threads: false,
            kinds: vec![
                K::Agent,
                K::Team,
                K::Tag,
                K::AttributeDefinition,
                K::Contact,
                K::Macro,
                K::Conversation,
                K::Message,
                K::Attachment,
            ],
            items: vec![
                item(
                    K::Agent,
                    "record",
                    Keep::Moved,
                    "matched to existing Chatwoot agents by email; never created on this path",
                ),
                item(
                    K::Team,
                    "record",
                    Keep::Moved,
                    "matched to existing Chatwoot teams by name; never created on this path",
                ),
                item(
                    K::Conversation,
                    "display_id",
                    Keep::Moved,
                    "numbered by Chatwoot's per-account sequence; the source id is in additional_attributes",
                ),
                item(
                    K::Message,
                    "author",
                    Keep::Kept,
                    "sender_type/sender_id; unmatched authors in content_attributes.original_author",
                ),
                item(
                    K::Message,
                    "body",
                    Keep::Kept,
                    "Markdown in content and processed_message_content",
                ),
                item(
                    K::Attachment,
                    "file",
                    Keep::Kept,
                    "ActiveStorage blob in the Disk service layout",
                ),
            ],
        }
    }

    async fn preflight(&self) -> Result<Preflight, PostgresError> {
        let pre = self.check().await?;
        let _ = self.checked.set(if pre.ok() {
            Ok(())
        } else {
            Err(pre.refusals.join(" "))
        });
        Ok(pre)
    }

    async fn load(
        &self,
        kind: RecordKind,
        records: &[Record],
        refs: &impl Resolve,
    ) -> Result<Vec<LoadResult>, PostgresError> {
        if let Some(r) = records.iter().find(|r| r.kind() != kind) {
            return Err(PostgresError::Internal(format!(
                "{} handed over as a {kind}",
                r.key()
            )));
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }
        self.ensure_checked().await?;
        let mut conn = self.conn().await?;
        let client = client(&mut conn)?;
        let o = &self.options;
        match kind {
            RecordKind::Agent => directory::agents(client, o, records).await,
            RecordKind::Team => directory::teams(client, o, records).await,
            RecordKind::Tag => directory::labels(client, o, records, refs).await,
            RecordKind::AttributeDefinition => {
                directory::attribute_definitions(client, o, records, refs).await
            }
            RecordKind::Macro => directory::canned_responses(client, o, records, refs).await,
            RecordKind::Contact => contacts::load(client, o, records, refs).await,
            RecordKind::Conversation => conversations::load(client, o, records, refs).await,
            RecordKind::Message => messages::load(client, o, records, refs).await,
            RecordKind::Attachment => {
                activestorage::load(client, o, &self.instance, &self.blobs, records, refs).await
            }
            other => Ok(records
                .iter()
                .map(|r| {
                    LoadResult::skipped(Problem::new(
                        r.key().clone(),
                        Stage::Load,
                        ErrorKind::Validation,
                        "not_loadable",
                        format!("The Chatwoot PostgreSQL path does not load {other} records."),
                    ))
                })
                .collect()),
        }
    }

    async fn read_back(
        &self,
        kind: RecordKind,
        refs: &[TargetRef],
    ) -> Result<Vec<Record>, PostgresError> {
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn().await?;
        let client = client(&mut conn)?;
        read_back::read_back(client, &self.options, kind, refs).await
    }

    async fn remove(&self, created: &[TargetRef]) -> Result<Vec<LoadResult>, PostgresError> {
        if created.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn().await?;
        let client = client(&mut conn)?;
        rollback::remove(client, &self.options, created).await
    }
}
