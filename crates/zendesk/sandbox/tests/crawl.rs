//! An end-to-end crawl the way a migration must do it — tickets and users through the cursor
//! exports, organizations through the time-based export deduplicated by id, comments per ticket
//! through CBP with inline images — recovers exactly `/__sandbox/expected`; after the world
//! moves on, the saved cursors fetch only the churn.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{Client, args, start};
use deskmove_zendesk_sandbox::Sandbox;
use serde_json::Value;

async fn organizations(c: &Client) -> BTreeSet<u64> {
    let mut url = "/api/v2/incremental/organizations.json?start_time=0&per_page=7".to_string();
    let mut ids = BTreeSet::new();
    loop {
        let page = c.ok(&url).await;
        ids.extend(
            page["organizations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_u64().unwrap()),
        );
        if page["end_of_stream"] == true {
            return ids;
        }
        url = page["next_page"].as_str().unwrap().to_string();
    }
}

#[tokio::test]
async fn a_crawl_through_the_exports_recovers_the_world() {
    let sb = start(args(250, 80)).await;
    let c = Client::new(&sb);
    let exp = c.expected().await;
    let n = |k: &str| exp[k].as_u64().unwrap();

    let (tickets, ticket_cursor) = c
        .drain_cursor(
            "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=100",
            "tickets",
        )
        .await;
    assert_eq!(tickets.len() as u64, n("tickets"));
    let deleted: Vec<&Value> = tickets
        .iter()
        .filter(|t| t["status"] == "deleted")
        .collect();
    assert_eq!(deleted.len() as u64, n("tickets_deleted"));
    let (users, user_cursor) = c
        .drain_cursor(
            "/api/v2/incremental/users/cursor.json?start_time=0",
            "users",
        )
        .await;
    assert_eq!(users.len() as u64, n("users"));
    assert_eq!(organizations(&c).await.len() as u64, n("organizations"));

    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for t in tickets.iter().filter(|t| t["status"] != "deleted") {
        let id = t["id"].as_u64().unwrap();
        let comments = c
            .drain_cbp(
                &format!(
                    "/api/v2/tickets/{id}/comments.json?page[size]=100&include_inline_images=true"
                ),
                "comments",
            )
            .await;
        for m in &comments {
            *counts.entry("comments").or_default() += 1;
            for a in m["attachments"].as_array().unwrap() {
                let kind = if a["inline"] == true {
                    "inline_images"
                } else if a["file_name"] == "redacted.txt" {
                    "attachments_redacted"
                } else {
                    "attachments"
                };
                *counts.entry(kind).or_default() += 1;
            }
        }
    }
    for k in [
        "comments",
        "attachments",
        "inline_images",
        "attachments_redacted",
    ] {
        assert_eq!(counts.get(k).copied().unwrap_or(0), n(k), "{k}");
    }
    let all = |path: &'static str, key: &'static str| {
        let c = &c;
        async move { c.drain_cbp(path, key).await.len() as u64 }
    };
    assert_eq!(
        all("/api/v2/groups.json?page[size]=100", "groups").await,
        n("groups")
    );
    assert_eq!(
        all("/api/v2/ticket_fields.json?page[size]=100", "ticket_fields").await,
        n("ticket_fields")
    );
    assert_eq!(
        all("/api/v2/macros.json?page[size]=100", "macros").await,
        n("macros")
    );
    assert_eq!(
        all(
            "/api/v2/help_center/articles.json?page[size]=100",
            "articles"
        )
        .await,
        n("articles")
    );

    // The world moves on; the saved cursors bring exactly what changed.
    c.post_sandbox("/__sandbox/advance?ticks=3").await;
    let after = c.expected().await;
    let (delta, _) = c
        .drain_cursor(
            &format!("/api/v2/incremental/tickets/cursor.json?cursor={ticket_cursor}"),
            "tickets",
        )
        .await;
    let new_tickets = after["tickets"].as_u64().unwrap() - n("tickets");
    assert!(new_tickets > 0);
    assert!(
        delta.len() as u64 >= new_tickets && (delta.len() as u64) < n("tickets"),
        "{}",
        delta.len()
    );
    let old: BTreeMap<u64, &Value> = tickets
        .iter()
        .map(|t| (t["id"].as_u64().unwrap(), t))
        .collect();
    for t in &delta {
        if let Some(before) = old.get(&t["id"].as_u64().unwrap()) {
            assert_ne!(*before, t, "a re-exported ticket changed");
        }
    }
    let mut merged: BTreeSet<u64> = old.keys().copied().collect();
    merged.extend(delta.iter().map(|t| t["id"].as_u64().unwrap()));
    assert_eq!(merged.len() as u64, after["tickets"].as_u64().unwrap());
    let (user_delta, _) = c
        .drain_cursor(
            &format!("/api/v2/incremental/users/cursor.json?cursor={user_cursor}"),
            "users",
        )
        .await;
    assert!((user_delta.len() as u64) < n("users"));
    let user_ids: BTreeSet<u64> = users
        .iter()
        .chain(&user_delta)
        .map(|u| u["id"].as_u64().unwrap())
        .collect();
    assert_eq!(user_ids.len() as u64, after["users"].as_u64().unwrap());
    sb.shutdown().await;
}
