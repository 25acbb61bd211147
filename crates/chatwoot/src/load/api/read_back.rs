//! Reads back what records became, in canonical terms, for `verify`: one record per ref that
//! still exists.

use std::collections::HashMap;

use deskmove_core::connector::READ_BACK_MESSAGES;
use deskmove_core::model::{
    Agent, Attachment, AttributeDefinition, AttributeModel, AttributeType, Author, AuthorKind,
    BlobRef, Contact, ContactRole, Conversation, ConversationState, Macro, Message, MessageKind,
    Tag, Team, Timestamp,
};
use deskmove_core::{Classify, ErrorKind, Record, RecordKind, SourceKey, TargetRef};
use serde_json::Value;

use super::client::{Api, id_of, list};
use super::{ApiError, leading_id};

fn text(v: &Value, k: &str) -> Option<String> {
    v[k].as_str().map(str::to_owned)
}

fn epoch(v: &Value) -> Timestamp {
    v.as_i64()
        .or_else(|| v.as_f64().map(|f| f as i64))
        .and_then(|s| Timestamp::from_second(s).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A listed resource by id.
async fn by_id(api: &Api, rest: &str) -> Result<HashMap<u64, Value>, ApiError> {
    Ok(list(&api.get(rest).await?)
        .into_iter()
        .filter_map(|v| Some((id_of(&v)?, v)))
        .collect())
}

/// `GET`, `None` when gone.
async fn one(api: &Api, rest: &str) -> Result<Option<Value>, ApiError> {
    match api.get(rest).await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whether a listed message was deleted in Chatwoot (`content_attributes.deleted`).
fn deleted(m: &Value) -> bool {
    m.pointer("/content_attributes/deleted")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The message a `source_id` (`<system>:<id>`, `map::source_id`) stands for.
fn message_key(source_id: &str) -> Option<SourceKey> {
    let (system, id) = source_id.split_once(':')?;
    Some(SourceKey::new(system, RecordKind::Message, id))
}

/// A key from its `system:kind:id` form (`map::marker`).
fn marked_key(marker: &str) -> Option<SourceKey> {
    let mut parts = marker.splitn(3, ':');
    let system = parts.next()?;
    let kind: RecordKind = parts.next()?.parse().ok()?;
    Some(SourceKey::new(system, kind, parts.next()?))
}

/// Label title → the tag deskmove created it for (its description names the tag's marker;
/// `directory.rs`). Labels made by people or for provenance are left out.
async fn marked_labels(api: &Api) -> Result<HashMap<String, SourceKey>, ApiError> {
    Ok(list(&api.get("labels").await?)
        .into_iter()
        .filter_map(|l| {
            let d = l["description"].as_str()?;
            let marker = d
                .strip_prefix("Imported by deskmove (")?
                .strip_suffix(')')?;
            Some((l["title"].as_str()?.to_owned(), marked_key(marker)?))
        })
        .collect())
}

/// The author a message was written as: the contact for incoming messages, else the original
/// author deskmove kept in `content_attributes.original_author` (`messages.rs` `body`).
fn author(v: &Value) -> Author {
    let original = v.pointer("/content_attributes/original_author");
    let kind = match original.and_then(|o| o["kind"].as_str()) {
        Some("contact") => AuthorKind::Contact,
        Some("agent") => AuthorKind::Agent,
        Some("bot") => AuthorKind::Bot,
        Some("system") => AuthorKind::System,
        _ if v["message_type"].as_u64() == Some(0) => AuthorKind::Contact,
        _ if v["message_type"].as_u64() == Some(2) => AuthorKind::System,
        _ => AuthorKind::Agent,
    };
    Author {
        kind,
        key: original
            .and_then(|o| o["source"].as_str())
            .and_then(marked_key),
        name: original.and_then(|o| text(o, "name")),
        email: original.and_then(|o| text(o, "email")),
    }
}

/// The file of a files message that carries `key`: the one at its place in
/// `content_attributes.attachment_sources` (files are attached in that order).
fn carried_file<'v>(v: &'v Value, key: &SourceKey) -> Option<&'v Value> {
    let files = v["attachments"].as_array()?;
    let sources = v
        .pointer("/content_attributes/attachment_sources")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let at = sources
        .split(',')
        .position(|s| s == crate::map::source_id(key))
        .unwrap_or(0);
    files.get(at)
}

pub(crate) async fn read_back(
    api: &Api,
    kind: RecordKind,
    refs: &[TargetRef],
) -> Result<Vec<Record>, ApiError> {
    let mut out = Vec::new();
    let listed = match kind {
        RecordKind::Agent => Some(by_id(api, "agents").await?),
        RecordKind::Team => Some(by_id(api, "teams").await?),
        RecordKind::Tag => Some(by_id(api, "labels").await?),
        RecordKind::AttributeDefinition => Some(by_id(api, "custom_attribute_definitions").await?),
        RecordKind::Macro => Some(by_id(api, "canned_responses").await?),
        _ => None,
    };
    let mut messages: HashMap<u64, HashMap<u64, Value>> = HashMap::new();
    let mut label_keys: Option<HashMap<String, SourceKey>> = None;
    for r in refs {
        let key = r.key.clone();
        let id = leading_id(&r.id).unwrap_or(0);
        let record = match kind {
            RecordKind::Agent
            | RecordKind::Team
            | RecordKind::Tag
            | RecordKind::AttributeDefinition
            | RecordKind::Macro => {
                let Some(v) = listed.as_ref().and_then(|l| l.get(&id)) else {
                    continue;
                };
                match kind {
                    RecordKind::Agent => Record::Agent(Agent {
                        key,
                        name: text(v, "name"),
                        email: text(v, "email"),
                        active: true,
                        extra: Default::default(),
                    }),
                    RecordKind::Team => Record::Team(Team {
                        key,
                        name: text(v, "name").unwrap_or_default(),
                        members: Vec::new(),
                        extra: Default::default(),
                    }),
                    RecordKind::Tag => Record::Tag(Tag {
                        key,
                        name: text(v, "title").unwrap_or_default(),
                        extra: Default::default(),
                    }),
                    RecordKind::AttributeDefinition => {
                        Record::AttributeDefinition(AttributeDefinition {
                            key,
                            model: if v["attribute_model"].as_str()
                                == Some("conversation_attribute")
                            {
                                AttributeModel::Conversation
                            } else {
                                AttributeModel::Contact
                            },
                            name: text(v, "attribute_key").unwrap_or_default(),
                            label: text(v, "attribute_display_name"),
                            data_type: match v["attribute_display_type"].as_str() {
                                Some("number") => AttributeType::Float,
                                Some("checkbox") => AttributeType::Boolean,
                                Some("date") => AttributeType::Date,
                                Some("list") => AttributeType::List,
                                _ => AttributeType::String,
                            },
                            options: v["attribute_values"]
                                .as_array()
                                .map(|a| {
                                    a.iter()
                                        .filter_map(|x| x.as_str().map(str::to_owned))
                                        .collect()
                                })
                                .unwrap_or_default(),
                            description: text(v, "attribute_description"),
                            archived: false,
                            extra: Default::default(),
                        })
                    }
                    _ => Record::Macro(Macro {
                        key,
                        name: text(v, "short_code").unwrap_or_default(),
                        body_markdown: text(v, "content"),
                        body_html: None,
                        created_at: None,
                        updated_at: None,
                        extra: Default::default(),
                    }),
                }
            }
            RecordKind::Contact => {
                let Some(v) = one(api, &format!("contacts/{id}")).await? else {
                    continue;
                };
                let v = &v["payload"];
                Record::Contact(Contact {
                    key,
                    role: ContactRole::User,
                    name: text(v, "name").filter(|n| !n.is_empty()),
                    email: text(v, "email"),
                    email_original: None,
                    phone: text(v, "phone_number"),
                    phone_original: None,
                    external_id: text(v, "identifier"),
                    companies: Vec::new(),
                    tags: Vec::new(),
                    attributes: v["custom_attributes"]
                        .as_object()
                        .map(|o| o.clone().into_iter().collect())
                        .unwrap_or_default(),
                    avatar_url: None,
                    created_at: Timestamp::UNIX_EPOCH,
                    updated_at: None,
                    last_seen_at: None,
                    extra: Default::default(),
                })
            }
            RecordKind::Conversation => {
                let Some(v) = one(api, &format!("conversations/{id}")).await? else {
                    continue;
                };
                if label_keys.is_none() {
                    label_keys = Some(marked_labels(api).await?);
                }
                let tags = v["labels"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|l| label_keys.as_ref()?.get(l.as_str()?).cloned())
                    .collect();
                let mut extra = deskmove_core::model::Extra::new();
                if let Some(all) = super::client::conversation_messages(api, id).await? {
                    let keys: Vec<Value> = all
                        .iter()
                        .filter(|m| !deleted(m))
                        .filter_map(|m| message_key(m["source_id"].as_str()?))
                        .map(|k| Value::String(k.to_string()))
                        .collect();
                    extra.insert(READ_BACK_MESSAGES.into(), Value::Array(keys));
                    messages.insert(
                        id,
                        all.into_iter()
                            .filter_map(|x| Some((id_of(&x)?, x)))
                            .collect(),
                    );
                }
                Record::Conversation(Conversation {
                    key,
                    subject: v
                        .pointer("/additional_attributes/mail_subject")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    contacts: Vec::new(),
                    assignee: None,
                    team: None,
                    state: match v["status"].as_str() {
                        Some("resolved") => ConversationState::Closed,
                        Some("snoozed") => ConversationState::Snoozed,
                        Some("pending") => ConversationState::Pending,
                        _ => ConversationState::Open,
                    },
                    snoozed_until: None,
                    priority: text(&v, "priority"),
                    tags,
                    attributes: v["custom_attributes"]
                        .as_object()
                        .map(|o| o.clone().into_iter().collect())
                        .unwrap_or_default(),
                    source_message_count: None,
                    created_at: epoch(&v["created_at"]),
                    updated_at: None,
                    extra,
                })
            }
            RecordKind::Message | RecordKind::Attachment => {
                let Some((d, m)) = r.id.split_once('/') else {
                    continue;
                };
                let (Ok(d), Some(m)) = (d.parse::<u64>(), leading_id(m)) else {
                    continue;
                };
                if let std::collections::hash_map::Entry::Vacant(e) = messages.entry(d) {
                    let all = super::client::conversation_messages(api, d)
                        .await?
                        .unwrap_or_default();
                    e.insert(
                        all.into_iter()
                            .filter_map(|x| Some((id_of(&x)?, x)))
                            .collect(),
                    );
                }
                // A deleted message stays listed, emptied and flagged (`messages_controller#destroy`).
                let Some(v) = messages
                    .get(&d)
                    .and_then(|all| all.get(&m))
                    .filter(|v| !deleted(v))
                else {
                    continue;
                };
                if kind == RecordKind::Attachment {
                    let Some(a) = carried_file(v, &r.key) else {
                        continue;
                    };
                    let bytes = match a["data_url"].as_str() {
                        Some(url) => match api.file(url).await {
                            Ok(b) => Some(b),
                            Err(e) if e.kind() == ErrorKind::NotFound => None,
                            Err(e) => return Err(e.into()),
                        },
                        None => None,
                    };
                    Record::Attachment(Attachment {
                        key,
                        owner: v
                            .pointer("/content_attributes/attachments_of")
                            .and_then(Value::as_str)
                            .and_then(message_key)
                            .unwrap_or_else(|| {
                                SourceKey::new(r.key.system.clone(), RecordKind::Message, "")
                            }),
                        file_name: a["data_url"]
                            .as_str()
                            .and_then(|u| u.rsplit('/').next())
                            .unwrap_or_default()
                            .to_owned(),
                        content_type: None,
                        size: a["file_size"].as_u64(),
                        source_url: None,
                        blob: bytes.map(|b| BlobRef {
                            hash: blake3::hash(&b).to_hex().to_string(),
                            size: b.len() as u64,
                        }),
                        extra: Default::default(),
                    })
                } else {
                    Record::Message(Message {
                        key,
                        conversation: SourceKey::new(
                            r.key.system.clone(),
                            RecordKind::Conversation,
                            d.to_string(),
                        ),
                        kind: match (v["message_type"].as_u64(), v["private"].as_bool()) {
                            (Some(2), _) => MessageKind::Event,
                            (_, Some(true)) => MessageKind::Note,
                            _ => MessageKind::Reply,
                        },
                        author: author(v),
                        body_html: None,
                        body_markdown: text(v, "content"),
                        inline_images: Vec::new(),
                        event: None,
                        attachments: Vec::new(),
                        created_at: epoch(&v["created_at"]),
                        updated_at: None,
                        extra: Default::default(),
                    })
                }
            }
            _ => continue,
        };
        out.push(record);
    }
    Ok(out)
}
