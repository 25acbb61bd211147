//! The write routes against Intercom's own OpenAPI descriptions: every request the sandbox
//! accepts is valid for the version it was sent in (2.14 or 2.16), every request it refuses for
//! its shape is invalid there too, and every answer (successes and errors) matches the 2.16
//! response schemas.
//!
//! Needs the specs folder, so it is ignored by default:
//! `DESKMOVE_SPECS_DIR=../shared/specs cargo test -p deskmove-intercom-sandbox -- --ignored`.

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Client, admin_id, start, write_args};
use deskmove_intercom_sandbox::Sandbox;
use deskmove_sandbox::openapi::{Spec, SpecError, required_specs_dir};

/// The JSON pointer of an operation's request body schema.
fn request_pointer(method: &str, template: &str) -> String {
    format!(
        "/paths/{}/{}/requestBody/content/application~1json/schema",
        template.replace('~', "~0").replace('/', "~1"),
        method.to_ascii_lowercase()
    )
}

struct Checker {
    v14: Spec,
    v16: Spec,
    failures: Vec<String>,
    checked: usize,
}

impl Checker {
    fn spec(&self, version: &str) -> &Spec {
        if version == "2.14" {
            &self.v14
        } else {
            &self.v16
        }
    }

    /// Sends one write, checks the request against its version's spec (valid when `valid`) and
    /// the answer against the 2.16 responses (`fallback` names the component where the spec
    /// documents no schema for that status); returns the answer.
    #[allow(clippy::too_many_arguments)]
    async fn call(
        &mut self,
        c: &Client,
        method: Method,
        version: &str,
        template: &str,
        path: &str,
        body: Option<Value>,
        want: u16,
        fallback: &str,
    ) -> Value {
        let m = method.as_str().to_string();
        if let Some(b) = &body {
            let pointer = request_pointer(&m, template);
            let result = self.spec(version).validate_at(&pointer, b).or_else(|e| {
                // `POST /tags` lists overlapping `oneOf` shapes (every bulk request is also a
                // plain `create_or_update_tag_request`): matching more than one is still valid.
                if e.to_string()
                    .contains("more than one of the schemas listed in the 'oneOf'")
                {
                    Ok(())
                } else {
                    Err(e)
                }
            });
            match (want == 200, result) {
                (true, Err(e)) => self.failures.push(format!(
                    "{m} {template} ({version}) request accepted but invalid: {e}"
                )),
                (false, Ok(())) if fallback == "error-shape" => self.failures.push(format!(
                    "{m} {template} ({version}) refused a request the spec allows: {b}"
                )),
                _ => {}
            }
        }
        let (status, out) = c.send(method, path, Some(version), body).await;
        if status != want {
            self.failures.push(format!(
                "{m} {path} ({version}): status {status}, wanted {want}: {out}"
            ));
            return out;
        }
        let component = if fallback == "error-shape" {
            "error"
        } else {
            fallback
        };
        let result = match self.v16.validate_response(&m, template, status, &out) {
            Err(SpecError::Undocumented { .. }) => self.v16.validate_component(component, &out),
            other => other,
        };
        if let Err(e) = result {
            self.failures.push(format!("{m} {template} {status}: {e}"));
        }
        self.checked += 1;
        out
    }
}

