//! The notification log: every customer-visible delivery the real Intercom would make for a
//! write, so a migration can be shown to have notified nobody.
//!
//! What the research and spec say (`../shared/research/intercom-api.md` §7; 2.16 spec L11817,
//! L22957, L20294, L20654):
//! - an admin reply of type `comment` or `quick_reply` is sent to the customer — on an email
//!   conversation by email, in-app through the Messenger — unless `skip_notifications` is true
//!   (a 2.16 field of `admin_reply_conversation_request`; older versions do not know it, so it
//!   does not stop the delivery there);
//! - an admin `note` is internal and never delivered;
//! - an outbound message (`POST /messages`) is a delivery by definition and has no switch;
//! - creating a ticket for a contact, and an admin comment on a ticket, notify the contact
//!   unless `skip_notifications` is true.
//!
//! Where the research is silent the stricter reading is taken, and said so here:
//! - an in-app comment counts as much as an email one (the Messenger shows it and Intercom may
//!   follow up by email when it goes unread);
//! - a reply whose `created_at` lies in the past is still delivered (nothing documents that a
//!   back-dated reply is held back; research §11 lists the handling of `created_at` as open);
//! - the optional `body` of a close or assignment part is "a message in the conversation to
//!   provide additional context to the user" (spec), so a non-empty one is a delivery, and
//!   state parts have no `skip_notifications`.

use serde::Serialize;

/// One delivery the real Intercom would have made.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Notification {
    /// Sandbox clock (UNIX s) when it would have gone out.
    pub(crate) at: i64,
    /// `conversation_reply`, `conversation_part`, `outbound_message`, `ticket_created` or
    /// `ticket_reply`.
    pub(crate) kind: &'static str,
    /// `email` or `in_app`.
    pub(crate) channel: String,
    /// The contact who would have received it.
    pub(crate) contact_id: String,
    /// The conversation or ticket it belongs to.
    pub(crate) object_id: String,
    /// The part or message delivered.
    pub(crate) part_id: String,
    /// The admin it came from.
    pub(crate) admin_id: String,
}

/// The delivery channel of a conversation's channel (`source.type`).
pub(crate) fn channel_of(conversation_channel: &str) -> String {
    if conversation_channel == "email" {
        "email".into()
    } else {
        "in_app".into()
    }
}

/// Whether an admin reply of `message_type` reaches the customer, given the request's
/// `skip_notifications` (already `None` where the version has no such field).
pub(crate) fn admin_reply_delivers(message_type: &str, skip_notifications: Option<bool>) -> bool {
    message_type != "note" && skip_notifications != Some(true)
}
