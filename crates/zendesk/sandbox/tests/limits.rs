//! §8.7: the account bucket with Zendesk's headers, every 429 shape, and the kit's faults.

use std::time::Duration;

use crate::common::{Client, args, start};
use deskmove_zendesk_sandbox::{Sandbox, SandboxArgs, TooManyStyle};

fn limited(style: TooManyStyle) -> SandboxArgs {
    SandboxArgs {
        rate_limit: 5,
        too_many_style: style,
        ..args(40, 20)
    }
}

#[tokio::test]
async fn every_answer_carries_zendesks_rate_headers() {
    let sb = start(SandboxArgs {
        rate_limit: 700,
        ..args(40, 20)
    })
    .await;
    let c = Client::new(&sb);
    let r1 = c.get_raw("/api/v2/users/me").await;
    let r2 = c.get_raw("/api/v2/tickets?per_page=2").await;
    let h =
        |r: &reqwest::Response, k: &str| r.headers()[k].to_str().unwrap().parse::<u64>().unwrap();
    assert_eq!(h(&r1, "x-rate-limit"), 700);
    assert_eq!(h(&r1, "x-rate-limit-remaining"), 699);
    assert_eq!(h(&r2, "x-rate-limit-remaining"), 698);
    assert_eq!(h(&r2, "ratelimit-limit"), 700);
    assert_eq!(h(&r2, "ratelimit-remaining"), 698);
    assert!((1..=60).contains(&h(&r2, "ratelimit-reset")));
    assert!(r2.headers().contains_key("zendesk-ratelimit-tickets-index"));
    // Off means no headers.
    let off = start(args(40, 20)).await;
    let r = Client::new(&off).get_raw("/api/v2/users/me").await;
    assert!(r.headers().get("x-rate-limit").is_none());
    sb.shutdown().await;
    off.shutdown().await;
}

async fn sixth_call(style: TooManyStyle) -> (reqwest::header::HeaderMap, String) {
    let sb = start(limited(style)).await;
    let c = Client::new(&sb);
    for _ in 0..5 {
        assert_eq!(c.get_raw("/api/v2/users/me").await.status(), 200);
    }
    let r = c.get_raw("/api/v2/users/me").await;
    assert_eq!(r.status(), 429);
    let headers = r.headers().clone();
    let body = r.text().await.unwrap();
    // The window resets with the sandbox clock.
    sb.advance_clock(Duration::from_secs(60));
    assert_eq!(c.get_raw("/api/v2/users/me").await.status(), 200);
    sb.shutdown().await;
    (headers, body)
}

#[tokio::test]
async fn the_429_shapes_are_selectable() {
    let (h, body) = sixth_call(TooManyStyle::Json).await;
    assert!(h.contains_key("retry-after"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "APIRateLimitExceeded");
    assert_eq!(h["x-rate-limit-remaining"], "0");

    let (h, body) = sixth_call(TooManyStyle::Text).await;
    assert!(h.contains_key("retry-after"));
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_err(),
        "not JSON: {body}"
    );

    let (h, body) = sixth_call(TooManyStyle::Edge).await;
    assert!(h.contains_key("retry-after"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["title"], "Automated response");
    assert_eq!(v["status"], "429");

    let (h, body) = sixth_call(TooManyStyle::NoRetryAfter).await;
    assert!(!h.contains_key("retry-after"));
    assert!(body.contains("rate limit"));
}

#[tokio::test]
async fn injected_faults_look_like_zendesks_own() {
    let storm = start(SandboxArgs {
        faults: "storm=1".parse().unwrap(),
        ..args(40, 20)
    })
    .await;
    let c = Client::new(&storm);
    let r = c.get_raw("/api/v2/users/me").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "APIRateLimitExceeded");
    // The inspection endpoints are never faulted.
    assert_eq!(
        c.http
            .get(c.url("/__sandbox/expected"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    storm.shutdown().await;

    let errors = start(SandboxArgs {
        faults: "5xx=1".parse().unwrap(),
        ..args(40, 20)
    })
    .await;
    let c = Client::new(&errors);
    let r = c.get_raw("/api/v2/users/me").await;
    assert!(r.status().is_server_error());
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["error"].is_string());
    errors.shutdown().await;

    let resets = start(SandboxArgs {
        faults: "reset=1".parse().unwrap(),
        ..args(40, 20)
    })
    .await;
    let c = Client::new(&resets);
    assert!(
        c.request("/api/v2/users/me").send().await.is_err(),
        "the connection closes"
    );
    resets.shutdown().await;
}
