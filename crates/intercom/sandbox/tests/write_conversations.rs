//! Conversation writes: created by a contact with `created_at` (answered with a message),
//! replies with their own `created_at` and at most 10 files of each kind, state parts stamped
//! with the write time, and the notification log for every customer-visible delivery.

use base64::Engine;
use serde_json::{Value, json};

use crate::common::{Client, WRITE_CLOCK, admin_id, error_code, start, write_args};
use deskmove_intercom_sandbox::{RunningSandbox, Sandbox};

/// A new user and a conversation they started; returns (contact id, conversation id).
async fn conversation(c: &Client, email: &str) -> (String, String) {
    let contact = c.created("/contacts", json!({"email": email})).await;
    let id = contact["id"].as_str().unwrap().to_string();
    let msg = c
        .created(
            "/conversations",
            json!({"from": {"type": "user", "id": id}, "body": "Hello", "created_at": 1_600_000_000}),
        )
        .await;
    (id, msg["conversation_id"].as_str().unwrap().to_string())
}

fn notifications(dump: &Value) -> usize {
    dump["notification_log"].as_array().unwrap().len()
}

async fn setup() -> (RunningSandbox, Client, String) {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let admin = admin_id(&sb);
    (sb, c, admin)
}

#[tokio::test]
async fn create_answers_a_message_keeps_created_at_and_html_as_text() {
    let (sb, c, _) = setup().await;
    let contact = c
        .created("/contacts", json!({"email": "h@example.org"}))
        .await;
    let id = contact["id"].as_str().unwrap();
    let msg = c
        .created(
            "/conversations",
            json!({"from": {"type": "user", "id": id}, "body": "<b>bold</b> & co", "created_at": 1_600_000_000}),
        )
        .await;
    assert_eq!(msg["type"], "user_message");
    assert_eq!(msg["message_type"], "inapp");
    assert_eq!(msg["created_at"], 1_600_000_000);
    // HTML is not supported in `body`: the markup arrives as text.
    assert_eq!(msg["body"], "<p>&lt;b&gt;bold&lt;/b&gt; &amp; co</p>");
    let cid = msg["conversation_id"].as_str().unwrap();
    let conv = c.ok(&format!("/conversations/{cid}")).await;
    assert_eq!(conv["created_at"], 1_600_000_000);
    assert_eq!(conv["source"]["type"], "conversation", "in-app only");
    assert_eq!(conv["source"]["author"]["id"], id);
    // Unknown contact, a wrong role, an id of the wrong length: 404 / 404 / 404.
    for from in [
        json!({"type": "user", "id": "ffffffffffffffffffffffff"}),
        json!({"type": "lead", "id": id}),
        json!({"type": "user", "id": "123"}),
    ] {
        let (status, out) = c
            .post("/conversations", json!({"from": from, "body": "x"}))
            .await;
        assert_eq!(status, 404, "{out}");
        assert_eq!(out["errors"][0]["message"], "User Not Found");
    }
    let (status, _) = c
        .post(
            "/conversations",
            json!({"from": {"type": "user", "id": id}}),
        )
        .await;
    assert_eq!(status, 400, "body is required");
    // Without created_at, the write time.
    let msg = c
        .created(
            "/conversations",
            json!({"from": {"type": "contact", "id": id}, "body": "now"}),
        )
        .await;
    assert_eq!(msg["created_at"], WRITE_CLOCK);
    sb.shutdown().await;
}

