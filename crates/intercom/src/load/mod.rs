//! The Intercom target: history from any source written through Intercom's REST API 2.16, with
//! the original times wherever Intercom takes one and nobody notified
//! (../shared/research/intercom-api.md §7: what can carry an original timestamp).
//!
//! - **Preflight** ([`preflight`]): the token's workspace is the configured one; a live
//!   workspace (conversations changed in the last 30 days) is refused unless forced; a warning
//!   about workflows acting on "created via API", as Intercom's own migration process advises.
//! - **Directory** ([`directory`]): agents matched to admins by email through `mapping.toml`
//!   (never invited); tags created by name (pre-existing ones matched, never removed); data
//!   attributes by type; companies upserted on `company_id` with `remote_created_at`.
//! - **Contacts** ([`contacts`]): external id and lower-cased email, `signed_up_at` = the
//!   original creation time, the source key in the `deskmove_source` attribute. A 409 names the
//!   existing contact: ours from a crashed attempt (its marker) or one that was there before
//!   (matched, left unchanged, never removed).
//! - **Conversations** ([`conversations`], with `Fidelity::threads`): each conversation arrives
//!   followed by its new messages; it is started by its contact with the first message and its
//!   original `created_at`, marked with a `deskmove_source` conversation attribute (searched
//!   before creating when the ledger does not know it), every later message is its own reply or
//!   note with its original `created_at`; admin replies skip notifications; assignee, tags and
//!   state come last (state parts take no `created_at`: a known loss). Mode `transcript` writes
//!   one note with the whole transcript instead.
//! - **Messages** ([`conversations::messages`]): later messages of loaded conversations.
//! - **Attachments** ([`attachments`]): `attachment_files` (≤ 10 a part) in a part of their own
//!   beside their message, with its author and original time.
//! - [`remove`] deletes what a run created; [`read_back`] answers in canonical terms.

mod api;
mod attachments;
mod contacts;
mod conversations;
mod directory;
pub mod mapping;
pub mod predict;
mod preflight;
mod read_back;
mod remove;
mod session;

use std::fmt;

use deskmove_core::connector::{
    Fidelity, FidelityItem, Keep, LoadResult, Outcome, Preflight, Resolve,
};
use deskmove_core::{
    Classify, ContentHash, ErrorKind, Problem, Record, RecordKind, SourceKey, Stage, Target,
    TargetInstance, TargetRef,
};
use deskmove_http::{HostPolicy, HttpError};
use deskmove_store::BlobStore;
use secrecy::SecretString;
use serde::Deserialize;
use tokio::sync::{Mutex, OnceCell};
use url::Url;

pub use mapping::Mapping;

use api::Api;
use session::Session;

/// How conversations are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Every message its own part, with its original time, author and files.
    #[default]
    Messages,
    /// The conversation plus one internal note holding the whole formatted transcript.
    Transcript,
}

/// The custom attribute, on contacts, companies and conversations, holding the source key
/// (`system:kind:id`) of what deskmove wrote: how a crashed attempt's writes are found again.
pub const MARKER_ATTRIBUTE: &str = "deskmove_source";

/// What the target needs besides the address and the token.
#[derive(Debug, Clone, Default)]
pub struct TargetOptions {
    /// The workspace (`app.id_code`); the ledger's account.
    pub workspace_id: String,
    /// How conversations are written.
    pub mode: Mode,
    /// The email of the admin who writes for unmatched authors; the token's owner when unset.
    pub fallback_admin: Option<String>,
    /// Load even into a workspace the preflight would refuse (live); listed as warnings.
    pub force: bool,
    /// Which admin each source agent is (`mapping.toml`).
    pub mapping: Mapping,
    /// Hosts besides Intercom's own that serve the workspace's files, as `host:port`; `verify`
    /// downloads files from them to compare their bytes.
    pub file_hosts: Vec<String>,
}

/// Why a call of the Intercom target failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Intercom could not be reached or refused the call as a whole.
    #[error("calling Intercom: {0}")]
    Http(#[from] HttpError),
    /// The settings or the workspace are not usable as they are.
    #[error("{0}")]
    Config(String),
    /// Reading an attachment's staged bytes failed.
    #[error("reading staged attachment bytes: {0}")]
    Blob(#[from] deskmove_store::StoreError),
    /// Intercom answered something the loader cannot read.
    #[error("{0}")]
    Protocol(String),
}

impl Classify for TargetError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Http(e) => e.kind(),
            Self::Config(_) => ErrorKind::Config,
            Self::Blob(e) => e.kind(),
            Self::Protocol(_) => ErrorKind::Protocol,
        }
    }
}

