//! `kind = "intercom-files"`: a second Intercom source reading a folder of saved API answers
//! and SDK dumps (what the playbook's `curl` and `to_dict()` exports leave behind) into the
//! store exactly as the API source would: the same wire types, the same `map/` functions, the
//! same keys, so the same records with the same hashes.
//!
//! Each stream reads every file in path order and takes the objects of its types; a page is
//! committed every [`PAGE_ITEMS`] objects with the cursor (file, object number) just after it,
//! so a crash resumes there. A stream read to its end remembers the folder's fingerprint (names,
//! sizes, times) and reads nothing more until the folder changes.

mod config;
mod dump;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use deskmove_core::connector::{BlobRef, ByteStream, Cursor, KindCount, Page, PageSink, Raw};
use deskmove_core::connector::{SinkError, SourceScan, StreamSpec};
use deskmove_core::model::AttributeModel;
use deskmove_core::normalize::phone::PhoneNormalizer;
use deskmove_core::{Classify, ErrorKind, Problem, Record, RecordKind, Source, SourceKey, Stage};
use deskmove_http::{FileClient, HttpError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

pub use config::{FILES_TEMPLATE, FilesConfig};
use dump::Entry;

use crate::map::to_canonical::{self as map, Context, Thread, ThreadKind, key};
use crate::wire;

/// The connector's name in `deskmove.toml` (`kind = "intercom-files"`). Its records are keyed
/// in the `intercom` system, like the API source's.
pub const NAME: &str = "intercom-files";

/// What deskmove knows about this connector: a source without a token or a sandbox (a folder
/// saved from `deskmove sandbox intercom` is the practice ground).
pub fn registration() -> deskmove_core::Registration {
    deskmove_core::Registration {
        name: NAME,
        display_name: "Intercom files",
        source_template: Some(FILES_TEMPLATE),
        target_template: None,
        load_paths: &[],
        sandbox: false,
        token_help: "none needed: the folder is read from disk",
        mapping_docs: &[],
    }
}

/// Objects per committed page.
pub const PAGE_ITEMS: usize = 50;

/// Stream names: stable forever (they key the stored cursors).
pub mod streams {
    /// Teammates and the one bot agent.
    pub const ADMINS: &str = "intercom-files/admins";
    /// Teams.
    pub const TEAMS: &str = "intercom-files/teams";
    /// Tags.
    pub const TAGS: &str = "intercom-files/tags";
    /// Data attributes of contacts, companies and conversations.
    pub const DATA_ATTRIBUTES: &str = "intercom-files/data_attributes";
    /// Segments (raw payloads only).
    pub const SEGMENTS: &str = "intercom-files/segments";
    /// Companies.
    pub const COMPANIES: &str = "intercom-files/companies";
    /// Contacts with their notes, tags and companies.
    pub const CONTACTS: &str = "intercom-files/contacts";
    /// Conversations with their parts and files.
    pub const CONVERSATIONS: &str = "intercom-files/conversations";
    /// Tickets with their parts.
    pub const TICKETS: &str = "intercom-files/tickets";
    /// Macros.
    pub const MACROS: &str = "intercom-files/macros";
    /// Help-center collections.
    pub const COLLECTIONS: &str = "intercom-files/help_center/collections";
    /// Help-center articles and their images.
    pub const ARTICLES: &str = "intercom-files/help_center/articles";
}

/// Why reading the folder failed as a whole (per-object trouble is a [`Problem`] instead).
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The staging store refused a page or a file.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// A stored cursor is not one this connector wrote.
    #[error("the stored cursor of `{0}` cannot be read")]
    Cursor(String),
    /// The engine asked for a stream this source does not have.
    #[error("unknown stream `{0}`")]
    UnknownStream(String),
    /// An attachment download kept failing for a reason that may pass.
    #[error("downloading an attachment kept failing: {0}")]
    Download(String),
    /// The settings cannot be used.
    #[error("[source]: {0}")]
    Config(String),
}

