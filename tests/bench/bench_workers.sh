#!/bin/sh
# bench_workers.sh - what a worker costs: the bridge's CPU per event with
# --workers 32 and --workers 1024, side by side, for the same load (a
# benchmark, not a test: it prints figures and never fails on timing).
#
#   sh tests/bench/bench_workers.sh [build-dir]      (default: ./build)
#
# BENCH_WORKERS ("32 1024") lists the worker counts to compare.
# BENCH_EVENTS (20000) participantJoined events over BENCH_SESSIONS (2000)
# sessions, published at full speed by bench_publish into a bridge that
# POSTs them to nginx (`return 200`, tests/bench/nginx.conf.in). For each
# worker count: the bridge's CPU time per event (utime + stime from /proc,
# noisy on a shared machine) and, with BENCH_CALLGRIND=1 (default), a second
# run under valgrind --tool=callgrind for its instructions per event
# (deterministic up to scheduling); for each run, the connections nginx
# accepted from the bridge (its stub_status). With BENCH_CURVE=1 (default),
# the first worker count once more with CURVE on the bus (keys from
# ovhook-keygen), so the cost of encryption shows in the same table, in
# instructions as well as in CPU time. With BENCH_METRICS=1 (default 0), the
# first worker count once more with --metrics on a free port (the
# Prometheus counters, docs/metrics.md), scraped once during the load, to
# show what counting costs. With BENCH_LIBCURL=1 (default), every worker count
# once more with OVHOOK_HTTP_LIBCURL=true: libcurl's sender, side by side with
# ovhook's own HTTP/1.1 client (the default for http://). BENCH_CALLGRIND_KEEP=DIR keeps the callgrind
# profiles there (callgrind-<workers>.out). Exit status 2 when a tool is missing or
# a process would not start; 1 when events were lost; 0 otherwise.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench_shell.sh"
. "$HERE/bench_keys.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" 2>/dev/null && pwd) || { echo "bench: no build directory" >&2; exit 2; }
BIN=$BUILD/bin
[ -x "$BUILD/ovhook-bridge" ] && BIN=$BUILD        # a folder of binaries will do too
EVENTS=${BENCH_EVENTS:-20000}
SESSIONS=${BENCH_SESSIONS:-2000}
CALLGRIND=${BENCH_CALLGRIND:-1}
WORKERS=${BENCH_WORKERS:-32 1024}
CURVE=${BENCH_CURVE:-1}
METRICS=${BENCH_METRICS:-0}
LIBCURL=${BENCH_LIBCURL:-1}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
TICK=$(getconf CLK_TCK)

for tool in "$BIN/ovhook-bridge" "$BIN/bench_publish" "$NGINX" /usr/bin/python3; do
    [ -x "$tool" ] || { echo "bench: missing $tool" >&2; exit 2; }
