//! Knowledge and workflow content: saved replies (macros) with vendor
//! placeholders, nested help-center collections, HTML articles with images,
//! and tickets.

use crate::html;
use crate::ids::{ARTICLE_BASE, COLLECTION_BASE, MACRO_BASE, TICKET_BASE, parse_numeric};
use crate::model::{Article, Author, Collection, Macro, Ticket};
use crate::rng::{Rng, Stream};
use crate::world::{HISTORY_START, T0, View};

const MACROS: &[(&str, &str)] = &[
    (
        "Greeting",
        "<p>Hi {{user.name | fallback: 'there'}}, thanks for reaching out!</p>",
    ),
    (
        "Refund approved",
        "<p>Hello {{user.first_name | fallback: \"friend\"}},</p><p>Your refund for {{company.name}} is on its way.</p>",
    ),
    (
        "Password reset",
        "<p>Reset it here: <a href=\"https://app.example.com/reset?email={{user.email}}\">reset link</a></p>",
    ),
    (
        "Escalated",
        "<p>I've passed conversation #{{conversation.id}} to our engineers. — {{admin.first_name | fallback: 'The team'}}</p>",
    ),
    (
        "Closing",
        "<p>Anything else? 😊 If not, I'll close this. Liquid-looking text: {% if x %} stays literal.</p>",
    ),
    (
        "Données personnelles",
        "<p>Bonjour {{user.name}}, vos données seront supprimées sous 30 jours.</p>",
    ),
];
const COLLECTIONS: &[&str] = &[
    "Getting started",
    "Billing & plans",
    "Integrations",
    "Troubleshooting",
    "Your first week",
    "Inviting your team",
    "Invoices",
    "Taxes / VAT",
    "Slack",
    "API & webhooks",
    "Login problems",
    "Performance",
    "Single sign-on (SSO)",
];
const ARTICLE_TITLES: &[&str] = &[
    "How to reset your password",
    "Understanding your invoice",
    "Connect Slack in 2 minutes",
    "Rate limits explained",
    "Exporting your data",
    "Setting up SSO with Okta",
    "Why was I charged twice?",
    "Keyboard shortcuts ⌨️",
    "Gestion des utilisateurs",
    "API 認証ガイド",
];
const TICKET_STATES: &[&str] = &[
    "submitted",
    "in_progress",
    "waiting_on_customer",
    "resolved",
    "resolved",
];
const CATEGORIES: &[&str] = &["Customer", "Customer", "Back-office", "Tracker"];

