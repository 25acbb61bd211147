//! The Chatwoot target as the engine sees it: one `impl Target` over the load paths, chosen by
//! `[target] path`, so the CLI builds one value from the settings and never names a path.

use deskmove_core::connector::{Fidelity, LoadResult, Preflight, Resolve};
use deskmove_core::{Classify, ErrorKind, Record, RecordKind, Target, TargetInstance, TargetRef};
use deskmove_store::BlobStore;
use secrecy::SecretString;

use crate::config::{LoadPath, TargetConfig};
use crate::load::{PostgresError, PostgresTarget};

/// A Chatwoot account, written through the path the settings name.
#[derive(Debug)]
pub enum ChatwootTarget {
    /// `path = "postgres"`: bulk writes into a self-hosted Chatwoot's tables.
    Postgres(PostgresTarget),
}

/// Why a call of the Chatwoot target failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChatwootError {
    /// The settings cannot be used as they are.
    #[error("{0}")]
    Config(String),
    /// The database path failed.
    #[error(transparent)]
    Postgres(#[from] PostgresError),
}

impl Classify for ChatwootError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Config(_) => ErrorKind::Config,
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
                let _ = token;
                Err(ChatwootError::Config(
                    "[target] `path = \"api\"`: the API load path is not built yet; use `path = \"postgres\"`."
                        .into(),
                ))
            }
        }
    }
}

impl Target for ChatwootTarget {
    type Error = ChatwootError;

    fn instance(&self) -> TargetInstance {
        match self {
            Self::Postgres(t) => t.instance(),
        }
    }

    fn fidelity(&self) -> Fidelity {
        match self {
            Self::Postgres(t) => t.fidelity(),
        }
    }

    fn mapping_fingerprint(&self, record: &Record) -> Option<deskmove_core::ContentHash> {
        match self {
            Self::Postgres(t) => t.mapping_fingerprint(record),
        }
    }

    async fn preflight(&self) -> Result<Preflight, ChatwootError> {
        match self {
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
            Self::Postgres(t) => Ok(t.load(kind, records, refs).await?),
        }
    }

    async fn read_back(
        &self,
        kind: RecordKind,
        refs: &[TargetRef],
    ) -> Result<Vec<Record>, ChatwootError> {
        match self {
            Self::Postgres(t) => Ok(t.read_back(kind, refs).await?),
        }
    }

    async fn remove(&self, created: &[TargetRef]) -> Result<Vec<LoadResult>, ChatwootError> {
        match self {
            Self::Postgres(t) => Ok(t.remove(created).await?),
        }
    }
}
