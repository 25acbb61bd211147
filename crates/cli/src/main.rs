//! The `deskmove` binary: glue between the command line and the library crates. It parses
//! arguments, sets up logging on stderr, runs one command and turns the outcome into the exit
//! codes documented in `--help`.

mod commands;
mod config;
mod progress;
mod registry;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code: the command could not do its job.
const EXIT_FAILED: u8 = 1;
/// Exit code: bad usage or configuration; nothing was changed.
const EXIT_USAGE: u8 = 2;
/// Exit code: finished, but some records were skipped or failed (each is listed with a reason).
const EXIT_PROBLEMS: u8 = 3;

const ABOUT: &str = "Move a company's whole customer-support history from one helpdesk to another, with nothing lost, nothing duplicated and nobody notified.";

/// The getting-started part of `--help`, naming the registry's default pair.
fn after_help() -> String {
    let (source, target) = registry::default_pair();
    let init = registry::init_command();
    let sandbox = format!("deskmove sandbox {}", source.name());
    format!(
        "\
Getting started:
  {init:<46}write a commented deskmove.toml
  {status:<46}check the set-up; see what is staged and why
  {export:<46}read everything from {source_name} into the staging store
  {demo:<46}a local {source_name} and {target_name}, checked end to end
  {sandbox:<46}a local {source_name} to practise against

Tokens are read from the environment variables named in deskmove.toml, never from the file.

Exit codes: 0 done; 1 failed; 2 bad usage or configuration (nothing changed);
3 finished, but some records were skipped or failed (the report lists each with its reason).",
        status = "deskmove status",
        export = "deskmove export",
        demo = "deskmove demo",
        source_name = source.display_name(),
        target_name = target.display_name(),
    )
}

/// deskmove
#[derive(Debug, Parser)]
#[command(name = "deskmove", version, about = ABOUT, after_help = after_help())]
struct Cli {
    /// Work in this directory (where deskmove.toml and the staging store live).
    #[arg(
        short = 'C',
        long = "dir",
        global = true,
        default_value = ".",
        value_name = "DIR"
    )]
    dir: PathBuf,

    /// More log output on stderr (-v: info, -vv: debug). `DESKMOVE_LOG` takes a full filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a commented deskmove.toml for a source and a target (never overwrites).
    Init(commands::init::InitArgs),
    /// Check the set-up and show what the staging store holds: per kind staged, loaded and
    /// failed, problems grouped by reason, stream positions and runs.
    Status(commands::status::StatusArgs),
    /// Read everything from the source into the staging store, with its files. Resumable: a
    /// re-run continues where the last one stopped, and a later one fetches only what changed.
    /// Progress goes to stderr, the summary (or `--json`) to stdout.
    Export(commands::export::ExportArgs),
    /// Start a faithful local stand-in for a vendor's API (for practice, tests and scripts).
    #[command(subcommand)]
    Sandbox(registry::SandboxCommand),
    /// Start local sandboxes of the default source (serving a demo company) and target, check
    /// both through deskmove's client, and show what a migration moves (`--serve` keeps them
    /// running).
    Demo(commands::demo::DemoArgs),
    /// List the helpdesks deskmove can read from and write to, with their load paths and
    /// sandboxes.
    Connectors(commands::connectors::ConnectorsArgs),
}

/// A usage or configuration mistake: exit code 2, and the message says what to change.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            let usage = error
                .chain()
                .any(|cause| cause.is::<UsageError>() || cause.is::<config::ConfigError>());
            ExitCode::from(if usage { EXIT_USAGE } else { EXIT_FAILED })
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Init(args) => commands::init::run(&cli.dir, &args)?,
            Command::Status(args) => commands::status::run(&cli.dir, &args).await?,
            Command::Export(args) => return commands::export::run(&cli.dir, &args).await,
            Command::Sandbox(command) => command.run().await?,
            Command::Demo(args) => commands::demo::run(&args).await?,
            Command::Connectors(args) => commands::connectors::run(&args)?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DESKMOVE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