impl Classify for FilesError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Io { .. } => ErrorKind::Io,
            Self::Sink(e) => e.kind(),
            Self::Cursor(_) => ErrorKind::Storage,
            Self::UnknownStream(_) => ErrorKind::Internal,
            Self::Download(_) => ErrorKind::Transient,
            Self::Config(_) => ErrorKind::Config,
        }
    }
}

/// What is known about the folder before any stream reads it.
#[derive(Debug)]
struct Index {
    /// Files read as objects (sub-lists excluded), in path order.
    files: Vec<String>,
    /// Teammates the dump lists: parts by anyone else are by departed teammates.
    admins: HashSet<String>,
    /// Conversations and tickets the dump holds retrieved (with their parts).
    retrieved: HashSet<String>,
    /// Names, sizes and times of every file: a changed folder is read again.
    fingerprint: String,
}

/// Where a stream stands; stored as JSON in its cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    /// The file being read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    /// Objects of that file already committed.
    #[serde(default)]
    next: usize,
    /// Read to its end, for the folder with this fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    done: Option<String>,
}

impl State {
    fn cursor(&self) -> Cursor {
        Cursor(serde_json::to_string(self).unwrap_or_default())
    }
}

/// The Intercom files source.
#[derive(Debug, Clone)]
pub struct FilesSource {
    dir: PathBuf,
    files: FileClient,
    phones: PhoneNormalizer,
    index: Arc<tokio::sync::OnceCell<Index>>,
}

impl FilesSource {
    /// The source for a `[source] kind = "intercom-files"` section (its `dir` already
    /// resolved, see [`FilesConfig::relative_to`]); national phone numbers are read in
    /// `phone_region` (ISO 3166-1 alpha-2, e.g. `US`).
    pub fn new(config: &FilesConfig, phone_region: Option<&str>) -> Result<Self, FilesError> {
        if !config.dir.is_dir() {
            return Err(FilesError::Config(format!(
                "`dir`: {} is not a folder",
                config.dir.display()
            )));
        }
        let policy = crate::SourceOptions::new(
            url::Url::parse(crate::config::DEFAULT_BASE_URL).expect("the default is a URL"),
        )
        .file_policy;
        let files = crate::client::connect_files(policy, &config.file_hosts)
            .map_err(|e: HttpError| FilesError::Config(format!("`file_hosts`: {e}")))?;
        let phones =
            PhoneNormalizer::new(phone_region).map_err(|e| FilesError::Config(e.to_string()))?;
        Ok(Self {
            dir: config.dir.clone(),
            files,
            phones,
            index: Arc::new(tokio::sync::OnceCell::new()),
        })
    }

    fn io(&self, rel: &str) -> impl FnOnce(std::io::Error) -> FilesError {
        let path = if rel.is_empty() {
            self.dir.display().to_string()
        } else {
            rel.to_owned()
        };
        move |source| FilesError::Io { path, source }
    }

    async fn index(&self) -> Result<&Index, FilesError> {
        self.index.get_or_try_init(|| self.build_index()).await
    }

    async fn build_index(&self) -> Result<Index, FilesError> {
        let dir = self.dir.clone();
        let all = tokio::task::spawn_blocking(move || dump::list(&dir))
            .await
            .map_err(|e| self.io("")(std::io::Error::other(e.to_string())))?
            .map_err(self.io(""))?;
        let mut fingerprint = blake3::Hasher::new();
        let mut index = Index {
            files: Vec::new(),
            admins: HashSet::new(),
            retrieved: HashSet::new(),
            fingerprint: String::new(),
        };
        for rel in &all {
            let meta = std::fs::metadata(dump::path_of(&self.dir, rel)).map_err(self.io(rel))?;
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            fingerprint.update(format!("{rel}\0{}\0{modified}\n", meta.len()).as_bytes());
            if dump::is_sub_list(rel) {
                continue;
            }
            index.files.push(rel.clone());
            for entry in dump::read(&self.dir, rel).await.map_err(self.io(rel))? {
                let Entry::Item { raw, .. } = entry else {
                    continue;
                };
                let head = Head::read(&raw, rel);
                match (head.kind.as_deref(), head.id) {
                    (Some("admin"), Some(id)) => {
                        index.admins.insert(id);
                    }
                    (Some("conversation" | "ticket"), Some(id)) if head.has_parts => {
                        index.retrieved.insert(id);
                    }
                    _ => {}
                }
            }
        }
        index.fingerprint = fingerprint.finalize().to_hex().to_string();
        Ok(index)
    }
}

