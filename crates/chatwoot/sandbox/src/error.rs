//! Chatwoot's error responses, shape for shape.
//!
//! `../shared/research/chatwoot.md §1` (`request_exception_handler.rb`): `RecordInvalid` → 422
//! `{message, attributes}`; `RecordNotFound` → 404 `{error}`; Pundit → 401 `{error}`;
//! `ParameterMissing` and controllers that rescue `StandardError` → 422 `{error}`. The swagger's
//! 400s never happen (§10).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error response as Chatwoot renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 422 `{"message": "A, B", "attributes": ["a", "b"]}` — model validation (`RecordInvalid`).
    Invalid {
        /// `errors.full_messages`.
        messages: Vec<String>,
        /// `errors.attribute_names`.
        attributes: Vec<String>,
    },
    /// 422 `{"error": "..."}` — parameter missing or a rescued exception.
    Unprocessable(String),
    /// 422 with a body of its own, e.g. `{"error": {"conditions": [...]}}` (`errors.messages`).
    UnprocessableBody(serde_json::Value),
    /// 404 `{"error": "Resource could not be found"}`.
    NotFound,
    /// 401 `{"error": "..."}`.
    Unauthorized(String),
    /// 500 `{"error": "..."}` — what an unrescued `ArgumentError`/`RecordNotUnique` becomes.
    Internal(String),
}

impl ApiError {
    /// One validation failure on one attribute; `full` is the full message ("Email has already been taken").
    pub fn invalid(attribute: &str, full: impl Into<String>) -> Self {
        Self::Invalid {
            messages: vec![full.into()],
            attributes: vec![attribute.to_owned()],
        }
    }

    /// Pundit's refusal.
    pub fn forbidden() -> Self {
        Self::Unauthorized("You are not authorized to do this action".to_owned())
    }

    /// A `RecordInvalid` as `messages#create` re-renders it: `"Validation failed: <messages>"`.
    pub fn into_rescued(self) -> Self {
        match self {
            Self::Invalid { messages, .. } => {
                Self::Unprocessable(format!("Validation failed: {}", messages.join(", ")))
            }
            other => other,
        }
    }
}

/// Accumulates validation failures the way `ActiveModel::Errors` does.
#[derive(Debug, Default)]
pub struct Errors {
    messages: Vec<String>,
    attributes: Vec<String>,
}

impl Errors {
    /// Adds `full` for `attribute`.
    pub fn add(&mut self, attribute: &str, full: impl Into<String>) {
        self.messages.push(full.into());
        if !self.attributes.iter().any(|a| a == attribute) {
            self.attributes.push(attribute.to_owned());
        }
    }

    /// `Ok` when nothing was added.
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.messages.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid {
                messages: self.messages,
                attributes: self.attributes,
            })
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Self::Invalid {
                messages,
                attributes,
            } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"message": messages.join(", "), "attributes": attributes}),
            ),
            Self::Unprocessable(e) => (StatusCode::UNPROCESSABLE_ENTITY, json!({"error": e})),
            Self::UnprocessableBody(body) => (StatusCode::UNPROCESSABLE_ENTITY, body),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                json!({"error": "Resource could not be found"}),
            ),
            Self::Unauthorized(e) => (StatusCode::UNAUTHORIZED, json!({"error": e})),
            Self::Internal(e) => (StatusCode::INTERNAL_SERVER_ERROR, json!({"error": e})),
        };
        (status, axum::Json(body)).into_response()
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
