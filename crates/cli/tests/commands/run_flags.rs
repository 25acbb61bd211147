//! `deskmove run` choosing what loads: `--sample N` then a full run, `--closed-before` then the
//! cutover run, the filters one after another, `--only`. The real binary between an in-process
//! Intercom sandbox and an in-process Chatwoot sandbox; what reached Chatwoot (its dump and call
//! counts) is compared with the synthetic world, never with the staging store.

use std::collections::{BTreeMap, BTreeSet};

use deskmove_chatwoot_sandbox::{RunningSandbox as Chatwoot, SandboxArgs as ChatwootArgs};
use deskmove_intercom_sandbox::{RunningSandbox as Intercom, SandboxArgs as IntercomArgs};
use deskmove_sandbox::Sandbox;
use deskmove_synth::{ConvState, PartKind};
use serde_json::Value;

use crate::util::{Dir, Run};

const SOURCE_TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";
const TARGET_TOKEN_ENV: &str = "DESKMOVE_TEST_TARGET_TOKEN";

/// Both sandboxes, a workspace configured between them, and the binary.
pub(super) struct Pair {
    pub runtime: tokio::runtime::Runtime,
    pub source: Intercom,
    pub target: Chatwoot,
    pub dir: Dir,
}

impl Pair {
    pub fn start(conversations: u64, contacts: u64) -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (source, target) = runtime.block_on(async {
            let source = Intercom::start(IntercomArgs {
                conversations,
                contacts,
                ..IntercomArgs::default()
            })
            .await
            .unwrap();
            // A self-hosted install with raised limits and the flood guard off, so the test
            // never waits on windows and every message goes in the first run.
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
        }
    }

    pub fn deskmove(&self, args: &[&str]) -> Run {
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

    pub fn json(&self, args: &[&str]) -> Value {
        let run = self.deskmove(args);
        assert!(matches!(run.code(), 0 | 3), "{}", run.stderr());
        serde_json::from_str(&run.stdout())
            .unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout(), run.stderr()))
    }

    /// Source conversation id → how many Chatwoot conversations carry it.
    pub fn loaded_conversations(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in self.target.inspect()["conversations"].as_array().unwrap() {
            if let Some(source) = c
                .pointer("/additional_attributes/deskmove_source")
                .and_then(Value::as_str)
            {
                let id = source.rsplit(':').next().unwrap().to_owned();
                *out.entry(id).or_default() += 1;
            }
        }
        out
    }

    /// Message `source_id`s in Chatwoot, with how often each appears.
    pub fn loaded_messages(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for m in self.target.inspect()["messages"].as_array().unwrap() {
            if let Some(id) = m["source_id"].as_str() {
                *out.entry(id.to_owned()).or_default() += 1;
            }
        }
        out
    }

    /// Messages Chatwoot accepted so far (every `POST …/messages` answered 2xx).
    pub fn message_posts(&self) -> u64 {
        self.target
            .stats()
            .iter()
            .filter(|(route, _)| route.starts_with("POST ") && route.ends_with("/messages"))
            .flat_map(|(_, s)| &s.statuses)
            .filter(|(status, _)| (200..300).contains(*status))
            .map(|(_, n)| n)
            .sum()
    }

    /// Every message row of the account, written by deskmove or by Chatwoot itself.
    pub fn message_rows(&self) -> u64 {
        self.target.inspect()["messages"].as_array().unwrap().len() as u64
    }

    /// Every conversation and ticket id of the world, as the source keys them.
    pub fn world_ids(&self) -> BTreeSet<String> {
        let view = self.source.world().view();
        let mut ids: BTreeSet<String> = (0..view.conversation_count())
            .filter_map(|i| view.conversation(i))
            .map(|c| c.id)
            .collect();
        ids.extend(
            (0..view.ticket_count())
                .filter_map(|i| view.ticket(i))
                .map(|t| format!("ticket-{}", t.id)),
        );
        ids
    }

    pub fn stop(self) {
        self.runtime.block_on(async {
            self.source.shutdown().await;
            self.target.shutdown().await;
        });
    }
}

fn ids(map: &BTreeMap<String, usize>) -> BTreeSet<String> {
    map.keys().cloned().collect()
}

fn none_twice(map: &BTreeMap<String, usize>, what: &str) {
    let twice: Vec<_> = map.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{what} in Chatwoot twice: {twice:?}");
}

