//! `deskmove map`: proposes `mapping.toml` from what the staging store holds and who the
//! target's agents are, commented for review. A re-run keeps the user's values and comments and
//! adds entries only for what is new; nothing is written to the target (agents are only listed).

use std::fmt::Write as _;
use std::path::Path;

use deskmove_core::RecordKind;
use deskmove_store::Store;
use serde::Serialize;

use crate::UsageError;
use crate::config::{Config, read_token};
use crate::registry::{MappingFacts as Facts, MappingProposal as Proposal};
use crate::workspace::{self, MAPPING_FILE};

/// Records read from the store per page.
const PAGE: usize = 500;

/// Arguments of `deskmove map`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Reads the agents, tags, attribute definitions and conversations the staging store holds (run
`deskmove export` first) and lists the target account's agents (read only), then writes
mapping.toml beside deskmove.toml: agents matched by email (or kept as attribution only), tags
to label titles with collisions flagged, attribute types, channels to inboxes and states to
statuses, each with a comment. Run it again after an export: your edits stay, new entries are
added. `deskmove run` uses the file; an edited decision updates exactly what it shapes.")]
pub struct MapArgs {
    /// Print one JSON document on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct MapOutput {
    file: String,
    /// The target's name, as people write it.
    target: &'static str,
    created: bool,
    #[serde(flatten)]
    proposal: Proposal,
}

/// What the proposal is made from: the staged agents, tags, attribute definitions and
/// conversations, and how many records that was.
pub async fn staged_facts(store: &impl Store) -> anyhow::Result<(Facts, u64)> {
    let mut facts = Facts::default();
    let mut staged = 0u64;
    for kind in [
        RecordKind::Agent,
        RecordKind::Tag,
        RecordKind::AttributeDefinition,
        RecordKind::Conversation,
    ] {
        let mut after = None;
        loop {
            let page = store.records(kind, after.as_ref(), PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.record.key().clone());
            for stored in &page {
                facts.add(&stored.record);
                staged += 1;
            }
        }
    }
    Ok((facts, staged))
}

/// Runs the command.
pub async fn run(dir: &Path, args: &MapArgs) -> anyhow::Result<()> {
    let config = Config::load(dir)?;
    if !config.target.needs_token() {
        return Err(UsageError(format!(
            "{MAPPING_FILE} shapes the API path; the database path (`path = \"postgres\"`) writes agents, labels and states as the source has them and does not read it."
        ))
        .into());
    }
    let store = workspace::open_store(dir, &config, false)?;
    let (facts, staged) = staged_facts(&store).await?;
    store.close()?;
    if staged == 0 {
        return Err(UsageError(
            "the staging store holds no agents, tags or conversations yet: run `deskmove export` first.".into(),
        )
        .into());
    }
    let connector = config.target.connector();
    let place = config.target.token_source().map_err(UsageError)?;
    let token = read_token(&place, dir, connector.display_name())
        .map_err(|message| UsageError(format!("[target]: {message}")))?;
    let agents = config.target.agent_emails(&token).await?;

    let path = dir.join(MAPPING_FILE);
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(UsageError(format!("cannot read {}: {e}", path.display())).into()),
    };
    let proposal = config
        .target
        .propose_mapping(existing.as_deref(), &facts, &agents)
        .map_err(UsageError)?;
    if existing.as_deref() != Some(proposal.text.as_str()) {
        std::fs::write(&path, &proposal.text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    let output = MapOutput {
        file: MAPPING_FILE.to_owned(),
        target: config.target.connector().display_name(),
        created: existing.is_none(),
        proposal,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        print!("{}", render(&output));
    }
    Ok(())
}

fn render(out: &MapOutput) -> String {
    let p = &out.proposal;
    let mut s = format!(
        "{}: {} {} added, {} kept as they were{}.\n",
        out.file,
        p.added.len(),
        if p.added.len() == 1 {
            "entry"
        } else {
            "entries"
        },
        p.kept,
        if out.created { " (new file)" } else { "" }
    );
    let _ = writeln!(
        s,
        "Agents: {} matched by email, {} with no {} agent of the same email (attribution only unless you change them).",
        p.agents_matched.len(),
        p.agents_unmatched.len(),
        out.target
    );
    for (title, tags) in &p.collisions {
        let tags = tags
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(s, "Label collision: {tags} all become `{title}`.");
    }
    let _ = writeln!(
        s,
        "\nReview {}, then `deskmove run`; `deskmove map` again keeps your edits and adds what is new.",
        out.file
    );
    s
}
