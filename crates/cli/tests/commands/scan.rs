//! `deskmove scan` through the real binary, against an in-process Intercom and Chatwoot: it
//! makes no write call in either (asserted from both sandboxes' call logs) and creates no file,
//! and its predicted calls and time hold for the `deskmove run` that follows (within 10% and
//! 20%). Both budgets are set low, so the run is paced by them and its time can be predicted.

use std::time::Instant;

use deskmove_chatwoot_sandbox::{RunningSandbox as Chatwoot, SandboxArgs as ChatwootArgs};
use deskmove_intercom_sandbox::{RunningSandbox as Intercom, SandboxArgs as IntercomArgs};
use deskmove_sandbox::{Sandbox, SandboxStats};
use serde_json::Value;

use crate::util::{Dir, Run};

const SOURCE_TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";
const TARGET_TOKEN_ENV: &str = "DESKMOVE_TEST_TARGET_TOKEN";
/// deskmove's budgets, under the sandboxes' own limits (so no call is refused).
/// The target's is low enough that even one conversation's messages, written one after another,
/// wait for the budget rather than for the answers, and that the import's calls outweigh the
/// export's fixed local work (staging, hashing files, reading phone numbers): the run's time is
/// then its calls over the pace.
const SOURCE_CALLS_PER_MINUTE: u64 = 1_200;
const TARGET_CALLS_PER_MINUTE: u64 = 300;
/// Calls that may leave back to back: a short stall on this machine is caught up on.
const BURST: u64 = 10;

fn calls(stats: &SandboxStats) -> u64 {
    stats
        .iter()
        .filter(|(route, _)| !route.contains(" /__sandbox/"))
        .map(|(_, s)| s.calls)
        .sum()
}

