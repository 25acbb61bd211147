//! Zendesk records to canonical ones: pure functions, no I/O. Every field without a canonical
//! home stays in the record's `extra` (../shared/research/zendesk-freshdesk-helpscout.md §3).
//!
//! Keys: users are agents (`agent`/`admin`) or contacts (`end-user`) under their user id;
//! organizations companies, groups teams, tickets conversations, comments messages and
//! attachments attachments, each under its Zendesk id. Tags are words, keyed by the word.
//! Help Center categories and sections are both collections, keyed `category-<id>` and
//! `section-<id>` (their ids are separate series).

use std::collections::{BTreeMap, BTreeSet};

use deskmove_core::model::{
    Agent, Article, ArticleState, Attachment, AttributeDefinition, AttributeModel, AttributeType,
    Author, AuthorKind, Collection, Company, Contact, ContactRole, Conversation, ConversationState,
    Macro, Message, MessageKind, Tag, Team, Timestamp,
};
use deskmove_core::normalize::phone::PhoneNormalizer;
use deskmove_core::normalize::{email, html, time};
use deskmove_core::{ErrorKind, Problem, RecordKind, SourceKey, Stage};
use serde_json::{Map, Value, json};

use crate::wire;

/// The source system name in every key.
pub const SYSTEM: &str = crate::NAME;

/// A key of this source.
pub fn key(kind: RecordKind, id: impl ToString) -> SourceKey {
    SourceKey::new(SYSTEM, kind, id.to_string())
}

/// The key of a Help Center category.
pub fn category_key(id: u64) -> SourceKey {
    key(RecordKind::Collection, format!("category-{id}"))
}

/// The key of a Help Center section.
pub fn section_key(id: u64) -> SourceKey {
    key(RecordKind::Collection, format!("section-{id}"))
}

fn problem(k: &SourceKey, code: &str, reason: String) -> Problem {
    Problem::new(
        k.clone(),
        Stage::Normalize,
        ErrorKind::Protocol,
        code,
        reason,
    )
}

/// An optional ISO time; an unreadable one becomes a problem and `None`.
fn when(
    k: &SourceKey,
    field: &str,
    v: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Option<Timestamp> {
    let v = v.filter(|s| !s.trim().is_empty())?;
    match time::parse(v) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(problem(
                k,
                "unreadable_time",
                format!("`{field}` {e}; left empty"),
            ));
            None
        }
    }
}

/// A required ISO time; a missing or unreadable one becomes a problem and the epoch.
fn required(k: &SourceKey, field: &str, v: Option<&str>, problems: &mut Vec<Problem>) -> Timestamp {
    when(k, field, v, problems).unwrap_or_else(|| {
        if v.is_none() {
            problems.push(problem(
                k,
                "missing_time",
                format!("`{field}` is missing; 1970-01-01 is recorded instead"),
            ));
        }
        Timestamp::UNIX_EPOCH
    })
}

/// Markdown and inline image sources of an HTML body; a body the converter refuses keeps its
/// HTML and gets a problem.
fn markdown(
    k: &SourceKey,
    body: &str,
    problems: &mut Vec<Problem>,
) -> (Option<String>, Vec<String>) {
    match html::to_markdown(body) {
        Ok(c) => (Some(c.markdown), c.images),
        Err(e) => {
            problems.push(problem(
                k,
                "unconvertible_body",
                format!("{e}; the HTML is kept"),
            ));
            (None, Vec::new())
        }
    }
}

fn tag_keys(tags: &[String]) -> Vec<SourceKey> {
    let mut seen = BTreeSet::new();
    tags.iter()
        .filter(|t| !t.is_empty() && seen.insert(t.as_str()))
        .map(|t| key(RecordKind::Tag, t))
        .collect()
}

/// A tag record for a tag word (Zendesk tags have no id: the word is the identity).
pub fn tag(word: &str) -> Tag {
    Tag {
        key: key(RecordKind::Tag, word),
        name: word.to_owned(),
        extra: Map::new(),
    }
}

