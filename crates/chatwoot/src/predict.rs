//! What a load into Chatwoot will cost, predicted from a source's scan (`deskmove scan`): the
//! calls per kind the API path makes — counted from what `load/api` sends for each record — and
//! the time they take under the call budget; on the database path, the rows and the time at
//! its measured throughput. Pure functions, except [`agent_emails`], which only reads.

use std::collections::BTreeMap;

use deskmove_core::RecordKind;
use deskmove_core::connector::{CallBudget, ConversationSample, SourceScan};
use deskmove_core::model::{AttributeModel, AttributeType};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::Value;

use crate::config::{LoadPath, TargetConfig};

/// Messages per load batch (the engine's default batch size): a conversation whose messages
/// straddle two batches is written in two lanes, and the second one finishes it again.
const BATCH: u64 = 100;
/// Files one message carries at most (`load/api/attachments.rs`).
const FILES_PER_MESSAGE: u64 = 15;
/// Rows a second on the database path: 100,000 conversations with 1,567,365 messages took
/// 614 s on the project's 2-core machine (`bench/results/chatwoot-postgres.json`).
pub const POSTGRES_ROWS_PER_SECOND: f64 = 1_667_365.0 / 614.0;

/// What the API path's prediction needs of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiSettings {
    /// The call budget deskmove keeps to (`[target.http]` over Chatwoot's limits).
    pub budget: CallBudget,
    /// Messages one conversation takes per minute (0: no guard).
    pub message_limit: u64,
    /// Whether some of the source's agents have a Chatwoot agent (by email), so conversations
    /// get assignees; with none, no assignment call is made.
    pub assignees: bool,
}

impl ApiSettings {
    /// The settings `config` gives.
    pub fn from_config(config: &TargetConfig) -> Result<Self, String> {
        let policy = config.host_policy()?;
        Ok(Self {
            budget: CallBudget {
                calls_per_minute: u64::from(policy.calls_per_minute),
                burst: u64::from(policy.burst),
            },
            message_limit: config.conversation_message_limit.unwrap_or(200) as u64,
            assignees: true,
        })
    }
}

/// A predicted load (the shared shape `deskmove scan` prints for every target).
pub use deskmove_core::connector::LoadPrediction as Prediction;

/// Averages over the scan's sample, scaled to every conversation.
struct Scaled<'a> {
    sample: &'a [ConversationSample],
    conversations: u64,
}

impl Scaled<'_> {
    /// `f` summed over the sample, scaled to every conversation.
    fn sum(&self, f: impl Fn(&ConversationSample) -> u64) -> u64 {
        let n = self.sample.len() as u64;
        if n == 0 {
            return 0;
        }
        (self.sample.iter().map(f).sum::<u64>() * self.conversations).div_ceil(n)
    }
}

/// Chatwoot's final status for a source state (`mapping.toml`'s defaults).
fn final_status(state: &str) -> &'static str {
    match state {
        "closed" | "resolved" => "resolved",
        "snoozed" => "snoozed",
        "pending" => "pending",
        _ => "open",
    }
}

/// The status a conversation is created with: pending unless it stays open and unassigned
/// (`load/api/conversations.rs`).
fn created_status(s: &ConversationSample) -> &'static str {
    if final_status(&s.state) == "open" && !s.assigned {
        "open"
    } else {
        "pending"
    }
}

/// Calls of one `finish`: assign, final state, mark seen.
fn finish_calls(s: &ConversationSample, status_now: &str) -> u64 {
    u64::from(s.assigned)
        + u64::from(final_status(&s.state) != status_now)
        + u64::from(s.incoming > 0)
}

/// Calls of the conversation step for one conversation: create, labels (the provenance label
/// is always there), priority, and a finish when nothing will be written into it.
fn conversation_calls(s: &ConversationSample) -> u64 {
    let empty = s.messages == 0 || (s.state == "pending" && !s.assigned);
    let finish = if empty {
        u64::from(s.assigned) + u64::from(final_status(&s.state) != created_status(s))
    } else {
        0
    };
    2 + u64::from(s.priority) + finish
}

