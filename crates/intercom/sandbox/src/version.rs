//! The `Intercom-Version` a write asks for. Request shapes differ between the two versions the
//! project holds specs for (`../shared/specs/intercom/`, 2.14 and 2.16): `owner_id` is an integer
//! up to 2.15 and a string in 2.16; `skip_notifications` on a conversation reply,
//! `attachment_files` on a ticket reply, `email_verified`, `brand_id`, `body_markdown` and
//! WhatsApp messages exist only in 2.16. Without the header the app's own version applies
//! (research §1); this workspace's is 2.16. Versions below 2.16 follow the 2.14 shapes, the
//! newest older description we hold.

use axum::http::HeaderMap;

use crate::error::ApiError;

/// The request shapes a write is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiVersion {
    /// 2.15 and older: the 2.14 description.
    V2_14,
    /// 2.16 (and `Unstable`/`Preview`, which extend it).
    V2_16,
}

impl ApiVersion {
    /// The version of one request; an unknown value is 400 `intercom_version_invalid`.
    pub(crate) fn of(headers: &HeaderMap) -> Result<Self, ApiError> {
        let Some(raw) = headers.get("intercom-version") else {
            return Ok(Self::V2_16);
        };
        let v = raw.to_str().unwrap_or("").trim();
        if v.eq_ignore_ascii_case("unstable") || v.eq_ignore_ascii_case("preview") {
            return Ok(Self::V2_16);
        }
        // Allowed: 1.0–1.4 and 2.0–2.16 (schema `intercom_version`, research §1).
        let known = match v.split_once('.') {
            Some(("1", m)) => m.parse::<u8>().is_ok_and(|m| m <= 4),
            Some(("2", m)) => m.parse::<u8>().is_ok_and(|m| m <= 16),
            _ => false,
        };
        if !known {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "intercom_version_invalid",
                "The requested version could not be found",
            ));
        }
        Ok(if v == "2.16" {
            Self::V2_16
        } else {
            Self::V2_14
        })
    }

    /// Whether this version's request shapes have the 2.16 additions.
    pub(crate) fn is_2_16(self) -> bool {
        self == Self::V2_16
    }
}
