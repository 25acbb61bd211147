#!/usr/bin/env node
// Export a whole Intercom workspace through the official Node SDK (intercom-client 7.x) and
// print counts.
//
// Why: the deskmove Intercom sandbox must be good enough for the vendor's own client. This script
// uses only the SDK's public API (no raw HTTP), walks every resource an export needs, and prints
// ONE JSON object on stdout: unique ids per resource, duplicates seen, and what went wrong.
// Facts about the SDK are in ../shared/research/intercom-api.md §8.2.
//
// Usage: node export.mjs BASE_URL TOKEN [--per-page N] [--search-per-page N] [--retries N]

import { createRequire } from "node:module";
import { IntercomClient } from "intercom-client";

const SDK = "intercom-client";
// Tickets have no list endpoint, only search (../shared/research/intercom-api.md §2); this filter
// matches every ticket (all timestamps are positive epoch seconds, §5).
const ALL_TICKETS = { field: "created_at", operator: ">", value: "0" };
// A cursor that repeats would loop forever; no honest export needs this many pages.
const MAX_PAGES = 100000;

/** Unique ids per resource, and how often an id came back twice (nothing duplicated). */
class Tally {
  constructor() {
    this.ids = new Map();
    this.duplicates = {};
  }
  touch(resource) {
    if (!this.ids.has(resource)) this.ids.set(resource, new Set());
    return this.ids.get(resource);
  }
  add(resource, id) {
    const seen = this.touch(resource);
    if (seen.has(id)) this.duplicates[resource] = (this.duplicates[resource] ?? 0) + 1;
    seen.add(id);
  }
}

function parseArgs(argv) {
  const positional = [];
  // Ticket search pages are small so body-cursor paging runs even on small worlds.
  const opts = { perPage: 50, searchPerPage: 5, retries: -1 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--per-page") opts.perPage = Number(argv[++i]);
    else if (argv[i] === "--search-per-page") opts.searchPerPage = Number(argv[++i]);
    else if (argv[i] === "--retries") opts.retries = Number(argv[++i]);
    else positional.push(argv[i]);
  }
  if (positional.length !== 2 || !(opts.perPage > 0) || !(opts.searchPerPage > 0)) {
    process.stderr.write("usage: node export.mjs BASE_URL TOKEN [--per-page N] [--search-per-page N] [--retries N]\n");
    process.exit(2);
  }
  return { baseUrl: positional[0], token: positional[1], ...opts };
}

/** Walks a Page to its end, stopping on an empty page (the scroll quirk, §8.2). */
async function eachPage(first, onPage) {
  let page = first;
  for (let n = 0; n < MAX_PAGES; n++) {
    onPage(page);
    if (page.data.length === 0 || !page.hasNextPage()) return page;
    page = await page.getNextPage();
  }
  throw new Error("pager did not end");
}

async function exportDirectory(client, tally) {
  tally.touch("admins");
  for (const a of (await client.admins.list()).admins ?? []) if (a) tally.add("admins", a.id);
  tally.touch("teams");
  for (const t of (await client.teams.list()).teams ?? []) tally.add("teams", t.id);
  tally.touch("tags");
  for (const t of (await client.tags.list()).data ?? []) tally.add("tags", t.id);
}

/** Custom attribute definitions of both models, archived included (§2, §6). */
async function exportDataAttributes(client, tally) {
  tally.touch("data_attributes");
  for (const model of ["contact", "company"]) {
    const listed = await client.dataAttributes.list({ model, include_archived: true });
    for (const d of listed.data ?? []) {
      // Built-in attributes have no id and custom=false (§6): only custom ones are definitions.
      if (d.custom) tally.add("data_attributes", `${model}:${d.id ?? d.name}`);
    }
  }
}

/** Contacts through the cursor pager, then each contact's notes (page-based until empty). */
async function exportContacts(client, perPage, tally) {
  for (const r of ["contacts", "users", "leads", "notes"]) tally.touch(r);
  const ids = [];
  for await (const c of await client.contacts.list({ per_page: perPage })) {
    tally.add("contacts", c.id);
    tally.add(c.role === "user" ? "users" : "leads", c.id);
    ids.push(c.id);
  }
  for (const contact_id of new Set(ids)) {
    for await (const n of await client.notes.list({ contact_id, per_page: perPage })) {
      tally.add("notes", n.id);
    }
  }
}

/** Companies through scroll and through the page-based list (§2). */
async function exportCompanies(client, perPage, tally, notes) {
  tally.touch("companies_scroll");
  // The SDK's own iterator keeps scrolling while scroll_param is a non-empty string, even after
  // an empty page (§8.2); stop on the empty page as the API documents, and say what we saw.
  const last = await eachPage(await client.companies.scroll(), (page) => {
    for (const c of page.data) tally.add("companies_scroll", c.id);
  });
  const tail = last.response?.scroll_param;
  notes.push(`final scroll page carries scroll_param: ${tail != null && tail !== ""}`);
  tally.touch("companies_list");
  for await (const c of await client.companies.list({ per_page: perPage })) tally.add("companies_list", c.id);
}

