#!/usr/bin/env bash
# Throughput and latency of GlassShop's main operations, over HTTP, on a live server, side by
# side with a bare Starlette + asyncpg baseline doing the same work (ops/bench/baseline/app.py).
#
#   DATABASE_URL=postgresql://USER@HOST:5432/DB REDIS_URL=redis://HOST:6379/N ops/bench/run.sh
#   make bench                      # the same, with the same environment variables
#   USERS=1000000 make bench        # a million seeded users: the seed takes ~2 minutes the
#                                   # first time (re-runs skip the users that exist); give it
#                                   # a database of its own (seeding adds, never removes)
#
# Against the real PostgreSQL and Redis named by DATABASE_URL and REDIS_URL (both required;
# the database is migrated and written to, so use one of its own), it:
#   1. seeds USERS accounts user00001@glassshop.test … with BENCH_PASSWORD (`glassshop seed`,
#      idempotent) and a staff account bench-staff@glassshop.test (`glassshop create-staff`),
#      then VACUUM (ANALYZE)s the tables (ops/bench/vacuum.py), so that autovacuum does not
#      start in the middle of some row;
#   2. starts, all pinned to CPU SERVER_CPU (taskset), on the same database:
#        baseline   python -m ops.bench.baseline.app on BASELINE_PORT: the yardstick, plain
#                   Starlette + asyncpg + orjson, the same answers to the same requests (see
#                   its docstring for what it does and leaves out);
#        service    `glassshop serve` on PORT, RATE_LIMITS=off, as it is configured today;
#                   if api/settings.py declares RESPONSE_CACHE, twice instead: with it off
#                   (PORT) and on (PORT+2), the default one marked "(default)";
#      all with the server's own argon2 settings (ARGON2_* from the environment, else the
#      defaults) and JWT settings; the baseline gets them from api/settings.py;
#   3. checks that the baseline answers like the service (ops/bench/check.py);
#   4. for each operation in turn, on each server in turn (so that the figures compared were
#      measured within a minute of each other), waits until the servers are idle (a run ends
#      with requests still queued in its server: argon2 hashes, counts; finished later they
#      would slow the next row down), then runs wrk pinned to CPU CLIENT_CPU for DURATION
#      with CONNECTIONS connections (one wrk thread each):
#        me            query { me { id email firstName profile { phone preferences } } } (Bearer)
#        users         users(first: 50) { edges { node { id email profile { phone preferences } } } }
#                      as staff
#        users_total   the same with totalCount             (service only: compared with the
#        users_active  the same, filter: {isActive: true},   baseline's users, which neither
#                      with totalCount                       counts nor filters)
#        refresh       X-Refresh-Token-Transport: body; every connection presents the token the
#                      previous refresh returned (a real rotation each time), see refresh.lua;
#                      each server rotates chains of its own (logins of different users)
#        login         as the seeded users in turn
#        register      a new unique email per request (a different run id per server)
#      The read operations get a WARMUP run first (not reported), so caches are warm;
#   5. prints one row per operation and server: ok req/s, p50, p99 (ms), errors and peak RSS
#      (the highest VmRSS of the server process sampled during the row), each with its ratio
#      to the baseline's figure (server ÷ baseline), then each server's VmHWM at the end; and
#      writes the same table as Markdown to BENCH_OUT with an SVG bar chart of the throughput
#      ratios next to it (BENCH_OUT with .svg), for pasting into ops/README.md.
# A response that is not 2xx, or whose body has GraphQL "errors", is an error; so are wrk's
# socket errors and timeouts (TIMEOUT). Errors are reported and make the script exit 1.
#
# Settings (environment variables, defaults in brackets): DURATION [20s], CONNECTIONS [16],
# OPS ["me users users_total users_active refresh login register"], USERS [10000],
# PORT [8099], BASELINE_PORT [PORT+1], SERVER_CPU [0], CLIENT_CPU [1], WARMUP [3s],
# TIMEOUT [30s], BENCH_PASSWORD, BENCH_STAFF_PASSWORD, LOG_LEVEL [WARNING: no access log],
# GLASSSHOP_BIN [.venv/bin], BENCH_OUT [ops/bench/results-USERS.md], BASELINE [on; off: the
# service alone, no ratios], RESPONSE_CACHE_OFF / RESPONSE_CACHE_ON (the values used, when
# RESPONSE_CACHE is not a bool; see ops/bench/settings_probe.py).
#
# Needs wrk (Debian/Ubuntu: `sudo apt-get install wrk`), taskset (util-linux), curl, and
# the project's virtual environment (`make run` or `make test` creates it). It is a
# benchmark, not a test: `make test` does not run it.
set -euo pipefail

