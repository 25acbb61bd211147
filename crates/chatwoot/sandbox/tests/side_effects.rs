//! What Chatwoot does behind the caller's back, observed through the API and the
//! inspection dump (`../shared/research/chatwoot.md §0.8, §2.3, §2.4`).

use crate::common::Chatwoot;
use deskmove_sandbox::Sandbox;
use reqwest::Method;
use serde_json::{Value, json};

/// Contents of the activity messages of a conversation, in order.
fn activities(chatwoot: &Chatwoot, conv: u64) -> Vec<String> {
    chatwoot
        .stored_messages(conv)
        .iter()
        .filter(|m| m["message_type"] == "activity")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn auto_assignment_is_on_by_default_and_round_robin() {
    let chatwoot = Chatwoot::start().await;
    let r = chatwoot
        .post(
            "/inboxes",
            json!({"name": "Default", "channel": {"type": "api"}}),
        )
        .await;
    assert_eq!(r.body["enable_auto_assignment"], true);
    let inbox = r.body["id"].as_u64().unwrap();
    let a = chatwoot.agent("a@example.com", "Agent A").await;
    let b = chatwoot.agent("b@example.com", "Agent B").await;
    let r = chatwoot.add_members(inbox, &[a, b]).await;
    assert_eq!(r.body["payload"].as_array().unwrap().len(), 2);
    let mut assignees = Vec::new();
    for i in 0..3 {
        let contact = chatwoot
            .contact(json!({"email": format!("c{i}@example.com")}))
            .await;
        let r = chatwoot.open_conversation(inbox, contact).await;
        assignees.push(r.body["meta"]["assignee"]["id"].as_u64().unwrap());
        assert_eq!(
            activities(&chatwoot, r.body["id"].as_u64().unwrap()),
            vec![format!(
                "Assigned to {} by Sandbox Admin",
                if assignees[i] == a {
                    "Agent A"
                } else {
                    "Agent B"
                }
            )]
        );
    }
    assert_eq!(assignees, vec![a, b, a]);
    // Disabled on the inbox: nobody is assigned.
    let off = chatwoot.api_inbox("Quiet", false).await;
    chatwoot.add_members(off, &[a]).await;
    let contact = chatwoot
        .contact(json!({"email": "quiet@example.com"}))
        .await;
    let r = chatwoot.open_conversation(off, contact).await;
    assert!(
        r.body["meta"].get("assignee").is_none(),
        "{:?}",
        r.body["meta"]
    );
}

#[tokio::test]
async fn activity_messages_on_labels_status_priority_and_assignment() {
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    let r = chatwoot
        .post(
            &format!("/conversations/{conv}/labels"),
            json!({"labels": ["billing", "vip"]}),
        )
        .await;
    assert_eq!(r.body, json!({"payload": ["billing", "vip"]}));
    chatwoot
        .post(
            &format!("/conversations/{conv}/labels"),
            json!({"labels": ["vip"]}),
        )
        .await;
    let r = chatwoot
        .post(
            &format!("/conversations/{conv}/toggle_status"),
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(r.body["payload"]["current_status"], "resolved");
    assert_eq!(r.body["payload"]["conversation_id"], conv);
    chatwoot
        .post(
            &format!("/conversations/{conv}/toggle_priority"),
            json!({"priority": "high"}),
        )
        .await;
    chatwoot
        .post(
            &format!("/conversations/{conv}/assignments"),
            json!({"assignee_id": 1}),
        )
        .await;
    chatwoot
        .post(
            &format!("/conversations/{conv}/assignments"),
            json!({"assignee_id": null}),
        )
        .await;
    assert_eq!(
        activities(&chatwoot, conv),
        vec![
            "Sandbox Admin added billing, vip",
            "Sandbox Admin removed billing",
            "Conversation was marked resolved by Sandbox Admin",
            "Sandbox Admin set the priority to high",
            "Sandbox Admin self-assigned this conversation",
            "Conversation unassigned by Sandbox Admin",
        ]
    );
    // Toggling with no status flips resolved → open.
    let r = chatwoot
        .post(&format!("/conversations/{conv}/toggle_status"), json!({}))
        .await;
    assert_eq!(r.body["payload"]["current_status"], "open");
    assert_eq!(
        activities(&chatwoot, conv).last().unwrap(),
        "Conversation was reopened by Sandbox Admin"
    );
}

#[tokio::test]
async fn an_incoming_message_reopens_a_resolved_conversation() {
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    chatwoot
        .post(
            &format!("/conversations/{conv}/toggle_status"),
            json!({"status": "resolved"}),
        )
        .await;
    chatwoot
        .message(conv, json!({"content": "outgoing does not reopen"}))
        .await;
    assert_eq!(
        chatwoot.get(&format!("/conversations/{conv}")).await.body["status"],
        "resolved"
    );
    chatwoot
        .message(
            conv,
            json!({"content": "customer writes back", "message_type": "incoming"}),
        )
        .await;
    let c = chatwoot.get(&format!("/conversations/{conv}")).await;
    assert_eq!(c.body["status"], "open");
    assert_eq!(
        activities(&chatwoot, conv).last().unwrap(),
        "System reopened the conversation due to a new incoming message."
    );
}

#[tokio::test]
async fn incoming_messages_set_contact_last_activity_at_to_now() {
    let chatwoot = Chatwoot::start().await;
    let (_, contact, conv) = chatwoot.thread().await;
    let before = chatwoot.get(&format!("/contacts/{contact}")).await;
    assert!(before.body["payload"].get("last_activity_at").is_none());
    chatwoot.message(
        conv,
        json!({"content": "hi", "message_type": "incoming", "external_created_at": 1_500_000_000}),
    )
    .await;
    let after = chatwoot.get(&format!("/contacts/{contact}")).await;
    let at = after.body["payload"]["last_activity_at"].as_i64().unwrap();
    let now = jiff::Timestamp::now().as_second();
    assert!(
        (now - at).abs() <= 5,
        "last_activity_at {at} is not now ({now})"
    );
    // external_created_at only lands in content_attributes.
    let stored = chatwoot.stored_messages(conv);
    assert_eq!(
        stored.last().unwrap()["content_attributes"]["external_created_at"],
        1_500_000_000
    );
}

#[tokio::test]
async fn messages_count_as_unread_until_update_last_seen() {
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    for i in 0..12 {
        chatwoot
            .message(
                conv,
                json!({"content": format!("q{i}"), "message_type": "incoming"}),
            )
            .await;
    }
    chatwoot.message(conv, json!({"content": "answer"})).await;
    // unread_count counts incoming messages only and caps at 10.
    assert_eq!(
        chatwoot.get(&format!("/conversations/{conv}")).await.body["unread_count"],
        10
    );
    let r = chatwoot
        .post(
            &format!("/conversations/{conv}/update_last_seen"),
            json!({}),
        )
        .await;
    assert_eq!(r.body["unread_count"], 0);
    assert!(r.body["agent_last_seen_at"].as_i64().unwrap() > 0);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    chatwoot
        .message(
            conv,
            json!({"content": "again", "message_type": "incoming"}),
        )
        .await;
    assert_eq!(
        chatwoot.get(&format!("/conversations/{conv}")).await.body["unread_count"],
        1
    );
}

#[tokio::test]
async fn webhook_deliveries_are_recorded_not_sent() {
    let chatwoot = Chatwoot::start().await;
    let r = chatwoot
        .post("/inboxes", json!({"name": "Hooked", "enable_auto_assignment": false,
                                  "channel": {"type": "api", "webhook_url": "http://192.0.2.1/hook"}}))
        .await;
    assert_eq!(r.body["webhook_url"], "http://192.0.2.1/hook");
    let inbox = r.body["id"].as_u64().unwrap();
    let contact = chatwoot.contact(json!({"email": "h@example.com"})).await;
    let conv = chatwoot.conversation(inbox, contact).await;
    chatwoot
        .message(
            conv,
            json!({"content": "hello", "message_type": "incoming"}),
        )
        .await;
    chatwoot
        .post(
            &format!("/conversations/{conv}/toggle_status"),
            json!({"status": "resolved"}),
        )
        .await;
    let dump: Value = chatwoot.inspect("dump").await.json().await.unwrap();
    let events: Vec<&str> = dump["webhook_deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        vec![
            "conversation_created",
            "message_created",
            "conversation_status_changed",
            // conversation.rb notify_conversation_updation: status is one of list_of_keys.
            "conversation_updated",
        ]
    );
    assert_eq!(
        dump["webhook_deliveries"][1]["url"],
        "http://192.0.2.1/hook"
    );
    assert_eq!(dump["webhook_deliveries"][1]["payload"]["content"], "hello");
    // Message#webhook_data: message_type by name, the event merged in.
    assert_eq!(
        dump["webhook_deliveries"][1]["payload"]["message_type"],
        "incoming"
    );
    // The side-effect log lists the same deliveries.
    let log: Value = chatwoot.inspect("side_effects").await.json().await.unwrap();
    assert_eq!(log["webhook_deliveries"], dump["webhook_deliveries"]);
}

#[tokio::test]
async fn dump_and_stats_are_served_over_http() {
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    chatwoot.message(conv, json!({"content": "x"})).await;
    let http: Value = chatwoot.inspect("dump").await.json().await.unwrap();
    assert_eq!(http, chatwoot.sandbox.inspect());
    assert_eq!(http["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(http["messages"].as_array().unwrap().len(), 1);
    let stats: Value = chatwoot.inspect("stats").await.json().await.unwrap();
    let route = &stats["routes"]["POST /api/v1/accounts/{account_id}/conversations/{id}/messages"];
    assert_eq!(route["calls"], 1, "{stats}");
    assert_eq!(stats["total_calls"], 4);
    // The same table in-process, typed.
    let typed = chatwoot.sandbox.stats();
    let route = "POST /api/v1/accounts/{account_id}/conversations/{id}/messages";
    assert_eq!(typed[route].calls, 1);
    assert_eq!(typed[route].statuses[&200], 1);
    // The platform app's token cannot be used on the Application API.
    let r = chatwoot
        .call_as(
            chatwoot.sandbox.platform_token(),
            Method::GET,
            &chatwoot.url("/contacts"),
            None,
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn ready_line_names_url_token_account_and_platform_token() {
    let chatwoot = Chatwoot::start().await;
    let line = chatwoot.sandbox.ready_line();
    let base_url = chatwoot.sandbox.base_url();
    assert!(
        base_url.as_str().ends_with('/'),
        "relative paths join under it"
    );
    assert_eq!(
        line,
        format!(
            "base_url={} token={} account_id=1 platform_token={}",
            base_url.as_str().trim_end_matches('/'),
            chatwoot.sandbox.token(),
            chatwoot.sandbox.platform_token()
        )
    );
    assert_eq!(chatwoot.sandbox.token().len(), 24);
    // Same seed, same token: sandboxes are deterministic.
    let again = Chatwoot::start().await;
    assert_eq!(again.sandbox.token(), chatwoot.sandbox.token());
}

#[tokio::test]
async fn auto_assignment_only_picks_online_agents() {
    let chatwoot = Chatwoot::start().await;
    let inbox = chatwoot.api_inbox("Default", true).await;
    let a = chatwoot.agent("a@example.com", "A").await;
    let b = chatwoot.agent("b@example.com", "B").await;
    chatwoot.add_members(inbox, &[a, b]).await;
    let r = chatwoot
        .patch(&format!("/agents/{a}"), json!({"availability": "busy"}))
        .await;
    assert_eq!(r.body["availability_status"], "busy");
    for i in 0..2 {
        let contact = chatwoot
            .contact(json!({"email": format!("o{i}@example.com")}))
            .await;
        let r = chatwoot.open_conversation(inbox, contact).await;
        assert_eq!(r.body["meta"]["assignee"]["id"], b);
    }

    // Nobody signed in to the dashboard: only `auto_offline: false` agents are online.
    let absent = Chatwoot::start_with(deskmove_chatwoot_sandbox::SandboxArgs {
        agents_absent: true,
        ..Default::default()
    })
    .await;
    let inbox = absent.api_inbox("Default", true).await;
    let a = absent
        .post(
            "/agents",
            json!({"email": "a@example.com", "name": "A", "role": "agent"}),
        )
        .await;
    assert_eq!(a.body["availability_status"], "offline");
    let a = a.body["id"].as_u64().unwrap();
    absent.add_members(inbox, &[a]).await;
    let contact = absent.contact(json!({"email": "x@example.com"})).await;
    let r = absent.open_conversation(inbox, contact).await;
    assert!(r.body["meta"].get("assignee").is_none());
    absent
        .patch(&format!("/agents/{a}"), json!({"auto_offline": false}))
        .await;
    let contact = absent.contact(json!({"email": "y@example.com"})).await;
    let r = absent.open_conversation(inbox, contact).await;
    assert_eq!(r.body["meta"]["assignee"]["id"], a);
}

// ---- The side-effect log: what Chatwoot would do outside itself. ----

/// An inbox of `channel` type (`email`, `web_widget`, …) with its settings.
async fn inbox_of(chatwoot: &Chatwoot, channel: &str, extra: Value) -> u64 {
    let mut body = json!({"name": channel, "channel": {"type": channel},
                          "enable_auto_assignment": false});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    let r = chatwoot.post("/inboxes", body).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["id"].as_u64().unwrap()
}

#[tokio::test]
async fn outgoing_messages_outside_api_inboxes_reach_the_customer() {
    // send_reply_job.rb: Email::SendOnEmailService, SendEmailNotificationService, channel services.
    let chatwoot = Chatwoot::start().await;
    let contact = chatwoot
        .contact(json!({"name": "Jane", "email": "cust@example.com"}))
        .await;
    let email = inbox_of(&chatwoot, "email", json!({})).await;
    let conv = chatwoot.conversation(email, contact).await;
    chatwoot.message(conv, json!({"content": "reply"})).await;
    chatwoot
        .message(conv, json!({"content": "note", "private": true}))
        .await;
    // A message that came from the channel (it has a source_id) is not sent back.
    chatwoot
        .message(conv, json!({"content": "echo", "source_id": "<m@mail>"}))
        .await;
    let log = chatwoot.side_effects().await;
    let deliveries = log["customer_deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "{log}");
    assert_eq!(deliveries[0]["via"], "Email::SendOnEmailService");
    assert_eq!(deliveries[0]["to"], "cust@example.com");
    assert_eq!(deliveries[0]["conversation_id"], conv);
    // A web widget emails the contact once per queued reply email (two minutes).
    let widget = inbox_of(&chatwoot, "web_widget", json!({})).await;
    let conv = chatwoot.conversation(widget, contact).await;
    chatwoot.message(conv, json!({"content": "one"})).await;
    chatwoot.message(conv, json!({"content": "two"})).await;
    chatwoot
        .sandbox
        .advance_clock(std::time::Duration::from_secs(121));
    chatwoot.message(conv, json!({"content": "three"})).await;
    let log = chatwoot.side_effects().await;
    let via: Vec<&str> = log["customer_deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["via"].as_str().unwrap())
        .collect();
    assert_eq!(
        via,
        [
            "Email::SendOnEmailService",
            "Messages::SendEmailNotificationService",
            "Messages::SendEmailNotificationService"
        ]
    );
    // An API inbox delivers nothing (email_continuity_on_api_channel is off).
    let (_, _, api) = chatwoot.thread().await;
    chatwoot.message(api, json!({"content": "quiet"})).await;
    let after = chatwoot.side_effects().await;
    assert_eq!(after["customer_deliveries"], log["customer_deliveries"]);
}

#[tokio::test]
async fn assignments_notify_the_agent() {
    // notification_listener.rb assignee_changed; account_user.rb default notification flags.
    let chatwoot = Chatwoot::start().await;
    let (inbox, _, conv) = chatwoot.thread().await;
    let a = chatwoot.agent("a@example.com", "Agent A").await;
    chatwoot.add_members(inbox, &[a]).await;
    chatwoot
        .post(
            &format!("/conversations/{conv}/assignments"),
            json!({"assignee_id": a}),
        )
        .await;
    chatwoot
        .message(conv, json!({"content": "hi", "message_type": "incoming"}))
        .await;
    // Self-assignment notifies nobody.
    let someone = chatwoot.contact(json!({"email": "s@example.com"})).await;
    let other = chatwoot.conversation(inbox, someone).await;
    chatwoot
        .post(
            &format!("/conversations/{other}/assignments"),
            json!({"assignee_id": 1}),
        )
        .await;
    let log = chatwoot.side_effects().await;
    assert_eq!(
        log["agent_notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| json!([
                n["user_id"],
                n["notification_type"],
                n["deliveries"],
                n["conversation_id"]
            ]))
            .collect::<Vec<_>>(),
        [
            json!([a, "conversation_assignment", ["email", "push"], conv]),
            json!([a, "assigned_conversation_new_message", [], conv]),
        ]
    );
}

#[tokio::test]
async fn greeting_and_csat_templates_are_written_and_logged() {
    // hook_execution_service.rb (greeting) and csat_survey_service.rb.
    let chatwoot = Chatwoot::start().await;
    let inbox = inbox_of(
        &chatwoot,
        "api",
        json!({"greeting_enabled": true, "greeting_message": "Hello {{contact.name}}",
               "csat_survey_enabled": true}),
    )
    .await;
    let contact = chatwoot
        .contact(json!({"name": "jane roe", "email": "jane@example.com"}))
        .await;
    let conv = chatwoot.conversation(inbox, contact).await;
    chatwoot
        .message(
            conv,
            json!({"content": "first", "message_type": "incoming"}),
        )
        .await;
    chatwoot
        .message(
            conv,
            json!({"content": "second", "message_type": "incoming"}),
        )
        .await;
    let path = format!("/conversations/{conv}/toggle_status");
    chatwoot.post(&path, json!({"status": "resolved"})).await;
    chatwoot.post(&path, json!({"status": "open"})).await;
    chatwoot.post(&path, json!({"status": "resolved"})).await;
    let templates: Vec<(String, String)> = chatwoot
        .stored_messages(conv)
        .iter()
        .filter(|m| m["message_type"] == "template")
        .map(|m| {
            (
                m["content"].as_str().unwrap().to_owned(),
                m["content_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        templates,
        [
            ("Hello Jane Roe".to_owned(), "text".to_owned()),
            (
                "Please rate the conversation".to_owned(),
                "input_csat".to_owned()
            ),
        ]
    );
    let log = chatwoot.side_effects().await;
    let kinds: Vec<&str> = log["template_messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["greeting", "csat_survey"]);
}

#[tokio::test]
async fn account_webhooks_are_managed_and_fire_on_their_events() {
    // webhooks_controller.rb, webhook.rb, webhook_listener.rb deliver_account_webhooks.
    let chatwoot = Chatwoot::start().await;
    let r = chatwoot
        .post(
            "/webhooks",
            json!({"webhook": {"url": "https://hooks.example.com/cw", "name": "CRM",
                   "subscriptions": ["message_created", "conversation_created"]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let hook = &r.body["payload"]["webhook"];
    assert_eq!(
        hook["subscriptions"],
        json!(["message_created", "conversation_created"])
    );
    let id = hook["id"].as_u64().unwrap();
    let r = chatwoot
        .post(
            "/webhooks",
            json!({"url": "https://other.example.com", "subscriptions": ["typo_event"]}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["message"], "Subscriptions Invalid events");
    let (_, _, conv) = chatwoot.thread().await;
    chatwoot.message(conv, json!({"content": "hello"})).await;
    let log = chatwoot.side_effects().await;
    let events: Vec<(&str, u64)> = log["webhook_deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["event"].as_str().unwrap(),
                d["webhook_id"].as_u64().unwrap(),
            )
        })
        .collect();
    // contact_created is not subscribed; conversation then message.
    assert_eq!(
        events,
        [("conversation_created", id), ("message_created", id)]
    );
    assert_eq!(
        log["webhook_deliveries"][1]["url"],
        "https://hooks.example.com/cw"
    );
    let listed = chatwoot.get("/webhooks").await;
    assert_eq!(listed.body["payload"]["webhooks"][0]["id"], id);
    let r = chatwoot
        .patch(
            &format!("/webhooks/{id}"),
            json!({"subscriptions": ["contact_created"]}),
        )
        .await;
    assert_eq!(
        r.body["payload"]["webhook"]["subscriptions"],
        json!(["contact_created"])
    );
    chatwoot.contact(json!({"email": "new@example.com"})).await;
    let r = chatwoot
        .call(Method::DELETE, &format!("/webhooks/{id}"), None)
        .await;
    assert_eq!(r.status, 200);
    chatwoot.contact(json!({"email": "late@example.com"})).await;
    let log = chatwoot.side_effects().await;
    let last: Vec<&str> = log["webhook_deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        last,
        ["conversation_created", "message_created", "contact_created"]
    );
    // Administrators only.
    let (_, token) = chatwoot.agent_with_token("ann@example.com", "Ann").await;
    let r = chatwoot
        .call_as(&token, Method::GET, &chatwoot.url("/webhooks"), None)
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn automation_rules_are_managed_and_fire_on_their_events() {
    // automation_rules_controller.rb, automation_rule.rb, automation_rule_listener.rb.
    let chatwoot = Chatwoot::start().await;
    let rule = json!({"name": "Tag incoming", "event_name": "message_created",
        "conditions": [{"attribute_key": "message_type", "filter_operator": "equal_to",
                        "values": ["incoming"], "query_operator": null}],
        "actions": [{"action_name": "add_label", "action_params": ["inbound"]}]});
    let r = chatwoot.post("/automation_rules", rule).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["event_name"], "message_created");
    assert_eq!(r.body["active"], true);
    let id = r.body["id"].as_u64().unwrap();
    let created = chatwoot
        .post(
            "/automation_rules",
            json!({"name": "On create", "event_name": "conversation_created", "conditions": [],
                   "actions": [{"action_name": "assign_team", "action_params": [1]}]}),
        )
        .await;
    let created_id = created.body["id"].as_u64().unwrap();
    let r = chatwoot
        .post(
            "/automation_rules",
            json!({"name": "Bad", "event_name": "message_created",
                   "conditions": [{"attribute_key": "shoe_size", "filter_operator": "equal_to",
                                   "values": ["9"], "query_operator": null}],
                   "actions": []}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        json!({"error": {"conditions": ["Automation conditions shoe_size not supported."]}})
    );
    let (_, _, conv) = chatwoot.thread().await;
    chatwoot
        .message(conv, json!({"content": "outgoing: no match"}))
        .await;
    chatwoot
        .message(conv, json!({"content": "help", "message_type": "incoming"}))
        .await;
    let log = chatwoot.side_effects().await;
    let runs: Vec<(u64, &str)> = log["automation_rule_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["automation_rule_id"].as_u64().unwrap(),
                r["event"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        runs,
        [
            (created_id, "conversation_created"),
            (id, "message_created")
        ]
    );
    assert_eq!(
        log["automation_rule_runs"][1]["actions"][0]["action_name"],
        "add_label"
    );
    // Switched off, it no longer fires.
    let r = chatwoot
        .patch(&format!("/automation_rules/{id}"), json!({"active": false}))
        .await;
    assert_eq!(r.body["payload"]["active"], false);
    chatwoot
        .message(
            conv,
            json!({"content": "again", "message_type": "incoming"}),
        )
        .await;
    let after = chatwoot.side_effects().await;
    assert_eq!(after["automation_rule_runs"], log["automation_rule_runs"]);
    let shown = chatwoot.get(&format!("/automation_rules/{id}")).await;
    assert_eq!(shown.body["payload"]["name"], "Tag incoming");
    assert_eq!(
        chatwoot.get("/automation_rules").await.body["payload"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let r = chatwoot
        .call(Method::DELETE, &format!("/automation_rules/{id}"), None)
        .await;
    assert_eq!(r.status, 200);
}