/// An agent or admin (deleted ones `active:false`, §2.3).
pub fn agent(u: &wire::User) -> Agent {
    let mut extra = u.extra.clone();
    extra.insert("role".into(), json!(u.role));
    extra.insert("created_at".into(), json!(u.created_at));
    extra.insert("updated_at".into(), json!(u.updated_at));
    if let Some(p) = &u.phone {
        extra.insert("phone".into(), json!(p));
    }
    if !u.tags.is_empty() {
        extra.insert("tags".into(), json!(u.tags));
    }
    if let Some(f) = &u.user_fields {
        extra.insert("user_fields".into(), Value::Object(f.clone()));
    }
    Agent {
        key: key(RecordKind::Agent, u.id),
        name: u.name.clone(),
        email: u.email.as_deref().and_then(|e| email::normalize(e).value),
        active: u.active,
        extra,
    }
}

/// An end user, with its default organization.
pub fn contact(u: &wire::User, phones: &PhoneNormalizer) -> (Contact, Vec<Problem>) {
    let k = key(RecordKind::Contact, u.id);
    let mut problems = Vec::new();
    let email_original = u.email.clone().filter(|e| !e.trim().is_empty());
    let email = email_original.as_deref().and_then(|e| {
        let n = email::normalize(e);
        problems.extend(n.problem(&k));
        n.value
    });
    let phone_original = u.phone.clone().filter(|p| !p.trim().is_empty());
    let phone = phone_original.as_deref().and_then(|p| {
        let n = phones.normalize(p);
        problems.extend(n.problem(&k));
        n.e164
    });
    let created_at = required(&k, "created_at", u.created_at.as_deref(), &mut problems);
    let updated_at = when(&k, "updated_at", u.updated_at.as_deref(), &mut problems);
    let last_seen_at = when(
        &k,
        "last_login_at",
        u.last_login_at.as_deref(),
        &mut problems,
    );
    let mut extra = u.extra.clone();
    extra.insert("role".into(), json!(u.role));
    extra.insert("active".into(), json!(u.active));
    let contact = Contact {
        role: ContactRole::User,
        name: u.name.clone(),
        email,
        email_original,
        phone,
        phone_original,
        external_id: u.external_id.clone(),
        companies: u
            .organization_id
            .map(|o| key(RecordKind::Company, o))
            .into_iter()
            .collect(),
        tags: tag_keys(&u.tags),
        attributes: non_null(u.user_fields.as_ref()),
        avatar_url: u
            .photo
            .as_ref()
            .and_then(|p| p.get("content_url"))
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

/// Custom values without the unset ones.
fn non_null(fields: Option<&Map<String, Value>>) -> Map<String, Value> {
    fields
        .map(|m| {
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// An organization.
pub fn company(o: &wire::Organization) -> (Company, Vec<Problem>) {
    let k = key(RecordKind::Company, o.id);
    let mut problems = Vec::new();
    let created_at = required(&k, "created_at", o.created_at.as_deref(), &mut problems);
    let updated_at = when(&k, "updated_at", o.updated_at.as_deref(), &mut problems);
    let mut extra = o.extra.clone();
    extra.insert("domain_names".into(), json!(o.domain_names));
    let company = Company {
        name: o.name.clone(),
        external_id: o.external_id.clone(),
        website: o.domain_names.first().map(|d| format!("https://{d}")),
        industry: None,
        size: None,
        attributes: non_null(o.organization_fields.as_ref()),
        tags: tag_keys(&o.tags),
        created_at,
        updated_at,
        extra,
        key: k,
    };
    (company, problems)
}

/// A group and its member agents; a deleted group keeps `extra.deleted`.
pub fn team(g: &wire::Group, members: &[u64]) -> Team {
    let mut extra = g.extra.clone();
    extra.insert("deleted".into(), json!(g.deleted));
    Team {
        key: key(RecordKind::Team, g.id),
        name: g.name.clone().unwrap_or_else(|| format!("Group {}", g.id)),
        members: members.iter().map(|a| key(RecordKind::Agent, a)).collect(),
        extra,
    }
}

/// The canonical type of a Zendesk field type (§3.4), and whether it holds several values.
pub fn field_type(t: &str) -> (AttributeType, bool) {
    match t {
        "checkbox" => (AttributeType::Boolean, false),
        "date" => (AttributeType::Date, false),
        "integer" => (AttributeType::Integer, false),
        "decimal" => (AttributeType::Float, false),
        "tagger" | "dropdown" => (AttributeType::List, false),
        "multiselect" => (AttributeType::List, true),
        // text, textarea, regexp, partialcreditcard, lookup (an id), and types to come.
        _ => (AttributeType::String, false),
    }
}

/// What the ticket mapping needs to know of the custom ticket fields: attribute name and type.
#[derive(Debug, Clone, Default)]
pub struct TicketFields {
    by_id: BTreeMap<u64, (String, AttributeType, bool)>,
}

/// A field key from a title: lower case, `[a-z0-9_]`.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_owned()
}

impl TicketFields {
    /// The custom fields among `fields` (system ones have `removable: false`). Ticket fields
    /// have no key, so the attribute name is the title's slug; a slug two fields share gets the
    /// field id appended on the later one, so names never collide.
    pub fn new(fields: &[wire::Field]) -> Self {
        let mut custom: Vec<&wire::Field> = fields.iter().filter(|f| f.removable).collect();
        custom.sort_by_key(|f| f.id);
        let mut taken = BTreeSet::new();
        let mut by_id = BTreeMap::new();
        for f in custom {
            let mut name = f
                .key
                .clone()
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| slug(f.title.as_deref().unwrap_or("")));
            if name.is_empty() || !taken.insert(name.clone()) {
                name = format!("{name}_{}", f.id)
                    .trim_start_matches('_')
                    .to_owned();
                taken.insert(name.clone());
            }
            let (t, multi) = field_type(&f.field_type);
            by_id.insert(f.id, (name, t, multi));
        }
        Self { by_id }
    }

    /// The attribute name of custom field `id`.
    pub fn name(&self, id: u64) -> Option<&str> {
        self.by_id.get(&id).map(|(n, _, _)| n.as_str())
    }

    /// A ticket's custom values as attributes: unset values are left out, numbers sent as
    /// strings become numbers, numbers in text fields (a lookup's id) become text.
    pub fn values(&self, values: &[wire::FieldValue]) -> (Map<String, Value>, Vec<u64>) {
        let mut out = Map::new();
        let mut unknown = Vec::new();
        for v in values {
            let Some((name, t, _)) = self.by_id.get(&v.id) else {
                unknown.push(v.id);
                continue;
            };
            if v.value.is_null() {
                continue;
            }
            let value = match (t, &v.value) {
                (AttributeType::Integer, Value::String(s)) => s
                    .trim()
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or(v.value.clone()),
                (AttributeType::Float, Value::String(s)) => s
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or(v.value.clone()),
                // A lookup holds the id of the record it points at as a number (§3.4); the
                // attribute is text, so the id is too (and Chatwoot refuses integers in a
                // conversation's attributes above 9,999,999,999, which user ids pass).
                (AttributeType::String, Value::Number(n)) => Value::String(n.to_string()),
                _ => v.value.clone(),
            };
            out.insert(name.clone(), value);
        }
        (out, unknown)
    }
}

/// A custom field definition: ticket fields for conversations (named by [`TicketFields`]),
/// user fields for contacts and organization fields for companies (named by their key).
pub fn attribute(f: &wire::Field, model: AttributeModel, name: String) -> AttributeDefinition {
    let prefix = match model {
        AttributeModel::Conversation => "ticket_field",
        AttributeModel::Contact => "user_field",
        AttributeModel::Company => "organization_field",
    };
    let (data_type, multiple) = field_type(&f.field_type);
    let mut extra = f.extra.clone();
    extra.insert("type".into(), json!(f.field_type));
    extra.insert("multiple".into(), json!(multiple));
    // Options as the values records hold (tag values), with their labels beside them.
    let options: Vec<String> = f
        .custom_field_options
        .iter()
        .filter_map(|o| o.value.clone().or_else(|| o.name.clone()))
        .collect();
    extra.insert(
        "option_labels".into(),
        json!(
            f.custom_field_options
                .iter()
                .map(|o| &o.name)
                .collect::<Vec<_>>()
        ),
    );
    AttributeDefinition {
        key: key(
            RecordKind::AttributeDefinition,
            format!("{prefix}-{}", f.id),
        ),
        model,
        name,
        label: f.title.clone(),
        data_type,
        options,
        description: f.description.clone().filter(|d| !d.is_empty()),
        archived: !f.active,
        extra,
    }
}

/// The canonical state of a Zendesk status (§3.1): `new`/`open` are open, `pending`/`hold`
/// wait (on the customer or a third party), `solved`/`closed` are closed.
pub fn state(status: &str) -> Option<ConversationState> {
    Some(match status {
        "new" | "open" => ConversationState::Open,
        "pending" | "hold" => ConversationState::Pending,
        "solved" | "closed" => ConversationState::Closed,
        _ => return None,
    })
}

/// A ticket; `comments` is how many comments it has.
pub fn conversation(
    t: &wire::Ticket,
    fields: &TicketFields,
    comments: u64,
) -> (Conversation, Vec<Problem>) {
    let k = key(RecordKind::Conversation, t.id);
    let mut problems = Vec::new();
    let status = t.status.clone().unwrap_or_default();
    let state = state(&status).unwrap_or_else(|| {
        problems.push(problem(
            &k,
            "unknown_status",
            format!("status `{status}` is not one this version knows; recorded as open"),
        ));
        ConversationState::Open
    });
    let (attributes, unknown) = fields.values(&t.custom_fields);
    let mut extra = t.extra.clone();
    extra.insert("status".into(), json!(status));
    extra.insert("type".into(), json!(t.ticket_type));
    extra.insert("generated_timestamp".into(), json!(t.generated_timestamp));
    if !unknown.is_empty() {
        // Values of fields the list did not show: kept by field id.
        let raw: Map<String, Value> = t
            .custom_fields
            .iter()
            .filter(|v| unknown.contains(&v.id))
            .map(|v| (v.id.to_string(), v.value.clone()))
            .collect();
        extra.insert("unknown_custom_fields".into(), Value::Object(raw));
    }
    let created_at = required(&k, "created_at", t.created_at.as_deref(), &mut problems);
    let updated_at = when(&k, "updated_at", t.updated_at.as_deref(), &mut problems);
    let conversation = Conversation {
        subject: t.subject.clone().filter(|s| !s.is_empty()),
        contacts: t
            .requester_id
            .map(|r| key(RecordKind::Contact, r))
            .into_iter()
            .collect(),
        assignee: t.assignee_id.map(|a| key(RecordKind::Agent, a)),
        team: t.group_id.map(|g| key(RecordKind::Team, g)),
        state,
        snoozed_until: None,
        priority: t.priority.clone(),
        tags: tag_keys(&t.tags),
        attributes,
        source_message_count: Some(comments),
        created_at,
        updated_at,
        extra,
        key: k,
    };
    (conversation, problems)
}

/// A file to fetch for an attachment record, right after its comment was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The attachment record the bytes belong to.
    pub key: SourceKey,
    /// The `content_url`, as received.
    pub url: String,
    /// The type the source reported.
    pub content_type: Option<String>,
}

/// A comment with its files.
#[derive(Debug, Clone)]
pub struct Comment {
    /// The message.
    pub message: Message,
    /// Its files and inline images (blobs still empty).
    pub attachments: Vec<Attachment>,
    /// What to download for them.
    pub downloads: Vec<Download>,
    /// Per-record trouble.
    pub problems: Vec<Problem>,
}

/// What a comment's author needs of a Zendesk user: the role picks the record the author
/// points at, and the name and email travel with the message, since a target may have no
/// record to show them from (Chatwoot sends agent replies as the importing user and names the
/// author in `original_author`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// `agent` or `admin` (else an end user).
    pub agent: bool,
    /// Display name.
    pub name: Option<String>,
    /// Primary email, as Zendesk shows it.
    pub email: Option<String>,
}

impl Person {
    /// The author facts of `u`.
    pub fn of(u: &wire::User) -> Self {
        // As shown at the source: a name beside a message, not a key to match on.
        let shown = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Self {
            agent: u.is_agent(),
            name: shown(&u.name),
            email: shown(&u.email),
        }
    }
}

/// A comment of ticket `ticket`: public ones are replies, private ones notes; the author is an
/// agent or a contact by the role `person` knows for the user, with their name and email
/// (`None`: a user Zendesk no longer shows). `first` marks the description (the ticket's first
/// comment, §3.1).
pub fn comment<'p>(
    c: &wire::Comment,
    ticket: &SourceKey,
    person: impl Fn(u64) -> Option<&'p Person>,
    first: bool,
) -> Comment {
    let k = key(RecordKind::Message, c.id);
    let mut problems = Vec::new();
    let body_html = c.html_body.clone().or_else(|| c.plain_body.clone());
    let (body_markdown, inline_images) = match &c.html_body {
        Some(h) => markdown(&k, h, &mut problems),
        None => (c.plain_body.clone().or_else(|| c.body.clone()), Vec::new()),
    };
    let author = match c.author_id.and_then(|a| Some((a, person(a)?))) {
        Some((a, p)) => Author {
            kind: if p.agent {
                AuthorKind::Agent
            } else {
                AuthorKind::Contact
            },
            key: Some(if p.agent {
                key(RecordKind::Agent, a)
            } else {
                key(RecordKind::Contact, a)
            }),
            name: p.name.clone(),
            email: p.email.clone(),
        },
        // -1 is Zendesk's system user; unknown users have no record to point at.
        None => Author {
            kind: AuthorKind::System,
            key: None,
            name: None,
            email: None,
        },
    };
    let mut extra = c.extra.clone();
    extra.insert("type".into(), json!(c.comment_type));
    extra.insert("public".into(), json!(c.public));
    extra.insert("author_id".into(), json!(c.author_id));
    extra.insert("description".into(), json!(first));
    if let Some(p) = &c.plain_body {
        extra.insert("plain_body".into(), json!(p));
    }
    let mut attachments = Vec::new();
    let mut downloads = Vec::new();
    for a in &c.attachments {
        let ak = key(RecordKind::Attachment, a.id);
        let mut aextra = a.extra.clone();
        aextra.insert("inline".into(), json!(a.inline));
        attachments.push(Attachment {
            key: ak.clone(),
            owner: k.clone(),
            file_name: a
                .file_name
                .clone()
                .unwrap_or_else(|| format!("attachment-{}", a.id)),
            content_type: a.content_type.clone(),
            size: a.size,
            source_url: a.content_url.clone(),
            blob: None,
            extra: aextra,
        });
        match &a.content_url {
            Some(url) => downloads.push(Download {
                key: ak,
                url: url.clone(),
                content_type: a.content_type.clone(),
            }),
            None => problems.push(Problem::new(
                ak,
                Stage::Extract,
                ErrorKind::NotFound,
                "attachment_unavailable",
                "Zendesk lists the file without a content_url; its name, type and size are kept",
            )),
        }
    }
    let created_at = required(&k, "created_at", c.created_at.as_deref(), &mut problems);
    let message = Message {
        conversation: ticket.clone(),
        kind: if c.public {
            MessageKind::Reply
        } else {
            MessageKind::Note
        },
        author,
        body_html,
        body_markdown,
        inline_images,
        event: None,
        attachments: attachments.iter().map(|a| a.key.clone()).collect(),
        created_at,
        updated_at: None,
        extra,
        key: k,
    };
    Comment {
        message,
        attachments,
        downloads,
        problems,
    }
}

