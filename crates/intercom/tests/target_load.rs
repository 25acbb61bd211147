//! A small synthetic world loaded into the Intercom sandbox through the engine, compared with the
//! world itself (never with deskmove's store) through the sandbox's dump: contacts, companies,
//! tags, conversations, every message with its original `created_at`, author and files, and
//! nobody notified; a re-run writes nothing; a rollback removes what the run created and keeps
//! the contacts that were there before.

use std::collections::{HashMap, HashSet};

use deskmove_core::model::Company;
use deskmove_core::{Record, RecordKind, SourceKey, Target};
use deskmove_engine::{Engine, EngineOptions, LoadReport};
use deskmove_intercom::{IntercomTarget, Mode, TargetOptions};
use deskmove_intercom_sandbox::{RunningSandbox, Sandbox};
use deskmove_store::{BlobStore, NewRun, RunId, SqliteStore, StagedBatch, Store};
use deskmove_synth::{self as synth, World, WorldConfig};
use serde_json::Value;
use tempfile::TempDir;

use crate::target_support::{self as support, is_files_part, is_message_part, parts};
use crate::target_world::{self as world, Build};

const SEED: u64 = 42;

struct Staged {
    _dir: TempDir,
    store: SqliteStore,
    blobs: BlobStore,
}

fn staging() -> Staged {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path().join("staging.sqlite")).unwrap();
    let blobs = BlobStore::local(dir.path().join("blobs")).unwrap();
    Staged {
        _dir: dir,
        store,
        blobs,
    }
}

async fn start(store: &SqliteStore, command: &str) -> RunId {
    store
        .start_run(NewRun {
            command: command.into(),
            source_system: Some("synth".into()),
            target_system: Some("intercom".into()),
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap()
}

fn engine(staged: &Staged) -> Engine<'_, SqliteStore> {
    Engine::new(&staged.store, &staged.blobs).with_options(EngineOptions {
        concurrency: 1,
        attempts: 4,
        batch_size: 25,
    })
}

/// The company records of the test: three of the world's, under ids the workspace lacks.
fn companies(v: &synth::View<'_>) -> Vec<Company> {
    (0..3)
        .filter_map(|k| v.company(k))
        .map(|c| Company {
            key: SourceKey::new("synth", RecordKind::Company, &c.id),
            name: Some(c.name),
            external_id: Some(format!("e2e-{}", c.company_id)),
            website: Some(c.website),
            industry: Some(c.industry),
            size: Some(c.size),
            attributes: Default::default(),
            tags: vec![],
            created_at: jiff::Timestamp::from_second(c.remote_created_at).unwrap(),
            updated_at: None,
            extra: Default::default(),
        })
        .collect()
}

/// The world's records with companies attached to its contacts.
async fn records(w: &World, blobs: &BlobStore) -> Vec<Record> {
    let v = w.view();
    let companies = companies(&v);
    let mut out: Vec<Record> = companies.iter().cloned().map(Record::Company).collect();
    let mut n = 0;
    for r in world::records(
        w,
        blobs,
        Build {
            directory: true,
            attachments: true,
        },
    )
    .await
    {
        match r {
            Record::Macro(_) | Record::Team(_) => {}
            Record::Contact(mut c) => {
                c.companies = vec![companies[n % companies.len()].key.clone()];
                n += 1;
                out.push(Record::Contact(c));
            }
            other => out.push(other),
        }
    }
    out
}

async fn stage(staged: &Staged, records: &[Record]) {
    let run = start(&staged.store, "export").await;
    for chunk in records.chunks(500) {
        let mut batch = StagedBatch::new(run, "test/world");
        batch.records = chunk.to_vec();
        staged.store.put_batch(batch).await.unwrap();
    }
}

async fn load(staged: &Staged, target: &IntercomTarget) -> (RunId, LoadReport) {
    let pre = target.preflight().await.unwrap();
    assert!(pre.ok(), "preflight refused: {:?}", pre.refusals);
    let run = start(&staged.store, "import").await;
    (run, engine(staged).load(run, target).await.unwrap())
}

/// Every stored problem's key, code and reason.
async fn problems(staged: &Staged) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = staged.store.problems(after.as_ref(), 500).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.problem.clone());
        out.extend(
            page.iter()
                .map(|p| format!("{} {} {}", p.problem.key, p.problem.code, p.problem.reason)),
        );
    }
    out
}

