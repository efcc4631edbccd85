#!/bin/sh
# HTTP load, side by side: civicperf-server against nginx serving the same
# bytes as static files, with wrk, on 127.0.0.1 only. Alternates the two
# servers run by run, prints the medians and the ratio, and stops everything
# it started (also on Ctrl-C). Not part of the test suite.
#
# usage: tests/bench/http_load.sh [--build DIR] [--duration SECONDS] [--rounds N]
#                                 [--connections N] [--server-threads N] [--db]
#   --db   run civicperf-server with its durable store (default: --no-persist
#          when the server supports it), to measure durable POST /events. Each
#          POST waits on its I/O thread for its commit (fsync): use
#          --server-threads 2 or more, so that batches share commits.
set -eu

build=build/release
duration=5
rounds=3
connections=16
server_threads=1
use_db=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --server-threads) server_threads=$2; shift 2 ;;
    --db) use_db=1; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

server_bin=$build/server/civicperf-server
[ -x "$server_bin" ] || { echo "no $server_bin: build first (cmake --build --preset release)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: cmake/install-deps.sh --bench" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "nginx is missing: cmake/install-deps.sh --bench" >&2; exit 1; }

work=$(mktemp -d /tmp/civicperf-load.XXXXXX)
chmod 755 "$work"   # nginx workers run as another user when started as root
server_pid=""
nginx_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {   # a port nobody listens on, from the ephemeral range
  p=$1
  while ss -Htln "sport = :$p" 2>/dev/null | grep -q .; do p=$((p + 1)); done
  echo "$p"
}
cp_port=$(free_port 18080)
ng_port=$(free_port $((cp_port + 1)))

# --- civicperf-server with a simulated history --------------------------------
persist="--no-persist"
"$server_bin" --help 2>&1 | grep -q -- --no-persist || persist=""
[ "$use_db" -eq 1 ] && persist="--db $work/load.db"
# shellcheck disable=SC2086
"$server_bin" --simulate 2000 --host 127.0.0.1 --port "$cp_port" --threads "$server_threads" $persist \
  >"$work/server.log" 2>&1 &
server_pid=$!
i=0
until grep -q "listening on" "$work/server.log" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 300 ] && { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

base=/api/v1/performance
metrics=$base/steps/validate_identity/metrics
bottlenecks=$base/workflows/citizen_registration_v1/bottlenecks
events=$base/events

# --- nginx serving the same bytes ---------------------------------------------
mkdir -p "$work/www$base/steps/validate_identity" "$work/www$base/workflows/citizen_registration_v1" "$work/logs"
curl -sf "http://127.0.0.1:$cp_port$metrics" >"$work/www$metrics"
curl -sf "http://127.0.0.1:$cp_port$bottlenecks" >"$work/www$bottlenecks"
echo '{"accepted":1000}' >"$work/www$events"

# A 1000-event body: 100 cases x the first ten steps of citizen registration.
awk 'BEGIN {
  split("validate_identity identity_check check_duplicates duplicate_check age_verification adult_approval process_approval approval_check create_account send_welcome", s, " ");
  printf "{\"events\":[";
  for (c = 0; c < 100; c++) for (k = 1; k <= 10; k++) {
    t = c * 60 + k * 5; m = int(t / 60) % 60; sec = t % 60;
    if (c + k > 1) printf ",";
    printf "{\"workflow_id\":\"citizen_registration_v1\",\"instance_id\":\"load-%05d\",\"step_id\":\"%s\",\"status\":\"completed\",\"started_at\":\"2026-03-01T09:%02d:%02d.250Z\",\"completed_at\":\"2026-03-01T09:%02d:%02d.900Z\",\"execution_environment\":\"production\"}", c, s[k], m, sec, m, sec;
  }
  printf "]}";
}' >"$work/events.json"
cat >"$work/post.lua" <<LUA
local f = io.open("$work/events.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA

cat >"$work/nginx.conf" <<NGINX
worker_processes $server_threads;
daemon off;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  keepalive_requests 1000000;
  client_body_temp_path $work/logs;
  proxy_temp_path $work/logs;
  fastcgi_temp_path $work/logs;
  uwsgi_temp_path $work/logs;
  scgi_temp_path $work/logs;
  client_max_body_size 2m;
  server {
    listen 127.0.0.1:$ng_port;
    root $work/www;
    # Answer POST with the static file too (the static module refuses POST).
    error_page 405 =200 \$uri;
  }
}
NGINX
"$nginx_bin" -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
i=0
until curl -sf "http://127.0.0.1:$ng_port$metrics" >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -gt 100 ] && { cat "$work/logs/error.log" >&2; exit 1; }
  sleep 0.1
done

# --- alternating wrk runs -------------------------------------------------------
rate() {   # rate <port> <path> [lua]: requests per second
  if [ -n "${3:-}" ]; then
    wrk -t1 -c"$connections" -d"${duration}s" -s "$3" "http://127.0.0.1:$1$2" 2>/dev/null
  else
    wrk -t1 -c"$connections" -d"${duration}s" "http://127.0.0.1:$1$2" 2>/dev/null
  fi | awk '/Requests\/sec/ { print $2 }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

store="in memory"
[ "$use_db" -eq 1 ] && store="durable (--db, synchronous=FULL)"
echo "civicperf-server (--threads $server_threads, events $store) vs nginx (worker_processes $server_threads), wrk -t1 -c$connections -d${duration}s, $rounds alternating rounds"
echo
echo "| request | civicperf req/s | nginx req/s | ratio | civicperf events/s |"
echo "|---|---:|---:|---:|---:|"
for name in metrics bottlenecks events; do
  eval path=\$$name
  lua=""
  [ "$name" = events ] && lua="$work/post.lua"
  : >"$work/cp.txt"
  : >"$work/ng.txt"
  r=0
  while [ $r -lt "$rounds" ]; do
    rate "$cp_port" "$path" "$lua" >>"$work/cp.txt"
    rate "$ng_port" "$path" "$lua" >>"$work/ng.txt"
    r=$((r + 1))
  done
  cp=$(median <"$work/cp.txt")
  ng=$(median <"$work/ng.txt")
  ratio=$(awk -v a="$cp" -v b="$ng" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
  method=GET
  per=""
  if [ "$name" = events ]; then
    method=POST
    per=$(awk -v a="$cp" 'BEGIN { printf "%.0f", a * 1000 }')
  fi
  echo "| $method $path | $cp | $ng | $ratio | $per |"
done
