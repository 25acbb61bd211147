//! Signing in over the polite client (../shared/research/zendesk-freshdesk-helpscout.md §1.2):
//! an API token goes as `Authorization: Basic base64(<email>/token:<token>)`, an OAuth access
//! token as `Authorization: Bearer <token>`. Either header is a credential of the client, so it
//! is sent only to the account's own host and scrubbed from every message.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use deskmove_http::reqwest::header::AUTHORIZATION;
use deskmove_http::{HostPolicy, HttpError, PoliteClient};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

/// A polite client for one account: Basic `email/token` when `email` is given, else Bearer.
pub fn connect(
    base_url: &Url,
    email: Option<&str>,
    policy: HostPolicy,
    token: &SecretString,
) -> Result<PoliteClient, HttpError> {
    let builder = PoliteClient::builder(base_url.as_str(), policy);
    match email {
        Some(email) => {
            let pair = format!("{email}/token:{}", token.expose_secret());
            let value = SecretString::from(format!("Basic {}", STANDARD.encode(pair)));
            // The header value is scrubbed as a credential; the bare token is scrubbed too.
            builder
                .credential_header(AUTHORIZATION, &value)
                .redact_value(token)
                .build()
        }
        None => builder.bearer_token(token).build(),
    }
}

/// How many current agents and admins (`GET /api/v2/users`, by role) the token can list: the
/// first call of an export, and a check that the address, email and token fit together.
///
/// One call per role: `role=agent` and `role=admin` are the single-value filter §3.5 lists
/// beside `role[]`, and each answer's offset `count` (§1.3) is the total, so two calls suffice.
/// Without a `count`, the `next_page` links are followed.
pub async fn count_agents(client: &PoliteClient) -> Result<u64, HttpError> {
    #[derive(Deserialize)]
    struct UserList {
        users: Vec<serde::de::IgnoredAny>,
        count: Option<u64>,
        next_page: Option<String>,
    }
    let mut total = 0;
    for role in ["agent", "admin"] {
        let mut request = client
            .get("api/v2/users.json")
            .query(&[("role", role), ("per_page", "100")]);
        loop {
            let page: UserList = client.send(request).await?.json()?;
            if let Some(count) = page.count {
                total += count;
                break;
            }
            total += page.users.len() as u64;
            match page.next_page {
                // Absolute, on the account's host; the client refuses any other.
                Some(next) => request = client.get(&next),
                None => break,
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use deskmove_zendesk_sandbox::{RunningSandbox, Sandbox, SandboxArgs};

    use super::*;

    /// Listed agents: current agents and admins, plus the automation user (role agent).
    fn expected(sandbox: &RunningSandbox) -> u64 {
        let totals = sandbox.inspect();
        let n = |key: &str| totals[key].as_u64().unwrap();
        n("agents") - n("agents_deleted") + n("automation_users")
    }

    #[tokio::test]
    async fn lists_the_sandbox_agents_with_its_credentials() {
        let sandbox = RunningSandbox::start(SandboxArgs {
            tickets: 5,
            contacts: 5,
            ..Default::default()
        })
        .await
        .unwrap();
        let token = SecretString::from(sandbox.token().to_owned());
        let policy = crate::host_policy;
        let url = sandbox.base_url();

        let basic = connect(&url, Some(sandbox.email()), policy(), &token).unwrap();
        assert_eq!(count_agents(&basic).await.unwrap(), expected(&sandbox));
        let bearer = connect(&url, None, policy(), &token).unwrap();
        assert_eq!(count_agents(&bearer).await.unwrap(), expected(&sandbox));

        let wrong = SecretString::from("wrong".to_owned());
        for client in [
            connect(&url, Some(sandbox.email()), policy(), &wrong).unwrap(),
            connect(&url, None, policy(), &wrong).unwrap(),
            connect(&url, Some("someone@else.example"), policy(), &token).unwrap(),
        ] {
            let err = count_agents(&client).await.unwrap_err();
            assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err}");
            assert!(!err.to_string().contains(sandbox.token()), "{err}");
        }
        sandbox.shutdown().await;
    }
}