/// What an object says it is.
struct Head {
    kind: Option<String>,
    id: Option<String>,
    has_parts: bool,
}

impl Head {
    fn read(raw: &RawValue, rel: &str) -> Self {
        #[derive(Deserialize)]
        struct H {
            #[serde(default, rename = "type")]
            kind: Option<String>,
            #[serde(default)]
            id: Option<Value>,
            #[serde(default)]
            conversation_parts: Option<Value>,
            #[serde(default)]
            ticket_parts: Option<Value>,
        }
        let h: Option<H> = serde_json::from_str(raw.get()).ok();
        let Some(h) = h else {
            return Self {
                kind: dump::type_from_path(rel).map(str::to_owned),
                id: None,
                has_parts: false,
            };
        };
        Self {
            kind: h
                .kind
                .or_else(|| dump::type_from_path(rel).map(str::to_owned)),
            id: h.id.map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            }),
            has_parts: h.conversation_parts.is_some() || h.ticket_parts.is_some(),
        }
    }
}

/// The object types each stream takes.
fn types_of(stream: &str) -> &'static [&'static str] {
    use streams::*;
    match stream {
        ADMINS => &["admin"],
        TEAMS => &["team"],
        TAGS => &["tag"],
        DATA_ATTRIBUTES => &["data_attribute", "conversation_attribute"],
        SEGMENTS => &["segment"],
        COMPANIES => &["company"],
        CONTACTS => &["contact"],
        CONVERSATIONS => &["conversation"],
        TICKETS => &["ticket"],
        MACROS => &["macro"],
        COLLECTIONS => &["collection"],
        ARTICLES => &["article"],
        _ => &[],
    }
}

/// The record kind problems about objects of `type_` are keyed by.
fn kind_of(type_: &str) -> RecordKind {
    match type_ {
        "admin" => RecordKind::Agent,
        "team" => RecordKind::Team,
        "tag" | "segment" => RecordKind::Tag,
        "data_attribute" | "conversation_attribute" => RecordKind::AttributeDefinition,
        "company" => RecordKind::Company,
        "contact" | "note" => RecordKind::Contact,
        "macro" => RecordKind::Macro,
        "collection" => RecordKind::Collection,
        "article" => RecordKind::Article,
        _ => RecordKind::Conversation,
    }
}

/// The stream that reports the unreadable lines of a file (the one its name points at).
fn reporter(rel: &str) -> &'static str {
    match dump::type_from_path(rel) {
        Some(t) => streams_for(t),
        None => streams::CONVERSATIONS,
    }
}

fn streams_for(type_: &str) -> &'static str {
    use streams::*;
    [
        ADMINS,
        TEAMS,
        TAGS,
        DATA_ATTRIBUTES,
        SEGMENTS,
        COMPANIES,
        CONTACTS,
        CONVERSATIONS,
        TICKETS,
        MACROS,
        COLLECTIONS,
        ARTICLES,
    ]
    .into_iter()
    .find(|s| types_of(s).contains(&type_))
    .unwrap_or(CONVERSATIONS)
}

fn unreadable(kind: RecordKind, rel: &str, line: usize, why: &str) -> Problem {
    Problem::new(
        key(kind, &format!("{rel}:{line}")),
        Stage::Extract,
        ErrorKind::Protocol,
        "unreadable_line",
        format!("{rel} line {line} cannot be read ({why}); the rest of the folder is imported"),
    )
}

fn raw(k: &SourceKey, r: &RawValue) -> Raw {
    Raw::new(k.clone(), r.get().as_bytes().to_vec())
}

