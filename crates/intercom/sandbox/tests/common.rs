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

/// The sandbox clock of the write tests: frozen, so stamped times are exact.
pub const WRITE_CLOCK: i64 = 1_800_000_000;

/// A small world with a frozen clock, limits off: what the write-side tests start.
pub fn write_args() -> SandboxArgs {
    SandboxArgs {
        frozen_clock: Some(WRITE_CLOCK as u64),
        ..args(20, 30)
    }
}

impl Client {
    /// Any method with a JSON body and an optional `Intercom-Version`; status and JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        version: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(v) = version {
            req = req.header("Intercom-Version", v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// POST in a given version.
    pub async fn post_v(&self, version: &str, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(version), Some(body))
            .await
    }

    /// POST that must answer 200.
    pub async fn created(&self, path: &str, body: Value) -> Value {
        let (status, out) = self.post(path, body.clone()).await;
        assert_eq!(status, 200, "POST {path} {body}: {out}");
        out
    }

    /// `GET /__sandbox/dump`.
    pub async fn dump(&self) -> Value {
        let r = self
            .http
            .get(self.url("/__sandbox/dump"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }
}

/// A current teammate's admin id (departed admins cannot act).
pub fn admin_id(sb: &RunningSandbox) -> String {
    let v = sb.world().view();
    (0..v.agent_count())
        .filter_map(|i| v.agent(i))
        .find(|a| !a.departed)
        .unwrap()
        .id
}
