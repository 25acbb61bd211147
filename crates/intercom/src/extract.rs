//! `impl Source` for Intercom: every stream of an export, in dependency order, each page
//! committed with the cursor that resumes just after it (../shared/research/intercom-api.md).
//!
//! Full runs read the list endpoints; once a stream has been read to its end its cursor holds a
//! watermark (the newest `updated_at` seen), and later runs read only what changed since, by
//! search where Intercom has one (§2, §9: search days are the workspace's, so a day of overlap).
//! Small reference lists (admins, teams, tags, attributes, segments, help center, companies) are
//! read whole every run: unchanged records are no-ops in the store.

use deskmove_core::normalize::phone::PhoneNormalizer;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use deskmove_core::connector::{
    BlobRef, ByteStream, Cursor, Page, PageSink, Raw, SinkError, SourceScan, StreamSpec,
};
use deskmove_core::model::AttributeModel;
use deskmove_core::{Classify, ErrorKind, Problem, Record, RecordKind, Source, SourceKey, Stage};
use deskmove_http::{HostPolicy, HttpError};
use futures::StreamExt;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use url::Url;

use crate::client::{Api, ApiError, Listed, decode};
use crate::filter::{self, ThreadFilter};
use crate::map::to_canonical::{self as map, Context, Download, Thread, ThreadKind, key};
use crate::wire;

/// Stream names: stable forever (they key the stored cursors).
pub mod streams {
    /// Teammates and the one bot agent.
    pub const ADMINS: &str = "intercom/admins";
    /// Teams.
    pub const TEAMS: &str = "intercom/teams";
    /// Tags.
    pub const TAGS: &str = "intercom/tags";
    /// Data attributes of contacts, companies and conversations.
    pub const DATA_ATTRIBUTES: &str = "intercom/data_attributes";
    /// Segments (raw payloads only: no canonical kind holds a saved filter).
    pub const SEGMENTS: &str = "intercom/segments";
    /// Companies, through the scroll.
    pub const COMPANIES: &str = "intercom/companies";
    /// Contacts with their notes, tags and companies.
    pub const CONTACTS: &str = "intercom/contacts";
    /// Conversations with their parts and files.
    pub const CONVERSATIONS: &str = "intercom/conversations";
    /// Tickets with their parts.
    pub const TICKETS: &str = "intercom/tickets";
    /// Macros (saved replies).
    pub const MACROS: &str = "intercom/macros";
    /// Help-center collections.
    pub const COLLECTIONS: &str = "intercom/help_center/collections";
    /// Help-center articles and their images.
    pub const ARTICLES: &str = "intercom/help_center/articles";
}

/// Re-fetches in a row of one thread (or article) for fresh file URLs that let no more files
/// through while some are still refused as expired (see `Refetches`).
const MAX_STALLED_REFETCHES: u32 = 3;

/// Files of one thread (or article) downloaded at once.
const FILES_AT_ONCE: usize = 8;

/// Files downloaded at once across the whole export (first tries; see `download_all`): enough
/// to keep a local disk's syncs (each file is synced before it is named) busy.
const FILES_IN_FLIGHT: usize = 32;

/// List pages of a threads pass held at once: the oldest waits for its slowest thread or its
/// commit while the others' threads are retrieved (see `threads_stream`).
const PAGES_AHEAD: usize = 2;

/// Tries of one download whose transfer breaks off (reset, truncated body) before its stream
/// fails; the file client itself retries only up to the answer's head.
const BROKEN_TRIES: u32 = 3;

/// The most threads `State::recent` keeps; a busier day than this is re-read on the next delta.
const RECENT_CAP: usize = 5_000;

/// One day: search compares dates by the workspace's calendar day (§2), so a delta search
/// starts a day before the watermark.
const DAY: i64 = 86_400;

/// How the export reaches the workspace.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// The API host of the workspace's region.
    pub base_url: Url,
    /// Call budget and retries for the API host.
    pub policy: HostPolicy,
    /// Budget and retries for each file host.
    pub file_policy: HostPolicy,
    /// File hosts to download from besides Intercom's own (e.g. a sandbox's `127.0.0.1:port`).
    pub file_hosts: Vec<String>,
    /// Items per list page (Intercom's maximum is 150, §2).
    pub per_page: u32,
    /// Conversation and ticket retrievals in flight at once; they share the one budget.
    pub concurrency: usize,
    /// The country assumed for phone numbers written without an international prefix (ISO
    /// 3166-1 alpha-2, e.g. `US`); `None` keeps only international numbers.
    pub phone_region: Option<String>,
    /// Which conversations and tickets to export (`[source.filters]`); empty: all.
    pub filter: ThreadFilter,
}

impl SourceOptions {
    /// Intercom's limits and maximum pages, for `base_url`.
    pub fn new(base_url: Url) -> Self {
        Self {
            base_url,
            policy: crate::host_policy(),
            // Downloads in flight are bounded instead (`FILES_IN_FLIGHT`).
            file_policy: crate::file_host_policy(),
            file_hosts: Vec::new(),
            per_page: 150,
            concurrency: 32,
            phone_region: None,
            filter: ThreadFilter::default(),
        }
    }
}

/// Why an export call failed as a whole (per-record trouble is a [`Problem`] instead).
#[derive(Debug, thiserror::Error)]
pub enum IntercomError {
    /// A call failed after the polite client's retries, or its answer was unreadable.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The staging store refused a page or a file.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// A stored cursor is not one this connector wrote.
    #[error("the stored cursor of `{stream}` cannot be read: {reason}")]
    Cursor {
        /// The stream.
        stream: String,
        /// Why.
        reason: String,
    },
    /// The engine asked for a stream this source does not have.
    #[error("unknown stream `{0}`")]
    UnknownStream(String),
    /// Another companies scroll is open for this app (one at a time, §9).
    #[error(
        "another companies scroll is open for this Intercom app (only one may run at a time); it expires after a minute unused, re-run then"
    )]
    ScrollBusy,
    /// A file kept failing even with a fresh URL, for a reason that may pass.
    #[error("downloading an attachment kept failing: {0}")]
    Download(String),
    /// A background retrieval could not finish.
    #[error("a background retrieval stopped: {0}")]
    Join(String),
    /// The clients could not be set up.
    #[error("setting up the Intercom clients: {0}")]
    Setup(HttpError),
    /// The `[source]` settings cannot be used.
    #[error("[source]: {0}")]
    Config(String),
}

impl From<HttpError> for IntercomError {
    fn from(e: HttpError) -> Self {
        Self::Api(ApiError::Http(e))
    }
}

impl Classify for IntercomError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Api(e) => e.kind(),
            Self::Sink(e) => e.kind(),
            Self::Cursor { .. } => ErrorKind::Storage,
            Self::UnknownStream(_) | Self::Join(_) => ErrorKind::Internal,
            Self::ScrollBusy => ErrorKind::RateLimited,
            Self::Download(_) => ErrorKind::Transient,
            Self::Setup(e) => Classify::kind(e),
            Self::Config(_) => ErrorKind::Config,
        }
    }
}

/// Where a stream stands; stored as JSON in its cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    /// `list`, `search` or `scroll` while a pass is under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    /// The vendor's cursor of the next page (list or search) or the scroll parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    /// Pages (or parts of a stream) already committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page: Option<u64>,
    /// The watermark a delta pass starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<i64>,
    /// The newest `updated_at` seen so far in this pass.
    #[serde(default)]
    max: i64,
    /// A pass read to its end.
    #[serde(default)]
    done: bool,
    /// Threads this pass read changed within a day of `max` (id → `updated_at`): the next
    /// delta lists that day again (the overlap) and skips those it finds unchanged, instead of
    /// retrieving them a second time (e.g. after a crash later in the same export).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    recent: BTreeMap<String, i64>,
    /// The previous pass's `recent`, while a delta pass runs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    known: BTreeMap<String, i64>,
}

