#!/usr/bin/env bash
# Runs the Huddle benchmark suite (`make bench`) and writes bench/RESULTS.md.
#
# Every run gets a FRESH server (huddle-server with a fresh temp data dir, or a peer) pinned to
# core 0 with taskset; huddle-bench runs pinned to core 1 and samples the server via --server-pid.
# Each workload repeats REPEAT times (default 3). Raw JSON lines go to
# bench/results/<date>-<commit>.jsonl; bench/RESULTS.md is generated from that file only.
#
# Env: REPEAT (default 3), BUILD_DIR (default build/rel), JOBS (default nproc),
#      SKIP_BUILD=1 to reuse the existing build as is.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
REPEAT=${REPEAT:-3}
BUILD_DIR=${BUILD_DIR:-build/rel}
JOBS=${JOBS:-$(nproc)}
T_START=$(date +%s)

log() { echo "[bench] $*" >&2; }

# ---- dependencies ----------------------------------------------------------------------------
# ensure_pkg PACKAGE WHAT_IS_LOST: installs a missing Debian package (as root), else warns.
ensure_pkg() {
  local pkg=$1 lost=$2
  dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null | grep -q "install ok installed" && return 0
  if [[ $(id -u) -ne 0 ]]; then
    log "WARNING: $pkg missing and not root; run: sudo apt-get install -y $pkg"
    return 0
  fi
  log "installing $pkg"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
           --no-install-recommends "$pkg"; } \
    || log "WARNING: could not install $pkg; $lost"
}
ensure_pkg libwebsocketpp-dev "the websocketpp peer will be skipped"
ensure_pkg gnuplot-nox "no latency plot (bench/latency_vs_members.svg)"

NODE_OK=1
NODE_NOTE=""
if ! command -v node > /dev/null; then
  NODE_OK=0; NODE_NOTE="node not installed; node-ws peer skipped"
elif [[ ! -d bench/peers/node-ws/node_modules ]]; then
  if ! (cd bench/peers/node-ws && npm ci --no-audit --no-fund); then
    NODE_OK=0; NODE_NOTE="npm ci failed; node-ws peer skipped"
  fi
fi
[[ -n "$NODE_NOTE" ]] && log "NOTE: $NODE_NOTE"

# ---- build -------------------------------------------------------------------------------------
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHUDDLE_BUILD_TESTS=OFF \
    -DHUDDLE_BUILD_PEERS=ON > /dev/null
  targets=(huddle-server huddle-bench)
  [[ -f /usr/include/websocketpp/server.hpp ]] && targets+=(websocketpp-broadcast)
  cmake --build "$BUILD_DIR" --target "${targets[@]}" -j "$JOBS"
fi
SERVER="$ROOT/$BUILD_DIR/server/app/huddle-server"
NOLIMITS="--command-rate 0 --frames-per-second 0 --max-connections 0 --max-connections-per-ip 0 --max-members-per-room 0"
BENCH="$ROOT/$BUILD_DIR/bench/huddle-bench"
WSPP="$ROOT/$BUILD_DIR/bench/peers/websocketpp-broadcast"
WSPP_OK=1
[[ -x "$WSPP" ]] || { WSPP_OK=0; log "NOTE: websocketpp-broadcast not built; peer skipped"; }

# 10000 idle connections need ~10k fds in each of server and bench.
ulimit -Hn 65536 2> /dev/null || true
ulimit -n 65536 2> /dev/null || ulimit -n "$(ulimit -Hn)" || true
FD_LIMIT=$(ulimit -n)
IDLE_CONNS=10000
if [[ "$FD_LIMIT" != unlimited && "$FD_LIMIT" -lt 10100 ]]; then
  IDLE_CONNS=$((FD_LIMIT - 200))
  log "NOTE: fd limit $FD_LIMIT; idle connections reduced to $IDLE_CONNS"
fi

