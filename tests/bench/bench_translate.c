/*  bench_translate.c - speed of the translator on the 15 documented event
    shapes, and proof that it allocates nothing per event once warm.

    Usage: bench_translate [reference-dir | examples.jsonl] [iterations] [shape]
      reference-dir  folder of openvidu-examples.jsonl (default: the
                     OVHOOK_REFERENCE_DIR environment variable)
      iterations     timed translations per shape (default 1000000)
      shape          only this event type (for callgrind runs)

    Per shape it prints the ns per event of the best of 100 batches (the
    cost when nothing else runs), the mean over all, events/s from the mean,
    and the heap allocations made during the timed loops.
    Each message is topic + body + envelope, the body packed from the JSON
    example by ovh_webhook_to_body (properties in the example's order). The heap
    is counted by defining malloc/calloc/realloc/free here, forwarding to
    glibc: every allocation anywhere in the process goes through them. (Off
    under AddressSanitizer, which owns malloc.)
    Instructions per event: run one shape under
      valgrind --tool=callgrind --toggle-collect=ovh_translator_translate
    and divide the total by the "translate calls" line.                      */

#include <time.h>
#include "ovhook.h"

#if defined (__SANITIZE_ADDRESS__)
#   define S_COUNTING 0
#elif defined (__has_feature)
#   if __has_feature (address_sanitizer)
#       define S_COUNTING 0
#   endif
#endif
#ifndef S_COUNTING
#   define S_COUNTING 1
#endif

static size_t s_allocations;        //  malloc, calloc and realloc calls

#if S_COUNTING
extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t count, size_t size);
extern void *__libc_realloc (void *pointer, size_t size);
extern void __libc_free (void *pointer);

void *malloc (size_t size) { s_allocations++; return __libc_malloc (size); }
void *calloc (size_t count, size_t size) { s_allocations++; return __libc_calloc (count, size); }
void *realloc (void *pointer, size_t size) { s_allocations++; return __libc_realloc (pointer, size); }
void free (void *pointer) { __libc_free (pointer); }
#endif

#define S_MAX_SHAPES 32
#define S_BATCHES 100           //  timed batches per shape

typedef struct {
    const char *topic;          //  the catalog's name
    ovh_body_t *body;
    const void *data;           //  the packed body
    size_t size;
} shape_t;

//  Read the examples into shapes; returns how many
static size_t
s_load (const char *path, shape_t *shapes, const char *only)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        fprintf (stderr, "bench_translate: cannot open %s\n", path);
        return 0;
    }
    size_t count = 0;
    char line [8192];
    while (count < S_MAX_SHAPES && fgets (line, sizeof line, file)) {
        line [strcspn (line, "\r\n")] = 0;
        if (!*line)
            continue;
        shape_t *shape = &shapes [count];
        if (!shape->body)
            shape->body = ovh_body_new ();
        ovh_error_t error;
        const ovh_event_type_t *type = ovh_webhook_to_body (line, strlen (line), shape->body, &error);
        shape->data = type? ovh_body_data (shape->body, &shape->size): NULL;
        if (!shape->data) {
            fprintf (stderr, "bench_translate: %s: %s (line skipped)\n", path,
                     type? ovh_body_error (shape->body)->text: error.text);
            continue;
        }
        if (only && strcmp (type->name, only) != 0)
            continue;
        shape->topic = type->name;
        count++;
    }
    fclose (file);
    return count;
}

