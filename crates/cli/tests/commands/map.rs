//! `deskmove map` through the real binary: the proposal against the synthetic world and the
//! Chatwoot sandbox's agents (two planted with the emails of world agents), a re-run that keeps
//! the user's edits and adds what is missing, and an edit that changes what the next run writes.

use std::collections::BTreeSet;

use deskmove_sandbox::Sandbox;
use serde_json::Value;

use super::run_flags::Pair;

fn kind_line(doc: &Value, kind: &str) -> Value {
    doc["import"]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == kind)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind} line: {doc:#}"))
}

#[test]
fn map_proposes_from_the_world_keeps_edits_and_an_edit_changes_the_next_run() {
    let pair = Pair::start(25, 15);
    let view = pair.source.world().view();
    let agents: Vec<_> = (0..view.agent_count())
        .filter_map(|i| view.agent(i))
        .filter(|a| !a.departed)
        .collect();
    assert!(agents.len() > 2);
    let planted: BTreeSet<String> = agents[..2].iter().map(|a| a.email.to_lowercase()).collect();
    pair.runtime.block_on(async {
        let client = reqwest::Client::new();
        for a in &agents[..2] {
            let status = client
                .post(format!(
                    "{}api/v1/accounts/{}/agents",
                    pair.target.base_url(),
                    pair.target.account_id()
                ))
                .header("api_access_token", pair.target.token())
                // Upper case on purpose: agents are matched by lower-cased email.
                .json(&serde_json::json!({"name": a.name, "email": a.email.to_uppercase(), "role": "agent"}))
                .send()
                .await
                .unwrap()
                .status();
            assert!(status.is_success(), "{status}");
        }
    });

    // Without staged records there is nothing to propose from.
    let early = pair.deskmove(&["map"]);
    assert_eq!(early.code(), 2, "{}", early.stderr());
    assert!(
        early.stderr().contains("deskmove export"),
        "{}",
        early.stderr()
    );

    pair.json(&["run", "--json"]);
    let posts_before = pair.target.stats();
    let first = pair.json(&["map", "--json"]);
    assert_eq!(first["created"], true);
    let matched: BTreeSet<String> = first["agents_matched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(matched, planted, "matched by email, case aside");
    let unmatched: BTreeSet<String> = first["agents_unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    for a in &agents[2..] {
        assert!(
            unmatched.contains(&a.email.to_lowercase()),
            "{} unmatched",
            a.email
        );
    }
    // The world's tags `VIP`, `vip` and `VIP ` all slug to one label: flagged.
    let vip: Vec<&str> = first["collisions"]["vip"]
        .as_array()
        .unwrap_or_else(|| panic!("{first:#}"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(vip.contains(&"VIP") && vip.contains(&"vip"), "{vip:?}");
    // `map` only reads the account: no write call reached Chatwoot.
    for (route, stats) in pair.target.stats() {
        if !route.starts_with("GET ") {
            let before = posts_before.get(&route).map_or(0, |s| s.calls);
            assert_eq!(stats.calls, before, "{route} called by map");
        }
    }

    let text = pair.dir.read("mapping.toml");
    let doc: toml::Table = toml::from_str(&text).unwrap();
    for email in &planted {
        assert_eq!(
            doc["agents"][email.as_str()].as_str(),
            Some(email.as_str()),
            "{text}"
        );
    }
    let unmatched_one = agents[2].email.to_lowercase();
    assert_eq!(
        doc["agents"][unmatched_one.as_str()].as_str(),
        Some(""),
        "{text}"
    );
    assert!(text.contains("COLLISION"), "{text}");
    assert_eq!(doc["states"]["closed"].as_str(), Some("resolved"));
    assert_eq!(doc["labels"]["trial"].as_str(), Some("trial"));

    // Spelling out the defaults changes nothing on the next run.
    let same = pair.json(&["run", "--json"]);
    assert_eq!(same["import"]["total"]["updated"], 0, "{same:#}");
    assert_eq!(same["import"]["total"]["loaded"], 0, "{same:#}");

    // The user edits a value, comments, and the file predates a tag (its entry is missing).
    let edited = text
        .replace(
            "enterprise = \"enterprise\"",
            "enterprise = \"big-accounts\" # ours",
        )
        .replace("trial = \"trial\"\n", "");
    assert_ne!(edited, text);
    let edited = format!("# reviewed by support ops\n{edited}");
    pair.dir.write("mapping.toml", &edited);
    let second = pair.json(&["map", "--json"]);
    assert_eq!(second["created"], false);
    assert_eq!(
        second["added"],
        serde_json::json!(["labels.trial"]),
        "{second:#}"
    );
    let again = pair.dir.read("mapping.toml");
    assert!(again.starts_with("# reviewed by support ops\n"), "{again}");
    assert!(
        again.contains("enterprise = \"big-accounts\" # ours"),
        "{again}"
    );
    assert!(again.contains("trial = \"trial\""), "{again}");

    // The edit renames exactly one label on the next run.
    let after = pair.json(&["run", "--json"]);
    let tags = kind_line(&after, "tag");
    assert_eq!(tags["updated"], 1, "{after:#}");
    assert_eq!(after["import"]["total"]["updated"], 1, "{after:#}");
    let titles: BTreeSet<String> = pair.target.inspect()["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        titles.contains("big-accounts") && !titles.contains("enterprise"),
        "{titles:?}"
    );

    // A mapping that is not one is refused by line and key.
    pair.dir
        .write("mapping.toml", &format!("{again}\n[statez]\n"));
    let bad = pair.deskmove(&["map"]);
    assert_eq!(bad.code(), 2, "{}", bad.stderr());
    assert!(bad.stderr().contains("statez"), "{}", bad.stderr());
    pair.stop();
}