fn id(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Checks every conversation of the world against the dump.
fn check_conversations(w: &World, sandbox: &RunningSandbox, dump: &Value) {
    let v = w.view();
    let written: HashMap<String, &Value> = dump["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| {
            let m = c.pointer("/custom_attributes/deskmove_source")?.as_str()?;
            Some((m.to_owned(), c))
        })
        .collect();
    assert_eq!(
        written.len() as u64,
        v.conversation_count(),
        "one conversation each"
    );
    let contacts_by_email: HashMap<String, String> = dump["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| Some((c["email"].as_str()?.to_owned(), id(&c["id"]))))
        .collect();
    let seeded = sandbox.world().view();
    let seeded_ids: HashMap<String, String> = (0..seeded.contact_count())
        .filter_map(|i| seeded.contact(i))
        .filter_map(|c| Some((c.email?.to_lowercase(), c.id)))
        .collect();
    let present: HashSet<String> = (0..v.agent_count())
        .filter_map(|i| v.agent(i))
        .filter(|a| !a.departed)
        .map(|a| a.id)
        .collect();
    for i in 0..v.conversation_count() {
        let c = v.conversation(i).unwrap();
        let marker = format!("synth:conversation:{}", c.id);
        let got = written
            .get(&marker)
            .unwrap_or_else(|| panic!("{marker} is not in Intercom"));
        assert_eq!(got["created_at"].as_i64(), Some(c.created_at), "{marker}");
        // Started by its contact: the one written, or the one the workspace had.
        let email = v
            .contact(c.contact)
            .unwrap()
            .email
            .unwrap_or_default()
            .to_lowercase();
        let contact_id = contacts_by_email
            .get(&email)
            .or_else(|| seeded_ids.get(&email))
            .cloned()
            .unwrap_or_default();
        assert_eq!(id(&got["contact_id"]), contact_id, "{marker}: contact");
        let all = parts(got);
        let message_parts: Vec<&Value> = all.iter().filter(|p| is_message_part(p)).collect();
        // The first message, then every part of the world's thread, each with its time.
        let mut want = vec![(c.created_at, None, c.source_body.clone())];
        want.extend(c.parts.iter().map(|p| {
            (
                p.created_at,
                Some(&p.author),
                p.body.clone().unwrap_or_default(),
            )
        }));
        assert_eq!(
            message_parts.len(),
            want.len(),
            "{marker}: one part per message"
        );
        let mut times: Vec<i64> = message_parts
            .iter()
            .map(|p| p["created_at"].as_i64().unwrap())
            .collect();
        let mut want_times: Vec<i64> = want.iter().map(|w| w.0).collect();
        times.sort();
        want_times.sort();
        assert_eq!(times, want_times, "{marker}: original times");
        for (at, author, body) in &want {
            let candidates: Vec<&&Value> = message_parts
                .iter()
                .filter(|p| p["created_at"].as_i64() == Some(*at))
                .collect();
            let text = world::markdown(body);
            // Words of the text, whatever markup either side wraps them in.
            let words: Vec<&str> = text
                .split_whitespace()
                .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
                .filter(|w| w.len() > 3 && w.chars().all(char::is_alphanumeric))
                .take(3)
                .collect();
            let found = candidates.iter().find(|p| {
                let b = p["body"].as_str().unwrap_or_default();
                words.iter().all(|w| b.contains(w))
            });
            let found = found.unwrap_or_else(|| {
                panic!("{marker}: no part at {at} reads {words:?}: {candidates:?}")
            });
            let by = id(&found["author"]["id"]);
            match author {
                None | Some(synth::Author::Contact(_)) => {
                    assert_eq!(by, contact_id, "{marker}: the contact writes");
                }
                Some(synth::Author::Agent(a)) => {
                    let agent = v.agent(*a).unwrap();
                    if present.contains(&agent.id) {
                        assert_eq!(by, agent.id, "{marker}: the agent's admin writes");
                    } else {
                        let b = found["body"].as_str().unwrap_or_default();
                        assert!(
                            b.contains("Written by"),
                            "{marker}: the true author is named: {b}"
                        );
                    }
                }
                _ => {}
            }
        }
        // Files: every one of the thread, byte for byte.
        let hashes: HashSet<String> = all
            .iter()
            .filter(|p| is_files_part(p))
            .flat_map(|p| p["attachments"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a["blake3"].as_str().map(str::to_owned))
            .collect();
        for f in c
            .source_attachments
            .iter()
            .chain(c.parts.iter().flat_map(|p| p.attachments.iter()))
        {
            let h = blake3::hash(&v.attachment_bytes(f)).to_hex().to_string();
            assert!(hashes.contains(&h), "{marker}: file {} missing", f.name);
        }
        let state = got["state"].as_str().unwrap_or_default();
        match c.state {
            synth::ConvState::Closed => assert_eq!(state, "closed", "{marker}"),
            _ => assert_ne!(state, "closed", "{marker}"),
        }
    }
}

#[tokio::test]
async fn a_small_world_arrives_with_its_times_authors_and_files_and_nobody_is_notified() {
    let sandbox = support::sandbox(SEED).await;
    let staged = staging();
    let w = World::new(WorldConfig::new(SEED, 6, 12));
    let records = records(&w, &staged.blobs).await;
    stage(&staged, &records).await;
    let target = support::target(&sandbox, &staged.blobs, support::forced());
    let (run, report) = load(&staged, &target).await;
    let total = report.total();
    assert_eq!(total.failed, 0, "{report:?} {:?}", problems(&staged).await);

    let dump = support::dump(&sandbox).await;
    assert_eq!(
        dump["notification_log"].as_array().map(Vec::len),
        Some(0),
        "nobody notified: {}",
        dump["notification_log"]
    );
    // Contacts: the new ones written with their original time; the ones the workspace had
    // matched, not written.
    let v = w.view();
    let seeded = sandbox.world().view();
    let before: HashSet<String> = (0..seeded.contact_count())
        .filter_map(|i| seeded.contact(i)?.email.map(|e| e.to_lowercase()))
        .collect();
    let written: HashMap<String, &Value> = dump["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| Some((c["email"].as_str()?.to_owned(), c)))
        .collect();
    for i in 0..v.contact_count() {
        let c = v.contact(i).unwrap();
        let Some(email) = c.email.as_deref().map(str::to_lowercase) else {
            continue;
        };
        if before.contains(&email) {
            // The sandbox may shadow it (its conversations changed it), never as ours.
            let ours = written
                .get(&email)
                .is_some_and(|c| c.pointer("/custom_attributes/deskmove_source").is_some());
            assert!(
                !ours,
                "{email} existed: matched, not written: {:?}",
                written.get(&email)
            );
            continue;
        }
        let got = written
            .get(&email)
            .unwrap_or_else(|| panic!("{email} not in Intercom"));
        assert_eq!(got["signed_up_at"].as_i64(), Some(c.created_at), "{email}");
        assert_eq!(
            got["custom_attributes"]["deskmove_source"].as_str(),
            Some(format!("synth:contact:{}", c.id).as_str())
        );
    }
    // Companies with their original time.
    for c in companies(&v) {
        let got = dump["companies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["company_id"].as_str() == c.external_id.as_deref())
            .unwrap_or_else(|| panic!("{:?} not in Intercom", c.external_id));
        assert_eq!(
            got["remote_created_at"].as_i64(),
            Some(c.created_at.as_second())
        );
    }
    assert!(
        !dump["company_memberships"].as_array().unwrap().is_empty(),
        "contacts attached to their companies"
    );
    check_conversations(&w, &sandbox, &dump);

    // A re-run writes nothing.
    let before_writes = support::writes(&sandbox);
    let run2 = start(&staged.store, "import").await;
    let again = engine(&staged).load(run2, &target).await.unwrap();
    assert_eq!(again.total().loaded + again.total().updated, 0, "{again:?}");
    assert_eq!(
        support::writes(&sandbox),
        before_writes,
        "a re-run writes nothing"
    );

    // Rollback: what the run made is gone; the contacts that were there stay.
    let rb = start(&staged.store, "rollback").await;
    let fresh = support::target(&sandbox, &staged.blobs, support::forced());
    engine(&staged).rollback(rb, run, &fresh).await.unwrap();
    let after = support::dump(&sandbox).await;
    let marked = |t: &str| {
        after[t]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x.pointer("/custom_attributes/deskmove_source").is_some())
            .count()
    };
    assert_eq!(marked("conversations"), 0, "conversations removed");
    assert_eq!(marked("contacts"), 0, "contacts removed");
    assert_eq!(marked("companies"), 0, "companies removed");
    for i in 0..seeded.contact_count() {
        let c = seeded.contact(i).unwrap();
        assert!(
            !after["deletions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|d| d.to_string().contains(&c.id)),
            "{} existed before and was removed",
            c.id
        );
    }
    // Fidelity says what Intercom cannot keep.
    assert!(
        fresh
            .fidelity()
            .items
            .iter()
            .any(|i| i.kind == RecordKind::Conversation && i.aspect == "state")
    );
}

#[tokio::test]
async fn transcript_mode_writes_one_note_per_conversation() {
    let sandbox = support::sandbox(SEED).await;
    let staged = staging();
    let w = World::new(WorldConfig::new(SEED, 4, 8));
    let records = records(&w, &staged.blobs).await;
    stage(&staged, &records).await;
    let target = support::target(
        &sandbox,
        &staged.blobs,
        TargetOptions {
            mode: Mode::Transcript,
            ..support::forced()
        },
    );
    let (_, report) = load(&staged, &target).await;
    assert_eq!(report.total().failed, 0, "{report:?}");
    let dump = support::dump(&sandbox).await;
    let v = w.view();
    for c in dump["conversations"].as_array().unwrap() {
        let notes: Vec<&Value> = c["parts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["part_type"] == "note" && !is_files_part(p))
            .collect();
        assert_eq!(notes.len(), 1, "one transcript note: {c}");
        let marker = c["custom_attributes"]["deskmove_source"].as_str().unwrap();
        let index = (0..v.conversation_count())
            .find(|i| format!("synth:conversation:{}", v.conversation(*i).unwrap().id) == marker)
            .unwrap();
        let conv = v.conversation(index).unwrap();
        let body = notes[0]["body"].as_str().unwrap();
        for p in conv.parts.iter().filter(|p| p.body.is_some()) {
            let text = world::markdown(p.body.as_deref().unwrap());
            if let Some(word) = text
                .split_whitespace()
                .find(|w| w.len() > 4 && w.chars().all(char::is_alphanumeric))
            {
                assert!(
                    body.contains(word),
                    "{marker}: the transcript holds {word:?}"
                );
            }
        }
    }
    assert_eq!(dump["notification_log"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn a_live_workspace_is_refused_unless_forced() {
    let sandbox =
        deskmove_intercom_sandbox::RunningSandbox::start(deskmove_intercom_sandbox::SandboxArgs {
            seed: SEED,
            conversations: 20,
            contacts: 8,
            rate_limit: 0,
            ..Default::default()
        })
        .await
        .unwrap();
    let blobs = BlobStore::local(TempDir::new().unwrap().path().join("b")).unwrap();
    let plain = support::target(&sandbox, &blobs, TargetOptions::default());
    let pre = plain.preflight().await.unwrap();
    assert!(
        pre.refusals.iter().any(|r| r.contains("live")) && !pre.ok(),
        "{pre:?}"
    );
    assert!(pre.warnings.iter().any(|w| w.contains("Created via API")));
    let forced = support::target(&sandbox, &blobs, support::forced());
    let pre = forced.preflight().await.unwrap();
    assert!(pre.ok(), "{pre:?}");
    let other = IntercomTarget::new(
        &sandbox.base_url(),
        &secrecy::SecretString::from(sandbox.token().to_owned()),
        support::policy(),
        TargetOptions {
            workspace_id: "someoneelse".into(),
            force: true,
            ..TargetOptions::default()
        },
        blobs.clone(),
    )
    .unwrap();
    let pre = other.preflight().await.unwrap();
    assert!(
        pre.refusals.iter().any(|r| r.contains("workspace")),
        "{pre:?}"
    );
}