/// Calls per route made between two snapshots.
fn since(after: &SandboxStats, before: &SandboxStats) -> Vec<(String, u64)> {
    after
        .iter()
        .filter(|(route, _)| !route.contains(" /__sandbox/"))
        .map(|(route, s)| {
            let was = before.get(route).map_or(0, |b| b.calls);
            (route.clone(), s.calls - was)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

struct World {
    runtime: tokio::runtime::Runtime,
    source: Intercom,
    target: Chatwoot,
    dir: Dir,
}

impl World {
    fn start() -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (source, target) = runtime.block_on(async {
            let source = Intercom::start(IntercomArgs {
                conversations: 3,
                contacts: 5,
                rate_limit: 6_000,
                log_requests: true,
                ..IntercomArgs::default()
            })
            .await
            .unwrap();
            let target = Chatwoot::start(ChatwootArgs {
                rate_limit: 3_000,
                message_limit: 0,
                ..ChatwootArgs::default()
            })
            .await
            .unwrap();
            (source, target)
        });
        let dir = Dir::new();
        let files = source.files_url();
        dir.write(
            "deskmove.toml",
            &format!(
                r#"[source]
kind = "intercom"
base_url = "{source_url}"
token_env = "{SOURCE_TOKEN_ENV}"
file_hosts = ["{host}:{port}"]
http = {{ calls_per_minute = {SOURCE_CALLS_PER_MINUTE}, burst = {BURST} }}

[target]
kind = "chatwoot"
base_url = "{target_url}"
account_id = {account}
path = "api"
token_env = "{TARGET_TOKEN_ENV}"
conversation_message_limit = 0
http = {{ calls_per_minute = {TARGET_CALLS_PER_MINUTE}, burst = {BURST} }}
"#,
                source_url = source.base_url(),
                host = files.host_str().unwrap(),
                port = files.port().unwrap(),
                target_url = target.base_url(),
                account = target.account_id(),
            ),
        );
        Self {
            runtime,
            source,
            target,
            dir,
        }
    }

    fn deskmove(&self, args: &[&str]) -> Run {
        let output = self
            .dir
            .command(args)
            .env(SOURCE_TOKEN_ENV, self.source.token())
            .env(TARGET_TOKEN_ENV, self.target.token())
            .output()
            .unwrap();
        let run = Run { output };
        for secret in [self.source.token(), self.target.token()] {
            assert!(
                !run.stdout().contains(secret) && !run.stderr().contains(secret),
                "a token appeared in the output"
            );
        }
        run
    }

    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn shutdown(self) {
        self.runtime.block_on(async {
            self.source.shutdown().await;
            self.target.shutdown().await;
        });
    }
}

/// Intercom's searches and its companies list are POSTs that read (../shared/research/
/// intercom-api.md §2: `POST /tickets/search`, `POST /companies/list`); nothing else may be
/// anything but a GET.
fn is_intercom_read(request: &str) -> bool {
    let (method, path) = request.split_once(' ').unwrap();
    let path = path.split('?').next().unwrap();
    method == "GET"
        || (method == "POST" && (path.ends_with("/search") || path == "/companies/list"))
}

#[test]
fn scan_writes_nothing_and_predicts_the_run_that_follows() {
    let world = World::start();
    let before = world.files();
    let target_before = world.target.stats();
    let target_state = world.target.inspect();

    let run = world
        .deskmove(&["scan", "--json", "--runbook", "runbook.md"])
        .expect_code(0);
    let doc: Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout(), run.stderr()));

    // (a) No write call anywhere, and no file but the run book.
    let requests = world.source.requests();
    assert!(!requests.is_empty(), "the scan read the source");
    let writes: Vec<&String> = requests.iter().filter(|r| !is_intercom_read(r)).collect();
    assert!(writes.is_empty(), "Intercom saw writes: {writes:?}");
    let target_calls = since(&world.target.stats(), &target_before);
    assert!(
        !target_calls.is_empty(),
        "the scan read the target's agents"
    );
    for (route, n) in &target_calls {
        assert!(route.starts_with("GET "), "Chatwoot saw {n} × {route}");
    }
    assert_eq!(
        world.target.inspect(),
        target_state,
        "the target is as it was"
    );
    let mut expected = before.clone();
    expected.push("runbook.md".to_owned());
    expected.sort();
    assert_eq!(world.files(), expected, "no staging store, no blob folder");

    // (c) The document has what the issue asks for.
    let world_totals = world.source.inspect();
    let n = |key: &str| world_totals[key].as_u64().unwrap();
    let kind = |k: &str| {
        doc["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == k)
            .unwrap_or_else(|| panic!("no {k} in {doc:#}"))
            .clone()
    };
    assert_eq!(
        kind("conversation")["count"].as_u64().unwrap(),
        n("conversations") + n("tickets")
    );
    assert_eq!(kind("contact")["count"], n("contacts"));
    assert!(doc["attachment_bytes"].as_u64().unwrap() > 0, "{doc:#}");
    let buckets = doc["conversation_lengths"].as_array().unwrap();
    let bucketed: u64 = buckets
        .iter()
        .map(|b| b["conversations"].as_u64().unwrap())
        .sum();
    assert_eq!(bucketed, doc["sampled_conversations"].as_u64().unwrap());
    assert!(bucketed > 0);
    assert!(doc["truncated_expected"].is_u64());
    // The sandbox's Chatwoot has one agent, none of the world's: every current one is unmatched.
    assert_eq!(
        doc["unmatched_agents"].as_array().unwrap().len() as u64,
        n("admins"),
        "{doc:#}"
    );
    assert!(doc["attributes_needing_decision"].is_array());
    let paths: Vec<&str> = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["api", "postgres"]);
    assert_eq!(doc["targets"][1]["total_calls"], 0);
    assert!(doc["targets"][1]["rows"].as_u64().unwrap() > 0);

    let book = world.dir.read("runbook.md");
    for step in [
        "deskmove scan",
        "deskmove map",
        "deskmove run --sample 50",
        "deskmove run --closed-before ",
        "deskmove verify",
        "Cutover run",
        "Delta date: **",
    ] {
        assert!(book.contains(step), "{step} missing from\n{book}");
    }
    assert!(
        book.matches("- Rollback: `deskmove rollback --run").count() >= 3,
        "{book}"
    );
    assert_eq!(book.matches("- Rollback: ").count(), 8, "{book}");

    // The table, too.
    let table = world.deskmove(&["scan"]).expect_code(0).stdout();
    assert!(table.contains("Nothing was written"), "{table}");
    assert!(
        table.contains("import, path \"api\" (configured)"),
        "{table}"
    );

    // (b) The run: calls within 10% of the prediction, time within 20%.
    let (source_mid, target_mid) = (world.source.stats(), world.target.stats());
    // Export then import (`run` is both): each half timed on its own.
    let started = Instant::now();
    let export = world.deskmove(&["export", "--json"]);
    let exported = started.elapsed().as_secs_f64();
    assert!(matches!(export.code(), 0 | 3), "{}", export.stderr());
    let import = world.deskmove(&["import", "--json"]);
    let took = started.elapsed().as_secs_f64();
    assert!(matches!(import.code(), 0 | 3), "{}", import.stderr());
    let source_calls = calls(&world.source.stats()) - calls(&source_mid);
    let target_calls = calls(&world.target.stats()) - calls(&target_mid);
    let predicted_source = doc["export"]["calls"].as_u64().unwrap();
    let predicted_target = doc["targets"][0]["total_calls"].as_u64().unwrap();
    let made = source_calls + target_calls;
    let predicted = predicted_source + predicted_target;
    let report = format!(
        "export took {exported:.1} s (predicted {:.1} s), import {:.1} s (predicted {:.1} s)\npredicted {predicted_source} + {predicted_target}, made {source_calls} + {target_calls}\nsource: {:?}\ntarget: {:?}\npredicted target: {}",
        doc["export"]["seconds"].as_f64().unwrap(),
        took - exported,
        doc["targets"][0]["seconds"].as_f64().unwrap(),
        since(&world.source.stats(), &source_mid),
        since(&world.target.stats(), &target_mid),
        doc["targets"][0]["calls"],
    );
    eprintln!(
        "{report}\npredicted {:.1} s, took {took:.1} s",
        doc["total_seconds"]
    );
    let off = (predicted as f64 - made as f64).abs() / made as f64;
    assert!(off <= 0.10, "calls {off:.3} off: {report}");
    let seconds = doc["total_seconds"].as_f64().unwrap();
    let off = (seconds - took).abs() / took;
    assert!(
        off <= 0.20,
        "time {off:.3} off: predicted {seconds:.1} s, took {took:.1} s; {report}"
    );
    world.shutdown();
}
