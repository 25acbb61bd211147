//! Each fault kind as a real client sees it over loopback.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use deskmove_sandbox::{
    CallStats, FaultInjector, Faults, InjectedFault, Server, serve, with_call_stats, with_faults,
};

const BODY_LEN: usize = 10_000;

/// A made-up vendor that tells the storm's end in milliseconds, so tests wait no longer than it.
fn respond(fault: InjectedFault) -> Response {
    match fault {
        InjectedFault::ServerError(status) => (status, "vendor error").into_response(),
        InjectedFault::TooManyRequests { retry_after } => {
            let ms = retry_after.as_micros().div_ceil(1_000).to_string();
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after-ms", ms)],
                "slow down",
            )
                .into_response()
        }
    }
}

fn injector(faults: &str) -> FaultInjector {
    FaultInjector::new(faults.parse().unwrap(), Duration::ZERO, 3, respond)
}

async fn start(injector: FaultInjector) -> (Server, Arc<CallStats>) {
    let body = "x".repeat(BODY_LEN);
    let router = Router::new()
        .route("/items/{id}", get(move || async move { body.clone() }))
        .route("/__sandbox/ping", get(|| async { "ok" }));
    let stats = Arc::new(CallStats::new());
    let router = with_faults(
        with_call_stats(router, Arc::clone(&stats)),
        Arc::new(injector),
    );
    (serve(router).await.unwrap(), stats)
}

/// A fresh client with no pooled connections, so each request is seen on its own.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

async fn get_item(client: &reqwest::Client, server: &Server) -> reqwest::Result<reqwest::Response> {
    client
        .get(server.base_url().join("items/1").unwrap())
        .send()
        .await
}

#[tokio::test]
async fn server_errors_arrive_as_their_status_with_the_vendor_body() {
    let (server, _) = start(injector("5xx=1")).await;
    let mut seen = BTreeSet::new();
    for _ in 0..6 {
        let r = get_item(&client(), &server).await.unwrap();
        seen.insert(r.status().as_u16());
        assert_eq!(r.text().await.unwrap(), "vendor error");
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), [500, 502, 503]);
    server.shutdown().await;
}

#[tokio::test]
async fn resets_close_the_connection_without_a_response() {
    let (server, _) = start(injector("reset=1")).await;
    let outcome = get_item(&client(), &server).await;
    let error = outcome.expect_err("a reset gives no response");
    assert!(
        error.is_request() && !error.is_timeout(),
        "expected a connection error, got {error:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn storms_last_their_span_then_let_every_client_through() {
    let span = Duration::from_millis(800);
    let (server, stats) = start(injector("storm=1").with_storm_span(span)).await;
    let first = client();
    let mut ends = Vec::new();
    let mut last = span;
    for _ in 0..3 {
        let r = get_item(&first, &server).await.unwrap();
        let seen_at = Instant::now();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry_after = Duration::from_millis(
            r.headers()["retry-after-ms"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap(),
        );
        assert!(
            retry_after <= last,
            "one storm, one end: {retry_after:?} after {last:?}"
        );
        last = retry_after;
        ends.push(seen_at + retry_after);
        assert_eq!(r.text().await.unwrap(), "slow down");
    }
    // Inspection is never faulted, storm or not.
    let ping = first
        .get(server.base_url().join("__sandbox/ping").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), StatusCode::OK);
    assert_eq!(stats.snapshot()["GET /__sandbox/ping"].calls, 1);

    tokio::time::sleep_until(ends.into_iter().max().unwrap().into()).await;
    // Another client arriving after the span is not handed the storm's remainder.
    let second = get_item(&client(), &server).await.unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(second.text().await.unwrap().len(), BODY_LEN);
    let waited = get_item(&first, &server).await.unwrap();
    assert_eq!(
        waited.status(),
        StatusCode::OK,
        "waiting out the reset gets through"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn truncated_bodies_announce_the_full_length_and_stop_short() {
    let (server, _) = start(injector("truncate=1")).await;
    let mut response = get_item(&client(), &server)
        .await
        .expect("a truncated answer still has its status and headers");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-length"],
        BODY_LEN.to_string().as_str()
    );
    let mut read = 0;
    let error = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) => panic!("the body ended cleanly after {read} bytes"),
            Err(error) => break error,
        }
    };
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    assert!(
        0 < read && read < BODY_LEN,
        "read {read} of {BODY_LEN} bytes"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn slow_bodies_take_their_time_but_arrive_whole() {
    let (server, stats) = start(injector("slow=1")).await;
    let started = Instant::now();
    let response = get_item(&client(), &server).await.unwrap();
    assert_eq!(
        response.headers()["content-length"],
        BODY_LEN.to_string().as_str()
    );
    let body = response.text().await.unwrap();
    assert_eq!(body.len(), BODY_LEN, "slow bodies arrive whole");
    assert!(
        started.elapsed() >= Faults::SLOW_BODY,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stats.snapshot()["GET /items/{id}"].calls, 1);
    assert_eq!(stats.total_calls(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let latency = Duration::from_millis(200);
    let (server, _) = start(FaultInjector::new(Faults::none(), latency, 3, respond)).await;
    let started = Instant::now();
    let response = get_item(&client(), &server).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap().len(), BODY_LEN);
    assert!(started.elapsed() >= latency, "{:?}", started.elapsed());
    server.shutdown().await;
}
