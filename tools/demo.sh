#!/bin/sh
# The whole ovhook pipeline, live, on this machine:
#   install what is missing, build, start a webhook receiver that prints what it
#   gets, start ovhook-bridge, publish a realistic session on the bus with
#   ovhook-inject (created, participants joining, WebRTC connections, a
#   recording, signals, leaving, destroyed), show the bodies as they arrive,
#   then stop everything cleanly.
# Usage: sh tools/demo.sh   (env: DEMO_PORT=8080 DEMO_BUS_PORT=5560 PARTICIPANTS=2)
set -eu
cd "$(dirname "$0")/.."
port=${DEMO_PORT:-8080}
bus_port=${DEMO_BUS_PORT:-5560}
participants=${PARTICIPANTS:-2}

sh tools/install-deps.sh
echo "== building (cmake, build/) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)" > build/demo-build.log 2>&1 || { cat build/demo-build.log; exit 1; }
bin=$(pwd)/build/bin

work=$(mktemp -d)
receiver_pid=""
bridge_pid=""
cleanup() {
    [ -n "$bridge_pid" ] && kill "$bridge_pid" 2>/dev/null || true
    [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== starting a webhook receiver on http://127.0.0.1:$port/webhook =="
/usr/bin/python3 -u tools/ovhook-receiver.py --port "$port" > "$work/receiver.log" 2>&1 &
receiver_pid=$!
for _ in $(seq 50); do grep -q listening "$work/receiver.log" && break; sleep 0.1; done
grep -q listening "$work/receiver.log" || { cat "$work/receiver.log"; exit 1; }

echo "== starting ovhook-bridge (bus @tcp://127.0.0.1:$bus_port) =="
OPENVIDU_WEBHOOK=true \
OPENVIDU_WEBHOOK_ENDPOINT="http://127.0.0.1:$port/webhook" \
OPENVIDU_WEBHOOK_HEADERS='["Authorization: Basic T1BFTlZJRFVBUFA6TVlfU0VDUkVU"]' \
    "$bin/ovhook-bridge" --bus "@tcp://127.0.0.1:$bus_port" > "$work/bridge.log" 2>&1 &
bridge_pid=$!
for _ in $(seq 50); do grep -q "ready:" "$work/bridge.log" && break; sleep 0.1; done
grep -q "ready:" "$work/bridge.log" || { cat "$work/bridge.log"; exit 1; }
sed 's/^/  bridge | /' "$work/bridge.log"

echo "== publishing one session with $participants participants (ovhook-inject --scenario session) =="
echo "== the webhook bodies, as the receiver gets them: =="
# Show the receiver's lines live while the session is published
tail -n +2 -f "$work/receiver.log" | sed -u 's/^/  /' &
tail_pid=$!
"$bin/ovhook-inject" --bus ">tcp://127.0.0.1:$bus_port" --scenario session \
    --sessions 1 --participants "$participants"
sleep 1
kill "$tail_pid" 2>/dev/null || true

echo "== stopping the bridge (SIGTERM: it delivers what is queued, then exits) =="
kill -TERM "$bridge_pid"
wait "$bridge_pid" && status=0 || status=$?
bridge_pid=""
tail -n 2 "$work/bridge.log" | sed 's/^/  bridge | /'
received=$(grep -c '^#' "$work/receiver.log" || true)
echo "== done: the receiver got $received webhook POSTs; bridge exit status $status =="
[ "$status" -eq 0 ] && [ "$received" -gt 0 ]
