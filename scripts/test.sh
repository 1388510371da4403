#!/usr/bin/env bash
# Runs the whole test suite twice: on SQLite, then on a throwaway PostgreSQL
# server that this script installs (if missing), starts and removes. Each run
# ends with the browser journeys (tests/e2e) in Debian's headless Chromium.
# Each run then fuzzes the JSON API with schemathesis (scripts/api-fuzz.sh).
# Usage: scripts/test.sh            (both backends)
#        QMTRACK_TEST_BACKENDS=sqlite scripts/test.sh
#        QMTRACK_E2E=0 scripts/test.sh   (without the browser journeys)
#        QMTRACK_SCHEMATHESIS=0 scripts/test.sh   (without the API fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."

backends="${QMTRACK_TEST_BACKENDS:-sqlite postgres}"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

find_pg_bin() {
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

start_postgres() {
  local bin
  if ! bin=$(find_pg_bin); then
    echo "== Installing PostgreSQL (apt-get)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
    bin=$(find_pg_bin)
  fi
  PG_DIR=$(mktemp -d /tmp/qmtrack-pg.XXXXXX)
  PG_PORT=$(( 20000 + RANDOM % 20000 ))
  local run=()
  if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
    id postgres >/dev/null 2>&1 || as_root useradd --system --no-create-home postgres
    chown postgres "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync >/dev/null
  "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
  PG_STOP=("${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -m immediate stop)
  PG_BIN="$bin"
  export QMTRACK_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  echo "== PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on port $PG_PORT"
}

stop_postgres() {
  if [ -n "${PG_DIR:-}" ]; then
    "${PG_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
trap stop_postgres EXIT

# The certificate tests read PDFs back with pdftotext and check them with qpdf.
if ! command -v pdftotext >/dev/null || ! command -v qpdf >/dev/null; then
  echo "== Installing poppler-utils and qpdf (apt-get)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq poppler-utils qpdf >/dev/null
fi

# The reminder tests deliver to a real SMTP server: Debian's python3-aiosmtpd,
# run with Debian's own python3 (tests/support/smtp_sink.py), over TLS with
# a certificate the openssl command makes for each run.
if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || ! command -v openssl >/dev/null; then
  echo "== Installing python3-aiosmtpd and openssl (apt-get)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3 python3-aiosmtpd openssl >/dev/null
fi

# The browser journeys drive Debian's Chromium with playwright-core (which
# never downloads a browser of its own) and check pages with axe-core.
e2e="${QMTRACK_E2E:-1}"
if [ "$e2e" != 0 ]; then
  need=()
  [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v npm >/dev/null || need+=(nodejs npm)
  if [ ${#need[@]} -gt 0 ]; then
    echo "== Installing ${need[*]} (apt-get)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# The API fuzzer, schemathesis, comes from PyPI into a virtualenv under
# target/ (scripts/api-fuzz.sh installs it there on first use); Debian's
# python3 needs python3-venv for that.
fuzz="${QMTRACK_SCHEMATHESIS:-1}"
if [ "$fuzz" != 0 ] && ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "== Installing python3-venv (apt-get)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3 python3-venv >/dev/null
fi

# Build once; both runs reuse it. Building the integration tests builds the
# qmtrack binary too (with the same features, so nothing is built twice): the
# journeys run it.
cargo test --no-run --quiet
export QMTRACK_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/qmtrack"

LOG=$(mktemp /tmp/qmtrack-tests.XXXXXX)
# run_suite [API_FUZZ_DATABASE_URL]: the fuzzer's server gets that (empty)
# database, or SQLite in its own temporary folder.
run_suite() {
  cargo test --quiet 2>&1 | tee -a "$LOG"
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  if [ "$e2e" != 0 ]; then
    echo "== Browser journeys and accessibility checks (Chromium)"
    (cd tests/e2e && npm test 2>&1) | tee -a "$LOG"
    [ "${PIPESTATUS[0]}" = 0 ] || return 1
  fi
  if [ "$fuzz" != 0 ]; then
    echo "== API fuzzing against the OpenAPI document (schemathesis, every check)"
    scripts/api-fuzz.sh "${1:-}" 2>&1 | tee -a "$LOG"
    [ "${PIPESTATUS[0]}" = 0 ] || return 1
  fi
}

for backend in $backends; do
  case "$backend" in
    sqlite)
      echo "== Tests on SQLite"
      QMTRACK_TEST_POSTGRES_URL= QMTRACK_E2E_DATABASE_URL= run_suite
      ;;
    postgres)
      start_postgres
      # The journeys' server gets an empty database of its own.
      "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres qmtrack_e2e
      # And so does the API fuzzer's.
      "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres qmtrack_api_fuzz
      echo "== Tests on PostgreSQL"
      QMTRACK_E2E_DATABASE_URL="${QMTRACK_TEST_POSTGRES_URL%/postgres}/qmtrack_e2e" \
        run_suite "${QMTRACK_TEST_POSTGRES_URL%/postgres}/qmtrack_api_fuzz"
      ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
done
echo "== All tests passed on: $backends"
# One closing line for both runs together (cargo's, node's and schemathesis's
# results; a failed fuzzing run has stopped the script before this).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     /^# pass [0-9]+$/ { p += $3 } /^# fail [0-9]+$/ { f += $3 }
     /^ *[0-9]+ generated, [0-9]+ passed/ { p += $3 }
     END { printf "qmtrack: %d passed, %d failed\n", p, f }' "$LOG"
rm -f "$LOG"
