//! Pagination styles, caps and per-resource behaviour of the Intercom sandbox, checked
//! against the synthetic world (the oracle) over real HTTP.

use crate::common::{Client, args, error_code, start};
use deskmove_intercom_sandbox::{COMPANY_LIST_CAP, Sandbox, SandboxArgs};
use serde_json::{Value, json};

#[tokio::test]
async fn cursor_lists_walk_everything_exactly_once() {
    let sb = start(args(200, 60)).await;
    let c = Client::new(&sb);
    let expected = sb.inspect();
    // Contacts: default 10 per page, `next` absent on the last page.
    let mut ids = Vec::new();
    let mut path = "/contacts".to_string();
    loop {
        let page = c.ok(&path).await;
        assert!(page["data"].as_array().unwrap().len() <= 10);
        ids.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].as_str().unwrap().to_string()),
        );
        match page["pages"]["next"]["starting_after"].as_str() {
            Some(cur) => path = format!("/contacts?starting_after={cur}"),
            None => break,
        }
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "no duplicates");
    assert_eq!(n as u64, expected["contacts"].as_u64().unwrap());
    // Conversations with per_page above the max are clamped to 150.
    let page = c.ok("/conversations?per_page=500").await;
    assert_eq!(page["conversations"].as_array().unwrap().len(), 150);
    assert_eq!(page["pages"]["per_page"], 150);
    let cur = page["pages"]["next"]["starting_after"].as_str().unwrap();
    let rest = c
        .ok(&format!("/conversations?per_page=500&starting_after={cur}"))
        .await;
    assert_eq!(rest["conversations"].as_array().unwrap().len(), 50);
    assert!(
        rest["pages"].get("next").is_none(),
        "no `next` on the last page"
    );
    assert!(
        page["conversations"][0].get("conversation_parts").is_none(),
        "list items carry no parts"
    );
    let mut seen = 0;
    let mut path = "/conversations?per_page=7".to_string();
    loop {
        let page = c.ok(&path).await;
        seen += page["conversations"].as_array().unwrap().len() as u64;
        match page["pages"]["next"]["starting_after"].as_str() {
            Some(cur) => path = format!("/conversations?per_page=7&starting_after={cur}"),
            None => break,
        }
    }
    assert_eq!(seen, expected["conversations"].as_u64().unwrap());
    let (status, body) = c.get("/contacts?starting_after=not-a-cursor").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "parameter_invalid")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn retrieve_caps_at_the_500_most_recent_parts() {
    let sb = start(args(1_000, 100)).await;
    let c = Client::new(&sb);
    let v = sb.world().view();
    let giant = (0..1_000)
        .find(|i| v.conversation_shape(*i).unwrap().parts > 500)
        .expect("a giant exists");
    let truth = v.conversation(giant).unwrap();
    let body = c.ok(&format!("/conversations/{}", truth.id)).await;
    let parts = body["conversation_parts"]["conversation_parts"]
        .as_array()
        .unwrap();
    assert_eq!(parts.len(), 500);
    assert_eq!(
        body["statistics"]["count_conversation_parts"]
            .as_u64()
            .unwrap(),
        truth.parts.len() as u64
    );
    // The 500 *most recent*: the last returned part is the newest, the oldest are missing.
    assert_eq!(
        parts[499]["id"].as_str().unwrap(),
        truth.parts.last().unwrap().id.to_string()
    );
    let skipped = truth.parts.len() - 500;
    assert_eq!(
        parts[0]["id"].as_str().unwrap(),
        truth.parts[skipped].id.to_string()
    );
    // A small one comes back whole.
    let small = (0..1_000)
        .find(|i| (2..20).contains(&v.conversation_shape(*i).unwrap().parts))
        .unwrap();
    let truth = v.conversation(small).unwrap();
    let body = c.ok(&format!("/conversations/{}", truth.id)).await;
    assert_eq!(
        body["conversation_parts"]["conversation_parts"]
            .as_array()
            .unwrap()
            .len(),
        truth.parts.len()
    );
    let (status, body) = c.get("/conversations/1").await;
    assert_eq!((status, error_code(&body).as_str()), (404, "not_found"));
    sb.shutdown().await;
}

