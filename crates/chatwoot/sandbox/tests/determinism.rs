//! With a frozen clock the sandbox is a pure function of its seed and the calls it gets: two runs
//! give byte-identical dumps, timestamps included. Moving the clock is the only way time passes.

use std::time::Duration;

use deskmove_chatwoot_sandbox::SandboxArgs;
use deskmove_sandbox::Sandbox;
use serde_json::json;

use crate::common::Chatwoot;

/// 2023-11-14T22:13:20Z.
const FROZEN_AT: u64 = 1_700_000_000;

/// A few calls that write every kind of timestamp: contact, inbox with a webhook, conversation,
/// incoming and outgoing messages, a label, a status change and a last-seen mark.
async fn a_short_session() -> String {
    let chatwoot = Chatwoot::start_with(SandboxArgs {
        frozen_clock: Some(FROZEN_AT),
        ..SandboxArgs::default()
    })
    .await;
    let inbox = chatwoot
        .post(
            "/inboxes",
            json!({"name": "Import", "channel": {"type": "api", "webhook_url": "http://192.0.2.1/hook"}}),
        )
        .await
        .body["id"]
        .as_u64()
        .unwrap();
    let contact = chatwoot
        .contact(json!({"name": "Jane Roe", "email": "jane@example.com"}))
        .await;
    let conversation = chatwoot.conversation(inbox, contact).await;
    chatwoot
        .message(
            conversation,
            json!({"content": "Hello", "message_type": "incoming"}),
        )
        .await;
    chatwoot.sandbox.advance_clock(Duration::from_secs(90));
    chatwoot
        .message(conversation, json!({"content": "Hi {{contact.name}}"}))
        .await;
    chatwoot
        .post(
            "/canned_responses",
            json!({"short_code": "thanks", "content": "Thanks!"}),
        )
        .await;
    chatwoot
        .post(
            &format!("/conversations/{conversation}/toggle_status"),
            json!({"status": "resolved"}),
        )
        .await;
    chatwoot
        .post(
            &format!("/conversations/{conversation}/update_last_seen"),
            json!({}),
        )
        .await;
    let dump = chatwoot.inspect("dump").await.text().await.unwrap();
    chatwoot.sandbox.shutdown().await;
    dump
}

#[tokio::test]
async fn a_frozen_clock_gives_byte_identical_dumps() {
    let first = a_short_session().await;
    let second = a_short_session().await;
    assert_eq!(first, second);
    let dump: serde_json::Value = serde_json::from_str(&first).unwrap();
    // Timestamps are the frozen time, or that time plus what the test advanced.
    assert_eq!(dump["account"]["created_at"], "2023-11-14T22:13:20Z");
    let messages = dump["messages"].as_array().unwrap();
    assert_eq!(messages[0]["created_at"], "2023-11-14T22:13:20Z");
    assert_eq!(
        messages.last().unwrap()["created_at"],
        "2023-11-14T22:14:50Z",
        "{messages:?}"
    );
    assert_eq!(
        dump["canned_responses"][0]["created_at"],
        "2023-11-14T22:14:50Z"
    );
}

#[tokio::test]
async fn advancing_the_clock_lifts_the_flood_guard() {
    let chatwoot = Chatwoot::start_with(SandboxArgs {
        frozen_clock: Some(FROZEN_AT),
        message_limit: 2,
        ..SandboxArgs::default()
    })
    .await;
    let (_, _, conversation) = chatwoot.thread().await;
    for _ in 0..2 {
        let r = chatwoot
            .message(
                conversation,
                json!({"content": "x", "message_type": "incoming"}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let r = chatwoot
        .message(
            conversation,
            json!({"content": "x", "message_type": "incoming"}),
        )
        .await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    // A frozen clock never lets the minute pass by itself; moving it does.
    chatwoot.sandbox.advance_clock(Duration::from_secs(61));
    let r = chatwoot
        .message(
            conversation,
            json!({"content": "x", "message_type": "incoming"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}
