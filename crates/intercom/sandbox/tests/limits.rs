//! Auth, rate limits and injected faults of the Intercom sandbox.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::{Client, args, error_code, start};
use deskmove_intercom_sandbox::{Sandbox, SandboxArgs};
use deskmove_sandbox::Faults;

fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

#[tokio::test]
async fn bad_or_missing_token_is_401_without_rate_headers() {
    let sb = start(SandboxArgs {
        rate_limit: 10_000,
        ..args(10, 10)
    })
    .await;
    let c = Client::new(&sb);
    for auth in [None, Some("Bearer wrong"), Some("Basic abc")] {
        let mut req = c.http.get(c.url("/contacts"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert!(
            r.headers().get("x-ratelimit-limit").is_none(),
            "no rate headers without credentials"
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(error_code(&body), "unauthorized");
        assert_eq!(body["errors"][0]["message"], "Access Token Invalid");
    }
    // Any Intercom-Version, or none, is accepted.
    for v in ["2.14", "2.16", "Unstable", "1.0"] {
        let r = c
            .http
            .get(c.url("/admins"))
            .bearer_auth(&c.token)
            .header("Intercom-Version", v)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "version {v}");
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn rate_limit_windows_headers_and_429_body() {
    // 60/min = 10 per 10-second window; the clock is frozen mid-window so the test is exact.
    let sb = start(SandboxArgs {
        rate_limit: 60,
        frozen_clock: Some(1_800_000_003),
        ..args(10, 10)
    })
    .await;
    let c = Client::new(&sb);
    for i in 0..10u64 {
        let r = c.get_raw("/teams").await;
        assert_eq!(r.status(), 200);
        let h = r.headers();
        assert_eq!(h["x-ratelimit-limit"], "10");
        assert_eq!(
            h["x-ratelimit-remaining"].to_str().unwrap(),
            (9 - i).to_string()
        );
        assert_eq!(h["x-ratelimit-reset"], "1800000010");
    }
    let r = c.get_raw("/teams").await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "rate_limit_exceeded");
    assert_eq!(
        body["errors"][0]["message"],
        "Exceeded rate limit of 10 in 10_seconds"
    );
    // Errors count against the window too, and still carry the headers.
    let r = c.get_raw("/conversations/nope").await;
    assert_eq!(r.status(), 429);
    // The next window opens at the reset time.
    sb.advance_clock(Duration::from_secs(7));
    let r = c.get_raw("/teams").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-ratelimit-remaining"], "9");
    assert_eq!(r.headers()["x-ratelimit-reset"], "1800000020");
    // The default 10,000/min is 1,667 per window.
    let d = start(SandboxArgs {
        rate_limit: 10_000,
        ..args(10, 10)
    })
    .await;
    let r = Client::new(&d).get_raw("/teams").await;
    assert_eq!(r.headers()["x-ratelimit-limit"], "1667");
    d.shutdown().await;
    sb.shutdown().await;
}

#[tokio::test]
async fn errors_are_always_error_lists() {
    let sb = start(args(10, 10)).await;
    let c = Client::new(&sb);
    let (status, body) = c.get("/no/such/route").await;
    assert_eq!((status, error_code(&body).as_str()), (404, "not_found"));
    let (status, body) = c.get("/contacts/000000000000000000000000").await;
    assert_eq!((status, error_code(&body).as_str()), (404, "not_found"));
    let r = c
        .http
        .post(c.url("/contacts/search"))
        .bearer_auth(&c.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16() / 100, 4);
    let body: serde_json::Value = r.json().await.unwrap();
    error_code(&body);
    let (status, body) = c
        .post(
            "/conversations/search",
            serde_json::json!({"query": {"field": "updated_at", "operator": ">=", "value": 1}}),
        )
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "parameter_invalid")
    );
    let (status, body) = c
        .post(
            "/conversations/search",
            serde_json::json!({"query": {"field": "created_at", "operator": ">", "value": 0}, "sort": {"field": "updated_at", "order": "sideways"}}),
        )
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "invalid_sort_order")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn injected_server_errors_and_storms_are_intercom_shaped() {
    let faults: Faults = "5xx=1.0".parse().unwrap();
    let sb = start(SandboxArgs {
        faults,
        ..args(10, 10)
    })
    .await;
    let c = Client::new(&sb);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (status, body) = c.get("/admins").await;
        assert!(
            ["server_error", "service_unavailable"].contains(&error_code(&body).as_str()),
            "{body}"
        );
        statuses.push(status);
    }
    statuses.sort();
    assert_eq!(statuses, [500, 502, 503]);
    // Inspection endpoints are never faulted.
    assert_eq!(c.get("/__sandbox/expected").await.0, 200);
    sb.shutdown().await;

    let sb = start(SandboxArgs {
        faults: "storm=1.0".parse().unwrap(),
        ..args(10, 10)
    })
    .await;
    let c = Client::new(&sb);
    // A storm lasts a span of time and advertises its end as the reset: a client that waits for
    // it gets through.
    let span = deskmove_sandbox::faults::STORM_SPAN.as_secs();
    let mut reset = 0;
    for _ in 0..5 {
        let r = c.get_raw("/admins").await;
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
        reset = r.headers()["x-ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap();
        let now = unix_now().as_secs();
        assert!(
            now <= reset && reset <= now + span + 1,
            "reset {reset} is the storm's end, now {now}"
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(error_code(&body), "rate_limit_exceeded");
    }
    let wait = Duration::from_secs(reset).saturating_sub(unix_now());
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    assert_eq!(
        c.get("/admins").await.0,
        200,
        "the storm is over at its reset"
    );
    sb.shutdown().await;

    // Truncated bodies: the client sees fewer bytes than announced.
    let sb = start(SandboxArgs {
        faults: "truncate=1.0".parse().unwrap(),
        ..args(10, 10)
    })
    .await;
    let c = Client::new(&sb);
    let got = match c
        .http
        .get(c.url("/admins"))
        .bearer_auth(&c.token)
        .send()
        .await
    {
        Ok(r) => r.bytes().await.map(|b| b.len()),
        Err(e) => Err(e),
    };
    assert!(
        got.is_err(),
        "a truncated body is an error for the client: {got:?}"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn resets_and_slow_bodies() {
    let sb = start(SandboxArgs {
        faults: "reset=1.0".parse().unwrap(),
        ..args(10, 10)
    })
    .await;
    let c = Client::new(&sb);
    let got = match c
        .http
        .get(c.url("/admins"))
        .bearer_auth(&c.token)
        .send()
        .await
    {
        Ok(r) => r.bytes().await.map(|b| b.len()),
        Err(e) => Err(e),
    };
    assert!(
        got.is_err(),
        "a reset connection is an error for the client: {got:?}"
    );
    sb.shutdown().await;

    let sb = start(SandboxArgs {
        faults: "slow=1.0".parse().unwrap(),
        ..args(10, 10)
    })
    .await;
    let c = Client::new(&sb);
    let t = std::time::Instant::now();
    let body = c.ok("/admins").await;
    assert_eq!(body["type"], "admin.list", "a slow body is still complete");
    assert!(t.elapsed() >= Duration::from_millis(1_000));
    sb.shutdown().await;
}

#[tokio::test]
async fn ready_line_and_expected_totals() {
    let sb = start(args(30, 20)).await;
    let line = sb.ready_line();
    assert_eq!(
        line,
        format!(
            "base_url={} token={} files_url={}",
            sb.base_url().as_str().trim_end_matches('/'),
            sb.token(),
            sb.files_url().as_str().trim_end_matches('/'),
        )
    );
    assert!(!line.contains('\n'));
    // The inspection endpoint and the trait answer the same totals.
    let expected_in_process = sb.inspect();
    let c = Client::new(&sb);
    // Unauthenticated inspection endpoints.
    let e: serde_json::Value = c
        .http
        .get(c.url("/__sandbox/expected"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for key in [
        "admins",
        "teams",
        "tags",
        "contacts",
        "companies",
        "companies_visible_in_list",
        "conversations",
        "conversation_parts",
        "articles",
        "collections",
        "macros",
        "tickets",
        "attachments",
    ] {
        assert!(e[key].is_u64(), "{key} in {e}");
    }
    assert_eq!(e["conversations"], 30);
    assert_eq!(e, expected_in_process);
    c.ok("/teams").await;
    let s: serde_json::Value = c
        .http
        .get(c.url("/__sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["calls"]["GET /teams"]["calls"], 1);
    assert_eq!(sb.stats()["GET /teams"].calls, 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn latency_is_added() {
    let sb = start(SandboxArgs {
        latency_ms: 150,
        ..args(10, 10)
    })
    .await;
    let c = Client::new(&sb);
    let t = std::time::Instant::now();
    c.ok("/teams").await;
    assert!(t.elapsed() >= Duration::from_millis(150));
    sb.shutdown().await;
}
