//! Command-line / in-process options of the Chatwoot sandbox.

use deskmove_sandbox::Faults;

use crate::rules;

/// Options of `deskmove sandbox chatwoot` (also used in-process by tests).
#[derive(clap::Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Port to listen on, on 127.0.0.1 only (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Requests per minute per client IP, counted in fixed one-minute windows (Chatwoot's
    /// `RACK_ATTACK_LIMIT`, default 3000); 0 turns the limit off.
    #[arg(long, default_value_t = 3000)]
    pub rate_limit: u64,
    /// Fixed delay added before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Faults to inject, e.g. `5xx=0.05,reset=0.01,storm=0.02,truncate=0.01,slow=0.02` (`none` = off).
    #[arg(long, default_value = "none")]
    pub faults: Faults,
    /// Seed for tokens, uuids and fault decisions: the same seed gives the same sandbox.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Messages per conversation per rolling minute (Chatwoot's
    /// `CONVERSATION_MESSAGE_PER_MINUTE_LIMIT`, default 200); 0 turns the guard off.
    #[arg(long, default_value_t = 200)]
    pub message_limit: usize,
    /// Turns off every limit Chatwoot's rack-attack applies (per IP, `/upload`, contact search),
    /// like `ENABLE_RACK_ATTACK=false`.
    #[arg(long, default_value_t = false)]
    pub no_rack_attack: bool,
    /// Simulates agents who are not signed in to the dashboard: only agents with
    /// `auto_offline: false` are then online, so auto-assignment mostly finds nobody. By default
    /// every agent is present with its `availability` (online unless set otherwise).
    #[arg(long, default_value_t = false)]
    pub agents_absent: bool,
    /// Freeze the sandbox's wall clock at this UNIX second (for byte-identical test runs);
    /// `POST /__sandbox/advance?seconds=N` moves it forward.
    #[arg(long, hide = true)]
    pub frozen_clock: Option<u64>,
}

impl Default for SandboxArgs {
    fn default() -> Self {
        Self {
            port: 0,
            rate_limit: 3000,
            latency_ms: 0,
            faults: Faults::none(),
            seed: 1,
            message_limit: rules::MESSAGES_PER_CONVERSATION_PER_MINUTE,
            no_rack_attack: false,
            agents_absent: false,
            frozen_clock: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::SandboxArgs;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: SandboxArgs,
    }

    #[test]
    fn arguments_parse_with_defaults_and_faults() {
        let cli = Cli::try_parse_from(["sandbox"]).unwrap();
        assert_eq!(cli.args.rate_limit, 3000);
        assert_eq!(cli.args.message_limit, 200);
        assert!(cli.args.faults.is_none());
        assert_eq!(cli.args.frozen_clock, None);
        let cli = Cli::try_parse_from([
            "sandbox",
            "--port",
            "4000",
            "--rate-limit",
            "0",
            "--faults",
            "5xx=0.05,storm=0.02",
            "--latency-ms",
            "20",
            "--frozen-clock",
            "1700000000",
        ])
        .unwrap();
        assert_eq!(
            (cli.args.port, cli.args.rate_limit, cli.args.latency_ms),
            (4000, 0, 20)
        );
        assert!((cli.args.faults.server_error - 0.05).abs() < f64::EPSILON);
        assert_eq!(cli.args.frozen_clock, Some(1_700_000_000));
        assert!(Cli::try_parse_from(["sandbox", "--faults", "bogus=1"]).is_err());
    }
}