/// A macro: its comment action is the body, Zendesk placeholders (`{{ticket.requester.name}}`)
/// kept as written; the other actions stay in `extra.actions`.
pub fn macro_(m: &wire::Macro) -> (Macro, Vec<Problem>) {
    let k = key(RecordKind::Macro, m.id);
    let mut problems = Vec::new();
    let body = m
        .actions
        .iter()
        .find(|a| a.field == "comment_value_html")
        .or_else(|| m.actions.iter().find(|a| a.field == "comment_value"))
        .and_then(|a| match &a.value {
            Value::String(s) => Some(s.clone()),
            // `comment_value` may be `[channel, text]`.
            Value::Array(v) => v.last().and_then(Value::as_str).map(str::to_owned),
            _ => None,
        });
    let body_markdown = body.as_deref().and_then(|b| {
        // Placeholders are shielded from Markdown escaping (`first_name` would become
        // `first\_name`) and put back verbatim.
        let (shielded, found) = shield(b);
        markdown(&k, &shielded, &mut problems)
            .0
            .map(|md| unshield(md, &found))
    });
    let mut extra = m.extra.clone();
    extra.insert(
        "actions".into(),
        json!(
            m.actions
                .iter()
                .map(|a| json!({"field": a.field, "value": a.value}))
                .collect::<Vec<_>>()
        ),
    );
    let created_at = when(&k, "created_at", m.created_at.as_deref(), &mut problems);
    let updated_at = when(&k, "updated_at", m.updated_at.as_deref(), &mut problems);
    let r = Macro {
        name: m.title.clone().unwrap_or_else(|| format!("Macro {}", m.id)),
        body_html: body,
        body_markdown,
        created_at,
        updated_at,
        extra,
        key: k,
    };
    (r, problems)
}

