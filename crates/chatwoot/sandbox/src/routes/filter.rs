//! The `filter` endpoints' payload language (`app/services/filter_service.rb`,
//! `../shared/research/chatwoot.md §2.1`): conditions joined by `query_operator`, string values
//! lower-cased, phone values normalised to `+digits`, unknown operators refused with 422.

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::params::Params;

/// What a record holds for a filter key.
#[derive(Debug)]
pub enum Field {
    /// The value (Null when empty).
    Value(Value),
    /// A key the service turns into an empty clause (custom attribute without a definition).
    Ignored,
}

fn lower(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn condition(field: &Value, op: &str, values: &[String], key: &str) -> ApiResult<bool> {
    let values: Vec<String> = if key == "phone_number" {
        values
            .iter()
            .map(|v| {
                format!(
                    "+{}",
                    v.chars().filter(char::is_ascii_digit).collect::<String>()
                )
            })
            .collect()
    } else {
        values.iter().map(|v| v.to_lowercase()).collect()
    };
    let items: Vec<String> = match field {
        Value::Array(a) => a.iter().filter_map(lower).collect(),
        other => lower(other).into_iter().collect(),
    };
    let present = items.iter().any(|i| !i.is_empty());
    let any_eq = items.iter().any(|i| values.contains(i));
    let any_contains = items
        .iter()
        .any(|i| values.iter().any(|v| i.contains(v.as_str())));
    let num = |s: &String| s.parse::<f64>().ok();
    let first = values.first();
    Ok(match op {
        "equal_to" => any_eq,
        "not_equal_to" => !any_eq,
        "contains" => any_contains,
        "does_not_contain" => !any_contains,
        "is_present" => present,
        "is_not_present" => !present,
        "is_greater_than" | "is_less_than" => {
            let (Some(a), Some(b)) = (items.first().and_then(num), first.and_then(num)) else {
                return Ok(false);
            };
            if op == "is_greater_than" {
                a > b
            } else {
                a < b
            }
        }
        other => {
            return Err(ApiError::Unprocessable(format!(
                "Invalid operator. The allowed operators for {key} are [equal_to,not_equal_to,contains,does_not_contain,is_present,is_not_present,is_greater_than,is_less_than]. {other} is not allowed"
            )));
        }
    })
}

/// The `payload` array of conditions; anything else is refused.
pub fn conditions(p: &Params) -> ApiResult<Vec<Value>> {
    match p.get("payload") {
        Some(Value::Array(a)) => Ok(a.clone()),
        _ => Err(ApiError::Unprocessable("Invalid payload".into())),
    }
}

/// Evaluates the payload for one record; AND binds tighter than OR, as in the generated SQL.
pub fn matches(conditions: &[Value], lookup: impl Fn(&str) -> Field) -> ApiResult<bool> {
    let mut groups: Vec<bool> = Vec::new();
    let mut current: Option<bool> = None;
    let mut pending_or = false;
    for c in conditions {
        let key = c
            .get("attribute_key")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let op = c
            .get("filter_operator")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let values: Vec<String> = match c.get("values") {
            Some(Value::Array(a)) => a.iter().filter_map(lower).collect(),
            Some(v) => lower(v).into_iter().collect(),
            None => Vec::new(),
        };
        let result = match lookup(key) {
            Field::Value(v) => Some(condition(&v, op, &values, key)?),
            Field::Ignored => None,
        };
        if let Some(r) = result {
            current = Some(match (current, pending_or) {
                (Some(prev), false) => prev && r,
                (Some(prev), true) => {
                    groups.push(prev);
                    r
                }
                (None, _) => r,
            });
        }
        pending_or = c
            .get("query_operator")
            .and_then(Value::as_str)
            .is_some_and(|q| q.eq_ignore_ascii_case("or"));
    }
    groups.extend(current);
    Ok(groups.is_empty() || groups.into_iter().any(|g| g))
}
