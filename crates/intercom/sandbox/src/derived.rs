//! What an Intercom workspace has that the vendor-neutral world does not model: segments, ticket
//! types and states, teammates' activity logs, the help center, conversation attributes and
//! merged-away contacts. Each is derived here from the world's seed, never drawn from the world's
//! own random streams, so a seed's world stays byte for byte what it was
//! (`../shared/research/intercom-api.md` §2, §6; issue R2.1 item 10).

use deskmove_synth::{Company, Contact, HISTORY_START, Role, T0, View};

/// A number derived from the seed, a label and an index (same inputs, same number).
fn derive(seed: u64, label: &str, i: u64) -> u64 {
    let h = blake3::hash(format!("intercom-derived:{label}:{seed}:{i}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_le_bytes(b)
}

/// A 24-hex id (Intercom's shape for segments and contacts) derived from the seed.
fn hex_id(seed: u64, label: &str, i: u64) -> String {
    format!(
        "{:016x}{:08x}",
        derive(seed, label, i),
        derive(seed, label, i + (1 << 32)) as u32
    )
}

/// Who belongs to a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SegmentRule {
    /// Every user.
    Users,
    /// Every lead.
    Leads,
    /// Contacts seen in the 30 days before the world's now.
    SeenRecently,
    /// Contacts carrying the world's first tag.
    FirstTag,
    /// Companies on the Enterprise plan.
    EnterpriseCompanies,
    /// Companies spending 10,000 or more a month.
    HighSpendCompanies,
}

/// (name, person_type, rule). Intercom's segment `person_type` is `user` or `contact` (a lead).
const SEGMENTS: &[(&str, &str, SegmentRule)] = &[
    ("All users", "user", SegmentRule::Users),
    ("All leads", "contact", SegmentRule::Leads),
    (
        "Active in the last 30 days",
        "user",
        SegmentRule::SeenRecently,
    ),
    ("VIP", "user", SegmentRule::FirstTag),
    (
        "Enterprise companies",
        "user",
        SegmentRule::EnterpriseCompanies,
    ),
    ("High spend", "user", SegmentRule::HighSpendCompanies),
];

/// One segment of the workspace.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub(crate) id: String,
    pub(crate) name: &'static str,
    pub(crate) person_type: &'static str,
    pub(crate) rule: SegmentRule,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

impl SegmentRule {
    /// Whether the rule selects companies rather than contacts.
    pub(crate) fn is_company_rule(self) -> bool {
        matches!(
            self,
            SegmentRule::EnterpriseCompanies | SegmentRule::HighSpendCompanies
        )
    }

    /// Whether contact `c` is in the segment at world time `now`.
    pub(crate) fn has_contact(self, c: &Contact, now: i64) -> bool {
        match self {
            SegmentRule::Users => c.role == Role::User,
            SegmentRule::Leads => c.role == Role::Lead,
            SegmentRule::SeenRecently => c.last_seen_at.is_some_and(|t| t >= now - 30 * 86_400),
            SegmentRule::FirstTag => c.tags.contains(&0),
            SegmentRule::EnterpriseCompanies | SegmentRule::HighSpendCompanies => false,
        }
    }

    /// Whether company `c` is in the segment.
    pub(crate) fn has_company(self, c: &Company) -> bool {
        match self {
            SegmentRule::EnterpriseCompanies => c.plan == "Enterprise",
            SegmentRule::HighSpendCompanies => c.monthly_spend >= 10_000,
            _ => false,
        }
    }
}

/// Every segment, in a fixed order.
pub(crate) fn segments(seed: u64) -> Vec<Segment> {
    SEGMENTS
        .iter()
        .enumerate()
        .map(|(i, (name, person_type, rule))| {
            let created_at =
                HISTORY_START + (derive(seed, "segment-at", i as u64) % (86_400 * 900)) as i64;
            Segment {
                id: hex_id(seed, "segment", i as u64),
                name,
                person_type,
                rule: *rule,
                created_at,
                updated_at: created_at
                    + (derive(seed, "segment-up", i as u64) % (86_400 * 300)) as i64,
            }
        })
        .collect()
}

/// Members of a segment at `view`'s epoch: contacts for contact rules, companies otherwise.
/// O(records): only answered when `include_count=true` asks for it.
pub(crate) fn segment_count(view: View<'_>, rule: SegmentRule) -> u64 {
    if rule.is_company_rule() {
        (0..view.company_count())
            .filter_map(|k| view.company(k))
            .filter(|c| rule.has_company(c))
            .count() as u64
    } else {
        let now = view.now();
        (0..view.contact_count())
            .filter_map(|j| view.contact(j))
            .filter(|c| rule.has_contact(c, now))
            .count() as u64
    }
}

/// A ticket type per world ticket category: (category, name, description, icon).
const TICKET_TYPES: &[(&str, &str, &str, &str)] = &[
    ("Customer", "Bug report", "Something is broken", "🐞"),
    (
        "Back-office",
        "Refund request",
        "Money back for an order",
        "💸",
    ),
    (
        "Tracker",
        "Incident",
        "An outage many customers report",
        "🚨",
    ),
];

/// A ticket type of the workspace.
#[derive(Debug, Clone)]
pub(crate) struct TicketType {
    pub(crate) id: String,
    pub(crate) category: &'static str,
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) icon: &'static str,
    pub(crate) created_at: i64,
}