#[tokio::test]
async fn plaintext_bodies_render_links_as_label_and_url() {
    let sb = start(args(300, 100)).await;
    let c = Client::new(&sb);
    let v = sb.world().view();
    let conv = (0..300)
        .filter_map(|i| v.conversation(i))
        .find(|c| {
            c.parts
                .iter()
                .any(|p| p.body.as_deref().is_some_and(|b| b.contains("<a href")))
        })
        .unwrap();
    let html = c.ok(&format!("/conversations/{}", conv.id)).await;
    let text = c
        .ok(&format!("/conversations/{}?display_as=plaintext", conv.id))
        .await;
    let find = |b: &Value| {
        b["conversation_parts"]["conversation_parts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["body"].as_str().map(String::from))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(find(&html).contains("<a href"));
    let t = find(&text);
    assert!(!t.contains('<'), "{t}");
    assert!(
        t.contains("the setup guide (https://docs.example.com/guide?a=1&b=2)"),
        "{t}"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn page_based_lists_end_with_an_empty_page() {
    let sb = start(args(50, 40)).await;
    let c = Client::new(&sb);
    let totals = sb.inspect();
    for (path, key) in [
        ("/articles", "articles"),
        ("/help_center/collections", "collections"),
    ] {
        let mut n = 0;
        for page in 1.. {
            let body = c.ok(&format!("{path}?page={page}&per_page=5")).await;
            let data = body["data"].as_array().unwrap();
            if data.is_empty() {
                break;
            }
            n += data.len() as u64;
        }
        assert_eq!(n, totals[key].as_u64().unwrap(), "{path}");
    }
    // Companies list is POST with query parameters; user-less companies are hidden.
    let mut n = 0;
    for page in 1.. {
        let (status, body) = c
            .post(
                &format!("/companies/list?page={page}&per_page=3"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200);
        let data = body["data"].as_array().unwrap();
        if data.is_empty() {
            break;
        }
        assert!(data.iter().all(|x| x["user_count"].as_u64().unwrap() > 0));
        n += data.len() as u64;
    }
    assert_eq!(n, totals["companies_visible_in_list"].as_u64().unwrap());
    assert!(n < totals["companies"].as_u64().unwrap());
    sb.shutdown().await;
}

#[tokio::test]
async fn companies_list_caps_at_ten_thousand() {
    let sb = start(SandboxArgs {
        conversations: 10,
        contacts: 100_000,
        rate_limit: 0,
        ..SandboxArgs::default()
    })
    .await;
    let c = Client::new(&sb);
    let v = sb.world().view();
    assert!(
        v.populated_company_count() > COMPANY_LIST_CAP,
        "the world has more than the cap"
    );
    let (_, last) = c
        .post("/companies/list?page=200&per_page=50", json!({}))
        .await;
    assert_eq!(
        last["data"].as_array().unwrap().len(),
        50,
        "page 200 of 50 is the last full page"
    );
    assert_eq!(last["total_count"].as_u64().unwrap(), COMPANY_LIST_CAP);
    let (_, past) = c
        .post("/companies/list?page=201&per_page=50", json!({}))
        .await;
    assert!(
        past["data"].as_array().unwrap().is_empty(),
        "nothing past 10,000"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn scroll_rules() {
    let sb = start(args(10, 800)).await;
    let c = Client::new(&sb);
    let all = sb.world().view().company_count();
    let first = c.ok("/companies/scroll").await;
    let param = first["scroll_param"].as_str().unwrap().to_string();
    assert!(first["pages"].is_null() && first["total_count"].is_null());
    // One open scroll per app.
    let (status, body) = c.get("/companies/scroll").await;
    assert_eq!((status, error_code(&body).as_str()), (400, "scroll_exists"));
    let mut n = first["data"].as_array().unwrap().len() as u64;
    loop {
        let page = c
            .ok(&format!("/companies/scroll?scroll_param={param}"))
            .await;
        let data = page["data"].as_array().unwrap();
        if data.is_empty() {
            assert!(
                page.get("scroll_param").is_none(),
                "the final empty page carries no scroll_param"
            );
            break;
        }
        n += data.len() as u64;
    }
    assert_eq!(n, all, "scroll walks every company, user-less ones too");
    // A finished scroll_param is gone.
    let (status, body) = c
        .get(&format!("/companies/scroll?scroll_param={param}"))
        .await;
    assert_eq!((status, error_code(&body).as_str()), (404, "not_found"));
    // A new scroll may start; idle for a minute, it expires.
    let again = c.ok("/companies/scroll").await;
    let p2 = again["scroll_param"].as_str().unwrap().to_string();
    sb.advance_clock(std::time::Duration::from_secs(61));
    let (status, _) = c.get(&format!("/companies/scroll?scroll_param={p2}")).await;
    assert_eq!(status, 404, "expired after one idle minute");
    assert_eq!(
        c.get("/companies/scroll").await.0,
        200,
        "and the slot is free again"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn directory_content_and_tickets() {
    let sb = start(args(200, 80)).await;
    let c = Client::new(&sb);
    let e = sb.inspect();
    let admins = c.ok("/admins").await;
    assert_eq!(
        admins["admins"].as_array().unwrap().len() as u64,
        e["admins"].as_u64().unwrap()
    );
    assert_eq!(
        c.ok("/teams").await["teams"].as_array().unwrap().len() as u64,
        e["teams"].as_u64().unwrap()
    );
    assert_eq!(
        c.ok("/tags").await["data"].as_array().unwrap().len() as u64,
        e["tags"].as_u64().unwrap()
    );
    assert_eq!(
        c.ok("/data_attributes").await["data"]
            .as_array()
            .unwrap()
            .len() as u64,
        e["data_attributes"].as_u64().unwrap()
    );
    let (status, _) = c.get("/data_attributes?model=conversation").await;
    assert_eq!(status, 422);
    // Macros: cursor walk, ISO timestamps, placeholders as <attribute/>.
    let mut n = 0;
    let mut path = "/macros?per_page=5".to_string();
    loop {
        let page = c.ok(&path).await;
        for m in page["data"].as_array().unwrap() {
            assert!(m["created_at"].as_str().unwrap().ends_with('Z'));
            n += 1;
        }
        match page["pages"]["next"]["starting_after"].as_str() {
            Some(cur) => path = format!("/macros?per_page=5&starting_after={cur}"),
            None => break,
        }
    }
    assert_eq!(n, e["macros"].as_u64().unwrap());
    let greeting = c.ok("/macros/300000").await;
    assert!(
        greeting["body"]
            .as_str()
            .unwrap()
            .contains("<attribute key=\"user.name\" default=\"there\"/>"),
        "{greeting}"
    );
    // Tickets: search only, all of them.
    let mut n = 0;
    let all = json!({"field": "created_at", "operator": ">", "value": 0});
    let mut body = json!({"query": all, "pagination": {"per_page": 3}});
    loop {
        let (status, page) = c.post("/tickets/search", body.clone()).await;
        assert_eq!(status, 200, "{page}");
        n += page["tickets"].as_array().unwrap().len() as u64;
        match page["pages"]["next"]["starting_after"].as_str() {
            Some(cur) => {
                body = json!({"query": all, "pagination": {"per_page": 3, "starting_after": cur}})
            }
            None => break,
        }
    }
    assert_eq!(n, e["tickets"].as_u64().unwrap());
    // Article images are signed file URLs too.
    let articles = c.ok("/articles?per_page=50").await.to_string();
    assert!(!articles.contains("deskmove-attachment://"));
    assert!(articles.contains(sb.files_url().as_str().trim_end_matches('/')));
    // Notes, page-based.
    let v = sb.world().view();
    let with_notes = (0..80)
        .filter_map(|j| v.contact(j))
        .find(|c| c.notes > 1)
        .unwrap();
    let notes = c
        .ok(&format!(
            "/contacts/{}/notes?per_page=1&page=2",
            with_notes.id
        ))
        .await;
    assert_eq!(notes["data"].as_array().unwrap().len(), 1);
    let past = c
        .ok(&format!(
            "/contacts/{}/notes?per_page=1&page=99",
            with_notes.id
        ))
        .await;
    assert!(past["data"].as_array().unwrap().is_empty());
    sb.shutdown().await;
}
