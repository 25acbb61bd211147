//! The blob store: content-addressed, idempotent, indexed in the staging store.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use bytes::Bytes;
use deskmove_store::{BlobStore, MemoryStore, S3Config, SqliteStore, Store, blob_hash};
use futures::StreamExt;

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

/// `bytes` as a stream of `chunk`-sized pieces, as a download arrives.
fn chunked(
    bytes: &[u8],
    chunk: usize,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + use<> {
    let pieces: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(pieces)
}

/// `good` bytes, then the error a broken download yields.
fn cut_short(
    good: &[u8],
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + use<> {
    let pieces = vec![
        Ok(Bytes::copy_from_slice(good)),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the file host hung up",
        )),
    ];
    futures::stream::iter(pieces)
}

/// Names in a directory (empty if it does not exist).
fn names(dir: &std::path::Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn put_stream_hashes_while_writing_and_renames_into_place() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::local(dir.path()).unwrap();
    let index = MemoryStore::new();
    let bytes = pattern(3 * 1024 * 1024 + 17);

    let meta = blobs
        .put_stream(&index, chunked(&bytes, 16 * 1024), Some("image/png"))
        .await
        .unwrap();
    assert_eq!(meta.hash, blob_hash(&bytes));
    assert_eq!(meta.size, bytes.len() as u64);
    assert_eq!(meta.content_type.as_deref(), Some("image/png"));
    let on_disk = dir.path().join("blobs").join(&meta.hash);
    assert_eq!(std::fs::read(&on_disk).unwrap(), bytes);
    assert_eq!(index.blob(&meta.hash).await.unwrap(), Some(meta.clone()));
    assert!(
        names(&dir.path().join("tmp")).is_empty(),
        "no temp file left"
    );

    // The same file streamed again, in other chunk sizes: one blob, untouched, first type kept.
    let modified = std::fs::metadata(&on_disk).unwrap().modified().unwrap();
    let again = blobs
        .put_stream(
            &index,
            chunked(&bytes, 1000),
            Some("application/octet-stream"),
        )
        .await
        .unwrap();
    assert_eq!(again, meta);
    assert_eq!(names(&dir.path().join("blobs")), vec![meta.hash.clone()]);
    assert_eq!(
        std::fs::metadata(&on_disk).unwrap().modified().unwrap(),
        modified
    );
    assert!(names(&dir.path().join("tmp")).is_empty());

    // put and put_stream agree: the buffered put of the same bytes writes nothing new.
    assert_eq!(
        blobs
            .put(&index, Bytes::from(bytes.clone()), None)
            .await
            .unwrap(),
        meta
    );
    assert_eq!(blobs.get(&meta.hash).await.unwrap().unwrap(), bytes);

    let empty = blobs
        .put_stream(&index, chunked(b"", 1), None)
        .await
        .unwrap();
    assert_eq!((empty.size, empty.hash), (0, blob_hash(b"")));
}

#[tokio::test]
async fn a_stream_cut_short_leaves_no_blob_and_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::local(dir.path()).unwrap();
    let index = MemoryStore::new();
    let good = pattern(100_000);

    let err = blobs
        .put_stream(&index, cut_short(&good), Some("application/pdf"))
        .await
        .unwrap_err();
    assert_eq!(
        deskmove_core::Classify::kind(&err),
        deskmove_core::ErrorKind::Io
    );
    // The stream's own error is the source, unchanged.
    let source = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<std::sync::Arc<std::io::Error>>())
        .expect("the io::Error is the source");
    assert_eq!(source.kind(), std::io::ErrorKind::ConnectionReset);
    assert!(names(&dir.path().join("blobs")).is_empty(), "no blob");
    assert!(names(&dir.path().join("tmp")).is_empty(), "no temp file");
    assert_eq!(index.blob(&blob_hash(&good)).await.unwrap(), None);
}

#[tokio::test]
async fn a_cancelled_put_stream_removes_its_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::local(dir.path()).unwrap();
    let index = MemoryStore::new();
    // One chunk, then a host that never sends the rest.
    let stalled = futures::stream::iter(vec![Ok(Bytes::from(pattern(5000)))])
        .chain(futures::stream::pending());
    let put = blobs.put_stream(&index, stalled, None);
    let timed_out = tokio::time::timeout(std::time::Duration::from_millis(200), put).await;
    assert!(timed_out.is_err(), "the put waits for the rest of the body");
    assert!(
        names(&dir.path().join("tmp")).is_empty(),
        "temp file removed on drop"
    );
    assert!(names(&dir.path().join("blobs")).is_empty());
}

#[tokio::test]
async fn put_stream_to_another_object_store_uploads_from_the_temp_file() {
    let objects = std::sync::Arc::new(object_store::memory::InMemory::new());
    let blobs = BlobStore::from_object_store(objects.clone());
    let index = MemoryStore::new();
    // Over one upload part, so the upload goes in parts.
    let bytes = pattern(9 * 1024 * 1024 + 5);

    let meta = blobs
        .put_stream(&index, chunked(&bytes, 64 * 1024), Some("video/mp4"))
        .await
        .unwrap();
    assert_eq!(meta.hash, blob_hash(&bytes));
    assert_eq!(blobs.get(&meta.hash).await.unwrap().unwrap(), bytes);
    let again = blobs
        .put_stream(&index, chunked(&bytes, 4096), None)
        .await
        .unwrap();
    assert_eq!(again, meta);

    assert!(
        blobs
            .put_stream(&index, cut_short(b"partial"), None)
            .await
            .is_err()
    );
    assert_eq!(blobs.get(&blob_hash(b"partial")).await.unwrap(), None);
    let listed: Vec<_> =
        futures::StreamExt::collect::<Vec<_>>(object_store::ObjectStore::list(&*objects, None))
            .await;
    assert_eq!(listed.len(), 1, "only the one complete blob: {listed:?}");
}
