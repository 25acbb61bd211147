//! The sandbox's in-memory database: every table, deterministic ids and tokens (authorisation is
//! in `auth`, account-scoped lookups in `account_scoped`).
//!
//! Ids come from per-table counters starting at 1 (as Postgres sequences would), conversation
//! `display_id`s from a per-account sequence (`../shared/research/chatwoot.md §0.7`), tokens from
//! the seed — so two sandboxes started with the same seed hand out the same ids and tokens.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use deskmove_sandbox::SandboxClock;
use deskmove_sandbox::rng::splitmix64;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use super::account_scoped::AccountScoped;
use super::records::{
    Account, AccountUser, AgentBot, AgentNotification, Article, AutomationRule, AutomationRuleRun,
    Blob, CannedResponse, Category, Contact, ContactInbox, Conversation, CustomAttributeDefinition,
    CustomerDelivery, Inbox, Label, Message, Portal, Team, TemplateMessage, User, Webhook,
    WebhookDelivery,
};
use crate::error::{ApiError, ApiResult};

/// Tables, each keyed by primary key.
#[derive(Debug)]
pub struct Database {
    seed: u64,
    /// The sandbox's clock: every timestamp the database writes is read from it.
    clock: Arc<SandboxClock>,
    counters: BTreeMap<&'static str, u64>,
    display_seq: BTreeMap<u64, u64>,
    /// Messages per conversation (primary key), in id order.
    pub conversation_messages: BTreeMap<u64, Vec<u64>>,
    /// Round-robin cursor per inbox.
    pub round_robin: BTreeMap<u64, u64>,
    /// The platform app's token.
    pub platform_token: String,
    /// What the platform app created (`platform_app_permissibles`): `("User", id)`, `("Account", id)`.
    pub permissibles: BTreeSet<(&'static str, u64)>,
    /// Per-conversation message cap per rolling minute (0 = off).
    pub message_flood_limit: usize,
    /// Whether agents count as signed in to the dashboard (presence in `OnlineStatusTracker`).
    pub agents_present: bool,
    pub accounts: BTreeMap<u64, Account>,
    pub users: BTreeMap<u64, User>,
    pub agent_bots: BTreeMap<u64, AgentBot>,
    pub account_users: BTreeMap<u64, AccountUser>,
    pub contacts: BTreeMap<u64, Contact>,
    pub contact_inboxes: BTreeMap<u64, ContactInbox>,
    pub inboxes: BTreeMap<u64, Inbox>,
    pub conversations: BTreeMap<u64, Conversation>,
    pub messages: BTreeMap<u64, Message>,
    pub labels: BTreeMap<u64, Label>,
    pub teams: BTreeMap<u64, Team>,
    pub canned_responses: BTreeMap<u64, CannedResponse>,
    pub custom_attribute_definitions: BTreeMap<u64, CustomAttributeDefinition>,
    pub portals: BTreeMap<u64, Portal>,
    pub categories: BTreeMap<u64, Category>,
    pub articles: BTreeMap<u64, Article>,
    /// Files sent to `/upload` (`active_storage_blobs`).
    pub blobs: BTreeMap<u64, Blob>,
    pub webhooks: BTreeMap<u64, Webhook>,
    pub automation_rules: BTreeMap<u64, AutomationRule>,
    /// The side-effect log: what Chatwoot would have done outside itself, in order.
    pub webhook_deliveries: Vec<WebhookDelivery>,
    pub customer_deliveries: Vec<CustomerDelivery>,
    pub agent_notifications: Vec<AgentNotification>,
    pub automation_rule_runs: Vec<AutomationRuleRun>,
    pub template_messages: Vec<TemplateMessage>,
    /// acts-as-taggable-on's `tags` table: installation-wide, one spelling per name ignoring case.
    pub tags: Vec<String>,
    /// `CONVERSATION_MAILER_KEY` per conversation: when the pending reply email was queued.
    pub reply_email_queued: BTreeMap<u64, Timestamp>,
}

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

impl Database {
    /// An empty database with one account, its administrator and the platform app; timestamps
    /// come from `clock`.
    pub fn new(
        seed: u64,
        message_flood_limit: usize,
        agents_present: bool,
        clock: Arc<SandboxClock>,
    ) -> Self {
        let mut s = Self {
            seed,
            clock,
            counters: BTreeMap::new(),
            display_seq: BTreeMap::new(),
            conversation_messages: BTreeMap::new(),
            round_robin: BTreeMap::new(),
            platform_token: String::new(),
            permissibles: BTreeSet::new(),
            message_flood_limit,
            agents_present,
            accounts: BTreeMap::new(),
            users: BTreeMap::new(),
            agent_bots: BTreeMap::new(),
            account_users: BTreeMap::new(),
            contacts: BTreeMap::new(),
            contact_inboxes: BTreeMap::new(),
            inboxes: BTreeMap::new(),
            conversations: BTreeMap::new(),
            messages: BTreeMap::new(),
            labels: BTreeMap::new(),
            teams: BTreeMap::new(),
            canned_responses: BTreeMap::new(),
            custom_attribute_definitions: BTreeMap::new(),
            portals: BTreeMap::new(),
            categories: BTreeMap::new(),
            articles: BTreeMap::new(),
            blobs: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            automation_rules: BTreeMap::new(),
            webhook_deliveries: Vec::new(),
            customer_deliveries: Vec::new(),
            agent_notifications: Vec::new(),
            automation_rule_runs: Vec::new(),
            template_messages: Vec::new(),
            reply_email_queued: BTreeMap::new(),
            tags: Vec::new(),
        };
        s.platform_token = s.secure_token("platform_app", 0);
        let now = s.now();
        let account_id = s.create_account("Sandbox Company", now);
        let user_id = s.create_user("Sandbox Admin", "admin@sandbox.test", now);
        s.add_account_user(account_id, user_id, "administrator");
        // The operator granted the platform app the starting account.
        s.permissibles.insert(("Account", account_id));
        s
    }

