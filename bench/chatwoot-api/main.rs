//! The Chatwoot API load path at Chatwoot's limits, beside the playbook's sequential Python
//! `requests` loop on the same sandbox and data. See README.md.
//!
//! ```text
//! cargo run --release -p deskmove-chatwoot --example chatwoot-api -- \
//!     --conversations 2000 --rate 3000 --big-conversations 10000 --big-rate 30000 --peer 200
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use deskmove_chatwoot::ChatwootTarget;
use deskmove_chatwoot::load::{ApiOptions, ApiTarget};
use deskmove_chatwoot_sandbox::{RunningSandbox, SandboxArgs};
use deskmove_core::{Record, Target};
use deskmove_engine::{Engine, EngineOptions};
use deskmove_http::reqwest;
use deskmove_sandbox::Sandbox;
use deskmove_store::{BlobStore, NewRun, SqliteStore, StagedBatch, Store};
use deskmove_synth::{self as synth, World, WorldConfig};
use secrecy::SecretString;
use serde_json::{Value, json};

#[path = "../../crates/chatwoot/tests/postgres/world.rs"]
#[allow(dead_code)]
mod world;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn num(name: &str, default: u64) -> u64 {
    arg(name).and_then(|s| s.parse().ok()).unwrap_or(default)
}

async fn sandbox(rate: u64, latency_ms: u64) -> RunningSandbox {
    RunningSandbox::start(SandboxArgs {
        rate_limit: rate,
        latency_ms,
        // The flood guard (200 messages/conversation/minute) holds long conversations for a
        // second run; the benchmark measures one run against the per-IP limit.
        message_limit: 0,
        ..SandboxArgs::default()
    })
    .await
    .unwrap()
}

