//! The same flow through Chatwoot's API (`path = "api"`): `deskmove export` from an in-process
//! Intercom sandbox, `deskmove import` into an in-process Chatwoot sandbox, compared with the
//! synthetic world; nobody notified; a re-run writes nothing; a rollback empties what the import
//! filled and a second one does nothing.

use deskmove_chatwoot_sandbox::{RunningSandbox as Chatwoot, SandboxArgs as ChatwootArgs};
use deskmove_intercom_sandbox::{RunningSandbox as Intercom, SandboxArgs as IntercomArgs};
use deskmove_sandbox::Sandbox;
use serde_json::Value;

use crate::util::Dir;

const SOURCE_TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";
const TARGET_TOKEN_ENV: &str = "DESKMOVE_TEST_TARGET_TOKEN";

fn rows(state: &Value, table: &str) -> usize {
    state[table]
        .as_array()
        .unwrap_or_else(|| panic!("{table}"))
        .len()
}

#[test]
fn export_import_rerun_and_rollback_through_the_chatwoot_api() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (source, target) = runtime.block_on(async {
        let source = Intercom::start(IntercomArgs {
            conversations: 12,
            contacts: 10,
            ..IntercomArgs::default()
        })
        .await
        .unwrap();
        // A self-hosted install with a raised limit, so the test does not wait on windows.
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
# The sandbox runs with the per-conversation message guard off, so one import writes every
# message and `verify` (which compares messages in depth) finds them all.
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
    let secrets = [
        (SOURCE_TOKEN_ENV, source.token()),
        (TARGET_TOKEN_ENV, target.token()),
    ];
    let json = |args: &[&str]| {
        let run = dir.deskmove_with(args, &secrets);
        assert!(matches!(run.code(), 0 | 3), "{}", run.stderr());
        run.json()
    };

    let world = source.inspect();
    let n = |key: &str| world[key].as_u64().unwrap() as usize;
    let before = target.inspect();
    json(&["export", "--json"]);
    let first = json(&["import", "--json"]);
    assert!(first["total"]["loaded"].as_u64().unwrap() > 0, "{first:#}");

    let after = target.inspect();
    assert_eq!(
        rows(&after, "conversations") - rows(&before, "conversations"),
        n("conversations") + n("tickets"),
        "one Chatwoot conversation per conversation and ticket of the world"
    );
    let contacts = rows(&after, "contacts") - rows(&before, "contacts");
    assert!(
        contacts <= n("contacts") && contacts > 0,
        "{contacts} of {}",
        n("contacts")
    );
    for (list, entries) in after["side_effects"].as_object().unwrap() {
        assert_eq!(
            entries.as_array().map(Vec::len),
            Some(0),
            "nobody notified: {list}"
        );
    }

    // A re-run sends nothing already there; it only retries what the first run could not
    // write (messages Chatwoot's per-conversation minute limit held back).
    let again = json(&["import", "--json"]);
    let total = |doc: &Value, field: &str| doc["total"][field].as_u64().unwrap();
    assert_eq!(total(&again, "updated"), 0, "{again:#}");
    assert!(
        total(&again, "loaded") <= total(&first, "failed"),
        "{again:#}"
    );
    assert!(
        total(&again, "unchanged") >= total(&first, "loaded"),
        "{again:#}"
    );
    for table in ["contacts", "conversations", "labels"] {
        assert_eq!(
            rows(&target.inspect(), table),
            rows(&after, table),
            "a re-run writes nothing: {table}"
        );
    }

    let verified = json(&["verify", "--json"]);
    assert_eq!(verified["ok"], true, "{verified:#}");

    let rolled = json(&["rollback", "--json"]);
    assert!(rolled["removed"].as_u64().unwrap() > 0, "{rolled:#}");
    let gone = target.inspect();
    for table in ["contacts", "conversations", "messages"] {
        assert_eq!(
            rows(&gone, table),
            rows(&before, table),
            "the rollback leaves {table} as before"
        );
    }
    let second = json(&["rollback", "--json"]);
    assert_eq!(second["status"], "nothing_to_do", "{second:#}");
    runtime.block_on(async {
        source.shutdown().await;
        target.shutdown().await;
    });
}
