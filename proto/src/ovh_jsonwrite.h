/*  ovh_jsonwrite.h - internal: the JSON text writers of the translator.

    They write into a buffer the caller has sized for the worst case, so
    none of them checks capacity: each takes the next output byte and
    returns the byte after what it wrote. Integers and the short-string fast
    path are static inline here because the body walk calls them for almost
    every value; the general string case (escapes, UTF-8 validation) and
    the UTF-8 checks are in ovh_jsonwrite.c, floats in ovh_jsonfloat.c.

    Strings are copied 16 bytes at a time (SSE2, else a machine word) until
    a byte needs escaping or is non-ASCII; only those bytes are looked at one
    by one, and UTF-8 is validated only there. The vector copies may read
    past the string (never past 'limit', the end of the frame) and write up
    to OVH_JSON_OVERWRITE bytes past what they return.                       */

#ifndef OVH_JSONWRITE_H_INCLUDED
#define OVH_JSONWRITE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

//  SSE2 is part of x86-64; OVH_NO_SIMD builds the portable paths (tests)
#if defined (__SSE2__) && !defined (OVH_NO_SIMD)
#   define OVH_JSON_SSE2 1
#   include <emmintrin.h>
#endif

//  Internal to the library: not exported from the shared object, and
//  calls within a file may be inlined (no interposition)
#define OVH_INTERNAL __attribute__ ((visibility ("hidden")))

//  Bytes a string copy may write past the end it returns
#define OVH_JSON_OVERWRITE 15

//  Write the rest of a string after its opening quote at 'out': 'size'
//  bytes at s, escaped, then the closing quote. 'limit' is the end of the
//  readable bytes (the frame). Returns the byte after the quote, or NULL
//  when the bytes are not valid UTF-8 (ovh_json_utf8_invalid tells where
//  and why: the error path is cold, the hot one keeps few arguments).
OVH_INTERNAL char *
    ovh_json_str_long (char *out, const uint8_t *s, size_t size, const uint8_t *limit);

//  Length of the valid UTF-8 sequence starting at s (s [0] >= 0x80), or 0
//  with the reason in *why.
OVH_INTERNAL size_t
    ovh_json_utf8_sequence (const uint8_t *s, size_t left, const char **why);

//  First byte of invalid UTF-8 in [s, s + size), or NULL
OVH_INTERNAL const uint8_t *
    ovh_json_utf8_invalid (const uint8_t *s, size_t size, const char **why);

static inline char *
ovh_json_put (char *out, const char *text, size_t size)
{
    memcpy (out, text, size);
    return out + size;
}

//  Number of decimal digits of value (>= 1)
static inline size_t
ovh_json_digit_count (uint64_t value)
{
    static const uint64_t powers [20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
        100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
        1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
        1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
        1000000000000000000ULL, 10000000000000000000ULL
    };
    //  floor (log10) from log2 (1233 / 4096 ~ log10 (2)), then one compare.
    //  value | 1 has as many digits as value (10^k - 1 is odd) and is not 0.
    value |= 1;
    size_t bits = 64 - (size_t) __builtin_clzll (value);
    size_t guess = (bits * 1233) >> 12;
    return guess + 1 - (value < powers [guess]);
}

//  Write the digits backwards, two at a time; 32-bit arithmetic as soon as
//  the value fits (cheaper than 64-bit division by a constant)
static inline char *
ovh_json_utoa (char *out, uint64_t value)
{
    static const char pairs [201] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    size_t digits = ovh_json_digit_count (value);
    char *d = out + digits;
    while (value > UINT32_MAX) {
        size_t pair = (size_t) (value % 100) * 2;
        value /= 100;
        d -= 2;
        memcpy (d, pairs + pair, 2);
    }
    uint32_t small = (uint32_t) value;
    while (small >= 100) {
        size_t pair = (size_t) (small % 100) * 2;
        small /= 100;
        d -= 2;
        memcpy (d, pairs + pair, 2);
    }
    if (small >= 10) {
        d -= 2;
        memcpy (d, pairs + small * 2, 2);
    }
    else
        *--d = (char) ('0' + small);
    return out + digits;
}

static inline char *
ovh_json_itoa (char *out, int64_t value)
{
    if (value < 0) {
        *out++ = '-';
        //  Negate in unsigned arithmetic: -INT64_MIN does not fit int64_t
        return ovh_json_utoa (out, 0 - (uint64_t) value);
    }
    return ovh_json_utoa (out, (uint64_t) value);
}

#if defined (OVH_JSON_SSE2)
//  One bit per byte of 'bytes' that is '"', '\\' or, compared as signed,
//  below 0x20: that is both the control characters and the bytes >= 0x80
static inline uint32_t
ovh_json_special16 (__m128i bytes)
{
    __m128i special = _mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (bytes, _mm_set1_epi8 ('"')),
                                                  _mm_cmpeq_epi8 (bytes, _mm_set1_epi8 ('\\'))),
                                    _mm_cmplt_epi8 (bytes, _mm_set1_epi8 (0x20)));
    return (uint32_t) _mm_movemask_epi8 (special);
}
#endif

//  Write 'size' bytes at s as a JSON string, quotes included. 'start' and
//  'limit' bound the readable bytes (the frame holding the string). Most
//  keys and values are short ASCII with nothing to escape: one vector load,
//  compare and store does them; the rest goes to ovh_json_str_long.
//  Returns the byte after the closing quote, or NULL as that.
static inline __attribute__ ((always_inline)) char *
ovh_json_str (char *out, const uint8_t *s, uint32_t size,
              const uint8_t *start, const uint8_t *limit)
{
    *out++ = '"';
#if defined (OVH_JSON_SSE2)
    //  16 bytes at a time while they are plain and readable in the frame;
    //  the last chunk may read past the string, its mask is cut to size
    const uint8_t *from = s;
    const uint8_t *end = s + size;
    while (limit - s >= 16) {
        __m128i bytes = _mm_loadu_si128 ((const __m128i *) s);
        _mm_storeu_si128 ((__m128i *) out, bytes);
        uint32_t mask = ovh_json_special16 (bytes);
        size_t left = (size_t) (end - s);
        if (left <= 16) {
            if (mask & (((uint32_t) 1 << left) - 1))
                break;
            out [left] = '"';
            return out + left + 1;
        }
        if (mask)
            break;
        s += 16;
        out += 16;
    }
    //  Near the end of the frame: read the frame's last 16 bytes instead
    size_t left = (size_t) (end - s);
    if (limit - s < 16 && left <= 16 && limit - start >= 16) {
        const uint8_t *last = limit - 16;       //  last <= s
        __m128i bytes = _mm_loadu_si128 ((const __m128i *) last);
        uint32_t mask = ovh_json_special16 (bytes) >> (s - last);
        if ((mask & (((uint32_t) 1 << left) - 1)) == 0) {
            memcpy (out, s, left);
            out [left] = '"';
            return out + left + 1;
        }
    }
    return ovh_json_str_long (out, s, size - (size_t) (s - from), limit);
#else
    (void) start;
    return ovh_json_str_long (out, s, size, limit);
#endif
}

#endif
