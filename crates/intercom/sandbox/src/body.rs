//! A write's JSON body, read field by field with Intercom's errors: a body that is not a JSON
//! object, or a field of the wrong type, is 400 `parameter_invalid`; a missing required field is
//! 400 `parameter_not_found` (codes of research §4). Types follow the request schemas of the spec
//! (`nullable` fields accept `null`). Numbers must be integers where the spec says `integer`:
//! `1.5` is not a timestamp.

use axum::body::Bytes;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The parsed body of one write.
#[derive(Debug, Clone)]
pub(crate) struct Body(pub(crate) Map<String, Value>);

fn wrong_type(key: &str, want: &str) -> ApiError {
    ApiError::invalid(format!("{key} must be {want}"))
}

/// 400 `parameter_not_found` naming the field.
pub(crate) fn missing(key: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "parameter_not_found",
        format!("{key} is required"),
    )
}

impl Body {
    /// Parses bytes; an empty body is an empty object (some clients send none).
    pub(crate) fn parse(bytes: &Bytes) -> Result<Self, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => Ok(Self(m)),
            Ok(_) => Err(ApiError::invalid("The request body must be a JSON object")),
            Err(_) => Err(ApiError::invalid("The request body is not valid JSON")),
        }
    }

    /// Whether the key is present (even as `null`).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The raw value, `None` when absent or `null`.
    pub(crate) fn value(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// An optional string.
    pub(crate) fn str(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(wrong_type(key, "a string")),
        }
    }

    /// A required string (absent, `null` or empty is missing).
    pub(crate) fn required_str(&self, key: &str) -> Result<String, ApiError> {
        self.str(key)?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| missing(key))
    }

    /// An optional integer.
    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| wrong_type(key, "an integer")),
            Some(_) => Err(wrong_type(key, "an integer")),
        }
    }

    /// An optional boolean.
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong_type(key, "a boolean")),
        }
    }

    /// An optional object.
    pub(crate) fn object(&self, key: &str) -> Result<Option<Map<String, Value>>, ApiError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(_) => Err(wrong_type(key, "an object")),
        }
    }

    /// An optional array of at most `max` items.
    pub(crate) fn array(&self, key: &str, max: Option<usize>) -> Result<Vec<Value>, ApiError> {
        match self.value(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                if let Some(max) = max
                    && items.len() > max
                {
                    return Err(ApiError::invalid(format!(
                        "{key} can have at most {max} items"
                    )));
                }
                Ok(items.clone())
            }
            Some(_) => Err(wrong_type(key, "an array")),
        }
    }

    /// A sub-object as a body of its own (`from`, `assignment`, ...).
    pub(crate) fn nested(&self, key: &str) -> Result<Option<Body>, ApiError> {
        Ok(self.object(key)?.map(Body))
    }
}
