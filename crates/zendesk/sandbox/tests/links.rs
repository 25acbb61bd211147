//! §8.2: every next link is built from the request's own scheme and host and keeps the path as
//! the client wrote it (zenpy refuses links to another host).

use crate::common::{Client, args, start};
use deskmove_zendesk_sandbox::Sandbox;
use serde_json::Value;

async fn with_host(c: &Client, path: &str, host: &str) -> Value {
    c.request(path)
        .header("host", host)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn next_links_use_the_callers_host_and_path() {
    let sb = start(args(150, 40)).await;
    let c = Client::new(&sb);
    let host = "sim.zendesk.test:8443";
    let obp = with_host(&c, "/api/v2/users.json?per_page=10", host).await;
    let next = obp["next_page"].as_str().unwrap();
    assert!(
        next.starts_with("http://sim.zendesk.test:8443/api/v2/users.json?"),
        "{next}"
    );
    let cbp = with_host(&c, "/api/v2/tickets?page[size]=5", host).await;
    let next = cbp["links"]["next"].as_str().unwrap();
    assert!(
        next.starts_with("http://sim.zendesk.test:8443/api/v2/tickets?"),
        "{next}"
    );
    assert!(next.contains("page%5Bafter%5D="), "{next}");
    let export = with_host(
        &c,
        "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=10",
        host,
    )
    .await;
    let after = export["after_url"].as_str().unwrap();
    assert!(
        after.starts_with("http://sim.zendesk.test:8443/api/v2/incremental/tickets/cursor.json?"),
        "{after}"
    );
    let time = with_host(
        &c,
        "/api/v2/incremental/organizations?start_time=0&per_page=3",
        host,
    )
    .await;
    let next = time["next_page"].as_str().unwrap();
    assert!(
        next.starts_with("http://sim.zendesk.test:8443/api/v2/incremental/organizations?"),
        "{next}"
    );
    // Object URLs too, and attachment content URLs.
    let t = with_host(&c, "/api/v2/tickets/2.json", host).await;
    assert!(
        t["ticket"]["url"]
            .as_str()
            .unwrap()
            .starts_with("http://sim.zendesk.test:8443/")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn following_links_verbatim_walks_the_whole_list() {
    let sb = start(args(150, 40)).await;
    let c = Client::new(&sb);
    let users = c
        .drain_cbp("/api/v2/users.json?page[size]=7", "users")
        .await;
    let obp_first = c.ok("/api/v2/users.json?per_page=100").await;
    let count = obp_first["count"].as_u64().unwrap();
    assert_eq!(users.len() as u64, count);
    let mut ids: Vec<u64> = users.iter().map(|u| u["id"].as_u64().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len() as u64, count, "no duplicates across cursor pages");
    sb.shutdown().await;
}
