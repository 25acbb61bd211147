//! §8.6: `content_url` on the API host answers 302 to a pre-signed second host that needs no
//! credentials and counts any that arrive; "secure downloads" needs them on the first hop.

use crate::common::{Client, args, start};
use deskmove_zendesk_sandbox::{RunningSandbox, Sandbox, SandboxArgs};
use serde_json::Value;

/// A regular attachment of some comment.
async fn some_attachment(sb: &RunningSandbox, c: &Client) -> Value {
    let v = sb.world().view();
    let i = (0..v.conversation_count())
        .find(|i| {
            v.conversation(*i)
                .unwrap()
                .parts
                .iter()
                .any(|p| p.kind.is_message() && !p.attachments.is_empty())
        })
        .unwrap();
    let page = c
        .ok(&format!(
            "/api/v2/tickets/{}/comments?page[size]=100",
            i + 1
        ))
        .await;
    page["comments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["attachments"].as_array().unwrap().clone())
        .find(|a| a["file_name"] != "redacted.txt")
        .unwrap()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn content_url_redirects_to_a_presigned_host_without_credentials() {
    let sb = start(args(200, 40)).await;
    let c = Client::new(&sb);
    let a = some_attachment(&sb, &c).await;
    let url = a["content_url"].as_str().unwrap();
    assert!(url.starts_with(sb.base_url().as_str().trim_end_matches('/')));
    assert!(
        url.contains("/attachments/token/") && url.contains("/?name="),
        "{url}"
    );
    let r = no_redirects().get(url).send().await.unwrap();
    assert_eq!(r.status(), 302, "no credentials needed on the first hop");
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(sb.files_url().as_str()), "{location}");
    // The second host needs nothing.
    let bytes = reqwest::get(&location)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.len() as u64, a["size"].as_u64().unwrap());
    // Following the redirect with credentials: reqwest drops them on the new host, no leak.
    let followed = c.request(url).send().await.unwrap();
    assert_eq!(followed.status(), 200);
    let got = followed.bytes().await.unwrap();
    let id = a["id"].as_u64().unwrap();
    let view = sb.world().view();
    let world = view.attachment(id).unwrap();
    assert_eq!(
        blake3::hash(&got).to_hex().to_string(),
        view.attachment_blake3(&world)
    );
    assert!(sb.leaked_credentials().is_empty());
    // A client that re-sends them by hand is caught.
    let leak = c.request(&location).send().await.unwrap();
    assert_eq!(leak.status(), 200);
    assert_eq!(sb.leaked_credentials().len(), 1);
    let stats = c
        .http
        .get(c.url("/__sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(stats["leaked_credentials"], 1);
    // Metadata, and a forged token.
    let meta = c.ok(&format!("/api/v2/attachments/{id}.json")).await;
    assert_eq!(meta["attachment"]["content_url"], a["content_url"]);
    let forged = url.replace("/token/", "/token/x");
    assert_eq!(
        no_redirects().get(&forged).send().await.unwrap().status(),
        404
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn signed_urls_expire_and_cannot_be_altered() {
    let sb = start(args(200, 40)).await;
    let c = Client::new(&sb);
    let a = some_attachment(&sb, &c).await;
    let r = no_redirects()
        .get(a["content_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let tampered = location.replace("signature=", "signature=0");
    assert_eq!(reqwest::get(&tampered).await.unwrap().status(), 403);
    sb.advance_clock(std::time::Duration::from_secs(601));
    assert_eq!(reqwest::get(&location).await.unwrap().status(), 403);
    sb.shutdown().await;
}

#[tokio::test]
async fn secure_downloads_need_credentials_on_the_first_hop_only() {
    let sb = start(SandboxArgs {
        secure_downloads: true,
        ..args(200, 40)
    })
    .await;
    let c = Client::new(&sb);
    let a = some_attachment(&sb, &c).await;
    let url = a["content_url"].as_str().unwrap();
    assert_eq!(no_redirects().get(url).send().await.unwrap().status(), 401);
    let r = no_redirects()
        .get(url)
        .basic_auth(format!("{}/token", sb.email()), Some(sb.token()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap();
    assert_eq!(reqwest::get(location).await.unwrap().status(), 200);
    assert_eq!(c.request(url).send().await.unwrap().status(), 200);
    assert!(sb.leaked_credentials().is_empty());
    sb.shutdown().await;
}
