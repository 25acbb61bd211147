//! Canonical records built from the synthetic world the way a source would build them, and
//! the world's attachment bytes put into a blob store. The world stays the oracle: tests
//! compare what Chatwoot holds with `deskmove_synth` values, not with these records.

use bytes::Bytes;
use deskmove_core::model::{
    Agent, Attachment, AttributeDefinition, AttributeModel, AttributeType, Author, AuthorKind,
    BlobRef, Contact, ContactRole, Conversation, ConversationState, Event, Macro, Message,
    MessageKind, Tag, Team, Timestamp,
};
use deskmove_core::normalize::{PhoneNormalizer, email, html};
use deskmove_core::{Record, RecordKind, SourceKey};
use deskmove_store::{BlobStore, MemoryStore};
use deskmove_synth as synth;

pub const SYSTEM: &str = "synth";

fn key(kind: RecordKind, id: impl Into<String>) -> SourceKey {
    SourceKey::new(SYSTEM, kind, id)
}

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

/// The key of message `position` (0 = the conversation's first message) of conversation
/// `index`: zero-padded so the engine's key order is the conversation's order.
pub fn message_id(index: u64, position: u64) -> String {
    format!("{index:010}-{position:05}")
}

pub fn markdown(html_body: &str) -> String {
    html::to_markdown(html_body)
        .map(|c| c.markdown)
        .unwrap_or_else(|_| html_body.to_owned())
}

fn attr(v: &synth::AttrValue) -> serde_json::Value {
    match v {
        synth::AttrValue::Str(s) => s.clone().into(),
        synth::AttrValue::Int(i) => (*i).into(),
        synth::AttrValue::Float(f) => (*f).into(),
        synth::AttrValue::Bool(b) => (*b).into(),
    }
}

fn author(a: &synth::Author, v: &synth::View<'_>, conv_contact: u64) -> Author {
    match a {
        synth::Author::Contact(i) => Author {
            kind: AuthorKind::Contact,
            key: v.contact(*i).map(|c| key(RecordKind::Contact, c.id)),
            name: None,
            email: None,
        },
        synth::Author::Agent(i) => Author {
            kind: AuthorKind::Agent,
            key: v.agent(*i).map(|x| key(RecordKind::Agent, x.id)),
            name: v.agent(*i).map(|x| x.name),
            email: v.agent(*i).map(|x| x.email),
        },
        synth::Author::Bot(_) | synth::Author::Automation(_) => Author {
            kind: AuthorKind::Bot,
            key: None,
            name: Some("Operator".into()),
            email: None,
        },
        synth::Author::Team(_) => {
            let _ = conv_contact;
            Author {
                kind: AuthorKind::System,
                key: None,
                name: None,
                email: None,
            }
        }
    }
}

/// Options for building records.
#[derive(Debug, Clone, Copy)]
pub struct Build {
    /// Include agents and teams (matched to the seeded users by email and name).
    pub directory: bool,
    /// Include attachments (and put their bytes into the blob store).
    pub attachments: bool,
}

/// Every record of `world`, in load order, with attachment bytes stored in `blobs`.
pub async fn records(world: &synth::World, blobs: &BlobStore, build: Build) -> Vec<Record> {
    let v = world.view();
    let index = MemoryStore::new();
    let mut out = directory(&v, build);
    for i in 0..v.conversation_count() {
        out.extend(conversation(&v, i, blobs, &index, build).await);
    }
    out
}

/// Agents, teams, tags, attribute definitions, contacts and macros of the world.
pub fn directory(v: &synth::View<'_>, build: Build) -> Vec<Record> {
    let mut out = Vec::new();
    let phones = PhoneNormalizer::new(Some("US")).unwrap();
    if build.directory {
        for i in 0..v.agent_count() {
            let a = v.agent(i).unwrap();
            out.push(Record::Agent(Agent {
                key: key(RecordKind::Agent, a.id),
                name: Some(a.name),
                email: Some(a.email.to_lowercase()),
                active: !a.departed,
                extra: Default::default(),
            }));
        }
        for i in 0..v.team_count() {
            let t = v.team(i).unwrap();
            out.push(Record::Team(Team {
                key: key(RecordKind::Team, t.id),
                name: t.name,
                members: t
                    .agent_indexes
                    .iter()
                    .filter_map(|a| v.agent(*a).map(|a| key(RecordKind::Agent, a.id)))
                    .collect(),
                extra: Default::default(),
            }));
        }
    }
    for i in 0..v.tag_count() {
        let t = v.tag(i).unwrap();
        out.push(Record::Tag(Tag {
            key: key(RecordKind::Tag, t.id),
            name: t.name,
            extra: Default::default(),
        }));
    }
    for i in 0..v.attribute_count() {
        let d = v.attribute(i).unwrap();
        out.push(Record::AttributeDefinition(AttributeDefinition {
            key: key(RecordKind::AttributeDefinition, d.id.to_string()),
            model: match d.model {
                synth::AttributeModel::Contact => AttributeModel::Contact,
                synth::AttributeModel::Company => AttributeModel::Company,
            },
            name: d.name,
            label: Some(d.label),
            data_type: match d.data_type {
                synth::AttributeType::String => AttributeType::String,
                synth::AttributeType::Integer => AttributeType::Integer,
                synth::AttributeType::Float => AttributeType::Float,
                synth::AttributeType::Boolean => AttributeType::Boolean,
                synth::AttributeType::Date => AttributeType::Date,
                synth::AttributeType::List => AttributeType::List,
            },
            options: d.options,
            description: None,
            archived: d.archived,
            extra: Default::default(),
        }));
    }
    for i in 0..v.contact_count() {
        let c = v.contact(i).unwrap();
        let e = c.email.as_deref().map(email::normalize);
        let p = c.phone.as_deref().map(|p| phones.normalize(p));
        out.push(Record::Contact(Contact {
            key: key(RecordKind::Contact, c.id),
            role: if c.role == synth::Role::Lead {
                ContactRole::Lead
            } else {
                ContactRole::User
            },
            name: c.name,
            email: e.as_ref().and_then(|e| e.value.clone()),
            email_original: c.email.clone(),
            phone: p.as_ref().and_then(|p| p.e164.clone()),
            phone_original: c.phone.clone(),
            external_id: c.external_id,
            companies: vec![],
            tags: c
                .tags
                .iter()
                .filter_map(|t| v.tag(*t).map(|t| key(RecordKind::Tag, t.id)))
                .collect(),
            attributes: c
                .custom_attributes
                .iter()
                .map(|(k, v)| (k.clone(), attr(v)))
                .collect(),
            avatar_url: None,
            created_at: at(c.created_at),
            updated_at: Some(at(c.updated_at)),
            last_seen_at: c.last_seen_at.map(at),
            extra: Default::default(),
        }));
    }
    for i in 0..v.macro_count() {
        let m = v.macro_(i).unwrap();
        out.push(Record::Macro(Macro {
            key: key(RecordKind::Macro, m.id),
            name: m.name,
            body_markdown: Some(markdown(&m.body_template)),
            body_html: Some(m.body_template),
            created_at: Some(at(m.created_at)),
            updated_at: Some(at(m.updated_at)),
            extra: Default::default(),
        }));
    }
    out
}

