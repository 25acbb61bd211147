//! Typed wire shapes for conversations (`conversation`, `conversation_list_item`,
//! `conversation_part` in the 2.16 spec), serialised straight to bytes: the hot path of an
//! export (one retrieve per conversation) must not build a `serde_json::Value` tree.

use std::collections::HashMap;

use deskmove_synth::{
    Attachment, Author, ConvState, Conversation, Part, PartKind, RECENT_PART_CAP, Role,
};
use serde::Serialize;

use super::render::Render;

/// The Operator / Fin identity: an admin-typed author flagged as AI (`../shared/research/intercom-api.md` §5).
pub(crate) const OPERATOR_ID: &str = "990001";
pub(crate) const BOT_ID: &str = "990002";

#[derive(Debug, Clone, Serialize)]
pub(crate) struct AuthorOut {
    #[serde(rename = "type")]
    kind: &'static str,
    id: Option<String>,
    name: Option<String>,
    email: String,
    from_ai_agent: bool,
    is_ai_answer: bool,
}

#[derive(Debug, Serialize)]
struct RefOut {
    #[serde(rename = "type")]
    kind: &'static str,
    id: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct AttachmentOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    url: String,
    content_type: &'static str,
    filesize: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
}

#[derive(Debug, Serialize)]
struct PartOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    part_type: &'static str,
    body: Option<String>,
    created_at: i64,
    updated_at: i64,
    notified_at: i64,
    assigned_to: Option<RefOut>,
    author: &'a AuthorOut,
    attachments: Vec<AttachmentOut<'a>>,
    external_id: Option<()>,
    redacted: bool,
    state: &'static str,
    tags: [(); 0],
    app_package_code: Option<()>,
}

#[derive(Debug, Serialize)]
struct PartsOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    total_count: usize,
    conversation_parts: Vec<PartOut<'a>>,
}

#[derive(Debug, Serialize)]
struct TagOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    name: String,
    applied_at: i64,
    applied_by: RefOut,
    #[serde(skip)]
    _p: std::marker::PhantomData<&'a ()>,
}

#[derive(Debug, Serialize)]
struct TypedList<T> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    items: T,
}

#[derive(Debug, Serialize)]
struct Tags<'a> {
    tags: Vec<TagOut<'a>>,
}

#[derive(Debug, Serialize)]
struct ContactRefOut {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    external_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct Contacts {
    contacts: Vec<ContactRefOut>,
}

#[derive(Debug, Serialize)]
struct Teammates {
    teammates: Vec<RefOut>,
}

#[derive(Debug, Serialize)]
struct SourceAuthorOut {
    #[serde(rename = "type")]
    kind: &'static str,
    id: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Serialize)]
struct SourceOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    delivered_as: &'static str,
    subject: String,
    body: String,
    author: SourceAuthorOut,
    attachments: Vec<AttachmentOut<'a>>,
    url: Option<()>,
    redacted: bool,
}

#[derive(Debug, Serialize)]
struct StatsOut {
    #[serde(rename = "type")]
    kind: &'static str,
    count_reopens: usize,
    count_assignments: usize,
    /// The true total, even when retrieval returns only the 500 most recent (§2).
    count_conversation_parts: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_admin_reply_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_to_admin_reply: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_close_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_closed_by_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct FirstReplyOut {
    created_at: i64,
    #[serde(rename = "type")]
    kind: &'static str,
    url: Option<()>,
}

#[derive(Debug, Serialize)]
struct LinkedOut {
    #[serde(rename = "type")]
    kind: &'static str,
    data: [(); 0],
    total_count: u64,
    has_more: bool,
}

#[derive(Debug, Serialize)]
struct EmptyObject {}

/// A conversation as listed, searched (no parts) or retrieved (at most 500 parts).
#[derive(Debug, Serialize)]
pub(crate) struct ConversationOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    title: Option<&'a str>,
    created_at: i64,
    updated_at: i64,
    waiting_since: Option<i64>,
    snoozed_until: Option<i64>,
    open: bool,
    state: &'static str,
    read: bool,
    priority: &'static str,
    /// 2.16: 0 when unassigned (§0).
    admin_assignee_id: u64,
    team_assignee_id: u64,
    company: Option<()>,
    tags: TypedList<Tags<'a>>,
    conversation_rating: Option<()>,
    source: SourceOut<'a>,
    contacts: TypedList<Contacts>,
    teammates: TypedList<Teammates>,
    custom_attributes: EmptyObject,
    first_contact_reply: FirstReplyOut,
    statistics: StatsOut,
    linked_objects: LinkedOut,
    ai_agent_participated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation_parts: Option<PartsOut<'a>>,
}

/// Authors of a set of conversations, rendered once each.
pub(crate) type AuthorCache = HashMap<Author, AuthorOut>;

