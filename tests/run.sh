#!/bin/sh
# The whole ovhook test suite, as CI runs it:
#   1. install what is missing (Debian 12 packages)
#   2. build with -Werror, run every test (ctest: unit + end-to-end)
#   3. run the C unit tests under valgrind (leaks and memory errors)
#   4. build with ASan+UBSan, run every test again
#   5. build with ThreadSanitizer, run the bridge's concurrency tests
#   6. fuzz decode + translate for OVHOOK_FUZZ_SECONDS (60) seconds
# Usage: sh tests/run.sh [--quick]   (--quick: step 2 only)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
quick=no
[ "${1:-}" = "--quick" ] && quick=yes
passed=0
failed=0

sh tools/install-deps.sh

stage() { printf '\n=== %s ===\n' "$*"; }

# Runs ctest in a build folder; adds its counts to the totals
run_ctest() {
    dir=$1; shift
    log=$dir/ctest.log
    if ctest --test-dir "$dir" -j"$jobs" --output-on-failure "$@" > "$log" 2>&1; then :; fi
    cat "$log"
    total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$log" | tail -n 1)
    bad=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [ -z "$total" ]; then
        echo "run.sh: ctest in $dir did not finish" >&2
        failed=$((failed + 1))
        return
    fi
    passed=$((passed + total - bad))
    failed=$((failed + bad))
}

stage "build (-Werror)"
cmake -S . -B build -DOVHOOK_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$jobs"
stage "tests"
run_ctest build

stage "install, then build a program against the installed library"
prefix=$(mktemp -d)
cmake --install build --prefix "$prefix" > build/install.log
pc=$(find "$prefix" -name ovhook.pc | head -n 1)
# ovhook.pc must name the prefix given to --install (no --define-prefix here)
if [ -n "$pc" ] && [ -x "$prefix/bin/ovhook-bridge" ] \
   && [ "$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=prefix ovhook)" = "$prefix" ] \
   && cc -o build/install-consumer tests/install/consumer.c \
        $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs ovhook) \
   && LD_LIBRARY_PATH=$(dirname "$(dirname "$pc")") build/install-consumer; then
    echo "install: ok"
    passed=$((passed + 1))
else
    echo "install: FAILED (prefix $prefix)"; cat build/install.log
    failed=$((failed + 1))
fi
rm -rf "$prefix"

if [ "$quick" = no ]; then
    stage "unit tests under valgrind"
    # --fair-sched=yes: valgrind runs one thread at a time under a lock that,
    # by default, a busy thread can take again at once; test_dispatcher's
    # signal storm (a thread sending kill() in a loop) then starved the
    # thread under test for minutes (seen in CI: the main thread waiting on
    # valgrind's lock pipe while the signaller ran)
    for test in build/tests/test_*; do
        [ -x "$test" ] || continue
        name=$(basename "$test")
        if OVHOOK_REFERENCE_DIR="$root/tests/data" OVHOOK_BIN="$root/build/bin" \
           timeout 900 valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
                    "$test" > "build/$name.valgrind.log" 2>&1; then
            echo "valgrind $name: clean"
            passed=$((passed + 1))
        else
            echo "valgrind $name: FAILED"; cat "build/$name.valgrind.log"
            failed=$((failed + 1))
        fi
    done

    stage "build with ASan + UBSan"
    cmake -S . -B build-asan -DOVHOOK_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug > /dev/null
    cmake --build build-asan -j"$jobs"
    stage "tests under ASan + UBSan"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_ctest build-asan

    stage "build with ThreadSanitizer"
    cmake -S . -B build-tsan -DOVHOOK_TSAN=ON -DCMAKE_BUILD_TYPE=Debug > /dev/null
    cmake --build build-tsan -j"$jobs"
    stage "the bridge's concurrent parts under ThreadSanitizer"
    # halt_on_error: a race kills the bridge with status 66, which fails the test
    TSAN_OPTIONS="suppressions=$root/tests/tsan.supp:halt_on_error=1:exitcode=66" OVHOOK_E2E_SLOW=3 \
        run_ctest build-tsan -R 'e2e_test_bridge_(order|drain|isolation|queue|failures|examples)|e2e_test_delivery_(retry|spool|faults|workers|deadletter)|e2e_test_ha_pair|test_deadletter|test_dispatcher|test_dispatcher_release|test_feed'

    stage "fuzz decode + translate (${OVHOOK_FUZZ_SECONDS:-60} s)"
    CC=clang cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DOVHOOK_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
    cmake --build build-fuzz -j"$jobs" --target fuzz_translate
    work=$(mktemp -d)
    cp tests/fuzz/corpus/* "$work/"
    if build-fuzz/bin/fuzz_translate -max_total_time="${OVHOOK_FUZZ_SECONDS:-60}" \
           -max_len=4096 -artifact_prefix=build-fuzz/ "$work" > build-fuzz/fuzz.log 2>&1; then
        tail -n 3 build-fuzz/fuzz.log
        echo "fuzz: no finding"
        passed=$((passed + 1))
    else
        tail -n 60 build-fuzz/fuzz.log
        echo "fuzz: FINDING (see build-fuzz/crash-*)"
        failed=$((failed + 1))
    fi
    rm -rf "$work"
fi

printf '\n'
echo "suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
