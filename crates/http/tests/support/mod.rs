//! A scripted vendor on 127.0.0.1:0 for the client's tests: each test queues the replies it wants
//! (statuses, hint headers, stalls, broken connections) and reads back every call the server saw.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use deskmove_http::{HostPolicy, PoliteClient};
use futures::StreamExt;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// One reply the server gives to the next call.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Status, extra headers, body.
    Status(u16, Vec<(&'static str, String)>, &'static str),
    /// Never answer.
    Stall,
    /// Send headers announcing `Content-Length: 100`, then 10 bytes, then drop the connection.
    Truncated,
    /// Send headers announcing `Content-Length: 100` and 10 bytes, pause so they surely leave,
    /// then drop the connection: a body cut short after the head has arrived.
    CutMidBody,
    /// Send headers, then drop the connection before any body byte.
    DropAfterHeaders,
    /// The reply (decided when the call arrives) sent only after this long: network latency.
    Late(Duration, Box<Reply>),
}

/// What the server saw of one call.
#[derive(Debug, Clone)]
pub struct Hit {
    pub at: Instant,
    pub wall: Duration,
    pub method: Method,
    pub uri: String,
    pub headers: HeaderMap,
}

/// Decides the reply to a call that the queue does not cover.
pub type Fallback = Arc<dyn Fn(&Hit) -> Reply + Send + Sync>;

#[derive(Clone)]
pub struct Vendor {
    pub addr: SocketAddr,
    script: Arc<Mutex<VecDeque<Reply>>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    fallback: Arc<Mutex<Option<Fallback>>>,
    resets: Arc<AtomicU32>,
    reset_seen: Arc<AtomicU32>,
}

pub fn wall_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

impl Vendor {
    /// Starts a vendor that answers `200 {"ok":true}` unless scripted otherwise.
    pub async fn start() -> Self {
        let raw = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = raw.local_addr().unwrap();
        let vendor = Vendor {
            addr,
            script: Arc::default(),
            hits: Arc::default(),
            fallback: Arc::default(),
            resets: Arc::default(),
            reset_seen: Arc::default(),
        };
        let listener = ResettingListener {
            inner: raw,
            resets: vendor.resets.clone(),
            seen: vendor.reset_seen.clone(),
        };
        let app = Router::new().fallback(handle).with_state(vendor.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        vendor
    }

    pub fn base(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Queues replies for the next calls, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().extend(replies);
    }

    /// Decides replies once the queue is empty.
    pub fn fallback(&self, f: impl Fn(&Hit) -> Reply + Send + Sync + 'static) {
        *self.fallback.lock().unwrap() = Some(Arc::new(f));
    }

    /// The next `n` new connections are reset (RST) as soon as the request arrives.
    pub fn reset_next_connections(&self, n: u32) {
        self.resets.store(n, Ordering::SeqCst);
    }

    pub fn resets_done(&self) -> u32 {
        self.reset_seen.load(Ordering::SeqCst)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// A client for this vendor with test-sized durations.
    pub fn client(&self, policy: HostPolicy) -> PoliteClient {
        PoliteClient::builder(&self.base(), policy).build().unwrap()
    }
}

/// Small, fast defaults for tests: generous budget, short backoff.
pub fn fast_policy() -> HostPolicy {
    HostPolicy {
        calls_per_minute: 60_000,
        burst: 100,
        jitter: Duration::from_millis(5),
        max_attempts: 4,
        request_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        fixed_window_secs: None,
        max_server_wait: Duration::from_secs(30),
        rate_headers: Default::default(),
    }
}

async fn handle(
    State(v): State<Vendor>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let hit = Hit {
        at: Instant::now(),
        wall: wall_now(),
        method,
        uri: uri.to_string(),
        headers,
    };
    v.hits.lock().unwrap().push(hit.clone());
    let scripted = v.script.lock().unwrap().pop_front();
    let fallback = v.fallback.lock().unwrap().clone();
    let reply = scripted
        .or_else(|| fallback.map(|f| f(&hit)))
        .unwrap_or(Reply::Status(200, vec![], r#"{"ok":true}"#));
    render(reply).await
}

async fn render(reply: Reply) -> Response {
    match reply {
        Reply::Late(wait, reply) => {
            tokio::time::sleep(wait).await;
            Box::pin(render(*reply)).await
        }
        Reply::Status(code, headers, body) => {
            let mut r = Response::builder().status(StatusCode::from_u16(code).unwrap());
            for (k, val) in headers {
                r = r.header(k, val);
            }
            r.body(Body::from(body)).unwrap()
        }
        Reply::Stall => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Response::new(Body::empty())
        }
        Reply::Truncated => {
            let chunks: Vec<Result<&'static str, std::io::Error>> =
                vec![Ok("0123456789"), Err(std::io::Error::other("cut"))];
            Response::builder()
                .header("content-length", "100")
                .body(Body::from_stream(futures::stream::iter(chunks)))
                .unwrap()
        }
        Reply::CutMidBody => {
            let first = futures::stream::once(async { Ok(Bytes::from_static(b"0123456789")) });
            let cut = futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Err(std::io::Error::other("cut"))
            });
            Response::builder()
                .header("content-length", "100")
                .body(Body::from_stream(first.chain(cut)))
                .unwrap()
        }
        Reply::DropAfterHeaders => {
            let chunks: Vec<Result<&'static str, std::io::Error>> =
                vec![Err(std::io::Error::other("gone"))];
            Response::builder()
                .header("content-length", "20")
                .body(Body::from_stream(futures::stream::iter(chunks)))
                .unwrap()
        }
    }
}

/// Accepts connections for axum, except that scripted ones are reset by the "server" itself.
struct ResettingListener {
    inner: TcpListener,
    resets: Arc<AtomicU32>,
    seen: Arc<AtomicU32>,
}

impl axum::serve::Listener for ResettingListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.inner.accept().await else {
                continue;
            };
            let take = self
                .resets
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if !take {
                return (stream, addr);
            }
            let seen = self.seen.clone();
            tokio::spawn(async move {
                let mut stream = stream;
                let mut buf = [0u8; 1024];
                // Wait for the request, then abort the connection with RST.
                let _ = stream.read(&mut buf).await;
                let _ = stream.set_zero_linger();
                seen.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            });
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Everything the test binary's one subscriber writes, at TRACE (installed on first use).
pub fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .init();
        buf
    })
}

pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
