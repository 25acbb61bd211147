//! `deskmove verify` in depth and `deskmove rollback` through the ledger, on Chatwoot's API path:
//! a company exported from an in-process Intercom sandbox and imported into an in-process
//! Chatwoot sandbox. Differences are planted in the target the way a person could make them —
//! through Chatwoot's own API (a message deleted, a label removed) or, for what the API cannot
//! change (a message's text, an attachment's bytes), through the sandbox's documented test
//! hooks — and `verify` must name each one.

use deskmove_chatwoot_sandbox::{RunningSandbox as Chatwoot, SandboxArgs as ChatwootArgs};
use deskmove_intercom_sandbox::{RunningSandbox as Intercom, SandboxArgs as IntercomArgs};
use deskmove_sandbox::Sandbox;
use serde_json::{Value, json};

use crate::util::{Dir, Run};

const SOURCE_TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";
const TARGET_TOKEN_ENV: &str = "DESKMOVE_TEST_TARGET_TOKEN";

/// Both sandboxes, a configured folder, and a way to call the target's API as a user would.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    source: Intercom,
    target: Chatwoot,
    dir: Dir,
    http: reqwest::Client,
}

impl Fixture {
    fn new(conversations: u64) -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (source, target) = runtime.block_on(async {
            let source = Intercom::start(IntercomArgs {
                conversations,
                contacts: 10,
                ..IntercomArgs::default()
            })
            .await
            .unwrap();
            // A self-hosted install with raised limits, so the test does not wait on windows.
            let target = Chatwoot::start(ChatwootArgs {
                rate_limit: 30_000,
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

[target]
kind = "chatwoot"
base_url = "{target_url}"
account_id = {account}
path = "api"
token_env = "{TARGET_TOKEN_ENV}"
# The sandbox runs with Chatwoot's per-conversation message guard off.
conversation_message_limit = 0
http = {{ calls_per_minute = 27000 }}
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
            http: reqwest::Client::new(),
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

    /// The command's JSON document, asserting its exit code.
    fn json(&self, args: &[&str], code: i32) -> Value {
        let run = self.deskmove(args);
        assert_eq!(run.code(), code, "{}\n{}", run.stdout(), run.stderr());
        serde_json::from_str(&run.stdout())
            .unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout(), run.stderr()))
    }

    /// A call to the account's Application API with the user's token.
    fn api(&self, method: reqwest::Method, rest: &str, body: Option<Value>) -> Value {
        let url = format!(
            "{}api/v1/accounts/{}/{rest}",
            self.base(),
            self.target.account_id()
        );
        self.send(
            self.http
                .request(method, url)
                .header("api_access_token", self.target.token()),
            body,
        )
    }

    /// A call to one of the sandbox's own `/__sandbox/` endpoints.
    fn hook(&self, rest: &str, body: Vec<u8>) {
        let url = format!("{}__sandbox/{rest}", self.base());
        let status = self.runtime.block_on(async {
            self.http
                .post(url)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        });
        assert!(status.is_success(), "{rest}: {status}");
    }

    fn base(&self) -> String {
        format!("{}/", self.target.base_url().as_str().trim_end_matches('/'))
    }

    fn send(&self, request: reqwest::RequestBuilder, body: Option<Value>) -> Value {
        self.runtime.block_on(async {
            let request = match body {
                Some(b) => request.json(&b),
                None => request,
            };
            let r = request.send().await.unwrap();
            let status = r.status();
            let text = r.text().await.unwrap();
            assert!(status.is_success(), "{status}: {text}");
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
    }

    /// Calls Chatwoot has answered so far, outside the sandbox's own endpoints.
    fn calls(&self) -> u64 {
        let url = format!("{}__sandbox/stats", self.base());
        self.send(self.http.get(url), None)["total_calls"]
            .as_u64()
            .unwrap()
    }

    /// Export, then import until nothing is left to load.
    fn migrate(&self) {
        // The synthetic world holds records with problems (invalid emails, truncations), so
        // export and import may finish with 3.
        let export = self.deskmove(&["export", "--json"]);
        assert!(matches!(export.code(), 0 | 3), "{}", export.stderr());
        let first = self.deskmove(&["import", "--json"]);
        assert!(matches!(first.code(), 0 | 3), "{}", first.stderr());
    }

    fn shutdown(self) {
        let Self {
            runtime,
            source,
            target,
            ..
        } = self;
        runtime.block_on(async {
            source.shutdown().await;
            target.shutdown().await;
        });
    }
}

fn rows<'a>(state: &'a Value, table: &str) -> &'a Vec<Value> {
    state[table].as_array().unwrap_or_else(|| panic!("{table}"))
}

/// `display_id` of the conversation with primary key `pk`.
fn display_of(state: &Value, pk: &Value) -> u64 {
    rows(state, "conversations")
        .iter()
        .find(|c| &c["id"] == pk)
        .and_then(|c| c["display_id"].as_u64())
        .unwrap()
}

/// The differences `verify` named: (what, conversation target id, record target id).
fn named(doc: &Value) -> Vec<(String, String, String)> {
    doc["deep"]["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["what"].as_str().unwrap().to_owned(),
                m["target_id"].as_str().unwrap().to_owned(),
                m["record_target_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn verify_compares_conversations_in_depth_and_names_each_planted_difference() {
    let f = Fixture::new(12);
    let world = f.source.inspect();
    let conversations =
        world["conversations"].as_u64().unwrap() + world["tickets"].as_u64().unwrap();
    f.migrate();

    // A clean import: every conversation compared, message by message, and nothing differs.
    let clean = f.json(&["verify", "--all", "--json"], 0);
    let deep = &clean["deep"];
    assert_eq!(clean["ok"], true, "{clean:#}");
    assert_eq!(deep["conversations"].as_u64(), Some(conversations));
    assert_eq!(deep["compared"].as_u64(), Some(conversations), "{deep:#}");
    assert!(deep["messages_compared"].as_u64().unwrap() > conversations);
    // Counts per kind: source (its scan), store, target.
    let kind = |name: &str| {
        clean["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kind"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {clean:#}"))
    };
    let counted = kind("conversation");
    assert_eq!(
        counted["source"].as_u64(),
        Some(conversations),
        "{counted:#}"
    );
    assert_eq!(counted["source_exact"], true, "{counted:#}");
    assert_eq!(
        counted["staged"].as_u64(),
        Some(conversations),
        "{counted:#}"
    );
    assert_eq!(
        kind("contact")["source"].as_u64(),
        world["contacts"].as_u64(),
        "{clean:#}"
    );
    assert!(
        deep["attachments_compared"].as_u64().unwrap() > 0,
        "{deep:#}"
    );
    assert!(
        std::path::Path::new(clean["report"]["html"].as_str().unwrap()).exists()
            || f.dir
                .join(clean["report"]["html"].as_str().unwrap())
                .exists()
    );
    // The default is a spread sample; --sample sizes it.
    let sampled = f.json(&["verify", "--sample", "5", "--json"], 0);
    assert_eq!(sampled["deep"]["compared"], 5, "{sampled:#}");

    // Plant one difference of each kind, each in a conversation of its own.
    let state = f.target.inspect();
    let mut used = std::collections::HashSet::new();
    let mut pick = |pred: &dyn Fn(&Value) -> bool| -> Value {
        let m = rows(&state, "messages")
            .iter()
            .find(|m| pred(m) && !used.contains(&m["conversation_id"]))
            .unwrap_or_else(|| panic!("no message to plant a difference in"))
            .clone();
        used.insert(m["conversation_id"].clone());
        m
    };
    let written_by_deskmove = |m: &Value| {
        m["source_id"].is_string()
            && m["content"].as_str().is_some_and(|c| c.trim().len() > 3)
            && m["attachments"].as_array().is_none_or(Vec::is_empty)
            && m["message_type"] != "activity"
    };
    let edited = pick(&written_by_deskmove);
    let deleted = pick(&written_by_deskmove);
    let with_file = pick(&|m: &Value| m["attachments"].as_array().is_some_and(|a| !a.is_empty()));
    let labelled = rows(&state, "conversations")
        .iter()
        .find(|c| {
            !used.contains(&c["id"])
                && c["labels"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|t| t != "from-intercom"))
        })
        .expect("a conversation with a tag")
        .clone();

    let edited_at = display_of(&state, &edited["conversation_id"]);
    f.hook(
        &format!("messages/{}/content", edited["id"]),
        b"Edited by hand after the migration".to_vec(),
    );
    let deleted_at = display_of(&state, &deleted["conversation_id"]);
    f.api(
        reqwest::Method::DELETE,
        &format!("conversations/{deleted_at}/messages/{}", deleted["id"]),
        None,
    );
    let file_at = display_of(&state, &with_file["conversation_id"]);
    f.hook(
        &format!("attachments/{}/file", with_file["attachments"][0]["id"]),
        b"other bytes under the same name".to_vec(),
    );
    let labelled_at = labelled["display_id"].as_u64().unwrap();
    let kept: Vec<&Value> = labelled["labels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| *t == "from-intercom")
        .collect();
    f.api(
        reqwest::Method::POST,
        &format!("conversations/{labelled_at}/labels"),
        Some(json!({ "labels": kept })),
    );

    let found = f.json(&["verify", "--all", "--json"], 3);
    assert_eq!(found["ok"], false);
    let names = named(&found);
    let has = |what: &str, conversation: u64, record: Option<String>| {
        names.iter().any(|(w, c, r)| {
            w == what
                && *c == conversation.to_string()
                && record.as_ref().is_none_or(|id| r.starts_with(id.as_str()))
        })
    };
    assert!(
        has(
            "body_differs",
            edited_at,
            Some(format!("{edited_at}/{}", edited["id"]))
        ),
        "{names:#?}"
    );
    assert!(
        has(
            "message_missing",
            deleted_at,
            Some(format!("{deleted_at}/{}", deleted["id"]))
        ),
        "{names:#?}"
    );
    assert!(
        has(
            "attachment_differs",
            file_at,
            Some(format!("{file_at}/{}", with_file["id"]))
        ),
        "{names:#?}"
    );
    assert!(has("labels_differ", labelled_at, None), "{names:#?}");
    assert_eq!(
        names.len(),
        4,
        "nothing else is reported different: {names:#?}"
    );

    // The table names them too, with the source ids.
    let text = f.deskmove(&["verify", "--all"]).expect_code(3).stdout();
    for what in [
        "body_differs",
        "message_missing",
        "attachment_differs",
        "labels_differ",
    ] {
        assert!(text.contains(what), "{text}");
    }
    assert!(text.contains("intercom:conversation:"), "{text}");
    f.shutdown();
}

#[test]
fn rollback_restores_the_target_as_it_was_and_a_second_rollback_calls_nothing() {
    let f = Fixture::new(8);
    // What the account held before deskmove: an inbox, a contact and their conversation.
    let inbox = f.api(
        reqwest::Method::POST,
        "inboxes",
        Some(json!({"name": "Website", "channel": {"type": "api"}})),
    );
    let contact = f.api(
        reqwest::Method::POST,
        "contacts",
        Some(json!({"name": "Ada Before", "email": "ada.before@example.com", "inbox_id": inbox["id"]})),
    );
    let contact_id = contact["payload"]["contact"]["id"]
        .as_u64()
        .or_else(|| contact["payload"]["id"].as_u64())
        .unwrap_or_else(|| panic!("{contact:#}"));
    let conversation = f.api(
        reqwest::Method::POST,
        "conversations",
        Some(json!({"inbox_id": inbox["id"], "contact_id": contact_id})),
    );
    let display = conversation["id"].as_u64().unwrap();
    f.api(
        reqwest::Method::POST,
        &format!("conversations/{display}/messages"),
        Some(json!({"content": "Hello from before the migration", "message_type": "incoming"})),
    );
    let before = f.target.inspect();

    f.migrate();
    let during = f.target.inspect();
    assert!(rows(&during, "conversations").len() > rows(&before, "conversations").len());

    let rolled = f.json(&["rollback", "--json"], 0);
    assert!(rolled["removed"].as_u64().unwrap() > 0, "{rolled:#}");
    let after = f.target.inspect();
    for table in ["contacts", "conversations", "messages", "contact_inboxes"] {
        assert_eq!(
            rows(&after, table),
            rows(&before, table),
            "the rollback leaves {table} exactly as before"
        );
    }

    // The ledger says everything is removed: the second rollback asks the target nothing.
    let calls = f.calls();
    let second = f.json(&["rollback", "--json"], 0);
    assert_eq!(second["status"], "nothing_to_do", "{second:#}");
    assert_eq!(second["removed"], 0);
    assert_eq!(f.calls(), calls, "a second rollback makes no call");
    let text = f.deskmove(&["rollback"]).expect_code(0).stdout();
    assert!(text.contains("Nothing to roll back"), "{text}");

    // A later import creates the removed records again, and they verify.
    let again = f.deskmove(&["import", "--json"]);
    assert!(matches!(again.code(), 0 | 3), "{}", again.stderr());
    let again: Value = serde_json::from_str(&again.stdout()).unwrap();
    assert!(again["total"]["loaded"].as_u64().unwrap() > 0, "{again:#}");
    assert_eq!(
        rows(&f.target.inspect(), "conversations").len(),
        rows(&during, "conversations").len()
    );
    let verified = f.json(&["verify", "--all", "--json"], 0);
    assert_eq!(verified["ok"], true, "{verified:#}");
    f.shutdown();
}
