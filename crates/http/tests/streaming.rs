//! Streamed answers and the file client, over real HTTP on 127.0.0.1: bodies arrive chunk by
//! chunk, a broken body is an error that leaves nothing in the blob store, and downloads reach
//! only the hosts a connector names, without any credential.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::support::{Reply, Vendor, captured, fast_policy};
use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use deskmove_core::{Classify, ErrorKind};
use deskmove_http::{Failure, FileClient, HostPolicy, HttpError, PoliteClient};
use deskmove_store::{BlobStore, MemoryStore, Store, blob_hash};
use futures::StreamExt;
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::sync::Notify;

const SIGNATURE: &str = "sigv4_9f8e7d6c5b4a39281706";
const TOKEN: &str = "dmtok_Zz9Yy8Xx7Ww6";

async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Deterministic file content: byte `i` of a file is a function of `i`.
fn content(start: usize, len: usize) -> Vec<u8> {
    (start..start + len)
        .map(|i| (i * 131 % 251) as u8)
        .collect()
}

/// A file of `len` bytes, generated in 64 KiB chunks, with its `Content-Length`.
fn generated(len: usize) -> Response {
    const CHUNK: usize = 64 * 1024;
    let chunks = (0..len).step_by(CHUNK).map(move |start| {
        Ok::<_, std::io::Error>(Bytes::from(content(start, CHUNK.min(len - start))))
    });
    Response::builder()
        .header("content-length", len.to_string())
        .header("content-type", "application/pdf")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap()
}

fn files(allowed: &[SocketAddr], policy: HostPolicy) -> FileClient {
    allowed
        .iter()
        .fold(FileClient::builder(policy), |b, a| {
            b.allow_host(a.to_string())
        })
        .build()
        .unwrap()
}

fn signed(addr: SocketAddr, path: &str) -> String {
    format!(
        "http://{addr}{path}?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature={SIGNATURE}&Expires=1767225600"
    )
}

fn names(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_body_streams_chunk_by_chunk() {
    // The server sends the second chunk only once the client has received the first: a client
    // that buffered the body would wait forever.
    let go_on = Arc::new(Notify::new());
    let gate = go_on.clone();
    let app = Router::new().route(
        "/file",
        get(move || {
            let gate = gate.clone();
            async move {
                let first =
                    futures::stream::once(async { Ok::<_, std::io::Error>(Bytes::from("first;")) });
                let second = futures::stream::once(async move {
                    gate.notified().await;
                    Ok(Bytes::from("second"))
                });
                Body::from_stream(first.chain(second))
            }
        }),
    );
    let addr = serve(app).await;
    let client = PoliteClient::builder(&format!("http://{addr}/"), fast_policy())
        .build()
        .unwrap();
    let response = client.send_streaming(client.get("file")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.content_length(), None, "chunked");
    let mut body = response.into_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .expect("the first chunk arrives before the body is complete")
        .unwrap()
        .unwrap();
    assert_eq!(first, "first;");
    go_on.notify_one();
    assert_eq!(body.next().await.unwrap().unwrap(), "second");
    assert!(body.next().await.is_none());
    assert_eq!(client.metrics().bytes_received, 12);
}

#[tokio::test]
async fn a_long_healthy_download_outlives_the_request_timeout_and_a_silent_one_fails() {
    let app = Router::new()
        .route(
            "/flowing",
            get(|| async {
                // 1.2 s in all, never silent for more than 100 ms.
                let ticks = futures::stream::iter(0..12).then(|_| async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok::<_, std::io::Error>(Bytes::from_static(b"0123456789"))
                });
                Body::from_stream(ticks)
            }),
        )
        .route(
            "/silent",
            get(|| async {
                let first =
                    futures::stream::once(async { Ok::<_, std::io::Error>(Bytes::from("x")) });
                Body::from_stream(first.chain(futures::stream::pending()))
            }),
        );
    let addr = serve(app).await;
    let policy = HostPolicy {
        request_timeout: Duration::from_millis(400),
        read_timeout: Duration::from_millis(400),
        ..fast_policy()
    };
    let client = PoliteClient::builder(&format!("http://{addr}/"), policy)
        .build()
        .unwrap();

    let body = client
        .send_streaming(client.get("flowing"))
        .await
        .unwrap()
        .into_stream();
    let chunks: Vec<Bytes> = body.map(Result::unwrap).collect().await;
    assert_eq!(chunks.iter().map(Bytes::len).sum::<usize>(), 120);

    let mut body = client
        .send_streaming(client.get("silent"))
        .await
        .unwrap()
        .into_stream();
    assert_eq!(body.next().await.unwrap().unwrap(), "x");
    let err = body.next().await.unwrap().unwrap_err();
    assert_eq!(err.failure(), Failure::Timeout);
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("no body bytes"), "{err}");
    assert!(body.next().await.is_none(), "one error, then the end");
}

