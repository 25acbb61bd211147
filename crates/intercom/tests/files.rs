//! `intercom-files`: a folder produced by saving the sandbox's answers (as a `curl` or SDK
//! export would) imports to the same records, with the same hashes, as the API source staged;
//! a malformed line is reported with its file and line, and the rest still imports.

use std::collections::BTreeMap;
use std::path::Path;

use deskmove_core::{ContentHash, Problem, RecordKind, SourceKey};
use deskmove_engine::Engine;
use deskmove_engine::testkit::{SourceExpectation, assert_source_compliance};
use deskmove_intercom::client::Api;
use deskmove_intercom::files::{FilesConfig, FilesSource};
use deskmove_intercom_sandbox::{RunningSandbox, Sandbox, SandboxArgs};
use deskmove_store::{NewRun, SqliteStore, Store};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::{self, export, problems};

fn write(dir: &Path, rel: &str, body: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

fn items(body: &[u8], field: &str) -> Vec<Value> {
    let v: Value = serde_json::from_slice(body).unwrap();
    v[field].as_array().cloned().unwrap_or_default()
}

fn next_cursor(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).unwrap();
    v["pages"]["next"]["starting_after"]
        .as_str()
        .map(str::to_owned)
}

/// Saves what an export script would: every list answer as received, each contact as one
/// JSONL line (the SDK's dump), sub-lists and retrieved conversations and tickets per id.
async fn dump(api: &Api, dir: &Path) {
    for (rel, path, query) in [
        ("admins.json", "admins", vec![]),
        ("teams.json", "teams", vec![]),
        ("tags.json", "tags", vec![]),
        (
            "data_attributes-contact.json",
            "data_attributes",
            vec![("model", "contact"), ("include_archived", "true")],
        ),
        (
            "data_attributes-company.json",
            "data_attributes",
            vec![("model", "company"), ("include_archived", "true")],
        ),
        (
            "conversation_attributes.json",
            "conversations/attributes",
            vec![("include_archived", "true")],
        ),
        ("segments.json", "segments", vec![("include_count", "true")]),
    ] {
        let q: Vec<(&str, String)> = query.iter().map(|(k, v)| (*k, v.to_string())).collect();
        write(dir, rel, &api.get(path, &q).await.unwrap());
    }
    // The companies scroll, page after page until the empty one.
    let mut param: Option<String> = None;
    for n in 1.. {
        let l = api.scroll_page(param.as_deref()).await.unwrap();
        if l.page.data.is_empty() {
            break;
        }
        write(dir, &format!("companies/scroll-{n:04}.json"), &l.body);
        param = l.page.scroll_param.clone();
        if param.is_none() {
            break;
        }
    }
    // Contacts as JSONL, with their sub-lists where the contact says it has more.
    let mut lines = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let l = api
            .cursor_page("contacts", 50, after.as_deref(), &[])
            .await
            .unwrap();
        for r in &l.page.data {
            let c: Value = serde_json::from_str(r.get()).unwrap();
            let id = c["id"].as_str().unwrap().to_owned();
            let more = |list: &str| {
                c[list]["has_more"] == json!(true)
                    || c[list]["total_count"].as_u64().unwrap_or(0)
                        > c[list]["data"].as_array().map_or(0, |d| d.len() as u64)
            };
            if more("tags") {
                let body = api.get(&format!("contacts/{id}/tags"), &[]).await.unwrap();
                write(dir, &format!("contacts/{id}/tags.json"), &body);
            }
            if more("companies") {
                for (n, page) in pages(api, &format!("contacts/{id}/companies"))
                    .await
                    .into_iter()
                    .enumerate()
                {
                    write(dir, &format!("contacts/{id}/companies-{n:03}.json"), &page);
                }
            }
            let notes = c["notes"]["total_count"].as_u64().unwrap_or(0) > 0
                || c["notes"]["data"].as_array().is_some_and(|d| !d.is_empty());
            if notes {
                for (n, page) in pages(api, &format!("contacts/{id}/notes"))
                    .await
                    .into_iter()
                    .enumerate()
                {
                    write(dir, &format!("contacts/{id}/notes-{n:03}.json"), &page);
                }
            }
            lines.push(r.get().to_owned());
        }
        after = next_cursor(&l.body);
        if after.is_none() {
            break;
        }
    }
    // A line the export script broke; the lines around it still import.
    lines.insert(2, "{\"type\": \"contact\", \"id\": ".into());
    write(dir, "contacts.jsonl", lines.join("\n").as_bytes());
    // Conversations: the list pages, then each one retrieved.
    let mut after: Option<String> = None;
    for n in 1.. {
        let l = api
            .cursor_page("conversations", 50, after.as_deref(), &[])
            .await
            .unwrap();
        write(dir, &format!("conversations-{n:04}.json"), &l.body);
        for c in items(&l.body, "conversations") {
            let id = c["id"].as_str().unwrap();
            let body = api.get(&format!("conversations/{id}"), &[]).await.unwrap();
            write(dir, &format!("conversations/{id}.json"), &body);
        }
        after = next_cursor(&l.body);
        if after.is_none() {
            break;
        }
    }
    // Tickets: searched (they have no list), then each one retrieved.
    let mut after: Option<String> = None;
    loop {
        let query = json!({"field": "updated_at", "operator": ">", "value": 0});
        let l = api
            .search_page("tickets/search", query, 50, after.as_deref())
            .await
            .unwrap();
        for t in items(&l.body, "tickets") {
            let id = t["id"].as_str().unwrap();
            let body = api.get(&format!("tickets/{id}"), &[]).await.unwrap();
            write(dir, &format!("tickets/{id}.json"), &body);
        }
        after = next_cursor(&l.body);
        if after.is_none() {
            break;
        }
    }
    let mut after: Option<String> = None;
    for n in 1.. {
        let l = api
            .cursor_page("macros", 50, after.as_deref(), &[])
            .await
            .unwrap();
        write(dir, &format!("macros-{n:04}.json"), &l.body);
        after = next_cursor(&l.body);
        if after.is_none() {
            break;
        }
    }
    for (rel, path) in [
        ("help_center/collections", "help_center/collections"),
        ("articles", "articles"),
    ] {
        for (n, page) in pages(api, path).await.into_iter().enumerate() {
            write(dir, &format!("{rel}-{n:03}.json"), &page);
        }
    }
}

