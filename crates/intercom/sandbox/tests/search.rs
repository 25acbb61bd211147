//! Search semantics: body pagination, day truncation in the workspace timezone, the lag
//! before new contacts become searchable, and delta queries after the world's clock moves.

use std::collections::BTreeSet;

use crate::common::{Client, args, start};
use deskmove_intercom_sandbox::{SEARCH_LAG_SECS, Sandbox, WORKSPACE_TZ};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

fn next_local_midnight(t: i64) -> i64 {
    let tz = TimeZone::get(WORKSPACE_TZ).unwrap();
    let z = Timestamp::from_second(t).unwrap().to_zoned(tz.clone());
    z.date()
        .tomorrow()
        .unwrap()
        .to_zoned(tz)
        .unwrap()
        .timestamp()
        .as_second()
}

/// All ids a search returns, following the body cursor.
async fn search_all(c: &Client, path: &str, key: &str, query: Value) -> (Vec<String>, u64) {
    let mut ids = Vec::new();
    let mut body = json!({"query": query, "pagination": {"per_page": 7}});
    let mut total;
    loop {
        let (status, page) = c.post(path, body.clone()).await;
        assert_eq!(status, 200, "{page}");
        total = page["total_count"].as_u64().unwrap();
        ids.extend(
            page[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].as_str().unwrap().to_string()),
        );
        match page["pages"]["next"]["starting_after"].as_str() {
            Some(cur) => {
                body = json!({"query": query, "pagination": {"per_page": 7, "starting_after": cur}})
            }
            None => break,
        }
    }
    (ids, total)
}

#[tokio::test]
async fn updated_at_filters_truncate_to_the_workspace_day() {
    let sb = start(args(400, 100)).await;
    let c = Client::new(&sb);
    // Move the world: new conversations, new parts on old ones.
    let (status, adv) = c.post("/__sandbox/advance?ticks=30", json!({})).await;
    assert_eq!((status, adv["epoch"].as_u64()), (200, Some(30)));
    let v = sb.world().view();
    let shapes: Vec<_> = (0..v.conversation_count())
        .map(|i| v.conversation_shape(i).unwrap())
        .collect();
    // A conversation that changed late in a local day.
    let changed = shapes
        .iter()
        .filter(|s| {
            s.updated_at > deskmove_synth::T0
                && next_local_midnight(s.updated_at - 60) == next_local_midnight(s.updated_at)
        })
        .max_by_key(|s| s.updated_at)
        .unwrap();
    let t = changed.updated_at - 60;
    let cutoff = next_local_midnight(t);
    let (ids, total) = search_all(
        &c,
        "/conversations/search",
        "conversations",
        json!({"field": "updated_at", "operator": ">", "value": t}),
    )
    .await;
    let oracle: BTreeSet<String> = shapes
        .iter()
        .filter(|s| s.updated_at >= cutoff)
        .map(|s| (100_000_000 + s.index).to_string())
        .collect();
    let got: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(got, oracle, "`>` starts at the next local midnight");
    assert_eq!(total, oracle.len() as u64);
    assert_eq!(got.len(), ids.len(), "no duplicates across pages");
    let changed_id = (100_000_000 + changed.index).to_string();
    assert!(
        !got.contains(&changed_id),
        "updated a minute later the same local day is not `>`"
    );
    // A query one day earlier finds everything that changed since.
    let day_before = t - 86_400;
    let (ids, _) = search_all(
        &c,
        "/conversations/search",
        "conversations",
        json!({"operator": "AND", "value": [
            {"field": "updated_at", "operator": ">", "value": day_before},
            {"field": "state", "operator": "!=", "value": "nonsense"},
        ]}),
    )
    .await;
    let oracle: BTreeSet<String> = shapes
        .iter()
        .filter(|s| s.updated_at >= next_local_midnight(day_before))
        .map(|s| (100_000_000 + s.index).to_string())
        .collect();
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), oracle);
    assert!(oracle.contains(&changed_id));
    sb.shutdown().await;
}

#[tokio::test]
async fn new_contacts_are_searchable_only_after_a_lag() {
    let sb = start(args(50, 400)).await;
    sb.world().advance(2);
    let c = Client::new(&sb);
    let v = sb.world().view();
    let now = v.now();
    let all: Vec<_> = (0..v.contact_count())
        .map(|j| v.contact(j).unwrap())
        .collect();
    let fresh: Vec<_> = all
        .iter()
        .filter(|c| c.created_at > now - SEARCH_LAG_SECS)
        .collect();
    assert!(
        !fresh.is_empty(),
        "the latest tick created a contact moments ago"
    );
    let listed = c.ok("/contacts?per_page=1").await["total_count"]
        .as_u64()
        .unwrap();
    assert_eq!(
        listed,
        all.len() as u64,
        "the list shows new contacts at once"
    );
    let (ids, total) = search_all(
        &c,
        "/contacts/search",
        "data",
        json!({"field": "role", "operator": "IN", "value": ["user", "lead"]}),
    )
    .await;
    assert_eq!(total, (all.len() - fresh.len()) as u64);
    for f in &fresh {
        assert!(
            !ids.contains(&f.id),
            "fresh contact {} must not be searchable yet",
            f.id
        );
    }
    // One tick later they are.
    sb.world().advance(1);
    let (ids, _) = search_all(
        &c,
        "/contacts/search",
        "data",
        json!({"field": "role", "operator": "IN", "value": ["user", "lead"]}),
    )
    .await;
    for f in &fresh {
        assert!(ids.contains(&f.id));
    }
    // Email search is case-insensitive and finds the case-twin too.
    let twin = all
        .iter()
        .find(|c| {
            c.email
                .as_deref()
                .is_some_and(|e| e.chars().any(char::is_uppercase) && e.contains('@'))
        })
        .unwrap();
    let email = twin.email.clone().unwrap().to_lowercase();
    let (ids, _) = search_all(
        &c,
        "/contacts/search",
        "data",
        json!({"field": "email", "operator": "=", "value": email}),
    )
    .await;
    assert!(ids.contains(&twin.id));
    sb.shutdown().await;
}

#[tokio::test]
async fn sorted_search_pages_are_stable() {
    let sb = start(args(120, 50)).await;
    let c = Client::new(&sb);
    let mut body = json!({"query": {"field": "created_at", "operator": ">", "value": 0}, "sort": {"field": "updated_at", "order": "descending"}, "pagination": {"per_page": 25}});
    let mut last = i64::MAX;
    let mut n = 0;
    loop {
        let (_, page) = c.post("/conversations/search", body.clone()).await;
        for conv in page["conversations"].as_array().unwrap() {
            let u = conv["updated_at"].as_i64().unwrap();
            assert!(u <= last);
            last = u;
            n += 1;
        }
        match page["pages"]["next"]["starting_after"].as_str() {
            Some(cur) => body["pagination"]["starting_after"] = json!(cur),
            None => break,
        }
    }
    assert_eq!(n, 120);
    sb.shutdown().await;
}
