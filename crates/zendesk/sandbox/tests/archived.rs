//! §8.8: tickets closed more than 120 days ago are archived: only the incremental export has
//! them; `GET /tickets` and search do not, though a show by id still works.

use std::collections::BTreeSet;

use crate::common::{Client, args, start};
use deskmove_zendesk_sandbox::Sandbox;

#[tokio::test]
async fn archived_tickets_are_only_in_the_incremental_export() {
    let sb = start(args(400, 60)).await;
    let c = Client::new(&sb);
    let exp = c.expected().await;
    let total = exp["tickets"].as_u64().unwrap();
    let archived = exp["tickets_archived"].as_u64().unwrap();
    assert!(
        archived * 5 >= total,
        "at least 20% archived: {archived} of {total}"
    );

    let (exported, _) = c
        .drain_cursor("/api/v2/incremental/tickets/cursor?start_time=0", "tickets")
        .await;
    assert_eq!(exported.len() as u64, total);
    let listed = c
        .drain_cbp("/api/v2/tickets.json?page[size]=100", "tickets")
        .await;
    assert_eq!(
        listed.len() as u64,
        exp["tickets_listable"].as_u64().unwrap()
    );
    assert_eq!(
        listed.len() as u64,
        total - archived - exp["tickets_deleted"].as_u64().unwrap()
    );
    let listed_ids: BTreeSet<u64> = listed.iter().map(|t| t["id"].as_u64().unwrap()).collect();
    let now = exp["world_now"].as_i64().unwrap();
    let archived_ids: Vec<u64> = exported
        .iter()
        .filter(|t| t["status"] == "closed")
        .filter(|t| {
            let updated: jiff::Timestamp = t["updated_at"].as_str().unwrap().parse().unwrap();
            updated.as_second() < now - 120 * 86_400
        })
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert_eq!(archived_ids.len() as u64, archived);
    assert!(archived_ids.iter().all(|id| !listed_ids.contains(id)));

    let mut found = BTreeSet::new();
    let mut url = "/api/v2/search.json?query=type:ticket".to_string();
    loop {
        let page = c.ok(&url).await;
        found.extend(
            page["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_u64().unwrap()),
        );
        match page["next_page"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    assert_eq!(found, listed_ids, "search misses archived tickets too");
    let count = c.ok("/api/v2/tickets/count").await;
    assert_eq!(
        count["count"]["value"].as_u64().unwrap(),
        listed.len() as u64
    );
    // Show and comments still answer for an archived ticket.
    let a = archived_ids[0];
    assert_eq!(
        c.ok(&format!("/api/v2/tickets/{a}.json")).await["ticket"]["status"],
        "closed"
    );
    assert!(
        !c.ok(&format!("/api/v2/tickets/{a}/comments.json")).await["comments"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Audits: an archived ticket's come unpaginated; the account-wide list leaves them out.
    let n = c.ok(&format!("/api/v2/tickets/{a}/comments.json")).await["count"]
        .as_u64()
        .unwrap();
    let audits = c
        .ok(&format!("/api/v2/tickets/{a}/audits.json?per_page=1"))
        .await;
    assert!(
        audits["audits"].as_array().unwrap().len() as u64 > n.min(1),
        "per_page is ignored"
    );
    assert!(audits["next_page"].is_null());
    let live = *listed_ids.iter().next().unwrap();
    let paged = c
        .ok(&format!("/api/v2/tickets/{live}/audits.json?per_page=1"))
        .await;
    assert_eq!(paged["audits"].as_array().unwrap().len(), 1);
    let all = c
        .drain_cbp("/api/v2/ticket_audits.json?page[size]=100", "audits")
        .await;
    let ticket_ids: BTreeSet<u64> = all
        .iter()
        .map(|a| a["ticket_id"].as_u64().unwrap())
        .collect();
    assert!(ticket_ids.is_subset(&listed_ids) && !ticket_ids.is_empty());
    assert!(!ticket_ids.contains(&a));
    sb.shutdown().await;
}
