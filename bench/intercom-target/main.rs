//! Zendesk → Intercom: the Intercom target loading a staged Zendesk export into the Intercom
//! sandbox at Intercom's default limit (10,000 calls/min in 10-second windows) with 25 ms of
//! latency on every answer: the share of the allowed rate used and the calls per conversation;
//! then the playbook's orchestrator (`playbook.mjs`, intercom-client) on a fresh sandbox with the
//! same staged world, and the ratio of the wall times. See README.md.
//!
//! ```text
//! cargo run --release -p deskmove --example intercom-target -- --conversations 2000 --peer 200
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use deskmove_core::model::{AuthorKind, MessageKind};
use deskmove_core::{Record, RecordKind, Target};
use deskmove_engine::{Engine, EngineOptions};
use deskmove_intercom::{IntercomTarget, TargetOptions};
use deskmove_intercom_sandbox::{RunningSandbox as Intercom, Sandbox, SandboxArgs as IntercomArgs};
use deskmove_store::{BlobStore, NewRun, SqliteStore, Store};
use deskmove_zendesk::{SourceOptions, ZendeskSource};
use deskmove_zendesk_sandbox::{RunningSandbox as Zendesk, SandboxArgs as ZendeskArgs};
use secrecy::SecretString;
use serde_json::{Value, json};

/// The Intercom sandbox's default limit (Intercom's default for a private app), per minute.
const LIMIT_PER_MINUTE: u64 = 10_000;
/// The workspace the Intercom sandbox answers with (`GET /me` → `app.id_code`).
const WORKSPACE: &str = "sbx4dm";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn num(name: &str, default: u64) -> u64 {
    arg(name).and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// API calls the sandbox admitted (every answer but a 429; its own `/__sandbox` routes left out).
fn admitted(s: &Intercom) -> u64 {
    s.stats()
        .iter()
        .filter(|(route, _)| !route.contains("__sandbox"))
        .map(|(_, r)| r.calls - r.statuses.get(&429).copied().unwrap_or(0))
        .sum()
}

fn throttled(s: &Intercom) -> u64 {
    s.stats()
        .values()
        .map(|r| r.statuses.get(&429).copied().unwrap_or(0))
        .sum()
}

fn epoch() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// Waits for the start of the next 10-second window, so a run starts with a fresh one.
async fn next_window() {
    let now = epoch();
    let next = Duration::from_secs((now.as_secs() / 10 + 1) * 10);
    tokio::time::sleep(next - now + Duration::from_millis(20)).await;
}

/// The calls the sandbox admitted in each 10-second window (read just after each boundary)
/// until `done`: where the load left the limit unused.
async fn per_window(s: &Intercom, done: &AtomicBool) -> Vec<u64> {
    let mut counts = Vec::new();
    let mut last = admitted(s);
    while !done.load(Ordering::SeqCst) {
        let now = epoch();
        let boundary =
            Duration::from_secs((now.as_secs() / 10 + 1) * 10) + Duration::from_millis(5);
        let mut left = boundary.saturating_sub(now);
        while !left.is_zero() && !done.load(Ordering::SeqCst) {
            let step = left.min(Duration::from_millis(200));
            tokio::time::sleep(step).await;
            left -= step;
        }
        let total = admitted(s);
        counts.push(total - last);
        last = total;
    }
    counts
}

async fn intercom(latency_ms: u64) -> Intercom {
    Intercom::start(IntercomArgs {
        // An empty workspace with its admins (the world's agents, matched by email) and a few
        // contacts of its own, some of whom share an email with Zendesk users.
        conversations: 0,
        contacts: 8,
        rate_limit: LIMIT_PER_MINUTE,
        latency_ms,
        ..IntercomArgs::default()
    })
    .await
    .expect("the Intercom sandbox starts")
}

/// The staged Zendesk export: store, blobs, and what it holds.
struct Staged {
    _dir: tempfile::TempDir,
    store: SqliteStore,
    blobs: BlobStore,
    seconds: f64,
}

/// Exports the Zendesk sandbox's world into a SQLite store, limits off (untimed set-up).
async fn stage(tickets: u64, contacts: u64) -> Staged {
    let zendesk = Zendesk::start(ZendeskArgs {
        tickets,
        contacts,
        rate_limit: 0,
        incremental_rate_limit: 0,
        ..ZendeskArgs::default()
    })
    .await
    .expect("the Zendesk sandbox starts");
    let mut options = SourceOptions::new(zendesk.base_url());
    options.email = Some(zendesk.email().to_owned());
    let files = zendesk.files_url();
    options.file_hosts = vec![format!(
        "{}:{}",
        files.host_str().unwrap_or("127.0.0.1"),
        files.port().unwrap_or(80)
    )];
    for p in [
        &mut options.policy,
        &mut options.incremental_policy,
        &mut options.file_policy,
    ] {
        p.calls_per_minute = 600_000;
        p.burst = 1_000;
    }
    options.concurrency = 16;
    let source =
        ZendeskSource::with_options(options, &SecretString::from(zendesk.token().to_owned()))
            .expect("the source builds");
    let dir = tempfile::TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path().join("store.sqlite")).unwrap();
    let blobs = BlobStore::local(dir.path().join("blobs")).unwrap();
    let run = store
        .start_run(NewRun {
            command: "export".into(),
            source_system: Some("zendesk".into()),
            target_system: None,
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap();
    let started = Instant::now();
    Engine::new(&store, &blobs)
        .with_options(EngineOptions {
            concurrency: 4,
            attempts: 8,
            batch_size: 500,
        })
        .extract(run, &source)
        .await
        .expect("the export completes");
    let seconds = started.elapsed().as_secs_f64();
    zendesk.shutdown().await;
    Staged {
        _dir: dir,
        store,
        blobs,
        seconds,
    }
}

/// Every staged record of `kind`.
async fn all(store: &SqliteStore, kind: RecordKind) -> Vec<Record> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.records(kind, after.as_ref(), 2_000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.record.key().clone());
        out.extend(page.into_iter().map(|s| s.record));
    }
    out
}

