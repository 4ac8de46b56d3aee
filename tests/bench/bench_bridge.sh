#!/bin/sh
# bench_bridge.sh - benchmark of ovhook-bridge (a benchmark, not a test: it
# prints figures and never fails on timing).
#
#   sh tests/bench/bench_bridge.sh [build-dir]      (default: ./build)
#
# Needs the build (build/bin/ovhook-bridge, bench_publish, bench_receiver),
# Debian's nginx-light and wrk, and /usr/bin/python3 (to pick free ports).
# In one run, side by side, on loopback only:
#   1. the ceiling: wrk POSTing the bridge's own JSON body to nginx
#      (`return 200`), with as many connections as the bridge has workers;
#   2. the bridge end to end: bench_publish publishes N events at full speed
#      over K sessions, the bridge POSTs them to the same nginx; events/s =
#      delivered / (last delivery - first publish), from nginx's access log;
#      rounds 1 and 2 alternate BENCH_ROUNDS times and the medians are kept,
#      since the machine is shared and noisy;
#      then the same load once more into bench_receiver, which checks each
#      session's order (nginx cannot);
#   3. latency publish -> arrival at bench_receiver (p50/p99/max) at steady
#      rates, and per-session order (violations must be 0); beside each
#      run, bench_hiccup (a process that only sleeps) shows how late the
#      machine itself woke it;
#   4. the bridge's peak RSS (VmHWM) in the full-speed runs, and CPU time per
#      event of the bridge and of nginx (from /proc);
#   5. with BENCH_SPOOL=1 (default): after each round of 2, the same round
#      with --spool (a fresh file), and the ratio spool/no spool; once,
#      --spool-sync full, for information;
#   5b. with BENCH_CURVE=1 (default): after each round of 2, the same round
#      with CURVE on the bus (keys from ovhook-keygen; the bridge binds with
#      --bus-key/--bus-allow, bench_publish connects with --bus-key/
#      --bus-server-key), and the ratio CURVE/plaintext;
#   5c. with BENCH_NODE=1 (default when node and tests/bench/node_peer/
#      node_modules are there: `npm ci` in that folder installs them): after
#      each round of 2, the same round with the Node peer (node_peer/peer.js:
#      zeromq.js + msgpackr + undici doing the bridge's job) in the bridge's
#      place, and the ratio bridge/Node;
#   6. with BENCH_SPOOL=1: recovery: BENCH_RECOVERY_EVENTS (100000) published
#      while the endpoint's port is closed, into a bridge with --spool; once
#      the spool holds them all, the bridge is stopped (BENCH_RECOVERY_SIGNAL,
#      TERM or KILL), an nginx logging webhook-ids started on that port, the
#      bridge restarted on the spool; time to the last delivery, loss and
#      duplicates (by webhook-id).
# Knobs (environment): BENCH_EVENTS (200000), BENCH_SESSIONS (1000),
# BENCH_WORKERS (32), BENCH_ROUNDS (3), BENCH_WRK_SECONDS (5),
# BENCH_RATES ("1000 10000"), BENCH_LATENCY_SECONDS (10), BENCH_ORDER_RUN
# (1; 0 skips the full-speed order run), BENCH_BRIDGE_ARGS (extra bridge
# flags, e.g. "--queue-events 4096"),
# BENCH_PERF=1 (one more full-speed round, left out of the medians, under
# perf record, and the top of perf report), BENCH_KEEP=1 (keep the temp directory).
# Exit status: 0 when the figures were measured (whatever they are); 1 when
# events were lost, order was broken (per session at the receiver, or per
# publisher on the bus as the bridge logs it) or the bridge died; 2 when a tool is missing or a
# process would not start.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench_shell.sh"
. "$HERE/bench_keys.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" 2>/dev/null && pwd) || { echo "bench: no build directory '${1:-$ROOT/build}'" >&2; exit 2; }
BIN=$BUILD/bin

EVENTS=${BENCH_EVENTS:-200000}
SESSIONS=${BENCH_SESSIONS:-1000}
WORKERS=${BENCH_WORKERS:-32}
ROUNDS=${BENCH_ROUNDS:-3}
WRK_SECONDS=${BENCH_WRK_SECONDS:-5}
RATES=${BENCH_RATES-1000 10000}
LATENCY_SECONDS=${BENCH_LATENCY_SECONDS:-10}
ORDER_RUN=${BENCH_ORDER_RUN:-1}
SPOOL=${BENCH_SPOOL:-1}
CURVE=${BENCH_CURVE:-1}
RECOVERY_EVENTS=${BENCH_RECOVERY_EVENTS:-100000}
RECOVERY_SIGNAL=${BENCH_RECOVERY_SIGNAL:-TERM}
BRIDGE_ARGS=${BENCH_BRIDGE_ARGS:-}
NODE_PEER=$HERE/node_peer
NODE=${BENCH_NODE:-auto}
if [ "$NODE" = auto ]; then
    NODE=0
    command -v node >/dev/null && [ -d "$NODE_PEER/node_modules" ] && NODE=1
