//! `deskmove run --only labels|states` through the real binary between the Intercom and Chatwoot
//! sandboxes (API path): after a full run, a mapping edit and hand changes in Chatwoot (a
//! conversation's labels removed, one reopened), each re-sync restores exactly its aspect and
//! nothing else; a second re-sync writes nothing. Expected labels and statuses come from the
//! synthetic world, never from the staging store.

use std::collections::{BTreeMap, BTreeSet};

use deskmove_sandbox::Sandbox;
use deskmove_synth::ConvState;
use serde_json::{Value, json};

use super::run_flags::Pair;
use crate::util::Run;

/// One Chatwoot conversation as the test compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    display: u64,
    status: String,
    labels: BTreeSet<String>,
}

/// Source conversation id → what Chatwoot holds for it.
fn seen(pair: &Pair) -> BTreeMap<String, Seen> {
    let mut out = BTreeMap::new();
    for c in pair.target.inspect()["conversations"].as_array().unwrap() {
        let Some(source) = c
            .pointer("/additional_attributes/deskmove_source")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let id = source.rsplit(':').next().unwrap().to_owned();
        let labels = c["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect();
        out.insert(
            id,
            Seen {
                display: c["display_id"].as_u64().unwrap(),
                status: c["status"].as_str().unwrap().to_owned(),
                labels,
            },
        );
    }
    out
}

/// `POST …/conversations/:id/labels` calls Chatwoot answered so far.
fn label_posts(pair: &Pair) -> u64 {
    pair.target
        .stats()
        .iter()
        .filter(|(route, _)| {
            route.starts_with("POST ")
                && route.contains("conversations")
                && route.ends_with("/labels")
        })
        .map(|(_, s)| s.calls)
        .sum()
}

/// Calls that write (anything but GET) Chatwoot answered so far, per route.
fn writes(pair: &Pair) -> BTreeMap<String, u64> {
    pair.target
        .stats()
        .into_iter()
        .filter(|(route, _)| !route.starts_with("GET "))
        .map(|(route, s)| (route, s.calls))
        .collect()
}

fn post(pair: &Pair, rest: &str, body: Value) {
    pair.runtime.block_on(async {
        let status = reqwest::Client::new()
            .post(format!(
                "{}api/v1/accounts/{}/{rest}",
                pair.target.base_url(),
                pair.target.account_id()
            ))
            .header("api_access_token", pair.target.token())
            .json(&body)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "{rest}: {status}");
    });
}

fn assert_nobody_notified(pair: &Pair) {
    for (list, entries) in pair.target.inspect()["side_effects"].as_object().unwrap() {
        assert_eq!(
            entries.as_array().map(Vec::len),
            Some(0),
            "nobody notified: {list}"
        );
    }
}

