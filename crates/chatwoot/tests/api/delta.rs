//! A delta run after changes in the staged records writes only the changes: a new message is
//! appended, a state and an attribute change are applied, nothing else is touched.

use deskmove_core::Record;
use deskmove_core::model::{ConversationState, Message};
use deskmove_sandbox::Sandbox;
use deskmove_store::{StagedBatch, Store};
use serde_json::json;

use crate::end_to_end::{assert_no_side_effects, load_world};
use crate::support;

fn route_calls(s: &deskmove_chatwoot_sandbox::RunningSandbox, suffix: &str) -> u64 {
    s.stats()
        .iter()
        .filter(|(r, _)| r.starts_with("POST ") && r.ends_with(suffix))
        .map(|(_, r)| r.calls)
        .sum()
}

#[tokio::test]
async fn a_delta_run_writes_only_the_changes() {
    let l = load_world(12, 8, 40).await;
    // Changes at the source: conversation 0 closed with a new reply, contact 0's plan changed.
    let all = l
        .staged
        .store
        .records(deskmove_core::RecordKind::Conversation, None, 1)
        .await
        .unwrap();
    let Record::Conversation(mut conv) = all[0].record.clone() else {
        panic!()
    };
    conv.state = if conv.state == ConversationState::Closed {
        ConversationState::Open
    } else {
        ConversationState::Closed
    };
    let messages = l
        .staged
        .store
        .records(deskmove_core::RecordKind::Message, None, 1)
        .await
        .unwrap();
    let Record::Message(first) = messages[0].record.clone() else {
        panic!()
    };
    let reply = Message {
        key: deskmove_core::SourceKey::new(
            "synth",
            deskmove_core::RecordKind::Message,
            format!("{}-99999", first.key.id),
        ),
        created_at: first
            .created_at
            .checked_add(jiff::SignedDuration::from_hours(24 * 400))
            .unwrap(),
        body_markdown: Some("A late reply, **after** the move started.".into()),
        body_html: None,
        attachments: vec![],
        ..first
    };
    let contacts = l
        .staged
        .store
        .records(deskmove_core::RecordKind::Contact, None, 1)
        .await
        .unwrap();
    let Record::Contact(mut contact) = contacts[0].record.clone() else {
        panic!()
    };
    contact
        .attributes
        .insert("plan".into(), json!("enterprise-delta"));
    let run = support::start(&l.staged.store, "export").await;
    let mut batch = StagedBatch::new(run, "test/delta");
    batch.records = vec![
        Record::Conversation(conv.clone()),
        Record::Message(reply.clone()),
        Record::Contact(contact.clone()),
    ];
    l.staged.store.put_batch(batch).await.unwrap();

    let before = support::writes(&l.sandbox);
    let messages_before = route_calls(&l.sandbox, "/messages");
    let report = support::load(&l.staged, &l.target, 40).await;
    let t = report.total();
    assert_eq!((t.loaded, t.updated, t.failed), (1, 2, 0), "{report:?}");
    assert_eq!(
        route_calls(&l.sandbox, "/messages") - messages_before,
        1,
        "one message appended"
    );
    let delta = support::writes(&l.sandbox) - before;
    // Contact update; the conversation's state (held, finished) and seen mark; the message
    // with the conversation held and finished around it.
    assert!(
        delta <= 10,
        "{delta} writes for three changes: {:?}",
        l.sandbox.stats()
    );

    let dump = l.sandbox.inspect();
    let c = dump["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["additional_attributes"]["deskmove_source"] == json!(conv.key.to_string()))
        .unwrap();
    let want = if conv.state == ConversationState::Closed {
        "resolved"
    } else {
        "open"
    };
    assert_eq!(c["status"], want);
    assert!(dump["messages"].as_array().unwrap().iter().any(|m| {
        m["source_id"] == json!(format!("synth:{}", reply.key.id))
            && m["content"] == json!("A late reply, **after** the move started.")
    }));
    let ct = dump["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["identifier"] == json!(contact.key.to_string()))
        .unwrap();
    assert_eq!(ct["custom_attributes"]["plan"], "enterprise-delta");
    assert_no_side_effects(&dump);
    // And the run after that writes nothing.
    let before = support::writes(&l.sandbox);
    support::load(&l.staged, &l.target, 40).await;
    assert_eq!(support::writes(&l.sandbox), before);
}
