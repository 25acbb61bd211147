//! Contact writes follow Intercom's rules: one identity field required, no `created_at`, 409 on
//! duplicates naming the existing contact, search lag, merge, notes, defined attributes only.

use std::time::Duration;

use crate::common::{Client, WRITE_CLOCK, admin_id, error_code, start, write_args};
use deskmove_intercom_sandbox::{SEARCH_LAG_SECS, Sandbox};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn create_needs_email_external_id_or_role_and_a_known_role() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    for body in [json!({}), json!({"name": "Only A Name", "phone": "+1 555"})] {
        let (status, out) = c.post("/contacts", body).await;
        assert_eq!(status, 400, "{out}");
        assert_eq!(error_code(&out), "parameter_not_found");
    }
    let (status, out) = c.post("/contacts", json!({"role": "visitor"})).await;
    assert_eq!(
        (status, error_code(&out).as_str()),
        (400, "parameter_invalid")
    );
    let (status, out) = c.post("/contacts", json!({"email": "not-an-email"})).await;
    assert_eq!(status, 400, "{out}");
    for body in [
        json!({"role": "lead"}),
        json!({"external_id": "ext-1"}),
        json!({"email": "ana@example.org"}),
    ] {
        let out = c.created("/contacts", body.clone()).await;
        assert_eq!(out["type"], "contact");
        assert_eq!(out["id"].as_str().unwrap().len(), 24, "{out}");
    }
    // Without a role, a contact is a user.
    let out = c
        .created("/contacts", json!({"email": "bo@example.org"}))
        .await;
    assert_eq!(out["role"], "user");
    sb.shutdown().await;
}

#[tokio::test]
async fn created_at_is_the_write_time_only_signed_up_and_last_seen_carry_history() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let out = c
        .created(
            "/contacts",
            json!({"email": "old@example.org", "created_at": 1_000_000_000,
                   "signed_up_at": 1_100_000_000, "last_seen_at": 1_200_000_000}),
        )
        .await;
    assert_eq!(out["created_at"], WRITE_CLOCK, "{out}");
    assert_eq!(out["signed_up_at"], 1_100_000_000);
    assert_eq!(out["last_seen_at"], 1_200_000_000);
    // Timestamps are integers: a float is refused, not rounded.
    let (status, _) = c
        .post(
            "/contacts",
            json!({"email": "f@example.org", "signed_up_at": 1.5}),
        )
        .await;
    assert_eq!(status, 400);
    let dump = c.dump().await;
    assert_eq!(dump["contacts"][0]["created_at"], WRITE_CLOCK);
    sb.shutdown().await;
}

#[tokio::test]
async fn duplicates_answer_409_with_the_existing_id() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let first = c
        .created(
            "/contacts",
            json!({"email": "Dup@Example.org", "external_id": "x-1"}),
        )
        .await;
    let id = first["id"].as_str().unwrap();
    for body in [
        json!({"external_id": "x-1"}),
        json!({"email": "dup@example.org"}),
        json!({"email": "dup@example.org", "role": "user"}),
    ] {
        let (status, out) = c.post("/contacts", body).await;
        assert_eq!(status, 409, "{out}");
        assert_eq!(error_code(&out), "conflict");
        let message = out["errors"][0]["message"].as_str().unwrap();
        assert_eq!(
            message,
            format!("A contact matching those details already exists with id={id}")
        );
    }
    // Leads may share a user's email.
    c.created(
        "/contacts",
        json!({"email": "dup@example.org", "role": "lead"}),
    )
    .await;
    // The world's contacts count too.
    let v = sb.world().view();
    let user = (0..30)
        .filter_map(|j| v.contact(j))
        .find(|c| c.external_id.is_some())
        .unwrap();
    let (status, out) = c
        .post("/contacts", json!({"external_id": user.external_id}))
        .await;
    assert_eq!(status, 409);
    assert!(
        out["errors"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with(&user.id)
    );
    // An update into another contact's identity is a conflict as well.
    let other = c.created("/contacts", json!({"external_id": "x-2"})).await;
    let (status, _) = c
        .send(
            Method::PUT,
            &format!("/contacts/{}", other["id"].as_str().unwrap()),
            None,
            Some(json!({"external_id": "x-1"})),
        )
        .await;
    assert_eq!(status, 409);
    sb.shutdown().await;
}

