//! Every route the Intercom sandbox serves, validated against the Intercom 2.16 OpenAPI
//! schemas — successes and errors (401, 404, 410, 429, 400, 422) alike.
//!
//! Needs the specs folder, so it is ignored by default:
//! `DESKMOVE_SPECS_DIR=../shared/specs cargo test -p deskmove-intercom-sandbox -- --ignored`
//! (CI runs it).

use crate::common::{Client, args, start};
use deskmove_intercom_sandbox::{Sandbox, SandboxArgs};
use deskmove_sandbox::openapi::{Spec, SpecError, required_specs_dir};
use serde_json::{Value, json};

/// Validates against the documented response, or — where the spec documents no JSON schema for
/// that status (e.g. 429 on most routes, 200 of `GET /contacts/{contact_id}`) — the named
/// component.
fn check(
    spec: &Spec,
    method: &str,
    template: &str,
    status: u16,
    body: &Value,
    fallback: &str,
    failures: &mut Vec<String>,
) {
    let result = match spec.validate_response(method, template, status, body) {
        Err(SpecError::Undocumented { .. }) => spec.validate_component(fallback, body),
        other => other,
    };
    if let Err(e) = result {
        failures.push(format!("{method} {template} {status}: {e}"));
    }
}

struct Call {
    method: &'static str,
    template: &'static str,
    path: String,
    body: Option<Value>,
    status: u16,
    fallback: &'static str,
}

fn call(
    method: &'static str,
    template: &'static str,
    path: impl Into<String>,
    status: u16,
    fallback: &'static str,
) -> Call {
    Call {
        method,
        template,
        path: path.into(),
        // Searches need a query (2.16 `search_request`); this one matches everything.
        body: (method == "POST").then(|| {
            if template.ends_with("/search") {
                json!({"query": {"field": "created_at", "operator": ">", "value": 0}})
            } else {
                json!({})
            }
        }),
        status,
        fallback,
    }
}

