//! `deskmove import` from a Zendesk export into an Intercom workspace, SIGKILLed at more than 20
//! seeded random points along the load and resumed until it completes: the workspace ends as
//! one an uninterrupted import filled from the same export — every contact, company, tag,
//! conversation and part once, none twice — and a re-run sends no write at all.
//!
//! Both workspaces are compared through the sandbox's own dump (`GET /__sandbox/dump`), never
//! deskmove's store. Ids differ between two sandboxes, so rows name what they point at by
//! content: a contact by its `deskmove_source` marker, a conversation by its marker, a tag by
//! its name, a company by its `company_id`.
//!
//! Each run is killed a seeded random moment after the workspace has received a seeded number
//! of writes (and at least one from that run): kills land between a create and its ledger
//! commit, the case that makes duplicates unless the next run finds what the killed one wrote
//! (by 409, marker, or the part written at its time by its author) before writing again.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use deskmove_intercom_sandbox::{RunningSandbox as Intercom, SandboxArgs as IntercomArgs};
use deskmove_sandbox::Sandbox;
use deskmove_zendesk_sandbox::{RunningSandbox as Zendesk, SandboxArgs as ZendeskArgs};
use serde_json::Value;

use crate::util::Dir;
use crate::util::kill_resume::Seeded;

const SOURCE_TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";
const TARGET_TOKEN_ENV: &str = "DESKMOVE_TEST_TARGET_TOKEN";
/// Planned kill points; at least [`MIN_KILLS`] must land before the import completes.
const KILL_POINTS: usize = 28;
const MIN_KILLS: usize = 20;

/// An Intercom workspace with no conversations and the fewest contacts, limits far above what
/// the runs use (pacing is tested in the Intercom crate).
fn workspace_args() -> IntercomArgs {
    IntercomArgs {
        conversations: 0,
        contacts: 8,
        rate_limit: 600_000,
        log_requests: true,
        ..IntercomArgs::default()
    }
}

fn source_args() -> ZendeskArgs {
    ZendeskArgs {
        // Conversation 7 of every world is a giant of 500+ parts: left out, as it would take
        // minutes in a debug build.
        tickets: 7,
        contacts: 12,
        rate_limit: 0,
        incremental_rate_limit: 0,
        ..ZendeskArgs::default()
    }
}

