//! Conversations as Intercom 2.16 JSON, through the typed shapes of `wire`: listed and searched
//! without parts, retrieved with at most the 500 most recent parts while `statistics` keeps the
//! true count (`../shared/research/intercom-api.md` §2, §5; spec L10994).

use std::collections::HashMap;

use deskmove_synth::{Attachment, Author, ConvState, Conversation, Part, PartKind, Role};

use crate::render::{Render, admin_id, team_id};
use crate::wire::{
    AttachmentOut, AuthorOut, ContactRefOut, Contacts, ConversationOut, EmptyObject, FirstReplyOut,
    LinkedOut, PartOut, PartsOut, RefOut, SourceAuthorOut, SourceOut, StatsOut, TagOut, Tags,
    Teammates, TypedList,
};

/// Intercom returns only this many of a conversation's most recent parts on retrieval.
pub const RECENT_PART_CAP: u64 = 500;

/// The Operator (Fin): the world's AI bot, an admin-typed author flagged as AI (§5).
pub(crate) const OPERATOR_ID: &str = "990001";
/// The workflow bot: the world's automations.
pub(crate) const BOT_ID: &str = "990002";

/// Authors of a set of conversations, rendered once each.
pub(crate) type AuthorCache = HashMap<Author, AuthorOut>;

impl Render<'_> {
    /// An author in Intercom's terms: agents are admins, the AI bot is the Operator, automations
    /// are the workflow bot.
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
            Author::Contact(j) => match self.view.contact(j) {
                Some(c) => out(
                    c.role.as_str(),
                    Some(c.id),
                    c.name,
                    c.email.unwrap_or_default(),
                    false,
                ),
                None => out("user", None, None, String::new(), false),
            },
            Author::Agent(i) => match self.view.agent(i) {
                Some(agent) => out(
                    "admin",
                    Some(agent.id),
                    Some(agent.name),
                    agent.email,
                    false,
                ),
                None => out("admin", None, None, String::new(), false),
            },
            Author::Bot(_) => out(
                "admin",
                Some(OPERATOR_ID.into()),
                Some("Fin".into()),
                "operator+sbx4dm@intercom.io".into(),
                true,
            ),
            Author::Automation(_) => out(
                "bot",
                Some(BOT_ID.into()),
                Some("Workflow bot".into()),
                "bot+sbx4dm@intercom.io".into(),
                false,
            ),
            Author::Team(t) => out(
                "team",
                Some(team_id(t).to_string()),
                self.view.team(t).map(|x| x.name),
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
            for p in recent_parts(c) {
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
                id: Some(team_id(t).to_string()),
            },
            Author::Agent(i) => RefOut {
                kind: "admin",
                id: Some(admin_id(i).to_string()),
            },
            Author::Contact(j) => RefOut {
                kind: "contact",
                id: self.view.contact(j).map(|c| c.id),
            },
            Author::Bot(_) | Author::Automation(_) => RefOut {
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
        let contact = self.view.contact(c.contact);
        let role = contact.as_ref().map_or(Role::User, |x| x.role);
        let mut teammates: Vec<u64> = c
            .parts
            .iter()
            .filter_map(|p| match p.author {
                Author::Agent(a) if p.kind.is_message() => Some(admin_id(a)),
                _ => None,
            })
            .collect();
        teammates.sort_unstable();
        teammates.dedup();
        let first_admin_reply = c
            .parts
            .iter()
            .find(|p| p.kind == PartKind::AgentReply)
            .map(|p| p.created_at);
        let last_close = c.parts.iter().rev().find(|p| p.kind == PartKind::Close);
        let tags = c
            .tags
            .iter()
            .filter_map(|t| self.view.tag(*t))
            .map(|t| TagOut {
                kind: "tag",
                id: t.id,
                name: t.name,
                applied_at: c.created_at,
                applied_by: RefOut {
                    kind: "admin",
                    id: Some("900000".into()),
                },
            })
            .collect();
        let conversation_parts = parts.then(|| {
            let list: Vec<PartOut<'a>> = recent_parts(c)
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
            admin_assignee_id: c.agent_assignee.map_or(0, admin_id),
            team_assignee_id: c.team_assignee.map_or(0, team_id),
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
                    Author::Agent(a) => Some(admin_id(a).to_string()),
                    _ => None,
                }),
            },
            linked_objects: LinkedOut {
                kind: "list",
                data: [],
                total_count: 0,
                has_more: false,
            },
            ai_agent_participated: c.parts.iter().any(|p| p.kind == PartKind::BotReply),
            conversation_parts,
        }
    }
}

/// The parts a retrieval returns: the most recent [`RECENT_PART_CAP`].
fn recent_parts(c: &Conversation) -> &[Part] {
    &c.parts[c.parts.len().saturating_sub(RECENT_PART_CAP as usize)..]
}

/// Intercom's `part_type` of a part.
fn part_type(p: &Part) -> &'static str {
    match p.kind {
        PartKind::ContactReply
        | PartKind::AgentReply
        | PartKind::AutomatedReply
        | PartKind::BotReply => "comment",
        PartKind::QuickReply => "quick_reply",
        PartKind::Note => "note",
        PartKind::Assignment if matches!(p.author, Author::Automation(_)) => "default_assignment",
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