/// What the staged world holds, per kind, and the goal it sets for calls per conversation.
async fn world(store: &SqliteStore) -> Value {
    let status = store.status(0).await.unwrap();
    let staged: BTreeMap<String, u64> = status
        .kinds
        .iter()
        .map(|k| (k.kind.as_str().to_owned(), k.staged))
        .collect();
    let n = staged.get("conversation").copied().unwrap_or(0).max(1);
    let messages = staged.get("message").copied().unwrap_or(0);
    json!({
        "staged": staged,
        "messages_per_conversation": messages as f64 / n as f64,
        "goal_calls_per_conversation": 1.0 + messages as f64 / n as f64 + 2.0,
    })
}

/// When each kind's load started and ended, and the calls admitted by then.
struct Phases<'a> {
    sandbox: &'a Intercom,
    started: Instant,
    marks: std::sync::Mutex<Vec<(RecordKind, bool, f64, u64)>>,
}

impl deskmove_engine::Observer for Phases<'_> {
    fn event(&self, event: &deskmove_engine::Progress) {
        let (kind, end) = match event {
            deskmove_engine::Progress::KindStarted { kind } => (*kind, false),
            deskmove_engine::Progress::KindFinished { kind, .. } => (*kind, true),
            _ => return,
        };
        let at = self.started.elapsed().as_secs_f64();
        let calls = admitted(self.sandbox);
        if let Ok(mut m) = self.marks.lock() {
            m.push((kind, end, at, calls));
        }
    }
}