# ---- output ------------------------------------------------------------------------------------
DATE=$(date -u +%Y%m%d-%H%M%S)
COMMIT=$(git log -1 --format=%h 2> /dev/null || echo unknown)
DIRTY=""
[[ -n "$(git status --porcelain --untracked-files=no 2> /dev/null)" ]] && DIRTY="yes"
mkdir -p bench/results
# OUT_FILE=path appends to an existing jsonl (e.g. to finish an interrupted suite with SKIP_WL).
OUT=${OUT_FILE:-bench/results/$DATE-$COMMIT.jsonl}
[[ -n "${OUT_FILE:-}" ]] || : > "$OUT"
WORK=$(mktemp -d)
CMDS="$WORK/commands.txt"
NOTES="$WORK/notes.txt"
: > "$CMDS"; : > "$NOTES"
[[ -n "$NODE_NOTE" ]] && echo "$NODE_NOTE" >> "$NOTES"
[[ $WSPP_OK == 0 ]] && echo "websocketpp-broadcast not built; websocketpp peer skipped" >> "$NOTES"
[[ $IDLE_CONNS != 10000 ]] && echo "fd limit $FD_LIMIT: W4 used $IDLE_CONNS connections, not 10000" >> "$NOTES"

SPID=""
stop_server() {
  if [[ -n "$SPID" ]]; then
    kill "$SPID" 2> /dev/null || true
    wait "$SPID" 2> /dev/null || true
    SPID=""
  fi
}
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server KIND CPUS [huddle flags...]; sets SPID, URL, SCMD.
start_server() {
  local kind=$1 cpus=$2; shift 2
  local d; d=$(mktemp -d "$WORK/srv.XXXX")
  case $kind in
    huddle)
      # One load generator on one address, publishing as fast as it can: the per-connection and
      # per-address abuse limits (docs/PROTOCOL.md, section 12) are off for the benchmarks.
      SCMD="taskset -c $cpus $SERVER --listen 127.0.0.1:0 --port-file $d/port --data-dir $d/data $* $NOLIMITS --log-level warn"
      taskset -c "$cpus" "$SERVER" --listen 127.0.0.1:0 --port-file "$d/port" --data-dir "$d/data" \
        "$@" $NOLIMITS --log-level warn > "$d/log" 2>&1 &
      SPID=$!
      for _ in $(seq 1 400); do [[ -s "$d/port" ]] && break; sleep 0.025; done
      [[ -s "$d/port" ]] || { cat "$d/log" >&2; stop_server; return 1; }
      URL="ws://127.0.0.1:$(cat "$d/port")/ws" ;;
    websocketpp|node-ws)
      local port; port=$(free_port)
      if [[ $kind == websocketpp ]]; then
        SCMD="taskset -c $cpus $WSPP $port"
        taskset -c "$cpus" "$WSPP" "$port" > "$d/log" 2>&1 &
      else
        SCMD="taskset -c $cpus node bench/peers/node-ws/server.js $port"
        taskset -c "$cpus" node bench/peers/node-ws/server.js "$port" > "$d/log" 2>&1 &
      fi
      SPID=$!
      for _ in $(seq 1 400); do grep -q listening "$d/log" 2> /dev/null && break; sleep 0.025; done
      grep -q listening "$d/log" || { cat "$d/log" >&2; stop_server; return 1; }
      URL="ws://127.0.0.1:$port/ws" ;;
  esac
}

# run WORKLOAD TARGET SERVER_CPUS BENCH_CPUS SERVER_KIND "server flags" bench args...
# Runs REPEAT times, each against a fresh server; appends annotated JSON lines to $OUT.
run() {
  local wl=$1 target=$2 scpus=$3 bcpus=$4 kind=$5 sflags=$6; shift 6
  local i
  # SKIP_WL="W1|W2" skips workloads already in OUT_FILE.
  if [[ -n "${SKIP_WL:-}" && $wl =~ ^(${SKIP_WL})$ ]]; then return 0; fi
  for i in $(seq 1 "$REPEAT"); do
    # shellcheck disable=SC2086
    start_server "$kind" "$scpus" $sflags || { log "$wl/$target: server failed to start"; echo "$wl/$target rep $i: server failed to start" >> "$NOTES"; continue; }
    local bcmd="taskset -c $bcpus $BENCH $* --url $URL --server-pid $SPID"
    if ! grep -qxF "# $wl / $target" "$CMDS"; then  # The first run (W-slow calls run per rep).
      printf '# %s / %s\n%s &\n%s\n' "$wl" "$target" "$SCMD" "$bcmd" | sed "s#$ROOT/##g" >> "$CMDS"
    fi
    log "$wl/$target rep $i/$REPEAT: $*"
    local t0 out rc=0; t0=$(date +%s.%N)
    out=$(timeout 300 taskset -c "$bcpus" "$BENCH" "$@" --url "$URL" --server-pid "$SPID" 2>&1) || rc=$?
    LAST_ELAPSED=$(python3 -c "import time; print(round(time.time()-$t0,1))")
    stop_server
    local json; json=$(grep '^JSON ' <<< "$out" | tail -1 | sed 's/^JSON //') || true
    if [[ -z "$json" ]]; then
      log "$wl/$target rep $i: no JSON line (rc=$rc)"; tail -5 <<< "$out" >&2
      echo "$wl/$target rep $i: failed (rc=$rc, no JSON line)" >> "$NOTES"
      continue
    fi
    echo "{\"workload\":\"$wl\",\"target\":\"$target\",\"rep\":$i,\"wall_s\":$LAST_ELAPSED,${json#\{}" >> "$OUT"
    log "  -> $(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print({k: d[k] for k in ("deliveries_per_s","acked_per_s","catchup_ms","bytes_per_connection","p50_us","p99_us","complete","members_closed_4008") if k in d})' "${json}")"
  done
}

