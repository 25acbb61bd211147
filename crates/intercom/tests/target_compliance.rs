//! The R2.0 target compliance harness on the Intercom target: each record exactly once after
//! faults, lost answers and crashes between a write and its ledger commit; nothing written on a
//! re-run; rollback complete.

use std::collections::BTreeSet;

use deskmove_core::model::{Author, AuthorKind, Message, MessageKind, Timestamp};
use deskmove_core::{Record, RecordKind, SourceKey};
use deskmove_engine::testkit::{Staging, TargetFixture, assert_target_compliance};
use deskmove_store::{BlobStore, MemoryStore};
use deskmove_synth::{World, WorldConfig};

use crate::target_support::{self as support, Inspector};
use crate::target_world::{self as world, Build};

fn orphan() -> Record {
    Record::Message(Message {
        key: SourceKey::new("synth", RecordKind::Message, "orphan"),
        conversation: SourceKey::new("synth", RecordKind::Conversation, "missing"),
        kind: MessageKind::Reply,
        author: Author {
            kind: AuthorKind::System,
            key: None,
            name: None,
            email: None,
        },
        body_html: None,
        body_markdown: Some("lost".into()),
        inline_images: vec![],
        event: None,
        attachments: vec![],
        created_at: Timestamp::from_second(1_700_000_000).unwrap(),
        updated_at: None,
        extra: Default::default(),
    })
}

/// The world's tags, contacts, conversations, messages and files; its macros (Intercom has no
/// API for them) and attribute definitions (the sandbox's own world defines them already, and
/// Intercom cannot delete one) left out.
pub async fn fixture_records(w: &World, blobs: &BlobStore) -> Vec<Record> {
    world::records(
        w,
        blobs,
        Build {
            directory: false,
            attachments: true,
        },
    )
    .await
    .into_iter()
    .filter(|r| !matches!(r, Record::Macro(_) | Record::AttributeDefinition(_)))
    // Tag names of their own: the sandbox's world has the same vocabulary, and a tag that was
    // there before is matched, not created (nor removed).
    .map(|r| match r {
        Record::Tag(mut t) => {
            t.name = format!("fixture {}", t.name);
            Record::Tag(t)
        }
        // Emails and ids of their own too: the sandbox's people come from the same name pool,
        // and a contact that was there before is matched, not created.
        Record::Contact(mut c) => {
            c.email = c.email.map(|e| format!("fx.{e}"));
            c.external_id = c.external_id.map(|x| format!("fx-{x}"));
            Record::Contact(c)
        }
        other => other,
    })
    .collect()
}

#[tokio::test]
async fn the_target_passes_the_target_compliance_harness() {
    let files = tempfile::TempDir::new().unwrap();
    let blobs = BlobStore::local(files.path().join("blobs")).unwrap();
    // Another seed than the sandbox's: no contact of the fixture is in the workspace before.
    let w = World::new(WorldConfig::new(11, 5, 8));
    let mut records = fixture_records(&w, &blobs).await;
    records.push(orphan());
    let fixture = TargetFixture {
        refused: BTreeSet::from([orphan().key().clone()]),
        records: records.clone(),
    };
    let report = assert_target_compliance(
        || {
            let records = records.clone();
            async move { Inspector::new(support::sandbox(42).await, &records) }
        },
        |i: &Inspector| support::target(&i.sandbox, &blobs, support::forced()),
        || Staging {
            store: MemoryStore::new(),
            blobs: blobs.clone(),
        },
        &fixture,
        40,
    )
    .await;
    assert!(report.calls >= 5, "{report:?}");
}
