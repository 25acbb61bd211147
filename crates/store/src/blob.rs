//! [`BlobStore`]: attachments, content-addressed. The bytes go to object storage under
//! `blobs/<blake3 hex>` (a local directory by default, S3-compatible when configured), and their
//! size and content type go to the staging store's blob index. Same bytes, same key: storing an
//! attachment twice — on a re-run, or because two messages share a file — writes nothing new.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use jiff::Timestamp;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::Deserialize;

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
}

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
        Ok(Self::from_object_store(Arc::new(fs)))
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
        index
            .put_blob(BlobMeta {
                hash,
                size,
                content_type: content_type.map(str::to_owned),
                first_seen: Timestamp::now(),
            })
            .await
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
