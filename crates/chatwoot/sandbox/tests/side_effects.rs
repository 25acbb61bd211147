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
            "conversation_status_changed"
        ]
    );
    assert_eq!(
        dump["webhook_deliveries"][1]["url"],
        "http://192.0.2.1/hook"
    );
    assert_eq!(
        dump["webhook_deliveries"][1]["payload"]["message"]["content"],
        "hello"
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
