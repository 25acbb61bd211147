#!/usr/bin/env bash
# SDK conformance: export the deskmove Intercom sandbox through the official python-intercom (5.x)
# and intercom-client (7.x, Node) SDKs and compare every count with the world's own totals.
#
# Three runs: (1) rate limit off, no faults, SDK defaults; (2) the default rate limit and a few 5xx
# answers that the SDKs' own retries must absorb (both retry 5xx/429 when asked:
# ../shared/research/intercom-api.md §8.1, §8.2); (3) a rate limit tight enough to answer 429.
# Resets and truncated bodies are left out on purpose: neither SDK retries a broken connection or
# a cut body, and 429 storms (20 answers in a row) outlast any sane retry budget.
#
# Environment:
#   DESKMOVE_SDK_CACHE  where the Python venv lives (default: $HOME/.cache/deskmove)
#   DESKMOVE_BIN        deskmove binary to use (default: build it with cargo into
#                       $CARGO_TARGET_DIR, or target/ of this workspace)
#   DESKMOVE_SDK_OUT    where exports and expected totals are written (default: a temp dir)
#   DESKMOVE_SDK_SEED, DESKMOVE_SDK_CONVERSATIONS, DESKMOVE_SDK_CONTACTS   world size (7/200/300)
#   DESKMOVE_SDK_FAULTS fault mix of the second run (default 5xx=0.01,slow=0.002)
#   DESKMOVE_SDK_TIGHT_LIMIT  calls/min of the third run, a limit the exports really hit
#                       (default 1200 = 200 per 10-second window; 0 = skip that run)
# A fourth run writes through both SDKs (a contact, a back-dated conversation and a back-dated
# note reply; python/write.py, node/write.mjs) and checks them in the sandbox's GET /__sandbox/dump,
# with the notification log empty.
# Exit status: 0 when every check passed, 1 on any mismatch, 2 when the tools are missing.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${DESKMOVE_SDK_CACHE:-$HOME/.cache/deskmove}"
VENV="$CACHE/venv"
SEED="${DESKMOVE_SDK_SEED:-7}"
CONVERSATIONS="${DESKMOVE_SDK_CONVERSATIONS:-200}"
CONTACTS="${DESKMOVE_SDK_CONTACTS:-300}"
FAULTS="${DESKMOVE_SDK_FAULTS:-5xx=0.01,slow=0.002}"
TIGHT_LIMIT="${DESKMOVE_SDK_TIGHT_LIMIT:-1200}"
EXPORT_TIMEOUT=900

say() { printf 'sdk-conformance: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 2; }

# ---- prerequisites ---------------------------------------------------------------------------
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH; $2"; }
need python3 "install Python 3.9 or newer (e.g. apt-get install python3 python3-venv)"
need node "install Node.js 18 or newer (e.g. apt-get install nodejs npm)"
need npm "install npm (e.g. apt-get install npm)"
need timeout "install GNU coreutils"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
  die "python3 is $(python3 -V 2>&1); python-intercom 5 and these scripts need 3.9 or newer"
python3 -c 'import venv, ensurepip' 2>/dev/null ||
  die "python3 cannot create virtual environments; install the venv module (e.g. apt-get install python3-venv)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 18 ? 1 : 0)' ||
  die "node is $(node --version); intercom-client 7 needs Node 18 or newer"

hash_of() { python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }

# ---- Python SDK in a cached venv (reinstalled when requirements.txt changes) -----------------
REQ="$HERE/python/requirements.txt"
want="$(hash_of "$REQ")"
if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.deskmove-requirements" 2>/dev/null)" != "$want" ]]; then
  say "installing python-intercom into $VENV"
  python3 -m venv --clear "$VENV" || die "could not create the venv at $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" ||
    die "pip install -r python/requirements.txt failed (is PyPI reachable?)"
  echo "$want" >"$VENV/.deskmove-requirements"
fi
PY="$VENV/bin/python"

# ---- Node SDK from the committed lockfile ----------------------------------------------------
LOCK="$HERE/node/package-lock.json"
want="$(hash_of "$LOCK")"
if [[ "$(cat "$HERE/node/node_modules/.deskmove-lock" 2>/dev/null)" != "$want" ]]; then
  say "installing intercom-client with npm ci"
  (cd "$HERE/node" && npm ci --no-audit --no-fund --loglevel=error >&2) ||
    die "npm ci failed in conformance/sdk/node (is the npm registry reachable?)"
  echo "$want" >"$HERE/node/node_modules/.deskmove-lock"
fi

# ---- the deskmove binary ----------------------------------------------------------------------
if [[ -n "${DESKMOVE_BIN:-}" ]]; then
  BIN="$DESKMOVE_BIN"
else
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/deskmove"
  need cargo "install Rust, or point DESKMOVE_BIN at a built deskmove binary"
  say "building deskmove (cargo build -p deskmove)"
  (cd "$ROOT" && cargo build --quiet -p deskmove) || die "cargo build -p deskmove failed"
fi
[[ -x "$BIN" ]] || die "no deskmove binary at $BIN"
"$BIN" sandbox intercom --help >/dev/null 2>&1 || die "$BIN has no 'sandbox intercom' command"

