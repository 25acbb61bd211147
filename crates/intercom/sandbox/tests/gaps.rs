//! The sandbox gaps third-party Intercom clients stopped on (issue R2.1, item 10), one test each:
//! 2.16 routes that were missing or swallowed, merged contacts, the scroll after a 500, long
//! sub-lists, search rules, faults behind auth, and faults on the file host.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::common::{Client, args, error_code, start};
use deskmove_intercom_sandbox::{Sandbox, SandboxArgs};
use deskmove_sandbox::Faults;
use serde_json::{Value, json};

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn routes_missing_in_the_sandbox_now_answer_like_2_16() {
    let sb = start(args(300, 400)).await;
    let c = Client::new(&sb);
    let e = sb.inspect();
    let v = sb.world().view();

    // Segments, with counts on request; companies name the company segments they are in.
    let segs = c.ok("/segments").await;
    assert_eq!(segs["type"], "segment.list");
    let list = segs["segments"].as_array().unwrap();
    assert_eq!(list.len() as u64, e["segments"].as_u64().unwrap());
    assert!(list.iter().all(|s| s.get("count").is_none()));
    let counted = c.ok("/segments?include_count=true").await;
    let users = &counted["segments"][0];
    assert_eq!(users["name"], "All users");
    assert_eq!(users["count"].as_u64(), e["users"].as_u64());
    let one = c
        .ok(&format!("/segments/{}", users["id"].as_str().unwrap()))
        .await;
    assert_eq!(one["name"], "All users");
    let enterprise = (0..v.company_count())
        .filter_map(|k| v.company(k))
        .find(|co| co.plan == "Enterprise")
        .unwrap();
    let attached = c
        .ok(&format!("/companies/{}/segments", enterprise.id))
        .await;
    let names: Vec<&str> = attached["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Enterprise companies"), "{attached}");
    let company = c.ok(&format!("/companies/{}", enterprise.id)).await;
    assert_eq!(
        ids(&company["segments"]["segments"]),
        ids(&attached["data"]),
        "the company object and its segments route agree"
    );

    // Activity logs: no longer an admin lookup; `created_at_after` is required.
    let (status, body) = c.get("/admins/activity_logs").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "parameter_not_found")
    );
    let mut seen = Vec::new();
    let mut path = "/admins/activity_logs?created_at_after=0".to_string();
    loop {
        let page = c.ok(&path).await;
        assert_eq!(page["type"], "activity_log.list");
        for l in page["activity_logs"].as_array().unwrap() {
            assert_eq!(l["performed_by"]["type"], "admin");
            seen.push(l["created_at"].as_i64().unwrap());
        }
        match page["pages"]["next"]["starting_after"].as_str() {
            Some(cur) => {
                path = format!("/admins/activity_logs?created_at_after=0&starting_after={cur}")
            }
            None => break,
        }
    }
    assert_eq!(seen.len() as u64, e["activity_logs"].as_u64().unwrap());
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let cut = seen[seen.len() / 2];
    let recent = c
        .ok(&format!(
            "/admins/activity_logs?created_at_after={cut}&per_page=150"
        ))
        .await;
    assert_eq!(
        recent["activity_logs"].as_array().unwrap().len(),
        seen.iter().filter(|t| **t >= cut).count()
    );
    assert_eq!(c.ok("/admins/900000").await["type"], "admin");

    // Find a user by external id; leads have none.
    let user = (0..v.contact_count())
        .filter_map(|j| v.contact(j))
        .find(|x| x.external_id.is_some())
        .unwrap();
    let found = c
        .ok(&format!(
            "/contacts/find_by_external_id/{}",
            user.external_id.as_deref().unwrap()
        ))
        .await;
    assert_eq!(found["id"], user.id.as_str());
    let (status, body) = c.get("/contacts/find_by_external_id/usr_nobody").await;
    assert_eq!((status, error_code(&body).as_str()), (404, "not_found"));

    // Conversation attributes live at their own route in 2.16; the old spelling is 422.
    let attrs = c.ok("/conversations/attributes").await;
    assert_eq!(
        attrs["data"].as_array().unwrap().len() as u64,
        e["conversation_attributes"].as_u64().unwrap()
    );
    assert!(
        attrs["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["type"] == "conversation_attribute" && a["archived"] == false)
    );
    let all = c
        .ok("/conversations/attributes?include_archived=true")
        .await;
    assert_eq!(
        all["data"].as_array().unwrap().len() as u64,
        e["conversation_attributes_including_archived"]
            .as_u64()
            .unwrap()
    );
    let (status, body) = c.get("/data_attributes?model=conversation").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (422, "parameter_invalid")
    );

    // The help center every collection points at.
    let centers = c.ok("/help_center/help_centers").await;
    let center_id = centers["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(centers["data"].as_array().unwrap().len(), 1);
    let collections = c.ok("/help_center/collections?per_page=50").await;
    for col in collections["data"].as_array().unwrap() {
        assert_eq!(col["help_center_id"].to_string(), center_id);
    }
    assert_eq!(
        c.ok(&format!("/help_center/help_centers/{center_id}"))
            .await["id"],
        center_id.as_str()
    );

    // Ticket types and states: the ones tickets carry.
    let types = c.ok("/ticket_types").await;
    let states = c.ok("/ticket_states").await;
    let type_ids: BTreeSet<String> = ids(&types["data"]).into_iter().collect();
    let state_ids: BTreeSet<String> = ids(&states["data"]).into_iter().collect();
    assert_eq!(type_ids.len() as u64, e["ticket_types"].as_u64().unwrap());
    assert_eq!(state_ids.len() as u64, e["ticket_states"].as_u64().unwrap());
    let (_, tickets) = c
        .post(
            "/tickets/search",
            json!({"query": {"field": "created_at", "operator": ">", "value": 0}, "pagination": {"per_page": 150}}),
        )
        .await;
    let tickets = tickets["tickets"].as_array().unwrap();
    assert!(!tickets.is_empty());
    for t in tickets {
        assert!(type_ids.contains(t["ticket_type"]["id"].as_str().unwrap()));
        assert!(state_ids.contains(t["ticket_state"]["id"].as_str().unwrap()));
        let ty = types["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == t["ticket_type"]["id"])
            .unwrap();
        assert_eq!(ty["category"], t["category"], "one type per category");
    }

    // A company's contacts: as many as its user_count, each naming the company.
    let k = (0..v.populated_company_count())
        .max_by_key(|k| v.company_user_count(*k))
        .unwrap();
    let co = v.company(k).unwrap();
    let mut members = Vec::new();
    for page in 1.. {
        let body = c
            .ok(&format!(
                "/companies/{}/contacts?per_page=2&page={page}",
                co.id
            ))
            .await;
        let data = body["data"].as_array().unwrap();
        if data.is_empty() {
            break;
        }
        assert_eq!(body["total_count"].as_u64().unwrap(), co.user_count);
        members.extend(data.iter().cloned());
    }
    assert_eq!(members.len() as u64, co.user_count);
    assert!(co.user_count > 1);
    for m in &members {
        let path = format!(
            "/contacts/{}/companies?per_page=150",
            m["id"].as_str().unwrap()
        );
        let theirs = c.ok(&path).await;
        assert!(ids(&theirs["data"]).contains(&co.id), "{path}");
    }
    let (status, body) = c.get("/companies/nope/contacts").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (404, "company_not_found")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn merged_contacts_answer_410_with_a_link_to_the_canonical_one() {
    let sb = start(args(20, 300)).await;
    let c = Client::new(&sb);
    let merged = sb.merged_contacts();
    assert!(!merged.is_empty());
    assert_eq!(
        sb.inspect()["contacts_merged"].as_u64().unwrap(),
        merged.len() as u64
    );
    let m = &merged[0];
    let r = c.get_raw(&format!("/contacts/{}", m.id)).await;
    assert_eq!(r.status(), 410);
    let link = r.headers()["link"].to_str().unwrap().to_string();
    assert_eq!(
        link,
        format!("</contacts/{}>; rel=\"canonical\"", m.canonical_id)
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "contact_merged");
    // The canonical contact is there; the merged one is in no list or search.
    let target = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(c.ok(&target).await["id"], m.canonical_id.as_str());
    // Where a client learns merged ids: the canonical user's merge history.
    let with_history = c.ok(&format!("{target}?include_merge_history=true")).await;
    let sources: Vec<&str> = with_history["merge_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["source_contact_id"].as_str().unwrap())
        .collect();
    assert!(sources.contains(&m.id.as_str()), "{with_history}");
    assert!(
        c.ok(&target).await.get("merge_history").is_none(),
        "only on request"
    );
    let history = c.ok(&format!("{target}/merge_history")).await;
    assert_eq!(history["data"][0]["type"], "merge_history");
    assert!(history.to_string().contains(&m.id));
    let listed = c.ok("/contacts?per_page=150").await.to_string();
    assert!(!listed.contains(&m.id));
    let (_, found) = c
        .post(
            "/contacts/search",
            json!({"query": {"field": "id", "operator": "=", "value": m.id}}),
        )
        .await;
    assert_eq!(found["total_count"], 0);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_500_mid_scroll_ends_the_scroll_and_the_old_param_is_gone() {
    // About a third of requests fail with 500, 502 or 503; the sequence is fixed by the seed.
    let sb = start(SandboxArgs {
        faults: "5xx=0.35".parse().unwrap(),
        ..args(10, 2_000)
    })
    .await;
    let c = Client::new(&sb);
    let (mut param, mut served) = (None::<String>, 0usize);
    let mut killed = None;
    for _ in 0..200 {
        let path = match &param {
            Some(p) => format!("/companies/scroll?scroll_param={p}"),
            None => "/companies/scroll".to_string(),
        };
        let r = c.get_raw(&path).await;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        match (status, &param) {
            (200, _) => {
                served += body["data"].as_array().unwrap().len();
                // A finished scroll (no scroll_param) frees the slot: start another.
                param = body["scroll_param"].as_str().map(String::from);
            }
            (500, Some(p)) => {
                assert!(
                    body["errors"][0]["message"]
                        .as_str()
                        .unwrap()
                        .contains("restart the scroll"),
                    "{body}"
                );
                killed = Some(p.clone());
                break;
            }
            // 502/503 leave the scroll open (the page was not served): try the page again.
            _ => assert!(status >= 500, "{status}: {body}"),
        }
    }
    let old = killed.expect("a 500 landed mid-scroll");
    assert!(served > 0, "the scroll had started");
    // Resuming with the old scroll_param is a 404, whatever else fails meanwhile.
    let mut resumed = 0;
    for _ in 0..50 {
        let (status, body) = c
            .get(&format!("/companies/scroll?scroll_param={old}"))
            .await;
        if status == 404 {
            assert_eq!(error_code(&body), "not_found");
            resumed = 404;
            break;
        }
        assert!(status >= 500, "{status}: {body}");
    }
    assert_eq!(resumed, 404, "the old scroll_param is gone");
    // A fresh scroll may start at once: the slot is free.
    let mut restarted = false;
    for _ in 0..50 {
        let (status, body) = c.get("/companies/scroll").await;
        if status == 200 {
            assert!(body["scroll_param"].is_string());
            restarted = true;
            break;
        }
        assert!(status >= 500, "{status}: {body}");
    }
    assert!(restarted);
    sb.shutdown().await;
}

#[tokio::test]
async fn long_sub_lists_show_ten_then_has_more_and_the_url_gives_the_rest() {
    let sb = start(args(10, 400)).await;
    let c = Client::new(&sb);
    let v = sb.world().view();
    let j = v.long_list_contact(0).unwrap();
    let truth = v.contact(j).unwrap();
    let body = c.ok(&format!("/contacts/{}", truth.id)).await;
    for (key, total) in [
        ("tags", truth.tags.len() as u64),
        ("notes", truth.notes),
        ("companies", 1 + truth.more_companies.len() as u64),
    ] {
        let sub = &body[key];
        assert!(total > 10, "{key}: the world has more than ten");
        assert_eq!(sub["data"].as_array().unwrap().len(), 10, "{key}");
        assert_eq!(sub["has_more"], true, "{key}");
        assert_eq!(sub["total_count"].as_u64().unwrap(), total, "{key}");
        // Follow the URL to the end (page-based where the route pages).
        let url = sub["url"].as_str().unwrap();
        let mut got = BTreeSet::new();
        for page in 1.. {
            let listed = c.ok(&format!("{url}?per_page=4&page={page}")).await;
            let data = listed["data"].as_array().unwrap();
            if data.is_empty() || (key == "tags" && page > 1) {
                break;
            }
            got.extend(ids(&listed["data"]));
        }
        assert_eq!(got.len() as u64, total, "{key} via {url}");
        for r in sub["data"].as_array().unwrap() {
            assert!(got.contains(r["id"].as_str().unwrap()), "{key}");
        }
    }
    // The companies route says where the next page is.
    let first = c
        .ok(&format!("/contacts/{}/companies?per_page=5", truth.id))
        .await;
    assert!(first["pages"]["next"].as_str().unwrap().contains("page=2"));
    // Every note of it opens by id.
    for k in 0..truth.notes {
        let id = v.note_id(j, k);
        assert_eq!(c.ok(&format!("/notes/{id}")).await["id"], id.to_string());
    }
    // An ordinary contact says has_more: false.
    let plain = (0..v.contact_count())
        .filter_map(|x| v.contact(x))
        .find(|x| x.tags.len() <= 10 && x.more_companies.is_empty())
        .unwrap();
    let body = c.ok(&format!("/contacts/{}", plain.id)).await;
    assert_eq!(body["tags"]["has_more"], false);
    assert_eq!(body["companies"]["has_more"], false);
    sb.shutdown().await;
}

#[tokio::test]
async fn search_requires_a_query_and_takes_the_fields_the_spec_lists() {
    let sb = start(args(300, 100)).await;
    let c = Client::new(&sb);
    let v = sb.world().view();
    for path in [
        "/conversations/search",
        "/contacts/search",
        "/tickets/search",
    ] {
        let (status, body) = c.post(path, json!({"pagination": {"per_page": 5}})).await;
        assert_eq!(
            (status, error_code(&body).as_str()),
            (400, "parameter_not_found"),
            "{path}"
        );
    }
    let all: Vec<_> = (0..v.conversation_count())
        .filter_map(|i| v.conversation(i))
        .collect();
    let search = |query: Value| {
        let c = &c;
        async move {
            let (status, page) = c
                .post(
                    "/conversations/search",
                    json!({"query": query, "pagination": {"per_page": 150}}),
                )
                .await;
            assert_eq!(status, 200, "{page}");
            assert!(
                page["pages"].get("next").is_none(),
                "one page is enough here"
            );
            ids(&page["conversations"])
                .into_iter()
                .collect::<BTreeSet<_>>()
        }
    };
    // contact_ids
    let conv = &all[7];
    let contact = v.contact(conv.contact).unwrap();
    let want: BTreeSet<String> = all
        .iter()
        .filter(|x| x.contact == conv.contact)
        .map(|x| x.id.clone())
        .collect();
    assert_eq!(
        search(json!({"field": "contact_ids", "operator": "=", "value": contact.id})).await,
        want
    );
    // tag_ids
    let tagged = all.iter().find(|x| !x.tags.is_empty()).unwrap();
    let tag = v.tag(tagged.tags[0]).unwrap();
    let want: BTreeSet<String> = all
        .iter()
        .filter(|x| x.tags.contains(&tag.index))
        .map(|x| x.id.clone())
        .collect();
    assert_eq!(
        search(json!({"field": "tag_ids", "operator": "IN", "value": [tag.id]})).await,
        want
    );
    // statistics.*: the true part count, as `statistics.count_conversation_parts` renders it.
    let want: BTreeSet<String> = all
        .iter()
        .filter(|x| x.parts.len() > 40)
        .map(|x| x.id.clone())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(
        search(
            json!({"field": "statistics.count_conversation_parts", "operator": ">", "value": 40})
        )
        .await,
        want
    );
    let (status, _) = c
        .post(
            "/conversations/search",
            json!({"query": {"field": "statistics.last_close_at", "operator": ">", "value": 0}}),
        )
        .await;
    assert_eq!(status, 200);
    // source.body matches one word, not a phrase (spec: "against every element").
    let body_text = deskmove_intercom_sandbox::to_plaintext(&conv.source_body);
    let word = body_text
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| w.len() > 3)
        .max_by_key(|w| w.len())
        .unwrap()
        .to_string();
    let hits = search(json!({"field": "source.body", "operator": "=", "value": word})).await;
    assert!(hits.contains(&conv.id), "{word}");
    let phrase = format!("{word} {word}");
    assert!(
        search(json!({"field": "source.body", "operator": "=", "value": phrase}))
            .await
            .is_empty()
    );
    // custom_attributes.* by their defined names (no conversation has values yet).
    let (status, page) = c
        .post(
            "/conversations/search",
            json!({"query": {"field": "custom_attributes.Brand", "operator": "=", "value": "Acme"}}),
        )
        .await;
    assert_eq!((status, page["total_count"].as_u64()), (200, Some(0)));
    let (status, body) = c
        .post(
            "/conversations/search",
            json!({"query": {"field": "custom_attributes.nope", "operator": "=", "value": 1}}),
        )
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "parameter_invalid")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn injected_faults_come_after_auth_and_carry_rate_headers() {
    let sb = start(SandboxArgs {
        faults: "5xx=1.0".parse().unwrap(),
        rate_limit: 600,
        frozen_clock: Some(1_800_000_003),
        ..args(10, 10)
    })
    .await;
    let c = Client::new(&sb);
    // A bad token is 401, never a fault, and carries no rate headers.
    for _ in 0..5 {
        let r = c
            .http
            .get(c.url("/admins"))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.headers().get("x-ratelimit-limit").is_none());
        let body: Value = r.json().await.unwrap();
        assert_eq!(error_code(&body), "unauthorized");
    }
    // With the right token every answer is an injected 5xx with the window's headers.
    for i in 0..3u64 {
        let r = c.get_raw("/admins").await;
        assert!(r.status().is_server_error());
        let h = r.headers();
        assert_eq!(h["x-ratelimit-limit"], "100");
        assert_eq!(
            h["x-ratelimit-remaining"].to_str().unwrap(),
            (99 - i).to_string()
        );
        assert_eq!(h["x-ratelimit-reset"], "1800000010");
        let body: Value = r.json().await.unwrap();
        assert!(["server_error", "service_unavailable"].contains(&error_code(&body).as_str()));
    }
    sb.shutdown().await;

    // Without credentials, latency and resets do not apply either: 401 at once.
    let sb = start(SandboxArgs {
        faults: "reset=1.0".parse().unwrap(),
        latency_ms: 400,
        ..args(10, 10)
    })
    .await;
    let c = Client::new(&sb);
    let t = Instant::now();
    let r = c.http.get(c.url("/admins")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(t.elapsed() < Duration::from_millis(400));
    sb.shutdown().await;
}

/// A conversation's first attachment URL.
async fn attachment_url(c: &Client, sb: &deskmove_intercom_sandbox::RunningSandbox) -> String {
    let v = sb.world().view();
    let conv = (0..v.conversation_count())
        .filter_map(|i| v.conversation(i))
        .find(|x| x.parts.iter().any(|p| !p.attachments.is_empty()))
        .unwrap();
    let body = c.ok(&format!("/conversations/{}", conv.id)).await;
    body["conversation_parts"]["conversation_parts"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|p| p["attachments"][0]["url"].as_str().map(String::from))
        .unwrap()
}

#[tokio::test]
async fn the_file_host_fails_on_its_own_schedule() {
    let with_files = |faults: &str| SandboxArgs {
        file_faults: faults.parse::<Faults>().unwrap(),
        ..args(200, 50)
    };
    // 5xx: CDN-shaped XML, while the API host is unaffected.
    let sb = start(with_files("5xx=1.0")).await;
    let c = Client::new(&sb);
    let url = attachment_url(&c, &sb).await;
    let mut statuses = BTreeSet::new();
    for _ in 0..3 {
        let r = reqwest::get(&url).await.unwrap();
        statuses.insert(r.status().as_u16());
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains("xml")
        );
        assert!(r.headers().get("x-ratelimit-limit").is_none());
        assert!(r.text().await.unwrap().contains("<Error><Code>"));
    }
    assert_eq!(statuses, BTreeSet::from([500, 502, 503]));
    // A credential sent with a request that then fails is still recorded.
    let r = c.http.get(&url).bearer_auth(&c.token).send().await.unwrap();
    assert!(r.status().is_server_error());
    assert_eq!(sb.leaked_credentials().len(), 1);
    sb.shutdown().await;

    // Resets and truncated bodies are errors for the client.
    for faults in ["reset=1.0", "truncate=1.0"] {
        let sb = start(with_files(faults)).await;
        let c = Client::new(&sb);
        let url = attachment_url(&c, &sb).await;
        let got = match reqwest::get(&url).await {
            Ok(r) => r.bytes().await.map(|b| b.len()),
            Err(e) => Err(e),
        };
        assert!(got.is_err(), "{faults}: {got:?}");
        sb.shutdown().await;
    }

    // Slow bodies arrive whole, late.
    let sb = start(with_files("slow=1.0")).await;
    let c = Client::new(&sb);
    let url = attachment_url(&c, &sb).await;
    let t = Instant::now();
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200);
    let expected_len = r.content_length().unwrap();
    assert_eq!(r.bytes().await.unwrap().len() as u64, expected_len);
    assert!(t.elapsed() >= Duration::from_millis(1_000));
    sb.shutdown().await;
}