impl Source for FilesSource {
    type Error = FilesError;

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
            StreamSpec::new(CONVERSATIONS, thread),
            StreamSpec::new(TICKETS, thread),
            StreamSpec::new(MACROS, [K::Macro]),
            StreamSpec::new(COLLECTIONS, [K::Collection]),
            StreamSpec::new(ARTICLES, [K::Article, K::Attachment]),
        ]
    }

    async fn scan(&self) -> Result<SourceScan, FilesError> {
        let index = self.index().await?;
        let mut counts: BTreeMap<RecordKind, u64> = BTreeMap::new();
        for rel in &index.files {
            for entry in dump::read(&self.dir, rel).await.map_err(self.io(rel))? {
                if let Entry::Item { raw, .. } = entry
                    && let Some(t) = Head::read(&raw, rel).kind
                    && !matches!(t.as_str(), "segment" | "note")
                {
                    *counts.entry(kind_of(&t)).or_default() += 1;
                }
            }
        }
        let mut scan = SourceScan::default();
        for (kind, count) in counts {
            // Listed and retrieved copies of one conversation are counted twice: an estimate.
            scan.kinds.insert(
                kind,
                KindCount {
                    count,
                    exact: false,
                },
            );
        }
        Ok(scan)
    }

    async fn extract(
        &self,
        stream: &StreamSpec,
        resume: Option<Cursor>,
        out: &mut impl PageSink,
    ) -> Result<(), FilesError> {
        let name = stream.name.as_str();
        let types = types_of(name);
        if types.is_empty() {
            return Err(FilesError::UnknownStream(name.to_owned()));
        }
        let state: State = match resume {
            None => State::default(),
            Some(c) => serde_json::from_str(&c.0).map_err(|_| FilesError::Cursor(name.into()))?,
        };
        let index = self.index().await?;
        if state.done.as_deref() == Some(index.fingerprint.as_str()) {
            return Ok(());
        }
        let state = if state.done.is_some() {
            State::default()
        } else {
            state
        };
        let mut reader = Reader {
            source: self,
            index,
            stream: name,
            page: Page::default(),
            items: 0,
            seen: HashSet::new(),
        };
        if name == streams::ADMINS && state.file.is_none() {
            reader.page.records.push(Record::Agent(map::bot_agent()));
        }
        let start = state.file.clone();
        for rel in &index.files {
            if start.as_ref().is_some_and(|s| rel < s) {
                continue;
            }
            let skip = if start.as_ref() == Some(rel) {
                state.next
            } else {
                0
            };
            let entries = dump::read(&self.dir, rel).await.map_err(self.io(rel))?;
            for (n, entry) in entries.into_iter().enumerate() {
                if n < skip {
                    continue;
                }
                reader.entry(rel, entry, types, out).await?;
                if reader.items >= PAGE_ITEMS {
                    let cursor = State {
                        file: Some(rel.clone()),
                        next: n + 1,
                        done: None,
                    };
                    reader.commit(cursor, out).await?;
                }
            }
        }
        let done = State {
            done: Some(index.fingerprint.clone()),
            ..State::default()
        };
        reader.commit(done, out).await
    }
}

/// One stream's pass over the folder.
struct Reader<'a> {
    source: &'a FilesSource,
    index: &'a Index,
    stream: &'a str,
    page: Page,
    items: usize,
    /// Companies met already (the scroll's pages may repeat one).
    seen: HashSet<String>,
}

