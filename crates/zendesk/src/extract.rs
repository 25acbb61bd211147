//! `impl Source` for Zendesk Support: every stream of an export, in dependency order, each page
//! committed with the cursor that resumes just after it
//! (../shared/research/zendesk-freshdesk-helpscout.md §2, §3).
//!
//! Tickets and users come through the cursor exports, the only enumeration that sees archived
//! tickets (§2.3, §7.6); the export's `after_cursor` is saved with the records it covers and every
//! later run continues from it, never from a fresh `start_time` (airbyte#28173), so a delta reads
//! only what changed. Organizations come through the time-based export, whose boundary items
//! come twice (§7.1): they are deduplicated by id. Comments are read per ticket through CBP with
//! `include_inline_images=true` (§3.2, §7.12); a deleted ticket's comments answer 404 (§7.5), so
//! deleted tickets are recorded (raw payload and a problem) without asking for them. Files are
//! downloaded right after their ticket is read: the first hop on the account's own host signed
//! in (as "secure downloads" require), the 302 to the pre-signed host followed without
//! credentials (§3.3, §7.11). Small lists (groups, fields, macros, ratings, Help Center) are
//! read whole every run; unchanged records are no-ops in the store.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use deskmove_core::connector::{
    BlobRef, ByteStream, Cursor, KindCount, Page, PageSink, Raw, SinkError, SourceScan, StreamSpec,
};
use deskmove_core::model::{AttributeModel, Record};
use deskmove_core::normalize::phone::PhoneNormalizer;
use deskmove_core::{Classify, ErrorKind, Problem, RecordKind, Source, SourceKey, Stage};
use deskmove_http::{HostPolicy, HttpError};
use futures::StreamExt;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use url::Url;

use crate::client::{Answer, Api, ApiError};
use crate::map::to_canonical::{self as map, Download, Person, TicketFields, key};
use crate::wire;

/// Stream names: stable forever (they key the stored cursors).
pub mod streams {
    /// Agents, admins and end users, through the cursor user export.
    pub const USERS: &str = "zendesk/users";
    /// Organizations, through the time-based export.
    pub const ORGANIZATIONS: &str = "zendesk/organizations";
    /// Groups and their memberships.
    pub const GROUPS: &str = "zendesk/groups";
    /// Ticket fields and forms, user fields and organization fields.
    pub const FIELDS: &str = "zendesk/fields";
    /// Tickets (archived and deleted ones too) with their comments and files.
    pub const TICKETS: &str = "zendesk/tickets";
    /// Macros.
    pub const MACROS: &str = "zendesk/macros";
    /// Satisfaction ratings (raw payloads; tickets carry theirs in `extra`).
    pub const RATINGS: &str = "zendesk/satisfaction_ratings";
    /// Help Center categories and sections.
    pub const COLLECTIONS: &str = "zendesk/help_center/collections";
    /// Help Center articles with their translations and attachments.
    pub const ARTICLES: &str = "zendesk/help_center/articles";
}

/// Tries of one file before the stream stops for the engine to resume it later.
const DOWNLOAD_TRIES: u32 = 3;

/// How the export reaches the account.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// The account's address, `https://<subdomain>.zendesk.com`.
    pub base_url: Url,
    /// The admin whose API token this is (Basic `email/token`); `None` for an OAuth token.
    pub email: Option<String>,
    /// Call budget and retries for the account's API.
    pub policy: HostPolicy,
    /// Budget of the incremental exports (their own 10/min bucket, §1.4).
    pub incremental_policy: HostPolicy,
    /// Budget and retries for each file host.
    pub file_policy: HostPolicy,
    /// File hosts to download from besides the account's own host and Zendesk's pre-signed
    /// `*.zdusercontent.com` (e.g. a sandbox's `127.0.0.1:port`).
    pub file_hosts: Vec<String>,
    /// Items per incremental export page (Zendesk's maximum and default is 1,000, §2.1).
    pub export_page_size: u32,
    /// Tickets committed together (with their comments and files) within an export page.
    pub tickets_per_commit: usize,
    /// Comment lists in flight at once; they share the one budget.
    pub concurrency: usize,
    /// The country assumed for phone numbers written without an international prefix (ISO
    /// 3166-1 alpha-2, e.g. `US`); `None` keeps only international numbers.
    pub phone_region: Option<String>,
}

impl SourceOptions {
    /// Zendesk's limits and largest pages, for `base_url`.
    pub fn new(base_url: Url) -> Self {
        Self {
            base_url,
            email: None,
            policy: crate::host_policy(),
            incremental_policy: crate::incremental_policy(),
            // Zendesk documents no limit for its file hosts; 50 downloads a second per host keeps
            // files from being the bottleneck at the account's own limit.
            file_policy: HostPolicy {
                calls_per_minute: 3_000,
                burst: 50,
                ..HostPolicy::default()
            },
            file_hosts: Vec::new(),
            export_page_size: 1_000,
            tickets_per_commit: 100,
            concurrency: 8,
            phone_region: None,
        }
    }
}

