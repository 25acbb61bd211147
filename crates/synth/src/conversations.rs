//! Conversations and their parts: long-tailed lengths (median ≈ 6, p99 ≈ 80,
//! a few over 500), every part kind, attachments on ≈ 8 % of parts, and churn
//! from the clock (new conversations, new parts on old ones, state changes).
//!
//! A conversation's *plan* (kinds and times of its parts) is cheap to compute;
//! bodies are only rendered when the full conversation is asked for.

use crate::html;
use crate::ids::{
    CONVERSATION_BASE, INLINE_SLOT, PART_BLOCK, SLOTS, SOURCE_POSITION, parse_numeric,
};
use crate::model::{Author, ConvState, Conversation, ConversationShape, Part, PartKind};
use crate::rng::{Rng, Stream};
use crate::world::{HISTORY_START, T0, TICK_SECS, View};

/// Chance per tick that an existing conversation gets new parts (per million).
const TOUCH_PER_MILLION: u64 = 30_000;
/// The longest span of a base conversation's parts.
const MAX_SPAN: i64 = 14 * 86_400;

const CHANNELS: &[&str] = &[
    "conversation",
    "conversation",
    "email",
    "email",
    "phone_call",
    "whatsapp",
    "sms",
    "facebook",
    "instagram",
    "twitter",
];
const PRIORITIES: &[&str] = &["none", "none", "none", "low", "medium", "high", "urgent"];
const SUBJECTS: &[&str] = &[
    "Refund request",
    "Re: Invoice #4411",
    "Can't log in",
    "Fwd: urgent – données",
    "帳票の件",
    "Question about API limits",
];

/// One part's kind and time, without body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartPlan {
    pub(crate) position: u64,
    pub(crate) kind: PartKind,
    pub(crate) created_at: i64,
}

