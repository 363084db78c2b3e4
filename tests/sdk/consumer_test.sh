#!/usr/bin/env bash
# The SDK as a third party meets it: `cmake --install` the build tree into a fresh prefix, build
# client-sdk/README.md's quick start in an out-of-tree project with find_package(HuddleClient),
# and run it against a real server on loopback.
# usage: consumer_test.sh BUILD_DIR SOURCE_DIR HUDDLE_SERVER
set -euo pipefail
build=$1 src=$2 server=$3
tmp=$(mktemp -d)
spid=
cleanup() {
  if [[ -n $spid ]]; then kill "$spid" 2> /dev/null || true; wait "$spid" 2> /dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
mkdir -p "$tmp/consumer"
cp "$src/tests/sdk/consumer/CMakeLists.txt" "$tmp/consumer/"
# The first ```cpp block of the SDK's README, verbatim.
awk '/^```cpp$/ {on=1; next} /^```$/ && on {exit} on' "$src/client-sdk/README.md" > "$tmp/consumer/main.cpp"
[[ $(wc -l < "$tmp/consumer/main.cpp") -gt 10 ]] || { echo "no quick start in the README"; exit 1; }
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" "${launcher[@]}" > "$tmp/configure.log"
cmake --build "$tmp/consumer/build" > "$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }

"$server" --ephemeral --listen 127.0.0.1:0 --port-file "$tmp/port" --log-level warn > /dev/null &
spid=$!
for _ in $(seq 100); do [[ -s $tmp/port ]] && break; sleep 0.05; done
out=$(timeout 30 "$tmp/consumer/build/quick_start" "ws://127.0.0.1:$(cat "$tmp/port")/ws")
echo "$out"
# RoomCreated is seq 1 and the creator appends no MemberJoined: the idea is seq 2.
grep -qx "idea 2" <<< "$out" || { echo "FAIL: no 'idea 2' line"; exit 1; }
grep -qx "event 2, 1 ideas" <<< "$out" || { echo "FAIL: the event handler did not see the idea"; exit 1; }
echo "PASS"