#[tokio::test]
#[ignore = "needs the vendor specs: DESKMOVE_SPECS_DIR=../shared/specs cargo test -- --ignored (CI runs it)"]
async fn write_requests_and_answers_match_the_2_14_and_2_16_specs() {
    let dir = required_specs_dir().unwrap();
    let mut k = Checker {
        v14: Spec::load(&dir.join("intercom/api.intercom.io.2.14.yaml")).unwrap(),
        v16: Spec::load(&dir.join("intercom/api.intercom.io.2.16.yaml")).unwrap(),
        failures: Vec::new(),
        checked: 0,
    };
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let admin = admin_id(&sb);
    let admin_n: i64 = admin.parse().unwrap();
    let team = sb.world().view().team(0).unwrap().id;
    let post = Method::POST;

    // Contacts, in both versions; the refusals are shape errors in that version's spec too.
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/contacts",
        "/contacts",
        Some(json!({})),
        400,
        "error-shape",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/contacts",
        "/contacts",
        Some(json!({"email": "o@example.org", "owner_id": admin_n})),
        400,
        "error-shape",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.14",
        "/contacts",
        "/contacts",
        Some(json!({"email": "o@example.org", "owner_id": admin})),
        400,
        "error-shape",
    )
    .await;
    let user = k.call(&c, post.clone(), "2.16", "/contacts", "/contacts",
        Some(json!({"email": "u@example.org", "external_id": "u-1", "name": "U", "owner_id": admin, "signed_up_at": 1_500_000_000})), 200, "contact").await;
    let uid = user["id"].as_str().unwrap_or_default().to_string();
    let lead = k
        .call(
            &c,
            post.clone(),
            "2.14",
            "/contacts",
            "/contacts",
            Some(json!({"role": "lead", "email": "u@example.org", "owner_id": admin_n})),
            200,
            "contact",
        )
        .await;
    let lid = lead["id"].as_str().unwrap_or_default().to_string();
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/contacts",
        "/contacts",
        Some(json!({"email": "u@example.org"})),
        409,
        "error",
    )
    .await;
    k.call(
        &c,
        Method::PUT,
        "2.14",
        "/contacts/{contact_id}",
        &format!("/contacts/{uid}"),
        Some(json!({"phone": "+1 555 0100"})),
        200,
        "contact",
    )
    .await;
    k.call(
        &c,
        Method::PUT,
        "2.16",
        "/contacts/{contact_id}",
        &format!("/contacts/{uid}"),
        Some(json!({"email_verified": true})),
        200,
        "contact",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/contacts/{contact_id}/notes",
        &format!("/contacts/{uid}/notes"),
        Some(json!({"body": "Hi", "admin_id": admin})),
        200,
        "note",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/contacts/{contact_id}/notes",
        &format!("/contacts/{uid}/notes"),
        Some(json!({"admin_id": admin})),
        400,
        "error-shape",
    )
    .await;

    // Companies, tags, data attributes.
    let company = k.call(&c, post.clone(), "2.16", "/companies", "/companies",
        Some(json!({"company_id": "c-1", "name": "C", "remote_created_at": 1_300_000_000, "size": 5})), 200, "company").await;
    let co = company["id"].as_str().unwrap_or_default().to_string();
    k.call(
        &c,
        post.clone(),
        "2.14",
        "/companies",
        "/companies",
        Some(json!({"company_id": "c-1", "plan": "pro"})),
        200,
        "company",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/contacts/{contact_id}/companies",
        &format!("/contacts/{uid}/companies"),
        Some(json!({"id": co})),
        200,
        "company",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/contacts/{contact_id}/companies",
        &format!("/contacts/{uid}/companies"),
        Some(json!({"id": "ffffffffffffffffffffffff"})),
        404,
        "error",
    )
    .await;
    k.call(
        &c,
        Method::DELETE,
        "2.16",
        "/contacts/{contact_id}/companies/{company_id}",
        &format!("/contacts/{uid}/companies/{co}"),
        None,
        200,
        "company",
    )
    .await;
    let tag = k
        .call(
            &c,
            post.clone(),
            "2.16",
            "/tags",
            "/tags",
            Some(json!({"name": "vip"})),
            200,
            "tag",
        )
        .await;
    let tid = tag["id"].as_str().unwrap_or_default().to_string();
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/tags",
        "/tags",
        Some(json!({"name": "vip", "companies": [{"company_id": "c-1"}]})),
        200,
        "tag",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.14",
        "/tags",
        "/tags",
        Some(json!({"name": "vip", "users": [{"id": uid}]})),
        200,
        "tag",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/contacts/{contact_id}/tags",
        &format!("/contacts/{uid}/tags"),
        Some(json!({"id": tid})),
        200,
        "tag",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/data_attributes",
        "/data_attributes",
        Some(json!({"name": "seats_bought", "model": "company", "data_type": "integer"})),
        200,
        "data_attribute",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/data_attributes",
        "/data_attributes",
        Some(json!({"name": "seats_bought", "model": "company", "data_type": "integer"})),
        400,
        "error",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/contacts/merge",
        "/contacts/merge",
        Some(json!({"from": lid, "into": uid})),
        200,
        "contact",
    )
    .await;
    k.call(
        &c,
        Method::GET,
        "2.16",
        "/contacts/{contact_id}",
        &format!("/contacts/{lid}"),
        None,
        410,
        "error",
    )
    .await;

    // Conversations: create, replies in both versions, state parts.
    let msg = k.call(&c, post.clone(), "2.16", "/conversations", "/conversations",
        Some(json!({"from": {"type": "user", "id": uid}, "body": "Hello", "created_at": 1_600_000_000})), 200, "message").await;
    let cid = msg["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    k.call(
        &c,
        post.clone(),
        "2.14",
        "/conversations",
        "/conversations",
        Some(json!({"from": {"type": "user", "id": "ffffffffffffffffffffffff"}, "body": "x"})),
        404,
        "error",
    )
    .await;
    let reply = format!("/conversations/{cid}/reply");
    let tpl = "/conversations/{conversation_id}/reply";
    let data = base64::engine::general_purpose::STANDARD.encode(b"file");
    k.call(
        &c,
        post.clone(),
        "2.16",
        tpl,
        &reply,
        Some(
            json!({"message_type": "note", "type": "admin", "admin_id": admin, "body": "n",
        "created_at": 1_600_000_100, "skip_notifications": true,
        "attachment_files": [{"content_type": "text/plain", "data": data, "name": "a.txt"}]}),
        ),
        200,
        "conversation",
    )
    .await;
    k.call(&c, post.clone(), "2.14", tpl, &reply, Some(json!({"message_type": "comment", "type": "user", "intercom_user_id": uid, "body": "q", "created_at": 1_600_000_200})), 200, "conversation").await;
    k.call(
        &c,
        post.clone(),
        "2.14",
        tpl,
        &reply,
        Some(json!({"message_type": "note", "type": "admin", "body": "no admin"})),
        400,
        "error-shape",
    )
    .await;
    let urls: Vec<String> = (0..11)
        .map(|i| format!("https://f.example.com/{i}.png"))
        .collect();
    k.call(&c, post.clone(), "2.16", tpl, &reply, Some(json!({"message_type": "note", "type": "admin", "admin_id": admin, "body": "x", "attachment_urls": urls})), 400, "error-shape").await;
    let parts = format!("/conversations/{cid}/parts");
    let ptpl = "/conversations/{conversation_id}/parts";
    k.call(&c, post.clone(), "2.16", ptpl, &parts, Some(json!({"message_type": "assignment", "type": "team", "admin_id": admin, "assignee_id": team})), 200, "conversation").await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        ptpl,
        &parts,
        Some(json!({"message_type": "snoozed", "admin_id": admin, "snoozed_until": 1_900_000_000})),
        200,
        "conversation",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.14",
        ptpl,
        &parts,
        Some(json!({"message_type": "open", "admin_id": admin})),
        200,
        "conversation",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        ptpl,
        &parts,
        Some(json!({"message_type": "close", "type": "admin", "admin_id": admin})),
        200,
        "conversation",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        ptpl,
        &parts,
        Some(json!({"message_type": "snoozed", "admin_id": admin})),
        400,
        "error-shape",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/conversations/{conversation_id}/tags",
        &format!("/conversations/{cid}/tags"),
        Some(json!({"id": tid, "admin_id": admin})),
        200,
        "tag",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/conversations/{conversation_id}/tags",
        &format!("/conversations/{cid}/tags"),
        Some(json!({"id": tid})),
        400,
        "error-shape",
    )
    .await;
    k.call(
        &c,
        Method::GET,
        "2.16",
        "/conversations/{conversation_id}",
        &format!("/conversations/{cid}"),
        None,
        200,
        "conversation",
    )
    .await;
    k.call(&c, post.clone(), "2.16", "/messages", "/messages", Some(json!({"message_type": "email", "subject": "S", "body": "B",
        "from": {"type": "admin", "id": admin_n}, "to": {"type": "user", "id": uid}, "create_conversation_without_contact_reply": true})), 200, "message").await;

    // Tickets.
    let types = c.ok("/ticket_types").await;
    let ty = types["data"][0]["id"].as_str().unwrap().to_string();
    let ticket = k
        .call(
            &c,
            post.clone(),
            "2.16",
            "/tickets",
            "/tickets",
            Some(json!({"ticket_type_id": ty, "contacts": [{"id": uid}],
        "created_at": 1_500_000_000, "skip_notifications": true,
        "ticket_attributes": {"_default_title_": "T", "_default_description_": "D"}})),
            200,
            "ticket",
        )
        .await;
    let tk = ticket["id"].as_str().unwrap_or_default().to_string();
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/tickets",
        "/tickets",
        Some(json!({"ticket_type_id": ty})),
        400,
        "error-shape",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.14",
        "/tickets/{ticket_id}/reply",
        &format!("/tickets/{tk}/reply"),
        Some(json!({"message_type": "note", "type": "admin",
        "admin_id": admin, "body": "n", "created_at": 1_500_000_100})),
        200,
        "ticket_reply",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/tickets/{ticket_id}/reply",
        &format!("/tickets/{tk}/reply"),
        Some(json!({"message_type": "comment", "type": "user",
        "intercom_user_id": uid, "body": "u"})),
        200,
        "ticket_reply",
    )
    .await;

    // Help center.
    let col = k
        .call(
            &c,
            post.clone(),
            "2.16",
            "/help_center/collections",
            "/help_center/collections",
            Some(json!({"name": "Billing"})),
            200,
            "collection",
        )
        .await;
    k.call(
        &c,
        post.clone(),
        "2.14",
        "/help_center/collections",
        "/help_center/collections",
        Some(json!({"description": "no name"})),
        400,
        "error-shape",
    )
    .await;
    let parent: i64 = col["id"].as_str().unwrap_or("0").parse().unwrap_or(0);
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/articles",
        "/articles",
        Some(
            json!({"title": "A", "author_id": admin_n, "body": "<p>x</p>",
        "state": "published", "parent_id": parent, "parent_type": "collection"}),
        ),
        200,
        "article",
    )
    .await;
    k.call(
        &c,
        post.clone(),
        "2.14",
        "/articles",
        "/articles",
        Some(json!({"title": "A"})),
        400,
        "error-shape",
    )
    .await;

    sb.shutdown().await;
    assert!(k.checked >= 40, "only {} calls checked", k.checked);
    assert!(
        k.failures.is_empty(),
        "{} mismatches:\n{}",
        k.failures.len(),
        k.failures.join("\n")
    );
}

