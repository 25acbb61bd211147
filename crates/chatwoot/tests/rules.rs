//! One test per Chatwoot rule (issue R1.3 §3), each over real HTTP against the running sandbox.
//! Expected values are Chatwoot's, cited from `../shared/research/chatwoot.md`.

mod common;

use common::Cw;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn email_is_lower_cased_and_blank_becomes_null() {
    let cw = Cw::start().await;
    let r = cw
        .post(
            "/contacts",
            json!({"name": "A", "email": "Jane.DOE@Example.COM"}),
        )
        .await;
    assert_eq!(
        r.body["payload"]["contact"]["email"],
        "jane.doe@example.com"
    );
    let r = cw
        .post(
            "/contacts",
            json!({"name": "B", "email": "   ", "phone_number": "+14155550100"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body["payload"]["contact"]["email"].is_null(),
        "{:?}",
        r.body
    );
}

#[tokio::test]
async fn email_uniqueness_is_case_insensitive_with_record_invalid_shape() {
    let cw = Cw::start().await;
    cw.contact(json!({"email": "dup@example.com"})).await;
    let r = cw
        .post("/contacts", json!({"email": "DUP@example.com"}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        json!({"message": "Email has already been taken", "attributes": ["email"]})
    );
}

#[tokio::test]
async fn email_must_match_devise_regexp() {
    let cw = Cw::start().await;
    for bad in ["no-at-sign", "two@@example.com", "sp ace@example.com"] {
        let r = cw.post("/contacts", json!({"email": bad})).await;
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(r.body["message"], "Email Invalid email", "{bad}");
    }
    // Devise's regexp is lax: no TLD needed.
    assert_eq!(
        cw.post("/contacts", json!({"email": "a@b"})).await.status,
        200
    );
}

#[tokio::test]
async fn phone_must_end_in_e164_and_be_unique() {
    let cw = Cw::start().await;
    let r = cw
        .post("/contacts", json!({"phone_number": "+1 415 555 0100"}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        json!({"message": "Phone number should be in e164 format", "attributes": ["phone_number"]})
    );
    // The pattern has no \A: anything ending in +<digits> passes.
    let r = cw
        .post("/contacts", json!({"phone_number": "tel:+14155550100"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = cw
        .post("/contacts", json!({"phone_number": "tel:+14155550100"}))
        .await;
    assert_eq!(r.body["message"], "Phone number has already been taken");
}

#[tokio::test]
async fn identifier_is_unique_and_case_sensitive() {
    let cw = Cw::start().await;
    cw.contact(json!({"identifier": "ic-1"})).await;
    let r = cw.post("/contacts", json!({"identifier": "ic-1"})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["attributes"], json!(["identifier"]));
    assert_eq!(
        cw.post("/contacts", json!({"identifier": "IC-1"}))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn contact_update_shallow_merges_attributes() {
    let cw = Cw::start().await;
    let id = cw
        .contact(json!({"email": "m@example.com", "custom_attributes": {"a": 1, "b": {"x": 1}}}))
        .await;
    let r = cw
        .call(
            Method::PUT,
            &format!("/contacts/{id}"),
            Some(json!({"custom_attributes": {"b": {"y": 2}, "c": 3}})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["payload"]["custom_attributes"],
        json!({"a": 1, "b": {"y": 2}, "c": 3})
    );
}

#[tokio::test]
async fn only_resolved_contacts_are_listed_and_searched() {
    let cw = Cw::start().await;
    let hidden = cw.contact(json!({"name": "Nobody Known"})).await;
    cw.contact(json!({"name": "Known Person", "email": "known@example.com"}))
        .await;
    let list = cw.get("/contacts?page=1").await;
    assert_eq!(list.body["meta"]["count"], 1);
    assert_eq!(list.body["meta"]["current_page"], "1");
    let s = cw.get("/contacts/search?q=known").await;
    assert_eq!(s.body["meta"]["count"], 1);
    assert_eq!(cw.get(&format!("/contacts/{hidden}")).await.status, 200);
    let blank = cw.get("/contacts/search?q=").await;
    assert_eq!(blank.status, 422);
    assert_eq!(
        blank.body,
        json!({"error": "Specify search string with parameter q"})
    );
}

#[tokio::test]
async fn label_titles_are_lower_cased_and_must_match_the_regex() {
    let cw = Cw::start().await;
    let r = cw
        .post("/labels", json!({"label": {"title": "VIP-Customer"}}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["title"], "vip-customer");
    assert_eq!(r.body["color"], "#1f93ff");
    for bad in ["vip customer", "v", "-vip", "v.ip"] {
        let r = cw.post("/labels", json!({"title": bad})).await;
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(
            r.body,
            json!({"message": "Title is invalid", "attributes": ["title"]}),
            "{bad}"
        );
    }
    let r = cw.post("/labels", json!({"title": "vip-CUSTOMER"})).await;
    assert_eq!(r.body["message"], "Title has already been taken");
}

#[tokio::test]
async fn team_names_are_lower_cased_and_unique() {
    let cw = Cw::start().await;
    let r = cw.post("/teams", json!({"name": "Billing Team"})).await;
    assert_eq!(r.body["name"], "billing team");
    let r = cw
        .post("/teams", json!({"team": {"name": "BILLING TEAM"}}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["message"], "Name has already been taken");
}

#[tokio::test]
async fn incoming_messages_only_in_api_inboxes() {
    let cw = Cw::start().await;
    let widget = cw
        .post(
            "/inboxes",
            json!({"name": "Site", "channel": {"type": "web_widget"}}),
        )
        .await;
    let widget = widget.body["id"].as_u64().unwrap();
    let contact = cw.contact(json!({"email": "w@example.com"})).await;
    let conv = cw.conversation(widget, contact).await;
    let r = cw
        .message(conv, json!({"content": "hi", "message_type": "incoming"}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        json!({"error": "Incoming messages are only allowed in Api inboxes"})
    );
    let (_, _, api_conv) = cw.thread().await;
    assert_eq!(
        cw.message(
            api_conv,
            json!({"content": "hi", "message_type": "incoming"})
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn outgoing_messages_are_authored_by_the_token_user_or_an_agent_bot() {
    let cw = Cw::start().await;
    let (_, contact, conv) = cw.thread().await;
    // Per-agent authorship: platform user → account user → its own token.
    let u = cw
        .platform(
            Method::POST,
            "/users",
            Some(json!({"name": "Ann Agent", "email": "ann@example.com"})),
        )
        .await;
    let uid = u.body["id"].as_u64().unwrap();
    let au = cw
        .platform(
            Method::POST,
            "/accounts/1/account_users",
            Some(json!({"user_id": uid, "role": "agent"})),
        )
        .await;
    assert_eq!(au.status, 200, "{:?}", au.body);
    let tok = cw
        .platform(Method::POST, &format!("/users/{uid}/token"), None)
        .await;
    let agent_token = tok.body["access_token"].as_str().unwrap().to_owned();
    let url = cw.url(&format!("/conversations/{conv}/messages"));
    let r = cw
        .call_as(
            &agent_token,
            Method::POST,
            &url,
            Some(json!({"content": "hello"})),
        )
        .await;
    assert_eq!(r.body["sender"]["id"], uid);
    assert_eq!(r.body["sender"]["type"], "user");
    // A sender_id of another user is ignored: still the token's user.
    let r = cw
        .message(
            conv,
            json!({"content": "x", "sender_type": "User", "sender_id": uid}),
        )
        .await;
    assert_eq!(r.body["sender"]["id"], 1);
    let bot = cw
        .post("/agent_bots", json!({"name": "Importer Bot"}))
        .await;
    let bot_id = bot.body["id"].as_u64().unwrap();
    let r = cw
        .message(
            conv,
            json!({"content": "beep", "sender_type": "AgentBot", "sender_id": bot_id}),
        )
        .await;
    assert_eq!(r.body["sender"]["type"], "agent_bot");
    assert_eq!(r.body["sender"]["id"], bot_id);
    // Incoming messages are always the conversation's contact.
    let r = cw
        .message(
            conv,
            json!({"content": "q", "message_type": "incoming", "sender_id": uid}),
        )
        .await;
    assert_eq!(r.body["sender"]["id"], contact);
    assert_eq!(r.body["sender"]["type"], "contact");
}

#[tokio::test]
async fn content_is_capped_at_150000_chars() {
    let cw = Cw::start().await;
    let (_, _, conv) = cw.thread().await;
    let ok = "é".repeat(150_000);
    assert_eq!(
        cw.message(conv, json!({"content": ok, "message_type": "incoming"}))
            .await
            .status,
        200
    );
    let r = cw
        .message(
            conv,
            json!({"content": "a".repeat(150_001), "message_type": "incoming"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        json!({"error": "Validation failed: Content is too long (maximum is 150000 characters)"})
    );
}

#[tokio::test]
async fn two_hundred_messages_per_conversation_per_minute() {
    let cw = Cw::start().await;
    let (inbox, _, conv) = cw.thread().await;
    for i in 0..200 {
        let r = cw
            .message(
                conv,
                json!({"content": format!("m{i}"), "message_type": "incoming"}),
            )
            .await;
        assert_eq!(r.status, 200, "message {i}: {:?}", r.body);
    }
    let r = cw
        .message(
            conv,
            json!({"content": "one too many", "message_type": "incoming"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        json!({"error": "Validation failed: Too many messages"})
    );
    // The guard is per conversation.
    let other_contact = cw.contact(json!({"email": "other@example.com"})).await;
    let other = cw.conversation(inbox, other_contact).await;
    assert_eq!(
        cw.message(other, json!({"content": "fine"})).await.status,
        200
    );
}

#[tokio::test]
async fn outgoing_content_is_rendered_as_liquid() {
    let cw = Cw::start().await;
    let inbox = cw.api_inbox("Import", false).await;
    let contact = cw
        .contact(json!({"name": "jane roe", "email": "jane@example.com"}))
        .await;
    let conv = cw.conversation(inbox, contact).await;
    let r = cw
        .message(conv, json!({"content": "Hi {{first_name}}{{contact.first_name}}, {{contact.name}} <{{contact.email}}> #{{conversation.display_id}} via {{inbox.name}} from {{agent.name}} at {{account.name}}"}))
        .await;
    assert_eq!(
        r.body["content"],
        format!(
            "Hi Jane, Jane Roe <jane@example.com> #{conv} via Import from Sandbox Admin at Sandbox Company"
        )
    );
    // Code spans are protected; broken templates are kept as sent; incoming is never rendered.
    let r = cw
        .message(conv, json!({"content": "use `{{contact.name}}` here"}))
        .await;
    assert_eq!(r.body["content"], "use `{{contact.name}}` here");
    let r = cw.message(conv, json!({"content": "{% if %} oops"})).await;
    assert_eq!(r.body["content"], "{% if %} oops");
    let r = cw
        .message(
            conv,
            json!({"content": "{{contact.name}}", "message_type": "incoming"}),
        )
        .await;
    assert_eq!(r.body["content"], "{{contact.name}}");
    // Private notes are outgoing too, so they are rendered as well.
    let r = cw
        .message(
            conv,
            json!({"content": "note {{unknown}}", "private": true}),
        )
        .await;
    assert_eq!(r.body["content"], "note ");
}

#[tokio::test]
async fn display_id_comes_from_a_per_account_sequence() {
    let cw = Cw::start().await;
    let inbox = cw.api_inbox("Import", false).await;
    let contact = cw.contact(json!({"email": "d@example.com"})).await;
    let r = cw
        .post(
            "/conversations",
            json!({"inbox_id": inbox, "contact_id": contact, "display_id": 9999}),
        )
        .await;
    assert_eq!(r.body["id"], 1);
    // A failed create still consumes a sequence value (sequences are not transactional).
    let widget = cw
        .post(
            "/inboxes",
            json!({"name": "W", "channel": {"type": "web_widget"}}),
        )
        .await;
    let widget = widget.body["id"].as_u64().unwrap();
    let r = cw
        .post(
            "/conversations",
            json!({"inbox_id": widget, "contact_id": contact,
                                        "message": {"content": "x", "message_type": "incoming"}}),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = cw.open_conversation(inbox, contact).await;
    assert_eq!(r.body["id"], 3);
    assert_eq!(cw.get("/conversations/3").await.body["id"], 3);
    assert_eq!(cw.get("/conversations/2").await.status, 404);
}

#[tokio::test]
async fn error_shapes_and_status_codes() {
    let cw = Cw::start().await;
    let url = cw.url("/contacts");
    let r = cw.call_as("wrong", Method::GET, &url, None).await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (401, json!({"error": "Invalid Access Token"}))
    );
    let r = cw.get("/contacts/999").await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (404, json!({"error": "Resource could not be found"}))
    );
    // An agent (not an administrator) may not create labels: Pundit → 401.
    let agent = cw
        .post(
            "/agents",
            json!({"email": "agent@example.com", "name": "Agent", "role": "agent"}),
        )
        .await;
    let agent_id = agent.body["id"].as_u64().unwrap();
    cw.platform(
        Method::POST,
        "/users",
        Some(json!({"email": "agent@example.com"})),
    )
    .await;
    let tok = cw
        .platform(Method::POST, &format!("/users/{agent_id}/token"), None)
        .await;
    let agent_token = tok.body["access_token"].as_str().unwrap().to_owned();
    let r = cw
        .call_as(
            &agent_token,
            Method::POST,
            &cw.url("/labels"),
            Some(json!({"title": "x1"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (
            401,
            json!({"error": "You are not authorized to do this action"})
        )
    );
    // Another account: the user has no account_users row.
    let url = format!("{}api/v1/accounts/2/contacts", cw.sb.base_url());
    cw.platform(Method::POST, "/accounts", Some(json!({"name": "Other"})))
        .await;
    let r = cw.call_as(&cw.token.clone(), Method::GET, &url, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body["error"],
        "You are not authorized to access this account"
    );
    // Platform: unknown token, and a user the app did not create.
    let r = cw
        .call_as(
            "nope",
            Method::GET,
            &format!("{}platform/api/v1/users/1", cw.sb.base_url()),
            None,
        )
        .await;
    assert_eq!(r.body, json!({"error": "Invalid access_token"}));
    let r = cw.platform(Method::GET, "/users/1", None).await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (401, json!({"error": "Non permissible resource"}))
    );
}

#[tokio::test]
async fn at_most_fifteen_attachments_per_message() {
    let cw = Cw::start().await;
    let (_, _, conv) = cw.thread().await;
    let url = cw.url(&format!("/conversations/{conv}/messages"));
    let form = |n: usize| {
        let mut f = reqwest::multipart::Form::new()
            .text("content", "files")
            .text("message_type", "incoming");
        for i in 0..n {
            let part = reqwest::multipart::Part::bytes(vec![b'x'; 10])
                .file_name(format!("f{i}.png"))
                .mime_str("image/png")
                .unwrap();
            f = f.part("attachments[]", part);
        }
        f
    };
    let r = cw
        .http
        .post(&url)
        .header("api_access_token", &cw.token)
        .multipart(form(15))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["attachments"].as_array().unwrap().len(), 15);
    assert_eq!(body["attachments"][0]["file_type"], "image");
    let r = cw
        .http
        .post(&url)
        .header("api_access_token", &cw.token)
        .multipart(form(16))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "Validation failed: Attachments exceeded maximum allowed"})
    );
}

#[tokio::test]
async fn contact_inboxes_filter_is_the_lookup_by_external_id() {
    let cw = Cw::start().await;
    let inbox = cw.api_inbox("Import", false).await;
    let r = cw
        .post(
            "/contacts",
            json!({"email": "x@example.com", "inbox_id": inbox, "source_id": "intercom:42"}),
        )
        .await;
    assert_eq!(
        r.body["payload"]["contact_inbox"]["source_id"],
        "intercom:42"
    );
    let id = r.body["payload"]["contact"]["id"].clone();
    let r = cw
        .post(
            "/contact_inboxes/filter",
            json!({"inbox_id": inbox, "source_id": "intercom:42"}),
        )
        .await;
    assert_eq!(r.body["id"], id);
    let r = cw
        .post(
            "/contact_inboxes/filter",
            json!({"inbox_id": inbox, "source_id": "intercom:43"}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.text, "");
    // The same source_id for another contact in the same inbox is refused on conversation create.
    let other = cw.contact(json!({"email": "y@example.com"})).await;
    let r = cw
        .post(
            "/conversations",
            json!({"inbox_id": inbox, "contact_id": other, "source_id": "intercom:42"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body, json!({"error": "source_id should be unique"}));
}

#[tokio::test]
async fn contact_filter_reads_custom_attributes_only_with_a_definition() {
    let cw = Cw::start().await;
    cw.contact(json!({"email": "pro@example.com", "custom_attributes": {"plan": "Pro"}}))
        .await;
    cw.contact(json!({"email": "free@example.com", "custom_attributes": {"plan": "free"}}))
        .await;
    cw.contact(json!({"name": "Unresolved", "custom_attributes": {"plan": "pro"}}))
        .await;
    let payload = json!({"payload": [{"attribute_key": "plan", "filter_operator": "equal_to", "values": ["PRO"], "query_operator": null}]});
    // Without a definition the condition is dropped: every resolved contact matches.
    let r = cw.post("/contacts/filter", payload.clone()).await;
    assert_eq!(r.body["meta"]["count"], 2);
    cw.post(
        "/custom_attribute_definitions",
        json!({"attribute_display_name": "Plan", "attribute_key": "plan",
                                                     "attribute_model": "contact_attribute"}),
    )
    .await;
    // With one, values are compared lower-cased.
    let r = cw.post("/contacts/filter", payload).await;
    assert_eq!(r.body["meta"]["count"], 1);
    assert_eq!(r.body["payload"][0]["email"], "pro@example.com");
    let bad = json!({"payload": [{"attribute_key": "email", "filter_operator": "resembles", "values": ["x"]}]});
    let r = cw.post("/contacts/filter", bad).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body["error"]
            .as_str()
            .unwrap()
            .starts_with("Invalid operator")
    );
}

#[tokio::test]
async fn agent_bot_tokens_reach_only_the_bot_endpoints() {
    let cw = Cw::start().await;
    let (_, _, conv) = cw.thread().await;
    let bot = cw.post("/agent_bots", json!({"name": "Helper"})).await;
    let bot_token = bot.body["access_token"].as_str().unwrap().to_owned();
    let url = cw.url(&format!("/conversations/{conv}/messages"));
    let r = cw
        .call_as(
            &bot_token,
            Method::POST,
            &url,
            Some(json!({"content": "from the bot"})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["sender"]["type"], "agent_bot");
    let r = cw
        .call_as(&bot_token, Method::GET, &cw.url("/contacts"), None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"error": "Access to this endpoint is not authorized for bots"})
    );
}

#[tokio::test]
async fn message_status_updates_only_in_api_inboxes_and_never_read_to_delivered() {
    let cw = Cw::start().await;
    let (_, _, conv) = cw.thread().await;
    let id = cw.message(conv, json!({"content": "out"})).await.body["id"]
        .as_u64()
        .unwrap();
    let path = format!("/conversations/{conv}/messages/{id}");
    assert_eq!(
        cw.patch(&path, json!({"status": "read"})).await.body["status"],
        "read"
    );
    assert_eq!(
        cw.patch(&path, json!({"status": "delivered"})).await.body["status"],
        "read"
    );
    let r = cw
        .patch(
            &path,
            json!({"status": "failed", "external_error": "bounced"}),
        )
        .await;
    assert_eq!(r.body["status"], "failed");
    let widget = cw
        .post(
            "/inboxes",
            json!({"name": "W", "channel": {"type": "web_widget"}}),
        )
        .await;
    let contact = cw.contact(json!({"email": "w@example.com"})).await;
    let wconv = cw
        .conversation(widget.body["id"].as_u64().unwrap(), contact)
        .await;
    let wid = cw.message(wconv, json!({"content": "out"})).await.body["id"]
        .as_u64()
        .unwrap();
    let r = cw
        .patch(
            &format!("/conversations/{wconv}/messages/{wid}"),
            json!({"status": "read"}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        json!({"error": "Message status update is only allowed for API inboxes"})
    );
}

#[tokio::test]
async fn messages_list_pages_by_id_cursor_and_delete_is_soft() {
    let cw = Cw::start().await;
    let (_, _, conv) = cw.thread().await;
    let mut ids = Vec::new();
    for i in 0..45 {
        let r = cw
            .message(
                conv,
                json!({"content": format!("m{i}"), "message_type": "incoming"}),
            )
            .await;
        ids.push(r.body["id"].as_u64().unwrap());
    }
    let page_ids = |r: &common::Reply| -> Vec<u64> {
        r.body["payload"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_u64().unwrap())
            .collect()
    };
    let latest = cw.get(&format!("/conversations/{conv}/messages")).await;
    assert_eq!(page_ids(&latest), ids[25..].to_vec());
    let before = cw
        .get(&format!(
            "/conversations/{conv}/messages?before={}",
            ids[25]
        ))
        .await;
    assert_eq!(page_ids(&before), ids[5..25].to_vec());
    let after = cw
        .get(&format!("/conversations/{conv}/messages?after={}", ids[40]))
        .await;
    assert_eq!(page_ids(&after), ids[41..].to_vec());
    let r = cw
        .call(
            Method::DELETE,
            &format!("/conversations/{conv}/messages/{}", ids[0]),
            None,
        )
        .await;
    assert_eq!(r.body["content"], "This message was deleted");
    assert_eq!(r.body["content_attributes"], json!({"deleted": true}));
    assert_eq!(
        cw.stored_messages(conv).len(),
        45,
        "soft delete keeps the row"
    );
}

#[tokio::test]
async fn the_token_header_works_with_underscores_or_dashes() {
    let cw = Cw::start().await;
    let r = cw
        .http
        .get(cw.url("/labels"))
        .header("api-access-token", &cw.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = cw.http.get(cw.url("/labels")).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn each_account_has_its_own_display_id_sequence() {
    let cw = Cw::start().await;
    let (_, _, first) = cw.thread().await;
    assert_eq!(first, 1);
    let acct = cw
        .platform(Method::POST, "/accounts", Some(json!({"name": "Second"})))
        .await
        .body["id"]
        .as_u64()
        .unwrap();
    let user = cw
        .platform(
            Method::POST,
            "/users",
            Some(json!({"name": "Owner", "email": "owner@example.com"})),
        )
        .await;
    let uid = user.body["id"].as_u64().unwrap();
    let token = user.body["access_token"].as_str().unwrap().to_owned();
    cw.platform(
        Method::POST,
        &format!("/accounts/{acct}/account_users"),
        Some(json!({"user_id": uid, "role": "administrator"})),
    )
    .await;
    let base = format!("{}api/v1/accounts/{acct}", cw.sb.base_url());
    let inbox = cw
        .call_as(
            &token,
            Method::POST,
            &format!("{base}/inboxes"),
            Some(json!({"name": "I", "channel": {"type": "api"}})),
        )
        .await;
    let contact = cw
        .call_as(
            &token,
            Method::POST,
            &format!("{base}/contacts"),
            Some(json!({"email": "jane@example.com"})),
        )
        .await;
    let conv = cw
        .call_as(&token, Method::POST, &format!("{base}/conversations"),
                 Some(json!({"inbox_id": inbox.body["id"], "contact_id": contact.body["payload"]["contact"]["id"]})))
        .await;
    assert_eq!(conv.body["id"], 1, "{:?}", conv.body);
    assert_eq!(conv.body["account_id"], acct);
    // jane@example.com also exists in account 1: uniqueness is per account.
    assert_eq!(contact.status, 200);
    // Account 1's sequence is untouched.
    let (_, _, next) = {
        let inbox = cw.api_inbox("Other", false).await;
        let c = cw.contact(json!({"email": "z@example.com"})).await;
        (inbox, c, cw.conversation(inbox, c).await)
    };
    assert_eq!(next, 2);
}
