#!/usr/bin/env bash
# Throughput and latency of GlassShop's main operations, over HTTP, on a live server.
#
#   DATABASE_URL=postgresql://USER@HOST:5432/DB REDIS_URL=redis://HOST:6379/N ops/bench/run.sh
#   make bench                      # the same, with the same environment variables
#
# Against the real PostgreSQL and Redis named by DATABASE_URL and REDIS_URL (both required;
# the database is migrated and written to, so use one of its own), it:
#   1. seeds USERS accounts user00001@glassshop.test … with BENCH_PASSWORD (`glassshop seed`,
#      idempotent) and a staff account bench-staff@glassshop.test (`glassshop create-staff`);
#   2. starts `glassshop serve` on PORT pinned to CPU SERVER_CPU (taskset), RATE_LIMITS=off,
#      with the server's own argon2 settings (ARGON2_* from the environment, else defaults);
#   3. runs wrk pinned to CPU CLIENT_CPU for DURATION with CONNECTIONS connections (one wrk
#      thread each) per operation, and prints ok requests/s, p50, p99 and max latency:
#        me        query { me { id email firstName profile { phone preferences } } } (Bearer)
#        users     users(first: 50) { … profile { phone preferences } } as staff
#        login     as the seeded users in turn
#        refresh   X-Refresh-Token-Transport: body; every connection presents the token the
#                  previous refresh returned (a real rotation each time), see refresh.lua
#        register  a new unique email per request
#      me and users get a WARMUP run first (not reported), so the cache is warm.
# A response that is not 2xx, or whose body has GraphQL "errors", is an error; so are wrk's
# socket errors and timeouts (TIMEOUT). Errors are reported and make the script exit 1.
#
# Settings (environment variables, defaults in brackets): DURATION [20s], CONNECTIONS [16],
# OPS ["me users login refresh register"], USERS [10000], PORT [8099], SERVER_CPU [0],
# CLIENT_CPU [1], WARMUP [3s], TIMEOUT [30s], BENCH_PASSWORD, BENCH_STAFF_PASSWORD,
# LOG_LEVEL [WARNING: no access log], GLASSSHOP_BIN [.venv/bin].
#
# Needs wrk (Debian/Ubuntu: `sudo apt-get install wrk`), taskset (util-linux), curl, and
# the project's virtual environment (`make run` or `make test` creates it).
set -euo pipefail

cd "$(dirname "$0")/../.."
BENCH_DIR=ops/bench
BIN=${GLASSSHOP_BIN:-.venv/bin}

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-16}
OPS=${OPS:-"me users login refresh register"}
USERS=${USERS:-10000}
PORT=${PORT:-8099}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
WARMUP=${WARMUP:-3s}
TIMEOUT=${TIMEOUT:-30s}
export BENCH_PASSWORD=${BENCH_PASSWORD:-"bench pass phrase"}
BENCH_STAFF_PASSWORD=${BENCH_STAFF_PASSWORD:-"bench staff pass phrase"}
STAFF_EMAIL=bench-staff@glassshop.test
URL="http://127.0.0.1:${PORT}/graphql"

fail() {
  echo "ops/bench: $*" >&2
  exit 2
}

command -v wrk >/dev/null ||
  fail "wrk is not installed. On Debian/Ubuntu: sudo apt-get install wrk (https://github.com/wg/wrk)"
command -v taskset >/dev/null || fail "taskset is not installed (Debian/Ubuntu: util-linux)"
command -v curl >/dev/null || fail "curl is not installed"
[ -x "$BIN/glassshop" ] || fail "$BIN/glassshop not found: run \`make test\` or \`make run\` once"
[ -n "${DATABASE_URL:-}" ] || fail "set DATABASE_URL to a PostgreSQL database for the benchmark"
[ -n "${REDIS_URL:-}" ] || fail "set REDIS_URL to a Redis database for the benchmark"
[ "$CONNECTIONS" -ge 1 ] 2>/dev/null || fail "CONNECTIONS must be a positive number"
for cpu in "$SERVER_CPU" "$CLIENT_CPU"; do
  taskset -c "$cpu" true 2>/dev/null || fail "CPU $cpu is not available to taskset"
