#!/usr/bin/env node
// The playbook's Intercom migration orchestrator (../shared/seeds/002_*.txt), timed, through the
// official Node SDK (intercom-client 7, installed by `npm ci` in conformance/sdk/node):
//   1. companies: create each, then a 100 ms pause (its Step 2);
//   2. contacts: search by external_id OR email before each create (update when found), a 500 ms
//      pause every 50 (its Step 1);
//   3. conversations, which the playbook leaves to "contact Intercom support": the same pattern,
//      started by the contact with the first message, then one reply call per later message at
//      import time (no created_at), agents' messages written by the first admin, a 500 ms pause
//      every 50 conversations.
// No tags, states, assignees or files; custom attributes left out (the playbook's own ones are
// not defined in the workspace). Prints ONE JSON object on stdout.
//
// Usage: node playbook.mjs BASE_URL TOKEN WORLD.jsonl
//   WORLD.jsonl: one object a line, {"type": "company" | "contact" | "conversation", ...}

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../../conformance/sdk/node/package.json", import.meta.url));
const { IntercomClient } = require("intercom-client");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function describe(err) {
  const status = err?.statusCode ? ` ${err.statusCode}` : "";
  return `${err?.constructor?.name ?? "Error"}${status}: ${String(err?.message ?? err).slice(0, 200)}`;
}

async function main() {
  const [baseUrl, token, input] = process.argv.slice(2);
  if (!baseUrl || !token || !input) {
    process.stderr.write("usage: node playbook.mjs BASE_URL TOKEN WORLD.jsonl\n");
    process.exit(2);
  }
  const client = new IntercomClient({ token, baseUrl: baseUrl.replace(/\/+$/, "") });
  const rows = readFileSync(input, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const stats = {
    sdk: `intercom-client ${require("intercom-client/package.json").version}`,
    companies: 0,
    contacts_created: 0,
    contacts_updated: 0,
    conversations: 0,
    replies: 0,
    failed: 0,
    errors: [],
  };
  const fail = (what, err) => {
    stats.failed++;
    if (stats.errors.length < 10) stats.errors.push(`${what}: ${describe(err)}`);
  };
  const started = Date.now();

  // Phase 1: companies.
  for (const c of rows.filter((r) => r.type === "company")) {
    try {
      await client.companies.createOrUpdate({ company_id: c.id, name: c.name ?? c.id });
      stats.companies++;
    } catch (err) {
      fail(`company ${c.id}`, err);
    }
    await sleep(100); // Rate limit
  }

  stats.companies_seconds = (Date.now() - started) / 1000;

  // Phase 2: contacts, searched before each create.
  const contactsStarted = Date.now();
  const contactIds = new Map();
  for (const c of rows.filter((r) => r.type === "contact")) {
    try {
      const value = [{ field: "external_id", operator: "=", value: c.id }];
      if (c.email) value.push({ field: "email", operator: "=", value: c.email });
      const existing = await client.contacts.search({ query: { operator: "OR", value } });
      if (existing.data.length > 0) {
        const id = existing.data[0].id;
        await client.contacts.update({ contact_id: id, name: c.name ?? undefined, phone: c.phone ?? undefined });
        contactIds.set(c.id, id);
        stats.contacts_updated++;
      } else {
        const made = await client.contacts.create({
          role: "user",
          external_id: c.id,
          email: c.email ?? undefined,
          name: c.name ?? undefined,
          phone: c.phone ?? undefined,
          signed_up_at: c.created_at,
        });
        contactIds.set(c.id, made.id);
        stats.contacts_created++;
      }
      // Rate limit: pause every 50 contacts
      if ((stats.contacts_created + stats.contacts_updated) % 50 === 0) await sleep(500);
    } catch (err) {
      fail(`contact ${c.id}`, err);
    }
  }

  stats.contacts_seconds = (Date.now() - contactsStarted) / 1000;

  // Phase 3: conversations, one call per message, at import time.
  const conversationsStarted = Date.now();
  const admins = await client.admins.list();
  const adminId = String(admins.admins[0].id);
  const text = (m) => m.body || "(no text)";
  for (const c of rows.filter((r) => r.type === "conversation")) {
    const contact = contactIds.get(c.contact);
    if (!contact) {
      fail(`conversation ${c.id}`, new Error("its contact was not imported"));
      continue;
    }
    try {
      const first = c.messages[0]?.contact ? c.messages[0] : null;
      const message = await client.conversations.create({
        from: { type: "user", id: contact },
        body: first ? text(first) : (c.subject ?? "(conversation)"),
      });
      stats.conversations++;
      for (const m of first ? c.messages.slice(1) : c.messages) {
        const body = m.contact
          ? { message_type: "comment", type: "user", intercom_user_id: contact, body: text(m) }
          : { message_type: m.note ? "note" : "comment", type: "admin", admin_id: adminId, body: text(m) };
        try {
          await client.conversations.reply({ conversation_id: String(message.conversation_id), body });
          stats.replies++;
        } catch (err) {
          fail(`reply in ${c.id}`, err);
        }
      }
    } catch (err) {
      fail(`conversation ${c.id}`, err);
    }
    if (stats.conversations % 50 === 0) await sleep(500);
  }
  stats.conversations_seconds = (Date.now() - conversationsStarted) / 1000;
  stats.seconds = (Date.now() - started) / 1000;
  process.stdout.write(JSON.stringify(stats) + "\n");
}

main();
