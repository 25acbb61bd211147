//! Changes to a conversation and what Chatwoot does with each: the activity message, the events
//! (`conversation.rb` `execute_after_update_commit_callbacks`), auto-assignment on (re)opening
//! (`app/models/concerns/auto_assignment_handler.rb`) and the team rules of
//! `app/models/concerns/assignment_handler.rb` (`../shared/research/chatwoot.md §2.3, §2.5`).

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::effects::{Change, Event};
use crate::render;
use crate::state::Database;

/// What the last save of a new conversation changed, which decides its activity message
/// (`AssignmentHandler#process_assignment_activities` reads `saved_change_to_*` after commit).
#[derive(Debug, Clone, Copy, Default)]
pub struct CreatedWith {
    /// A team was set (and no later save replaced the assignee).
    pub team: bool,
    /// An assignee was set by the last save.
    pub assignee: bool,
}

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
        // before_save ensure_snooze_until_reset.
        let snoozed_until = if status == "snoozed" {
            snoozed_until
        } else {
            None
        };
        let stamp = |t: Option<Timestamp>| t.map_or(Value::Null, |t| render::iso(t).into());
        let mut changes: Vec<Change> = Vec::new();
        if c.snoozed_until != snoozed_until {
            changes.push((
                "snoozed_until",
                stamp(c.snoozed_until),
                stamp(snoozed_until),
            ));
            c.snoozed_until = snoozed_until;
        }
        if c.status == status {
            if !changes.is_empty() {
                c.updated_at = now;
                self.dispatch(Event::ConversationUpdated(conv_pk, changes), caller);
            }
            return;
        }
        changes.insert(0, ("status", json!(c.status), json!(status)));
        c.status = status.to_owned();
        c.updated_at = now;
        // handle_resolved_status_change (update_column: no event of its own).
        if status == "resolved" {
            c.waiting_since = None;
        }
        // notify_status_change, create_activity, notify_conversation_updation.
        match status {
            "open" => self.dispatch(Event::ConversationOpened(conv_pk), caller),
            "resolved" => self.dispatch(Event::ConversationResolved(conv_pk), caller),
            _ => {}
        }
        self.dispatch(
            Event::ConversationStatusChanged(conv_pk, changes[..1].to_vec()),
            caller,
        );
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
        self.dispatch(Event::ConversationUpdated(conv_pk, changes), caller);
        if status == "open" {
            self.auto_assign(conv_pk, caller);
        }
    }

    /// `Current.user.name` for activity messages: an agent bot's token has no `Current.user`,
    /// so `activity_message_owner` is nil and no assignment activity is written.
    fn activity_owner(caller: &Caller) -> Option<String> {
        caller.user_id.map(|_| caller.name.clone())
    }

    /// "Assigned to X by Y", "Y self-assigned this conversation" or "Conversation unassigned by Y"
    /// (`activity_message_handler.rb` `generate_assignee_change_activity_content`).
    fn assignee_activity(&mut self, conv_pk: u64, caller: &Caller) {
        let Some(who) = Self::activity_owner(caller) else {
            return;
        };
        let assignee = self.conversations.get(&conv_pk).and_then(|c| c.assignee_id);
        let text = match assignee.and_then(|id| self.users.get(&id)) {
            Some(_) if assignee == caller.user_id => {
                format!("{who} self-assigned this conversation")
            }
            Some(u) => format!("Assigned to {} by {who}", u.name),
            None => format!("Conversation unassigned by {who}"),
        };
        self.activity(conv_pk, text);
    }

    /// `TeamActivityMessageHandler#create_team_change_activity`.
    fn team_activity(
        &mut self,
        conv_pk: u64,
        old_team: Option<u64>,
        assignee_changed: bool,
        caller: &Caller,
    ) {
        let Some(who) = Self::activity_owner(caller) else {
            return;
        };
        let Some(c) = self.conversations.get(&conv_pk) else {
            return;
        };
        let team = c.team_id.and_then(|t| self.teams.get(&t));
        let assignee = c.assignee_id.and_then(|u| self.users.get(&u));
        let text = match (team, assignee) {
            (Some(t), Some(u)) if assignee_changed => {
                format!("Assigned to {} via {} by {who}", u.name, t.name)
            }
            (Some(t), _) => format!("Assigned to {} by {who}", t.name),
            (None, _) => {
                let old = old_team
                    .and_then(|o| self.teams.get(&o))
                    .map(|t| t.name.clone())
                    .unwrap_or_default();
                format!("Unassigned from {old} by {who}")
            }
        };
        self.activity(conv_pk, text);
    }

    /// `ASSIGNEE_CHANGED` with `notifiable_assignee_change?` (an assignee, not the caller).
    fn assignee_changed(&mut self, conv_pk: u64, caller: &Caller) {
        let assignee = self.conversations.get(&conv_pk).and_then(|c| c.assignee_id);
        let notifiable = assignee.is_some() && assignee != caller.user_id;
        self.dispatch(Event::AssigneeChanged(conv_pk, notifiable), caller);
    }

    /// Sets the assignee: the notification, the activity message and `conversation_updated`.
    pub fn set_assignee(&mut self, conv_pk: u64, assignee: Option<u64>, caller: &Caller) {
        let now = self.now();
        let Some(c) = self.conversations.get_mut(&conv_pk) else {
            return;
        };
        if c.assignee_id == assignee {
            return;
        }
        let change = ("assignee_id", json!(c.assignee_id), json!(assignee));
        c.assignee_id = assignee;
        c.updated_at = now;
        self.assignee_changed(conv_pk, caller);
        self.assignee_activity(conv_pk, caller);
        self.dispatch(Event::ConversationUpdated(conv_pk, vec![change]), caller);
    }

    /// `ensure_assignee_is_from_team` (before save, when `team_id` changes): an assignee who is
    /// not a member of the new team is dropped, then a team with `allow_auto_assign` picks an
    /// online member who is also an inbox member. Returns the assignee to save.
    pub fn assignee_for_team(
        &mut self,
        inbox_id: u64,
        team_id: Option<u64>,
        assignee: Option<u64>,
    ) -> Option<u64> {
        let Some(team) = team_id.and_then(|t| self.teams.get(&t)).cloned() else {
            return assignee;
        };
        let kept = assignee.filter(|u| team.member_ids.contains(u));
        if kept.is_some() || !team.allow_auto_assign {
            return kept;
        }
        let members: Vec<u64> = self
            .inboxes
            .get(&inbox_id)
            .map(|i| {
                i.member_ids
                    .iter()
                    .copied()
                    .filter(|u| team.member_ids.contains(u))
                    .collect()
            })
            .unwrap_or_default();
        self.round_robin_pick(inbox_id, team.account_id, members)
    }

    /// `POST /assignments {team_id}`: `update!(team:)` with the team rules, the team activity
    /// message and, when the assignee changed too, its notification.
    pub fn set_team(&mut self, conv_pk: u64, team_id: Option<u64>, caller: &Caller) {
        let Some(c) = self.conversations.get(&conv_pk).cloned() else {
            return;
        };
        if c.team_id == team_id {
            return;
        }
        let assignee = self.assignee_for_team(c.inbox_id, team_id, c.assignee_id);
        let mut changes: Vec<Change> = vec![("team_id", json!(c.team_id), json!(team_id))];
        if assignee != c.assignee_id {
            changes.push(("assignee_id", json!(c.assignee_id), json!(assignee)));
        }
        let now = self.now();
        if let Some(conv) = self.conversations.get_mut(&conv_pk) {
            conv.team_id = team_id;
            conv.assignee_id = assignee;
            conv.updated_at = now;
        }
        let assignee_changed = assignee != c.assignee_id;
        if assignee_changed {
            self.assignee_changed(conv_pk, caller);
        }
        self.team_activity(conv_pk, c.team_id, assignee_changed, caller);
        self.dispatch(Event::ConversationUpdated(conv_pk, changes), caller);
    }

    /// The commit callbacks of a new conversation: `CONVERSATION_CREATED`, then the assignment
    /// notification and the one activity message its last save calls for (a team change wins
    /// over an assignee change, as `process_assignment_activities` checks it first).
    pub fn after_conversation_created(&mut self, conv_pk: u64, with: CreatedWith, caller: &Caller) {
        self.dispatch(Event::ConversationCreated(conv_pk), caller);
        if with.assignee {
            self.assignee_changed(conv_pk, caller);
        }
        if with.team {
            self.team_activity(conv_pk, None, with.assignee, caller);
        } else if with.assignee {
            self.assignee_activity(conv_pk, caller);
        }
    }

    /// `AutoAssignmentHandler#should_run_auto_assignment?`: an open conversation in an inbox with
    /// `enable_auto_assignment` (default true) whose assignee is blank *or not an inbox member*.
    /// Returns the online inbox member to assign, round-robin, if any.
    pub fn auto_assignee(&mut self, conv_pk: u64) -> Option<u64> {
        let c = self.conversations.get(&conv_pk)?;
        let inbox = self.inboxes.get(&c.inbox_id)?;
        let member = |u: &u64| inbox.member_ids.contains(u);
        if c.status != "open"
            || !inbox.enable_auto_assignment
            || c.assignee_id.is_some_and(|u| member(&u))
        {
            return None;
        }
        let (inbox_id, account_id, members) = (inbox.id, c.account_id, inbox.member_ids.clone());
        self.round_robin_pick(inbox_id, account_id, members)
    }

    /// Runs auto-assignment on a conversation that became open.
    pub fn auto_assign(&mut self, conv_pk: u64, caller: &Caller) {
        if let Some(pick) = self.auto_assignee(conv_pk) {
            self.set_assignee(conv_pk, Some(pick), caller);
        }
    }

    /// `AutoAssignment::AgentAssignmentService#find_assignee`: the next *online* candidate of the
    /// inbox's round robin (`allowed_online_agent_ids`).
    fn round_robin_pick(
        &mut self,
        inbox_id: u64,
        account_id: u64,
        candidates: Vec<u64>,
    ) -> Option<u64> {
        let mut online: Vec<u64> = candidates
            .into_iter()
            .filter(|u| self.availability_status(account_id, *u) == "online")
            .collect();
        if online.is_empty() {
            return None;
        }
        online.sort_unstable();
        let cursor = self.round_robin.entry(inbox_id).or_insert(0);
        let pick = online[(*cursor as usize) % online.len()];
        *cursor += 1;
        Some(pick)
    }

    /// Replaces a conversation's labels; "<user> added/removed <labels>" activity messages and
    /// `conversation_updated`. The list changes only when its sorted names differ
    /// (acts-as-taggable-on `label_list=`); the activity diffs compare names exactly.
    pub fn set_conversation_labels(&mut self, conv_pk: u64, labels: Vec<String>, caller: &Caller) {
        let now = self.now();
        // The taggings use the installation's tags; `cached_label_list`, which the API reads,
        // keeps the names as sent.
        self.find_or_create_tags(&labels);
        let Some(c) = self.conversations.get_mut(&conv_pk) else {
            return;
        };
        let (mut old_sorted, mut new_sorted) = (c.labels.clone(), labels.clone());
        old_sorted.sort();
        new_sorted.sort();
        if old_sorted == new_sorted {
            return;
        }
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
        let change = ("label_list", json!(c.labels), json!(labels));
        c.labels = labels;
        c.updated_at = now;
        let who = caller.name.clone();
        if !added.is_empty() {
            self.activity(conv_pk, format!("{who} added {}", added.join(", ")));
        }
        if !removed.is_empty() {
            self.activity(conv_pk, format!("{who} removed {}", removed.join(", ")));
        }
        self.dispatch(Event::ConversationUpdated(conv_pk, vec![change]), caller);
    }
}
