//! `deskmove export`, `import`, `run` and `rollback` through the real binary: a synthetic company
//! served by an in-process Intercom sandbox lands in a real PostgreSQL database with Chatwoot's
//! schema (`path = "postgres"`), compared with the world itself; a re-run writes nothing; a
//! rollback leaves the database exactly as it was, rows from before included; a second rollback
//! does nothing.

use std::collections::BTreeMap;

use deskmove_intercom_sandbox::{RunningSandbox, SandboxArgs};
use deskmove_sandbox::Sandbox;
use serde_json::Value;

use crate::util::chatwoot_db::ChatwootDb;
use crate::util::{Dir, Run};

/// The variables the test's `deskmove.toml` names; set only for the child.
const TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";
const DATABASE_ENV: &str = "DESKMOVE_TEST_CHATWOOT_DATABASE";

/// Intercom's retrieval shows a conversation's most recent 500 parts
/// (../shared/research/intercom-api.md).
const PART_CAP: usize = 500;

struct Setup {
    runtime: tokio::runtime::Runtime,
    sandbox: RunningSandbox,
    db: ChatwootDb,
    dir: Dir,
}

impl Setup {
    fn new(conversations: u64, contacts: u64) -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let sandbox = runtime
            .block_on(RunningSandbox::start(SandboxArgs {
                conversations,
                contacts,
                ..SandboxArgs::default()
            }))
            .unwrap();
        let db = runtime.block_on(ChatwootDb::create(sandbox.world()));
        let dir = Dir::new();
        let files = sandbox.files_url();
        dir.write(
            "deskmove.toml",
            &format!(
                r#"[source]
kind = "intercom"
base_url = "{base}"
token_env = "{TOKEN_ENV}"
file_hosts = ["{host}:{port}"]

[target]
kind = "chatwoot"
base_url = "http://127.0.0.1:1"
account_id = 1
path = "postgres"

[target.postgres]
database_url_env = "{DATABASE_ENV}"
inbox_id = 1
storage_dir = "storage"
"#,
                base = sandbox.base_url(),
                host = files.host_str().unwrap(),
                port = files.port().unwrap(),
            ),
        );
        Self {
            runtime,
            sandbox,
            db,
            dir,
        }
    }

    /// `deskmove <args>` with the source token and the database URL in its environment; checks
    /// neither ever appears in its output.
    fn deskmove(&self, args: &[&str]) -> Run {
        let token = self.sandbox.token().to_owned();
        let output = self
            .dir
            .command(args)
            .env(TOKEN_ENV, &token)
            .env(DATABASE_ENV, &self.db.url)
            .output()
            .unwrap();
        let run = Run { output };
        for secret in [token.as_str(), self.db.url.as_str()] {
            assert!(
                !run.stdout().contains(secret) && !run.stderr().contains(secret),
                "a secret appeared in the output\n--- stdout\n{}\n--- stderr\n{}",
                run.stdout(),
                run.stderr()
            );
        }
        run
    }

    /// `deskmove <args> --json`, expecting exit 0 or 3 (3 exactly when problems were recorded).
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let run = self.deskmove(&all);
        let doc: Value = serde_json::from_str(&run.stdout()).unwrap_or_else(|e| {
            panic!(
                "{e} (exit {})\n--- stdout\n{}\n--- stderr\n{}",
                run.code(),
                run.stdout(),
                run.stderr()
            )
        });
        assert!(matches!(run.code(), 0 | 3), "{}", run.stderr());
        doc
    }

    /// `deskmove status` as text: what the store says about every problem, for failure messages.
    fn status(&self) -> String {
        self.deskmove(&["status"]).stdout()
    }

    fn snapshot(&self) -> BTreeMap<String, (i64, String)> {
        self.runtime.block_on(self.db.snapshot())
    }

    fn storage_files(&self) -> usize {
        fn count(dir: &std::path::Path) -> usize {
            std::fs::read_dir(dir).map_or(0, |entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let p = e.path();
                        if p.is_dir() { count(&p) } else { 1 }
                    })
                    .sum()
            })
        }
        count(&self.dir.join("storage"))
    }
}

