//! `deskmove import` through Chatwoot's API SIGKILLed at more than 20 seeded random points, then
//! resumed until it completes: the account ends as an uninterrupted import's — every contact,
//! conversation, message, label and file once, none twice — and a re-run writes nothing.
//!
//! A crash between a create and its ledger commit is the case that makes duplicates: the next
//! run must find what the killed one created (by `identifier`, `deskmove_source` and message
//! `source_id`) before creating it again.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use deskmove_chatwoot_sandbox::{RunningSandbox as Chatwoot, SandboxArgs as ChatwootArgs};
use deskmove_intercom_sandbox::{RunningSandbox as Intercom, SandboxArgs as IntercomArgs};
use deskmove_sandbox::Sandbox;
use serde_json::Value;

use crate::util::Dir;
use crate::util::kill_resume::Seeded;

const SOURCE_TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";
const TARGET_TOKEN_ENV: &str = "DESKMOVE_TEST_TARGET_TOKEN";
/// Planned kill points; at least [`MIN_KILLS`] must land before the import completes.
const KILL_POINTS: usize = 28;
const MIN_KILLS: usize = 20;

/// A working directory exporting from `source` and importing into `target` through the API.
fn workspace(source: &Intercom, target: &Chatwoot) -> Dir {
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
    dir
}

fn command(
    dir: &Dir,
    args: &[&str],
    source: &Intercom,
    target: &Chatwoot,
) -> std::process::Command {
    let mut cmd = dir.command(args);
    cmd.env(SOURCE_TOKEN_ENV, source.token())
        .env(TARGET_TOKEN_ENV, target.token());
    cmd
}

/// Runs `args` to its end; its exit code must say it finished.
fn complete(dir: &Dir, args: &[&str], source: &Intercom, target: &Chatwoot) -> Duration {
    let started = Instant::now();
    let out = command(dir, args, source, target).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

fn text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The account as the app shows it, without what differs between two accounts by construction
/// (ids, uuids, stamps of the import's own time, Chatwoot's own activity lines): per part, its
/// rows as sorted strings. Rows
/// name their parents by source marker, so a message filed under the wrong conversation shows.
fn contents(target: &Chatwoot) -> BTreeMap<&'static str, Vec<String>> {
    let dump = target.inspect();
    let all = |table: &str| dump[table].as_array().cloned().unwrap_or_default();
    let contacts: BTreeMap<u64, String> = all("contacts")
        .iter()
        .map(|c| (c["id"].as_u64().unwrap(), text(c, "/identifier")))
        .collect();
    let conversations: BTreeMap<u64, String> = all("conversations")
        .iter()
        .map(|c| {
            let marker = text(c, "/additional_attributes/deskmove_source");
            (c["id"].as_u64().unwrap(), marker)
        })
        .collect();
    let sorted = |mut rows: Vec<String>| {
        rows.sort();
        rows
    };
    let mut out = BTreeMap::new();
    out.insert(
        "contacts",
        sorted(
            all("contacts")
                .iter()
                .map(|c| {
                    format!(
                        "{} | {} | {} | {}",
                        text(c, "/identifier"),
                        text(c, "/name"),
                        text(c, "/email"),
                        text(c, "/phone_number")
                    )
                })
                .collect(),
        ),
    );
    out.insert(
        "conversations",
        sorted(
            all("conversations")
                .iter()
                .map(|c| {
                    let mut labels: Vec<String> = c["labels"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|l| l.as_str().map(str::to_owned))
                        .collect();
                    labels.sort();
                    format!(
                        "{} | {} | {} | {}",
                        text(c, "/additional_attributes/deskmove_source"),
                        text(c, "/status"),
                        labels.join(","),
                        contacts
                            .get(&c["contact_id"].as_u64().unwrap_or_default())
                            .cloned()
                            .unwrap_or_default()
                    )
                })
                .collect(),
        ),
    );
    out.insert(
        "messages",
        sorted(
            all("messages")
                .iter()
                // Chatwoot's own activity lines ("marked resolved by ...") are left out: a
                // resumed run toggles a conversation's state again, and each toggle adds one.
                .filter(|m| {
                    !text(m, "/source_id").is_empty()
                        || m["attachments"].as_array().is_some_and(|a| !a.is_empty())
                })
                .map(|m| {
                    let mut files: Vec<String> = m["attachments"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| format!("{}:{}", text(a, "/checksum"), text(a, "/file_name")))
                        .collect();
                    files.sort();
                    format!(
                        "{} | {} | {} | {} | {} | {} | {}",
                        conversations
                            .get(&m["conversation_id"].as_u64().unwrap_or_default())
                            .cloned()
                            .unwrap_or_default(),
                        text(m, "/source_id"),
                        text(m, "/message_type"),
                        text(m, "/private"),
                        text(m, "/sender_type"),
                        text(m, "/content"),
                        files.join(",")
                    )
                })
                .collect(),
        ),
    );
    out.insert(
        "labels",
        sorted(all("labels").iter().map(|l| text(l, "/title")).collect()),
    );
    out
}

