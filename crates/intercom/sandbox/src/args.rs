//! Command-line / in-process options of the Intercom sandbox.

use std::time::Duration;

use deskmove_sandbox::Faults;

/// Options of `deskmove sandbox intercom` (also used in-process by tests).
#[derive(clap::Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Port for the API on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Port for the attachment file host on 127.0.0.1 (0 = any free port). Intercom serves
    /// files from a different host than the API, so credentials must never be sent there.
    #[arg(long, default_value_t = 0)]
    pub files_port: u16,
    /// Seed of the synthetic world: same seed and sizes, same data, byte for byte.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Conversations in the world.
    #[arg(long, default_value_t = 1_000)]
    pub conversations: u64,
    /// Contacts in the world.
    #[arg(long, default_value_t = 300)]
    pub contacts: u64,
    /// Rate limit in calls per minute, enforced in 10-second windows like Intercom
    /// (10,000/min = 1,667 per window). 0 turns limits off (and the X-RateLimit headers).
    #[arg(long, default_value_t = 10_000)]
    pub rate_limit: u64,
    /// Extra latency added before every API answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Faults to inject, e.g. `5xx=0.05,reset=0.01,storm=0.02,truncate=0.01,slow=0.02` (`none` = off).
    #[arg(long, default_value = "none")]
    pub faults: Faults,
    /// Faults on the attachment file host, same syntax as `--faults` (5xx, resets, storms,
    /// truncated and slow bodies), answered the way a CDN answers (XML errors).
    #[arg(long, default_value = "none")]
    pub file_faults: Faults,
    /// How long signed attachment URLs stay valid, e.g. `30m`, `90s`, `1h` or plain seconds.
    #[arg(long, default_value = "30m", value_parser = parse_ttl)]
    pub attachment_ttl: Duration,
    /// Freeze the sandbox's wall clock at this UNIX second (for byte-identical test runs).
    #[arg(long, hide = true)]
    pub frozen_clock: Option<u64>,
    /// Keep every API request's method, path and query, in order (`RunningSandbox::requests`),
    /// for tests that count pages fetched twice. The log grows with every call.
    #[arg(long, hide = true)]
    pub log_requests: bool,
}

impl Default for SandboxArgs {
    fn default() -> Self {
        Self {
            port: 0,
            files_port: 0,
            seed: 42,
            conversations: 1_000,
            contacts: 300,
            rate_limit: 10_000,
            latency_ms: 0,
            faults: Faults::none(),
            file_faults: Faults::none(),
            attachment_ttl: Duration::from_secs(30 * 60),
            frozen_clock: None,
            log_requests: false,
        }
    }
}

/// Reads `30m`, `90s`, `2h`, `1d` or a plain number of seconds.
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30m, 90s or 1800"))?;
    let mult = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" | "hour" | "hours" => 3_600,
        "d" | "day" | "days" => 86_400,
        other => {
            return Err(format!(
                "unknown duration unit `{other}` (use s, m, h or d)"
            ));
        }
    };
    if n == 0 {
        return Err("the attachment TTL must be positive".to_string());
    }
    Ok(Duration::from_secs(n * mult))
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
            "--port",
            "0",
            "--seed",
            "7",
            "--conversations",
            "1000000",
            "--rate-limit",
            "0",
            "--faults",
            "5xx=0.05,storm=0.02",
            "--attachment-ttl",
            "90s",
            "--latency-ms",
            "5",
            "--file-faults",
            "5xx=0.1,reset=0.05,slow=0.05",
        ])
        .unwrap();
        assert_eq!(cli.args.seed, 7);
        assert_eq!(cli.args.conversations, 1_000_000);
        assert_eq!(cli.args.rate_limit, 0);
        assert_eq!(cli.args.faults.server_error, 0.05);
        assert_eq!(cli.args.attachment_ttl, Duration::from_secs(90));
        assert_eq!(
            (
                cli.args.file_faults.server_error,
                cli.args.file_faults.reset
            ),
            (0.1, 0.05)
        );
        let d = Cli::try_parse_from(["x"]).unwrap().args;
        assert_eq!(
            (
                d.rate_limit,
                d.attachment_ttl,
                d.faults.is_none(),
                d.file_faults.is_none()
            ),
            (10_000, Duration::from_secs(1_800), true, true)
        );
        assert!(Cli::try_parse_from(["x", "--faults", "boom=1"]).is_err());
    }

    #[test]
    fn ttl_forms() {
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1_800)));
        assert_eq!(parse_ttl("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("1800"), Ok(Duration::from_secs(1_800)));
        assert_eq!(parse_ttl("2h"), Ok(Duration::from_secs(7_200)));
        assert!(parse_ttl("soon").is_err());
        assert!(parse_ttl("5y").is_err());
        assert!(parse_ttl("0").is_err());
    }
}
