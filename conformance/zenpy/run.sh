#!/usr/bin/env bash
# zenpy conformance: export the deskmove Zendesk sandbox through zenpy (2.0.57), Zendesk's most
# used Python client, with its own incremental exports and per-ticket comment helper, and compare
# every count with the world's own totals (/__sandbox/expected).
#
# Two runs: (1) limits off; (2) the smallest plan's account limit (Team, 200 calls/min, which an
# export of this world really hits) and the incremental exports' 10/min, whose 429s zenpy must
# wait out through Retry-After
# (../shared/research/zendesk-freshdesk-helpscout.md §6.1). zenpy does not retry 5xx answers, broken
# connections or cut bodies, so the sandbox's faults stay off.
#
# Environment:
#   DESKMOVE_SDK_CACHE  where the Python venv lives (default: $HOME/.cache/deskmove; the venv is
#                       venv-zenpy inside it, reinstalled when requirements.txt changes)
#   DESKMOVE_BIN        deskmove binary to use (default: build it with cargo into
#                       $CARGO_TARGET_DIR, or target/ of this workspace)
#   DESKMOVE_ZENPY_OUT  where each run's output is kept (default: a temp dir, removed on success)
#   DESKMOVE_ZENPY_SEED, DESKMOVE_ZENPY_TICKETS, DESKMOVE_ZENPY_CONTACTS   world size (7/200/150)
# Last line: `zenpy-conformance: N passed, M failed`. Exit status: 0 when every check passed,
# 1 on any mismatch, 2 when the tools are missing.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${DESKMOVE_SDK_CACHE:-$HOME/.cache/deskmove}"
VENV="$CACHE/venv-zenpy"
SEED="${DESKMOVE_ZENPY_SEED:-7}"
TICKETS="${DESKMOVE_ZENPY_TICKETS:-200}"
CONTACTS="${DESKMOVE_ZENPY_CONTACTS:-150}"
EXPORT_TIMEOUT=900

say() { printf 'zenpy-conformance: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; echo "zenpy-conformance: 0 passed, 1 failed"; exit 2; }

# ---- prerequisites ---------------------------------------------------------------------------
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH; $2"; }
need python3 "install Python 3.9 or newer (e.g. apt-get install python3 python3-venv)"
need timeout "install GNU coreutils"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
  die "python3 is $(python3 -V 2>&1); zenpy and this script need 3.9 or newer"
python3 -c 'import venv, ensurepip' 2>/dev/null ||
  die "python3 cannot create virtual environments; install the venv module (e.g. apt-get install python3-venv)"

hash_of() { python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }

# ---- zenpy in a cached venv (reinstalled when requirements.txt changes) ----------------------
REQ="$HERE/requirements.txt"
want="$(hash_of "$REQ")"
if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.deskmove-requirements" 2>/dev/null)" != "$want" ]]; then
  say "installing zenpy into $VENV"
  python3 -m venv --clear "$VENV" || die "could not create the venv at $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" ||
    die "pip install -r conformance/zenpy/requirements.txt failed (is PyPI reachable?)"
  echo "$want" >"$VENV/.deskmove-requirements"
fi
PY="$VENV/bin/python"

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
"$BIN" sandbox zendesk --help >/dev/null 2>&1 || die "$BIN has no 'sandbox zendesk' command"

# ---- sandbox lifecycle -----------------------------------------------------------------------
OUT="${DESKMOVE_ZENPY_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/deskmove-zenpy.XXXXXX")}"
mkdir -p "$OUT"
SANDBOX_PID=""
stop_sandbox() {
  if [[ -n "$SANDBOX_PID" ]]; then
    kill -TERM "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
    SANDBOX_PID=""
  fi
}
KEEP_OUT="${DESKMOVE_ZENPY_OUT:+yes}"
on_exit() {
  local rc=$?
  stop_sandbox
  if [[ -z "$KEEP_OUT" && $rc -eq 0 ]]; then rm -rf "$OUT"; fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

BASE_URL="" TOKEN="" EMAIL=""
# start_sandbox DIR ARGS... : starts the sandbox, waits for its ready line, sets BASE_URL/TOKEN/EMAIL.
start_sandbox() {
  local dir="$1"
  shift
  "$BIN" sandbox zendesk --port 0 --seed "$SEED" --tickets "$TICKETS" --contacts "$CONTACTS" "$@" \
    >"$dir/sandbox.out" 2>"$dir/sandbox.err" &
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
  EMAIL="$(sed -n 's/.* email=\([^ ]*\).*/\1/p' <<<"$line")"
  [[ "$BASE_URL" == http://127.0.0.1:* && -n "$TOKEN" && -n "$EMAIL" ]] || die "could not read the sandbox's ready line"
}

PASSED=0 FAILED=0
# run_once NAME SANDBOX_ARGS... : one sandbox, one zenpy export compared with its totals.
run_once() {
  local name="$1" rc=0
  shift
  local dir="$OUT/$name"
  mkdir -p "$dir"
  start_sandbox "$dir" "$@"
  say "run $name: sandbox at $BASE_URL ($*)"
  timeout "$EXPORT_TIMEOUT" "$PY" "$HERE/export.py" "$BASE_URL" "$EMAIL" "$TOKEN" \
    >"$dir/report.txt" 2>"$dir/zenpy.stderr" || rc=$?
  sed "s/^/  [$name] /" "$dir/report.txt" >&2
  if ((rc > 1)); then
    say "the zenpy export exited with status $rc$( ((rc == 124)) && echo " (timed out after ${EXPORT_TIMEOUT} s)")"
    tail -n 5 "$dir/zenpy.stderr" >&2 || true
  fi
  local summary
  summary="$(grep -E '^zenpy-conformance: [0-9]+ passed, [0-9]+ failed$' "$dir/report.txt" | tail -n1 || true)"
  if [[ -z "$summary" ]]; then
    FAILED=$((FAILED + 1))
  else
    PASSED=$((PASSED + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$summary")))
    FAILED=$((FAILED + $(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$summary")))
  fi
  # Call statistics (429s included) help explain a failure; best effort, no auth needed.
  "$PY" -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1] + "/__sandbox/stats", timeout=10).read())' \
    "$BASE_URL" "$dir/stats.json" 2>/dev/null || true
  stop_sandbox
}

run_once 1-no-limits --rate-limit 0 --incremental-rate-limit 0
run_once 2-team-plan-limits --rate-limit 200

say "reports in $OUT$([[ -z "$KEEP_OUT" ]] && echo " (removed if every check passes)")"
echo "zenpy-conformance: $PASSED passed, $FAILED failed"
((FAILED == 0))
