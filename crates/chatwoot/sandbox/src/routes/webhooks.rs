//! Account webhooks (`app/controllers/api/v1/accounts/webhooks_controller.rb`, administrators
//! only): what they subscribe to is what `WebhookListener` records for them.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::auth::Role;
use crate::effects::WEBHOOK_EVENTS;
use crate::error::{ApiResult, Errors};
use crate::params::Params;
use crate::render;
use crate::state::{AppState, Database, Webhook};

/// `params.require(:webhook).permit(:inbox_id, :name, :url, subscriptions: [])`, then the model's
/// validations: an http(s) URL unique per account, and a non-empty list of allowed events.
fn save(s: &mut Database, mut w: Webhook, p: &Params) -> ApiResult<Webhook> {
    if p.has("url") {
        w.url = p.str("url").unwrap_or_default();
    }
    p.assign_opt("name", &mut w.name);
    if p.has("inbox_id") {
        w.inbox_id = p.u64("inbox_id");
    }
    if p.has("subscriptions") {
        w.subscriptions = p.strings("subscriptions");
    }
    let mut e = Errors::default();
    let url_ok = url::Url::parse(&w.url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !url_ok {
        e.add("url", "Url is invalid");
    } else if s.taken(&w, |o| o.url == w.url) {
        e.add("url", "Url has already been taken");
    }
    let allowed = w
        .subscriptions
        .iter()
        .all(|x| WEBHOOK_EVENTS.contains(&x.as_str()));
    if w.subscriptions.is_empty() || !allowed {
        e.add("subscriptions", "Subscriptions Invalid events");
    }
    e.into_result()?;
    Ok(s.save(w))
}

/// `GET /webhooks`: `{payload: {webhooks: [...]}}`.
pub async fn index(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::Admin)?;
    let list: Vec<Value> = s
        .in_account::<Webhook>(account)
        .map(|w| render::webhook(&s, w))
        .collect();
    Ok(Json(json!({"payload": {"webhooks": list}})))
}

/// `POST /webhooks`: `{payload: {webhook}}`.
pub async fn create(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let p = Params::wrapped(&body, "webhook")?;
    let blank = Webhook {
        id: 0,
        account_id: account,
        inbox_id: None,
        name: None,
        url: String::new(),
        subscriptions: Vec::new(),
        created_at: s.now(),
    };
    let w = save(&mut s, blank, &p)?;
    Ok(Json(
        json!({"payload": {"webhook": render::webhook(&s, &w)}}),
    ))
}

/// `PATCH /webhooks/{id}`.
pub async fn update(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let w = s.scoped::<Webhook>(account, id)?.clone();
    let w = save(&mut s, w, &Params::wrapped(&body, "webhook")?)?;
    Ok(Json(
        json!({"payload": {"webhook": render::webhook(&s, &w)}}),
    ))
}

/// `DELETE /webhooks/{id}`: `head :ok`.
pub async fn destroy(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    s.remove_scoped::<Webhook>(account, id)?;
    Ok(StatusCode::OK)
}
