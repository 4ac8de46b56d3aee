#!/bin/sh
# Install what ovhook needs to build, test and demo, from Debian 12's packages.
# Asks apt only for what is missing, so a second run costs nothing.
set -eu
PACKAGES="build-essential cmake pkg-config clang libclang-rt-14-dev
libzmq3-dev libczmq-dev libmsgpack-dev libcurl4-openssl-dev libjansson-dev
libssl-dev libsqlite3-dev libhttp-parser-dev libsystemd-dev libmicrohttpd-dev python3 python3-zmq python3-msgpack python3-prometheus-client prometheus
help2man man-db dpkg-dev systemd systemd-container mmdebstrap
nginx-light wrk curl openssl iproute2 valgrind procps"
missing=""
for package in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $package" ;;
    esac
done
if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# nginx is only a benchmark receiver: never let its package start a service
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -q --no-install-recommends $missing
