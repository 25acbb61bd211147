//! The commands, driven through the real binary.

mod archive;
mod export;
mod export_files;
mod export_kill;
mod export_kill_zendesk;
mod import;
mod import_api;
mod import_kill;
mod import_kill_api;
mod import_kill_intercom;
mod map;
mod run_flags;
mod run_only;
mod scan;
mod verify;
mod zendesk_to_chatwoot;
mod zendesk_to_intercom;

use crate::util::{Dir, field, start_sandbox};

#[test]
fn help_teaches_the_first_steps_and_the_exit_codes() {
    let dir = Dir::new();
    let out = dir.deskmove(&["--help"]).expect_code(0).stdout();
    assert!(
        out.contains("deskmove init --from intercom --to chatwoot"),
        "{out}"
    );
    assert!(
        out.contains("Exit codes: 0 done; 1 failed; 2 bad usage"),
        "{out}"
    );
}

#[test]
fn init_writes_a_config_and_never_overwrites_it() {
    let dir = Dir::new();
    let run = dir
        .deskmove(&["init", "--from", "intercom", "--to", "chatwoot"])
        .expect_code(0);
    assert!(
        run.stderr().contains("export INTERCOM_TOKEN"),
        "{}",
        run.stderr()
    );
    let written = dir.read("deskmove.toml");
    assert!(written.contains("token_env = \"INTERCOM_TOKEN\""));

    dir.write("deskmove.toml", "# my edits\n");
    let again = dir.deskmove(&["init"]).expect_code(2);
    assert!(
        again.stderr().contains("never overwrites"),
        "{}",
        again.stderr()
    );
    assert_eq!(
        dir.read("deskmove.toml"),
        "# my edits\n",
        "the user's file is untouched"
    );
}

#[test]
fn init_refuses_pairs_it_cannot_move_yet() {
    let dir = Dir::new();
    let run = dir
        .deskmove(&["init", "--from", "chatwoot", "--to", "chatwoot"])
        .expect_code(2);
    let err = run.stderr();
    assert!(err.contains("invalid value 'chatwoot'"), "{err}");
    assert!(err.contains("possible values: intercom"), "{err}");
    assert!(!dir.join("deskmove.toml").exists());
}

#[test]
fn unknown_commands_are_usage_errors() {
    Dir::new().deskmove(&["frobnicate"]).expect_code(2);
}

#[test]
fn status_in_an_empty_directory_says_to_run_init() {
    let dir = Dir::new();
    let run = dir.deskmove(&["status"]).expect_code(2);
    assert!(
        run.stderr()
            .contains("deskmove init --from intercom --to chatwoot"),
        "{}",
        run.stderr()
    );
}

#[test]
fn init_then_status_explains_what_to_do_next() {
    let dir = Dir::new();
    dir.deskmove(&["init"]).expect_code(0);
    let out = dir.deskmove(&["status"]).expect_code(0).stdout();
    assert!(out.contains("deskmove: intercom → chatwoot"), "{out}");
    assert!(out.contains("$INTERCOM_TOKEN is not set"), "{out}");
    assert!(out.contains("$CHATWOOT_TOKEN is not set"), "{out}");
    assert!(out.contains("does not exist yet"), "{out}");
    assert!(
        !dir.join("deskmove.sqlite").exists(),
        "status never creates the store"
    );

    let secret = "sk-test-3f9a7c";
    let done = dir
        .command(&["status"])
        .env("INTERCOM_TOKEN", secret)
        .env("CHATWOOT_TOKEN", secret)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&done.stdout);
    assert!(text.contains("The set-up is complete"), "{text}");
    assert!(!text.contains(secret), "tokens never appear in output");
}