/// The workspace id of `target`, as its owner sees it (`GET /me` → `app.id_code`).
async fn workspace_id(target: &Intercom) -> String {
    let me: Value = reqwest::Client::new()
        .get(target.base_url().join("me").unwrap())
        .bearer_auth(target.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["app"]["id_code"].as_str().unwrap().to_owned()
}

fn config(source: &Zendesk, target: &Intercom, workspace: &str) -> String {
    let files = source.files_url();
    format!(
        r#"[source]
kind = "zendesk"
base_url = "{source_url}"
email = "{email}"
token_env = "{SOURCE_TOKEN_ENV}"
file_hosts = ["{host}:{port}"]

[source.http]
calls_per_minute = 60000
burst = 100

[source.incremental_http]
calls_per_minute = 60000
burst = 100

[target]
kind = "intercom"
base_url = "{target_url}"
workspace_id = "{workspace}"
token_env = "{TARGET_TOKEN_ENV}"

[target.http]
calls_per_minute = 540000
burst = 1000
"#,
        source_url = source.base_url(),
        email = source.email(),
        host = files.host_str().unwrap(),
        port = files.port().unwrap(),
        target_url = target.base_url(),
    )
}

fn command(dir: &Dir, args: &[&str], source: &Zendesk, target: &Intercom) -> Command {
    let mut cmd = dir.command(args);
    cmd.env(SOURCE_TOKEN_ENV, source.token())
        .env(TARGET_TOKEN_ENV, target.token());
    cmd
}

/// Runs `args` to its end; its exit code must say it finished.
fn complete(dir: &Dir, args: &[&str], source: &Zendesk, target: &Intercom) -> Duration {
    let started = Instant::now();
    let out = command(dir, args, source, target).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{args:?} exited {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

/// Copies the staging store (database and blobs) of `from` into `to`: both loads read the one
/// export.
fn copy_store(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == "deskmove.toml" || name == "reports" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(to.join(&*name)).unwrap();
            copy_store(&entry.path(), &to.join(&*name));
        } else {
            std::fs::copy(entry.path(), to.join(&*name)).unwrap();
        }
    }
}

/// Whether a logged request (`METHOD /path?query`) writes (searches are reads).
fn is_write(request: &str) -> bool {
    ["POST ", "PUT ", "PATCH ", "DELETE "]
        .iter()
        .any(|m| request.starts_with(m))
        && !request.split('?').next().unwrap_or("").ends_with("/search")
}

/// What a kill point counts.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Any write.
    Any,
    /// `POST /contacts`.
    Contact,
    /// `POST /conversations`: the conversation exists before it carries its marker.
    Conversation,
    /// `POST /conversations/{id}/reply`: a message or a file part.
    Part,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Any, Kind::Contact, Kind::Conversation, Kind::Part];

    fn counts(self, request: &str) -> bool {
        let path = request.split('?').next().unwrap_or("");
        match self {
            Kind::Any => is_write(request),
            Kind::Contact => path == "POST /contacts",
            Kind::Conversation => path == "POST /conversations",
            Kind::Part => path.starts_with("POST /conversations/") && path.ends_with("/reply"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Any => "any write",
            Kind::Contact => "contact create",
            Kind::Conversation => "conversation create",
            Kind::Part => "part",
        }
    }
}