impl View<'_> {
    /// Parts of a conversation in the initial history (before any churn).
    pub(crate) fn base_part_count(&self, i: u64) -> u64 {
        let mut r = Rng::new(self.core.seed, Stream::Conversation, i, 0);
        if self.conversation_birth_tick(i) > 0 {
            return r.range(1, 5);
        }
        // A fixed sprinkle of giants so every world of 1,000+ has a few over 500 parts.
        if i % 1000 == 7 || i % 1000 == 503 {
            return r.range(501, 1_200);
        }
        // Piecewise long tail (per million): median 6, p99 80.
        let u = r.below(1_000_000);
        let (lo, hi) = match u {
            0..=199_999 => (0, 3),
            200_000..=519_999 => (4, 6),
            520_000..=739_999 => (7, 12),
            740_000..=879_999 => (13, 25),
            880_000..=959_999 => (26, 50),
            960_000..=993_999 => (51, 80),
            994_000..=998_499 => (81, 200),
            _ => (201, 450),
        };
        r.range(lo, hi)
    }

    fn base_state(&self, i: u64, parts: u64) -> ConvState {
        if parts == 0 || self.conversation_birth_tick(i) > 0 {
            return ConvState::Open;
        }
        match Rng::new(self.core.seed, Stream::Conversation, i, 1).below(100) {
            0..=64 => ConvState::Closed,
            65..=89 => ConvState::Open,
            _ => ConvState::Snoozed,
        }
    }

    /// Creation time and spacing of a conversation's base parts.
    fn conversation_times(&self, i: u64, parts: u64) -> (i64, i64) {
        let mut r = Rng::new(self.core.seed, Stream::Conversation, i, 2);
        let birth = self.conversation_birth_tick(i);
        if birth == 0 {
            let span = T0 - 30 * 86_400 - HISTORY_START;
            let slot = (span / self.core.conversations0.max(1) as i64).max(1);
            let created = HISTORY_START
                + (i as i64) * span / self.core.conversations0.max(1) as i64
                + r.below(slot as u64) as i64;
            let step = (MAX_SPAN / (parts as i64 + 1)).clamp(60, 86_400);
            (created, step)
        } else {
            let k = self.core.new_conversations_per_tick;
            let per = (TICK_SECS - 900) / k as i64;
            let slot = (i - self.core.conversations0) % k;
            (Self::tick_start(birth) + slot as i64 * per, 60)
        }
    }

    /// Ticks (≤ epoch) at which conversation `i` received new parts, with how many.
    pub(crate) fn touches(&self, i: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        let birth = self.conversation_birth_tick(i);
        let seed = self.core.seed;
        (birth + 1..=self.epoch).filter_map(move |t| {
            let mut r = Rng::new(seed, Stream::Touch, i, t);
            if r.chance(TOUCH_PER_MILLION) {
                Some((t, r.range(1, 3)))
            } else {
                None
            }
        })
    }

    /// The plan of conversation `i` at this epoch: kinds and times of every part.
    pub(crate) fn plan(&self, i: u64) -> Vec<PartPlan> {
        let seed = self.core.seed;
        let parts = self.base_part_count(i);
        let (created, step) = self.conversation_times(i, parts);
        let final_state = self.base_state(i, parts);
        let mut out = Vec::with_capacity(parts as usize + 2);
        for p in 0..parts {
            let mut r = Rng::new(seed, Stream::PartKind, i, p);
            let jitter = r.below((step / 2).max(1) as u64) as i64;
            let kind = if p + 1 == parts {
                match final_state {
                    ConvState::Closed => PartKind::Close,
                    ConvState::Snoozed => PartKind::Snoozed,
                    ConvState::Open => PartKind::ContactReply,
                }
            } else if p == 0 && parts >= 3 && r.chance(400_000) {
                PartKind::Assignment
            } else {
                weighted_kind(r.below(100))
            };
            out.push(PartPlan {
                position: p,
                kind,
                created_at: created + (p as i64 + 1) * step + jitter,
            });
        }
        for (t, n) in self.touches(i) {
            let mut r = Rng::new(seed, Stream::Touch, i, t ^ (1 << 40));
            let close = r.chance(400_000);
            for k in 0..n {
                let kind = match k {
                    0 => PartKind::ContactReply,
                    _ if k + 1 == n && close => PartKind::Close,
                    _ => PartKind::AgentReply,
                };
                let position = out.len() as u64;
                let at = Self::tick_start(t) + 300 + k as i64 * 400 + r.below(300) as i64;
                out.push(PartPlan {
                    position,
                    kind,
                    created_at: at,
                });
            }
        }
        out
    }

    /// Header facts of conversation `i` without rendering bodies.
    pub fn conversation_shape(&self, i: u64) -> Option<ConversationShape> {
        if i >= self.conversation_count() {
            return None;
        }
        let plan = self.plan(i);
        let (created, _) = self.conversation_times(i, self.base_part_count(i));
        Some(ConversationShape {
            index: i,
            parts: plan.len() as u64,
            created_at: created,
            updated_at: plan.last().map_or(created, |p| p.created_at),
            state: plan
                .iter()
                .fold(ConvState::Open, |s, p| state_after(s, p.kind)),
        })
    }

    /// Files and inline images on a part: `(files, inline images)`.
    pub(crate) fn part_media(&self, part_id: u64, kind: PartKind) -> (u64, u64) {
        if !kind.is_message() {
            return (0, 0);
        }
        let mut r = Rng::new(self.core.seed, Stream::PartAttach, part_id, 0);
        let files = if r.chance(93_000) {
            if r.chance(20_000) {
                r.range(16, 20)
            } else {
                r.range(1, 3)
            }
        } else {
            0
        };
        let inline = u64::from(
            matches!(kind, PartKind::ContactReply | PartKind::AgentReply) && r.chance(30_000),
        );
        (files, inline)
    }

    /// Files on a conversation's first message.
    pub(crate) fn source_media(&self, i: u64) -> u64 {
        let mut r = Rng::new(
            self.core.seed,
            Stream::PartAttach,
            part_id(i, SOURCE_POSITION),
            0,
        );
        if r.chance(50_000) { r.range(1, 2) } else { 0 }
    }

    /// Conversation `i` with its full history at this epoch.
    pub fn conversation(&self, i: u64) -> Option<Conversation> {
        if i >= self.conversation_count() {
            return None;
        }
        let seed = self.core.seed;
        let plan = self.plan(i);
        let mut r = Rng::new(seed, Stream::Conversation, i, 3);
        let contact = if self.conversation_birth_tick(i) == 0 {
            r.below(self.core.contacts0)
        } else {
            r.below(self.contacts_at(self.conversation_birth_tick(i) - 1))
        };
        let (created_at, _) = self.conversation_times(i, self.base_part_count(i));
        let mut state = ConvState::Open;
        let mut agent_assignee = None;
        let mut team_assignee = None;
        let mut parts = Vec::with_capacity(plan.len());
        for pp in &plan {
            let pid = part_id(i, pp.position);
            let mut pr = Rng::new(seed, Stream::PartKind, i, pp.position | (1 << 40));
            let author = match pp.kind {
                PartKind::ContactReply => Author::Contact(contact),
                PartKind::AutomatedReply => Author::Automation(0),
                PartKind::BotReply => Author::Bot(0),
                PartKind::Assignment if pr.chance(300_000) => Author::Automation(0),
                _ if pp.created_at > T0 => Author::Agent(self.active_agent(&mut pr)),
                _ => Author::Agent(self.any_agent(&mut pr)),
            };
            let assigned_to = (pp.kind == PartKind::Assignment).then(|| {
                if pr.chance(300_000) {
                    Author::Team(pr.below(self.core.teams))
                } else {
                    Author::Agent(self.any_agent(&mut pr))
                }
            });
            match assigned_to {
                Some(Author::Team(t)) => team_assignee = Some(t),
                Some(Author::Agent(a)) => agent_assignee = Some(a),
                _ => {}
            }
            state = state_after(state, pp.kind);
            let (files, inline) = self.part_media(pid, pp.kind);
            let inline_ids: Vec<u64> = (0..inline).map(|k| pid * SLOTS + INLINE_SLOT + k).collect();
            let body = pp.kind.is_message().then(|| {
                let mut br = Rng::new(seed, Stream::PartBody, pid, 0);
                html::body(&mut br, &inline_ids)
            });
            let body = body.or_else(|| event_body(pp.kind));
            parts.push(Part {
                id: pid,
                position: pp.position as u32,
                kind: pp.kind,
                author,
                created_at: pp.created_at,
                body,
                attachments: (0..files)
                    .filter_map(|k| self.attachment_meta(pid * SLOTS + k))
                    .collect(),
                state,
                assigned_to,
            });
        }
        if agent_assignee.is_none() && r.chance(600_000) {
            agent_assignee = Some(self.any_agent(&mut r));
        }
        let source_id = part_id(i, SOURCE_POSITION);
        let mut sr = Rng::new(seed, Stream::PartBody, source_id, 0);
        let ntags = r.below(4);
        let mut tags: Vec<u64> = (0..ntags).map(|_| r.below(self.tag_count())).collect();
        tags.sort_unstable();
        tags.dedup();
        let updated_at = parts.last().map_or(created_at, |p| p.created_at);
        Some(Conversation {
            index: i,
            id: (CONVERSATION_BASE + i).to_string(),
            title: r
                .chance(400_000)
                .then(|| (r.pick_str(SUBJECTS)).to_string()),
            contact,
            channel: r.pick_str(CHANNELS),
            source_body: html::body(&mut sr, &[]),
            source_attachments: (0..self.source_media(i))
                .filter_map(|k| self.attachment_meta(source_id * SLOTS + k))
                .collect(),
            created_at,
            updated_at,
            state,
            snoozed_until: (state == ConvState::Snoozed).then_some(updated_at + 2 * 86_400),
            read: r.chance(700_000),
            priority: r.pick_str(PRIORITIES),
            agent_assignee,
            team_assignee,
            tags,
            parts,
        })
    }

    /// Conversation by vendor id.
    pub fn conversation_by_id(&self, id: &str) -> Option<Conversation> {
        self.conversation(self.conversation_index(id)?)
    }

    /// Index of a conversation id (existing or not).
    pub fn conversation_index(&self, id: &str) -> Option<u64> {
        parse_numeric(id, CONVERSATION_BASE)
    }
}