#[tokio::test]
#[ignore = "needs the vendor specs: DESKMOVE_SPECS_DIR=../shared/specs cargo test -- --ignored (CI runs it)"]
async fn every_route_matches_the_2_16_spec() {
    let dir = required_specs_dir().unwrap();
    let spec = Spec::load(&dir.join("intercom/api.intercom.io.2.16.yaml")).unwrap();
    let sb = start(args(1_100, 400)).await;
    sb.world().advance(2);
    let c = Client::new(&sb);
    let v = sb.world().view();
    let contact = v.contact(1).unwrap();
    let noted = (0..400)
        .filter_map(|j| v.contact(j))
        .find(|c| c.notes > 0)
        .unwrap();
    let company = v.company(0).unwrap();
    let giant = (0..1_100)
        .find(|i| v.conversation_shape(*i).unwrap().parts > 500)
        .unwrap();

    let long = v.contact(v.long_list_contact(0).unwrap()).unwrap();
    let user = (0..400)
        .filter_map(|j| v.contact(j))
        .find(|c| c.external_id.is_some())
        .unwrap();
    let segment = c.ok("/segments").await["segments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let merged = sb.merged_contacts()[0].id.clone();
    let merged_into = sb.merged_contacts()[0].canonical_id.clone();

    let mut calls = vec![
        call("GET", "/me", "/me", 200, "admin_with_app"),
        call(
            "GET",
            "/admins/activity_logs",
            "/admins/activity_logs?created_at_after=0",
            200,
            "activity_log_list",
        ),
        call(
            "GET",
            "/admins/activity_logs",
            "/admins/activity_logs",
            400,
            "error",
        ),
        call(
            "GET",
            "/segments",
            "/segments?include_count=true",
            200,
            "segment_list",
        ),
        call(
            "GET",
            "/segments/{segment_id}",
            format!("/segments/{segment}"),
            200,
            "segment",
        ),
        call(
            "GET",
            "/contacts/find_by_external_id/{external_id}",
            format!(
                "/contacts/find_by_external_id/{}",
                user.external_id.as_deref().unwrap()
            ),
            200,
            "contact",
        ),
        call(
            "GET",
            "/contacts/{contact_id}",
            format!("/contacts/{merged}"),
            410,
            "error",
        ),
        call(
            "GET",
            "/contacts/{contact_id}",
            format!("/contacts/{merged_into}?include_merge_history=true"),
            200,
            "contact",
        ),
        call(
            "GET",
            "/contacts/{id}/merge_history",
            format!("/contacts/{merged_into}/merge_history"),
            200,
            "merge_history_list",
        ),
        call(
            "GET",
            "/contacts/{contact_id}",
            format!("/contacts/{}", long.id),
            200,
            "contact",
        ),
        call(
            "GET",
            "/contacts/{contact_id}/tags",
            format!("/contacts/{}/tags", long.id),
            200,
            "tag_list",
        ),
        call(
            "GET",
            "/contacts/{contact_id}/companies",
            format!("/contacts/{}/companies?per_page=5", long.id),
            200,
            "contact_attached_companies",
        ),
        call(
            "GET",
            "/contacts/{contact_id}/notes",
            format!("/contacts/{}/notes?per_page=5&page=3", long.id),
            200,
            "note_list",
        ),
        call(
            "GET",
            "/companies/{company_id}/contacts",
            format!("/companies/{}/contacts", company.id),
            200,
            "company_attached_contacts",
        ),
        call(
            "GET",
            "/companies/{company_id}/segments",
            format!("/companies/{}/segments", company.id),
            200,
            "company_attached_segments",
        ),
        call(
            "GET",
            "/conversations/attributes",
            "/conversations/attributes?include_archived=true",
            200,
            "conversation_attribute_list",
        ),
        call(
            "GET",
            "/help_center/help_centers",
            "/help_center/help_centers",
            200,
            "help_center_list",
        ),
        call(
            "GET",
            "/help_center/help_centers/{help_center_id}",
            "/help_center/help_centers/1",
            200,
            "help_center",
        ),
        call(
            "GET",
            "/ticket_types",
            "/ticket_types",
            200,
            "ticket_type_list",
        ),
        call(
            "GET",
            "/ticket_states",
            "/ticket_states",
            200,
            "ticket_state_list",
        ),
        call("GET", "/admins", "/admins", 200, "admin_list"),
        call("GET", "/admins/{admin_id}", "/admins/900000", 200, "admin"),
        call("GET", "/teams", "/teams", 200, "team_list"),
        call("GET", "/teams/{team_id}", "/teams/5000", 200, "team"),
        call("GET", "/tags", "/tags", 200, "tag_list"),
        call("GET", "/tags/{tag_id}", "/tags/7006", 200, "tag"),
        call(
            "GET",
            "/data_attributes",
            "/data_attributes?include_archived=true",
            200,
            "data_attribute_list",
        ),
        call(
            "GET",
            "/data_attributes",
            "/data_attributes?model=conversation",
            422,
            "error",
        ),
        call(
            "GET",
            "/contacts",
            "/contacts?per_page=150",
            200,
            "contact_list",
        ),
        call(
            "POST",
            "/contacts/search",
            "/contacts/search",
            200,
            "contact_list",
        ),
        call(
            "GET",
            "/contacts/{contact_id}",
            format!("/contacts/{}", contact.id),
            200,
            "contact",
        ),
        call(
            "GET",
            "/contacts/{contact_id}/notes",
            format!("/contacts/{}/notes", noted.id),
            200,
            "note_list",
        ),
        call(
            "GET",
            "/contacts/{contact_id}/tags",
            format!("/contacts/{}/tags", contact.id),
            200,
            "tag_list",
        ),
        call(
            "GET",
            "/contacts/{contact_id}/companies",
            format!("/contacts/{}/companies", contact.id),
            200,
            "contact_attached_companies",
        ),
        call(
            "GET",
            "/notes/{note_id}",
            format!("/notes/{}", (noted.index + 1) * 8),
            200,
            "note",
        ),
        call(
            "GET",
            "/companies",
            "/companies?per_page=60",
            200,
            "company_list",
        ),
        call(
            "GET",
            "/companies",
            format!("/companies?company_id={}", company.company_id),
            200,
            "company_list",
        ),
        call(
            "POST",
            "/companies/list",
            "/companies/list?per_page=60",
            200,
            "company_list",
        ),
        call(
            "GET",
            "/companies/scroll",
            "/companies/scroll",
            200,
            "company_scroll",
        ),
        call(
            "GET",
            "/companies/scroll",
            "/companies/scroll",
            400,
            "error",
        ),
        call(
            "GET",
            "/companies/{company_id}",
            format!("/companies/{}", company.id),
            200,
            "company",
        ),
        call(
            "GET",
            "/conversations",
            "/conversations?per_page=150",
            200,
            "conversation_list",
        ),
        call(
            "POST",
            "/conversations/search",
            "/conversations/search",
            200,
            "conversation_list",
        ),
        call(
            "GET",
            "/conversations/{conversation_id}",
            format!("/conversations/{}", 100_000_000 + giant),
            200,
            "conversation",
        ),
        call(
            "GET",
            "/conversations/{conversation_id}",
            format!(
                "/conversations/{}?display_as=plaintext",
                100_000_000 + giant
            ),
            200,
            "conversation",
        ),
        call(
            "POST",
            "/tickets/search",
            "/tickets/search",
            200,
            "ticket_list",
        ),
        call(
            "GET",
            "/tickets/{ticket_id}",
            "/tickets/900000000",
            200,
            "ticket",
        ),
        call("GET", "/macros", "/macros?per_page=5", 200, "macro_list"),
        call("GET", "/macros/{id}", "/macros/300000", 200, "macro"),
        call(
            "GET",
            "/articles",
            "/articles?per_page=50",
            200,
            "article_list",
        ),
        call(
            "GET",
            "/articles/{article_id}",
            "/articles/400000",
            200,
            "article",
        ),
        call(
            "GET",
            "/help_center/collections",
            "/help_center/collections",
            200,
            "collection_list",
        ),
        call(
            "GET",
            "/help_center/collections/{collection_id}",
            "/help_center/collections/200004",
            200,
            "collection",
        ),
    ];
    // 404s on every retrieval.
    for (template, path) in [
        ("/admins/{admin_id}", "/admins/1"),
        ("/teams/{team_id}", "/teams/1"),
        ("/tags/{tag_id}", "/tags/1"),
        ("/contacts/{contact_id}", "/contacts/nope"),
        ("/contacts/{contact_id}/notes", "/contacts/nope/notes"),
        ("/notes/{note_id}", "/notes/1"),
        ("/companies/{company_id}", "/companies/nope"),
        (
            "/companies/{company_id}/contacts",
            "/companies/nope/contacts",
        ),
        (
            "/companies/{company_id}/segments",
            "/companies/nope/segments",
        ),
        ("/segments/{segment_id}", "/segments/nope"),
        (
            "/contacts/find_by_external_id/{external_id}",
            "/contacts/find_by_external_id/nobody",
        ),
        (
            "/help_center/help_centers/{help_center_id}",
            "/help_center/help_centers/2",
        ),
        ("/companies/scroll", "/companies/scroll?scroll_param=gone"),
        ("/conversations/{conversation_id}", "/conversations/1"),
        ("/tickets/{ticket_id}", "/tickets/1"),
        ("/macros/{id}", "/macros/1"),
        ("/articles/{article_id}", "/articles/1"),
        (
            "/help_center/collections/{collection_id}",
            "/help_center/collections/1",
        ),
    ] {
        calls.push(call("GET", template, path, 404, "error"));
    }
    let mut failures = Vec::new();
    let mut seen_routes = std::collections::BTreeSet::new();
    for k in &calls {
        let url = c.url(&k.path);
        let req = if k.method == "GET" {
            c.http.get(url)
        } else {
            c.http.post(url).json(k.body.as_ref().unwrap_or(&json!({})))
        };
        let r = req.bearer_auth(&c.token).send().await.unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, k.status, "{} {}: {body}", k.method, k.path);
        check(
            &spec,
            k.method,
            k.template,
            status,
            &body,
            k.fallback,
            &mut failures,
        );
        seen_routes.insert(format!("{} {}", k.method, k.template));
        // The spec names this one parameter `{id}`; the router, like its siblings, `{contact_id}`.
        seen_routes.insert(format!(
            "{} {}",
            k.method,
            k.template
                .replace("/contacts/{id}/", "/contacts/{contact_id}/")
        ));
        // The same route without credentials: 401 error.list.
        let url = c.url(&k.path);
        let req = if k.method == "GET" {
            c.http.get(url)
        } else {
            c.http.post(url).json(k.body.as_ref().unwrap_or(&json!({})))
        };
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        let body: Value = r.json().await.unwrap();
        check(
            &spec,
            k.method,
            k.template,
            401,
            &body,
            "error",
            &mut failures,
        );
    }
    // Every route the sandbox answered is in the walk.
    for route in sb
        .stats()
        .keys()
        .filter(|r| !r.contains("/__sandbox/") && !r.contains("<unmatched>"))
    {
        assert!(seen_routes.contains(route), "route {route} not walked");
    }
    // Every conversation of a world with every part kind and body oddity, plus every contact.
    for i in (0..v.conversation_count()).step_by(3) {
        let body = c.ok(&format!("/conversations/{}", 100_000_000 + i)).await;
        check(
            &spec,
            "GET",
            "/conversations/{conversation_id}",
            200,
            &body,
            "conversation",
            &mut failures,
        );
    }
    for j in 0..v.contact_count() {
        let body = c
            .ok(&format!("/contacts/{}", v.contact(j).unwrap().id))
            .await;
        check(
            &spec,
            "GET",
            "/contacts/{contact_id}",
            200,
            &body,
            "contact",
            &mut failures,
        );
    }
    sb.shutdown().await;

    // 429 with the documented body.
    let limited = start(SandboxArgs {
        rate_limit: 6,
        ..args(10, 10)
    })
    .await;
    let lc = Client::new(&limited);
    let _ = lc.get("/admins").await;
    let (status, body) = lc.get("/admins").await;
    assert_eq!(status, 429);
    check(&spec, "GET", "/admins", 429, &body, "error", &mut failures);
    limited.shutdown().await;

    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
