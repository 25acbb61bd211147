#!/usr/bin/env python3
"""Turns the run folders of run.sh into bench/results/intercom-export.json (stdout).

Share of the limit = API calls the sandbox admitted (every answer but 429) over what the limit
allows in the export's wall time: admitted / (limit_per_minute / 60 * seconds). The file host is
not rate-limited and is not counted.

Usage: summarize.py OUT RATE_LIMIT LATENCY_MS PEER_LIMIT
"""

import json
import os
import re
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def calls(stats):
    """(admitted, answers_429) over the API routes (the sandbox's own endpoints left out)."""
    admitted = rejected = 0
    for route, s in stats["calls"].items():
        if " /__sandbox/" in route:
            continue
        r429 = int(s["statuses"].get("429", 0))
        rejected += r429
        admitted += s["calls"] - r429
    return admitted, rejected


def peak_rss_mb(time_txt):
    with open(time_txt) as f:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
    return int(m.group(1)) / 1024 if m else None


def deskmove_run(folder, rate_limit):
    start, end, rc = open(os.path.join(folder, "wall.txt")).read().split()
    seconds = float(end) - float(start)
    admitted, rejected = calls(load(os.path.join(folder, "stats.json")))
    summary = load(os.path.join(folder, "export.json"))
    expected = load(os.path.join(folder, "expected.json"))
    run = {
        "seconds": seconds,
        "exit_code": int(rc),
        "api_calls_admitted": admitted,
        "answers_429": rejected,
        "peak_rss_mb": peak_rss_mb(os.path.join(folder, "time.txt")),
        "records": summary.get("records"),
        "problems": summary.get("problems"),
        "status": summary.get("status"),
        "world": {k: v for k, v in expected.items() if isinstance(v, int)},
    }
    if rate_limit:
        run["share_of_limit"] = admitted / (rate_limit / 60 * seconds)
    return run


def main():
    out, rate_limit, latency_ms, peer_limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    d = deskmove_run(os.path.join(out, "deskmove"), rate_limit)
    d["what"] = (
        "the whole export: admins, teams, tags, data attributes, companies, contacts, "
        "conversations and tickets with their parts, every attachment file, macros, Help Center"
    )
    peer = load(os.path.join(out, "peer", "playbook.json"))
    peer_admitted, peer_429 = calls(load(os.path.join(out, "peer", "stats.json")))
    world = peer["unique_listed"]
    extrapolated = peer["retrieved"] < world
    per_retrieval = peer["retrieve_seconds"] / max(peer["retrieved"], 1)
    peer_seconds = peer["list_seconds"] + per_retrieval * world if extrapolated else peer["seconds"]
    p = {
        "what": "python-intercom: conversations.list, then conversations.find for each, one call at a time; conversations only",
        "measured": peer,
        "api_calls_admitted": peer_admitted,
        "answers_429": peer_429,
        "seconds_per_retrieval": per_retrieval,
        "seconds": peer_seconds,
        "extrapolated": extrapolated,
    }
    if extrapolated:
        p["extrapolation"] = (
            f"measured list of all {world} + {peer['retrieved']} retrievals; "
            f"the other retrievals at the measured mean time per retrieval"
        )
    result = {
        "benchmark": "intercom-export",
        "machine": {"cpus": os.cpu_count(), "note": "shared 2-core machine, other builds running"},
        "sandbox": {"latency_ms": latency_ms, "rate_limit_per_minute": rate_limit, "window_seconds": 10},
        "deskmove": d,
        "python_intercom": p,
        "peer_seconds_over_deskmove_seconds": peer_seconds / d["seconds"],
        "targets": {"share_of_limit": 0.95, "accept_share_of_limit": 0.90, "ratio": 10, "peak_rss_mb_at_100k": 150},
    }
    big = os.path.join(out, "big")
    if os.path.exists(os.path.join(big, "wall.txt")):
        b = deskmove_run(big, 0)
        b["sandbox"] = "rate limit off, no latency: measures memory, not rate"
        result["memory_run"] = b
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