#[tokio::test]
async fn new_contacts_are_retrievable_at_once_but_searchable_only_after_the_lag() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let out = c
        .created(
            "/contacts",
            json!({"email": "new@example.org", "external_id": "lag-1"}),
        )
        .await;
    let id = out["id"].as_str().unwrap().to_string();
    let got = c.ok(&format!("/contacts/{id}")).await;
    assert_eq!(got["email"], "new@example.org");
    let found = c.ok("/contacts/find_by_external_id/lag-1").await;
    assert_eq!(found["id"], id);
    let query = json!({"query": {"field": "email", "operator": "=", "value": "new@example.org"}});
    let (status, hits) = c.post("/contacts/search", query.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(hits["total_count"], 0, "not searchable yet: {hits}");
    sb.advance_clock(Duration::from_secs(SEARCH_LAG_SECS as u64 - 1));
    let (_, hits) = c.post("/contacts/search", query.clone()).await;
    assert_eq!(hits["total_count"], 0);
    // Out of process, the same clock moves with /__sandbox/advance?secs=N.
    let r = c
        .http
        .post(c.url("/__sandbox/advance?secs=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, hits) = c.post("/contacts/search", query).await;
    assert_eq!(hits["total_count"], 1, "{hits}");
    assert_eq!(hits["data"][0]["id"], id);
    sb.shutdown().await;
}

#[tokio::test]
async fn update_follows_the_versions_owner_id_type() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let admin = admin_id(&sb);
    let id = c
        .created("/contacts", json!({"email": "own@example.org"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/contacts/{id}");
    let n: i64 = admin.parse().unwrap();
    // 2.16: a string; an integer is a type error.
    let (status, _) = c
        .send(
            Method::PUT,
            &path,
            Some("2.16"),
            Some(json!({"owner_id": n})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, out) = c
        .send(
            Method::PUT,
            &path,
            Some("2.16"),
            Some(json!({"owner_id": admin, "name": "Own"})),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["owner_id"], admin.as_str());
    assert_eq!(out["name"], "Own");
    assert_eq!(out["created_at"], WRITE_CLOCK);
    // 2.14: an integer; a string is a type error.
    let (status, _) = c
        .send(
            Method::PUT,
            &path,
            Some("2.14"),
            Some(json!({"owner_id": admin})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = c
        .send(
            Method::PUT,
            &path,
            Some("2.14"),
            Some(json!({"owner_id": n})),
        )
        .await;
    assert_eq!(status, 200);
    // A version Intercom does not have is refused.
    let (status, out) = c
        .send(Method::PUT, &path, Some("3.1"), Some(json!({"name": "x"})))
        .await;
    assert_eq!(
        (status, error_code(&out).as_str()),
        (400, "intercom_version_invalid")
    );
    // A world contact can be updated too; reads then show the update.
    let world = sb.world().view().contact(0).unwrap();
    let (status, _) = c
        .send(
            Method::PUT,
            &format!("/contacts/{}", world.id),
            None,
            Some(json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        c.ok(&format!("/contacts/{}", world.id)).await["name"],
        "Renamed"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn merge_takes_a_duplicate_lead_into_a_user_and_the_lead_is_gone() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let user = c
        .created("/contacts", json!({"email": "m@example.org"}))
        .await;
    let lead = c
        .created(
            "/contacts",
            json!({"email": "m@example.org", "role": "lead"}),
        )
        .await;
    let stranger = c
        .created(
            "/contacts",
            json!({"email": "s@example.org", "role": "lead"}),
        )
        .await;
    let (uid, lid, sid) = (
        user["id"].as_str().unwrap(),
        lead["id"].as_str().unwrap(),
        stranger["id"].as_str().unwrap(),
    );
    // Not duplicates: refused, and 2.14 has no skip_duplicate_validation.
    let body = json!({"from": sid, "into": uid, "skip_duplicate_validation": true});
    let (status, out) = c.post_v("2.14", "/contacts/merge", body.clone()).await;
    assert_eq!((status, error_code(&out).as_str()), (400, "invalid_merge"));
    let (status, _) = c.post_v("2.16", "/contacts/merge", body).await;
    assert_eq!(status, 200);
    // A user cannot be merged away.
    let (status, _) = c
        .post("/contacts/merge", json!({"from": uid, "into": lid}))
        .await;
    assert_eq!(status, 400);
    let (status, out) = c
        .post("/contacts/merge", json!({"from": lid, "into": uid}))
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["id"], uid);
    let (status, out) = c
        .send(Method::GET, &format!("/contacts/{lid}"), Some("2.16"), None)
        .await;
    assert_eq!((status, error_code(&out).as_str()), (410, "contact_merged"));
    let (status, _) = c
        .send(Method::GET, &format!("/contacts/{lid}"), Some("2.14"), None)
        .await;
    assert_eq!(status, 404);
    sb.shutdown().await;
}

#[tokio::test]
async fn custom_attributes_must_be_defined_first() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let body = json!({"email": "ca@example.org", "custom_attributes": {"plan_tier": "gold"}});
    let (status, out) = c.post("/contacts", body.clone()).await;
    assert_eq!(status, 400, "{out}");
    assert!(
        out["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("plan_tier")
    );
    c.created(
        "/data_attributes",
        json!({"name": "plan_tier", "model": "contact", "data_type": "string"}),
    )
    .await;
    let out = c.created("/contacts", body).await;
    assert_eq!(out["custom_attributes"]["plan_tier"], "gold");
    sb.shutdown().await;
}

#[tokio::test]
async fn notes_need_a_body_take_no_created_at_and_a_real_admin() {
    let sb = start(write_args()).await;
    let c = Client::new(&sb);
    let admin = admin_id(&sb);
    let id = c
        .created("/contacts", json!({"email": "n@example.org"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/contacts/{id}/notes");
    let (status, _) = c.post(&path, json!({"admin_id": admin})).await;
    assert_eq!(status, 400);
    let (status, out) = c.post(&path, json!({"admin_id": "123", "body": "x"})).await;
    assert_eq!(
        (status, out["errors"][0]["message"].as_str()),
        (404, Some("Resource Not Found"))
    );
    let (status, out) = c
        .post(
            "/contacts/ffffffffffffffffffffffff/notes",
            json!({"body": "x"}),
        )
        .await;
    assert_eq!(
        (status, out["errors"][0]["message"].as_str()),
        (404, Some("User Not Found"))
    );
    let note = c
        .created(
            &path,
            json!({"admin_id": admin, "body": "Called back", "created_at": 1_000}),
        )
        .await;
    assert_eq!(note["created_at"], WRITE_CLOCK);
    assert_eq!(note["author"]["id"], admin.as_str());
    let contact = c.ok(&format!("/contacts/{id}")).await;
    assert_eq!(contact["notes"]["total_count"], 1);
    sb.shutdown().await;
}
