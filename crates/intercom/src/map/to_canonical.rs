//! Wire → canonical: pure functions, no I/O. Every wire field without a canonical home goes into
//! the record's `extra`; per-record trouble comes back as [`Problem`]s beside the record.

use std::collections::BTreeMap;

use deskmove_core::model::{
    Agent, Article, ArticleState, Attachment, AttributeDefinition, AttributeModel, AttributeType,
    Author, AuthorKind, Collection, Company, Contact, ContactRole, Conversation, ConversationState,
    Event, Extra, Macro, Message, MessageKind, Tag, Team, Timestamp,
};
use deskmove_core::normalize::{email, html, phone::PhoneNormalizer, time};
use deskmove_core::{ErrorKind, Problem, RecordKind, SourceKey, Stage};
use serde_json::{Value, json};

use crate::wire;

/// The system name in every source key.
pub const SYSTEM: &str = "intercom";

/// The id of the one agent record every bot, Operator and Fin part is authored by.
pub const BOT_AGENT_ID: &str = "intercom-bot";

/// The source key of `id` of `kind`.
pub fn key(kind: RecordKind, id: &str) -> SourceKey {
    SourceKey::new(SYSTEM, kind, id)
}

/// The key of a ticket's thread (tickets are conversation-backed but have ids of their own).
pub fn ticket_key(id: &str) -> SourceKey {
    key(RecordKind::Conversation, &format!("ticket-{id}"))
}

fn obj(v: Value) -> Extra {
    match v {
        Value::Object(m) => m,
        _ => Extra::new(),
    }
}

/// An epoch-seconds time, or a problem naming the field.
fn epoch(
    key: &SourceKey,
    field: &str,
    v: Option<i64>,
    problems: &mut Vec<Problem>,
) -> Option<Timestamp> {
    let v = v?;
    match time::from_epoch(v) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(Problem::new(
                key.clone(),
                Stage::Normalize,
                ErrorKind::Validation,
                "invalid_timestamp",
                format!("`{field}` is not a time ({e}); it is kept in the raw payload only"),
            ));
            None
        }
    }
}

/// A required time: the epoch start when missing or unreadable (with a problem).
fn required(
    key: &SourceKey,
    field: &str,
    v: Option<i64>,
    problems: &mut Vec<Problem>,
) -> Timestamp {
    if v.is_none() {
        problems.push(Problem::new(
            key.clone(),
            Stage::Normalize,
            ErrorKind::Validation,
            "missing_timestamp",
            format!("`{field}` is missing; the record carries 1970-01-01 instead"),
        ));
    }
    epoch(key, field, v, problems).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A URL without its query: signed file URLs (`expires`, `signature`, §5) change on every
/// fetch, the file does not.
pub fn stable_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.split('?').next().unwrap_or(url).to_owned(),
    }
}

/// A listed teammate, or one met only as a part's author (departed: `active` false).
pub fn agent(a: &wire::Admin, active: bool) -> Agent {
    let mut extra = a.extra.clone();
    if !active {
        extra.insert("listed".into(), Value::Bool(false));
    }
    Agent {
        key: key(RecordKind::Agent, &a.id),
        name: a.name.clone(),
        email: a
            .email
            .as_deref()
            .filter(|e| !e.is_empty())
            .and_then(|e| email::normalize(e).value),
        active,
        extra,
    }
}

/// The one "Intercom Bot" agent: Operator, Fin and workflow bots author as it (§5, §9).
pub fn bot_agent() -> Agent {
    Agent {
        key: key(RecordKind::Agent, BOT_AGENT_ID),
        name: Some("Intercom Bot".into()),
        email: None,
        active: true,
        extra: obj(json!({"synthetic": true, "stands_for": ["bot", "operator", "fin"]})),
    }
}

/// A team.
pub fn team(t: &wire::Team) -> Team {
    Team {
        key: key(RecordKind::Team, &t.id),
        name: t.name.clone().unwrap_or_default(),
        members: t
            .admin_ids
            .iter()
            .map(|id| key(RecordKind::Agent, id))
            .collect(),
        extra: t.extra.clone(),
    }
}

/// A tag, its name exactly as stored.
pub fn tag(t: &wire::Tag) -> Tag {
    Tag {
        key: key(RecordKind::Tag, &t.id),
        name: t.name.clone(),
        extra: t.extra.clone(),
    }
}

