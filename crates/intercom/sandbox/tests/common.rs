//! Helpers shared by the sandbox's integration tests: start a sandbox, call it over real HTTP.

use deskmove_intercom_sandbox::{RunningSandbox, Sandbox, SandboxArgs};
use serde_json::Value;

pub fn args(conversations: u64, contacts: u64) -> SandboxArgs {
    SandboxArgs {
        conversations,
        contacts,
        rate_limit: 0,
        ..SandboxArgs::default()
    }
}

pub async fn start(args: SandboxArgs) -> RunningSandbox {
    RunningSandbox::start(args).await.unwrap()
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: url::Url,
    pub token: String,
}

impl Client {
    pub fn new(sb: &RunningSandbox) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: sb.base_url(),
            token: sb.token().to_string(),
        }
    }

    pub fn url(&self, path: &str) -> url::Url {
        self.base.join(path.trim_start_matches('/')).unwrap()
    }

    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// GET with auth; returns status and JSON body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.get_raw(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    /// GET that must answer 200.
    pub async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

/// Asserts Intercom's error shape and returns the first error code.
pub fn error_code(body: &Value) -> String {
    assert_eq!(body["type"], "error.list", "{body}");
    assert!(body["request_id"].is_string(), "{body}");
    body["errors"][0]["code"].as_str().unwrap().to_string()
}