/// Why an export call failed as a whole (per-record trouble is a [`Problem`] instead).
#[derive(Debug, thiserror::Error)]
pub enum ZendeskError {
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
    /// An export answer lacked what continues it.
    #[error("the {0} export answered without an `after_cursor` before its end")]
    NoCursor(&'static str),
    /// A file kept failing for a reason that may pass.
    #[error("downloading an attachment kept failing: {0}")]
    Download(String),
    /// A background retrieval could not finish.
    #[error("a background retrieval stopped: {0}")]
    Join(String),
    /// The clients could not be set up.
    #[error("setting up the Zendesk clients: {0}")]
    Setup(HttpError),
    /// The `[source]` settings cannot be used.
    #[error("[source]: {0}")]
    Config(String),
}

impl From<HttpError> for ZendeskError {
    fn from(e: HttpError) -> Self {
        Self::Api(ApiError::Http(e))
    }
}

impl Classify for ZendeskError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Api(e) => e.kind(),
            Self::Sink(e) => e.kind(),
            Self::Cursor { .. } => ErrorKind::Storage,
            Self::UnknownStream(_) | Self::Join(_) => ErrorKind::Internal,
            Self::NoCursor(_) => ErrorKind::Protocol,
            Self::Download(_) => ErrorKind::Transient,
            Self::Setup(e) => Classify::kind(e),
            Self::Config(_) => ErrorKind::Config,
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Api(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// Where a stream stands; stored as JSON in its cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    /// Cursor exports: the cursor of the export page being read (`None`: from the beginning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
    /// Cursor exports: the last ticket of that page already committed, as
    /// `(generated_timestamp, id)` — the export's own order, so what follows it is not yet in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<(i64, u64)>,
    /// Time-based exports: the `start_time` of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<i64>,
    /// The stream was read to its end (an export to its `end_of_stream`).
    #[serde(default)]
    done: bool,
}

impl State {
    fn read(stream: &str, c: Option<Cursor>) -> Result<Self, ZendeskError> {
        match c {
            None => Ok(Self::default()),
            Some(c) => serde_json::from_str(&c.0).map_err(|e| ZendeskError::Cursor {
                stream: stream.to_owned(),
                reason: e.to_string(),
            }),
        }
    }

    fn cursor(&self) -> Cursor {
        Cursor(serde_json::to_string(self).unwrap_or_default())
    }

    fn finished() -> Self {
        Self {
            done: true,
            ..Self::default()
        }
    }
}

/// The Zendesk source.
#[derive(Debug, Clone)]
pub struct ZendeskSource {
    api: Api,
    export_page_size: u32,
    tickets_per_commit: usize,
    concurrency: usize,
    /// Each user met (in the user export or as a comment author): role, name and email, what
    /// a comment's author carries.
    people: Arc<Mutex<HashMap<u64, Person>>>,
    /// Reads national phone numbers in the configured default region.
    phones: PhoneNormalizer,
}

impl ZendeskSource {
    /// The source for a `[source] kind = "zendesk"` section and its token (what `deskmove
    /// export` builds).
    pub fn new(
        config: &crate::config::SourceConfig,
        token: &SecretString,
    ) -> Result<Self, ZendeskError> {
        let options = config.options().map_err(ZendeskError::Config)?;
        Self::with_options(options, token)
    }

    /// The source with every option spelled out (tests, the sandbox demo).
    pub fn with_options(
        options: SourceOptions,
        token: &SecretString,
    ) -> Result<Self, ZendeskError> {
        let email = options.email.as_deref();
        let http = crate::client::connect(&options.base_url, email, options.policy, token)
            .map_err(ZendeskError::Setup)?;
        let incremental =
            crate::client::connect(&options.base_url, email, options.incremental_policy, token)
                .map_err(ZendeskError::Setup)?;
        // The first hop of a download, on the account's own host, signed in (secure downloads,
        // §3.3) under the files' budget (it serves a file, not an API answer).
        let first_hops =
            crate::client::connect(&options.base_url, email, options.file_policy.clone(), token)
                .map_err(ZendeskError::Setup)?;
        let files = crate::client::connect_files(
            &options.base_url,
            options.file_policy,
            &options.file_hosts,
            Some(first_hops),
        )
        .map_err(ZendeskError::Setup)?;
        let phones = PhoneNormalizer::new(options.phone_region.as_deref())
            .map_err(|e| ZendeskError::Config(e.to_string()))?;
        Ok(Self {
            api: Api::new(http, incremental, files),
            export_page_size: options.export_page_size.clamp(1, 1_000),
            tickets_per_commit: options.tickets_per_commit.max(1),
            concurrency: options.concurrency.max(1),
            people: Arc::new(Mutex::new(HashMap::new())),
            phones,
        })
    }

