//! Reads rows back in canonical terms, for `verify`: what Chatwoot now holds for each ref.

use std::collections::HashMap;

use deskmove_core::connector::READ_BACK_MESSAGES;
use deskmove_core::model::{
    Agent, Attachment, AttributeDefinition, AttributeModel, AttributeType, Author, AuthorKind,
    BlobRef, Contact, ContactRole, Conversation, ConversationState, Macro, Message, MessageKind,
    Tag, Team, Timestamp,
};
use deskmove_core::{Record, RecordKind, SourceKey, TargetRef};
use tokio_postgres::Client;

use super::activestorage::disk_path;
use super::{PostgresError, PostgresOptions};

fn ts(t: jiff::civil::DateTime) -> Timestamp {
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// One record per ref that still exists.
pub async fn read_back(
    client: &mut Client,
    o: &PostgresOptions,
    kind: RecordKind,
    refs: &[TargetRef],
) -> Result<Vec<Record>, PostgresError> {
    let db = PostgresError::db;
    // Several source records may share one row (two tags slugged to one label).
    let mut by_id: HashMap<i64, Vec<&SourceKey>> = HashMap::new();
    for r in refs {
        if let Ok(id) = r.id.parse() {
            by_id.entry(id).or_default().push(&r.key);
        }
    }
    let ids: Vec<i64> = by_id.keys().copied().collect();
    let ids32: Vec<i32> = ids.iter().map(|x| *x as i32).collect();
    let key = |id: i64| -> Vec<SourceKey> {
        by_id
            .get(&id)
            .map(|ks| ks.iter().map(|k| (*k).clone()).collect())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    match kind {
        RecordKind::Agent => {
            for r in client
                .query("SELECT id, name, email FROM users WHERE id = ANY($1)", &[&ids32])
                .await
                .map_err(db("reading agents"))?
            {
                for k in key(i64::from(r.get::<_, i32>(0))) {
                    out.push(Record::Agent(Agent {
                        key: k,
                        name: r.get(1),
                        email: r.get(2),
                        active: true,
                        extra: Default::default(),
                    }));
                }
            }
        }
        RecordKind::Team => {
            for r in client
                .query("SELECT id, name FROM teams WHERE id = ANY($1)", &[&ids])
                .await
                .map_err(db("reading teams"))?
            {
                for k in key(r.get(0)) {
                    out.push(Record::Team(Team {
                        key: k,
                        name: r.get(1),
                        members: Vec::new(),
                        extra: Default::default(),
                    }));
                }
            }
        }
        RecordKind::Tag => {
            for r in client
                .query(
                    "SELECT id, title FROM labels WHERE id = ANY($1) AND account_id = $2",
                    &[&ids, &o.account_id],
                )
                .await
                .map_err(db("reading labels"))?
            {
                for k in key(r.get(0)) {
                    out.push(Record::Tag(Tag {
                        key: k,
                        name: r.get::<_, Option<String>>(1).unwrap_or_default(),
                        extra: Default::default(),
                    }));
                }
            }
        }
        RecordKind::AttributeDefinition => {
            for r in client
                .query(
                    "SELECT id, attribute_key, attribute_display_name, attribute_display_type, attribute_model,
                            attribute_description, attribute_values
                       FROM custom_attribute_definitions WHERE id = ANY($1) AND account_id = $2",
                    &[&ids, &o.account_id],
                )
                .await
                .map_err(db("reading attribute definitions"))?
            {
                for k in key(r.get(0)) {
                    let values: serde_json::Value = r.get(6);
                    out.push(Record::AttributeDefinition(AttributeDefinition {
                        key: k,
                        model: if r.get::<_, Option<i32>>(4) == Some(0) {
                            AttributeModel::Conversation
                        } else {
                            AttributeModel::Contact
                        },
                        name: r.get::<_, Option<String>>(1).unwrap_or_default(),
                        label: r.get(2),
                        data_type: match r.get::<_, Option<i32>>(3) {
                            Some(1) => AttributeType::Float,
                            Some(5) => AttributeType::Date,
                            Some(6) => AttributeType::List,
                            Some(7) => AttributeType::Boolean,
                            _ => AttributeType::String,
                        },
                        options: values
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|v| v.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        description: r.get(5),
                        archived: false,
                        extra: Default::default(),
                    }));
                }
            }
        }
        RecordKind::Macro => {
            for r in client
                .query(
                    "SELECT id, short_code, content, created_at, updated_at FROM canned_responses
                      WHERE id = ANY($1) AND account_id = $2",
                    &[&ids32, &(o.account_id as i32)],
                )
                .await
                .map_err(db("reading canned responses"))?
            {
                for k in key(i64::from(r.get::<_, i32>(0))) {
                    out.push(Record::Macro(Macro {
                        key: k,
                        name: r.get::<_, Option<String>>(1).unwrap_or_default(),
                        body_html: None,
                        body_markdown: r.get(2),
                        created_at: Some(ts(r.get(3))),
                        updated_at: Some(ts(r.get(4))),
                        extra: Default::default(),
                    }));
                }
            }
        }
        RecordKind::Contact => {
            for r in client
                .query(
                    "SELECT id, name, email, phone_number, identifier, custom_attributes, created_at,
                            updated_at, last_activity_at
                       FROM contacts WHERE id = ANY($1) AND account_id = $2",
                    &[&ids32, &(o.account_id as i32)],
                )
                .await
                .map_err(db("reading contacts"))?
            {
                for k in key(i64::from(r.get::<_, i32>(0))) {
                    let custom: Option<serde_json::Value> = r.get(5);
                    out.push(Record::Contact(Contact {
                        key: k,
                        role: ContactRole::User,
                        name: r.get(1),
                        email: r.get(2),
                        email_original: None,
                        phone: r.get(3),
                        phone_original: None,
                        external_id: r.get(4),
                        companies: Vec::new(),
                        tags: Vec::new(),
                        attributes: custom
                            .and_then(|v| v.as_object().cloned())
                            .unwrap_or_default(),
                        avatar_url: None,
                        created_at: ts(r.get(6)),
                        updated_at: Some(ts(r.get(7))),
                        last_seen_at: r.get::<_, Option<jiff::civil::DateTime>>(8).map(ts),
                        extra: Default::default(),
                    }));
                }
            }
        }
        RecordKind::Conversation => {
            // The conversations' labels, as the tags deskmove created them for (provenance).
            let mut labels: HashMap<i64, Vec<SourceKey>> = HashMap::new();
            for r in client
                .query(
                    "SELECT tg.taggable_id::bigint, p.source_key
                       FROM taggings tg
                       JOIN tags t ON t.id = tg.tag_id
                       JOIN labels l ON l.title = t.name AND l.account_id::bigint = $2
                       JOIN deskmove.provenance p
                         ON p.account_id = $2 AND p.target_table = 'labels' AND p.row_id = l.id::bigint
                      WHERE tg.taggable_type = 'Conversation' AND tg.context = 'labels'
                        AND tg.taggable_id::bigint = ANY($1)",
                    &[&ids, &o.account_id],
                )
                .await
                .map_err(db("reading conversation labels"))?
            {
                if let Some(k) = parse_marker(&r.get::<_, String>(1)) {
                    labels.entry(r.get(0)).or_default().push(k);
                }
            }
            // Every message the conversations hold, in Chatwoot's order (time, then id).
            let mut order: HashMap<i64, Vec<SourceKey>> = HashMap::new();
            for r in client
                .query(
                    "SELECT conversation_id::bigint, source_id FROM messages
                      WHERE conversation_id::bigint = ANY($1) AND source_id IS NOT NULL
                      ORDER BY created_at, id",
                    &[&ids],
                )
                .await
                .map_err(db("reading conversation messages"))?
            {
                let source: String = r.get(1);
                if let Some((system, id)) = source.split_once(':') {
                    order
                        .entry(r.get(0))
                        .or_default()
                        .push(SourceKey::new(system, RecordKind::Message, id));
                }
            }
            for r in client
                .query(
                    "SELECT id, status, snoozed_until, additional_attributes->>'mail_subject',
                            custom_attributes, created_at, updated_at
                       FROM conversations WHERE id = ANY($1) AND account_id = $2",
                    &[&ids32, &(o.account_id as i32)],
                )
                .await
                .map_err(db("reading conversations"))?
            {
                let id = i64::from(r.get::<_, i32>(0));
                for k in key(id) {
                    let custom: Option<serde_json::Value> = r.get(4);
                    let mut extra = serde_json::Map::new();
                    extra.insert(
                        READ_BACK_MESSAGES.into(),
                        serde_json::Value::Array(
                            order
                                .get(&id)
                                .map(|ks| {
                                    ks.iter()
                                        .map(|k| serde_json::Value::String(k.to_string()))
                                        .collect()
                                })
                                .unwrap_or_default(),
                        ),
                    );
                    out.push(Record::Conversation(Conversation {
                        key: k,
                        subject: r.get(3),
                        contacts: Vec::new(),
                        assignee: None,
                        team: None,
                        state: match r.get::<_, i32>(1) {
                            1 => ConversationState::Closed,
                            2 => ConversationState::Pending,
                            3 => ConversationState::Snoozed,
                            _ => ConversationState::Open,
                        },
                        snoozed_until: r.get::<_, Option<jiff::civil::DateTime>>(2).map(ts),
                        priority: None,
                        tags: labels.get(&id).cloned().unwrap_or_default(),
                        attributes: custom
                            .and_then(|v| v.as_object().cloned())
                            .unwrap_or_default(),
                        source_message_count: None,
                        created_at: ts(r.get(5)),
                        updated_at: Some(ts(r.get(6))),
                        extra,
                    }));
                }
            }
        }
        RecordKind::Message => {
            for r in client
                .query(
                    "SELECT m.id, m.content, m.message_type, m.private, m.sender_type, m.created_at,
                            c.identifier, m.content_attributes
                       FROM messages m JOIN conversations c ON c.id = m.conversation_id
                      WHERE m.id = ANY($1) AND m.account_id = $2",
                    &[&ids32, &(o.account_id as i32)],
                )
                .await
                .map_err(db("reading messages"))?
            {
                for k in key(i64::from(r.get::<_, i32>(0))) {
                    let conversation = r
                        .get::<_, Option<String>>(6)
                        .and_then(|m| parse_marker(&m))
                        .unwrap_or_else(|| {
                            SourceKey::new(k.system.clone(), RecordKind::Conversation, "")
                        });
                    let kind = match (r.get::<_, i32>(2), r.get::<_, bool>(3)) {
                        (2, _) => MessageKind::Event,
                        (_, true) => MessageKind::Note,
                        _ => MessageKind::Reply,
                    };
                    // An author with no Chatwoot record is kept in original_author (map/message.rs).
                    let attrs: Option<serde_json::Value> = r.get(7);
                    let original = attrs
                        .as_ref()
                        .and_then(|a| a.get("original_author"))
                        .cloned();
                    let author = match (
                        original.as_ref().and_then(|o| o["kind"].as_str()),
                        r.get::<_, Option<String>>(4).as_deref(),
                    ) {
                        (Some("contact"), _) | (None, Some("Contact")) => AuthorKind::Contact,
                        (Some("agent"), _) | (None, Some("User")) => AuthorKind::Agent,
                        (Some("bot"), _) | (None, Some("AgentBot")) => AuthorKind::Bot,
                        _ => AuthorKind::System,
                    };
                    out.push(Record::Message(Message {
                        key: k,
                        conversation,
                        kind,
                        author: Author {
                            kind: author,
                            key: original
                                .as_ref()
                                .and_then(|o| o["source"].as_str())
                                .and_then(parse_marker),
                            name: None,
                            email: None,
                        },
                        body_html: None,
                        body_markdown: r.get(1),
                        inline_images: Vec::new(),
                        event: None,
                        attachments: Vec::new(),
                        created_at: ts(r.get(5)),
                        updated_at: None,
                        extra: Default::default(),
                    }));
                }
            }
        }
        RecordKind::Attachment => {
            for r in client
                .query(
                    "SELECT a.id, b.filename, b.content_type, b.byte_size, b.key, m.source_id
                       FROM attachments a
                       JOIN active_storage_attachments l ON l.record_type = 'Attachment' AND l.record_id = a.id
                       JOIN active_storage_blobs b ON b.id = l.blob_id
                       JOIN messages m ON m.id = a.message_id
                      WHERE a.id = ANY($1) AND a.account_id = $2",
                    &[&ids32, &(o.account_id as i32)],
                )
                .await
                .map_err(db("reading attachments"))?
            {
                for k in key(i64::from(r.get::<_, i32>(0))) {
                    let blob_key: String = r.get(4);
                    let bytes = tokio::fs::read(disk_path(&o.storage_dir, &blob_key))
                        .await
                        .ok();
                    let owner = r
                        .get::<_, Option<String>>(5)
                        .and_then(|s| {
                            s.split_once(':').map(|(sys, id)| {
                                SourceKey::new(sys, RecordKind::Message, id)
                            })
                        })
                        .unwrap_or_else(|| SourceKey::new(k.system.clone(), RecordKind::Message, ""));
                    out.push(Record::Attachment(Attachment {
                        key: k,
                        owner,
                        file_name: r.get(1),
                        content_type: r.get(2),
                        size: Some(r.get::<_, i64>(3) as u64),
                        source_url: None,
                        blob: bytes.map(|b| BlobRef {
                            hash: blake3::hash(&b).to_hex().to_string(),
                            size: b.len() as u64,
                        }),
                        extra: Default::default(),
                    }));
                }
            }
        }
        _ => {}
    }
    Ok(out)
}

/// The source key a marker names (`<system>:<kind>:<id>`).
pub fn parse_marker(m: &str) -> Option<SourceKey> {
    let mut parts = m.splitn(3, ':');
    let system = parts.next()?;
    let kind: RecordKind = parts.next()?.parse().ok()?;
    let id = parts.next()?;
    Some(SourceKey::new(system, kind, id))
}
