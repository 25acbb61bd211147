//! §8.9: redacted text (`▇`) and `redacted.txt`, voice comments with an external recording,
//! malware-flagged attachments, deleted users (`active:false`) and deleted groups.

use crate::common::{Client, args, start};
use deskmove_zendesk_sandbox::Sandbox;
use serde_json::Value;

async fn all_comments(c: &Client, tickets: u64) -> Vec<Value> {
    let mut out = Vec::new();
    for id in 1..=tickets {
        let path = format!("/api/v2/tickets/{id}/comments?page[size]=100");
        if c.get(&path).await.0 == 200 {
            out.extend(c.drain_cbp(&path, "comments").await);
        }
    }
    out
}

#[tokio::test]
async fn redactions_voice_comments_and_malware_flags_are_there() {
    let sb = start(args(150, 40)).await;
    let c = Client::new(&sb);
    let exp = c.expected().await;
    let comments = all_comments(&c, 150).await;
    let redacted: Vec<&Value> = comments
        .iter()
        .filter(|m| m["plain_body"].as_str().unwrap().contains('▇'))
        .collect();
    assert!(!redacted.is_empty());
    assert_eq!(
        redacted.len() as u64,
        exp["comments_redacted"].as_u64().unwrap()
    );
    for m in &redacted {
        let file = m["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["file_name"] == "redacted.txt")
            .unwrap();
        assert_eq!(file["size"], 0);
        let got = reqwest::get(file["content_url"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(got.status(), 200);
        assert!(got.bytes().await.unwrap().is_empty());
    }
    let voice: Vec<&Value> = comments
        .iter()
        .filter(|m| m["type"] == "VoiceComment")
        .collect();
    assert!(!voice.is_empty());
    assert_eq!(voice.len() as u64, exp["voice_comments"].as_u64().unwrap());
    let rec = voice[0]["data"]["recording_url"].as_str().unwrap();
    assert!(
        rec.starts_with(sb.files_url().as_str()),
        "an external host: {rec}"
    );
    assert_eq!(reqwest::get(rec).await.unwrap().status(), 200);
    let files: Vec<&Value> = comments
        .iter()
        .flat_map(|m| m["attachments"].as_array().unwrap())
        .collect();
    assert!(
        files
            .iter()
            .any(|a| a["malware_scan_result"] == "malware_found")
    );
    assert!(
        files
            .iter()
            .any(|a| a["malware_scan_result"] == "malware_not_found")
    );
    assert!(
        comments.iter().any(|m| m["public"] == false),
        "internal notes"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn deleted_users_and_groups_are_kept_and_flagged() {
    let sb = start(args(60, 80)).await;
    let c = Client::new(&sb);
    let exp = c.expected().await;
    // The agent at index 4 left; the end user at index 11 was deleted.
    let agent = c.ok("/api/v2/users/9000000004.json").await;
    assert_eq!(agent["user"]["active"], false);
    let end_user = c.ok("/api/v2/users/10000000011.json").await;
    assert_eq!(end_user["user"]["active"], false);
    assert_eq!(end_user["user"]["role"], "end-user");
    let listed = c.drain_cbp("/api/v2/users?page[size]=100", "users").await;
    assert!(
        listed.iter().all(|u| u["active"] == true),
        "the list leaves deleted users out"
    );
    assert_eq!(
        listed.len() as u64,
        exp["users"].as_u64().unwrap() - exp["users_deleted"].as_u64().unwrap()
    );
    let groups = c.ok("/api/v2/groups").await;
    let deleted = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["deleted"] == true)
        .count() as u64;
    assert_eq!(deleted, exp["groups_deleted"].as_u64().unwrap());
    let kept = c.ok("/api/v2/groups?exclude_deleted=true").await;
    assert!(
        kept["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["deleted"] == false)
    );
    sb.shutdown().await;
}
