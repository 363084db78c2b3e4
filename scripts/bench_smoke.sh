#!/usr/bin/env bash
# A short smoke of every huddle-bench scenario against a fresh server (run by ctest, label
# bench). Benchmarks are not timed tests: this checks that each scenario runs to completion and
# prints its JSON line, nothing about speed.
set -euo pipefail
server=$1
bench=$2
work=$(mktemp -d)
cleanup() {
  if [[ -n "${pid:-}" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
"$server" --listen 127.0.0.1:0 --port-file "$work/port" --data-dir "$work/data" --threads 1 \
  --durability wal --log-level warn --command-rate 0 --frames-per-second 0 \
  --max-connections-per-ip 0 > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do [[ -s "$work/port" ]] && break; sleep 0.05; done
port=$(cat "$work/port")
url="ws://127.0.0.1:$port/ws"
run() {
  echo "== huddle-bench $*"
  out=$("$bench" "$@" --url "$url" --server-pid "$pid" --timeout 20)
  echo "$out" | grep '^JSON ' || { echo "$out"; echo "no JSON line"; exit 1; }
  echo "$out" | grep -q '"complete":1' || { echo "$out"; echo "scenario did not complete"; exit 1; }
}
run fanout --rooms 1 --members 50 --publishers 1 --messages 2000 --size 128
run fanout --rooms 10 --members 5 --publishers 10 --messages 2000 --size 128
run fanout --rooms 1 --members 50 --publishers 1 --messages 400 --size 128 --rate 200
run post --publishers 4 --messages 2000
run join --ideas 500 --members 20
run join --ideas 500 --members 20 --snapshot-ideas 50
run resume --missed 200
run resume --missed 1500
run idle --connections 200
echo "bench smoke: all scenarios completed"
