//! Failures that pass with time are retried and recover; the others are not retried; running out
//! of attempts gives the typed error with its kind and attempt count.

use std::time::Duration;

use crate::support::{Reply, Vendor, fast_policy};
use deskmove_core::{Classify, ErrorKind};
use deskmove_http::{Failure, HostPolicy};

fn status(code: u16, body: &'static str) -> Reply {
    Reply::Status(code, vec![], body)
}

#[tokio::test]
async fn server_errors_500_502_503_are_retried_and_recover() {
    let v = Vendor::start().await;
    v.script([
        status(500, "boom"),
        status(502, "bad gateway"),
        status(503, ""),
    ]);
    let c = v.client(fast_policy());

    let r = c.send(c.get("conversations/1")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["ok"], true);
    assert_eq!(v.hits().len(), 4);
    let m = c.metrics();
    assert_eq!((m.calls, m.retries, m.server_errors), (4, 3, 3));
    assert!(m.backoff_wait >= Duration::from_millis(60), "{m:?}");
}

#[tokio::test]
async fn not_found_and_validation_are_not_retried_and_typed() {
    let v = Vendor::start().await;
    // ../shared/research/chatwoot.md §1: Chatwoot's 404 and 422 bodies.
    v.script([
        status(404, r#"{"error":"Resource could not be found"}"#),
        status(
            422,
            r#"{"message":"Email has already been taken","attributes":["email"]}"#,
        ),
    ]);
    let c = v.client(fast_policy());

    let e = c.send(c.get("contacts/9")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(e.attempt_count(), 1);
    assert_eq!(e.vendor_text(), Some("Resource could not be found"));
    assert_eq!(v.hits().len(), 1);

    let e = c
        .send(
            c.post("contacts")
                .json(&serde_json::json!({"email": "a@b.c"})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(e.attempt_count(), 1);
    assert!(e.to_string().contains("422"), "{e}");
    assert!(
        e.to_string().contains("Email has already been taken"),
        "{e}"
    );
    assert_eq!(v.hits().len(), 2, "a 422 must not be retried");
    assert_eq!(c.metrics().retries, 0);
}

#[tokio::test]
async fn connection_reset_before_the_answer_is_retried_and_recovers() {
    let v = Vendor::start().await;
    v.reset_next_connections(2);
    let c = v.client(fast_policy());

    let r = c.send(c.get("contacts")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(v.resets_done(), 2);
    assert_eq!(v.hits().len(), 1, "only the third try reached the handler");
    let m = c.metrics();
    assert_eq!((m.transport_errors, m.retries), (2, 2));
}

#[tokio::test]
async fn drop_after_headers_and_truncated_body_are_retried_and_recover() {
    let v = Vendor::start().await;
    v.script([Reply::DropAfterHeaders, Reply::Truncated]);
    let c = v.client(fast_policy());

    let r = c.send(c.get("conversations/7")).await.unwrap();
    assert_eq!(r.body().as_ref(), br#"{"ok":true}"#);
    assert_eq!(v.hits().len(), 3);
    assert_eq!(c.metrics().transport_errors, 2);
}

#[tokio::test]
async fn stall_times_out_and_is_retried() {
    let v = Vendor::start().await;
    v.script([Reply::Stall]);
    let c = v.client(HostPolicy {
        request_timeout: Duration::from_millis(300),
        ..fast_policy()
    });

    let r = c.send(c.get("contacts")).await.unwrap();
    assert_eq!(r.status(), 200);
    let hits = v.hits();
    assert_eq!(hits.len(), 2);
    assert!(hits[1].at - hits[0].at >= Duration::from_millis(300));
}

#[tokio::test]
async fn endless_stall_ends_in_a_timeout_error() {
    let v = Vendor::start().await;
    v.fallback(|_| Reply::Stall);
    let c = v.client(HostPolicy {
        request_timeout: Duration::from_millis(200),
        max_attempts: 3,
        ..fast_policy()
    });

    let e = c.send(c.get("contacts")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(e.failure(), Failure::Timeout);
    assert_eq!(e.attempt_count(), 3);
    assert_eq!(v.hits().len(), 3);
    assert!(e.to_string().contains("after 3 attempts"), "{e}");
    assert_eq!(e.solution(), ErrorKind::Timeout.solution());
}

#[tokio::test]
async fn exhausted_attempts_give_the_typed_error_with_the_count() {
    let v = Vendor::start().await;
    v.fallback(|_| Reply::Status(503, vec![], "upstream down"));
    let c = v.client(HostPolicy {
        max_attempts: 5,
        ..fast_policy()
    });

    let e = c.send(c.get("contacts?per_page=50")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transient);
    assert_eq!(e.attempt_count(), 5);
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(e.method(), Some(&deskmove_http::reqwest::Method::GET));
    assert_eq!(
        e.url(),
        Some(format!("{}contacts?per_page=50", v.base()).as_str())
    );
    assert_eq!(e.vendor_text(), Some("upstream down"));
    assert_eq!(v.hits().len(), 5);
    let m = c.metrics();
    assert_eq!((m.calls, m.retries, m.server_errors), (5, 4, 5));
}

#[tokio::test]
async fn endless_bare_429_without_a_window_backs_off_then_fails_rate_limited() {
    let v = Vendor::start().await;
    v.fallback(|_| Reply::Status(429, vec![], "Retry later\n"));
    let c = v.client(HostPolicy {
        max_attempts: 3,
        ..fast_policy()
    });

    let e = c.send(c.get("contacts")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.attempt_count(), 3);
    assert_eq!(e.vendor_text(), Some("Retry later"));
    let hits = v.hits();
    assert_eq!(hits.len(), 3);
    // The backoff (at least backoff_base, doubling) separates the tries.
    assert!(hits[1].at - hits[0].at >= Duration::from_millis(20));
    assert!(hits[2].at - hits[1].at >= Duration::from_millis(40));
}

#[tokio::test]
async fn a_wait_longer_than_allowed_fails_at_once_with_the_hint() {
    let v = Vendor::start().await;
    v.script([Reply::Status(429, vec![("retry-after", "3600".into())], "")]);
    let c = v.client(fast_policy());

    let e = c.send(c.get("contacts")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(e.attempt_count(), 1);
    assert!(
        c.paused_for().is_none(),
        "an unheeded hint must not block the host"
    );
}

#[tokio::test]
async fn service_unavailable_with_retry_after_is_honoured() {
    let v = Vendor::start().await;
    v.script([Reply::Status(
        503,
        vec![("retry-after", "1".into())],
        "maintenance",
    )]);
    let c = v.client(fast_policy());

    c.send(c.get("contacts")).await.unwrap();
    let hits = v.hits();
    assert_eq!(hits.len(), 2);
    assert!(hits[1].at - hits[0].at >= Duration::from_secs(1));
}

#[tokio::test]
async fn send_with_rebuilds_a_multipart_upload_for_each_try() {
    use deskmove_http::reqwest::multipart::{Form, Part};
    let v = Vendor::start().await;
    v.script([status(502, "")]);
    let c = v.client(fast_policy());

    let r = c
        .send_with(|| {
            let file = Part::bytes(b"hello".to_vec()).file_name("a.txt");
            c.post("upload")
                .multipart(Form::new().part("attachments[]", file))
        })
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let hits = v.hits();
    assert_eq!(hits.len(), 2);
    assert!(
        hits[1].headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("multipart/form-data")
    );
}

#[tokio::test]
async fn a_streamed_body_that_cannot_be_replayed_is_tried_once() {
    let v = Vendor::start().await;
    v.script([status(500, "")]);
    let c = v.client(fast_policy());

    let chunks: Vec<Result<&'static str, std::io::Error>> = vec![Ok("data")];
    let body = deskmove_http::reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let e = c.send(c.post("stream").body(body)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transient);
    assert_eq!(e.attempt_count(), 1);
    assert!(e.to_string().contains("send_with"), "{e}");
    assert_eq!(v.hits().len(), 1);
}