/// Globally unique part id.
pub(crate) fn part_id(conversation: u64, position: u64) -> u64 {
    (conversation + 1) * PART_BLOCK + position
}

fn weighted_kind(u: u64) -> PartKind {
    match u {
        0..=33 => PartKind::ContactReply,
        34..=63 => PartKind::AgentReply,
        64..=71 => PartKind::Note,
        72..=73 => PartKind::QuickReply,
        74..=78 => PartKind::Assignment,
        79..=81 => PartKind::Open,
        82..=84 => PartKind::Close,
        85..=86 => PartKind::Snoozed,
        87 => PartKind::Unsnoozed,
        88..=91 => PartKind::AutomatedReply,
        92..=95 => PartKind::BotReply,
        96..=97 => PartKind::AttributeUpdated,
        98 => PartKind::ParticipantAdded,
        _ => PartKind::Future,
    }
}

pub(crate) fn state_after(s: ConvState, kind: PartKind) -> ConvState {
    match kind {
        PartKind::Close => ConvState::Closed,
        PartKind::Snoozed => ConvState::Snoozed,
        PartKind::Open | PartKind::Unsnoozed | PartKind::ContactReply => ConvState::Open,
        _ => s,
    }
}

fn event_body(kind: PartKind) -> Option<String> {
    match kind {
        PartKind::AttributeUpdated => Some("<p>Priority changed to <b>high</b></p>".to_string()),
        PartKind::Future => Some("<p>Sentiment analysed: 😊 positive</p>".to_string()),
        _ => None,
    }
}
