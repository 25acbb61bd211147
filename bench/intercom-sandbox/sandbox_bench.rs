//! Benchmark of the Intercom sandbox (see `bench/intercom-sandbox/README.md`):
//! conversation retrievals per second with limits off, and start time + resident memory of
//! a 1,000 vs a 1,000,000-conversation world (each measured in a fresh child process).
//! Writes `bench/results/intercom-sandbox.json`.
//!
//! Run: `cargo run --release -p deskmove-intercom-sandbox --example sandbox_bench`

use std::time::{Duration, Instant};

use deskmove_intercom_sandbox::{RunningSandbox, Sandbox, SandboxArgs};
use serde_json::{Value, json};

const THROUGHPUT_CONVERSATIONS: u64 = 100_000;
const THROUGHPUT_SECS: u64 = 8;
const CONCURRENCY: usize = 32;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn args(conversations: u64) -> SandboxArgs {
    SandboxArgs {
        conversations,
        contacts: (conversations / 3).max(8),
        rate_limit: 0,
        ..SandboxArgs::default()
    }
}

/// Child mode: start a world of `n` conversations, touch records across it, report.
async fn measure_world(n: u64) -> Value {
    let t = Instant::now();
    let sb = RunningSandbox::start(args(n)).await.expect("start");
    let start_ms = t.elapsed().as_secs_f64() * 1e3;
    let http = reqwest::Client::new();
    let mut bytes = 0usize;
    for k in 0..500u64 {
        let i = (k * 7_919 + 13) % n;
        let url = sb
            .base_url()
            .join(&format!("conversations/{}", 100_000_000 + i))
            .expect("url");
        let body = http
            .get(url)
            .bearer_auth(sb.token())
            .send()
            .await
            .expect("send")
            .bytes()
            .await
            .expect("body");
        bytes += body.len();
    }
    let rss = rss_kb();
    // The oracle totals stream over every record once (then are cached per epoch).
    let t = Instant::now();
    let totals = sb.world().totals();
    let totals_ms = t.elapsed().as_secs_f64() * 1e3;
    let rss_after_totals = rss_kb();
    sb.shutdown().await;
    json!({
        "conversations": n,
        "start_ms": start_ms,
        "rss_kb_after_500_retrievals": rss,
        "mean_response_bytes": bytes / 500,
        "totals_ms": totals_ms,
        "rss_kb_after_totals": rss_after_totals,
        "conversation_parts": totals.conversation_parts,
        "attachments": totals.attachments,
    })
}

/// A lean HTTP/1.1 keep-alive client (so the client's own cost stays small next to the
/// sandbox's: both share the machine's cores). Returns the body length of one GET.
async fn get_keepalive(
    stream: &mut tokio::io::BufStream<tokio::net::TcpStream>,
    path: &str,
    token: &str,
) -> std::io::Result<usize> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nAccept: */*\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await?;
    stream.flush().await?;
    let mut line = String::new();
    let mut len = 0usize;
    let mut status_ok = false;
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if l.starts_with("HTTP/1.1 ") {
            status_ok = l.starts_with("HTTP/1.1 200");
        } else if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await?;
    if status_ok {
        Ok(len)
    } else {
        Err(std::io::Error::other("status"))
    }
}

async fn throughput() -> Value {
    let sb = RunningSandbox::start(args(THROUGHPUT_CONVERSATIONS))
        .await
        .expect("start");
    let addr = sb.base_url().socket_addrs(|| None).expect("addr")[0];
    let deadline = Instant::now() + Duration::from_secs(THROUGHPUT_SECS);
    let mut tasks = Vec::new();
    for w in 0..CONCURRENCY as u64 {
        let token = sb.token().to_string();
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut bytes, mut k) = (0u64, 0u64, w);
            let mut stream = tokio::io::BufStream::new(
                tokio::net::TcpStream::connect(addr).await.expect("connect"),
            );
            while Instant::now() < deadline {
                let i = (k * 104_729 + 7) % THROUGHPUT_CONVERSATIONS;
                k += CONCURRENCY as u64;
                match get_keepalive(
                    &mut stream,
                    &format!("/conversations/{}", 100_000_000 + i),
                    &token,
                )
                .await
                {
                    Ok(n) => {
                        ok += 1;
                        bytes += n as u64;
                    }
                    Err(_) => break,
                }
            }
            (ok, bytes)
        }));
    }
    let t = Instant::now();
    let (mut ok, mut bytes) = (0, 0);
    for task in tasks {
        let (o, b) = task.await.expect("task");
        ok += o;
        bytes += b;
    }
    let secs = t.elapsed().as_secs_f64();
    sb.shutdown().await;
    // The synthetic world alone (generation without HTTP or JSON), for context.
    let world = deskmove_synth::World::new(deskmove_synth::WorldConfig::new(
        42,
        THROUGHPUT_CONVERSATIONS,
        THROUGHPUT_CONVERSATIONS / 3,
    ));
    let g = Instant::now();
    let mut parts = 0usize;
    for k in 0..20_000u64 {
        parts += world
            .view()
            .conversation((k * 104_729 + 7) % THROUGHPUT_CONVERSATIONS)
            .map_or(0, |c| c.parts.len());
    }
    let generated_per_sec = 20_000.0 / g.elapsed().as_secs_f64();
    json!({
        "world_conversations": THROUGHPUT_CONVERSATIONS,
        "concurrency": CONCURRENCY,
        "seconds": secs,
        "retrievals": ok,
        "retrievals_per_sec": ok as f64 / secs,
        "mean_response_bytes": bytes.checked_div(ok).unwrap_or(0),
        "synth_generations_per_sec_one_core": generated_per_sec,
        "synth_mean_parts": parts as f64 / 20_000.0,
        "note": "keep-alive HTTP/1.1 client in the same process; client and sandbox share the machine's cores; limits and faults off",
    })
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--world") {
        let n: u64 = argv.get(2).and_then(|s| s.parse().ok()).unwrap_or(1_000);
        println!("{}", measure_world(n).await);
        return;
    }
    let exe = std::env::current_exe().expect("exe");
    let mut worlds = Vec::new();
    for n in [1_000u64, 1_000_000] {
        let out = std::process::Command::new(&exe)
            .args(["--world", &n.to_string()])
            .output()
            .expect("child");
        let v: Value = serde_json::from_slice(&out.stdout).expect("child json");
        eprintln!("world {n}: {v}");
        worlds.push(v);
    }
    let tp = throughput().await;
    eprintln!("throughput: {tp}");
    let rss_ratio = worlds[1]["rss_kb_after_500_retrievals"]
        .as_f64()
        .unwrap_or(0.0)
        / worlds[0]["rss_kb_after_500_retrievals"]
            .as_f64()
            .unwrap_or(1.0);
    let result = json!({
        "benchmark": "intercom-sandbox",
        "machine": {"cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)},
        "conversation_retrievals": tp,
        "worlds": worlds,
        "rss_ratio_1m_vs_1k": rss_ratio,
        "targets": {"retrievals_per_sec": 5_000, "start_ms_1m": 2_000},
    });
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../bench/results/intercom-sandbox.json");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("results dir");
    }
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&result).expect("json") + "\n",
    )
    .expect("write results");
    println!("{}", serde_json::to_string_pretty(&result).expect("json"));
}
