//! Two sandboxes with the same seed and a frozen clock serve byte-identical responses.

use crate::common::{args, start};
use deskmove_zendesk_sandbox::{RunningSandbox, Sandbox, SandboxArgs};

const PATHS: &[&str] = &[
    "/api/v2/users/me.json",
    "/api/v2/users.json?per_page=50",
    "/api/v2/users.json?page[size]=20",
    "/api/v2/users/10000000003/identities.json",
    "/api/v2/organizations.json",
    "/api/v2/groups.json",
    "/api/v2/group_memberships.json",
    "/api/v2/tickets.json?page[size]=30",
    "/api/v2/tickets/8/comments.json?page[size]=50&include_inline_images=true",
    "/api/v2/tickets/8/comments.json?page=2",
    "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=80",
    "/api/v2/incremental/users/cursor.json?start_time=0",
    "/api/v2/incremental/tickets.json?start_time=0&per_page=50",
    "/api/v2/incremental/organizations.json?start_time=0",
    "/api/v2/incremental/ticket_events.json?start_time=0&include=comment_events&per_page=100",
    "/api/v2/ticket_fields.json",
    "/api/v2/macros.json",
    "/api/v2/satisfaction_ratings.json",
    "/api/v2/help_center/articles.json",
    "/api/v2/search.json?query=type:ticket",
    "/api/v2/tickets/999999.json",
    "/__sandbox/expected",
];

async fn capture(sb: &RunningSandbox) -> Vec<(u16, Vec<(String, String)>, Vec<u8>)> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    for path in PATHS {
        let url = sb.base_url().join(path.trim_start_matches('/')).unwrap();
        let r = http
            .get(url)
            .basic_auth(format!("{}/token", sb.email()), Some(sb.token()))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let mut headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .filter(|(k, _)| k.as_str() != "date")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        headers.sort();
        out.push((status, headers, r.bytes().await.unwrap().to_vec()));
    }
    out
}

#[tokio::test]
async fn same_seed_and_frozen_clock_give_the_same_bytes() {
    let base = SandboxArgs {
        rate_limit: 700,
        incremental_rate_limit: 10,
        ..args(150, 60)
    };
    let a = start(base.clone()).await;
    let (port, files_port) = (a.base_url().port().unwrap(), a.files_url().port().unwrap());
    let first = capture(&a).await;
    a.shutdown().await;
    let b = start(SandboxArgs {
        port,
        files_port,
        ..base.clone()
    })
    .await;
    let second = capture(&b).await;
    b.shutdown().await;
    for (n, (x, y)) in first.iter().zip(&second).enumerate() {
        assert_eq!(x.0, y.0, "{}", PATHS[n]);
        assert_eq!(x.1, y.1, "{}", PATHS[n]);
        assert!(x.2 == y.2, "{} differs", PATHS[n]);
    }
    let other = start(SandboxArgs { seed: 43, ..base }).await;
    let third = capture(&other).await;
    other.shutdown().await;
    assert_ne!(first[10].2, third[10].2, "another seed, another world");
}