#[test]
fn init_from_zendesk_to_chatwoot_writes_a_config_status_reads() {
    let dir = Dir::new();
    let run = dir
        .deskmove(&["init", "--from", "zendesk", "--to", "chatwoot"])
        .expect_code(0);
    let err = run.stderr();
    assert!(err.contains("export ZENDESK_TOKEN"), "{err}");
    assert!(err.contains("`deskmove sandbox zendesk`"), "{err}");
    let written = dir.read("deskmove.toml");
    assert!(written.contains("kind = \"zendesk\""), "{written}");
    assert!(written.contains("base_url = \"https://"), "{written}");
    assert!(written.contains("email = "), "{written}");

    let out = dir.deskmove(&["status"]).expect_code(0).stdout();
    assert!(out.contains("deskmove: zendesk → chatwoot"), "{out}");
    assert!(out.contains("$ZENDESK_TOKEN is not set"), "{out}");
    assert!(out.contains("$CHATWOOT_TOKEN is not set"), "{out}");

    let secret = "zd-test-8b1e2d";
    let done = dir
        .command(&["status"])
        .env("ZENDESK_TOKEN", secret)
        .env("CHATWOOT_TOKEN", secret)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&done.stdout);
    assert!(text.contains("The set-up is complete"), "{text}");
    assert!(!text.contains(secret), "tokens never appear in output");

    // A plain-http address elsewhere than this machine is refused by name.
    dir.write(
        "deskmove.toml",
        &written.replace(
            "https://yourcompany.zendesk.com",
            "http://yourcompany.zendesk.com",
        ),
    );
    let refused = dir.deskmove(&["status"]).expect_code(2);
    assert!(
        refused.stderr().contains("`base_url`"),
        "{}",
        refused.stderr()
    );
}

#[test]
fn status_shows_what_the_store_holds_as_text_and_json() {
    use deskmove_core::model::Tag;
    use deskmove_core::{ErrorKind, Problem, Record, RecordKind, SourceKey, Stage};
    use deskmove_store::{NewRun, SqliteStore, StagedBatch, Store};

    let dir = Dir::new();
    dir.deskmove(&["init"]).expect_code(0);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(dir.join("deskmove.sqlite")).unwrap();
        let run = store
            .start_run(NewRun {
                command: "export".into(),
                source_system: Some("intercom".into()),
                target_system: None,
                target: None,
                started_at: jiff::Timestamp::now(),
            })
            .await
            .unwrap();
        let mut batch = StagedBatch::new(run, "intercom/tags");
        batch.cursor = Some("page-2".into());
        for id in ["1", "2", "3"] {
            batch.records.push(Record::Tag(Tag {
                key: SourceKey::new("intercom", RecordKind::Tag, id),
                name: format!("tag {id}"),
                extra: Default::default(),
            }));
        }
        batch.problems.push(Problem::new(
            SourceKey::new("intercom", RecordKind::Tag, "3"),
            Stage::Normalize,
            ErrorKind::Validation,
            "label_not_allowed",
            "the name has characters Chatwoot labels refuse",
        ));
        store.put_batch(batch).await.unwrap();
        store.close().unwrap();
    });

    let out = dir.deskmove(&["status"]).expect_code(0).stdout();
    assert!(out.contains("tag"), "{out}");
    assert!(out.contains("1 × label_not_allowed"), "{out}");
    assert!(out.contains("intercom:tag:3"), "{out}");
    assert!(out.contains("intercom/tags"), "{out}");

    let json = dir.deskmove(&["status", "--json"]).expect_code(0).stdout();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let tags = &value["store"]["kinds"][0];
    assert_eq!(tags["kind"], "tag");
    assert_eq!(tags["staged"], 3);
    assert_eq!(value["store"]["problems"][0]["count"], 1);
    assert_eq!(value["checks"][0]["ok"], false);
}