/// The `{{…}}` placeholders of `body` replaced by letters-only stand-ins, and the placeholders.
fn shield(body: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(body.len());
    let mut found = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("{{") {
        let Some(end) = rest[at..].find("}}") else {
            break;
        };
        out.push_str(&rest[..at]);
        out.push_str(&stand_in(found.len()));
        found.push(rest[at..at + end + 2].to_owned());
        rest = &rest[at + end + 2..];
    }
    out.push_str(rest);
    (out, found)
}

fn stand_in(n: usize) -> String {
    let letters: String = n
        .to_string()
        .bytes()
        .map(|d| char::from(b'a' + (d - b'0')))
        .collect();
    format!("ZDPLACEHOLDER{letters}Z")
}

/// Puts the placeholders back.
fn unshield(mut md: String, found: &[String]) -> String {
    for (n, p) in found.iter().enumerate().rev() {
        md = md.replace(&stand_in(n), p);
    }
    md
}

/// A Help Center category (a root collection).
pub fn category(c: &wire::HcContainer) -> (Collection, Vec<Problem>) {
    collection(c, category_key(c.id), None)
}

/// A Help Center section, inside its parent section or its category.
pub fn section(s: &wire::HcContainer) -> (Collection, Vec<Problem>) {
    let parent = s
        .parent_section_id
        .map(section_key)
        .or_else(|| s.category_id.map(category_key));
    collection(s, section_key(s.id), parent)
}

