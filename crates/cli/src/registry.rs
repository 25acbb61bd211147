//! The one list of connectors, and the only file of the binary that names them. Everything else
//! (`init`, `status`, `sandbox`, `demo`, `deskmove.toml`) reads the list through the enums here,
//! so adding a vendor is its own crate plus one line in each list below that applies to it:
//! `connectors!`, `sections!` for [`SourceSection`] and/or [`TargetSection`], and, when it has a
//! sandbox, [`SandboxCommand`] and [`LocalSandbox`] (whose arms are the glue between a sandbox
//! and its connector's settings, which neither crate may depend on the other for). The
//! registry's tests (in `tests/`) check the lists agree with each connector's [`Registration`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use anyhow::Context;
use clap::builder::PossibleValue;
use deskmove_chatwoot_sandbox::RunningSandbox as ChatwootSandbox;
use deskmove_core::config::TokenSource;
use deskmove_core::connector::{Fidelity, Preflight, SourceScan};
use deskmove_core::{
    Classify, ErrorKind, Record, RecordKind, Registration, Source, Target, TargetInstance,
    TargetRef,
};
use deskmove_engine::{
    Engine, EngineError, EngineOptions, ExtractReport, LoadReport, RollbackReport,
};
use deskmove_intercom_sandbox::RunningSandbox as IntercomSandbox;
use deskmove_sandbox::Sandbox;
use deskmove_store::{BlobStore, RunId, Store};
use deskmove_zendesk_sandbox::RunningSandbox as ZendeskSandbox;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::commands::sandbox::serve;
use crate::config::NormalizeConfig;
use crate::progress::BudgetReader;

/// Declares [`Connector`], [`connectors`] and `Connector::registration` from one line per
/// connector crate.
macro_rules! connectors {
    ($($(#[$doc:meta])* $variant:ident => $($krate:ident)::+),+ $(,)?) => {
        /// A connector deskmove has.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Connector {
            $($(#[$doc])* $variant,)+
        }

        /// Every connector, in the order help and `deskmove connectors` list them. The first
        /// source and the first target are the default pair.
        pub fn connectors() -> &'static [Connector] {
            &[$(Connector::$variant),+]
        }

        impl Connector {
            /// What the connector's crate says about itself.
            pub fn registration(self) -> Registration {
                match self {
                    $(Self::$variant => $($krate)::+::registration(),)+
                }
            }
        }
    };
}

connectors! {
    /// `deskmove-intercom`.
    Intercom => deskmove_intercom,
    /// `deskmove-intercom`'s files source: a folder of saved API answers.
    IntercomFiles => deskmove_intercom::files,
    /// `deskmove-chatwoot`.
    Chatwoot => deskmove_chatwoot,
    /// `deskmove-zendesk`.
    Zendesk => deskmove_zendesk,
}

impl Connector {
    /// The name in `deskmove.toml` and on the command line.
    pub fn name(self) -> &'static str {
        self.registration().name
    }

    /// How people write the product's name.
    pub fn display_name(self) -> &'static str {
        self.registration().display_name
    }
}

/// The pair `init`, `demo` and the help use when none is named: the first source and the first
/// target of [`connectors`].
pub fn default_pair() -> (Connector, Connector) {
    let first = |role: fn(&Registration) -> bool, not: Option<Connector>| {
        connectors()
            .iter()
            .copied()
            .find(|c| role(&c.registration()) && Some(*c) != not)
            .expect("the registry has a source and a target")
    };
    let source = first(Registration::is_source, None);
    // A connector that is both (Intercom) is not paired with itself by default.
    (source, first(Registration::is_target, Some(source)))
}

/// `deskmove init --from <source> --to <target>` for the default pair.
pub fn init_command() -> String {
    let (source, target) = default_pair();
    format!(
        "deskmove init --from {} --to {}",
        source.name(),
        target.name()
    )
}

/// A connector that can be a source, as `--from` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceName(pub Connector);

/// A connector that can be a target, as `--to` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetName(pub Connector);

static SOURCE_NAMES: LazyLock<Vec<SourceName>> = LazyLock::new(|| {
    connectors()
        .iter()
        .filter(|c| c.registration().is_source())
        .map(|&c| SourceName(c))
        .collect()
});

static TARGET_NAMES: LazyLock<Vec<TargetName>> = LazyLock::new(|| {
    connectors()
        .iter()
        .filter(|c| c.registration().is_target())
        .map(|&c| TargetName(c))
        .collect()
});

fn possible_value(connector: Connector) -> PossibleValue {
    let registration = connector.registration();
    PossibleValue::new(registration.name).help(registration.display_name)
}

impl clap::ValueEnum for SourceName {
    fn value_variants<'a>() -> &'a [Self] {
        &SOURCE_NAMES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(possible_value(self.0))
    }
}