/// Every ticket type, in a fixed order.
pub(crate) fn ticket_types(seed: u64) -> Vec<TicketType> {
    let base = 10 + derive(seed, "ticket-type", 0) % 900;
    TICKET_TYPES
        .iter()
        .enumerate()
        .map(|(i, (category, name, description, icon))| TicketType {
            id: (base + i as u64).to_string(),
            category,
            name,
            description,
            icon,
            created_at: HISTORY_START + i as i64 * 86_400,
        })
        .collect()
}

/// The ticket type of a world ticket category (the first type when the category is unknown).
pub(crate) fn ticket_type_for(seed: u64, category: &str) -> Option<TicketType> {
    let all = ticket_types(seed);
    let at = all.iter().position(|t| t.category == category).unwrap_or(0);
    all.into_iter().nth(at)
}

/// Ticket states: (category, internal label, external label), Intercom's four categories.
const TICKET_STATES: &[(&str, &str, &str)] = &[
    ("submitted", "Submitted", "Submitted"),
    ("in_progress", "In progress", "In progress"),
    (
        "waiting_on_customer",
        "Waiting on customer",
        "Waiting on you",
    ),
    ("resolved", "Resolved", "Resolved"),
];

/// A ticket state of the workspace.
#[derive(Debug, Clone)]
pub(crate) struct TicketState {
    pub(crate) id: String,
    pub(crate) category: &'static str,
    pub(crate) internal_label: &'static str,
    pub(crate) external_label: &'static str,
}

/// Every ticket state, in a fixed order.
pub(crate) fn ticket_states(seed: u64) -> Vec<TicketState> {
    let base = 8_000 + derive(seed, "ticket-state", 0) % 1_000;
    TICKET_STATES
        .iter()
        .enumerate()
        .map(|(i, (category, internal, external))| TicketState {
            id: (base + i as u64).to_string(),
            category,
            internal_label: internal,
            external_label: external,
        })
        .collect()
}

/// The ticket state of a world ticket state word.
pub(crate) fn ticket_state_for(seed: u64, category: &str) -> Option<TicketState> {
    ticket_states(seed)
        .into_iter()
        .find(|s| s.category == category)
}

/// One entry of the teammates' activity log.
#[derive(Debug, Clone)]
pub(crate) struct ActivityLog {
    pub(crate) id: String,
    /// The agent who acted.
    pub(crate) agent: u64,
    pub(crate) created_at: i64,
    pub(crate) activity_type: &'static str,
    pub(crate) description: String,
    pub(crate) away: bool,
}

