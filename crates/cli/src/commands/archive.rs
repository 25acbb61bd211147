//! `deskmove archive`: the staging store as the read-only archive a compliance team keeps after
//! cutover. `archive search` finds conversations by the words of their messages, attachment
//! file names and subjects (the store's full-text index, kept current as pages are staged).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use deskmove_store::{ArchiveHit, SqliteStore};

use crate::UsageError;
use crate::config::Config;

/// `deskmove archive <command>`.
#[derive(Debug, clap::Subcommand)]
pub enum ArchiveCommand {
    /// Find staged conversations containing every word of TEXT (in any order; case and
    /// accents ignored) in a message, an attachment's file name or the subject. Prints each
    /// conversation once, best match first, with its contact, date and the matching text.
    Search(SearchArgs),
}

/// Arguments of `deskmove archive search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The words to find, e.g. "refund invoice-2023.pdf".
    pub text: String,
    /// Show at most this many conversations.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print one JSON document on stdout instead of the list.
    #[arg(long)]
    pub json: bool,
}

impl ArchiveCommand {
    /// Runs the command. Reads only: it never changes what is staged.
    pub async fn run(&self, dir: &Path) -> anyhow::Result<()> {
        match self {
            Self::Search(args) => search(dir, args).await,
        }
    }
}

async fn search(dir: &Path, args: &SearchArgs) -> anyhow::Result<()> {
    if args.text.split_whitespace().next().is_none() {
        return Err(UsageError("`deskmove archive search` needs a word to find".into()).into());
    }
    let config = Config::load(dir)?;
    let path = dir.join(&config.store.path);
    if !path.exists() {
        return Err(UsageError(format!(
            "the staging store {} does not exist yet; `deskmove export` fills it",
            path.display()
        ))
        .into());
    }
    let store = SqliteStore::open(&path)
        .with_context(|| format!("cannot open the staging store {}", path.display()))?;
    let hits = store.search_archive(&args.text, args.limit.max(1)).await;
    store.close()?;
    let hits = hits?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "query": args.text,
                "hits": hits,
            }))?
        );
    } else {
        print!("{}", render(&args.text, &hits));
    }
    Ok(())
}

fn render(text: &str, hits: &[ArchiveHit]) -> String {
    let mut s = String::new();
    if hits.is_empty() {
        let _ = writeln!(s, "No staged conversation contains \"{text}\".");
        return s;
    }
    for h in hits {
        let date = h.created_at.map_or_else(
            || "date unknown".to_owned(),
            |t| t.strftime("%Y-%m-%d").to_string(),
        );
        let contact = match (&h.contact_name, &h.contact_email, &h.contact) {
            (Some(name), Some(email), _) => format!("{name} <{email}>"),
            (None, Some(email), _) | (Some(email), None, _) => email.clone(),
            (None, None, Some(k)) => k.to_string(),
            (None, None, None) => "contact unknown".to_owned(),
        };
        let _ = writeln!(s, "{}  {date}  {contact}", h.conversation);
        if let Some(subject) = &h.subject {
            let _ = writeln!(s, "  subject: {subject}");
        }
        let snippet = h.snippet.split_whitespace().collect::<Vec<_>>().join(" ");
        let _ = writeln!(s, "  {}: {snippet}", h.matched.kind);
    }
    let _ = writeln!(
        s,
        "\n{} found; `deskmove archive search --json` prints them with their keys.",
        crate::progress::plural(hits.len() as u64, "conversation")
    );
    s
}
