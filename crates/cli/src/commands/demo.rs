//! `deskmove demo`: a whole migration on one machine with nothing to configure. It starts the
//! sandboxes of the registry's default source (serving a small synthetic company) and target,
//! checks both answer through deskmove's own client, then scans the source, exports the
//! company, proposes a mapping.toml, imports it into the target with that mapping, verifies the
//! counts three ways (the source world's totals, the staging store, the target read back),
//! compares a sample of conversations in depth and writes the run's report into
//! `deskmove-demo/` of the working directory. With `--serve` it keeps both sandboxes running afterwards.
//!
//! Where the default target cannot be written yet, it stops after the checks and says so: it
//! never pretends a migration happened.

mod migration;

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};

use self::migration::Unavailable;
use crate::EXIT_PROBLEMS;

use crate::commands::sandbox::wait_for_stop;
use crate::registry::{DemoWorld, LocalSandbox, default_pair};

/// Arguments of `deskmove demo`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Everything stays on 127.0.0.1 and in deskmove-demo/ of the working directory (-C): its staging
store (with a deskmove.toml, so `deskmove -C deskmove-demo status` and `archive search` work on
it) and the run's report, reports/run-1/report.html. Each demo starts that folder afresh.

The count table compares three independent views per record kind: what the source world holds,
what the export staged, and what the target returns when read back. Exit code 0 when they agree
(records skipped with a reason are listed in the report), 3 when they do not.")]
pub struct DemoArgs {
    /// Keep both sandboxes running after the checks, until Ctrl-C.
    #[arg(long)]
    pub serve: bool,
    /// Seed of the demo company: the same seed gives the same company, byte for byte.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Conversations in the demo company.
    #[arg(long, default_value_t = 300)]
    pub conversations: u64,
    /// Contacts in the demo company.
    #[arg(long, default_value_t = 150)]
    pub contacts: u64,
    /// Print one JSON document on stdout instead of the text summary.
    #[arg(long)]
    pub json: bool,
}

/// What the demo found on one side.
struct Side {
    sandbox: LocalSandbox,
    role: &'static str,
    /// Agents listed through deskmove's client with the sandbox's token.
    agents: u64,
}

/// Runs the demo; `Ok` holds 0, or 3 when the three-way counts disagree.
pub async fn run(dir: &Path, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let (source, target) = default_pair();
    let world = DemoWorld {
        seed: args.seed,
        conversations: args.conversations,
        contacts: args.contacts,
    };
    let source = LocalSandbox::start(source, world).await?;
    let target = LocalSandbox::start(target, world).await?;
    let sides = [check_source(source).await?, check_target(target).await?];
    let migrated = migration::migrate(dir, &sides[0].sandbox, &sides[1].sandbox).await?;

    if args.json {
        let mut doc = serde_json::Map::new();
        for side in &sides {
            doc.insert(side.sandbox.connector().name().to_owned(), side_json(side));
        }
        let migration = match &migrated {
            Ok(m) => serde_json::to_value(m)?,
            Err(Unavailable::NotBuilt(why)) => json!({"unavailable": why}),
        };
        doc.insert("migration".to_owned(), migration);
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        let mut text = summary(&sides);
        match &migrated {
            Ok(m) => text.push_str(&migration_summary(m)),
            Err(Unavailable::NotBuilt(why)) => {
                let _ = writeln!(
                    text,
                    "\nNo migration was run: {why}\nThe checks above are what the demo can show today."
                );
            }
        }
        let source = sides[0].sandbox.connector().name();
        let _ = write!(
            text,
            "\nTry it yourself: `deskmove demo --serve` keeps both running and prints their tokens;\n`deskmove sandbox {source} --help` shows the faults and limits you can switch on;\n`deskmove init` writes a deskmove.toml for your own helpdesks.\n"
        );
        print!("{text}");
    }

    if args.serve {
        for side in &sides {
            println!("{}", side.sandbox.ready_line());
        }
        eprintln!("Both sandboxes keep running on 127.0.0.1 until Ctrl-C.");
        wait_for_stop().await;
    }
    for side in sides {
        side.sandbox.shutdown().await;
    }
    Ok(match migrated {
        Ok(m) if !m.verified => ExitCode::from(EXIT_PROBLEMS),
        _ => ExitCode::SUCCESS,
    })
}

