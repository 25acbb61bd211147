//! What records became in Intercom, in canonical terms, for `verify`: read from Intercom, never
//! from the ledger. Parts are read as messages: the first line deskmove writes for a stand-in
//! author ("Written by …", "Sent by … (bot)", "From …", "System") gives the true author's kind
//! back, and the `[action]` line of an event note gives its kind back.

use std::collections::HashMap;

use deskmove_core::connector::READ_BACK_LABELS;
use deskmove_core::model::BlobRef;
use deskmove_core::model::{
    Agent, Attachment, AttributeDefinition, AttributeModel, AttributeType, Author, AuthorKind,
    Company, Contact, ContactRole, Conversation, ConversationState, Message, MessageKind, Tag,
    Timestamp,
};
use deskmove_core::{Classify as _, ErrorKind, Record, RecordKind, SourceKey, TargetRef};
use deskmove_http::FileClient;
use serde_json::Value;

use super::TargetError;
use super::api::{Api, id_of, marker_of};

fn at(v: &Value) -> Timestamp {
    v.as_i64()
        .and_then(|s| Timestamp::from_second(s).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// The source key a marker names.
pub(crate) fn key_of(marker: &str) -> Option<SourceKey> {
    let (system, rest) = marker.split_once(':')?;
    let (kind, id) = rest.split_once(':')?;
    let kind = RecordKind::ALL.into_iter().find(|k| k.as_str() == kind)?;
    Some(SourceKey::new(system, kind, id))
}

pub(crate) async fn read_back(
    api: &Api,
    files: &FileClient,
    kind: RecordKind,
    refs: &[TargetRef],
) -> Result<Vec<Record>, TargetError> {
    let mut out = Vec::new();
    match kind {
        RecordKind::Agent => {
            let v = api.get("admins").await?;
            let admins: HashMap<String, &Value> = v["admins"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| Some((id_of(a)?, a)))
                .collect();
            for r in refs {
                if let Some(a) = admins.get(&r.id) {
                    out.push(Record::Agent(Agent {
                        key: r.key.clone(),
                        name: text(&a["name"]),
                        email: text(&a["email"]),
                        active: true,
                        extra: Default::default(),
                    }));
                }
            }
        }
        RecordKind::Tag => {
            let v = api.get("tags").await?;
            for r in refs {
                if let Some(t) = v["data"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|t| id_of(t).as_deref() == Some(&r.id))
                {
                    out.push(Record::Tag(Tag {
                        key: r.key.clone(),
                        name: text(&t["name"]).unwrap_or_default(),
                        extra: Default::default(),
                    }));
                }
            }
        }
        RecordKind::AttributeDefinition => {
            let mut all = Vec::new();
            for (path, model) in [
                (
                    "data_attributes?model=contact&include_archived=true",
                    AttributeModel::Contact,
                ),
                (
                    "data_attributes?model=company&include_archived=true",
                    AttributeModel::Company,
                ),
                ("conversations/attributes", AttributeModel::Conversation),
            ] {
                if let Some(v) = api.find(path).await? {
                    for a in v["data"].as_array().into_iter().flatten() {
                        all.push((model, a.clone()));
                    }
                }
            }
            for r in refs {
                let (want_conv, id) = match r.id.strip_prefix("conversation:") {
                    Some(id) => (true, id),
                    None => (false, r.id.as_str()),
                };
                if let Some((model, a)) = all.iter().find(|(m, a)| {
                    id_of(a).as_deref() == Some(id)
                        && (*m == AttributeModel::Conversation) == want_conv
                }) {
                    out.push(Record::AttributeDefinition(AttributeDefinition {
                        key: r.key.clone(),
                        model: *model,
                        name: text(&a["name"]).unwrap_or_default(),
                        label: text(&a["label"]),
                        data_type: match a["data_type"].as_str().unwrap_or_default() {
                            "integer" => AttributeType::Integer,
                            "float" | "decimal" => AttributeType::Float,
                            "boolean" => AttributeType::Boolean,
                            "date" | "datetime" => AttributeType::Date,
                            "options" | "list" => AttributeType::List,
                            _ => AttributeType::String,
                        },
                        options: Vec::new(),
                        description: text(&a["description"]),
                        archived: a["archived"].as_bool().unwrap_or(false),
                        extra: Default::default(),
                    }));
                }
            }
        }
        RecordKind::Company => {
            for r in refs {
                let Some(c) = api.find(&format!("companies/{}", r.id)).await? else {
                    continue;
                };
                out.push(Record::Company(Company {
                    key: r.key.clone(),
                    name: text(&c["name"]),
                    external_id: text(&c["company_id"]),
                    website: text(&c["website"]),
                    industry: text(&c["industry"]),
                    size: c["size"].as_i64(),
                    attributes: c["custom_attributes"]
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    tags: Vec::new(),
                    created_at: at(&c["remote_created_at"]),
                    updated_at: Some(at(&c["updated_at"])),
                    extra: Default::default(),
                }));
            }
        }
        RecordKind::Contact => {
            for r in refs {
                let Some(c) = api.find(&format!("contacts/{}", r.id)).await? else {
                    continue;
                };
                out.push(Record::Contact(Contact {
                    key: r.key.clone(),
                    role: if c["role"] == "lead" {
                        ContactRole::Lead
                    } else {
                        ContactRole::User
                    },
                    name: text(&c["name"]),
                    email: text(&c["email"]),
                    email_original: text(&c["email"]),
                    phone: text(&c["phone"]),
                    phone_original: text(&c["phone"]),
                    external_id: text(&c["external_id"]),
                    companies: Vec::new(),
                    tags: Vec::new(),
                    attributes: c["custom_attributes"]
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    avatar_url: None,
                    created_at: at(&c["signed_up_at"]),
                    updated_at: Some(at(&c["updated_at"])),
                    last_seen_at: c["last_seen_at"]
                        .as_i64()
                        .and_then(|s| Timestamp::from_second(s).ok()),
                    extra: Default::default(),
                }));
            }
        }
        RecordKind::Conversation | RecordKind::Message | RecordKind::Attachment => {
            let mut fetched: HashMap<String, Option<Value>> = HashMap::new();
            // A part carries up to ten files, all under the part's id, in the order they were
            // staged; `verify` asks for them in that same (key) order.
            let mut nth: HashMap<&str, usize> = HashMap::new();
            for r in refs {
                let conversation = r.id.split('/').next().unwrap_or_default().to_owned();
                if !fetched.contains_key(&conversation) {
                    let v = api.find(&format!("conversations/{conversation}")).await?;
                    fetched.insert(conversation.clone(), v);
                }
                let Some(Some(c)) = fetched.get(&conversation) else {
                    continue;
                };
                let n = nth.entry(r.id.as_str()).or_default();
                if let Some(mut record) = conversation_record(kind, r, c, *n) {
                    *n += 1;
                    if let Record::Attachment(a) = &mut record
                        && let Some(url) = a.source_url.take()
                    {
                        a.blob = file_bytes(files, &url).await?;
                    }
                    out.push(record);
                }
            }
        }
        _ => {}
    }
    Ok(out)
}

/// A file's blake3 and size as the file host serves it, read as a stream; `None` when it is gone.
async fn file_bytes(files: &FileClient, url: &str) -> Result<Option<BlobRef>, TargetError> {
    use futures::StreamExt as _;
    let response = match files.download(url).await {
        Ok(r) => r,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut hasher = blake3::Hasher::new();
    let mut size = 0u64;
    let mut body = response.into_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    Ok(Some(BlobRef {
        hash: hasher.finalize().to_hex().to_string(),
        size,
    }))
}

/// The `n`th file of a part, when `kind` is an attachment.
fn conversation_record(kind: RecordKind, r: &TargetRef, c: &Value, n: usize) -> Option<Record> {
    let conv_key = marker_of(c)
        .and_then(key_of)
        .unwrap_or_else(|| SourceKey::new(&r.key.system, RecordKind::Conversation, &r.id));
    match kind {
        RecordKind::Conversation => Some(Record::Conversation(Conversation {
            key: r.key.clone(),
            subject: text(&c["title"]),
            contacts: Vec::new(),
            assignee: None,
            team: None,
            state: match c["state"].as_str().unwrap_or("open") {
                "closed" => ConversationState::Closed,
                "snoozed" => ConversationState::Snoozed,
                _ => ConversationState::Open,
            },
            snoozed_until: c["snoozed_until"]
                .as_i64()
                .and_then(|s| Timestamp::from_second(s).ok()),
            priority: text(&c["priority"]),
            tags: Vec::new(),
            attributes: c["custom_attributes"]
                .as_object()
                .cloned()
                .unwrap_or_default(),
            source_message_count: None,
            created_at: at(&c["created_at"]),
            updated_at: Some(at(&c["updated_at"])),
            // Intercom's tags are names only: they cannot say which source tag they came
            // from, so `verify` compares their ids with the ledger's.
            extra: [(
                READ_BACK_LABELS.to_owned(),
                Value::Array(
                    c.pointer("/tags/tags")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(id_of)
                        .map(Value::String)
                        .collect(),
                ),
            )]
            .into_iter()
            .collect(),
        })),
        RecordKind::Message | RecordKind::Attachment => {
            let (_, part_id) = r.id.split_once('/')?;
            let (part, created, is_source) =
                if c.pointer("/source/id").and_then(id_of_value) == Some(part_id.to_owned()) {
                    (&c["source"], at(&c["created_at"]), true)
                } else {
                    let p = c
                        .pointer("/conversation_parts/conversation_parts")
                        .and_then(Value::as_array)?
                        .iter()
                        .find(|p| id_of(p).as_deref() == Some(part_id))?;
                    (p, at(&p["created_at"]), false)
                };
            if kind == RecordKind::Attachment {
                let file = part["attachments"].as_array().and_then(|a| a.get(n));
                file?;
                return Some(Record::Attachment(Attachment {
                    key: r.key.clone(),
                    owner: SourceKey::new(&r.key.system, RecordKind::Message, &r.id),
                    file_name: file.and_then(|f| text(&f["name"])).unwrap_or_default(),
                    content_type: file.and_then(|f| text(&f["content_type"])),
                    size: file.and_then(|f| f["filesize"].as_u64()),
                    source_url: file.and_then(|f| text(&f["url"])),
                    blob: None,
                    extra: Default::default(),
                }));
            }
            Some(Record::Message(message(
                r, conv_key, part, created, is_source,
            )))
        }
        _ => None,
    }
}

fn id_of_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The text of a contact's part: as written, or, for a conversation's first message, out of
/// the one escaped paragraph Intercom wraps it in.
fn plain_text(body: &str) -> String {
    match body
        .strip_prefix("<p>")
        .and_then(|b| b.strip_suffix("</p>"))
        .filter(|inner| !inner.contains("<p>"))
    {
        Some(inner) => inner
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
        None => body.to_owned(),
    }
}

fn message(
    r: &TargetRef,
    conversation: SourceKey,
    part: &Value,
    created: Timestamp,
    is_source: bool,
) -> Message {
    let html = part["body"].as_str().unwrap_or_default().to_owned();
    let part_type = if is_source {
        "comment"
    } else {
        part["part_type"].as_str().unwrap_or("comment")
    };
    let author_type = part
        .pointer("/author/type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // A contact's part is plain text (the Markdown as sent): read as HTML it would lose its
    // line breaks and gain escapes.
    let markdown = if matches!(author_type, "user" | "lead" | "contact") {
        plain_text(&html)
    } else {
        deskmove_core::normalize::html::to_markdown(&html)
            .map(|c| c.markdown)
            .unwrap_or_else(|_| html.clone())
    };
    let mut lines: Vec<&str> = markdown.lines().collect();
    let mut kind = if part_type == "note" {
        MessageKind::Note
    } else {
        MessageKind::Reply
    };
    let mut author_kind = match author_type {
        "user" | "lead" | "contact" => AuthorKind::Contact,
        "bot" => AuthorKind::Bot,
        _ => AuthorKind::Agent,
    };
    let mut name = part
        .pointer("/author/name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    // The stand-in author's line, then an event's `[action]` line.
    if let Some(first) = lines
        .first()
        .map(|l| l.trim().trim_matches(|c| c == '*' || c == '_'))
    {
        let stand_in = if let Some(n) = first.strip_prefix("Written by ") {
            Some((AuthorKind::Agent, n))
        } else if let Some(n) = first.strip_prefix("Sent by ") {
            Some((AuthorKind::Bot, n.trim_end_matches(" (bot)")))
        } else if let Some(n) = first.strip_prefix("From ") {
            Some((AuthorKind::Contact, n))
        } else if first == "System" {
            Some((AuthorKind::System, ""))
        } else {
            None
        };
        if let Some((k, n)) = stand_in {
            author_kind = k;
            name = (!n.is_empty()).then(|| n.to_owned());
            lines.remove(0);
            while lines.first().is_some_and(|l| l.trim().is_empty()) {
                lines.remove(0);
            }
        }
    }
    if part_type == "note"
        && let Some(first) = lines.first()
        && first.trim().starts_with("\\[")
    {
        kind = MessageKind::Event;
        lines.remove(0);
        while lines.first().is_some_and(|l| l.trim().is_empty()) {
            lines.remove(0);
        }
    }
    let body = lines.join("\n");
    Message {
        key: r.key.clone(),
        conversation,
        kind,
        author: Author {
            kind: author_kind,
            key: None,
            name,
            email: None,
        },
        body_html: Some(html),
        body_markdown: Some(body),
        inline_images: Vec::new(),
        event: None,
        attachments: Vec::new(),
        created_at: created,
        updated_at: None,
        extra: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contacts_part_reads_back_as_the_text_it_was_sent_as() {
        let sent = "## Steps\n\n1\\. Go to [the guide](https://x.example/?a=1&b=2) <100>";
        let first = format!(
            "<p>{}</p>",
            sent.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        );
        assert_eq!(plain_text(&first), sent);
        assert_eq!(plain_text(sent), sent, "a reply is kept as written");
    }
}
