#!/usr/bin/env bash
# Soak (#7): `huddle-bench soak` against a huddle-server that the driver starts itself, with a
# fresh data dir and durability sync: 2000 connections in 200 rooms, 5% posting (one post every
# ~3 s each, with op ids), 20% of the connections reconnecting with resume every minute. With
# --kill-at MIN the driver kill -9s the server at that minute and restarts it on the same port and
# data dir; the members ride through with resume and op-id retries. Pass: RSS slope after the
# warm-up minute < 1 MiB/min (per server process), fd count flat, steady p99 of one of the last
# three minutes (second-lowest of its 10-second windows' p99s, bench/soak_criteria.hpp) within
# max(1.2x, +2 ms) of minute 2's, 0 acked events lost, gap-free streams (bench/soak.cpp).
#
#   scripts/soak.sh --minutes 60 --kill-at 30      # the full soak (about 62 minutes)
#   scripts/soak.sh --minutes 5                    # the `make test` tier (ctest -L soak)
#
# Flags: --minutes N (default 3), --kill-at MIN (default none), --server PATH --bench PATH (default:
# built here in $BUILD_DIR, default build/soak, Release); anything after `--` goes to huddle-bench
# (e.g. -- --connections 500 --rooms 50). Exit status: huddle-bench's (3 = a criterion failed).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=3
kill_at=0
server=""
bench=""
extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --kill-at) kill_at=$2; shift 2 ;;
    --server) server=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "usage: $0 [--minutes N] [--kill-at MIN] [--server PATH --bench PATH] [-- flags]" >&2
       exit 2 ;;
  esac
done
if [[ -z "$server" || -z "$bench" ]]; then
  BUILD_DIR=${BUILD_DIR:-build/soak}
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHUDDLE_BUILD_TESTS=OFF > /dev/null
  cmake --build "$BUILD_DIR" --target huddle-server huddle-bench -j "$(nproc)"
  server=$BUILD_DIR/server/app/huddle-server
  bench=$BUILD_DIR/bench/huddle-bench
fi

# 2000 connections: ~2100 fds in the server and in the driver (the server inherits the limit).
ulimit -n 65536 2> /dev/null || ulimit -n "$(ulimit -Hn)" || true
if [[ "$(ulimit -n)" != unlimited && "$(ulimit -n)" -lt 4500 ]]; then
  echo "soak: fd limit $(ulimit -n) is below 4500; raise it (ulimit -Hn)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One load generator on one address: the per-address, per-connection and per-room limits are off,
# as for the benchmarks (scripts/bench.sh NOLIMITS).
NOLIMITS="--command-rate 0 --frames-per-second 0 --max-connections 0 --max-connections-per-ip 0 --max-members-per-room 0"
# Bounded caches that would take hours to fill at this load are made small, so that they are full
# after the warm-up minute and the RSS slope after it measures leaks: each room's in-memory windows
# (event tail, EXACT resume, op-id dedup) hold 8 events, not 2048/4096 (~10 events per room per
# minute here), and RocksDB's memtable is 1 MiB, not 64 MiB (~0.5 MiB of events per minute).
WINDOWS="--room-tail-events 8 --rocksdb-write-buffer-kb 1024"
# SOAK_SERVER_FLAGS: extra huddle-server flags (e.g. --rocksdb-write-buffer-kb 1024).
cmd="$server --listen 127.0.0.1:{port} --data-dir $work/data --durability sync --log-level warn $NOLIMITS $WINDOWS ${SOAK_SERVER_FLAGS:-}"
kill_flags=()
if [[ "$kill_at" != 0 ]]; then kill_flags=(--kill-at-s "$((kill_at * 60))"); fi
rc=0
"$bench" soak --connections 2000 --rooms 200 --duration-s "$((minutes * 60))" \
  --post-fraction 0.05 --post-interval-s 3 --reconnect-fraction-per-min 0.20 \
  "${kill_flags[@]}" --server-cmd "$cmd" --server-log "$work/server.log" --timeout 120 \
  "${extra[@]}" || rc=$?
if [[ $rc != 0 ]]; then
  echo "soak: huddle-bench exited $rc; the server log's tail:" >&2
  tail -n 40 "$work/server.log" >&2 || true
fi
exit $rc