/// Calls of the message step for one conversation: one create per message, the
/// finish, and for each further lane (a batch boundary inside the conversation) the quieting
/// (back to pending and unassigned) and the finish again.
fn message_calls(s: &ConversationSample, extra_lanes: f64) -> f64 {
    if s.messages == 0 {
        return 0.0;
    }
    // A conversation created by this process is known empty: no listing before writing.
    let first = s.messages + finish_calls(s, created_status(s));
    let status = final_status(&s.state);
    let quiet = if s.assigned {
        1 + u64::from(status != "pending")
    } else {
        0
    };
    let again = quiet + finish_calls(s, if s.assigned { "pending" } else { status });
    first as f64 + extra_lanes * again as f64
}

/// Calls of the attachment step for one conversation: one multipart create per message with
/// files (15 a message), quieting once, and the finish.
fn attachment_calls(s: &ConversationSample) -> u64 {
    if s.attachments == 0 {
        return 0;
    }
    let status = final_status(&s.state);
    let creates = s
        .messages_with_files
        .max(s.attachments.div_ceil(FILES_PER_MESSAGE));
    let quiet = if s.assigned {
        1 + u64::from(status != "pending")
    } else {
        u64::from(matches!(status, "resolved" | "snoozed") && s.incoming > 0)
    };
    let now = if quiet > 0 { "pending" } else { status };
    creates + quiet + finish_calls(s, now)
}

/// The API path: calls per step and the time under `settings`' budget.
pub fn api(scan: &SourceScan, settings: &ApiSettings) -> Prediction {
    let mut calls = BTreeMap::new();
    let conversations = scan.count(RecordKind::Conversation);
    // An assignee without a Chatwoot agent is attribution only: no assignment.
    let sample: Vec<ConversationSample> = scan
        .conversation_sample
        .iter()
        .cloned()
        .map(|mut s| {
            s.assigned &= settings.assignees;
            s
        })
        .collect();
    let scaled = Scaled {
        sample: &sample,
        conversations,
    };
    let n = |k| scan.count(k);
    // The preflight's five reads (agents, webhooks, automation rules, inboxes, agent bots).
    calls.insert("preflight".to_owned(), 5);
    // Listed once, matched by email; never invited.
    calls.insert(RecordKind::Agent.to_string(), 1);
    let directory = [
        (RecordKind::Team, n(RecordKind::Team)),
        (RecordKind::Tag, n(RecordKind::Tag)),
        (
            RecordKind::AttributeDefinition,
            n(RecordKind::AttributeDefinition),
        ),
        (RecordKind::Macro, n(RecordKind::Macro)),
    ];
    for (kind, records) in directory {
        if records > 0 {
            // The listing, then one create each.
            calls.insert(kind.to_string(), 1 + records);
        }
    }
    let contacts = n(RecordKind::Contact);
    if contacts > 0 {
        let s = scan.contact_sample;
        let tagged = if s.sampled == 0 {
            0
        } else {
            (s.tagged * contacts).div_ceil(s.sampled)
        };
        // The label listing, one create each, and one label call per tagged contact.
        calls.insert(RecordKind::Contact.to_string(), 1 + contacts + tagged);
    }
    let mut channels: Vec<&str> = scan
        .conversation_sample
        .iter()
        .map(|s| s.channel.as_deref().unwrap_or(""))
        .collect();
    channels.sort_unstable();
    channels.dedup();
    if conversations > 0 {
        // The inbox listing, an inbox per channel, the provenance label, then each one.
        let setup = 1 + channels.len().max(1) as u64 + 1;
        calls.insert(
            RecordKind::Conversation.to_string(),
            setup + scaled.sum(conversation_calls),
        );
        // A conversation's messages sit together in key order, so a run of L messages at a
        // random offset meets (L - 1) / 100 batch boundaries on average.
        let n_sample = sample.len() as f64;
        let per_sample: f64 = sample
            .iter()
            .map(|s| message_calls(s, s.messages.saturating_sub(1) as f64 / BATCH as f64))
            .sum();
        calls.insert(
            RecordKind::Message.to_string(),
            (per_sample * conversations as f64 / n_sample.max(1.0)).round() as u64,
        );
        let files = scaled.sum(attachment_calls);
        if files > 0 {
            calls.insert(RecordKind::Attachment.to_string(), files);
        }
    }
    let total_calls = calls.values().sum();
    let mut notes = Vec::new();
    if settings.message_limit > 0 {
        let over =
            scaled.sum(|s| u64::from(s.messages + s.messages_with_files > settings.message_limit));
        if over > 0 {
            notes.push(format!(
                "About {over} conversations hold more than {} messages: Chatwoot takes {} per conversation a minute, so the rest of each waits for the next `deskmove import` (or raise CONVERSATION_MESSAGE_PER_MINUTE_LIMIT and set `conversation_message_limit`).",
                settings.message_limit, settings.message_limit
            ));
        }
    }
    notes.push(format!(
        "At {} calls a minute; round trips are assumed shorter than the budget's pace.",
        settings.budget.calls_per_minute
    ));
    Prediction {
        path: LoadPath::Api.as_str(),
        seconds: settings.budget.seconds(total_calls),
        calls,
        total_calls,
        rows: None,
        notes,
    }
}