#[test]
fn demo_migrates_a_small_company_and_verifies_it_three_ways() {
    let dir = Dir::new();
    let out = dir
        .deskmove(&[
            "demo",
            "--conversations",
            "50",
            "--contacts",
            "40",
            "--json",
        ])
        .expect_code(0)
        .stdout();
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["intercom"]["role"], "source");
    assert_eq!(doc["intercom"]["world"]["conversations"], 50);
    assert_eq!(doc["intercom"]["world"]["contacts"], 40);
    assert_eq!(
        doc["intercom"]["checked"]["agents"], doc["intercom"]["world"]["admins"],
        "the source lists every current agent of its world"
    );
    assert_eq!(doc["chatwoot"]["role"], "target");
    assert!(
        doc["intercom"]["base_url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert_eq!(doc["chatwoot"]["checked"]["agents"], 1);

    // A real migration: every count agrees three ways, and the report is where it says.
    let m = &doc["migration"];
    assert_eq!(m["verified"], true, "{m:#}");
    let counts = m["counts"].as_array().unwrap();
    let count = |kind: &str| counts.iter().find(|c| c["kind"] == kind).unwrap().clone();
    let conversations = count("conversation");
    assert_eq!(
        conversations["source"],
        50 + doc["intercom"]["world"]["tickets"].as_u64().unwrap()
    );
    assert_eq!(conversations["staged"], conversations["source"]);
    assert_eq!(
        conversations["found"], conversations["staged"],
        "every conversation is in the target"
    );
    let contacts = count("contact");
    assert_eq!(contacts["found"], 40, "{contacts}");
    // scan → map → run → verify: the scan counted the conversations before the export, the
    // proposed mapping is in the folder, and a sample was compared in depth with no difference.
    let scanned = m["scanned"].as_array().unwrap();
    assert!(
        scanned
            .iter()
            .any(|k| k[0] == "conversation" && k[1] == conversations["source"]),
        "{scanned:?}"
    );
    assert!(dir.join("deskmove-demo/mapping.toml").exists());
    assert_eq!(
        m["mapped"]["agents_matched"], 0,
        "the target has only its owner"
    );
    let deep = &m["deep"];
    assert_eq!(deep["compared"], conversations["source"], "{deep:#}");
    assert!(deep["messages_compared"].as_u64().unwrap() > 50, "{deep:#}");
    assert_eq!(
        deep["mismatches"].as_array().map(Vec::len),
        Some(0),
        "{deep:#}"
    );
    let html = m["report"]["html"].as_str().unwrap();
    assert!(
        dir.path().join(html).exists() || std::path::Path::new(html).exists(),
        "{html}"
    );
    assert!(dir.join("deskmove-demo/deskmove.sqlite").exists());
    let status = dir
        .deskmove(&["-C", "deskmove-demo", "status"])
        .expect_code(0)
        .stdout();
    assert!(status.contains("`demo`"), "{status}");
}

#[test]
fn sandbox_intercom_prints_its_address_and_token_then_serves() {
    let dir = Dir::new();
    let (_child, line) = start_sandbox(
        &dir,
        &[
            "sandbox",
            "intercom",
            "--port",
            "0",
            "--conversations",
            "20",
            "--contacts",
            "10",
        ],
    );
    let base = format!("{}/", field(&line, "base_url").trim_end_matches('/'));
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    let token = field(&line, "token");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (ok, refused) = runtime.block_on(async {
        let client = reqwest::Client::new();
        let ok = client
            .get(format!("{base}admins"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status();
        let refused = client
            .get(format!("{base}admins"))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap()
            .status();
        (ok, refused)
    });
    assert_eq!(ok, 200);
    assert_eq!(refused, 401);
}

#[test]
fn sandbox_zendesk_prints_its_address_credentials_and_file_host_then_serves() {
    let dir = Dir::new();
    let (_child, line) = start_sandbox(
        &dir,
        &[
            "sandbox",
            "zendesk",
            "--port",
            "0",
            "--tickets",
            "5",
            "--contacts",
            "5",
        ],
    );
    let base = format!("{}/", field(&line, "base_url").trim_end_matches('/'));
    let (token, email) = (field(&line, "token"), field(&line, "email"));
    assert!(
        field(&line, "files_url").starts_with("http://127.0.0.1:"),
        "{line}"
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (basic, bearer, refused) = runtime.block_on(async {
        let client = reqwest::Client::new();
        let me = format!("{base}api/v2/users/me.json");
        let status = |request: reqwest::RequestBuilder| async move {
            request.send().await.unwrap().status().as_u16()
        };
        (
            status(
                client
                    .get(&me)
                    .basic_auth(format!("{email}/token"), Some(token)),
            )
            .await,
            status(client.get(&me).bearer_auth(token)).await,
            status(
                client
                    .get(&me)
                    .basic_auth(format!("{email}/token"), Some("wrong")),
            )
            .await,
        )
    });
    assert_eq!((basic, bearer, refused), (200, 200, 401));
}

#[test]
fn sandbox_chatwoot_prints_its_account_and_token_then_serves() {
    let dir = Dir::new();
    let (_child, line) = start_sandbox(&dir, &["sandbox", "chatwoot", "--port", "0"]);
    let base = format!("{}/", field(&line, "base_url").trim_end_matches('/'));
    let account = field(&line, "account_id");
    let token = field(&line, "token");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{base}api/v1/accounts/{account}/agents"))
            .header("api_access_token", token)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
}