fn collection(
    c: &wire::HcContainer,
    k: SourceKey,
    parent: Option<SourceKey>,
) -> (Collection, Vec<Problem>) {
    let mut problems = Vec::new();
    let created_at = when(&k, "created_at", c.created_at.as_deref(), &mut problems);
    let updated_at = when(&k, "updated_at", c.updated_at.as_deref(), &mut problems);
    let r = Collection {
        name: c.name.clone().unwrap_or_default(),
        description: c.description.clone().filter(|d| !d.is_empty()),
        parent,
        created_at,
        updated_at,
        extra: c.extra.clone(),
        key: k,
    };
    (r, problems)
}

/// A Help Center article, its translations and its attachments' records and downloads.
pub fn article(
    a: &wire::Article,
    translations: Vec<Value>,
    files: &[wire::ArticleAttachment],
) -> (Article, Vec<Attachment>, Vec<Download>, Vec<Problem>) {
    let k = key(RecordKind::Article, a.id);
    let mut problems = Vec::new();
    let body_markdown = a
        .body
        .as_deref()
        .and_then(|b| markdown(&k, b, &mut problems).0);
    let mut extra = a.extra.clone();
    extra.insert("translations".into(), Value::Array(translations));
    let created_at = required(&k, "created_at", a.created_at.as_deref(), &mut problems);
    let updated_at = when(&k, "updated_at", a.updated_at.as_deref(), &mut problems);
    let mut attachments = Vec::new();
    let mut downloads = Vec::new();
    for f in files {
        let fk = key(RecordKind::Attachment, f.id);
        attachments.push(Attachment {
            key: fk.clone(),
            owner: k.clone(),
            file_name: f
                .file_name
                .clone()
                .unwrap_or_else(|| format!("attachment-{}", f.id)),
            content_type: f.content_type.clone(),
            size: f.size,
            source_url: f.content_url.clone(),
            blob: None,
            extra: f.extra.clone(),
        });
        if let Some(url) = &f.content_url {
            downloads.push(Download {
                key: fk,
                url: url.clone(),
                content_type: f.content_type.clone(),
            });
        }
    }
    let article = Article {
        title: a.title.clone().unwrap_or_default(),
        description: None,
        body_html: a.body.clone(),
        body_markdown,
        author: a.author_id.map(|u| key(RecordKind::Agent, u)),
        collection: a.section_id.map(section_key),
        state: if a.draft {
            ArticleState::Draft
        } else {
            ArticleState::Published
        },
        created_at,
        updated_at,
        extra,
        key: k,
    };
    (article, attachments, downloads, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(id: u64, t: &str, title: &str) -> wire::Field {
        serde_json::from_value(json!({"id": id, "type": t, "title": title})).unwrap()
    }

    #[test]
    fn custom_ticket_fields_are_named_uniquely_and_typed() {
        let mut system = field(1, "subject", "Subject");
        system.removable = false;
        let fields = TicketFields::new(&[
            system,
            field(3, "integer", "Seats affected"),
            field(4, "decimal", "Seats affected"),
            field(5, "multiselect", "Products"),
            field(6, "lookup", "Related customer"),
        ]);
        assert_eq!(fields.name(1), None, "system fields are not attributes");
        assert_eq!(fields.name(3), Some("seats_affected"));
        assert_eq!(fields.name(4), Some("seats_affected_4"));
        let values: Vec<wire::FieldValue> = serde_json::from_value(json!([
            {"id": 3, "value": "12"}, {"id": 4, "value": "3.50"}, {"id": 5, "value": ["a", "b"]},
            {"id": 9, "value": "x"}, {"id": 6, "value": 10000000003_u64}, {"id": 3, "value": null}
        ]))
        .unwrap();
        let (m, unknown) = fields.values(&values[..5]);
        assert_eq!(
            m["related_customer"],
            json!("10000000003"),
            "a lookup's id is text"
        );
        assert_eq!(m["seats_affected"], json!(12));
        assert_eq!(m["seats_affected_4"], json!(3.5));
        assert_eq!(m["products"], json!(["a", "b"]));
        assert_eq!(unknown, vec![9]);
        assert_eq!(field_type("tagger"), (AttributeType::List, false));
        assert_eq!(field_type("lookup"), (AttributeType::String, false));
    }

    #[test]
    fn every_status_has_a_state() {
        use ConversationState::*;
        for (s, want) in [
            ("new", Open),
            ("open", Open),
            ("pending", Pending),
            ("hold", Pending),
            ("solved", Closed),
            ("closed", Closed),
        ] {
            assert_eq!(state(s), Some(want), "{s}");
        }
        assert_eq!(state("deleted"), None);
    }

    #[test]
    fn macros_keep_their_placeholders() {
        let m: wire::Macro = serde_json::from_value(json!({
            "id": 7, "title": "Hello",
            "actions": [{"field": "comment_value_html", "value": "<p>Hi {{ticket.requester.first_name}},</p>"}],
        }))
        .unwrap();
        let (r, problems) = macro_(&m);
        assert!(problems.is_empty());
        assert!(
            r.body_markdown
                .unwrap()
                .contains("{{ticket.requester.first_name}}"),
            "placeholders survive the conversion"
        );
    }
}