/// The migration's counts, where the report is and what to look at.
fn migration_summary(m: &migration::Migration) -> String {
    let mut s = String::new();
    if let Some(scanned) = &m.scanned {
        let counts: Vec<String> = scanned
            .iter()
            .filter(|(_, n, _)| *n > 0)
            .map(|(kind, n, exact)| format!("{}{n} {kind}", if *exact { "" } else { "~" }))
            .collect();
        let _ = writeln!(s, "\nScan (read-only): {}.", counts.join(", "));
    }
    let _ = writeln!(
        s,
        "Map: {} proposed ({} agents matched by email, {} kept as attribution, {} label collisions).",
        m.folder.join(crate::workspace::MAPPING_FILE).display(),
        m.mapped.agents_matched,
        m.mapped.agents_unmatched,
        m.mapped.collisions
    );
    let _ = write!(
        s,
        "\nMigration (run #{}): {} records exported, {} written into {}.\n",
        m.run,
        m.exported,
        m.import.total_written(),
        m.import.target
    );
    let _ = writeln!(
        s,
        "  {:<22} {:>8} {:>8} {:>8} {:>8}",
        "kind", "source", "staged", "loaded", "found"
    );
    for line in &m.counts {
        let source = line.source.map_or("-".to_owned(), |n| n.to_string());
        let _ = writeln!(
            s,
            "  {:<22} {:>8} {:>8} {:>8} {:>8}{}",
            line.kind,
            source,
            line.check.staged,
            line.check.loaded,
            line.check.found,
            if line.ok() { "" } else { "  MISMATCH" }
        );
    }
    crate::commands::verify::render_deep(&mut s, &m.deep);
    let _ = writeln!(
        s,
        "  {}",
        if m.verified {
            "Verified: the store holds what the source has, the target what the ledger says, and the sample compared equal."
        } else {
            "Not verified: the lines marked MISMATCH or the differences above disagree."
        }
    );
    if m.import.has_problems() {
        let _ = writeln!(
            s,
            "  {} records were skipped or failed, each with its reason in the report (the demo company has the awkward cases real ones do).",
            m.import.total.failed + m.import.total.skipped
        );
    }
    if m.held_back > 0 {
        let _ = writeln!(
            s,
            "  {} of them were held back by the target's limits (messages per conversation per minute); a later import writes them.",
            m.held_back
        );
    }
    if let Some(files) = &m.report {
        let _ = writeln!(
            s,
            "\nReport: {}\n        {}",
            files.html.display(),
            files.json.display()
        );
    }
    let _ = writeln!(
        s,
        "The staging store is {}: `deskmove -C {} status` shows it.",
        m.folder.join("deskmove.sqlite").display(),
        m.folder.display()
    );
    s
}

/// Reads the source the way an export starts: through the polite client with the token, and
/// compares the agents it lists with the synthetic company's own count.
async fn check_source(sandbox: LocalSandbox) -> anyhow::Result<Side> {
    let name = sandbox.connector().display_name();
    let section = sandbox.source_section().ok_or_else(|| {
        anyhow::anyhow!("{name} is registered as a source but has no source settings")
    })?;
    let agents = section.count_agents(&sandbox.token()).await?;
    if let Some(expected) = sandbox.expected_agents()
        && expected != agents
    {
        anyhow::bail!("the {name} sandbox listed {agents} agents but its world has {expected}");
    }
    Ok(Side {
        sandbox,
        role: "source",
        agents,
    })
}

/// Checks the target answers with its token, as the first step of a load would.
async fn check_target(sandbox: LocalSandbox) -> anyhow::Result<Side> {
    let name = sandbox.connector().display_name();
    let section = sandbox.target_section().ok_or_else(|| {
        anyhow::anyhow!("{name} is registered as a target but has no target settings")
    })?;
    let agents = section.count_agents(&sandbox.token()).await?;
    Ok(Side {
        sandbox,
        role: "target",
        agents,
    })
}

fn side_json(side: &Side) -> Value {
    let mut doc = json!({
        "role": side.role,
        "display_name": side.sandbox.connector().display_name(),
        "base_url": side.sandbox.base_url().as_str(),
        "checked": {"agents": side.agents},
    });
    if side.role == "source" {
        doc["world"] = side.sandbox.inspect();
    }
    doc
}

fn summary(sides: &[Side]) -> String {
    let names: Vec<&str> = sides
        .iter()
        .map(|s| s.sandbox.connector().display_name())
        .collect();
    let mut s = format!(
        "deskmove demo — a local {}, on 127.0.0.1 only.\n",
        names.join(" and a local ")
    );
    for side in sides {
        let connector = side.sandbox.connector();
        let _ = writeln!(
            s,
            "\n{} sandbox ({})  {}",
            connector.display_name(),
            side.role,
            side.sandbox.base_url()
        );
        let _ = writeln!(
            s,
            "  checked: deskmove's HTTP client lists {} agent{} with the sandbox's token{}",
            side.agents,
            if side.agents == 1 { "" } else { "s" },
            if side.sandbox.expected_agents().is_some() {
                ", as many as its company has"
            } else {
                ""
            }
        );
        if side.role == "source" {
            let _ = writeln!(s, "  the company to move:");
            s.push_str(&totals(&side.sandbox.inspect()));
        }
    }
    s
}

/// The world's counts as `name count` pairs, three to a line.
fn totals(world: &Value) -> String {
    let pairs: Vec<String> = world
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, _)| key.as_str() != "epoch")
        .filter_map(|(key, value)| Some(format!("{} {}", key.replace('_', " "), value.as_u64()?)))
        .collect();
    let mut out = String::new();
    for line in pairs.chunks(3) {
        let _ = writeln!(out, "    {}", line.join(", "));
    }
    out
}