#[test]
fn only_labels_and_only_states_restore_exactly_their_aspect_and_a_second_run_writes_nothing() {
    let pair = Pair::start(30, 15);
    let view = pair.source.world().view();
    let world: BTreeMap<String, _> = (0..view.conversation_count())
        .filter_map(|i| view.conversation(i))
        .map(|c| (c.id.clone(), c))
        .collect();
    let tag_name = |i: u64| view.tag(i).unwrap().name;

    let full = pair.json(&["run", "--json"]);
    assert_eq!(full["import"]["total"]["failed"], 0, "{full:#}");
    let before = seen(&pair);
    // Tickets come along as conversations too; the world's conversations are all there.
    assert!(
        world.keys().all(|id| before.contains_key(id)),
        "every conversation loaded"
    );
    let messages = pair.loaded_messages();

    // A tag whose label title is its own name, carried by the most conversations.
    let renamed = ["trial", "enterprise", "api", "bug"]
        .into_iter()
        .max_by_key(|name| {
            world
                .values()
                .filter(|c| c.tags.iter().any(|t| tag_name(*t) == *name))
                .count()
        })
        .unwrap();
    let tagged: BTreeSet<String> = world
        .values()
        .filter(|c| c.tags.iter().any(|t| tag_name(*t) == renamed))
        .map(|c| c.id.clone())
        .collect();
    assert!(
        !tagged.is_empty(),
        "the world tags some conversation {renamed}"
    );
    for id in &tagged {
        assert!(
            before[id].labels.contains(renamed),
            "{id}: {:?}",
            before[id]
        );
    }
    pair.dir.write(
        "mapping.toml",
        &format!("[labels]\n\"{renamed}\" = \"renamed-{renamed}\"\n"),
    );

    // By hand in Chatwoot: one conversation loses its labels, a resolved one is reopened.
    let (stripped, _) = before
        .iter()
        .find(|(id, s)| !tagged.contains(*id) && s.labels.len() > 1)
        .expect("a conversation with labels");
    let stripped = stripped.clone();
    post(
        &pair,
        &format!("conversations/{}/labels", before[&stripped].display),
        json!({"labels": []}),
    );
    let (reopened, _) = before
        .iter()
        .find(|(id, s)| **id != stripped && world.contains_key(*id) && s.status == "resolved")
        .expect("a resolved conversation");
    let reopened = reopened.clone();
    post(
        &pair,
        &format!("conversations/{}/toggle_status", before[&reopened].display),
        json!({"status": "open"}),
    );
    assert_eq!(seen(&pair)[&reopened].status, "open");

    // Labels: the world's tags under the edited mapping, statuses and messages untouched.
    let labels = pair.json(&["run", "--only", "labels", "--json"]);
    let resync = &labels["resync"];
    assert_eq!(resync["aspect"], "labels", "{labels:#}");
    assert_eq!(
        resync["resynced"].as_u64(),
        Some(tagged.len() as u64 + u64::from(!tagged.contains(&stripped))),
        "{labels:#}"
    );
    assert_eq!(resync["failed"], 0, "{labels:#}");
    assert_eq!(resync["problems"], 0, "{labels:#}");
    assert_eq!(resync["not_in_target"], 0, "{labels:#}");
    let after_labels = seen(&pair);
    for (id, was) in &before {
        let now = &after_labels[id];
        let mut want = was.labels.clone();
        if tagged.contains(id) {
            want.remove(renamed);
            want.insert(format!("renamed-{renamed}"));
        }
        assert_eq!(now.labels, want, "{id}");
        let status = if *id == reopened { "open" } else { &was.status };
        assert_eq!(
            now.status, status,
            "{id}: status untouched by --only labels"
        );
    }
    assert_eq!(pair.loaded_messages(), messages, "no message written");

    // A second label re-sync finds everything right and writes nothing.
    let writes_before = writes(&pair);
    let posts = label_posts(&pair);
    let again = pair.json(&["run", "--only", "labels", "--json"]);
    assert_eq!(again["resync"]["resynced"], 0, "{again:#}");
    assert_eq!(
        again["resync"]["already_right"].as_u64(),
        Some(before.len() as u64),
        "{again:#}"
    );
    assert_eq!(label_posts(&pair), posts, "no label POST the second time");
    assert_eq!(
        writes(&pair),
        writes_before,
        "nothing written the second time"
    );

    // States: the reopened conversation is given its world state again; labels untouched.
    let states = pair.json(&["run", "--only", "states", "--json"]);
    assert_eq!(states["resync"]["failed"], 0, "{states:#}");
    assert_eq!(states["resync"]["problems"], 0, "{states:#}");
    assert_eq!(states["resync"]["resynced"], 1, "{states:#}");
    let after_states = seen(&pair);
    for (id, c) in &world {
        let now = &after_states[id];
        let want = match c.state {
            ConvState::Open => "open",
            ConvState::Closed => "resolved",
            ConvState::Snoozed => "snoozed",
        };
        assert_eq!(now.status, want, "{id}: the world's state");
        assert_eq!(
            now.labels, after_labels[id].labels,
            "{id}: labels untouched"
        );
    }
    assert_eq!(pair.loaded_messages(), messages, "no message written");
    let writes_before = writes(&pair);
    let quiet = pair.deskmove(&["run", "--only", "states"]);
    assert!(matches!(quiet.code(), 0 | 3), "{}", quiet.stderr());
    let all = before.len();
    assert!(
        quiet.stdout().contains(&format!(
            "Re-sync of states: 0 conversations re-synced, {all} already right, 0 failed"
        )),
        "{}",
        quiet.stdout()
    );
    assert_eq!(
        writes(&pair),
        writes_before,
        "nothing written the second time"
    );
    assert_nobody_notified(&pair);
    pair.stop();
}

#[test]
fn only_labels_is_refused_on_the_database_path_with_nothing_written() {
    let pair = Pair::start(3, 3);
    let config = pair.dir.read("deskmove.toml");
    pair.dir.write(
        "deskmove.toml",
        &format!(
            "{}\n[target.postgres]\ndatabase_url_env = \"DESKMOVE_TEST_UNSET_DATABASE_URL\"\ninbox_id = 1\nstorage_dir = \"storage\"\n",
            config.replace("path = \"api\"", "path = \"postgres\"")
        ),
    );
    for aspect in ["labels", "states"] {
        let output = pair
            .dir
            .command(&["run", "--only", aspect])
            .env(
                "DESKMOVE_TEST_UNSET_DATABASE_URL",
                "postgres://postgres@127.0.0.1:1/none",
            )
            .output()
            .unwrap();
        let run = Run { output };
        assert_eq!(run.code(), 2, "{}", run.stderr());
        assert!(run.stderr().contains("API path"), "{}", run.stderr());
    }
    assert_eq!(
        pair.target.stats().values().map(|s| s.calls).sum::<u64>(),
        0
    );
    assert_eq!(
        pair.source.stats().values().map(|s| s.calls).sum::<u64>(),
        0
    );
    pair.stop();
}
