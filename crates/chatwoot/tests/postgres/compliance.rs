//! The R2.0 target compliance harness on this path: exactly once after faults and crashes
//! between a commit and the ledger's, nothing written on a re-run, rollback complete.

use std::collections::BTreeSet;
use std::sync::Arc;

use deskmove_chatwoot::load::{PostgresOptions, PostgresTarget};
use deskmove_core::model::{Author, AuthorKind, Message, MessageKind, Timestamp};
use deskmove_core::{Record, RecordKind, SourceKey};
use deskmove_engine::testkit::{Staging, TargetFixture, assert_target_compliance};
use deskmove_store::{BlobStore, MemoryStore};
use deskmove_synth::{World, WorldConfig};

use crate::support::{ACCOUNT, INBOX, Inspector, TestDb};
use crate::world::{self, Build};

#[tokio::test]
async fn the_postgres_path_passes_the_target_compliance_harness() {
    let files = tempfile::TempDir::new().unwrap();
    let blobs = BlobStore::local(files.path().join("blobs")).unwrap();
    let w = World::new(WorldConfig::new(11, 6, 8));
    let mut records = world::records(
        &w,
        &blobs,
        Build {
            directory: false,
            attachments: true,
        },
    )
    .await;
    // A message whose conversation does not exist: refused with a problem, never written.
    let orphan = SourceKey::new("synth", RecordKind::Message, "orphan");
    records.push(Record::Message(Message {
        key: orphan.clone(),
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
    }));
    let fixture = TargetFixture {
        records,
        refused: BTreeSet::from([orphan]),
    };
    // Databases outlive the inspectors that point at them until the test ends.
    let dbs = Arc::new(std::sync::Mutex::new(Vec::new()));
    let report = assert_target_compliance(
        || {
            let dbs = dbs.clone();
            async move {
                let db = TestDb::new().await;
                let inspector = Inspector::of(&db);
                dbs.lock().unwrap().push(db);
                inspector
            }
        },
        |i: &Inspector| {
            PostgresTarget::new(
                PostgresOptions::new(i.url.clone(), ACCOUNT, INBOX, i.storage.clone()),
                blobs.clone(),
            )
            .unwrap()
        },
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
