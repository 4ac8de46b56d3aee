/*  ovh_test.h - the few macros our C tests share.

    CHECK records a failure with file, line and the expression and goes on,
    so that one run reports every broken case; ovh_test_done () prints the
    closing line and gives the exit status. REQUIRE stops at once: for a
    broken test table, not for the code under test. ovh_test_bytes reads the
    byte specs of the msgpack tables.                                        */

#ifndef OVH_TEST_H_INCLUDED
#define OVH_TEST_H_INCLUDED

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ovh_test_checks;
static int ovh_test_failures;

#define CHECK(expr) do { \
    ovh_test_checks++; \
    if (!(expr)) { \
        ovh_test_failures++; \
        fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
    } \
} while (0)

#define CHECK_MSG(expr, ...) do { \
    ovh_test_checks++; \
    if (!(expr)) { \
        ovh_test_failures++; \
        fprintf (stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #expr); \
        fprintf (stderr, __VA_ARGS__); \
        fputc ('\n', stderr); \
    } \
} while (0)

#define CHECK_STR(got, want) do { \
    const char *_g = (got), *_w = (want); \
    ovh_test_checks++; \
    if (!_g || !_w || strcmp (_g, _w) != 0) { \
        ovh_test_failures++; \
        fprintf (stderr, "%s:%d: CHECK_STR failed: %s\n  got:  %s\n  want: %s\n", \
                 __FILE__, __LINE__, #got, _g ? _g : "(null)", _w ? _w : "(null)"); \
    } \
} while (0)

//  A broken table is a bug of the test: stop at once (assert would vanish
//  under NDEBUG)
#define REQUIRE(expr) do { if (!(expr)) { \
    fprintf (stderr, "%s:%d: broken test: %s\n", __FILE__, __LINE__, #expr); abort (); } \
} while (0)

//  Parse a byte spec such as "81 a1 'v' c0" (hex bytes, and quoted ASCII
//  text; spaces between items are ignored) into 'out'; returns the size
static inline size_t
ovh_test_bytes (const char *spec, uint8_t *out, size_t capacity)
{
    size_t size = 0;
    for (const char *s = spec; *s; ) {
        if (*s == ' ')
            s++;
        else
        if (*s == '\'') {
            for (s++; *s && *s != '\''; s++) {
                REQUIRE (size < capacity);
                out [size++] = (uint8_t) *s;
            }
            REQUIRE (*s == '\'');
            s++;
        }
        else {
            unsigned value;
            int used;
            REQUIRE (sscanf (s, "%2x%n", &value, &used) == 1 && used == 2);
            REQUIRE (size < capacity);
            out [size++] = (uint8_t) value;
            s += 2;
        }
    }
    return size;
}

static inline int
ovh_test_done (const char *name)
{
    printf ("%s: %d checks, %d failed\n", name, ovh_test_checks, ovh_test_failures);
    return ovh_test_failures ? 1 : 0;
}

#endif
