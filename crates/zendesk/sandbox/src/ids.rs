//! Zendesk's integer ids for the world's records. Every id decodes back to the world index in
//! O(1), so "show by id" needs no table. Zendesk ids are 64-bit integers (research §1.1);
//! ticket ids are small and sequential, as in a real account.

/// Users: agents, the automation user, then end users (contacts).
pub(crate) const AGENT_BASE: u64 = 9_000_000_000;
/// The one light-agent user that authors the world's automated and bot replies.
pub(crate) const AUTOMATION_USER: u64 = AGENT_BASE + 999;
/// End users (the world's contacts).
pub(crate) const END_USER_BASE: u64 = 10_000_000_000;
/// Organizations (the world's companies).
pub(crate) const ORG_BASE: u64 = 5_000_000_000;
/// Groups (the world's teams, then the sandbox's deleted groups).
pub(crate) const GROUP_BASE: u64 = 6_000_000_000;
/// Identities: `user id * 4 + k`.
pub(crate) const IDENTITY_MULT: u64 = 4;
/// Organization memberships: end-user id plus this.
pub(crate) const ORG_MEMBERSHIP_BASE: u64 = 20_000_000_000;
/// Group memberships: `base + agent * 64 + group`.
pub(crate) const GROUP_MEMBERSHIP_BASE: u64 = 7_000_000_000;
/// Ticket fields (system, then custom), user fields and organization fields.
pub(crate) const TICKET_FIELD_BASE: u64 = 360_000_000;
/// User and organization fields (the world's attribute definitions, by their ids).
pub(crate) const USER_FIELD_BASE: u64 = 370_000_000;
/// Ticket forms.
pub(crate) const TICKET_FORM_BASE: u64 = 380_000_000;
/// Brands.
pub(crate) const BRAND_BASE: u64 = 390_000_000;
/// Satisfaction ratings: ticket index plus this.
pub(crate) const RATING_BASE: u64 = 700_000_000;
/// Attachments the sandbox adds (`redacted.txt` placeholders): comment id plus this.
pub(crate) const REDACTED_ATTACHMENT_BASE: u64 = 1 << 50;
/// Help Center sections the sandbox adds ("General" of each category).
pub(crate) const GENERAL_SECTION_BASE: u64 = 210_000;
/// Article translations: article id * 8 + locale index.
pub(crate) const TRANSLATION_MULT: u64 = 8;

/// Ticket id of world conversation `i`.
pub(crate) fn ticket_id(i: u64) -> u64 {
    i + 1
}

/// World conversation index of ticket `id`.
pub(crate) fn ticket_index(id: u64) -> Option<u64> {
    id.checked_sub(1)
}

/// User id of agent `a`.
pub(crate) fn agent_user(a: u64) -> u64 {
    AGENT_BASE + a
}

/// User id of contact `j`.
pub(crate) fn end_user(j: u64) -> u64 {
    END_USER_BASE + j
}

/// Organization id of company `k`.
pub(crate) fn org_id(k: u64) -> u64 {
    ORG_BASE + k
}

/// Group id of team (or sandbox group) `t`.
pub(crate) fn group_id(t: u64) -> u64 {
    GROUP_BASE + t
}

/// What a user id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserRef {
    Agent(u64),
    Automation,
    EndUser(u64),
}

/// Decodes a user id.
pub(crate) fn user_ref(id: u64) -> Option<UserRef> {
    if id == AUTOMATION_USER {
        Some(UserRef::Automation)
    } else if id >= END_USER_BASE {
        Some(UserRef::EndUser(id - END_USER_BASE))
    } else if (AGENT_BASE..AGENT_BASE + 999).contains(&id) {
        Some(UserRef::Agent(id - AGENT_BASE))
    } else {
        None
    }
}
