/*  ovh_jsonwrite.h - internal: the JSON text writers of the translator.

    They write into a buffer the caller has sized for the worst case, so
    none of them checks capacity: each takes the next output byte and
    returns the byte after what it wrote. They are static inline because
    the body walk calls them for almost every value, and a call per string
    or integer would show in the benchmark; the UTF-8 checks, needed only
    for non-ASCII text, are in ovh_jsonwrite.c, floats in ovh_jsonfloat.c.

    Strings are copied 16 bytes at a time (SSE2, else a machine word) until
    a byte needs escaping or is non-ASCII; only those bytes are looked at one
    by one, and UTF-8 is validated only there. The vector copies may read
    past the string (never past the end of the frame holding it) and write
    up to OVH_JSON_OVERWRITE bytes past what they keep. The loops that put
    these together, and report a bad string with its path, are the body
    walk's (ovh_jsonbody.c).                                                 */

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

//  Bytes a string copy may write past the end of what it keeps
#define OVH_JSON_OVERWRITE 15

//  Length of the valid UTF-8 sequence starting at s (s [0] >= 0x80), or 0
//  with the reason in *why.
OVH_INTERNAL size_t
    ovh_json_utf8_sequence (const uint8_t *s, size_t left, const char **why);

//  First byte of invalid UTF-8 in [s, s + size), or NULL
OVH_INTERNAL const uint8_t *
    ovh_json_utf8_invalid (const uint8_t *s, size_t size, const char **why);


//  --------------------------------------------------------------------------
//  Numbers

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


//  --------------------------------------------------------------------------
//  Strings

//  Escape one ASCII byte that JSON does not allow as is in a string
static inline char *
ovh_json_escape (char *out, uint8_t c)
{
    static const char hex [] = "0123456789abcdef";
    *out++ = '\\';
    switch (c) {
        case '"':  *out++ = '"';  break;
        case '\\': *out++ = '\\'; break;
        case '\b': *out++ = 'b';  break;
        case '\f': *out++ = 'f';  break;
        case '\n': *out++ = 'n';  break;
        case '\r': *out++ = 'r';  break;
        case '\t': *out++ = 't';  break;
        default:
            out = ovh_json_put (out, "u00", 3);
            *out++ = hex [c >> 4];
            *out++ = hex [c & 0x0f];
    }
    return out;
}

#define OVH_JSON_ONES 0x0101010101010101ULL
#define OVH_JSON_HIGH 0x8080808080808080ULL

//  High bit set in (at least) the lowest byte of 'word' that is a control
//  character, '"', '\\' or non-ASCII. Bytes above that one may be flagged
//  wrongly (borrows), never bytes below it.
static inline uint64_t
ovh_json_special8 (uint64_t word)
{
    uint64_t quote = word ^ (OVH_JSON_ONES * '"');
    uint64_t slash = word ^ (OVH_JSON_ONES * '\\');
    uint64_t control = (word - OVH_JSON_ONES * 0x20) & ~word;
    uint64_t is_quote = (quote - OVH_JSON_ONES) & ~quote;
    uint64_t is_slash = (slash - OVH_JSON_ONES) & ~slash;
    return (control | is_quote | is_slash | word) & OVH_JSON_HIGH;
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

//  Copy the bytes at the start of [s, end) that need no escaping and
//  return how many. Reads whole vectors/words while enough bytes remain in
//  the frame ('limit'), even past the string's end: a stop bit at the
//  string's end keeps the bytes beyond it out of the answer. The buffer
//  has room for the up to 15 bytes written past the run.
static inline size_t
ovh_json_plain_run (const uint8_t *s, const uint8_t *end, const uint8_t *limit, char *out)
{
    //  0: copied as is; 1: escaped; 2: first byte of a UTF-8 sequence
#   define R4(x)  x, x, x, x
#   define R16(x) R4 (x), R4 (x), R4 (x), R4 (x)
    static const uint8_t byte_class [256] = {
        R16 (1), R16 (1),                               //  0x00-0x1f
        0, 0, 1, 0, R4 (0), R4 (0), R4 (0),             //  0x20-0x2f: '"'
        R16 (0),                                        //  0x30-0x3f
        R16 (0),                                        //  0x40-0x4f
        R4 (0), R4 (0), R4 (0),                         //  0x50-0x5b
        1, 0, 0, 0,                                     //  0x5c '\\'-0x5f
        R16 (0), R16 (0),                               //  0x60-0x7f
        R16 (2), R16 (2), R16 (2), R16 (2),             //  0x80-0xbf
        R16 (2), R16 (2), R16 (2), R16 (2)              //  0xc0-0xff
    };
#   undef R16
#   undef R4
    const uint8_t *from = s;
#if defined (OVH_JSON_SSE2)
    while (s < end && limit - s >= 16) {
        __m128i bytes = _mm_loadu_si128 ((const __m128i *) s);
        _mm_storeu_si128 ((__m128i *) out, bytes);
        uint32_t mask = ovh_json_special16 (bytes);
        size_t left = (size_t) (end - s);
        if (left < 16)
            mask |= (uint32_t) 1 << left;
        if (mask)
            return (size_t) (s - from) + (size_t) __builtin_ctz (mask);
        s += 16;
        out += 16;
    }
#endif
#if defined (__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (s < end && limit - s >= 8) {
        uint64_t word;
        memcpy (&word, s, 8);
        memcpy (out, &word, 8);
        uint64_t special = ovh_json_special8 (word);
        size_t left = (size_t) (end - s);
        if (left < 8)
            special |= (uint64_t) 0x80 << (8 * left);
        if (special)
            return (size_t) (s - from) + ((size_t) __builtin_ctzll (special) >> 3);
        s += 8;
        out += 8;
    }
#endif
    while (s < end && !byte_class [*s])
        *out++ = (char) *s++;
    return (size_t) (s - from);
}

#endif
