#!/usr/bin/env python3
"""Export a whole Intercom workspace through the official python-intercom SDK and print counts.

Why: the deskmove Intercom sandbox must be good enough for the vendor's own client. This script
uses only the SDK's public API (no raw HTTP), walks every resource an export needs, and prints ONE
JSON object on stdout: unique ids per resource, duplicates seen, and what went wrong.
Facts about the SDK are in ../shared/research/intercom-api.md §8.1.

Usage: export.py BASE_URL TOKEN [--per-page N] [--search-per-page N] [--retries N]
"""

import argparse
import json
import sys
import time
from collections import Counter
from importlib.metadata import version

from intercom import Intercom, SingleFilterSearchRequest, StartingAfterPaging

SDK = "python-intercom"
# Tickets have no list endpoint, only search (../shared/research/intercom-api.md §2); this filter
# matches every ticket (all timestamps are positive epoch seconds, §5).
ALL_TICKETS = SingleFilterSearchRequest(field="created_at", operator=">", value="0")
# A cursor that repeats would loop forever; no honest export needs this many pages.
MAX_PAGES = 100_000


class Tally:
    """Unique ids per resource, and how often an id came back twice (nothing duplicated)."""

    def __init__(self):
        self.ids = {}
        self.duplicates = Counter()

    def add(self, resource, ident):
        seen = self.ids.setdefault(resource, set())
        if ident in seen:
            self.duplicates[resource] += 1
        seen.add(ident)

    def touch(self, resource):
        self.ids.setdefault(resource, set())

    def count(self, resource):
        return len(self.ids[resource]) if resource in self.ids else None


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("base_url", help="API root, e.g. http://127.0.0.1:PORT/")
    p.add_argument("token", help="bearer access token")
    p.add_argument("--per-page", type=int, default=50, help="page size for paged lists")
    p.add_argument(
        "--search-per-page",
        type=int,
        default=5,
        help="page size for ticket search; small so body-cursor paging runs even on small worlds",
    )
    p.add_argument(
        "--retries",
        type=int,
        default=0,
        help="retries on 408/409/429/5xx; 0 = the SDK default (none)",
    )
    return p.parse_args()


def request_options(retries):
    # §8.1: the SDK retries only when max_retries is set, and its counter starts at 2, so N
    # retries need max_retries = N + 2.
    return {"max_retries": retries + 2} if retries > 0 else None


def export_directory(client, ro, tally):
    """Admins, teams, tags: unpaged lists."""
    tally.touch("admins")
    for a in client.admins.list(request_options=ro).admins or []:
        tally.add("admins", a.id)
    tally.touch("teams")
    for t in client.teams.list(request_options=ro).teams or []:
        tally.add("teams", t.id)
    tally.touch("tags")
    for t in client.tags.list(request_options=ro).data or []:
        tally.add("tags", t.id)


def export_data_attributes(client, ro, tally):
    """Custom attribute definitions of both models, archived included (§2, §6)."""
    tally.touch("data_attributes")
    for model in ("contact", "company"):
        listed = client.data_attributes.list(model=model, include_archived=True, request_options=ro)
        for d in listed.data or []:
            # Built-in attributes have no id and custom=false (§6): only custom ones are definitions.
            if d.custom:
                tally.add("data_attributes", f"{model}:{d.id or d.name}")


def export_contacts(client, ro, per_page, tally):
    """Contacts through the cursor pager, then each contact's notes (page-based until empty)."""
    tally.touch("contacts")
    tally.touch("users")
    tally.touch("leads")
    ids = []
    for c in client.contacts.list(per_page=per_page, request_options=ro):
        tally.add("contacts", c.id)
        tally.add("users" if c.role == "user" else "leads", c.id)
        ids.append(c.id)
    tally.touch("notes")
    for cid in dict.fromkeys(ids):
        for n in client.notes.list(cid, per_page=per_page, request_options=ro):
            tally.add("notes", n.id)


def export_companies(client, ro, per_page, tally):
    """Companies through scroll (stops on the empty page, §2) and through the page-based list."""
    tally.touch("companies_scroll")
    for c in client.companies.scroll(request_options=ro):
        tally.add("companies_scroll", c.id)
    tally.touch("companies_list")
    for c in client.companies.list(per_page=per_page, request_options=ro):
        tally.add("companies_list", c.id)


