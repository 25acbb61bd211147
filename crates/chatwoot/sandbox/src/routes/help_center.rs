//! Help center: portals (addressed by slug), categories, articles
//! (`../shared/research/chatwoot.md §2.11`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::auth::Role;
use crate::error::{ApiError, ApiResult, Errors};
use crate::params::Params;
use crate::render;
use crate::state::{AccountScoped, AppState, Article, Category, Database, Portal};

fn portal_by_slug(s: &Database, account: u64, slug: &str) -> ApiResult<Portal> {
    s.portals
        .values()
        .find(|p| p.account_id == account && p.slug == slug)
        .cloned()
        .ok_or(ApiError::NotFound)
}

fn apply_portal(p: &mut Portal, params: &Params) {
    for (key, field) in [
        ("custom_domain", &mut p.custom_domain),
        ("color", &mut p.color),
        ("header_text", &mut p.header_text),
        ("homepage_link", &mut p.homepage_link),
        ("page_title", &mut p.page_title),
    ] {
        params.assign_opt(key, field);
    }
    params.assign_str("name", &mut p.name);
    params.assign_str("slug", &mut p.slug);
    params.assign_bool("archived", &mut p.archived);
    // Only allowed_locales, default_locale and website_token are kept.
    let config = params.object("config");
    for key in ["allowed_locales", "default_locale", "website_token"] {
        if let Some(v) = config.get(key) {
            p.config.insert(key.into(), v.clone());
        }
    }
}

fn validate_portal(s: &Database, p: &Portal) -> ApiResult<()> {
    let mut e = Errors::default();
    if p.name.is_empty() {
        e.add("name", "Name can't be blank");
    }
    if p.slug.is_empty() {
        e.add("slug", "Slug can't be blank");
    } else if s.portals.values().any(|o| o.id != p.id && o.slug == p.slug) {
        // Slug and custom_domain are unique installation-wide.
        e.add("slug", "Slug has already been taken");
    }
    if p.custom_domain.is_some()
        && s.portals
            .values()
            .any(|o| o.id != p.id && o.custom_domain == p.custom_domain)
    {
        e.add("custom_domain", "Custom domain has already been taken");
    }
    e.into_result()
}

pub async fn portals_index(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let list: Vec<Value> = s
        .in_account::<Portal>(account)
        .map(|p| render::portal(p, &s))
        .collect();
    Ok(Json(listing(list, "portals_count")))
}

pub async fn portals_create(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let params = Params::wrapped(&body, "portal")?;
    let mut p = Portal {
        id: 0,
        account_id: account,
        name: String::new(),
        slug: String::new(),
        custom_domain: None,
        color: None,
        header_text: None,
        homepage_link: None,
        page_title: None,
        archived: false,
        config: serde_json::Map::from_iter([("allowed_locales".to_owned(), json!(["en"]))]),
    };
    apply_portal(&mut p, &params);
    validate_portal(&s, &p)?;
    let p = s.save(p);
    Ok(Json(render::portal(&p, &s)))
}

