//! Command-line / in-process options of the Zendesk sandbox.

use deskmove_sandbox::Faults;

/// How a 429 looks: Zendesk answers throttled calls in several shapes, and clients break on
/// each differently (`../shared/research/zendesk-freshdesk-helpscout.md` §1.4, §7.8).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TooManyStyle {
    /// `{"error":"APIRateLimitExceeded","description":…}` with `Retry-After`.
    #[default]
    Json,
    /// A plain-text body ("Number of allowed API requests per minute exceeded") with
    /// `Retry-After`: clients that always decode JSON fail on it.
    Text,
    /// The edge-protection JSON (`{"detail","status","title":"Automated response"}`) with
    /// `Retry-After`.
    Edge,
    /// A plain-text body and no `Retry-After` at all.
    NoRetryAfter,
}

/// Options of `deskmove sandbox zendesk` (also used in-process by tests).
#[derive(clap::Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Port for the API on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Port for the pre-signed attachment host on 127.0.0.1 (0 = any free port). Zendesk
    /// redirects downloads to another host (`*.zdusercontent.com`) that needs no credentials.
    #[arg(long, default_value_t = 0)]
    pub files_port: u16,
    /// Seed of the synthetic world: same seed and sizes, same data, byte for byte.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Tickets (the world's conversations).
    #[arg(long, alias = "conversations", default_value_t = 1_000)]
    pub tickets: u64,
    /// End users (the world's contacts).
    #[arg(long, default_value_t = 300)]
    pub contacts: u64,
    /// Account-wide rate limit in calls per minute (Enterprise: 700). 0 turns limits and the
    /// rate headers off.
    #[arg(long, default_value_t = 700)]
    pub rate_limit: u64,
    /// Incremental-export calls per minute (Zendesk: 10). 0 turns that bucket off.
    #[arg(long, default_value_t = 10)]
    pub incremental_rate_limit: u64,
    /// Length of both rate windows in seconds (Zendesk: 60); the limits above then count per
    /// window of this length. For tests that watch pacing over several windows without waiting
    /// minutes; a shorter window with a proportionally lower limit is never more lenient.
    #[arg(long, hide = true, default_value_t = 60)]
    pub rate_window_secs: u64,
    /// The shape of every 429.
    #[arg(long, value_enum, default_value_t = TooManyStyle::Json)]
    pub too_many_style: TooManyStyle,
    /// Extra latency added before every API answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Faults to inject, e.g. `5xx=0.05,reset=0.01,storm=0.02,truncate=0.01,slow=0.02` (`none` = off).
    #[arg(long, default_value = "none")]
    pub faults: Faults,
    /// "Secure downloads": the first hop of an attachment download needs the API credentials.
    #[arg(long, default_value_t = false)]
    pub secure_downloads: bool,
    /// Fault mode for the time-based ticket export: this many tickets share one
    /// `generated_timestamp` (a bulk update), so a page smaller than that never advances.
    #[arg(long, default_value_t = 0)]
    pub time_export_ties: u64,
    /// Freeze the sandbox's wall clock at this UNIX second (for byte-identical test runs).
    #[arg(long, hide = true)]
    pub frozen_clock: Option<u64>,
    /// Keep every API request's method, path (without `.json`) and query, in order
    /// (`RunningSandbox::requests`), for tests that count pages fetched twice. The log grows
    /// with every call.
    #[arg(long, hide = true)]
    pub log_requests: bool,
}

impl Default for SandboxArgs {
    fn default() -> Self {
        Self {
            port: 0,
            files_port: 0,
            seed: 42,
            tickets: 1_000,
            contacts: 300,
            rate_limit: 700,
            incremental_rate_limit: 10,
            rate_window_secs: 60,
            too_many_style: TooManyStyle::Json,
            latency_ms: 0,
            faults: Faults::none(),
            secure_downloads: false,
            time_export_ties: 0,
            frozen_clock: None,
            log_requests: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: SandboxArgs,
    }

    #[test]
    fn command_line_parses_into_args() {
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "x",
            "--seed",
            "7",
            "--tickets",
            "2000",
            "--rate-limit",
            "0",
            "--too-many-style",
            "no-retry-after",
            "--secure-downloads",
            "--time-export-ties",
            "60",
            "--faults",
            "5xx=0.05",
        ])
        .unwrap();
        let a = cli.args;
        assert_eq!((a.seed, a.tickets, a.rate_limit), (7, 2_000, 0));
        assert_eq!(a.too_many_style, TooManyStyle::NoRetryAfter);
        assert!(a.secure_downloads);
        assert_eq!(a.time_export_ties, 60);
        assert_eq!(a.faults.server_error, 0.05);
        let d = Cli::try_parse_from(["x"]).unwrap().args;
        assert_eq!((d.rate_limit, d.incremental_rate_limit), (700, 10));
        assert_eq!(
            Cli::try_parse_from(["x", "--conversations", "5"])
                .unwrap()
                .args
                .tickets,
            5
        );
    }
}