#[tokio::test]
async fn a_body_cut_short_is_a_transient_error_and_put_stream_keeps_nothing() {
    let host = Vendor::start().await;
    let client = files(&[host.addr], fast_policy());

    host.script([Reply::CutMidBody]);
    let response = client.download(&signed(host.addr, "/f.pdf")).await.unwrap();
    assert_eq!(response.content_length(), Some(100));
    let chunks: Vec<_> = response.into_stream().collect().await;
    let err = chunks.last().unwrap().as_ref().unwrap_err();
    assert_eq!(err.failure(), Failure::Interrupted);
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(!err.to_string().contains(SIGNATURE), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::local(dir.path()).unwrap();
    let index = MemoryStore::new();
    host.script([Reply::CutMidBody]);
    let response = client.download(&signed(host.addr, "/f.pdf")).await.unwrap();
    let err = blobs
        .put_stream(&index, response.into_io_stream(), Some("application/pdf"))
        .await
        .unwrap_err();
    // The HTTP error travels inside the store's error, kind intact.
    let http = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<Arc<std::io::Error>>())
        .and_then(|io| io.get_ref())
        .and_then(|e| e.downcast_ref::<HttpError>())
        .expect("the download's HttpError inside the store error");
    assert_eq!(http.kind(), ErrorKind::Transient);
    assert!(names(&dir.path().join("blobs")).is_empty(), "no blob");
    assert!(names(&dir.path().join("tmp")).is_empty(), "no temp file");
    assert_eq!(
        index.blob(&blob_hash(b"0123456789")).await.unwrap(),
        None,
        "nothing indexed"
    );
}

#[tokio::test]
async fn the_same_file_streamed_twice_is_one_blob() {
    const LEN: usize = 1_500_000;
    let app = Router::new().route(
        "/files/{name}",
        get(|Path(_): Path<String>| async { generated(LEN) }),
    );
    let addr = serve(app).await;
    let client = files(&[addr], fast_policy());
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::local(dir.path()).unwrap();
    let index = MemoryStore::new();

    let mut metas = Vec::new();
    for name in ["a.pdf", "b.pdf"] {
        let response = client
            .download(&signed(addr, &format!("/files/{name}")))
            .await
            .unwrap();
        assert_eq!(response.content_length(), Some(LEN as u64));
        let content_type = response.content_type().map(str::to_owned);
        metas.push(
            blobs
                .put_stream(&index, response.into_io_stream(), content_type.as_deref())
                .await
                .unwrap(),
        );
    }
    assert_eq!(metas[0], metas[1]);
    assert_eq!(metas[0].hash, blob_hash(&content(0, LEN)));
    assert_eq!(metas[0].content_type.as_deref(), Some("application/pdf"));
    assert_eq!(
        names(&dir.path().join("blobs")),
        vec![metas[0].hash.clone()]
    );
    assert!(names(&dir.path().join("tmp")).is_empty());
    assert_eq!(client.metrics().bytes_received, 2 * LEN as u64);
}

