//! `deskmove sandbox <vendor>`: a faithful local stand-in for a vendor's API, for practising a
//! migration, for tests, and for anyone's own scripts. Prints one ready line on stdout and serves
//! until interrupted.

use std::io::Write;

use anyhow::Context;
use deskmove_sandbox::Sandbox;

use crate::registry::Connector;

/// Starts `connector`'s sandbox `S`, prints its ready line and serves until Ctrl-C or SIGTERM.
pub async fn serve<S: Sandbox>(connector: Connector, args: S::Args) -> anyhow::Result<()> {
    let name = connector.display_name();
    let sandbox = S::start(args)
        .await
        .with_context(|| format!("cannot start the {name} sandbox"))?;
    announce(&sandbox.ready_line())?;
    eprintln!(
        "{name} sandbox on 127.0.0.1. Calls so far: {}__sandbox/stats. Ctrl-C stops it.",
        sandbox.base_url()
    );
    wait_for_stop().await;
    sandbox.shutdown().await;
    Ok(())
}

/// Prints the ready line and flushes, so a parent process reading stdout sees it at once.
fn announce(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
