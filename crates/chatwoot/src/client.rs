//! Authentication over the polite client: every call carries the user's access token in the
//! `api_access_token` header, and account routes live under `api/v1/accounts/<id>/`
//! (../shared/research/chatwoot.md §1).

use deskmove_http::reqwest::header::HeaderName;
use deskmove_http::{HostPolicy, HttpError, PoliteClient};
use secrecy::SecretString;
use serde::de::IgnoredAny;
use url::Url;

/// A polite client for one installation, authenticated with a user's access token.
pub fn connect(
    base_url: &Url,
    policy: HostPolicy,
    token: &SecretString,
) -> Result<PoliteClient, HttpError> {
    PoliteClient::builder(base_url.as_str(), policy)
        .credential_header(HeaderName::from_static("api_access_token"), token)
        .build()
}

/// How many agents account `account_id` lists to this token: the first call of a load, and a
/// check that the address, the account and the token fit together.
pub async fn count_agents(client: &PoliteClient, account_id: u64) -> Result<u64, HttpError> {
    let path = format!("api/v1/accounts/{account_id}/agents");
    let agents: Vec<IgnoredAny> = client.send(client.get(&path)).await?.json()?;
    Ok(agents.len() as u64)
}

#[cfg(test)]
mod tests {
    use deskmove_chatwoot_sandbox::RunningSandbox;
    use deskmove_sandbox::Sandbox;

    use super::*;

    #[tokio::test]
    async fn lists_the_sandbox_agents_with_its_token() {
        let sandbox = RunningSandbox::start(Default::default()).await.unwrap();
        let token = SecretString::from(sandbox.token().to_owned());
        let client = connect(&sandbox.base_url(), crate::host_policy(), &token).unwrap();
        assert_eq!(
            count_agents(&client, sandbox.account_id()).await.unwrap(),
            1
        );
        sandbox.shutdown().await;
    }
}