impl Phases<'_> {
    /// Per kind: seconds and calls from its start to its end.
    fn figures(&self) -> Value {
        let marks = self.marks.lock().map(|m| m.clone()).unwrap_or_default();
        let mut out = serde_json::Map::new();
        for (kind, end, at, calls) in &marks {
            if !*end {
                continue;
            }
            if let Some((_, _, t0, c0)) = marks.iter().find(|(k, e, _, _)| k == kind && !*e) {
                let secs = at - t0;
                out.insert(
                    kind.as_str().to_owned(),
                    json!({"seconds": secs, "calls": calls - c0,
                           "calls_per_second": (calls - c0) as f64 / secs.max(1e-9)}),
                );
            }
        }
        Value::Object(out)
    }
}

/// The load of the staged world into a fresh Intercom sandbox, timed (preflight included).
async fn deskmove(staged: &Staged, latency_ms: u64) -> Value {
    let s = intercom(latency_ms).await;
    let target = IntercomTarget::new(
        &s.base_url(),
        &SecretString::from(s.token().to_owned()),
        // What a user gets: Intercom's documented limit, kept within its rate headers.
        deskmove_intercom::host_policy(),
        TargetOptions {
            workspace_id: WORKSPACE.into(),
            ..TargetOptions::default()
        },
        staged.blobs.clone(),
    )
    .expect("the target builds");
    let import = staged
        .store
        .start_run(NewRun {
            command: "import".into(),
            source_system: Some("zendesk".into()),
            target_system: Some("intercom".into()),
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap();
    next_window().await;
    let routes_before = s.stats();
    let before = admitted(&s);
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let phases = Phases {
        sandbox: &s,
        started,
        marks: std::sync::Mutex::new(Vec::new()),
    };
    let load = async {
        let pre = target.preflight().await.expect("the preflight answers");
        assert!(pre.ok(), "{:?}", pre.refusals);
        let report = Engine::new(&staged.store, &staged.blobs)
            .with_options(EngineOptions {
                concurrency: 1,
                attempts: 4,
                batch_size: 500,
            })
            .with_observer(&phases)
            .load(import, &target)
            .await
            .expect("the load completes");
        done.store(true, Ordering::SeqCst);
        report
    };
    let (report, windows) = tokio::join!(load, per_window(&s, &done));
    let wall = started.elapsed().as_secs_f64();
    let calls = admitted(&s) - before;
    let conversations = report
        .kinds
        .iter()
        .find(|(k, _)| *k == RecordKind::Conversation)
        .map(|(_, c)| c.loaded + c.updated + c.skipped)
        .unwrap_or(0)
        .max(1);
    let by_route: serde_json::Map<String, Value> = s
        .stats()
        .into_iter()
        .filter(|(route, _)| !route.contains("__sandbox"))
        .filter_map(|(route, r)| {
            let made = r.calls - routes_before.get(&route).map_or(0, |b| b.calls);
            (made > 0).then(|| {
                (
                    route,
                    json!((made as f64 / conversations as f64 * 1000.0).round() / 1000.0),
                )
            })
        })
        .collect();
    let kinds: serde_json::Map<String, Value> = report
        .kinds
        .iter()
        .map(|(k, c)| {
            (
                k.as_str().to_owned(),
                json!({"loaded": c.loaded, "updated": c.updated, "skipped": c.skipped,
                       "failed": c.failed, "unchanged": c.unchanged, "problems": c.problems}),
            )
        })
        .collect();
    let problems = staged.store.status(5).await.unwrap().problems;
    let metrics = target.metrics();
    let total = report.total();
    let figures = json!({
        "wall_seconds": wall,
        "calls_admitted": calls,
        "answers_429": throttled(&s),
        "share_of_allowed_rate": calls as f64 / (LIMIT_PER_MINUTE as f64 / 60.0 * wall),
        "calls_per_conversation": calls as f64 / conversations as f64,
        "conversations_loaded": conversations,
        "calls_per_conversation_by_route": by_route,
        "calls_per_window_10s": windows,
        "kinds": phases.figures(),
        "budget": "deskmove_intercom::host_policy(): 10,000/min in 10 s windows, burst 250, kept within X-RateLimit-Remaining",
        "client": {
            "calls": metrics.calls,
            "retries": metrics.retries,
            "budget_wait_seconds": metrics.budget_wait.as_secs_f64(),
            "gate_wait_seconds": metrics.gate_wait.as_secs_f64(),
        },
        "outcomes": kinds,
        "loaded": total.loaded,
        "failed": total.failed,
        "problems": problems.iter().map(|p| json!({"code": p.code, "count": p.count,
            "example": p.examples.first().map(|e| format!("{}: {}", e.problem.key, e.problem.reason))})).collect::<Vec<_>>(),
    });
    s.shutdown().await;
    figures
}

/// The staged world as the playbook's input: companies, contacts, then conversations with
/// their messages in thread order (the orchestrator reads an export; it gets it ready-made).
async fn playbook_input(store: &SqliteStore, path: &Path, limit: u64) -> u64 {
    let mut lines = Vec::new();
    for r in all(store, RecordKind::Company).await {
        let Record::Company(c) = r else { continue };
        lines.push(json!({"type": "company", "id": c.key.id, "name": c.name}).to_string());
    }
    for r in all(store, RecordKind::Contact).await {
        let Record::Contact(c) = r else { continue };
        lines.push(
            json!({"type": "contact", "id": c.key.id, "email": c.email, "name": c.name,
                "phone": c.phone, "created_at": c.created_at.as_second()})
            .to_string(),
        );
    }
    let mut messages: HashMap<String, Vec<Value>> = HashMap::new();
    let mut after = None;
    loop {
        let page = store
            .messages_in_thread_order(after.as_ref(), 2_000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = deskmove_store::ThreadPosition::of(&last.record);
        for s in page {
            let Record::Message(m) = s.record else {
                continue;
            };
            // Contacts write text, admins HTML (as the API takes them).
            let contact = m.author.kind == AuthorKind::Contact;
            let (a, b) = (m.body_markdown.clone(), m.body_html.clone());
            let body = if contact { a.or(b) } else { b.or(a) }.unwrap_or_default();
            messages
                .entry(m.conversation.id.clone())
                .or_default()
                .push(json!({
                    "contact": contact,
                    "note": m.kind != MessageKind::Reply,
                    "body": body,
                }));
        }
    }
    let mut n = 0;
    for r in all(store, RecordKind::Conversation).await {
        let Record::Conversation(c) = r else { continue };
        if limit > 0 && n >= limit {
            break;
        }
        let Some(contact) = c.contacts.first() else {
            continue;
        };
        n += 1;
        lines.push(
            json!({"type": "conversation", "id": c.key.id, "contact": contact.id,
                "subject": c.subject, "messages": messages.remove(&c.key.id).unwrap_or_default()})
            .to_string(),
        );
    }
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
    n
}

/// The playbook's orchestrator on a fresh sandbox with the same staged world.
async fn playbook(staged: &Staged, latency_ms: u64, limit: u64, root: &Path) -> Option<Value> {
    let sdk = root.join("conformance/sdk/node/node_modules/intercom-client");
    if !sdk.exists() {
        eprintln!(
            "playbook: skipped (no intercom-client; run `npm ci` in conformance/sdk/node once)"
        );
        return None;
    }
    let s = intercom(latency_ms).await;
    let dir = tempfile::TempDir::new().unwrap();
    let input = dir.path().join("world.jsonl");
    let conversations = playbook_input(&staged.store, &input, limit).await;
    next_window().await;
    let before = admitted(&s);
    let started = Instant::now();
    let output = tokio::process::Command::new("node")
        .arg(root.join("bench/intercom-target/playbook.mjs"))
        .arg(s.base_url().as_str())
        .arg(s.token())
        .arg(&input)
        .output()
        .await
        .expect("node runs");
    let wall = started.elapsed().as_secs_f64();
    let calls = admitted(&s) - before;
    let got: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        json!({"error": String::from_utf8_lossy(&output.stderr).chars().take(500).collect::<String>()})
    });
    eprintln!("playbook: {got} in {wall:.1} s, {calls} calls");
    let figures = json!({
        "conversations": conversations,
        "wall_seconds": wall,
        "calls_admitted": calls,
        "answers_429": throttled(&s),
        "share_of_allowed_rate": calls as f64 / (LIMIT_PER_MINUTE as f64 / 60.0 * wall),
        "calls_per_conversation": calls as f64 / conversations.max(1) as f64,
        "read": got,
        "what": "companies.create each with a 100 ms pause; contacts.search (external_id OR email) then contacts.create, a 500 ms pause every 50; for each conversation conversations.create from its contact, then conversations.reply once per later message at import time (no created_at), agents' messages as the first admin, a 500 ms pause every 50 conversations; no tags, states, assignees or files",
    });
    s.shutdown().await;
    Some(figures)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = arg("--out").map_or_else(
        || root.join("bench/results/intercom-target.json"),
        PathBuf::from,
    );
    let n = num("--conversations", 2_000);
    let contacts = num("--contacts", n / 4);
    let latency_ms = num("--latency-ms", 25);
    let peer = num("--peer", 200);

    eprintln!("staging: {n} Zendesk tickets, {contacts} end users (limits off)");
    let staged = stage(n, contacts).await;
    let world = world(&staged.store).await;
    eprintln!("staged in {:.1} s: {world}", staged.seconds);

    eprintln!("deskmove: load into Intercom at {LIMIT_PER_MINUTE}/min, {latency_ms} ms latency");
    let ours = deskmove(&staged, latency_ms).await;
    eprintln!("{ours:#}");

    let theirs = if peer == 0 {
        None
    } else {
        eprintln!("playbook: {peer} conversations (0 = all) on a fresh sandbox");
        playbook(&staged, latency_ms, if peer >= n { 0 } else { peer }, &root).await
    };
    // Like with like: the playbook's wall time per conversation over deskmove's.
    // Its companies and contacts phases ran in full; its conversation phase on `peer` of them.
    let peer_figures = theirs.map(|t| {
        let read = &t["read"];
        let secs = |k: &str| read[k].as_f64().unwrap_or(0.0);
        let measured = t["conversations"].as_f64().unwrap_or(1.0).max(1.0);
        let all = ours["conversations_loaded"].as_f64().unwrap_or(0.0);
        let whole = t["wall_seconds"].as_f64().unwrap_or(0.0)
            + secs("conversations_seconds") / measured * (all - measured).max(0.0);
        let extrapolated = t["conversations"].as_u64() < ours["conversations_loaded"].as_u64();
        json!({
            "measured": t,
            "wall_seconds_whole_world": whole,
            "extrapolated": extrapolated,
            "playbook_wall_over_deskmove_wall": whole / ours["wall_seconds"].as_f64().unwrap_or(1.0),
        })
    });
    let load = std::process::Command::new("uptime")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let result = json!({
        "benchmark": "intercom-target",
        "machine": {
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "note": format!("other work on the machine slows a run; uptime at the end: {load}"),
        },
        "sandbox": {"latency_ms": latency_ms, "rate_limit_per_minute": LIMIT_PER_MINUTE, "window_seconds": 10, "calls_per_window": 1_667},
        "world": {"seed": 42, "tickets": n, "end_users": contacts, "staging_seconds": staged.seconds, "kinds": world},
        "deskmove": ours,
        "playbook": peer_figures,
        "targets": {"share_of_allowed_rate": 0.95, "calls_per_conversation": "≤ 1 + messages + 2"},
    });
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, serde_json::to_string_pretty(&result).unwrap() + "\n").unwrap();
    eprintln!("written to {}", out.display());
}