/// `GET /__sandbox/dump`.
async fn dump(target: &Intercom) -> Value {
    reqwest::get(target.base_url().join("__sandbox/dump").unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn marker(v: &Value) -> String {
    text(v, "/custom_attributes/deskmove_source")
}

/// The workspace as its users see it, with what differs between two workspaces by construction
/// left out (ids, the times Intercom stamps itself): per part of the dump, its rows as sorted
/// strings, each naming what it points at by content.
fn contents(dump: &Value) -> BTreeMap<&'static str, Vec<String>> {
    let all = |table: &str| dump[table].as_array().cloned().unwrap_or_default();
    // Written contacts by marker; the workspace's own (seeded) ones keep their ids, which are
    // the same in both sandboxes.
    let contacts: BTreeMap<String, String> = all("contacts")
        .iter()
        .map(|c| (text(c, "/id"), marker(c)))
        .collect();
    let contact = |id: &str| contacts.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let companies: BTreeMap<String, String> = all("companies")
        .iter()
        .map(|c| (text(c, "/id"), text(c, "/company_id")))
        .collect();
    let conversations: BTreeMap<String, String> = all("conversations")
        .iter()
        .map(|c| (text(c, "/id"), marker(c)))
        .collect();
    let tags: BTreeMap<String, String> = all("tags")
        .iter()
        .map(|t| (text(t, "/id"), text(t, "/name")))
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
                        "{} | {} | {} | {} | {} | {} | {} | {} | {} | {}",
                        marker(c),
                        text(c, "/role"),
                        text(c, "/external_id"),
                        text(c, "/email"),
                        text(c, "/name"),
                        text(c, "/phone"),
                        text(c, "/signed_up_at"),
                        text(c, "/last_seen_at"),
                        text(c, "/merged_into"),
                        text(c, "/custom_attributes"),
                    )
                })
                .collect(),
        ),
    );
    out.insert(
        "companies",
        sorted(
            all("companies")
                .iter()
                .map(|c| {
                    format!(
                        "{} | {} | {} | {} | {} | {} | {} | {} | {}",
                        text(c, "/company_id"),
                        text(c, "/name"),
                        text(c, "/plan"),
                        text(c, "/size"),
                        text(c, "/website"),
                        text(c, "/industry"),
                        text(c, "/monthly_spend"),
                        text(c, "/remote_created_at"),
                        text(c, "/custom_attributes"),
                    )
                })
                .collect(),
        ),
    );
    out.insert(
        "company_memberships",
        sorted(
            all("company_memberships")
                .iter()
                .map(|m| {
                    let company = text(m, "/company_id");
                    format!(
                        "{} | {}",
                        contact(&text(m, "/contact_id")),
                        companies.get(&company).cloned().unwrap_or(company)
                    )
                })
                .collect(),
        ),
    );
    out.insert(
        "tags",
        sorted(all("tags").iter().map(|t| text(t, "/name")).collect()),
    );
    out.insert(
        "taggings",
        sorted(
            all("taggings")
                .iter()
                .map(|t| {
                    let (tag, object, id) = (
                        text(t, "/tag_id"),
                        text(t, "/object"),
                        text(t, "/object_id"),
                    );
                    let named = match object.as_str() {
                        "contact" => contact(&id),
                        "company" => companies.get(&id).cloned().unwrap_or(id),
                        "conversation" => conversations.get(&id).cloned().unwrap_or(id),
                        _ => id,
                    };
                    format!(
                        "{} | {object} | {named} | {}",
                        tags.get(&tag).cloned().unwrap_or(tag),
                        text(t, "/admin_id")
                    )
                })
                .collect(),
        ),
    );
    out.insert(
        "data_attributes",
        sorted(
            all("data_attributes")
                .iter()
                .map(|a| {
                    format!(
                        "{} | {} | {} | {}",
                        text(a, "/model"),
                        text(a, "/name"),
                        text(a, "/data_type"),
                        text(a, "/options")
                    )
                })
                .collect(),
        ),
    );
    out.insert(
        "conversation_attributes",
        sorted(
            all("conversation_attributes")
                .iter()
                .map(|a| {
                    format!(
                        "{} | {} | {}",
                        text(a, "/name"),
                        text(a, "/data_type"),
                        text(a, "/options")
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
                    format!(
                        "{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {}",
                        marker(c),
                        contact(&text(c, "/contact_id")),
                        text(c, "/channel"),
                        text(c, "/delivered_as"),
                        text(c, "/subject"),
                        text(c, "/title"),
                        text(c, "/created_at"),
                        text(c, "/state"),
                        text(c, "/snoozed_until"),
                        text(c, "/admin_assignee_id"),
                        text(c, "/custom_attributes"),
                    )
                })
                .collect(),
        ),
    );
    let part = |conversation: &str, p: &Value, first: bool| {
        let kind = text(p, "/part_type");
        let author = text(p, "/author/id");
        let author = match text(p, "/author/kind").as_str() {
            "admin" | "team" => format!("admin {author}"),
            other => format!("{other} {}", contact(&author)),
        };
        // State and assignment parts take no `created_at`: Intercom stamps the time of the
        // write, which differs between two loads.
        let at = match kind.as_str() {
            "close" | "open" | "snoozed" | "assignment" => String::new(),
            _ => text(p, "/created_at"),
        };
        let mut files: Vec<String> = p["attachments"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                format!(
                    "{}:{}:{}:{}",
                    text(a, "/name"),
                    text(a, "/content_type"),
                    text(a, "/filesize"),
                    text(a, "/blake3")
                )
            })
            .collect();
        files.sort();
        format!(
            "{conversation} | {} | {kind} | {at} | {author} | {} | {} | {} | {}",
            if first { "first" } else { "part" },
            text(p, "/body"),
            text(p, "/assigned_to"),
            text(p, "/notified"),
            files.join(",")
        )
    };
    out.insert(
        "parts",
        sorted(
            all("conversations")
                .iter()
                .flat_map(|c| {
                    let m = marker(c);
                    let mut rows = vec![part(&m, &c["source"], true)];
                    rows.extend(
                        c["parts"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|p| part(&m, p, false)),
                    );
                    rows
                })
                .collect(),
        ),
    );
    // What the load never writes, and what nobody may receive: the same (empty) in both.
    for table in [
        "conversation_overlays",
        "deletions",
        "notification_log",
        "tickets",
        "articles",
        "collections",
        "notes",
        "messages",
    ] {
        out.insert(
            table,
            sorted(all(table).iter().map(Value::to_string).collect()),
        );
    }
    out
}