/** List every conversation, then retrieve each one for its parts (list items carry none). */
async function exportConversations(client, perPage, tally, notes) {
  for (const r of ["conversations", "conversations_retrieved", "conversation_parts", "attachments"]) tally.touch(r);
  const ids = [];
  for await (const c of await client.conversations.list({ per_page: perPage })) {
    tally.add("conversations", c.id);
    ids.push(c.id);
  }
  let partsTotal = 0;
  let truncated = 0;
  for (const conversation_id of new Set(ids)) {
    const conv = await client.conversations.find({ conversation_id });
    tally.add("conversations_retrieved", conv.id);
    for (const a of conv.source?.attachments ?? []) tally.add("attachments", a.url);
    const parts = conv.conversation_parts?.conversation_parts ?? [];
    for (const p of parts) {
      tally.add("conversation_parts", `${conversation_id}:${p.id}`);
      for (const a of p.attachments ?? []) tally.add("attachments", a.url);
    }
    // §2: at most the 500 most recent parts come back; statistics carry the true total.
    const trueCount = conv.statistics?.count_conversation_parts ?? parts.length;
    partsTotal += trueCount;
    if (trueCount > parts.length) truncated += 1;
  }
  notes.push(`${truncated} conversations truncated by the part cap`);
  return { conversation_parts_total: partsTotal, conversations_truncated: truncated };
}

/** Tickets via search: this SDK sends the cursor in the body correctly (§8.2). */
async function exportTickets(client, perPage, tally) {
  tally.touch("tickets");
  const first = await client.tickets.search({ query: ALL_TICKETS, pagination: { per_page: perPage } });
  await eachPage(first, (page) => {
    for (const t of page.data) if (t) tally.add("tickets", t.id);
  });
}

/** Articles and collections: page-based lists the SDK walks until an empty page (§2). */
async function exportHelpCenter(client, perPage, tally) {
  tally.touch("articles");
  for await (const a of await client.articles.list({ per_page: perPage })) tally.add("articles", a.id);
  tally.touch("collections");
  for await (const c of await client.helpCenters.collections.list({ per_page: perPage })) {
    tally.add("collections", c.id);
  }
}

/** Macros (2.16 only, §2) exist in this SDK only under `unstable`, with no pager. */
async function exportMacros(client, perPage, tally) {
  tally.touch("macros");
  let cursor;
  for (let n = 0; n < MAX_PAGES; n++) {
    // The client default version is 2.14 (§8.2), which has no macros; ask as the namespace says.
    const listed = await client.unstable.macros.listMacros(
      { per_page: perPage, starting_after: cursor },
      { version: "Unstable" },
    );
    for (const m of listed.data ?? []) if (m) tally.add("macros", m.id);
    const next = listed.pages?.next?.starting_after;
    if (!listed.data?.length || !next || next === cursor) return;
    cursor = next;
  }
  throw new Error("macros list did not end");
}

/** An error line without the token (the SDK's errors carry status and body only). */
function describe(err) {
  let text = err?.constructor?.name ?? "Error";
  if (err?.statusCode !== undefined) text += ` status=${err.statusCode}`;
  if (err?.body !== undefined) text += ` body=${JSON.stringify(err.body).slice(0, 300)}`;
  else if (err?.message) text += `: ${String(err.message).slice(0, 300)}`;
  return text;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  // §8.2: baseUrl replaces the regional host; maxRetries (default 2) covers 408/429/5xx.
  const options = { token: args.token, baseUrl: args.baseUrl.replace(/\/+$/, "") };
  if (args.retries >= 0) options.maxRetries = args.retries;
  const client = new IntercomClient(options);
  const tally = new Tally();
  const extra = {};
  const notes = [];
  const errors = {};
  const steps = [
    ["directory", () => exportDirectory(client, tally)],
    ["data_attributes", () => exportDataAttributes(client, tally)],
    ["contacts", () => exportContacts(client, args.perPage, tally)],
    ["companies", () => exportCompanies(client, args.perPage, tally, notes)],
    ["conversations", async () => Object.assign(extra, await exportConversations(client, args.perPage, tally, notes))],
    ["tickets", () => exportTickets(client, args.searchPerPage, tally)],
    ["help_center", () => exportHelpCenter(client, args.perPage, tally)],
    ["macros", () => exportMacros(client, args.perPage, tally)],
  ];
  const started = performance.now();
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      // One failing resource must not hide the others' counts.
      errors[name] = describe(err);
    }
  }
  const counts = {};
  for (const r of [...tally.ids.keys()].sort()) counts[r] = tally.ids.get(r).size;
  Object.assign(counts, extra);
  const require = createRequire(import.meta.url);
  const out = {
    sdk: SDK,
    sdk_version: require("intercom-client/package.json").version,
    counts,
    duplicates: tally.duplicates,
    errors,
    notes,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exitCode = Object.keys(errors).length ? 1 : 0;
}

await main();
