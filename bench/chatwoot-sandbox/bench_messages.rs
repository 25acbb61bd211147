//! Message-create throughput of the Chatwoot sandbox with rack-attack off (target: ≥ 3,000
//! creates/s on the project machine). Real HTTP over 127.0.0.1 from a pooled reqwest client;
//! messages alternate incoming/outgoing (outgoing ones go through Liquid rendering) and are spread
//! over enough conversations to stay under the 200/min/conversation flood guard, which stays on.
//!
//! Run: `cargo run --release -p deskmove-chatwoot-sandbox --example bench_messages [total] [concurrency]`.
//! Writes `bench/results/chatwoot-sandbox.json`.

use std::sync::Arc;
use std::time::Instant;

use deskmove_chatwoot_sandbox::{RunningSandbox, SandboxArgs};
use deskmove_sandbox::Sandbox;
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: Value,
) -> Result<Value, BoxError> {
    let r = http
        .post(url)
        .header("api_access_token", token)
        .json(&body)
        .send()
        .await?;
    let status = r.status();
    let v: Value = r.json().await?;
    if !status.is_success() {
        return Err(format!("{url}: {status} {v}").into());
    }
    Ok(v)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map_or(Ok(30_000), |a| a.parse())?;
    let concurrency: usize = args.next().map_or(Ok(32), |a| a.parse())?;
    let per_conversation = 150;
    let conversations = total.div_ceil(per_conversation);

    let sandbox = RunningSandbox::start(SandboxArgs {
        rate_limit: 0,
        no_rack_attack: true,
        ..SandboxArgs::default()
    })
    .await?;
    let base = format!(
        "{}api/v1/accounts/{}",
        sandbox.base_url(),
        sandbox.account_id()
    );
    let token = sandbox.token().to_owned();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;

    let inbox = post(
        &http,
        &format!("{base}/inboxes"),
        &token,
        json!({"name": "Bench", "channel": {"type": "api"}, "enable_auto_assignment": false}),
    )
    .await?;
    let inbox = inbox["id"].clone();
    let mut displays = Vec::with_capacity(conversations);
    for i in 0..conversations {
        let c = post(
            &http,
            &format!("{base}/contacts"),
            &token,
            json!({"name": format!("Customer {i}"), "email": format!("c{i}@example.com")}),
        )
        .await?;
        let conv = post(
            &http,
            &format!("{base}/conversations"),
            &token,
            json!({"inbox_id": inbox, "contact_id": c["payload"]["contact"]["id"]}),
        )
        .await?;
        displays.push(conv["id"].as_u64().unwrap_or_default());
    }
    let displays = Arc::new(displays);

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let (http, base, token, displays) = (
            http.clone(),
            base.clone(),
            token.clone(),
            Arc::clone(&displays),
        );
        tasks.push(tokio::spawn(async move {
            let mut errors = 0usize;
            let mut n = worker;
            while n < total {
                let conv = displays[n / per_conversation];
                let body = if n % 2 == 0 {
                    json!({"content": format!("Customer question number {n} about the invoice"), "message_type": "incoming", "source_id": format!("part-{n}")})
                } else {
                    json!({"content": format!("Thanks for reaching out, answer {n}."), "message_type": "outgoing", "source_id": format!("part-{n}")})
                };
                if post(&http, &format!("{base}/conversations/{conv}/messages"), &token, body).await.is_err() {
                    errors += 1;
                }
                n += concurrency;
            }
            errors
        }));
    }
    let mut errors = 0;
    for t in tasks {
        errors += t.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stored = sandbox.inspect()["messages"].as_array().map_or(0, Vec::len);
    let rate = (total - errors) as f64 / elapsed;
    let result = json!({
        "benchmark": "chatwoot-sandbox message creates over HTTP (rack-attack off, flood guard on)",
        "messages_per_sec": (rate * 10.0).round() / 10.0,
        "total": total,
        "errors": errors,
        "stored_messages": stored,
        "conversations": conversations,
        "concurrency": concurrency,
        "elapsed_secs": (elapsed * 1000.0).round() / 1000.0,
        "machine_cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "date": jiff::Timestamp::now().to_string(),
    });
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../bench/results/chatwoot-sandbox.json");
    std::fs::create_dir_all(out.parent().ok_or("no parent")?)?;
    std::fs::write(&out, serde_json::to_string_pretty(&result)? + "\n")?;
    println!("{result}");
    sandbox.shutdown().await;
    if errors > 0 {
        return Err(format!("{errors} message creates failed").into());
    }
    Ok(())
}
