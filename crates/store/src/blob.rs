//! [`BlobStore`]: attachments, content-addressed. The bytes go to object storage under
//! `blobs/<blake3 hex>` (a local directory by default, S3-compatible when configured), and their
//! size and content type go to the staging store's blob index. Same bytes, same key: storing an
//! attachment twice — on a re-run, or because two messages share a file — writes nothing new.
//!
//! Downloads go in with [`BlobStore::put_stream`]: the bytes are hashed while they are written to
//! a temp file, and only a complete file is moved under its hash, so memory stays at a few
//! buffers whatever the file's size and a broken download never becomes a blob.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use jiff::Timestamp;
use object_store::buffered::BufWriter as UploadWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::Deserialize;
use tokio::io::{AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufWriter};

use crate::error::StoreError;
use crate::store::Store;
use crate::types::BlobMeta;

/// Where attachments are kept when they should go to an S3-compatible service (AWS S3, MinIO,
/// Cloudflare R2, ...) instead of a local directory. Credentials are not part of this struct:
/// they come from the standard `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` environment
/// variables, so they never sit in deskmove.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// The bucket name.
    pub bucket: String,
    /// The region, e.g. `eu-west-1`.
    pub region: Option<String>,
    /// The service URL for non-AWS services, e.g. `http://127.0.0.1:9000` for MinIO.
    pub endpoint: Option<String>,
    /// Allow plain-HTTP endpoints (local MinIO only; never across a network).
    #[serde(default)]
    pub allow_http: bool,
    /// A key prefix inside the bucket, e.g. `deskmove/acme`; blobs go under `<prefix>/blobs/`.
    pub prefix: Option<String>,
}

/// Content-addressed attachment storage. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    objects: Arc<dyn ObjectStore>,
    prefix: Option<ObjectPath>,
    /// The directory of a local store: streamed puts then land by a rename in the same file
    /// system instead of a second copy.
    local_root: Option<PathBuf>,
}

/// Folder beside `blobs/` (local stores) where streamed puts are written until they are complete.
const TEMP_DIR: &str = "tmp";
/// Temp files are named `put-<random>.part`; the name marks them as this module's.
const TEMP_PREFIX: &str = "put-";
const TEMP_SUFFIX: &str = ".part";
/// A temp file older than this when a store opens was left by a process that died mid-put.
const STALE_TEMP: Duration = Duration::from_secs(24 * 60 * 60);
/// Bytes gathered before one write to the temp file (stream chunks are often a few KiB).
const WRITE_BUFFER: usize = 256 * 1024;
/// Part size of uploads to object storage (S3 wants at least 5 MiB per part but the last).
const UPLOAD_PART: usize = 8 * 1024 * 1024;
/// Parts of one upload in flight at once (memory: about this many parts).
const UPLOAD_CONCURRENCY: usize = 2;

/// blake3 of `bytes`, lower-case hex: an attachment's identity and key.
pub fn blob_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

impl BlobStore {
    /// Blobs in the local directory `dir`, created (0700) if missing.
    pub fn local(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        create_private_dir(dir)?;
        let fs = LocalFileSystem::new_with_prefix(dir)
            .map_err(StoreError::blob("opening the blob directory"))?;
        remove_stale_temp_files(&dir.join(TEMP_DIR));
        let mut store = Self::from_object_store(Arc::new(fs));
        store.local_root = Some(dir.to_path_buf());
        Ok(store)
    }

