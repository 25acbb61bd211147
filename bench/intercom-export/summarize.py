#!/usr/bin/env python3
"""Turns the run folders of run.sh into bench/results/intercom-export.json (stdout).

Share of the limit = API calls the sandbox admitted (every answer but 429) over what the limit
allows in the export's wall time: admitted / (limit per 10-second window * windows), with
windows = seconds / 10, i.e. admitted / (limit_per_minute / 60 * seconds). The file host is
not rate-limited and is not counted. The python-intercom loop runs on the same sandbox after
deskmove: its calls are the sandbox's totals minus deskmove's.

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
    # `uptime` before and after: other work on the machine slows a run.
    for when in ("before", "after"):
        path = os.path.join(folder, f"load_{when}.txt")
        if os.path.exists(path):
            m = re.search(r"load average: ([\d.]+), ([\d.]+), ([\d.]+)", open(path).read())
            if m:
                run[f"load_average_{when}"] = [float(x) for x in m.groups()]
    if rate_limit:
        run["share_of_limit"] = admitted / (rate_limit / 60 * seconds)
    return run


def main():
    out, rate_limit, latency_ms, peer_limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    result = {
        "benchmark": "intercom-export",
        "machine": {"cpus": os.cpu_count(), "note": "other work on the machine shows in each run's load averages"},
        "sandbox": {"latency_ms": latency_ms, "rate_limit_per_minute": rate_limit, "window_seconds": 10},
        "targets": {"share_of_limit": 0.95, "accept_share_of_limit": 0.90, "ratio": 10, "peak_rss_mb_at_100k": 150},
    }
    if os.path.exists(os.path.join(out, "deskmove", "wall.txt")):
        main_runs(out, rate_limit, result)
    big = os.path.join(out, "big")
    if os.path.exists(os.path.join(big, "wall.txt")):
        b = deskmove_run(big, 0)
        budget = int(open(os.path.join(big, "budget.txt")).read())
        b["sandbox"] = "rate limit off, no latency: measures memory, not rate"
        b["client_calls_per_minute"] = budget
        b["client_budget"] = f"[source.http] calls_per_minute = {budget} (the default is 10,000)"
        bytes_file = os.path.join(big, "blob_bytes.txt")
        if os.path.exists(bytes_file):
            b["blob_bytes"] = int(open(bytes_file).read())
        result["memory_run"] = b
    print(json.dumps(result, indent=2))


def main_runs(out, rate_limit, result):
    d = deskmove_run(os.path.join(out, "deskmove"), rate_limit)
    d["what"] = (
        "the whole export: admins, teams, tags, data attributes, companies, contacts, "
        "conversations and tickets with their parts, every attachment file, macros, Help Center"
    )
    peer = load(os.path.join(out, "peer", "playbook.json"))
    # Same sandbox, after deskmove: the totals minus deskmove's own.
    total_admitted, total_429 = calls(load(os.path.join(out, "peer", "stats.json")))
    peer_admitted = total_admitted - d["api_calls_admitted"]
    peer_429 = total_429 - d["answers_429"]
    world = peer["unique_listed"]
    extrapolated = peer["retrieved"] < world
    per_retrieval = peer["retrieve_seconds"] / max(peer["retrieved"], 1)
    peer_seconds = peer["list_seconds"] + per_retrieval * world if extrapolated else peer["seconds"]
    p = {
        "what": "python-intercom: conversations.list, then conversations.find for each, one call at a time; conversations only; on the same sandbox right after deskmove",
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
    result["deskmove"] = d
    result["python_intercom"] = p
    result["same_sandbox"] = True
    result["peer_seconds_over_deskmove_seconds"] = peer_seconds / d["seconds"]


if __name__ == "__main__":
    main()
