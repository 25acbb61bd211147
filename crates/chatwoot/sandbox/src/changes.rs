//! Changes to a conversation and what Chatwoot does with each: the activity message, the status
//! webhook, auto-assignment on (re)opening (`../shared/research/chatwoot.md §2.3, §2.5`).

use jiff::Timestamp;
use serde_json::json;

use crate::auth::Caller;
use crate::render;
use crate::state::Database;

impl Database {
    /// Changes status with its side effects; `activity` overrides the default activity text.
    pub fn set_status(
        &mut self,
        conv_pk: u64,
        status: &str,
        snoozed_until: Option<Timestamp>,
        activity: Option<String>,
        caller: &Caller,
    ) {
        let now = self.now();
        let Some(c) = self.conversations.get_mut(&conv_pk) else {
            return;
        };
        if c.status == status {
            return;
        }
        c.status = status.to_owned();
        c.updated_at = now;
        // before_save ensure_snooze_until_reset; handle_resolved_status_change.
        c.snoozed_until = if status == "snoozed" {
            snoozed_until
        } else {
            None
        };
        if status == "resolved" {
            c.waiting_since = None;
        }
        let inbox_id = c.inbox_id;
        let text = activity.unwrap_or_else(|| {
            let who = &caller.name;
            match status {
                "resolved" => format!("Conversation was marked resolved by {who}"),
                "open" => format!("Conversation was reopened by {who}"),
                "pending" => format!("Conversation was marked as pending by {who}"),
                _ => format!("Conversation was snoozed by {who}"),
            }
        });
        self.activity(conv_pk, text);
        if let Some(c) = self
            .conversations
            .get(&conv_pk)
            .filter(|_| self.has_webhook(inbox_id))
        {
            let payload = json!({"event": "conversation_status_changed", "conversation": render::conversation(self, c)});
            self.record_webhook(inbox_id, "conversation_status_changed", payload, now);
        }
        if status == "open" {
            self.auto_assign(conv_pk, caller);
        }
    }

    /// Sets the assignee and writes the assignment activity message.
    pub fn set_assignee(&mut self, conv_pk: u64, assignee: Option<u64>, caller: &Caller) {
        let Some(c) = self.conversations.get_mut(&conv_pk) else {
            return;
        };
        if c.assignee_id == assignee {
            return;
        }
        c.assignee_id = assignee;
        let who = caller.name.clone();
        let text = match assignee.and_then(|id| self.users.get(&id)) {
            Some(_) if assignee == caller.user_id => {
                format!("{who} self-assigned this conversation")
            }
            Some(u) => format!("Assigned to {} by {who}", u.name),
            None => format!("Conversation unassigned by {who}"),
        };
        self.activity(conv_pk, text);
    }

    /// `AutoAssignmentHandler`: an open, unassigned conversation in an inbox with
    /// `enable_auto_assignment` (default true) gets the next *online* inbox member, round-robin
    /// (`AutoAssignment::AgentAssignmentService#allowed_online_agent_ids`).
    pub fn auto_assign(&mut self, conv_pk: u64, caller: &Caller) {
        let Some(c) = self.conversations.get(&conv_pk) else {
            return;
        };
        if c.status != "open" || c.assignee_id.is_some() {
            return;
        }
        let Some(inbox) = self.inboxes.get(&c.inbox_id) else {
            return;
        };
        if !inbox.enable_auto_assignment {
            return;
        }
        let account_id = c.account_id;
        let mut members: Vec<u64> = inbox
            .member_ids
            .iter()
            .copied()
            .filter(|u| self.availability_status(account_id, *u) == "online")
            .collect();
        if members.is_empty() {
            return;
        }
        members.sort_unstable();
        let cursor = self.round_robin.entry(inbox.id).or_insert(0);
        let pick = members[(*cursor as usize) % members.len()];
        *cursor += 1;
        self.set_assignee(conv_pk, Some(pick), caller);
    }

    /// Replaces a conversation's labels; "<user> added/removed <labels>" activity messages.
    pub fn set_conversation_labels(&mut self, conv_pk: u64, labels: Vec<String>, caller: &Caller) {
        let now = self.now();
        let Some(c) = self.conversations.get_mut(&conv_pk) else {
            return;
        };
        let added: Vec<String> = labels
            .iter()
            .filter(|l| !c.labels.contains(l))
            .cloned()
            .collect();
        let removed: Vec<String> = c
            .labels
            .iter()
            .filter(|l| !labels.contains(l))
            .cloned()
            .collect();
        c.labels = labels;
        c.updated_at = now;
        let who = caller.name.clone();
        if !added.is_empty() {
            self.activity(conv_pk, format!("{who} added {}", added.join(", ")));
        }
        if !removed.is_empty() {
            self.activity(conv_pk, format!("{who} removed {}", removed.join(", ")));
        }
    }
}
