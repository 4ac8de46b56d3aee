# bench_keys.sh - sourced by the benchmarks that compare CURVE with
# plaintext: bench_keys BIN DIR makes a bridge certificate and an allowed
# publisher's (src prefix bench/, as bench_publish names its src) in DIR/keys
# with ovhook-keygen, and sets CURVE_BRIDGE and CURVE_PUBLISH to the flags
# of each side. Exits 2 when ovhook-keygen fails.
bench_keys () {
    mkdir -p "$2/keys/allow" && chmod 700 "$2/keys"
    "$1/ovhook-keygen" "$2/keys/bridge" > /dev/null \
        && "$1/ovhook-keygen" --src-prefix bench/ "$2/keys/allow/publisher" > /dev/null \
        && mv "$2/keys/allow/publisher_secret" "$2/keys/" \
        || { echo "bench: ovhook-keygen failed" >&2; exit 2; }
    CURVE_BRIDGE="--bus-key $2/keys/bridge_secret --bus-allow $2/keys/allow"
    CURVE_PUBLISH="--bus-key $2/keys/publisher_secret --bus-server-key $2/keys/bridge"
}