/// An Intercom workspace, written through its REST API.
pub struct IntercomTarget {
    api: Api,
    /// Credential-less: reads files back for `verify`.
    files: deskmove_http::FileClient,
    options: TargetOptions,
    instance: TargetInstance,
    blobs: BlobStore,
    session: Mutex<Box<Session>>,
    checked: OnceCell<Result<(), String>>,
}

impl fmt::Debug for IntercomTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntercomTarget")
            .field("instance", &self.instance)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl IntercomTarget {
    /// A target for workspace `options.workspace_id` at `base_url`, calling as the owner of
    /// `token` within `policy`, reading attachment bytes from `blobs`.
    pub fn new(
        base_url: &Url,
        token: &SecretString,
        policy: HostPolicy,
        options: TargetOptions,
        blobs: BlobStore,
    ) -> Result<Self, TargetError> {
        let http = crate::client::connect_export(base_url, policy, token)?;
        let host = match (base_url.host_str(), base_url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => {
                return Err(TargetError::Config(
                    "[target] `base_url` has no host".into(),
                ));
            }
        };
        if options.workspace_id.trim().is_empty() {
            return Err(TargetError::Config(
                "[target] needs `workspace_id`: the code after /a/apps/ in Intercom's address bar."
                    .into(),
            ));
        }
        let instance = TargetInstance::new(crate::NAME, host, options.workspace_id.clone(), "api");
        let files = crate::client::connect_files(crate::file_host_policy(), &options.file_hosts)?;
        Ok(Self {
            api: Api::new(http),
            files,
            options,
            instance,
            blobs,
            session: Mutex::new(Box::default()),
            checked: OnceCell::new(),
        })
    }

    /// This target with `mapping` in place of the current one.
    pub fn with_mapping(mut self, mapping: Mapping) -> Self {
        self.options.mapping = mapping;
        self
    }

    /// This target loading even when the preflight would refuse (`--force`).
    pub fn with_force(mut self, force: bool) -> Self {
        self.options.force = force;
        self
    }

    /// The options in use.
    pub fn options(&self) -> &TargetOptions {
        &self.options
    }

    /// Calls made so far and time spent waiting for the budget (for benchmarks and reports).
    pub fn metrics(&self) -> deskmove_http::MetricsSnapshot {
        self.api.http().metrics()
    }

    /// Runs the preflight once; every load refuses to write after a refused one.
    async fn ensure_checked(&self) -> Result<(), TargetError> {
        let outcome = self
            .checked
            .get_or_try_init(|| async {
                let pre = preflight::run(&self.api, &self.options).await?;
                Ok::<_, TargetError>(if pre.ok() {
                    Ok(())
                } else {
                    Err(pre.refusals.join(" "))
                })
            })
            .await?;
        outcome.clone().map_err(TargetError::Config)
    }

    fn cx(&self) -> Cx<'_> {
        Cx {
            api: &self.api,
            options: &self.options,
            blobs: &self.blobs,
        }
    }
}

/// What a load call works with.
pub(crate) struct Cx<'a> {
    pub api: &'a Api,
    pub options: &'a TargetOptions,
    pub blobs: &'a BlobStore,
}