#[tokio::test]
#[ignore = "needs the vendor specs: DESKMOVE_SPECS_DIR=../shared/specs cargo test -- --ignored (CI runs it)"]
async fn target_routes_and_read_backs_match_the_2_14_and_2_16_specs() {
    let dir = required_specs_dir().unwrap();
    let mut k = Checker {
        v14: Spec::load(&dir.join("intercom/api.intercom.io.2.14.yaml")).unwrap(),
        v16: Spec::load(&dir.join("intercom/api.intercom.io.2.16.yaml")).unwrap(),
        failures: Vec::new(),
        checked: 0,
    };
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let admin = admin_id(&sb);
    let admin_n: i64 = admin.parse().unwrap();
    let (post, get, put, delete) = (Method::POST, Method::GET, Method::PUT, Method::DELETE);
    let seeded = sb.world().view().conversation(0).unwrap().id;
    let seeded_path = format!("/conversations/{seeded}");

    // A conversation attribute (2.16 only), then set on a written and a seeded conversation.
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/conversations/attributes",
        "/conversations/attributes",
        Some(json!({"name": "deskmove_source_id", "data_type": "string", "description": "d"})),
        200,
        "conversation_attribute",
    )
    .await;
    k.call(&c, post.clone(), "2.16", "/conversations/attributes", "/conversations/attributes",
        Some(json!({"name": "Tier", "data_type": "list", "options": [{"label": "Gold"}, {"label": "Silver"}]})), 200, "conversation_attribute").await;
    k.call(
        &c,
        get.clone(),
        "2.16",
        "/conversations/attributes",
        "/conversations/attributes",
        None,
        200,
        "conversation_attribute_list",
    )
    .await;
    let user = k
        .call(
            &c,
            post.clone(),
            "2.16",
            "/contacts",
            "/contacts",
            Some(json!({"email": "t@example.org", "external_id": "t-1"})),
            200,
            "contact",
        )
        .await;
    let uid = user["id"].as_str().unwrap_or_default().to_string();
    let msg = k.call(&c, post.clone(), "2.16", "/conversations", "/conversations",
        Some(json!({"from": {"type": "user", "id": uid}, "body": "Hi", "created_at": 1_600_000_000})), 200, "message").await;
    let cid = msg["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let cpath = format!("/conversations/{cid}");
    for (v, path) in [("2.16", &cpath), ("2.14", &seeded_path)] {
        k.call(&c, put.clone(), v, "/conversations/{conversation_id}", path,
            Some(json!({"read": true, "title": "T", "custom_attributes": {"deskmove_source_id": "zd-1", "Tier": "Gold"}})), 200, "conversation").await;
    }
    // Writes into the seeded conversation, answered as conversations.
    let data = base64::engine::general_purpose::STANDARD.encode(b"bytes");
    for path in [&cpath, &seeded_path] {
        k.call(&c, post.clone(), "2.16", "/conversations/{conversation_id}/reply", &format!("{path}/reply"),
            Some(json!({"message_type": "note", "type": "admin", "admin_id": admin, "body": "n", "created_at": 1_600_000_100,
                "attachment_files": [{"content_type": "text/plain", "data": data, "name": "a.txt"}]})), 200, "conversation").await;
        k.call(
            &c,
            post.clone(),
            "2.14",
            "/conversations/{conversation_id}/parts",
            &format!("{path}/parts"),
            Some(json!({"message_type": "close", "type": "admin", "admin_id": admin})),
            200,
            "conversation",
        )
        .await;
    }
    let tag = k
        .call(
            &c,
            post.clone(),
            "2.16",
            "/tags",
            "/tags",
            Some(json!({"name": "imported"})),
            200,
            "tag",
        )
        .await;
    let tag_id = tag["id"].as_str().unwrap_or_default().to_string();
    k.call(
        &c,
        post.clone(),
        "2.16",
        "/conversations/{conversation_id}/tags",
        &format!("{seeded_path}/tags"),
        Some(json!({"id": tag_id, "admin_id": admin})),
        200,
        "tag",
    )
    .await;

    // The read routes answer written and seeded-with-writes records in the spec's shapes.
    for path in [&cpath, &seeded_path] {
        k.call(
            &c,
            get.clone(),
            "2.16",
            "/conversations/{conversation_id}",
            path,
            None,
            200,
            "conversation",
        )
        .await;
    }
    k.call(
        &c,
        get.clone(),
        "2.16",
        "/conversations",
        "/conversations?per_page=150",
        None,
        200,
        "conversation_list",
    )
    .await;
    k.call(&c, post.clone(), "2.16", "/conversations/search", "/conversations/search",
        Some(json!({"query": {"field": "custom_attributes.deskmove_source_id", "operator": "=", "value": "zd-1"}})), 200, "conversation_list").await;
    k.call(
        &c,
        get.clone(),
        "2.16",
        "/contacts",
        "/contacts?per_page=150",
        None,
        200,
        "contact_list",
    )
    .await;
    k.call(
        &c,
        get.clone(),
        "2.16",
        "/contacts/find_by_external_id/{external_id}",
        "/contacts/find_by_external_id/t-1",
        None,
        200,
        "contact",
    )
    .await;
    k.call(
        &c,
        get.clone(),
        "2.16",
        "/tags",
        "/tags",
        None,
        200,
        "tag_list",
    )
    .await;
    let co = k
        .call(
            &c,
            post.clone(),
            "2.16",
            "/companies",
            "/companies",
            Some(json!({"company_id": "c-1", "name": "C"})),
            200,
            "company",
        )
        .await;
    let co_id = co["id"].as_str().unwrap_or_default().to_string();
    k.call(
        &c,
        get.clone(),
        "2.16",
        "/companies",
        "/companies?company_id=c-1",
        None,
        200,
        "company_list",
    )
    .await;

    // Untag, then every delete, in both versions; each answer in the 2.16 shape.
    k.call(
        &c,
        delete.clone(),
        "2.16",
        "/conversations/{conversation_id}/tags/{tag_id}",
        &format!("{seeded_path}/tags/{tag_id}"),
        Some(json!({"admin_id": admin})),
        200,
        "tag",
    )
    .await;
    k.call(
        &c,
        delete.clone(),
        "2.14",
        "/conversations/{conversation_id}",
        &cpath,
        None,
        200,
        "conversation_deleted",
    )
    .await;
    k.call(
        &c,
        delete.clone(),
        "2.16",
        "/conversations/{conversation_id}",
        &seeded_path,
        None,
        200,
        "conversation_deleted",
    )
    .await;
    k.call(
        &c,
        get.clone(),
        "2.16",
        "/conversations/deleted",
        "/conversations/deleted",
        None,
        200,
        "deleted_conversation_list",
    )
    .await;
    k.call(
        &c,
        delete.clone(),
        "2.16",
        "/contacts/{contact_id}",
        &format!("/contacts/{uid}"),
        None,
        200,
        "contact_deleted",
    )
    .await;
    k.call(
        &c,
        delete.clone(),
        "2.14",
        "/companies/{company_id}",
        &format!("/companies/{co_id}"),
        None,
        200,
        "deleted_company_object",
    )
    .await;
    k.call(
        &c,
        delete.clone(),
        "2.16",
        "/companies/{company_id}",
        &format!("/companies/{co_id}"),
        None,
        404,
        "error-shape",
    )
    .await;
    let article = k
        .call(
            &c,
            post.clone(),
            "2.16",
            "/articles",
            "/articles",
            Some(json!({"title": "A", "author_id": admin_n})),
            200,
            "article",
        )
        .await;
    let aid = article["id"].as_str().unwrap_or_default().to_string();
    k.call(
        &c,
        delete.clone(),
        "2.16",
        "/articles/{article_id}",
        &format!("/articles/{aid}"),
        None,
        200,
        "deleted_article_object",
    )
    .await;
    let col = k
        .call(
            &c,
            post.clone(),
            "2.16",
            "/help_center/collections",
            "/help_center/collections",
            Some(json!({"name": "C"})),
            200,
            "collection",
        )
        .await;
    let col_id = col["id"].as_str().unwrap_or_default().to_string();
    k.call(
        &c,
        delete.clone(),
        "2.16",
        "/help_center/collections/{collection_id}",
        &format!("/help_center/collections/{col_id}"),
        None,
        200,
        "deleted_collection_object",
    )
    .await;
    let (status, _) = c
        .send(
            delete.clone(),
            &format!("/tags/{tag_id}"),
            Some("2.16"),
            None,
        )
        .await;
    if status != 200 {
        k.failures
            .push(format!("DELETE /tags/{{tag_id}}: status {status}"));
    }
    k.call(
        &c,
        delete.clone(),
        "2.16",
        "/tags/{tag_id}",
        &format!("/tags/{tag_id}"),
        None,
        404,
        "error-shape",
    )
    .await;

    sb.shutdown().await;
    assert!(k.checked >= 30, "only {} calls checked", k.checked);
    assert!(
        k.failures.is_empty(),
        "{} mismatches:\n{}",
        k.failures.len(),
        k.failures.join("\n")
    );
}
