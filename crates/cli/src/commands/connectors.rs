//! `deskmove connectors`: the registry as a user sees it — which helpdesks can be read from
//! and written to, by which load paths, and which have a local sandbox.

use std::fmt::Write as _;

use crate::registry::connectors;

/// Arguments of `deskmove connectors`.
#[derive(Debug, clap::Args)]
pub struct ConnectorsArgs {
    /// Print the registrations as one JSON document on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Prints the registry.
pub fn run(args: &ConnectorsArgs) -> anyhow::Result<()> {
    let registrations: Vec<_> = connectors().iter().map(|c| c.registration()).collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&registrations)?);
        return Ok(());
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<15} {:<14} {:<7} {:<7} {:<16} sandbox",
        "name", "helpdesk", "source", "target", "load paths"
    );
    let yes = |b: bool| if b { "yes" } else { "-" };
    for r in &registrations {
        let paths = if r.load_paths.is_empty() {
            "-".to_owned()
        } else {
            r.load_paths.join(", ")
        };
        let _ = writeln!(
            s,
            "{:<15} {:<14} {:<7} {:<7} {:<16} {}",
            r.name,
            r.display_name,
            yes(r.is_source()),
            yes(r.is_target()),
            paths,
            yes(r.sandbox)
        );
    }
    print!("{s}");
    Ok(())
}