    /// Blobs in an S3-compatible bucket.
    #[cfg(feature = "s3")]
    pub fn s3(config: &S3Config) -> Result<Self, StoreError> {
        use object_store::aws::AmazonS3Builder;
        // Credentials and other settings from the standard AWS_* variables.
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&config.bucket)
            .with_allow_http(config.allow_http);
        if let Some(region) = &config.region {
            b = b.with_region(region);
        }
        if let Some(endpoint) = &config.endpoint {
            b = b.with_endpoint(endpoint);
        }
        let s3 = b.build().map_err(StoreError::blob("configuring S3"))?;
        let mut store = Self::from_object_store(Arc::new(s3));
        store.prefix = config.prefix.as_deref().map(ObjectPath::from);
        Ok(store)
    }

    /// Blobs in an S3-compatible bucket: this build has no S3 support.
    #[cfg(not(feature = "s3"))]
    pub fn s3(config: &S3Config) -> Result<Self, StoreError> {
        Err(StoreError::Invalid(format!(
            "blob storage in S3 bucket `{}` needs deskmove built with the `s3` feature",
            config.bucket
        )))
    }

    /// Blobs in any object store (e.g. `object_store::memory::InMemory` in tests).
    pub fn from_object_store(objects: Arc<dyn ObjectStore>) -> Self {
        Self {
            objects,
            prefix: None,
            local_root: None,
        }
    }

    /// The object key of a blob: `[<prefix>/]blobs/<hash>`.
    pub fn key(&self, hash: &str) -> ObjectPath {
        let tail = ObjectPath::from_iter(["blobs", hash]);
        match &self.prefix {
            Some(p) => p.parts().chain(tail.parts()).collect(),
            None => tail,
        }
    }

    /// Stores `bytes` (idempotently) and indexes them in `index`; returns the index entry.
    ///
    /// The object is written write-once (`PutMode::Create`); "already exists" means another put
    /// stored the same bytes, so it is success. The index entry is written after the bytes, so it
    /// never points at a missing object; the first content type and time seen are kept.
    pub async fn put<S: Store>(
        &self,
        index: &S,
        bytes: Bytes,
        content_type: Option<&str>,
    ) -> Result<BlobMeta, StoreError> {
        let hash = blob_hash(&bytes);
        let size = bytes.len() as u64;
        let opts = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        match self
            .objects
            .put_opts(&self.key(&hash), PutPayload::from_bytes(bytes), opts)
            .await
        {
            Ok(_) => tracing::debug!(%hash, size, "Blob stored."),
            Err(object_store::Error::AlreadyExists { .. }) => {
                tracing::debug!(%hash, "Blob already stored.");
            }
            Err(e) => return Err(StoreError::blob("storing a blob")(e)),
        }
        index_blob(index, hash, size, content_type).await
    }

    /// Stores a body that arrives as a stream (an attachment download) and indexes it, exactly
    /// like [`Self::put`]: same bytes, nothing new, and the first content type seen is kept.
    ///
    /// The bytes are hashed (blake3) while they are written to a temp file, and the file is
    /// moved under `blobs/<hash>` only once the stream has ended: by an atomic rename for a local
    /// directory (the temp files live in `tmp/` beside `blobs/`), by an upload in parts from the
    /// temp file for other object stores. Memory stays at a few buffers whatever the size.
    ///
    /// If the stream yields an error, nothing is stored, the temp file is removed (also when
    /// the put is cancelled), and the error is [`StoreError::Io`] whose source is that
    /// `io::Error` itself (as `Arc<io::Error>`), so an HTTP error inside it stays reachable
    /// through `io::Error::get_ref` and the caller can tell a broken download (worth starting
    /// again) from a full disk.
    pub async fn put_stream<S: Store, B>(
        &self,
        index: &S,
        body: B,
        content_type: Option<&str>,
    ) -> Result<BlobMeta, StoreError>
    where
        B: Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin,
    {
        let (hash, size) = match &self.local_root {
            Some(root) => self.put_stream_local(root, body).await?,
            None => self.put_stream_uploaded(body).await?,
        };
        index_blob(index, hash, size, content_type).await
    }

    /// Local directory: temp file in `tmp/`, then a no-clobber rename to `blobs/<hash>`.
    async fn put_stream_local<B>(
        &self,
        root: &Path,
        mut body: B,
    ) -> Result<(String, u64), StoreError>
    where
        B: Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin,
    {
        let temp_dir = root.join(TEMP_DIR);
        create_private_dir(&temp_dir)?;
        let (file, temp) = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(&temp_dir)
            .map_err(StoreError::io("creating a temp file in", &temp_dir))?
            .into_parts();
        // From here on, dropping `temp` (error, cancellation) removes the file.
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, tokio::fs::File::from_std(file));
        let (hash, size) = receive(&mut body, &mut out, &temp).await?;
        let file = out.into_inner();
        // On disk before it gets its name: a crash must not leave a blob with missing bytes.
        file.sync_all()
            .await
            .map_err(StoreError::io("writing", &temp))?;
        drop(file);

        let dest = self
            .key(&hash)
            .parts()
            .fold(root.to_path_buf(), |p, part| p.join(part.as_ref()));
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(StoreError::io("creating the blob directory", parent))?;
        }
        match temp.persist_noclobber(&dest) {
            Ok(()) => tracing::debug!(%hash, size, "Blob stored from a stream."),
            // Same name, same bytes: stored before. The temp file goes with the error.
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                tracing::debug!(%hash, "Blob already stored.");
            }
            Err(e) => {
                return Err(StoreError::io("moving a blob into place at", &dest)(
                    e.error,
                ));
            }
        }
        Ok((hash, size))
    }

    /// Any other object store: an unnamed temp file, then an upload in parts unless the object
    /// is already there.
    async fn put_stream_uploaded<B>(&self, mut body: B) -> Result<(String, u64), StoreError>
    where
        B: Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin,
    {
        let unnamed = Path::new("an unnamed temp file");
        // No name, so nothing to clean up: the OS frees it when it is closed.
        let file = tempfile::tempfile().map_err(StoreError::io("creating", unnamed))?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, tokio::fs::File::from_std(file));
        let (hash, size) = receive(&mut body, &mut out, unnamed).await?;
        let mut file = out.into_inner();

        let key = self.key(&hash);
        match self.objects.head(&key).await {
            Ok(_) => {
                tracing::debug!(%hash, "Blob already stored.");
                return Ok((hash, size));
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(StoreError::blob("looking up a blob")(e)),
        }
        file.seek(SeekFrom::Start(0))
            .await
            .map_err(StoreError::io("reading back", unnamed))?;
        // The object appears only when the upload completes; an aborted one leaves nothing.
        let mut upload =
            UploadWriter::with_capacity(self.objects.clone(), key.clone(), UPLOAD_PART)
                .with_max_concurrency(UPLOAD_CONCURRENCY);
        let sent = async {
            tokio::io::copy(&mut file, &mut upload).await?;
            upload.shutdown().await
        }
        .await;
        if let Err(e) = sent {
            let _ = upload.abort().await;
            return Err(StoreError::io(
                "uploading a blob to",
                Path::new(key.as_ref()),
            )(e));
        }
        tracing::debug!(%hash, size, "Blob uploaded from a stream.");
        Ok((hash, size))
    }

    /// The bytes stored under `hash`, or `None` if there are none.
    pub async fn get(&self, hash: &str) -> Result<Option<Bytes>, StoreError> {
        match self.objects.get(&self.key(hash)).await {
            Ok(r) => r
                .bytes()
                .await
                .map(Some)
                .map_err(StoreError::blob("reading a blob")),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(StoreError::blob("reading a blob")(e)),
        }
    }
}