impl Reader<'_> {
    async fn commit(&mut self, state: State, out: &mut impl PageSink) -> Result<(), FilesError> {
        let mut page = std::mem::take(&mut self.page);
        page.cursor = Some(state.cursor());
        self.items = 0;
        out.page(page).await?;
        Ok(())
    }

    async fn entry(
        &mut self,
        rel: &str,
        entry: Entry,
        types: &[&str],
        out: &mut impl PageSink,
    ) -> Result<(), FilesError> {
        let (line, raw_value) = match entry {
            Entry::Malformed { line, why } => {
                if reporter(rel) == self.stream {
                    let kind = dump::type_from_path(rel).map_or(RecordKind::Conversation, kind_of);
                    self.page.problems.push(unreadable(kind, rel, line, &why));
                    self.items += 1;
                }
                return Ok(());
            }
            Entry::Item { line, raw } => (line, raw),
        };
        let head = Head::read(&raw_value, rel);
        let Some(type_) = head.kind.as_deref().filter(|t| types.contains(t)) else {
            return Ok(());
        };
        self.items += 1;
        let r: &RawValue = &raw_value;
        let page = &mut self.page;
        let bad = |e: serde_json::Error| unreadable(kind_of(type_), rel, line, &e.to_string());
        match type_ {
            "admin" => match serde_json::from_str::<wire::Admin>(r.get()) {
                Ok(a) => {
                    let agent = map::agent(&a, true);
                    page.raw.push(raw(&agent.key, r));
                    page.records.push(Record::Agent(agent));
                }
                Err(e) => page.problems.push(bad(e)),
            },
            "team" => match serde_json::from_str::<wire::Team>(r.get()) {
                Ok(t) => {
                    let t = map::team(&t);
                    page.raw.push(raw(&t.key, r));
                    page.records.push(Record::Team(t));
                }
                Err(e) => page.problems.push(bad(e)),
            },
            "tag" => match serde_json::from_str::<wire::Tag>(r.get()) {
                Ok(t) => {
                    let t = map::tag(&t);
                    page.raw.push(raw(&t.key, r));
                    page.records.push(Record::Tag(t));
                }
                Err(e) => page.problems.push(bad(e)),
            },
            "data_attribute" | "conversation_attribute" => {
                match serde_json::from_str::<wire::DataAttribute>(r.get()) {
                    Ok(d) => {
                        let model = match (type_, d.model.as_deref()) {
                            ("conversation_attribute", _) | (_, Some("conversation")) => {
                                AttributeModel::Conversation
                            }
                            (_, Some("company")) => AttributeModel::Company,
                            _ => AttributeModel::Contact,
                        };
                        let a = map::attribute(&d, model);
                        page.raw.push(raw(&a.key, r));
                        page.records.push(Record::AttributeDefinition(a));
                    }
                    Err(e) => page.problems.push(bad(e)),
                }
            }
            "segment" => {
                if let Some(id) = head.id {
                    page.raw
                        .push(raw(&key(RecordKind::Tag, &format!("segment-{id}")), r));
                }
            }
            "company" => match serde_json::from_str::<wire::Company>(r.get()) {
                Ok(c) => {
                    if self.seen.insert(c.id.clone()) {
                        let (company, problems) = map::company(&c);
                        page.raw.push(raw(&company.key, r));
                        page.records.push(Record::Company(company));
                        page.problems.extend(problems);
                    }
                }
                Err(e) => page.problems.push(bad(e)),
            },
            "contact" => match serde_json::from_str::<wire::Contact>(r.get()) {
                Ok(c) => self.contact(&c, r).await?,
                Err(e) => self.page.problems.push(bad(e)),
            },
            "conversation" | "ticket" => {
                let kind = if type_ == "ticket" {
                    ThreadKind::Ticket
                } else {
                    ThreadKind::Conversation
                };
                // A listed copy gives way to the retrieved one elsewhere in the folder.
                if !head.has_parts
                    && head
                        .id
                        .as_ref()
                        .is_some_and(|id| self.index.retrieved.contains(id))
                {
                    self.items -= 1;
                    return Ok(());
                }
                match serde_json::from_str::<wire::Conversation>(r.get()) {
                    Ok(c) => self.thread(&c, kind, r, out).await?,
                    Err(e) => self.page.problems.push(bad(e)),
                }
            }
            "macro" => match serde_json::from_str::<wire::Macro>(r.get()) {
                Ok(m) => {
                    let (m, problems) = map::macro_(&m);
                    page.raw.push(raw(&m.key, r));
                    page.records.push(Record::Macro(m));
                    page.problems.extend(problems);
                }
                Err(e) => page.problems.push(bad(e)),
            },
            "collection" => match serde_json::from_str::<wire::Collection>(r.get()) {
                Ok(c) => {
                    let (c, problems) = map::collection(&c);
                    page.raw.push(raw(&c.key, r));
                    page.records.push(Record::Collection(c));
                    page.problems.extend(problems);
                }
                Err(e) => page.problems.push(bad(e)),
            },
            "article" => match serde_json::from_str::<wire::Article>(r.get()) {
                Ok(a) => {
                    let files = self.source.files.clone();
                    let no_admins = |_: &str| true;
                    let file_host = |u: &str| files.allows(u);
                    let cx = Context {
                        listed_admin: &no_admins,
                        file_host: &file_host,
                    };
                    let (article, mut images) = map::article(&a, &cx);
                    self.download(&mut images, out).await?;
                    self.page.raw.push(raw(&article.key, r));
                    self.page.records.push(Record::Article(article));
                    self.page
                        .records
                        .extend(images.attachments.into_iter().map(Record::Attachment));
                    self.page.problems.extend(images.problems);
                }
                Err(e) => self.page.problems.push(bad(e)),
            },
            _ => {}
        }
        Ok(())
    }

    /// A contact with its whole tag, company and note lists, from its sub-list files when its
    /// own lists say they have more (as the API source follows them).
    async fn contact(&mut self, c: &wire::Contact, r: &RawValue) -> Result<(), FilesError> {
        let k = key(RecordKind::Contact, &c.id);
        let empty = wire::SubList::default();
        let mut problems = Vec::new();
        let mut ids = |list: &wire::SubList, name: &str, items: Option<Vec<Box<RawValue>>>| {
            match items {
                Some(items) if list.incomplete() => items
                    .iter()
                    .filter_map(|r| serde_json::from_str::<wire::Ref>(r.get()).ok())
                    .map(|r| r.id)
                    .collect(),
                _ => {
                    if list.incomplete() {
                        problems.push(Problem::new(
                            k.clone(),
                            Stage::Extract,
                            ErrorKind::NotFound,
                            "sub_list_not_in_dump",
                            format!(
                                "the contact has more {name} than it lists and the folder has no contacts/{}/{name}.json; only the listed ones are kept",
                                c.id
                            ),
                        ));
                    }
                    map::ref_ids(&list.data)
                }
            }
        };
        let tags_list = c.tags.as_ref().unwrap_or(&empty);
        let companies_list = c.companies.as_ref().unwrap_or(&empty);
        let tags = self.sub_list(&c.id, "tags").await?;
        let companies = self.sub_list(&c.id, "companies").await?;
        let tag_ids = ids(tags_list, "tags", tags);
        let company_ids = ids(companies_list, "companies", companies);
        let notes_list = c.notes.as_ref().unwrap_or(&empty);
        let (notes, notes_raw) = match self.sub_list(&c.id, "notes").await? {
            Some(all) => {
                let body = format!(
                    "[{}]",
                    all.iter().map(|r| r.get()).collect::<Vec<_>>().join(",")
                );
                let values = all
                    .iter()
                    .filter_map(|r| serde_json::from_str::<Value>(r.get()).ok())
                    .collect();
                (values, Some(body.into_bytes()))
            }
            None => {
                if notes_list.total_count.unwrap_or(0) > 0 || !notes_list.data.is_empty() {
                    problems.push(Problem::new(
                        k.clone(),
                        Stage::Extract,
                        ErrorKind::NotFound,
                        "sub_list_not_in_dump",
                        format!(
                            "the contact has notes and the folder has no contacts/{}/notes.json; they are not kept",
                            c.id
                        ),
                    ));
                }
                (Vec::new(), None)
            }
        };
        let (contact, mapped) = map::contact(
            c,
            &map::dedup(tag_ids),
            &map::dedup(company_ids),
            notes,
            &self.source.phones,
        );
        self.page.raw.push(raw(&contact.key, r));
        if let Some(n) = notes_raw {
            self.page.raw.push(Raw::new(
                key(RecordKind::Contact, &format!("{}/notes", c.id)),
                n,
            ));
        }
        self.page.records.push(Record::Contact(contact));
        self.page.problems.extend(problems);
        self.page.problems.extend(mapped);
        Ok(())
    }

    /// The items of `contacts/<id>/<name>*.json[l]`, in file order; `None` without such files.
    async fn sub_list(
        &self,
        contact: &str,
        name: &str,
    ) -> Result<Option<Vec<Box<RawValue>>>, FilesError> {
        let dir = self.source.dir.join("contacts").join(contact);
        if !dir.is_dir() {
            return Ok(None);
        }
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .map_err(self.source.io(&format!("contacts/{contact}")))?
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|f| f.starts_with(name) && (f.ends_with(".json") || f.ends_with(".jsonl")))
            .collect();
        if files.is_empty() {
            return Ok(None);
        }
        files.sort();
        let mut items = Vec::new();
        for f in files {
            let rel = format!("contacts/{contact}/{f}");
            for entry in dump::read(&self.source.dir, &rel)
                .await
                .map_err(self.source.io(&rel))?
            {
                if let Entry::Item { raw, .. } = entry {
                    items.push(raw);
                }
            }
        }
        Ok(Some(items))
    }

    async fn thread(
        &mut self,
        c: &wire::Conversation,
        kind: ThreadKind,
        r: &RawValue,
        out: &mut impl PageSink,
    ) -> Result<(), FilesError> {
        let files = self.source.files.clone();
        let admins = &self.index.admins;
        let listed_admin = |id: &str| admins.contains(id);
        let file_host = |u: &str| files.allows(u);
        let cx = Context {
            listed_admin: &listed_admin,
            file_host: &file_host,
        };
        let mut t = map::thread(c, kind, &cx);
        self.download(&mut t, out).await?;
        let k = match kind {
            ThreadKind::Conversation => key(RecordKind::Conversation, &c.id),
            ThreadKind::Ticket => map::ticket_key(&c.id),
        };
        self.page.raw.push(raw(&k, r));
        let page = &mut self.page;
        page.records
            .extend(t.departed.into_iter().map(Record::Agent));
        page.records
            .extend(t.conversation.into_iter().map(Record::Conversation));
        page.records
            .extend(t.messages.into_iter().map(Record::Message));
        page.records
            .extend(t.attachments.into_iter().map(Record::Attachment));
        page.problems.extend(t.problems);
        Ok(())
    }

    /// Downloads a thread's (or an article's) files into the blob store; a refused URL (expired
    /// or gone: there is no API here to refresh it) becomes a problem.
    async fn download(&self, t: &mut Thread, out: &mut impl PageSink) -> Result<(), FilesError> {
        let mut got: BTreeMap<SourceKey, BlobRef> = BTreeMap::new();
        for d in &t.downloads {
            let file = match self.source.files.download(&d.url).await {
                Ok(f) => f,
                Err(e) => {
                    let status = e.status().map(|s| s.as_u16());
                    if status.is_none() || Classify::kind(&e).is_transient() {
                        return Err(FilesError::Download(e.to_string()));
                    }
                    t.problems.push(Problem::new(
                        d.key.clone(),
                        Stage::Extract,
                        ErrorKind::NotFound,
                        "attachment_unavailable",
                        format!(
                            "the file host refused the file (HTTP {}); the dump's URLs may have expired, its name, type and size are kept",
                            status.unwrap_or(0)
                        ),
                    ));
                    continue;
                }
            };
            let content_type = d
                .content_type
                .clone()
                .or_else(|| file.content_type().map(str::to_owned));
            let body: ByteStream = Box::pin(file.into_io_stream());
            match out.blob(body, content_type.as_deref()).await {
                Ok(b) => {
                    got.insert(d.key.clone(), b);
                }
                Err(SinkError::Body(why)) => return Err(FilesError::Download(why)),
                Err(e) => return Err(e.into()),
            }
        }
        for a in &mut t.attachments {
            if let Some(b) = got.get(&a.key) {
                a.blob = Some(b.clone());
            }
        }
        Ok(())
    }
}