/// A data attribute of `model` (the model asked for, when the answer does not say).
pub fn attribute(d: &wire::DataAttribute, model: AttributeModel) -> AttributeDefinition {
    let model = match d.model.as_deref() {
        Some("contact") => AttributeModel::Contact,
        Some("company") => AttributeModel::Company,
        Some("conversation") => AttributeModel::Conversation,
        _ => model,
    };
    let model_word = match model {
        AttributeModel::Contact => "contact",
        AttributeModel::Company => "company",
        AttributeModel::Conversation => "conversation",
    };
    let options: Vec<String> = d
        .options
        .iter()
        .flatten()
        .map(|o| match o {
            Value::String(s) => s.clone(),
            Value::Object(m) => m
                .get("value")
                .or_else(|| m.get("label"))
                .and_then(Value::as_str)
                .map_or_else(|| o.to_string(), str::to_owned),
            other => other.to_string(),
        })
        .collect();
    let mut extra = d.extra.clone();
    if let Some(t) = &d.data_type {
        extra.insert("data_type".into(), Value::String(t.clone()));
    }
    // Intercom has no list type: a string with options is one (§6).
    let data_type = match d.data_type.as_deref() {
        _ if !options.is_empty() => AttributeType::List,
        Some("integer") => AttributeType::Integer,
        Some("float" | "decimal") => AttributeType::Float,
        Some("boolean") => AttributeType::Boolean,
        Some("date" | "datetime") => AttributeType::Date,
        Some("list") => AttributeType::List,
        _ => AttributeType::String,
    };
    // Built-in attributes have no id; their model and name are unique. Conversation attributes
    // are objects of their own (`conversation_attribute`) with ids of their own.
    let id = match (&d.id, model) {
        (Some(id), AttributeModel::Conversation) => format!("conversation-{id}"),
        (Some(id), _) => id.clone(),
        (None, _) => format!("{model_word}.{}", d.name),
    };
    AttributeDefinition {
        key: key(RecordKind::AttributeDefinition, &id),
        model,
        name: d.name.clone(),
        label: d.label.clone(),
        data_type,
        options,
        description: d.description.clone(),
        archived: d.archived.unwrap_or(false),
        extra,
    }
}

/// A company.
pub fn company(c: &wire::Company) -> (Company, Vec<Problem>) {
    let k = key(RecordKind::Company, &c.id);
    let mut problems = Vec::new();
    let created_at = required(&k, "created_at", c.created_at, &mut problems);
    let updated_at = epoch(&k, "updated_at", c.updated_at, &mut problems);
    let company = Company {
        name: c.name.clone(),
        external_id: c.company_id.clone(),
        website: c.website.clone().filter(|w| !w.is_empty()),
        industry: c.industry.clone().filter(|w| !w.is_empty()),
        size: c.size,
        attributes: c.custom_attributes.clone().unwrap_or_default(),
        tags: c
            .tags
            .iter()
            .flat_map(|t| &t.tags)
            .map(|t| key(RecordKind::Tag, &t.id))
            .collect(),
        created_at,
        updated_at,
        extra: c.extra.clone(),
        key: k,
    };
    (company, problems)
}

