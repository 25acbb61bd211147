//! What only the SQLite store has: a private file, survival across reopen, a version-checked
//! schema.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::*;
use deskmove_core::RecordKind;
use deskmove_store::{Durability, SqliteOptions, SqliteStore, Store};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn companion(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    p.into()
}

#[tokio::test]
async fn the_store_and_its_wal_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staging.db");
    let store = SqliteStore::open(&path).unwrap();
    let run = store.start_run(new_run("export")).await.unwrap();
    store
        .put_batch(batch(
            run,
            "intercom/tags",
            Some("1"),
            vec![tag("1", "VIP")],
        ))
        .await
        .unwrap();
    for p in [
        path.clone(),
        companion(&path, "-wal"),
        companion(&path, "-shm"),
    ] {
        assert!(
            p.exists(),
            "{} should exist while the store is open",
            p.display()
        );
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    store.close().unwrap();
    assert_eq!(mode(&path), 0o600);
}

#[tokio::test]
async fn an_existing_world_readable_store_is_made_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staging.db");
    SqliteStore::open(&path).unwrap().close().unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
    store.close().unwrap();
}

#[tokio::test]
async fn data_survives_close_and_reopen_with_full_durability() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staging.db");
    let options = SqliteOptions {
        durability: Durability::Full,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(&path, options.clone()).unwrap();
    let run = store.start_run(new_run("export")).await.unwrap();
    let c = contact("7", "zoe@example.com", "2024-05-06T07:08:09Z");
    store
        .put_batch(batch(run, "intercom/contacts", Some("p3"), vec![c.clone()]))
        .await
        .unwrap();
    let before = store.dump().await.unwrap();
    store.close().unwrap();

    // Re-opening re-runs the (already applied) migrations harmlessly.
    let store = SqliteStore::open_with(&path, options).unwrap();
    assert_eq!(store.dump().await.unwrap(), before);
    assert_eq!(store.record(c.key()).await.unwrap().unwrap().record, c);
    assert_eq!(
        store.cursor("intercom/contacts").await.unwrap().as_deref(),
        Some("p3")
    );
    assert_eq!(
        store
            .records(RecordKind::Contact, None, 9)
            .await
            .unwrap()
            .len(),
        1
    );
    store.close().unwrap();
}

#[tokio::test]
async fn a_file_that_is_not_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "this is not a database, and it is long enough to have a header......",
    )
    .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert_eq!(
        deskmove_core::Classify::kind(&err),
        deskmove_core::ErrorKind::Storage,
        "{err}"
    );
}

#[tokio::test]
async fn a_store_from_a_newer_deskmove_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staging.db");
    SqliteStore::open(&path).unwrap().close().unwrap();
    // What a future schema version would leave in refinery's history table.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
         VALUES (99, 'future', '2030-01-01T00:00:00Z', '1')",
        [],
    )
    .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(err, deskmove_store::StoreError::Migration(_)),
        "{err}"
    );
    assert!(err.to_string().contains("99"), "{err}");
}
