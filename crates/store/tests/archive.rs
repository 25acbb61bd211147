//! `SqliteStore::search_archive`: the full-text index over staged conversations follows every
//! committed page (new, changed and replayed records) and survives reopening the file.

use deskmove_core::model::{Attachment, Message};
use deskmove_core::{Record, RecordKind};
use deskmove_store::{SqliteStore, Store};

use crate::common::*;

fn message_with(id: &str, conversation: &str, body: &str) -> Record {
    let Record::Message(m) = message(id, conversation) else {
        unreachable!()
    };
    Record::Message(Message {
        body_markdown: Some(body.into()),
        body_html: Some(format!("<p>{body}</p>")),
        ..m
    })
}

fn file(id: &str, owner: &str, name: &str) -> Record {
    let Record::Attachment(a) = attachment(id) else {
        unreachable!()
    };
    Record::Attachment(Attachment {
        owner: key(RecordKind::Message, owner),
        file_name: name.into(),
        ..a
    })
}

#[tokio::test]
async fn planted_words_in_bodies_and_file_names_are_found_with_their_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staging.db");
    let store = SqliteStore::open(&path).unwrap();
    let run = store.start_run(new_run("export")).await.unwrap();
    let page = vec![
        contact("7", "zoe@example.com", "2024-01-01T00:00:00Z"),
        conversation("c1"),
        message_with("m1", "c1", "Hello, the parcel arrived crushed."),
        message_with(
            "m2",
            "c1",
            "Sorry! Your café voucher code is ZEBRA-QUANTUM-42.",
        ),
        file("f1", "m2", "quarterly-zeppelin-report.pdf"),
        conversation("c2"),
        message_with("m3", "c2", "Nothing to see here."),
    ];
    store
        .put_batch(batch(run, "s", Some("1"), page.clone()))
        .await
        .unwrap();

    // A body: words in any case, accents folded, one hit per conversation.
    let hits = store.search_archive("zebra QUANTUM", 10).await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    let hit = &hits[0];
    assert_eq!(hit.conversation, key(RecordKind::Conversation, "c1"));
    assert_eq!(hit.matched, key(RecordKind::Message, "m2"));
    assert_eq!(hit.contact, Some(key(RecordKind::Contact, "7")));
    assert_eq!(hit.contact_email.as_deref(), Some("zoe@example.com"));
    assert_eq!(hit.subject.as_deref(), Some("Refund"));
    assert_eq!(hit.created_at, Some(t("2023-07-08T09:00:00Z")));
    assert!(hit.snippet.contains("**ZEBRA**"), "{}", hit.snippet);
    assert_eq!(store.search_archive("cafe", 10).await.unwrap().len(), 1);

    // An attachment's file name, typed as it is (punctuation is searched for, not parsed).
    let hits = store
        .search_archive("zeppelin-report.pdf", 10)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].conversation, key(RecordKind::Conversation, "c1"));
    assert_eq!(hits[0].matched, key(RecordKind::Attachment, "f1"));

    // A subject matches both conversations; the limit holds.
    assert_eq!(store.search_archive("refund", 10).await.unwrap().len(), 2);
    assert_eq!(store.search_archive("refund", 1).await.unwrap().len(), 1);
    assert!(
        store
            .search_archive("zeppelin zebra parcel", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.search_archive("   ", 10).await.is_err());

    // A changed message is re-indexed in the page's own transaction; a replay changes nothing.
    let mut changed = page.clone();
    changed[3] = message_with("m2", "c1", "Voucher withdrawn after review.");
    store
        .put_batch(batch(run, "s", Some("2"), changed.clone()))
        .await
        .unwrap();
    store
        .put_batch(batch(run, "s", Some("2"), changed))
        .await
        .unwrap();
    assert!(store.search_archive("zebra", 10).await.unwrap().is_empty());
    let hits = store.search_archive("withdrawn", 10).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].matched, key(RecordKind::Message, "m2"));

    // The index is left out of the dump (derived data), and it lives in the file.
    let dump = store.dump().await.unwrap();
    assert!(
        dump.tables.keys().all(|t| !t.starts_with("archive")),
        "{:?}",
        dump.tables.keys()
    );
    store.close().unwrap();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.search_archive("withdrawn", 10).await.unwrap().len(),
        1
    );
    assert_eq!(store.search_archive("zeppelin", 10).await.unwrap().len(), 1);
    store.close().unwrap();
}

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

#[tokio::test]
async fn a_store_staged_before_the_index_existed_is_indexed_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staging.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        embedded::migrations::runner()
            .set_target(refinery::Target::Version(3))
            .run(&mut conn)
            .unwrap();
        let body = serde_json::json!({
            "key": {"system": "intercom", "kind": "message", "id": "m9"},
            "conversation": {"system": "intercom", "kind": "conversation", "id": "c9"},
            "body_markdown": "an old heliotrope complaint",
        });
        conn.execute_batch(&format!(
            "INSERT INTO runs (id, command, started_at, status)
             VALUES (1, 'export', '2025-01-01T00:00:00Z', 'succeeded');
             INSERT INTO records (kind, system, id, hash, body, run_id)
             VALUES ('message', 'intercom', 'm9', 'h', '{body}', 1);"
        ))
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let hits = store.search_archive("heliotrope", 5).await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].conversation, key(RecordKind::Conversation, "c9"));
    // The conversation itself was never staged: the hit says only what is known.
    assert_eq!((hits[0].subject.as_ref(), hits[0].created_at), (None, None));
    store.close().unwrap();
}
