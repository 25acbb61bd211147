#!/usr/bin/env python3
"""Compare what each official SDK exported with the sandbox world's own totals.

Why: the sandbox knows every fact of its synthetic world (`GET /__sandbox/expected`); an SDK export
is complete only if each count equals the world's and no id came back twice. One check is one
SDK x one resource count. Standard library only, so it runs before or without the SDK venv.

The write run (a folder with dump.json, the sandbox's `GET /__sandbox/dump` after both SDKs wrote)
checks each SDK's <sdk>.writes.json instead: its contact, conversation and reply reached the
sandbox with the timestamps sent, and nobody was notified.

Usage:
  compare.py fetch BASE_URL OUT_JSON   save BASE_URL/__sandbox/expected (no auth) to OUT_JSON
  compare.py dump BASE_URL OUT_JSON    save BASE_URL/__sandbox/dump (no auth) to OUT_JSON
  compare.py report OUT_DIR            OUT_DIR/<run>/expected.json + OUT_DIR/<run>/<sdk>.json,
                                       prints a table per run and the summary line; exit 1 on any
                                       failed check
"""

import json
import sys
import urllib.request
from pathlib import Path

# (export count, expected keys to try in order, required). Required ones are the acceptance list
# of R1.2; the others are checked when the sandbox reports them. Key names are those of the
# Intercom sandbox's `/__sandbox/expected` (crate deskmove-intercom-sandbox, inspect.rs).
CHECKS = [
    # GET /admins lists current teammates; departed ones only author old parts.
    ("admins", ["admins"], True),
    ("teams", ["teams"], True),
    ("tags", ["tags"], True),
    # The exports ask with include_archived=true.
    ("data_attributes", ["data_attributes_including_archived"], False),
    ("contacts", ["contacts"], True),
    ("users", ["users"], False),
    ("leads", ["leads"], False),
    ("notes", ["notes"], False),
    ("companies_scroll", ["companies"], True),
    # The list hides companies without users and stops at 10,000 (../shared/research/intercom-api.md §2).
    ("companies_list", ["companies_visible_in_list"], True),
    ("conversations", ["conversations"], True),
    ("conversations_retrieved", ["conversations"], True),
    # A retrieval returns at most the 500 most recent parts (§2); statistics carry the true total.
    ("conversation_parts", ["conversation_parts_retrievable"], True),
    ("conversation_parts_total", ["conversation_parts"], True),
    ("conversations_truncated", ["conversations_over_part_cap"], False),
    ("attachments", ["attachments_retrievable"], False),
    ("tickets", ["tickets"], False),
    ("articles", ["articles"], True),
    ("collections", ["collections"], True),
    ("macros", ["macros"], False),
]


def fetch(base_url, out, what="expected"):
    url = base_url.rstrip("/") + "/__sandbox/" + what
    with urllib.request.urlopen(url, timeout=30) as resp:
        data = json.load(resp)
    Path(out).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return 0


def load(path):
    try:
        return json.loads(Path(path).read_text()), None
    except (OSError, ValueError) as exc:
        return None, f"no readable export ({type(exc).__name__})"


