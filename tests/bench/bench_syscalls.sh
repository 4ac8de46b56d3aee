#!/bin/sh
# bench_syscalls.sh - system calls per delivered event: the bridge under
# `strace -f -c` (all threads) while it delivers BENCH_EVENTS (20000)
# participantJoined events over BENCH_SESSIONS (1000) sessions, published at
# full speed by bench_publish, into nginx `return 200` (nginx.conf.in),
# BENCH_WORKERS (32) workers. A benchmark: prints strace's table and the
# calls per event; exit 1 only if events were lost, 2 if a tool is missing.
#
#   sh tests/bench/bench_syscalls.sh [build-dir]      (default: ./build)
#
# strace slows every call down, so the bridge batches differently than at
# full speed without it: the per-event figures are an upper bound.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench_shell.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" 2>/dev/null && pwd) || { echo "bench: no build directory" >&2; exit 2; }
BIN=$BUILD/bin
EVENTS=${BENCH_EVENTS:-20000}
SESSIONS=${BENCH_SESSIONS:-1000}
WORKERS=${BENCH_WORKERS:-32}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

for tool in "$BIN/ovhook-bridge" "$BIN/bench_publish" "$NGINX" /usr/bin/python3 /usr/bin/strace; do
    [ -x "$tool" ] || { echo "bench: missing $tool" >&2; exit 2; }
done

DIR=$(mktemp -d "${TMPDIR:-/tmp}/bench-syscalls.XXXXXX") || exit 2
NGINX_PID='' BRIDGE_PID=''
cleanup () {
    [ -n "$BRIDGE_PID" ] && kill "$(pgrep -P "$BRIDGE_PID" | head -1)" 2>/dev/null
    for pid in $BRIDGE_PID $NGINX_PID; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


NGINX_PORT=$(free_port)
sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$NGINX_PORT|g" "$HERE/nginx.conf.in" > "$DIR/nginx.conf"
"$NGINX" -p "$DIR" -e "$DIR/error.log" -c "$DIR/nginx.conf" > "$DIR/nginx.out" 2>&1 &
NGINX_PID=$!
sleep 0.5
kill -0 "$NGINX_PID" 2>/dev/null || { echo "bench: nginx did not start" >&2; exit 2; }

BUS="tcp://127.0.0.1:$(free_port)"
OPENVIDU_WEBHOOK=true OPENVIDU_WEBHOOK_ENDPOINT="http://127.0.0.1:$NGINX_PORT/hook" \
    strace ${BENCH_STRACE_ARGS:--f -c} -o "$DIR/strace.txt" "$BIN/ovhook-bridge" --bus "@$BUS" --workers "$WORKERS" \
    --stats-interval 60m > "$DIR/bridge.log" 2>&1 &
BRIDGE_PID=$!
tries=600
until grep -q 'ready:' "$DIR/bridge.log" 2>/dev/null; do
    tries=$((tries - 1))
    if [ $tries = 0 ] || ! kill -0 "$BRIDGE_PID" 2>/dev/null; then
        echo "bench: the bridge did not start:" >&2; cat "$DIR/bridge.log" >&2; exit 2
    fi
    sleep 0.1
done
sleep 1.2
"$BIN/bench_publish" --bus ">$BUS" --count "$EVENTS" --sessions "$SESSIONS" > "$DIR/publish.txt" 2>&1
seen=-1 still=0
while [ $still -lt 50 ]; do
    delivered=$(lines "$DIR/hook.log")
    [ "$delivered" -ge "$EVENTS" ] && break
    if [ "$delivered" = "$seen" ]; then still=$((still + 1)); else still=0; seen=$delivered; fi
    sleep 0.2
done
# The bridge itself stops (strace passes on nothing it is sent), then strace
# writes its table and ends
kill -TERM "$(pgrep -P "$BRIDGE_PID" | head -1)"; wait "$BRIDGE_PID" 2>/dev/null; BRIDGE_PID=''
sleep 1.2
delivered=$(lines "$DIR/hook.log")
echo "== bench_syscalls: $EVENTS events over $SESSIONS sessions, $WORKERS workers, into nginx"
echo "bridge: $BIN/ovhook-bridge; delivered $delivered; load $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$DIR/strace.txt"
awk -v n="$delivered" '$4 / n >= 0.01 && $NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
        calls = $4; printf "%-16s %8.3f per event\n", $NF, n ? calls / n : 0 }
    $NF == "total" { printf "%-16s %8.3f per event\n", "ALL", n ? $4 / n : 0 }' "$DIR/strace.txt"
[ -n "${BENCH_STRACE_KEEP:-}" ] && cp "$DIR/strace.txt" "$BENCH_STRACE_KEEP"
[ "$delivered" -ge "$EVENTS" ] || { echo "bench: $((EVENTS - delivered)) event(s) not delivered" >&2; exit 1; }
exit 0
