//! A small canonical world for the doubles: deterministic, with every kind of reference a load
//! must resolve (conversation → contact, assignee, tag; message → conversation, author;
//! attachment → message) and attachment bytes.

use std::collections::BTreeMap;

use bytes::Bytes;
use deskmove_core::model::{
    Agent, Attachment, Author, AuthorKind, Contact, ContactRole, Conversation, ConversationState,
    Message, MessageKind, Tag, Timestamp,
};
use deskmove_core::{Record, RecordKind, SourceKey};

/// Canonical records plus the bytes of their attachments.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// Every record, in load order.
    pub records: Vec<Record>,
    /// Attachment bytes by attachment key.
    pub files: BTreeMap<SourceKey, Bytes>,
}

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + second).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A world of `system` with `conversations` conversations, each with a contact, two messages
/// (a contact reply and an agent reply) and one attachment on the first message.
pub fn world(system: &str, conversations: usize) -> World {
    let key = |kind, id: String| SourceKey::new(system, kind, id);
    let mut w = World::default();
    let agents: Vec<SourceKey> = (1..=2)
        .map(|i| key(RecordKind::Agent, format!("a{i}")))
        .collect();
    for (i, k) in agents.iter().enumerate() {
        w.records.push(Record::Agent(Agent {
            key: k.clone(),
            name: Some(format!("Agent {i}")),
            email: Some(format!("agent{i}@example.com")),
            active: i == 0,
            extra: Default::default(),
        }));
    }
    let tags: Vec<SourceKey> = (1..=2)
        .map(|i| key(RecordKind::Tag, format!("t{i}")))
        .collect();
    for (i, k) in tags.iter().enumerate() {
        w.records.push(Record::Tag(Tag {
            key: k.clone(),
            name: format!("tag {i}"),
            extra: Default::default(),
        }));
    }
    for c in 0..conversations {
        let contact = key(RecordKind::Contact, format!("p{c:03}"));
        w.records.push(Record::Contact(Contact {
            key: contact.clone(),
            role: ContactRole::User,
            name: Some(format!("Contact {c}")),
            email: Some(format!("c{c}@example.org")),
            email_original: None,
            phone: None,
            phone_original: None,
            external_id: Some(format!("ext-{c}")),
            companies: vec![],
            tags: vec![tags[c % 2].clone()],
            attributes: Default::default(),
            avatar_url: None,
            created_at: at(c as i64),
            updated_at: None,
            last_seen_at: None,
            extra: Default::default(),
        }));
        let conv = key(RecordKind::Conversation, format!("c{c:03}"));
        w.records.push(Record::Conversation(Conversation {
            key: conv.clone(),
            subject: Some(format!("Question {c}")),
            contacts: vec![contact.clone()],
            assignee: Some(agents[c % 2].clone()),
            team: None,
            state: if c % 3 == 0 {
                ConversationState::Closed
            } else {
                ConversationState::Open
            },
            snoozed_until: None,
            priority: None,
            tags: vec![tags[(c + 1) % 2].clone()],
            attributes: Default::default(),
            source_message_count: Some(2),
            created_at: at(c as i64 * 10),
            updated_at: None,
            extra: Default::default(),
        }));
        for m in 0..2 {
            let msg = key(RecordKind::Message, format!("c{c:03}-m{m}"));
            let (kind, author) = if m == 0 {
                (AuthorKind::Contact, contact.clone())
            } else {
                (AuthorKind::Agent, agents[c % 2].clone())
            };
            let attachments = if m == 0 {
                vec![key(RecordKind::Attachment, format!("c{c:03}-f"))]
            } else {
                vec![]
            };
            w.records.push(Record::Message(Message {
                key: msg.clone(),
                conversation: conv.clone(),
                kind: MessageKind::Reply,
                author: Author {
                    kind,
                    key: Some(author),
                    name: None,
                    email: None,
                },
                body_html: Some(format!("<p>message {m} of {c}</p>")),
                body_markdown: Some(format!("message {m} of {c}")),
                inline_images: vec![],
                event: None,
                attachments: attachments.clone(),
                created_at: at(c as i64 * 10 + m),
                updated_at: None,
                extra: Default::default(),
            }));
            for a in attachments {
                let bytes = Bytes::from(format!("file of conversation {c}\n").repeat(40));
                w.records.push(Record::Attachment(Attachment {
                    key: a.clone(),
                    owner: msg.clone(),
                    file_name: format!("c{c}.txt"),
                    content_type: Some("text/plain".into()),
                    size: Some(bytes.len() as u64),
                    source_url: Some(format!("https://files.example.com/{c}")),
                    blob: None,
                    extra: Default::default(),
                }));
                w.files.insert(a, bytes);
            }
        }
    }
    w.records.sort_by_key(|r| {
        let k = r.key();
        (
            RecordKind::ALL.iter().position(|x| *x == k.kind),
            k.id.clone(),
        )
    });
    w
}
