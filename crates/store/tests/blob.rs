//! The blob store: content-addressed, idempotent, indexed in the staging store.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use bytes::Bytes;
use deskmove_store::{BlobStore, MemoryStore, S3Config, SqliteStore, Store, blob_hash};

async fn put_is_idempotent_and_indexed<S: Store>(index: &S) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("blobs-root");
    let blobs = BlobStore::local(&root).unwrap();
    assert_eq!(
        std::fs::metadata(&root).unwrap().permissions().mode() & 0o777,
        0o700
    );

    let bytes = Bytes::from_static(b"%PDF-1.7 an invoice");
    let hash = blake3::hash(&bytes).to_hex().to_string();
    let meta = blobs
        .put(index, bytes.clone(), Some("application/pdf"))
        .await
        .unwrap();
    assert_eq!(meta.hash, hash);
    assert_eq!(meta.size, bytes.len() as u64);
    assert_eq!(meta.content_type.as_deref(), Some("application/pdf"));

    // The object's key is blobs/<blake3 hex> under the root directory.
    let on_disk = root.join("blobs").join(&hash);
    assert_eq!(std::fs::read(&on_disk).unwrap(), bytes.as_ref());
    let modified = std::fs::metadata(&on_disk).unwrap().modified().unwrap();

    // Same bytes again (another message sharing the file, or a re-run): success, nothing rewritten,
    // the first index entry kept.
    let again = blobs
        .put(index, bytes.clone(), Some("application/octet-stream"))
        .await
        .unwrap();
    assert_eq!(again, meta);
    assert_eq!(
        std::fs::metadata(&on_disk).unwrap().modified().unwrap(),
        modified
    );
    assert_eq!(index.blob(&hash).await.unwrap(), Some(meta));

    assert_eq!(blobs.get(&hash).await.unwrap(), Some(bytes));
    assert_eq!(blobs.get(&blob_hash(b"never stored")).await.unwrap(), None);

    let empty = blobs.put(index, Bytes::new(), None).await.unwrap();
    assert_eq!(
        (empty.size, empty.hash.as_str()),
        (0, blob_hash(b"").as_str())
    );
    assert_eq!(blobs.get(&empty.hash).await.unwrap(), Some(Bytes::new()));
}

#[tokio::test]
async fn local_blobs_indexed_in_memory() {
    put_is_idempotent_and_indexed(&MemoryStore::new()).await;
}

#[tokio::test]
async fn local_blobs_indexed_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("s.db")).unwrap();
    put_is_idempotent_and_indexed(&store).await;
}

#[tokio::test]
async fn concurrent_puts_of_the_same_bytes_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::local(dir.path()).unwrap();
    let index = std::sync::Arc::new(MemoryStore::new());
    let bytes = Bytes::from(vec![7u8; 256 * 1024]);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (blobs, index, bytes) = (blobs.clone(), index.clone(), bytes.clone());
        tasks.push(tokio::spawn(async move {
            blobs.put(&*index, bytes, Some("image/png")).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().size, 256 * 1024);
    }
    assert_eq!(blobs.get(&blob_hash(&bytes)).await.unwrap(), Some(bytes));
}

#[test]
fn s3_config_is_strict_and_names_no_secret() {
    let c: S3Config = parse(r#"{"bucket": "acme-support", "region": "eu-west-1"}"#);
    assert_eq!(c.bucket, "acme-support");
    assert!(!c.allow_http);
    let err = serde_json::from_str::<S3Config>(r#"{"bucket": "b", "secret_access_key": "x"}"#);
    assert!(
        err.is_err(),
        "credentials come from AWS_* env vars, never the config"
    );
}

fn parse(json: &str) -> S3Config {
    serde_json::from_str(json).unwrap()
}

#[cfg(not(feature = "s3"))]
#[test]
fn s3_without_the_feature_says_how_to_get_it() {
    let c = S3Config {
        bucket: "acme".into(),
        region: None,
        endpoint: None,
        allow_http: false,
        prefix: None,
    };
    let err = BlobStore::s3(&c).unwrap_err().to_string();
    assert!(err.contains("`s3` feature"), "{err}");
}