/// Rows `have` holds more often than `want` does: what a duplicate create leaves.
fn doubled<'a>(have: &'a [String], want: &[String]) -> Vec<&'a String> {
    let count = |rows: &[String]| {
        let mut n: BTreeMap<String, usize> = BTreeMap::new();
        for r in rows {
            *n.entry(r.clone()).or_default() += 1;
        }
        n
    };
    let wanted = count(want);
    let mut seen: BTreeMap<&String, usize> = BTreeMap::new();
    for r in have {
        *seen.entry(r).or_default() += 1;
    }
    seen.into_iter()
        .filter(|(r, n)| *n > wanted.get(*r).copied().unwrap_or(0).max(1))
        .map(|(r, _)| r)
        .collect()
}

/// Values of `field` seen more than once among `rows` of the dump (empty values left out).
fn repeated(dump: &Value, table: &str, field: &str) -> Vec<String> {
    let mut n: BTreeMap<String, usize> = BTreeMap::new();
    for row in dump[table].as_array().into_iter().flatten() {
        let v = text(row, field);
        if !v.is_empty() {
            *n.entry(v).or_default() += 1;
        }
    }
    n.into_iter()
        .filter(|(_, k)| *k > 1)
        .map(|(v, _)| v)
        .collect()
}

/// Conversations of the dump that carry no marker.
fn unmarked(dump: &Value) -> Vec<String> {
    dump["conversations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| marker(c).is_empty())
        .map(|c| text(c, "/id"))
        .collect()
}

/// Parts per conversation marker.
fn parts_per_marker(dump: &Value) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in dump["conversations"].as_array().into_iter().flatten() {
        *out.entry(marker(c)).or_default() += 1 + c["parts"].as_array().map_or(0, Vec::len);
    }
    out
}

