//! §8.3: the cursor ticket and user exports.

use crate::common::{Client, args, error, start};
use deskmove_zendesk_sandbox::{EXPORT_LAG_SECS, Sandbox, SandboxArgs};
use serde_json::Value;

fn ids(items: &[Value]) -> Vec<u64> {
    items.iter().map(|t| t["id"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn start_time_int_or_float_then_cursor_only_until_end_of_stream() {
    let sb = start(args(300, 60)).await;
    let c = Client::new(&sb);
    let exp = c.expected().await;
    let (all, _) = c
        .drain_cursor(
            "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=70",
            "tickets",
        )
        .await;
    assert_eq!(all.len() as u64, exp["tickets"].as_u64().unwrap());
    let mut seen = ids(&all);
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen.len(),
        all.len(),
        "a cursor export never repeats a ticket"
    );
    // Ordered by generated_timestamp.
    let ts: Vec<i64> = all
        .iter()
        .map(|t| t["generated_timestamp"].as_i64().unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]));

    let float = c
        .ok("/api/v2/incremental/tickets/cursor.json?start_time=0.0&per_page=70")
        .await;
    let int = c
        .ok("/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=70")
        .await;
    assert_eq!(float["tickets"], int["tickets"]);
    let mid = ts[ts.len() / 2];
    let from_float = c
        .ok(&format!(
            "/api/v2/incremental/tickets/cursor.json?start_time={mid}.75"
        ))
        .await;
    assert!(
        from_float["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["generated_timestamp"].as_i64().unwrap() >= mid)
    );

    // The after_url carries only the cursor (and the page size), never start_time again.
    let after = int["after_url"].as_str().unwrap();
    assert!(
        after.contains("cursor=") && !after.contains("start_time"),
        "{after}"
    );
    assert_eq!(int["end_of_stream"], false);
    assert!(int["before_cursor"].is_null() && int["before_url"].is_null());
    // `cursor=undefined` beside start_time is the first call; unknown page[size] is ignored.
    let undefined = c
        .ok("/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=70&cursor=undefined&page[size]=3")
        .await;
    assert_eq!(undefined["tickets"], int["tickets"]);
    sb.shutdown().await;
}

#[tokio::test]
async fn per_page_defaults_to_1000_and_is_capped_there() {
    let sb = start(args(1_300, 40)).await;
    let c = Client::new(&sb);
    let page = c
        .ok("/api/v2/incremental/tickets/cursor?start_time=0")
        .await;
    assert_eq!(page["tickets"].as_array().unwrap().len(), 1_000);
    let big = c
        .ok("/api/v2/incremental/tickets/cursor?start_time=0&per_page=5000")
        .await;
    assert_eq!(big["tickets"].as_array().unwrap().len(), 1_000);
    sb.shutdown().await;
}

#[tokio::test]
async fn deleted_tickets_are_exported_unless_excluded() {
    let sb = start(args(300, 60)).await;
    let c = Client::new(&sb);
    let exp = c.expected().await;
    let deleted = exp["tickets_deleted"].as_u64().unwrap();
    assert!(deleted > 0);
    let (all, _) = c
        .drain_cursor("/api/v2/incremental/tickets/cursor?start_time=0", "tickets")
        .await;
    let marked = all.iter().filter(|t| t["status"] == "deleted").count() as u64;
    assert_eq!(marked, deleted);
    let (kept, _) = c
        .drain_cursor(
            "/api/v2/incremental/tickets/cursor?start_time=0&exclude_deleted=true&per_page=50",
            "tickets",
        )
        .await;
    assert_eq!(kept.len() as u64, all.len() as u64 - deleted);
    assert!(kept.iter().all(|t| t["status"] != "deleted"));
    // The deleted-tickets list names the same ones.
    let listed = c
        .drain_cbp(
            "/api/v2/deleted_tickets.json?page[size]=100",
            "deleted_tickets",
        )
        .await;
    let mut a: Vec<u64> = listed.iter().map(|t| t["id"].as_u64().unwrap()).collect();
    let mut b: Vec<u64> = all
        .iter()
        .filter(|t| t["status"] == "deleted")
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    sb.shutdown().await;
}

#[tokio::test]
async fn start_time_newer_than_a_minute_ago_is_400_and_fresh_changes_wait_a_minute() {
    let sb = start(args(120, 40)).await;
    let c = Client::new(&sb);
    let now = c.expected().await["world_now"].as_i64().unwrap();
    for t in [now - 30, now, now + 3_600] {
        let (status, body) = c
            .get(&format!(
                "/api/v2/incremental/tickets/cursor?start_time={t}"
            ))
            .await;
        assert_eq!(status, 400, "{t}: {body}");
        assert_eq!(error(&body), "InvalidValue");
    }
    let (status, _) = c.get("/api/v2/incremental/tickets/cursor").await;
    assert_eq!(status, 400, "start_time or cursor is required");
    let ok = c
        .ok(&format!(
            "/api/v2/incremental/tickets/cursor?start_time={}",
            now - EXPORT_LAG_SECS
        ))
        .await;
    assert_eq!(ok["end_of_stream"], true);
    let (_, cursor) = c
        .drain_cursor("/api/v2/incremental/tickets/cursor?start_time=0", "tickets")
        .await;

    // A system update 10 s ago: hidden for a minute, then the saved cursor picks it up.
    c.post_sandbox("/__sandbox/touch?ticket_id=5&ago=10").await;
    let (fresh, cursor2) = c
        .drain_cursor(
            &format!("/api/v2/incremental/tickets/cursor?cursor={cursor}"),
            "tickets",
        )
        .await;
    assert!(fresh.is_empty(), "changed 10 s ago: not exported yet");
    let (all, _) = c
        .drain_cursor("/api/v2/incremental/tickets/cursor?start_time=0", "tickets")
        .await;
    assert!(
        !ids(&all).contains(&5),
        "a fresh change hides the record from a new export too"
    );
    sb.world().advance(1);
    let (later, _) = c
        .drain_cursor(
            &format!("/api/v2/incremental/tickets/cursor?cursor={cursor2}"),
            "tickets",
        )
        .await;
    assert!(ids(&later).contains(&5), "visible once it is a minute old");
    sb.shutdown().await;
}

#[tokio::test]
async fn the_user_cursor_export_has_every_user_once() {
    let sb = start(args(60, 90)).await;
    let c = Client::new(&sb);
    let exp = c.expected().await;
    let (users, _) = c
        .drain_cursor(
            "/api/v2/incremental/users/cursor.json?start_time=0.0&per_page=25",
            "users",
        )
        .await;
    assert_eq!(users.len() as u64, exp["users"].as_u64().unwrap());
    let inactive = users.iter().filter(|u| u["active"] == false).count() as u64;
    assert_eq!(inactive, exp["users_deleted"].as_u64().unwrap());
    let mut seen = ids(&users);
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), users.len());
    sb.shutdown().await;
}