impl View<'_> {
    // ---------- macros ----------

    /// Number of saved replies.
    pub fn macro_count(&self) -> u64 {
        24
    }

    /// Saved reply `i` (newest first: `updated_at` falls with the index).
    pub fn macro_(&self, i: u64) -> Option<Macro> {
        if i >= self.macro_count() {
            return None;
        }
        let (name, body) = MACROS[(i as usize) % MACROS.len()];
        let mut r = Rng::new(self.core.seed, Stream::Article, i, 7);
        let updated_at = T0 - 86_400 - (i as i64) * 3 * 86_400;
        Some(Macro {
            index: i,
            id: (MACRO_BASE + i).to_string(),
            name: if (i as usize) < MACROS.len() {
                name.to_string()
            } else {
                format!("{name} ({i})")
            },
            body_template: body.to_string(),
            created_at: updated_at - r.below(400 * 86_400) as i64,
            updated_at,
            team_indexes: if i % 4 == 1 {
                vec![i % self.core.teams]
            } else {
                Vec::new()
            },
        })
    }

    /// Saved reply by id.
    pub fn macro_by_id(&self, id: &str) -> Option<Macro> {
        self.macro_(parse_numeric(id, MACRO_BASE)?)
    }

    // ---------- help center ----------

    /// Number of collections.
    pub fn collection_count(&self) -> u64 {
        COLLECTIONS.len() as u64
    }

    /// Collection `i`: 4 roots, 8 children, 1 grandchild.
    pub fn collection(&self, i: u64) -> Option<Collection> {
        let name = COLLECTIONS.get(i as usize)?;
        let parent = match i {
            0..=3 => None,
            4..=11 => Some((i - 4) / 2),
            _ => Some(4),
        };
        let created_at = HISTORY_START + (i as i64) * 86_400 * 11;
        Some(Collection {
            index: i,
            id: (COLLECTION_BASE + i).to_string(),
            name: (*name).to_string(),
            description: format!("Everything about {}", name.to_lowercase()),
            parent,
            created_at,
            updated_at: T0 - (i as i64) * 86_400,
        })
    }

    /// Collection by id.
    pub fn collection_by_id(&self, id: &str) -> Option<Collection> {
        self.collection(parse_numeric(id, COLLECTION_BASE)?)
    }

    /// Number of articles.
    pub fn article_count(&self) -> u64 {
        48
    }

    pub(crate) fn article_image_count(&self, i: u64) -> u64 {
        Rng::new(self.core.seed, Stream::Article, i, 1).below(4)
    }

    /// Article `i` (`updated_at` falls with the index).
    pub fn article(&self, i: u64) -> Option<Article> {
        if i >= self.article_count() {
            return None;
        }
        let mut r = Rng::new(self.core.seed, Stream::Article, i, 0);
        let base = ARTICLE_TITLES[(i as usize) % ARTICLE_TITLES.len()];
        let title = if (i as usize) < ARTICLE_TITLES.len() {
            base.to_string()
        } else {
            format!("{base} (part {})", i / 10 + 1)
        };
        let image_ids: Vec<u64> = (0..self.article_image_count(i))
            .map(|k| i * 8 + k)
            .collect();
        let body = html::article_body(&mut r, &title, &image_ids);
        let created_at = HISTORY_START + (i as i64) * 86_400 * 17;
        Some(Article {
            index: i,
            id: (ARTICLE_BASE + i).to_string(),
            description: format!("Learn: {}", title.to_lowercase()),
            title,
            body,
            images: image_ids
                .iter()
                .filter_map(|id| self.attachment_meta(*id))
                .collect(),
            author: self.active_agent(&mut r),
            published: i % 7 != 3,
            collection: i % self.collection_count(),
            created_at,
            updated_at: T0 - 3_600 - (i as i64) * 43_200,
        })
    }

    /// Article by id.
    pub fn article_by_id(&self, id: &str) -> Option<Article> {
        self.article(parse_numeric(id, ARTICLE_BASE)?)
    }

    // ---------- tickets ----------

    /// Ticket `i`.
    pub fn ticket(&self, i: u64) -> Option<Ticket> {
        if i >= self.core.tickets0 {
            return None;
        }
        let seed = self.core.seed;
        let mut r = Rng::new(seed, Stream::Ticket, i, 0);
        let contact = r.below(self.core.contacts0);
        let span = (T0 - 86_400 - HISTORY_START) as u64;
        let created_at = HISTORY_START + (i * (span / self.core.tickets0)) as i64;
        let nparts = r.range(1, 6);
        let parts: Vec<(Author, i64, String)> = (0..nparts)
            .map(|p| {
                let mut pr = Rng::new(seed, Stream::Ticket, i, p + 1);
                let author = if p % 2 == 0 {
                    Author::Contact(contact)
                } else {
                    Author::Agent(self.any_agent(&mut pr))
                };
                (
                    author,
                    created_at + (p as i64 + 1) * 1_800,
                    html::body(&mut pr, &[]),
                )
            })
            .collect();
        let updated_at = parts.last().map_or(created_at, |p| p.1);
        Some(Ticket {
            index: i,
            id: (TICKET_BASE + i).to_string(),
            ticket_number: 1 + i,
            title: format!(
                "Ticket {}: {}",
                i + 1,
                ARTICLE_TITLES[(i as usize) % ARTICLE_TITLES.len()]
            ),
            description: "<p>Customer reports a problem. See conversation.</p>".to_string(),
            category: r.pick_str(CATEGORIES),
            state: r.pick_str(TICKET_STATES),
            contact,
            agent_assignee: r.chance(700_000).then(|| self.any_agent(&mut r)),
            created_at,
            updated_at,
            parts,
        })
    }

    /// Ticket by id.
    pub fn ticket_by_id(&self, id: &str) -> Option<Ticket> {
        self.ticket(parse_numeric(id, TICKET_BASE)?)
    }
}
