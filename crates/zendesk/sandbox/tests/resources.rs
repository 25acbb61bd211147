//! The rest of the account: ticket fields of every custom type and their values on tickets,
//! forms, user and organization fields, identities, memberships, macros with Zendesk
//! placeholders, satisfaction ratings, brands, tags and the Help Center.

use std::collections::BTreeSet;

use crate::common::{Client, args, start};
use deskmove_zendesk_sandbox::Sandbox;

#[tokio::test]
async fn ticket_fields_cover_every_custom_type_and_tickets_carry_values() {
    let sb = start(args(60, 30)).await;
    let c = Client::new(&sb);
    let fields = c.ok("/api/v2/ticket_fields.json").await["ticket_fields"]
        .as_array()
        .unwrap()
        .clone();
    let types: BTreeSet<&str> = fields.iter().map(|f| f["type"].as_str().unwrap()).collect();
    for t in [
        "text",
        "textarea",
        "checkbox",
        "date",
        "integer",
        "decimal",
        "regexp",
        "multiselect",
        "tagger",
        "lookup",
        "subject",
        "status",
    ] {
        assert!(types.contains(t), "{t} missing: {types:?}");
    }
    let tagger = fields.iter().find(|f| f["type"] == "tagger").unwrap();
    assert!(
        !tagger["custom_field_options"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let one = c
        .ok(&format!("/api/v2/ticket_fields/{}", tagger["id"]))
        .await;
    assert_eq!(one["ticket_field"]["id"], tagger["id"]);
    let (all, _) = c
        .drain_cursor("/api/v2/incremental/tickets/cursor?start_time=0", "tickets")
        .await;
    let multiselect = fields.iter().find(|f| f["type"] == "multiselect").unwrap()["id"].clone();
    assert!(all.iter().any(|t| {
        t["custom_fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["id"] == multiselect && v["value"].is_array())
    }));
    assert!(all.iter().all(|t| t["custom_fields"] == t["fields"]));
    let statuses: BTreeSet<&str> = all.iter().map(|t| t["status"].as_str().unwrap()).collect();
    for s in ["open", "closed", "deleted"] {
        assert!(statuses.contains(s), "{statuses:?}");
    }
    let forms = c.ok("/api/v2/ticket_forms").await;
    assert_eq!(forms["ticket_forms"].as_array().unwrap().len(), 2);
    let uf = c.ok("/api/v2/user_fields").await["user_fields"]
        .as_array()
        .unwrap()
        .clone();
    assert!(uf.iter().any(|f| f["type"] == "dropdown") && uf.iter().any(|f| f["active"] == false));
    let of = c.ok("/api/v2/organization_fields").await;
    assert!(!of["organization_fields"].as_array().unwrap().is_empty());
    sb.shutdown().await;
}

#[tokio::test]
async fn directory_macros_ratings_brands_and_tags() {
    let sb = start(args(200, 60)).await;
    let c = Client::new(&sb);
    let exp = c.expected().await;
    let ids = c.ok("/api/v2/users/10000000001/identities.json").await;
    assert_eq!(ids["identities"][0]["type"], "email");
    let orgs = c
        .drain_cbp("/api/v2/organizations?page[size]=5", "organizations")
        .await;
    assert_eq!(orgs.len() as u64, exp["organizations"].as_u64().unwrap());
    let om = c
        .drain_cbp(
            "/api/v2/organization_memberships?page[size]=100",
            "organization_memberships",
        )
        .await;
    assert_eq!(
        om.len() as u64,
        exp["organization_memberships"].as_u64().unwrap()
    );
    let gm = c.ok("/api/v2/group_memberships").await;
    assert_eq!(gm["count"], exp["group_memberships"]);
    let macros = c.ok("/api/v2/macros").await["macros"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(macros.len() as u64, exp["macros"].as_u64().unwrap());
    let text = serde_json::to_string(&macros).unwrap();
    assert!(text.contains("{{ticket.requester.") && !text.contains("{{user."));
    assert!(macros.iter().any(|m| m["restriction"]["type"] == "Group"));
    let ratings = c
        .drain_cbp(
            "/api/v2/satisfaction_ratings?page[size]=100",
            "satisfaction_ratings",
        )
        .await;
    assert_eq!(
        ratings.len() as u64,
        exp["satisfaction_ratings"].as_u64().unwrap()
    );
    assert!(!ratings.is_empty() && ratings.iter().any(|r| r["score"] == "bad"));
    let brands = c.ok("/api/v2/brands").await;
    assert_eq!(
        brands["brands"].as_array().unwrap().len() as u64,
        exp["brands"].as_u64().unwrap()
    );
    let tags = c.ok("/api/v2/tags").await;
    assert!(tags["tags"][0]["count"].as_u64().unwrap() > 0);
    assert!(
        tags["tags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| !t["name"].as_str().unwrap().contains(' '))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn help_center_categories_sections_articles_translations_and_attachments() {
    let sb = start(args(20, 10)).await;
    let c = Client::new(&sb);
    let exp = c.expected().await;
    let cats = c.ok("/api/v2/help_center/categories.json").await;
    assert_eq!(
        cats["categories"].as_array().unwrap().len() as u64,
        exp["hc_categories"].as_u64().unwrap()
    );
    let sections = c
        .drain_cbp(
            "/api/v2/help_center/sections.json?page[size]=100",
            "sections",
        )
        .await;
    assert_eq!(sections.len() as u64, exp["hc_sections"].as_u64().unwrap());
    assert!(
        sections.iter().any(|s| s["parent_section_id"].is_u64()),
        "a nested section"
    );
    let section_ids: BTreeSet<u64> = sections.iter().map(|s| s["id"].as_u64().unwrap()).collect();
    let articles = c
        .drain_cbp(
            "/api/v2/help_center/articles.json?page[size]=30",
            "articles",
        )
        .await;
    assert_eq!(articles.len() as u64, exp["articles"].as_u64().unwrap());
    assert!(
        articles
            .iter()
            .all(|a| section_ids.contains(&a["section_id"].as_u64().unwrap()))
    );
    assert!(articles.iter().any(|a| a["draft"] == true));
    let mut translations = 0;
    let mut attachments = 0;
    for a in &articles {
        let id = a["id"].as_u64().unwrap();
        translations += c
            .ok(&format!(
                "/api/v2/help_center/articles/{id}/translations.json"
            ))
            .await["translations"]
            .as_array()
            .unwrap()
            .len() as u64;
        attachments += c
            .ok(&format!(
                "/api/v2/help_center/articles/{id}/attachments.json"
            ))
            .await["article_attachments"]
            .as_array()
            .unwrap()
            .len() as u64;
    }
    assert_eq!(translations, exp["article_translations"].as_u64().unwrap());
    assert!(
        translations > articles.len() as u64,
        "some articles are also in French"
    );
    assert_eq!(attachments, exp["article_attachments"].as_u64().unwrap());
    let fr = c.ok("/api/v2/help_center/fr/articles.json").await;
    assert!(
        fr["articles"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("[FR]")
    );
    let one = c
        .ok(&format!(
            "/api/v2/help_center/articles/{}.json",
            articles[0]["id"]
        ))
        .await;
    assert!(
        !one["article"]["body"]
            .as_str()
            .unwrap()
            .contains("deskmove-attachment://")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn repeated_role_filters_list_every_role_named() {
    let sb = start(args(5, 12)).await;
    let c = Client::new(&sb);
    let count = |v: serde_json::Value| v["count"].as_u64().unwrap();
    let agents = count(c.ok("/api/v2/users.json?role=agent").await);
    let admins = count(c.ok("/api/v2/users.json?role=admin").await);
    let both = count(
        c.ok("/api/v2/users.json?role%5B%5D=agent&role%5B%5D=admin")
            .await,
    );
    assert!(agents > 0 && admins > 0);
    assert_eq!(both, agents + admins, "both roles, not only the last one");
}
