//! Help Center (research §3.6): the world's root collections are categories, the others
//! sections (the grandchild nested with `parent_section_id`); Zendesk keeps articles in sections
//! only, so each category gets a "General" section for the articles filed at its root. Every
//! article has its `en-us` translation, some also `fr`; article images are its attachments.

use deskmove_synth::{Article, Collection};
use serde_json::{Value, json};

use crate::derive;
use crate::ids::{GENERAL_SECTION_BASE, TRANSLATION_MULT};
use crate::render::{Render, iso};

/// The collection id's number.
fn num(id: &str) -> u64 {
    id.parse().unwrap_or(0)
}

impl Render<'_> {
    fn root_of(&self, c: &Collection) -> Option<Collection> {
        let mut c = c.clone();
        while let Some(p) = c.parent {
            c = self.view.collection(p)?;
        }
        Some(c)
    }

    /// The categories (root collections).
    pub(crate) fn categories(&self) -> Vec<Value> {
        (0..self.view.collection_count())
            .filter_map(|i| self.view.collection(i))
            .filter(|c| c.parent.is_none())
            .map(|c| {
                let id = num(&c.id);
                json!({
                    "id": id,
                    "url": self.origin.api(&format!("help_center/categories/{id}")),
                    "html_url": format!("{}/hc/en-us/categories/{id}", self.origin.base),
                    "name": c.name,
                    "description": c.description,
                    "locale": "en-us",
                    "source_locale": "en-us",
                    "outdated": false,
                    "position": c.index,
                    "created_at": iso(c.created_at),
                    "updated_at": iso(c.updated_at),
                })
            })
            .collect()
    }

    /// The sections: every non-root collection, then a "General" section per category.
    pub(crate) fn sections(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let section = |id: u64,
                       name: &str,
                       desc: &str,
                       category: u64,
                       parent: Option<u64>,
                       pos: u64,
                       c: i64,
                       u: i64| {
            json!({
                "id": id,
                "url": self.origin.api(&format!("help_center/sections/{id}")),
                "html_url": format!("{}/hc/en-us/sections/{id}", self.origin.base),
                "name": name,
                "description": desc,
                "category_id": category,
                "parent_section_id": parent,
                "locale": "en-us",
                "source_locale": "en-us",
                "outdated": false,
                "position": pos,
                "sorting": "manual",
                "theme_template": "section_page",
                "created_at": iso(c),
                "updated_at": iso(u),
            })
        };
        let all: Vec<Collection> = (0..self.view.collection_count())
            .filter_map(|i| self.view.collection(i))
            .collect();
        for c in all.iter().filter(|c| c.parent.is_some()) {
            let Some(root) = self.root_of(c) else {
                continue;
            };
            let parent = c
                .parent
                .and_then(|p| self.view.collection(p))
                .filter(|p| p.parent.is_some())
                .map(|p| num(&p.id));
            out.push(section(
                num(&c.id),
                &c.name,
                &c.description,
                num(&root.id),
                parent,
                c.index,
                c.created_at,
                c.updated_at,
            ));
        }
        for c in all.iter().filter(|c| c.parent.is_none()) {
            out.push(section(
                GENERAL_SECTION_BASE + c.index,
                "General",
                "",
                num(&c.id),
                None,
                0,
                c.created_at,
                c.updated_at,
            ));
        }
        out
    }

    /// The section an article lives in.
    fn article_section(&self, a: &Article) -> u64 {
        match self.view.collection(a.collection) {
            Some(c) if c.parent.is_none() => GENERAL_SECTION_BASE + c.index,
            Some(c) => num(&c.id),
            None => 0,
        }
    }

    /// An article body with its images pointing at their attachment URLs.
    fn article_body(&self, a: &Article) -> String {
        let html = self.html_body(&a.body);
        html.trim_start_matches("<div class=\"zd-comment\" dir=\"auto\">")
            .trim_end_matches("</div>")
            .to_string()
    }

    /// Article `i`, in `locale` (`en-us`, or `fr` when translated).
    pub(crate) fn article(&self, i: u64, locale: &str) -> Option<Value> {
        let a = self.view.article(i)?;
        let fr = locale == "fr";
        if fr && !derive::translated(self.seed(), i) {
            return None;
        }
        let id = num(&a.id);
        let title = if fr {
            format!("[FR] {}", a.title)
        } else {
            a.title.clone()
        };
        Some(json!({
            "id": id,
            "url": self.origin.api(&format!("help_center/{locale}/articles/{id}")),
            "html_url": format!("{}/hc/{locale}/articles/{id}", self.origin.base),
            "title": title,
            "body": self.article_body(&a),
            "locale": locale,
            "source_locale": "en-us",
            "author_id": crate::ids::agent_user(a.author),
            "section_id": self.article_section(&a),
            "draft": !a.published,
            "promoted": i.is_multiple_of(11),
            "position": i,
            "label_names": [],
            "vote_sum": 0,
            "vote_count": 0,
            "comments_disabled": false,
            "content_tag_ids": [],
            "outdated": false,
            "outdated_locales": [],
            "permission_group_id": 1,
            "user_segment_id": null,
            "created_at": iso(a.created_at),
            "updated_at": iso(a.updated_at),
            "edited_at": iso(a.updated_at),
        }))
    }

    /// Article `i`'s translations.
    pub(crate) fn translations(&self, i: u64) -> Option<Vec<Value>> {
        let a = self.view.article(i)?;
        let id = num(&a.id);
        let mut out = Vec::new();
        for (k, locale) in ["en-us", "fr"].iter().enumerate() {
            let Some(art) = self.article(i, locale) else {
                continue;
            };
            let tid = id * TRANSLATION_MULT + k as u64;
            out.push(json!({
                "id": tid,
                "url": self.origin.api(&format!("help_center/articles/{id}/translations/{locale}")),
                "html_url": art["html_url"],
                "source_id": id,
                "source_type": "Article",
                "locale": locale,
                "title": art["title"],
                "body": art["body"],
                "outdated": false,
                "draft": art["draft"],
                "hidden": false,
                "created_at": art["created_at"],
                "updated_at": art["updated_at"],
                "created_by_id": art["author_id"],
                "updated_by_id": art["author_id"],
            }));
        }
        Some(out)
    }

    /// Article `i`'s attachments (its images).
    pub(crate) fn article_attachments(&self, i: u64) -> Option<Vec<Value>> {
        let a = self.view.article(i)?;
        let id = num(&a.id);
        Some(
            a.images
                .iter()
                .map(|img| {
                    json!({
                        "id": img.id,
                        "url": self.origin.api(&format!("help_center/articles/{id}/attachments/{}", img.id)),
                        "article_id": id,
                        "file_name": img.name,
                        "content_url": self.content_url(img),
                        "content_type": img.content_type,
                        "size": img.size,
                        "inline": true,
                        "created_at": iso(a.created_at),
                        "updated_at": iso(a.updated_at),
                    })
                })
                .collect(),
        )
    }
}
