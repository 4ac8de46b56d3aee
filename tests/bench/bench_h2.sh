#!/bin/sh
# bench_h2.sh - HTTP/2 against HTTP/1.1 (OVHOOK_HTTP_VERSION), a benchmark,
# not a test: it prints figures and never fails on timing.
#
#   sh tests/bench/bench_h2.sh [build-dir]      (default: ./build)
#
# Needs the build (build/bin/ovhook-bridge, bench_publish), Debian's nginx
# with its echo module (libnginx-mod-http-echo) and h2load (apt-get install
# nghttp2-client), openssl, curl, /usr/bin/python3.
# On loopback, one nginx with TLS and `http2 on` (`listen ... ssl http2`,
# nginx 1.22), `return 200`, every request logged (time, protocol,
# webhook-id, buffered). Each round, side by side:
#   h2load h2     the protocol's ceiling: 1 connection, as many streams as
#                 the bridge has workers (-c1 -m WORKERS), the bridge's body
#   bridge 2      bench_publish publishes N events at full speed over K
#                 sessions, the bridge (--http-version 2) POSTs them
#   h2load 1.1    --h1, as many connections as workers (-c WORKERS -m1)
#   bridge 1.1    the same load, --http-version 1.1
# then both versions once more to /read, which reads each body before it
# answers (echo module), as a receiver does: `return 200` answers first and
# resets the stream, which libcurl 7.88 handles badly over h2
# (docs/delivery.md, "HTTP version").
# events/s = events delivered / (last delivery - first publish), from
# nginx's log; duplicates counted by webhook-id. BENCH_ROUNDS rounds
# (default 3), then the medians. CPU per event of the bridge and of nginx
# from /proc/PID/stat (utime + stime).
# Knobs: BENCH_EVENTS (100000), BENCH_SESSIONS (1000), BENCH_WORKERS (32),
# BENCH_ROUNDS (3), BENCH_KEEPALIVE (nginx keepalive_requests, default
# 1000000 as in bench_bridge.sh: h2load does not reconnect after a GOAWAY,
# so nginx's own 1000 would cut the ceiling's run; 1000 measures the
# bridge through a GOAWAY every 1,000 requests), BENCH_KEEP=1.
# Exit status: 0 when measured; 1 when events were lost; 2 when a tool is
# missing or a process would not start.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench_shell.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" 2>/dev/null && pwd) || { echo "bench: no build directory" >&2; exit 2; }
BIN=$BUILD/bin
EVENTS=${BENCH_EVENTS:-100000}
SESSIONS=${BENCH_SESSIONS:-1000}
WORKERS=${BENCH_WORKERS:-32}
ROUNDS=${BENCH_ROUNDS:-3}
KEEPALIVE=${BENCH_KEEPALIVE:-1000000}
PYTHON=/usr/bin/python3
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
ECHO=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -f "$ECHO" ] || { echo "bench: missing $ECHO (apt-get install libnginx-mod-http-echo)" >&2; exit 2; }

for tool in "$BIN/ovhook-bridge" "$BIN/bench_publish" "$NGINX" "$PYTHON"; do
    [ -x "$tool" ] || { echo "bench: missing $tool" >&2; exit 2; }
done
for tool in h2load openssl curl; do
    command -v $tool >/dev/null || { echo "bench: missing $tool (apt-get install nghttp2-client openssl curl)" >&2; exit 2; }
done

