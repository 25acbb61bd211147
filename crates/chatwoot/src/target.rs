//! The Chatwoot target as the engine sees it: one `impl Target` over the load paths, chosen by
//! `[target] path`, so the CLI builds one value from the settings and never names a path.

use deskmove_core::connector::{Aspect, Fidelity, LoadResult, Preflight, Resolve};
use deskmove_core::{Classify, ErrorKind, Record, RecordKind, Target, TargetInstance, TargetRef};
use deskmove_store::BlobStore;
use secrecy::SecretString;

use crate::config::{LoadPath, TargetConfig};
use crate::load::{ApiError, ApiOptions, ApiTarget, PostgresError, PostgresTarget};
use crate::mapping::Mapping;

/// A Chatwoot account, written through the path the settings name.
#[derive(Debug)]
pub enum ChatwootTarget {
    /// `path = "api"`: Chatwoot's Application API.
    Api(ApiTarget),
    /// `path = "postgres"`: bulk writes into a self-hosted Chatwoot's tables.
    Postgres(PostgresTarget),
}

impl ChatwootTarget {
    /// This target with `mapping` (read from `mapping.toml`) instead of the defaults. The
    /// database path takes its own decisions and ignores it.
    pub fn with_mapping(self, mapping: Mapping) -> Self {
        match self {
            Self::Api(t) => Self::Api(t.with_mapping(mapping)),
            other => other,
        }
    }

    /// This target loading even when the preflight finds side effects it would refuse
    /// (`--force`): they are reported as warnings instead.
    pub fn with_force(self, force: bool) -> Self {
        match self {
            Self::Api(t) => Self::Api(t.with_force(force)),
            other => other,
        }
    }
}

/// Why a call of the Chatwoot target failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChatwootError {
    /// The settings cannot be used as they are.
    #[error("{0}")]
    Config(String),
    /// The API path failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The database path failed.
    #[error(transparent)]
    Postgres(#[from] PostgresError),
}

impl Classify for ChatwootError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Config(_) => ErrorKind::Config,
            Self::Api(e) => e.kind(),
            Self::Postgres(e) => e.kind(),
        }
    }
}

impl TargetConfig {
    /// The target these settings describe, reading attachment bytes from `blobs`. `token` is the
    /// administrator's access token, required on the API path and unused on the database path.
    pub fn target(
        &self,
        token: Option<&SecretString>,
        blobs: BlobStore,
    ) -> Result<ChatwootTarget, ChatwootError> {
        let problems = self.check();
        if !problems.is_empty() {
            return Err(ChatwootError::Config(problems.join(" ")));
        }
        let account_id = self
            .account_id
            .ok_or_else(|| ChatwootError::Config("[target] needs `account_id`".into()))?;
        match self.path {
            LoadPath::Postgres => {
                let settings = self.postgres.as_ref().ok_or_else(|| {
                    ChatwootError::Config(
                        "[target] `path = \"postgres\"` needs [target.postgres]".into(),
                    )
                })?;
                let options = settings
                    .options(account_id)
                    .map_err(ChatwootError::Config)?;
                Ok(ChatwootTarget::Postgres(PostgresTarget::new(
                    options, blobs,
                )?))
            }
            LoadPath::Api => {
                let token = token.ok_or_else(|| {
                    ChatwootError::Config(
                        "[target] `path = \"api\"` needs an administrator's access token (`token_env` or `token_file`).".into(),
                    )
                })?;
                let base_url = self
                    .base_url
                    .as_ref()
                    .ok_or_else(|| ChatwootError::Config("[target] needs `base_url`".into()))?;
                let policy = self.host_policy().map_err(ChatwootError::Config)?;
                Ok(ChatwootTarget::Api(ApiTarget::new(
                    base_url,
                    token,
                    policy,
                    {
                        let defaults = ApiOptions::new(account_id);
                        ApiOptions {
                            messages_per_conversation_minute: self
                                .conversation_message_limit
                                .unwrap_or(200),
                            concurrency: self.concurrency.unwrap_or(defaults.concurrency).max(1),
                            parallel_conversations: self
                                .concurrency
                                .unwrap_or(defaults.parallel_conversations)
                                .max(1),
                            ..defaults
                        }
                    },
                    blobs,
                )?))
            }
        }
    }
}

impl Target for ChatwootTarget {
    type Error = ChatwootError;

    fn instance(&self) -> TargetInstance {
        match self {
            Self::Api(t) => t.instance(),
            Self::Postgres(t) => t.instance(),
        }
    }

    fn fidelity(&self) -> Fidelity {
        match self {
            Self::Api(t) => t.fidelity(),
            Self::Postgres(t) => t.fidelity(),
        }
    }

    fn batch_size(&self) -> usize {
        match self {
            Self::Api(t) => t.batch_size(),
            Self::Postgres(t) => t.batch_size(),
        }
    }

    fn mapping_fingerprint(&self, record: &Record) -> Option<deskmove_core::ContentHash> {
        match self {
            Self::Api(t) => t.mapping_fingerprint(record),
            Self::Postgres(t) => t.mapping_fingerprint(record),
        }
    }

    async fn preflight(&self) -> Result<Preflight, ChatwootError> {
        match self {
            Self::Api(t) => Ok(t.preflight().await?),
            Self::Postgres(t) => Ok(t.preflight().await?),
        }
    }

    async fn load(
        &self,
        kind: RecordKind,
        records: &[Record],
        refs: &impl Resolve,
    ) -> Result<Vec<LoadResult>, ChatwootError> {
        match self {
            Self::Api(t) => Ok(t.load(kind, records, refs).await?),
            Self::Postgres(t) => Ok(t.load(kind, records, refs).await?),
        }
    }

    async fn read_back(
        &self,
        kind: RecordKind,
        refs: &[TargetRef],
    ) -> Result<Vec<Record>, ChatwootError> {
        match self {
            Self::Api(t) => Ok(t.read_back(kind, refs).await?),
            Self::Postgres(t) => Ok(t.read_back(kind, refs).await?),
        }
    }

    async fn resync(
        &self,
        aspect: Aspect,
        records: &[Record],
        refs: &impl Resolve,
    ) -> Result<Vec<LoadResult>, ChatwootError> {
        match self {
            Self::Api(t) => Ok(t.resync(aspect, records, refs).await?),
            Self::Postgres(t) => Ok(t.resync(aspect, records, refs).await?),
        }
    }

    async fn remove(&self, created: &[TargetRef]) -> Result<Vec<LoadResult>, ChatwootError> {
        match self {
            Self::Api(t) => Ok(t.remove(created).await?),
            Self::Postgres(t) => Ok(t.remove(created).await?),
        }
    }
}