def export_conversations(client, ro, per_page, tally, notes):
    """List every conversation, then retrieve each one for its parts (list items carry none)."""
    for r in ("conversations", "conversations_retrieved", "conversation_parts", "attachments"):
        tally.touch(r)
    ids = []
    for c in client.conversations.list(per_page=per_page, request_options=ro):
        tally.add("conversations", c.id)
        ids.append(c.id)
    parts_total = 0
    truncated = 0
    for cid in dict.fromkeys(ids):
        conv = client.conversations.find(cid, request_options=ro)
        tally.add("conversations_retrieved", conv.id)
        for a in (conv.source.attachments if conv.source else None) or []:
            tally.add("attachments", a.url)
        parts = (conv.conversation_parts.conversation_parts if conv.conversation_parts else None) or []
        for p in parts:
            tally.add("conversation_parts", f"{cid}:{p.id}")
            for a in p.attachments or []:
                tally.add("attachments", a.url)
        # §2: at most the 500 most recent parts come back; statistics carry the true total.
        true_count = conv.statistics.count_conversation_parts if conv.statistics else None
        if true_count is None:
            true_count = len(parts)
        parts_total += true_count
        if true_count > len(parts):
            truncated += 1
    notes.append(f"{truncated} conversations truncated by the part cap")
    return {"conversation_parts_total": parts_total, "conversations_truncated": truncated}


def export_tickets(client, ro, per_page, tally, notes):
    """Tickets via search, paged by hand: the SDK's auto-pager never sends the cursor (§8.1)."""
    tally.touch("tickets")
    cursor = None
    first_ids = None
    for _ in range(MAX_PAGES):
        paging = StartingAfterPaging(per_page=per_page, starting_after=cursor)
        page = client.tickets.search(query=ALL_TICKETS, pagination=paging, request_options=ro)
        items = [t for t in page.items or [] if t is not None]
        for t in items:
            tally.add("tickets", t.id)
        if first_ids is None:
            first_ids = [t.id for t in items]
            if page.has_next:
                # Show the known bug rather than assume it: the SDK's own next page repeats page 1.
                again = page.next_page()
                repeated = again is not None and [t.id for t in again.items or [] if t] == first_ids
                notes.append(f"tickets.search next_page() repeats page 1: {repeated}")
        nxt = page.response.pages.next if page.response and page.response.pages else None
        new_cursor = nxt.starting_after if nxt else None
        if not items or not new_cursor:
            return
        if new_cursor == cursor:
            raise RuntimeError("tickets search returned the same cursor twice")
        cursor = new_cursor
    raise RuntimeError("tickets search did not end")


def export_help_center(client, ro, per_page, tally):
    """Articles and collections: page-based lists the SDK walks until an empty page (§2)."""
    tally.touch("articles")
    for a in client.articles.list(per_page=per_page, request_options=ro):
        tally.add("articles", a.id)
    tally.touch("collections")
    for c in client.help_centers.collections.list(per_page=per_page, request_options=ro):
        tally.add("collections", c.id)


def export_macros(client, ro, per_page, tally):
    """Macros (2.16 only, §2) exist in this SDK only under `unstable`, with no pager."""
    tally.touch("macros")
    cursor = None
    for _ in range(MAX_PAGES):
        listed = client.unstable.macros.list_macros(per_page=per_page, starting_after=cursor, request_options=ro)
        for m in listed.data or []:
            if m is not None:
                tally.add("macros", m.id)
        nxt = listed.pages.next if listed.pages else None
        new_cursor = nxt.starting_after if nxt else None
        if not listed.data or not new_cursor or new_cursor == cursor:
            return
        cursor = new_cursor
    raise RuntimeError("macros list did not end")


def describe(exc):
    """An error line without the token (the SDK's errors carry status and body only)."""
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    text = f"{type(exc).__name__}"
    if status is not None:
        text += f" status={status}"
    if body is not None:
        text += f" body={json.dumps(body, default=str)[:300]}"
    elif str(exc):
        text += f": {str(exc)[:300]}"
    return text


def main():
    args = parse_args()
    # §8.1: base_url replaces the regional host; the SDK joins paths onto it.
    client = Intercom(token=args.token, base_url=args.base_url.rstrip("/"))
    ro = request_options(args.retries)
    tally = Tally()
    extra = {}
    notes = []
    errors = {}
    steps = [
        ("directory", lambda: export_directory(client, ro, tally)),
        ("data_attributes", lambda: export_data_attributes(client, ro, tally)),
        ("contacts", lambda: export_contacts(client, ro, args.per_page, tally)),
        ("companies", lambda: export_companies(client, ro, args.per_page, tally)),
        ("conversations", lambda: extra.update(export_conversations(client, ro, args.per_page, tally, notes))),
        ("tickets", lambda: export_tickets(client, ro, args.search_per_page, tally, notes)),
        ("help_center", lambda: export_help_center(client, ro, args.per_page, tally)),
        ("macros", lambda: export_macros(client, ro, args.per_page, tally)),
    ]
    started = time.monotonic()
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # one failing resource must not hide the others' counts
            errors[name] = describe(exc)
    counts = {r: tally.count(r) for r in sorted(tally.ids)}
    counts.update(extra)
    out = {
        "sdk": SDK,
        "sdk_version": version(SDK),
        "counts": counts,
        "duplicates": dict(tally.duplicates),
        "errors": errors,
        "notes": notes,
        "seconds": round(time.monotonic() - started, 2),
    }
    json.dump(out, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
