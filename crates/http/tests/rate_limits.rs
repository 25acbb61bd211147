//! Server hints and the call budget: `Retry-After`, header-less fixed-window 429s,
//! `X-RateLimit-Remaining: 0`, and the client's own pace under several workers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{Reply, Vendor, fast_policy, wall_now};
use deskmove_http::HostPolicy;
use jiff::Timestamp;
use jiff::fmt::rfc2822::DateTimePrinter;

#[tokio::test]
async fn retry_after_seconds_is_waited_then_the_call_succeeds() {
    let v = Vendor::start().await;
    v.script([Reply::Status(
        429,
        vec![("retry-after", "1".into())],
        "slow down",
    )]);
    let c = v.client(fast_policy());

    let r = c.send(c.get("contacts")).await.unwrap();
    assert_eq!(r.status(), 200);
    let hits = v.hits();
    assert_eq!(hits.len(), 2);
    let gap = hits[1].at - hits[0].at;
    assert!(
        gap >= Duration::from_secs(1),
        "retried after {gap:?}, asked 1s"
    );
    let m = c.metrics();
    assert_eq!((m.rate_limited, m.retries, m.calls), (1, 1, 2));
    assert!(m.gate_wait >= Duration::from_millis(900), "{m:?}");
}

#[tokio::test]
async fn retry_after_http_date_is_waited_then_the_call_succeeds() {
    let v = Vendor::start().await;
    let until = Timestamp::from_second(i64::try_from(wall_now().as_secs()).unwrap() + 2).unwrap();
    let date = DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&until)
        .unwrap();
    v.script([Reply::Status(429, vec![("retry-after", date)], "slow down")]);
    let c = v.client(fast_policy());

    c.send(c.get("contacts")).await.unwrap();
    let hits = v.hits();
    assert_eq!(hits.len(), 2);
    let until_secs = Duration::from_secs(u64::try_from(until.as_second()).unwrap());
    assert!(
        hits[1].wall >= until_secs,
        "retried at {:?}, before the date {until_secs:?}",
        hits[1].wall
    );
}

/// rack-attack's fixed windows as Chatwoot runs them (../shared/research/chatwoot.md §3):
/// `limit` calls per window of `period` seconds, then a bare 429 "Retry later\n".
#[derive(Clone, Default)]
struct FixedWindow {
    counts: Arc<Mutex<HashMap<u64, u32>>>,
    /// (window, wall time, throttled) per call.
    seen: Arc<Mutex<Vec<(u64, Duration, bool)>>>,
}

impl FixedWindow {
    fn install(&self, v: &Vendor, period: u64, limit: u32) {
        let me = self.clone();
        v.fallback(move |hit| {
            let window = hit.wall.as_secs() / period;
            let mut counts = me.counts.lock().unwrap();
            let n = counts.entry(window).or_default();
            *n += 1;
            let throttled = *n > limit;
            me.seen.lock().unwrap().push((window, hit.wall, throttled));
            if throttled {
                Reply::Status(
                    429,
                    vec![("content-type", "text/plain".into())],
                    "Retry later\n",
                )
            } else {
                Reply::Status(200, vec![], "{}")
            }
        });
    }

    /// Calls that arrived in a window later than `grace` after that window's first 429.
    fn calls_inside_closed_windows(&self, grace: Duration) -> Vec<(u64, Duration)> {
        let seen = self.seen.lock().unwrap();
        let mut closed: HashMap<u64, Duration> = HashMap::new();
        for (w, at, throttled) in seen.iter() {
            if *throttled {
                closed.entry(*w).or_insert(*at);
            }
        }
        seen.iter()
            .filter(|(w, at, _)| closed.get(w).is_some_and(|first| *at > *first + grace))
            .map(|(w, at, _)| (*w, *at))
            .collect()
    }

    fn throttled(&self) -> usize {
        self.seen.lock().unwrap().iter().filter(|s| s.2).count()
    }
}

#[tokio::test]
async fn headerless_429_in_a_fixed_window_pauses_until_the_next_window() {
    let v = Vendor::start().await;
    let windows = FixedWindow::default();
    windows.install(&v, 1, 3);
    let c = v.client(HostPolicy {
        fixed_window_secs: Some(1),
        ..fast_policy()
    });

    for i in 0..7 {
        let r = c.send(c.get(&format!("conversations/{i}"))).await.unwrap();
        assert_eq!(r.status(), 200);
    }
    assert!(windows.throttled() >= 1, "the scenario must hit the limit");
    // One worker: after a 429 nothing at all may arrive in that window.
    assert_eq!(windows.calls_inside_closed_windows(Duration::ZERO), vec![]);
    assert_eq!(c.metrics().rate_limited as usize, windows.throttled());
}

