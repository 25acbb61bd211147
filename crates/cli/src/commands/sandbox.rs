//! `deskmove sandbox <vendor>`: a faithful local stand-in for a vendor's API, for practising a
//! migration, for tests, and for anyone's own scripts. Prints one ready line on stdout and serves
//! until interrupted.

use std::io::Write;

use anyhow::Context;
use deskmove_chatwoot_sandbox::RunningSandbox as ChatwootSandbox;
use deskmove_intercom_sandbox::RunningSandbox as IntercomSandbox;
use deskmove_sandbox::Sandbox;

/// Which sandbox to start.
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
}

/// Starts the sandbox, prints its ready line and serves until Ctrl-C or SIGTERM.
pub async fn run(command: SandboxCommand) -> anyhow::Result<()> {
    match command {
        SandboxCommand::Intercom(args) => {
            let sandbox = IntercomSandbox::start(args)
                .await
                .context("cannot start the Intercom sandbox")?;
            announce(&sandbox.ready_line())?;
            eprintln!(
                "Intercom sandbox on 127.0.0.1; files on {}. World totals: {}__sandbox/expected. Ctrl-C stops it.",
                sandbox.files_url(),
                sandbox.base_url()
            );
            wait_for_stop().await;
            sandbox.shutdown().await;
        }
        SandboxCommand::Chatwoot(args) => {
            let sandbox = ChatwootSandbox::start(args)
                .await
                .context("cannot start the Chatwoot sandbox")?;
            announce(&sandbox.ready_line())?;
            eprintln!(
                "Chatwoot sandbox on 127.0.0.1. Account state: {}__sandbox/dump. Ctrl-C stops it.",
                sandbox.base_url()
            );
            wait_for_stop().await;
            sandbox.shutdown().await;
        }
    }
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
