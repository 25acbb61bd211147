//! Request parameters the Rails way: JSON bodies flat or wrapped, values cast loosely.
//!
//! `../shared/research/chatwoot.md §1`: `wrap_parameters format: [:json]` means a body works both
//! flat and nested under the resource key (`{"label": {...}}`). Rails casts `"true"`/`"1"` to true
//! and `"12"` to 12, which loaders sending form-ish values rely on.

use axum::body::Bytes;
use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult};

/// The merged parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Map<String, Value>);

impl Params {
    /// Parses a JSON body (empty = no parameters) and lifts the `wrapper` object's keys to the top.
    pub fn from_body(body: &Bytes, wrapper: &str) -> ApiResult<Self> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::Unprocessable(format!("Invalid JSON: {e}")))?;
        let Value::Object(mut map) = value else {
            return Ok(Self::default());
        };
        if let Some(Value::Object(inner)) = map.get(wrapper).cloned() {
            for (k, v) in inner {
                map.insert(k, v);
            }
        }
        Ok(Self(map))
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
}

/// Query-string parameters.
pub type Query = std::collections::HashMap<String, String>;