done
if [ "$CALLGRIND" = 1 ] && ! command -v valgrind >/dev/null; then
    echo "bench: BENCH_CALLGRIND=1 needs valgrind" >&2; exit 2
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/bench-workers.XXXXXX") || exit 2
NGINX_PID='' BRIDGE_PID=''
cleanup () {
    for pid in $BRIDGE_PID $NGINX_PID; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

accepted () {
    /usr/bin/python3 -c 'import sys, urllib.request
print (urllib.request.urlopen (sys.argv [1]).read ().split () [7].decode ())' \
        "http://127.0.0.1:$NGINX_PORT/status" 2>/dev/null || echo 0
}
cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
sys_ticks () { awk '{ print $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# nginx as in bench_bridge.sh (room for 4,096 connections)
NGINX_PORT=$(free_port)
sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$NGINX_PORT|g" "$HERE/nginx.conf.in" > "$DIR/nginx.conf"
"$NGINX" -p "$DIR" -e "$DIR/error.log" -c "$DIR/nginx.conf" > "$DIR/nginx.out" 2>&1 &
NGINX_PID=$!
sleep 0.5
kill -0 "$NGINX_PID" 2>/dev/null || { echo "bench: nginx did not start" >&2; cat "$DIR/nginx.out" >&2; exit 2; }

CURVE_BRIDGE='' CURVE_PUBLISH=''
if [ "$CURVE" = 1 ]; then
    bench_keys "$BIN" "$DIR"
fi

# One run: $1 workers, $2 wrapper ("" or callgrind), $3 "curve", "metrics",
# "libcurl" or nothing.
# Prints its row.
LOST=0
run_once () {
    BUS="tcp://127.0.0.1:$(free_port)"
    accepts=$(accepted)
    log=$DIR/bridge-$1.log
    bridge_keys='' publish_keys='' label=$1
    if [ "${3:-}" = curve ]; then
        bridge_keys=$CURVE_BRIDGE publish_keys=$CURVE_PUBLISH label="$1-curve"
    fi
    metrics_port='' libcurl=false
    if [ "${3:-}" = libcurl ]; then
        libcurl=true label="$1-libcurl"
    fi
    if [ "${3:-}" = metrics ]; then
        metrics_port=$(free_port)
        bridge_keys="--metrics 127.0.0.1:$metrics_port" label="$1-metrics"
    fi
    # shellcheck disable=SC2086
    OPENVIDU_WEBHOOK=true OPENVIDU_WEBHOOK_ENDPOINT="http://127.0.0.1:$NGINX_PORT/hook" \
        OVHOOK_HTTP_LIBCURL=$libcurl $2 "$BIN/ovhook-bridge" --bus "@$BUS" --workers "$1" --stats-interval 60m $bridge_keys > "$log" 2>&1 &
    BRIDGE_PID=$!
    tries=600
    until grep -q 'ready:' "$log" 2>/dev/null; do
        tries=$((tries - 1))
        if [ $tries = 0 ] || ! kill -0 "$BRIDGE_PID" 2>/dev/null; then
            echo "bench: the bridge did not start:" >&2; cat "$log" >&2; exit 2
        fi
        sleep 0.1
    done
    sleep 1.2
    before=$(lines "$DIR/hook.log")
    ticks=$(cpu_ticks "$BRIDGE_PID") sys=$(sys_ticks "$BRIDGE_PID")
    # shellcheck disable=SC2086
    "$BIN/bench_publish" $publish_keys --bus ">$BUS" --count "$EVENTS" --sessions "$SESSIONS" > "$DIR/publish.txt" 2>&1
    # A scrape costs the bridge too, once: what Prometheus would add every 15 s
    [ -n "$metrics_port" ] && /usr/bin/python3 -c 'import sys, urllib.request
urllib.request.urlopen ("http://127.0.0.1:%s/metrics" % sys.argv [1]).read ()' "$metrics_port"
    seen=-1 still=0
    while [ $still -lt 50 ]; do
        delivered=$(($(lines "$DIR/hook.log") - before))
        [ "$delivered" -ge "$EVENTS" ] && break
        if [ "$delivered" = "$seen" ]; then still=$((still + 1)); else still=0; seen=$delivered; fi
        sleep 0.2
    done
    ticks=$(($(cpu_ticks "$BRIDGE_PID") - ticks)) sys=$(($(sys_ticks "$BRIDGE_PID") - sys))
    # Memory once everything is delivered: with one session per event
    # (BENCH_SESSIONS = BENCH_EVENTS), state kept per session would show here
    rss=$(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "%.1f/%.1f", r / 1024, h / 1024 }' \
          "/proc/$BRIDGE_PID/status" 2>/dev/null)
    kill -TERM "$BRIDGE_PID"; wait "$BRIDGE_PID" 2>/dev/null; BRIDGE_PID=''
    sleep 1.2
    delivered=$(($(lines "$DIR/hook.log") - before))
    accepts=$(($(accepted) - accepts - 1))           # less our own status request
    LOST=$((LOST + EVENTS - delivered))
    cpu=$(awk -v t="$ticks" -v n="$delivered" -v hz="$TICK" 'BEGIN { printf "%.1f", n ? t * 1e6 / hz / n : 0 }')
    kernel=$(awk -v t="$sys" -v n="$delivered" -v hz="$TICK" 'BEGIN { printf "%.1f", n ? t * 1e6 / hz / n : 0 }')
    if [ -n "$2" ]; then
        ir=$(sed -n 's/^\(summary\|totals\): *//p' "$DIR/callgrind.out" | head -1)
        printf '%8s %10s %12s %12s   (under callgrind: %s instructions in all)\n' "$label" "$delivered" \
            "$(awk -v i="$ir" -v n="$delivered" 'BEGIN { printf "%.0f Ir", n ? i / n : 0 }')" \
            "$accepts" "$ir"
        # BENCH_CALLGRIND_KEEP=DIR keeps each profile, for callgrind_annotate
        [ -n "${BENCH_CALLGRIND_KEEP:-}" ] && cp "$DIR/callgrind.out" "$BENCH_CALLGRIND_KEEP/callgrind-$label.out"
        rm -f "$DIR/callgrind.out"
    else
        printf '%8s %10s %12s %12s %14s %12s\n' "$label" "$delivered" "$cpu us" "$accepts" "$rss" "$kernel us"
    fi
}

echo "== bench_workers: $EVENTS events over $SESSIONS sessions into nginx, full speed"
echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bridge:  $BIN/ovhook-bridge ($("$BIN/ovhook-bridge" --version))"
echo
echo " workers  delivered  CPU/event  connections  RSS/peak MiB  of it kernel"
FIRST=${WORKERS%% *}
for workers in $WORKERS; do
    run_once "$workers" ""
    [ "$LIBCURL" = 1 ] && run_once "$workers" "" libcurl
done
[ "$CURVE" = 1 ] && run_once "$FIRST" "" curve
[ "$METRICS" = 1 ] && run_once "$FIRST" "" metrics
if [ "$CALLGRIND" = 1 ]; then
    echo
    echo " workers  delivered     Ir/event  connections  (Ir: valgrind --tool=callgrind)"
    for workers in $WORKERS; do
        run_once "$workers" "valgrind -q --tool=callgrind --callgrind-out-file=$DIR/callgrind.out"
        [ "$LIBCURL" = 1 ] && run_once "$workers" "valgrind -q --tool=callgrind --callgrind-out-file=$DIR/callgrind.out" libcurl
    done
    [ "$CURVE" = 1 ] && run_once "$FIRST" "valgrind -q --tool=callgrind --callgrind-out-file=$DIR/callgrind.out" curve
    [ "$METRICS" = 1 ] && run_once "$FIRST" "valgrind -q --tool=callgrind --callgrind-out-file=$DIR/callgrind.out" metrics
fi
[ "$LOST" = 0 ] || { echo "bench: $LOST event(s) not delivered" >&2; exit 1; }
exit 0