#[tokio::test]
async fn a_download_to_a_host_not_named_is_refused_before_any_request() {
    let named = Vendor::start().await;
    let other = Vendor::start().await;
    let client = files(&[named.addr], fast_policy());

    let err = client
        .download(&signed(other.addr, "/f.png"))
        .await
        .unwrap_err();
    assert_eq!(err.failure(), Failure::ForeignHost);
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(err.attempt_count(), 0);
    let text = err.to_string();
    assert!(
        !text.contains(SIGNATURE) && !text.contains("AKIAEXAMPLE"),
        "{text}"
    );
    assert!(
        text.contains(&named.addr.to_string()),
        "names the allowed hosts: {text}"
    );
    assert!(!client.allows(&signed(other.addr, "/f.png")));
    assert!(client.allows(&signed(named.addr, "/f.png")));

    // Same host, other port; and a URL with a user name or password (a credential) in it.
    let other_port = format!("http://127.0.0.1:{}/f", other.addr.port());
    assert_eq!(
        client.download(&other_port).await.unwrap_err().failure(),
        Failure::ForeignHost
    );
    let with_user = format!("http://user:pw@{}/f", named.addr);
    let err = client.download(&with_user).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(!err.to_string().contains("pw@"), "{err}");

    assert_eq!(other.hits().len(), 0, "nothing reached the host not named");
    assert_eq!(named.hits().len(), 0);
}

#[tokio::test]
async fn a_redirect_is_followed_to_a_named_host_only() {
    let api = Vendor::start().await;
    let cdn = Vendor::start().await;
    let elsewhere = Vendor::start().await;

    // Named: followed, each hop on its own host.
    let client = files(&[api.addr, cdn.addr], fast_policy());
    api.script([Reply::Status(
        302,
        vec![("location", signed(cdn.addr, "/presigned"))],
        "",
    )]);
    let response = client
        .download(&format!("http://{}/attachments/token/Tk1/", api.addr))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.url().contains("/presigned") && !response.url().contains(SIGNATURE));
    let body: Vec<_> = response.into_stream().collect().await;
    assert_eq!(body[0].as_ref().unwrap().as_ref(), br#"{"ok":true}"#);
    assert_eq!((api.hits().len(), cdn.hits().len()), (1, 1));

    // Not named: refused, and the host it points to sees nothing.
    api.script([Reply::Status(
        302,
        vec![("location", signed(elsewhere.addr, "/x"))],
        "",
    )]);
    let err = client
        .download(&format!("http://{}/f", api.addr))
        .await
        .unwrap_err();
    assert_eq!(err.failure(), Failure::ForeignRedirect);
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(!err.to_string().contains(SIGNATURE), "{err}");
    assert!(
        err.to_string().contains(&elsewhere.addr.to_string()),
        "{err}"
    );
    assert_eq!(elsewhere.hits().len(), 0);

    // A loop ends.
    api.fallback(|_| Reply::Status(302, vec![("location", "/again".into())], ""));
    let err = client
        .download(&format!("http://{}/f", api.addr))
        .await
        .unwrap_err();
    assert_eq!(err.failure(), Failure::RedirectLoop);
}

#[tokio::test]
async fn no_credential_header_ever_reaches_the_file_host() {
    let host = Vendor::start().await;
    let cdn = Vendor::start().await;
    // The connector's API client for the same host carries a token; the file client must not.
    let api = PoliteClient::builder(&host.base(), fast_policy())
        .bearer_token(&SecretString::from(TOKEN))
        .build()
        .unwrap();
    api.send(api.get("me")).await.unwrap();
    let client = files(&[host.addr, cdn.addr], fast_policy());
    host.script([Reply::Status(
        302,
        vec![("location", signed(cdn.addr, "/f"))],
        "",
    )]);
    client.download(&signed(host.addr, "/f")).await.unwrap();
    client.download(&signed(host.addr, "/g")).await.unwrap();

    let hits: Vec<_> = host.hits().into_iter().skip(1).chain(cdn.hits()).collect();
    assert_eq!(hits.len(), 3);
    for hit in hits {
        for name in hit.headers.keys() {
            assert!(
                !deskmove_http::is_secret_header(name.as_str()),
                "{name} reached the file host on {}",
                hit.uri
            );
        }
        assert!(!format!("{:?}", hit.headers).contains(TOKEN));
        assert!(hit.headers.get("referer").is_none());
    }
    assert!(
        host.hits()[0].headers.contains_key("authorization"),
        "the API call had it"
    );
}

