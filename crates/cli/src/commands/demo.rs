//! `deskmove demo`: the whole set-up on one machine with nothing to configure. It starts a local
//! Intercom serving the embedded demo company and a local Chatwoot, checks both answer through
//! deskmove's own polite HTTP client with their tokens, and shows what a migration of that
//! company moves. With `--serve` it keeps both running for practice.

use anyhow::Context;
use deskmove_chatwoot_sandbox::RunningSandbox as Chatwoot;
use deskmove_http::reqwest::header::HeaderName;
use deskmove_http::{HostPolicy, PoliteClient};
use deskmove_intercom_sandbox::RunningSandbox as Intercom;
use deskmove_sandbox::Sandbox;
use secrecy::SecretString;
use serde_json::Value;

use crate::commands::sandbox::wait_for_stop;

/// Arguments of `deskmove demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Keep both sandboxes running after the checks, until Ctrl-C.
    #[arg(long)]
    pub serve: bool,
    /// Seed of the demo company: the same seed gives the same company, byte for byte.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Conversations in the demo company.
    #[arg(long, default_value_t = 1_000)]
    pub conversations: u64,
    /// Contacts in the demo company.
    #[arg(long, default_value_t = 300)]
    pub contacts: u64,
    /// Print one JSON document on stdout instead of the text summary.
    #[arg(long)]
    pub json: bool,
}

/// Runs the demo.
pub async fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let intercom = Intercom::start(deskmove_intercom_sandbox::SandboxArgs {
        seed: args.seed,
        conversations: args.conversations,
        contacts: args.contacts,
        ..Default::default()
    })
    .await
    .context("cannot start the Intercom sandbox")?;
    let chatwoot = Chatwoot::start(Default::default())
        .await
        .context("cannot start the Chatwoot sandbox")?;

    let source = probe_intercom(&intercom).await?;
    let target = probe_chatwoot(&chatwoot).await?;
    if args.json {
        let doc = serde_json::json!({
            "intercom": {"base_url": intercom.base_url().as_str(), "checked": source},
            "chatwoot": {"base_url": chatwoot.base_url().as_str(), "account_id": chatwoot.account_id(), "checked": target},
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", summary(&intercom, &source, &chatwoot, &target));
    }

    if args.serve {
        println!("{}", intercom.ready_line());
        println!("{}", chatwoot.ready_line());
        eprintln!("Both sandboxes keep running on 127.0.0.1 until Ctrl-C.");
        wait_for_stop().await;
    }
    intercom.shutdown().await;
    chatwoot.shutdown().await;
    Ok(())
}

/// Reads the source the way a migration starts: through the polite client, with the token, and
/// compares the admins it lists with the world's own count.
async fn probe_intercom(sandbox: &Intercom) -> anyhow::Result<Value> {
    let token = SecretString::from(sandbox.token().to_owned());
    let client = PoliteClient::builder(sandbox.base_url().as_str(), HostPolicy::intercom())
        .bearer_token(&token)
        .build()?;
    let admins: Value = client.send(client.get("admins")).await?.json()?;
    let listed = admins["admins"].as_array().map_or(0, Vec::len);
    let expected: Value = client
        .send(client.get("__sandbox/expected"))
        .await?
        .json()?;
    if expected["admins"].as_u64() != Some(listed as u64) {
        anyhow::bail!(
            "the Intercom sandbox listed {listed} admins but its world has {}",
            expected["admins"]
        );
    }
    Ok(expected)
}

/// Checks the target answers with its token, as the first step of a load would.
async fn probe_chatwoot(sandbox: &Chatwoot) -> anyhow::Result<Value> {
    let token = SecretString::from(sandbox.token().to_owned());
    let client = PoliteClient::builder(sandbox.base_url().as_str(), HostPolicy::chatwoot())
        .credential_header(HeaderName::from_static("api_access_token"), &token)
        .build()?;
    let path = format!("api/v1/accounts/{}/agents", sandbox.account_id());
    let agents: Value = client.send(client.get(&path)).await?.json()?;
    let count = agents.as_array().map_or(0, Vec::len);
    Ok(serde_json::json!({ "agents": count }))
}

fn summary(intercom: &Intercom, source: &Value, chatwoot: &Chatwoot, target: &Value) -> String {
    let n = |key: &str| source[key].as_u64().unwrap_or(0);
    format!(
        "\
deskmove demo — a local Intercom and a local Chatwoot, on 127.0.0.1 only.

Intercom sandbox  {intercom_url}
  checked: the admin list through deskmove's HTTP client matches the world ({admins} admins)
  the company to move:
    {contacts} contacts ({users} users, {leads} leads), {companies} companies, {admins} admins, {teams} teams, {tags} tags
    {conversations} conversations with {parts} parts and {attachments} attachments
      ({over_cap} conversations exceed Intercom's 500-part cap on retrieval)
    {macros} macros, {collections} help-center collections, {articles} articles

Chatwoot sandbox  {chatwoot_url}  (account {account})
  checked: the agent list answers with the administrator's token ({agents} agent)

Try it yourself: `deskmove demo --serve` keeps both running and prints their tokens;
`deskmove sandbox intercom --help` shows the faults and limits you can switch on.
",
        intercom_url = intercom.base_url(),
        admins = n("admins"),
        contacts = n("contacts"),
        users = n("users"),
        leads = n("leads"),
        companies = n("companies"),
        teams = n("teams"),
        tags = n("tags"),
        conversations = n("conversations"),
        parts = n("conversation_parts"),
        attachments = n("attachments"),
        over_cap = n("conversations_over_part_cap"),
        macros = n("macros"),
        collections = n("collections"),
        articles = n("articles"),
        chatwoot_url = chatwoot.base_url(),
        account = chatwoot.account_id(),
        agents = target["agents"].as_u64().unwrap_or(0),
    )
}
