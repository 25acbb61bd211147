//! The Intercom target's test kit: an Intercom sandbox whose admins are the synthetic world's
//! agents, the target pointed at it, and an inspector reading the sandbox's own dump
//! (`GET /__sandbox/dump`), never deskmove's store.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use deskmove_core::{Record, RecordKind, SourceKey, TargetRef};
use deskmove_engine::testkit::TargetInspector;
use deskmove_http::HostPolicy;
use deskmove_intercom::{IntercomTarget, TargetOptions};
use deskmove_intercom_sandbox::{RunningSandbox, Sandbox, SandboxArgs};
use deskmove_store::BlobStore;
use secrecy::SecretString;
use serde_json::Value;

/// The sandbox's workspace (`GET /me` → `app.id_code`).
pub const WORKSPACE: &str = "sbx4dm";

/// A sandbox of world `seed` with no conversations and the fewest contacts (8), no rate limit.
pub async fn sandbox(seed: u64) -> RunningSandbox {
    RunningSandbox::start(SandboxArgs {
        seed,
        conversations: 0,
        contacts: 8,
        rate_limit: 0,
        ..SandboxArgs::default()
    })
    .await
    .expect("the sandbox starts")
}

/// A quick budget with short backoffs, so fault tests recover fast.
pub fn policy() -> HostPolicy {
    HostPolicy {
        calls_per_minute: 600_000,
        burst: 1_000,
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(400),
        max_attempts: 20,
        fixed_window_secs: None,
        ..deskmove_intercom::host_policy()
    }
}

/// The target pointed at `sandbox`, forced past the live-workspace refusal (the seeded world
/// is a live workspace) unless `force` is false.
pub fn target(
    sandbox: &RunningSandbox,
    blobs: &BlobStore,
    options: TargetOptions,
) -> IntercomTarget {
    IntercomTarget::new(
        &sandbox.base_url(),
        &SecretString::from(sandbox.token().to_owned()),
        policy(),
        TargetOptions {
            workspace_id: WORKSPACE.into(),
            // Its files are served from the sandbox's own file host.
            file_hosts: vec![format!(
                "{}:{}",
                sandbox.files_url().host_str().unwrap(),
                sandbox.files_url().port().unwrap()
            )],
            ..options
        },
        blobs.clone(),
    )
    .expect("the target builds")
}

/// Forced options with the defaults otherwise.
pub fn forced() -> TargetOptions {
    TargetOptions {
        force: true,
        ..TargetOptions::default()
    }
}