/// Conversation `i` with its messages and attachments, as a source would stage them.
pub async fn conversation(
    v: &synth::View<'_>,
    i: u64,
    blobs: &BlobStore,
    index: &MemoryStore,
    build: Build,
) -> Vec<Record> {
    let mut out = Vec::new();
    let mut messages = Vec::new();
    let mut attachments = Vec::new();
    let c = v.conversation(i).unwrap();
    let ck = key(RecordKind::Conversation, c.id.clone());
    let contact = v.contact(c.contact).unwrap();
    out.push(Record::Conversation(Conversation {
        key: ck.clone(),
        subject: c.title.clone(),
        contacts: vec![key(RecordKind::Contact, contact.id)],
        assignee: c
            .agent_assignee
            .filter(|_| build.directory)
            .and_then(|a| v.agent(a).map(|a| key(RecordKind::Agent, a.id))),
        team: c
            .team_assignee
            .filter(|_| build.directory)
            .and_then(|t| v.team(t).map(|t| key(RecordKind::Team, t.id))),
        state: match c.state {
            synth::ConvState::Open => ConversationState::Open,
            synth::ConvState::Snoozed => ConversationState::Snoozed,
            synth::ConvState::Closed => ConversationState::Closed,
        },
        snoozed_until: c.snoozed_until.map(at),
        priority: Some(c.priority.to_owned()),
        tags: c
            .tags
            .iter()
            .filter_map(|t| v.tag(*t).map(|t| key(RecordKind::Tag, t.id)))
            .collect(),
        attributes: Default::default(),
        source_message_count: Some(c.parts.len() as u64 + 1),
        created_at: at(c.created_at),
        updated_at: Some(at(c.updated_at)),
        extra: Default::default(),
    }));
    // The first message, then every part.
    let first = (
        message_id(i, 0),
        MessageKind::Reply,
        author(&synth::Author::Contact(c.contact), v, c.contact),
        Some(c.source_body.clone()),
        c.source_attachments.clone(),
        c.created_at,
        None,
    );
    let parts = c.parts.iter().map(|p| {
        let kind = match p.kind {
            synth::PartKind::Note => MessageKind::Note,
            k if k.is_message() => MessageKind::Reply,
            _ => MessageKind::Event,
        };
        let event = (kind == MessageKind::Event).then(|| Event {
            action: format!("{:?}", p.kind).to_lowercase(),
            assigned_to: None,
            detail: Default::default(),
        });
        (
            message_id(i, u64::from(p.position) + 1),
            kind,
            author(&p.author, v, c.contact),
            p.body.clone(),
            p.attachments.clone(),
            p.created_at,
            event,
        )
    });
    for (id, kind, author, body, files, created, event) in std::iter::once(first).chain(parts) {
        let mk = key(RecordKind::Message, id);
        let mut att_keys = Vec::new();
        if build.attachments {
            for f in &files {
                let bytes = v.attachment_bytes(f);
                let meta = blobs
                    .put(index, Bytes::from(bytes), Some(f.content_type))
                    .await
                    .unwrap();
                let ak = key(RecordKind::Attachment, f.id.to_string());
                att_keys.push(ak.clone());
                attachments.push(Record::Attachment(Attachment {
                    key: ak,
                    owner: mk.clone(),
                    file_name: f.name.clone(),
                    content_type: Some(f.content_type.to_owned()),
                    size: Some(f.size),
                    source_url: None,
                    blob: Some(BlobRef {
                        hash: meta.hash,
                        size: meta.size,
                    }),
                    extra: Default::default(),
                }));
            }
        }
        messages.push(Record::Message(Message {
            key: mk,
            conversation: ck.clone(),
            kind,
            author,
            body_markdown: body.as_deref().map(markdown),
            body_html: body,
            inline_images: vec![],
            event,
            attachments: att_keys,
            created_at: at(created),
            updated_at: None,
            extra: Default::default(),
        }));
    }
    out.extend(messages);
    out.extend(attachments);
    out
}
