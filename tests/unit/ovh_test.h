/*  ovh_test.h - the few macros our C tests share.

    CHECK records a failure with file, line and the expression and goes on,
    so that one run reports every broken case; ovh_test_done () prints the
    closing line and gives the exit status.                                  */

#ifndef OVH_TEST_H_INCLUDED
#define OVH_TEST_H_INCLUDED

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

static inline int
ovh_test_done (const char *name)
{
    printf ("%s: %d checks, %d failed\n", name, ovh_test_checks, ovh_test_failures);
    return ovh_test_failures ? 1 : 0;
}

#endif