#[test]
fn a_sample_of_50_then_a_full_run_loads_nothing_twice() {
    let pair = Pair::start(90, 40);
    let world = pair.world_ids();
    let sampled = pair.json(&["run", "--sample", "50", "--json"]);
    assert_eq!(sampled["selection"]["conversations"], 50, "{sampled:#}");
    assert_eq!(
        sampled["selection"]["left_out"].as_u64().unwrap() as usize,
        world.len() - 50
    );
    let first = pair.loaded_conversations();
    assert_eq!(first.len(), 50, "exactly the sample is in Chatwoot");
    assert!(ids(&first).is_subset(&world));
    none_twice(&first, "conversations");
    let first_messages = pair.loaded_messages();
    let first_posts = pair.message_posts();
    let first_rows = pair.message_rows();
    assert!(first_posts > 0);

    // The sample spans the length distribution: the shortest and the longest are in it.
    let view = pair.source.world().view();
    let lengths: BTreeMap<String, usize> = (0..view.conversation_count())
        .filter_map(|i| view.conversation(i))
        .map(|c| (c.id, c.parts.len()))
        .collect();
    let sampled_lengths: Vec<usize> = first
        .keys()
        .filter_map(|id| lengths.get(id))
        .copied()
        .collect();
    assert!(
        sampled_lengths.iter().max() == lengths.values().max(),
        "{sampled_lengths:?}"
    );

    let full = pair.json(&["run", "--json"]);
    assert!(full.get("selection").is_none(), "{full:#}");
    let all = pair.loaded_conversations();
    assert_eq!(
        ids(&all),
        world,
        "exactly the world's conversations and tickets"
    );
    none_twice(&all, "conversations");
    let messages = pair.loaded_messages();
    none_twice(&messages, "messages");
    for id in first_messages.keys() {
        assert_eq!(messages.get(id), Some(&1), "the sample's message {id} once");
    }
    // Every message the full run posted is a new row: none of the 50's was posted again.
    let new_rows = pair.message_rows() - first_rows;
    let second_posts = pair.message_posts() - first_posts;
    assert!(second_posts > 0);
    assert!(
        second_posts <= new_rows,
        "the full run posted {second_posts} messages for {new_rows} new rows: the 50's were re-posted"
    );
    let side_effects = pair.target.inspect()["side_effects"].clone();
    for (list, entries) in side_effects.as_object().unwrap() {
        assert_eq!(
            entries.as_array().map(Vec::len),
            Some(0),
            "nobody notified: {list}"
        );
    }
    pair.stop();
}

#[test]
fn closed_before_a_date_then_the_cutover_run_ends_equal_to_the_world() {
    let pair = Pair::start(80, 30);
    let view = pair.source.world().view();
    // World conversations closed, with when they were last closed.
    let closed: BTreeMap<String, i64> = (0..view.conversation_count())
        .filter_map(|i| view.conversation(i))
        .filter(|c| c.state == ConvState::Closed)
        .filter_map(|c| {
            let at = c
                .parts
                .iter()
                .rev()
                .find(|p| p.kind == PartKind::Close)?
                .created_at;
            Some((c.id, at))
        })
        .collect();
    let mut times: Vec<i64> = closed.values().copied().collect();
    times.sort();
    let cut = times[times.len() / 2];
    let date = jiff::Timestamp::from_second(cut).unwrap().to_string();
    let expected: BTreeSet<String> = closed
        .iter()
        .filter(|(_, at)| **at < cut)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(!expected.is_empty());

    let initial = pair.json(&["run", "--closed-before", &date, "--json"]);
    assert!(
        initial["selection"]["conversations"].as_u64().unwrap() > 0,
        "{initial:#}"
    );
    let first = pair.loaded_conversations();
    let conversations: BTreeSet<String> = ids(&first)
        .into_iter()
        .filter(|id| !id.starts_with("ticket-"))
        .collect();
    assert_eq!(
        conversations, expected,
        "exactly the conversations closed before {date}"
    );
    for row in pair.target.inspect()["conversations"].as_array().unwrap() {
        assert_eq!(row["status"], "resolved", "{row:#}");
    }

    let cutover = pair.json(&["run", "--json"]);
    assert_eq!(cutover["import"]["total"]["failed"], 0, "{cutover:#}");
    let all = pair.loaded_conversations();
    assert_eq!(ids(&all), pair.world_ids());
    none_twice(&all, "conversations");
    none_twice(&pair.loaded_messages(), "messages");
    pair.stop();
}

