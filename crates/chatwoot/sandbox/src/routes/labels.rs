//! Account labels (`../shared/research/chatwoot.md §2.5`).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::resource::Resource;
use crate::auth::Caller;
use crate::error::{ApiResult, Errors};
use crate::params::Params;
use crate::render;
use crate::rules;
use crate::state::{Database, Label};

impl Resource for Label {
    const PARAMS: &'static str = "label";

    fn blank(account: u64, _now: Timestamp) -> Self {
        Label {
            id: 0,
            account_id: account,
            title: String::new(),
            description: None,
            color: "#1f93ff".into(),
            show_on_sidebar: None,
        }
    }

    /// Label model: title lower-cased, unique per account, `UNICODE_CHARACTER_NUMBER_HYPHEN_UNDERSCORE`.
    fn save(s: &mut Database, mut l: Label, p: &Params) -> ApiResult<Label> {
        if p.has("title") {
            l.title = rules::normalize_label_title(&p.str("title").unwrap_or_default());
        }
        p.assign_opt("description", &mut l.description);
        p.assign_str("color", &mut l.color);
        if p.has("show_on_sidebar") {
            l.show_on_sidebar = p.bool("show_on_sidebar");
        }
        let mut e = Errors::default();
        if l.title.is_empty() {
            e.add("title", "Title can't be blank");
        } else {
            if s.taken(&l, |o| o.title == l.title) {
                e.add("title", "Title has already been taken");
            }
            if !rules::label_title_is_valid(&l.title) {
                e.add("title", "Title is invalid");
            }
        }
        e.into_result()?;
        Ok(s.save(l))
    }

    fn render(&self, _: &Caller) -> Value {
        render::label(self)
    }

    fn index_view(list: Vec<Value>) -> Value {
        json!({"payload": list})
    }
}