# A relative BENCH_OUT is relative to where the script was started.
if [ -n "${BENCH_OUT:-}" ] && [[ $BENCH_OUT != /* ]]; then BENCH_OUT=$PWD/$BENCH_OUT; fi
cd "$(dirname "$0")/../.."
BENCH_DIR=ops/bench
BIN=${GLASSSHOP_BIN:-.venv/bin}

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-16}
OPS=${OPS:-"me users users_total users_active refresh login register"}
USERS=${USERS:-10000}
PORT=${PORT:-8099}
BASELINE_PORT=${BASELINE_PORT:-$((PORT + 1))}
CACHE_PORT=$((PORT + 2))
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
WARMUP=${WARMUP:-3s}
TIMEOUT=${TIMEOUT:-30s}
BASELINE=${BASELINE:-on}
BENCH_OUT=${BENCH_OUT:-$BENCH_DIR/results-$USERS.md}
BENCH_SVG=${BENCH_OUT%.md}.svg
export BENCH_PASSWORD=${BENCH_PASSWORD:-"bench pass phrase"}
export BENCH_STAFF_PASSWORD=${BENCH_STAFF_PASSWORD:-"bench staff pass phrase"}
STAFF_EMAIL=bench-staff@glassshop.test
# Compared with the baseline's row of another operation (the baseline has no such row).
COMPARE=(users_total=users users_active=users)
BASELINE_OPS=" me users refresh login register "

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
case "$BASELINE" in on | off) ;; *) fail "BASELINE must be on or off" ;; esac
for cpu in "$SERVER_CPU" "$CLIENT_CPU"; do
  taskset -c "$cpu" true 2>/dev/null || fail "CPU $cpu is not available to taskset"
done
for op in $OPS; do
  [ -f "$BENCH_DIR/$op.lua" ] || fail "unknown operation $op (no $BENCH_DIR/$op.lua)"
done

WORK=$(mktemp -d)
SERVER_PIDS=()
SAMPLER_PID=
cleanup() {
  if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
  for pid in "${SERVER_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- the servers under test: id, label, port, environment (one "NAME=value" or "") ---
NOTES=()
SERVERS=()
declare -A LABEL PORT_OF ENV_OF PID_OF
add_server() {
  SERVERS+=("$1")
  LABEL[$1]=$2
  PORT_OF[$1]=$3
  ENV_OF[$1]=$4
}
[ "$BASELINE" = on ] && add_server baseline "baseline" "$BASELINE_PORT" ""
cache=$("$BIN/python" -m ops.bench.settings_probe response-cache) ||
  fail "could not read api/settings.py (see above)"
if [ -n "$cache" ]; then
  IFS=$'\t' read -r cache_off cache_on cache_default <<<"$cache"
  off_label="service, RESPONSE_CACHE=$cache_off"
  on_label="service, RESPONSE_CACHE=$cache_on"
  if [ "$cache_default" = off ]; then off_label+=" (default)"; else on_label+=" (default)"; fi
  add_server service "$off_label" "$PORT" "RESPONSE_CACHE=$cache_off"
  add_server service_cache "$on_label" "$CACHE_PORT" "RESPONSE_CACHE=$cache_on"
else
  add_server service "service" "$PORT" ""
  NOTES+=("RESPONSE_CACHE is not a setting of api/settings.py: the service runs once, as \
configured today (no rows with and without a response cache).")
fi
for id in "${SERVERS[@]}"; do
  if curl -s -o /dev/null "http://127.0.0.1:${PORT_OF[$id]}/readyz"; then
    fail "something already listens on port ${PORT_OF[$id]}; set PORT (and BASELINE_PORT)"
  fi
done
SERVICE_URL="http://127.0.0.1:${PORT}/graphql"
refresh_users=$((${#SERVERS[@]} * CONNECTIONS + 1))
[ "$USERS" -ge "$refresh_users" ] ||
  fail "USERS must be at least $refresh_users: each server rotates $CONNECTIONS users' chains"

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
"$BIN/python" -m ops.bench.vacuum

start_server() {
  local id=$1 port=${PORT_OF[$1]} pid
  local -a env=(RATE_LIMITS=off "LOG_LEVEL=${LOG_LEVEL:-WARNING}")
  [ -n "${ENV_OF[$id]}" ] && env+=("${ENV_OF[$id]}")
  echo "== server: ${LABEL[$id]} on port $port, CPU $SERVER_CPU"
  if [ "$id" = baseline ]; then
    "$BIN/python" -m ops.bench.settings_probe baseline-config "$WORK/baseline.json"
    taskset -c "$SERVER_CPU" "$BIN/python" -m ops.bench.baseline.app \
      --config "$WORK/baseline.json" --port "$port" >"$WORK/$id.log" 2>&1 &
  else
    env "${env[@]}" taskset -c "$SERVER_CPU" "$BIN/glassshop" serve --host 127.0.0.1 \
      --port "$port" >"$WORK/$id.log" 2>&1 &
  fi
  # taskset execs the server: this is the server's own pid.
  pid=$!
  SERVER_PIDS+=("$pid")
  PID_OF[$id]=$pid
  for _ in $(seq 1 120); do
    if curl -fs -o /dev/null "http://127.0.0.1:${port}/readyz"; then
      return
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$id.log" >&2; fail "${LABEL[$id]} exited"; }
    sleep 0.5
  done
  cat "$WORK/$id.log" >&2
  fail "${LABEL[$id]} did not become ready"
}
# The service first: it is the one that applies pending migrations at start.
for id in "${SERVERS[@]}"; do [ "$id" = baseline ] || start_server "$id"; done
[ "$BASELINE" = on ] && start_server baseline

tokens() {
  "$BIN/python" -m ops.bench.tokens --url "$SERVICE_URL" "$@"
}
if [ "$BASELINE" = on ]; then
  echo "== check: the baseline answers like the service"
  "$BIN/python" -m ops.bench.check --service "$SERVICE_URL" \
    --baseline "http://127.0.0.1:${BASELINE_PORT}/graphql" \
    --me-token "$(tokens access user00001@glassshop.test)" \
    --staff-token "$(BENCH_PASSWORD=$BENCH_STAFF_PASSWORD tokens access "$STAFF_EMAIL")" \
    --user "$(printf 'user%05d@glassshop.test' "$USERS")" \
    --ops "$OPS" || fail "the baseline does not answer like the service (see above)"
fi

# wrk pinned to CLIENT_CPU, one thread per connection; prints its RESULT lines.
drive() {
  local op=$1 duration=$2 port=$3
  BENCH_OP=$op taskset -c "$CLIENT_CPU" wrk --threads "$CONNECTIONS" \
    --connections "$CONNECTIONS" --duration "$duration" --timeout "$TIMEOUT" \
    --script "$BENCH_DIR/$op.lua" "http://127.0.0.1:${port}/graphql"
}

# VmRSS of a process every 0.2 s (KiB, one a line), on the client's CPU.
sample_rss() {
  taskset -c "$CLIENT_CPU" bash -c '
    while [ -r "/proc/$1/status" ]; do
      while read -r key value _; do
        [ "$key" = VmRSS: ] && echo "$value"
      done <"/proc/$1/status"
      sleep 0.2
    done' sample "$1" >"$2" 2>/dev/null &
  SAMPLER_PID=$!
}

# CPU time (clock ticks) all the servers have used so far, their threads included.
server_ticks() {
  local pid stat total=0
  local -a fields
  for pid in "${SERVER_PIDS[@]}"; do
    stat=$(<"/proc/$pid/stat")
    read -ra fields <<<"${stat##*) }"
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# Waits (up to a minute) until the servers use under a tenth of a CPU: a wrk run ends with
# requests still queued in its server (argon2 hashes, counts), which would otherwise be
# finished at the expense of the next row, on another server sharing SERVER_CPU.
settle() {
  local tick_hz before after waited=0
  tick_hz=$(getconf CLK_TCK)
  while [ "$waited" -lt 120 ]; do
    before=$(server_ticks)
    sleep 0.5
    after=$(server_ticks)
    waited=$((waited + 1))
    [ $((after - before)) -le $((tick_hz / 20)) ] && break
  done
  if [ "$waited" -gt 2 ]; then
    echo "   (waited $((waited / 2)).$((waited % 2 * 5))s for the servers to finish queued work)"
  fi
}

vm_status() {
  local key
  while read -r key value _; do
    if [ "$key" = "$2:" ]; then echo "$value"; return; fi
  done <"/proc/$1/status"
}

: >"$WORK/results.tsv"
: >"$WORK/errors"
RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
export BENCH_USERS=$USERS
for op in $OPS; do
  # A fresh token per operation: a long run outlives an access token (ACCESS_TOKEN_TTL).
  case "$op" in
  me) op_token=$(tokens access user00001@glassshop.test) ;;
  users*) op_token=$(BENCH_PASSWORD=$BENCH_STAFF_PASSWORD tokens access "$STAFF_EMAIL") ;;
  *) op_token= ;;
  esac
  n=0
  for id in "${SERVERS[@]}"; do
    n=$((n + 1))
    if [ "$id" = baseline ] && [[ $BASELINE_OPS != *" $op "* ]]; then
      continue
    fi
    port=${PORT_OF[$id]} pid=${PID_OF[$id]}
    echo "== $op on ${LABEL[$id]}: $DURATION, $CONNECTIONS connections"
    # register.lua's emails: a run id of each server's own.
    export BENCH_TOKEN=$op_token BENCH_RUN_ID="$RUN_ID$n"
    case "$op" in
    refresh)
      tokens refresh --first $(((n - 1) * CONNECTIONS + 1)) --count "$CONNECTIONS" \
        --out "$WORK/refresh-tokens-$id"
      export BENCH_REFRESH_TOKENS="$WORK/refresh-tokens-$id"
      ;;
    esac
    settle
    case "$op" in
    me | users*)
      drive "$op" "$WARMUP" "$port" >/dev/null
      settle
      ;;
    esac
    sample_rss "$pid" "$WORK/rss"
    drive "$op" "$DURATION" "$port" >"$WORK/$op-$id.out" ||
      { cat "$WORK/$op-$id.out" >&2; fail "wrk failed for $op on ${LABEL[$id]}"; }
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=
    kill -0 "$pid" 2>/dev/null ||
      { tail -50 "$WORK/$id.log" >&2; fail "${LABEL[$id]} exited during $op"; }
    rss=$(sort -n "$WORK/rss" | tail -1)
    grep -E '^RESULT' "$WORK/$op-$id.out" | cut -f2- | sed "s/^/$id\t/; s/\$/\t${rss:-0}/" \
      >>"$WORK/results.tsv" || { cat "$WORK/$op-$id.out" >&2; fail "no RESULT from wrk"; }
    grep -E '^FIRST_ERROR' "$WORK/$op-$id.out" | cut -f2- | sed "s/^/${LABEL[$id]}: /" \
      >>"$WORK/errors" || true
  done
done

: >"$WORK/servers.tsv"
for id in "${SERVERS[@]}"; do
  is_base=0
  [ "$id" = baseline ] && is_base=1
  printf '%s\t%s\t%s\t%s\n' "$id" "${LABEL[$id]}" "$(vm_status "${PID_OF[$id]}" VmHWM)" \
    "$is_base" >>"$WORK/servers.tsv"
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(GIT_OPTIONAL_LOCKS=0 git status --porcelain -- api schema db 2>/dev/null)" ]; then
  commit+=" with uncommitted changes in api/, schema/ or db/"
fi
pg=$(psql "$DATABASE_URL" -Atc 'show server_version' 2>/dev/null || echo "?")
argon=$("$BIN/python" -c 'from api.settings import Settings; s = Settings()
print(f"t={s.argon2_time_cost}, {s.argon2_memory_cost_kib} KiB, p={s.argon2_parallelism}")')
NOTES=(
  "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit; $(nproc) CPUs, PostgreSQL $pg and Redis \
on the same machine."
  "$USERS seeded users; every server one process on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU, \
$CONNECTIONS connections, $DURATION per row (reads after a $WARMUP warm-up); RATE_LIMITS=off; \
argon2id $argon."
  "users_total and users_active are compared with the baseline's users page, which neither \
counts nor filters."
  "${NOTES[@]}"
)
compare_args=()
for c in "${COMPARE[@]}"; do compare_args+=(--compare "$c"); done
note_args=()
for note in "${NOTES[@]}"; do note_args+=(--note "- $note"); done

echo
echo "== results ($BENCH_OUT, $BENCH_SVG)"
for note in "${NOTES[@]}"; do echo "- $note"; done
echo
"$BIN/python" -m ops.bench.report --results "$WORK/results.tsv" --servers "$WORK/servers.tsv" \
  --ops "$OPS" "${compare_args[@]}" "${note_args[@]}" --markdown "$BENCH_OUT" --svg "$BENCH_SVG"

errors=0
while IFS=$'\t' read -r _ _ _ failed _; do
  errors=$((errors + failed))
done <"$WORK/results.tsv"
if [ "$errors" -gt 0 ]; then
  echo
  echo "ops/bench: $errors error responses; the figures above include them. First errors:" >&2
  cat "$WORK/errors" >&2
  exit 1
fi