#[test]
fn intercom_import_survives_sigkill_at_random_points_and_ends_as_an_uninterrupted_one() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (source, reference_target, target, workspace) = runtime.block_on(async {
        let source = Zendesk::start(source_args()).await.unwrap();
        let reference = Intercom::start(workspace_args()).await.unwrap();
        let target = Intercom::start(workspace_args()).await.unwrap();
        let workspace = workspace_id(&target).await;
        assert_eq!(workspace_id(&reference).await, workspace);
        (source, reference, target, workspace)
    });

    // One export; the uninterrupted import from it.
    let reference = Dir::new();
    reference.write(
        "deskmove.toml",
        &config(&source, &reference_target, &workspace),
    );
    complete(&reference, &["export"], &source, &reference_target);
    let dir = Dir::new();
    copy_store(reference.path(), dir.path());
    dir.write("deskmove.toml", &config(&source, &target, &workspace));
    let whole = complete(&reference, &["import"], &source, &reference_target);
    let reference_dump = runtime.block_on(dump(&reference_target));
    let want = contents(&reference_dump);
    let total_writes = reference_target
        .requests()
        .iter()
        .filter(|r| is_write(r))
        .count();
    eprintln!(
        "the uninterrupted import took {whole:?}: {total_writes} writes, {} conversations, {} parts",
        want["conversations"].len(),
        want["parts"].len()
    );
    assert!(
        want["conversations"].len() >= 7,
        "{} conversations",
        want["conversations"].len()
    );
    let files: usize = reference_dump["conversations"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["parts"].as_array().into_iter().flatten())
        .map(|p| p["attachments"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(files > 0, "the world's files arrive");

    // The same import killed a seeded 0–4 ms after the workspace received a seeded number of
    // writes of a seeded kind (at least one new one from that run): any write, or the creates
    // whose answer carries what the ledger must remember (a contact, a conversation, a part).
    let mut rng = Seeded(0x1C0_4B11_5EED_2026);
    let planned = |log: &[String], kind: Kind| log.iter().filter(|r| kind.counts(r)).count();
    let reference_log = reference_target.requests();
    let mut points: Vec<(f64, Kind)> = (0..KILL_POINTS)
        .map(|_| {
            let at = 0.02 + 0.96 * rng.unit();
            (
                at,
                Kind::ALL[(rng.unit() * Kind::ALL.len() as f64) as usize],
            )
        })
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut kills, mut finished) = (0, false);
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for (at, kind) in points {
        let total = planned(&reference_log, kind);
        let now = planned(&target.requests(), kind);
        // A kind whose writes are all done counts as any write.
        let (kind, threshold) = match ((total as f64 * at) as usize).max(now + 1) {
            t if t <= total => (kind, t),
            _ => (Kind::Any, planned(&target.requests(), Kind::Any) + 1),
        };
        let log = std::fs::File::create(dir.join("killed-run.log")).unwrap();
        let mut child = command(&dir, &["import"], &source, &target)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let exited = loop {
            if child.try_wait().unwrap().is_some() {
                break true;
            }
            if planned(&target.requests(), kind) >= threshold {
                break false;
            }
            std::thread::sleep(Duration::from_micros(300));
        };
        if !exited {
            std::thread::sleep(Duration::from_micros((4_000.0 * rng.unit()) as u64));
        }
        if exited || child.try_wait().unwrap().is_some() {
            let status = child.wait().unwrap();
            assert!(
                matches!(status.code(), Some(0 | 3)),
                "a resumed run after {kills} kills exited {status}:\n{}",
                dir.read("killed-run.log")
            );
            finished = true;
            break;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        *by_kind.entry(kind.name()).or_default() += 1;
    }
    assert!(
        kills >= MIN_KILLS && !finished,
        "only {kills} kills landed before the import finished"
    );
    let resumed = complete(&dir, &["import"], &source, &target);
    eprintln!("{kills} kills ({by_kind:?}); the last run completed in {resumed:?}");

    let got_dump = runtime.block_on(dump(&target));
    let got = contents(&got_dump);
    // Nothing twice: each contact's email, external id and marker, each conversation's marker.
    for (table, field) in [
        ("contacts", "/email"),
        ("contacts", "/external_id"),
        ("contacts", "/custom_attributes/deskmove_source"),
        ("companies", "/company_id"),
        ("tags", "/name"),
        ("conversations", "/custom_attributes/deskmove_source"),
        ("conversation_attributes", "/name"),
    ] {
        assert_eq!(
            repeated(&got_dump, table, field),
            Vec::<String>::new(),
            "after {kills} kills, {table} repeat {field}"
        );
    }
    assert_eq!(
        unmarked(&got_dump),
        Vec::<String>::new(),
        "after {kills} kills, conversations without their marker (created twice)"
    );
    for (part, rows) in &want {
        let empty = Vec::new();
        let have = got.get(part).unwrap_or(&empty);
        let twice = doubled(have, rows);
        assert!(
            twice.is_empty(),
            "after {kills} kills, {part} has duplicates: {:?}",
            twice.into_iter().take(5).collect::<Vec<_>>()
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
    assert!(
        want["notification_log"].is_empty(),
        "nobody notified: {:?}",
        want["notification_log"]
    );

    // Resumed to the end, a further run finds everything in place and sends no write.
    let seen = target.requests().len();
    let out = command(&dir, &["import", "--json"], &source, &target)
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}\n{}", String::from_utf8_lossy(&out.stderr));
    });
    assert_eq!(summary["total"]["loaded"], 0, "{summary:#}");
    assert_eq!(summary["total"]["updated"], 0, "{summary:#}");
    let written: Vec<String> = target.requests()[seen..]
        .iter()
        .filter(|r| is_write(r))
        .cloned()
        .collect();
    assert!(written.is_empty(), "a re-run writes: {written:?}");
    assert_eq!(
        runtime.block_on(dump(&target)),
        got_dump,
        "a re-run changes nothing"
    );
    runtime.block_on(async {
        source.shutdown().await;
        reference_target.shutdown().await;
        target.shutdown().await;
    });
}

