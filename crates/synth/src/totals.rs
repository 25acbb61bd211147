//! Totals per kind: the oracle tests compare extractions and targets against.
//! Computed by streaming over records in constant memory.

use serde::Serialize;

use crate::conversations::part_id;
use crate::model::{ConvState, Role};
use crate::world::View;

/// Counts of everything in the world at one epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Clock epoch these totals describe.
    pub epoch: u64,
    /// Agents (departed included).
    pub agents: u64,
    /// Agents who left.
    pub agents_departed: u64,
    /// Teams.
    pub teams: u64,
    /// Tags.
    pub tags: u64,
    /// Custom attribute definitions (both models, archived included).
    pub attribute_definitions: u64,
    /// Archived attribute definitions.
    pub attribute_definitions_archived: u64,
    /// Contacts (users + leads).
    pub contacts: u64,
    /// Users.
    pub users: u64,
    /// Leads.
    pub leads: u64,
    /// Contacts with no email at all.
    pub contacts_without_email: u64,
    /// Notes on contacts.
    pub notes: u64,
    /// Companies, including those without users.
    pub companies: u64,
    /// Companies with at least one user.
    pub companies_with_users: u64,
    /// Conversations.
    pub conversations: u64,
    /// Open conversations.
    pub conversations_open: u64,
    /// Closed conversations.
    pub conversations_closed: u64,
    /// Snoozed conversations.
    pub conversations_snoozed: u64,
    /// Every part of every conversation.
    pub conversation_parts: u64,
    /// Attached files (parts and first messages).
    pub attachments: u64,
    /// Images embedded inline in part bodies.
    pub inline_images: u64,
    /// Saved replies.
    pub macros: u64,
    /// Help-center collections.
    pub collections: u64,
    /// Help-center articles.
    pub articles: u64,
    /// Images embedded in articles.
    pub article_images: u64,
    /// Tickets.
    pub tickets: u64,
    /// Ticket parts.
    pub ticket_parts: u64,
}

impl View<'_> {
    /// Compute totals by streaming over every record (O(records), O(1) memory).
    pub fn compute_totals(&self) -> Totals {
        let mut t = Totals {
            epoch: self.epoch,
            agents: self.agent_count(),
            agents_departed: (0..self.agent_count()).filter(|i| i % 5 == 4).count() as u64,
            teams: self.team_count(),
            tags: self.tag_count(),
            attribute_definitions: self.attribute_count(),
            attribute_definitions_archived: (0..self.attribute_count())
                .filter_map(|i| self.attribute(i))
                .filter(|a| a.archived)
                .count() as u64,
            companies: self.company_count(),
            companies_with_users: (0..self.company_count())
                .filter(|k| self.company_user_count(*k) > 0)
                .count() as u64,
            macros: self.macro_count(),
            collections: self.collection_count(),
            articles: self.article_count(),
            tickets: self.ticket_count(),
            ..Totals::default()
        };
        t.article_images = (0..self.article_count())
            .map(|i| self.article_image_count(i))
            .sum();
        t.ticket_parts = (0..self.ticket_count())
            .filter_map(|i| self.ticket(i))
            .map(|x| x.parts.len() as u64)
            .sum();
        for j in 0..self.contact_count() {
            let Some(c) = self.contact(j) else { continue };
            t.contacts += 1;
            match c.role {
                Role::User => t.users += 1,
                Role::Lead => t.leads += 1,
            }
            t.contacts_without_email += u64::from(c.email.is_none());
            t.notes += c.notes;
        }
        for i in 0..self.conversation_count() {
            let plan = self.plan(i);
            t.conversations += 1;
            t.conversation_parts += plan.len() as u64;
            t.attachments += self.source_media(i);
            let mut state = ConvState::Open;
            for pp in &plan {
                let (files, inline) = self.part_media(part_id(i, pp.position), pp.kind);
                t.attachments += files;
                t.inline_images += inline;
                state = crate::conversations::state_after(state, pp.kind);
            }
            match state {
                ConvState::Open => t.conversations_open += 1,
                ConvState::Closed => t.conversations_closed += 1,
                ConvState::Snoozed => t.conversations_snoozed += 1,
            }
        }
        t
    }
}
