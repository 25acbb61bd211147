//! A large attachment download through `FileClient` into `BlobStore::put_stream`, measuring
//! throughput and how much the process's resident memory grows while the file passes through.
//!
//!     cargo run --release -p deskmove-http --example streaming_bench [megabytes=200]
//!
//! The file is generated chunk by chunk by a loopback server in the same process (it never
//! exists whole in memory), so the growth measured covers the server, the client and the store
//! together: an upper bound for the client side alone. Writes `bench/results/streaming.json`.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use deskmove_http::{FileClient, HostPolicy};
use deskmove_store::{BlobStore, MemoryStore};
use futures::StreamExt;

/// Chunk the server sends at a time.
const CHUNK: usize = 64 * 1024;
/// The acceptance goal: peak resident memory grows by less than this during the transfer.
const GOAL_KB: u64 = 20 * 1024;

/// Chunk `i` of the file: distinct per chunk so the hash covers real, varying content.
fn chunk(i: u64, len: usize) -> Bytes {
    let mut out = vec![0u8; len];
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for b in &mut out {
        // xorshift64: cheap enough not to be the bottleneck.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    Bytes::from(out)
}

fn chunk_len(total: u64, i: u64) -> usize {
    (total - i * CHUNK as u64).min(CHUNK as u64) as usize
}

fn chunks(total: u64) -> u64 {
    total.div_ceil(CHUNK as u64)
}

/// A `/proc/self/status` field in kB.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the peak (VmHWM) to the current RSS, so the peak read later belongs to the transfer.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

async fn serve(total: u64) -> SocketAddr {
    let app = Router::new().route(
        "/files/big.bin",
        get(move || async move {
            let body = futures::stream::iter(0..chunks(total))
                .map(move |i| Ok::<_, std::io::Error>(chunk(i, chunk_len(total, i))));
            Response::builder()
                .header("content-length", total.to_string())
                .header("content-type", "application/octet-stream")
                .body(Body::from_stream(body))
                .unwrap()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let megabytes: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(200);
    let total = megabytes * 1024 * 1024;

    // The expected hash, computed chunk by chunk as well.
    let mut hasher = blake3::Hasher::new();
    for i in 0..chunks(total) {
        hasher.update(&chunk(i, chunk_len(total, i)));
    }
    let expected = hasher.finalize().to_hex().to_string();

    let addr = serve(total).await;
    let dir = tempfile::tempdir()?;
    let blobs = BlobStore::local(dir.path())?;
    let index = MemoryStore::new();
    let files = FileClient::builder(HostPolicy::default())
        .allow_host(addr.to_string())
        .build()?;
    let url = format!("http://{addr}/files/big.bin?X-Amz-Signature=bench&Expires=1");

    // Warm up (connection pool, first-use allocations) with a small server of its own.
    let warm = serve(1024 * 1024).await;
    let warm_files = FileClient::builder(HostPolicy::default())
        .allow_host(warm.to_string())
        .build()?;
    let r = warm_files
        .download(&format!("http://{warm}/files/big.bin"))
        .await?;
    blobs.put_stream(&index, r.into_io_stream(), None).await?;

    let peak_reset = reset_peak();
    let rss_before_kb = status_kb("VmRSS");
    let hwm_before_kb = status_kb("VmHWM");
    let started = Instant::now();
    let response = files.download(&url).await?;
    let content_type = response.content_type().map(str::to_owned);
    let meta = blobs
        .put_stream(&index, response.into_io_stream(), content_type.as_deref())
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss_kb = status_kb("VmHWM");
    let rss_after_kb = status_kb("VmRSS");
    assert_eq!(meta.size, total, "every byte arrived");
    assert_eq!(meta.hash, expected, "the stored blob is the file");
    let on_disk = std::fs::metadata(dir.path().join("blobs").join(&meta.hash))?.len();
    assert_eq!(on_disk, total);

    // Without a peak reset (old kernels), VmHWM may still be an earlier peak: measure from it.
    let baseline = if peak_reset {
        rss_before_kb
    } else {
        hwm_before_kb
    };
    let growth_kb = peak_rss_kb.saturating_sub(baseline);
    let mb_per_sec = total as f64 / 1_048_576.0 / seconds;
    let result = serde_json::json!({
        "benchmark": "streaming: FileClient download into BlobStore::put_stream over loopback",
        "bytes": total,
        "chunk_bytes": CHUNK,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "mb_per_sec": (mb_per_sec * 10.0).round() / 10.0,
        "rss_before_kb": rss_before_kb,
        "peak_rss_kb": peak_rss_kb,
        "rss_after_kb": rss_after_kb,
        "growth_kb": growth_kb,
        "peak_measured_from": if peak_reset { "VmHWM after clear_refs=5 (peak of the transfer)" } else { "VmHWM since start" },
        "goal": "growth < 20 MB",
        "goal_met": growth_kb < GOAL_KB,
        "includes": "server, client and blob store in one process",
        "machine_cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "date": jiff::Timestamp::now().to_string(),
    });
    println!("{}", serde_json::to_string_pretty(&result)?);
    let out = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../bench/results/streaming.json"
    );
    std::fs::write(out, serde_json::to_string_pretty(&result)? + "\n")?;
    if growth_kb >= GOAL_KB {
        return Err(format!("peak RSS grew by {growth_kb} kB, over the 20 MB goal").into());
    }
    Ok(())
}