fi
if [ "$NODE" = 1 ] && ! { command -v node >/dev/null && [ -d "$NODE_PEER/node_modules" ]; }; then
    echo "bench: BENCH_NODE=1 needs node and the peer's packages (cd $NODE_PEER && npm ci)" >&2; exit 2
fi
PEER=bridge
PYTHON=/usr/bin/python3
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

for tool in "$BIN/ovhook-bridge" "$BIN/bench_publish" "$BIN/bench_receiver" "$BIN/bench_hiccup" "$NGINX" "$PYTHON"; do
    [ -x "$tool" ] || { echo "bench: missing $tool (build first; apt-get install nginx-light wrk)" >&2; exit 2; }
done
for tool in wrk curl; do
    command -v $tool >/dev/null || { echo "bench: missing $tool (apt-get install $tool)" >&2; exit 2; }
done
if [ "${BENCH_PERF:-0}" = 1 ] && ! command -v perf >/dev/null; then
    echo "bench: BENCH_PERF=1 needs perf (apt-get install linux-perf)" >&2; exit 2
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/bench-bridge.XXXXXX") && cd "$DIR" || exit 2
NGINX_PID='' BRIDGE_PID='' RECEIVER_PID='' PERF_PID='' CHILD_PID='' REC_NGINX_PID='' HICCUP_PID=''

# shellcheck disable=SC2317  # called by the trap
cleanup () {
    trap - EXIT INT TERM
    stop "$CHILD_PID" "$PERF_PID" "$RECEIVER_PID" "$BRIDGE_PID" "$NGINX_PID" "$REC_NGINX_PID" "$HICCUP_PID"
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run a command to its end in the background, so that a signal to this
# script is handled at once (sh runs traps only between commands) and the
# command is stopped with the rest
run () {
    "$@" &
    CHILD_PID=$!
    wait "$CHILD_PID"
    status=$?
    CHILD_PID=''
    return $status
}

# As run, and sets CHILD_TICKS to the CPU time (utime + stime, clock ticks)
# the command used: read from /proc while it is a zombie, before the wait
# reaps it (wrk's CPU per request, from /proc like the bridge's)
run_ticks () {
    "$@" &
    CHILD_PID=$!
    CHILD_TICKS=0
    while [ -r "/proc/$CHILD_PID/stat" ]; do
        stat=$(cat "/proc/$CHILD_PID/stat" 2>/dev/null) || break
        CHILD_TICKS=$(echo "$stat" | awk '{ sub (/.*\) /, ""); print $12 + $13 }')
        case $(echo "$stat" | awk '{ sub (/.*\) /, ""); print $1 }') in Z|X) break ;; esac
        sleep 0.05
    done
    wait "$CHILD_PID"
    status=$?
    CHILD_PID=''
    return $status
}