F1="--rooms 1 --members 1000 --publishers 1 --size 128"
# W1: one room x 1000 members, one publisher, max rate.
run W1 huddle 0 1 huddle "--threads 1 --durability sync" fanout $F1 --messages 10000 --durability sync --timeout 240
# Peers: 20000 messages requested in the brief; websocketpp measured ~250k deliveries/s here,
# so 20000 x 1000 would take ~80 s per run. 4000 keeps each run at ~15 s.
PEER_MSGS=${PEER_MSGS:-4000}
[[ $PEER_MSGS != 20000 ]] && echo "W1 peers ran --messages $PEER_MSGS, not 20000 (websocketpp at ~250k deliveries/s would need ~80 s per run)" >> "$NOTES"
[[ $WSPP_OK == 1 ]] && run W1 websocketpp 0 1 websocketpp "" fanout --mode broadcast $F1 --messages "$PEER_MSGS" --timeout 240
[[ $NODE_OK == 1 ]] && run W1 node-ws 0 1 node-ws "" fanout --mode broadcast $F1 --messages "$PEER_MSGS" --timeout 240
# W2: 100 rooms x 10 members, 100 publishers.
F2="--rooms 100 --members 10 --publishers 100 --size 128 --messages 100000"
run W2 huddle 0 1 huddle "--threads 1 --durability sync" fanout $F2 --durability sync --timeout 240
[[ $WSPP_OK == 1 ]] && run W2 websocketpp 0 1 websocketpp "" fanout --mode broadcast $F2 --timeout 240
# W3: latency at a fixed 200 msg/s.
run W3 huddle 0 1 huddle "--threads 1 --durability sync" fanout $F1 --messages 2000 --rate 200 --durability sync --timeout 120
# Latency against room size, for the plot (bench/latency_vs_members.svg): W3's rate (1 publisher,
# 200 msg/s, 128 B) at each room size, 1000 messages, one run per point, websocketpp beside it.
SWEEP_MEMBERS=${SWEEP_MEMBERS:-"10 30 100 300 1000"}
REPEAT_SAVE=$REPEAT; REPEAT=1
for m in $SWEEP_MEMBERS; do
  FL="--rooms 1 --members $m --publishers 1 --size 128 --messages 1000 --rate 200 --timeout 120"
  run L-$m huddle 0 1 huddle "--threads 1 --durability sync" fanout $FL --durability sync
  [[ $WSPP_OK == 1 ]] && run L-$m websocketpp 0 1 websocketpp "" fanout --mode broadcast $FL
done
REPEAT=$REPEAT_SAVE
# W-slow (#7): one member stops reading; the others' p99 should stay within 20% of W-slow-0's.
# 1 room x 100 members, 1 publisher at 1000 msg/s; K=0 and K=1 stalled members alternate run by
# run, so drift on the machine hits both alike. slow_closed_4008: the stalled member was closed.
# 1 KiB posts: at 128 B the whole 1.9 MB stream fits the stalled member's 1 MiB outbox plus the
# kernel's socket buffers, and it is never closed (measured); at 1 KiB it overflows within ~5 s.
WSLOW="--rooms 1 --members 100 --publishers 1 --size 1024 --messages 10000 --rate 1000 --sample-every 10"
REPEAT_SAVE=$REPEAT; REPEAT=1
for _ in $(seq 1 "$REPEAT_SAVE"); do
  for k in 0 1; do
    run W-slow-$k huddle 0 1 huddle "--threads 1 --durability sync" fanout $WSLOW --slow-members $k --durability sync --timeout 120
  done