    /// Now, from the sandbox's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The next primary key of `table`.
    pub fn next_id(&mut self, table: &'static str) -> u64 {
        let n = self.counters.entry(table).or_insert(0);
        *n += 1;
        *n
    }

    /// `has_secure_token`: 24 base58 characters, derived from the seed.
    pub fn secure_token(&self, kind: &str, n: u64) -> String {
        let mut state = splitmix64(
            self.seed
                ^ splitmix64(n)
                ^ kind.bytes().fold(0u64, |h, b| splitmix64(h ^ u64::from(b))),
        );
        (0..24)
            .map(|_| {
                state = splitmix64(state);
                char::from(BASE58[(state % 58) as usize])
            })
            .collect()
    }

    /// A deterministic v4-shaped uuid.
    pub fn uuid(&self, kind: &str, n: u64) -> String {
        let a = splitmix64(self.seed ^ splitmix64(n ^ 0xA5A5) ^ kind.len() as u64);
        let b = splitmix64(a);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | (b >> 48 & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    /// Inserts an account and starts its display-id sequence.
    pub fn create_account(&mut self, name: &str, now: Timestamp) -> u64 {
        let id = self.next_id("accounts");
        self.accounts.insert(
            id,
            Account {
                id,
                name: name.to_owned(),
                status: "active",
                created_at: now,
            },
        );
        self.display_seq.insert(id, 0);
        id
    }

    /// Inserts a confirmed user with its access token.
    pub fn create_user(&mut self, name: &str, email: &str, now: Timestamp) -> u64 {
        let id = self.next_id("users");
        let access_token = self.secure_token("user", id);
        self.users.insert(
            id,
            User {
                id,
                name: name.to_owned(),
                display_name: None,
                email: email.to_lowercase(),
                access_token,
                custom_attributes: serde_json::Map::new(),
                confirmed: true,
                created_at: now,
            },
        );
        id
    }

    /// Links a user to an account (or updates the role).
    pub fn add_account_user(&mut self, account_id: u64, user_id: u64, role: &str) -> u64 {
        if let Some(au) = self
            .account_users
            .values_mut()
            .find(|au| au.account_id == account_id && au.user_id == user_id)
        {
            au.role = role.to_owned();
            return au.id;
        }
        let id = self.next_id("account_users");
        self.account_users.insert(
            id,
            AccountUser {
                id,
                account_id,
                user_id,
                role: role.to_owned(),
                availability: "online".into(),
                auto_offline: true,
            },
        );
        id
    }

    /// `Tag.find_or_create_all_with_like_by_name`: each name as the `tags` table already spells
    /// it (matched ignoring case), created when new.
    pub fn find_or_create_tags(&mut self, names: &[String]) -> Vec<String> {
        names
            .iter()
            .map(|n| {
                let lower = n.to_lowercase();
                match self.tags.iter().find(|t| t.to_lowercase() == lower) {
                    Some(t) => t.clone(),
                    None => {
                        self.tags.push(n.clone());
                        n.clone()
                    }
                }
            })
            .collect()
    }

    /// The next `display_id` of an account: the trigger ignores any supplied value (§0.7).
    pub fn next_display_id(&mut self, account_id: u64) -> u64 {
        let n = self.display_seq.entry(account_id).or_insert(0);
        *n += 1;
        *n
    }

    /// `OnlineStatusTracker`: a user is available when present in the dashboard or
    /// `auto_offline: false`, and then has its `availability` (online/busy/offline); otherwise
    /// offline (`lib/online_status_tracker.rb` `get_available_user_ids`).
    pub fn availability_status(&self, account_id: u64, user_id: u64) -> &str {
        match self.account_user(account_id, user_id) {
            Some(au) if self.agents_present || !au.auto_offline => &au.availability,
            _ => "offline",
        }
    }

    /// The account_user row of `user_id` in `account_id`.
    pub fn account_user(&self, account_id: u64, user_id: u64) -> Option<&AccountUser> {
        self.account_users
            .values()
            .find(|au| au.account_id == account_id && au.user_id == user_id)
    }

    /// The id of the account_user row of `user_id` in `account_id`; 404 when not a member.
    pub fn account_user_id(&self, account_id: u64, user_id: u64) -> ApiResult<u64> {
        self.account_user(account_id, user_id)
            .map(|au| au.id)
            .ok_or(ApiError::NotFound)
    }

    /// A conversation of the account by display id.
    pub fn conversation_pk(&self, account_id: u64, display_id: u64) -> ApiResult<u64> {
        self.conversations
            .values()
            .find(|c| c.account_id == account_id && c.display_id == display_id)
            .map(|c| c.id)
            .ok_or(ApiError::NotFound)
    }

    /// The whole state of one account, read-only, for tests and `verify`.
    pub fn dump(&self, account_id: u64) -> Value {
        fn rows<'a, T: Serialize + 'a>(it: impl Iterator<Item = &'a T>) -> Vec<Value> {
            it.filter_map(|v| serde_json::to_value(v).ok()).collect()
        }
        fn scoped<T: AccountScoped + Serialize>(s: &Database, a: u64) -> Vec<Value> {
            rows(s.in_account::<T>(a))
        }
        let a = account_id;
        let user_ids: BTreeSet<u64> = self
            .account_users
            .values()
            .filter(|au| au.account_id == a)
            .map(|au| au.user_id)
            .collect();
        let inbox_ids: BTreeSet<u64> = self.in_account::<Inbox>(a).map(|i| i.id).collect();
        json!({
            "account": self.accounts.get(&a),
            "users": rows(self.users.values().filter(|u| user_ids.contains(&u.id))),
            "account_users": rows(self.account_users.values().filter(|x| x.account_id == a)),
            "agent_bots": rows(self.agent_bots.values().filter(|x| x.account_id.is_none_or(|b| b == a))),
            "inboxes": scoped::<Inbox>(self, a),
            "contacts": scoped::<Contact>(self, a),
            "contact_inboxes": rows(self.contact_inboxes.values().filter(|x| inbox_ids.contains(&x.inbox_id))),
            "conversations": scoped::<Conversation>(self, a),
            "messages": rows(self.messages.values().filter(|x| x.account_id == a)),
            "labels": scoped::<Label>(self, a),
            "teams": scoped::<Team>(self, a),
            "canned_responses": scoped::<CannedResponse>(self, a),
            "custom_attribute_definitions": scoped::<CustomAttributeDefinition>(self, a),
            "portals": scoped::<Portal>(self, a),
            "categories": scoped::<Category>(self, a),
            "articles": scoped::<Article>(self, a),
            "webhooks": scoped::<Webhook>(self, a),
            "automation_rules": scoped::<AutomationRule>(self, a),
            "webhook_deliveries": self.side_effects_of(a)["webhook_deliveries"],
            "side_effects": self.side_effects_of(a),
        })
    }

    /// The side-effect log of one account, each list in order: webhook deliveries, customer
    /// deliveries, agent notifications, automation rule runs and template messages.
    pub fn side_effects_of(&self, account_id: u64) -> Value {
        fn of<T: Serialize>(list: &[T], account: u64, owner: impl Fn(&T) -> u64) -> Vec<Value> {
            list.iter()
                .filter(|x| owner(x) == account)
                .filter_map(|x| serde_json::to_value(x).ok())
                .collect()
        }
        let a = account_id;
        json!({
            "webhook_deliveries": of(&self.webhook_deliveries, a, |x| x.account_id),
            "customer_deliveries": of(&self.customer_deliveries, a, |x| x.account_id),
            "agent_notifications": of(&self.agent_notifications, a, |x| x.account_id),
            "automation_rule_runs": of(&self.automation_rule_runs, a, |x| x.account_id),
            "template_messages": of(&self.template_messages, a, |x| x.account_id),
        })
    }
}
