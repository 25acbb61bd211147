//! `deskmove export` with `kind = "intercom-files"`, through the real binary: a folder saved
//! from the Intercom sandbox's answers (as a `curl` or SDK export script would save them) stages
//! the world's conversations and contacts without any token, and a line the script broke is
//! reported with its file and line (exit code 3) while the rest imports.

use std::collections::BTreeMap;
use std::path::Path;

use deskmove_intercom::client::Api;
use deskmove_intercom::{IntercomSource, SourceOptions};
use deskmove_intercom_sandbox::{RunningSandbox, SandboxArgs};
use deskmove_sandbox::Sandbox;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::util::Dir;

fn write(dir: &Path, rel: &str, body: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

fn items(body: &[u8], field: &str) -> Vec<Value> {
    let v: Value = serde_json::from_slice(body).unwrap();
    v[field].as_array().cloned().unwrap_or_default()
}

fn next_cursor(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).unwrap();
    v["pages"]["next"]["starting_after"]
        .as_str()
        .map(str::to_owned)
}

/// Saves what an export script would: the small lists as received, contacts as JSONL lines
/// (the third one broken), conversation list pages and each conversation and ticket retrieved.
async fn dump(api: &Api, dir: &Path) {
    for (rel, path) in [
        ("admins.json", "admins"),
        ("teams.json", "teams"),
        ("tags.json", "tags"),
    ] {
        write(dir, rel, &api.get(path, &[]).await.unwrap());
    }
    let mut lines = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let l = api
            .cursor_page("contacts", 50, after.as_deref(), &[])
            .await
            .unwrap();
        lines.extend(l.page.data.iter().map(|r| r.get().to_owned()));
        after = next_cursor(&l.body);
        if after.is_none() {
            break;
        }
    }
    lines.insert(2, "{\"type\": \"contact\", \"id\": ".into());
    write(dir, "contacts.jsonl", lines.join("\n").as_bytes());
    let mut after: Option<String> = None;
    for n in 1.. {
        let l = api
            .cursor_page("conversations", 50, after.as_deref(), &[])
            .await
            .unwrap();
        write(dir, &format!("conversations-{n:04}.json"), &l.body);
        for c in items(&l.body, "conversations") {
            let id = c["id"].as_str().unwrap();
            let body = api.get(&format!("conversations/{id}"), &[]).await.unwrap();
            write(dir, &format!("conversations/{id}.json"), &body);
        }
        after = next_cursor(&l.body);
        if after.is_none() {
            break;
        }
    }
    let mut after: Option<String> = None;
    loop {
        let query = json!({"field": "updated_at", "operator": ">", "value": 0});
        let l = api
            .search_page("tickets/search", query, 50, after.as_deref())
            .await
            .unwrap();
        for t in items(&l.body, "tickets") {
            let id = t["id"].as_str().unwrap();
            let body = api.get(&format!("tickets/{id}"), &[]).await.unwrap();
            write(dir, &format!("tickets/{id}.json"), &body);
        }
        after = next_cursor(&l.body);
        if after.is_none() {
            break;
        }
    }
}

#[test]
fn export_of_a_saved_folder_stages_the_world_and_names_the_broken_line() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime
        .block_on(RunningSandbox::start(SandboxArgs {
            conversations: 30,
            contacts: 25,
            ..SandboxArgs::default()
        }))
        .unwrap();
    let expected = sandbox.inspect();
    let n = |key: &str| expected[key].as_u64().unwrap_or_else(|| panic!("{key}"));

    // The workspace is a sub-folder run with `-C`: `dir` is relative to deskmove.toml's folder.
    let dir = Dir::new();
    let workspace = dir.join("ws");
    let token = SecretString::from(sandbox.token().to_owned());
    let source =
        IntercomSource::with_options(SourceOptions::new(sandbox.base_url()), &token).unwrap();
    runtime.block_on(dump(source.api(), &workspace.join("saved")));
    let files = sandbox.files_url();
    std::fs::write(
        workspace.join("deskmove.toml"),
        format!(
            r#"[source]
kind = "intercom-files"
dir = "saved"
file_hosts = ["{}:{}"]

[target]
kind = "chatwoot"
base_url = "http://127.0.0.1:1"
account_id = 1
token_env = "CHATWOOT_TOKEN"
"#,
            files.host_str().unwrap(),
            files.port().unwrap()
        ),
    )
    .unwrap();

    let run = dir.deskmove(&["-C", "ws", "export", "--json"]);
    let summary: Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout(), run.stderr()));
    assert_eq!(run.code(), 3, "problems were recorded\n{}", run.stderr());
    assert_eq!(summary["source"], "intercom-files");
    assert_eq!(summary["status"], "completed_with_problems");

    let status = dir
        .deskmove(&["-C", "ws", "status", "--json"])
        .expect_code(0)
        .stdout();
    let doc: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(doc["checks"][0]["ok"], true, "no source token is needed");
    let kinds: BTreeMap<&str, u64> = doc["store"]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kind"].as_str().unwrap(), k["staged"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        kinds.get("conversation"),
        Some(&(n("conversations") + n("tickets"))),
        "{kinds:?}"
    );
    // The broken line sits between contacts: every contact around it is staged.
    assert_eq!(kinds.get("contact"), Some(&n("contacts")), "{kinds:?}");
    assert_eq!(kinds.get("team"), Some(&n("teams")), "{kinds:?}");

    let text = dir
        .deskmove(&["-C", "ws", "status"])
        .expect_code(0)
        .stdout();
    assert!(text.contains("unreadable_line"), "{text}");
    assert!(text.contains("contacts.jsonl line 3"), "{text}");
    runtime.block_on(sandbox.shutdown());
}

#[test]
fn export_of_a_missing_folder_is_a_config_error_naming_dir() {
    let dir = Dir::new();
    dir.write(
        "deskmove.toml",
        r#"[source]
kind = "intercom-files"
dir = "not-saved-yet"

[target]
kind = "chatwoot"
base_url = "http://127.0.0.1:1"
account_id = 1
token_env = "CHATWOOT_TOKEN"
"#,
    );
    let run = dir.deskmove(&["export"]).expect_code(2);
    assert!(run.stderr().contains("`dir`"), "{}", run.stderr());
    assert!(run.stderr().contains("not-saved-yet"), "{}", run.stderr());
    assert!(!dir.join("deskmove.sqlite").exists(), "nothing is touched");
}
