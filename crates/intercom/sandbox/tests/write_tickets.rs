//! Tickets (created and replied to with `created_at`, one contact, `skip_notifications`),
//! outbound messages (always a delivery) and the rate window shared with reads.

use serde_json::json;

use crate::common::{Client, WRITE_CLOCK, admin_id, args, error_code, start, write_args};
use deskmove_intercom_sandbox::{Sandbox, SandboxArgs};

#[tokio::test]
async fn tickets_keep_created_at_take_one_contact_and_notify_unless_skipped() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let admin = admin_id(&sb);
    let types = c.ok("/ticket_types").await;
    let ty = types["data"][0]["id"].as_str().unwrap().to_string();
    let contact = c
        .created("/contacts", json!({"email": "tk@example.org"}))
        .await;
    let id = contact["id"].as_str().unwrap();
    let ticket = |extra: serde_json::Value| {
        let mut b = json!({"ticket_type_id": ty, "contacts": [{"id": id}], "created_at": 1_500_000_000,
            "ticket_attributes": {"_default_title_": "Broken", "_default_description_": "It broke"}});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    for bad in [
        json!({"contacts": []}),
        json!({"contacts": [{"id": id}, {"email": "other@example.org"}]}),
        json!({"ticket_attributes": {}}),
    ] {
        let (status, out) = c.post("/tickets", ticket(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {out}");
    }
    let (status, _) = c
        .post("/tickets", ticket(json!({"ticket_type_id": "1"})))
        .await;
    assert_eq!(status, 404);
    let t = c
        .created("/tickets", ticket(json!({"skip_notifications": true})))
        .await;
    assert_eq!(
        (t["type"].as_str(), t["created_at"].as_i64()),
        (Some("ticket"), Some(1_500_000_000))
    );
    assert_eq!(t["ticket_attributes"]["_default_title_"], "Broken");
    assert_eq!(
        c.dump().await["notification_log"].as_array().unwrap().len(),
        0
    );
    let tid = t["id"].as_str().unwrap();
    let path = format!("/tickets/{tid}/reply");
    let part = c
        .created(
            &path,
            json!({"message_type": "comment", "type": "admin", "admin_id": admin, "body": "On it",
            "created_at": 1_500_000_100, "skip_notifications": true}),
        )
        .await;
    assert_eq!(
        (part["type"].as_str(), part["created_at"].as_i64()),
        (Some("ticket_part"), Some(1_500_000_100))
    );
    // An unknown email creates the contact; without skip_notifications the contact is told.
    c.created(
        "/tickets",
        ticket(json!({"contacts": [{"email": "fresh@example.org"}]})),
    )
    .await;
    c.created(
        &path,
        json!({"message_type": "comment", "type": "admin", "admin_id": admin, "body": "Done"}),
    )
    .await;
    let dump = c.dump().await;
    let kinds: Vec<&str> = dump["notification_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ticket_created", "ticket_reply"]);
    assert!(
        dump["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["email"] == "fresh@example.org")
    );
    assert_eq!(dump["tickets"][0]["parts"][1]["created_at"], WRITE_CLOCK);
    sb.shutdown().await;
}

#[tokio::test]
async fn outbound_messages_are_always_deliveries() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let admin: i64 = admin_id(&sb).parse().unwrap();
    let contact = c
        .created("/contacts", json!({"email": "out@example.org"}))
        .await;
    let to = json!({"type": "user", "id": contact["id"]});
    let (status, out) = c
        .post("/messages", json!({"message_type": "email", "body": "Hi", "from": {"type": "admin", "id": admin}, "to": to}))
        .await;
    assert_eq!(
        (status, error_code(&out).as_str()),
        (422, "parameter_not_found"),
        "email needs a subject"
    );
    let (status, out) = c
        .post(
            "/messages",
            json!({"message_type": "in_app", "from": {"type": "admin", "id": admin}, "to": to}),
        )
        .await;
    assert_eq!(
        (status, out["errors"][0]["message"].as_str()),
        (400, Some("Body is required"))
    );
    let msg = c
        .created(
            "/messages",
            json!({"message_type": "email", "subject": "Welcome", "body": "Hi",
            "from": {"type": "admin", "id": admin}, "to": to, "created_at": 1_400_000_000,
            "create_conversation_without_contact_reply": true}),
        )
        .await;
    assert_eq!(
        (msg["type"].as_str(), msg["message_type"].as_str()),
        (Some("admin_message"), Some("email"))
    );
    let cid = msg["conversation_id"].as_str().unwrap();
    let conv = c.ok(&format!("/conversations/{cid}")).await;
    assert_eq!(
        (conv["source"]["type"].as_str(), conv["created_at"].as_i64()),
        (Some("email"), Some(1_400_000_000))
    );
    let dump = c.dump().await;
    let log = dump["notification_log"].as_array().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0]["kind"].as_str(), log[0]["channel"].as_str()),
        (Some("outbound_message"), Some("email"))
    );
    // A comment on that email conversation goes out by email.
    c.created(&format!("/conversations/{cid}/reply"),
        json!({"message_type": "comment", "type": "admin", "admin_id": admin.to_string(), "body": "Following up"}))
        .await;
    let dump = c.dump().await;
    assert_eq!(dump["notification_log"][1]["channel"], "email");
    sb.shutdown().await;
}

#[tokio::test]
async fn writes_share_the_rate_window_with_reads() {
    // 60/min = 10 per 10-second window, frozen mid-window.
    let sb = start(SandboxArgs {
        rate_limit: 60,
        frozen_clock: Some(1_800_000_003),
        ..args(10, 10)
    })
    .await;
    let c = Client::new(&sb);
    for i in 0..5 {
        c.created("/contacts", json!({"email": format!("rl{i}@example.org")}))
            .await;
    }
    for _ in 0..5 {
        c.ok("/admins").await;
    }
    let r = c
        .http
        .post(c.url("/contacts"))
        .bearer_auth(&c.token)
        .json(&json!({"email": "over@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["message"],
        "Exceeded rate limit of 10 in 10_seconds"
    );
    // The refused write left nothing behind.
    let dump = c.dump().await;
    assert_eq!(dump["contacts"].as_array().unwrap().len(), 5);
    sb.shutdown().await;
}
