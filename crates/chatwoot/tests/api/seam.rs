//! `[target] path = "api"` builds the API path through the seam the CLI uses.

use deskmove_chatwoot::{ChatwootTarget, TargetConfig};
use deskmove_core::Target;
use deskmove_sandbox::Sandbox;
use secrecy::SecretString;

use crate::support;

#[tokio::test]
async fn the_settings_build_the_api_path_and_it_checks_the_account() {
    let sandbox = support::sandbox(support::quiet_args()).await;
    let config: TargetConfig = toml::from_str(&format!(
        "base_url = \"{}\"\naccount_id = {}\npath = \"api\"\ntoken_env = \"DESKMOVE_TEST_CHATWOOT_TOKEN\"\nconversation_message_limit = 0\n",
        sandbox.base_url(),
        sandbox.account_id()
    ))
    .unwrap();
    let staged = support::staging();
    let token = SecretString::from(sandbox.token().to_owned());
    let target = config.target(Some(&token), staged.blobs.clone()).unwrap();
    assert!(matches!(target, ChatwootTarget::Api(_)));
    let instance = target.instance();
    assert_eq!(
        (instance.path.as_str(), instance.account.as_str()),
        ("api", "1")
    );
    assert!(target.preflight().await.unwrap().ok());
    // Without a token the API path cannot be built, and says why.
    let err = config.target(None, staged.blobs.clone()).unwrap_err();
    assert!(err.to_string().contains("access token"), "{err}");
}
