//! The preflight refuses an account whose webhook or automation rules would act on imported
//! history, naming what to switch off; nothing is written until it passes (or `force`).

use deskmove_core::{Classify, ErrorKind, RecordKind, Target};
use deskmove_engine::LedgerRefs;
use serde_json::json;

use crate::support;

#[tokio::test]
async fn an_active_webhook_is_refused_by_name_and_nothing_is_written() {
    let sandbox = support::sandbox(support::quiet_args()).await;
    support::admin_post(
        &sandbox,
        "webhooks",
        json!({"url": "https://hooks.example.com/chatwoot", "subscriptions": ["message_created", "conversation_created"]}),
    )
    .await;
    support::admin_post(
        &sandbox,
        "automation_rules",
        json!({"name": "Auto-reply", "event_name": "message_created", "active": true,
               "conditions": [{"attribute_key": "message_type", "filter_operator": "equal_to", "values": ["incoming"], "query_operator": null}],
               "actions": [{"action_name": "send_message", "action_params": ["Thanks!"]}]}),
    )
    .await;
    let staged = support::staging();
    let target = support::target(&sandbox, &staged.blobs);
    let before = support::writes(&sandbox);
    let pre = target.preflight().await.unwrap();
    assert!(!pre.ok());
    let all = pre.refusals.join("\n");
    assert!(
        all.contains("webhook") && all.contains("hooks.example.com"),
        "{all}"
    );
    assert!(all.contains("Settings > Integrations > Webhooks"), "{all}");
    assert!(
        all.contains("Auto-reply") && all.contains("Settings > Automation"),
        "{all}"
    );
    // A load after a refused preflight writes nothing.
    let tag = deskmove_core::Record::Tag(deskmove_core::model::Tag {
        key: deskmove_core::SourceKey::new("synth", RecordKind::Tag, "1"),
        name: "vip".into(),
        extra: Default::default(),
    });
    let err = target
        .load(RecordKind::Tag, &[tag], &LedgerRefs::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(support::writes(&sandbox), before);

    // `--force` turns the refusals into warnings.
    let forced = support::target(&sandbox, &staged.blobs).with_force(true);
    let pre = forced.preflight().await.unwrap();
    assert!(pre.ok(), "{pre:?}");
    assert!(
        pre.warnings.iter().any(|w| w.contains("webhook")),
        "{pre:?}"
    );
}
