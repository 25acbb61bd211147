//! Request parameters the Rails way: where each controller reads them, values cast loosely.
//!
//! `config/initializers/wrap_parameters.rb` (`wrap_parameters format: [:json]`) copies a flat JSON
//! body under the controller's key, so `params.require(:label)` accepts a body flat or nested
//! ([`Params::wrapped`]). It never lifts a nested body to the top: controllers that read
//! `params.permit(...)` or `params[:content]` see nothing of `{"contact": {...}}` and save a blank
//! record ([`Params::top_level`]). Rails casts `"true"`/`"1"` to true and `"12"` to 12, which
//! loaders sending form-ish values rely on.

use axum::body::Bytes;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

/// The merged parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Map<String, Value>);

impl Params {
    /// The parameters as a controller reading them at the top level sees them (`params.permit`,
    /// `params[:key]`): a body nested under a resource key is not unwrapped.
    pub fn top_level(body: &Bytes) -> ApiResult<Self> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::Unprocessable(format!("Invalid JSON: {e}")))?;
        match value {
            Value::Object(map) => Ok(Self(map)),
            _ => Ok(Self::default()),
        }
    }

    /// `params.require(key)`: the object under `key` when the body has one, otherwise the flat
    /// body that `wrap_parameters` copied under `key`.
    pub fn wrapped(body: &Bytes, key: &str) -> ApiResult<Self> {
        let mut top = Self::top_level(body)?;
        match top.0.remove(key) {
            Some(Value::Object(inner)) => Ok(Self(inner)),
            Some(other) => {
                top.0.insert(key.to_owned(), other);
                Ok(top)
            }
            None => Ok(top),
        }
    }

    /// Whether the key was sent at all.
    pub fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Raw value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// A string value (numbers are stringified, as Rails params are strings).
    pub fn str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// `ActiveModel::Type::Boolean` casting.
    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => Some(!matches!(
                s.to_ascii_lowercase().as_str(),
                "" | "0" | "f" | "false" | "off" | "no"
            )),
            Value::Number(n) => Some(n.as_f64() != Some(0.0)),
            _ => None,
        }
    }

    /// An integer id.
    pub fn u64(&self, key: &str) -> Option<u64> {
        match self.get(key)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A JSON object (`{}` when absent).
    pub fn object(&self, key: &str) -> Map<String, Value> {
        match self.get(key) {
            Some(Value::Object(m)) => m.clone(),
            Some(Value::String(s)) => match serde_json::from_str(s) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            },
            _ => Map::new(),
        }
    }

    /// A list of strings (`labels`, `emails`).
    pub fn strings(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A list of ids (`user_ids`).
    pub fn ids(&self, key: &str) -> Vec<u64> {
        self.strings(key)
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    /// `attr = params[key]` when the key was sent: null and blank values are kept as they are.
    pub fn assign_opt(&self, key: &str, field: &mut Option<String>) {
        if self.has(key) {
            *field = self.str(key);
        }
    }

    /// `attr = params[key]` for a NOT NULL text column: sent as null, it becomes `""`.
    pub fn assign_text(&self, key: &str, field: &mut String) {
        if self.has(key) {
            *field = self.str(key).unwrap_or_default();
        }
    }

    /// Sets `field` only when a value (not null) was sent.
    pub fn assign_str(&self, key: &str, field: &mut String) {
        if let Some(v) = self.str(key) {
            *field = v;
        }
    }

    /// Sets `field` only when a value that casts to a boolean was sent.
    pub fn assign_bool(&self, key: &str, field: &mut bool) {
        if let Some(b) = self.bool(key) {
            *field = b;
        }
    }
}

/// Query-string parameters.
pub type Query = std::collections::HashMap<String, String>;

/// `?page=` as a 1-based page number; absent or not a number is page 1.
pub fn page_number(q: &Query) -> usize {
    q.get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// The `page`-th (1-based) slice of `per_page` items.
pub fn paginate<T>(
    items: impl IntoIterator<Item = T>,
    page: usize,
    per_page: usize,
) -> impl Iterator<Item = T> {
    items.into_iter().skip((page - 1) * per_page).take(per_page)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Params, Query, page_number, paginate};

    #[test]
    fn pages_are_one_based_and_bad_numbers_mean_the_first() {
        let q = |p: &str| Query::from([("page".to_owned(), p.to_owned())]);
        assert_eq!(page_number(&Query::new()), 1);
        assert_eq!(page_number(&q("0")), 1);
        assert_eq!(page_number(&q("x")), 1);
        assert_eq!(page_number(&q("3")), 3);
        assert_eq!(paginate(1..=7, 2, 3).collect::<Vec<_>>(), [4, 5, 6]);
        assert_eq!(paginate(1..=7, 4, 3).count(), 0);
    }

    #[test]
    fn assignments_follow_rails_attribute_writes() {
        let Ok(p) = Params::wrapped(
            &json!({"label": {"a": null, "b": "x", "c": "0"}})
                .to_string()
                .into(),
            "label",
        ) else {
            panic!("valid JSON");
        };
        let (mut a, mut b, mut missing) = (Some("old".to_owned()), None, Some("kept".to_owned()));
        p.assign_opt("a", &mut a);
        p.assign_opt("b", &mut b);
        p.assign_opt("z", &mut missing);
        assert_eq!(
            (a, b, missing),
            (None, Some("x".into()), Some("kept".into()))
        );
        let (mut text, mut kept) = ("old".to_owned(), "old".to_owned());
        p.assign_text("a", &mut text);
        p.assign_str("a", &mut kept);
        assert_eq!((text.as_str(), kept.as_str()), ("", "old"));
        let mut flag = true;
        p.assign_bool("c", &mut flag);
        assert!(!flag);
    }
}