done
REPEAT=$REPEAT_SAVE
# W4: idle connections -> server RSS per connection.
run W4 huddle 0 1 huddle "--threads 1 --durability sync" idle --connections "$IDLE_CONNS" --timeout 240
[[ $WSPP_OK == 1 ]] && run W4 websocketpp 0 1 websocketpp "" idle --mode broadcast --connections "$IDLE_CONNS" --timeout 240
# Durable posts.
run post-sync huddle 0 1 huddle "--threads 1 --durability sync" post --publishers 64 --messages 64000 --durability sync --timeout 240
# The same with 4 posts in flight per publisher (256 in all) instead of 16: ack latency is about
# in-flight / throughput (Little's law), so the window sets it; this row checks both targets at once.
run post-sync-w4 huddle 0 1 huddle "--threads 1 --durability sync" post --publishers 64 --messages 64000 --durability sync --window 4 --timeout 240
run post-wal huddle 0 1 huddle "--threads 1 --durability wal" post --publishers 64 --messages 64000 --durability wal --timeout 240
# Join storm on the issue's 10k-idea board (--max-ideas 10000; the default limit is 2000): 200
# members, the whole board (1.85 MB) in each snapshot.
run join huddle 0 1 huddle "--threads 1 --durability sync --max-ideas 10000" join --ideas 10000 --members 200 --timeout 240
# The same storm joining in parts: the newest 100 ideas in the snapshot (usable), then each member
# pages the other 9900 in with getIdeas (complete).
run join-paged huddle 0 1 huddle "--threads 1 --durability sync --max-ideas 10000" join --ideas 10000 --members 200 --snapshot-ideas 100 --timeout 240
# Resume.
run resume-1000 huddle 0 1 huddle "--threads 1 --durability sync" resume --missed 1000 --timeout 120
MISSED=100000
REPEAT_SAVE=$REPEAT; REPEAT=1
run resume-100000 huddle 0 1 huddle "--threads 1 --durability sync" resume --missed 100000 --timeout 240
REPEAT=$REPEAT_SAVE
if ! grep -q '"workload":"resume-100000"' "$OUT" || python3 -c "import sys; sys.exit(0 if float(sys.argv[1])>60 else 1)" "$LAST_ELAPSED"; then
  MISSED=20000
  echo "resume --missed 100000 took ${LAST_ELAPSED} s (seeding > 60 s or failed); reported resume-20000 instead (the 100000 run stays in the jsonl)" >> "$NOTES"
  run resume-20000 huddle 0 1 huddle "--threads 1 --durability sync" resume --missed 20000 --timeout 240
elif [[ $REPEAT -gt 1 ]]; then
  REPEAT_SAVE=$REPEAT; REPEAT=$((REPEAT - 1))
  run resume-100000 huddle 0 1 huddle "--threads 1 --durability sync" resume --missed 100000 --timeout 240
  REPEAT=$REPEAT_SAVE
fi
# W1 on two cores: server --threads 2 on cores 0,1; the load generator shares those cores.
run W1-2core huddle 0,1 0,1 huddle "--threads 2 --durability sync" fanout $F1 --messages 10000 --durability sync --timeout 240

T_END=$(date +%s)
RUNTIME=$((T_END - T_START))
log "runs finished in ${RUNTIME}s; writing bench/RESULTS.md"

# ---- report ------------------------------------------------------------------------------------
python3 - "$OUT" "$CMDS" "$NOTES" "$REPEAT" "$DATE" "$COMMIT" "$DIRTY" "$RUNTIME" > bench/RESULTS.md << 'PY'
import json, os, platform, statistics, sys
out, cmds, notes, repeat, date, commit, dirty, runtime = sys.argv[1:9]
rows = [json.loads(l) for l in open(out) if l.strip()]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")

def group(wl, target):
    return [r for r in rows if r["workload"] == wl and r["target"] == target]

METRIC = {"W4": ("bytes_per_connection", "B/conn"), "post-sync": ("acked_per_s", "acked/s"),
          "post-sync-w4": ("acked_per_s", "acked/s"),
          "post-wal": ("acked_per_s", "acked/s"), "resume-1000": ("catchup_ms", "ms catch-up"),
          "resume-100000": ("catchup_ms", "ms catch-up"), "resume-20000": ("catchup_ms", "ms catch-up"),
          "join": ("deliveries_per_s", "usable joins/s"),
          "join-paged": ("deliveries_per_s", "usable joins/s")}
