#!/usr/bin/env bash
# The Intercom export benchmark (issue 8, R2.1): `deskmove export` against `deskmove sandbox
# intercom` at 25 ms latency and the sandbox's default limit (10,000 calls/min in 10-second
# windows), the share of that limit deskmove uses, then the playbook's python-intercom loop on
# the same sandbox, and peak RSS at two world sizes. Writes bench/results/intercom-export.json.
# Measures only; asserts nothing.
#
# Environment (defaults in brackets):
#   CONVERSATIONS [10000]  world of the timed runs; other world sizes are the sandbox's defaults
#   BIG_CONVERSATIONS [100000]  world of the memory run: sandbox limit off, no latency, and
#                          deskmove's budget raised to BIG_CALLS_PER_MINUTE (it measures memory,
#                          not rate); 0 skips it
#   BIG_CALLS_PER_MINUTE [60000]  `[source.http] calls_per_minute` of the memory run
#   RUNS ["main big"]  which runs to do: `main` (deskmove + the loop), `big` (memory); with the
#                   same OUT, runs done earlier are kept in the figures
#   LATENCY_MS [25]  SEED [42]
#   PEER_LIMIT [0]  retrieve only the first N conversations in the Python loop (0 = all); its
#                   retrieval time is then extrapolated linearly to the whole world
#   DESKMOVE_SDK_CACHE [$HOME/.cache/deskmove]  where the python-intercom venv lives
#   CARGO_TARGET_DIR [$HOME/.cache/deskmove/target]
#   OUT [a temp dir]  run folders (stores, logs, stats) are kept there
#   BUILD [1]  0 uses the release binary already built in CARGO_TARGET_DIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CONVERSATIONS="${CONVERSATIONS:-10000}"
BIG_CONVERSATIONS="${BIG_CONVERSATIONS:-100000}"
BIG_CALLS_PER_MINUTE="${BIG_CALLS_PER_MINUTE:-60000}"
RUNS="${RUNS:-main big}"
LATENCY_MS="${LATENCY_MS:-25}"
SEED="${SEED:-42}"
PEER_LIMIT="${PEER_LIMIT:-0}"
RATE_LIMIT=10000 # the sandbox's default, Intercom's default private-app limit
CACHE="${DESKMOVE_SDK_CACHE:-$HOME/.cache/deskmove}"
VENV="$CACHE/venv"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deskmove/target}"
BIN="$CARGO_TARGET_DIR/release/deskmove"
OUT="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/deskmove-intercom-export.XXXXXX")}"
RESULTS="$ROOT/bench/results/intercom-export.json"
TOKEN_ENV=DESKMOVE_BENCH_INTERCOM_TOKEN

