//! What an Intercom *target* needs of the sandbox: written records read back through the normal
//! read routes beside the seeded ones (ids never colliding), seeded conversations written into
//! like written ones, uploaded files served back byte for byte, deletes that take records out of
//! every read route, and a conversation attribute a conversation is found by.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::common::{Client, WRITE_CLOCK, admin_id, error_code, start, write_args};
use deskmove_intercom_sandbox::{RunningSandbox, SEARCH_LAG_SECS, Sandbox};

async fn setup() -> (RunningSandbox, Client, String) {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let admin = admin_id(&sb);
    (sb, c, admin)
}

async fn delete(c: &Client, path: &str) -> (u16, Value) {
    c.send(reqwest::Method::DELETE, path, None, None).await
}

async fn put(c: &Client, version: &str, path: &str, body: Value) -> (u16, Value) {
    c.send(reqwest::Method::PUT, path, Some(version), Some(body))
        .await
}

/// A written user with an external id and a conversation they started; (contact, conversation).
async fn user_with_conversation(c: &Client, external_id: &str) -> (String, String) {
    let contact = c
        .created(
            "/contacts",
            json!({"external_id": external_id, "email": format!("{external_id}@example.org")}),
        )
        .await;
    let id = contact["id"].as_str().unwrap().to_string();
    let msg = c
        .created(
            "/conversations",
            json!({"from": {"type": "user", "id": id}, "body": "Hello", "created_at": 1_600_000_000}),
        )
        .await;
    (id, msg["conversation_id"].as_str().unwrap().to_string())
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every page of `GET /conversations` (cursor), ids in order.
async fn all_conversation_ids(c: &Client) -> (Vec<String>, u64) {
    let mut out = Vec::new();
    let mut path = "/conversations?per_page=7".to_string();
    loop {
        let page = c.ok(&path).await;
        out.extend(ids(&page, "conversations"));
        match page["pages"]["next"]["starting_after"].as_str() {
            Some(cur) => path = format!("/conversations?per_page=7&starting_after={cur}"),
            None => return (out, page["total_count"].as_u64().unwrap()),
        }
    }
}

#[tokio::test]
async fn written_records_read_back_through_the_read_routes() {
    let (sb, c, admin) = setup().await;
    let (contact, cid) = user_with_conversation(&c, "ext-1").await;
    c.created(
        &format!("/conversations/{cid}/reply"),
        json!({"message_type": "comment", "type": "admin", "admin_id": admin, "body": "<p>Hi</p>",
               "created_at": 1_600_000_100, "skip_notifications": true}),
    )
    .await;
    // Contacts: retrieve, by external id, in the list after the world's, in search after the lag.
    assert_eq!(
        c.ok(&format!("/contacts/{contact}")).await["external_id"],
        "ext-1"
    );
    assert_eq!(
        c.ok("/contacts/find_by_external_id/ext-1").await["id"],
        contact.as_str()
    );
    let world_contacts = sb.world().view().contact_count();
    let list = c.ok("/contacts?per_page=150").await;
    let listed = ids(&list, "data");
    assert_eq!(list["total_count"], world_contacts + 1);
    assert_eq!(listed.last(), Some(&contact), "written after the world's");
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), listed.len(), "ids never collide");
    let q = json!({"query": {"field": "external_id", "operator": "=", "value": "ext-1"}});
    assert_eq!(
        c.created("/contacts/search", q.clone()).await["total_count"],
        0
    );
    sb.advance_clock(Duration::from_secs(SEARCH_LAG_SECS as u64));
    assert_eq!(
        c.created("/contacts/search", q).await["data"][0]["id"],
        contact.as_str()
    );

    // Conversations: retrieve with every part, in the list after the world's, in search.
    let conv = c.ok(&format!("/conversations/{cid}")).await;
    let part = &conv["conversation_parts"]["conversation_parts"][0];
    assert_eq!(
        (part["created_at"].as_i64(), part["author"]["id"].as_str()),
        (Some(1_600_000_100), Some(admin.as_str()))
    );
    assert_eq!(conv["source"]["author"]["id"], contact.as_str());
    let (listed, total) = all_conversation_ids(&c).await;
    let world = sb.world().view().conversation_count();
    assert_eq!((listed.len() as u64, total), (world + 1, world + 1));
    assert_eq!(listed.last(), Some(&cid));
    assert!(
        (0..world).all(|i| sb.world().view().conversation(i).unwrap().id != cid),
        "a written id is never a world id"
    );
    let found = c
        .created(
            "/conversations/search",
            json!({"query": {"field": "contact_ids", "operator": "=", "value": contact}}),
        )
        .await;
    assert_eq!(ids(&found, "conversations"), [cid.as_str()]);
    assert!(
        found["conversations"][0]
            .get("conversation_parts")
            .is_none(),
        "search items carry no parts"
    );

    // Companies (by company_id at once, listed once it has a user), tags, tickets.
    let company = c
        .created(
            "/companies",
            json!({"company_id": "acme-1", "name": "Acme", "remote_created_at": 1_500_000_000}),
        )
        .await;
    let co = company["id"].as_str().unwrap();
    let by_company_id = c.ok("/companies?company_id=acme-1").await;
    assert_eq!(by_company_id["data"][0]["id"], co);
    let before = c.ok("/companies?per_page=60&page=1").await["total_count"]
        .as_u64()
        .unwrap();
    c.created(&format!("/contacts/{contact}/companies"), json!({"id": co}))
        .await;
    let after = c.ok("/companies?per_page=60&page=99").await;
    assert_eq!(after["total_count"].as_u64().unwrap(), before + 1);
    let tag = c.created("/tags", json!({"name": "migrated"})).await;
    let tags = c.ok("/tags").await;
    assert!(ids(&tags, "data").contains(&tag["id"].as_str().unwrap().to_string()));
    let ticket_type = c.ok("/ticket_types").await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ticket = c
        .created(
            "/tickets",
            json!({"ticket_type_id": ticket_type, "contacts": [{"id": contact}], "created_at": 1_600_000_500,
                   "skip_notifications": true, "ticket_attributes": {"_default_title_": "T"}}),
        )
        .await;
    let tid = ticket["id"].as_str().unwrap();
    let got = c.ok(&format!("/tickets/{tid}")).await;
    assert_eq!(
        (
            got["created_at"].as_i64(),
            got["ticket_attributes"]["_default_title_"].as_str()
        ),
        (Some(1_600_000_500), Some("T"))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn seeded_conversations_take_replies_state_parts_tags_and_attributes() {
    let (sb, c, admin) = setup().await;
    let view = sb.world().view();
    let seeded = view.conversation(0).unwrap();
    let path = format!("/conversations/{}", seeded.id);
    let before = c.ok(&path).await;
    let world_parts = before["statistics"]["count_conversation_parts"]
        .as_u64()
        .unwrap();
    let conv = c
        .created(
            &format!("{path}/reply"),
            json!({"message_type": "comment", "type": "admin", "admin_id": admin, "body": "late answer",
                   "created_at": 1_700_000_000, "skip_notifications": true}),
        )
        .await;
    let parts = conv["conversation_parts"]["conversation_parts"]
        .as_array()
        .unwrap();
    let last = parts.last().unwrap();
    assert_eq!(
        (last["body"].as_str(), last["created_at"].as_i64()),
        (Some("late answer"), Some(1_700_000_000))
    );
    assert_eq!(
        conv["statistics"]["count_conversation_parts"],
        world_parts + 1
    );
    // The world's own parts are all still there, in order, before the written one.
    let world_ids: Vec<&Value> = before["conversation_parts"]["conversation_parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["id"])
        .collect();
    let now_ids: Vec<&Value> = parts.iter().map(|p| &p["id"]).collect();
    assert_eq!(&now_ids[..now_ids.len() - 1], &world_ids[..]);
    // A contact reply must come from the conversation's contact.
    let contact = view.contact(seeded.contact).unwrap().id;
    c.created(
        &format!("{path}/reply"),
        json!({"message_type": "comment", "type": "user", "intercom_user_id": contact, "body": "thanks"}),
    )
    .await;
    // Close: the state moves, the part is stamped now.
    let closed = c
        .created(
            &format!("{path}/parts"),
            json!({"message_type": "close", "type": "admin", "admin_id": admin}),
        )
        .await;
    assert_eq!(
        (closed["state"].as_str(), closed["open"].as_bool()),
        (Some("closed"), Some(false))
    );
    let close_part = closed["conversation_parts"]["conversation_parts"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(close_part["created_at"], WRITE_CLOCK);
    // A written tag on it, beside the world's tags; search sees the state and the tag.
    let tag = c.created("/tags", json!({"name": "imported"})).await;
    let tag_id = tag["id"].as_str().unwrap();
    let by_tag = json!({"query": {"field": "tag_ids", "operator": "=", "value": tag_id}});
    let found = c.created("/conversations/search", by_tag.clone()).await;
    assert_eq!(found["total_count"], 0);
    c.created(
        &format!("{path}/tags"),
        json!({"id": tag_id, "admin_id": admin}),
    )
    .await;
    let got = c.ok(&path).await;
    let tags: Vec<&str> = got["tags"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(tags.contains(&tag_id), "{tags:?}");
    assert_eq!(got["state"], "closed");
    // The same search again sees the tagging (no stale cached answer).
    let found = c.created("/conversations/search", by_tag).await;
    assert_eq!(found["total_count"], 1);
    let found = c
        .created(
            "/conversations/search",
            json!({"query": {"operator": "AND", "value": [
                {"field": "tag_ids", "operator": "=", "value": tag_id},
                {"field": "state", "operator": "=", "value": "closed"}]}}),
        )
        .await;
    assert_eq!(ids(&found, "conversations"), [seeded.id.as_str()]);
    assert_eq!(found["conversations"][0]["state"], "closed");
    // Untagging takes it off again.
    let (status, _) = c
        .send(
            reqwest::Method::DELETE,
            &format!("{path}/tags/{tag_id}"),
            None,
            Some(json!({"admin_id": admin})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        !c.ok(&path).await["tags"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == tag_id)
    );
    // The dump shows what was written into the seeded conversation.
    let dump = c.dump().await;
    let overlay = &dump["conversation_overlays"][0];
    assert_eq!(overlay["id"], seeded.id.as_str());
    assert_eq!(overlay["parts"].as_array().unwrap().len(), 3);
    assert_eq!(dump["notification_log"].as_array().unwrap().len(), 0);
    sb.shutdown().await;
}

#[tokio::test]
async fn uploaded_files_are_served_back_byte_for_byte_on_the_file_host() {
    let (sb, c, admin) = setup().await;
    let (_, cid) = user_with_conversation(&c, "ext-files").await;
    // Not UTF-8, with every byte value: what comes back must be exactly this.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    c.created(
        &format!("/conversations/{cid}/reply"),
        json!({"message_type": "note", "type": "admin", "admin_id": admin, "body": "file",
               "attachment_files": [{"content_type": "application/pdf", "data": data, "name": "scan 1.pdf"}]}),
    )
    .await;
    let conv = c.ok(&format!("/conversations/{cid}")).await;
    let att = &conv["conversation_parts"]["conversation_parts"][0]["attachments"][0];
    assert_eq!(
        (att["name"].as_str(), att["filesize"].as_u64()),
        (Some("scan 1.pdf"), Some(70_000))
    );
    let url = att["url"].as_str().unwrap();
    assert!(
        url.starts_with(sb.files_url().as_str()),
        "served by the sandbox's file host: {url}"
    );
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let got = r.bytes().await.unwrap();
    assert_eq!(blake3::hash(&got), blake3::hash(&bytes), "bytes identical");
    let dump = c.dump().await;
    assert_eq!(
        dump["conversations"][0]["parts"][0]["attachments"][0]["blake3"],
        blake3::hash(&bytes).to_hex().to_string()
    );
    // The URL is signed like the world's: it expires, and a fresh read signs a new one.
    sb.advance_clock(Duration::from_secs(31 * 60));
    assert_eq!(reqwest::get(url).await.unwrap().status(), 403);
    let again = c.ok(&format!("/conversations/{cid}")).await;
    let fresh = again["conversation_parts"]["conversation_parts"][0]["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = reqwest::get(&fresh).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        blake3::hash(&r.bytes().await.unwrap()),
        blake3::hash(&bytes)
    );
    assert!(sb.leaked_credentials().is_empty());
    sb.shutdown().await;
}

#[tokio::test]
async fn deletes_take_records_out_of_every_read_route() {
    let (sb, c, admin) = setup().await;
    let (contact, cid) = user_with_conversation(&c, "ext-del").await;
    let world_contacts = sb.world().view().contact_count();
    let world_convs = sb.world().view().conversation_count();
    sb.advance_clock(Duration::from_secs(SEARCH_LAG_SECS as u64));

    // A conversation: written and seeded, both permanent; listed in /conversations/deleted.
    let seeded = sb.world().view().conversation(1).unwrap().id;
    for id in [&cid, &seeded] {
        let (status, out) = delete(&c, &format!("/conversations/{id}")).await;
        assert_eq!(
            (status, &out),
            (
                200,
                &json!({"id": id, "object": "conversation", "deleted": true})
            )
        );
        let (status, out) = c.get(&format!("/conversations/{id}")).await;
        assert_eq!((status, error_code(&out).as_str()), (404, "not_found"));
        let (status, _) = c
            .post(
                &format!("/conversations/{id}/reply"),
                json!({"message_type": "note", "type": "admin", "admin_id": admin, "body": "x"}),
            )
            .await;
        assert_eq!(status, 404, "a deleted conversation takes no writes");
    }
    let (listed, total) = all_conversation_ids(&c).await;
    assert_eq!(
        (listed.len() as u64, total),
        (world_convs - 1, world_convs - 1)
    );
    assert!(!listed.contains(&seeded) && !listed.contains(&cid));
    let found = c
        .created(
            "/conversations/search",
            json!({"query": {"field": "id", "operator": "=", "value": seeded}}),
        )
        .await;
    assert_eq!(found["total_count"], 0);
    let gone = c.ok("/conversations/deleted").await;
    assert_eq!(
        ids(&gone, "conversations"),
        [seeded.clone(), cid.clone()],
        "newest first"
    );
    assert_eq!(delete(&c, &format!("/conversations/{cid}")).await.0, 404);

    // A contact: written and seeded. Gone from retrieve, lookup, list and search; its external
    // id is free again (a re-run after a rollback creates it anew, no 409).
    let world_one = sb.world().view().contact(3).unwrap().id;
    let by_ids = json!({"query": {"field": "id", "operator": "IN", "value": [contact, world_one]}});
    let found = c.created("/contacts/search", by_ids.clone()).await;
    assert_eq!(found["total_count"], 2);
    let (status, out) = delete(&c, &format!("/contacts/{contact}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            out["type"].as_str(),
            out["external_id"].as_str(),
            out["deleted"].as_bool()
        ),
        (Some("contact"), Some("ext-del"), Some(true))
    );
    assert_eq!(delete(&c, &format!("/contacts/{world_one}")).await.0, 200);
    for id in [&contact, &world_one] {
        let (status, out) = c.get(&format!("/contacts/{id}")).await;
        assert_eq!((status, error_code(&out).as_str()), (404, "not_found"));
    }
    assert_eq!(c.get("/contacts/find_by_external_id/ext-del").await.0, 404);
    let list = c.ok("/contacts?per_page=150").await;
    assert_eq!(list["total_count"], world_contacts - 1);
    assert!(
        !ids(&list, "data")
            .iter()
            .any(|i| *i == contact || *i == world_one)
    );
    let found = c.created("/contacts/search", by_ids).await;
    assert_eq!(
        found["total_count"], 0,
        "the same search, after the deletes"
    );
    c.created("/contacts", json!({"external_id": "ext-del"}))
        .await;

    // A tag: gone from /tags and from what it was on.
    let tag = c.created("/tags", json!({"name": "temp"})).await;
    let tag_id = tag["id"].as_str().unwrap().to_string();
    let other = sb.world().view().conversation(2).unwrap().id;
    c.created(
        &format!("/conversations/{other}/tags"),
        json!({"id": tag_id, "admin_id": admin}),
    )
    .await;
    assert_eq!(delete(&c, &format!("/tags/{tag_id}")).await.0, 200);
    assert!(!ids(&c.ok("/tags").await, "data").contains(&tag_id));
    assert_eq!(c.get(&format!("/tags/{tag_id}")).await.0, 404);
    assert!(
        !c.ok(&format!("/conversations/{other}")).await["tags"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == tag_id.as_str())
    );
    assert_eq!(delete(&c, &format!("/tags/{tag_id}")).await.0, 404);

    // A company, an article, a collection.
    let co = c
        .created("/companies", json!({"company_id": "gone-co"}))
        .await;
    let co = co["id"].as_str().unwrap();
    let (status, out) = delete(&c, &format!("/companies/{co}")).await;
    assert_eq!((status, out["object"].as_str()), (200, Some("company")));
    let (status, out) = c.get(&format!("/companies/{co}")).await;
    assert_eq!(
        (status, error_code(&out).as_str()),
        (404, "company_not_found")
    );
    let author: i64 = admin.parse().unwrap();
    let article = c
        .created("/articles", json!({"title": "A", "author_id": author}))
        .await;
    let aid = article["id"].as_str().unwrap();
    assert_eq!(c.get(&format!("/articles/{aid}")).await.0, 200);
    let (status, out) = delete(&c, &format!("/articles/{aid}")).await;
    assert_eq!((status, out["object"].as_str()), (200, Some("article")));
    assert_eq!(c.get(&format!("/articles/{aid}")).await.0, 404);
    let col = c
        .created("/help_center/collections", json!({"name": "C"}))
        .await;
    let col = col["id"].as_str().unwrap();
    assert_eq!(
        delete(&c, &format!("/help_center/collections/{col}"))
            .await
            .0,
        200
    );
    assert_eq!(
        c.get(&format!("/help_center/collections/{col}")).await.0,
        404
    );

    let dump = c.dump().await;
    let kinds: Vec<(&str, bool)> = dump["deletions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["object"].as_str().unwrap(),
                d["seeded"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("conversation", false),
            ("conversation", true),
            ("contact", false),
            ("contact", true),
            ("tag", false),
            ("company", false),
            ("article", false),
            ("collection", false)
        ]
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_conversation_attribute_finds_the_conversation_a_run_created() {
    let (sb, c, _) = setup().await;
    let attr =
        json!({"name": "deskmove_source_id", "data_type": "string", "description": "source id"});
    // Only 2.16 has the create route.
    let (status, out) = c
        .post_v("2.14", "/conversations/attributes", attr.clone())
        .await;
    assert_eq!(
        (status, error_code(&out).as_str()),
        (400, "intercom_version_invalid")
    );
    let (status, out) = c
        .post_v("2.16", "/conversations/attributes", attr.clone())
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        (
            out["type"].as_str(),
            out["data_type"].as_str(),
            out["multiline"].as_bool()
        ),
        (Some("conversation_attribute"), Some("string"), Some(false))
    );
    let listed = c.ok("/conversations/attributes").await;
    assert!(
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "deskmove_source_id")
    );
    let (status, out) = c
        .post_v(
            "2.16",
            "/conversations/attributes",
            json!({"name": "x", "data_type": "blob"}),
        )
        .await;
    assert_eq!(
        (status, error_code(&out).as_str()),
        (422, "parameter_invalid")
    );

    // Set on a written conversation and on a seeded one, in either version.
    let (_, cid) = user_with_conversation(&c, "ext-attr").await;
    let seeded = sb.world().view().conversation(3).unwrap().id;
    for (id, v, value) in [(&cid, "2.16", "zd-1"), (&seeded, "2.14", "zd-2")] {
        let (status, out) = put(
            &c,
            v,
            &format!("/conversations/{id}"),
            json!({"custom_attributes": {"deskmove_source_id": value}}),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["custom_attributes"]["deskmove_source_id"], value);
    }
    for (id, value) in [(&cid, "zd-1"), (&seeded, "zd-2")] {
        let found = c
            .created(
                "/conversations/search",
                json!({"query": {"field": "custom_attributes.deskmove_source_id", "operator": "=", "value": value}}),
            )
            .await;
        assert_eq!(
            ids(&found, "conversations"),
            [id.as_str()],
            "found at once (no documented lag)"
        );
    }
    // Unknown attributes and wrong types are refused; a duplicate name makes the update 400.
    let path = format!("/conversations/{cid}");
    let (status, _) = put(
        &c,
        "2.16",
        &path,
        json!({"custom_attributes": {"nope": "x"}}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = put(
        &c,
        "2.16",
        &path,
        json!({"custom_attributes": {"deskmove_source_id": 5}}),
    )
    .await;
    assert_eq!(status, 400);
    c.post_v("2.16", "/conversations/attributes", attr).await;
    let (status, out) = put(
        &c,
        "2.16",
        &path,
        json!({"custom_attributes": {"deskmove_source_id": "zd-9"}}),
    )
    .await;
    assert_eq!(
        (status, error_code(&out).as_str()),
        (400, "parameter_invalid")
    );
    let dump = c.dump().await;
    assert_eq!(dump["conversation_attributes"].as_array().unwrap().len(), 2);
    assert_eq!(
        dump["conversations"][0]["custom_attributes"]["deskmove_source_id"],
        "zd-1"
    );
    sb.shutdown().await;
}
