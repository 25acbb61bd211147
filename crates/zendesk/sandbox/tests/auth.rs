//! §8.1: paths with or without `.json`; Basic `email/token:tok` and Bearer; 401 otherwise.

use crate::common::{Client, args, error, start};
use deskmove_zendesk_sandbox::Sandbox;

#[tokio::test]
async fn paths_answer_with_or_without_json_suffix() {
    let sb = start(args(50, 20)).await;
    let c = Client::new(&sb);
    let plain = c.ok("/api/v2/users/me").await;
    let suffixed = c.ok("/api/v2/users/me.json").await;
    assert_eq!(plain, suffixed);
    assert_eq!(plain["user"]["role"], "admin");
    let t = c.ok("/api/v2/tickets/1.json").await;
    assert_eq!(t["ticket"]["id"], 1);
    let (status, body) = c.get("/api/v2/no_such_thing.json").await;
    assert_eq!(status, 404);
    assert_eq!(error(&body), "InvalidEndpoint");
    sb.shutdown().await;
}

#[tokio::test]
async fn basic_email_token_and_bearer_are_accepted_anything_else_is_401() {
    let sb = start(args(50, 20)).await;
    let c = Client::new(&sb);
    let url = c.url("/api/v2/users/me.json");
    let basic = c
        .http
        .get(&url)
        .basic_auth(format!("{}/token", sb.email()), Some(sb.token()));
    assert_eq!(basic.send().await.unwrap().status(), 200);
    let upper = c.http.get(&url).basic_auth(
        format!("{}/token", sb.email().to_uppercase()),
        Some(sb.token()),
    );
    assert_eq!(
        upper.send().await.unwrap().status(),
        200,
        "emails compare case-insensitively"
    );
    let bearer = c.http.get(&url).bearer_auth(sb.token());
    assert_eq!(bearer.send().await.unwrap().status(), 200);
    let attempts = [
        c.http.get(&url),
        c.http.get(&url).bearer_auth("wrong"),
        c.http
            .get(&url)
            .basic_auth(format!("{}/token", sb.email()), Some("wrong")),
        c.http
            .get(&url)
            .basic_auth("someone@else.example/token", Some(sb.token())),
        // Password auth (`email:password`) is not an API token.
        c.http.get(&url).basic_auth(sb.email(), Some(sb.token())),
        c.http.get(format!("{url}?token={}", sb.token())),
    ];
    for a in attempts {
        let r = a.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.headers().get("x-rate-limit").is_none());
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], "Couldn't authenticate you");
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn the_ready_line_names_the_credentials_and_the_file_host() {
    let sb = start(args(20, 10)).await;
    let line = sb.ready_line();
    let base = sb.base_url().as_str().trim_end_matches('/').to_string();
    let files = sb.files_url().as_str().trim_end_matches('/').to_string();
    assert_eq!(
        line,
        format!(
            "base_url={base} token={} email={} files_url={files}",
            sb.token(),
            sb.email()
        )
    );
    assert_ne!(sb.base_url().port(), sb.files_url().port());
    let c = Client::new(&sb);
    assert_eq!(sb.inspect(), c.expected().await);
    sb.shutdown().await;
}