/// `system:kind:id`, the marker deskmove writes into [`MARKER_ATTRIBUTE`].
pub fn marker(key: &SourceKey) -> String {
    format!("{}:{}:{}", key.system, key.kind.as_str(), key.id)
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

/// A record Intercom refused: failed, with what Intercom said.
pub(crate) fn refused(key: &SourceKey, e: &HttpError) -> LoadResult {
    LoadResult::failed(problem(key, e.kind(), "intercom_refused", api::said(e)))
}

/// A parent the record cannot be written without is not in the target (yet).
pub(crate) fn parent_missing(key: &SourceKey, parent: &SourceKey) -> LoadResult {
    LoadResult::failed(problem(
        key,
        ErrorKind::NotFound,
        "parent_not_loaded",
        format!("{parent} is not in Intercom yet; this record is tried again on the next run."),
    ))
}

/// Already in Intercom as `id` (matched, or current): skipped, with the id.
pub(crate) fn current(key: &SourceKey, id: impl Into<String>) -> LoadResult {
    LoadResult {
        key: key.clone(),
        outcome: Outcome::Skipped,
        target_id: Some(id.into()),
        problem: None,
    }
}

impl Target for IntercomTarget {
    type Error = TargetError;

    fn instance(&self) -> TargetInstance {
        self.instance.clone()
    }

    fn fidelity(&self) -> Fidelity {
        fidelity(self.options.mode)
    }

    /// Batches of 500 conversations: the lanes of one batch drain while its longest
    /// conversation finishes, so a small batch leaves most of them idle.
    fn batch_size(&self) -> usize {
        500
    }

    fn mapping_fingerprint(&self, record: &Record) -> Option<ContentHash> {
        self.options.mapping.fingerprint(record)
    }

    async fn preflight(&self) -> Result<Preflight, TargetError> {
        let pre = preflight::run(&self.api, &self.options).await?;
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
    ) -> Result<Vec<LoadResult>, TargetError> {
        // A thread batch (conversations followed by their messages) is the one mixed batch.
        let mixed_ok = |r: &Record| {
            r.kind() == kind
                || (kind == RecordKind::Conversation && r.kind() == RecordKind::Message)
        };
        if let Some(r) = records.iter().find(|r| !mixed_ok(r)) {
            return Err(TargetError::Protocol(format!(
                "{} handed over as a {kind}",
                r.key()
            )));
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }
        self.ensure_checked().await?;
        let mut session = self.session.lock().await;
        session.new_call();
        let cx = self.cx();
        match kind {
            RecordKind::Agent => directory::agents(&cx, &mut session, records).await,
            RecordKind::Tag => directory::tags(&cx, &mut session, records, refs).await,
            RecordKind::AttributeDefinition => {
                directory::attributes(&cx, &mut session, records, refs).await
            }
            RecordKind::Company => directory::companies(&cx, &mut session, records, refs).await,
            RecordKind::Contact => contacts::load(&cx, &mut session, records, refs).await,
            RecordKind::Conversation => {
                conversations::threads(&cx, &mut session, records, refs).await
            }
            RecordKind::Message => conversations::messages(&cx, &mut session, records, refs).await,
            RecordKind::Attachment => attachments::load(&cx, &mut session, records, refs).await,
            other => Ok(records
                .iter()
                .map(|r| {
                    LoadResult::skipped(problem(
                        r.key(),
                        ErrorKind::Validation,
                        "not_loadable",
                        format!("The Intercom target does not load {other} records."),
                    ))
                })
                .collect()),
        }
    }

    async fn read_back(
        &self,
        kind: RecordKind,
        refs: &[TargetRef],
    ) -> Result<Vec<Record>, TargetError> {
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        read_back::read_back(&self.api, &self.files, kind, refs).await
    }

    async fn remove(&self, created: &[TargetRef]) -> Result<Vec<LoadResult>, TargetError> {
        if created.is_empty() {
            return Ok(Vec::new());
        }
        let mut session = self.session.lock().await;
        remove::remove(&self.api, &mut session, created).await
    }
}

/// What the target keeps and what it cannot (the report and docs/mapping).
pub fn fidelity(mode: Mode) -> Fidelity {
    use RecordKind as K;
    let item = |kind, aspect: &str, keep, note: &str| FidelityItem {
        kind,
        aspect: aspect.into(),
        keep,
        note: note.into(),
    };
    let mut items = vec![
        item(
            K::Agent,
            "record",
            Keep::Moved,
            "matched to the workspace's admins by email (mapping.toml [agents]); never invited; unmatched agents write as the fallback admin, named in the part's first line",
        ),
        item(
            K::Contact,
            "created_at",
            Keep::Moved,
            "Intercom takes no contact created_at; the original time is signed_up_at",
        ),
        item(
            K::Company,
            "created_at",
            Keep::Moved,
            "kept as remote_created_at",
        ),
        item(
            K::Conversation,
            "state",
            Keep::Moved,
            "the final state, assignee and tags are applied after the messages; Intercom takes no created_at on state parts, so they carry the import time",
        ),
        item(
            K::Conversation,
            "team",
            Keep::Lost,
            "teams are not assigned: Intercom's teams cannot be created through the API",
        ),
        item(
            K::Message,
            "event",
            Keep::Moved,
            "state changes of the history become internal notes with their original time (Intercom cannot back-date state parts)",
        ),
        item(
            K::Message,
            "edits",
            Keep::Lost,
            "Intercom cannot edit a conversation part: a message changed at the source after its load is reported, not rewritten",
        ),
        item(
            K::Attachment,
            "placement",
            Keep::Moved,
            "sent as attachment_files (at most 10 a part) in a part of their own beside their message, with its author and original time",
        ),
        item(
            K::AttributeDefinition,
            "rollback",
            Keep::Moved,
            "Intercom cannot delete a data attribute: a rollback archives it",
        ),
    ];
    if mode == Mode::Transcript {
        items.push(item(
            K::Message,
            "record",
            Keep::Moved,
            "mode transcript: every message after the first is a section of one internal note holding the formatted transcript, with each message's time and author",
        ));
    }
    Fidelity {
        kinds: vec![
            K::Agent,
            K::Tag,
            K::AttributeDefinition,
            K::Company,
            K::Contact,
            K::Conversation,
            K::Message,
            K::Attachment,
        ],
        items,
        // Conversations arrive followed by their new messages: each is started with its
        // first message and its original time (`POST /conversations` needs a body).
        threads: true,
    }
}
