//! One test per Chatwoot rule, each over real HTTP against the running sandbox.
//! Expected values are Chatwoot's, cited from `../shared/research/chatwoot.md`.

use crate::common::Chatwoot;
use deskmove_sandbox::Sandbox;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn email_is_lower_cased_and_blank_becomes_null() {
    let chatwoot = Chatwoot::start().await;
    let r = chatwoot
        .post(
            "/contacts",
            json!({"name": "A", "email": "Jane.DOE@Example.COM"}),
        )
        .await;
    assert_eq!(
        r.body["payload"]["contact"]["email"],
        "jane.doe@example.com"
    );
    let r = chatwoot
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
    let chatwoot = Chatwoot::start().await;
    chatwoot.contact(json!({"email": "dup@example.com"})).await;
    let r = chatwoot
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
    let chatwoot = Chatwoot::start().await;
    for bad in ["no-at-sign", "two@@example.com", "sp ace@example.com"] {
        let r = chatwoot.post("/contacts", json!({"email": bad})).await;
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(r.body["message"], "Email Invalid email", "{bad}");
    }
    // Devise's regexp is lax: no TLD needed.
    assert_eq!(
        chatwoot
            .post("/contacts", json!({"email": "a@b"}))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn phone_must_end_in_e164_and_be_unique() {
    let chatwoot = Chatwoot::start().await;
    let r = chatwoot
        .post("/contacts", json!({"phone_number": "+1 415 555 0100"}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        json!({"message": "Phone number should be in e164 format", "attributes": ["phone_number"]})
    );
    // The pattern has no \A: anything ending in +<digits> passes.
    let r = chatwoot
        .post("/contacts", json!({"phone_number": "tel:+14155550100"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = chatwoot
        .post("/contacts", json!({"phone_number": "tel:+14155550100"}))
        .await;
    assert_eq!(r.body["message"], "Phone number has already been taken");
}

#[tokio::test]
async fn identifier_is_unique_and_case_sensitive() {
    let chatwoot = Chatwoot::start().await;
    chatwoot.contact(json!({"identifier": "ic-1"})).await;
    let r = chatwoot
        .post("/contacts", json!({"identifier": "ic-1"}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["attributes"], json!(["identifier"]));
    assert_eq!(
        chatwoot
            .post("/contacts", json!({"identifier": "IC-1"}))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn contact_update_shallow_merges_attributes() {
    let chatwoot = Chatwoot::start().await;
    let id = chatwoot
        .contact(json!({"email": "m@example.com", "custom_attributes": {"a": 1, "b": {"x": 1}}}))
        .await;
    let r = chatwoot
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
    let chatwoot = Chatwoot::start().await;
    let hidden = chatwoot.contact(json!({"name": "Nobody Known"})).await;
    chatwoot
        .contact(json!({"name": "Known Person", "email": "known@example.com"}))
        .await;
    let list = chatwoot.get("/contacts?page=1").await;
    assert_eq!(list.body["meta"]["count"], 1);
    assert_eq!(list.body["meta"]["current_page"], "1");
    let s = chatwoot.get("/contacts/search?q=known").await;
    assert_eq!(s.body["meta"]["count"], 1);
    assert_eq!(
        chatwoot.get(&format!("/contacts/{hidden}")).await.status,
        200
    );
    let blank = chatwoot.get("/contacts/search?q=").await;
    assert_eq!(blank.status, 422);
    assert_eq!(
        blank.body,
        json!({"error": "Specify search string with parameter q"})
    );
}

#[tokio::test]
async fn label_titles_are_lower_cased_and_must_match_the_regex() {
    let chatwoot = Chatwoot::start().await;
    let r = chatwoot
        .post("/labels", json!({"label": {"title": "VIP-Customer"}}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["title"], "vip-customer");
    assert_eq!(r.body["color"], "#1f93ff");
    for bad in ["vip customer", "v", "-vip", "v.ip"] {
        let r = chatwoot.post("/labels", json!({"title": bad})).await;
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(
            r.body,
            json!({"message": "Title is invalid", "attributes": ["title"]}),
            "{bad}"
        );
    }
    let r = chatwoot
        .post("/labels", json!({"title": "vip-CUSTOMER"}))
        .await;
    assert_eq!(r.body["message"], "Title has already been taken");
}

#[tokio::test]
async fn team_names_are_lower_cased_and_unique() {
    let chatwoot = Chatwoot::start().await;
    let r = chatwoot
        .post("/teams", json!({"name": "Billing Team"}))
        .await;
    assert_eq!(r.body["name"], "billing team");
    let r = chatwoot
        .post("/teams", json!({"team": {"name": "BILLING TEAM"}}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["message"], "Name has already been taken");
}

#[tokio::test]
async fn incoming_messages_only_in_api_inboxes() {
    let chatwoot = Chatwoot::start().await;
    let widget = chatwoot
        .post(
            "/inboxes",
            json!({"name": "Site", "channel": {"type": "web_widget"}}),
        )
        .await;
    let widget = widget.body["id"].as_u64().unwrap();
    let contact = chatwoot.contact(json!({"email": "w@example.com"})).await;
    let conv = chatwoot.conversation(widget, contact).await;
    let r = chatwoot
        .message(conv, json!({"content": "hi", "message_type": "incoming"}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        json!({"error": "Incoming messages are only allowed in Api inboxes"})
    );
    let (_, _, api_conv) = chatwoot.thread().await;
    assert_eq!(
        chatwoot
            .message(
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
    let chatwoot = Chatwoot::start().await;
    let (_, contact, conv) = chatwoot.thread().await;
    // Per-agent authorship: platform user → account user → its own token.
    let u = chatwoot
        .platform(
            Method::POST,
            "/users",
            Some(json!({"name": "Ann Agent", "email": "ann@example.com"})),
        )
        .await;
    let uid = u.body["id"].as_u64().unwrap();
    let au = chatwoot
        .platform(
            Method::POST,
            "/accounts/1/account_users",
            Some(json!({"user_id": uid, "role": "agent"})),
        )
        .await;
    assert_eq!(au.status, 200, "{:?}", au.body);
    let tok = chatwoot
        .platform(Method::POST, &format!("/users/{uid}/token"), None)
        .await;
    let agent_token = tok.body["access_token"].as_str().unwrap().to_owned();
    let url = chatwoot.url(&format!("/conversations/{conv}/messages"));
    let r = chatwoot
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
    let r = chatwoot
        .message(
            conv,
            json!({"content": "x", "sender_type": "User", "sender_id": uid}),
        )
        .await;
    assert_eq!(r.body["sender"]["id"], 1);
    let bot = chatwoot
        .post("/agent_bots", json!({"name": "Importer Bot"}))
        .await;
    let bot_id = bot.body["id"].as_u64().unwrap();
    let r = chatwoot
        .message(
            conv,
            json!({"content": "beep", "sender_type": "AgentBot", "sender_id": bot_id}),
        )
        .await;
    assert_eq!(r.body["sender"]["type"], "agent_bot");
    assert_eq!(r.body["sender"]["id"], bot_id);
    // Incoming messages are always the conversation's contact.
    let r = chatwoot
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
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    let ok = "é".repeat(150_000);
    assert_eq!(
        chatwoot
            .message(conv, json!({"content": ok, "message_type": "incoming"}))
            .await
            .status,
        200
    );
    let r = chatwoot
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
    let chatwoot = Chatwoot::start().await;
    let (inbox, _, conv) = chatwoot.thread().await;
    for i in 0..200 {
        let r = chatwoot
            .message(
                conv,
                json!({"content": format!("m{i}"), "message_type": "incoming"}),
            )
            .await;
        assert_eq!(r.status, 200, "message {i}: {:?}", r.body);
    }
    let r = chatwoot
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
    let other_contact = chatwoot
        .contact(json!({"email": "other@example.com"}))
        .await;
    let other = chatwoot.conversation(inbox, other_contact).await;
    assert_eq!(
        chatwoot
            .message(other, json!({"content": "fine"}))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn outgoing_content_is_rendered_as_liquid() {
    let chatwoot = Chatwoot::start().await;
    let inbox = chatwoot.api_inbox("Import", false).await;
    let contact = chatwoot
        .contact(json!({"name": "jane roe", "email": "jane@example.com"}))
        .await;
    let conv = chatwoot.conversation(inbox, contact).await;
    let r = chatwoot
        .message(conv, json!({"content": "Hi {{first_name}}{{contact.first_name}}, {{contact.name}} <{{contact.email}}> #{{conversation.display_id}} via {{inbox.name}} from {{agent.name}} at {{account.name}}"}))
        .await;
    assert_eq!(
        r.body["content"],
        format!(
            "Hi Jane, Jane Roe <jane@example.com> #{conv} via Import from Sandbox Admin at Sandbox Company"
        )
    );
    // Code spans are protected; broken templates are kept as sent; incoming is never rendered.
    let r = chatwoot
        .message(conv, json!({"content": "use `{{contact.name}}` here"}))
        .await;
    assert_eq!(r.body["content"], "use `{{contact.name}}` here");
    let r = chatwoot
        .message(conv, json!({"content": "{% if %} oops"}))
        .await;
    assert_eq!(r.body["content"], "{% if %} oops");
    let r = chatwoot
        .message(
            conv,
            json!({"content": "{{contact.name}}", "message_type": "incoming"}),
        )
        .await;
    assert_eq!(r.body["content"], "{{contact.name}}");
    // Private notes are outgoing too, so they are rendered as well.
    let r = chatwoot
        .message(
            conv,
            json!({"content": "note {{unknown}}", "private": true}),
        )
        .await;
    assert_eq!(r.body["content"], "note ");
}

#[tokio::test]
async fn display_id_comes_from_a_per_account_sequence() {
    let chatwoot = Chatwoot::start().await;
    let inbox = chatwoot.api_inbox("Import", false).await;
    let contact = chatwoot.contact(json!({"email": "d@example.com"})).await;
    let r = chatwoot
        .post(
            "/conversations",
            json!({"inbox_id": inbox, "contact_id": contact, "display_id": 9999}),
        )
        .await;
    assert_eq!(r.body["id"], 1);
    // A failed create still consumes a sequence value (sequences are not transactional).
    let widget = chatwoot
        .post(
            "/inboxes",
            json!({"name": "W", "channel": {"type": "web_widget"}}),
        )
        .await;
    let widget = widget.body["id"].as_u64().unwrap();
    let r = chatwoot
        .post(
            "/conversations",
            json!({"inbox_id": widget, "contact_id": contact,
                                        "message": {"content": "x", "message_type": "incoming"}}),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = chatwoot.open_conversation(inbox, contact).await;
    assert_eq!(r.body["id"], 3);
    assert_eq!(chatwoot.get("/conversations/3").await.body["id"], 3);
    assert_eq!(chatwoot.get("/conversations/2").await.status, 404);
}

#[tokio::test]
async fn error_shapes_and_status_codes() {
    let chatwoot = Chatwoot::start().await;
    let url = chatwoot.url("/contacts");
    let r = chatwoot.call_as("wrong", Method::GET, &url, None).await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (401, json!({"error": "Invalid Access Token"}))
    );
    let r = chatwoot.get("/contacts/999").await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (404, json!({"error": "Resource could not be found"}))
    );
    // An agent (not an administrator) may not create labels: Pundit → 401.
    let agent = chatwoot
        .post(
            "/agents",
            json!({"email": "agent@example.com", "name": "Agent", "role": "agent"}),
        )
        .await;
    let agent_id = agent.body["id"].as_u64().unwrap();
    chatwoot
        .platform(
            Method::POST,
            "/users",
            Some(json!({"email": "agent@example.com"})),
        )
        .await;
    let tok = chatwoot
        .platform(Method::POST, &format!("/users/{agent_id}/token"), None)
        .await;
    let agent_token = tok.body["access_token"].as_str().unwrap().to_owned();
    let r = chatwoot
        .call_as(
            &agent_token,
            Method::POST,
            &chatwoot.url("/labels"),
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
    let url = format!("{}api/v1/accounts/2/contacts", chatwoot.sandbox.base_url());
    chatwoot
        .platform(Method::POST, "/accounts", Some(json!({"name": "Other"})))
        .await;
    let r = chatwoot
        .call_as(&chatwoot.token.clone(), Method::GET, &url, None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body["error"],
        "You are not authorized to access this account"
    );
    // Platform: unknown token, and a user the app did not create.
    let r = chatwoot
        .call_as(
            "nope",
            Method::GET,
            &format!("{}platform/api/v1/users/1", chatwoot.sandbox.base_url()),
            None,
        )
        .await;
    assert_eq!(r.body, json!({"error": "Invalid access_token"}));
    let r = chatwoot.platform(Method::GET, "/users/1", None).await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (401, json!({"error": "Non permissible resource"}))
    );
}

#[tokio::test]
async fn at_most_fifteen_attachments_per_message() {
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    let url = chatwoot.url(&format!("/conversations/{conv}/messages"));
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
    let r = chatwoot
        .http
        .post(&url)
        .header("api_access_token", &chatwoot.token)
        .multipart(form(15))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["attachments"].as_array().unwrap().len(), 15);
    assert_eq!(body["attachments"][0]["file_type"], "image");
    let r = chatwoot
        .http
        .post(&url)
        .header("api_access_token", &chatwoot.token)
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
    let chatwoot = Chatwoot::start().await;
    let inbox = chatwoot.api_inbox("Import", false).await;
    let r = chatwoot
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
    let r = chatwoot
        .post(
            "/contact_inboxes/filter",
            json!({"inbox_id": inbox, "source_id": "intercom:42"}),
        )
        .await;
    assert_eq!(r.body["id"], id);
    let r = chatwoot
        .post(
            "/contact_inboxes/filter",
            json!({"inbox_id": inbox, "source_id": "intercom:43"}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.text, "");
    // The same source_id for another contact in the same inbox is refused on conversation create.
    let other = chatwoot.contact(json!({"email": "y@example.com"})).await;
    let r = chatwoot
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
    let chatwoot = Chatwoot::start().await;
    chatwoot
        .contact(json!({"email": "pro@example.com", "custom_attributes": {"plan": "Pro"}}))
        .await;
    chatwoot
        .contact(json!({"email": "free@example.com", "custom_attributes": {"plan": "free"}}))
        .await;
    chatwoot
        .contact(json!({"name": "Unresolved", "custom_attributes": {"plan": "pro"}}))
        .await;
    let payload = json!({"payload": [{"attribute_key": "plan", "filter_operator": "equal_to", "values": ["PRO"], "query_operator": null}]});
    // Without a definition the condition is dropped: every resolved contact matches.
    let r = chatwoot.post("/contacts/filter", payload.clone()).await;
    assert_eq!(r.body["meta"]["count"], 2);
    chatwoot
        .post(
            "/custom_attribute_definitions",
            json!({"attribute_display_name": "Plan", "attribute_key": "plan",
                                                     "attribute_model": "contact_attribute"}),
        )
        .await;
    // With one, values are compared lower-cased.
    let r = chatwoot.post("/contacts/filter", payload).await;
    assert_eq!(r.body["meta"]["count"], 1);
    assert_eq!(r.body["payload"][0]["email"], "pro@example.com");
    let bad = json!({"payload": [{"attribute_key": "email", "filter_operator": "resembles", "values": ["x"]}]});
    let r = chatwoot.post("/contacts/filter", bad).await;
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
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    let bot = chatwoot
        .post("/agent_bots", json!({"name": "Helper"}))
        .await;
    let bot_token = bot.body["access_token"].as_str().unwrap().to_owned();
    let url = chatwoot.url(&format!("/conversations/{conv}/messages"));
    let r = chatwoot
        .call_as(
            &bot_token,
            Method::POST,
            &url,
            Some(json!({"content": "from the bot"})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["sender"]["type"], "agent_bot");
    let r = chatwoot
        .call_as(&bot_token, Method::GET, &chatwoot.url("/contacts"), None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"error": "Access to this endpoint is not authorized for bots"})
    );
}

#[tokio::test]
async fn message_status_updates_only_in_api_inboxes_and_never_read_to_delivered() {
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    let id = chatwoot.message(conv, json!({"content": "out"})).await.body["id"]
        .as_u64()
        .unwrap();
    let path = format!("/conversations/{conv}/messages/{id}");
    assert_eq!(
        chatwoot.patch(&path, json!({"status": "read"})).await.body["status"],
        "read"
    );
    assert_eq!(
        chatwoot
            .patch(&path, json!({"status": "delivered"}))
            .await
            .body["status"],
        "read"
    );
    let r = chatwoot
        .patch(
            &path,
            json!({"status": "failed", "external_error": "bounced"}),
        )
        .await;
    assert_eq!(r.body["status"], "failed");
    let widget = chatwoot
        .post(
            "/inboxes",
            json!({"name": "W", "channel": {"type": "web_widget"}}),
        )
        .await;
    let contact = chatwoot.contact(json!({"email": "w@example.com"})).await;
    let wconv = chatwoot
        .conversation(widget.body["id"].as_u64().unwrap(), contact)
        .await;
    let wid = chatwoot
        .message(wconv, json!({"content": "out"}))
        .await
        .body["id"]
        .as_u64()
        .unwrap();
    let r = chatwoot
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
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    let mut ids = Vec::new();
    for i in 0..45 {
        let r = chatwoot
            .message(
                conv,
                json!({"content": format!("m{i}"), "message_type": "incoming"}),
            )
            .await;
        ids.push(r.body["id"].as_u64().unwrap());
    }
    let page_ids = |r: &crate::common::Reply| -> Vec<u64> {
        r.body["payload"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_u64().unwrap())
            .collect()
    };
    let latest = chatwoot
        .get(&format!("/conversations/{conv}/messages"))
        .await;
    assert_eq!(page_ids(&latest), ids[25..].to_vec());
    let before = chatwoot
        .get(&format!(
            "/conversations/{conv}/messages?before={}",
            ids[25]
        ))
        .await;
    assert_eq!(page_ids(&before), ids[5..25].to_vec());
    let after = chatwoot
        .get(&format!("/conversations/{conv}/messages?after={}", ids[40]))
        .await;
    assert_eq!(page_ids(&after), ids[41..].to_vec());
    let r = chatwoot
        .call(
            Method::DELETE,
            &format!("/conversations/{conv}/messages/{}", ids[0]),
            None,
        )
        .await;
    assert_eq!(r.body["content"], "This message was deleted");
    assert_eq!(r.body["content_attributes"], json!({"deleted": true}));
    assert_eq!(
        chatwoot.stored_messages(conv).len(),
        45,
        "soft delete keeps the row"
    );
}

#[tokio::test]
async fn the_token_header_works_with_underscores_or_dashes() {
    let chatwoot = Chatwoot::start().await;
    let r = chatwoot
        .http
        .get(chatwoot.url("/labels"))
        .header("api-access-token", &chatwoot.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = chatwoot
        .http
        .get(chatwoot.url("/labels"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn each_account_has_its_own_display_id_sequence() {
    let chatwoot = Chatwoot::start().await;
    let (_, _, first) = chatwoot.thread().await;
    assert_eq!(first, 1);
    let acct = chatwoot
        .platform(Method::POST, "/accounts", Some(json!({"name": "Second"})))
        .await
        .body["id"]
        .as_u64()
        .unwrap();
    let user = chatwoot
        .platform(
            Method::POST,
            "/users",
            Some(json!({"name": "Owner", "email": "owner@example.com"})),
        )
        .await;
    let uid = user.body["id"].as_u64().unwrap();
    let token = user.body["access_token"].as_str().unwrap().to_owned();
    chatwoot
        .platform(
            Method::POST,
            &format!("/accounts/{acct}/account_users"),
            Some(json!({"user_id": uid, "role": "administrator"})),
        )
        .await;
    let base = format!("{}api/v1/accounts/{acct}", chatwoot.sandbox.base_url());
    let inbox = chatwoot
        .call_as(
            &token,
            Method::POST,
            &format!("{base}/inboxes"),
            Some(json!({"name": "I", "channel": {"type": "api"}})),
        )
        .await;
    let contact = chatwoot
        .call_as(
            &token,
            Method::POST,
            &format!("{base}/contacts"),
            Some(json!({"email": "jane@example.com"})),
        )
        .await;
    let conv = chatwoot
        .call_as(&token, Method::POST, &format!("{base}/conversations"),
                 Some(json!({"inbox_id": inbox.body["id"], "contact_id": contact.body["payload"]["contact"]["id"]})))
        .await;
    assert_eq!(conv.body["id"], 1, "{:?}", conv.body);
    assert_eq!(conv.body["account_id"], acct);
    // jane@example.com also exists in account 1: uniqueness is per account.
    assert_eq!(contact.status, 200);
    // Account 1's sequence is untouched.
    let (_, _, next) = {
        let inbox = chatwoot.api_inbox("Other", false).await;
        let c = chatwoot.contact(json!({"email": "z@example.com"})).await;
        (inbox, c, chatwoot.conversation(inbox, c).await)
    };
    assert_eq!(next, 2);
}

// ---- Strictness: where Chatwoot's code is stricter (or odder) than a lenient fake. ----

fn file(name: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(b"0123456789".to_vec())
        .file_name(name.to_owned())
        .mime_str("text/plain")
        .unwrap()
}

#[tokio::test]
async fn echo_id_is_echoed_once_and_never_stored() {
    // message.rb `attr_accessor :echo_id`; only source_id is a column.
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    let r = chatwoot
        .message(
            conv,
            json!({"content": "hi", "echo_id": "tmp-1", "source_id": "part-1"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["echo_id"], "tmp-1");
    assert_eq!(r.body["source_id"], "part-1");
    let listed = chatwoot
        .get(&format!("/conversations/{conv}/messages"))
        .await;
    let m = &listed.body["payload"][0];
    assert_eq!(m["source_id"], "part-1");
    assert!(m.get("echo_id").is_none(), "{m}");
    let shown = chatwoot.get(&format!("/conversations/{conv}")).await;
    assert!(shown.body["messages"][0].get("echo_id").is_none());
    let stored = chatwoot.stored_messages(conv);
    assert!(stored[0].get("echo_id").is_none(), "{:?}", stored[0]);
}

#[tokio::test]
async fn attachments_come_only_from_the_attachments_array_field() {
    // message_builder.rb `process_attachments` reads params[:attachments] only.
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    let path = format!("/conversations/{conv}/messages");
    let form = reqwest::multipart::Form::new()
        .text("content", "files")
        .part("attachments[]", file("kept.txt"))
        .part("files[]", file("dropped.txt"))
        .part("attachment", file("dropped-too.txt"));
    let r = chatwoot.multipart(&path, form).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let atts = r.body["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 1);
    assert!(atts[0]["data_url"].as_str().unwrap().ends_with("kept.txt"));
    // Under another name only: saved, silently, without the file.
    let form = reqwest::multipart::Form::new()
        .text("content", "where is my file")
        .part("file", file("lost.txt"));
    let r = chatwoot.multipart(&path, form).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["content"], "where is my file");
    assert!(r.body.get("attachments").is_none(), "{:?}", r.body);
    // One file under a bare `attachments`: `@attachments.each` raises, rescued to 422.
    let form = reqwest::multipart::Form::new()
        .text("content", "x")
        .part("attachments", file("single.txt"));
    let r = chatwoot.multipart(&path, form).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body["error"]
            .as_str()
            .unwrap()
            .contains("undefined method 'each'")
    );
}

#[tokio::test]
async fn nested_bodies_are_not_unwrapped() {
    // contacts_controller.rb `params.permit(...)`, message_builder.rb `params[:content]`,
    // conversations_controller.rb `params[:inbox_id]`: wrap_parameters never unwraps.
    let chatwoot = Chatwoot::start().await;
    let (inbox, contact, conv) = chatwoot.thread().await;
    let r = chatwoot
        .post(
            "/contacts",
            json!({"contact": {"name": "Nested", "email": "nested@example.com"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["payload"]["contact"]["name"], "");
    assert!(r.body["payload"]["contact"]["email"].is_null());
    let r = chatwoot
        .message(conv, json!({"message": {"content": "hello"}}))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body["content"].is_null(), "{:?}", r.body);
    let r = chatwoot
        .post(
            "/conversations",
            json!({"conversation": {"inbox_id": inbox, "contact_id": contact}}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!({"error": "Resource could not be found"}));
    // `params.require(:label)` controllers take the body flat or nested alike.
    let r = chatwoot
        .post("/labels", json!({"label": {"title": "nested-ok"}}))
        .await;
    assert_eq!(r.body["title"], "nested-ok");
}

#[tokio::test]
async fn the_attribute_length_limit_is_on_conversations_not_contacts() {
    // JsonbAttributesLengthValidator is declared in conversation.rb only.
    let chatwoot = Chatwoot::start().await;
    let inbox = chatwoot.api_inbox("Import", false).await;
    let long = "x".repeat(1501);
    let r = chatwoot
        .post(
            "/contacts",
            json!({"email": "long@example.com", "custom_attributes": {"bio": long},
                   "additional_attributes": {"company_name": long}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["payload"]["contact"]["custom_attributes"]["bio"]
            .as_str()
            .unwrap()
            .len(),
        1501
    );
    let contact = r.body["payload"]["contact"]["id"].as_u64().unwrap();
    let r = chatwoot
        .post(
            "/conversations",
            json!({"inbox_id": inbox, "contact_id": contact, "custom_attributes": {"bio": long},
                   "additional_attributes": {"n": 10_000_000_000_u64}}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        json!({"message": "Additional attributes n value should be < 9999999999, Custom attributes bio length should be < 1500",
               "attributes": ["additional_attributes", "custom_attributes"]})
    );
    let conv = chatwoot.conversation(inbox, contact).await;
    let r = chatwoot
        .post(
            &format!("/conversations/{conv}/custom_attributes"),
            json!({"custom_attributes": {"bio": long}}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["attributes"], json!(["custom_attributes"]));
}

#[tokio::test]
async fn toggle_status_reads_snoozed_until_as_epoch_seconds_only() {
    // conversations_controller.rb set_conversation_status → DateTime.strptime(x, '%s').
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    let path = format!("/conversations/{conv}/toggle_status");
    let r = chatwoot
        .post(
            &path,
            json!({"status": "snoozed", "snoozed_until": 1_767_225_600}),
        )
        .await;
    assert_eq!(r.status, 200);
    // toggle_status.json.jbuilder and the conversation partial render the datetime itself.
    assert_eq!(
        r.body["payload"]["snoozed_until"],
        "2026-01-01T00:00:00.000Z"
    );
    let shown = chatwoot.get(&format!("/conversations/{conv}")).await;
    assert_eq!(shown.body["snoozed_until"], "2026-01-01T00:00:00.000Z");
    let r = chatwoot
        .post(
            &path,
            json!({"status": "snoozed", "snoozed_until": "1767312000"}),
        )
        .await;
    assert_eq!(
        r.body["payload"]["snoozed_until"],
        "2026-01-02T00:00:00.000Z"
    );
    // An ISO string is read up to its first non-digit: 2026 seconds after the epoch.
    let r = chatwoot
        .post(
            &path,
            json!({"status": "snoozed", "snoozed_until": "2026-01-05T10:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["payload"]["snoozed_until"],
        "1970-01-01T00:33:46.000Z"
    );
    // No digits at all: Date::Error, unrescued, even when the status is not snoozed.
    let r = chatwoot
        .post(
            &path,
            json!({"status": "open", "snoozed_until": "tomorrow"}),
        )
        .await;
    assert_eq!(r.status, 500);
    // Without a status, Conversation#toggle_status runs and snoozed_until is not read.
    let r = chatwoot
        .post(&path, json!({"snoozed_until": "tomorrow"}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["payload"]["current_status"], "open");
    assert!(r.body["payload"]["snoozed_until"].is_null());
}

#[tokio::test]
async fn assignee_and_team_on_create_write_activity_messages() {
    // assignment_handler.rb runs after_commit on create too.
    let chatwoot = Chatwoot::start().await;
    let inbox = chatwoot.api_inbox("Import", false).await;
    let a = chatwoot.agent("a@example.com", "Agent A").await;
    chatwoot.add_members(inbox, &[a]).await;
    let contact = chatwoot.contact(json!({"email": "c@example.com"})).await;
    let r = chatwoot
        .post(
            "/conversations",
            json!({"inbox_id": inbox, "contact_id": contact, "assignee_id": a}),
        )
        .await;
    let conv = r.body["id"].as_u64().unwrap();
    assert_eq!(
        chatwoot.activities(conv),
        ["Assigned to Agent A by Sandbox Admin"]
    );
    // A team without auto-assign: the team activity.
    let team = chatwoot
        .post(
            "/teams",
            json!({"name": "Support", "allow_auto_assign": false}),
        )
        .await;
    let team = team.body["id"].as_u64().unwrap();
    chatwoot
        .post(
            &format!("/teams/{team}/team_members"),
            json!({"user_ids": [a]}),
        )
        .await;
    let r = chatwoot
        .post(
            "/conversations",
            json!({"inbox_id": inbox, "contact_id": contact, "team_id": team}),
        )
        .await;
    let conv = r.body["id"].as_u64().unwrap();
    assert_eq!(
        chatwoot.activities(conv),
        ["Assigned to support by Sandbox Admin"]
    );
    // A team that auto-assigns picks its online inbox member: "via" the team.
    let auto = chatwoot.post("/teams", json!({"name": "Auto"})).await;
    let auto = auto.body["id"].as_u64().unwrap();
    chatwoot
        .post(
            &format!("/teams/{auto}/team_members"),
            json!({"user_ids": [a]}),
        )
        .await;
    let r = chatwoot
        .post(
            "/conversations",
            json!({"inbox_id": inbox, "contact_id": contact, "team_id": auto}),
        )
        .await;
    assert_eq!(r.body["meta"]["assignee"]["id"], a);
    let conv = r.body["id"].as_u64().unwrap();
    assert_eq!(
        chatwoot.activities(conv),
        ["Assigned to Agent A via auto by Sandbox Admin"]
    );
}

#[tokio::test]
async fn an_assignee_outside_the_inbox_is_replaced_by_auto_assignment() {
    // auto_assignment_handler.rb should_run_auto_assignment?: blank or not an inbox member.
    let chatwoot = Chatwoot::start().await;
    let inbox = chatwoot.api_inbox("Default", true).await;
    let outsider = chatwoot.agent("out@example.com", "Outsider").await;
    let member = chatwoot.agent("in@example.com", "Member").await;
    chatwoot.add_members(inbox, &[member]).await;
    let contact = chatwoot.contact(json!({"email": "c@example.com"})).await;
    let r = chatwoot
        .post(
            "/conversations",
            json!({"inbox_id": inbox, "contact_id": contact, "assignee_id": outsider}),
        )
        .await;
    assert_eq!(r.body["meta"]["assignee"]["id"], member);
    let conv = r.body["id"].as_u64().unwrap();
    assert_eq!(
        chatwoot.activities(conv),
        ["Assigned to Member by Sandbox Admin"]
    );
}

#[tokio::test]
async fn an_agent_who_reopens_takes_the_conversation() {
    // conversations_controller.rb toggle_status: should_assign_conversation? → assign_conversation.
    let chatwoot = Chatwoot::start().await;
    let (inbox, _, conv) = chatwoot.thread().await;
    let other = chatwoot.agent("b@example.com", "Agent B").await;
    let (ann, token) = chatwoot.agent_with_token("ann@example.com", "Ann").await;
    chatwoot.add_members(inbox, &[other, ann]).await;
    chatwoot
        .post(
            &format!("/conversations/{conv}/assignments"),
            json!({"assignee_id": other}),
        )
        .await;
    chatwoot
        .post(
            &format!("/conversations/{conv}/toggle_status"),
            json!({"status": "resolved"}),
        )
        .await;
    let url = chatwoot.url(&format!("/conversations/{conv}/toggle_status"));
    let r = chatwoot
        .call_as(&token, Method::POST, &url, Some(json!({"status": "open"})))
        .await;
    assert_eq!(r.body["payload"]["current_status"], "open");
    let shown = chatwoot.get(&format!("/conversations/{conv}")).await;
    assert_eq!(shown.body["meta"]["assignee"]["id"], ann);
    assert_eq!(
        chatwoot.activities(conv).last().unwrap(),
        "Ann self-assigned this conversation"
    );
    // An administrator reopening does not take it.
    chatwoot
        .post(
            &format!("/conversations/{conv}/toggle_status"),
            json!({"status": "resolved"}),
        )
        .await;
    chatwoot
        .post(
            &format!("/conversations/{conv}/toggle_status"),
            json!({"status": "open"}),
        )
        .await;
    let shown = chatwoot.get(&format!("/conversations/{conv}")).await;
    assert_eq!(shown.body["meta"]["assignee"]["id"], ann);
}

#[tokio::test]
async fn external_created_at_is_lost_when_content_attributes_are_sent() {
    // message_builder.rb message_params: the content_attributes hash is assigned last.
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    let r = chatwoot
        .message(
            conv,
            json!({"content": "a", "external_created_at": 1_500_000_000,
                   "content_attributes": {"original_author": "Ann"}}),
        )
        .await;
    assert_eq!(
        r.body["content_attributes"],
        json!({"original_author": "Ann"})
    );
    let r = chatwoot
        .message(
            conv,
            json!({"content": "b", "external_created_at": 1_500_000_000, "content_attributes": {}}),
        )
        .await;
    assert_eq!(
        r.body["content_attributes"],
        json!({"external_created_at": 1_500_000_000})
    );
    let stored = chatwoot.stored_messages(conv);
    assert_eq!(
        stored[0]["content_attributes"],
        json!({"original_author": "Ann"})
    );
}

#[tokio::test]
async fn labels_split_on_commas_and_match_ignoring_case() {
    // acts-as-taggable-on DefaultParser + TagList#clean!; `permit(labels: [])`.
    let chatwoot = Chatwoot::start().await;
    let (_, contact, conv) = chatwoot.thread().await;
    let path = format!("/conversations/{conv}/labels");
    let r = chatwoot
        .post(&path, json!({"labels": ["billing,VIP", "vip", " Refund "]}))
        .await;
    assert_eq!(r.body, json!({"payload": ["billing", "VIP", "Refund"]}));
    assert_eq!(
        chatwoot.get(&path).await.body,
        json!({"payload": ["billing", "VIP", "Refund"]})
    );
    let listed = chatwoot.get("/conversations?labels=vip").await;
    assert_eq!(listed.body["data"]["payload"][0]["id"], conv);
    // A string instead of an array is not permitted: the list is cleared.
    let r = chatwoot.post(&path, json!({"labels": "a,b"})).await;
    assert_eq!(r.body, json!({"payload": []}));
    // Tags are installation-wide: a contact's "vip" is the existing tag "VIP" once read back
    // (contacts have no cached label list), though the answer echoes what was sent.
    let contact_path = format!("/contacts/{contact}/labels");
    let r = chatwoot
        .post(&contact_path, json!({"labels": ["vip", "new-one"]}))
        .await;
    assert_eq!(r.body, json!({"payload": ["vip", "new-one"]}));
    assert_eq!(
        chatwoot.get(&contact_path).await.body,
        json!({"payload": ["VIP", "new-one"]})
    );
    let listed = chatwoot.get("/contacts?labels=NEW-ONE").await;
    assert_eq!(listed.body["payload"][0]["id"], contact);
}

#[tokio::test]
async fn liquid_lax_mode_passes_unknown_filters_and_renders_empty_outputs() {
    // liquidable.rb with Liquid 5.4 defaults: lax parsing, no strict filters.
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    let r = chatwoot
        .message(
            conv,
            json!({"content": "Hi {{ contact.name | shout }}{{ }}, {{ 'x' | nope: 1 | upcase }}!"}),
        )
        .await;
    assert_eq!(r.body["content"], "Hi Jane Roe, X!");
}

#[tokio::test]
async fn message_type_accepts_only_the_enum_names() {
    // message.rb `enum message_type`: a string must be a name ("1" is ArgumentError → 422).
    let chatwoot = Chatwoot::start().await;
    let (_, _, conv) = chatwoot.thread().await;
    for bad in ["2", "Incoming", "note"] {
        let r = chatwoot
            .message(conv, json!({"content": "x", "message_type": bad}))
            .await;
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(
            r.body,
            json!({"error": format!("'{bad}' is not a valid message_type")})
        );
    }
    let form = reqwest::multipart::Form::new()
        .text("content", "x")
        .text("message_type", "0");
    let r = chatwoot
        .multipart(&format!("/conversations/{conv}/messages"), form)
        .await;
    assert_eq!(r.status, 422);
    let r = chatwoot
        .message(conv, json!({"content": "x", "message_type": "incoming"}))
        .await;
    assert_eq!(r.body["message_type"], 0);
}