#[tokio::test]
async fn replies_keep_their_created_at_author_and_files() {
    let (sb, c, admin) = setup().await;
    let (contact, cid) = conversation(&c, "r@example.org").await;
    let path = format!("/conversations/{cid}/reply");
    let data = base64::engine::general_purpose::STANDARD.encode(b"hello file");
    let conv = c
        .created(
            &path,
            json!({"message_type": "note", "type": "admin", "admin_id": admin, "body": "<p>internal</p>",
                   "created_at": 1_600_000_100,
                   "attachment_urls": ["https://files.example.com/a/report.pdf"],
                   "attachment_files": [{"content_type": "text/plain", "data": data, "name": "hello.txt"}]}),
        )
        .await;
    assert_eq!(conv["type"], "conversation");
    let part = &conv["conversation_parts"]["conversation_parts"][0];
    assert_eq!(part["part_type"], "note");
    assert_eq!(part["created_at"], 1_600_000_100);
    assert_eq!(part["author"]["id"], admin.as_str());
    assert_eq!(part["attachments"].as_array().unwrap().len(), 2);
    let conv = c
        .created(
            &path,
            json!({"message_type": "comment", "type": "user", "intercom_user_id": contact,
                   "body": "thanks", "created_at": 1_600_000_200}),
        )
        .await;
    let part = &conv["conversation_parts"]["conversation_parts"][1];
    assert_eq!(
        (part["created_at"].as_i64(), part["author"]["type"].as_str()),
        (Some(1_600_000_200), Some("user"))
    );
    let dump = c.dump().await;
    let file = &dump["conversations"][0]["parts"][0]["attachments"][1];
    assert_eq!(file["filesize"], 10);
    assert_eq!(
        file["blake3"],
        blake3::hash(b"hello file").to_hex().to_string()
    );
    // 11 files of one kind are refused.
    let urls: Vec<String> = (0..11)
        .map(|i| format!("https://f.example.com/{i}.png"))
        .collect();
    let (status, _) = c
        .post(&path, json!({"message_type": "note", "type": "admin", "admin_id": admin, "body": "x", "attachment_urls": urls}))
        .await;
    assert_eq!(status, 400);
    let files: Vec<Value> = (0..11)
        .map(|i| json!({"content_type": "text/plain", "data": data, "name": format!("{i}.txt")}))
        .collect();
    let (status, _) = c
        .post(&path, json!({"message_type": "note", "type": "admin", "admin_id": admin, "body": "x", "attachment_files": files}))
        .await;
    assert_eq!(status, 400);
    // admin_id is required, and must be a current teammate.
    let (status, _) = c
        .post(
            &path,
            json!({"message_type": "note", "type": "admin", "body": "x"}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = c
        .post(
            &path,
            json!({"message_type": "note", "type": "admin", "admin_id": "1", "body": "x"}),
        )
        .await;
    assert_eq!(status, 404);
    // `last`: the contact's latest conversation.
    let conv = c
        .created(
            "/conversations/last/reply",
            json!({"message_type": "comment", "type": "user", "intercom_user_id": contact, "body": "again"}),
        )
        .await;
    assert_eq!(conv["id"], cid.as_str());
    let (status, out) = c
        .post(
            "/conversations/999/reply",
            json!({"message_type": "note", "type": "admin", "admin_id": admin, "body": "x"}),
        )
        .await;
    assert_eq!((status, error_code(&out).as_str()), (404, "not_found"));
    // A seeded conversation takes a reply as a written one does (`write_readback` has more).
    let seeded = sb.world().view().conversation(0).unwrap().id;
    let conv = c
        .created(
            &format!("/conversations/{seeded}/reply"),
            json!({"message_type": "note", "type": "admin", "admin_id": admin, "body": "x"}),
        )
        .await;
    assert_eq!(conv["id"], seeded.as_str());
    sb.shutdown().await;
}

#[tokio::test]
async fn state_parts_take_no_created_at() {
    let (sb, c, admin) = setup().await;
    let (_, cid) = conversation(&c, "s@example.org").await;
    let path = format!("/conversations/{cid}/parts");
    let team = sb.world().view().team(0).unwrap().id;
    let steps = [
        (
            json!({"message_type": "assignment", "type": "team", "admin_id": admin, "assignee_id": team, "created_at": 1}),
            "open",
        ),
        (
            json!({"message_type": "snoozed", "admin_id": admin, "snoozed_until": WRITE_CLOCK + 3_600, "created_at": 1}),
            "snoozed",
        ),
        (
            json!({"message_type": "open", "admin_id": admin, "created_at": 1}),
            "open",
        ),
        (
            json!({"message_type": "close", "type": "admin", "admin_id": admin, "created_at": 1}),
            "closed",
        ),
    ];
    for (i, (body, state)) in steps.into_iter().enumerate() {
        let conv = c.created(&path, body).await;
        assert_eq!(conv["state"], state);
        let part = &conv["conversation_parts"]["conversation_parts"][i];
        assert_eq!(
            part["created_at"], WRITE_CLOCK,
            "stamped when written: {part}"
        );
    }
    let conv = c.ok(&format!("/conversations/{cid}")).await;
    assert_eq!(conv["team_assignee_id"], team.parse::<u64>().unwrap());
    assert_eq!(conv["statistics"]["count_assignments"], 1);
    // Snoozing needs a future snoozed_until; an unknown assignee is 404.
    let (status, _) = c
        .post(&path, json!({"message_type": "snoozed", "admin_id": admin}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = c
        .post(
            &path,
            json!({"message_type": "snoozed", "admin_id": admin, "snoozed_until": WRITE_CLOCK - 1}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = c
        .post(&path, json!({"message_type": "assignment", "type": "admin", "admin_id": admin, "assignee_id": "42"}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        notifications(&c.dump().await),
        0,
        "silent state changes notify nobody"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn the_notification_log_records_every_customer_visible_delivery() {
    let (sb, c, admin) = setup().await;
    let (contact, cid) = conversation(&c, "nl@example.org").await;
    let path = format!("/conversations/{cid}/reply");
    let reply = |extra: Value| {
        let mut b = json!({"message_type": "comment", "type": "admin", "admin_id": admin, "body": "Hi", "created_at": 1_600_000_300});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    // Notes, contact replies and skipped comments (2.16) notify nobody.
    c.created(&path, reply(json!({"message_type": "note"})))
        .await;
    c.created(&path, json!({"message_type": "comment", "type": "user", "intercom_user_id": contact, "body": "q"})).await;
    let (status, _) = c
        .post_v("2.16", &path, reply(json!({"skip_notifications": true})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(notifications(&c.dump().await), 0);
    // A comment without the switch is delivered, even back-dated.
    c.created(&path, reply(json!({}))).await;
    // 2.14 has no skip_notifications on a reply: the comment still goes out.
    let (status, _) = c
        .post_v("2.14", &path, reply(json!({"skip_notifications": true})))
        .await;
    assert_eq!(status, 200);
    // A close with a message tells the customer.
    c.created(
        &format!("/conversations/{cid}/parts"),
        json!({"message_type": "close", "type": "admin", "admin_id": admin, "body": "Closing, thanks!"}),
    )
    .await;
    let dump = c.dump().await;
    let log = dump["notification_log"].as_array().unwrap();
    let kinds: Vec<&str> = log.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "conversation_reply",
            "conversation_reply",
            "conversation_part"
        ]
    );
    assert!(
        log.iter()
            .all(|n| n["contact_id"] == contact.as_str() && n["channel"] == "in_app")
    );
    let parts = dump["conversations"][0]["parts"].as_array().unwrap();
    assert_eq!(parts.iter().filter(|p| p["notified"] == true).count(), 3);
    sb.shutdown().await;
}
