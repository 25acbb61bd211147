//! `deskmove export` against an in-process Intercom sandbox, through the real binary: the store's
//! counts per kind are the world's own totals, a second run adds nothing, tokens stay secret.

use std::collections::BTreeMap;

use deskmove_intercom_sandbox::{RunningSandbox, SandboxArgs};
use deskmove_sandbox::Sandbox;
use serde_json::Value;

use crate::util::{Dir, Run};

/// The variable the test's `deskmove.toml` names; set only for the child.
const TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";

fn config(sandbox: &RunningSandbox) -> String {
    let files = sandbox.files_url();
    format!(
        r#"[source]
kind = "intercom"
base_url = "{base}"
token_env = "{TOKEN_ENV}"
file_hosts = ["{host}:{port}"]

[target]
kind = "chatwoot"
base_url = "http://127.0.0.1:1"
account_id = 1
token_env = "CHATWOOT_TOKEN"
"#,
        base = sandbox.base_url(),
        host = files.host_str().unwrap(),
        port = files.port().unwrap(),
    )
}

fn export(dir: &Dir, token: &str, args: &[&str]) -> Run {
    let output = dir.command(args).env(TOKEN_ENV, token).output().unwrap();
    let run = Run { output };
    assert!(
        !run.stdout().contains(token) && !run.stderr().contains(token),
        "the token never appears in output\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout(),
        run.stderr()
    );
    run
}

/// `deskmove status --json`: staged records per kind, and the runs.
fn staged(dir: &Dir) -> (BTreeMap<String, u64>, Vec<Value>) {
    let out = dir.deskmove(&["status", "--json"]).expect_code(0).stdout();
    let doc: Value = serde_json::from_str(&out).unwrap();
    let kinds = doc["store"]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kind"].as_str().unwrap().to_owned(),
                k["staged"].as_u64().unwrap(),
            )
        })
        .collect();
    (kinds, doc["store"]["runs"].as_array().unwrap().clone())
}

#[test]
fn export_stages_the_whole_world_and_a_rerun_adds_nothing() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime
        .block_on(RunningSandbox::start(SandboxArgs {
            conversations: 60,
            contacts: 40,
            ..SandboxArgs::default()
        }))
        .unwrap();
    let token = sandbox.token().to_owned();
    let expected = sandbox.inspect();
    let n = |key: &str| expected[key].as_u64().unwrap_or_else(|| panic!("{key}"));

    let dir = Dir::new();
    dir.write("deskmove.toml", &config(&sandbox));
    let first = export(&dir, &token, &["export", "--json"]);
    let summary: Value = serde_json::from_str(&first.stdout()).unwrap_or_else(|e| {
        panic!(
            "{e}\n--- stdout\n{}\n--- stderr\n{}",
            first.stdout(),
            first.stderr()
        )
    });
    let truncated = n("conversations_over_part_cap");
    let problems = summary["problems"].as_u64().unwrap();
    assert_eq!(
        first.code(),
        if problems > 0 { 3 } else { 0 },
        "the exit code follows the problems\n{}",
        first.stderr()
    );
    assert!(problems >= truncated, "{summary}");
    assert_eq!(
        summary["status"],
        if problems > 0 {
            "completed_with_problems"
        } else {
            "succeeded"
        }
    );
    let stderr = first.stderr();
    assert!(
        stderr.contains("intercom/conversations: started"),
        "{stderr}"
    );
    assert!(stderr.contains("intercom/conversations: done"), "{stderr}");

    let (kinds, runs) = staged(&dir);
    let want = BTreeMap::from([
        ("team", n("teams")),
        ("tag", n("tags")),
        ("company", n("companies")),
        ("contact", n("contacts")),
        ("macro", n("macros")),
        ("collection", n("collections")),
        ("article", n("articles")),
        ("conversation", n("conversations") + n("tickets")),
        (
            "message",
            // Each conversation's and ticket's first message, then the parts a retrieval shows.
            n("conversations")
                + n("conversation_parts_within_cap")
                + n("tickets")
                + n("ticket_parts"),
        ),
    ]);
    for (kind, count) in &want {
        assert_eq!(kinds.get(*kind), Some(count), "{kind}: {kinds:?}");
    }
    // Every current teammate, plus the one bot agent and departed authors of visible parts.
    assert!(kinds["agent"] > n("admins"), "{kinds:?}");
    assert!(
        kinds["attachment"] >= n("attachments_within_cap"),
        "{kinds:?}"
    );
    assert!(summary["records"].as_u64().unwrap() >= kinds.values().sum::<u64>() - kinds["agent"]);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["command"], "export");

    let text = export(&dir, &token, &["export"]);
    let out = text.stdout();
    assert!(out.contains("intercom/contacts"), "{out}");
    assert!(out.contains("Exported from intercom (run #2)"), "{out}");
    let (again, runs) = staged(&dir);
    assert_eq!(again, kinds, "a second export adds no records");
    assert_eq!(runs.len(), 2);
    assert!(
        matches!(text.code(), 0 | 3),
        "{}\n{}",
        text.stdout(),
        text.stderr()
    );

    runtime.block_on(sandbox.shutdown());
}