pub async fn portals_show(
    State(app): State<Arc<AppState>>,
    Path((account, slug)): Path<(u64, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    Ok(Json(render::portal(
        &portal_by_slug(&s, account, &slug)?,
        &s,
    )))
}

pub async fn portals_update(
    State(app): State<Arc<AppState>>,
    Path((account, slug)): Path<(u64, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let mut p = portal_by_slug(&s, account, &slug)?;
    apply_portal(&mut p, &Params::wrapped(&body, "portal")?);
    validate_portal(&s, &p)?;
    let p = s.save(p);
    Ok(Json(render::portal(&p, &s)))
}

/// Categories and articles: rows of one portal, listed by its slug.
pub trait InPortal: AccountScoped {
    /// The `meta` key counting the rows (`categories_count`).
    const COUNT_KEY: &'static str;
    /// The owning portal.
    fn portal_id(&self) -> u64;
    /// The view.
    fn render(&self) -> Value;
}

impl InPortal for Category {
    const COUNT_KEY: &'static str = "categories_count";
    fn portal_id(&self) -> u64 {
        self.portal_id
    }
    fn render(&self) -> Value {
        render::category(self)
    }
}

impl InPortal for Article {
    const COUNT_KEY: &'static str = "articles_count";
    fn portal_id(&self) -> u64 {
        self.portal_id
    }
    fn render(&self) -> Value {
        render::article(self)
    }
}

/// `GET /portals/{slug}/categories` and `/articles`.
pub async fn portal_index<T: InPortal>(
    State(app): State<Arc<AppState>>,
    Path((account, slug)): Path<(u64, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let p = portal_by_slug(&s, account, &slug)?;
    let list: Vec<Value> = T::table(&s)
        .values()
        .filter(|c| c.portal_id() == p.id)
        .map(T::render)
        .collect();
    Ok(Json(listing(list, T::COUNT_KEY)))
}

/// A help-center index: `{payload, meta: {current_page: 1, <count_key>: n}}`.
fn listing(list: Vec<Value>, count_key: &str) -> Value {
    json!({"payload": list, "meta": {"current_page": 1, count_key: list.len()}})
}

/// The portal's `config.default_locale`, `en` when unset.
fn default_locale(p: &Portal) -> String {
    p.config
        .get("default_locale")
        .and_then(Value::as_str)
        .unwrap_or("en")
        .to_owned()
}

/// `Portal#allowed_locales`; a portal without the key makes Category raise (500, §2.11).
fn allowed_locales(p: &Portal) -> ApiResult<Vec<String>> {
    match p.config.get("allowed_locales") {
        Some(Value::Array(a)) => Ok(a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()),
        _ => Err(ApiError::Internal(
            "undefined method `include?' for nil".into(),
        )),
    }
}

pub async fn categories_create(
    State(app): State<Arc<AppState>>,
    Path((account, slug)): Path<(u64, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let portal = portal_by_slug(&s, account, &slug)?;
    let params = Params::wrapped(&body, "category")?;
    let locale = params
        .str("locale")
        .unwrap_or_else(|| default_locale(&portal));
    let cat_slug = params.str("slug").unwrap_or_default();
    let mut e = Errors::default();
    if cat_slug.is_empty() {
        e.add("slug", "Slug can't be blank");
    } else if s
        .categories
        .values()
        .any(|c| c.portal_id == portal.id && c.slug == cat_slug && c.locale == locale)
    {
        e.add("slug", "Slug has already been taken");
    }
    if !allowed_locales(&portal)?.contains(&locale) {
        e.add(
            "locale",
            format!(
                "Locale {locale} of category is not part of portal's [{}].",
                allowed_locales(&portal)?.join(", ")
            ),
        );
    }
    e.into_result()?;
    let c = s.save(Category {
        id: 0,
        account_id: account,
        portal_id: portal.id,
        name: params.str("name"),
        description: params.str("description"),
        position: params.u64("position").map(|p| p as i64),
        slug: cat_slug,
        locale,
        icon: params.str("icon").unwrap_or_default(),
        parent_category_id: params.u64("parent_category_id"),
        associated_category_id: params.u64("associated_category_id"),
    });
    Ok(Json(json!({"payload": render::category(&c)})))
}

/// `"<unix_ts>-<title-param>"` (Article#ensure_slug).
fn parameterize(title: &str) -> String {
    let mut out = String::new();
    for c in title.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

pub async fn articles_create(
    State(app): State<Arc<AppState>>,
    Path((account, slug)): Path<(u64, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let portal = portal_by_slug(&s, account, &slug)?;
    let p = Params::wrapped(&body, "article")?;
    let title = p.str("title").unwrap_or_default();
    let content = p.str("content").unwrap_or_default();
    let author_id = p.u64("author_id").filter(|a| s.users.contains_key(a));
    let mut e = Errors::default();
    if author_id.is_none() {
        e.add("author", "Author must exist");
    }
    if title.is_empty() {
        e.add("title", "Title can't be blank");
    }
    if content.is_empty() {
        e.add("content", "Content can't be blank");
    }
    e.into_result()?;
    let category = p
        .u64("category_id")
        .and_then(|c| s.categories.get(&c))
        .filter(|c| c.portal_id == portal.id)
        .cloned();
    let locale = p
        .str("locale")
        .or_else(|| category.as_ref().map(|c| c.locale.clone()))
        .unwrap_or_else(|| default_locale(&portal));
    let slug = p
        .str("slug")
        .filter(|x| !x.is_empty())
        .unwrap_or_else(|| format!("{}-{}", s.now().as_second(), parameterize(&title)));
    if s.articles.values().any(|a| a.slug == slug) {
        return Err(ApiError::invalid("slug", "Slug has already been taken"));
    }
    let status = match p.str("status").as_deref() {
        None | Some("draft" | "0") => "draft",
        Some("published" | "1") => "published",
        Some("archived" | "2") => "archived",
        Some(other) => {
            return Err(ApiError::Internal(format!(
                "'{other}' is not a valid status"
            )));
        }
    };
    let position = s
        .articles
        .values()
        .filter(|a| a.portal_id == portal.id)
        .map(|a| a.position)
        .max()
        .unwrap_or(0)
        + 10;
    let a = s.save(Article {
        id: 0,
        account_id: account,
        portal_id: portal.id,
        category_id: category.map(|c| c.id),
        title,
        description: p.str("description"),
        content,
        status: status.into(),
        slug,
        position,
        locale,
        author_id: author_id.unwrap_or_default(),
        associated_article_id: p.u64("associated_article_id"),
        meta: p.object("meta"),
        views: 0,
    });
    Ok(Json(json!({"payload": render::article(&a)})))
}