impl Render<'_> {
    pub(crate) fn author_out(&self, a: Author) -> AuthorOut {
        let out =
            |kind, id: Option<String>, name: Option<String>, email: String, ai: bool| AuthorOut {
                kind,
                id,
                name,
                email,
                from_ai_agent: ai,
                is_ai_answer: ai,
            };
        match a {
            Author::Contact(j) => match self.v.contact(j) {
                Some(c) => out(
                    c.role.as_str(),
                    Some(c.id),
                    c.name,
                    c.email.unwrap_or_default(),
                    false,
                ),
                None => out("user", None, None, String::new(), false),
            },
            Author::Admin(i) => match self.v.admin(i) {
                Some(ad) => out("admin", Some(ad.id), Some(ad.name), ad.email, false),
                None => out("admin", None, None, String::new(), false),
            },
            Author::Operator(_) => out(
                "admin",
                Some(OPERATOR_ID.into()),
                Some("Fin".into()),
                "operator+sbx4dm@intercom.io".into(),
                true,
            ),
            Author::Bot(_) => out(
                "bot",
                Some(BOT_ID.into()),
                Some("Workflow bot".into()),
                "bot+sbx4dm@intercom.io".into(),
                false,
            ),
            Author::Team(t) => out(
                "team",
                Some((5_000 + t).to_string()),
                self.v.team(t).map(|x| x.name),
                String::new(),
                false,
            ),
        }
    }

    /// Fills `cache` with every author the conversations' (visible) parts name.
    pub(crate) fn collect_authors<'c>(
        &self,
        convs: impl IntoIterator<Item = &'c Conversation>,
        cache: &mut AuthorCache,
    ) {
        for c in convs {
            for p in &c.parts[c.parts.len().saturating_sub(RECENT_PART_CAP as usize)..] {
                cache
                    .entry(p.author)
                    .or_insert_with(|| self.author_out(p.author));
            }
        }
    }

    fn ref_out(&self, a: Author) -> RefOut {
        match a {
            Author::Team(t) => RefOut {
                kind: "team",
                id: Some((5_000 + t).to_string()),
            },
            Author::Admin(i) => RefOut {
                kind: "admin",
                id: Some((900_000 + i).to_string()),
            },
            Author::Contact(j) => RefOut {
                kind: "contact",
                id: self.v.contact(j).map(|c| c.id),
            },
            Author::Operator(_) | Author::Bot(_) => RefOut {
                kind: "admin",
                id: Some(OPERATOR_ID.into()),
            },
        }
    }

    pub(crate) fn attachment_out<'a>(&self, a: &'a Attachment) -> AttachmentOut<'a> {
        AttachmentOut {
            kind: "upload",
            name: &a.name,
            url: self.signer.url(a.id, &a.name, self.now),
            content_type: a.content_type,
            filesize: a.size,
            width: a.dimensions.map(|d| d.0),
            height: a.dimensions.map(|d| d.1),
        }
    }

    fn part_out<'a>(&self, p: &'a Part, authors: &'a AuthorCache) -> Option<PartOut<'a>> {
        Some(PartOut {
            kind: "conversation_part",
            id: p.id.to_string(),
            part_type: part_type(p),
            body: p.body.as_deref().map(|b| self.body(b)),
            created_at: p.created_at,
            updated_at: p.created_at,
            notified_at: p.created_at,
            assigned_to: p.assigned_to.map(|a| self.ref_out(a)),
            author: authors.get(&p.author)?,
            attachments: p
                .attachments
                .iter()
                .map(|a| self.attachment_out(a))
                .collect(),
            external_id: None,
            redacted: false,
            state: p.state.as_str(),
            tags: [],
            app_package_code: None,
        })
    }

    /// A conversation; with `parts`, the 500 most recent parts (spec L10994) and `authors`
    /// must hold their authors ([`Render::collect_authors`]).
    pub(crate) fn conversation_out<'a>(
        &self,
        c: &'a Conversation,
        parts: bool,
        authors: &'a AuthorCache,
    ) -> ConversationOut<'a> {
        let contact = self.v.contact(c.contact);
        let role = contact.as_ref().map_or(Role::User, |x| x.role);
        let mut teammates: Vec<u64> = c
            .parts
            .iter()
            .filter_map(|p| match p.author {
                Author::Admin(a) if p.kind.is_message() => Some(900_000 + a),
                _ => None,
            })
            .collect();
        teammates.sort_unstable();
        teammates.dedup();
        let first_admin_reply = c
            .parts
            .iter()
            .find(|p| p.kind == PartKind::AdminComment)
            .map(|p| p.created_at);
        let last_close = c.parts.iter().rev().find(|p| p.kind == PartKind::Close);
        let tags = c
            .tags
            .iter()
            .filter_map(|t| self.v.tag(*t))
            .map(|t| TagOut {
                kind: "tag",
                id: t.id,
                name: t.name,
                applied_at: c.created_at,
                applied_by: RefOut {
                    kind: "admin",
                    id: Some("900000".into()),
                },
                _p: std::marker::PhantomData,
            })
            .collect();
        let conversation_parts = parts.then(|| {
            let skip = c.parts.len().saturating_sub(RECENT_PART_CAP as usize);
            let list: Vec<PartOut<'a>> = c.parts[skip..]
                .iter()
                .filter_map(|p| self.part_out(p, authors))
                .collect();
            PartsOut {
                kind: "conversation_part.list",
                total_count: list.len(),
                conversation_parts: list,
            }
        });
        ConversationOut {
            kind: "conversation",
            id: &c.id,
            title: c.title.as_deref(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            waiting_since: c
                .parts
                .last()
                .filter(|p| matches!(p.author, Author::Contact(_)))
                .map(|p| p.created_at),
            snoozed_until: c.snoozed_until,
            open: c.state != ConvState::Closed,
            state: c.state.as_str(),
            read: c.read,
            priority: c.priority,
            admin_assignee_id: c.admin_assignee.map_or(0, |a| 900_000 + a),
            team_assignee_id: c.team_assignee.map_or(0, |t| 5_000 + t),
            company: None,
            tags: TypedList {
                kind: "tag.list",
                items: Tags { tags },
            },
            conversation_rating: None,
            source: SourceOut {
                kind: c.channel,
                id: (c.index + 1).to_string(),
                delivered_as: "customer_initiated",
                subject: if c.channel == "email" {
                    c.title.clone().unwrap_or_default()
                } else {
                    String::new()
                },
                body: self.body(&c.source_body),
                author: SourceAuthorOut {
                    kind: role.as_str(),
                    id: contact.as_ref().map(|x| x.id.clone()),
                    name: contact.as_ref().and_then(|x| x.name.clone()),
                    email: contact.as_ref().and_then(|x| x.email.clone()),
                },
                attachments: c
                    .source_attachments
                    .iter()
                    .map(|a| self.attachment_out(a))
                    .collect(),
                url: None,
                redacted: false,
            },
            contacts: TypedList {
                kind: "contact.list",
                items: Contacts {
                    contacts: contact
                        .map(|x| {
                            vec![ContactRefOut {
                                kind: "contact",
                                id: x.id,
                                external_id: x.external_id,
                            }]
                        })
                        .unwrap_or_default(),
                },
            },
            teammates: TypedList {
                kind: "admin.list",
                items: Teammates {
                    teammates: teammates
                        .iter()
                        .map(|id| RefOut {
                            kind: "admin",
                            id: Some(id.to_string()),
                        })
                        .collect(),
                },
            },
            custom_attributes: EmptyObject {},
            first_contact_reply: FirstReplyOut {
                created_at: c.created_at,
                kind: c.channel,
                url: None,
            },
            statistics: StatsOut {
                kind: "conversation_statistics",
                count_reopens: c.parts.iter().filter(|p| p.kind == PartKind::Open).count(),
                count_assignments: c
                    .parts
                    .iter()
                    .filter(|p| p.kind == PartKind::Assignment)
                    .count(),
                count_conversation_parts: c.parts.len(),
                first_admin_reply_at: first_admin_reply,
                time_to_admin_reply: first_admin_reply.map(|t| t - c.created_at),
                last_close_at: last_close.map(|p| p.created_at),
                last_closed_by_id: last_close.and_then(|p| match p.author {
                    Author::Admin(a) => Some((900_000 + a).to_string()),
                    _ => None,
                }),
            },
            linked_objects: LinkedOut {
                kind: "list",
                data: [],
                total_count: 0,
                has_more: false,
            },
            ai_agent_participated: c.parts.iter().any(|p| p.kind == PartKind::OperatorComment),
            conversation_parts,
        }
    }
}

pub(crate) fn part_type(p: &Part) -> &'static str {
    match p.kind {
        PartKind::CustomerComment
        | PartKind::AdminComment
        | PartKind::BotComment
        | PartKind::OperatorComment => "comment",
        PartKind::QuickReply => "quick_reply",
        PartKind::Note => "note",
        PartKind::Assignment if matches!(p.author, Author::Bot(_)) => "default_assignment",
        PartKind::Assignment => "assignment",
        PartKind::Open => "open",
        PartKind::Close => "close",
        PartKind::Snoozed => "snoozed",
        PartKind::Unsnoozed => "unsnoozed",
        PartKind::AttributeUpdated => "conversation_attribute_updated_by_admin",
        PartKind::ParticipantAdded => "participant_added",
        // A part type the extractor has never seen: it must pass through, not crash.
        PartKind::Future => "sentiment_analysis_completed",
    }
}