/// Every activity-log entry up to `view`'s now, newest first: each teammate's invitation (by the
/// first agent), a few sign-ins, turning away mode on when they are away, and the deletion of a
/// departed teammate. O(agents).
pub(crate) fn activity_logs(view: View<'_>) -> Vec<ActivityLog> {
    let seed = view.seed();
    let now = view.now();
    let span = (T0 - HISTORY_START) as u64;
    let mut out = Vec::new();
    for a in (0..view.agent_count()).filter_map(|i| view.agent(i)) {
        let joined = HISTORY_START + (derive(seed, "joined", a.index) % (span / 2)) as i64;
        let mut push = |n: u64, at: i64, activity_type, description: String, by: u64| {
            out.push(ActivityLog {
                id: uuid_like(seed, a.index * 16 + n),
                agent: by,
                created_at: at,
                activity_type,
                description,
                away: a.away,
            });
        };
        if a.index > 0 {
            push(
                0,
                joined,
                "admin_invite_creation",
                format!("Invited {} to the workspace.", a.email),
                0,
            );
        }
        for k in 0..3 {
            let at = joined + 86_400 + (derive(seed, "login", a.index * 4 + k) % (span / 2)) as i64;
            push(
                1 + k,
                at,
                "admin_login_success",
                format!("{} signed in.", a.name),
                a.index,
            );
        }
        if a.away {
            push(
                4,
                T0 - 7 * 86_400,
                "admin_away_mode_change",
                format!("{} turned away mode on.", a.name),
                a.index,
            );
        }
        if a.departed {
            push(
                5,
                T0 - 30 * 86_400,
                "admin_deletion",
                format!("Removed {} from the workspace.", a.name),
                0,
            );
        }
    }
    out.retain(|l| l.created_at <= now);
    out.sort_by(|x, y| {
        y.created_at
            .cmp(&x.created_at)
            .then_with(|| x.id.cmp(&y.id))
    });
    out
}

/// A uuid-shaped id derived from the seed.
fn uuid_like(seed: u64, n: u64) -> String {
    let h = hex_id(seed, "activity", n);
    let t = format!(
        "{:012x}",
        derive(seed, "activity-tail", n) & 0xffff_ffff_ffff
    );
    format!(
        "{}-{}-4{}-a{}-{t}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20]
    )
}

/// A conversation attribute definition: (id, name, data type, options, archived). Conversations
/// in the world carry no values for them (their `custom_attributes` are empty), as in a
/// workspace that defined attributes and never filled them in.
pub(crate) const CONVERSATION_ATTRIBUTES: &[(u64, &str, &str, &[&str], bool)] = &[
    (1, "Brand", "list", &["Acme", "Globex", "Initech"], false),
    (2, "Order number", "string", &[], false),
    (3, "Escalated", "boolean", &[], false),
    (4, "Legacy queue", "string", &[], true),
];

/// When conversation attribute `id` was created.
pub(crate) fn conversation_attribute_created_at(seed: u64, id: u64) -> i64 {
    HISTORY_START + (derive(seed, "conversation-attribute", id) % (86_400 * 1_000)) as i64
}

/// A contact merged away into a world contact: its old id answers 410 Gone with a `Link` to the
/// canonical contact (2.16, spec L8322ff); lists and search never show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedContact {
    /// The merged-away (old) contact id.
    pub id: String,
    /// The id of the contact it was merged into.
    pub canonical_id: String,
    /// When the merge happened (UNIX s).
    pub merged_at: i64,
}

/// Merged-away contacts: one per hundred initial contacts, at least one, at most twenty; each
/// merged into a user (a lead merged into a user is Intercom's usual merge).
pub(crate) fn merged_contacts(view: View<'_>, initial_contacts: u64) -> Vec<MergedContact> {
    let seed = view.seed();
    let n = (initial_contacts / 100).clamp(1, 20);
    (0..n)
        .filter_map(|m| {
            // Indexes ≡ 0, 1, 2 (mod 4) are always users (synth people.rs).
            let j = 4 * (derive(seed, "merged-into", m) % (initial_contacts / 4).max(1)) + m % 3;
            let canonical = view.contact(j)?;
            let merged_at = canonical.created_at
                + (derive(seed, "merged-at", m) % (T0 - canonical.created_at).max(1) as u64) as i64;
            Some(MergedContact {
                id: hex_id(seed, "merged", m),
                canonical_id: canonical.id,
                merged_at,
            })
        })
        .collect()
}