def metric(wl): return METRIC.get(wl, ("deliveries_per_s", "deliveries/s"))

def med(xs): return statistics.median(xs) if xs else None
def fmt(v, unit=""):
    if v is None: return "-"
    if abs(v) >= 1e5: s = f"{v/1e6:.3g}M" if abs(v) >= 1e6 else f"{v/1e3:.4g}k"
    elif abs(v) >= 100: s = f"{v:,.0f}"
    else: s = f"{v:.3g}"
    return s + unit
def ms(us): return None if us is None else us / 1000.0

def summary(wl, target):
    g = group(wl, target)
    if not g: return None
    k, unit = metric(wl)
    xs = [r[k] for r in g if k in r]
    return dict(n=len(g), k=k, unit=unit, med=med(xs), lo=min(xs), hi=max(xs),
                p50=med([r["p50_us"] for r in g]), p99=med([r["p99_us"] for r in g]),
                complete=sum(int(r.get("complete", 0)) for r in g),
                cpu=med([r.get("server_cpu_pct", -1) for r in g]), wall=med([r["wall_s"] for r in g]))

order = []
for r in rows:
    if r["workload"].startswith("L-"): continue  # The room-size sweep has its own table.
    if (r["workload"], r["target"]) not in order: order.append((r["workload"], r["target"]))
desc = {"W1": "fanout 1 room x 1000 members, 1 publisher, 128 B, max rate",
        "W2": "fanout 100 rooms x 10 members, 100 publishers, 128 B, max rate",
        "W3": "fanout 1 room x 1000 members, 1 publisher, 200 msg/s, 2000 messages",
        "W-slow-0": "fanout 1 room x 100 members, 1 publisher, 1000 msg/s, 10000 messages (alternates with W-slow-1)",
        "W-slow-1": "W-slow-0 with 1 member that never reads after joining; figures are the 99 others'",
        "W4": "idle connections (server RSS growth / connection)",
        "post-sync": "post, 64 publishers, 64000 messages, --durability sync, 16 in flight per publisher",
        "post-sync-w4": "post-sync with 4 in flight per publisher (--window 4)",
        "post-wal": "post, 64 publishers, 64000 messages, --durability wal",
        "join": "join storm, a board of 10000 ideas (server --max-ideas 10000), 200 members, the whole board in the snapshot",
        "join-paged": "the same storm, the newest 100 ideas in the snapshot, the other 9900 paged in (getIdeas, 500 a page)",
        "resume-1000": "resume after 1000 missed events",
        "resume-100000": "resume after 100000 missed events",
        "resume-20000": "resume after 20000 missed events",
        "W1-2core": "W1 with huddle-server --threads 2 on cores 0,1 (bench shares cores 0,1)"}

P = print
P("# Huddle benchmark results\n")
P("Generated by `scripts/bench.sh` (`make bench`) from "
  f"`{out}`. Every figure below comes from that file.\n")
P("## Machine and run\n")
P(f"- CPU: {cpu}; `nproc` = {os.cpu_count()}")
P(f"- Kernel: {platform.release()} ({platform.system()} {platform.machine()})")
P(f"- Date (UTC): {date}")
P(f"- Commit: `{commit}`" + (" (working tree had uncommitted changes to tracked files)" if dirty else ""))
P(f"- Repeats per workload: {repeat} (each against a fresh server); suite runtime {runtime} s")
P("- Pinning: server `taskset -c 0`, huddle-bench `taskset -c 1` (except W1-2core). "
  "Loopback only.\n")