/// Every page of a page-based list until an empty or the last one.
async fn pages(api: &Api, path: &str) -> Vec<bytes::Bytes> {
    let mut out = Vec::new();
    for n in 1.. {
        let l = api.numbered_page(path, n, 60).await.unwrap();
        if l.page.data.is_empty() {
            break;
        }
        let last = l.page.total_pages().is_some_and(|t| n >= t);
        out.push(l.body);
        if last {
            break;
        }
    }
    out
}

async fn hashes(store: &SqliteStore) -> BTreeMap<SourceKey, ContentHash> {
    let mut out = BTreeMap::new();
    for kind in RecordKind::ALL {
        let mut after: Option<SourceKey> = None;
        loop {
            let page = store.records(kind, after.as_ref(), 1_000).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.record.key().clone());
            for r in page {
                out.insert(r.record.key().clone(), r.hash);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dump_of_the_sandbox_imports_to_what_the_api_source_staged() {
    // A frozen clock keeps signed URLs (and so attachment records) identical between the API
    // export and the dump.
    let sandbox: RunningSandbox = support::sandbox(SandboxArgs {
        conversations: 80,
        contacts: 40,
        frozen_clock: Some(1_780_000_000),
        ..SandboxArgs::default()
    })
    .await;
    let dir = TempDir::new().unwrap();
    let api_staging = support::sqlite(&dir);
    let source = support::source(&sandbox, 50);
    export(&api_staging, &source).await.unwrap();

    let folder = dir.path().join("dump");
    dump(source.api(), &folder).await;
    let files = sandbox.files_url();
    let config = FilesConfig::new(&folder).with_file_host(format!(
        "{}:{}",
        files.host_str().unwrap(),
        files.port().unwrap()
    ));
    let files_source = FilesSource::new(&config, None).unwrap();
    let files_staging = support::sqlite(&dir);
    let run = files_staging
        .store
        .start_run(NewRun {
            command: "export".into(),
            source_system: Some("intercom-files".into()),
            target_system: None,
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap();
    let engine = Engine::new(&files_staging.store, &files_staging.blobs);
    engine.extract(run, &files_source).await.unwrap();

    let from_api = hashes(&api_staging.store).await;
    let from_files = hashes(&files_staging.store).await;
    assert!(from_api.len() > 500, "{} records", from_api.len());
    let missing: Vec<_> = from_api
        .keys()
        .filter(|k| !from_files.contains_key(k))
        .collect();
    let extra: Vec<_> = from_files
        .keys()
        .filter(|k| !from_api.contains_key(k))
        .collect();
    let differ: Vec<_> = from_api
        .iter()
        .filter(|(k, h)| from_files.get(*k).is_some_and(|f| f != *h))
        .map(|(k, _)| k)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && differ.is_empty(),
        "missing {missing:?}\nextra {extra:?}\ndiffering {differ:?}"
    );
    // Every attachment's bytes arrived, through the credential-less file client.
    // (Equal attachment records carry equal blob references; each is in the files store.)
    let mut blobs = 0;
    for (_, record) in support::records(&files_staging.store, RecordKind::Attachment).await {
        if let deskmove_core::Record::Attachment(a) = record
            && let Some(b) = a.blob
        {
            assert!(files_staging.store.blob(&b.hash).await.unwrap().is_some());
            blobs += 1;
        }
    }
    assert!(blobs > 10, "{blobs} attachments with their bytes");
    assert!(sandbox.leaked_credentials().is_empty());

    // The broken line is reported with its file and line number; nothing else is.
    let reported: Vec<Problem> = problems(&files_staging.store)
        .await
        .into_iter()
        .filter(|p| p.code == "unreadable_line")
        .collect();
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(
        reported[0].key,
        SourceKey::new("intercom", RecordKind::Contact, "contacts.jsonl:3")
    );
    assert!(
        reported[0].reason.contains("contacts.jsonl line 3"),
        "{}",
        reported[0].reason
    );

    // A second run over the same folder reads nothing.
    let again = Engine::new(&files_staging.store, &files_staging.blobs)
        .extract(
            files_staging
                .store
                .start_run(NewRun {
                    command: "export".into(),
                    source_system: Some("intercom-files".into()),
                    target_system: None,
                    target: None,
                    started_at: jiff::Timestamp::now(),
                })
                .await
                .unwrap(),
            &files_source,
        )
        .await
        .unwrap();
    assert_eq!(again.records(), 0, "{again:?}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_files_source_passes_the_compliance_harness() {
    let sandbox: RunningSandbox = support::sandbox(SandboxArgs {
        conversations: 12,
        contacts: 16,
        frozen_clock: Some(1_780_000_000),
        rate_limit: 0,
        ..SandboxArgs::default()
    })
    .await;
    let dir = TempDir::new().unwrap();
    // What the API source stages is what the folder must give (records), plus the broken line.
    let api_staging = support::sqlite(&dir);
    let source = support::source(&sandbox, 5);
    export(&api_staging, &source).await.unwrap();
    let folder = dir.path().join("dump");
    dump(source.api(), &folder).await;
    let mut expected = SourceExpectation {
        records: hashes(&api_staging.store).await.into_keys().collect(),
        ..SourceExpectation::default()
    };
    expected.problems.insert((
        SourceKey::new("intercom", RecordKind::Contact, "contacts.jsonl:3"),
        "unreadable_line".into(),
    ));
    let files = sandbox.files_url();
    let config = FilesConfig::new(&folder).with_file_host(format!(
        "{}:{}",
        files.host_str().unwrap(),
        files.port().unwrap()
    ));
    let report = assert_source_compliance(
        || FilesSource::new(&config, None).unwrap(),
        || support::sqlite(&dir),
        &expected,
    )
    .await;
    assert!(report.pages > 10, "{report:?}");
    sandbox.shutdown().await;
}
