//! Helpers shared by the sandbox's integration tests: start a sandbox, call it over real HTTP.

use deskmove_zendesk_sandbox::{RunningSandbox, Sandbox, SandboxArgs};
use serde_json::Value;

/// A small world with limits off.
pub fn args(tickets: u64, contacts: u64) -> SandboxArgs {
    SandboxArgs {
        tickets,
        contacts,
        rate_limit: 0,
        incremental_rate_limit: 0,
        frozen_clock: Some(1_800_000_000),
        ..SandboxArgs::default()
    }
}

pub async fn start(args: SandboxArgs) -> RunningSandbox {
    RunningSandbox::start(args).await.unwrap()
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: url::Url,
    pub email: String,
    pub token: String,
}

impl Client {
    pub fn new(sb: &RunningSandbox) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: sb.base_url(),
            email: sb.email().to_string(),
            token: sb.token().to_string(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            return path.to_string();
        }
        self.base
            .join(path.trim_start_matches('/'))
            .unwrap()
            .to_string()
    }

    /// A GET with Basic `email/token:tok`.
    pub fn request(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(self.url(path))
            .basic_auth(format!("{}/token", self.email), Some(&self.token))
    }

    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.request(path).send().await.unwrap()
    }

    /// GET with auth; returns status and JSON body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.get_raw(path).await;
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// GET that must answer 200.
    pub async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub async fn expected(&self) -> Value {
        self.http
            .get(self.url("/__sandbox/expected"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn post_sandbox(&self, path: &str) -> Value {
        self.http
            .post(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Follows a cursor export from `start` until `end_of_stream`; returns the items and the
    /// last `after_cursor`.
    pub async fn drain_cursor(&self, start: &str, key: &str) -> (Vec<Value>, String) {
        let mut url = start.to_string();
        let mut out = Vec::new();
        for _ in 0..10_000 {
            let page = self.ok(&url).await;
            out.extend(page[key].as_array().unwrap().iter().cloned());
            let cursor = page["after_cursor"].as_str().unwrap().to_string();
            if page["end_of_stream"] == true {
                return (out, cursor);
            }
            url = page["after_url"].as_str().unwrap().to_string();
        }
        panic!("cursor export never ended");
    }

    /// Follows a CBP list until `has_more` is false.
    pub async fn drain_cbp(&self, start: &str, key: &str) -> Vec<Value> {
        let mut url = start.to_string();
        let mut out = Vec::new();
        for _ in 0..10_000 {
            let page = self.ok(&url).await;
            out.extend(page[key].as_array().unwrap().iter().cloned());
            if page["meta"]["has_more"] != true {
                return out;
            }
            url = page["links"]["next"].as_str().unwrap().to_string();
        }
        panic!("cursor list never ended");
    }
}

/// Zendesk's classic error code.
pub fn error(body: &Value) -> String {
    body["error"].as_str().unwrap_or_default().to_string()
}