# ---- sandbox lifecycle -----------------------------------------------------------------------
OUT="${DESKMOVE_SDK_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/deskmove-sdk.XXXXXX")}"
mkdir -p "$OUT"
SANDBOX_PID=""
stop_sandbox() {
  if [[ -n "$SANDBOX_PID" ]]; then
    kill -TERM "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
    SANDBOX_PID=""
  fi
}
# A temporary output folder is removed after a passing run and kept after a failing one.
KEEP_OUT="${DESKMOVE_SDK_OUT:+yes}"
on_exit() {
  local rc=$?
  stop_sandbox
  if [[ -z "$KEEP_OUT" && $rc -eq 0 ]]; then rm -rf "$OUT"; fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

BASE_URL=""
TOKEN=""
# start_sandbox DIR ARGS... : starts the sandbox, waits for its ready line, sets BASE_URL/TOKEN.
start_sandbox() {
  local dir="$1"
  shift
  "$BIN" sandbox intercom --port 0 --seed "$SEED" --conversations "$CONVERSATIONS" \
    --contacts "$CONTACTS" "$@" >"$dir/sandbox.out" 2>"$dir/sandbox.err" &
  SANDBOX_PID=$!
  local line=""
  for _ in $(seq 1 600); do
    line="$(grep -m1 '^base_url=' "$dir/sandbox.out" 2>/dev/null || true)"
    [[ -n "$line" ]] && break
    kill -0 "$SANDBOX_PID" 2>/dev/null || { tail -n 20 "$dir/sandbox.err" >&2; die "the sandbox exited before it was ready"; }
    sleep 0.1
  done
  [[ -n "$line" ]] || die "the sandbox printed no 'base_url=... token=...' line within 60 s"
  BASE_URL="$(sed -n 's/^base_url=\([^ ]*\).*/\1/p' <<<"$line")"
  TOKEN="$(sed -n 's/.* token=\([^ ]*\).*/\1/p' <<<"$line")"
  [[ "$BASE_URL" == http://127.0.0.1:* && -n "$TOKEN" ]] || die "could not read the sandbox's ready line"
  [[ "$BASE_URL" == */ ]] || BASE_URL="$BASE_URL/"
}

# run_once NAME RETRIES SANDBOX_ARGS... : one sandbox, both exports, expected totals saved.
run_once() {
  local name="$1" retries="$2"
  shift 2
  local dir="$OUT/$name"
  local retry_args=()
  ((retries > 0)) && retry_args=(--retries "$retries")
  mkdir -p "$dir"
  start_sandbox "$dir" "$@"
  say "run $name: sandbox at $BASE_URL ($*)"
  "$PY" "$HERE/compare.py" fetch "$BASE_URL" "$dir/expected.json" || die "could not read ${BASE_URL}__sandbox/expected"
  # One after the other: Intercom allows one open company scroll per app (§2).
  export_with "$dir" python-intercom "$PY" "$HERE/python/export.py" "$BASE_URL" "$TOKEN" "${retry_args[@]}"
  export_with "$dir" intercom-client node "$HERE/node/export.mjs" "$BASE_URL" "$TOKEN" "${retry_args[@]}"
  save_stats "$dir"
  stop_sandbox
}

# export_with DIR SDK CMD... : one export; its JSON goes to DIR/SDK.export.json. A failing export
# is reported by compare.py; its stderr tail is shown here to say why.
export_with() {
  local dir="$1" sdk="$2" rc=0
  shift 2
  say "run $(basename "$dir"): $sdk export"
  timeout "$EXPORT_TIMEOUT" "$@" >"$dir/$sdk.export.json" 2>"$dir/$sdk.stderr" || rc=$?
  if ((rc != 0)); then
    say "$sdk export exited with status $rc$( ((rc == 124)) && echo " (timed out after ${EXPORT_TIMEOUT} s)")"
    tail -n 5 "$dir/$sdk.stderr" >&2 || true
  fi
}

# Call statistics help explain a failure; best effort, no auth needed.
save_stats() {
  "$PY" - "$BASE_URL" "$1/stats.json" <<'EOF' || true
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "__sandbox/stats", timeout=10) as r:
    open(sys.argv[2], "wb").write(r.read())
EOF
}

# Run 1: limits off, SDK defaults (python: no retries; node: its default of 2).
run_once 1-no-limits 0 --rate-limit 0
# Run 2: Intercom's default rate limit and injected 5xx; retries switched on in both SDKs.
run_once 2-rate-limit-and-faults 4 --faults "$FAULTS"
# Run 3: a limit the exports really hit (the default one is never reached by a world this small),
# so each SDK must wait for X-RateLimit-Reset after a 429 (§3, §8) instead of failing.
if ((TIGHT_LIMIT > 0)); then
  run_once 3-tight-rate-limit 4 --rate-limit "$TIGHT_LIMIT"
fi

# Run 4: the write side. Each SDK writes; the dump shows what arrived, with its timestamps.
write_run() {
  local dir="$OUT/4-writes" sdk rc
  mkdir -p "$dir"
  start_sandbox "$dir" --rate-limit 0
  say "run 4-writes: sandbox at $BASE_URL"
  for sdk in python-intercom intercom-client; do
    rc=0
    if [[ "$sdk" == python-intercom ]]; then
      timeout 120 "$PY" "$HERE/python/write.py" "$BASE_URL" "$TOKEN" >"$dir/$sdk.writes.json" 2>"$dir/$sdk.stderr" || rc=$?
    else
      timeout 120 node "$HERE/node/write.mjs" "$BASE_URL" "$TOKEN" >"$dir/$sdk.writes.json" 2>"$dir/$sdk.stderr" || rc=$?
    fi
    ((rc == 0)) || { say "$sdk writes exited with status $rc"; tail -n 5 "$dir/$sdk.stderr" >&2 || true; }
  done
  "$PY" "$HERE/compare.py" dump "$BASE_URL" "$dir/dump.json" || die "could not read ${BASE_URL}__sandbox/dump"
  stop_sandbox
}
write_run

if [[ -n "$KEEP_OUT" ]]; then
  say "exports and totals in $OUT"
else
  say "exports and totals in $OUT (removed if every check passes)"
fi
status=0
"$PY" "$HERE/compare.py" report "$OUT" || status=$?
exit "$status"