done
if curl -s -o /dev/null "http://127.0.0.1:${PORT}/healthz"; then
  fail "something already listens on port $PORT; set PORT"
fi

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== database: migrate and seed $USERS users"
"$BIN/glassshop" migrate
"$BIN/glassshop" seed --users "$USERS" --password "$BENCH_PASSWORD"
if ! staff=$(printf '%s\n' "$BENCH_STAFF_PASSWORD" |
  "$BIN/glassshop" create-staff --email "$STAFF_EMAIL" 2>&1); then
  case "$staff" in
  *"already exists"*) echo "staff user $STAFF_EMAIL already exists" ;;
  *) fail "create-staff failed: $staff" ;;
  esac
else
  echo "$staff"
fi

echo "== server: glassshop serve on port $PORT, CPU $SERVER_CPU"
RATE_LIMITS=off LOG_LEVEL=${LOG_LEVEL:-WARNING} \
  taskset -c "$SERVER_CPU" "$BIN/glassshop" serve --host 127.0.0.1 --port "$PORT" \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  if curl -fs -o /dev/null "http://127.0.0.1:${PORT}/readyz"; then
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; fail "the server exited"; }
  sleep 0.5
done
curl -fs -o /dev/null "http://127.0.0.1:${PORT}/readyz" ||
  { cat "$WORK/server.log" >&2; fail "the server did not become ready"; }

tokens() {
  "$BIN/python" -m ops.bench.tokens --url "$URL" "$@"
}

# wrk pinned to CLIENT_CPU, one thread per connection; prints its RESULT lines.
drive() {
  local op=$1 duration=$2
  BENCH_OP=$op taskset -c "$CLIENT_CPU" wrk --threads "$CONNECTIONS" \
    --connections "$CONNECTIONS" --duration "$duration" --timeout "$TIMEOUT" \
    --script "$BENCH_DIR/$op.lua" "$URL"
}

: >"$WORK/results"
BENCH_RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
export BENCH_RUN_ID BENCH_USERS=$USERS
for op in $OPS; do
  [ -f "$BENCH_DIR/$op.lua" ] || fail "unknown operation $op (no $BENCH_DIR/$op.lua)"
  echo "== $op: $DURATION, $CONNECTIONS connections"
  case "$op" in
  me) BENCH_TOKEN=$(tokens access user00001@glassshop.test) ;;
  users) BENCH_TOKEN=$(BENCH_PASSWORD=$BENCH_STAFF_PASSWORD tokens access "$STAFF_EMAIL") ;;
  refresh)
    tokens refresh --count "$CONNECTIONS" --out "$WORK/refresh-tokens"
    export BENCH_REFRESH_TOKENS="$WORK/refresh-tokens"
    ;;
  esac
  export BENCH_TOKEN=${BENCH_TOKEN:-}
  case "$op" in
  me | users) drive "$op" "$WARMUP" >/dev/null ;;
  esac
  drive "$op" "$DURATION" | tee "$WORK/$op.out" | grep -E '^(RESULT|FIRST_ERROR)' >>"$WORK/results" ||
    { cat "$WORK/$op.out" >&2; fail "wrk failed for $op"; }
done

echo
echo "== results: server on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU, $CONNECTIONS connections, $DURATION each"
printf '%-9s %10s %8s %10s %10s %10s %10s\n' operation ok errors "ok req/s" "p50 ms" "p99 ms" "max ms"
errors=0
while IFS=$'\t' read -r kind op ok failed rps p50 p99 max; do
  [ "$kind" = RESULT ] || continue
  printf '%-9s %10s %8s %10s %10s %10s %10s\n' "$op" "$ok" "$failed" "$rps" "$p50" "$p99" "$max"
  errors=$((errors + failed))
done <"$WORK/results"
if [ "$errors" -gt 0 ]; then
  echo
  echo "ops/bench: $errors error responses; the figures above include them. First errors:" >&2
  grep '^FIRST_ERROR' "$WORK/results" | cut -f2- >&2
  exit 1
fi
