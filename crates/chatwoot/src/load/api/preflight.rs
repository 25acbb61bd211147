//! Before any write: what in the account would act on imported history behind our back.
//!
//! Chatwoot fires account webhooks and automation rules on every conversation and message event
//! (`webhook_listener.rb`, `automation_rule_listener.rb`), delivers outgoing messages of non-API
//! inboxes to the customer (`send_reply_job.rb`), and auto-assigns (and so notifies) in inboxes
//! with auto-assignment on (research/chatwoot.md §5). The inboxes this path writes into are API
//! inboxes it creates itself with auto-assignment, greeting and CSAT off; an existing inbox of
//! the same name is used only when it is just as quiet.

use deskmove_core::connector::Preflight;
use serde_json::Value;

use super::client::{Api, list};
use super::{ApiError, ApiOptions};

/// Checks the account; refusals name the setting to change (`force` turns them into warnings).
pub(crate) async fn run(api: &Api, options: &ApiOptions) -> Result<Preflight, ApiError> {
    let mut pre = Preflight::default();
    let refuse = |pre: &mut Preflight, text: String| {
        if options.force {
            pre.warnings
                .push(format!("{text} (loading anyway: force is set)"));
        } else {
            pre.refusals.push(text);
        }
    };
    // The token works for this account and can list its agents (administrator).
    api.get("agents").await?;

    let hooks = api.get("webhooks").await?;
    let hooks = hooks
        .pointer("/payload/webhooks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for h in &hooks {
        let url = h.get("url").and_then(Value::as_str).unwrap_or("?");
        let id = h.get("id").and_then(Value::as_u64).unwrap_or(0);
        refuse(
            &mut pre,
            format!(
                "The account has a webhook (id {id}, {url}) that would receive every imported conversation and message: remove it in Settings > Integrations > Webhooks (or DELETE /api/v1/accounts/{}/webhooks/{id}) for the import, then add it back.",
                options.account_id
            ),
        );
    }

    let rules = list(&api.get("automation_rules").await?);
    for r in rules
        .iter()
        .filter(|r| r["active"].as_bool().unwrap_or(true))
    {
        let name = r.get("name").and_then(Value::as_str).unwrap_or("?");
        let event = r.get("event_name").and_then(Value::as_str).unwrap_or("?");
        refuse(
            &mut pre,
            format!(
                "The automation rule \"{name}\" (on {event}) is active and would run on imported history: turn it off in Settings > Automation for the import."
            ),
        );
    }

    let inboxes = list(&api.get("inboxes").await?);
    let wanted: Vec<&String> = options.mapping.inboxes.values().collect();
    for i in &inboxes {
        let name = i.get("name").and_then(Value::as_str).unwrap_or_default();
        if !(wanted.iter().any(|w| w.as_str() == name) || name.ends_with(" (imported)")) {
            continue;
        }
        let id = i.get("id").and_then(Value::as_u64).unwrap_or(0);
        if i["channel_type"].as_str() != Some("Channel::Api") {
            refuse(
                &mut pre,
                format!(
                    "The inbox \"{name}\" (id {id}) history would go into is not an API-channel inbox: outgoing messages would be delivered to customers. Rename it, or map the channel to another inbox name in mapping.toml [inboxes]."
                ),
            );
            continue;
        }
        for (flag, what) in [
            (
                "enable_auto_assignment",
                "auto-assignment (agents would be notified)",
            ),
            ("greeting_enabled", "the greeting message"),
            ("csat_survey_enabled", "the CSAT survey"),
        ] {
            if i[flag].as_bool() == Some(true) {
                refuse(
                    &mut pre,
                    format!(
                        "The inbox \"{name}\" (id {id}) has {what} on: turn it off in the inbox's settings (`{flag}` = false) for the import."
                    ),
                );
            }
        }
        if i["webhook_url"].as_str().is_some_and(|u| !u.is_empty()) {
            refuse(
                &mut pre,
                format!(
                    "The API inbox \"{name}\" (id {id}) has a webhook URL that would receive every imported message: clear it in the inbox's settings for the import."
                ),
            );
        }
    }
    let bots = list(&api.get("agent_bots").await?);
    if !bots.is_empty() {
        pre.warnings.push(format!(
            "The account has {} agent bot(s); the inboxes this import creates have none connected.",
            bots.len()
        ));
    }
    pre.neutralised.push(
        "Conversations go into API-channel inboxes created with auto-assignment, greeting and CSAT off; they are created pending and assigned before being set to their state, so no agent is notified and nothing is reopened.".into(),
    );
    Ok(pre)
}
