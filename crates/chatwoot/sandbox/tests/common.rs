//! A running sandbox plus a small HTTP client speaking to it as a loader would.

use deskmove_chatwoot_sandbox::{RunningSandbox, SandboxArgs};
use deskmove_sandbox::Sandbox;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A Chatwoot sandbox and a client calling it with the administrator's token.
pub struct Chatwoot {
    pub sandbox: RunningSandbox,
    pub http: reqwest::Client,
    pub token: String,
}

/// The answer to one call: status, JSON body (or the text as a JSON string) and headers.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Chatwoot {
    pub async fn start() -> Self {
        Self::start_with(SandboxArgs::default()).await
    }

    pub async fn start_with(args: SandboxArgs) -> Self {
        let sandbox = RunningSandbox::start(args).await.unwrap();
        let token = sandbox.token().to_owned();
        Self {
            sandbox,
            http: reqwest::Client::new(),
            token,
        }
    }

    /// `…/api/v1/accounts/<id><path>`.
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}api/v1/accounts/{}{}",
            self.sandbox.base_url(),
            self.sandbox.account_id(),
            path
        )
    }

    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        url: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut rb = self
            .http
            .request(method, url)
            .header("api_access_token", token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        Reply {
            status,
            body,
            text,
            headers,
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(&self.token.clone(), method, &self.url(path), body)
            .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn platform(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let url = format!("{}platform/api/v1{}", self.sandbox.base_url(), path);
        let token = self.sandbox.platform_token().to_owned();
        self.call_as(&token, method, &url, body).await
    }

    /// An agent of the account (role `agent`); its user id.
    pub async fn agent(&self, email: &str, name: &str) -> u64 {
        self.post(
            "/agents",
            json!({"email": email, "name": name, "role": "agent"}),
        )
        .await
        .body["id"]
            .as_u64()
            .unwrap()
    }

    /// A user with the `agent` role and its own token, made through the Platform API.
    pub async fn agent_with_token(&self, email: &str, name: &str) -> (u64, String) {
        let u = self
            .platform(
                Method::POST,
                "/users",
                Some(json!({"name": name, "email": email})),
            )
            .await;
        let uid = u.body["id"].as_u64().unwrap();
        let account = format!("/accounts/{}/account_users", self.sandbox.account_id());
        self.platform(
            Method::POST,
            &account,
            Some(json!({"user_id": uid, "role": "agent"})),
        )
        .await;
        let tok = self
            .platform(Method::POST, &format!("/users/{uid}/token"), None)
            .await;
        (uid, tok.body["access_token"].as_str().unwrap().to_owned())
    }

    /// A multipart `POST` of `form` to `path` with the administrator's token.
    pub async fn multipart(&self, path: &str, form: reqwest::multipart::Form) -> Reply {
        let resp = self
            .http
            .post(self.url(path))
            .header("api_access_token", &self.token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        Reply {
            status,
            body,
            text,
            headers,
        }
    }

    /// `GET /__sandbox/side_effects` as JSON.
    pub async fn side_effects(&self) -> Value {
        self.inspect("side_effects").await.json().await.unwrap()
    }

    /// Contents of the activity messages of a conversation, in order (from the dump).
    pub fn activities(&self, display_id: u64) -> Vec<String> {
        self.stored_messages(display_id)
            .iter()
            .filter(|m| m["message_type"] == "activity")
            .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// `POST /inbox_members`: adds `users` to `inbox`.
    pub async fn add_members(&self, inbox: u64, users: &[u64]) -> Reply {
        self.post(
            "/inbox_members",
            json!({"inbox_id": inbox, "user_ids": users}),
        )
        .await
    }

    /// `GET /__sandbox/<what>` (`dump`, `stats`, `side_effects`), the unauthenticated inspection
    /// endpoints.
    pub async fn inspect(&self, what: &str) -> reqwest::Response {
        self.http
            .get(format!("{}__sandbox/{what}", self.sandbox.base_url()))
            .send()
            .await
            .unwrap()
    }

    /// An API-channel inbox; `auto_assign` sets `enable_auto_assignment`.
    pub async fn api_inbox(&self, name: &str, auto_assign: bool) -> u64 {
        let r = self
            .post(
                "/inboxes",
                json!({"name": name, "channel": {"type": "api", "webhook_url": ""},
                                      "enable_auto_assignment": auto_assign}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["id"].as_u64().unwrap()
    }

    pub async fn contact(&self, body: Value) -> u64 {
        let r = self.post("/contacts", body).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["payload"]["contact"]["id"].as_u64().unwrap()
    }

    /// `POST /conversations` for `contact` in `inbox`, the reply as it comes.
    pub async fn open_conversation(&self, inbox: u64, contact: u64) -> Reply {
        self.post(
            "/conversations",
            json!({"inbox_id": inbox, "contact_id": contact}),
        )
        .await
    }

    /// A conversation's display id.
    pub async fn conversation(&self, inbox: u64, contact: u64) -> u64 {
        let r = self.open_conversation(inbox, contact).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["id"].as_u64().unwrap()
    }

    pub async fn message(&self, display_id: u64, body: Value) -> Reply {
        self.post(&format!("/conversations/{display_id}/messages"), body)
            .await
    }

    /// Inbox + contact + conversation in one go.
    pub async fn thread(&self) -> (u64, u64, u64) {
        let inbox = self.api_inbox("Import", false).await;
        let contact = self
            .contact(json!({"name": "Jane Roe", "email": "jane@example.com"}))
            .await;
        let conv = self.conversation(inbox, contact).await;
        (inbox, contact, conv)
    }

    /// Messages of a conversation as stored (from the dump), by conversation display id.
    pub fn stored_messages(&self, display_id: u64) -> Vec<Value> {
        let dump = self.sandbox.inspect();
        let pk = dump["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["display_id"] == display_id)
            .unwrap()["id"]
            .clone();
        dump["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["conversation_id"] == pk)
            .cloned()
            .collect()
    }
}
