"""Export the deskmove Zendesk sandbox through zenpy, the way a hand-written script does, and
compare every count with the world's own totals (`/__sandbox/expected`).

zenpy is pointed at the sandbox with ZENPY_FORCE_SCHEME / ZENPY_FORCE_NETLOC and any subdomain
(../shared/research/zendesk-freshdesk-helpscout.md §6.1). Tickets and users come through zenpy's
cursor incremental exports, organizations through its time-based one (whose boundary items come
twice, §2.3: counted once by id), comments one ticket at a time through `tickets.comments`, with
inline images listed; deleted tickets are skipped because their comments answer 404 (§7.5).

Usage: export.py BASE_URL EMAIL TOKEN [--loop-only]
Prints one line per check (`ok name got=… want=…` or `FAIL …`) and, last,
`zenpy-conformance: N passed, M failed`. With --loop-only it runs only the ticket incremental
export and the per-ticket comments loop and prints `{"tickets": …, "comments": …, "seconds": …}`
(the benchmark's peer). Exit status 0 only when every check passed.
"""

import json
import os
import sys
import time
import urllib.parse
import urllib.request


def expected_totals(base_url):
    with urllib.request.urlopen(base_url.rstrip("/") + "/__sandbox/expected", timeout=30) as r:
        return json.load(r)


def client(base_url, email, token):
    parsed = urllib.parse.urlparse(base_url)
    os.environ["ZENPY_FORCE_SCHEME"] = parsed.scheme
    os.environ["ZENPY_FORCE_NETLOC"] = parsed.netloc
    from zenpy import Zenpy

    z = Zenpy(subdomain="sandbox", email=email, token=token)
    # zenpy looks a ticket's comments up in its comment cache by the ticket id first (§6.1).
    z.disable_caching()
    return z


def comments_loop(z, tickets):
    """Per ticket, its comments (deleted tickets skipped): counts by kind."""
    n = {"comments": 0, "public": 0, "private": 0, "voice": 0, "files": 0, "redacted": 0, "inline": 0}
    for t in tickets:
        if t.status == "deleted":
            continue
        for c in z.tickets.comments(ticket=t.id, include_inline_images=True):
            n["comments"] += 1
            n["public" if c.public else "private"] += 1
            n["voice"] += int(getattr(c, "type", "") == "VoiceComment")
            for a in c.attachments or []:
                if a.inline:
                    n["inline"] += 1
                elif a.file_name == "redacted.txt" and not a.size:
                    n["redacted"] += 1
                else:
                    n["files"] += 1
    return n


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    base_url, email, token = args
    z = client(base_url, email, token)
    if "--loop-only" in sys.argv:
        started = time.monotonic()
        tickets = list(z.tickets.incremental(start_time=0))
        n = comments_loop(z, tickets)
        print(json.dumps({"tickets": len(tickets), "comments": n["comments"],
                          "seconds": round(time.monotonic() - started, 3)}))
        return 0

    want = expected_totals(base_url)
    results = []

    def check(name, got_fn, *keys):
        target = sum(want[k] for k in keys)
        try:
            got = got_fn()
            results.append((got == target, name, got, target, ""))
        except Exception as e:  # one failing call must not hide the other checks
            results.append((False, name, None, target, f"{type(e).__name__}: {e}"))

    tickets = []

    def all_tickets():
        tickets.extend(z.tickets.incremental(start_time=0))
        return len({t.id for t in tickets})

    check("tickets (cursor incremental, archived included)", all_tickets, "tickets")
    check("deleted tickets", lambda: sum(t.status == "deleted" for t in tickets), "tickets_deleted")
    counts = {}

    def loop():
        counts.update(comments_loop(z, tickets))
        return counts["comments"]

    check("comments (per ticket, CBP)", loop, "comments")
    check("public comments", lambda: counts["public"], "comments_public")
    check("private comments (notes)", lambda: counts["private"], "comments_private")
    check("voice comments", lambda: counts["voice"], "voice_comments")
    check("attachments", lambda: counts["files"], "attachments")
    check("redacted.txt placeholders", lambda: counts["redacted"], "attachments_redacted")
    check("inline images", lambda: counts["inline"], "inline_images")
    users = []

    def all_users():
        users.extend(z.users.incremental(start_time=0))
        return len({u.id for u in users})

    check("users (cursor incremental)", all_users, "users")
    check("deleted users", lambda: sum(not u.active for u in users), "users_deleted")
    orgs = []

    def all_orgs():
        orgs.extend(z.organizations.incremental(start_time=0))
        return len({o.id for o in orgs})

    check("organizations (time-based, distinct ids)", all_orgs, "organizations")
    check("groups (deleted included)", lambda: len(list(z.groups())), "groups")
    check("group memberships", lambda: len(list(z.group_memberships())), "group_memberships")
    check("ticket fields", lambda: len(list(z.ticket_fields())), "ticket_fields")
    check("ticket forms", lambda: len(list(z.ticket_forms())), "ticket_forms")
    check("user fields", lambda: len(list(z.user_fields())), "user_fields")
    check("organization fields", lambda: len(list(z.organization_fields())), "organization_fields")
    check("macros", lambda: len(list(z.macros())), "macros")
    check("satisfaction ratings", lambda: len(list(z.satisfaction_ratings())), "satisfaction_ratings")
    check("help center categories", lambda: len(list(z.help_center.categories())), "hc_categories")
    check("help center sections", lambda: len(list(z.help_center.sections())), "hc_sections")
    check("help center articles", lambda: len(list(z.help_center.articles())), "articles")

    for ok, name, got, target, why in results:
        word = "ok  " if ok else "FAIL"
        print(f"{word} {name}: got={got} want={target}{'  ' + why if why else ''}")
    dupes = len(orgs) - len({o.id for o in orgs})
    print(f"note: zenpy yielded {dupes} boundary duplicate organization(s), counted once")
    passed = sum(1 for r in results if r[0])
    failed = len(results) - passed
    print(f"zenpy-conformance: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
