//! A Chatwoot sandbox on loopback, the world's agents seeded as its agents, a real SQLite
//! staging store, and the engine loading through the API path.

use std::time::Duration;

use deskmove_chatwoot::ChatwootTarget;
use deskmove_chatwoot::load::{ApiOptions, ApiTarget};
use deskmove_chatwoot_sandbox::{RunningSandbox, SandboxArgs};
use deskmove_core::{Record, Target};
use deskmove_engine::{Engine, EngineOptions, LoadReport};
use deskmove_http::HostPolicy;
use deskmove_http::reqwest;
use deskmove_sandbox::Sandbox;
use deskmove_store::{BlobStore, NewRun, RunId, SqliteStore, StagedBatch, Store};
use deskmove_synth as synth;
use secrecy::SecretString;
use serde_json::{Value, json};
use tempfile::TempDir;

/// A sandbox with no per-IP limit (tests measure behaviour, not pacing) unless told otherwise.
pub async fn sandbox(args: SandboxArgs) -> RunningSandbox {
    RunningSandbox::start(args).await.unwrap()
}

pub fn quiet_args() -> SandboxArgs {
    SandboxArgs {
        rate_limit: 0,
        ..SandboxArgs::default()
    }
}

/// A quick budget with short backoffs, so fault tests recover fast.
pub fn test_policy() -> HostPolicy {
    HostPolicy {
        calls_per_minute: 600_000,
        burst: 1_000,
        // Rides out a 2-second injected storm (rack-attack's bare 429 says nothing of when).
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(400),
        max_attempts: 20,
        fixed_window_secs: None,
        ..deskmove_chatwoot::host_policy()
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// `POST` an account route of the sandbox as its administrator (test setup only; injected
/// faults happen before the route runs, so trying again is safe).
pub async fn admin_post(s: &RunningSandbox, rest: &str, body: Value) -> Value {
    let url = s
        .base_url()
        .join(&format!("api/v1/accounts/{}/{rest}", s.account_id()))
        .unwrap();
    for _ in 0..50 {
        let sent = http()
            .post(url.clone())
            .header("api_access_token", s.token())
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return r.json().await.unwrap(),
            Ok(r) if r.status().is_server_error() || r.status().as_u16() == 429 => continue,
            Ok(r) => panic!("{rest}: {}", r.status()),
            Err(_) => continue,
        }
    }
    panic!("{rest}: the sandbox kept failing")
}

/// The world's present agents as the account's agents (matched by email); departed ones are
/// not there, as in a real move.
pub async fn seed_agents(s: &RunningSandbox, world: &synth::World) {
    let v = world.view();
    for i in 0..v.agent_count() {
        let a = v.agent(i).unwrap();
        if a.departed {
            continue;
        }
        admin_post(
            s,
            "agents",
            json!({"name": a.name, "email": a.email.to_lowercase(), "role": "agent"}),
        )
        .await;
    }
}

/// The API path onto `s`, through the seam the CLI uses.
pub fn target(s: &RunningSandbox, blobs: &BlobStore) -> ChatwootTarget {
    let token = SecretString::from(s.token().to_owned());
    ChatwootTarget::Api(
        ApiTarget::new(
            &s.base_url(),
            &token,
            test_policy(),
            ApiOptions::new(s.account_id()),
            blobs.clone(),
        )
        .unwrap(),
    )
}

/// A real SQLite staging store in `dir`.
pub struct Staged {
    /// Kept alive for the store and blobs inside it.
    pub _dir: TempDir,
    pub store: SqliteStore,
    pub blobs: BlobStore,
}

pub async fn start(store: &SqliteStore, command: &str) -> RunId {
    store
        .start_run(NewRun {
            command: command.into(),
            source_system: Some("synth".into()),
            target_system: Some("chatwoot".into()),
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap()
}

/// An empty staging store and blob store.
pub fn staging() -> Staged {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path().join("staging.sqlite")).unwrap();
    let blobs = BlobStore::local(dir.path().join("blobs")).unwrap();
    Staged {
        _dir: dir,
        store,
        blobs,
    }
}

/// Stages `records` as an export would.
pub async fn stage(staged: &Staged, records: &[Record]) {
    let run = start(&staged.store, "export").await;
    for chunk in records.chunks(500) {
        let mut batch = StagedBatch::new(run, "test/world");
        batch.records = chunk.to_vec();
        staged.store.put_batch(batch).await.unwrap();
    }
}

/// Preflight, then the load phase, as `deskmove import` does.
pub async fn load(staged: &Staged, target: &ChatwootTarget, batch_size: usize) -> LoadReport {
    let pre = target.preflight().await.unwrap();
    assert!(pre.ok(), "preflight refused: {:?}", pre.refusals);
    let run = start(&staged.store, "import").await;
    Engine::new(&staged.store, &staged.blobs)
        .with_options(EngineOptions {
            concurrency: 1,
            attempts: 4,
            batch_size,
        })
        .load(run, target)
        .await
        .unwrap()
}

/// Loads until nothing is left: the flood guard (200 messages per conversation per minute)
/// holds long conversations back for the next run, which starts a sandbox minute later. Every
/// failure on the way must be that guard.
pub async fn load_all(
    staged: &Staged,
    target: &ChatwootTarget,
    sandbox: &RunningSandbox,
    batch_size: usize,
) -> Vec<LoadReport> {
    let mut reports = Vec::new();
    for _ in 0..8 {
        let report = load(staged, target, batch_size).await;
        let failed = report.total().failed;
        reports.push(report);
        if failed == 0 {
            return reports;
        }
        let mut after = None;
        loop {
            let page = staged.store.problems(after.as_ref(), 500).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.problem.clone());
            for p in &page {
                assert!(
                    matches!(
                        p.problem.code.as_str(),
                        "conversation_flood_guard"
                            | "parent_not_loaded"
                            | "owner_not_loaded_on_this_path"
                            | "agent_departed"
                            | "label_renamed"
                            | "attribute_archived"
                            | "contact_matched"
                            | "invalid_phone"
                            | "author_not_matched"
                    ),
                    "{:?}",
                    p.problem
                );
            }
        }
        sandbox.advance_clock(Duration::from_secs(61));
    }
    panic!("still failing after 8 runs: {reports:?}");
}

/// Writes (POST, PUT, PATCH, DELETE) the sandbox has answered so far.
pub fn writes(s: &RunningSandbox) -> u64 {
    s.stats()
        .iter()
        .filter(|(route, _)| {
            ["POST ", "PUT ", "PATCH ", "DELETE "]
                .iter()
                .any(|m| route.starts_with(m))
        })
        .map(|(_, r)| r.calls)
        .sum()
}