/// Adds a stored blob to the index; the index keeps the first entry for a hash.
async fn index_blob<S: Store>(
    index: &S,
    hash: String,
    size: u64,
    content_type: Option<&str>,
) -> Result<BlobMeta, StoreError> {
    index
        .put_blob(BlobMeta {
            hash,
            size,
            content_type: content_type.map(str::to_owned),
            first_seen: Timestamp::now(),
        })
        .await
}

/// Copies `body` to `out` while hashing it; returns the blake3 hex and the size. `temp` names
/// the file being written, for errors.
async fn receive<B, W>(body: &mut B, out: &mut W, temp: &Path) -> Result<(String, u64), StoreError>
where
    B: Stream<Item = Result<Bytes, std::io::Error>> + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut hasher = blake3::Hasher::new();
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|source| StoreError::Io {
            op: "receiving a blob's bytes",
            path: "from its source".into(),
            source: Arc::new(source),
        })?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
        out.write_all(&chunk)
            .await
            .map_err(StoreError::io("writing", temp))?;
    }
    out.flush().await.map_err(StoreError::io("writing", temp))?;
    Ok((hasher.finalize().to_hex().to_string(), size))
}

/// Removes temp files a crashed process left in `dir` (best effort: a failure only leaves them).
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP);
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            tracing::debug!(file = %name, "Removed a temp file left by an interrupted put.");
        }
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(StoreError::io("creating the blob directory", dir))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(StoreError::io("creating the blob directory", dir))
}
