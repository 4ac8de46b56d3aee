# bench_shell.sh - sourced by the benchmarks: the small shell functions they
# all use. PYTHON may name the interpreter (Debian's python3 by default).

# A free TCP port on loopback
free_port () {
    "${PYTHON:-/usr/bin/python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Lines in a file, 0 if it does not exist (yet)
lines () { [ -f "$1" ] && wc -l < "$1" | tr -d ' ' || echo 0; }

# Stop what we started, by pid, and wait for it
stop () {
    for pid in "$@"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    return 0
}