/// Conversations and messages deskmove has written so far.
fn written(target: &Chatwoot) -> (usize, usize) {
    let dump = target.inspect();
    let n = |table: &str, marker: &str| {
        dump[table].as_array().map_or(0, |rows| {
            rows.iter().filter(|r| !text(r, marker).is_empty()).count()
        })
    };
    (
        n("conversations", "/additional_attributes/deskmove_source"),
        n("messages", "/source_id"),
    )
}

/// Markers seen more than once in one part: what a duplicate create would leave.
fn duplicates(rows: &[String]) -> Vec<&String> {
    let mut seen = BTreeMap::new();
    for r in rows {
        *seen.entry(r).or_insert(0) += 1;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(r, _)| r)
        .collect()
}

#[test]
fn api_import_survives_sigkill_at_random_points_and_ends_as_an_uninterrupted_one() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (source, reference_target, target) = runtime.block_on(async {
        let source = Intercom::start(IntercomArgs {
            conversations: 60,
            contacts: 40,
            ..IntercomArgs::default()
        })
        .await
        .unwrap();
        // A self-hosted install with raised limits, so the runs do not wait on windows.
        let chatwoot = || ChatwootArgs {
            rate_limit: 30_000,
            message_limit: 0,
            ..ChatwootArgs::default()
        };
        let reference = Chatwoot::start(chatwoot()).await.unwrap();
        let target = Chatwoot::start(chatwoot()).await.unwrap();
        (source, reference, target)
    });

    // The uninterrupted import.
    let reference = workspace(&source, &reference_target);
    complete(&reference, &["export"], &source, &reference_target);
    let whole = complete(&reference, &["import"], &source, &reference_target);
    eprintln!("the uninterrupted import took {whole:?}");
    let want = contents(&reference_target);
    assert!(
        want["messages"].len() > 500,
        "{} messages",
        want["messages"].len()
    );
    let full = written(&reference_target);

    let dir = workspace(&source, &target);
    complete(&dir, &["export"], &source, &target);
    let mut rng = Seeded(0x0A91_C0DE_5EED_2026);
    let mut points: Vec<f64> = (0..KILL_POINTS).map(|_| 0.03 + 0.94 * rng.unit()).collect();
    points.sort_by(f64::total_cmp);
    let (mut kills, mut mid_import, mut previous) = (0, 0, 0.0);
    for point in points {
        // Each run restarts from the ledger, so it is given the stretch between two points.
        let wait = whole.mul_f64(point - previous);
        previous = point;
        let mut child = command(&dir, &["import"], &source, &target)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_some() {
            break;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        let now = written(&target);
        if now != (0, 0) && now != full {
            mid_import += 1;
        }
    }
    assert!(
        kills >= MIN_KILLS,
        "only {kills} kills landed before the import finished"
    );
    assert!(
        mid_import >= MIN_KILLS / 2,
        "only {mid_import} kills landed while the import was writing"
    );
    complete(&dir, &["import"], &source, &target);
    let got = contents(&target);
    for (part, rows) in &want {
        let empty = Vec::new();
        let have = got.get(part).unwrap_or(&empty);
        assert!(
            duplicates(have).is_empty(),
            "after {kills} kills, {part} has duplicates: {:?}",
            duplicates(have).into_iter().take(5).collect::<Vec<_>>()
        );
        let missing: Vec<_> = rows.iter().filter(|r| !have.contains(r)).take(5).collect();
        let extra: Vec<_> = have.iter().filter(|r| !rows.contains(r)).take(5).collect();
        assert!(
            have == rows,
            "after {kills} kills, {part} differ from the uninterrupted import's ({} vs {} rows):\n  missing {missing:?}\n  extra {extra:?}",
            have.len(),
            rows.len()
        );
    }
    for (list, entries) in target.inspect()["side_effects"].as_object().unwrap() {
        assert_eq!(
            entries.as_array().map(Vec::len),
            Some(0),
            "nobody notified: {list}"
        );
    }

    // Resumed to the end, a further run finds everything in place and writes nothing.
    let before = contents(&target);
    let out = command(&dir, &["import", "--json"], &source, &target)
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}\n{}", String::from_utf8_lossy(&out.stderr));
    });
    assert_eq!(summary["total"]["loaded"], 0, "{summary:#}");
    assert_eq!(summary["total"]["updated"], 0, "{summary:#}");
    assert_eq!(contents(&target), before, "a re-run writes nothing");
    runtime.block_on(async {
        source.shutdown().await;
        reference_target.shutdown().await;
        target.shutdown().await;
    });
}
