//! `deskmove init`: writes a commented `deskmove.toml` for a source and target, and never
//! overwrites one that exists.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

use crate::config::{CONFIG_FILE, Vendor};

/// Arguments of `deskmove init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The helpdesk to read history from.
    #[arg(long, value_enum, default_value = "intercom")]
    pub from: Vendor,
    /// The helpdesk to write history to.
    #[arg(long, value_enum, default_value = "chatwoot")]
    pub to: Vendor,
}

/// Writes the template into `dir`, refusing to replace an existing file.
pub fn run(dir: &Path, args: &InitArgs) -> anyhow::Result<()> {
    if args.from != Vendor::Intercom {
        bail!(crate::UsageError(format!(
            "{} cannot be a source yet; use --from intercom.",
            args.from.as_str()
        )));
    }
    if args.to != Vendor::Chatwoot {
        bail!(crate::UsageError(format!(
            "{} cannot be a target yet; use --to chatwoot.",
            args.to.as_str()
        )));
    }
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
    file.write_all(template(args.from, args.to).as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "Wrote {}.\n\nNext:\n  1. Put your tokens in the environment (never in the file):\n       export INTERCOM_TOKEN=...   # Intercom: Settings > Developers > your app > Authentication\n       export CHATWOOT_TOKEN=...   # Chatwoot: Profile settings > Access token (an administrator's)\n  2. Set [target] base_url and account_id in {CONFIG_FILE} to your Chatwoot.\n  3. Run `deskmove status` to check the set-up and see what is staged.\n\nTo practise first, `deskmove sandbox intercom` and `deskmove sandbox chatwoot` start local stand-ins.",
        path.display()
    );
    Ok(())
}

/// The commented configuration written by `init`. It parses as it is (a test checks that).
pub fn template(from: Vendor, to: Vendor) -> String {
    format!(
        r#"# deskmove.toml — what to move, from where, to where.
# Tokens never go in this file: name the environment variable (token_env) or a file readable
# only by you (token_file, mode 0600) that holds each one.

[source]
# The helpdesk history is read from.
kind = "{from}"
# Intercom region: https://api.intercom.io (US), https://api.eu.intercom.io (EU),
# https://api.au.intercom.io (AU).
base_url = "https://api.intercom.io"
# The environment variable holding an Intercom access token with read scopes.
token_env = "INTERCOM_TOKEN"
# Call budget and retries default to Intercom's documented limits (10,000 calls/min per app, in
# 10-second windows; deskmove uses 9,000). Lower it when other integrations share the workspace:
# [source.http]
# calls_per_minute = 5000

[target]
# The helpdesk history is written to.
kind = "{to}"
# Your Chatwoot: a self-hosted address, or https://app.chatwoot.com for Chatwoot Cloud.
base_url = "https://chatwoot.example.com"
# The account to write into: the number in /app/accounts/<id>/ of your Chatwoot's address bar.
account_id = 1
# The environment variable holding an administrator's Chatwoot access token.
token_env = "CHATWOOT_TOKEN"
# Defaults to self-hosted Chatwoot's 3,000 calls/min per IP (deskmove uses 2,700):
# [target.http]
# calls_per_minute = 2700
# request_timeout = "60s"

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
        from = from.as_str(),
        to = to.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_template_is_a_valid_config() {
        let text = template(Vendor::Intercom, Vendor::Chatwoot);
        let config = Config::parse(&text, Path::new(CONFIG_FILE)).unwrap();
        assert_eq!(config.source.kind, Vendor::Intercom);
        assert_eq!(config.target.account_id, Some(1));
        assert_eq!(config.source.token_env.as_deref(), Some("INTERCOM_TOKEN"));
    }
}
