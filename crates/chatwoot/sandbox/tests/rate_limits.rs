//! rack-attack throttles (`../shared/research/chatwoot.md §3`): a burst client measures the
//! fixed window and the bare 429. The clock is frozen at the start of a minute, so no burst
//! straddles a window boundary and the boundary is reached by moving the clock, not by waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use deskmove_chatwoot_sandbox::SandboxArgs;
use deskmove_sandbox::Sandbox;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::Chatwoot;

/// A UNIX second at the start of a minute (a multiple of 60).
const MINUTE_START: u64 = 1_700_000_040;

/// Default arguments with the clock frozen at [`MINUTE_START`].
fn frozen() -> SandboxArgs {
    SandboxArgs {
        frozen_clock: Some(MINUTE_START),
        ..SandboxArgs::default()
    }
}

#[tokio::test]
async fn burst_meets_3000_per_minute_fixed_window_and_bare_429() {
    let chatwoot = Arc::new(Chatwoot::start_with(frozen()).await);
    let ok = Arc::new(AtomicUsize::new(0));
    let limited = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (chatwoot, ok, limited) =
            (Arc::clone(&chatwoot), Arc::clone(&ok), Arc::clone(&limited));
        tasks.push(tokio::spawn(async move {
            for _ in 0..200 {
                let r = chatwoot
                    .http
                    .get(chatwoot.url("/labels"))
                    .header("api_access_token", &chatwoot.token)
                    .send()
                    .await
                    .unwrap();
                match r.status() {
                    StatusCode::OK => ok.fetch_add(1, Ordering::Relaxed),
                    StatusCode::TOO_MANY_REQUESTS => limited.fetch_add(1, Ordering::Relaxed),
                    other => panic!("unexpected {other}"),
                };
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        ok.load(Ordering::Relaxed),
        3000,
        "exactly RACK_ATTACK_LIMIT calls pass in one window"
    );
    assert_eq!(limited.load(Ordering::Relaxed), 200);

    // The 429 is rack-attack's default: text/plain "Retry later\n", no Retry-After, no JSON.
    let r = chatwoot
        .http
        .get(chatwoot.url("/labels"))
        .header("api_access_token", &chatwoot.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert!(r.headers().get("retry-after").is_none());
    assert!(r.headers().get("x-ratelimit-remaining").is_none());
    assert_eq!(r.text().await.unwrap(), "Retry later\n");

    // Fixed window: refused until the next minute boundary, then allowed again at once.
    let labels = || async {
        chatwoot
            .http
            .get(chatwoot.url("/labels"))
            .header("api_access_token", &chatwoot.token)
            .send()
            .await
            .unwrap()
            .status()
    };
    let advanced = chatwoot
        .http
        .post(format!(
            "{}__sandbox/advance?seconds=59",
            chatwoot.sandbox.base_url()
        ))
        .send()
        .await
        .unwrap();
    let now: serde_json::Value = advanced.json().await.unwrap();
    assert_eq!(now["now"], MINUTE_START + 59);
    assert_eq!(labels().await, 429, "still the same window at :59");
    chatwoot.sandbox.advance_clock(Duration::from_secs(1));
    assert_eq!(labels().await, 200, "a new window at the minute boundary");
}

#[tokio::test]
async fn a_lower_limit_is_counted_per_client_and_zero_turns_it_off() {
    let args = SandboxArgs {
        rate_limit: 20,
        ..frozen()
    };
    let chatwoot = Chatwoot::start_with(args).await;
    let statuses: Vec<u16> = futures_lite(&chatwoot, 25).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 20);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 5);
    // The inspection endpoints are never throttled.
    let r = chatwoot.inspect("stats").await;
    assert_eq!(r.status(), 200);

    let off = Chatwoot::start_with(SandboxArgs {
        rate_limit: 0,
        ..frozen()
    })
    .await;
    let statuses = futures_lite(&off, 3100).await;
    assert!(statuses.iter().all(|s| *s == 200));
}

async fn futures_lite(chatwoot: &Chatwoot, n: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let r = chatwoot
            .http
            .get(chatwoot.url("/labels"))
            .header("api_access_token", &chatwoot.token)
            .send()
            .await
            .unwrap();
        out.push(r.status().as_u16());
    }
    out
}

#[tokio::test]
async fn upload_is_limited_to_60_per_hour_per_account() {
    let chatwoot = Chatwoot::start_with(frozen()).await;
    let mut last = None;
    for i in 0..61 {
        let part = reqwest::multipart::Part::bytes(b"png".to_vec())
            .file_name(format!("i{i}.png"))
            .mime_str("image/png")
            .unwrap();
        let form = reqwest::multipart::Form::new().part("attachment", part);
        let r = chatwoot
            .http
            .post(chatwoot.url("/upload"))
            .header("api_access_token", &chatwoot.token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        if i < 60 {
            assert_eq!(r.status(), 200, "upload {i}");
            let body: serde_json::Value = r.json().await.unwrap();
            assert!(
                body["file_url"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("i{i}.png"))
            );
        } else {
            last = Some((r.status(), r.text().await.unwrap()));
        }
    }
    assert_eq!(
        last,
        Some((StatusCode::TOO_MANY_REQUESTS, "Retry later\n".to_owned()))
    );
}

#[tokio::test]
async fn contact_search_is_limited_to_100_per_minute_per_account() {
    let chatwoot = Chatwoot::start_with(frozen()).await;
    chatwoot.contact(json!({"email": "s@example.com"})).await;
    for i in 0..100 {
        assert_eq!(
            chatwoot.get("/contacts/search?q=s").await.status,
            200,
            "search {i}"
        );
    }
    let r = chatwoot.get("/contacts/search?q=s").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.text, "Retry later\n");
    // Other routes are unaffected.
    assert_eq!(chatwoot.get("/contacts").await.status, 200);
}

#[tokio::test]
async fn injected_faults_and_latency_look_like_chatwoot() {
    let args = SandboxArgs {
        faults: "storm=1".parse().unwrap(),
        ..SandboxArgs::default()
    };
    let chatwoot = Chatwoot::start_with(args).await;
    let r = chatwoot.get("/labels").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.text, "Retry later\n");
    assert!(r.headers.get("retry-after").is_none());

    let args = SandboxArgs {
        faults: "5xx=1".parse().unwrap(),
        ..SandboxArgs::default()
    };
    let chatwoot = Chatwoot::start_with(args).await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..3 {
        let r = chatwoot.get("/labels").await;
        seen.insert(r.status.as_u16());
        if r.status == 500 {
            assert_eq!(
                r.body,
                json!({"status": 500, "error": "Internal Server Error"})
            );
        } else {
            assert!(r.text.contains("nginx"), "{}", r.text);
        }
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![500, 502, 503]);
    // The inspection endpoints are never faulted.
    let r = chatwoot.inspect("dump").await;
    assert_eq!(r.status(), 200);

    let chatwoot = Chatwoot::start_with(SandboxArgs {
        latency_ms: 150,
        ..SandboxArgs::default()
    })
    .await;
    let t = std::time::Instant::now();
    assert_eq!(chatwoot.get("/labels").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
}