impl clap::ValueEnum for TargetName {
    fn value_variants<'a>() -> &'a [Self] {
        &TARGET_NAMES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(possible_value(self.0))
    }
}

/// Declares a `kind`-tagged section enum whose variants wrap each connector's own config
/// struct, and the calls every such struct answers (`check`, `token_source`, `count_agents`).
macro_rules! sections {
    ($(#[$doc:meta])* $section:ident {
        $($(#[$variant_doc:meta])* $variant:ident($config:ty)),+ $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum $section {
            $($(#[$variant_doc])* $variant($config),)+
        }

        impl $section {
            /// Reads the section's keys other than `kind` into the struct of the connector `kind`
            /// names; `None` when no connector of this side has that name.
            pub fn from_kind<'de, D: Deserializer<'de>>(
                kind: &str,
                section: D,
            ) -> Option<Result<Self, D::Error>> {
                $(if kind == Connector::$variant.name() {
                    return Some(<$config>::deserialize(section).map(Self::$variant));
                })+
                None
            }

            /// The connector `kind` names.
            pub fn connector(&self) -> Connector {
                match self {
                    $(Self::$variant(_) => Connector::$variant,)+
                }
            }

            /// What is wrong with the section, one message per problem; empty when it can be used.
            pub fn check(&self) -> Vec<String> {
                match self {
                    $(Self::$variant(config) => config.check(),)+
                }
            }

            /// Where the token is read from.
            pub fn token_source(&self) -> Result<TokenSource, String> {
                match self {
                    $(Self::$variant(config) => config.token_source(),)+
                }
            }

            /// Lists the agents `token` can see: the settings and the token fit together.
            pub async fn count_agents(&self, token: &SecretString) -> anyhow::Result<u64> {
                match self {
                    $(Self::$variant(config) => config
                        .count_agents(token)
                        .await
                        .map_err(|e| anyhow::anyhow!(e)),)+
                }
            }
        }
    };
}

sections! {
    /// `[source]`: `kind` picks the connector, whose crate owns every other key of the section.
    SourceSection {
        /// `kind = "intercom"`.
        Intercom(deskmove_intercom::SourceConfig),
        /// `kind = "intercom-files"`.
        #[serde(rename = "intercom-files")]
        IntercomFiles(IntercomFilesSection),
        /// `kind = "zendesk"`.
        Zendesk(deskmove_zendesk::SourceConfig),
    }
}

/// `[source] kind = "intercom-files"`: the connector's settings, with the calls every section
/// answers (it reads a folder, so it has no token and no agents to list by API).
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct IntercomFilesSection(pub deskmove_intercom::files::FilesConfig);

impl IntercomFilesSection {
    /// What is wrong with the settings. A relative `dir` is checked when the source is built
    /// (it is relative to deskmove.toml's folder, which a section read on its own does not know).
    fn check(&self) -> Vec<String> {
        let mut config = self.0.clone();
        if config.dir.is_relative() {
            config.dir = std::path::PathBuf::from(".");
        }
        config.check()
    }

    fn token_source(&self) -> Result<TokenSource, String> {
        Err("a folder of saved answers needs no token".to_owned())
    }

    fn count_agents(&self, _token: &SecretString) -> std::future::Ready<Result<u64, String>> {
        std::future::ready(Err(
            "a folder of saved answers has no API to list agents with".to_owned(),
        ))
    }
}

/// Why a source or target could not be set up from its settings and token, or a target call
/// outside the engine failed: `kind` says whether the settings must change.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SetupError {
    /// `config` when the settings must change.
    pub kind: ErrorKind,
    /// What is wrong, naming the setting when there is one.
    pub message: String,
}

impl SetupError {
    fn from_classified<E: Classify + std::fmt::Display>(e: E) -> Self {
        Self {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// A source connector built from `[source]` and its token, ready for the engine.
#[derive(Debug)]
pub enum ExportSource {
    /// `kind = "intercom"`.
    Intercom(deskmove_intercom::IntercomSource),
    /// `kind = "intercom-files"`.
    IntercomFiles(deskmove_intercom::files::FilesSource),
    /// `kind = "zendesk"`.
    Zendesk(deskmove_zendesk::ZendeskSource),
}

impl SourceSection {
    /// Whether the source calls the vendor's API and so needs a token (a folder of saved
    /// answers does not).
    pub fn needs_token(&self) -> bool {
        !matches!(self, Self::IntercomFiles(_))
    }

    /// [`export_source_in`](Self::export_source_in) for a source that needs a token, with paths
    /// taken relative to the working directory.
    pub fn export_source(
        &self,
        token: &SecretString,
        normalize: &NormalizeConfig,
    ) -> Result<ExportSource, SetupError> {
        self.export_source_in(Path::new("."), Some(token), normalize)
    }

    /// The connector's `impl Source` for these settings and the `[normalize]` rules, with
    /// relative paths taken from `dir` (deskmove.toml's folder); `token` is required when
    /// [`needs_token`](Self::needs_token). A connector without an export yet, or a missing
    /// token, is a configuration error, never a panic.
    pub fn export_source_in(
        &self,
        dir: &Path,
        token: Option<&SecretString>,
        normalize: &NormalizeConfig,
    ) -> Result<ExportSource, SetupError> {
        let token = || {
            token.ok_or_else(|| SetupError {
                kind: ErrorKind::Config,
                message: format!(
                    "[source]: {} needs a token",
                    self.connector().display_name()
                ),
            })
        };
        match self {
            Self::IntercomFiles(config) => deskmove_intercom::files::FilesSource::new(
                &config.0.clone().relative_to(dir),
                Some(&normalize.default_phone_region),
            )
            .map(ExportSource::IntercomFiles)
            .map_err(SetupError::from_classified),
            Self::Intercom(config) => {
                let mut options = config.options().map_err(|message| SetupError {
                    kind: ErrorKind::Config,
                    message,
                })?;
                options.phone_region = Some(normalize.default_phone_region.clone());
                deskmove_intercom::IntercomSource::with_options(options, token()?)
                    .map(ExportSource::Intercom)
                    .map_err(SetupError::from_classified)
            }
            Self::Zendesk(config) => {
                let mut options = config.options().map_err(|message| SetupError {
                    kind: ErrorKind::Config,
                    message,
                })?;
                options.phone_region = Some(normalize.default_phone_region.clone());
                deskmove_zendesk::ZendeskSource::with_options(options, token()?)
                    .map(ExportSource::Zendesk)
                    .map_err(SetupError::from_classified)
            }
        }
    }
}

impl ExportSource {
    /// The source's scan (counts and sizes, read-only): its error as a sentence, with the
    /// advice of its kind.
    pub async fn scan(&self) -> Result<SourceScan, (String, &'static str)> {
        fn failed<E: std::error::Error + Classify>(e: E) -> (String, &'static str) {
            (crate::workspace::chain(&e), e.kind().solution())
        }
        match self {
            Self::Intercom(source) => source.scan().await.map_err(failed),
            Self::IntercomFiles(source) => source.scan().await.map_err(failed),
            Self::Zendesk(source) => source.scan().await.map_err(failed),
        }
    }

    /// Runs the engine's extract phase over this source for `run`.
    pub async fn extract<St: Store>(
        &self,
        engine: &Engine<'_, St>,
        run: RunId,
    ) -> Result<ExtractReport, EngineError> {
        match self {
            Self::Intercom(source) => engine.extract(run, source).await,
            Self::IntercomFiles(source) => engine.extract(run, source).await,
            Self::Zendesk(source) => engine.extract(run, source).await,
        }
    }

    /// Where the progress line reads the source's remaining call budget (calls left, window
    /// size) from, when its vendor reports one.
    pub fn budget_reader(&self) -> Option<BudgetReader> {
        match self {
            Self::Intercom(source) => {
                let source = source.clone();
                Some(Box::new(move || source.budget()))
            }
            Self::IntercomFiles(_) | Self::Zendesk(_) => None,
        }
    }

    /// Records each stream is expected to reach, for the progress line's time left, when the
    /// source's scan is cheap (a few counting calls); empty otherwise or when the scan fails.
    pub async fn expected_records(&self) -> BTreeMap<String, u64> {
        match self {
            Self::Intercom(source) => expected_per_stream(source).await,
            Self::IntercomFiles(_) | Self::Zendesk(_) => BTreeMap::new(),
        }
    }
}

/// The records `source`'s scan expects per stream, for the streams whose every kind it counts
/// (a conversation stream also carries messages the scan does not count: no estimate for it).
async fn expected_per_stream<S: Source>(source: &S) -> BTreeMap<String, u64> {
    let Ok(scan) = source.scan().await else {
        return BTreeMap::new();
    };
    let streams = source.streams();
    // A kind two streams produce (Intercom's conversations and tickets are both conversations)
    // cannot be shared out between them from one total.
    let shared = |kind: &RecordKind| streams.iter().filter(|s| s.kinds.contains(kind)).count() > 1;
    streams
        .iter()
        .filter_map(|stream| {
            let counts: Option<Vec<u64>> = stream
                .kinds
                .iter()
                .map(|kind| {
                    scan.kinds
                        .get(kind)
                        .filter(|_| !shared(kind))
                        .map(|c| c.count)
                })
                .collect();
            let counts = counts.filter(|c| !c.is_empty())?;
            Some((stream.name.clone(), counts.iter().sum()))
        })
        .collect()
}

/// What `scan` predicts for a load path, and an attribute that needs a type decision.
pub use deskmove_chatwoot::predict::{AttributeDecision, Prediction};
/// What the proposal of a `mapping.toml` is made from, and what it decided.
pub use deskmove_chatwoot::propose::{Facts as MappingFacts, Proposal as MappingProposal};

/// What `scan` found out about the target (see [`TargetSection::scan`]).
#[derive(Debug)]
pub struct TargetScan {
    /// Source agents with no agent of the same email in the target, when its agents were read.
    pub unmatched: Option<Vec<String>>,
    /// Each load path's predicted calls and time, the configured path first.
    pub predictions: Vec<Prediction>,
    /// Attributes that need a type decision.
    pub attributes: Vec<AttributeDecision>,
}

sections! {
    /// `[target]`: `kind` picks the connector, whose crate owns every other key of the section.
    TargetSection {
        /// `kind = "chatwoot"`.
        Chatwoot(deskmove_chatwoot::TargetConfig),
        /// `kind = "intercom"`.
        Intercom(deskmove_intercom::TargetConfig),
    }
}

impl TargetSection {
    /// Whether the configured load path calls the vendor's API and so needs a token (a database
    /// path writes the tables directly).
    pub fn needs_token(&self) -> bool {
        match self {
            Self::Chatwoot(config) => config.needs_token(),
            Self::Intercom(config) => config.needs_token(),
        }
    }

    /// The connector's `impl Target` for these settings, reading attachment bytes from `blobs`;
    /// `token` is required when [`needs_token`](Self::needs_token). Connects to nothing yet.
    pub fn import_target(
        &self,
        token: Option<&SecretString>,
        blobs: BlobStore,
    ) -> Result<ImportTarget, SetupError> {
        match self {
            Self::Chatwoot(config) => config
                .target(token, blobs)
                .map(ImportTarget::Chatwoot)
                .map_err(SetupError::from_classified),
            Self::Intercom(config) => config
                .target(token, blobs)
                .map(ImportTarget::Intercom)
                .map_err(SetupError::from_classified),
        }
    }

    /// What `scan` says of the target, reading only its agents: the source's agents it lacks
    /// (`None`, with the reason in `notes`, when they could not be read), the predicted calls
    /// and time of each load path (the configured one first) and the attributes that need a
    /// type decision. An unreadable `[target.http]` is the error.
    pub async fn scan(
        &self,
        scan: &SourceScan,
        token: Result<SecretString, String>,
        notes: &mut Vec<String>,
    ) -> Result<TargetScan, String> {
        use deskmove_chatwoot::predict;
        match self {
            Self::Chatwoot(target) => {
                let unmatched = match token {
                    Ok(token) => match predict::agent_emails(target, &token).await {
                        Ok(emails) => Some(predict::unmatched_agents(scan, &emails)),
                        Err(e) => {
                            notes.push(format!("The target's agents could not be read: {e}"));
                            None
                        }
                    },
                    Err(why) => {
                        notes.push(format!("The target's agents were not read: {why}."));
                        None
                    }
                };
                let mut api = predict::ApiSettings::from_config(target)
                    .map_err(|m| format!("[target.http]: {m}"))?;
                // With no agent matched, conversations get no assignee (and no assignment call).
                api.assignees = unmatched
                    .as_ref()
                    .is_none_or(|u| u.len() < scan.agent_emails.len());
                let api = predict::api(scan, &api);
                let postgres = predict::postgres(scan);
                let predictions = match target.path {
                    deskmove_chatwoot::LoadPath::Api => vec![api, postgres],
                    deskmove_chatwoot::LoadPath::Postgres => vec![postgres, api],
                };
                Ok(TargetScan {
                    unmatched,
                    predictions,
                    attributes: predict::attributes_needing_decision(scan),
                })
            }
            Self::Intercom(target) => {
                let unmatched = match token {
                    Ok(token) => match target.agent_emails(&token).await {
                        Ok(emails) => {
                            let emails: Vec<String> = emails.into_iter().collect();
                            Some(predict::unmatched_agents(scan, &emails))
                        }
                        Err(e) => {
                            notes.push(format!("The target's agents could not be read: {e}"));
                            None
                        }
                    },
                    Err(why) => {
                        notes.push(format!("The target's agents were not read: {why}."));
                        None
                    }
                };
                let policy = target.host_policy()?;
                let budget = deskmove_core::connector::CallBudget {
                    calls_per_minute: u64::from(policy.calls_per_minute),
                    burst: u64::from(policy.burst),
                };
                Ok(TargetScan {
                    unmatched,
                    predictions: vec![deskmove_intercom::load::predict::predict(
                        scan,
                        budget,
                        target.mode,
                    )],
                    attributes: Vec::new(),
                })
            }
        }
    }

    /// A `mapping.toml` proposed for `facts` against the target's agents (`agents`, lower-cased
    /// emails), laid over `existing` (the current file, if any).
    pub fn propose_mapping(
        &self,
        existing: Option<&str>,
        facts: &MappingFacts,
        agents: &std::collections::BTreeSet<String>,
    ) -> Result<MappingProposal, String> {
        match self {
            // The Intercom target reads the `[agents]` of the same file and ignores the rest.
            Self::Chatwoot(_) | Self::Intercom(_) => {
                deskmove_chatwoot::propose::propose(existing, facts, agents)
            }
        }
    }

    /// The account's agents' emails, lower-cased (for `deskmove map`); reads only.
    pub async fn agent_emails(
        &self,
        token: &SecretString,
    ) -> anyhow::Result<std::collections::BTreeSet<String>> {
        match self {
            Self::Chatwoot(c) => c.agent_emails(token).await.map_err(|e| anyhow::anyhow!(e)),
            Self::Intercom(c) => c.agent_emails(token).await.map_err(|e| anyhow::anyhow!(e)),
        }
    }
}

/// A target connector built from `[target]`, ready for the engine: every call the load,
/// rollback and verify commands make, so they never name a vendor.
#[derive(Debug)]
pub enum ImportTarget {
    /// `kind = "chatwoot"`.
    Chatwoot(deskmove_chatwoot::ChatwootTarget),
    /// `kind = "intercom"`.
    Intercom(deskmove_intercom::IntercomTarget),
}

/// Dispatches `$call` to the target inside an [`ImportTarget`].
/// `engine` with load batches of the size `target` works best with ([`Target::batch_size`]).
fn sized<'e, St: Store>(engine: &Engine<'e, St>, target: &impl Target) -> Engine<'e, St> {
    engine.with_options(EngineOptions {
        batch_size: target.batch_size(),
        ..engine.options()
    })
}

macro_rules! on_target {
    ($self:ident, $t:ident => $call:expr) => {
        match $self {
            ImportTarget::Chatwoot($t) => $call,
            ImportTarget::Intercom($t) => $call,
        }
    };
}

impl ImportTarget {
    /// This target going ahead even where its preflight would refuse (`--force`); the reasons
    /// are still reported.
    pub fn with_force(self, force: bool) -> Self {
        match self {
            Self::Chatwoot(t) => Self::Chatwoot(t.with_force(force)),
            Self::Intercom(t) => Self::Intercom(t.with_force(force)),
        }
    }

    /// This target with the mapping decisions of `mapping.toml` (its text) instead of the
    /// connector's defaults; a mapping that cannot be read is a configuration error.
    pub fn with_mapping_toml(self, text: &str) -> Result<Self, SetupError> {
        match self {
            Self::Chatwoot(t) => deskmove_chatwoot::mapping::Mapping::from_toml(text)
                .map(|mapping| Self::Chatwoot(t.with_mapping(mapping)))
                .map_err(|message| SetupError {
                    kind: ErrorKind::Config,
                    message: format!("mapping.toml: {message}"),
                }),
            Self::Intercom(t) => deskmove_intercom::load::Mapping::from_toml(text)
                .map(|mapping| Self::Intercom(t.with_mapping(mapping)))
                .map_err(|message| SetupError {
                    kind: ErrorKind::Config,
                    message,
                }),
        }
    }

    /// The instance the ledger keys this target by (vendor, host, account, path).
    pub fn instance(&self) -> TargetInstance {
        on_target!(self, t => t.instance())
    }

    /// What this load path keeps and what it cannot.
    pub fn fidelity(&self) -> Fidelity {
        on_target!(self, t => t.fidelity())
    }

    /// The target's safety check before any write: side effects neutralised, warnings, and
    /// refusals naming the setting to change.
    pub async fn preflight(&self) -> Result<Preflight, SetupError> {
        on_target!(self, t => t.preflight().await.map_err(SetupError::from_classified))
    }

    /// Runs the engine's load phase into this target for `run`.
    pub async fn load<St: Store>(
        &self,
        engine: &Engine<'_, St>,
        run: RunId,
    ) -> Result<LoadReport, EngineError> {
        on_target!(self, t => sized(engine, t).load(run, t).await)
    }

    /// Runs the load phase of only what `chosen` takes (see [`Engine::choose`]).
    pub async fn load_chosen<St: Store>(
        &self,
        engine: &Engine<'_, St>,
        run: RunId,
        chosen: Option<deskmove_engine::Chosen>,
    ) -> Result<LoadReport, EngineError> {
        on_target!(self, t => sized(engine, t).load_chosen(run, t, chosen).await)
    }

    /// Writes `aspect` again for the staged conversations in this target (`run --only`).
    pub async fn resync<St: Store>(
        &self,
        engine: &Engine<'_, St>,
        run: RunId,
        aspect: deskmove_core::connector::Aspect,
    ) -> Result<deskmove_engine::ResyncReport, EngineError> {
        on_target!(self, t => engine.resync(run, t, aspect).await)
    }

    /// Removes from this target what run `of` created, recording the removals for `run`.
    pub async fn rollback<St: Store>(
        &self,
        engine: &Engine<'_, St>,
        run: RunId,
        of: RunId,
    ) -> Result<RollbackReport, EngineError> {
        on_target!(self, t => engine.rollback(run, of, t).await)
    }

    /// Deep-compares a sample of staged conversations with what this target holds.
    pub async fn verify_deep<St: Store>(
        &self,
        engine: &Engine<'_, St>,
        options: deskmove_engine::VerifyOptions,
    ) -> Result<deskmove_engine::DeepReport, EngineError> {
        on_target!(self, t => engine.verify_deep(t, options).await)
    }

    /// What `refs` (all of `kind`) became in the target, in canonical terms; gone ones are
    /// left out.
    pub async fn read_back(
        &self,
        kind: RecordKind,
        refs: &[TargetRef],
    ) -> Result<Vec<Record>, SetupError> {
        on_target!(self, t => t.read_back(kind, refs).await.map_err(SetupError::from_classified))
    }
}

/// Which sandbox `deskmove sandbox` starts.
#[derive(Debug, clap::Subcommand)]
pub enum SandboxCommand {
    /// A local Intercom serving a synthetic company: cursor, scroll and page pagination,
    /// 10-second rate windows, the 500-part cap, expiring signed file URLs on a second port,
    /// and switchable faults. Prints `base_url=… token=… files_url=…` when ready.
    Intercom(deskmove_intercom_sandbox::SandboxArgs),
    /// A local Chatwoot with Chatwoot's real rules: lower-cased unique emails, Liquid rendering of
    /// agent replies, per-IP fixed-window limits with a bare 429, the per-conversation message
    /// guard, auto-assignment and activity messages. Prints
    /// `base_url=… token=… account_id=… platform_token=…`.
    Chatwoot(deskmove_chatwoot_sandbox::SandboxArgs),
    /// A local Zendesk Support serving a synthetic company: Basic `email/token` and Bearer
    /// sign-in, cursor and time-based incremental exports with their one-minute lag and boundary
    /// duplicates, archived tickets only in the exports, cursor and offset comment pages, the
    /// account and 10-per-minute export buckets with every 429 shape, and attachments redirected
    /// to a pre-signed second port. Prints `base_url=… token=… email=… files_url=…`.
    Zendesk(deskmove_zendesk_sandbox::SandboxArgs),
}

impl SandboxCommand {
    /// Starts the chosen sandbox and serves until Ctrl-C or SIGTERM.
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            Self::Intercom(args) => serve::<IntercomSandbox>(Connector::Intercom, args).await,
            Self::Chatwoot(args) => serve::<ChatwootSandbox>(Connector::Chatwoot, args).await,
            Self::Zendesk(args) => serve::<ZendeskSandbox>(Connector::Zendesk, args).await,
        }
    }
}

/// The size of the synthetic company a source sandbox serves in the demo.
#[derive(Debug, Clone, Copy)]
pub struct DemoWorld {
    /// Same seed and sizes, same company, byte for byte.
    pub seed: u64,
    /// Conversations in the company.
    pub conversations: u64,
    /// Contacts in the company.
    pub contacts: u64,
}

/// The local Chatwoot's limit: a self-hosted install with `RACK_ATTACK_LIMIT` raised, as the
/// benchmarks use (../shared/research/chatwoot.md §3), so a demo of a few hundred
/// conversations takes seconds instead of minutes at the default 3,000 calls per minute.
pub const DEMO_TARGET_CALLS_PER_MINUTE: u64 = 30_000;

/// The local Chatwoot's per-conversation message guard: turned off (0), as a self-hosted install
/// may set `CONVERSATION_MESSAGE_PER_MINUTE_LIMIT` (../shared/research/chatwoot.md §0.4), so
/// the demo's long conversations load in one run instead of 200 messages a minute. The guard at
/// its default is exercised by the connector's own tests.
pub const DEMO_TARGET_MESSAGE_LIMIT: usize = 0;

/// A connector's sandbox, running (enum dispatch over each sandbox crate's type).
#[derive(Debug)]
pub enum LocalSandbox {
    /// A local Intercom.
    Intercom(IntercomSandbox),
    /// A local Chatwoot.
    Chatwoot(ChatwootSandbox),
    /// A local Zendesk.
    Zendesk(ZendeskSandbox),
}

impl LocalSandbox {
    /// Starts `connector`'s sandbox; a source's serves `world`.
    pub async fn start(connector: Connector, world: DemoWorld) -> anyhow::Result<Self> {
        let context = || format!("cannot start the {} sandbox", connector.display_name());
        Ok(match connector {
            Connector::IntercomFiles => anyhow::bail!(
                "{} reads a folder and has no sandbox; practise with `deskmove sandbox intercom`",
                connector.name()
            ),
            Connector::Intercom => Self::Intercom(
                IntercomSandbox::start(deskmove_intercom_sandbox::SandboxArgs {
                    seed: world.seed,
                    conversations: world.conversations,
                    contacts: world.contacts,
                    ..Default::default()
                })
                .await
                .with_context(context)?,
            ),
            Connector::Chatwoot => Self::Chatwoot(
                ChatwootSandbox::start(deskmove_chatwoot_sandbox::SandboxArgs {
                    rate_limit: DEMO_TARGET_CALLS_PER_MINUTE,
                    message_limit: DEMO_TARGET_MESSAGE_LIMIT,
                    ..Default::default()
                })
                .await
                .with_context(context)?,
            ),
            Connector::Zendesk => Self::Zendesk(
                ZendeskSandbox::start(deskmove_zendesk_sandbox::SandboxArgs {
                    seed: world.seed,
                    tickets: world.conversations,
                    contacts: world.contacts,
                    ..Default::default()
                })
                .await
                .with_context(context)?,
            ),
        })
    }

    /// Whose sandbox it is.
    pub fn connector(&self) -> Connector {
        match self {
            Self::Intercom(_) => Connector::Intercom,
            Self::Chatwoot(_) => Connector::Chatwoot,
            Self::Zendesk(_) => Connector::Zendesk,
        }
    }

    /// The API base URL.
    pub fn base_url(&self) -> Url {
        match self {
            Self::Intercom(s) => s.base_url(),
            Self::Chatwoot(s) => s.base_url(),
            Self::Zendesk(s) => s.base_url(),
        }
    }

    /// The token the sandbox accepts.
    pub fn token(&self) -> SecretString {
        let token = match self {
            Self::Intercom(s) => s.token(),
            Self::Chatwoot(s) => s.token(),
            Self::Zendesk(s) => s.token(),
        };
        SecretString::from(token.to_owned())
    }

    /// `base_url=… token=… [extras]`.
    pub fn ready_line(&self) -> String {
        match self {
            Self::Intercom(s) => s.ready_line(),
            Self::Chatwoot(s) => s.ready_line(),
            Self::Zendesk(s) => s.ready_line(),
        }
    }

    /// A source's world totals or a target's state.
    pub fn inspect(&self) -> serde_json::Value {
        match self {
            Self::Intercom(s) => s.inspect(),
            Self::Chatwoot(s) => s.inspect(),
            Self::Zendesk(s) => s.inspect(),
        }
    }

    /// How many agents a complete listing through the API must show, when the sandbox serves a
    /// synthetic company (current agents only; departed ones still author history).
    pub fn expected_agents(&self) -> Option<u64> {
        match self {
            Self::Intercom(s) => {
                let totals = s.world().totals();
                Some(totals.agents - totals.agents_departed)
            }
            // Zendesk lists its automation user among the agents (role `agent`).
            Self::Zendesk(s) => {
                let totals = s.inspect();
                let n = |key: &str| totals[key].as_u64();
                Some(n("agents")? - n("agents_deleted")? + n("automation_users")?)
            }
            Self::Chatwoot(_) => None,
        }
    }

    /// `[source]` settings pointing at this sandbox, when its connector can be a source.
    pub fn source_section(&self) -> Option<SourceSection> {
        match self {
            Self::Intercom(s) => {
                let files = s.files_url();
                let host = format!(
                    "{}:{}",
                    files.host_str().unwrap_or("127.0.0.1"),
                    files.port_or_known_default().unwrap_or(80)
                );
                Some(SourceSection::Intercom(
                    deskmove_intercom::SourceConfig::at(s.base_url()).with_file_host(host),
                ))
            }
            Self::Zendesk(s) => {
                let files = s.files_url();
                let host = format!(
                    "{}:{}",
                    files.host_str().unwrap_or("127.0.0.1"),
                    files.port_or_known_default().unwrap_or(80)
                );
                Some(SourceSection::Zendesk(
                    deskmove_zendesk::SourceConfig::at(s.base_url())
                        .with_email(s.email())
                        .with_file_host(host),
                ))
            }
            Self::Chatwoot(_) => None,
        }
    }

    /// `[target]` settings pointing at this sandbox, when its connector can be a target.
    pub fn target_section(&self) -> Option<TargetSection> {
        match self {
            Self::Intercom(_) | Self::Zendesk(_) => None,
            Self::Chatwoot(s) => {
                let mut config = deskmove_chatwoot::TargetConfig::at(s.base_url(), s.account_id());
                // The caller holds the sandbox's token; the settings only name a place for it.
                config.token_env = Some("CHATWOOT_TOKEN".to_owned());
                // 90% of the sandbox's raised limit, as the connector budgets the default one.
                config.http = serde_json::from_value(serde_json::json!({
                    "calls_per_minute": DEMO_TARGET_CALLS_PER_MINUTE * 9 / 10,
                }))
                .ok();
                config.conversation_message_limit = Some(DEMO_TARGET_MESSAGE_LIMIT);
                Some(TargetSection::Chatwoot(config))
            }
        }
    }

    /// How many records of each kind a complete export of this source sandbox stages (its
    /// world's totals in canonical kinds); empty for a target or when unknown. Agents are left
    /// out: the export also stages the bot and departed authors.
    pub fn world_counts(&self) -> Vec<(RecordKind, u64)> {
        let totals = self.inspect();
        let n = |key: &str| totals[key].as_u64().unwrap_or(0);
        match self {
            // Tickets are conversations too; a retrieval shows at most 500 parts of each.
            Self::Intercom(_) => vec![
                (RecordKind::Team, n("teams")),
                (RecordKind::Tag, n("tags")),
                (RecordKind::Company, n("companies")),
                (RecordKind::Contact, n("contacts")),
                (RecordKind::Macro, n("macros")),
                (RecordKind::Collection, n("collections")),
                (RecordKind::Article, n("articles")),
                (RecordKind::Conversation, n("conversations") + n("tickets")),
                (
                    RecordKind::Message,
                    n("conversations")
                        + n("conversation_parts_within_cap")
                        + n("tickets")
                        + n("ticket_parts"),
                ),
            ],
            // Every ticket, archived ones included, is a conversation; every comment a message.
            Self::Zendesk(_) => vec![
                (RecordKind::Team, n("groups")),
                (RecordKind::Company, n("organizations")),
                (RecordKind::Contact, n("end_users")),
                (RecordKind::Macro, n("macros")),
                (RecordKind::Article, n("articles")),
                (RecordKind::Conversation, n("tickets")),
                (RecordKind::Message, n("comments")),
            ],
            Self::Chatwoot(_) => Vec::new(),
        }
    }

    /// Stops every server of the sandbox.
    pub async fn shutdown(self) {
        match self {
            Self::Intercom(s) => s.shutdown().await,
            Self::Chatwoot(s) => s.shutdown().await,
            Self::Zendesk(s) => s.shutdown().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The progress hooks of a source whose vendor reports its budget: the records its scan
    /// expects per stream (only for streams whose every kind it counts), and the budget after
    /// the scan's calls.
    #[tokio::test]
    async fn an_intercom_export_source_expects_records_and_reads_its_budget() {
        let world = DemoWorld {
            seed: 7,
            conversations: 5,
            contacts: 12,
        };
        let sandbox = LocalSandbox::start(Connector::Intercom, world)
            .await
            .unwrap();
        let section = sandbox.source_section().unwrap();
        let source = section
            .export_source(&sandbox.token(), &NormalizeConfig::default())
            .unwrap();
        let expected = source.expected_records().await;
        assert_eq!(expected.get("intercom/contacts"), Some(&12), "{expected:?}");
        assert!(
            !expected.contains_key("intercom/conversations"),
            "{expected:?}"
        );
        let (left, limit) = (source.budget_reader().unwrap())().unwrap();
        assert!(left > 0 && left <= limit, "{left}/{limit}");
        sandbox.shutdown().await;
    }

    /// The glue each `LocalSandbox` arm adds: the source settings it builds reach its sandbox,
    /// and the agents listed through them are the ones its world expects.
    #[tokio::test]
    async fn every_source_sandbox_answers_its_own_settings() {
        let world = DemoWorld {
            seed: 7,
            conversations: 5,
            contacts: 5,
        };
        for &connector in connectors() {
            let registration = connector.registration();
            if !registration.is_source() || !registration.sandbox {
                continue;
            }
            let sandbox = LocalSandbox::start(connector, world).await.unwrap();
            let section = sandbox.source_section().unwrap();
            assert_eq!(section.connector(), connector);
            // Its files host is allowed, so an export of the sandbox gets its attachments.
            if let SourceSection::Intercom(config) = &section {
                let host = &config.file_hosts[0];
                assert!(sandbox.ready_line().contains(host.as_str()), "{host}");
            }
            let listed = section.count_agents(&sandbox.token()).await.unwrap();
            assert_eq!(Some(listed), sandbox.expected_agents(), "{connector:?}");
            let wrong = SecretString::from("wrong".to_owned());
            assert!(section.count_agents(&wrong).await.is_err(), "{connector:?}");
            sandbox.shutdown().await;
        }
    }
}