/// Nothing failed; the only records not written are the files of help-center articles, which
/// this load path does not write: each is skipped with that reason, never failed.
fn assert_nothing_failed_but_article_files_skipped(s: &Setup, failed: u64) {
    assert_eq!(failed, 0, "{}", s.status());
    let status = s.json(&["status"]);
    let groups = status["store"]["problems"].as_array().unwrap();
    assert!(
        groups.iter().all(|g| g["code"] != "parent_not_loaded"),
        "{}",
        s.status()
    );
    let skipped = groups
        .iter()
        .find(|g| g["code"] == "owner_not_loaded_on_this_path");
    for example in skipped.map_or(&Vec::new(), |g| g["examples"].as_array().unwrap()) {
        let p = &example["problem"];
        assert!(
            p["key"].to_string().contains("attachment")
                && p["reason"].as_str().unwrap().contains(":article:"),
            "{p}"
        );
    }
}

fn total(doc: &Value, field: &str) -> u64 {
    doc["total"][field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {doc}"))
}

/// Compares Chatwoot's tables with the synthetic world: every conversation (and ticket) of the
/// company is one conversation, every contact one contact, and each conversation's messages
/// carry exactly the world's times.
fn assert_matches_the_world(s: &Setup) {
    let world = s.sandbox.world();
    let totals = s.sandbox.inspect();
    let n = |key: &str| totals[key].as_u64().unwrap_or_else(|| panic!("{key}"));
    let v = world.view();
    s.runtime.block_on(async {
        let c = s.db.client().await;
        let count = |sql: &'static str| {
            let c = &c;
            async move { c.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) as u64 }
        };
        assert_eq!(
            count("SELECT count(*) FROM conversations WHERE identifier LIKE 'intercom:%'").await,
            n("conversations") + n("tickets"),
            "one Chatwoot conversation per conversation and ticket"
        );
        assert_eq!(
            count("SELECT count(*) FROM contacts WHERE additional_attributes ? 'deskmove_source'")
                .await
                + count("SELECT count(*) FROM deskmove.provenance WHERE target_table = 'contacts' AND NOT owned").await,
            n("contacts"),
            "one Chatwoot contact per contact"
        );
        let mut checked = 0;
        for i in 0..v.conversation_count() {
            let conv = v.conversation(i).unwrap();
            // Over the cap, only the most recent parts can be exported (reported as truncated).
            let visible = &conv.parts[conv.parts.len().saturating_sub(PART_CAP)..];
            let rows = c
                .query(
                    "SELECT extract(epoch FROM m.created_at)::bigint FROM messages m
                       JOIN conversations c ON c.id = m.conversation_id
                      WHERE c.identifier = $1 ORDER BY m.id",
                    &[&format!("intercom:conversation:{}", conv.id)],
                )
                .await
                .unwrap();
            let got: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
            let mut want: Vec<i64> = std::iter::once(conv.created_at)
                .chain(visible.iter().map(|p| p.created_at))
                .collect();
            want.sort();
            assert_eq!(got, want, "conversation {}: message times in id order", conv.id);
            checked += got.len();
        }
        assert!(checked as u64 >= n("conversations"), "{checked}");
    });
}

