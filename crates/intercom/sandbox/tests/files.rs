//! The attachment host: signed URLs that really expire, bytes that match the world,
//! and recording of credentials sent where they do not belong.

use std::time::Duration;

use crate::common::{Client, args, start};
use deskmove_intercom_sandbox::{Sandbox, SandboxArgs};

/// A conversation id with at least one attachment and its first attachment URL.
async fn some_attachment(
    c: &Client,
    sb: &deskmove_intercom_sandbox::RunningSandbox,
) -> (String, u64, String) {
    let v = sb.world().view();
    let conv = (0..v.conversation_count())
        .filter_map(|i| v.conversation(i))
        .find(|c| c.parts.iter().any(|p| !p.attachments.is_empty()))
        .unwrap();
    let body = c.ok(&format!("/conversations/{}", conv.id)).await;
    let part = body["conversation_parts"]["conversation_parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| !p["attachments"].as_array().unwrap().is_empty())
        .unwrap();
    let a = &part["attachments"][0];
    (
        a["url"].as_str().unwrap().to_string(),
        a["filesize"].as_u64().unwrap(),
        a["name"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn signed_urls_serve_the_world_bytes_then_expire() {
    let sb = start(SandboxArgs {
        attachment_ttl: Duration::from_secs(120),
        ..args(200, 50)
    })
    .await;
    let c = Client::new(&sb);
    let (url, size, _) = some_attachment(&c, &sb).await;
    let parsed = url::Url::parse(&url).unwrap();
    assert_eq!(
        parsed.port(),
        sb.files_url().port(),
        "files come from the second host"
    );
    assert_ne!(parsed.port(), sb.base_url().port());
    assert!(
        parsed.query_pairs().any(|(k, _)| k == "expires")
            && parsed.query_pairs().any(|(k, _)| k == "signature")
    );
    let bytes = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, size);
    let id: u64 = parsed
        .path_segments()
        .unwrap()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    let v = sb.world().view();
    let truth = v.attachment(id).unwrap();
    assert_eq!(
        blake3::hash(&bytes).to_hex().to_string(),
        v.attachment_blake3(&truth)
    );
    // Tampered signature.
    let bad = url.replace("signature=", "signature=0");
    assert_eq!(reqwest::get(&bad).await.unwrap().status(), 403);
    // Two minutes later the same URL is refused; re-fetching the conversation gives a fresh one.
    sb.advance_clock(Duration::from_secs(121));
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("expired"));
    let (fresh, _, _) = some_attachment(&c, &sb).await;
    assert_ne!(fresh, url);
    assert_eq!(reqwest::get(&fresh).await.unwrap().status(), 200);
    assert!(sb.leaked_credentials().is_empty());
    sb.shutdown().await;
}

#[tokio::test]
async fn inline_images_in_bodies_are_signed_too() {
    let sb = start(args(600, 100)).await;
    let c = Client::new(&sb);
    let v = sb.world().view();
    let conv = (0..600)
        .filter_map(|i| v.conversation(i))
        .find(|c| {
            c.parts.iter().any(|p| {
                p.body
                    .as_deref()
                    .is_some_and(|b| b.contains("deskmove-attachment://"))
            })
        })
        .unwrap();
    let body = c
        .ok(&format!("/conversations/{}", conv.id))
        .await
        .to_string();
    assert!(!body.contains("deskmove-attachment://"));
    let files = sb.files_url().to_string();
    let start_at = body.find(&files).unwrap();
    let url: String = body[start_at..]
        .chars()
        .take_while(|c| *c != '\\' && *c != '"')
        .collect::<String>()
        .replace("&amp;", "&");
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200, "{url}");
    sb.shutdown().await;
}

#[tokio::test]
async fn authorization_headers_on_file_requests_are_recorded_as_leaks() {
    let sb = start(args(200, 50)).await;
    let c = Client::new(&sb);
    let (url, _, _) = some_attachment(&c, &sb).await;
    let r = c.http.get(&url).bearer_auth(&c.token).send().await.unwrap();
    assert_eq!(r.status(), 200, "the file is still served");
    let leaks = sb.leaked_credentials();
    assert_eq!(leaks.len(), 1);
    assert!(leaks[0].was_api_token);
    assert_eq!(leaks[0].scheme, "Bearer");
    // The record never contains the secret.
    let stats = c.ok("/__sandbox/stats").await.to_string();
    assert!(stats.contains("leaked_credentials") && stats.contains("was_api_token"));
    assert!(!stats.contains(&c.token));
    sb.shutdown().await;
}