/// A contact, with its whole tag and company lists (followed when the inline ones had more) and
/// its notes, which have no canonical home and travel in `extra.notes`.
pub fn contact(
    c: &wire::Contact,
    tags: &[String],
    companies: &[String],
    notes: Vec<Value>,
    phones: &PhoneNormalizer,
) -> (Contact, Vec<Problem>) {
    let k = key(RecordKind::Contact, &c.id);
    let mut problems = Vec::new();
    let email_original = c.email.clone().filter(|e| !e.trim().is_empty());
    let email = email_original.as_deref().and_then(|e| {
        let n = email::normalize(e);
        problems.extend(n.problem(&k));
        n.value
    });
    let phone_original = c.phone.clone().filter(|p| !p.trim().is_empty());
    let phone = phone_original.as_deref().and_then(|p| {
        let n = phones.normalize(p);
        problems.extend(n.problem(&k));
        n.e164
    });
    let created_at = required(&k, "created_at", c.created_at, &mut problems);
    let updated_at = epoch(&k, "updated_at", c.updated_at, &mut problems);
    let last_seen_at = epoch(&k, "last_seen_at", c.last_seen_at, &mut problems);
    let mut extra = c.extra.clone();
    extra.insert("notes".into(), Value::Array(notes));
    if let Some(role) = &c.role {
        extra.insert("role".into(), Value::String(role.clone()));
    }
    let contact = Contact {
        role: if c.role.as_deref() == Some("lead") {
            ContactRole::Lead
        } else {
            ContactRole::User
        },
        name: c.name.clone(),
        email,
        email_original,
        phone,
        phone_original,
        external_id: c.external_id.clone(),
        companies: companies
            .iter()
            .map(|id| key(RecordKind::Company, id))
            .collect(),
        tags: tags.iter().map(|id| key(RecordKind::Tag, id)).collect(),
        attributes: c.custom_attributes.clone().unwrap_or_default(),
        avatar_url: c
            .avatar
            .as_ref()
            .and_then(|a| a.get("image_url"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        created_at,
        updated_at,
        last_seen_at,
        extra,
        key: k,
    };
    (contact, problems)
}

/// A file to fetch for an attachment record, right after its thread was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The attachment record the bytes belong to.
    pub key: SourceKey,
    /// The signed URL, as received.
    pub url: String,
    /// The type the source reported.
    pub content_type: Option<String>,
}

/// A conversation or ticket with everything derived from it.
#[derive(Debug, Clone, Default)]
pub struct Thread {
    /// The conversation record.
    pub conversation: Option<Conversation>,
    /// Its messages, the first message first.
    pub messages: Vec<Message>,
    /// Their files and inline images (blobs still empty).
    pub attachments: Vec<Attachment>,
    /// What to download for them.
    pub downloads: Vec<Download>,
    /// Teammates met as authors but not listed by `/admins` (departed).
    pub departed: Vec<Agent>,
    /// Per-record trouble.
    pub problems: Vec<Problem>,
}

/// What the thread mapping needs to know about the world around it.
pub struct Context<'a> {
    /// Whether `/admins` lists this teammate.
    pub listed_admin: &'a (dyn Fn(&str) -> bool + Sync),
    /// Whether a URL is on a file host we download from.
    pub file_host: &'a (dyn Fn(&str) -> bool + Sync),
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

fn is_bot(a: &wire::Author) -> bool {
    a.kind.as_deref() == Some("bot")
        || a.from_ai_agent == Some(true)
        || a.is_ai_answer == Some(true)
}

fn author_json(a: &wire::Author) -> Value {
    json!({
        "type": a.kind, "id": a.id, "name": a.name, "email": a.email,
        "from_ai_agent": a.from_ai_agent, "is_ai_answer": a.is_ai_answer,
    })
}

impl Thread {
    fn author(&mut self, a: Option<&wire::Author>, cx: &Context<'_>) -> Author {
        let Some(a) = a else {
            return Author {
                kind: AuthorKind::System,
                key: None,
                name: None,
                email: None,
            };
        };
        let name = a.name.clone().filter(|n| !n.is_empty());
        let email = a.email.clone().filter(|n| !n.is_empty());
        if is_bot(a) {
            return Author {
                kind: AuthorKind::Bot,
                key: Some(key(RecordKind::Agent, BOT_AGENT_ID)),
                name,
                email,
            };
        }
        match a.kind.as_deref() {
            Some("user" | "lead" | "contact") => Author {
                kind: AuthorKind::Contact,
                key: a.id.as_deref().map(|id| key(RecordKind::Contact, id)),
                name,
                email,
            },
            Some("admin") => {
                if let Some(id) = a.id.as_deref()
                    && !(cx.listed_admin)(id)
                    && !self.departed.iter().any(|d| d.key.id == id)
                {
                    self.departed.push(agent(
                        &wire::Admin {
                            id: id.to_owned(),
                            name: name.clone(),
                            email: email.clone(),
                            extra: Extra::new(),
                        },
                        false,
                    ));
                }
                Author {
                    kind: AuthorKind::Agent,
                    key: a.id.as_deref().map(|id| key(RecordKind::Agent, id)),
                    name,
                    email,
                }
            }
            // Teams and anything newer: the name is kept, no record is pointed at.
            _ => Author {
                kind: AuthorKind::System,
                key: None,
                name,
                email,
            },
        }
    }

    /// Body → Markdown, inline images → attachment records to download, and the HTML with
    /// its file URLs stable (their expiring signature dropped): a body re-fetched later signs
    /// its images anew (§5), and must not read as a changed record.
    fn body(
        &mut self,
        message: &SourceKey,
        html_body: Option<&str>,
        cx: &Context<'_>,
    ) -> (Option<String>, Vec<String>, Vec<SourceKey>, Option<String>) {
        let Some(body) = html_body.filter(|b| !b.is_empty()) else {
            return (None, Vec::new(), Vec::new(), html_body.map(str::to_owned));
        };
        let mut converted = match html::to_markdown(body) {
            Ok(c) => c,
            Err(e) => {
                self.problems.push(Problem::new(
                    message.clone(),
                    Stage::Normalize,
                    ErrorKind::Validation,
                    html::HtmlError::CODE,
                    format!("{e}; the HTML is kept"),
                ));
                return (None, Vec::new(), Vec::new(), Some(body.to_owned()));
            }
        };
        let mut stable_html = body.to_owned();
        let mut images = Vec::new();
        let mut keys = Vec::new();
        let sources = converted.images.clone();
        let mut n = 0;
        for src in sources {
            if !(cx.file_host)(&src) {
                images.push(src);
                continue;
            }
            let stable = stable_url(&src);
            converted.replace_image(&src, &stable);
            // The attribute as written: `&` may be escaped in it.
            stable_html = stable_html
                .replace(&src, &stable)
                .replace(&src.replace('&', "&amp;"), &stable);
            images.push(stable.clone());
            if self.downloads.iter().any(|d| d.url == src) {
                continue;
            }
            let k = key(
                RecordKind::Attachment,
                &format!("{}/inline/{n}", message.id),
            );
            n += 1;
            self.attachments.push(Attachment {
                key: k.clone(),
                owner: message.clone(),
                file_name: stable
                    .rsplit('/')
                    .next()
                    .map(percent_decode)
                    .unwrap_or_default(),
                content_type: None,
                size: None,
                source_url: Some(stable),
                blob: None,
                extra: obj(json!({"inline": true})),
            });
            self.downloads.push(Download {
                key: k.clone(),
                url: src,
                content_type: None,
            });
            keys.push(k);
        }
        (Some(converted.markdown), images, keys, Some(stable_html))
    }

    fn files(&mut self, message: &SourceKey, files: &[wire::Attachment]) -> Vec<SourceKey> {
        let mut keys = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let k = key(RecordKind::Attachment, &format!("{}/{i}", message.id));
            let url = f.url.clone().filter(|u| !u.is_empty());
            if let Some(u) = &url {
                self.downloads.push(Download {
                    key: k.clone(),
                    url: u.clone(),
                    content_type: f.content_type.clone(),
                });
            } else {
                self.problems.push(Problem::new(
                    k.clone(),
                    Stage::Extract,
                    ErrorKind::NotFound,
                    "attachment_without_url",
                    "Intercom listed the file without a download URL; only its name and size are kept",
                ));
            }
            self.attachments.push(Attachment {
                key: k.clone(),
                owner: message.clone(),
                file_name: f.name.clone().unwrap_or_default(),
                content_type: f.content_type.clone(),
                size: f.filesize,
                source_url: url.as_deref().map(stable_url),
                blob: None,
                extra: f.extra.clone(),
            });
            keys.push(k);
        }
        keys
    }

    #[allow(clippy::too_many_arguments)]
    fn message(
        &mut self,
        k: SourceKey,
        conversation: &SourceKey,
        kind: MessageKind,
        author: Option<&wire::Author>,
        body: Option<&str>,
        files: &[wire::Attachment],
        created_at: Timestamp,
        updated_at: Option<Timestamp>,
        event: Option<Event>,
        mut extra: Extra,
        cx: &Context<'_>,
    ) {
        let author_value = author.map(author_json);
        let author = self.author(author, cx);
        let (markdown, inline_images, inline_keys, body_html) = self.body(&k, body, cx);
        let mut attachments = self.files(&k, files);
        attachments.extend(inline_keys);
        if let Some(a) = author_value {
            extra.insert("author".into(), a);
        }
        self.messages.push(Message {
            conversation: conversation.clone(),
            kind,
            author,
            body_html,
            body_markdown: markdown,
            inline_images,
            event,
            attachments,
            created_at,
            updated_at,
            extra,
            key: k,
        });
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(s.get(i + 1..i + 3).unwrap_or(""), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Part types that carry a message (everything else is an event).
fn message_kind(part_type: &str) -> Option<MessageKind> {
    match part_type {
        "comment" | "quick_reply" => Some(MessageKind::Reply),
        "note" => Some(MessageKind::Note),
        _ => None,
    }
}

/// Part types we know as state changes; any other type is kept whole as an event.
const KNOWN_EVENTS: &[&str] = &[
    "assignment",
    "assign_and_reopen",
    "assign_and_unsnooze",
    "away_mode_assignment",
    "default_assignment",
    "message_strategy_assignment",
    "open",
    "close",
    "snoozed",
    "unsnoozed",
    "timer_unsnooze",
    "participant_added",
    "participant_removed",
    "conversation_attribute_updated_by_admin",
    "conversation_attribute_updated_by_workflow",
    "conversation_attribute_updated_by_user",
    "ticket_attribute_updated_by_admin",
    "ticket_state_updated_by_admin",
    "custom_action_started",
    "custom_action_finished",
    "merged_primary_conversation",
    "call_summary",
    "operator_workflow_event",
    "language_detection_details",
    "channel_and_reply_time_expectation",
    "conversation_rating_changed",
];

/// Whether `/conversations/{id}` or `/tickets/{id}` answered a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadKind {
    /// A conversation.
    Conversation,
    /// A ticket.
    Ticket,
}

/// A retrieved conversation (or ticket) → its conversation record, messages (the first message
/// first), attachments to download, departed authors and problems (truncation among them).
pub fn thread(c: &wire::Conversation, kind: ThreadKind, cx: &Context<'_>) -> Thread {
    let mut t = Thread::default();
    let (ck, prefix) = match kind {
        ThreadKind::Conversation => (key(RecordKind::Conversation, &c.id), String::new()),
        ThreadKind::Ticket => (ticket_key(&c.id), "ticket-".to_owned()),
    };
    let problems = &mut t.problems;
    let created_at = required(&ck, "created_at", c.created_at, problems);
    let updated_at = epoch(&ck, "updated_at", c.updated_at, problems);
    let snoozed_until = epoch(&ck, "snoozed_until", c.snoozed_until, problems);
    let parts = c
        .conversation_parts
        .as_ref()
        .or(c.ticket_parts.as_ref())
        .map(|p| p.conversation_parts.as_slice())
        .unwrap_or_default();
    let told = c
        .statistics
        .as_ref()
        .and_then(|s| s.count_conversation_parts);
    let mut extra = c.extra.clone();
    // The channel it came in by (`source.type`), where load paths and `run --channel` read it.
    if let Some(channel) = c
        .source
        .as_ref()
        .and_then(|s| s.extra.get("type"))
        .and_then(Value::as_str)
    {
        extra.insert("channel".into(), json!(channel));
    }
    // When it was last closed, where `run --closed-before` reads it.
    if let Some(closed) = c
        .statistics
        .as_ref()
        .and_then(|s| s.extra.get("last_close_at"))
        .and_then(Value::as_i64)
    {
        extra.insert("closed_at".into(), json!(closed));
    }
    // The 500-part cap (§2): fewer parts than the statistics count means the oldest are gone.
    if let Some(total) = told
        && total > parts.len() as u64
    {
        t.problems.push(Problem::new(
            ck.clone(),
            Stage::Extract,
            ErrorKind::Validation,
            "truncated_conversation",
            format!(
                "Intercom returned {} of the conversation's {total} parts (it returns at most the 500 most recent); the {} oldest are missing and the conversation is marked incomplete",
                parts.len(),
                total - parts.len() as u64
            ),
        ));
        extra.insert("incomplete".into(), Value::Bool(true));
        extra.insert("parts_returned".into(), json!(parts.len()));
    }
    if let Some(s) = &c.statistics {
        let mut stats = s.extra.clone();
        stats.insert(
            "count_conversation_parts".into(),
            json!(s.count_conversation_parts),
        );
        extra.insert("statistics".into(), Value::Object(stats));
    }
    if let Some(p) = &c.priority {
        extra.insert("priority".into(), p.clone());
    }
    let state = match (kind, c.state.as_deref()) {
        (ThreadKind::Conversation, Some("closed")) => ConversationState::Closed,
        (ThreadKind::Conversation, Some("snoozed")) => ConversationState::Snoozed,
        (ThreadKind::Conversation, Some(_)) => ConversationState::Open,
        _ => match c
            .ticket_state
            .as_ref()
            .and_then(|s| s.get("category"))
            .and_then(Value::as_str)
        {
            Some("resolved") => ConversationState::Closed,
            Some("waiting_on_customer") => ConversationState::Pending,
            Some(_) => ConversationState::Open,
            None if c.open == Some(false) => ConversationState::Closed,
            None => ConversationState::Open,
        },
    };
    if let Some(s) = &c.ticket_state {
        extra.insert("ticket_state".into(), s.clone());
    }
    let mut attributes = c.custom_attributes.clone().unwrap_or_default();
    let mut subject = c.title.clone().filter(|s| !s.is_empty());
    let mut description = None;
    if let Some(ta) = &c.ticket_attributes {
        for (k, v) in ta {
            match k.as_str() {
                "_default_title_" => subject = subject.or(v.as_str().map(str::to_owned)),
                "_default_description_" => description = v.as_str().map(str::to_owned),
                _ => {
                    attributes.insert(k.clone(), v.clone());
                }
            }
        }
    }
    let contacts: Vec<SourceKey> = c
        .contacts
        .iter()
        .flat_map(|l| &l.contacts)
        .map(|r| key(RecordKind::Contact, &r.id))
        .collect();

    // The first message: the conversation's source, or a ticket's description.
    if let Some(src) = &c.source {
        subject = subject.or(src.subject.clone().filter(|s| !s.is_empty()));
        let mut sx = src.extra.clone();
        sx.insert("source_id".into(), json!(src.id));
        sx.insert("subject".into(), json!(src.subject));
        sx.insert("first_message".into(), Value::Bool(true));
        t.message(
            key(RecordKind::Message, &format!("{prefix}{}-source", c.id)),
            &ck,
            MessageKind::Reply,
            src.author.as_ref(),
            src.body.as_deref(),
            &src.attachments,
            created_at,
            None,
            None,
            sx,
            cx,
        );
    } else if let Some(d) = description.filter(|d| !d.is_empty()) {
        let author = contacts.first().map(|k| wire::Author {
            kind: Some("user".into()),
            id: Some(k.id.clone()),
            ..Default::default()
        });
        t.message(
            key(
                RecordKind::Message,
                &format!("{prefix}{}-description", c.id),
            ),
            &ck,
            MessageKind::Reply,
            author.as_ref(),
            Some(&d),
            &[],
            created_at,
            None,
            None,
            obj(json!({"first_message": true, "ticket_description": true})),
            cx,
        );
    }
    for p in parts {
        let pk = key(RecordKind::Message, &format!("{prefix}{}", p.id));
        let mut px = p.extra.clone();
        let part_type = p.part_type.clone().unwrap_or_default();
        px.insert("part_type".into(), Value::String(part_type.clone()));
        if let Some(a) = &p.assigned_to {
            px.insert("assigned_to".into(), a.clone());
        }
        let created = required(&pk, "created_at", p.created_at, &mut t.problems);
        let updated = epoch(&pk, "updated_at", p.updated_at, &mut t.problems);
        let (mkind, event) = match message_kind(&part_type) {
            Some(k) => (k, None),
            None => {
                let assigned_to = p
                    .assigned_to
                    .as_ref()
                    .filter(|a| a.get("type").and_then(Value::as_str) == Some("admin"))
                    .and_then(|a| a.get("id"))
                    .and_then(|id| match id {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .map(|id| key(RecordKind::Agent, &id));
                let mut detail = Extra::new();
                if let Some(a) = &p.assigned_to {
                    detail.insert("assigned_to".into(), a.clone());
                }
                if let Some(d) = p.extra.get("event_details") {
                    detail.insert("event_details".into(), d.clone());
                }
                // A part type we have never seen: the whole part travels with the event.
                if !KNOWN_EVENTS.contains(&part_type.as_str()) {
                    detail.insert("unknown_part_type".into(), Value::Bool(true));
                    detail.insert("part".into(), part_value(p));
                }
                (
                    MessageKind::Event,
                    Some(Event {
                        action: part_type.clone(),
                        assigned_to,
                        detail,
                    }),
                )
            }
        };
        t.message(
            pk,
            &ck,
            mkind,
            p.author.as_ref(),
            p.body.as_deref(),
            &p.attachments,
            created,
            updated,
            event,
            px,
            cx,
        );
    }
    let message_count = told.map(|n| n + u64::from(c.source.is_some()));
    t.conversation = Some(Conversation {
        subject,
        contacts,
        assignee: c
            .admin_assignee_id
            .as_deref()
            .map(|id| key(RecordKind::Agent, id)),
        team: c
            .team_assignee_id
            .as_deref()
            .map(|id| key(RecordKind::Team, id)),
        state,
        snoozed_until,
        priority: c.priority.as_ref().map(|p| match p {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        tags: c
            .tags
            .iter()
            .flat_map(|l| &l.tags)
            .map(|r| key(RecordKind::Tag, &r.id))
            .collect(),
        attributes,
        source_message_count: message_count.or(Some(parts.len() as u64 + 1)),
        created_at,
        updated_at,
        extra,
        key: ck,
    });
    t
}

/// A part back as JSON, for events of an unknown type.
fn part_value(p: &wire::Part) -> Value {
    let mut m = p.extra.clone();
    m.insert("id".into(), json!(p.id));
    m.insert("part_type".into(), json!(p.part_type));
    m.insert("body".into(), json!(p.body));
    m.insert("created_at".into(), json!(p.created_at));
    m.insert("updated_at".into(), json!(p.updated_at));
    m.insert(
        "author".into(),
        p.author.as_ref().map_or(Value::Null, author_json),
    );
    m.insert("assigned_to".into(), json!(p.assigned_to));
    m.insert(
        "attachments".into(),
        Value::Array(
            p.attachments
                .iter()
                .map(|a| {
                    let mut x = a.extra.clone();
                    x.insert("name".into(), json!(a.name));
                    x.insert("content_type".into(), json!(a.content_type));
                    x.insert("filesize".into(), json!(a.filesize));
                    Value::Object(x)
                })
                .collect(),
        ),
    );
    Value::Object(m)
}

/// `<attribute key="user.name" default="there"/>` back to `{{user.name | fallback: "there"}}`,
/// the placeholder syntax agents type (§2, macros), so Markdown conversion keeps it.
pub fn placeholders(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("<attribute") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some(end) = tail.find('>') else {
            out.push_str(tail);
            return out;
        };
        let tag = &tail[..=end];
        let attr = |name: &str| {
            let pat = format!("{name}=\"");
            tag.find(&pat).and_then(|i| {
                let v = &tag[i + pat.len()..];
                v.find('"').map(|j| v[..j].to_owned())
            })
        };
        match (attr("key"), attr("default")) {
            (Some(k), Some(d)) => out.push_str(&format!("{{{{{k} | fallback: \"{d}\"}}}}")),
            (Some(k), None) => out.push_str(&format!("{{{{{k}}}}}")),
            _ => out.push_str(tag),
        }
        rest = &tail[end + 1..];
        if let Some(r) = rest.strip_prefix("</attribute>") {
            rest = r;
        }
    }
    out.push_str(rest);
    out
}

/// A macro (saved reply); its times are ISO strings (§2).
pub fn macro_(m: &wire::Macro) -> (Macro, Vec<Problem>) {
    let k = key(RecordKind::Macro, &m.id);
    let mut problems = Vec::new();
    let mut t = |field: &str, v: &Option<Value>| {
        let v = v.as_ref().filter(|v| !v.is_null())?;
        match time::from_json(v) {
            Ok(t) => Some(t),
            Err(e) => {
                problems.push(Problem::new(
                    k.clone(),
                    Stage::Normalize,
                    ErrorKind::Validation,
                    "invalid_timestamp",
                    format!("`{field}` is not a time ({e})"),
                ));
                None
            }
        }
    };
    let created_at = t("created_at", &m.created_at);
    let updated_at = t("updated_at", &m.updated_at);
    let markdown = m
        .body
        .as_deref()
        .map(|b| html::to_markdown(&placeholders(b)).map(|c| c.markdown));
    let body_markdown = match markdown {
        Some(Ok(md)) => Some(md),
        Some(Err(e)) => {
            problems.push(Problem::new(
                k.clone(),
                Stage::Normalize,
                ErrorKind::Validation,
                html::HtmlError::CODE,
                format!("{e}; the HTML is kept"),
            ));
            None
        }
        None => None,
    };
    (
        Macro {
            name: m.name.clone(),
            body_html: m.body.clone(),
            body_markdown,
            created_at,
            updated_at,
            extra: m.extra.clone(),
            key: k,
        },
        problems,
    )
}

/// A help-center collection.
pub fn collection(c: &wire::Collection) -> (Collection, Vec<Problem>) {
    let k = key(RecordKind::Collection, &c.id);
    let mut problems = Vec::new();
    let created_at = epoch(&k, "created_at", c.created_at, &mut problems);
    let updated_at = epoch(&k, "updated_at", c.updated_at, &mut problems);
    (
        Collection {
            name: c.name.clone(),
            description: c.description.clone().filter(|d| !d.is_empty()),
            parent: c
                .parent_id
                .as_deref()
                .map(|id| key(RecordKind::Collection, id)),
            created_at,
            updated_at,
            extra: c.extra.clone(),
            key: k,
        },
        problems,
    )
}

/// A help-center article and its inline images (to download).
pub fn article(a: &wire::Article, cx: &Context<'_>) -> (Article, Thread) {
    let k = key(RecordKind::Article, &a.id);
    let mut t = Thread::default();
    let created_at = required(&k, "created_at", a.created_at, &mut t.problems);
    let updated_at = epoch(&k, "updated_at", a.updated_at, &mut t.problems);
    let (markdown, images, _, body_html) = t.body(&k, a.body.as_deref(), cx);
    let mut extra = a.extra.clone();
    extra.insert("inline_images".into(), json!(images));
    let parent = a.parent_id.clone().or_else(|| {
        a.extra
            .get("parent_ids")
            .and_then(Value::as_array)
            .and_then(|v| v.first())
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
    });
    let article = Article {
        title: a.title.clone(),
        description: a.description.clone().filter(|d| !d.is_empty()),
        body_html,
        body_markdown: markdown,
        author: a.author_id.as_deref().map(|id| key(RecordKind::Agent, id)),
        collection: parent.map(|id| key(RecordKind::Collection, &id)),
        state: if a.state.as_deref() == Some("published") {
            ArticleState::Published
        } else {
            ArticleState::Draft
        },
        created_at,
        updated_at,
        extra,
        key: k,
    };
    (article, t)
}

/// Ids of every item in a list of `{id}` values.
pub fn ref_ids(items: &[wire::Ref]) -> Vec<String> {
    items.iter().map(|r| r.id.clone()).collect()
}

/// Dedupes ids keeping the first occurrence order.
pub fn dedup(ids: Vec<String>) -> Vec<String> {
    let mut seen = BTreeMap::new();
    ids.into_iter()
        .filter(|id| seen.insert(id.clone(), ()).is_none())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx_thread(json: Value) -> Thread {
        let c: wire::Conversation = serde_json::from_value(json).unwrap();
        let listed = |id: &str| id == "7";
        let files = |u: &str| u.starts_with("https://files.example/");
        thread(
            &c,
            ThreadKind::Conversation,
            &Context {
                listed_admin: &listed,
                file_host: &files,
            },
        )
    }

    fn part(id: &str, part_type: &str, author: Value) -> Value {
        json!({"type": "conversation_part", "id": id, "part_type": part_type,
               "body": "<p>hi</p>", "created_at": 1_700_000_100, "author": author,
               "attachments": []})
    }

    #[test]
    fn parts_become_replies_notes_and_events_by_their_authors() {
        let t = cx_thread(json!({
            "type": "conversation", "id": "1", "created_at": 1_700_000_000, "state": "open",
            "admin_assignee_id": 0,
            "source": {"id": "9", "body": "<p>help <img src=\"https://files.example/i/o/5/a.png?expires=1&amp;signature=x\"></p>",
                       "author": {"type": "lead", "id": "c1"},
                       "attachments": [{"type": "upload", "name": "f.pdf", "url": "https://files.example/i/o/6/f.pdf?signature=y", "filesize": 3}]},
            "statistics": {"count_conversation_parts": 7},
            "conversation_parts": {"conversation_parts": [
                part("p1", "comment", json!({"type": "user", "id": "c1"})),
                part("p2", "comment", json!({"type": "admin", "id": "7", "name": "Ana"})),
                part("p3", "note", json!({"type": "admin", "id": "8", "name": "Gone", "email": "gone@x.io"})),
                part("p4", "comment", json!({"type": "admin", "id": "990001", "name": "Fin", "from_ai_agent": true})),
                part("p5", "comment", json!({"type": "bot", "id": "990002"})),
                part("p6", "close", json!({"type": "admin", "id": "7"})),
                part("p7", "brand_new_thing", json!({"type": "admin", "id": "7"})),
            ]}
        }));
        let kinds: Vec<(MessageKind, AuthorKind)> =
            t.messages.iter().map(|m| (m.kind, m.author.kind)).collect();
        use AuthorKind as A;
        use MessageKind as M;
        assert_eq!(
            kinds,
            vec![
                (M::Reply, A::Contact),
                (M::Reply, A::Contact),
                (M::Reply, A::Agent),
                (M::Note, A::Agent),
                (M::Reply, A::Bot),
                (M::Reply, A::Bot),
                (M::Event, A::Agent),
                (M::Event, A::Agent),
            ]
        );
        // The first message is the source; bots are the one bot agent.
        assert_eq!(t.messages[0].key.id, "1-source");
        assert_eq!(t.messages[4].author.key.as_ref().unwrap().id, BOT_AGENT_ID);
        assert_eq!(t.messages[5].author.key.as_ref().unwrap().id, BOT_AGENT_ID);
        // An unknown part type keeps its whole payload.
        let e = t.messages[7].event.as_ref().unwrap();
        assert_eq!(e.action, "brand_new_thing");
        assert_eq!(e.detail["part"]["id"], "p7");
        // A teammate /admins does not list is kept as a departed agent.
        assert_eq!(t.departed.len(), 1);
        assert!(!t.departed[0].active);
        // Files: the attachment and the inline image, URLs without their signatures.
        assert_eq!(t.downloads.len(), 2);
        assert!(
            t.attachments
                .iter()
                .all(|a| a.source_url.as_deref().is_some_and(|u| !u.contains('?')))
        );
        assert!(
            !t.messages[0]
                .body_markdown
                .as_deref()
                .unwrap()
                .contains("signature")
        );
        // The HTML too: a later fetch signs the image anew, the record stays the same.
        let html = t.messages[0].body_html.as_deref().unwrap();
        assert!(
            html.contains("<img") && !html.contains("signature"),
            "{html}"
        );
        // No cap hit: no problem, and the count includes the first message.
        assert!(t.problems.is_empty());
        assert_eq!(t.conversation.unwrap().source_message_count, Some(8));
    }

    #[test]
    fn fewer_parts_than_the_statistics_is_a_truncation() {
        let t = cx_thread(json!({
            "type": "conversation", "id": "2", "created_at": 1_700_000_000, "state": "closed",
            "statistics": {"count_conversation_parts": 501},
            "conversation_parts": {"conversation_parts": [part("p1", "comment", json!({"type": "user", "id": "c"}))]}
        }));
        let p = &t.problems[0];
        assert_eq!(p.code, "truncated_conversation");
        assert!(
            p.reason.contains("1 of the conversation's 501"),
            "{}",
            p.reason
        );
        let c = t.conversation.unwrap();
        assert_eq!(c.extra["incomplete"], true);
        assert_eq!(c.state, ConversationState::Closed);
    }

    #[test]
    fn placeholders_come_back_in_the_typed_syntax() {
        assert_eq!(
            placeholders(r#"<p>Hi <attribute key="user.name" default="there"/>!</p>"#),
            r#"<p>Hi {{user.name | fallback: "there"}}!</p>"#
        );
        assert_eq!(placeholders(r#"<attribute key="a.b"/>"#), "{{a.b}}");
    }

    #[test]
    fn signed_urls_lose_their_signature() {
        assert_eq!(
            stable_url("http://h:1/i/o/5/a%20b.png?expires=1&signature=x"),
            "http://h:1/i/o/5/a%20b.png"
        );
        assert_eq!(percent_decode("a%20b.png"), "a b.png");
    }
}