#[test]
fn export_import_rerun_and_rollback_into_chatwoot_postgres() {
    let s = Setup::new(40, 30);
    let before = s.snapshot();

    let exported = s.json(&["export"]);
    assert!(exported["records"].as_u64().unwrap() > 0, "{exported}");

    let first = s.deskmove(&["import", "--json"]);
    let doc: Value = serde_json::from_str(&first.stdout())
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", first.stdout(), first.stderr()));
    assert_nothing_failed_but_article_files_skipped(&s, total(&doc, "failed"));
    assert!(total(&doc, "loaded") > 0, "{doc:#}");
    assert_eq!(
        first.code(),
        if total(&doc, "problems") > 0 { 3 } else { 0 },
        "{}",
        first.stderr()
    );
    assert!(
        first.stderr().contains("conversation: done"),
        "progress per kind on stderr\n{}",
        first.stderr()
    );
    assert!(
        s.dir
            .join(&format!("reports/run-{}/report.html", doc["run"]))
            .exists(),
        "the run's report is written"
    );
    assert_matches_the_world(&s);
    let loaded = s.snapshot();
    assert!(
        s.storage_files() > 0,
        "attachment files are in Chatwoot's storage"
    );

    let again = s.json(&["import"]);
    assert_eq!(total(&again, "loaded"), 0, "{again:#}");
    assert_eq!(total(&again, "updated"), 0, "{again:#}");
    assert!(total(&again, "unchanged") > 0, "{again:#}");
    assert_eq!(s.snapshot(), loaded, "a re-run writes nothing");

    let status = s.json(&["status"]);
    let kinds = status["store"]["kinds"].as_array().unwrap();
    let conversations = kinds.iter().find(|k| k["kind"] == "conversation").unwrap();
    assert_eq!(
        conversations["loaded"], conversations["staged"],
        "{status:#}"
    );
    let text = s.deskmove(&["status"]).expect_code(0).stdout();
    assert!(text.contains("`import`"), "the last run is shown\n{text}");

    let rolled = s.json(&["rollback"]);
    assert!(rolled["removed"].as_u64().unwrap() > 0, "{rolled:#}");
    assert_eq!(rolled["failed"], 0, "{rolled:#}");
    let after = s.snapshot();
    let changed: Vec<_> = before
        .iter()
        .filter(|(table, rows)| after.get(*table) != Some(rows))
        .map(|(table, rows)| (table, rows, after.get(table)))
        .collect();
    assert!(
        changed.is_empty(),
        "the database is as before the import: {changed:#?}"
    );
    assert_eq!(s.storage_files(), 0, "the files are gone too");

    let second = s.deskmove(&["rollback"]).expect_code(0);
    assert!(
        second.stdout().contains("Nothing to roll back"),
        "{}",
        second.stdout()
    );
    assert_eq!(s.snapshot(), after, "a second rollback does nothing");

    // Imported again after the rollback, the history is back in full.
    let back = s.json(&["import"]);
    assert_nothing_failed_but_article_files_skipped(&s, total(&back, "failed"));
    assert_matches_the_world(&s);
    s.runtime.block_on(s.sandbox.shutdown());
}

#[test]
fn run_moves_everything_in_one_command_and_a_rerun_writes_nothing() {
    let s = Setup::new(15, 12);
    let doc = s.json(&["run"]);
    assert!(doc["export"]["records"].as_u64().unwrap() > 0, "{doc:#}");
    assert_nothing_failed_but_article_files_skipped(
        &s,
        doc["import"]["total"]["failed"].as_u64().unwrap(),
    );
    assert_matches_the_world(&s);
    let loaded = s.snapshot();
    let again = s.json(&["run"]);
    assert_eq!(again["import"]["total"]["loaded"], 0, "{again:#}");
    assert_eq!(again["import"]["total"]["updated"], 0, "{again:#}");
    assert_eq!(s.snapshot(), loaded, "a re-run writes nothing");
    s.runtime.block_on(s.sandbox.shutdown());
}