/// What a kill between `POST /conversations` and the marker's `PUT` leaves: a conversation its
/// contact started at the first message's time, without a marker. The next import neither
/// refuses the workspace as live for it nor creates the conversation again: it marks and
/// fills that one.
#[test]
fn an_unmarked_conversation_a_killed_import_left_is_taken_over_not_doubled() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (source, reference_target, target, workspace) = runtime.block_on(async {
        let source = Zendesk::start(source_args()).await.unwrap();
        let reference = Intercom::start(workspace_args()).await.unwrap();
        let target = Intercom::start(workspace_args()).await.unwrap();
        let workspace = workspace_id(&target).await;
        (source, reference, target, workspace)
    });
    let reference = Dir::new();
    reference.write(
        "deskmove.toml",
        &config(&source, &reference_target, &workspace),
    );
    complete(&reference, &["export"], &source, &reference_target);
    let dir = Dir::new();
    copy_store(reference.path(), dir.path());
    dir.write("deskmove.toml", &config(&source, &target, &workspace));
    complete(&reference, &["import"], &source, &reference_target);
    let want = runtime.block_on(dump(&reference_target));

    // A conversation of one of the workspace's own contacts (their ids are the same in every
    // sandbox of the seed), started as the killed import started it, after the marker
    // attribute the import creates first.
    let written: Vec<String> = want["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| text(c, "/id"))
        .collect();
    let left = want["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            !written.contains(&text(c, "/contact_id")) && text(c, "/source/author/kind") != "admin"
        })
        .expect("a conversation of a contact the workspace had")
        .clone();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let post = |path: &str, body: Value| {
            client
                .post(target.base_url().join(path).unwrap())
                .bearer_auth(target.token())
                .header("Intercom-Version", "2.16")
                .json(&body)
                .send()
        };
        let attribute = post(
            "conversations/attributes",
            serde_json::json!({"name": "deskmove_source", "data_type": "string"}),
        )
        .await
        .unwrap();
        assert!(attribute.status().is_success(), "{attribute:?}");
        let body = text(&left, "/source/body");
        let body = body
            .strip_prefix("<p>")
            .and_then(|b| b.strip_suffix("</p>"))
            .unwrap_or(&body);
        let mut start = serde_json::json!({
            "from": {"type": "contact", "id": text(&left, "/contact_id")},
            "body": body,
            "created_at": left["created_at"],
        });
        if left["subject"].is_string() {
            start["subject"] = left["subject"].clone();
        }
        let started = post("conversations", start).await.unwrap();
        assert!(started.status().is_success(), "{started:?}");
    });
    assert_eq!(
        unmarked(&runtime.block_on(dump(&target))).len(),
        1,
        "the killed import's conversation is there, unmarked"
    );

    complete(&dir, &["import"], &source, &target);
    let got = runtime.block_on(dump(&target));
    assert_eq!(unmarked(&got), Vec::<String>::new(), "it was marked");
    assert_eq!(
        parts_per_marker(&got),
        parts_per_marker(&want),
        "every conversation once, with its parts once"
    );
    runtime.block_on(async {
        source.shutdown().await;
        reference_target.shutdown().await;
        target.shutdown().await;
    });
}
