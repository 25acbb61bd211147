//! The preflight refuses what it must, naming what to change.

use deskmove_chatwoot::load::{PostgresOptions, PostgresTarget};
use deskmove_core::{Classify, ErrorKind, Record, RecordKind, SourceKey, Target};
use deskmove_engine::LedgerRefs;
use deskmove_store::BlobStore;

use crate::support::{ACCOUNT, INBOX, TestDb, VERSION};

fn a_tag() -> Vec<Record> {
    vec![Record::Tag(deskmove_core::model::Tag {
        key: SourceKey::new("synth", RecordKind::Tag, "1"),
        name: "billing".into(),
        extra: Default::default(),
    })]
}

#[tokio::test]
async fn a_supported_schema_passes_and_creates_the_provenance_table() {
    let db = TestDb::new().await;
    let blobs = BlobStore::local(db.blobs_dir()).unwrap();
    let pre = db.target(&blobs).preflight().await.unwrap();
    assert!(pre.ok(), "{:?}", pre.refusals);
    let c = db.client().await;
    let n: i64 = c
        .query_one("SELECT count(*) FROM deskmove.provenance", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn an_unsupported_schema_version_is_refused_unless_overridden() {
    let db = TestDb::new().await;
    let c = db.client().await;
    c.batch_execute("INSERT INTO schema_migrations VALUES ('20270101000000')")
        .await
        .unwrap();
    let blobs = BlobStore::local(db.blobs_dir()).unwrap();
    let target = db.target(&blobs);
    let pre = target.preflight().await.unwrap();
    assert!(!pre.ok());
    let all = pre.refusals.join(" ");
    assert!(
        all.contains("20270101000000") && all.contains(VERSION),
        "{all}"
    );
    assert!(all.contains("allow_unsupported_schema"), "{all}");
    // A load refuses to write too, even without an explicit preflight.
    let fresh = db.target(&blobs);
    let err = fresh
        .load(RecordKind::Tag, &a_tag(), &LedgerRefs::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let labels: i64 = c
        .query_one("SELECT count(*) FROM labels", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(labels, 0, "nothing written");

    let mut options = db.options();
    options.allow_unsupported_schema = true;
    let pre = PostgresTarget::new(options, blobs.clone())
        .unwrap()
        .preflight()
        .await
        .unwrap();
    assert!(pre.ok(), "{:?}", pre.refusals);
    assert!(pre.warnings.iter().any(|w| w.contains("20270101000000")));
}

#[tokio::test]
async fn a_missing_or_retyped_column_is_refused_by_name() {
    let db = TestDb::new().await;
    let c = db.client().await;
    c.batch_execute(
        "ALTER TABLE messages DROP COLUMN processed_message_content;
         ALTER TABLE conversations ALTER COLUMN cached_label_list TYPE varchar(200);",
    )
    .await
    .unwrap();
    let blobs = BlobStore::local(db.blobs_dir()).unwrap();
    let mut options = db.options();
    options.allow_unsupported_schema = true;
    let pre = PostgresTarget::new(options, blobs)
        .unwrap()
        .preflight()
        .await
        .unwrap();
    let all = pre.refusals.join(" ");
    assert!(
        all.contains("messages.processed_message_content is missing"),
        "{all}"
    );
    assert!(
        all.contains("conversations.cached_label_list is character varying, not text"),
        "{all}"
    );
}

#[tokio::test]
async fn a_missing_account_or_inbox_is_refused() {
    let db = TestDb::new().await;
    let blobs = BlobStore::local(db.blobs_dir()).unwrap();
    let options = PostgresOptions::new(db.url.clone(), ACCOUNT + 1, INBOX, db.storage());
    let pre = PostgresTarget::new(options, blobs.clone())
        .unwrap()
        .preflight()
        .await
        .unwrap();
    assert!(
        pre.refusals.iter().any(|r| r.contains("no account 2")),
        "{:?}",
        pre.refusals
    );
    let options = PostgresOptions::new(db.url.clone(), ACCOUNT, 99, db.storage());
    let pre = PostgresTarget::new(options, blobs)
        .unwrap()
        .preflight()
        .await
        .unwrap();
    assert!(
        pre.refusals.iter().any(|r| r.contains("no inbox 99")),
        "{:?}",
        pre.refusals
    );
}

#[test]
fn the_url_is_never_printed() {
    let o = PostgresOptions::new(
        "postgres://chatwoot:s3cret@db.example.com/chatwoot",
        1,
        1,
        "/tmp/x",
    );
    let shown = format!("{o:?}");
    assert!(!shown.contains("s3cret") && shown.contains("redacted"));
    let t = PostgresTarget::new(o, BlobStore::local(std::env::temp_dir()).unwrap()).unwrap();
    assert!(!format!("{t:?}").contains("s3cret"));
    assert_eq!(
        t.instance().to_string(),
        "chatwoot/db.example.com:5432/chatwoot/1/postgres"
    );
}
