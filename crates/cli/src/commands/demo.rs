//! `deskmove demo`: the whole set-up on one machine with nothing to configure. It starts the
//! sandboxes of the registry's default source and target (the source serving the embedded demo
//! company), checks both answer through deskmove's own polite HTTP client with their tokens, and
//! shows what a migration of that company moves. With `--serve` it keeps both running.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::commands::sandbox::wait_for_stop;
use crate::registry::{DemoWorld, LocalSandbox, default_pair};

/// Arguments of `deskmove demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Keep both sandboxes running after the checks, until Ctrl-C.
    #[arg(long)]
    pub serve: bool,
    /// Seed of the demo company: the same seed gives the same company, byte for byte.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Conversations in the demo company.
    #[arg(long, default_value_t = 1_000)]
    pub conversations: u64,
    /// Contacts in the demo company.
    #[arg(long, default_value_t = 300)]
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

/// Runs the demo.
pub async fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let (source, target) = default_pair();
    let world = DemoWorld {
        seed: args.seed,
        conversations: args.conversations,
        contacts: args.contacts,
    };
    let source = LocalSandbox::start(source, world).await?;
    let target = LocalSandbox::start(target, world).await?;
    let sides = [check_source(source).await?, check_target(target).await?];

    if args.json {
        let mut doc = serde_json::Map::new();
        for side in &sides {
            doc.insert(side.sandbox.connector().name().to_owned(), side_json(side));
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", summary(&sides));
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
    Ok(())
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
    let source = sides[0].sandbox.connector().name();
    let _ = write!(
        s,
        "\nTry it yourself: `deskmove demo --serve` keeps both running and prints their tokens;\n`deskmove sandbox {source} --help` shows the faults and limits you can switch on.\n"
    );
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
