//! §8.5: comments in CBP (`page[size]` ≤ 100, `meta`, `links`, the trailing empty page) and
//! OBP (`next_page`, `count`, 400 past page 100), `include_inline_images`, and 404
//! `RecordNotFound` for a deleted ticket.

use crate::common::{Client, args, error, start};
use deskmove_zendesk_sandbox::Sandbox;
use serde_json::Value;

/// A ticket with more than 500 parts that is not deleted (the world's giants are
/// conversations 7 and 503).
async fn giant(c: &Client) -> u64 {
    for id in [8, 504] {
        if c.get(&format!("/api/v2/tickets/{id}")).await.0 == 200 {
            return id;
        }
    }
    panic!("no giant left");
}

async fn deleted_ticket(c: &Client) -> u64 {
    let (all, _) = c
        .drain_cursor("/api/v2/incremental/tickets/cursor?start_time=0", "tickets")
        .await;
    all.iter().find(|t| t["status"] == "deleted").unwrap()["id"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn cursor_pages_of_at_most_100_walk_every_comment() {
    let sb = start(args(600, 30)).await;
    let c = Client::new(&sb);
    let giant = giant(&c).await;
    let obp = c
        .ok(&format!("/api/v2/tickets/{giant}/comments.json"))
        .await;
    let total = obp["count"].as_u64().unwrap();
    assert!(total > 300, "{total}");
    let all = c
        .drain_cbp(
            &format!(
                "/api/v2/tickets/{giant}/comments.json?page[size]=100&include_inline_images=false"
            ),
            "comments",
        )
        .await;
    assert_eq!(all.len() as u64, total);
    let times: Vec<&str> = all
        .iter()
        .map(|m| m["created_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    let page = c
        .ok(&format!("/api/v2/tickets/{giant}/comments?page[size]=10"))
        .await;
    assert_eq!(page["comments"].as_array().unwrap().len(), 10);
    assert_eq!(page["meta"]["has_more"], true);
    assert!(page["meta"]["after_cursor"].is_string() && page["meta"]["before_cursor"].is_string());
    assert!(
        page["links"]["next"]
            .as_str()
            .unwrap()
            .contains("page%5Bafter%5D")
    );
    let desc = c
        .ok(&format!(
            "/api/v2/tickets/{giant}/comments?page[size]=10&sort=-created_at"
        ))
        .await;
    assert_eq!(desc["comments"][0]["id"], all.last().unwrap()["id"]);
    let (status, body) = c
        .get(&format!("/api/v2/tickets/{giant}/comments?page[size]=101"))
        .await;
    assert_eq!(status, 400);
    assert_eq!(error(&body), "InvalidPaginationParameter");
    sb.shutdown().await;
}

#[tokio::test]
async fn an_exactly_full_last_cursor_page_is_followed_by_an_empty_one() {
    let sb = start(args(60, 30)).await;
    let c = Client::new(&sb);
    let n = c.ok("/api/v2/tickets/3/comments").await["count"]
        .as_u64()
        .unwrap();
    let first = c
        .ok(&format!("/api/v2/tickets/3/comments?page[size]={n}"))
        .await;
    assert_eq!(first["comments"].as_array().unwrap().len() as u64, n);
    assert_eq!(first["meta"]["has_more"], true);
    let last = c.ok(first["links"]["next"].as_str().unwrap()).await;
    assert!(last["comments"].as_array().unwrap().is_empty());
    assert_eq!(last["meta"]["has_more"], false);
    sb.shutdown().await;
}

#[tokio::test]
async fn offset_pages_have_next_page_and_count_and_stop_at_page_100() {
    let sb = start(args(600, 30)).await;
    let c = Client::new(&sb);
    let giant = giant(&c).await;
    let p1 = c
        .ok(&format!(
            "/api/v2/tickets/{giant}/comments.json?per_page=500"
        ))
        .await;
    assert_eq!(
        p1["comments"].as_array().unwrap().len(),
        100,
        "per_page is capped at 100"
    );
    assert!(p1["previous_page"].is_null());
    let next = p1["next_page"].as_str().unwrap();
    assert!(next.contains("page=2"), "{next}");
    let p2 = c.ok(next).await;
    assert!(p2["previous_page"].is_string());
    assert_ne!(p2["comments"][0]["id"], p1["comments"][0]["id"]);
    let desc = c
        .ok(&format!(
            "/api/v2/tickets/{giant}/comments?sort_order=desc&per_page=1"
        ))
        .await;
    let asc_last = c
        .drain_cbp(
            &format!("/api/v2/tickets/{giant}/comments?page[size]=100"),
            "comments",
        )
        .await;
    assert_eq!(desc["comments"][0]["id"], asc_last.last().unwrap()["id"]);
    let (status, body) = c.get("/api/v2/tickets/3/comments?page=101").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error(&body), "InvalidPaginationParameter");
    assert_eq!(c.get("/api/v2/tickets/3/comments?page=100").await.0, 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn inline_images_are_listed_only_when_asked_and_always_sit_in_html_body() {
    let sb = start(args(200, 40)).await;
    let c = Client::new(&sb);
    let v = sb.world().view();
    let i = (0..200)
        .find(|i| {
            v.conversation(*i).unwrap().parts.iter().any(|p| {
                p.body
                    .as_deref()
                    .unwrap_or("")
                    .contains("deskmove-attachment://")
            })
        })
        .unwrap();
    let id = i + 1;
    let find = |body: &Value| -> Value {
        body["comments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                m["html_body"]
                    .as_str()
                    .unwrap()
                    .contains("/attachments/token/")
            })
            .cloned()
            .unwrap()
    };
    let without = find(
        &c.ok(&format!("/api/v2/tickets/{id}/comments?page[size]=100"))
            .await,
    );
    let with = find(
        &c.ok(&format!(
            "/api/v2/tickets/{id}/comments?page[size]=100&include_inline_images=true"
        ))
        .await,
    );
    let inline = |m: &Value| {
        m["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["inline"] == true)
            .count()
    };
    assert_eq!(inline(&without), 0);
    assert!(inline(&with) >= 1);
    let url = with["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["inline"] == true)
        .unwrap()["content_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        with["html_body"].as_str().unwrap().contains(&url),
        "html_body points at the content_url"
    );
    assert!(
        !with["html_body"]
            .as_str()
            .unwrap()
            .contains("deskmove-attachment://")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn comments_of_a_deleted_ticket_are_record_not_found() {
    let sb = start(args(200, 40)).await;
    let c = Client::new(&sb);
    let id = deleted_ticket(&c).await;
    for path in [
        format!("/api/v2/tickets/{id}/comments.json"),
        format!("/api/v2/tickets/{id}/comments.json?page[size]=100"),
        format!("/api/v2/tickets/{id}.json"),
    ] {
        let (status, body) = c.get(&path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(error(&body), "RecordNotFound");
    }
    sb.shutdown().await;
}