/// `GET /__sandbox/dump`.
pub async fn dump(sandbox: &RunningSandbox) -> Value {
    let url = sandbox.base_url().join("__sandbox/dump").unwrap();
    deskmove_http::reqwest::get(url)
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Writes the sandbox received (creates, updates, removals; searches are reads).
pub fn writes(sandbox: &RunningSandbox) -> u64 {
    sandbox
        .stats()
        .iter()
        .filter(|(route, _)| {
            ["POST ", "PUT ", "PATCH ", "DELETE "]
                .iter()
                .any(|m| route.starts_with(m))
                && !route.ends_with("/search")
        })
        .map(|(_, r)| r.calls)
        .sum()
}

/// The source key a `system:kind:id` marker names.
pub fn key_of(marker: &str) -> Option<SourceKey> {
    let (system, rest) = marker.split_once(':')?;
    let (kind, id) = rest.split_once(':')?;
    let kind = RecordKind::ALL.into_iter().find(|k| k.as_str() == kind)?;
    Some(SourceKey::new(system, kind, id))
}

fn marker(v: &Value) -> Option<SourceKey> {
    v.pointer("/custom_attributes/deskmove_source")
        .and_then(Value::as_str)
        .and_then(key_of)
}

fn id(v: &Value) -> String {
    match &v["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A part of a written conversation, the first message included, in write order.
pub fn parts(c: &Value) -> Vec<Value> {
    let mut out = vec![c["source"].clone()];
    out.extend(c["parts"].as_array().cloned().unwrap_or_default());
    out
}

/// Whether a part carries only files deskmove sent beside their message.
pub fn is_files_part(p: &Value) -> bool {
    p["attachments"].as_array().is_some_and(|a| !a.is_empty())
        && p["body"].as_str().is_some_and(|b| b.contains("Files: "))
}

/// Whether a part is a message (not a state change, not a files part).
pub fn is_message_part(p: &Value) -> bool {
    matches!(
        p["part_type"].as_str(),
        Some("comment" | "note" | "quick_reply")
    ) && !is_files_part(p)
}

/// Reads the sandbox's dump, independently of the ledger: what carries a source key. Parts
/// carry none in Intercom, so messages are matched to the fixture's by time within their
/// conversation, and files by their bytes' BLAKE3.
pub struct Inspector {
    pub sandbox: Arc<RunningSandbox>,
    /// Tag name (lower-case) → the fixture's tags of that name.
    tags: HashMap<String, Vec<SourceKey>>,
    /// Conversation → its messages, in thread order, with their times.
    messages: HashMap<SourceKey, Vec<(i64, SourceKey)>>,
    /// Message → its files (BLAKE3, key).
    files: HashMap<SourceKey, Vec<(String, SourceKey)>>,
}

impl Inspector {
    pub fn new(sandbox: RunningSandbox, records: &[Record]) -> Self {
        let mut tags: HashMap<String, Vec<SourceKey>> = HashMap::new();
        let mut messages: HashMap<SourceKey, Vec<(i64, SourceKey)>> = HashMap::new();
        let mut files: HashMap<SourceKey, Vec<(String, SourceKey)>> = HashMap::new();
        for r in records {
            match r {
                Record::Tag(t) => tags
                    .entry(t.name.trim().to_lowercase())
                    .or_default()
                    .push(t.key.clone()),
                Record::Message(m) => messages
                    .entry(m.conversation.clone())
                    .or_default()
                    .push((m.created_at.as_second(), m.key.clone())),
                Record::Attachment(a) => {
                    if let Some(b) = &a.blob {
                        files
                            .entry(a.owner.clone())
                            .or_default()
                            .push((b.hash.clone(), a.key.clone()));
                    }
                }
                _ => {}
            }
        }
        for list in messages.values_mut() {
            list.sort();
        }
        Self {
            sandbox: Arc::new(sandbox),
            tags,
            messages,
            files,
        }
    }
}

/// The (key, id) pairs of a dump, as [`Inspector`] reads them.
pub fn contents(inspector: &Inspector, dump: &Value) -> Vec<TargetRef> {
    let mut out = Vec::new();
    let push =
        |out: &mut Vec<TargetRef>, key: SourceKey, id: String| out.push(TargetRef { key, id });
    let rows = |t: &str| dump[t].as_array().cloned().unwrap_or_default();
    for c in rows("contacts").iter().chain(rows("companies").iter()) {
        if let Some(k) = marker(c) {
            push(&mut out, k, id(c));
        }
    }
    for t in rows("tags") {
        let name = t["name"].as_str().unwrap_or_default().trim().to_lowercase();
        for k in inspector.tags.get(&name).into_iter().flatten() {
            push(&mut out, k.clone(), id(&t));
        }
    }
    for c in rows("conversations") {
        let Some(ck) = marker(&c) else { continue };
        let cid = id(&c);
        push(&mut out, ck.clone(), cid.clone());
        let wanted = inspector.messages.get(&ck).cloned().unwrap_or_default();
        let mut used = HashSet::new();
        let mut owner_of_time: BTreeMap<i64, Vec<SourceKey>> = BTreeMap::new();
        for p in parts(&c) {
            let at = p["created_at"].as_i64().unwrap_or_default();
            if is_message_part(&p) {
                if let Some((_, k)) = wanted.iter().find(|(t, k)| *t == at && !used.contains(k)) {
                    used.insert(k.clone());
                    owner_of_time.entry(at).or_default().push(k.clone());
                    push(&mut out, k.clone(), format!("{cid}/{}", id(&p)));
                }
            } else if is_files_part(&p) {
                let owners: Vec<SourceKey> = wanted
                    .iter()
                    .filter(|(t, _)| *t == at)
                    .map(|(_, k)| k.clone())
                    .collect();
                for f in p["attachments"].as_array().into_iter().flatten() {
                    let hash = f["blake3"].as_str().unwrap_or_default();
                    let found = owners.iter().find_map(|o| {
                        inspector
                            .files
                            .get(o)?
                            .iter()
                            .find(|(h, k)| h == hash && !used.contains(k))
                            .map(|(_, k)| k.clone())
                    });
                    if let Some(k) = found {
                        used.insert(k.clone());
                        push(&mut out, k, format!("{cid}/{}", id(&p)));
                    }
                }
            }
        }
    }
    out
}

impl TargetInspector for Inspector {
    async fn contents(&self) -> Result<Vec<TargetRef>, String> {
        let d = dump(&self.sandbox).await;
        Ok(contents(self, &d))
    }

    async fn writes(&self) -> Result<u64, String> {
        Ok(writes(&self.sandbox))
    }
}