async fn admin_post(s: &RunningSandbox, rest: &str, body: Value) -> Value {
    let url = s
        .base_url()
        .join(&format!("api/v1/accounts/{}/{rest}", s.account_id()))
        .unwrap();
    reqwest::Client::new()
        .post(url)
        .header("api_access_token", s.token())
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn seed_agents(s: &RunningSandbox, w: &World) {
    let v = w.view();
    for i in 0..v.agent_count() {
        let a = v.agent(i).unwrap();
        if !a.departed {
            admin_post(
                s,
                "agents",
                json!({"name": a.name, "email": a.email.to_lowercase(), "role": "agent"}),
            )
            .await;
        }
    }
}

fn total_calls(s: &RunningSandbox) -> u64 {
    s.stats().values().map(|r| r.calls).sum()
}

/// One deskmove run: stage the world, load it through the API path, measure.
async fn deskmove(
    n: u64,
    rate: u64,
    latency_ms: u64,
    attachments: bool,
) -> (Value, RunningSandbox, World) {
    let s = sandbox(rate, latency_ms).await;
    let w = World::new(WorldConfig::new(42, n, n / 2 + 8));
    seed_agents(&s, &w).await;
    let dir = tempfile::TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path().join("staging.sqlite")).unwrap();
    let blobs = BlobStore::local(dir.path().join("blobs")).unwrap();
    let records: Vec<Record> = world::records(
        &w,
        &blobs,
        world::Build {
            directory: true,
            attachments,
        },
    )
    .await;
    let messages = records
        .iter()
        .filter(|r| matches!(r, Record::Message(_)))
        .count() as u64;
    let files = records
        .iter()
        .filter(|r| matches!(r, Record::Attachment(_)))
        .count() as u64;
    let run = store
        .start_run(NewRun {
            command: "export".into(),
            source_system: Some("synth".into()),
            target_system: Some("chatwoot".into()),
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap();
    for chunk in records.chunks(2000) {
        let mut b = StagedBatch::new(run, "bench/world");
        b.records = chunk.to_vec();
        store.put_batch(b).await.unwrap();
    }
    // A fresh rate window for the measured part.
    s.advance_clock(Duration::from_secs(61));
    let budget = (rate * 9 / 10) as u32;
    let policy = deskmove_http::HostPolicy {
        calls_per_minute: budget,
        burst: 50,
        fixed_window_secs: Some(60),
        ..deskmove_chatwoot::host_policy()
    };
    let target = ChatwootTarget::Api(
        ApiTarget::new(
            &s.base_url(),
            &SecretString::from(s.token().to_owned()),
            policy,
            ApiOptions {
                messages_per_conversation_minute: 0,
                ..ApiOptions::new(s.account_id())
            },
            blobs.clone(),
        )
        .unwrap(),
    );
    let calls_before = total_calls(&s);
    let routes_before = s.stats();
    let t = Instant::now();
    let pre = target.preflight().await.unwrap();
    assert!(pre.ok(), "{:?}", pre.refusals);
    let import = store
        .start_run(NewRun {
            command: "import".into(),
            source_system: Some("synth".into()),
            target_system: Some("chatwoot".into()),
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap();
    let report = Engine::new(&store, &blobs)
        .with_options(EngineOptions {
            concurrency: 1,
            attempts: 4,
            batch_size: 500,
        })
        .load(import, &target)
        .await
        .unwrap();
    let wall = t.elapsed().as_secs_f64();
    let calls = total_calls(&s) - calls_before;
    // Which calls a conversation costs: each route's calls of the measured part ÷ conversations.
    let by_route: serde_json::Map<String, Value> = s
        .stats()
        .into_iter()
        .filter_map(|(route, r)| {
            let made = r.calls - routes_before.get(&route).map_or(0, |b| b.calls);
            (made > 0).then(|| {
                (
                    route,
                    json!((made as f64 / n as f64 * 100.0).round() / 100.0),
                )
            })
        })
        .collect();
    let per_minute = calls as f64 / wall * 60.0;
    let total = report.total();
    let figures = json!({
        "conversations": n,
        "messages": messages,
        "attachments": files,
        "sandbox_rate_limit_per_minute": rate,
        "budget_per_minute": budget,
        "latency_ms": latency_ms,
        "wall_seconds": wall,
        "calls": calls,
        "calls_per_minute": per_minute,
        "share_of_allowed_rate": per_minute / rate as f64,
        "calls_per_conversation": calls as f64 / n as f64,
        "goal_calls_per_conversation": 1.0 + messages as f64 / n as f64 + 2.0,
        "calls_per_conversation_by_route": by_route,
        "loaded": total.loaded,
        "failed": total.failed,
        "throttled_429": s.stats().values().map(|r| r.statuses.get(&429).copied().unwrap_or(0)).sum::<u64>(),
    });
    (figures, s, w)
}

/// What an account holds of the world, for the comparison table.
fn preserved(dump: &Value, w: &World) -> Value {
    let v = w.view();
    let messages = dump["messages"].as_array().unwrap();
    let ours: Vec<&Value> = messages
        .iter()
        .filter(|m| m["message_type"] != "activity")
        .collect();
    let mut want_parts = 0u64;
    let mut want_notes = 0u64;
    let mut want_files = 0u64;
    let mut liquid = 0u64;
    for i in 0..v.conversation_count() {
        let c = v.conversation(i).unwrap();
        want_parts += 1 + c.parts.iter().filter(|p| p.body.is_some()).count() as u64;
        want_notes += c
            .parts
            .iter()
            .filter(|p| p.kind == synth::PartKind::Note)
            .count() as u64;
        want_files += c.source_attachments.len() as u64
            + c.parts
                .iter()
                .map(|p| p.attachments.len() as u64)
                .sum::<u64>();
        liquid += c
            .parts
            .iter()
            .filter(|p| p.body.as_deref().is_some_and(|b| b.contains("{{")))
            .count() as u64;
    }
    let kept_liquid = ours
        .iter()
        .filter(|m| m["content"].as_str().is_some_and(|c| c.contains("{{")))
        .count();
    let effects = &dump["side_effects"];
    let count = |k: &str| effects[k].as_array().map_or(0, Vec::len);
    json!({
        "messages_with_body_expected": want_parts,
        "messages_written": ours.len(),
        "private_notes": ours.iter().filter(|m| m["private"] == true).count(),
        "private_notes_expected": want_notes,
        "attachments": ours.iter().map(|m| m["attachments"].as_array().map_or(0, Vec::len)).sum::<usize>(),
        "attachments_expected": want_files,
        "liquid_bodies_expected": liquid,
        "liquid_bodies_kept_verbatim": kept_liquid,
        "original_author_recorded": ours.iter().filter(|m| m["content_attributes"]["original_author"].is_object()).count(),
        "original_time_recorded": ours.iter().filter(|m| m["content_attributes"]["original_created_at"].is_string()).count(),
        "labels_on_conversations": dump["conversations"].as_array().unwrap().iter().map(|c| c["labels"].as_array().map_or(0, Vec::len)).sum::<usize>(),
        "snoozed_conversations": dump["conversations"].as_array().unwrap().iter().filter(|c| c["status"] == "snoozed").count(),
        "conversations_with_assignee": dump["conversations"].as_array().unwrap().iter().filter(|c| c["assignee_id"].is_u64()).count(),
        "customer_deliveries": count("customer_deliveries"),
        "agent_notifications": count("agent_notifications"),
        "template_messages": count("template_messages"),
        "reopened_by_incoming": messages.iter().filter(|m| m["content"].as_str().is_some_and(|c| c.contains("reopened the conversation due to"))).count(),
    })
}

/// The playbook's loop on a fresh sandbox with the same world.
fn playbook_input(w: &World, path: &Path) {
    let v = w.view();
    let mut out = String::new();
    for i in 0..v.conversation_count() {
        let c = v.conversation(i).unwrap();
        let ct = v.contact(c.contact).unwrap();
        let mut parts = vec![json!({"body": c.source_body, "author": {"type": "user"}})];
        for p in &c.parts {
            if let Some(b) = &p.body {
                let t = if matches!(p.author, synth::Author::Contact(_)) {
                    "user"
                } else {
                    "admin"
                };
                parts.push(json!({"body": b, "author": {"type": t}}));
            }
        }
        let attrs: serde_json::Map<String, Value> = ct
            .custom_attributes
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    synth::AttrValue::Str(s) => json!(s),
                    synth::AttrValue::Int(i) => json!(i),
                    synth::AttrValue::Float(f) => json!(f),
                    synth::AttrValue::Bool(b) => json!(b),
                };
                (k.clone(), v)
            })
            .collect();
        let state = match c.state {
            synth::ConvState::Open => "open",
            synth::ConvState::Closed => "closed",
            synth::ConvState::Snoozed => "snoozed",
        };
        out.push_str(&json!({
            "id": c.id, "state": state,
            "contact": {"id": ct.id, "name": ct.name, "email": ct.email, "custom_attributes": attrs},
            "conversation_parts": {"conversation_parts": parts},
        }).to_string());
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

async fn playbook(n: u64, rate: u64, latency_ms: u64, script: &Path) -> (Value, Value) {
    let s = sandbox(rate, latency_ms).await;
    let w = World::new(WorldConfig::new(42, n, n / 2 + 8));
    seed_agents(&s, &w).await;
    // The playbook posts into inbox 1: an API inbox made with Chatwoot's defaults.
    let inbox = admin_post(
        &s,
        "inboxes",
        json!({"name": "Intercom import", "channel": {"type": "api"}}),
    )
    .await;
    let dir = tempfile::TempDir::new().unwrap();
    let input = dir.path().join("world.jsonl");
    playbook_input(&w, &input);
    s.advance_clock(Duration::from_secs(61));
    let before = total_calls(&s);
    let t = Instant::now();
    let status = std::process::Command::new("python3")
        .arg(script)
        .arg(&input)
        .env(
            "CW",
            s.base_url()
                .join(&format!("api/v1/accounts/{}", s.account_id()))
                .unwrap()
                .as_str(),
        )
        .env("CW_KEY", s.token())
        .env("INBOX_ID", inbox["id"].to_string())
        .status()
        .expect("python3 with requests");
    let wall = t.elapsed().as_secs_f64();
    assert!(status.success());
    let calls = total_calls(&s) - before;
    let dump = s.inspect();
    (
        json!({"conversations": n, "wall_seconds": wall, "calls": calls, "calls_per_minute": calls as f64 / wall * 60.0}),
        preserved(&dump, &w),
    )
}

#[tokio::main]
async fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out: PathBuf = arg("--out")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("bench/results/chatwoot-api.json"));
    let latency = num("--latency-ms", 25);
    let n = num("--conversations", 2000);
    let rate = num("--rate", 3000);
    let big_n = num("--big-conversations", 10_000);
    let big_rate = num("--big-rate", 30_000);
    let peer_n = num("--peer", 200);

    eprintln!("deskmove: {n} conversations at {rate}/min, {latency} ms latency");
    let (default_limit, _, _) = deskmove(n, rate, latency, false).await;
    eprintln!("{default_limit:#}");
    eprintln!("deskmove: {big_n} conversations at {big_rate}/min");
    let (raised_limit, _, _) = deskmove(big_n, big_rate, latency, false).await;
    eprintln!("{raised_limit:#}");

    // Side by side on the same data (with attachments) and limits.
    eprintln!("side by side: {peer_n} conversations at {rate}/min");
    let (ours, s, w) = deskmove(peer_n, rate, latency, true).await;
    let ours_kept = preserved(&s.inspect(), &w);
    let (theirs, theirs_kept) = playbook(
        peer_n,
        rate,
        latency,
        &root.join("bench/chatwoot-api/playbook.py"),
    )
    .await;
    let ratio = theirs["wall_seconds"].as_f64().unwrap() / ours["wall_seconds"].as_f64().unwrap();
    let result = json!({
        "benchmark": "chatwoot-api",
        "machine": "2 cores, shared with other engineers' builds during the run",
        "sandbox": "deskmove-chatwoot-sandbox in-process on loopback, per-IP fixed window, flood guard off",
        "world_seed": 42,
        "default_limit": default_limit,
        "raised_limit": raised_limit,
        "side_by_side": {
            "conversations": peer_n,
            "deskmove": ours,
            "playbook_python_requests": theirs,
            "playbook_wall_over_deskmove_wall": ratio,
            "preserved": {"deskmove": ours_kept, "playbook": theirs_kept},
        },
    });
    std::fs::write(&out, serde_json::to_string_pretty(&result).unwrap() + "\n").unwrap();
    println!("{}", serde_json::to_string_pretty(&result).unwrap());
}