#[tokio::test]
async fn the_incremental_bucket_allows_ten_a_minute_with_retry_after() {
    let sb = start(SandboxArgs {
        incremental_rate_limit: 10,
        rate_limit: 700,
        ..args(60, 20)
    })
    .await;
    let c = Client::new(&sb);
    for n in 0..10 {
        let r = c
            .get_raw("/api/v2/incremental/users/cursor?start_time=0")
            .await;
        assert_eq!(r.status(), 200, "call {n}");
    }
    let r = c
        .get_raw("/api/v2/incremental/tickets/cursor?start_time=0")
        .await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert!(r.headers().contains_key("x-rate-limit-remaining"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "APIRateLimitExceeded");
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .contains("incremental export")
    );
    // Other endpoints are not in that bucket.
    assert_eq!(c.get_raw("/api/v2/users/me").await.status(), 200);
    sb.advance_clock(std::time::Duration::from_secs(retry));
    assert_eq!(
        c.get_raw("/api/v2/incremental/tickets/cursor?start_time=0")
            .await
            .status(),
        200
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn ticket_exports_side_load_users_groups_and_organizations() {
    let sb = start(args(120, 40)).await;
    let c = Client::new(&sb);
    for path in [
        "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=50&include=users,groups,organizations",
        "/api/v2/incremental/tickets.json?start_time=0&per_page=50&include=users,groups,organizations",
    ] {
        let page = c.ok(path).await;
        let users: Vec<u64> = page["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_u64().unwrap())
            .collect();
        for t in page["tickets"].as_array().unwrap() {
            assert!(
                users.contains(&t["requester_id"].as_u64().unwrap()),
                "{path}"
            );
        }
        assert!(page["groups"].is_array() && page["organizations"].is_array());
        if page["after_url"].is_string() {
            assert!(page["after_url"].as_str().unwrap().contains("include="));
        }
    }
    let plain = c
        .ok("/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=5")
        .await;
    assert!(plain.get("users").is_none());
    sb.shutdown().await;
}

#[tokio::test]
async fn a_deleted_ticket_stays_deleted_as_the_world_moves_on() {
    // Deletions belong to their tickets: archiving others never moves one to another ticket,
    // which a delta export (reading only changed tickets) could not notice.
    let sb = start(args(400, 60)).await;
    let c = Client::new(&sb);
    let deleted = |list: Vec<serde_json::Value>| -> std::collections::BTreeSet<u64> {
        list.iter().map(|t| t["id"].as_u64().unwrap()).collect()
    };
    let path = "/api/v2/deleted_tickets.json?page[size]=100";
    let before = deleted(c.drain_cbp(path, "deleted_tickets").await);
    assert!(!before.is_empty());
    c.post_sandbox("/__sandbox/advance?ticks=2000").await;
    let after = deleted(c.drain_cbp(path, "deleted_tickets").await);
    assert_eq!(before, after.into_iter().filter(|id| *id <= 400).collect());
}
