#!/usr/bin/env python3
"""The playbook's way to export Intercom conversations, timed: python-intercom lists every
conversation, then retrieves each one, one call at a time (the migration guide's loop).

It reads conversations only: no contacts, companies, tickets, articles or files. It keeps
nothing on disk; it only counts what came back. Prints ONE JSON object on stdout.

Usage: playbook.py BASE_URL TOKEN [--limit N] [--per-page N]
  --limit N   retrieve only the first N listed conversations (0 = all); the caller
              extrapolates the rest from the measured per-retrieval time.
"""

import argparse
import json
import sys
import time
from importlib.metadata import version

from intercom import Intercom


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("base_url")
    p.add_argument("token")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--per-page", type=int, default=50)
    args = p.parse_args()
    # ../shared/research/intercom-api.md §8.1: base_url replaces the regional host.
    client = Intercom(token=args.token, base_url=args.base_url.rstrip("/"))

    started = time.monotonic()
    ids = [c.id for c in client.conversations.list(per_page=args.per_page)]
    listed = time.monotonic()

    wanted = list(dict.fromkeys(ids))
    if args.limit > 0:
        wanted = wanted[: args.limit]
    parts = 0
    for cid in wanted:
        conv = client.conversations.find(cid)
        if conv.conversation_parts and conv.conversation_parts.conversation_parts:
            parts += len(conv.conversation_parts.conversation_parts)
    done = time.monotonic()

    json.dump(
        {
            "sdk": f"python-intercom {version('python-intercom')}",
            "listed": len(ids),
            "unique_listed": len(dict.fromkeys(ids)),
            "retrieved": len(wanted),
            "parts_read": parts,
            "list_seconds": listed - started,
            "retrieve_seconds": done - listed,
            "seconds": done - started,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
