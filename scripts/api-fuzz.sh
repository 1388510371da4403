#!/usr/bin/env bash
# Fuzzes the JSON API with schemathesis (from PyPI) against its own OpenAPI
# document, every check on: the built qmtrack binary runs on a fresh data
# folder loaded with the demo data, and schemathesis calls each documented
# operation (and methods, parameters and tokens it does not document) as the
# programme lead, failing on any response the document does not allow.
#
# Usage: scripts/api-fuzz.sh [DATABASE_URL]
#   Without a URL the app gets a SQLite database in its temporary folder;
#   with one (an empty PostgreSQL database) it uses that.
# Environment:
#   QMTRACK_BIN                  the binary (default target/debug/qmtrack)
#   QMTRACK_SCHEMATHESIS_EXAMPLES  examples per operation (default 30)
#   QMTRACK_TOOLS_DIR            where the schemathesis venv lives (default target/tools)
set -euo pipefail
cd "$(dirname "$0")/.."

database_url="${1:-}"
bin="${QMTRACK_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/qmtrack}"
examples="${QMTRACK_SCHEMATHESIS_EXAMPLES:-30}"
tools="${QMTRACK_TOOLS_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/tools}"
# Pinned so a new release cannot change what passes; raise it on purpose.
schemathesis_version=4.32.5

venv="$(realpath -m "$tools")/schemathesis-$schemathesis_version"
# Run it rather than test for the file: a virtual environment whose folder
# was moved keeps a path to its old interpreter and no longer starts.
if ! "$venv/bin/st" --version >/dev/null 2>&1; then
  echo "== Installing schemathesis $schemathesis_version (pip, into $venv)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$schemathesis_version"
fi

work=$(mktemp -d /tmp/qmtrack-api-fuzz.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export QMTRACK_DATA_DIR="$work/data"
export QMTRACK_DATABASE_URL="${database_url:-sqlite://$work/data/qmtrack.sqlite}"
export QMTRACK_STANDARDS_DIR="$PWD/standards"
export QMTRACK_PUBLIC_BASE_URL="http://127.0.0.1:$port"
export QMTRACK_LOG=warn
export ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" ROCKET_LOG_LEVEL=critical
mkdir -p "$QMTRACK_DATA_DIR"

"$bin" demo >"$work/demo.log" 2>&1 || { cat "$work/demo.log" >&2; exit 1; }
# The programme lead sees every organisation, assessment and session.
token=$("$bin" token create --email alex.morgan@northbridge.example.org --label schemathesis 2>/dev/null)

"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz')" 2>/dev/null; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.2
done

# A fixed seed and no saved examples: the same cases every run, so a failure
# is the code's, and reproducible (a new check or schema change varies them).
started=$SECONDS
status=0
# From the temporary folder, where schemathesis leaves its cache.
(cd "$work" && "$venv/bin/st" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --max-examples "$examples" \
  --seed 1 \
  --generation-database none \
  --workers 1 \
  --no-color \
  --report-dir "$work/report") \
  || status=$?
echo "== schemathesis took $((SECONDS - started)) s"
if [ "$status" != 0 ]; then
  echo "== Server log (last 40 lines)"; tail -n 40 "$work/server.log"
fi
exit "$status"
