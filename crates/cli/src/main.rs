//! The `deskmove` binary: glue between the command line and the library crates. It parses
//! arguments, sets up logging on stderr, runs one command and turns the outcome into the exit
//! codes documented in `--help`.

mod commands;
mod config;
mod load_progress;
mod progress;
mod registry;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jemalloc instead of glibc's malloc: with dozens of threads (runtime workers, the blocking pool
/// of file and store work) glibc kept freed pages in many arenas; an export of 10,000
/// conversations peaked at 242 MB of RSS (196 MB with jemalloc).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
  {scan:<46}read-only: counts, unmatched agents, predicted calls and time
  {map:<46}propose mapping.toml: agents, labels, inboxes, states
  {export:<46}read everything from {source_name} into the staging store
  {import:<46}write the staged records into {target_name}
  {run:<46}both at once; re-run to top up what changed
  {verify:<46}check {target_name} holds what the ledger says
  {rollback:<46}remove what deskmove created in {target_name}
  {demo:<46}a whole local migration, {source_name} to {target_name}
  {sandbox:<46}a local {source_name} to practise against

Tokens are read from the environment variables named in deskmove.toml, never from the file.

Exit codes: 0 done; 1 failed; 2 bad usage or configuration (nothing changed);
3 finished, but some records were skipped or failed (the report lists each with its reason).",
        status = "deskmove status",
        scan = "deskmove scan [--json] [--runbook FILE]",
        map = "deskmove map",
        export = "deskmove export",
        import = "deskmove import",
        run = "deskmove run",
        verify = "deskmove verify",
        rollback = "deskmove rollback [--run ID]",
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
    /// Read-only: counts, file bytes, lengths, unmatched agents, predicted calls and time.
    Scan(commands::scan::ScanArgs),
    /// Propose mapping.toml for review: agents matched by email, tags to label titles
    /// (collisions flagged), attribute types, channels to inboxes, states. A re-run keeps your
    /// edits and adds only what is new.
    Map(commands::map::MapArgs),
    /// Read everything from the source into the staging store, with its files. Resumable: a
    /// re-run continues where the last one stopped, and a later one fetches only what changed.
    /// Progress goes to stderr, the summary (or `--json`) to stdout.
    Export(commands::export::ExportArgs),
    /// Write what the staging store holds into the target, after the target's safety check.
    /// Resumable and idempotent: a re-run writes only what changed. Progress per kind goes to
    /// stderr, the summary (or `--json`) to stdout, the report to reports/run-<id>/.
    Import(commands::import::ImportArgs),
    /// The whole migration: `export` then `import`, as one run. A re-run is the delta top-up.
    Run(commands::run::RunArgs),
    /// Remove from the target what deskmove's imports created there (or one run's, with
    /// `--run`), in reverse dependency order; what was there before is never touched.
    Rollback(commands::rollback::RollbackArgs),
    /// Reconcile the staging store with the target: per kind staged, loaded and found in the
    /// target when read back; exits 3 naming every record the target should hold and does not.
    Verify(commands::verify::VerifyArgs),
    /// Start a faithful local stand-in for a vendor's API (for practice, tests and scripts).
    #[command(subcommand)]
    Sandbox(registry::SandboxCommand),
    /// A whole migration on this machine with nothing to set up: local sandboxes of the default
    /// source (serving a small demo company) and target, scan, map, export, import, a three-way
    /// count (source, store, target), a sample compared in depth and the report in
    /// deskmove-demo/ (`--serve` keeps them running).
    Demo(commands::demo::DemoArgs),
    /// List the helpdesks deskmove can read from and write to, with their load paths and
    /// sandboxes.
    Connectors(commands::connectors::ConnectorsArgs),
    /// The staging store as a read-only archive: `archive search "refund"` finds staged
    /// conversations by their words, with contact, date and the matching text.
    #[command(subcommand)]
    Archive(commands::archive::ArchiveCommand),
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
            Command::Scan(args) => commands::scan::run(&cli.dir, &args).await?,
            Command::Map(args) => commands::map::run(&cli.dir, &args).await?,
            Command::Export(args) => return commands::export::run(&cli.dir, &args).await,
            Command::Import(args) => return commands::import::run(&cli.dir, &args).await,
            Command::Run(args) => return commands::run::run(&cli.dir, &args).await,
            Command::Rollback(args) => return commands::rollback::run(&cli.dir, &args).await,
            Command::Verify(args) => return commands::verify::run(&cli.dir, &args).await,
            Command::Sandbox(command) => command.run().await?,
            Command::Demo(args) => return commands::demo::run(&cli.dir, &args).await,
            Command::Connectors(args) => commands::connectors::run(&args)?,
            Command::Archive(command) => command.run(&cli.dir).await?,
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
