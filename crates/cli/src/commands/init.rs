//! `deskmove init`: writes a commented `deskmove.toml` for a source and target, and never
//! overwrites one that exists. Each side's settings are the template of the connector's own
//! crate; this file only frames them.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use deskmove_core::config::TokenSource;

use crate::config::{CONFIG_FILE, Config};
use crate::registry::{Connector, SourceName, TargetName, default_pair};

/// Arguments of `deskmove init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The helpdesk to read history from.
    #[arg(long, value_enum, default_value = default_pair().0.name())]
    pub from: SourceName,
    /// The helpdesk to write history to.
    #[arg(long, value_enum, default_value = default_pair().1.name())]
    pub to: TargetName,
}

/// Writes the template into `dir`, refusing to replace an existing file.
pub fn run(dir: &Path, args: &InitArgs) -> anyhow::Result<()> {
    let text = template(args.from, args.to);
    let config = Config::parse(&text, Path::new(CONFIG_FILE))
        .context("the built-in template does not parse; this is a bug")?;
    let path = dir.join(CONFIG_FILE);
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!(crate::UsageError(format!(
                "{} already exists; deskmove init never overwrites it. Edit it, or move it away and run init again.",
                path.display()
            )));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;

    let (source, target) = (args.from.0, args.to.0);
    let mut exports = String::new();
    for (connector, place) in [
        (source, config.source.token_source()),
        (target, config.target.token_source()),
    ] {
        if let Ok(TokenSource::Env(var)) = place {
            let registration = connector.registration();
            let _ = writeln!(
                exports,
                "       export {:<20} # {}: {}",
                format!("{var}=..."),
                registration.display_name,
                registration.token_help
            );
        }
    }
    eprintln!(
        "Wrote {}.\n\nNext:\n  1. Put your tokens in the environment (never in the file):\n{exports}  2. Set [source] and [target] in {CONFIG_FILE} to your own {} and {} (each setting is explained there).\n  3. Run `deskmove status` to check the set-up and see what is staged.{}",
        path.display(),
        source.display_name(),
        target.display_name(),
        practise_hint(source, target),
    );
    Ok(())
}

/// "To practise first, …" naming the sandboxes of the pair, or nothing when neither has one.
pub fn practise_hint(source: Connector, target: Connector) -> String {
    let commands: Vec<String> = [source, target]
        .into_iter()
        .filter(|c| c.registration().sandbox)
        .map(|c| format!("`deskmove sandbox {}`", c.name()))
        .collect();
    if commands.is_empty() {
        return String::new();
    }
    format!(
        "\n\nTo practise first, {} start{} local stand-ins.",
        commands.join(" and "),
        if commands.len() == 1 { "s" } else { "" }
    )
}

/// The commented configuration written by `init`. It parses as it is (a test checks that).
pub fn template(from: SourceName, to: TargetName) -> String {
    let source = from.0.registration();
    let target = to.0.registration();
    format!(
        r#"# deskmove.toml — what to move, from where, to where.
# Tokens never go in this file: name the environment variable (token_env) or a file readable
# only by you (token_file, mode 0600) that holds each one.

[source]
# The helpdesk history is read from.
kind = "{from}"
{source_settings}
[target]
# The helpdesk history is written to.
kind = "{to}"
{target_settings}
[store]
# The staging store: everything read from the source, the ledger of what was written, and every
# problem found. Keep it: it makes re-runs safe and is a searchable archive. Created mode 0600.
path = "deskmove.sqlite"
# Downloaded attachments, one file per content hash.
blobs = "blobs"

[normalize]
# The country assumed for phone numbers without an international prefix (ISO 3166 code).
default_phone_region = "US"
"#,
        from = source.name,
        to = target.name,
        source_settings = source.source_template.unwrap_or_default(),
        target_settings = target.target_template.unwrap_or_default(),
    )
}
