/*  bench_hiccup.c - how long this machine stops a process that does
    nothing but sleep (a "hiccup" meter, after jHiccup).

    bench_hiccup [--seconds N] [--interval-us U]

    Sleeps U µs (default 1000) in a loop for N seconds (default 10) and
    records, each time, how much later than asked it woke up. Prints one
    line:
      wakeups=W over_2ms=K p99_us=.. p999_us=.. max_us=.. stalled_ms=S
    (stalled_ms: the sum of the delays over 2 ms). A process with no work
    of its own sees only what the machine does to it: the kernel, the
    other processes and, in a virtual machine, the host. Run beside the
    bridge's latency runs (bench_bridge.sh does), a stall that delays both
    is the machine's, not the bridge's.                                    */

#define _GNU_SOURCE
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t
s_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

static int
s_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

int
main (int argc, char *argv [])
{
    long seconds = 10, interval = 1000;
    for (int index = 1; index < argc; index++) {
        if (strcmp (argv [index], "--seconds") == 0 && index + 1 < argc)
            seconds = strtol (argv [++index], NULL, 10);
        else
        if (strcmp (argv [index], "--interval-us") == 0 && index + 1 < argc)
            interval = strtol (argv [++index], NULL, 10);
        else {
            fprintf (stderr, "usage: bench_hiccup [--seconds N] [--interval-us U]\n");
            return 2;
        }
    }
    if (seconds < 1 || interval < 1) {
        fprintf (stderr, "bench_hiccup: --seconds and --interval-us must be positive\n");
        return 2;
    }
    size_t capacity = (size_t) (seconds * 1000000 / interval) + 1;
    int64_t *delays = (int64_t *) malloc (capacity * sizeof (int64_t));
    if (!delays) {
        fprintf (stderr, "bench_hiccup: out of memory\n");
        return 2;
    }
    size_t count = 0, over = 0;
    int64_t stalled = 0;
    int64_t end = s_now_us () + seconds * 1000000;
    struct timespec pause = { .tv_sec = interval / 1000000, .tv_nsec = (interval % 1000000) * 1000 };
    while (count < capacity) {
        int64_t before = s_now_us ();
        if (before >= end)
            break;
        nanosleep (&pause, NULL);
        int64_t late = s_now_us () - before - interval;
        delays [count++] = late > 0 ? late : 0;
        if (late > 2000) {
            over++;
            stalled += late;
        }
    }
    qsort (delays, count, sizeof (int64_t), s_compare);
    printf ("wakeups=%zu over_2ms=%zu p99_us=%" PRId64 " p999_us=%" PRId64 " max_us=%" PRId64
            " stalled_ms=%" PRId64 "\n", count, over,
            count ? delays [count * 99 / 100] : 0, count ? delays [count * 999 / 1000] : 0,
            count ? delays [count - 1] : 0, stalled / 1000);
    free (delays);
    return 0;
}