# Lines of a file (0 if absent)
# key=value from a line of "k=v k=v" words
field () { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
median () { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
nginx_requests () { curl -s "http://127.0.0.1:$NGINX_PORT/status" | awk 'NR == 3 { print $3 }'; }

# Wait until a file shows a pattern, or a process dies, up to $3 seconds
wait_for () {
    tries=$(($3 * 10))
    while [ $tries -gt 0 ]; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null && return 1
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}

# Start the bridge towards $1 (endpoint), log named after $2, extra flags
# $3; sets BRIDGE_PID, BUS
start_bridge () {
    BUS_PORT=$(free_port)
    BUS="tcp://127.0.0.1:$BUS_PORT"
    BRIDGE_LOG=$DIR/bridge-$2.log
    if [ "$PEER" = node ]; then
        node "$NODE_PEER/peer.js" --bus "$BUS" --endpoint "$1" --workers "$WORKERS" \
            > "$BRIDGE_LOG" 2>&1 &
    else
    # shellcheck disable=SC2086
    OPENVIDU_WEBHOOK=true OPENVIDU_WEBHOOK_ENDPOINT="$1" \
        "$BIN/ovhook-bridge" --bus "@$BUS" --workers "$WORKERS" --stats-interval 60m \
        $BRIDGE_ARGS ${3:-} > "$BRIDGE_LOG" 2>&1 &
    fi
    BRIDGE_PID=$!
    if ! wait_for "$BRIDGE_LOG" 'ready:' 10 "$BRIDGE_PID"; then
        echo "bench: the bridge did not start:" >&2
        cat "$BRIDGE_LOG" >&2
        exit 2
    fi
}

# SIGTERM the bridge and keep its "stopped:" line in STOPPED
stop_bridge () {
    kill -TERM "$BRIDGE_PID" 2>/dev/null
    wait "$BRIDGE_PID" 2>/dev/null
    status=$?
    BRIDGE_PID=''
    STOPPED=$(grep 'stopped:' "$BRIDGE_LOG" | sed 's/.*stopped: //')
    if [ -z "$STOPPED" ]; then
        STOPPED="DIED (exit status $status): $(grep -v 'went back' "$BRIDGE_LOG" | tail -n 1)"
        BRIDGE_DEATHS=$((BRIDGE_DEATHS + 1))
    fi
}
BRIDGE_DEATHS=0

echo "== ovhook-bridge benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1),"\
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bridge:  $("$BIN/ovhook-bridge" --version), $WORKERS workers${BRIDGE_ARGS:+, $BRIDGE_ARGS}"
echo "load:    $EVENTS events over $SESSIONS sessions, $ROUNDS rounds; wrk $WRK_SECONDS s;" \
     "latency at ${RATES:-no} events/s for $LATENCY_SECONDS s each"
echo

# --- nginx ----------------------------------------------------------------
for _ in 1 2 3; do
    NGINX_PORT=$(free_port)
    sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$NGINX_PORT|g" "$HERE/nginx.conf.in" > "$DIR/nginx.conf"
    "$NGINX" -p "$DIR" -e "$DIR/error.log" -c "$DIR/nginx.conf" > "$DIR/nginx.out" 2>&1 &
    NGINX_PID=$!
    sleep 0.3
    if kill -0 "$NGINX_PID" 2>/dev/null && curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/status"; then
        break
    fi
    stop "$NGINX_PID"; NGINX_PID=
done
[ -n "$NGINX_PID" ] || { echo "bench: nginx did not start:" >&2; cat "$DIR/nginx.out" "$DIR/error.log" >&2; exit 2; }

# wrk POSTs the JSON body the bridge makes of a bench event, with its headers
"$BIN/bench_publish" --print-json > "$DIR/body.json"
cat > "$DIR/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "ovhook/bench"
local file = io.open("$DIR/body.json", "rb")
wrk.body = file:read("*a")
file:close()
EOF

# --- 1 + 2: ceiling and full speed, alternating ----------------------------
TICK=$(getconf CLK_TCK)
# CPU time of a process, and of its busiest thread, in clock ticks
cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
busiest_ticks () { cat /proc/"$1"/task/*/stat 2>/dev/null | awk '{ t = $14 + $15; if (t > m) m = t } END { print m + 0 }'; }
# Microseconds of CPU per item: ticks, items
per_item () { awk -v t="$1" -v n="$2" -v hz="$TICK" 'BEGIN { printf "%.1f", (n > 0) ? t * 1e6 / hz / n : 0 }'; }

# One full-speed round into nginx: $1 label, $2 extra bridge flags, $3 1 to
# run it under perf, $4 extra bench_publish flags. Prints its row; sets
# rate, rss_kib, cpu
full_round () {
    start_bridge "http://127.0.0.1:$NGINX_PORT/hook" "full-$1" "$2"
    if [ "$3" = 1 ]; then
        # DWARF call graphs: Debian's libcurl and libc have no frame pointers
        perf record -F 499 --call-graph dwarf,16384 -p "$BRIDGE_PID" -o "$DIR/perf.data" \
            > "$DIR/perf.out" 2>&1 &
        PERF_PID=$!
        sleep 0.5
    fi
    sleep 1.2                               # earlier log lines are flushed
    before=$(lines "$DIR/hook.log")
    requests_before=$(nginx_requests)
    nginx_ticks=$(cpu_ticks "$NGINX_PID")
    # shellcheck disable=SC2086
    run "$BIN/bench_publish" --bus ">$BUS" --count "$EVENTS" --sessions "$SESSIONS" ${4:-} \
        > "$DIR/publish-$1.txt" 2>&1
    published=$(field "$(cat "$DIR/publish-$1.txt")" published)
    first_us=$(field "$(cat "$DIR/publish-$1.txt")" first_us)
    # Until all arrived, or nothing more for 5 s
    seen=-1 still=0
    while [ $still -lt 25 ]; do
        delivered=$(($(lines "$DIR/hook.log") - before))
        [ "$delivered" -ge "$EVENTS" ] && break
        if [ "$delivered" = "$seen" ]; then still=$((still + 1)); else still=0; seen=$delivered; fi
        sleep 0.2
    done
    nginx_bridge_ticks=$(($(cpu_ticks "$NGINX_PID") - nginx_ticks))
    rss_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$BRIDGE_PID/status" 2>/dev/null)
    rss_kib=${rss_kib:-0}
    bridge_ticks=$(cpu_ticks "$BRIDGE_PID")
    thread_ticks=$(busiest_ticks "$BRIDGE_PID")
    [ -n "$PERF_PID" ] && { kill -INT "$PERF_PID"; wait "$PERF_PID"; PERF_PID=; }
    stop_bridge
    sleep 1.2                               # nginx flushes its log each second
    delivered=$(($(lines "$DIR/hook.log") - before))
    requests=$(($(nginx_requests) - requests_before - 1))
    last_ms=$(tail -n 1 "$DIR/hook.log")
    rate=$(awk -v n="$delivered" -v t0="$first_us" -v t1="$last_ms" \
           'BEGIN { d = t1 - t0 / 1e6; printf "%.0f", (d > 0) ? n / d : 0 }')
    ratio=$(awk -v a="$rate" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }')
    lost=$((EVENTS - delivered))
    LOST_TOTAL=$((LOST_TOTAL + lost))
    flaps=$(grep -c 'queue full' "$BRIDGE_LOG")
    printf '%-8s %10s %12s %6s %10s %6s %8.1f %10s\n' "$1" "$ceiling" "$rate" "$ratio" \
        "$delivered" "$lost" "$(awk -v k="$rss_kib" 'BEGIN { print k / 1024 }')" "$flaps"
    cpu=$(per_item "$bridge_ticks" "$delivered")
    echo "         CPU per event: bridge $cpu us (busiest thread $(per_item "$thread_ticks" "$delivered") us);" \
         "nginx $(per_item "$nginx_bridge_ticks" "$delivered") us/request (under wrk: $(per_item "$nginx_wrk_ticks" "$wrk_requests") us);" \
         "wrk $(per_item "$wrk_ticks" "$wrk_requests") us/request"
    echo "         published $published; nginx counted $requests bridge requests; bridge: $STOPPED"
    # Messages of one publisher read out of seq order: the bus reordered them
    # (nginx cannot check per-session order; the order run below does)
    went_back=$(grep -c 'went back' "$BRIDGE_LOG")
    [ "$went_back" -gt 0 ] && echo "         bridge saw $went_back message(s) out of seq order on the bus"
    BUS_REORDERS=$((BUS_REORDERS + went_back))
    [ -n "$2" ] && [ "$rss_kib" -gt 0 ] && [ "${BENCH_KEEP:-0}" != 1 ] && rm -f "$DIR/spool-$1.db"*
    return 0
}

CEILINGS='' RATES_E2E='' RSS_LIST='' BRIDGE_CPU='' WRK_CPU='' LOST_TOTAL=0 BUS_REORDERS=0
SPOOL_RATES='' SPOOL_RATIOS='' SPOOL_RSS='' SPOOL_CPU='' SPOOL_FULL_RATE=''
CURVE_RATES='' CURVE_RATIOS='' CURVE_CPU=''
NODE_RATES='' NODE_RATIOS='' NODE_CPU='' NODE_RSS=''
[ "$NODE" = 1 ] && echo "node rounds: the same load into the Node peer ($(node --version);" \
    "$(cd "$NODE_PEER" && node -p 'const v = (n) => JSON.parse(require("fs").readFileSync("node_modules/" + n + "/package.json")).version;
        ["zeromq", "msgpackr", "undici"].map((n) => n + " " + v(n)).join(", ")')), right after each round without"
if [ "$CURVE" = 1 ]; then
    bench_keys "$BIN" "$DIR"
    echo "curve rounds: the same load with CURVE on the bus (keys in $DIR/keys), right after each round without"
fi
[ "$SPOOL" = 1 ] && echo "spool rounds: the same load with --spool $DIR/spool-<round>.db" \
    "($(df -T "$DIR" | awk 'NR == 2 { print $2 }'), a fresh file each round), right after each round without"
printf '%-8s %10s %12s %6s %10s %6s %8s %10s\n' round "wrk req/s" "bridge ev/s" "/wrk" delivered lost "RSS MiB" "queue-full"
# With BENCH_PERF=1, one more round under perf, left out of the medians
LAST_ROUND=$ROUNDS
[ "${BENCH_PERF:-0}" = 1 ] && LAST_ROUND=$((ROUNDS + 1))
round=1
while [ $round -le "$LAST_ROUND" ]; do
    nginx_ticks=$(cpu_ticks "$NGINX_PID")
    run_ticks wrk -t1 -c"$WORKERS" -d"${WRK_SECONDS}s" -s "$DIR/post.lua" \
        "http://127.0.0.1:$NGINX_PORT/ceiling" > "$DIR/wrk-$round.txt" 2>&1
    nginx_wrk_ticks=$(($(cpu_ticks "$NGINX_PID") - nginx_ticks))
    ceiling=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$DIR/wrk-$round.txt")
    wrk_requests=$(awk '/ requests in / { print $1 }' "$DIR/wrk-$round.txt")
    wrk_ticks=$CHILD_TICKS
    [ -n "$ceiling" ] || { echo "bench: wrk failed:" >&2; cat "$DIR/wrk-$round.txt" >&2; exit 2; }

    if [ $round -gt "$ROUNDS" ]; then
        full_round perf '' 1
        round=$((round + 1))
        continue
    fi
    full_round "$round" '' 0
    if [ "$rss_kib" -gt 0 ]; then           # not if it died
        CEILINGS="$CEILINGS $ceiling" RATES_E2E="$RATES_E2E $rate" RSS_LIST="$RSS_LIST $rss_kib"
        BRIDGE_CPU="$BRIDGE_CPU $cpu"
        WRK_CPU="$WRK_CPU $(per_item "$wrk_ticks" "$wrk_requests")"
    fi
    plain=$rate
    if [ "$CURVE" = 1 ]; then
        full_round "$round-curve" "$CURVE_BRIDGE" 0 "$CURVE_PUBLISH"
        if [ "$rss_kib" -gt 0 ]; then
            CURVE_RATES="$CURVE_RATES $rate" CURVE_CPU="$CURVE_CPU $cpu"
            CURVE_RATIOS="$CURVE_RATIOS $(awk -v a="$rate" -v b="$plain" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')"
        fi
        echo "         curve/plaintext this round: $(echo "$CURVE_RATIOS" | awk '{ print $NF }')"
    fi
    if [ "$NODE" = 1 ]; then
        PEER=node
        full_round "$round-node" '' 0
        PEER=bridge
        if [ "$rss_kib" -gt 0 ]; then
            NODE_RATES="$NODE_RATES $rate" NODE_CPU="$NODE_CPU $cpu" NODE_RSS="$NODE_RSS $rss_kib"
            NODE_RATIOS="$NODE_RATIOS $(awk -v a="$plain" -v b="$rate" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')"
        fi
        echo "         bridge/node this round: $(echo "$NODE_RATIOS" | awk '{ print $NF }')"
    fi
    if [ "$SPOOL" = 1 ]; then
        no_spool=$plain
        full_round "$round-spool" "--spool $DIR/spool-$round-spool.db" 0
        if [ "$rss_kib" -gt 0 ]; then
            SPOOL_RATES="$SPOOL_RATES $rate" SPOOL_RSS="$SPOOL_RSS $rss_kib" SPOOL_CPU="$SPOOL_CPU $cpu"
            SPOOL_RATIOS="$SPOOL_RATIOS $(awk -v a="$rate" -v b="$no_spool" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')"
        fi
        echo "         spool/no spool this round: $(echo "$SPOOL_RATIOS" | awk '{ print $NF }')"
        # For information: every commit fsynced (power-cut safe), once
        if [ $round = 1 ]; then
            full_round "1-full" "--spool $DIR/spool-1-full.db --spool-sync full" 0
            SPOOL_FULL_RATE=$rate
        fi
    fi
    round=$((round + 1))
done
CEILING=$(echo "$CEILINGS" | median)
E2E=$(echo "$RATES_E2E" | median)
CPU_PER_EVENT=$(echo "$BRIDGE_CPU" | median)
WRK_PER_REQUEST=$(echo "$WRK_CPU" | median)
RSS_MAX=$(echo "$RSS_LIST" | tr ' ' '\n' | sort -n | tail -n 1)
echo

# bench_receiver expecting $1 requests, output in $2; sets RECEIVER_PID
start_receiver () {
    rm -f "$DIR/receiver.port"
    "$BIN/bench_receiver" --port-file "$DIR/receiver.port" --expect "$1" --timeout 15 > "$2" 2>&1 &
    RECEIVER_PID=$!
    wait_for "$DIR/receiver.port" . 5 "$RECEIVER_PID" || { echo "bench: receiver did not start" >&2; exit 2; }
}

# --- 2b: per-session order at full speed ------------------------------------
# The same full-speed load into bench_receiver, which checks each session's
# order (nginx cannot); its events/s is given too (a cheaper receiver)
VIOLATIONS=0
if [ "$ORDER_RUN" = 1 ]; then
    start_receiver "$EVENTS" "$DIR/receiver-full.txt"
    start_bridge "http://127.0.0.1:$(cat "$DIR/receiver.port")/hook" "order"
    run "$BIN/bench_publish" --bus ">$BUS" --count "$EVENTS" --sessions "$SESSIONS" \
        > "$DIR/publish-order.txt" 2>&1
    wait "$RECEIVER_PID"
    RECEIVER_PID=''
    stop_bridge
    line=$(cat "$DIR/receiver-full.txt")
    received=$(field "$line" received)
    violations=$(field "$line" order_violations)
    order_rate=$(awk -v n="$received" -v t0="$(field "$(cat "$DIR/publish-order.txt")" first_us)" \
                     -v t1="$(field "$line" last_us)" 'BEGIN { d = (t1 - t0) / 1e6; printf "%.0f", (d > 0) ? n / d : 0 }')
    went_back=$(grep -c 'went back' "$BRIDGE_LOG")
    VIOLATIONS=$((VIOLATIONS + violations))
    LOST_TOTAL=$((LOST_TOTAL + EVENTS - received))
    BUS_REORDERS=$((BUS_REORDERS + went_back))
    echo "order at full speed (bench_receiver): received $received of $EVENTS, $order_rate events/s," \
         "per-session order violations $violations, out of seq order on the bus $went_back"
    echo "       bridge: $STOPPED"
    echo
fi

# --- 3: latency at steady rates -------------------------------------------
# Steal: time the hypervisor ran something else while a vCPU of this guest
# had work (/proc/stat), summed over the CPUs: a stall of the whole
# pipeline with steal in the same run points at the host, not the bridge
steal_ticks () { awk '/^cpu / { print $9 }' /proc/stat; }
[ -n "$RATES" ] && printf '%-12s %9s %8s %8s %8s %9s %8s %11s %s\n' "rate ev/s" received "p50 ms" "p90 ms" "p99 ms" "p99.9 ms" "max ms" "order viol." sessions
LATENCY_SUMMARY=''
for rate in $RATES; do
    count=$((rate * LATENCY_SECONDS))
    start_receiver "$count" "$DIR/receiver-$rate.txt"
    start_bridge "http://127.0.0.1:$(cat "$DIR/receiver.port")/hook" "rate-$rate"
    steal_before=$(steal_ticks)
    # Beside it, a process that only sleeps 1 ms at a time: what it sees
    # late is the machine's doing (bench_hiccup.c)
    "$BIN/bench_hiccup" --seconds "$LATENCY_SECONDS" > "$DIR/hiccup-$rate.txt" 2>&1 &
    HICCUP_PID=$!
    run "$BIN/bench_publish" --bus ">$BUS" --count "$count" --sessions "$SESSIONS" --rate "$rate" \
        > "$DIR/publish-rate-$rate.txt" 2>&1
    steal=$(($(steal_ticks) - steal_before))
    wait "$HICCUP_PID"
    HICCUP_PID=''
    hiccup=$(cat "$DIR/hiccup-$rate.txt")
    wait "$RECEIVER_PID"
    RECEIVER_PID=
    stop_bridge
    line=$(cat "$DIR/receiver-$rate.txt")
    ms () { awk -v u="$(field "$line" "$1")" 'BEGIN { printf "%.3f", u / 1000 }'; }
    violations=$(field "$line" order_violations)
    received=$(field "$line" received)
    VIOLATIONS=$((VIOLATIONS + violations))
    LOST_TOTAL=$((LOST_TOTAL + count - received))
    printf '%-12s %9s %8s %8s %8s %9s %8s %11s %s\n' "$rate" "$received" "$(ms p50_us)" \
        "$(ms p90_us)" "$(ms p99_us)" "$(ms p999_us)" "$(ms max_us)" "$violations" \
        "$(field "$line" sessions)"
    echo "             publisher: $(sed 's/first_us=[0-9]* last_us=[0-9]* //' "$DIR/publish-rate-$rate.txt");" \
         "queue-full logs $(grep -c 'queue full' "$BRIDGE_LOG");" \
         "over 2 ms: $(field "$line" over_2ms) events; CPU time the hypervisor took (steal), all CPUs: $(awk -v t="$steal" -v hz="$TICK" 'BEGIN { printf "%.0f", t * 1000 / hz }') ms"
    echo "             a sleeping process beside it (bench_hiccup, 1 ms sleeps): woke over 2 ms late" \
         "$(field "$hiccup" over_2ms) times, $(field "$hiccup" stalled_ms) ms in all, at most" \
         "$(awk -v u="$(field "$hiccup" max_us)" 'BEGIN { printf "%.1f", u / 1000 }') ms late"
    LATENCY_SUMMARY="$LATENCY_SUMMARY p99 at $rate/s $(ms p99_us) ms;"
    [ "$rate" = 1000 ] && P99_1000=$(ms p99_us)
done
echo

# --- 5: recovery of a full spool after a restart -----------------------------
# The endpoint is down (its port is closed: the receiver is not started yet)
# while RECOVERY_EVENTS are published; once the spool holds them all, the
# bridge is stopped (SIGTERM, or BENCH_RECOVERY_SIGNAL=KILL), the receiver
# started, and the bridge restarted on the same spool: recovery time = from
# the restart to the last delivery in the receiver's log. The receiver is an
# nginx of its own that logs each request's webhook-id, for loss and
# duplicates.
spool_count () {
    "$PYTHON" -c 'import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=5)
print(db.execute("SELECT count(*) FROM events").fetchone()[0])' "$1" 2>/dev/null || echo -1
}
now_ms () { date +%s%3N; }
REC_SUMMARY=''
if [ "$SPOOL" = 1 ] && [ "$RECOVERY_EVENTS" -gt 0 ]; then
    REC_DIR=$DIR/recovery
    mkdir -p "$REC_DIR"
    REC_PORT=$(free_port)
    REC_DB=$DIR/recovery.db
    sed -e "s|@DIR@|$REC_DIR|g" -e "s|@PORT@|$REC_PORT|g" \
        -e "s|log_format bench '\$msec';|log_format bench '\$msec \$http_webhook_id';|" \
        "$HERE/nginx.conf.in" > "$REC_DIR/nginx.conf"
    # The first bridge gives up on nothing: retries and a short drain at exit
    REC_ARGS="--spool $REC_DB --retries 100 --retry-max 2s --drain-timeout 1s"
    start_bridge "http://127.0.0.1:$REC_PORT/hook" "recovery-fill" "$REC_ARGS"
    run "$BIN/bench_publish" --bus ">$BUS" --count "$RECOVERY_EVENTS" --sessions "$SESSIONS" \
        > "$DIR/publish-recovery.txt" 2>&1
    fill_start_us=$(field "$(cat "$DIR/publish-recovery.txt")" first_us)
    tries=1200                              # up to 120 s
    while [ "$(spool_count "$REC_DB")" -lt "$RECOVERY_EVENTS" ] && [ $tries -gt 0 ]; do
        sleep 0.1; tries=$((tries - 1))
    done
    fill_ms=$(($(now_ms) - fill_start_us / 1000))
    spooled=$(spool_count "$REC_DB")
    if [ "$RECOVERY_SIGNAL" = KILL ]; then
        kill -KILL "$BRIDGE_PID"; wait "$BRIDGE_PID" 2>/dev/null; BRIDGE_PID=''
        STOPPED='killed (-9)'
    else
        stop_bridge
    fi
    left=$(spool_count "$REC_DB")
    echo "recovery: $spooled of $RECOVERY_EVENTS events in the spool $fill_ms ms after the first publish" \
         "(endpoint down); SIG$RECOVERY_SIGNAL: $STOPPED; spool holds $left"
    "$NGINX" -p "$REC_DIR" -e "$REC_DIR/error.log" -c "$REC_DIR/nginx.conf" > "$REC_DIR/nginx.out" 2>&1 &
    REC_NGINX_PID=$!
    tries=50
    until curl -s -o /dev/null "http://127.0.0.1:$REC_PORT/status" || [ $tries -eq 0 ]; do
        sleep 0.1; tries=$((tries - 1))
    done
    [ $tries -gt 0 ] || { echo "bench: recovery nginx did not start:" >&2; cat "$REC_DIR/nginx.out" "$REC_DIR/error.log" >&2; stop "$REC_NGINX_PID"; exit 2; }
    restart_ms=$(now_ms)
    start_bridge "http://127.0.0.1:$REC_PORT/hook" "recovery-resume" "--spool $REC_DB"
    ready_ms=$(($(now_ms) - restart_ms))
    rss_start=$(awk '/^VmRSS:/ { print $2 }' "/proc/$BRIDGE_PID/status" 2>/dev/null)
    # Until the spool is empty and all arrived, or nothing more for 5 s
    seen=-1 still=0 count=0
    while [ $still -lt 25 ]; do
        count=$(lines "$REC_DIR/hook.log")
        [ "$count" -ge "$left" ] && [ "$(spool_count "$REC_DB")" = 0 ] && break
        if [ "$count" = "$seen" ]; then still=$((still + 1)); else still=0; seen=$count; fi
        sleep 0.2
    done
    rss_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$BRIDGE_PID/status" 2>/dev/null)
    resumed=$(sed -n 's/.*spool .*: \([0-9]*\) events to resume.*/\1/p' "$BRIDGE_LOG" | head -1)
    stop_bridge
    left_after=$(spool_count "$REC_DB")
    stop "$REC_NGINX_PID"                   # flushes its log
    REC_NGINX_PID=''
    last_ms=$(tail -n 1 "$REC_DIR/hook.log" | awk '{ printf "%.0f", $1 * 1000 }')
    received=$(lines "$REC_DIR/hook.log")
    unique=$(awk '{ print $2 }' "$REC_DIR/hook.log" | sort -u | wc -l | tr -d ' ')
    rec_lost=$((RECOVERY_EVENTS - unique))
    duplicates=$((received - unique))
    recovery_ms=$((last_ms - restart_ms))
    LOST_TOTAL=$((LOST_TOTAL + rec_lost))
    REC_RATE=$(awk -v n="$received" -v ms="$recovery_ms" 'BEGIN { printf "%.0f", (ms > 0) ? n * 1000 / ms : 0 }')
    echo "          restart: ready in $ready_ms ms ($resumed to resume), RSS $(awk -v k="${rss_start:-0}" 'BEGIN { printf "%.1f", k / 1024 }') MiB at ready," \
         "peak $(awk -v k="${rss_kib:-0}" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
    echo "          all delivered $recovery_ms ms after the restart ($REC_RATE events/s); received $received," \
         "distinct ids $unique, lost $rec_lost, duplicates $duplicates; spool left $left_after; bridge: $STOPPED"
    REC_SUMMARY="$RECOVERY_EVENTS events in $recovery_ms ms after the restart ($REC_RATE events/s), lost $rec_lost, duplicates $duplicates (SIG$RECOVERY_SIGNAL)"
    echo
fi

# --- summary --------------------------------------------------------------
verdict () { awk -v v="$1" -v t="$2" -v up="$3" 'BEGIN { ok = up ? v >= t : v < t; print ok ? "target met" : "BELOW TARGET" }'; }
echo "== summary (medians of $ROUNDS rounds)"
if [ -n "$E2E" ]; then
    RATIO=$(awk -v a="$E2E" -v b="$CEILING" 'BEGIN { printf "%.2f", a / b }')
    RSS_MIB=$(awk -v k="$RSS_MAX" 'BEGIN { printf "%.1f", k / 1024 }')
    echo "ceiling (wrk -c$WORKERS -> nginx):   $CEILING req/s"
    echo "bridge end to end:            $E2E events/s  ($(verdict "$E2E" 50000 1) >= 50,000/s)"
    echo "ratio bridge/ceiling:         $RATIO  ($(verdict "$RATIO" 0.6 1) >= 0.6)"
fi
[ -n "${P99_1000:-}" ] && echo "p99 latency at 1,000/s:       $P99_1000 ms  ($(verdict "$P99_1000" 2 0) < 2 ms)"
[ -n "$RATES" ] && echo "latency:                     $LATENCY_SUMMARY"
if [ -n "$SPOOL_RATES" ]; then
    SPOOL_RATIO=$(echo "$SPOOL_RATIOS" | median)
    echo "with --spool:                 $(echo "$SPOOL_RATES" | median) events/s; spool/no spool $SPOOL_RATIO" \
         "(median of the rounds' ratios: $(echo "$SPOOL_RATIOS" | tr -s ' ' | sed 's/^ //'); $(verdict "$SPOOL_RATIO" 0.7 1) >= 0.7)"
    echo "                              --spool-sync full (1 round): $SPOOL_FULL_RATE events/s;" \
         "bridge CPU per event with spool $(echo "$SPOOL_CPU" | median) us;" \
         "peak RSS $(echo "$SPOOL_RSS" | tr ' ' '\n' | sort -n | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }') MiB"
fi
if [ -n "$CURVE_RATES" ]; then
    CURVE_RATIO=$(echo "$CURVE_RATIOS" | median)
    echo "with CURVE on the bus:        $(echo "$CURVE_RATES" | median) events/s; curve/plaintext $CURVE_RATIO" \
         "(median of the rounds' ratios: $(echo "$CURVE_RATIOS" | tr -s ' ' | sed 's/^ //'); $(verdict "$CURVE_RATIO" 0.9 1) >= 0.9);" \
         "bridge CPU per event with CURVE $(echo "$CURVE_CPU" | median) us"
fi
if [ -n "$NODE_RATES" ]; then
    NODE_RATIO=$(echo "$NODE_RATIOS" | median)
    echo "Node peer:                    $(echo "$NODE_RATES" | median) events/s; bridge/node $NODE_RATIO" \
         "(median of the rounds' ratios: $(echo "$NODE_RATIOS" | tr -s ' ' | sed 's/^ //'); $(verdict "$NODE_RATIO" 2 1) >= 2);" \
         "Node CPU per event $(echo "$NODE_CPU" | median) us;" \
         "peak RSS $(echo "$NODE_RSS" | tr ' ' '\n' | sort -n | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }') MiB"
fi
[ -n "$REC_SUMMARY" ] && echo "recovery:                     $REC_SUMMARY"
if [ -n "$E2E" ]; then
    echo "bridge CPU per event:         $CPU_PER_EVENT us (all threads, full speed); wrk $WRK_PER_REQUEST us" \
         "per request; bridge/wrk $(awk -v a="$CPU_PER_EVENT" -v b="$WRK_PER_REQUEST" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')" \
         "($(verdict "$(awk -v a="$CPU_PER_EVENT" -v b="$WRK_PER_REQUEST" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 99 }')" 1.5 0) <= 1.5)"
    echo "peak RSS at full speed:       $RSS_MIB MiB  ($(verdict "$RSS_MIB" 32 0) < 32 MiB)"
fi
echo "per-session order violations: $VIOLATIONS; out of seq order on the bus: $BUS_REORDERS; events lost: $LOST_TOTAL"
[ "$BRIDGE_DEATHS" -gt 0 ] && echo "THE BRIDGE DIED in $BRIDGE_DEATHS run(s): see the 'bridge:' lines above"

if [ "${BENCH_PERF:-0}" = 1 ] && [ -f "$DIR/perf.data" ]; then
    report () { perf report -i "$DIR/perf.data" --stdio -g none "$@" 2>/dev/null | grep -v '^#' | grep -v '^$'; }
    echo
    echo "== perf (bridge, the extra full-speed round): threads, then libraries, then"
    echo "   functions with callees included: user space, syscalls, and the loopback"
    echo "   delivery to nginx done inside send() (unnamed libcurl internals left out)"
    report --no-children --sort pid | head -n 4
    report --no-children --sort dso | head -n 8
    report --children --sort sym | grep -v '\] 0x0000' \
        | grep -E '\[\.\] |__x64_sys_|finish_task_switch|tcp_v4_rcv|sock_def_readable' | head -n 45
fi
[ "$VIOLATIONS" -eq 0 ] && [ "$BUS_REORDERS" -eq 0 ] && [ "$LOST_TOTAL" -eq 0 ] \
    && [ "$BRIDGE_DEATHS" -eq 0 ] || exit 1
exit 0
