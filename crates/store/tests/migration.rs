//! Stores written by an older schema open with today's code and migrate. The old file is built
//! here with refinery itself, stopping at the old version, so it is byte for byte what that
//! deskmove left (no committed fixture to go stale).

use std::path::Path;

use deskmove_core::connector::TargetInstance;
use deskmove_core::{ContentHash, RecordKind, SourceKey, Stage};
use deskmove_store::{LedgerEntry, LoadBatch, Outcome, RunId, SqliteStore, Store};
use refinery::Target;

use crate::common::*;

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

/// A store file at schema 1 (ledger keyed by vendor name) holding two runs, ledger rows of two
/// vendors, a cursor and a problem, written with schema 1's columns.
fn schema_1_store(path: &Path) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let report = embedded::migrations::runner()
        .set_target(Target::Version(1))
        .run(&mut conn)
        .unwrap();
    assert_eq!(report.applied_migrations().len(), 1);
    conn.execute_batch(
        "INSERT INTO runs (id, command, source_system, target_system, started_at, finished_at, status)
         VALUES (1, 'run', 'intercom', 'chatwoot', '2025-01-01T00:00:00Z', '2025-01-01T01:00:00Z', 'succeeded'),
                (2, 'run', 'intercom', 'chatwoot', '2025-02-01T00:00:00Z', NULL, 'running');
         INSERT INTO ledger (kind, system, id, target_system, target_id, content_hash, outcome, run_id, created_run)
         VALUES ('contact', 'intercom', '7', 'chatwoot', '501', 'h7', 'updated', 2, 1),
                ('contact', 'intercom', '8', 'chatwoot', NULL, NULL, 'failed', 2, NULL),
                ('tag', 'intercom', '1', 'zendesk', '9001', 'h1', 'loaded', 1, 1);
         INSERT INTO cursors (stream, cursor, run_id) VALUES ('intercom/contacts', 'page-3', 1);
         INSERT INTO problems (kind, system, id, stage, code, reason, error_kind, run_id)
         VALUES ('contact', 'intercom', '8', 'load', 'conflict_email', 'taken', 'validation', 2);",
    )
    .unwrap();
}

/// What schema 1's rows become: the vendor they named, nothing else known.
fn unknown(vendor: &str) -> TargetInstance {
    TargetInstance {
        vendor: vendor.into(),
        host: String::new(),
        account: String::new(),
        path: String::new(),
    }
}

fn contact_key(id: &str) -> SourceKey {
    key(RecordKind::Contact, id)
}

fn schema_versions(path: &Path) -> Vec<i64> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut st = conn
        .prepare("SELECT version FROM refinery_schema_history ORDER BY version")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn a_schema_1_store_opens_and_its_ledger_moves_to_the_unknown_instance() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staging.db");
    schema_1_store(&path);
    assert_eq!(schema_versions(&path), [1]);

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(schema_versions(&path), [1, 2, 3, 4, 5, 6]);

    let seven = store
        .ledger(&contact_key("7"), &unknown("chatwoot"))
        .await
        .unwrap();
    assert_eq!(
        seven,
        Some(LedgerEntry {
            key: contact_key("7"),
            target: unknown("chatwoot"),
            target_id: Some("501".into()),
            content_hash: Some(ContentHash("h7".into())),
            outcome: Outcome::Updated,
            run: RunId(2),
        })
    );
    // No real instance takes the old rows for its own.
    assert_eq!(
        store.ledger(&contact_key("7"), &chatwoot()).await.unwrap(),
        None
    );

    let page = store
        .ledger_page(&unknown("chatwoot"), RecordKind::Contact, None, 10)
        .await
        .unwrap();
    let summary: Vec<_> = page
        .iter()
        .map(|e| (e.key.id.as_str(), e.target_id.as_deref(), e.outcome))
        .collect();
    assert_eq!(
        summary,
        [
            ("7", Some("501"), Outcome::Updated),
            ("8", None, Outcome::Failed)
        ]
    );
    // `created_run` survives, so rollback of an old run still finds what it created.
    let created = store
        .created_by(
            RunId(1),
            &unknown("chatwoot"),
            RecordKind::Contact,
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(created, page[..1]);
    let zendesk = store
        .created_by(RunId(1), &unknown("zendesk"), RecordKind::Tag, None, 10)
        .await
        .unwrap();
    assert_eq!(zendesk.len(), 1);
    assert_eq!(
        (zendesk[0].target_id.as_deref(), zendesk[0].outcome),
        (Some("9001"), Outcome::Loaded)
    );

    // Runs keep their vendor names and have no instance; the rest of the store is untouched.
    let runs = store.runs().await.unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.target.is_none()));
    assert_eq!(runs[0].target_system.as_deref(), Some("chatwoot"));
    assert_eq!(runs[0].finished_at, Some(t("2025-01-01T01:00:00Z")));
    assert_eq!(
        store.cursor("intercom/contacts").await.unwrap().as_deref(),
        Some("page-3")
    );
    let problems = store.problems(None, 10).await.unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].problem.stage, Stage::Load);
    let status = store.status(1).await.unwrap();
    let kinds: Vec<_> = status
        .kinds
        .iter()
        .map(|k| (k.kind, k.loaded, k.failed, k.problems))
        .collect();
    assert_eq!(
        kinds,
        [(RecordKind::Tag, 1, 0, 0), (RecordKind::Contact, 1, 1, 1)]
    );

    // New writes work: a run with an instance, entries in a real instance beside the old ones,
    // and an old entry updated in place.
    let run = store.start_run(new_run("run")).await.unwrap();
    assert_eq!(run, RunId(3));
    let mut old = loaded(&contact_key("8"), run, "502", "h8");
    old.target = unknown("chatwoot");
    store
        .put_loads(LoadBatch {
            run,
            entries: vec![loaded(&contact_key("7"), run, "601", "h7"), old],
            problems: vec![],
        })
        .await
        .unwrap();
    let fresh = store
        .ledger(&contact_key("7"), &chatwoot())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((fresh.target_id.as_deref(), fresh.run), (Some("601"), run));
    let seven_again = store
        .ledger(&contact_key("7"), &unknown("chatwoot"))
        .await
        .unwrap();
    assert_eq!(seven_again, seven);
    let eight = store
        .ledger(&contact_key("8"), &unknown("chatwoot"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (eight.target_id.as_deref(), eight.outcome),
        (Some("502"), Outcome::Loaded)
    );
    assert!(
        store.problems(None, 10).await.unwrap().is_empty(),
        "the successful load cleared the old load problem"
    );
    assert_eq!(store.runs().await.unwrap()[2].target, Some(chatwoot()));
    let before = store.dump().await.unwrap();
    store.close().unwrap();

    // Reopening applies nothing more and reads the same.
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(schema_versions(&path), [1, 2, 3, 4, 5, 6]);
    assert_eq!(store.dump().await.unwrap(), before);
    store.close().unwrap();
}

