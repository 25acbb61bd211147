//! Handlers shared by the account resources whose actions differ only by table: labels, teams,
//! canned responses and custom attribute definitions (`../shared/research/chatwoot.md §2.5-§2.10`).
//!
//! Each resource keeps its own rules (defaults, parameter merging, validations, view) in its
//! module through [`Resource`]; the request flow of index, show, create, update and destroy — lock,
//! token, role, lookup, parameters, save, render — is written once here.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::auth::{Caller, Role};
use crate::error::ApiResult;
use crate::params::{self, Params};
use crate::state::{AccountScoped, AppState, Database};

/// An account resource served by the generic handlers.
pub trait Resource: AccountScoped {
    /// The `wrap_parameters` key of its controller (`{"label": {...}}`).
    const PARAMS: &'static str;
    /// Who may list and show it (Pundit's `index?`/`show?`).
    const READ: Role = Role::User;
    /// Who may create and update it.
    const WRITE: Role = Role::Admin;
    /// What a successful destroy answers: most controllers `head :ok`.
    const DELETED: StatusCode = StatusCode::OK;
    /// A new row of `account` created `now`, with the table's defaults, before the parameters.
    fn blank(account: u64, now: Timestamp) -> Self;
    /// Merges the permitted parameters, validates and saves (`save!`).
    fn save(s: &mut Database, row: Self, p: &Params) -> ApiResult<Self>;
    /// The view, for `caller`.
    fn render(&self, caller: &Caller) -> Value;
    /// Whether the index lists `self` for the query string; every row by default.
    fn listed(&self, _q: &params::Query) -> bool {
        true
    }
    /// The index body: a bare array unless the view wraps it.
    fn index_view(list: Vec<Value>) -> Value {
        json!(list)
    }
}

/// `GET /<resource>`: the account's rows the query keeps, in id order.
pub async fn index<T: Resource>(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, caller) = app.read_as(&headers, account, T::READ)?;
    let list: Vec<Value> = s
        .in_account::<T>(account)
        .filter(|r| r.listed(&q))
        .map(|r| r.render(&caller))
        .collect();
    Ok(Json(T::index_view(list)))
}

/// `GET /<resource>/{id}`.
pub async fn show<T: Resource>(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, caller) = app.read_as(&headers, account, T::READ)?;
    Ok(Json(s.scoped::<T>(account, id)?.render(&caller)))
}

/// `POST /<resource>`.
pub async fn create<T: Resource>(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, caller) = app.write_as(&headers, account, T::WRITE)?;
    let p = Params::wrapped(&body, T::PARAMS)?;
    let blank = T::blank(account, s.now());
    let row = T::save(&mut s, blank, &p)?;
    Ok(Json(row.render(&caller)))
}

/// `PATCH|PUT /<resource>/{id}`.
pub async fn update<T: Resource>(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, caller) = app.write_as(&headers, account, T::WRITE)?;
    let row = s.scoped::<T>(account, id)?.clone();
    let row = T::save(&mut s, row, &Params::wrapped(&body, T::PARAMS)?)?;
    Ok(Json(row.render(&caller)))
}

/// `DELETE /<resource>/{id}` (admin). Destroying a label leaves the taggings alone (§2.14).
pub async fn destroy<T: Resource>(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    s.remove_scoped::<T>(account, id)?;
    Ok(T::DELETED)
}
