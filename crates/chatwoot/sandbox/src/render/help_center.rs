//! Help-center views: portals with their per-locale counts, categories, articles
//! (`../shared/research/chatwoot.md §2.11`).

use serde_json::{Value, json};

use crate::state::{Article, Category, Database, Portal};

/// Portal view.
pub fn portal(p: &Portal, s: &Database) -> Value {
    let articles = s.articles.values().filter(|a| a.portal_id == p.id).count();
    let categories = s
        .categories
        .values()
        .filter(|c| c.portal_id == p.id)
        .count();
    // `_portal_config` partial: one object per allowed locale with its counts.
    let locales: Vec<Value> = p
        .config
        .get("allowed_locales")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(|code| {
                    json!({"code": code,
                           "articles_count": s.articles.values().filter(|a| a.portal_id == p.id && a.locale == code).count(),
                           "categories_count": s.categories.values().filter(|c| c.portal_id == p.id && c.locale == code).count()})
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": p.id, "account_id": p.account_id, "name": p.name, "slug": p.slug,
        "custom_domain": p.custom_domain, "color": p.color, "header_text": p.header_text,
        "homepage_link": p.homepage_link, "page_title": p.page_title, "archived": p.archived,
        "config": {"allowed_locales": locales},
        "meta": {"all_articles_count": articles, "categories_count": categories,
                 "default_locale": p.config.get("default_locale").cloned().unwrap_or(json!("en"))},
    })
}

/// Category view.
pub fn category(c: &Category) -> Value {
    json!({"id": c.id, "account_id": c.account_id, "portal_id": c.portal_id, "name": c.name,
           "description": c.description, "position": c.position, "slug": c.slug, "locale": c.locale,
           "icon": c.icon, "parent_category_id": c.parent_category_id,
           "associated_category_id": c.associated_category_id})
}

/// Article view.
pub fn article(a: &Article) -> Value {
    json!({"id": a.id, "account_id": a.account_id, "portal_id": a.portal_id, "category_id": a.category_id,
           "title": a.title, "description": a.description, "content": a.content, "status": a.status,
           "slug": a.slug, "position": a.position, "locale": a.locale, "author_id": a.author_id,
           "associated_article_id": a.associated_article_id, "meta": a.meta, "views": a.views})
}
