//! Canned responses (`../shared/research/chatwoot.md §2.6`).

use jiff::Timestamp;
use serde_json::Value;

use super::resource::Resource;
use crate::auth::{Caller, Role};
use crate::error::{ApiResult, Errors};
use crate::params::{self, Params};
use crate::render;
use crate::state::{CannedResponse, Database};

/// Any agent may create and edit canned responses; only administrators delete them.
impl Resource for CannedResponse {
    const PARAMS: &'static str = "canned_response";
    const WRITE: Role = Role::User;

    fn blank(account: u64, now: Timestamp) -> Self {
        CannedResponse {
            id: 0,
            account_id: account,
            short_code: String::new(),
            content: String::new(),
            created_at: now,
            updated_at: now,
        }
    }

    fn save(s: &mut Database, mut c: CannedResponse, p: &Params) -> ApiResult<CannedResponse> {
        p.assign_text("short_code", &mut c.short_code);
        p.assign_text("content", &mut c.content);
        let mut e = Errors::default();
        if c.short_code.is_empty() {
            e.add("short_code", "Short code can't be blank");
        } else if s.taken(&c, |o| o.short_code == c.short_code) {
            e.add("short_code", "Short code has already been taken");
        }
        if c.content.is_empty() {
            e.add("content", "Content can't be blank");
        }
        e.into_result()?;
        c.updated_at = s.now();
        Ok(s.save(c))
    }

    fn render(&self, _: &Caller) -> Value {
        render::canned_response(self)
    }

    /// `?search=` matches short code or content, case-insensitively.
    fn listed(&self, q: &params::Query) -> bool {
        let term = q
            .get("search")
            .map(|t| t.to_lowercase())
            .unwrap_or_default();
        term.is_empty()
            || self.short_code.to_lowercase().contains(&term)
            || self.content.to_lowercase().contains(&term)
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::{CannedResponse, Resource};
    use crate::params::Query;

    #[test]
    fn canned_search_matches_short_code_or_content_ignoring_case() {
        let c = CannedResponse {
            short_code: "Refund".into(),
            content: "We have REFUNDED {{contact.name}}".into(),
            ..CannedResponse::blank(1, Timestamp::UNIX_EPOCH)
        };
        let q = |t: &str| Query::from([("search".to_owned(), t.to_owned())]);
        assert!(c.listed(&Query::new()));
        assert!(c.listed(&q("")));
        assert!(c.listed(&q("REF")));
        assert!(c.listed(&q("contact.name")));
        assert!(!c.listed(&q("invoice")));
    }
}
