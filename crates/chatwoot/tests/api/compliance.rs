//! The R2.0 target compliance harness on the API path: each record exactly once after faults,
//! lost answers and crashes between a write and its ledger commit; nothing written on a re-run;
//! rollback complete.

use std::collections::BTreeSet;
use std::sync::Arc;

use deskmove_chatwoot::load::{ApiOptions, ApiTarget};
use deskmove_chatwoot::map;
use deskmove_chatwoot_sandbox::{RunningSandbox, SandboxArgs};
use deskmove_core::model::{Author, AuthorKind, Message, MessageKind, Timestamp};
use deskmove_core::{Record, RecordKind, SourceKey, TargetRef};
use deskmove_engine::testkit::{Staging, TargetFixture, TargetInspector, assert_target_compliance};
use deskmove_sandbox::Sandbox;
use deskmove_store::{BlobStore, MemoryStore};
use deskmove_synth::{World, WorldConfig};
use secrecy::SecretString;
use serde_json::Value;

use crate::support;
use crate::world::{self, Build};

/// Reads the sandbox's dump, independently of the ledger: what carries a source key.
pub struct Inspector {
    pub sandbox: Arc<RunningSandbox>,
    /// Fixture records whose Chatwoot row carries no marker of its own, found by their value.
    labels: Vec<(String, SourceKey)>,
    definitions: Vec<((String, &'static str), SourceKey)>,
    canned: Vec<(String, SourceKey)>,
}

impl Inspector {
    pub fn new(sandbox: RunningSandbox, records: &[Record]) -> Self {
        let mut labels = Vec::new();
        let mut definitions = Vec::new();
        let mut canned = Vec::new();
        for r in records {
            match r {
                Record::Tag(t) => labels.push((map::label_title(t).title, t.key.clone())),
                Record::AttributeDefinition(d) => {
                    let model = if d.model == deskmove_core::model::AttributeModel::Conversation {
                        "conversation_attribute"
                    } else {
                        "contact_attribute"
                    };
                    definitions.push(((map::attribute_key(&d.name), model), d.key.clone()));
                }
                Record::Macro(m) => {
                    canned.push((map::canned_response(m).short_code, m.key.clone()))
                }
                _ => {}
            }
        }
        Self {
            sandbox: Arc::new(sandbox),
            labels,
            definitions,
            canned,
        }
    }
}

/// `<system>:<kind>:<id>`, the marker deskmove writes.
fn key_of(marker: &str) -> Option<SourceKey> {
    let (system, rest) = marker.split_once(':')?;
    let (kind, id) = rest.split_once(':')?;
    let kind = RecordKind::ALL.into_iter().find(|k| k.as_str() == kind)?;
    Some(SourceKey::new(system, kind, id))
}

impl TargetInspector for Inspector {
    async fn contents(&self) -> Result<Vec<TargetRef>, String> {
        let dump = self.sandbox.inspect();
        let mut out = Vec::new();
        let push =
            |out: &mut Vec<TargetRef>, key: SourceKey, id: String| out.push(TargetRef { key, id });
        let rows = |t: &str| dump[t].as_array().cloned().unwrap_or_default();
        for c in rows("contacts") {
            if let Some(k) = c["identifier"].as_str().and_then(key_of) {
                push(&mut out, k, c["id"].to_string());
            }
        }
        let mut display = std::collections::HashMap::new();
        for c in rows("conversations") {
            display.insert(c["id"].as_u64(), c["display_id"].as_u64().unwrap_or(0));
            if let Some(k) = c["additional_attributes"]["deskmove_source"]
                .as_str()
                .and_then(key_of)
            {
                push(&mut out, k, c["display_id"].to_string());
            }
        }
        for m in rows("messages") {
            if m["content_attributes"]["deleted"] == Value::Bool(true) {
                continue;
            }
            let d = display
                .get(&m["conversation_id"].as_u64())
                .copied()
                .unwrap_or(0);
            let id = format!("{d}/{}", m["id"]);
            if let Some(s) = m["source_id"].as_str() {
                let (system, part) = s.split_once(':').unwrap_or(("", s));
                push(
                    &mut out,
                    SourceKey::new(system, RecordKind::Message, part),
                    id.clone(),
                );
            }
            if let Some(files) = m["content_attributes"]["attachment_sources"].as_str() {
                for f in files.split(',') {
                    let (system, part) = f.split_once(':').unwrap_or(("", f));
                    push(
                        &mut out,
                        SourceKey::new(system, RecordKind::Attachment, part),
                        id.clone(),
                    );
                }
            }
        }
        for l in rows("labels") {
            let title = l["title"].as_str().unwrap_or_default();
            for (t, k) in self.labels.iter().filter(|(t, _)| t == title) {
                let _ = t;
                push(&mut out, k.clone(), l["id"].to_string());
            }
        }
        for d in rows("custom_attribute_definitions") {
            let key = (
                d["attribute_key"].as_str().unwrap_or_default().to_owned(),
                d["attribute_model"].as_str().unwrap_or_default(),
            );
            for (_, k) in self
                .definitions
                .iter()
                .filter(|(x, _)| x.0 == key.0 && x.1 == key.1)
            {
                push(&mut out, k.clone(), d["id"].to_string());
            }
        }
        for c in rows("canned_responses") {
            let code = c["short_code"].as_str().unwrap_or_default();
            for (_, k) in self.canned.iter().filter(|(s, _)| s == code) {
                push(&mut out, k.clone(), c["id"].to_string());
            }
        }
        Ok(out)
    }

    async fn writes(&self) -> Result<u64, String> {
        Ok(support::writes(&self.sandbox))
    }
}

fn orphan() -> Record {
    Record::Message(Message {
        key: SourceKey::new("synth", RecordKind::Message, "orphan"),
        conversation: SourceKey::new("synth", RecordKind::Conversation, "missing"),
        kind: MessageKind::Reply,
        author: Author {
            kind: AuthorKind::System,
            key: None,
            name: None,
            email: None,
        },
        body_html: None,
        body_markdown: Some("lost".into()),
        inline_images: vec![],
        event: None,
        attachments: vec![],
        created_at: Timestamp::from_second(1_700_000_000).unwrap(),
        updated_at: None,
        extra: Default::default(),
    })
}

#[tokio::test]
async fn the_api_path_passes_the_target_compliance_harness() {
    let files = tempfile::TempDir::new().unwrap();
    let blobs = BlobStore::local(files.path().join("blobs")).unwrap();
    let w = World::new(WorldConfig::new(11, 6, 8));
    let mut records = world::records(
        &w,
        &blobs,
        Build {
            directory: false,
            attachments: true,
        },
    )
    .await;
    records.push(orphan());
    let fixture = TargetFixture {
        refused: BTreeSet::from([orphan().key().clone()]),
        records: records.clone(),
    };
    let report = assert_target_compliance(
        || {
            let records = records.clone();
            async move {
                // The flood guard off: the harness loads each scenario in one run.
                let sandbox = support::sandbox(SandboxArgs {
                    message_limit: 0,
                    ..support::quiet_args()
                })
                .await;
                Inspector::new(sandbox, &records)
            }
        },
        |i: &Inspector| {
            let options = ApiOptions {
                messages_per_conversation_minute: 0,
                ..ApiOptions::new(i.sandbox.account_id())
            };
            ApiTarget::new(
                &i.sandbox.base_url(),
                &SecretString::from(i.sandbox.token().to_owned()),
                support::test_policy(),
                options,
                blobs.clone(),
            )
            .unwrap()
        },
        || Staging {
            store: MemoryStore::new(),
            blobs: blobs.clone(),
        },
        &fixture,
        40,
    )
    .await;
    assert!(report.calls >= 5, "{report:?}");
}