impl State {
    fn read(stream: &str, c: Option<Cursor>) -> Result<Self, IntercomError> {
        match c {
            None => Ok(Self::default()),
            Some(c) => serde_json::from_str(&c.0).map_err(|e| IntercomError::Cursor {
                stream: stream.to_owned(),
                reason: e.to_string(),
            }),
        }
    }

    fn cursor(&self) -> Cursor {
        Cursor(serde_json::to_string(self).unwrap_or_default())
    }

    fn finished(max: i64) -> Self {
        Self {
            since: Some(max),
            max,
            done: true,
            ..Self::default()
        }
    }
}

/// The Intercom source.
#[derive(Debug, Clone)]
pub struct IntercomSource {
    api: Api,
    per_page: u32,
    concurrency: usize,
    /// Teammates `/admins` lists: parts by anyone else are by departed teammates.
    admins: Arc<Mutex<Option<HashSet<String>>>>,
    /// Reads national phone numbers in the configured default region.
    phones: PhoneNormalizer,
    /// `[source.filters]`.
    filter: Arc<ThreadFilter>,
    /// First tries of downloads in flight, across streams (see `download_all`).
    download_slots: Arc<tokio::sync::Semaphore>,
}

impl IntercomSource {
    /// The source for a `[source] kind = "intercom"` section and its token (what `deskmove
    /// export` builds): Intercom's own file hosts plus the section's `file_hosts`.
    pub fn new(
        config: &crate::config::SourceConfig,
        token: &SecretString,
    ) -> Result<Self, IntercomError> {
        let options = config.options().map_err(IntercomError::Config)?;
        Self::with_options(options, token)
    }

    /// The source with every option spelled out (tests, the sandbox demo).
    pub fn with_options(
        options: SourceOptions,
        token: &SecretString,
    ) -> Result<Self, IntercomError> {
        let http = crate::client::connect_export(&options.base_url, options.policy, token)
            .map_err(IntercomError::Setup)?;
        let files = crate::client::connect_files(options.file_policy, &options.file_hosts)
            .map_err(IntercomError::Setup)?;
        let phones = PhoneNormalizer::new(options.phone_region.as_deref())
            .map_err(|e| IntercomError::Config(e.to_string()))?;
        Ok(Self {
            api: Api::new(http, files),
            per_page: options.per_page.clamp(1, 150),
            concurrency: options.concurrency.max(1),
            admins: Arc::new(Mutex::new(None)),
            phones,
            filter: Arc::new(options.filter),
            download_slots: Arc::new(tokio::sync::Semaphore::new(FILES_IN_FLIGHT)),
        })
    }

    /// The API client (its metrics show calls and waits).
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// What Intercom last said of its window: calls left and the window's size
    /// (`X-RateLimit-Remaining` / `-Limit`, §3), once an answer carried them.
    pub fn budget(&self) -> Option<(u64, u64)> {
        let m = self.api.http().metrics();
        Some((m.vendor_budget_left?, m.vendor_budget_limit?))
    }

    fn known_admins(&self) -> Option<HashSet<String>> {
        self.admins.lock().ok().and_then(|g| g.clone())
    }

    async fn listed_admins(&self) -> Result<HashSet<String>, IntercomError> {
        if let Some(known) = self.known_admins() {
            return Ok(known);
        }
        let l = self.api.list("admins", &[]).await?;
        let ids: HashSet<String> = l
            .page
            .data
            .iter()
            .filter_map(|r| serde_json::from_str::<wire::Admin>(r.get()).ok())
            .map(|a| a.id)
            .collect();
        if let Ok(mut g) = self.admins.lock() {
            *g = Some(ids.clone());
        }
        Ok(ids)
    }
}

/// Parses one raw list item; a malformed one becomes a problem (and its raw is still kept).
fn item<T: serde::de::DeserializeOwned>(
    kind: RecordKind,
    raw: &RawValue,
    page: &mut Page,
) -> Option<T> {
    match serde_json::from_str::<T>(raw.get()) {
        Ok(v) => Some(v),
        Err(e) => {
            let id = serde_json::from_str::<Value>(raw.get())
                .ok()
                .and_then(|v| v.get("id").cloned())
                .map(|v| match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .unwrap_or_else(|| {
                    format!(
                        "unreadable-{}",
                        &blake3::hash(raw.get().as_bytes()).to_hex()[..12]
                    )
                });
            let k = key(kind, &id);
            page.raw
                .push(Raw::new(k.clone(), raw.get().as_bytes().to_vec()));
            page.problems.push(Problem::new(
                k,
                Stage::Extract,
                ErrorKind::Protocol,
                "unreadable_record",
                format!(
                    "Intercom sent a {kind} this version cannot read ({e}); its raw payload is kept"
                ),
            ));
            None
        }
    }
}

fn raw(k: &SourceKey, r: &RawValue) -> Raw {
    Raw::new(k.clone(), r.get().as_bytes().to_vec())
}

/// A file download that did not end in the blob store.
#[derive(Debug, Clone)]
enum Failed {
    /// The host refused (expired or gone): worth a fresh URL, then a problem.
    Refused(u16, String),
    /// The transfer broke or the host kept failing: passes with time.
    Broken(String),
}

/// When one more re-fetch for fresh URLs is worth it: while files are refused, after a re-fetch
/// that let more files through (a long thread's files can outlast short-lived URLs, so each
/// re-fetch may gain only some), or a few times in a row when one was refused as expired again
/// (a slow host or machine can outlast them even right after a re-fetch); never for files that
/// are only gone. Bounded: each gaining round stores at least one more file.
#[derive(Debug)]
struct Refetches {
    rounds: usize,
    max_rounds: usize,
    stalled: u32,
    over: bool,
}

impl Refetches {
    fn new(files: usize) -> Self {
        Self {
            rounds: 0,
            max_rounds: files + MAX_STALLED_REFETCHES as usize,
            stalled: 0,
            over: false,
        }
    }

    /// Whether to re-fetch (again) for what `got` still lacks.
    fn another(&mut self, got: &BTreeMap<SourceKey, Result<BlobRef, Failed>>) -> bool {
        let go = !self.over && self.rounds < self.max_rounds && got.values().any(Result::is_err);
        self.rounds += usize::from(go);
        go
    }

    /// A re-fetch's downloads ended with `got`; `had` files were stored before it.
    fn after(&mut self, had: usize, got: &BTreeMap<SourceKey, Result<BlobRef, Failed>>) {
        let have = got.values().filter(|r| r.is_ok()).count();
        if have > had {
            self.stalled = 0;
        } else if got.values().any(expired) {
            self.stalled += 1;
            self.over = self.stalled >= MAX_STALLED_REFETCHES;
        } else {
            self.over = true;
        }
    }
}

/// Refused as expired (or its signature as stale): a fresh URL may pass (§5).
fn expired(r: &Result<BlobRef, Failed>) -> bool {
    matches!(r, Err(Failed::Refused(403, _)))
}

/// Whether a batch of downloads waits for the export's download slots.
#[derive(Debug, Clone, Copy)]
enum Queue {
    /// First tries: in line with every other thread's.
    InLine,
    /// Right after a re-fetch signed the URLs again: now, not in line.
    Fresh,
}

/// A list page of threads whose retrievals are under way.
struct Pending {
    /// What the list said.
    listed: ListedThreads,
    /// Each thread to retrieve, in list order, once its job is done.
    fetched: Vec<Option<Fetched>>,
    /// Jobs not done yet.
    left: usize,
}

/// What a list page of threads says, read before any of them is retrieved.
#[derive(Default)]
struct ListedThreads {
    /// The list's cursor after this page.
    next: Option<String>,
    /// Every readable item's id and `updated_at` (for `State::recent`).
    seen: Vec<(String, i64)>,
    /// The newest `updated_at` listed.
    max: i64,
    /// Threads to retrieve, in list order.
    ids: Vec<String>,
    /// Threads the filters leave out.
    excluded: Vec<Problem>,
}

/// One stream's sink shared by its jobs: files go in under the read lock, many at once, and a
/// page commits under the write lock (committing takes `&mut`), so files wait only while a page
/// commits, and retrievals never.
struct SharedSink<'a, S>(tokio::sync::RwLock<&'a mut S>);