P("## Results (median over repeats, [min-max])\n")
P("| workload | server | runs | metric | median | min-max | p50 | p99 | server CPU % | complete |")
P("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for wl, t in order:
    s = summary(wl, t)
    lat = wl not in ("W4",)
    P(f"| {wl} | {t} | {s['n']} | {s['unit']} | {fmt(s['med'])} | {fmt(s['lo'])}-{fmt(s['hi'])} | "
      f"{fmt(ms(s['p50']), ' ms') if lat else '-'} | {fmt(ms(s['p99']), ' ms') if lat else '-'} | "
      f"{fmt(s['cpu']) if s['cpu'] is not None and s['cpu'] >= 0 else '-'} | {s['complete']}/{s['n']} |")
P("\nResume rows: p50/p99 are the single catch-up time of each run (one client), "
  "so they equal the catch-up figure. Join rows: the metric is usable joins per second; "
  "p50/p99 are per-join latency.\n")
P("### Workloads\n")
for wl in dict.fromkeys(w for w, _ in order):
    P(f"- **{wl}**: {desc.get(wl, wl)}")
P("")
# Latency against room size: a table, and bench/latency_vs_members.svg drawn by gnuplot.
sweep = sorted({int(r["workload"][2:]) for r in rows if r["workload"].startswith("L-")})
if sweep:
    P("## Latency against room size\n")
    P("1 room, 1 publisher at 200 msg/s, 128 B, 1000 messages; one run per point "
      "(`L-<members>` in the jsonl). Publish-to-receive latency in ms.\n")
    P("![latency percentiles against members](latency_vs_members.svg)\n")
    P("| members | Huddle p50 | p90 | p99 | max | websocketpp p50 | p99 |")
    P("| --- | --- | --- | --- | --- | --- | --- |")
    dat = []
    for m in sweep:
        h = group(f"L-{m}", "huddle"); w = group(f"L-{m}", "websocketpp")
        hv = [med([r[k] for r in h]) if h else None for k in ("p50_us", "p90_us", "p99_us", "max_us")]
        wv = [med([r[k] for r in w]) if w else None for k in ("p50_us", "p99_us")]
        P(f"| {m} | " + " | ".join(fmt(ms(v)) for v in hv + wv) + " |")
        dat.append(" ".join(str(m) if i == 0 else ("NaN" if v is None else f"{v/1000:.3f}")
                            for i, v in enumerate([m] + hv + wv)))
    P("")
    import shutil, subprocess, tempfile
    if shutil.which("gnuplot"):
        with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as f:
            f.write("\n".join(dat) + "\n")
        script = f'''
set terminal svg size 820,500 dynamic font "sans,12" background "white"
set output "bench/latency_vs_members.svg"
set title "Fan-out latency against room size (make bench at {commit}; 200 msg/s, 128 B)"
set logscale xy
set xlabel "members in the room"
set ylabel "publish-to-receive latency (ms)"
set key top left
set grid
plot "{f.name}" using 1:2 with linespoints lw 2 title "Huddle p50", \\
     "" using 1:3 with linespoints lw 2 title "Huddle p90", \\
     "" using 1:4 with linespoints lw 2 title "Huddle p99", \\
     "" using 1:6 with linespoints dt 2 title "websocketpp p50", \\
     "" using 1:7 with linespoints dt 2 title "websocketpp p99"
'''
        subprocess.run(["gnuplot"], input=script, text=True, check=False)
        os.unlink(f.name)
    else:
        P("(gnuplot was not installed: no plot this run.)\n")

ratios = []
for wl in ("W1", "W2", "W4"):
    h = summary(wl, "huddle")
    for peer in ("websocketpp", "node-ws"):
        p = summary(wl, peer)
        if h and p and p["med"]:
            ratios.append((wl, peer, h["med"] / p["med"], h["unit"]))
if ratios:
    P("## Huddle / peer ratios (of medians)\n")
    P("| workload | peer | Huddle/peer | of |")
    P("| --- | --- | --- | --- |")
    for wl, peer, r, unit in ratios:
        P(f"| {wl} | {peer} | {r:.2f}x | {unit}{' (lower is better)' if wl == 'W4' else ''} |")
    P("\nPeers speak the plain broadcast protocol (no auth, persistence, acks or message format; "
      "see `bench/peers/README.md`); Huddle persists every post (durability sync) and acks it.\n")

P("## Reading these numbers\n")
P("Targets from the issue, checked against the medians above:\n")
P("| target | measured (median) | status |")
P("| --- | --- | --- |")
def st(ok): return "n/a (not run)" if ok is None else ("met" if ok else "**not met**")
w1 = summary("W1", "huddle"); wp = summary("W1", "websocketpp")
P(f"| W1 >= 1.5M deliveries/s | {fmt(w1['med']) if w1 else '-'} | {st(w1['med'] >= 1.5e6 if w1 else None)} |")
if w1 and wp:
    r = w1["med"] / wp["med"]; P(f"| W1 >= 6x websocketpp | {r:.2f}x | {st(r >= 6)} |")
else:
    P("| W1 >= 6x websocketpp | - | n/a (not run) |")
w3 = summary("W3", "huddle")
P(f"| W3 p99 < 50 ms | {fmt(ms(w3['p99']), ' ms') if w3 else '-'} | {st(w3['p99'] < 50000 if w3 else None)} |")
ws0 = summary("W-slow-0", "huddle"); ws1 = summary("W-slow-1", "huddle")
if ws0 and ws1:
    r = ws1["p99"] / ws0["p99"]
    closed = sum(int(x.get("slow_closed_4008", 0)) for x in group("W-slow-1", "huddle"))
    P(f"| one member stops reading: others' p99 within 20% (W-slow-1 / W-slow-0), nothing lost | "
      f"{fmt(ms(ws1['p99']), ' ms')} vs {fmt(ms(ws0['p99']), ' ms')} = {r:.2f}x; complete "
      f"{ws1['complete']}/{ws1['n']}; closed 4008 in {closed}/{ws1['n']} | "
      f"{st(r <= 1.2 and ws1['complete'] == ws1['n'])} |")
w4 = summary("W4", "huddle")
P(f"| W4 <= 4 KiB/conn | {fmt(w4['med'], ' B') if w4 else '-'} | {st(w4['med'] <= 4096 if w4 else None)} |")
ps = summary("post-sync", "huddle")
P(f"| durable posts (sync) >= 20k/s | {fmt(ps['med'], '/s') if ps else '-'} | {st(ps['med'] >= 20000 if ps else None)} |")
P(f"| durable posts (sync) p99 < 20 ms | {fmt(ms(ps['p99']), ' ms') if ps else '-'} | {st(ps['p99'] < 20000 if ps else None)} |")
p4 = summary("post-sync-w4", "huddle")
if p4:
    P(f"| durable posts (sync), 4 in flight per publisher: >= 20k/s and p99 < 20 ms | {fmt(p4['med'], '/s')}, p99 {fmt(ms(p4['p99']), ' ms')} | "
      f"{st(p4['med'] >= 20000 and p4['p99'] < 20000)} |")
pw = summary("post-wal", "huddle")
if pw:
    P(f"| (for reference: wal posts >= 20k/s, p99 < 20 ms) | {fmt(pw['med'], '/s')}, p99 {fmt(ms(pw['p99']), ' ms')} | "
      f"{st(pw['med'] >= 20000 and pw['p99'] < 20000)} |")
j = summary("join", "huddle")
P(f"| join p99 < 50 ms, whole board in the snapshot | {fmt(ms(j['p99']), ' ms') if j else '-'} | {st(j['p99'] < 50000 if j else None)} |")
jp = summary("join-paged", "huddle")
if jp:
    whole = med([r["complete_p99_us"] for r in group("join-paged", "huddle") if "complete_p99_us" in r])
    P(f"| join p99 < 50 ms, usable at the newest 100 ideas (whole board after paging: p99 {fmt(ms(whole), ' ms')}) | "
      f"{fmt(ms(jp['p99']), ' ms')} | {st(jp['p99'] < 50000)} |")
r1 = summary("resume-1000", "huddle")
P(f"| resume 1000 < 5 ms | {fmt(r1['med'], ' ms') if r1 else '-'} | {st(r1['med'] < 5 if r1 else None)} |")
w12 = summary("W1-2core", "huddle")
if w1 and w12:
    r = w12["med"] / w1["med"]
    P(f"| 2 cores >= 1.7x one core (W1) | {fmt(w12['med'])} vs {fmt(w1['med'])} = {r:.2f}x | {st(r >= 1.7)} |")
P("")
P("Caveats: all numbers are loopback on this machine with the load generator on the second core; "
  "the W1-2core run puts server and load generator on the same two cores, so it understates what "
  "two dedicated server cores would do. Runs marked incomplete (complete < runs) did not deliver "
  "every expected message before the timeout.\n")
n = [l.strip() for l in open(notes) if l.strip()]
P("## Deviations and notes\n")
P("\n".join(f"- {x}" for x in n) if n else "- none")
P("\n## Exact commands (first repeat of each workload; ports and temp dirs differ per run)\n")
P("```sh")
P(open(cmds).read().rstrip())
P("```")
PY
log "wrote bench/RESULTS.md and $OUT"
