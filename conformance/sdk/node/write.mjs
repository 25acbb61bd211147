#!/usr/bin/env node
// Write a contact, a conversation and a reply through the official Node SDK (intercom-client 7).
//
// Why: the deskmove Intercom sandbox is also a migration target; the vendor's own client must be
// able to write through it. Public SDK API only. Prints ONE JSON object on stdout: what was sent
// (ids, timestamps) and any error per step, for compare.py to check against GET /__sandbox/dump.
//
// Usage: node write.mjs BASE_URL TOKEN

import { createRequire } from "node:module";
import { IntercomClient } from "intercom-client";

const SDK = "intercom-client";
// Back-dated, as a migration sends them (../shared/research/intercom-api.md §7).
const CONVERSATION_AT = 1_600_000_000;
const REPLY_AT = 1_600_000_600;

function describe(err) {
  const status = err?.statusCode ? ` ${err.statusCode}` : "";
  return `${err?.constructor?.name ?? "Error"}${status}: ${String(err?.message ?? err).slice(0, 300)}`;
}

async function main() {
  const [baseUrl, token] = process.argv.slice(2);
  if (!baseUrl || !token) {
    process.stderr.write("usage: node write.mjs BASE_URL TOKEN\n");
    process.exit(2);
  }
  const require = createRequire(import.meta.url);
  const out = { sdk: SDK, sdk_version: require("intercom-client/package.json").version, errors: {} };
  const client = new IntercomClient({ token, baseUrl: baseUrl.replace(/\/+$/, "") });
  try {
    const admins = await client.admins.list();
    out.admin_id = String(admins.admins[0].id);
    const email = "intercom-client-writer@example.org";
    const contact = await client.contacts.create({ email, name: "Node Writer" });
    Object.assign(out, { contact_id: contact.id, email });
    const message = await client.conversations.create({
      from: { type: "user", id: contact.id },
      body: "Hello from intercom-client",
      created_at: CONVERSATION_AT,
    });
    Object.assign(out, { conversation_id: message.conversation_id, conversation_created_at: CONVERSATION_AT });
    const conversation = await client.conversations.reply({
      conversation_id: message.conversation_id,
      body: { message_type: "note", type: "admin", admin_id: out.admin_id, body: "<p>Imported note</p>", created_at: REPLY_AT },
    });
    const parts = conversation.conversation_parts?.conversation_parts ?? [];
    Object.assign(out, { reply_created_at: REPLY_AT, reply_part_id: parts.at(-1)?.id ?? null });
  } catch (err) {
    // One JSON answer whatever failed; compare.py reports it.
    out.errors.write = describe(err);
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main();