say() { printf 'intercom-export: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 2; }
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is needed for peak RSS"

# ---- python-intercom in the venv conformance/sdk/run.sh makes (same requirements) ------------
REQ="$ROOT/conformance/sdk/python/requirements.txt"
if ! "$VENV/bin/python" -c 'import intercom' 2>/dev/null; then
  say "installing python-intercom into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
fi
PY="$VENV/bin/python"

if [[ "${BUILD:-1}" != 0 ]]; then
  say "building deskmove (release)"
  (cd "$ROOT" && cargo build --release --quiet -p deskmove)
fi
[[ -x "$BIN" ]] || die "no release binary at $BIN"

mkdir -p "$OUT"
SANDBOX_PID=""
stop_sandbox() {
  if [[ -n "$SANDBOX_PID" ]]; then
    kill -TERM "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
    SANDBOX_PID=""
  fi
}
trap stop_sandbox EXIT
trap 'exit 130' INT TERM

# start_sandbox DIR CONVERSATIONS ARGS... : sets BASE_URL, TOKEN, FILES_URL.
start_sandbox() {
  local dir="$1" conversations="$2"
  shift 2
  mkdir -p "$dir"
  "$BIN" sandbox intercom --seed "$SEED" --conversations "$conversations" "$@" \
    >"$dir/sandbox.out" 2>"$dir/sandbox.err" &
  SANDBOX_PID=$!
  local line=""
  for _ in $(seq 1 600); do
    line="$(grep -m1 '^base_url=' "$dir/sandbox.out" 2>/dev/null || true)"
    [[ -n "$line" ]] && break
    kill -0 "$SANDBOX_PID" 2>/dev/null || die "the sandbox exited: $(tail -n 5 "$dir/sandbox.err")"
    sleep 0.1
  done
  [[ -n "$line" ]] || die "no ready line from the sandbox within 60 s"
  BASE_URL="$(sed -n 's/^base_url=\([^ ]*\).*/\1/p' <<<"$line")"
  TOKEN="$(sed -n 's/.* token=\([^ ]*\).*/\1/p' <<<"$line")"
  FILES_URL="$(sed -n 's/.* files_url=\([^ ]*\).*/\1/p' <<<"$line")"
  [[ "$BASE_URL" == */ ]] || BASE_URL="$BASE_URL/"
}

fetch_json() { # URL FILE
  "$PY" - "$1" "$2" <<'PYEOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=30) as r:
    open(sys.argv[2], "wb").write(r.read())
PYEOF
}

now() { date +%s.%N; }

# deskmove_export DIR [CALLS_PER_MINUTE] : one `deskmove export --json` in DIR against the
# running sandbox; the budget is deskmove's default unless CALLS_PER_MINUTE is given.
deskmove_export() {
  local dir="$1" budget="${2:-}" hostport http=""
  hostport="$(sed -E 's#^https?://([^/]+).*#\1#' <<<"$FILES_URL")"
  [[ -n "$budget" ]] && http="http = { calls_per_minute = $budget }"
  cat >"$dir/deskmove.toml" <<TOML
[source]
kind = "intercom"
base_url = "$BASE_URL"
token_env = "$TOKEN_ENV"
file_hosts = ["$hostport"]
$http

# Unused by export; the config needs a target.
[target]
kind = "chatwoot"
base_url = "http://127.0.0.1:1"
account_id = 1
token_env = "CHATWOOT_TOKEN"
TOML
  fetch_json "${BASE_URL}__sandbox/expected" "$dir/expected.json"
  local start end rc=0
  # The machine is shared: its load goes into the figures.
  uptime >"$dir/load_before.txt"
  start="$(now)"
  (cd "$dir" && env "$TOKEN_ENV=$TOKEN" /usr/bin/time -v -o "$dir/time.txt" \
    "$BIN" export --json >"$dir/export.json" 2>"$dir/export.err") || rc=$?
  end="$(now)"
  # 3 = finished with problems (e.g. conversations over Intercom's 500-part cap, reported).
  ((rc == 0 || rc == 3)) || die "deskmove export exited $rc: $(tail -n 5 "$dir/export.err")"
  echo "$start $end $rc" >"$dir/wall.txt"
  uptime >"$dir/load_after.txt"
  fetch_json "${BASE_URL}__sandbox/stats" "$dir/stats.json"
  if grep -q "$TOKEN" "$dir/export.json" "$dir/export.err"; then die "the token reached deskmove's output"; fi
}

wants() { [[ " $RUNS " == *" $1 "* ]]; }

if wants main; then
  # 1. deskmove, 10k world, latency, default limit.
  say "deskmove export: $CONVERSATIONS conversations, ${LATENCY_MS} ms latency, $RATE_LIMIT calls/min"
  rm -rf "$OUT/deskmove" "$OUT/peer"
  start_sandbox "$OUT/deskmove" "$CONVERSATIONS" --latency-ms "$LATENCY_MS" --rate-limit "$RATE_LIMIT"
  deskmove_export "$OUT/deskmove"

  # 2. the playbook's loop on the same sandbox, right after (its stats are cumulative: the
  # summary subtracts deskmove's). A pause first, so no 10-second rate window is still warm.
  say "python-intercom loop on the same sandbox (conversations only, limit ${PEER_LIMIT:-0})"
  mkdir -p "$OUT/peer"
  sleep 15
  "$PY" "$HERE/playbook.py" "$BASE_URL" "$TOKEN" --limit "$PEER_LIMIT" >"$OUT/peer/playbook.json" 2>"$OUT/peer/playbook.err" ||
    die "playbook.py failed: $(tail -n 5 "$OUT/peer/playbook.err")"
  fetch_json "${BASE_URL}__sandbox/stats" "$OUT/peer/stats.json"
  stop_sandbox
fi

# 3. memory at the big world: sandbox limit off, no latency, a raised budget.
if wants big && ((BIG_CONVERSATIONS > 0)); then
  say "deskmove export: $BIG_CONVERSATIONS conversations, no latency, sandbox limit off, budget $BIG_CALLS_PER_MINUTE/min (memory run)"
  rm -rf "$OUT/big"
  start_sandbox "$OUT/big" "$BIG_CONVERSATIONS" --rate-limit 0
  deskmove_export "$OUT/big" "$BIG_CALLS_PER_MINUTE"
  echo "$BIG_CALLS_PER_MINUTE" >"$OUT/big/budget.txt"
  stop_sandbox
  # The files are only weighed, then removed: 100,000 conversations stage about 20 GB of them.
  du -sb "$OUT/big/blobs" | cut -f1 >"$OUT/big/blob_bytes.txt"
  rm -rf "$OUT/big/blobs"
fi

python3 "$HERE/summarize.py" "$OUT" "$RATE_LIMIT" "$LATENCY_MS" "$PEER_LIMIT" >"$RESULTS"
say "figures in $RESULTS (run folders in $OUT)"
cat "$RESULTS"
