//! Faults observed from a real client over loopback.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use deskmove_sandbox::{
    CallStats, FaultInjector, Faults, InjectedFault, serve, with_call_stats, with_faults,
};

fn respond(fault: InjectedFault) -> Response {
    match fault {
        InjectedFault::ServerError(status) => (status, "vendor error").into_response(),
        InjectedFault::TooManyRequests => {
            (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response()
        }
    }
}

async fn start(faults: Faults, latency: Duration) -> (deskmove_sandbox::Server, Arc<CallStats>) {
    let body = "x".repeat(10_000);
    let router = Router::new()
        .route("/items/{id}", get(move || async move { body.clone() }))
        .route("/__sandbox/ping", get(|| async { "ok" }));
    let stats = Arc::new(CallStats::new());
    let injector = Arc::new(FaultInjector::new(faults, latency, 3, respond));
    let router = with_faults(with_call_stats(router, Arc::clone(&stats)), injector);
    (serve(router).await.unwrap(), stats)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

#[tokio::test]
async fn resets_and_truncations_fail_the_body_read() {
    for faults in ["reset=1", "truncate=1"] {
        let (server, _) = start(faults.parse().unwrap(), Duration::ZERO).await;
        let url = server.base_url().join("items/1").unwrap();
        let outcome = match client().get(url).send().await {
            Ok(response) => response.bytes().await.map(|b| b.len()),
            Err(e) => Err(e),
        };
        assert!(
            outcome.is_err(),
            "{faults}: expected a transport error, got {outcome:?}"
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn storms_and_server_errors_use_the_vendor_shape_but_inspection_is_never_faulted() {
    let (server, stats) = start("storm=1".parse().unwrap(), Duration::ZERO).await;
    let response = client()
        .get(server.base_url().join("items/1").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.text().await.unwrap(), "slow down");
    let ping = client()
        .get(server.base_url().join("__sandbox/ping").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), StatusCode::OK);
    assert_eq!(stats.snapshot()["GET /__sandbox/ping"].calls, 1);
    server.shutdown().await;

    let (server, _) = start("5xx=1".parse().unwrap(), Duration::ZERO).await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..6 {
        let r = client()
            .get(server.base_url().join("items/1").unwrap())
            .send()
            .await
            .unwrap();
        seen.insert(r.status().as_u16());
        assert_eq!(r.text().await.unwrap(), "vendor error");
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), [500, 502, 503]);
    server.shutdown().await;
}

#[tokio::test]
async fn slow_bodies_and_latency_take_their_time_and_stats_count_routes() {
    let (server, stats) = start("slow=1".parse().unwrap(), Duration::from_millis(100)).await;
    let started = Instant::now();
    let body = client()
        .get(server.base_url().join("items/7").unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body.len(), 10_000, "slow bodies arrive whole");
    assert!(
        started.elapsed() >= Faults::SLOW_BODY,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stats.snapshot()["GET /items/{id}"].calls, 1);
    assert_eq!(stats.total_calls(), 1);
    server.shutdown().await;
}
