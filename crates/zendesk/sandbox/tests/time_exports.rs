//! §8.4: the time-based exports: `count`, `end_time`, `next_page`, `end_of_stream`; the next
//! page starts at `end_time` inclusive, so boundary items come twice; the tie fault.

use std::collections::BTreeSet;

use crate::common::{Client, args, start};
use deskmove_zendesk_sandbox::{Sandbox, SandboxArgs};
use serde_json::Value;

/// Follows `next_page` until `end_of_stream`, at most `limit` pages.
async fn drain(c: &Client, start: &str, key: &str, limit: usize) -> (Vec<Value>, usize, bool) {
    let mut url = start.to_string();
    let mut out = Vec::new();
    for n in 1..=limit {
        let page = c.ok(&url).await;
        let items = page[key].as_array().unwrap();
        assert_eq!(page["count"].as_u64().unwrap(), items.len() as u64);
        out.extend(items.iter().cloned());
        if page["end_of_stream"] == true {
            assert!(
                page["next_page"].is_string(),
                "next_page is present on the last page too"
            );
            return (out, n, true);
        }
        let end_time = page["end_time"].as_i64().unwrap();
        let next = page["next_page"].as_str().unwrap().to_string();
        assert!(next.contains(&format!("start_time={end_time}")), "{next}");
        url = next;
    }
    (out, limit, false)
}

fn distinct(items: &[Value]) -> usize {
    items
        .iter()
        .map(|v| v["id"].as_u64().unwrap())
        .collect::<BTreeSet<_>>()
        .len()
}

#[tokio::test]
async fn pages_restart_at_end_time_so_boundary_items_repeat() {
    let sb = start(args(300, 80)).await;
    let c = Client::new(&sb);
    let exp = c.expected().await;
    let (tickets, pages, done) = drain(
        &c,
        "/api/v2/incremental/tickets.json?start_time=0&per_page=40",
        "tickets",
        100,
    )
    .await;
    assert!(done && pages > 2);
    assert_eq!(distinct(&tickets) as u64, exp["tickets"].as_u64().unwrap());
    assert!(
        tickets.len() >= distinct(&tickets) + pages - 1,
        "each boundary item comes again"
    );
    let first = c
        .ok("/api/v2/incremental/tickets.json?start_time=0&per_page=40")
        .await;
    let last_of_first = first["tickets"][39]["id"].clone();
    let second = c.ok(first["next_page"].as_str().unwrap()).await;
    assert_eq!(second["tickets"][0]["id"], last_of_first);

    let (users, _, done) = drain(
        &c,
        "/api/v2/incremental/users?start_time=0&per_page=30",
        "users",
        100,
    )
    .await;
    assert!(done);
    assert_eq!(distinct(&users) as u64, exp["users"].as_u64().unwrap());
    let (orgs, _, done) = drain(
        &c,
        "/api/v2/incremental/organizations?start_time=0&per_page=4",
        "organizations",
        100,
    )
    .await;
    assert!(done);
    assert_eq!(
        distinct(&orgs) as u64,
        exp["organizations"].as_u64().unwrap()
    );
    assert!(orgs.len() > distinct(&orgs));
    sb.shutdown().await;
}

#[tokio::test]
async fn ticket_events_carry_comments_only_when_asked() {
    let sb = start(args(80, 30)).await;
    let c = Client::new(&sb);
    let exp = c.expected().await;
    let (events, _, done) = drain(
        &c,
        "/api/v2/incremental/ticket_events?start_time=0&include=comment_events",
        "ticket_events",
        100,
    )
    .await;
    assert!(done);
    assert_eq!(
        distinct(&events) as u64,
        exp["ticket_events"].as_u64().unwrap()
    );
    let with_comment = events
        .iter()
        .find(|e| {
            e["child_events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["event_type"] == "Comment")
        })
        .unwrap();
    assert!(with_comment["child_events"][0]["html_body"].is_string());
    let plain = c
        .ok("/api/v2/incremental/ticket_events?start_time=0&per_page=50")
        .await;
    let rows = plain["ticket_events"].as_array().unwrap();
    assert!(rows.iter().all(|e| e["comment_present"].is_boolean()));
    assert!(rows.iter().any(|e| e["comment_present"] == true));
    assert!(
        rows.iter()
            .flat_map(|e| e["child_events"].as_array().unwrap())
            .all(|c| c["event_type"] != "Comment")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn more_ties_than_a_page_never_advance() {
    let sb = start(SandboxArgs {
        time_export_ties: 60,
        ..args(300, 40)
    })
    .await;
    let c = Client::new(&sb);
    let (_, pages, done) = drain(
        &c,
        "/api/v2/incremental/tickets?start_time=0&per_page=50",
        "tickets",
        40,
    )
    .await;
    assert!(!done && pages == 40, "a page of one second repeats forever");
    // The same page, again and again.
    let mut url = "/api/v2/incremental/tickets?start_time=0&per_page=50".to_string();
    let mut stuck = None;
    for _ in 0..40 {
        let page = c.ok(&url).await;
        let next = page["next_page"].as_str().unwrap().to_string();
        if next == url || c.url(&url) == next {
            stuck = Some(page["end_time"].as_i64().unwrap());
            break;
        }
        url = next;
    }
    assert!(stuck.is_some(), "the tie page links to itself");
    // A bigger page gets past it; the cursor export is unaffected.
    let (_, _, done) = drain(
        &c,
        "/api/v2/incremental/tickets?start_time=0&per_page=200",
        "tickets",
        40,
    )
    .await;
    assert!(done);
    let (all, _) = c
        .drain_cursor(
            "/api/v2/incremental/tickets/cursor?start_time=0&per_page=50",
            "tickets",
        )
        .await;
    assert_eq!(
        all.len() as u64,
        c.expected().await["tickets"].as_u64().unwrap()
    );
    sb.shutdown().await;
}