#[test]
fn each_filter_loads_what_it_names_and_a_plain_run_the_rest() {
    let pair = Pair::start(80, 30);
    let view = pair.source.world().view();
    let world: Vec<_> = (0..view.conversation_count())
        .filter_map(|i| view.conversation(i))
        .collect();
    let conversations_only = |pair: &Pair| -> BTreeSet<String> {
        ids(&pair.loaded_conversations())
            .into_iter()
            .filter(|id| !id.starts_with("ticket-"))
            .collect()
    };

    pair.json(&["run", "--channel", "email", "--json"]);
    let mut expected: BTreeSet<String> = world
        .iter()
        .filter(|c| c.channel == "email")
        .map(|c| c.id.clone())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(conversations_only(&pair), expected, "--channel email");
    assert!(
        pair.loaded_conversations()
            .keys()
            .all(|id| !id.starts_with("ticket-")),
        "tickets have no channel"
    );

    pair.json(&["run", "--state", "snoozed", "--json"]);
    expected.extend(
        world
            .iter()
            .filter(|c| c.state == ConvState::Snoozed)
            .map(|c| c.id.clone()),
    );
    assert_eq!(conversations_only(&pair), expected, "--state snoozed");

    let mut created: Vec<i64> = world.iter().map(|c| c.created_at).collect();
    created.sort();
    let after = created[created.len() * 3 / 4];
    let date = jiff::Timestamp::from_second(after).unwrap().to_string();
    pair.json(&["run", "--created-after", &date, "--json"]);
    expected.extend(
        world
            .iter()
            .filter(|c| c.created_at >= after)
            .map(|c| c.id.clone()),
    );
    assert_eq!(
        conversations_only(&pair),
        expected,
        "--created-after {date}"
    );

    let bad = pair.deskmove(&["run", "--state", "archived"]);
    assert_eq!(bad.code(), 2, "{}", bad.stderr());
    assert!(
        bad.stderr().contains("--state archived"),
        "{}",
        bad.stderr()
    );

    pair.json(&["run", "--json"]);
    let all = pair.loaded_conversations();
    assert_eq!(ids(&all), pair.world_ids());
    none_twice(&all, "conversations");
    pair.stop();
}

#[test]
fn only_attribution_on_the_api_path_refuses_and_writes_nothing() {
    let pair = Pair::start(10, 10);
    let before = pair.target.inspect();
    let run = pair.deskmove(&["run", "--only", "attribution"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("the Chatwoot API cannot re-author a message")
            && run.stderr().contains("path = \"postgres\""),
        "{}",
        run.stderr()
    );
    assert!(
        !pair.dir.join("deskmove.sqlite").exists(),
        "nothing was read"
    );
    let after = pair.target.inspect();
    for table in ["contacts", "conversations", "messages", "labels", "inboxes"] {
        assert_eq!(before[table], after[table], "{table} untouched");
    }
    pair.stop();
}

#[test]
fn only_attachments_loads_files_and_nothing_else() {
    let pair = Pair::start(30, 20);
    pair.json(&["export", "--json"]);
    let run = pair.json(&["run", "--only", "attachments", "--json"]);
    let kinds = run["import"]["kinds"].as_array().unwrap();
    for line in kinds {
        let written = line["loaded"].as_u64().unwrap() + line["updated"].as_u64().unwrap();
        if line["kind"] != "attachment" {
            assert_eq!(written, 0, "{line}");
        }
    }
    assert!(
        pair.loaded_conversations().is_empty(),
        "no conversation was written"
    );
    // Without their conversations the files wait, each with its reason; a full run loads all.
    pair.json(&["run", "--json"]);
    let again = pair.json(&["run", "--only", "attachments", "--json"]);
    let line = again["import"]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "attachment")
        .cloned()
        .unwrap();
    assert_eq!(line["loaded"], 0, "{line}");
    assert_eq!(line["failed"], 0, "{line}");
    assert!(line["unchanged"].as_u64().unwrap() > 0, "{line}");
    pair.stop();
}
