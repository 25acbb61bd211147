//! The API load path: history written through Chatwoot's Application API, as an administrator,
//! for Chatwoot Cloud and self-hosted installs (research/chatwoot.md §0, §2, §3, §5).
//!
//! - **Preflight** ([`preflight`]): refuses an account whose webhooks or automation rules would
//!   fire on every imported message, or a target inbox that is not an API channel or has
//!   auto-assignment, greeting or CSAT on — naming what to switch off (`force` overrides).
//! - **Directory** ([`directory`]): agents matched by email (never invited), teams and their
//!   members, labels from tags (+ a provenance label), attribute definitions, canned responses.
//! - **Contacts** ([`contacts`]): `identifier` = the source marker; found again by it (or by
//!   email) before creating.
//! - **Conversations** ([`conversations`]): one dedicated API-channel inbox per source channel,
//!   created when absent; created `pending` (incoming messages reopen resolved and snoozed
//!   conversations, and pending ones notify no assignee), finalised after their messages.
//! - **Messages** ([`messages`]): in time order per conversation, `source_id` = the source part;
//!   the conversation's messages are listed before writing after a restart, so a crash between a
//!   write and its ledger commit never duplicates. Then assignee, final state and
//!   `update_last_seen`.
//! - **Attachments** ([`attachments`]): re-uploaded as multipart `attachments[]` in a message of
//!   their own right after the history (at most 15 a message).
//! - [`resync`] writes one aspect (labels, states) of conversations already in Chatwoot again.
//! - [`remove`] deletes what the ledger says this path created; [`read_back`] answers in
//!   canonical terms.

mod attachments;
mod client;
mod contacts;
mod conversations;
mod directory;
mod messages;
mod preflight;
mod read_back;
mod remove;
mod resync;
mod session;

use std::fmt;

use deskmove_core::connector::{
    Aspect, Fidelity, FidelityItem, Keep, LoadResult, Preflight, Resolve,
};
use deskmove_core::{
    Classify, ContentHash, ErrorKind, Problem, Record, RecordKind, SourceKey, Stage, Target,
    TargetInstance, TargetRef,
};
use deskmove_http::{HostPolicy, HttpError};
use deskmove_store::BlobStore;
use secrecy::SecretString;
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use crate::mapping::Mapping;
use client::Api;
pub(crate) use conversations::channel as conversation_channel;
use session::Session;

/// What the API path needs besides the address and the token.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// The account history is written into.
    pub account_id: u64,
    /// Load even though the preflight found side effects it would otherwise refuse (webhooks,
    /// automation rules, an inbox with auto-assignment); they are then listed as warnings.
    pub force: bool,
    /// Where tags, channels, agents and states go (`mapping.toml`; defaults without one).
    pub mapping: Mapping,
    /// The installation's `CONVERSATION_MESSAGE_PER_MINUTE_LIMIT` (default 200): messages past
    /// it in one conversation wait for the next run instead of being refused one by one; 0 when
    /// the installation turned the guard off.
    pub messages_per_conversation_minute: usize,
    /// Conversations whose messages are written side by side (each one's stay in order).
    pub parallel_conversations: usize,
    /// Calls a batch of contacts, conversations or attachments keeps in flight (contacts that
    /// share an email or phone, and one contact's conversations, still go one at a time).
    pub concurrency: usize,
}

/// Records written side by side by default: enough that the polite client's budget, not the
/// round trips, is the limit at 30,000 calls/min with 25 ms latency (450 calls/s × 25 ms ≈ 11
/// in flight, doubled for the server's own time).
pub(crate) const DEFAULT_CONCURRENCY: usize = 24;

