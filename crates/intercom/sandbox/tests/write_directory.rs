//! Companies (upsert on `company_id`, `remote_created_at`), attaching contacts, tags (by name,
//! in bulk, `admin_id` on conversations), data attributes and the help center (no
//! `created_at`).

use reqwest::Method;
use serde_json::json;

use crate::common::{Client, WRITE_CLOCK, admin_id, error_code, start, write_args};
use deskmove_intercom_sandbox::Sandbox;

#[tokio::test]
async fn companies_upsert_on_company_id_with_remote_created_at() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let (status, out) = c.post("/companies", json!({"name": "No Key"})).await;
    assert_eq!(
        (status, error_code(&out).as_str()),
        (400, "parameter_not_found")
    );
    let first = c
        .created(
            "/companies",
            json!({"company_id": "acme-1", "name": "Acme", "remote_created_at": 1_300_000_000, "created_at": 5}),
        )
        .await;
    assert_eq!(first["remote_created_at"], 1_300_000_000);
    assert_eq!(first["created_at"], WRITE_CLOCK);
    let again = c
        .created(
            "/companies",
            json!({"company_id": "acme-1", "plan": "pro", "size": 40}),
        )
        .await;
    assert_eq!(again["id"], first["id"], "the same company, updated");
    assert_eq!(
        (again["name"].as_str(), again["size"].as_i64()),
        (Some("Acme"), Some(40))
    );
    assert_eq!(c.dump().await["companies"].as_array().unwrap().len(), 1);
    let read = c
        .ok(&format!("/companies/{}", first["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        (
            read["plan"]["name"].as_str(),
            read["remote_created_at"].as_i64()
        ),
        (Some("pro"), Some(1_300_000_000))
    );
    // Custom attributes are strings in the spec, and must be defined.
    let (status, _) = c
        .post(
            "/companies",
            json!({"company_id": "acme-1", "custom_attributes": {"seats": 3}}),
        )
        .await;
    assert_eq!(status, 400);
    sb.shutdown().await;
}

