//! What Chatwoot does behind the caller's back (issue R1.3 §4), observed through the API and the
//! inspection dump (`../shared/research/chatwoot.md §0.8, §2.3, §2.4`).

mod common;

use common::Cw;
use reqwest::Method;
use serde_json::{Value, json};

/// Contents of the activity messages of a conversation, in order.
fn activities(cw: &Cw, conv: u64) -> Vec<String> {
    cw.stored_messages(conv)
        .iter()
        .filter(|m| m["message_type"] == "activity")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn auto_assignment_is_on_by_default_and_round_robin() {
    let cw = Cw::start().await;
    let r = cw
        .post(
            "/inboxes",
            json!({"name": "Default", "channel": {"type": "api"}}),
        )
        .await;
    assert_eq!(r.body["enable_auto_assignment"], true);
    let inbox = r.body["id"].as_u64().unwrap();
    let a = cw.agent("a@example.com", "Agent A").await;
    let b = cw.agent("b@example.com", "Agent B").await;
    let r = cw.add_members(inbox, &[a, b]).await;
    assert_eq!(r.body["payload"].as_array().unwrap().len(), 2);
    let mut assignees = Vec::new();
    for i in 0..3 {
        let contact = cw
            .contact(json!({"email": format!("c{i}@example.com")}))
            .await;
        let r = cw.open_conversation(inbox, contact).await;
        assignees.push(r.body["meta"]["assignee"]["id"].as_u64().unwrap());
        assert_eq!(
            activities(&cw, r.body["id"].as_u64().unwrap()),
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
    let off = cw.api_inbox("Quiet", false).await;
    cw.add_members(off, &[a]).await;
    let contact = cw.contact(json!({"email": "quiet@example.com"})).await;
    let r = cw.open_conversation(off, contact).await;
    assert!(
        r.body["meta"].get("assignee").is_none(),
        "{:?}",
        r.body["meta"]
    );
}

#[tokio::test]
async fn activity_messages_on_labels_status_priority_and_assignment() {
    let cw = Cw::start().await;
    let (_, _, conv) = cw.thread().await;
    let r = cw
        .post(
            &format!("/conversations/{conv}/labels"),
            json!({"labels": ["billing", "vip"]}),
        )
        .await;
    assert_eq!(r.body, json!({"payload": ["billing", "vip"]}));
    cw.post(
        &format!("/conversations/{conv}/labels"),
        json!({"labels": ["vip"]}),
    )
    .await;
    let r = cw
        .post(
            &format!("/conversations/{conv}/toggle_status"),
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(r.body["payload"]["current_status"], "resolved");
    assert_eq!(r.body["payload"]["conversation_id"], conv);
    cw.post(
        &format!("/conversations/{conv}/toggle_priority"),
        json!({"priority": "high"}),
    )
    .await;
    cw.post(
        &format!("/conversations/{conv}/assignments"),
        json!({"assignee_id": 1}),
    )
    .await;
    cw.post(
        &format!("/conversations/{conv}/assignments"),
        json!({"assignee_id": null}),
    )
    .await;
    assert_eq!(
        activities(&cw, conv),
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
    let r = cw
        .post(&format!("/conversations/{conv}/toggle_status"), json!({}))
        .await;
    assert_eq!(r.body["payload"]["current_status"], "open");
    assert_eq!(
        activities(&cw, conv).last().unwrap(),
        "Conversation was reopened by Sandbox Admin"
    );
}

#[tokio::test]
async fn an_incoming_message_reopens_a_resolved_conversation() {
    let cw = Cw::start().await;
    let (_, _, conv) = cw.thread().await;
    cw.post(
        &format!("/conversations/{conv}/toggle_status"),
        json!({"status": "resolved"}),
    )
    .await;
    cw.message(conv, json!({"content": "outgoing does not reopen"}))
        .await;
    assert_eq!(
        cw.get(&format!("/conversations/{conv}")).await.body["status"],
        "resolved"
    );
    cw.message(
        conv,
        json!({"content": "customer writes back", "message_type": "incoming"}),
    )
    .await;
    let c = cw.get(&format!("/conversations/{conv}")).await;
    assert_eq!(c.body["status"], "open");
    assert_eq!(
        activities(&cw, conv).last().unwrap(),
        "System reopened the conversation due to a new incoming message."
    );
}

#[tokio::test]
async fn incoming_messages_set_contact_last_activity_at_to_now() {
    let cw = Cw::start().await;
    let (_, contact, conv) = cw.thread().await;
    let before = cw.get(&format!("/contacts/{contact}")).await;
    assert!(before.body["payload"].get("last_activity_at").is_none());
    cw.message(
        conv,
        json!({"content": "hi", "message_type": "incoming", "external_created_at": 1_500_000_000}),
    )
    .await;
    let after = cw.get(&format!("/contacts/{contact}")).await;
    let at = after.body["payload"]["last_activity_at"].as_i64().unwrap();
    let now = jiff::Timestamp::now().as_second();
    assert!(
        (now - at).abs() <= 5,
        "last_activity_at {at} is not now ({now})"
    );
    // external_created_at only lands in content_attributes.
    let stored = cw.stored_messages(conv);
    assert_eq!(
        stored.last().unwrap()["content_attributes"]["external_created_at"],
        1_500_000_000
    );
}

#[tokio::test]
async fn messages_count_as_unread_until_update_last_seen() {
    let cw = Cw::start().await;
    let (_, _, conv) = cw.thread().await;
    for i in 0..12 {
        cw.message(
            conv,
            json!({"content": format!("q{i}"), "message_type": "incoming"}),
        )
        .await;
    }
    cw.message(conv, json!({"content": "answer"})).await;
    // unread_count counts incoming messages only and caps at 10.
    assert_eq!(
        cw.get(&format!("/conversations/{conv}")).await.body["unread_count"],
        10
    );
    let r = cw
        .post(
            &format!("/conversations/{conv}/update_last_seen"),
            json!({}),
        )
        .await;
    assert_eq!(r.body["unread_count"], 0);
    assert!(r.body["agent_last_seen_at"].as_i64().unwrap() > 0);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    cw.message(
        conv,
        json!({"content": "again", "message_type": "incoming"}),
    )
    .await;
    assert_eq!(
        cw.get(&format!("/conversations/{conv}")).await.body["unread_count"],
        1
    );
}

#[tokio::test]
async fn webhook_deliveries_are_recorded_not_sent() {
    let cw = Cw::start().await;
    let r = cw
        .post("/inboxes", json!({"name": "Hooked", "enable_auto_assignment": false,
                                  "channel": {"type": "api", "webhook_url": "http://192.0.2.1/hook"}}))
        .await;
    assert_eq!(r.body["webhook_url"], "http://192.0.2.1/hook");
    let inbox = r.body["id"].as_u64().unwrap();
    let contact = cw.contact(json!({"email": "h@example.com"})).await;
    let conv = cw.conversation(inbox, contact).await;
    cw.message(
        conv,
        json!({"content": "hello", "message_type": "incoming"}),
    )
    .await;
    cw.post(
        &format!("/conversations/{conv}/toggle_status"),
        json!({"status": "resolved"}),
    )
    .await;
    let dump: Value = cw.inspect("dump").await.json().await.unwrap();
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
}

#[tokio::test]
async fn dump_and_stats_are_served_over_http() {
    let cw = Cw::start().await;
    let (_, _, conv) = cw.thread().await;
    cw.message(conv, json!({"content": "x"})).await;
    let http: Value = cw.inspect("dump").await.json().await.unwrap();
    assert_eq!(http, cw.sb.dump());
    assert_eq!(http["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(http["messages"].as_array().unwrap().len(), 1);
    let stats: Value = cw.inspect("stats").await.json().await.unwrap();
    let route = &stats["routes"]["POST /api/v1/accounts/{account_id}/conversations/{id}/messages"];
    assert_eq!(route["calls"], 1, "{stats}");
    assert_eq!(stats["total_calls"], 4);
    // The platform app's token cannot be used on the Application API.
    let r = cw
        .call_as(
            cw.sb.platform_token(),
            Method::GET,
            &cw.url("/contacts"),
            None,
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn ready_line_names_url_account_and_token() {
    let cw = Cw::start().await;
    let line = cw.sb.ready_line();
    assert_eq!(
        line,
        format!(
            "base_url={} account_id=1 token={}",
            cw.sb.base_url(),
            cw.sb.token()
        )
    );
    assert_eq!(cw.sb.token().len(), 24);
    // Same seed, same token: sandboxes are deterministic.
    let again = Cw::start().await;
    assert_eq!(again.sb.token(), cw.sb.token());
}

#[tokio::test]
async fn auto_assignment_only_picks_online_agents() {
    let cw = Cw::start().await;
    let inbox = cw.api_inbox("Default", true).await;
    let a = cw.agent("a@example.com", "A").await;
    let b = cw.agent("b@example.com", "B").await;
    cw.add_members(inbox, &[a, b]).await;
    let r = cw
        .patch(&format!("/agents/{a}"), json!({"availability": "busy"}))
        .await;
    assert_eq!(r.body["availability_status"], "busy");
    for i in 0..2 {
        let contact = cw
            .contact(json!({"email": format!("o{i}@example.com")}))
            .await;
        let r = cw.open_conversation(inbox, contact).await;
        assert_eq!(r.body["meta"]["assignee"]["id"], b);
    }

    // Nobody signed in to the dashboard: only `auto_offline: false` agents are online.
    let absent = Cw::start_with(deskmove_chatwoot::sandbox::SandboxArgs {
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