    /// The users met so far. The map is a cache, so it stays usable after a panic elsewhere.
    fn people(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Person>> {
        self.people
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The API clients (their metrics show calls and waits).
    pub fn api(&self) -> &Api {
        &self.api
    }
}

/// Parses one raw item; a malformed one becomes a problem (and its raw is still kept).
fn item<T: serde::de::DeserializeOwned>(
    kind: RecordKind,
    raw: &RawValue,
    page: &mut Page,
) -> Option<T> {
    match serde_json::from_str::<T>(raw.get()) {
        Ok(v) => Some(v),
        Err(e) => {
            let id = wire::item_id(raw)
                .map(|i| i.to_string())
                .unwrap_or_else(|| {
                    format!(
                        "unreadable-{}",
                        &blake3::hash(raw.get().as_bytes()).to_hex()[..12]
                    )
                });
            let k = key(kind, &id);
            page.raw.push(raw_of(&k, raw));
            page.problems.push(Problem::new(
                k,
                Stage::Extract,
                ErrorKind::Protocol,
                "unreadable_record",
                format!(
                    "Zendesk sent a {kind} this version cannot read ({e}); its raw payload is kept"
                ),
            ));
            None
        }
    }
}

fn raw_of(k: &SourceKey, r: &RawValue) -> Raw {
    Raw::new(k.clone(), r.get().as_bytes().to_vec())
}

/// Tag records for the words in `tags`, once each per page.
fn push_tags(page: &mut Page, seen: &mut BTreeSet<String>, tags: &[String]) {
    for t in tags {
        if !t.is_empty() && seen.insert(t.clone()) {
            page.records.push(Record::Tag(map::tag(t)));
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
) -> Result<(), ZendeskError> {
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

/// Comment lists by ticket, as read.
type Fetched = BTreeMap<u64, Result<Vec<Box<RawValue>>, ApiError>>;

/// Chunks of tickets (with their comments) the reader may hold ready beyond the one being
/// staged: enough to ride out a slow commit or a burst of files, few enough to keep memory flat.
const READ_AHEAD: usize = 3;

/// What the ticket reader hands the staging, in the export's order.
enum Step {
    /// Tickets of an export page this version cannot read, with the state the page started
    /// from.
    Unreadable(Page, State),
    /// Tickets with their comment lists (none: an export page with nothing new) and the state
    /// once they are committed.
    Tickets {
        tickets: Vec<(wire::Ticket, Box<RawValue>)>,
        fetched: Fetched,
        state: State,
    },
}

/// One page of a cursor export.
struct ExportPage {
    answer: Answer,
    after_cursor: Option<String>,
    end: bool,
}

/// Why a download's answer is not a file.
fn refusal(e: &HttpError) -> Failed {
    let status = e.status().map(|s| s.as_u16());
    let why = e
        .vendor_text()
        .unwrap_or("no answer")
        .chars()
        .take(200)
        .collect();
    match status {
        Some(s @ (401 | 403 | 404 | 410)) => Failed::Refused(s, why),
        _ if Classify::kind(e).is_transient() => Failed::Broken(e.to_string()),
        Some(s) => Failed::Refused(s, why),
        None => Failed::Broken(e.to_string()),
    }
}

/// A spawned task that is stopped when its handle is dropped (a stream that ends early leaves
/// no calls running behind it).
struct Aborting<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Aborting<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for Aborting<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

/// A file download that did not end in the blob store.
#[derive(Debug, Clone)]
enum Failed {
    /// The host refused (gone, or secure downloads want credentials): a problem.
    Refused(u16, String),
    /// The transfer broke or the host kept failing: passes with time.
    Broken(String),
}

impl Source for ZendeskSource {
    type Error = ZendeskError;

    fn streams(&self) -> Vec<StreamSpec> {
        use RecordKind as K;
        use streams::*;
        vec![
            StreamSpec::new(USERS, [K::Agent, K::Contact, K::Tag]),
            StreamSpec::new(ORGANIZATIONS, [K::Company, K::Tag]),
            StreamSpec::new(GROUPS, [K::Team]),
            StreamSpec::new(FIELDS, [K::AttributeDefinition]),
            // Custom values are named after the ticket fields.
            StreamSpec::new(
                TICKETS,
                [K::Conversation, K::Message, K::Attachment, K::Tag],
            )
            .after(FIELDS),
            StreamSpec::new(MACROS, [K::Macro]),
            StreamSpec::new(RATINGS, []),
            StreamSpec::new(COLLECTIONS, [K::Collection]),
            StreamSpec::new(ARTICLES, [K::Article, K::Attachment]),
        ]
    }

    async fn scan(&self) -> Result<SourceScan, ZendeskError> {
        let mut scan = SourceScan::default();
        let count = |a: &Answer| a.body.get::<u64>("count").unwrap_or(0);
        let one = [("per_page", "1".to_owned())];
        let put = |scan: &mut SourceScan, kind, n, exact| {
            let e = scan
                .kinds
                .entry(kind)
                .or_insert(KindCount { count: 0, exact });
            e.count += n;
            e.exact &= exact;
        };
        // Offset lists answer their `count` (§1.3).
        let groups = self.api.get("api/v2/groups.json", &one).await?;
        put(&mut scan, RecordKind::Team, count(&groups), true);
        let orgs = self.api.get("api/v2/organizations.json", &one).await?;
        put(&mut scan, RecordKind::Company, count(&orgs), true);
        let macros = self.api.get("api/v2/macros.json", &one).await?;
        put(&mut scan, RecordKind::Macro, count(&macros), true);
        let fields = self.ticket_fields().await?;
        let custom = fields.iter().filter(|f| f.removable).count() as u64;
        let user_fields = self
            .api
            .cbp_all("api/v2/user_fields.json", "user_fields", 100, &[])
            .await?;
        let org_fields = self
            .api
            .cbp_all(
                "api/v2/organization_fields.json",
                "organization_fields",
                100,
                &[],
            )
            .await?;
        put(
            &mut scan,
            RecordKind::AttributeDefinition,
            custom + user_fields.len() as u64 + org_fields.len() as u64,
            true,
        );
        for (path, kind) in [
            ("api/v2/help_center/categories.json", RecordKind::Collection),
            ("api/v2/help_center/sections.json", RecordKind::Collection),
            ("api/v2/help_center/articles.json", RecordKind::Article),
        ] {
            let a = self.api.get(path, &one).await?;
            put(&mut scan, kind, count(&a), true);
        }
        // Current users only (deleted ones are exported too), and tickets without the
        // archived and deleted ones (§2.3): estimates.
        let users = |role: &'static str| {
            let api = self.api.clone();
            async move {
                api.get(
                    "api/v2/users.json",
                    &[("role", role.into()), ("per_page", "1".into())],
                )
                .await
                .map(|a| count(&a))
            }
        };
        let agents = users("agent").await? + users("admin").await?;
        put(&mut scan, RecordKind::Agent, agents, false);
        put(
            &mut scan,
            RecordKind::Contact,
            users("end-user").await?,
            false,
        );
        let tickets = self.api.get("api/v2/tickets/count.json", &[]).await?;
        let listed = tickets
            .body
            .get::<serde_json::Value>("count")
            .and_then(|c| c.get("value").and_then(serde_json::Value::as_u64))
            .unwrap_or(0);
        put(&mut scan, RecordKind::Conversation, listed, false);
        scan.notes.push(
            "Zendesk's ticket count leaves out archived tickets (closed more than 120 days ago) and deleted ones; the export reads them all through the incremental export."
                .into(),
        );
        Ok(scan)
    }

    async fn extract(
        &self,
        stream: &StreamSpec,
        resume: Option<Cursor>,
        out: &mut impl PageSink,
    ) -> Result<(), ZendeskError> {
        let name = stream.name.as_str();
        let state = State::read(name, resume)?;
        match name {
            streams::USERS => self.users_stream(state, out).await,
            streams::ORGANIZATIONS => self.organizations_stream(state, out).await,
            streams::GROUPS => self.groups_stream(out).await,
            streams::FIELDS => self.fields_stream(out).await,
            streams::TICKETS => self.tickets_stream(state, out).await,
            streams::MACROS => self.macros_stream(out).await,
            streams::RATINGS => self.ratings_stream(out).await,
            streams::COLLECTIONS => self.collections_stream(out).await,
            streams::ARTICLES => self.articles_stream(out).await,
            other => Err(ZendeskError::UnknownStream(other.to_owned())),
        }
    }
}

impl ZendeskSource {
    /// One page of a cursor export: the first from `start_time=0`, then from the saved cursor.
    async fn export_page(
        &self,
        path: &str,
        what: &'static str,
        cursor: Option<&str>,
    ) -> Result<ExportPage, ZendeskError> {
        let mut q = vec![("per_page", self.export_page_size.to_string())];
        match cursor {
            Some(c) => q.push(("cursor", c.to_owned())),
            None => q.push(("start_time", "0".to_owned())),
        }
        let answer = self.api.export(path, &q).await?;
        let end = answer.body.get::<bool>("end_of_stream").unwrap_or(false);
        let after_cursor = answer.body.get::<String>("after_cursor");
        if after_cursor.is_none() && !end {
            return Err(ZendeskError::NoCursor(what));
        }
        Ok(ExportPage {
            answer,
            after_cursor,
            end,
        })
    }

    /// The state after a fully committed export page.
    fn next_state(state: &State, p: &ExportPage) -> State {
        State {
            cursor: p.after_cursor.clone().or_else(|| state.cursor.clone()),
            done: p.end,
            ..State::default()
        }
    }

    async fn users_stream(
        &self,
        state: State,
        out: &mut impl PageSink,
    ) -> Result<(), ZendeskError> {
        let mut last = Some(state.cursor().0);
        let mut state = state;
        loop {
            let p = self
                .export_page(
                    "api/v2/incremental/users/cursor.json",
                    "user",
                    state.cursor.as_deref(),
                )
                .await?;
            let mut page = Page::default();
            let mut tags = BTreeSet::new();
            for r in p.answer.body.items("users") {
                let Some(u) = item::<wire::User>(RecordKind::Contact, &r, &mut page) else {
                    continue;
                };
                self.people().insert(u.id, Person::of(&u));
                if u.is_agent() {
                    let a = map::agent(&u);
                    page.raw.push(raw_of(&a.key, &r));
                    page.records.push(Record::Agent(a));
                } else {
                    let (c, problems) = map::contact(&u, &self.phones);
                    page.raw.push(raw_of(&c.key, &r));
                    push_tags(&mut page, &mut tags, &u.tags);
                    page.records.push(Record::Contact(c));
                    page.problems.extend(problems);
                }
            }
            state = Self::next_state(&state, &p);
            commit(out, page, &state, &mut last).await?;
            if p.end {
                return Ok(());
            }
        }
    }

    /// The time-based organization export: each page starts at the last one's `end_time`, so
    /// the items of that second come again (§2.3, §7.1); they are kept once, by id. A page full
    /// of one second would never advance (§7.2): the list is read whole instead.
    async fn organizations_stream(
        &self,
        state: State,
        out: &mut impl PageSink,
    ) -> Result<(), ZendeskError> {
        let mut last = Some(state.cursor().0);
        let mut state = state;
        loop {
            let start = state.start.unwrap_or(0);
            let q = [
                ("start_time", start.to_string()),
                ("per_page", self.export_page_size.to_string()),
            ];
            let a = match self
                .api
                .export("api/v2/incremental/organizations.json", &q)
                .await
            {
                Ok(a) => a,
                // A `start_time` within the last minute: nothing can be newer (§2.3).
                Err(e) if e.status() == Some(400) && start > 0 => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            let end = a.body.get::<bool>("end_of_stream").unwrap_or(true);
            let end_time = a.body.get::<i64>("end_time").unwrap_or(start);
            let items = a.body.items("organizations");
            let stuck = !end && end_time <= start && !items.is_empty();
            let items = if stuck {
                tracing::warn!(
                    start,
                    "More organizations share one second than a page holds; reading the whole list instead."
                );
                self.api
                    .cbp_all("api/v2/organizations.json", "organizations", 100, &[])
                    .await?
            } else {
                items
            };
            let mut page = Page::default();
            let mut tags = BTreeSet::new();
            // The last copy of an id in the page is the newest.
            let mut latest: BTreeMap<u64, Box<RawValue>> = BTreeMap::new();
            for r in items {
                match wire::item_id(&r) {
                    Some(id) => {
                        latest.insert(id, r);
                    }
                    None => {
                        item::<wire::Organization>(RecordKind::Company, &r, &mut page);
                    }
                }
            }
            for r in latest.values() {
                if let Some(o) = item::<wire::Organization>(RecordKind::Company, r, &mut page) {
                    let (c, problems) = map::company(&o);
                    page.raw.push(raw_of(&c.key, r));
                    push_tags(&mut page, &mut tags, &o.tags);
                    page.records.push(Record::Company(c));
                    page.problems.extend(problems);
                }
            }
            state = State {
                start: Some(end_time.max(start)),
                done: end || stuck,
                ..State::default()
            };
            commit(out, page, &state, &mut last).await?;
            if end || stuck {
                return Ok(());
            }
        }
    }

    async fn groups_stream(&self, out: &mut impl PageSink) -> Result<(), ZendeskError> {
        // Deleted groups are listed too (§3.5): old tickets still name them.
        let groups = self
            .api
            .cbp_all("api/v2/groups.json", "groups", 100, &[])
            .await?;
        let memberships = self
            .api
            .cbp_all(
                "api/v2/group_memberships.json",
                "group_memberships",
                100,
                &[],
            )
            .await?;
        let mut members: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for m in &memberships {
            if let Ok(m) = serde_json::from_str::<wire::GroupMembership>(m.get()) {
                members.entry(m.group_id).or_default().push(m.user_id);
            }
        }
        let mut page = Page::default();
        for r in &groups {
            if let Some(g) = item::<wire::Group>(RecordKind::Team, r, &mut page) {
                let t = map::team(&g, members.get(&g.id).map_or(&[][..], Vec::as_slice));
                page.raw.push(raw_of(&t.key, r));
                page.records.push(Record::Team(t));
            }
        }
        page.raw.push(Raw::new(
            key(RecordKind::Team, "group_memberships"),
            format!(
                "[{}]",
                memberships
                    .iter()
                    .map(|r| r.get())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ));
        page.cursor = Some(State::finished().cursor());
        out.page(page).await?;
        Ok(())
    }

    async fn ticket_fields(&self) -> Result<Vec<wire::Field>, ZendeskError> {
        Ok(self
            .api
            .cbp_all("api/v2/ticket_fields.json", "ticket_fields", 100, &[])
            .await?
            .iter()
            .filter_map(|r| serde_json::from_str(r.get()).ok())
            .collect())
    }

    async fn fields_stream(&self, out: &mut impl PageSink) -> Result<(), ZendeskError> {
        let mut page = Page::default();
        let raw_fields = self
            .api
            .cbp_all("api/v2/ticket_fields.json", "ticket_fields", 100, &[])
            .await?;
        let fields: Vec<(wire::Field, &RawValue)> = raw_fields
            .iter()
            .filter_map(|r| {
                item::<wire::Field>(RecordKind::AttributeDefinition, r, &mut page)
                    .map(|f| (f, &**r))
            })
            .collect();
        let names = TicketFields::new(&fields.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>());
        for (f, r) in &fields {
            match names.name(f.id) {
                Some(name) => {
                    let d = map::attribute(f, AttributeModel::Conversation, name.to_owned());
                    page.raw.push(raw_of(&d.key, r));
                    page.records.push(Record::AttributeDefinition(d));
                }
                // System fields (subject, status, ...) are the conversation's own fields.
                None => page.raw.push(raw_of(
                    &key(
                        RecordKind::AttributeDefinition,
                        format!("ticket_field-{}", f.id),
                    ),
                    r,
                )),
            }
        }
        for r in self
            .api
            .cbp_all("api/v2/ticket_forms.json", "ticket_forms", 100, &[])
            .await?
        {
            if let Some(id) = wire::item_id(&r) {
                let k = key(RecordKind::AttributeDefinition, format!("ticket_form-{id}"));
                page.raw.push(raw_of(&k, &r));
            }
        }
        for (path, list, model) in [
            (
                "api/v2/user_fields.json",
                "user_fields",
                AttributeModel::Contact,
            ),
            (
                "api/v2/organization_fields.json",
                "organization_fields",
                AttributeModel::Company,
            ),
        ] {
            for r in self.api.cbp_all(path, list, 100, &[]).await? {
                if let Some(f) = item::<wire::Field>(RecordKind::AttributeDefinition, &r, &mut page)
                {
                    let name = f.key.clone().unwrap_or_else(|| f.id.to_string());
                    let d = map::attribute(&f, model, name);
                    page.raw.push(raw_of(&d.key, &r));
                    page.records.push(Record::AttributeDefinition(d));
                }
            }
        }
        page.cursor = Some(State::finished().cursor());
        out.page(page).await?;
        Ok(())
    }

    /// Tickets through the cursor export, committed a few at a time with their comments and
    /// files; within an export page the cursor remembers the last ticket committed, so a resumed
    /// run asks for the same page and skips what is already in. A reader runs ahead of the
    /// staging ([`Self::read_tickets`]); pages still commit in the export's order.
    async fn tickets_stream(
        &self,
        state: State,
        out: &mut impl PageSink,
    ) -> Result<(), ZendeskError> {
        let fields = TicketFields::new(&self.ticket_fields().await?);
        let mut last = Some(state.cursor().0);
        let (tx, mut rx) = tokio::sync::mpsc::channel(READ_AHEAD);
        let reader = Aborting(tokio::spawn(self.clone().read_tickets(state, tx)));
        while let Some(step) = rx.recv().await {
            match step {
                Step::Unreadable(page, state) => commit(out, page, &state, &mut last).await?,
                Step::Tickets {
                    tickets,
                    fetched,
                    state,
                } => {
                    let page = self.tickets_page(&tickets, fetched, &fields, out).await?;
                    commit(out, page, &state, &mut last).await?;
                }
            }
        }
        // The reader hung up: at the export's end, or with the error that stopped it.
        reader
            .await
            .map_err(|e| ZendeskError::Join(e.to_string()))?
    }

    /// Reads the ticket export and every live ticket's comments ahead of the staging, so the
    /// account's budget stays in use while files download and pages commit: the next export
    /// page is asked for as soon as the current one arrives (it waits on the export's own
    /// 10/min bucket, not on the account's), and comment lists are read `concurrency` at a time
    /// straight across chunk boundaries, and on into that next page, until [`READ_AHEAD`]
    /// chunks wait unstaged.
    /// Deleted tickets' comments answer 404 (§7.5) and are not asked for.
    async fn read_tickets(self, state: State, tx: mpsc::Sender<Step>) -> Result<(), ZendeskError> {
        let mut state = state;
        let mut next = Some(self.ticket_export_page(state.cursor.clone()));
        while let Some(task) = next.take() {
            let p = task
                .await
                .map_err(|e| ZendeskError::Join(e.to_string()))??;
            if !p.end {
                next = Some(self.ticket_export_page(p.after_cursor.clone()));
            }
            let mut pending: Vec<(wire::Ticket, Box<RawValue>)> = Vec::new();
            let mut unreadable = Page::default();
            for r in p.answer.body.items("tickets") {
                if let Some(t) = item::<wire::Ticket>(RecordKind::Conversation, &r, &mut unreadable)
                {
                    let at = (t.generated_timestamp.unwrap_or(0), t.id);
                    if state.after.is_none_or(|done| at > done) {
                        pending.push((t, r));
                    }
                }
            }
            // A closed channel means the staging stopped (and said why): nothing left to do.
            if !unreadable.raw.is_empty()
                && tx
                    .send(Step::Unreadable(unreadable, state.clone()))
                    .await
                    .is_err()
            {
                return Ok(());
            }
            let page_done = Self::next_state(&state, &p);
            let n = pending.len();
            if n == 0 {
                let step = Step::Tickets {
                    tickets: Vec::new(),
                    fetched: Fetched::new(),
                    state: page_done.clone(),
                };
                if tx.send(step).await.is_err() {
                    return Ok(());
                }
            }
            let mut lists = futures::stream::iter(pending)
                .map(|(t, raw)| {
                    let api = self.api.clone();
                    async move {
                        let list = if t.status.as_deref() == Some("deleted") {
                            None
                        } else {
                            let path = format!("api/v2/tickets/{}/comments.json", t.id);
                            let q = [("include_inline_images", "true".to_owned())];
                            Some(api.cbp_all(&path, "comments", 100, &q).await)
                        };
                        (t, raw, list)
                    }
                })
                .buffered(self.concurrency);
            let (mut chunk, mut fetched, mut read) = (Vec::new(), Fetched::new(), 0);
            while let Some((t, raw, list)) = lists.next().await {
                read += 1;
                if let Some(list) = list {
                    fetched.insert(t.id, list);
                }
                chunk.push((t, raw));
                if chunk.len() < self.tickets_per_commit && read < n {
                    continue;
                }
                let state = if read == n {
                    page_done.clone()
                } else {
                    let t = &chunk[chunk.len() - 1].0;
                    State {
                        after: Some((t.generated_timestamp.unwrap_or(0), t.id)),
                        ..state.clone()
                    }
                };
                let step = Step::Tickets {
                    tickets: std::mem::take(&mut chunk),
                    fetched: std::mem::take(&mut fetched),
                    state,
                };
                if tx.send(step).await.is_err() {
                    return Ok(());
                }
            }
            state = page_done;
        }
        Ok(())
    }

    /// Starts reading the ticket export page at `cursor` (`None`: the first).
    fn ticket_export_page(
        &self,
        cursor: Option<String>,
    ) -> Aborting<Result<ExportPage, ZendeskError>> {
        let this = self.clone();
        Aborting(tokio::spawn(async move {
            this.export_page(
                "api/v2/incremental/tickets/cursor.json",
                "ticket",
                cursor.as_deref(),
            )
            .await
        }))
    }

    /// A few tickets with their comments and files, as one page.
    async fn tickets_page(
        &self,
        tickets: &[(wire::Ticket, Box<RawValue>)],
        fetched: Fetched,
        fields: &TicketFields,
        out: &mut impl PageSink,
    ) -> Result<Page, ZendeskError> {
        let mut page = Page::default();
        let mut tags = BTreeSet::new();
        let mut comments: BTreeMap<u64, Vec<(wire::Comment, Box<RawValue>)>> = BTreeMap::new();
        for (id, r) in fetched {
            let t_key = key(RecordKind::Conversation, id);
            match r {
                Ok(list) => {
                    let mut parsed = Vec::with_capacity(list.len());
                    for c in list {
                        if let Some(w) = item::<wire::Comment>(RecordKind::Message, &c, &mut page) {
                            parsed.push((w, c));
                        }
                    }
                    comments.insert(id, parsed);
                }
                Err(e) if matches!(e.status(), Some(404)) => page.problems.push(Problem::new(
                    t_key,
                    Stage::Extract,
                    ErrorKind::NotFound,
                    "listed_but_gone",
                    "the export listed the ticket but its comments answered 404 (deleted meanwhile); its raw payload is kept",
                )),
                Err(e) => return Err(e.into()),
            }
        }
        let authors: BTreeSet<u64> = comments
            .values()
            .flatten()
            .filter_map(|(c, _)| c.author_id)
            .collect();
        let people = self.people_of(authors).await?;
        let (mut attachments, mut downloads) = (Vec::new(), Vec::new());
        for (t, r) in tickets {
            let t_key = key(RecordKind::Conversation, t.id);
            page.raw.push(raw_of(&t_key, r));
            if t.status.as_deref() == Some("deleted") {
                page.problems.push(Problem::new(
                    t_key,
                    Stage::Extract,
                    ErrorKind::NotFound,
                    "deleted_ticket",
                    "deleted in Zendesk: the export still lists it but its comments are gone (404); its last state is kept in its raw payload and it is not loaded",
                ));
                continue;
            }
            let Some(list) = comments.remove(&t.id) else {
                continue;
            };
            let (conversation, problems) = map::conversation(t, fields, list.len() as u64);
            page.problems.extend(problems);
            push_tags(&mut page, &mut tags, &t.tags);
            page.records.push(Record::Conversation(conversation));
            for (n, (c, raw)) in list.iter().enumerate() {
                let mapped = map::comment(c, &t_key, |u| people.get(&u), n == 0);
                page.raw.push(raw_of(&mapped.message.key, raw));
                page.records.push(Record::Message(mapped.message));
                attachments.extend(mapped.attachments);
                downloads.extend(mapped.downloads);
                page.problems.extend(mapped.problems);
            }
        }
        // The files of all these tickets at once: downloads of one comment at a time would keep
        // the next tickets' comments (the account's budget) waiting on them.
        self.fetch_files(&mut attachments, &downloads, &mut page.problems, out)
            .await?;
        page.records
            .extend(attachments.into_iter().map(Record::Attachment));
        Ok(page)
    }

    /// Who each of `users` is, asking `show_many` (deleted users included, 100 a call) for the
    /// ones the user export has not shown yet.
    async fn people_of(&self, users: BTreeSet<u64>) -> Result<HashMap<u64, Person>, ZendeskError> {
        let unknown: Vec<u64> = {
            let people = self.people();
            users
                .iter()
                .filter(|u| !people.contains_key(u))
                .copied()
                .collect()
        };
        for batch in unknown.chunks(100) {
            let ids = batch
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let a = self
                .api
                .get("api/v2/users/show_many.json", &[("ids", ids)])
                .await?;
            let found: Vec<wire::User> = a
                .body
                .items("users")
                .iter()
                .filter_map(|r| serde_json::from_str(r.get()).ok())
                .collect();
            let mut people = self.people();
            for u in found {
                people.insert(u.id, Person::of(&u));
            }
        }
        let people = self.people();
        Ok(users
            .into_iter()
            .filter_map(|u| Some((u, people.get(&u)?.clone())))
            .collect())
    }

    /// Downloads each file into the blob store; refused ones become problems. Up to eight
    /// downloads wait for their answer at once (each first hop is a round trip to the account's
    /// host and a redirect); the bodies stream into the blob store one after another.
    async fn fetch_files(
        &self,
        attachments: &mut [deskmove_core::model::Attachment],
        downloads: &[Download],
        problems: &mut Vec<Problem>,
        out: &mut impl PageSink,
    ) -> Result<(), ZendeskError> {
        let files = self.api.files().clone();
        let mut heads = futures::stream::iter(downloads.iter().cloned())
            .map(|d| {
                let files = files.clone();
                Aborting(tokio::spawn(async move {
                    let head = files.download(&d.url).await;
                    (d, head)
                }))
            })
            .buffered(8);
        while let Some(joined) = heads.next().await {
            let (d, head) = joined.map_err(|e| ZendeskError::Join(e.to_string()))?;
            let mut got = match head {
                Ok(file) => self.store(&d, file, out).await?,
                Err(e) => Err(refusal(&e)),
            };
            let mut tries = 1;
            while matches!(got, Err(Failed::Broken(_))) && tries < DOWNLOAD_TRIES {
                tries += 1;
                got = match files.download(&d.url).await {
                    Ok(file) => self.store(&d, file, out).await?,
                    Err(e) => Err(refusal(&e)),
                };
            }
            let Some(a) = attachments.iter_mut().find(|a| a.key == d.key) else {
                continue;
            };
            match got {
                Ok(b) => a.blob = Some(b),
                // Passes with time: the engine resumes the stream from its last cursor.
                Err(Failed::Broken(why)) => return Err(ZendeskError::Download(why)),
                Err(Failed::Refused(status, why)) => problems.push(Problem::new(
                    a.key.clone(),
                    Stage::Extract,
                    match status {
                        401 | 403 => ErrorKind::Forbidden,
                        _ => ErrorKind::NotFound,
                    },
                    "attachment_unavailable",
                    format!(
                        "the file host refused the file (HTTP {status}: {why}); its name, type and size are kept{}",
                        if status == 401 {
                            " (with \"secure downloads\" on, Zendesk wants the account's credentials for files and refused these: check the token's user may read this ticket)"
                        } else {
                            ""
                        }
                    ),
                )),
            }
        }
        Ok(())
    }

    /// Streams a downloaded file into the blob store.
    async fn store(
        &self,
        d: &Download,
        file: deskmove_http::StreamingResponse,
        out: &mut impl PageSink,
    ) -> Result<Result<BlobRef, Failed>, ZendeskError> {
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

    async fn macros_stream(&self, out: &mut impl PageSink) -> Result<(), ZendeskError> {
        let mut page = Page::default();
        for r in self
            .api
            .cbp_all("api/v2/macros.json", "macros", 100, &[])
            .await?
        {
            if let Some(m) = item::<wire::Macro>(RecordKind::Macro, &r, &mut page) {
                let (m, problems) = map::macro_(&m);
                page.raw.push(raw_of(&m.key, &r));
                page.records.push(Record::Macro(m));
                page.problems.extend(problems);
            }
        }
        page.cursor = Some(State::finished().cursor());
        out.page(page).await?;
        Ok(())
    }

    /// Ratings have no canonical kind: their payloads are archived raw, under conversation-kind
    /// keys prefixed `satisfaction_rating-`, and never loaded (each ticket carries its rating).
    async fn ratings_stream(&self, out: &mut impl PageSink) -> Result<(), ZendeskError> {
        let mut page = Page::default();
        for r in self
            .api
            .cbp_all(
                "api/v2/satisfaction_ratings.json",
                "satisfaction_ratings",
                100,
                &[],
            )
            .await?
        {
            if let Some(id) = wire::item_id(&r) {
                let k = key(
                    RecordKind::Conversation,
                    format!("satisfaction_rating-{id}"),
                );
                page.raw.push(raw_of(&k, &r));
            }
        }
        page.cursor = Some(State::finished().cursor());
        out.page(page).await?;
        Ok(())
    }

    async fn collections_stream(&self, out: &mut impl PageSink) -> Result<(), ZendeskError> {
        let mut page = Page::default();
        // Help Center paths always carry `.json` (research §1.1).
        let categories = self
            .api
            .cbp_all("api/v2/help_center/categories.json", "categories", 100, &[])
            .await?;
        for r in &categories {
            if let Some(c) = item::<wire::HcContainer>(RecordKind::Collection, r, &mut page) {
                let (c, problems) = map::category(&c);
                page.raw.push(raw_of(&c.key, r));
                page.records.push(Record::Collection(c));
                page.problems.extend(problems);
            }
        }
        let sections = self
            .api
            .cbp_all("api/v2/help_center/sections.json", "sections", 100, &[])
            .await?;
        for r in &sections {
            if let Some(s) = item::<wire::HcContainer>(RecordKind::Collection, r, &mut page) {
                let (s, problems) = map::section(&s);
                page.raw.push(raw_of(&s.key, r));
                page.records.push(Record::Collection(s));
                page.problems.extend(problems);
            }
        }
        page.cursor = Some(State::finished().cursor());
        out.page(page).await?;
        Ok(())
    }

    async fn articles_stream(&self, out: &mut impl PageSink) -> Result<(), ZendeskError> {
        let mut page = Page::default();
        let articles = self
            .api
            .cbp_all("api/v2/help_center/articles.json", "articles", 100, &[])
            .await?;
        for r in &articles {
            let Some(a) = item::<wire::Article>(RecordKind::Article, r, &mut page) else {
                continue;
            };
            let translations: Vec<serde_json::Value> = self
                .api
                .cbp_all(
                    &format!("api/v2/help_center/articles/{}/translations.json", a.id),
                    "translations",
                    100,
                    &[],
                )
                .await?
                .iter()
                .filter_map(|t| serde_json::from_str(t.get()).ok())
                .collect();
            let files: Vec<wire::ArticleAttachment> = self
                .api
                .get(
                    &format!("api/v2/help_center/articles/{}/attachments.json", a.id),
                    &[],
                )
                .await?
                .body
                .items("article_attachments")
                .iter()
                .filter_map(|f| serde_json::from_str(f.get()).ok())
                .collect();
            let (article, mut attachments, downloads, mut problems) =
                map::article(&a, translations, &files);
            self.fetch_files(&mut attachments, &downloads, &mut problems, out)
                .await?;
            page.raw.push(raw_of(&article.key, r));
            page.records.push(Record::Article(article));
            page.records
                .extend(attachments.into_iter().map(Record::Attachment));
            page.problems.extend(problems);
        }
        page.cursor = Some(State::finished().cursor());
        out.page(page).await?;
        Ok(())
    }
}