#[tokio::test]
async fn contacts_attach_to_and_detach_from_companies() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let company = c
        .created("/companies", json!({"company_id": "k-1", "name": "K"}))
        .await;
    let co = company["id"].as_str().unwrap();
    let contact = c
        .created("/contacts", json!({"email": "k@example.org"}))
        .await;
    let id = contact["id"].as_str().unwrap();
    let path = format!("/contacts/{id}/companies");
    let (status, out) = c.post(&path, json!({})).await;
    assert_eq!(
        (status, out["errors"][0]["message"].as_str()),
        (400, Some("company not specified"))
    );
    let (status, out) = c
        .post(&path, json!({"id": "ffffffffffffffffffffffff"}))
        .await;
    assert_eq!(
        (status, error_code(&out).as_str()),
        (404, "company_not_found")
    );
    let out = c.created(&path, json!({"id": co})).await;
    assert_eq!(out["user_count"], 1);
    assert_eq!(
        c.ok(&format!("/contacts/{id}")).await["companies"]["total_count"],
        1
    );
    let (status, _) = c
        .send(Method::DELETE, &format!("{path}/{co}"), None, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        c.ok(&format!("/contacts/{id}")).await["companies"]["total_count"],
        0
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_written_contact_joins_a_company_the_workspace_already_had() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let listed = c.ok("/companies?per_page=1").await;
    let co = listed["data"][0]["id"].as_str().expect("a seeded company");
    let contact = c
        .created("/contacts", json!({"email": "new@example.org"}))
        .await;
    let id = contact["id"].as_str().unwrap();
    let out = c
        .created(&format!("/contacts/{id}/companies"), json!({"id": co}))
        .await;
    assert_eq!(out["id"], co, "{out}");
    let memberships = c.dump().await["company_memberships"].clone();
    assert_eq!(
        memberships,
        json!([{"contact_id": id, "company_id": co}]),
        "{memberships}"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn tags_are_found_by_name_applied_in_bulk_and_need_an_admin_on_conversations() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let admin = admin_id(&sb);
    let tag = c.created("/tags", json!({"name": "vip"})).await;
    let again = c.created("/tags", json!({"name": "vip"})).await;
    assert_eq!(tag["id"], again["id"], "create is find-or-create by name");
    let tid = tag["id"].as_str().unwrap();
    assert_eq!(c.ok(&format!("/tags/{tid}")).await["name"], "vip");
    let (status, _) = c.post("/tags", json!({})).await;
    assert_eq!(status, 400);
    let company = c.created("/companies", json!({"company_id": "t-1"})).await;
    let out = c
        .created(
            "/tags",
            json!({"name": "vip", "companies": [{"company_id": "t-1"}]}),
        )
        .await;
    assert_eq!(out["companies"][0]["tagged"], true);
    let out = c
        .created(
            "/tags",
            json!({"name": "vip", "companies": [{"id": company["id"], "untag": true}]}),
        )
        .await;
    assert_eq!(out["companies"][0]["tagged"], false);
    let contact = c
        .created("/contacts", json!({"email": "t@example.org"}))
        .await;
    let id = contact["id"].as_str().unwrap();
    c.created(&format!("/contacts/{id}/tags"), json!({"id": tid}))
        .await;
    assert_eq!(
        c.ok(&format!("/contacts/{id}")).await["tags"]["total_count"],
        1
    );
    let (status, _) = c
        .post(&format!("/contacts/{id}/tags"), json!({"id": "1"}))
        .await;
    assert_eq!(status, 404);
    let msg = c
        .created(
            "/conversations",
            json!({"from": {"type": "user", "id": id}, "body": "x"}),
        )
        .await;
    let path = format!(
        "/conversations/{}/tags",
        msg["conversation_id"].as_str().unwrap()
    );
    let (status, out) = c.post(&path, json!({"id": tid})).await;
    assert_eq!(
        (status, error_code(&out).as_str()),
        (400, "parameter_not_found"),
        "admin_id required"
    );
    c.created(&path, json!({"id": tid, "admin_id": admin}))
        .await;
    let conv = c
        .ok(&format!(
            "/conversations/{}",
            msg["conversation_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(conv["tags"]["tags"][0]["name"], "vip");
    let dump = c.dump().await;
    let on_conv = dump["taggings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["object"] == "conversation")
        .unwrap()
        .clone();
    assert_eq!(on_conv["admin_id"], admin.as_str());
    sb.shutdown().await;
}

#[tokio::test]
async fn data_attributes_need_a_model_a_type_and_a_new_name() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let out = c
        .created(
            "/data_attributes",
            json!({"name": "support_tier", "model": "company", "data_type": "string"}),
        )
        .await;
    assert_eq!(
        (out["type"].as_str(), out["model"].as_str()),
        (Some("data_attribute"), Some("company"))
    );
    let bad = [
        json!({"name": "support_tier", "model": "company", "data_type": "string"}),
        json!({"name": "x", "model": "conversation", "data_type": "string"}),
        json!({"name": "y", "model": "contact", "data_type": "money"}),
        json!({"name": "z", "model": "contact", "data_type": "options", "options": [{"value": "a"}]}),
        json!({"name": "bad/name", "model": "contact", "data_type": "string"}),
        json!({"model": "contact", "data_type": "string"}),
    ];
    for body in bad {
        let (status, out) = c.post("/data_attributes", body.clone()).await;
        assert_eq!(status, 400, "{body}: {out}");
    }
    // The same name in the other model is fine.
    c.created(
        "/data_attributes",
        json!({"name": "support_tier", "model": "contact", "data_type": "options",
        "options": [{"value": "a"}, {"value": "b"}]}),
    )
    .await;
    sb.shutdown().await;
}

#[tokio::test]
async fn articles_and_collections_are_stamped_when_written() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let admin: i64 = admin_id(&sb).parse().unwrap();
    let (status, out) = c
        .post("/help_center/collections", json!({"description": "x"}))
        .await;
    assert_eq!(
        (status, out["errors"][0]["message"].as_str()),
        (400, Some("Name is a required parameter."))
    );
    let col = c
        .created(
            "/help_center/collections",
            json!({"name": "Billing", "created_at": 1}),
        )
        .await;
    assert_eq!(col["created_at"], WRITE_CLOCK);
    let parent: i64 = col["id"].as_str().unwrap().parse().unwrap();
    let (status, _) = c.post("/articles", json!({"title": "No author"})).await;
    assert_eq!(status, 400);
    // author_id is an integer teammate id.
    let (status, _) = c
        .post(
            "/articles",
            json!({"title": "T", "author_id": admin.to_string()}),
        )
        .await;
    assert_eq!(status, 400);
    let art = c
        .created(
            "/articles",
            json!({"title": "Refunds", "author_id": admin, "body": "<p>How</p>", "parent_id": parent,
                   "parent_type": "collection", "created_at": 1}),
        )
        .await;
    assert_eq!(
        (art["created_at"].as_i64(), art["state"].as_str()),
        (Some(WRITE_CLOCK), Some("draft"))
    );
    // body_markdown is 2.16 only, and never together with body.
    let (status, _) = c
        .post_v(
            "2.16",
            "/articles",
            json!({"title": "M", "author_id": admin, "body": "<p>x</p>", "body_markdown": "x"}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, out) = c
        .post_v(
            "2.16",
            "/articles",
            json!({"title": "M", "author_id": admin, "body_markdown": "Hello"}),
        )
        .await;
    assert_eq!((status, out["body"].as_str()), (200, Some("<p>Hello</p>")));
    let dump = c.dump().await;
    assert_eq!(dump["articles"].as_array().unwrap().len(), 2);
    assert_eq!(dump["collections"].as_array().unwrap().len(), 1);
    sb.shutdown().await;
}