impl<S: PageSink> PageSink for SharedSink<'_, S> {
    async fn page(&mut self, page: Page) -> Result<(), SinkError> {
        self.0.get_mut().page(page).await
    }

    async fn blob(
        &self,
        body: ByteStream,
        content_type: Option<&str>,
    ) -> Result<BlobRef, SinkError> {
        self.0.read().await.blob(body, content_type).await
    }
}

/// What one thread's job ends with.
enum Fetched {
    /// Listed, but gone when retrieved.
    Gone(Problem),
    /// The thread, mapped with its files stored, and its raw body as received.
    Thread(Box<(SourceKey, Thread, Bytes)>),
}

impl Source for IntercomSource {
    type Error = IntercomError;

    fn streams(&self) -> Vec<StreamSpec> {
        use RecordKind as K;
        use streams::*;
        let thread = [K::Conversation, K::Message, K::Attachment, K::Agent];
        vec![
            StreamSpec::new(ADMINS, [K::Agent]),
            StreamSpec::new(TEAMS, [K::Team]),
            StreamSpec::new(TAGS, [K::Tag]),
            StreamSpec::new(DATA_ATTRIBUTES, [K::AttributeDefinition]),
            StreamSpec::new(SEGMENTS, []),
            StreamSpec::new(COMPANIES, [K::Company]),
            StreamSpec::new(CONTACTS, [K::Contact]),
            // Parts by teammates `/admins` does not list are by departed ones.
            StreamSpec::new(CONVERSATIONS, thread).after(ADMINS),
            StreamSpec::new(TICKETS, thread).after(ADMINS),
            StreamSpec::new(MACROS, [K::Macro]),
            StreamSpec::new(COLLECTIONS, [K::Collection]),
            StreamSpec::new(ARTICLES, [K::Article, K::Attachment]),
        ]
    }

    async fn scan(&self) -> Result<SourceScan, IntercomError> {
        let settings = crate::scan::ScanSettings {
            per_page: self.per_page,
            filtered: !self.filter.is_empty(),
        };
        crate::scan::scan(&self.api, &settings).await
    }

    async fn extract(
        &self,
        stream: &StreamSpec,
        resume: Option<Cursor>,
        out: &mut impl PageSink,
    ) -> Result<(), IntercomError> {
        let name = stream.name.as_str();
        let state = State::read(name, resume)?;
        match name {
            streams::ADMINS => self.admins_stream(out).await,
            streams::TEAMS => {
                self.small_list(out, "teams", RecordKind::Team, |r: wire::Team| {
                    (Record::Team(map::team(&r)), Vec::new())
                })
                .await
            }
            streams::TAGS => {
                self.small_list(out, "tags", RecordKind::Tag, |r: wire::Tag| {
                    (Record::Tag(map::tag(&r)), Vec::new())
                })
                .await
            }
            streams::DATA_ATTRIBUTES => self.attributes_stream(out).await,
            streams::SEGMENTS => self.segments_stream(out).await,
            streams::COMPANIES => self.companies_stream(state, out).await,
            streams::CONTACTS => self.contacts_stream(state, out).await,
            streams::CONVERSATIONS => {
                self.threads_stream(ThreadKind::Conversation, state, out)
                    .await
            }
            streams::TICKETS => self.threads_stream(ThreadKind::Ticket, state, out).await,
            streams::MACROS => self.macros_stream(state, out).await,
            streams::COLLECTIONS => self.collections_stream(out).await,
            streams::ARTICLES => self.articles_stream(out).await,
            other => Err(IntercomError::UnknownStream(other.to_owned())),
        }
    }
}

/// `updated_at > since - 1 day` (or everything): search truncates dates to the workspace's
/// day, so the overlap keeps the watermark's own day (§2, §9).
fn updated_after(since: Option<i64>) -> Value {
    let value = since.map_or(0, |s| (s - DAY).max(0));
    json!({"field": "updated_at", "operator": ">", "value": value})
}

impl IntercomSource {
    async fn admins_stream(&self, out: &mut impl PageSink) -> Result<(), IntercomError> {
        let l = self.api.list("admins", &[]).await?;
        let mut page = Page::default();
        let mut ids = HashSet::new();
        for r in &l.page.data {
            if let Some(a) = item::<wire::Admin>(RecordKind::Agent, r, &mut page) {
                let agent = map::agent(&a, true);
                page.raw.push(raw(&agent.key, r));
                ids.insert(a.id);
                page.records.push(Record::Agent(agent));
            }
        }
        page.records.push(Record::Agent(map::bot_agent()));
        page.cursor = Some(State::finished(0).cursor());
        if let Ok(mut g) = self.admins.lock() {
            *g = Some(ids);
        }
        out.page(page).await?;
        Ok(())
    }

    /// An unpaginated list (teams, tags), read whole every run.
    async fn small_list<T, F>(
        &self,
        out: &mut impl PageSink,
        path: &str,
        kind: RecordKind,
        f: F,
    ) -> Result<(), IntercomError>
    where
        T: serde::de::DeserializeOwned,
        F: Fn(T) -> (Record, Vec<Problem>) + Send + Sync,
    {
        let l = self.api.list(path, &[]).await?;
        let mut page = Page::default();
        for r in &l.page.data {
            if let Some(v) = item::<T>(kind, r, &mut page) {
                let (record, problems) = f(v);
                page.raw.push(raw(record.key(), r));
                page.records.push(record);
                page.problems.extend(problems);
            }
        }
        page.cursor = Some(State::finished(0).cursor());
        out.page(page).await?;
        Ok(())
    }

    async fn attributes_stream(&self, out: &mut impl PageSink) -> Result<(), IntercomError> {
        // 2.16 answers 422 for model=conversation; its attributes have their own route (§2).
        let models = [
            (AttributeModel::Contact, "data_attributes", Some("contact")),
            (AttributeModel::Company, "data_attributes", Some("company")),
            (
                AttributeModel::Conversation,
                "conversations/attributes",
                None,
            ),
        ];
        // Three short lists, committed as one page (read whole every run).
        let mut page = Page::default();
        for (model, path, word) in &models {
            let mut q = vec![("include_archived", "true".to_owned())];
            if let Some(w) = word {
                q.push(("model", (*w).to_owned()));
            }
            let l = match self.api.list(path, &q).await {
                Ok(l) => l,
                Err(e) if word.is_none() && matches!(e.status(), Some(404 | 422)) => {
                    tracing::info!(
                        "This Intercom API has no conversation data attributes route; skipped."
                    );
                    Listed {
                        body: Bytes::new(),
                        page: wire::ListPage {
                            data: Vec::new(),
                            pages: None,
                            total_count: None,
                            scroll_param: None,
                        },
                    }
                }
                Err(e) => return Err(e.into()),
            };
            for r in &l.page.data {
                if let Some(d) =
                    item::<wire::DataAttribute>(RecordKind::AttributeDefinition, r, &mut page)
                {
                    let a = map::attribute(&d, *model);
                    page.raw.push(raw(&a.key, r));
                    page.records.push(Record::AttributeDefinition(a));
                }
            }
        }
        page.cursor = Some(State::finished(0).cursor());
        out.page(page).await?;
        Ok(())
    }