def check_writes(run_dir):
    """Rows for the write run: what each SDK wrote, found in the sandbox's dump."""
    dump, problem = load(run_dir / "dump.json")
    if dump is None:
        return [("-", "dump", None, None, False, problem)]
    rows = []
    for path in sorted(run_dir.glob("*.writes.json")):
        sdk = path.name.removesuffix(".writes.json")
        sent, problem = load(path)
        if sent is None:
            rows.append((sdk, "writes", None, None, False, problem))
            continue
        for step, error in sorted(sent.get("errors", {}).items()):
            rows.append((sdk, f"error:{step}", None, None, False, error))
        contact = next((c for c in dump["contacts"] if c["id"] == sent.get("contact_id")), None)
        ok = contact is not None and contact.get("email") == sent.get("email")
        rows.append((sdk, "write:contact", int(ok), 1, ok, "" if ok else "contact not in the dump"))
        conv = next((c for c in dump["conversations"] if c["id"] == sent.get("conversation_id")), None)
        got = conv and conv["source"]["created_at"]
        ok = conv is not None and conv["contact_id"] == sent.get("contact_id") and got == sent.get("conversation_created_at")
        rows.append((sdk, "write:conversation", got, sent.get("conversation_created_at"), ok,
                     "" if ok else "conversation missing, or not the contact's, or created_at lost"))
        parts = conv["parts"] if conv else []
        reply = next((p for p in parts if p["id"] == sent.get("reply_part_id")), None)
        got = reply and reply["created_at"]
        ok = reply is not None and reply["part_type"] == "note" and got == sent.get("reply_created_at") \
            and reply["author"] == {"kind": "admin", "id": sent.get("admin_id")}
        rows.append((sdk, "write:reply", got, sent.get("reply_created_at"), ok,
                     "" if ok else "reply missing, or its type, author or created_at lost"))
        told = [n for n in dump["notification_log"] if n["contact_id"] == sent.get("contact_id")]
        rows.append((sdk, "write:nobody_notified", len(told), 0, not told, f"{len(told)} deliveries" if told else ""))
    if not rows:
        rows.append(("-", "writes", None, None, False, "no <sdk>.writes.json"))
    return rows


def check_run(run_dir):
    """Rows (sdk, resource, got, want, ok, why) for one run."""
    if (run_dir / "dump.json").exists() or run_dir.name.endswith("writes"):
        return check_writes(run_dir)
    expected, problem = load(run_dir / "expected.json")
    if expected is None:
        return [("-", "expected", None, None, False, problem)]
    rows = []
    for export_path in sorted(run_dir.glob("*.export.json")):
        sdk = export_path.name.removesuffix(".export.json")
        export, problem = load(export_path)
        if export is None:
            rows.append((sdk, "export", None, None, False, problem))
            continue
        counts = export.get("counts", {})
        dups = export.get("duplicates", {})
        for resource, keys, required in CHECKS:
            key = next((k for k in keys if k in expected), None)
            if key is None:
                if required:
                    rows.append((sdk, resource, counts.get(resource), None, False, "sandbox reports no total"))
                continue
            got, want = counts.get(resource), expected[key]
            why = []
            if got != want:
                why.append("missing" if got is None else f"off by {got - want:+d}")
            if dups.get(resource):
                why.append(f"{dups[resource]} duplicates")
            rows.append((sdk, resource, got, f"{want} ({key})", not why, ", ".join(why)))
        for step, error in sorted(export.get("errors", {}).items()):
            rows.append((sdk, f"error:{step}", None, None, False, error))
    return rows


def report(out_dir):
    out_dir = Path(out_dir)
    passed = failed = 0
    for run_dir in sorted(p for p in out_dir.iterdir() if p.is_dir()):
        rows = check_run(run_dir)
        print(f"\n== run {run_dir.name}")
        print(f"{'sdk':<16} {'resource':<26} {'got':>8}  {'expected':<40} result")
        for sdk, resource, got, want, ok, why in rows:
            got_s = "-" if got is None else str(got)
            want_s = "-" if want is None else str(want)
            verdict = "ok" if ok else f"FAIL {why}"
            print(f"{sdk:<16} {resource:<26} {got_s:>8}  {want_s:<40} {verdict}")
            passed += ok
            failed += not ok
        for export_path in sorted(run_dir.glob("*.export.json")):
            export, _ = load(export_path)
            for note in (export or {}).get("notes", []):
                print(f"note {export_path.name.removesuffix('.export.json')}: {note}")
            if export and "seconds" in export:
                print(f"time {export_path.name.removesuffix('.export.json')}: {export['seconds']} s")
    print(f"sdk-conformance: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "fetch":
        return fetch(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "dump":
        return fetch(argv[2], argv[3], "dump")
    if len(argv) == 3 and argv[1] == "report":
        return report(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