static double
s_now (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

int
main (int argc, char *argv [])
{
    const char *where = argc > 1? argv [1]: getenv ("OVHOOK_REFERENCE_DIR");
    long iterations = argc > 2? atol (argv [2]): 1000000;
    const char *only = argc > 3? argv [3]: NULL;
    if (!where || iterations <= 0) {
        fprintf (stderr, "usage: bench_translate [reference-dir | file.jsonl] [iterations] [shape]\n");
        return 1;
    }
    char path [1024];
    size_t length = strlen (where);
    if (length > 6 && strcmp (where + length - 6, ".jsonl") == 0)
        snprintf (path, sizeof path, "%s", where);
    else
        snprintf (path, sizeof path, "%s/openvidu-examples.jsonl", where);

    static shape_t shapes [S_MAX_SHAPES];
    size_t count = s_load (path, shapes, only);
    if (count == 0) {
        ovh_body_destroy (&shapes [0].body);
        return 1;
    }

    //  The envelope a publisher sends: src and a seq
    ovh_body_t *envelope = ovh_body_new ();
    ovh_body_str (envelope, "src", "bench/4242/a1b2c3d4");
    ovh_body_uint (envelope, "seq", 123456789);
    size_t envelope_size;
    const void *envelope_data = ovh_body_data (envelope, &envelope_size);

    ovh_translator_t *translator = ovh_translator_new ();
    ovh_event_t event;
    long warmup = iterations / 10 < 10000? iterations / 10 + 1: 10000;
    long calls = 0;
    size_t allocations = 0;
    size_t checksum = 0;
    double total_seconds = 0, total_best = 0;
    long total_events = 0;

    printf ("%-26s %6s %6s %9s %9s %12s %7s\n", "shape", "body", "json", "best ns",
            "mean ns", "events/s", "allocs");
    for (size_t index = 0; index < count; index++) {
        shape_t *shape = &shapes [index];
        ovh_frame_t frames [3] = {
            { shape->topic, strlen (shape->topic) },
            { shape->data, shape->size },
            { envelope_data, envelope_size }
        };
        //  Warm up: the buffer grows to this shape's size here, if ever
        for (long round = 0; round < warmup; round++, calls++)
            if (ovh_translator_translate (translator, frames, 3, &event)) {
                fprintf (stderr, "%s: %s\n", shape->topic, ovh_translator_error (translator)->text);
                return 1;
            }
        //  In S_BATCHES batches: the best one shows the cost without the
        //  other processes of a shared machine, the total the average
        size_t before = s_allocations;
        double seconds = 0, best = 1e30;
        long batch_size = iterations / S_BATCHES > 0? iterations / S_BATCHES: 1;
        long done = 0;
        while (done < iterations) {
            long batch = iterations - done < batch_size? iterations - done: batch_size;
            double start = s_now ();
            for (long round = 0; round < batch; round++, calls++) {
                ovh_translator_translate (translator, frames, 3, &event);
                checksum += event.json_size;
            }
            double elapsed = s_now () - start;
            seconds += elapsed;
            if (elapsed / (double) batch < best)
                best = elapsed / (double) batch;
            done += batch;
        }
        size_t allocated = s_allocations - before;
        allocations += allocated;
        total_seconds += seconds;
        total_best += best;
        total_events += iterations;
        printf ("%-26s %6zu %6zu %9.1f %9.1f %12.0f %7zu\n", shape->topic, shape->size,
                event.json_size, best * 1e9, seconds * 1e9 / (double) iterations,
                (double) iterations / seconds, allocated);
    }
    printf ("%-26s %6s %6s %9.1f %9.1f %12.0f %7zu\n", "all shapes (mean of shapes)", "", "",
            total_best * 1e9 / (double) count, total_seconds * 1e9 / (double) total_events,
            (double) total_events / total_seconds, allocations);
    printf ("translate calls: %ld (checksum %zu)\n", calls, checksum);
    printf ("heap allocations during the timed loops: %s\n",
            S_COUNTING? (allocations? "SOME (see allocs column)": "0"): "not counted (ASan)");

    ovh_translator_destroy (&translator);
    ovh_body_destroy (&envelope);
    for (size_t index = 0; index <= count && index < S_MAX_SHAPES; index++)
        ovh_body_destroy (&shapes [index].body);
    return S_COUNTING && allocations? 2: 0;
}