    /// Segments have no canonical kind: their payloads are archived raw, under tag-kind keys
    /// prefixed `segment-`, and never loaded.
    async fn segments_stream(&self, out: &mut impl PageSink) -> Result<(), IntercomError> {
        let l = match self
            .api
            .list("segments", &[("include_count", "true".into())])
            .await
        {
            Ok(l) => l,
            Err(e) if e.status() == Some(404) => {
                tracing::info!("This Intercom API has no segments route; skipped.");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let mut page = Page::default();
        for r in &l.page.data {
            if let Ok(s) = serde_json::from_str::<wire::Ref>(r.get()) {
                page.raw
                    .push(raw(&key(RecordKind::Tag, &format!("segment-{}", s.id)), r));
            }
        }
        page.cursor = Some(State::finished(0).cursor());
        out.page(page).await?;
        Ok(())
    }

    /// The companies scroll (§2 rules): one scroll per app; an empty page ends it; a 404 for our
    /// parameter (the scroll died, e.g. after a 500, or expired) restarts it.
    ///
    /// A scroll is a server-side iterator that blocks every other scroll of the app until it
    /// ends or idles out for a minute, so it runs in a task of its own that always reads it to
    /// its end, even when this stream stops early (another stream failed, a crash was injected):
    /// the next scroll of this process waits for it instead of finding the app blocked.
    async fn companies_stream(
        &self,
        state: State,
        out: &mut impl PageSink,
    ) -> Result<(), IntercomError> {
        let lock = scroll_lock(self.api.http().base_url().as_str());
        // After a crash the stored parameter may be past pages never committed: drain it
        // (closing that scroll) and start over.
        let mut stale = (!state.done).then(|| state.next.clone()).flatten();
        let mut seen: HashSet<String> = HashSet::new();
        let mut committed = 0u64;
        for pass in 0..2 {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Scrolled>(1);
            let (api, lock, stale) = (self.api.clone(), lock.clone(), stale.take());
            tokio::spawn(async move {
                let _guard = lock.lock_owned().await;
                scroll_task(&api, stale, tx).await;
            });
            let mut current = rx.recv().await;
            loop {
                match current {
                    None | Some(Scrolled::End) => break,
                    Some(Scrolled::Failed(e)) => return Err(e),
                    Some(Scrolled::Page(l)) => {
                        // Commit a page only once the next one is known, so the last page
                        // carries the finished cursor, and the scroll is closed by then.
                        let next = rx.recv().await;
                        let param = match &next {
                            Some(Scrolled::Page(_) | Scrolled::Failed(_)) => {
                                l.page.scroll_param.clone()
                            }
                            _ => None,
                        };
                        let page = self.companies_page(&l, &mut seen, param, committed);
                        out.page(page).await?;
                        committed += 1;
                        current = next;
                    }
                }
            }
            // A scroll call the client had to repeat (a body cut short) gets the page after
            // the lost one: the scroll moved on at the server. The list counts every company
            // with users, so seeing fewer means pages were skipped: scroll once more.
            if pass > 0 {
                break;
            }
            match self.company_list_total().await {
                Some(listed) if (seen.len() as u64) < listed => tracing::warn!(
                    scrolled = seen.len(),
                    listed,
                    "The companies scroll returned fewer companies than the list counts; scrolling again."
                ),
                _ => break,
            }
        }
        if committed == 0 {
            out.page(Page {
                cursor: Some(State::finished(0).cursor()),
                ..Page::default()
            })
            .await?;
        }
        Ok(())
    }

    /// How many companies (with users) `POST /companies/list` counts, when it answers.
    async fn company_list_total(&self) -> Option<u64> {
        let http = self.api.http();
        let r = http
            .send(http.post("companies/list").query(&[("per_page", "1")]))
            .await
            .ok()?;
        decode::<wire::ListPage>("companies/list", r.body())
            .ok()?
            .total_count
    }

    fn companies_page(
        &self,
        l: &Listed,
        seen: &mut HashSet<String>,
        param: Option<String>,
        committed: u64,
    ) -> Page {
        let mut page = Page::default();
        for r in &l.page.data {
            if let Some(c) = item::<wire::Company>(RecordKind::Company, r, &mut page) {
                if !seen.insert(c.id.clone()) {
                    continue;
                }
                let (company, problems) = map::company(&c);
                page.raw.push(raw(&company.key, r));
                page.records.push(Record::Company(company));
                page.problems.extend(problems);
            }
        }
        page.cursor = Some(match param {
            Some(p) => State {
                mode: Some("scroll".into()),
                next: Some(p),
                page: Some(committed + 1),
                ..State::default()
            }
            .cursor(),
            None => State::finished(0).cursor(),
        });
        page
    }

    /// One page of a cursor-list or search pass over `list_path` / `search_path`.
    async fn pass_page(
        &self,
        list_path: &str,
        search_path: &str,
        state: &State,
    ) -> Result<Listed, IntercomError> {
        let searching = state.mode.as_deref() == Some("search");
        let l = if searching {
            self.api
                .search_page(
                    search_path,
                    updated_after(state.since),
                    self.per_page,
                    state.next.as_deref(),
                )
                .await?
        } else {
            self.api
                .cursor_page(list_path, self.per_page, state.next.as_deref(), &[])
                .await?
        };
        Ok(l)
    }

    /// Where a list/search stream begins this run: a full list, a resumed pass, or a delta.
    fn begin(state: State) -> State {
        if state.done {
            let since = state.since.unwrap_or(state.max);
            State {
                mode: Some("search".into()),
                since: Some(since),
                max: since,
                known: state.recent,
                ..State::default()
            }
        } else if state.mode.is_none() {
            State {
                mode: Some("list".into()),
                ..state
            }
        } else {
            state
        }
    }

    fn after(state: &State, next: Option<String>, max: i64) -> State {
        match next {
            Some(n) => State {
                next: Some(n),
                max,
                ..state.clone()
            },
            None => State {
                recent: state.recent.clone(),
                ..State::finished(max.max(state.since.unwrap_or(0)))
            },
        }
    }

    async fn contacts_stream(
        &self,
        state: State,
        out: &mut impl PageSink,
    ) -> Result<(), IntercomError> {
        // Full exports list (search lags new contacts by minutes, §9); deltas search.
        let mut last = Some(state.cursor().0);
        let mut state = Self::begin(state);
        loop {
            let l = self
                .pass_page("contacts", "contacts/search", &state)
                .await?;
            let next = l.page.next_cursor();
            let mut page = Page::default();
            let mut max = state.max;
            let mut parsed = Vec::new();
            for r in &l.page.data {
                if let Some(c) = item::<wire::Contact>(RecordKind::Contact, r, &mut page) {
                    max = max.max(c.updated_at.unwrap_or(0));
                    parsed.push((c, r));
                }
            }
            // Sub-lists of several contacts at once; the shared budget paces them.
            // By index: a closure over references would not be `Send` for every lifetime.
            let details: Vec<_> = futures::stream::iter(0..parsed.len())
                .map(|i| self.contact_details(&parsed[i].0))
                .buffered(self.concurrency)
                .collect()
                .await;
            for ((c, r), d) in parsed.iter().zip(details) {
                let (tags, companies, notes, notes_raw) = d?;
                let (contact, problems) = map::contact(c, &tags, &companies, notes, &self.phones);
                page.raw.push(raw(&contact.key, r));
                if let Some(n) = notes_raw {
                    page.raw.push(Raw::new(
                        key(RecordKind::Contact, &format!("{}/notes", c.id)),
                        n,
                    ));
                }
                page.records.push(Record::Contact(contact));
                page.problems.extend(problems);
            }
            state = Self::after(&state, next, max);
            commit(out, page, &state, &mut last).await?;
            if state.done {
                return Ok(());
            }
        }
    }

    /// A contact's whole tag and company lists (the embedded ones stop at 10, §6) and notes.
    #[allow(clippy::type_complexity)]
    async fn contact_details(
        &self,
        c: &wire::Contact,
    ) -> Result<(Vec<String>, Vec<String>, Vec<Value>, Option<Vec<u8>>), IntercomError> {
        let empty = wire::SubList::default();
        let tags = c.tags.as_ref().unwrap_or(&empty);
        let tag_ids = if tags.incomplete() {
            let l = self
                .api
                .list(&format!("contacts/{}/tags", c.id), &[])
                .await?;
            l.page
                .data
                .iter()
                .filter_map(|r| serde_json::from_str::<wire::Ref>(r.get()).ok())
                .map(|r| r.id)
                .collect()
        } else {
            map::ref_ids(&tags.data)
        };
        let companies = c.companies.as_ref().unwrap_or(&empty);
        let company_ids = if companies.incomplete() {
            self.api
                .all_pages(&format!("contacts/{}/companies", c.id), 60)
                .await?
                .iter()
                .filter_map(|r| serde_json::from_str::<wire::Ref>(r.get()).ok())
                .map(|r| r.id)
                .collect()
        } else {
            map::ref_ids(&companies.data)
        };
        let notes = c.notes.as_ref().unwrap_or(&empty);
        let (notes, notes_raw) = if notes.total_count.unwrap_or(0) > 0 || !notes.data.is_empty() {
            let all = self
                .api
                .all_pages(&format!("contacts/{}/notes", c.id), 60)
                .await?;
            let raw = format!(
                "[{}]",
                all.iter().map(|r| r.get()).collect::<Vec<_>>().join(",")
            );
            let values = all
                .iter()
                .filter_map(|r| serde_json::from_str::<Value>(r.get()).ok())
                .collect();
            (values, Some(raw.into_bytes()))
        } else {
            (Vec::new(), None)
        };
        Ok((
            map::dedup(tag_ids),
            map::dedup(company_ids),
            notes,
            notes_raw,
        ))
    }

    /// Conversations (list, then one retrieve each) or tickets (search, then one retrieve
    /// each); files are downloaded right after their thread is read (§5, §9).
    ///
    /// Retrievals run straight across page boundaries: the next list page is read while the
    /// current one's threads are still retrieved, a page waiting for its slowest thread or for
    /// its commit holds nobody else back, and pages still commit in the list's order, each with
    /// the cursor just after it. At most `PAGES_AHEAD` pages are held, so memory stays flat and
    /// a crash re-reads at most those pages.
    async fn threads_stream(
        &self,
        kind: ThreadKind,
        state: State,
        out: &mut impl PageSink,
    ) -> Result<(), IntercomError> {
        let listed = Arc::new(self.listed_admins().await?);
        let mut last = Some(state.cursor().0);
        let mut state = match kind {
            ThreadKind::Conversation => Self::begin(state),
            // Tickets have no list endpoint, only search (§2).
            ThreadKind::Ticket => {
                let s = Self::begin(state);
                State {
                    mode: Some("search".into()),
                    ..s
                }
            }
        };
        let (list_path, search_path, one) = match kind {
            ThreadKind::Conversation => ("conversations", "conversations/search", "conversations"),
            ThreadKind::Ticket => ("tickets/search", "tickets/search", "tickets"),
        };
        let sink = SharedSink(tokio::sync::RwLock::new(out));
        let (sink, listed, state_known) = (&sink, &listed, &state.known.clone());
        // The list is read ahead with its own copy of the pass (mode, since, next).
        let mut list_state = Some(State {
            recent: BTreeMap::new(),
            known: BTreeMap::new(),
            ..state.clone()
        });
        type Boxed<'f, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'f>>;
        let mut listing: Option<Boxed<'_, Result<Listed, IntercomError>>> = None;
        let mut committing: Option<Boxed<'_, Result<(), SinkError>>> = None;
        let mut pages: std::collections::VecDeque<Pending> = std::collections::VecDeque::new();
        // Threads listed and not yet started: (page, place in it, id).
        let mut todo: std::collections::VecDeque<(u64, usize, String)> =
            std::collections::VecDeque::new();
        let mut first_page = 0u64;
        let job = |page: u64, n: usize, id: String| async move {
            let r = self.fetch_thread(kind, one, &id, listed, sink).await;
            (page, n, r)
        };
        let mut jobs = futures::stream::FuturesUnordered::new();
        loop {
            if listing.is_none()
                && pages.len() < PAGES_AHEAD
                && let Some(ls) = list_state.as_ref()
            {
                let ls = ls.clone();
                listing = Some(Box::pin(async move {
                    self.pass_page(list_path, search_path, &ls).await
                }));
            }
            while jobs.len() < self.concurrency
                && let Some((page, n, id)) = todo.pop_front()
            {
                jobs.push(job(page, n, id));
            }
            if committing.is_none()
                && pages.front().is_some_and(|p| p.left == 0)
                && let Some(p) = pages.pop_front()
            {
                first_page += 1;
                let (page, next) = self.finish_page(p, &mut state);
                let cursor = next.cursor();
                state = next;
                let empty =
                    page.records.is_empty() && page.raw.is_empty() && page.problems.is_empty();
                if !(empty && last.as_deref() == Some(cursor.0.as_str())) {
                    last = Some(cursor.0.clone());
                    let page = Page {
                        cursor: Some(cursor),
                        ..page
                    };
                    committing = Some(Box::pin(
                        async move { sink.0.write().await.page(page).await },
                    ));
                }
                continue;
            }
            if listing.is_none() && committing.is_none() && jobs.is_empty() && pages.is_empty() {
                return Ok(());
            }
            tokio::select! {
                l = async { listing.as_mut().expect("checked").await }, if listing.is_some() => {
                    listing = None;
                    let l = l?;
                    let seq = first_page + pages.len() as u64;
                    let p = self.listed_page(kind, &l, state_known);
                    if let Some(ls) = &mut list_state {
                        match &p.next {
                            Some(n) => ls.next = Some(n.clone()),
                            None => list_state = None,
                        }
                    }
                    let ids = p.ids.len();
                    todo.extend(p.ids.iter().cloned().enumerate().map(|(n, id)| (seq, n, id)));
                    pages.push_back(Pending {
                        left: ids,
                        fetched: (0..ids).map(|_| None).collect(),
                        listed: p,
                    });
                }
                Some((page, n, r)) = jobs.next(), if !jobs.is_empty() => {
                    let p = usize::try_from(page - first_page)
                        .ok()
                        .and_then(|i| pages.get_mut(i))
                        .ok_or_else(|| IntercomError::Join("a thread of an unknown page".into()))?;
                    p.fetched[n] = Some(r?);
                    p.left -= 1;
                }
                r = async { committing.as_mut().expect("checked").await }, if committing.is_some() => {
                    committing = None;
                    r?;
                    if state.done {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// The threads of one list page: which to retrieve, which the filters leave out, and what
    /// the list says of each for the cursor.
    fn listed_page(
        &self,
        kind: ThreadKind,
        l: &Listed,
        known: &BTreeMap<String, i64>,
    ) -> ListedThreads {
        let mut p = ListedThreads {
            next: l.page.next_cursor(),
            ..ListedThreads::default()
        };
        for r in &l.page.data {
            #[derive(Deserialize)]
            struct Item {
                #[serde(deserialize_with = "wire::id_string")]
                id: String,
                #[serde(default)]
                created_at: Option<i64>,
                #[serde(default)]
                updated_at: Option<i64>,
                // Values, not words: a shape this version does not expect must not make
                // the item unreadable (it would be skipped).
                #[serde(default)]
                state: Option<Value>,
                #[serde(default)]
                source: Option<Value>,
            }
            let Ok(i) = serde_json::from_str::<Item>(r.get()) else {
                continue;
            };
            p.max = p.max.max(i.updated_at.unwrap_or(0));
            if let Some(u) = i.updated_at {
                p.seen.push((i.id.clone(), u));
                // Unchanged since the last pass read it: staged already.
                if known.get(&i.id) == Some(&u) {
                    continue;
                }
            }
            // Excluded before retrieval: no call spent, one problem recorded.
            let listed = filter::Listed {
                created_at: i.created_at,
                updated_at: i.updated_at,
                state: i.state.as_ref().and_then(Value::as_str),
                channel: i
                    .source
                    .as_ref()
                    .and_then(|s| s.get("type"))
                    .and_then(Value::as_str),
            };
            let thread_key = || match kind {
                ThreadKind::Conversation => key(RecordKind::Conversation, &i.id),
                ThreadKind::Ticket => map::ticket_key(&i.id),
            };
            if !self.filter.is_empty()
                && let Some(problem) = self.filter.exclude(&thread_key(), &listed)
            {
                p.excluded.push(problem);
                continue;
            }
            p.ids.push(i.id);
        }
        p
    }

    /// A page whose threads are all in, and the pass's state just after it.
    fn finish_page(&self, p: Pending, state: &mut State) -> (Page, State) {
        let ListedThreads {
            next,
            seen,
            max: listed_max,
            excluded,
            ..
        } = p.listed;
        let mut max = state.max.max(listed_max);
        let mut recent = std::mem::take(&mut state.recent);
        recent.extend(seen);
        let mut page = Page {
            problems: excluded,
            ..Page::default()
        };
        for f in p.fetched.into_iter().flatten() {
            match f {
                Fetched::Gone(problem) => page.problems.push(problem),
                Fetched::Thread(t) => {
                    let (thread_key, thread, raw_body) = *t;
                    if let Some(c) = &thread.conversation {
                        max = max.max(c.updated_at.map_or(0, |t| t.as_second()));
                    }
                    page.raw.push(Raw::new(thread_key, raw_body));
                    push_thread(&mut page, thread);
                }
            }
        }
        recent.retain(|_, u| *u > max - DAY);
        if recent.len() > RECENT_CAP {
            recent.clear();
        }
        state.recent = recent;
        let next = Self::after(state, next, max);
        (page, next)
    }

    /// One thread: its retrieval, then its files (see `thread_with_files`).
    async fn fetch_thread(
        &self,
        kind: ThreadKind,
        one: &str,
        id: &str,
        listed: &Arc<HashSet<String>>,
        out: &impl PageSink,
    ) -> Result<Fetched, IntercomError> {
        let thread_key = match kind {
            ThreadKind::Conversation => key(RecordKind::Conversation, id),
            ThreadKind::Ticket => map::ticket_key(id),
        };
        let path = format!("{one}/{id}");
        // On a task of its own, so retrievals go on while this stream's task commits a page.
        let retrieval = {
            let (api, listed) = (self.api.clone(), listed.clone());
            let (path, thread_key) = (path.clone(), thread_key.clone());
            Aborting(tokio::spawn(async move {
                let body = api.get(&path, &[]).await?;
                let read = read_thread(kind, &path, &thread_key, &body, &listed, api.files());
                Ok::<_, HttpError>((body, read))
            }))
        };
        let (body, read) = match retrieval
            .await
            .map_err(|e| IntercomError::Join(e.to_string()))?
        {
            Ok(b) => b,
            Err(e) if matches!(e.status().map(|s| s.as_u16()), Some(404 | 410)) => {
                return Ok(Fetched::Gone(Problem::new(
                    thread_key,
                    Stage::Extract,
                    ErrorKind::NotFound,
                    "listed_but_gone",
                    "Intercom listed it but answered 404 when it was retrieved (deleted meanwhile)",
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let (thread, raw_body) = self
            .thread_with_files(kind, &path, &thread_key, (body, read), listed, out)
            .await?;
        Ok(Fetched::Thread(Box::new((thread_key, thread, raw_body))))
    }

    /// [`read_thread`] on the blocking pool, off this stream's task.
    async fn read_elsewhere(
        &self,
        kind: ThreadKind,
        path: &str,
        thread_key: &SourceKey,
        body: &Bytes,
        listed: &Arc<HashSet<String>>,
    ) -> Result<Result<Thread, Problem>, IntercomError> {
        let (files, listed, body) = (self.api.files().clone(), listed.clone(), body.clone());
        let (path, thread_key) = (path.to_owned(), thread_key.clone());
        tokio::task::spawn_blocking(move || {
            read_thread(kind, &path, &thread_key, &body, &listed, &files)
        })
        .await
        .map_err(|e| IntercomError::Join(e.to_string()))
    }

    /// Maps a retrieved thread and downloads its files; refused URLs are refreshed by
    /// re-fetching the thread (§5: "re-fetch the conversation"), see `Refetches`.
    async fn thread_with_files(
        &self,
        kind: ThreadKind,
        path: &str,
        thread_key: &SourceKey,
        (body, first): (Bytes, Result<Thread, Problem>),
        listed: &Arc<HashSet<String>>,
        out: &impl PageSink,
    ) -> Result<(Thread, Bytes), IntercomError> {
        let mut body = body;
        let mut thread = match first {
            Ok(t) => t,
            Err(p) => {
                let t = Thread {
                    problems: vec![p],
                    ..Thread::default()
                };
                return Ok((t, body));
            }
        };
        let mut got = self
            .download_all(&thread.downloads, &BTreeMap::new(), out, Queue::InLine)
            .await?;
        // Fresh URLs for what failed, by re-fetching the thread (see `Refetches`).
        let mut refetches = Refetches::new(thread.downloads.len());
        while refetches.another(&got) {
            let fresh = match self.api.get(path, &[]).await {
                Ok(fresh) => fresh,
                Err(e) if matches!(e.status().map(|s| s.as_u16()), Some(404 | 410)) => break,
                Err(e) => return Err(e.into()),
            };
            let Ok(t) = self
                .read_elsewhere(kind, path, thread_key, &fresh, listed)
                .await?
            else {
                tracing::warn!("A re-fetched thread could not be read; the first answer is kept.");
                break;
            };
            let urls: BTreeMap<&SourceKey, String> = thread
                .downloads
                .iter()
                .map(|d| (&d.key, map::stable_url(&d.url)))
                .collect();
            let mut keep = BTreeMap::new();
            for d in &t.downloads {
                if let Some(Ok(b)) = got.get(&d.key)
                    && urls.get(&d.key) == Some(&map::stable_url(&d.url))
                {
                    keep.insert(d.key.clone(), b.clone());
                }
            }
            let had = keep.len();
            got = self
                .download_all(&t.downloads, &keep, out, Queue::Fresh)
                .await?;
            thread = t;
            body = fresh;
            refetches.after(had, &got);
        }
        for a in &mut thread.attachments {
            match got.get(&a.key) {
                Some(Ok(b)) => a.blob = Some(b.clone()),
                Some(Err(Failed::Refused(status, why))) => {
                    thread.problems.push(Problem::new(
                        a.key.clone(),
                        Stage::Extract,
                        if *status == 403 { ErrorKind::Forbidden } else { ErrorKind::NotFound },
                        "attachment_unavailable",
                        format!(
                            "the file host refused the file even with a fresh URL (HTTP {status}: {why}); its name, type and size are kept"
                        ),
                    ));
                }
                Some(Err(Failed::Broken(why))) => {
                    // Passes with time: the engine resumes the stream from its last cursor.
                    return Err(IntercomError::Download(why.clone()));
                }
                None => {}
            }
        }
        Ok((thread, body))
    }

    /// Downloads every file not in `keep` into the blob store, several at once (the thread's
    /// URLs were all signed by the same answer, so they are used together, right after it).
    ///
    /// First tries queue for one of the export's download slots, so the file host is never
    /// asked for more than `FILES_IN_FLIGHT` files at once: a host (or a machine) that is
    /// slower than the threads arrive would otherwise serve a long queue and every URL in it
    /// would expire before its turn. Files of a re-fetched thread skip that queue: their URLs
    /// were just signed, and waiting again is what made the first ones expire.
    async fn download_all(
        &self,
        downloads: &[Download],
        keep: &BTreeMap<SourceKey, BlobRef>,
        out: &impl PageSink,
        queue: Queue,
    ) -> Result<BTreeMap<SourceKey, Result<BlobRef, Failed>>, IntercomError> {
        let mut got = BTreeMap::new();
        let mut todo = Vec::new();
        for d in downloads {
            match keep.get(&d.key) {
                Some(b) => {
                    got.insert(d.key.clone(), Ok(b.clone()));
                }
                None => todo.push(d),
            }
        }
        let todo = &todo;
        let mut running = futures::stream::iter(0..todo.len())
            .map(|i| async move {
                let _slot = match queue {
                    Queue::InLine => self.download_slots.acquire().await.ok(),
                    Queue::Fresh => None,
                };
                (&todo[i].key, self.download(todo[i], out).await)
            })
            .buffer_unordered(FILES_AT_ONCE);
        while let Some((k, r)) = running.next().await {
            got.insert(k.clone(), r?);
        }
        Ok(got)
    }

    /// One file into the blob store; a transfer that breaks is tried again on the same URL a
    /// few times before the stream gives up (the engine then resumes it from its cursor).
    async fn download(
        &self,
        d: &Download,
        out: &impl PageSink,
    ) -> Result<Result<BlobRef, Failed>, IntercomError> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.download_once(d, out).await? {
                Err(Failed::Broken(why)) if tries < BROKEN_TRIES => {
                    tracing::debug!(%why, "A download broke off; trying it again.");
                }
                r => return Ok(r),
            }
        }
    }

    async fn download_once(
        &self,
        d: &Download,
        out: &impl PageSink,
    ) -> Result<Result<BlobRef, Failed>, IntercomError> {
        let file = match self.api.files().download(&d.url).await {
            Ok(f) => f,
            Err(e) => {
                let status = e.status().map(|s| s.as_u16());
                let why = e
                    .vendor_text()
                    .unwrap_or("no answer")
                    .chars()
                    .take(200)
                    .collect();
                return Ok(Err(match status {
                    Some(s @ (401 | 403 | 404 | 410)) => Failed::Refused(s, why),
                    _ if Classify::kind(&e).is_transient() => Failed::Broken(e.to_string()),
                    Some(s) => Failed::Refused(s, why),
                    None => Failed::Broken(e.to_string()),
                }));
            }
        };
        let content_type = d
            .content_type
            .clone()
            .or_else(|| file.content_type().map(str::to_owned));
        let body: ByteStream = Box::pin(file.into_io_stream());
        match out.blob(body, content_type.as_deref()).await {
            Ok(b) => Ok(Ok(b)),
            Err(SinkError::Body(why)) => Ok(Err(Failed::Broken(why))),
            Err(e) => Err(e.into()),
        }
    }

    async fn macros_stream(
        &self,
        state: State,
        out: &mut impl PageSink,
    ) -> Result<(), IntercomError> {
        // Deltas use `updated_since` (2.16, §2); the list is newest first.
        let mut last = Some(state.cursor().0);
        let mut state = if state.done {
            State {
                mode: Some("delta".into()),
                since: state.since,
                max: state.since.unwrap_or(0),
                ..State::default()
            }
        } else {
            state
        };
        loop {
            let extra: Vec<(&str, String)> = match (state.mode.as_deref(), state.since) {
                (Some("delta"), Some(s)) => vec![("updated_since", s.to_string())],
                _ => Vec::new(),
            };
            let l = self
                .api
                .cursor_page("macros", self.per_page, state.next.as_deref(), &extra)
                .await?;
            let next = l.page.next_cursor();
            let mut page = Page::default();
            let mut max = state.max;
            for r in &l.page.data {
                if let Some(m) = item::<wire::Macro>(RecordKind::Macro, r, &mut page) {
                    let (m, problems) = map::macro_(&m);
                    max = max.max(m.updated_at.map_or(0, |t| t.as_second()));
                    page.raw.push(raw(&m.key, r));
                    page.records.push(Record::Macro(m));
                    page.problems.extend(problems);
                }
            }
            state = match next {
                Some(n) => State {
                    next: Some(n),
                    max,
                    ..state
                },
                None => State::finished(max.max(state.since.unwrap_or(0))),
            };
            commit(out, page, &state, &mut last).await?;
            if state.done {
                return Ok(());
            }
        }
    }

    async fn collections_stream(&self, out: &mut impl PageSink) -> Result<(), IntercomError> {
        self.numbered_stream(out, "help_center/collections", |r, page| {
            if let Some(c) = item::<wire::Collection>(RecordKind::Collection, r, page) {
                let (c, problems) = map::collection(&c);
                page.raw.push(raw(&c.key, r));
                page.records.push(Record::Collection(c));
                page.problems.extend(problems);
            }
        })
        .await
    }

    /// A page-based list read whole (page 1 until an empty page, §2).
    async fn numbered_stream<F>(
        &self,
        out: &mut impl PageSink,
        path: &str,
        f: F,
    ) -> Result<(), IntercomError>
    where
        F: Fn(&RawValue, &mut Page) + Send + Sync,
    {
        // Help-center lists are small and have no change filter: read whole every run and
        // committed as one page, so a crash costs at most that page.
        let mut page = Page::default();
        for r in &self.api.all_pages(path, self.per_page).await? {
            f(r, &mut page);
        }
        page.cursor = Some(State::finished(0).cursor());
        out.page(page).await?;
        Ok(())
    }

    async fn articles_stream(&self, out: &mut impl PageSink) -> Result<(), IntercomError> {
        let mut page = Page::default();
        // Page by page, each article's images right after the page was read (their URLs
        // expire), several articles at once.
        for n in 1.. {
            let l = self.api.numbered_page("articles", n, self.per_page).await?;
            let last = l.page.data.is_empty() || l.page.total_pages().is_some_and(|t| n >= t);
            let mut listed = Vec::new();
            for r in &l.page.data {
                if let Some(a) = item::<wire::Article>(RecordKind::Article, r, &mut page) {
                    listed.push((a, r));
                }
            }
            let shared: &_ = &*out;
            let done: Vec<_> = futures::stream::iter(0..listed.len())
                .map(|i| self.article_with_images(&listed[i].0, shared))
                .buffered(self.concurrency)
                .collect()
                .await;
            for ((_, r), d) in listed.iter().zip(done) {
                let (article, images) = d?;
                page.raw.push(raw(&article.key, r));
                page.records.push(Record::Article(article));
                page.records
                    .extend(images.attachments.into_iter().map(Record::Attachment));
                page.problems.extend(images.problems);
            }
            if last {
                break;
            }
        }
        // Read whole every run and committed as one page (see `numbered_stream`).
        page.cursor = Some(State::finished(0).cursor());
        out.page(page).await?;
        Ok(())
    }

    /// An article and its images. The images' signed URLs come from the article, so a refused
    /// one is refreshed by retrieving the article again, its images downloaded right after
    /// (re-fetched as for threads).
    async fn article_with_images(
        &self,
        a: &wire::Article,
        out: &impl PageSink,
    ) -> Result<(deskmove_core::model::Article, Thread), IntercomError> {
        let files = self.api.files().clone();
        let no_admins = |_: &str| true;
        let file_host = |u: &str| files.allows(u);
        let cx = Context {
            listed_admin: &no_admins,
            file_host: &file_host,
        };
        let (article, mut images) = map::article(a, &cx);
        let mut got = self
            // Not in line behind the conversations' files: the list page signed these URLs
            // moments ago, and an article has few images.
            .download_all(&images.downloads, &BTreeMap::new(), out, Queue::Fresh)
            .await?;
        let path = format!("articles/{}", a.id);
        let mut refetches = Refetches::new(images.downloads.len());
        while refetches.another(&got) {
            let body = match self.api.get(&path, &[]).await {
                Ok(body) => body,
                Err(e) if matches!(e.status().map(|s| s.as_u16()), Some(404 | 410)) => break,
                Err(e) => return Err(e.into()),
            };
            let Ok(fresh) = decode::<wire::Article>("articles", &body) else {
                tracing::warn!("A re-fetched article could not be read; its images stay refused.");
                break;
            };
            let (_, fresh) = map::article(&fresh, &cx);
            let keep: BTreeMap<SourceKey, BlobRef> = got
                .iter()
                .filter_map(|(k, r)| r.as_ref().ok().map(|b| (k.clone(), b.clone())))
                .collect();
            let had = keep.len();
            got = self
                .download_all(&fresh.downloads, &keep, out, Queue::Fresh)
                .await?;
            // The listed article is the one stored; only its images' URLs were refreshed.
            images.downloads = fresh.downloads;
            refetches.after(had, &got);
        }
        for att in &mut images.attachments {
            match got.get(&att.key) {
                Some(Ok(b)) => att.blob = Some(b.clone()),
                Some(Err(Failed::Refused(status, why))) => images.problems.push(Problem::new(
                    att.key.clone(),
                    Stage::Extract,
                    ErrorKind::NotFound,
                    "attachment_unavailable",
                    format!(
                        "the file host refused the image even with a fresh URL (HTTP {status}: {why})"
                    ),
                )),
                Some(Err(Failed::Broken(why))) => {
                    return Err(IntercomError::Download(why.clone()));
                }
                None => {}
            }
        }
        Ok((article, images))
    }
}

/// What the scroll task hands the companies stream.
enum Scrolled {
    /// A page with companies.
    Page(Listed),
    /// The scroll ended (empty page).
    End,
    /// The scroll could not go on.
    Failed(IntercomError),
}

/// One lock per API host: the process never runs two scrolls of one app at once.
fn scroll_lock(host: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: std::sync::LazyLock<Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>> =
        std::sync::LazyLock::new(|| Mutex::new(BTreeMap::new()));
    let mut locks = LOCKS.lock().unwrap_or_else(|p| p.into_inner());
    locks.entry(host.to_owned()).or_default().clone()
}

/// Reads a scroll to its end, handing pages over while someone listens and draining it
/// silently once nobody does. A 404 for the parameter mid-scroll (the scroll died) restarts it
/// from the beginning; the stream skips companies it already committed.
async fn scroll_task(api: &Api, stale: Option<String>, tx: tokio::sync::mpsc::Sender<Scrolled>) {
    if let Some(param) = stale {
        while let Ok(l) = api.scroll_page(Some(&param)).await {
            if l.page.data.is_empty() {
                break;
            }
        }
    }
    let mut restarts = 0;
    let mut param: Option<String> = None;
    loop {
        let l = match api.scroll_page(param.as_deref()).await {
            Ok(l) => l,
            Err(e) if param.is_some() && e.status() == Some(404) && restarts < 3 => {
                tracing::warn!("The companies scroll ended early; restarting it.");
                restarts += 1;
                param = None;
                continue;
            }
            Err(e) => {
                let e = if param.is_none() && e.status() == Some(400) {
                    IntercomError::ScrollBusy
                } else {
                    e.into()
                };
                let _ = tx.send(Scrolled::Failed(e)).await;
                return;
            }
        };
        if l.page.data.is_empty() {
            let _ = tx.send(Scrolled::End).await;
            return;
        }
        param = l.page.scroll_param.clone();
        let last = param.is_none();
        // When nobody listens any more the send fails and the loop keeps draining.
        let _ = tx.send(Scrolled::Page(l)).await;
        if last {
            let _ = tx.send(Scrolled::End).await;
            return;
        }
    }
}

/// Commits `page` with `state`'s cursor unless it holds nothing and the cursor did not move
/// (a delta that found nothing new writes nothing).
async fn commit(
    out: &mut impl PageSink,
    mut page: Page,
    state: &State,
    last: &mut Option<String>,
) -> Result<(), IntercomError> {
    let cursor = state.cursor();
    let empty = page.records.is_empty() && page.raw.is_empty() && page.problems.is_empty();
    if empty && last.as_deref() == Some(cursor.0.as_str()) {
        return Ok(());
    }
    *last = Some(cursor.0.clone());
    page.cursor = Some(cursor);
    out.page(page).await?;
    Ok(())
}

/// Decodes and maps a retrieved thread: parsing it and turning its HTML into Markdown is the
/// export's heaviest work, so it runs off the stream's own task (which commits the pages).
fn read_thread(
    kind: ThreadKind,
    path: &str,
    thread_key: &SourceKey,
    body: &[u8],
    listed: &HashSet<String>,
    files: &deskmove_http::FileClient,
) -> Result<Thread, Problem> {
    let listed_admin = |id: &str| listed.contains(id);
    let file_host = |u: &str| files.allows(u);
    let cx = Context {
        listed_admin: &listed_admin,
        file_host: &file_host,
    };
    decode::<wire::Conversation>(path, body)
        .map(|c| map::thread(&c, kind, &cx))
        .map_err(|e| {
            Problem::new(
                thread_key.clone(),
                Stage::Extract,
                ErrorKind::Protocol,
                "unreadable_record",
                format!("{e}; its raw payload is kept"),
            )
        })
}

/// A spawned task stopped when its handle is dropped: a stream that stops early leaves no
/// retrievals running behind it.
struct Aborting<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Aborting<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for Aborting<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

fn push_thread(page: &mut Page, t: Thread) {
    page.records
        .extend(t.departed.into_iter().map(Record::Agent));
    page.records
        .extend(t.conversation.into_iter().map(Record::Conversation));
    page.records
        .extend(t.messages.into_iter().map(Record::Message));
    page.records
        .extend(t.attachments.into_iter().map(Record::Attachment));
    page.problems.extend(t.problems);
}