#[tokio::test]
async fn headerless_429_pauses_every_worker_of_the_host() {
    let v = Vendor::start().await;
    let windows = FixedWindow::default();
    windows.install(&v, 1, 4);
    let c = v.client(HostPolicy {
        fixed_window_secs: Some(1),
        ..fast_policy()
    });

    let workers: Vec<_> = (0..3)
        .map(|w| {
            let c = c.clone();
            tokio::spawn(async move {
                for i in 0..4 {
                    c.send(c.get(&format!("w{w}/{i}"))).await.unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    assert!(windows.throttled() >= 1);
    // Calls already in flight when the 429 was sent may land just after it; nothing later may.
    assert_eq!(
        windows.calls_inside_closed_windows(Duration::from_millis(50)),
        vec![]
    );
}

#[tokio::test]
async fn remaining_zero_pauses_this_and_a_concurrent_worker_until_reset() {
    let v = Vendor::start().await;
    let reset = wall_now().as_secs() + 2;
    // ../shared/research/intercom-api.md §3: headers on a normal answer at the end of a window.
    v.script([Reply::Status(
        200,
        vec![
            ("x-ratelimit-limit", "167".into()),
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset", reset.to_string()),
        ],
        "{}",
    )]);
    v.fallback(move |hit| {
        if hit.wall.as_secs() < reset {
            Reply::Status(429, vec![], r#"{"type":"error.list","errors":[{"code":"rate_limit_exceeded","message":"Exceeded rate limit of 167 in 10_seconds"}]}"#)
        } else {
            Reply::Status(200, vec![], "{}")
        }
    });
    let c = v.client(fast_policy());

    c.send(c.get("contacts")).await.unwrap();
    let second = {
        let c = c.clone();
        tokio::spawn(async move { c.send(c.get("companies")).await })
    };
    let first = c.send(c.get("contacts?page=2")).await;
    first.unwrap();
    second.await.unwrap().unwrap();

    let hits = v.hits();
    assert_eq!(hits.len(), 3, "no call may have been refused");
    for h in &hits[1..] {
        assert!(h.wall.as_secs() >= reset, "{} arrived before reset", h.uri);
    }
    assert_eq!(c.metrics().rate_limited, 0);
}

#[tokio::test]
async fn a_429_with_reset_header_waits_until_reset() {
    let v = Vendor::start().await;
    let reset = wall_now().as_secs() + 1;
    v.script([Reply::Status(
        429,
        vec![
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset", reset.to_string()),
        ],
        "{}",
    )]);
    let c = v.client(fast_policy());
    c.send(c.get("contacts")).await.unwrap();
    let hits = v.hits();
    assert_eq!(hits.len(), 2);
    assert!(hits[1].wall.as_secs() >= reset);
}

#[tokio::test]
async fn call_rate_never_exceeds_the_budget_with_concurrent_workers() {
    let v = Vendor::start().await;
    // 1,200 per minute = one call per 50 ms, burst 2.
    let policy = HostPolicy {
        calls_per_minute: 1_200,
        burst: 2,
        jitter: Duration::from_millis(10),
        ..fast_policy()
    };
    let interval = Duration::from_millis(50);
    let c = v.client(policy);
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let c = c.clone();
            tokio::spawn(async move {
                for i in 0..8 {
                    c.send(c.get(&format!("w{w}/{i}"))).await.unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }

    let mut at: Vec<_> = v.hits().iter().map(|h| h.at).collect();
    at.sort();
    assert_eq!(at.len(), 32);
    // GCRA: any span of length t holds at most burst + t / interval calls. One call of slack
    // for arrival order shuffled by the loopback.
    for i in 0..at.len() {
        for j in i..at.len() {
            let span = at[j] - at[i];
            let calls = j - i + 1;
            let allowed = 2 + (span.as_secs_f64() / interval.as_secs_f64()).floor() as usize + 1;
            assert!(
                calls <= allowed,
                "{calls} calls within {span:?}; the budget allows {allowed}"
            );
        }
    }
    let total = at[at.len() - 1] - at[0];
    assert!(total >= interval * 29, "32 calls took only {total:?}");
    assert!(c.metrics().budget_wait >= Duration::from_secs(1));
}

#[tokio::test]
async fn the_vendors_own_budget_shows_in_the_metrics() {
    let v = Vendor::start().await;
    v.script([Reply::Status(
        200,
        vec![
            ("x-ratelimit-limit", "1667".into()),
            ("x-ratelimit-remaining", "1200".into()),
        ],
        "{}",
    )]);
    v.fallback(|_| Reply::Status(200, vec![], "{}"));
    let c = v.client(fast_policy());
    assert_eq!(c.metrics().vendor_budget_left, None, "nothing seen yet");
    c.send(c.get("contacts")).await.unwrap();
    let m = c.metrics();
    assert_eq!(
        (m.vendor_budget_left, m.vendor_budget_limit),
        (Some(1200), Some(1667))
    );
    // An answer without the headers keeps the last figures.
    c.send(c.get("contacts?page=2")).await.unwrap();
    assert_eq!(c.metrics().vendor_budget_left, Some(1200));
}

/// A fixed window that states itself on every answer under names of its own, the way Zendesk
/// does (../shared/research/zendesk-freshdesk-helpscout.md §1.4: `X-Rate-Limit`,
/// `X-Rate-Limit-Remaining`, `ratelimit-reset` in seconds), and answers 429 over the limit.
fn install_stated_window(
    v: &Vendor,
    period: u64,
    limit: u32,
    latency: Duration,
) -> Arc<Mutex<Vec<(u64, bool)>>> {
    let counts: Arc<Mutex<HashMap<u64, u32>>> = Arc::default();
    let seen: Arc<Mutex<Vec<(u64, bool)>>> = Arc::default();
    let log = seen.clone();
    v.fallback(move |hit| {
        let window = hit.wall.as_secs() / period;
        let mut counts = counts.lock().unwrap();
        let n = counts.entry(window).or_default();
        *n += 1;
        let throttled = *n > limit;
        log.lock().unwrap().push((window, throttled));
        // Whole seconds to the window's end, truncated as the server's clock reads.
        let reset = ((window + 1) * period - hit.wall.as_secs()).max(1);
        let headers = vec![
            ("x-rate-limit", limit.to_string()),
            (
                "x-rate-limit-remaining",
                limit.saturating_sub(*n).to_string(),
            ),
            ("ratelimit-reset", reset.to_string()),
        ];
        let reply = if throttled {
            let mut headers = headers;
            headers.push(("retry-after", reset.to_string()));
            Reply::Status(429, headers, "{\"error\":\"APIRateLimitExceeded\"}")
        } else {
            Reply::Status(200, headers, "{}")
        };
        Reply::Late(latency, Box::new(reply))
    });
    seen
}

#[tokio::test]
async fn a_budget_at_the_vendors_full_limit_stays_within_the_window_its_headers_state() {
    let v = Vendor::start().await;
    // Answers take 400 ms, so about two calls are in flight whenever one is answered: the last
    // calls of a window leave before the answer saying nothing is left comes back.
    let seen = install_stated_window(&v, 2, 10, Duration::from_millis(400));
    // Exactly the vendor's limit (10 per 2 s) plus a burst; what the headers say is left, less
    // the calls in flight, keeps every window at 10.
    let c = v.client(HostPolicy {
        calls_per_minute: 300,
        burst: 5,
        jitter: Duration::from_millis(5),
        fixed_window_secs: Some(2),
        rate_headers: deskmove_http::RateHeaders {
            limit: "x-rate-limit".into(),
            remaining: "x-rate-limit-remaining".into(),
            reset: "ratelimit-reset".into(),
        },
        ..fast_policy()
    });
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let c = c.clone();
            tokio::spawn(async move {
                for i in 0..5 {
                    c.send(c.get(&format!("w{w}/{i}"))).await.unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let seen = seen.lock().unwrap();
    let throttled = seen.iter().filter(|(_, t)| *t).count();
    assert_eq!(throttled, 0, "no call over the stated limit: {seen:?}");
    assert_eq!(seen.len(), 40);
    let m = c.metrics();
    assert_eq!((m.rate_limited, m.vendor_budget_limit), (0, Some(10)));
    assert!(
        m.gate_wait > Duration::ZERO,
        "workers waited for the window"
    );
}

#[tokio::test]
async fn rate_headers_under_other_names_are_not_read() {
    let v = Vendor::start().await;
    let seen = install_stated_window(&v, 2, 3, Duration::ZERO);
    // The default names (`X-RateLimit-*`) are not the ones this vendor sends: its window is
    // then unknown, and the 429s it answers are ridden out through `Retry-After`.
    let c = v.client(HostPolicy {
        calls_per_minute: 6_000,
        burst: 10,
        ..fast_policy()
    });
    for i in 0..5 {
        c.send(c.get(&format!("contacts/{i}"))).await.unwrap();
    }
    assert!(seen.lock().unwrap().iter().any(|(_, t)| *t));
    assert_eq!(c.metrics().vendor_budget_left, None);
}
