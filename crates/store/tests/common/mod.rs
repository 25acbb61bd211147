//! Fixtures shared by the store tests: record builders and store factories.
#![allow(dead_code)]

use deskmove_core::connector::TargetInstance;
use deskmove_core::model::{Agent, Contact, ContactRole, Tag};
use deskmove_core::{ErrorKind, Problem, Record, RecordKind, SourceKey, Stage};
use deskmove_store::{
    LedgerEntry, MemoryStore, NewRun, Outcome, RawPayload, RunId, SqliteStore, StagedBatch,
};
use tempfile::TempDir;

pub fn t(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

pub fn key(kind: RecordKind, id: &str) -> SourceKey {
    SourceKey::new("intercom", kind, id)
}

pub fn tag(id: &str, name: &str) -> Record {
    Record::Tag(Tag {
        key: key(RecordKind::Tag, id),
        name: name.to_owned(),
        extra: Default::default(),
    })
}

pub fn agent(id: &str, email: &str) -> Record {
    Record::Agent(Agent {
        key: key(RecordKind::Agent, id),
        name: Some(format!("Agent {id}")),
        email: Some(email.to_owned()),
        active: true,
        extra: Default::default(),
    })
}

pub fn contact(id: &str, email: &str, updated: &str) -> Record {
    let mut extra = serde_json::Map::new();
    extra.insert("browser_language".into(), "de".into());
    extra.insert(
        "z_custom".into(),
        serde_json::json!({"b": 2, "a": [1, 2.5, null]}),
    );
    Record::Contact(Contact {
        key: key(RecordKind::Contact, id),
        role: ContactRole::User,
        name: Some("Zoë Müller".into()),
        email: Some(email.to_owned()),
        email_original: Some(format!(" {email} ")),
        phone: None,
        phone_original: Some("not a phone".into()),
        external_id: None,
        companies: vec![],
        tags: vec![key(RecordKind::Tag, "1")],
        attributes: Default::default(),
        avatar_url: None,
        created_at: t("2021-03-04T05:06:07Z"),
        updated_at: Some(t(updated)),
        last_seen_at: None,
        extra,
    })
}

pub fn problem(k: &SourceKey, stage: Stage, code: &str) -> Problem {
    Problem::new(
        k.clone(),
        stage,
        ErrorKind::Validation,
        code,
        format!("{code} on {}", k.id),
    )
}

pub fn raw_of(record: &Record) -> RawPayload {
    // Vendor JSON as received: deliberately not canonical (spacing, key order).
    RawPayload::new(
        record.key().clone(),
        format!("{{ \"id\": \"{}\", \"type\" : \"x\" }}", record.key().id),
    )
}

/// A batch holding `records`, their raw payloads and `cursor`.
pub fn batch(run: RunId, stream: &str, cursor: Option<&str>, records: Vec<Record>) -> StagedBatch {
    let mut b = StagedBatch::new(run, stream);
    b.cursor = cursor.map(str::to_owned);
    b.raw = records.iter().map(raw_of).collect();
    b.records = records;
    b
}

pub fn new_run(command: &str) -> NewRun {
    NewRun {
        command: command.into(),
        source_system: Some("intercom".into()),
        target_system: Some("chatwoot".into()),
        target: Some(chatwoot()),
        started_at: t("2026-01-02T03:04:05Z"),
    }
}

/// The target instance most tests load into: Chatwoot account 1 through the API.
pub fn chatwoot() -> TargetInstance {
    TargetInstance::new("chatwoot", "chatwoot.example.com", "1", "api")
}

pub fn loaded(k: &SourceKey, run: RunId, target_id: &str, hash: &str) -> LedgerEntry {
    LedgerEntry {
        key: k.clone(),
        target: chatwoot(),
        target_id: Some(target_id.into()),
        content_hash: Some(deskmove_core::ContentHash(hash.into())),
        outcome: Outcome::Loaded,
        run,
    }
}

pub fn memory() -> (MemoryStore, Option<TempDir>) {
    (MemoryStore::new(), None)
}

pub fn sqlite() -> (SqliteStore, Option<TempDir>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("staging.db")).unwrap();
    (store, Some(dir))
}

pub fn message(id: &str, conversation: &str) -> Record {
    use deskmove_core::model::{Author, AuthorKind, Event, Message, MessageKind};
    Record::Message(Message {
        key: key(RecordKind::Message, id),
        conversation: key(RecordKind::Conversation, conversation),
        kind: MessageKind::Event,
        author: Author {
            kind: AuthorKind::Bot,
            key: None,
            name: Some("Fin".into()),
            email: None,
        },
        body_html: Some("<p>Assigned to <b>Ana</b></p>".into()),
        body_markdown: Some("Assigned to **Ana**".into()),
        inline_images: vec!["https://downloads.intercomcdn.com/i/o/1/a.png".into()],
        event: Some(Event {
            action: "assignment".into(),
            assigned_to: Some(key(RecordKind::Agent, "42")),
            detail: Default::default(),
        }),
        attachments: vec![key(RecordKind::Attachment, "9")],
        created_at: t("2023-07-08T09:10:11.123Z"),
        updated_at: Some(t("2023-07-08T09:10:12Z")),
        extra: Default::default(),
    })
}

pub fn conversation(id: &str) -> Record {
    use deskmove_core::model::{Conversation, ConversationState};
    Record::Conversation(Conversation {
        key: key(RecordKind::Conversation, id),
        subject: Some("Refund".into()),
        contacts: vec![key(RecordKind::Contact, "7")],
        assignee: Some(key(RecordKind::Agent, "42")),
        team: None,
        state: ConversationState::Snoozed,
        snoozed_until: Some(t("2030-01-01T00:00:00Z")),
        priority: Some("priority".into()),
        tags: vec![],
        attributes: Default::default(),
        source_message_count: Some(501),
        created_at: t("2023-07-08T09:00:00Z"),
        updated_at: None,
        extra: Default::default(),
    })
}

pub fn attachment(id: &str) -> Record {
    use deskmove_core::model::{Attachment, BlobRef};
    Record::Attachment(Attachment {
        key: key(RecordKind::Attachment, id),
        owner: key(RecordKind::Message, "m1"),
        file_name: "invoice.pdf".into(),
        content_type: Some("application/pdf".into()),
        size: Some(4),
        source_url: None,
        blob: Some(BlobRef {
            hash: "ab".repeat(32),
            size: 4,
        }),
        extra: Default::default(),
    })
}