#[test]
fn export_with_a_refused_token_fails_with_the_advice_and_keeps_it_secret() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime
        .block_on(RunningSandbox::start(SandboxArgs {
            conversations: 5,
            contacts: 5,
            ..SandboxArgs::default()
        }))
        .unwrap();
    let dir = Dir::new();
    dir.write("deskmove.toml", &config(&sandbox));
    let wrong = "wrong-token-5d1c9e";
    let run = export(&dir, wrong, &["export"]).expect_code(1);
    let err = run.stderr();
    assert!(err.contains("The token was refused"), "{err}");
    let (_, runs) = staged(&dir);
    assert_eq!(runs.last().unwrap()["status"], "failed");
    runtime.block_on(sandbox.shutdown());
}

#[test]
fn export_without_a_token_is_a_config_error() {
    let dir = Dir::new();
    dir.deskmove(&["init"]).expect_code(0);
    let run = dir.deskmove(&["export"]).expect_code(2);
    assert!(
        run.stderr().contains("$INTERCOM_TOKEN is not set"),
        "{}",
        run.stderr()
    );
    assert!(!dir.join("deskmove.sqlite").exists(), "nothing changed");
}

#[test]
fn export_from_zendesk_stages_the_whole_world() {
    use deskmove_zendesk_sandbox::{RunningSandbox as Zendesk, SandboxArgs as ZendeskArgs};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime
        .block_on(Zendesk::start(ZendeskArgs {
            tickets: 6,
            contacts: 5,
            ..ZendeskArgs::default()
        }))
        .unwrap();
    let files = sandbox.files_url();
    let dir = Dir::new();
    dir.write(
        "deskmove.toml",
        &format!(
            r#"[source]
kind = "zendesk"
base_url = "{base}"
email = "{email}"
token_env = "{TOKEN_ENV}"
file_hosts = ["{host}:{port}"]

[target]
kind = "chatwoot"
base_url = "http://127.0.0.1:1"
account_id = 1
token_env = "CHATWOOT_TOKEN"
"#,
            base = sandbox.base_url(),
            email = sandbox.email(),
            host = files.host_str().unwrap(),
            port = files.port().unwrap(),
        ),
    );
    let token = sandbox.token().to_owned();
    let run = export(&dir, &token, &["export", "--json"]);
    assert!(matches!(run.code(), 0 | 3), "{}", run.stderr());
    let world = sandbox.inspect();
    let n = |key: &str| world[key].as_u64().unwrap_or_else(|| panic!("{key}"));
    let (kinds, _) = staged(&dir);
    for (kind, count) in [
        ("conversation", n("tickets")),
        ("message", n("comments")),
        ("contact", n("end_users")),
        ("company", n("organizations")),
        ("team", n("groups")),
        ("macro", n("macros")),
        ("article", n("articles")),
    ] {
        assert_eq!(kinds.get(kind), Some(&count), "{kind}: {kinds:?}");
    }
    runtime.block_on(sandbox.shutdown());
}