DIR=$(mktemp -d "${TMPDIR:-/tmp}/bench-h2.XXXXXX") && cd "$DIR" || exit 2
NGINX_PID='' BRIDGE_PID='' CHILD_PID=''
# shellcheck disable=SC2317  # called by the trap
cleanup () {
    trap - EXIT INT TERM
    stop "$CHILD_PID" "$BRIDGE_PID" "$NGINX_PID"
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
run () { "$@" & CHILD_PID=$!; wait "$CHILD_PID"; status=$?; CHILD_PID=''; return $status; }
field () { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
median () { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
TICK=$(getconf CLK_TCK)
cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
per_item () { awk -v t="$1" -v n="$2" -v hz="$TICK" 'BEGIN { printf "%.1f", (n > 0) ? t * 1e6 / hz / n : 0 }'; }

# A CA and a certificate for 127.0.0.1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
    -out ca.pem -days 2 -subj "/CN=bench CA" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign > /dev/null 2>&1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key \
    -out server.csr -subj "/CN=localhost" > /dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.pem > /dev/null 2>&1 || { echo "bench: openssl failed" >&2; exit 2; }

PORT=$(free_port)
cat > nginx.conf <<EOF
load_module $ECHO;
daemon off;
master_process off;
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path $DIR/body;
    proxy_temp_path $DIR/proxy;
    fastcgi_temp_path $DIR/fastcgi;
    uwsgi_temp_path $DIR/uwsgi;
    scgi_temp_path $DIR/scgi;
    log_format bench '\$msec \$server_protocol \$http_webhook_id';
    keepalive_requests $KEEPALIVE;
    client_body_buffer_size 64k;
    server {
        listen 127.0.0.1:$PORT ssl http2 backlog=1024;
        ssl_certificate $DIR/server.pem;
        ssl_certificate_key $DIR/server.key;
        location /ceiling { access_log off; return 200; }
        location /hook { access_log $DIR/hook.log bench buffer=256k flush=1s; return 200; }
        # A receiver reads the body before it answers (echo module)
        location /read {
            access_log $DIR/hook.log bench buffer=256k flush=1s;
            echo_read_request_body;
            echo_status 200;
            echo -n "";
        }
    }
}
EOF
"$NGINX" -p "$DIR" -e "$DIR/error.log" -c "$DIR/nginx.conf" > nginx.out 2>&1 &
NGINX_PID=$!
sleep 0.5
probe=$(curl -s --cacert ca.pem -o /dev/null -w '%{http_version}' -d '{}' "https://127.0.0.1:$PORT/ceiling")
[ "$probe" = 2 ] || { echo "bench: nginx does not serve h2 ($probe):" >&2; cat nginx.out error.log >&2; exit 2; }
"$BIN/bench_publish" --print-json > body.json

echo "== ovhook-bridge HTTP/2 benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bridge:  $("$BIN/ovhook-bridge" --version), $WORKERS workers;" \
     "$(curl --version | head -1 | cut -d' ' -f1-3); $("$NGINX" -v 2>&1 | sed 's/.*: //'), TLS, keepalive_requests $KEEPALIVE"
echo "load:    $EVENTS events over $SESSIONS sessions, $ROUNDS rounds"
echo

# h2load over $1 (h2 or h1): sets RATE (requests/s), SUCCEEDED, NGINX_US
# (CPU of nginx per request)
ceiling () {
    if [ "$1" = h2 ]; then set -- -c1 -m"$WORKERS"; else set -- --h1 -c"$WORKERS" -m1; fi
    ticks=$(cpu_ticks "$NGINX_PID")
    run h2load -n "$EVENTS" "$@" -d body.json -H 'content-type: application/json' \
        "https://127.0.0.1:$PORT/ceiling" > h2load.txt 2>&1
    NGINX_US=$(per_item $(($(cpu_ticks "$NGINX_PID") - ticks)) "$EVENTS")
    RATE=$(awk '/^finished in/ { gsub(",", "", $4); printf "%.0f", $4 }' h2load.txt)
    SUCCEEDED=$(awk '/^requests:/ { print $8 }' h2load.txt)
}

# The bridge with --http-version $1 to location $2: sets RATE (events/s),
# DELIVERED, DUPLICATES, PROTO, BRIDGE_US, NGINX_US, FAILED
bridge () {
    BUS="tcp://127.0.0.1:$(free_port)"
    OPENVIDU_WEBHOOK=true OPENVIDU_WEBHOOK_ENDPOINT="https://127.0.0.1:$PORT$2" \
        "$BIN/ovhook-bridge" --bus "@$BUS" --workers "$WORKERS" --ca-file ca.pem \
        --http-version "$1" --stats-interval 60m --retry-initial 50ms > bridge.log 2>&1 &
    BRIDGE_PID=$!
    tries=100
    until grep -q 'ready:' bridge.log; do
        tries=$((tries - 1))
        [ $tries -gt 0 ] && kill -0 $BRIDGE_PID 2>/dev/null || { echo "bench: bridge:" >&2; cat bridge.log >&2; exit 2; }
        sleep 0.1
    done
    sleep 1.2
    before=$(lines hook.log)
    nginx_ticks=$(cpu_ticks "$NGINX_PID")
    run "$BIN/bench_publish" --bus ">$BUS" --count "$EVENTS" --sessions "$SESSIONS" > publish.txt 2>&1
    first_us=$(field "$(cat publish.txt)" first_us)
    seen=-1 still=0
    while [ $still -lt 25 ]; do
        now=$(($(lines hook.log) - before))
        [ "$now" -ge "$EVENTS" ] && break
        if [ "$now" = "$seen" ]; then still=$((still + 1)); else still=0; seen=$now; fi
        sleep 0.2
    done
    ticks=$(cpu_ticks "$BRIDGE_PID")
    NGINX_US=$(per_item $(($(cpu_ticks "$NGINX_PID") - nginx_ticks)) "$EVENTS")
    kill -TERM "$BRIDGE_PID"; wait "$BRIDGE_PID"; BRIDGE_PID=''
    sleep 1.2                               # nginx flushes its log each second
    tail -n +"$((before + 1))" hook.log > round.log
    DELIVERED=$(cut -d' ' -f3 round.log | sort -u | wc -l)
    DUPLICATES=$(($(lines round.log) - DELIVERED))
    PROTO=$(cut -d' ' -f2 round.log | sort | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')
    FAILED=$(sed -n 's/.*failed attempts \([0-9]*\).*/\1/p' bridge.log)
    BRIDGE_US=$(per_item "$ticks" "$DELIVERED")
    last_ms=$(tail -n 1 round.log | cut -d' ' -f1)
    RATE=$(awk -v n="$DELIVERED" -v t0="$first_us" -v t1="$last_ms" \
        'BEGIN { d = t1 - t0 / 1e6; printf "%.0f", (d > 0) ? n / d : 0 }')
}

LOST=0 H2L2='' H2L1='' B2='' B1='' C2='' C1='' N2='' N1='' R2='' R1='' RC2='' RC1=''
row () { printf '%-6s %-17s %10s %10s %6s %6s %5s %12s %12s  %s\n' "$@"; }
row round run "req|ev/s" delivered dup failed lost "bridge us/ev" "nginx us/req" protocol
# The bridge's rows: $1 round, $2 version, $3 location
bridge_row () {
    bridge "$2" "$3"
    lost=$((EVENTS - DELIVERED))
    LOST=$((LOST + lost))
    row "$1" "bridge $2 $3" "$RATE" "$DELIVERED" "$DUPLICATES" "${FAILED:-?}" "$lost" \
        "$BRIDGE_US" "$NGINX_US" "$PROTO"
}
round=1
while [ $round -le "$ROUNDS" ]; do
    for version in 2 1.1; do
        if [ $version = 2 ]; then kind=h2; else kind=h1; fi
        ceiling $kind
        row "$round" "h2load $kind /hook" "$RATE" "$SUCCEEDED" "" "" "" "" "$NGINX_US" \
            "$(sed -n 's/^Application protocol: //p' h2load.txt)"
        if [ $version = 2 ]; then H2L2="$H2L2 $RATE"; else H2L1="$H2L1 $RATE"; fi
        bridge_row "$round" "$version" /hook
        if [ $version = 2 ]; then B2="$B2 $RATE" C2="$C2 $BRIDGE_US" N2="$N2 $NGINX_US"
        else B1="$B1 $RATE" C1="$C1 $BRIDGE_US" N1="$N1 $NGINX_US"; fi
    done
    for version in 2 1.1; do
        bridge_row "$round" "$version" /read
        if [ $version = 2 ]; then R2="$R2 $RATE" RC2="$RC2 $BRIDGE_US"
        else R1="$R1 $RATE" RC1="$RC1 $BRIDGE_US"; fi
    done
    round=$((round + 1))
done
echo
echo "medians over $ROUNDS rounds (events/s; CPU per event from /proc):"
echo "  /hook (return 200, answers before the body):"
echo "    h2load h2 (-c1 -m$WORKERS):       $(echo "$H2L2" | median) req/s"
echo "    bridge --http-version 2:      $(echo "$B2" | median) events/s," \
     "bridge $(echo "$C2" | median) us/event, nginx $(echo "$N2" | median) us/request"
echo "    h2load --h1 (-c$WORKERS -m1):     $(echo "$H2L1" | median) req/s"
echo "    bridge --http-version 1.1:    $(echo "$B1" | median) events/s," \
     "bridge $(echo "$C1" | median) us/event, nginx $(echo "$N1" | median) us/request"
echo "  /read (reads the body, then answers):"
echo "    bridge --http-version 2:      $(echo "$R2" | median) events/s, bridge $(echo "$RC2" | median) us/event"
echo "    bridge --http-version 1.1:    $(echo "$R1" | median) events/s, bridge $(echo "$RC1" | median) us/event"
[ "$LOST" -eq 0 ] || { echo "bench: $LOST event(s) not delivered when measured"; exit 1; }
exit 0