/// The migrated file ends with the same schema as a store created today, so there is one schema
/// to reason about, not one per history.
#[tokio::test]
async fn a_migrated_store_has_the_schema_of_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.db"), dir.path().join("new.db"));
    schema_1_store(&old);
    SqliteStore::open(&old).unwrap().close().unwrap();
    SqliteStore::open(&new).unwrap().close().unwrap();
    let schema = |path: &Path| -> Vec<(String, String, Option<String>)> {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut st = conn
            .prepare(
                "SELECT type, name, sql FROM sqlite_schema
                 WHERE name <> 'refinery_schema_history' ORDER BY type, name",
            )
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let migrated = schema(&old);
    assert_eq!(migrated, schema(&new));
    let indexes: Vec<_> = migrated
        .iter()
        .filter(|(kind, ..)| kind == "index")
        .map(|(_, name, _)| name.as_str())
        .collect();
    assert!(indexes.contains(&"ledger_by_created_run"), "{indexes:?}");
    assert!(
        !migrated
            .iter()
            .any(|(_, name, _)| name == "ledger_by_instance"),
        "the rebuilt table took the old name"
    );
}

/// A message staged by schema 5, as its canonical body.
fn message_body(conversation: &str, id: &str, created_at: &str) -> String {
    use deskmove_core::model::{Author, AuthorKind, Message, MessageKind};
    let message = Message {
        key: SourceKey::new("zendesk", RecordKind::Message, id),
        conversation: SourceKey::new("zendesk", RecordKind::Conversation, conversation),
        kind: MessageKind::Reply,
        author: Author {
            kind: AuthorKind::Contact,
            key: None,
            name: None,
            email: None,
        },
        body_html: None,
        body_markdown: Some(format!("comment {id}")),
        inline_images: vec![],
        event: None,
        attachments: vec![],
        created_at: created_at.parse().unwrap(),
        updated_at: None,
        extra: Default::default(),
    };
    String::from_utf8(deskmove_core::canonical_json(&message).unwrap()).unwrap()
}

/// Messages staged before schema 6 page in thread order once migrated: by conversation, then
/// time (to the millisecond), then id — not in id order.
#[tokio::test]
async fn messages_staged_by_schema_5_page_in_thread_order() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("old.sqlite");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    embedded::migrations::runner()
        .set_target(Target::Version(5))
        .run(&mut conn)
        .unwrap();
    conn.execute(
        "INSERT INTO runs (id, command, started_at, status) VALUES (1, 'export', '2025-01-01T00:00:00Z', 'succeeded')",
        [],
    )
    .unwrap();
    let rows = [
        ("2", "200000", "2024-03-01T10:00:05Z"),
        ("2", "299999", "2024-03-01T10:00:00.250Z"),
        ("2", "100", "2024-03-01T10:00:00Z"),
        ("1", "900", "2024-05-01T00:00:00Z"),
    ];
    for (conversation, id, at) in rows {
        conn.execute(
            "INSERT INTO records (kind, system, id, hash, updated_at, body, run_id)
             VALUES ('message', 'zendesk', ?1, ?2, NULL, ?3, 1)",
            rusqlite::params![id, format!("h{id}"), message_body(conversation, id, at)],
        )
        .unwrap();
    }
    drop(conn);

    let store = SqliteStore::open(&path).unwrap();
    let page = store.messages_in_thread_order(None, 10).await.unwrap();
    let ids: Vec<&str> = page.iter().map(|s| s.record.key().id.as_str()).collect();
    assert_eq!(ids, ["900", "100", "299999", "200000"]);
    let after = deskmove_store::ThreadPosition::of(&page[1].record).unwrap();
    let rest = store
        .messages_in_thread_order(Some(&after), 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 2);
    let thread = store
        .thread_messages(&[SourceKey::new("zendesk", RecordKind::Conversation, "2")])
        .await
        .unwrap();
    let ids: Vec<&str> = thread.iter().map(|s| s.record.key().id.as_str()).collect();
    assert_eq!(ids, ["100", "299999", "200000"]);
}