impl ApiOptions {
    /// Options for `account_id` with the default mapping.
    pub fn new(account_id: u64) -> Self {
        Self {
            account_id,
            force: false,
            mapping: Mapping::default(),
            messages_per_conversation_minute: 200,
            parallel_conversations: DEFAULT_CONCURRENCY,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// Why a call of the API path failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Chatwoot could not be reached or refused the call as a whole.
    #[error("calling Chatwoot: {0}")]
    Http(#[from] HttpError),
    /// The settings or the account are not usable as they are.
    #[error("{0}")]
    Config(String),
    /// Reading an attachment's staged bytes failed.
    #[error("reading staged attachment bytes: {0}")]
    Blob(#[from] deskmove_store::StoreError),
    /// Chatwoot answered something the loader cannot read.
    #[error("{0}")]
    Protocol(String),
}

impl Classify for ApiError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Http(e) => e.kind(),
            Self::Config(_) => ErrorKind::Config,
            Self::Blob(e) => e.kind(),
            Self::Protocol(_) => ErrorKind::Protocol,
        }
    }
}

/// The Chatwoot target through its Application API.
pub struct ApiTarget {
    api: Api,
    options: ApiOptions,
    instance: TargetInstance,
    blobs: BlobStore,
    // Boxed: the caches are large and the target sits in an enum beside the database path.
    session: Mutex<Box<Session>>,
    checked: OnceCell<Result<(), String>>,
}

impl fmt::Debug for ApiTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiTarget")
            .field("instance", &self.instance)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl ApiTarget {
    /// A target for account `options.account_id` of the installation at `base_url`, calling as
    /// the owner of `token` within `policy`, reading attachment bytes from `blobs`.
    pub fn new(
        base_url: &Url,
        token: &SecretString,
        policy: HostPolicy,
        options: ApiOptions,
        blobs: BlobStore,
    ) -> Result<Self, ApiError> {
        let http = crate::client::connect(base_url, policy, token)?;
        let host = match (base_url.host_str(), base_url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return Err(ApiError::Config("[target] `base_url` has no host".into())),
        };
        let instance =
            TargetInstance::new(crate::NAME, host, options.account_id.to_string(), "api");
        Ok(Self {
            api: Api::new(http, options.account_id),
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
    pub fn options(&self) -> &ApiOptions {
        &self.options
    }

    /// Calls made so far and time spent waiting for the budget (for benchmarks and reports).
    pub fn metrics(&self) -> deskmove_http::MetricsSnapshot {
        self.api.http().metrics()
    }

    /// Runs the preflight once; every load refuses to write after a refused one.
    async fn ensure_checked(&self) -> Result<(), ApiError> {
        let outcome = self
            .checked
            .get_or_try_init(|| async {
                let pre = self.check().await?;
                Ok::<_, ApiError>(if pre.ok() {
                    Ok(())
                } else {
                    Err(pre.refusals.join(" "))
                })
            })
            .await?;
        outcome.clone().map_err(ApiError::Config)
    }

    async fn check(&self) -> Result<Preflight, ApiError> {
        preflight::run(&self.api, &self.options).await
    }
}

/// The numeric id at the start of a target id (`"12"`, `"12.matched"`, `"12/345"`).
pub(crate) fn leading_id(id: &str) -> Option<u64> {
    let digits: String = id.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The id a ref names, when it is one of ours.
pub(crate) fn ref_id(refs: &impl Resolve, key: &SourceKey) -> Option<u64> {
    refs.target_ref(key).and_then(|r| leading_id(&r.id))
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

/// A record Chatwoot refused: failed, with what Chatwoot said.
pub(crate) fn refused(key: &SourceKey, e: &HttpError) -> LoadResult {
    LoadResult::failed(problem(key, e.kind(), "chatwoot_refused", client::said(e)))
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

/// Already in Chatwoot as `id` and current: skipped, with the id.
pub(crate) fn current(key: &SourceKey, id: impl Into<String>) -> LoadResult {
    LoadResult {
        key: key.clone(),
        outcome: deskmove_core::connector::Outcome::Skipped,
        target_id: Some(id.into()),
        problem: None,
    }
}

impl Target for ApiTarget {
    type Error = ApiError;

    fn instance(&self) -> TargetInstance {
        self.instance.clone()
    }

    fn fidelity(&self) -> Fidelity {
        fidelity()
    }

    /// Batches of 500: the writes within one go side by side, and a small batch leaves them
    /// idle while its slowest conversation finishes.
    fn batch_size(&self) -> usize {
        500
    }

    fn mapping_fingerprint(&self, record: &Record) -> Option<ContentHash> {
        self.options.mapping.fingerprint(record)
    }

    async fn preflight(&self) -> Result<Preflight, ApiError> {
        self.session.lock().await.new_run();
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
    ) -> Result<Vec<LoadResult>, ApiError> {
        if let Some(r) = records.iter().find(|r| r.kind() != kind) {
            return Err(ApiError::Protocol(format!(
                "{} handed over as a {kind}",
                r.key()
            )));
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }
        self.ensure_checked().await?;
        let mut session = self.session.lock().await;
        let cx = Cx {
            api: &self.api,
            options: &self.options,
            blobs: &self.blobs,
        };
        match kind {
            RecordKind::Agent => directory::agents(&cx, &mut session, records).await,
            RecordKind::Team => directory::teams(&cx, &mut session, records, refs).await,
            RecordKind::Tag => directory::labels(&cx, &mut session, records, refs).await,
            RecordKind::AttributeDefinition => {
                directory::attribute_definitions(&cx, &mut session, records, refs).await
            }
            RecordKind::Macro => {
                directory::canned_responses(&cx, &mut session, records, refs).await
            }
            RecordKind::Contact => contacts::load(&cx, &mut session, records, refs).await,
            RecordKind::Conversation => conversations::load(&cx, &mut session, records, refs).await,
            RecordKind::Message => messages::load(&cx, &mut session, records, refs).await,
            RecordKind::Attachment => attachments::load(&cx, &mut session, records, refs).await,
            other => Ok(records
                .iter()
                .map(|r| {
                    LoadResult::skipped(problem(
                        r.key(),
                        ErrorKind::Validation,
                        "not_loadable",
                        format!("The Chatwoot API path does not load {other} records."),
                    ))
                })
                .collect()),
        }
    }

    async fn read_back(
        &self,
        kind: RecordKind,
        refs: &[TargetRef],
    ) -> Result<Vec<Record>, ApiError> {
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        read_back::read_back(&self.api, kind, refs).await
    }

    async fn resync(
        &self,
        aspect: Aspect,
        records: &[Record],
        refs: &impl Resolve,
    ) -> Result<Vec<LoadResult>, ApiError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        self.ensure_checked().await?;
        let mut session = self.session.lock().await;
        let cx = Cx {
            api: &self.api,
            options: &self.options,
            blobs: &self.blobs,
        };
        resync::resync(&cx, &mut session, aspect, records, refs).await
    }

    async fn remove(&self, created: &[TargetRef]) -> Result<Vec<LoadResult>, ApiError> {
        if created.is_empty() {
            return Ok(Vec::new());
        }
        let mut session = self.session.lock().await;
        remove::remove(&self.api, &mut session, created).await
    }
}

/// What a load call works with.
pub(crate) struct Cx<'a> {
    pub api: &'a Api,
    pub options: &'a ApiOptions,
    pub blobs: &'a BlobStore,
}

/// What the API path keeps and what it cannot (the report and docs/mapping).
pub fn fidelity() -> Fidelity {
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
                "matched to the account's agents by email; never invited; unmatched and departed agents stay attribution only",
            ),
            item(
                K::Conversation,
                "created_at",
                Keep::Moved,
                "Chatwoot stamps the time of the import; the original times are in additional_attributes",
            ),
            item(
                K::Message,
                "created_at",
                Keep::Moved,
                "Chatwoot stamps the time of the import; the original time is in content_attributes.original_created_at",
            ),
            item(
                K::Message,
                "author",
                Keep::Moved,
                "agent replies and notes are sent as the token's owner; the true author is in content_attributes.original_author",
            ),
            item(
                K::Message,
                "body",
                Keep::Kept,
                "Markdown, with Liquid syntax escaped so Chatwoot shows it verbatim",
            ),
            item(
                K::Attachment,
                "placement",
                Keep::Moved,
                "re-uploaded as attachments[] in a message of their own after the conversation's history (content_attributes.attachments_of names the message they came with)",
            ),
        ],
    }
}