/// The database path: no API calls; rows at [`POSTGRES_ROWS_PER_SECOND`].
pub fn postgres(scan: &SourceScan) -> Prediction {
    let rows: u64 = [
        RecordKind::Team,
        RecordKind::Tag,
        RecordKind::AttributeDefinition,
        RecordKind::Macro,
        RecordKind::Contact,
        RecordKind::Conversation,
        RecordKind::Message,
        RecordKind::Attachment,
    ]
    .into_iter()
    .map(|k| scan.count(k))
    .sum();
    Prediction {
        path: LoadPath::Postgres.as_str(),
        calls: BTreeMap::new(),
        total_calls: 0,
        rows: Some(rows),
        seconds: rows as f64 / POSTGRES_ROWS_PER_SECOND,
        notes: vec![format!(
            "At {:.0} rows a second, as measured on a 2-core machine; files are copied into the storage folder besides.",
            POSTGRES_ROWS_PER_SECOND
        )],
    }
}

/// The prediction for the path `config` names.
pub fn for_config(scan: &SourceScan, config: &TargetConfig) -> Result<Prediction, String> {
    Ok(match config.path {
        LoadPath::Api => api(scan, &ApiSettings::from_config(config)?),
        LoadPath::Postgres => postgres(scan),
    })
}

/// The source's current agents with no Chatwoot agent of the same email (case-insensitive, as
/// Chatwoot stores emails lower-cased, research/chatwoot.md §0.6): attribution only.
pub fn unmatched_agents(scan: &SourceScan, target_emails: &[String]) -> Vec<String> {
    let known: std::collections::HashSet<String> =
        target_emails.iter().map(|e| e.to_lowercase()).collect();
    let mut out: Vec<String> = scan
        .agent_emails
        .iter()
        .filter(|e| !known.contains(&e.to_lowercase()))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A source attribute whose Chatwoot type is a choice, with the choice made by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeDecision {
    /// Which records carry it at the source.
    pub model: AttributeModel,
    /// Its name.
    pub name: String,
    /// Its type at the source.
    pub data_type: AttributeType,
    /// What Chatwoot will make of it unless `mapping.toml` says otherwise, and the choice.
    pub decision: String,
}

/// The attributes that need a type decision in Chatwoot: decimals (number, currency or
/// percent: Chatwoot's display types), and company attributes (community Chatwoot has no
/// companies, so they become contact attributes: research/chatwoot.md §2.12).
pub fn attributes_needing_decision(scan: &SourceScan) -> Vec<AttributeDecision> {
    scan.attributes
        .iter()
        .filter_map(|a| {
            let decision = match (a.model, a.data_type) {
                (AttributeModel::Company, _) => {
                    "a contact attribute (Chatwoot has no companies); keep, rename or leave out"
                }
                (_, AttributeType::Float) => "number; or currency or percent",
                _ => return None,
            };
            Some(AttributeDecision {
                model: a.model,
                name: a.name.clone(),
                data_type: a.data_type,
                decision: decision.to_owned(),
            })
        })
        .collect()
}

/// The emails of the account's agents: one read (`GET agents`), nothing written.
pub async fn agent_emails(
    config: &TargetConfig,
    token: &SecretString,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    let (Some(base_url), Some(account_id)) = (&config.base_url, config.account_id) else {
        return Err("[target] needs `base_url` and `account_id`".into());
    };
    let client = crate::client::connect(base_url, config.host_policy()?, token)?;
    let path = format!("api/v1/accounts/{account_id}/agents");
    let agents: Vec<Value> = client.send(client.get(&path)).await?.json()?;
    Ok(agents
        .iter()
        .filter_map(|a| a["email"].as_str().map(str::to_owned))
        .collect())
}

#[cfg(test)]
mod tests {
    use deskmove_core::connector::{AttributeSeen, KindCount};

    use super::*;

    fn thread(messages: u64, state: &str, assigned: bool) -> ConversationSample {
        ConversationSample {
            messages,
            incoming: 1,
            state: state.to_owned(),
            assigned,
            channel: Some("email".into()),
            ..ConversationSample::default()
        }
    }

    fn scan_of(sample: Vec<ConversationSample>, conversations: u64) -> SourceScan {
        let mut scan = SourceScan::default();
        let exact = |count| KindCount { count, exact: true };
        scan.kinds
            .insert(RecordKind::Conversation, exact(conversations));
        scan.kinds.insert(RecordKind::Contact, exact(10));
        scan.contact_sample.sampled = 10;
        scan.contact_sample.tagged = 5;
        scan.conversation_sample = sample;
        scan
    }

    fn settings(calls_per_minute: u64) -> ApiSettings {
        ApiSettings {
            budget: CallBudget {
                calls_per_minute,
                burst: 0,
            },
            message_limit: 200,
            assignees: true,
        }
    }

    #[test]
    fn the_api_path_counts_what_each_record_sends() {
        // Closed and assigned, 3 messages, one incoming: create + labels; 3 messages + assign
        // + resolve + seen.
        let scan = scan_of(vec![thread(3, "closed", true)], 1);
        let p = api(&scan, &settings(600));
        assert_eq!(p.calls["conversation"], 3 + 2);
        assert_eq!(p.calls["message"], (6.0_f64 + 0.02 * 5.0).round() as u64);
        // 10 contacts, half of them tagged, after the label listing.
        assert_eq!(p.calls["contact"], 1 + 10 + 5);
        assert_eq!(p.total_calls, p.calls.values().sum::<u64>());
        // 600 a minute: ten a second.
        assert!((p.seconds - p.total_calls as f64 / 10.0).abs() < 1e-9);
    }

    #[test]
    fn an_open_unassigned_conversation_needs_no_state_calls_and_the_sample_scales() {
        let scan = scan_of(vec![thread(2, "open", false)], 4);
        let p = api(&scan, &settings(6_000));
        // Per conversation: 2 messages + seen, and a boundary in 1 of 100 (again:
        // seen); scaled to 4.
        assert_eq!(p.calls["message"], (4.0_f64 * (3.0 + 0.01)).round() as u64);
        assert_eq!(p.calls["conversation"], 3 + 4 * 2);
    }

    #[test]
    fn long_conversations_straddle_batches_and_hit_the_message_guard() {
        let scan = scan_of(vec![thread(250, "closed", true)], 1);
        let p = api(&scan, &settings(600));
        // 2.49 boundaries on average: each time quieted (pending, unassign) and finished again.
        assert_eq!(p.calls["message"], (253.0_f64 + 2.49 * 5.0).round() as u64);
        assert!(
            p.notes[0].contains("more than 200 messages"),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn files_go_fifteen_a_message_then_the_conversation_is_finished() {
        let mut t = thread(2, "open", false);
        t.attachments = 20;
        t.messages_with_files = 1;
        let scan = scan_of(vec![t], 1);
        let p = api(&scan, &settings(600));
        assert_eq!(p.calls["attachment"], 2 + 1);
    }

    #[test]
    fn the_database_path_makes_no_calls_and_counts_rows() {
        let scan = scan_of(vec![thread(2, "open", false)], 100);
        let p = postgres(&scan);
        assert_eq!(p.total_calls, 0);
        assert_eq!(p.rows, Some(110));
        assert!((p.seconds - 110.0 / POSTGRES_ROWS_PER_SECOND).abs() < 1e-9);
    }

    #[test]
    fn agents_match_by_email_whatever_the_case() {
        let scan = SourceScan {
            agent_emails: vec!["Ann@Example.com".into(), "bo@example.com".into()],
            ..SourceScan::default()
        };
        let left = unmatched_agents(&scan, &["ann@example.com".into()]);
        assert_eq!(left, vec!["bo@example.com".to_owned()]);
    }

    #[test]
    fn decimals_and_company_attributes_need_a_decision() {
        let mut scan = SourceScan::default();
        let seen = |model, name: &str, data_type| AttributeSeen {
            model,
            name: name.into(),
            data_type,
        };
        scan.attributes = vec![
            seen(AttributeModel::Contact, "plan", AttributeType::String),
            seen(AttributeModel::Contact, "score", AttributeType::Float),
            seen(AttributeModel::Company, "size", AttributeType::Integer),
        ];
        let names: Vec<String> = attributes_needing_decision(&scan)
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["score", "size"]);
    }
}