#[test]
fn import_refused_by_the_preflight_exits_2_and_writes_nothing() {
    let s = Setup::new(5, 5);
    s.json(&["export"]);
    s.runtime.block_on(async {
        let c = s.db.client().await;
        c.batch_execute("UPDATE schema_migrations SET version = '20990101000000'")
            .await
            .unwrap();
    });
    let before = s.snapshot();
    let refused = s.deskmove(&["import"]).expect_code(2);
    let err = refused.stderr();
    assert!(err.contains("refuses the import"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(s.snapshot(), before);
    let status = s.json(&["status"]);
    let runs = status["store"]["runs"].as_array().unwrap();
    assert!(
        runs.iter().all(|r| r["command"] != "import"),
        "a refused import starts no run: {runs:?}"
    );
    s.runtime.block_on(s.sandbox.shutdown());
}

#[test]
fn import_and_rollback_without_a_store_say_to_export_first() {
    let dir = Dir::new();
    dir.deskmove(&["init"]).expect_code(0);
    for command in ["import", "rollback"] {
        let run = dir
            .command(&[command])
            .env("CHATWOOT_TOKEN", "cw-secret")
            .output()
            .unwrap();
        let run = Run { output: run }.expect_code(2);
        assert!(run.stderr().contains("deskmove export"), "{}", run.stderr());
        assert!(!dir.join("deskmove.sqlite").exists(), "nothing changed");
    }
}

#[test]
fn every_new_command_has_help_that_teaches() {
    let dir = Dir::new();
    for (command, words) in [
        ("import", "--force"),
        ("run", "delta"),
        ("rollback", "--run"),
    ] {
        let out = dir.deskmove(&[command, "--help"]).expect_code(0).stdout();
        assert!(out.contains(words), "{command}: {out}");
        assert!(out.contains("--json"), "{command}: {out}");
    }
}

#[test]
fn a_bad_setting_stops_import_with_the_file_line_and_key() {
    let dir = Dir::new();
    dir.deskmove(&["init"]).expect_code(0);
    let good = dir.read("deskmove.toml");
    let line_of =
        |text: &str, start: &str| text.lines().position(|l| l.starts_with(start)).unwrap() + 1;
    for (from, to, key) in [
        ("account_id = 1", "account_id = \"one\"", "account_id"),
        ("account_id = 1", "acount_id = 1", "acount_id"),
        ("path = \"api\"", "path = \"sql\"", "path"),
        ("account_id = 1", "", "account_id"),
    ] {
        let text = good.replacen(from, to, 1);
        dir.write("deskmove.toml", &text);
        let run = dir
            .command(&["import"])
            .env("CHATWOOT_TOKEN", "cw-secret")
            .output()
            .unwrap();
        let err = Run { output: run }.expect_code(2).stderr();
        let line = if to.is_empty() {
            line_of(&text, "[target]")
        } else {
            line_of(&text, to)
        };
        assert!(err.contains("deskmove.toml"), "{key}: {err}");
        assert!(err.contains(&format!("line {line}")), "{key}: {err}");
        assert!(err.contains(key), "{key}: {err}");
        assert!(!dir.join("deskmove.sqlite").exists(), "nothing changed");
    }
}

#[test]
fn rollback_of_one_run_removes_only_that_runs_records() {
    let s = Setup::new(6, 6);
    s.json(&["export"]);
    let before = s.snapshot();
    let first = s.json(&["import"]);
    let run = first["run"].as_i64().unwrap().to_string();
    // An unknown run, and a run that loaded nothing into the target, are refused by name.
    let unknown = s.deskmove(&["rollback", "--run", "99"]).expect_code(2);
    assert!(
        unknown.stderr().contains("no run #99"),
        "{}",
        unknown.stderr()
    );
    let export_run = s.deskmove(&["rollback", "--run", "1"]).expect_code(2);
    assert!(
        export_run.stderr().contains("did not load into"),
        "{}",
        export_run.stderr()
    );
    let rolled = s.json(&["rollback", "--run", &run]);
    assert_eq!(
        rolled["rolled_back"][0]["run"]
            .as_i64()
            .unwrap()
            .to_string(),
        run
    );
    assert!(rolled["removed"].as_u64().unwrap() > 0, "{rolled:#}");
    assert_eq!(s.snapshot(), before, "the database is as before the import");
    let again = s.json(&["rollback", "--run", &run]);
    assert_eq!(again["removed"], 0, "{again:#}");
    assert_eq!(again["status"], "nothing_to_do", "{again:#}");
    s.runtime.block_on(s.sandbox.shutdown());
}

#[test]
fn verify_finds_everything_then_names_what_was_deleted_in_the_target() {
    let s = Setup::new(8, 8);
    s.json(&["run"]);
    let ok = s.json(&["verify"]);
    assert_eq!(ok["ok"], true, "{ok:#}");
    let conversations = ok["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "conversation")
        .unwrap()
        .clone();
    assert_eq!(conversations["found"], conversations["loaded"], "{ok:#}");
    assert!(conversations["found"].as_u64().unwrap() > 0, "{ok:#}");

    // Someone deletes a conversation (and its messages) in Chatwoot.
    let gone = format!(
        "intercom:conversation:{}",
        s.sandbox.world().view().conversation(0).unwrap().id
    );
    s.runtime.block_on(async {
        let c = s.db.client().await;
        c.execute(
            "DELETE FROM messages WHERE conversation_id IN (SELECT id FROM conversations WHERE identifier = $1)",
            &[&gone],
        )
        .await
        .unwrap();
        let n = c
            .execute("DELETE FROM conversations WHERE identifier = $1", &[&gone])
            .await
            .unwrap();
        assert_eq!(n, 1);
    });
    let before = s.snapshot();
    let caught = s.deskmove(&["verify"]).expect_code(3);
    let out = caught.stdout();
    assert!(out.contains(&gone), "{out}");
    assert!(out.contains("not in the target"), "{out}");
    assert_eq!(s.snapshot(), before, "verify writes nothing");
    s.runtime.block_on(s.sandbox.shutdown());
}