#[tokio::test]
async fn a_429_on_the_file_host_is_retried_under_the_shared_gate() {
    let host = Vendor::start().await;
    let client = files(&[host.addr], fast_policy());
    host.script([Reply::Status(
        429,
        vec![("retry-after", "1".into())],
        "slow down",
    )]);

    let first = tokio::spawn({
        let client = client.clone();
        let url = signed(host.addr, "/a");
        async move { client.download(&url).await.map(|r| r.status()) }
    });
    while host.hits().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A second download, by a clone, while the host is paused: it waits at the same gate.
    let second = client
        .clone()
        .download(&signed(host.addr, "/b"))
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(first.await.unwrap().unwrap(), StatusCode::OK);

    let hits = host.hits();
    assert_eq!(hits.len(), 3, "{hits:?}");
    for later in &hits[1..] {
        let waited = later.at - hits[0].at;
        assert!(
            waited >= Duration::from_millis(950),
            "a call left during the pause: {waited:?}"
        );
    }
    let m = client.metrics();
    assert_eq!((m.rate_limited, m.retries), (1, 1), "{m:?}");
    assert!(m.gate_wait >= Duration::from_millis(900), "{m:?}");
}

#[tokio::test]
async fn signed_url_secrets_never_reach_logs_or_errors() {
    let log = captured();
    let host = Vendor::start().await;
    let cdn = Vendor::start().await;
    let stranger = Vendor::start().await;
    let client = files(
        &[host.addr, cdn.addr],
        HostPolicy {
            max_attempts: 2,
            ..fast_policy()
        },
    );
    let mut errors: Vec<String> = Vec::new();

    host.script([
        Reply::Status(500, vec![], "oops"),
        Reply::Status(302, vec![("location", signed(cdn.addr, "/p"))], ""),
    ]);
    let ok = client.download(&signed(host.addr, "/a")).await.unwrap();
    errors.push(format!("{ok:?}"));
    host.script([Reply::Status(404, vec![], "no such file")]);
    errors.push(
        client
            .download(&signed(host.addr, "/b"))
            .await
            .unwrap_err()
            .to_string(),
    );
    host.script([Reply::Status(
        302,
        vec![("location", signed(stranger.addr, "/c"))],
        "",
    )]);
    errors.push(
        client
            .download(&signed(host.addr, "/c"))
            .await
            .unwrap_err()
            .to_string(),
    );
    errors.push(
        client
            .download(&signed(stranger.addr, "/d"))
            .await
            .unwrap_err()
            .to_string(),
    );
    host.script([Reply::CutMidBody]);
    let cut = client.download(&signed(host.addr, "/e")).await.unwrap();
    let chunks: Vec<_> = cut.into_stream().collect().await;
    errors.push(chunks.last().unwrap().as_ref().unwrap_err().to_string());
    errors.push(format!("{client:?}"));

    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("following a file host's redirect"),
        "logs were captured: {text}"
    );
    for (what, t) in errors
        .iter()
        .map(|e| ("an error", e.as_str()))
        .chain([("the log", text.as_str())])
    {
        for secret in [SIGNATURE, "AKIAEXAMPLE", "1767225600"] {
            assert!(!t.contains(secret), "{what} leaks {secret}: {t}");
        }
    }
    assert_eq!(stranger.hits().len(), 0);
}

#[tokio::test]
async fn an_error_answer_to_a_streamed_call_is_classified_like_any_other() {
    let app = Router::new().route(
        "/gone",
        get(|| async {
            let mut h = HeaderMap::new();
            h.insert("content-type", "application/json".parse().unwrap());
            (
                StatusCode::NOT_FOUND,
                h,
                r#"{"error":"Resource could not be found"}"#,
            )
                .into_response()
        }),
    );
    let addr = serve(app).await;
    let client = PoliteClient::builder(&format!("http://{addr}/"), fast_policy())
        .build()
        .unwrap();
    let err = client.send_streaming(client.get("gone")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.attempt_count(), 1, "not retried");
    assert_eq!(err.vendor_text(), Some("Resource could not be found"));
}

#[tokio::test]
async fn failures_before_the_head_are_retried_when_streaming() {
    let v = Vendor::start().await;
    let client = v.client(fast_policy());
    v.reset_next_connections(1);
    v.script([
        Reply::Status(503, vec![], "busy"),
        Reply::Status(200, vec![], "the file"),
    ]);
    let response = client.send_streaming(client.get("file")).await.unwrap();
    let body: Vec<_> = response.into_stream().collect().await;
    assert_eq!(body[0].as_ref().unwrap().as_ref(), b"the file");
    let m = client.metrics();
    assert_eq!((m.calls, m.retries), (3, 2), "{m:?}");
}
