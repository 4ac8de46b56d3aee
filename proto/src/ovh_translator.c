/*  ovh_translator.c - decode, validate and translate a bus message into the
    webhook JSON body, in one pass, into a reusable buffer.

    The body is read by a hand-written msgpack reader that writes JSON as it
    goes: a switch on each type byte, strings copied 16 bytes at a time (SSE2,
    else a machine word) until a byte needs escaping or is non-ASCII; only
    those bytes are looked at one by one, and UTF-8 is validated only there.
    Short strings, small integers and booleans are handled inline in the map
    and array loops, everything else out of line. Nothing is allocated
    per event: before reading a body we make sure the buffer can hold the
    worst case JSON for that many bytes (S_EXPANSION per byte), so the
    writers need no capacity checks, and the buffer only grows when a body
    is bigger than any before.

    msgpack-c's unpacker is not used on purpose: it allocates count * 24/48
    bytes for a container before reading it, so a 5-byte frame could claim
    gigabytes. Here every declared length is checked against the bytes left
    before it is trusted.                                                    */

#include <assert.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ovhook.h"
#include "ovh_msgpack.h"
//  SSE2 is part of x86-64; OVH_NO_SIMD builds the portable paths (tests)
#if defined (__SSE2__) && !defined (OVH_NO_SIMD)
#   define S_SSE2 1
#   include <emmintrin.h>
#endif

//  Worst-case JSON bytes per body byte: a control character inside a string
//  becomes "\u00XX" (6 bytes), a one-byte false inside an array "false,"
//  (6). Every other encoding expands less.
#define S_EXPANSION 6
//  The {"event":"..."} wrapper beyond the topic, closing brace, NUL, and the
//  up to 15 bytes a vector copy may write past the end of a string.
#define S_SLACK 64
#define S_INITIAL_CAPACITY (16 * 1024)

struct _ovh_translator_t {
    size_t max_frame;           //  largest frame accepted
    char *buffer;               //  JSON output, reused from event to event
    size_t capacity;
    ovh_error_t error;          //  why the last call failed
};

//  One level of the path to the value being read, for error reports
typedef struct {
    const uint8_t *key;         //  map: current key, NULL while reading it
    uint32_t key_size;
    uint32_t index;             //  array: current element
    bool array;
} s_level_t;

typedef struct {
    const uint8_t *start;       //  first byte of the frame, for offsets
    const uint8_t *p;           //  next byte to read
    const uint8_t *end;
    char *out;                  //  next JSON byte to write
    int frame;                  //  OVH_FRAME_BODY or OVH_FRAME_ENVELOPE
    int depth;                  //  containers open; the body map is 1
    ovh_error_t *error;
    const uint8_t *str;         //  last string value read (ordering key)
    uint32_t str_size;
    s_level_t level [OVH_MAX_DEPTH + 1];
} s_reader_t;

//  Ordering key ranks; a higher rank wins
enum { S_EVENT = -1, S_NONE = 0, S_CLUSTER_ID, S_NODE_ID, S_ID, S_SESSION_ID };
static const char *s_rank_names [] = { NULL, "clusterId", "nodeId", "id", "sessionId" };

//  0: copied as is; 1: escaped; 2: first byte of a UTF-8 sequence to check
#define R4(x)  x, x, x, x
#define R16(x) R4 (x), R4 (x), R4 (x), R4 (x)
static const uint8_t s_class [256] = {
    R16 (1), R16 (1),                                   //  0x00-0x1f
    0, 0, 1, 0, R4 (0), R4 (0), R4 (0),                 //  0x20-0x2f: '"'
    R16 (0),                                            //  0x30-0x3f
    R16 (0),                                            //  0x40-0x4f
    R4 (0), R4 (0), R4 (0),                             //  0x50-0x5b
    1, 0, 0, 0,                                         //  0x5c '\\'-0x5f
    R16 (0), R16 (0),                                   //  0x60-0x7f
    R16 (2), R16 (2), R16 (2), R16 (2),                 //  0x80-0xbf
    R16 (2), R16 (2), R16 (2), R16 (2)                  //  0xc0-0xff
};

static const char s_digit_pairs [201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";


//  --------------------------------------------------------------------------
//  Error reports

static size_t s_utf8 (const uint8_t *s, size_t left, const char **why);

//  Append 'size' bytes of a key to the path, replacing control characters
//  and invalid UTF-8 with '?' so that the report stays one printable line.
static void
s_path_append (char *path, size_t capacity, size_t *len, const uint8_t *text, size_t size)
{
    for (size_t index = 0; index < size; ) {
        uint8_t c = text [index];
        const char *why;
        size_t seq = c < 0x80? 1: s_utf8 (text + index, size - index, &why);
        if (*len + (seq ? seq : 1) >= capacity)
            return;             //  full: stop at a character boundary
        if (seq == 0 || c < 0x20 || c == 0x7f) {
            path [(*len)++] = '?';
            index++;
        }
        else {
            memcpy (path + *len, text + index, seq);
            *len += seq;
            index += seq;
        }
    }
}

//  Path of the value being read: "mediaNodes.launch.total", "to[1]"
static void
s_path (const s_reader_t *r, char *path, size_t capacity)
{
    size_t len = 0;
    for (int depth = 1; depth <= r->depth; depth++) {
        const s_level_t *level = &r->level [depth];
        if (level->array) {
            char part [16];
            int size = snprintf (part, sizeof part, "[%u]", level->index);
            s_path_append (path, capacity, &len, (const uint8_t *) part, (size_t) size);
        }
        else
        if (level->key) {
            if (len)
                s_path_append (path, capacity, &len, (const uint8_t *) ".", 1);
            s_path_append (path, capacity, &len, level->key, level->key_size);
        }
        else
            break;              //  failed while reading this level's key
    }
    path [len] = 0;
}

static int __attribute__ ((cold, noinline, format (printf, 4, 5)))
s_fail (s_reader_t *r, ovh_code_t code, const uint8_t *at, const char *format, ...)
{
    char path [sizeof r->error->path];
    s_path (r, path, sizeof path);
    char detail [200];
    va_list args;
    va_start (args, format);
    vsnprintf (detail, sizeof detail, format, args);
    va_end (args);
    return ovh_error_set (r->error, code, r->frame, (size_t) (at - r->start),
                          path, "%s", detail);
}

static const char *
s_kind_name (ovh_mp_kind_t kind)
{
    static const char *names [] = {
        "nil", "boolean", "integer", "integer", "float", "string", "bin",
        "array", "map", "ext", "reserved byte 0xc1"
    };
    return names [kind];
}

//  Kind of the value a type byte starts (for messages)
static const char *
s_byte_kind (uint8_t byte)
{
    ovh_mp_token_t token;
    const uint8_t *p = &byte;
    //  Reading the single byte is enough to learn the kind: the header
    //  parser sets it before it finds the rest missing.
    ovh_mp_next (&p, &byte + 1, &token);
    return s_kind_name (token.kind);
}

//  Report a structural problem found by the shared token reader
static int __attribute__ ((cold, noinline))
s_fail_code (s_reader_t *r, ovh_code_t code, const uint8_t *at)
{
    switch (code) {
        case OVH_E_TRUNCATED:
            return s_fail (r, code, at, "data ends inside a value");
        case OVH_E_SIZE_CLAIM:
            return s_fail (r, code, at, "%s declares more items or bytes than the %zu bytes left",
                           s_byte_kind (*at), (size_t) (r->end - at) - 1);
        case OVH_E_DEPTH:
            return s_fail (r, code, at, "containers nested deeper than %d levels", OVH_MAX_DEPTH);
        case OVH_E_RESERVED:
            return s_fail (r, code, at, "byte 0xc1 is reserved, never used by msgpack");
        default:
            return s_fail (r, code, at, "invalid msgpack");
    }
}


//  --------------------------------------------------------------------------
//  Writers

static inline char *
s_put (char *out, const char *text, size_t size)
{
    memcpy (out, text, size);
    return out + size;
}

//  Number of decimal digits of value (>= 1)
static inline size_t
s_digit_count (uint64_t value)
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
s_utoa (char *out, uint64_t value)
{
    size_t digits = s_digit_count (value);
    char *d = out + digits;
    while (value > UINT32_MAX) {
        size_t pair = (size_t) (value % 100) * 2;
        value /= 100;
        d -= 2;
        memcpy (d, s_digit_pairs + pair, 2);
    }
    uint32_t small = (uint32_t) value;
    while (small >= 100) {
        size_t pair = (size_t) (small % 100) * 2;
        small /= 100;
        d -= 2;
        memcpy (d, s_digit_pairs + pair, 2);
    }
    if (small >= 10) {
        d -= 2;
        memcpy (d, s_digit_pairs + small * 2, 2);
    }
    else
        *--d = (char) ('0' + small);
    return out + digits;
}

static inline char *
s_itoa (char *out, int64_t value)
{
    if (value < 0) {
        *out++ = '-';
        //  Negate in unsigned arithmetic: -INT64_MIN does not fit int64_t
        return s_utoa (out, 0 - (uint64_t) value);
    }
    return s_utoa (out, (uint64_t) value);
}

//  printf writes the locale's decimal point; JSON wants '.'. Only a program
//  that set LC_NUMERIC pays for this, the scan stops at the first oddity.
static size_t
s_fix_decimal_point (char *text, size_t size)
{
    size_t index = strspn (text, "0123456789+-.eE");
    if (index >= size)
        return size;
    const char *point = localeconv ()->decimal_point;
    size_t point_size = strlen (point);
    if (point_size && strncmp (text + index, point, point_size) == 0) {
        text [index] = '.';
        memmove (text + index + 1, text + index + point_size, size - index - point_size + 1);
        size -= point_size - 1;
    }
    return size;
}

//  Finish a number printf wrote: '.' as decimal point, and ".0" after an
//  integral value so that it reads back as a float ("674" -> "674.0").
static char *
s_float_text (char *out, int size)
{
    size_t len = s_fix_decimal_point (out, (size_t) size);
    if (!memchr (out, '.', len) && !memchr (out, 'e', len)) {
        memcpy (out + len, ".0", 2);
        len += 2;
    }
    return out + len;
}

//  Fast path of s_dtoa for 1e-4 <= |value| < 1e15 when a decimal of at most
//  15 significant digits reads back as value ("8.6", "23.84"); NULL when
//  not. It writes what %.15g would, without printf and strtod:
//  - m / 10^k with m < 2^53 and k <= 22 is one correctly rounded division,
//    so it equals what strtod makes of the decimal "m e-k" (Clinger);
//  - decimals of 15 digits are spaced wider than a double's ulp, so at most
//    one of them reads back as value: the one %.15g writes. The first k
//    that works gives it without trailing zeros, in %g's fixed notation
//    (used for exponents -4 to 14).
static char *
s_dtoa_short (char *out, double value)
{
    static const double powers [] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
        1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19
    };
    double magnitude = value < 0? -value: value;
    if (!(magnitude >= 1e-4 && magnitude < 1e15))
        return NULL;
    for (size_t k = 1; k < sizeof powers / sizeof powers [0]; k++) {
        double scaled = magnitude * powers [k];
        if (scaled >= 1e15)
            return NULL;
        double digits = (double) (uint64_t) (scaled + 0.5);
        if (digits / powers [k] != magnitude)
            continue;
        //  Found: the digits of m, a point k digits from the right
        char text [24];
        char *end = s_utoa (text, (uint64_t) digits);
        size_t size = (size_t) (end - text);
        if (value < 0)
            *out++ = '-';
        if (size <= k) {
            out = s_put (out, "0.", 2);
            memset (out, '0', k - size);
            out = s_put (out + (k - size), text, size);
        }
        else {
            out = s_put (out, text, size - k);
            *out++ = '.';
            out = s_put (out, text + size - k, k);
        }
        return out;
    }
    return NULL;
}

//  Shortest of %.15g, %.16g, %.17g that reads back as the same double
static char *
s_dtoa (char *out, double value)
{
    //  Integral values below 1e15 are what %.15g writes: their digits
    if (value > -1e15 && value < 1e15 && value == (double) (int64_t) value) {
        if (value == 0 && signbit (value))
            *out++ = '-';
        out = s_itoa (out, (int64_t) value);
        return s_put (out, ".0", 2);
    }
    char *end = s_dtoa_short (out, value);
    if (end)
        return end;
    int size = 0;
    for (int precision = 15; precision <= 17; precision++) {
        size = snprintf (out, 32, "%.*g", precision, value);
        if (strtod (out, NULL) == value)
            break;
    }
    return s_float_text (out, size);
}

//  Shortest of %.6g .. %.9g that reads back as the same float
static char *
s_ftoa (char *out, float value)
{
    //  Integral values below 1e6 are what %.6g writes: their digits
    if (value > -1e6f && value < 1e6f && value == (float) (int32_t) value) {
        if (value == 0 && signbit (value))
            *out++ = '-';
        out = s_itoa (out, (int32_t) value);
        return s_put (out, ".0", 2);
    }
    int size = 0;
    for (int precision = 6; precision <= 9; precision++) {
        size = snprintf (out, 32, "%.*g", precision, (double) value);
        if (strtof (out, NULL) == value)
            break;
    }
    return s_float_text (out, size);
}

static char *
s_escape (char *out, uint8_t c)
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
            out = s_put (out, "u00", 3);
            *out++ = hex [c >> 4];
            *out++ = hex [c & 0x0f];
    }
    return out;
}

//  Length of the valid UTF-8 sequence starting at s (s [0] >= 0x80), or 0
//  with the reason in *why.
static size_t
s_utf8 (const uint8_t *s, size_t left, const char **why)
{
    uint8_t c = s [0];
    size_t size;
    uint8_t low = 0x80, high = 0xbf;    //  range of the second byte
    if (c < 0xc0) {
        *why = "continuation byte without a lead byte";
        return 0;
    }
    if (c < 0xc2) {
        *why = "overlong encoding";
        return 0;
    }
    if (c < 0xe0)
        size = 2;
    else
    if (c < 0xf0) {
        size = 3;
        if (c == 0xe0)
            low = 0xa0;         //  below: overlong
        if (c == 0xed)
            high = 0x9f;        //  above: UTF-16 surrogates
    }
    else
    if (c < 0xf5) {
        size = 4;
        if (c == 0xf0)
            low = 0x90;         //  below: overlong
        if (c == 0xf4)
            high = 0x8f;        //  above: beyond U+10FFFF
    }
    else {
        *why = c < 0xf8? "code point above U+10FFFF": "byte never used in UTF-8";
        return 0;
    }
    for (size_t index = 1; index < size; index++) {
        if (index >= left || (s [index] & 0xc0) != 0x80) {
            *why = "truncated sequence";
            return 0;
        }
    }
    if (s [1] < low || s [1] > high) {
        *why = c == 0xed? "UTF-16 surrogate": c == 0xf4? "code point above U+10FFFF"
                                                       : "overlong encoding";
        return 0;
    }
    return size;
}

#define S_ONES 0x0101010101010101ULL
#define S_HIGH 0x8080808080808080ULL

//  High bit set in (at least) the lowest byte of 'word' that is a control
//  character, '"', '\\' or non-ASCII. Bytes above that one may be flagged
//  wrongly (borrows), never bytes below it.
static inline uint64_t
s_special (uint64_t word)
{
    uint64_t quote = word ^ (S_ONES * '"');
    uint64_t slash = word ^ (S_ONES * '\\');
    uint64_t control = (word - S_ONES * 0x20) & ~word;
    uint64_t is_quote = (quote - S_ONES) & ~quote;
    uint64_t is_slash = (slash - S_ONES) & ~slash;
    return (control | is_quote | is_slash | word) & S_HIGH;
}

#if defined (S_SSE2)
//  One bit per byte of 'bytes' that is '"', '\\' or, compared as signed,
//  below 0x20: that is both the control characters and the bytes >= 0x80
static inline uint32_t
s_special16 (__m128i bytes)
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
//  has slack for the up to 15 bytes written past the run.
static inline size_t
s_plain_run (const uint8_t *s, const uint8_t *end, const uint8_t *limit, char *out)
{
    const uint8_t *from = s;
#if defined (S_SSE2)
    while (s < end && limit - s >= 16) {
        __m128i bytes = _mm_loadu_si128 ((const __m128i *) s);
        _mm_storeu_si128 ((__m128i *) out, bytes);
        uint32_t mask = s_special16 (bytes);
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
        uint64_t special = s_special (word);
        size_t left = (size_t) (end - s);
        if (left < 8)
            special |= (uint64_t) 0x80 << (8 * left);
        if (special)
            return (size_t) (s - from) + ((size_t) __builtin_ctzll (special) >> 3);
        s += 8;
        out += 8;
    }
#endif
    while (s < end && !s_class [*s])
        *out++ = (char) *s++;
    return (size_t) (s - from);
}

//  Write bytes as a JSON string, validating UTF-8: the general case
static int __attribute__ ((noinline))
s_write_str_long (s_reader_t *r, const uint8_t *s, uint32_t size, char *out)
{
    const uint8_t *end = s + size;
    while (true) {
        size_t run = s_plain_run (s, end, r->end, out);
        s += run;
        out += run;
        if (s == end)
            break;
        if (*s == '"' || *s == '\\') {   //  the usual ones: JSON inside a string
            out [0] = '\\';
            out [1] = (char) *s++;
            out += 2;
        }
        else
        if (*s < 0x80)
            out = s_escape (out, *s++);
        else {
            const char *why;
            size_t seq = s_utf8 (s, (size_t) (end - s), &why);
            if (!seq)
                return s_fail (r, OVH_E_UTF8, s, "invalid UTF-8 in string: %s", why);
            memcpy (out, s, seq);
            out += seq;
            s += seq;
        }
    }
    *out++ = '"';
    r->out = out;
    return 0;
}

//  Write bytes as a JSON string. Most keys and values are short ASCII with
//  nothing to escape: one vector load, compare and store does them.
static inline __attribute__ ((always_inline)) int
s_write_str (s_reader_t *r, const uint8_t *s, uint32_t size)
{
    char *out = r->out;
    *out++ = '"';
#if defined (S_SSE2)
    //  16 bytes at a time while they are plain and readable in the frame;
    //  the last chunk may read past the string, its mask is cut to size
    const uint8_t *from = s;
    const uint8_t *end = s + size;
    while (r->end - s >= 16) {
        __m128i bytes = _mm_loadu_si128 ((const __m128i *) s);
        _mm_storeu_si128 ((__m128i *) out, bytes);
        uint32_t mask = s_special16 (bytes);
        size_t left = (size_t) (end - s);
        if (left <= 16) {
            if (mask & (((uint32_t) 1 << left) - 1))
                break;
            out [left] = '"';
            r->out = out + left + 1;
            return 0;
        }
        if (mask)
            break;
        s += 16;
        out += 16;
    }
    //  Near the end of the frame: read the frame's last 16 bytes instead
    size_t left = (size_t) (end - s);
    if (r->end - s < 16 && left <= 16 && r->end - r->start >= 16) {
        const uint8_t *last = r->end - 16;      //  last <= s
        __m128i bytes = _mm_loadu_si128 ((const __m128i *) last);
        uint32_t mask = s_special16 (bytes) >> (s - last);
        if ((mask & (((uint32_t) 1 << left) - 1)) == 0) {
            memcpy (out, s, left);
            out [left] = '"';
            r->out = out + left + 1;
            return 0;
        }
    }
    return s_write_str_long (r, s, size - (uint32_t) (s - from), out);
#else
    return s_write_str_long (r, s, size, out);
#endif
}

//  --------------------------------------------------------------------------
//  Reader of the body: one function per kind of value

static int s_value_other (s_reader_t *r);
static inline int s_value (s_reader_t *r);

//  Fail unless 'size' bytes are left from the value starting at r->p
static inline int
s_need (s_reader_t *r, size_t size)
{
    if ((size_t) (r->end - r->p) >= size)
        return 0;
    return s_fail (r, OVH_E_TRUNCATED, r->p, "%s needs %zu bytes, %zu left",
                   s_byte_kind (*r->p), size, (size_t) (r->end - r->p));
}

//  Length of a str/array/map whose header is 'header' bytes long; r->p is at
//  the type byte and 'header' bytes are known to be there.
static inline uint32_t
s_length (const s_reader_t *r, size_t header)
{
    const uint8_t *field = r->p + 1;
    switch (header) {
        case 2:  return field [0];
        case 3:  return ovh_mp_be16 (field);
        case 5:  return ovh_mp_be32 (field);
        default: return r->p [0] & 0x1f;    //  fixstr (fixarray/fixmap are passed in)
    }
}

//  A declared length must fit in the bytes left after the header
static inline int
s_claim (s_reader_t *r, size_t header, uint64_t bytes_needed, const char *what,
         uint32_t length)
{
    size_t left = (size_t) (r->end - r->p) - header;
    if (bytes_needed <= left)
        return 0;
    return s_fail (r, OVH_E_SIZE_CLAIM, r->p, "%s of %u %s declared, only %zu bytes left",
                   what, length, strcmp (what, "array") == 0? "items"
                                 : strcmp (what, "map") == 0? "entries": "bytes", left);
}

static inline __attribute__ ((always_inline)) int
s_str (s_reader_t *r, uint32_t length, size_t header)
{
    if (s_claim (r, header, length, "string", length))
        return -1;
    const uint8_t *data = r->p + header;
    if (s_write_str (r, data, length))
        return -1;
    r->str = data;
    r->str_size = length;
    r->p = data + length;
    return 0;
}

//  Enter a container at the next depth
static inline int
s_enter (s_reader_t *r, bool array)
{
    if (r->depth >= OVH_MAX_DEPTH)
        return s_fail (r, OVH_E_DEPTH, r->p, "containers nested deeper than %d levels",
                       OVH_MAX_DEPTH);
    s_level_t *level = &r->level [++r->depth];
    level->array = array;
    level->key = NULL;
    level->index = 0;
    return 0;
}

static int
s_array (s_reader_t *r, uint32_t count, size_t header)
{
    if (s_claim (r, header, count, "array", count) || s_enter (r, true))
        return -1;
    r->p += header;
    s_level_t *level = &r->level [r->depth];
    *r->out++ = '[';
    for (uint32_t index = 0; index < count; index++) {
        if (index)
            *r->out++ = ',';
        level->index = index;
        if (s_value (r))
            return -1;
    }
    *r->out++ = ']';
    r->depth--;
    return 0;
}

//  Read a map key in the general case: any string format, escapes, UTF-8,
//  and the errors
static int __attribute__ ((noinline))
s_key_slow (s_reader_t *r, uint32_t index)
{
    s_level_t *level = &r->level [r->depth];
    level->key = NULL;          //  the path ends at the map until the key is good
    if (r->p >= r->end)
        return s_fail (r, OVH_E_TRUNCATED, r->p, "map key #%u expected, data ends", index);
    uint8_t byte = *r->p;
    size_t header;
    if (byte >= 0xa0 && byte <= 0xbf)
        header = 1;
    else
    if (byte >= 0xd9 && byte <= 0xdb)
        header = (size_t) 1 + ((size_t) 1 << (byte - 0xd9));
    else
        return s_fail (r, OVH_E_KEY_TYPE, r->p, "map key #%u is %s, keys must be strings",
                       index, s_byte_kind (byte));
    if (s_need (r, header))
        return -1;
    uint32_t length = s_length (r, header);
    if (s_claim (r, header, length, "key string", length))
        return -1;
    const uint8_t *data = r->p + header;
    *r->out = '"';
    if (s_write_str_long (r, data, length, r->out + 1))
        return -1;
    *r->out++ = ':';
    r->p = data + length;
    level->key = data;
    level->key_size = length;
    return 0;
}

//  Read a map key: a string, written as JSON followed by ':'. The usual
//  short fixstr with nothing to escape is done here, the rest by
//  s_key_slow. Sets the level's key for paths.
static inline __attribute__ ((always_inline)) int
s_key (s_reader_t *r, uint32_t index)
{
#if defined (S_SSE2)
    const uint8_t *p = r->p;
    //  fixstr of up to 16 bytes, with 17 bytes readable from the type byte
    if (r->end - p >= 17 && (*p & 0xe0) == 0xa0 && (*p & 0x1f) <= 16) {
        uint32_t size = *p & 0x1f;
        __m128i bytes = _mm_loadu_si128 ((const __m128i *) (p + 1));
        uint32_t mask = s_special16 (bytes) & (((uint32_t) 1 << size) - 1);
        if (mask == 0) {
            //  The claim holds: 16 bytes follow the type byte
            char *out = r->out;
            out [0] = '"';
            _mm_storeu_si128 ((__m128i *) (out + 1), bytes);
            out [size + 1] = '"';
            out [size + 2] = ':';
            r->out = out + size + 3;
            s_level_t *level = &r->level [r->depth];
            level->key = p + 1;
            level->key_size = size;
            r->p = p + 1 + size;
            return 0;
        }
    }
#endif
    return s_key_slow (r, index);
}

static int
s_map (s_reader_t *r, uint32_t count, size_t header)
{
    if (s_claim (r, header, 2 * (uint64_t) count, "map", count) || s_enter (r, false))
        return -1;
    r->p += header;
    *r->out++ = '{';
    for (uint32_t index = 0; index < count; index++) {
        if (index)
            *r->out++ = ',';
        if (s_key (r, index) || s_value (r))
            return -1;
    }
    *r->out++ = '}';
    r->depth--;
    return 0;
}

static int
s_float32 (s_reader_t *r)
{
    if (s_need (r, 5))
        return -1;
    uint32_t bits = ovh_mp_be32 (r->p + 1);
    float value;
    memcpy (&value, &bits, 4);
    if (!isfinite (value))
        return s_fail (r, OVH_E_FLOAT, r->p, "float32 %s has no JSON form",
                       isnan (value)? "NaN": value > 0? "+Inf": "-Inf");
    r->out = s_ftoa (r->out, value);
    r->p += 5;
    return 0;
}

static int
s_float64 (s_reader_t *r)
{
    if (s_need (r, 9))
        return -1;
    uint64_t bits = ovh_mp_be64 (r->p + 1);
    double value;
    memcpy (&value, &bits, 8);
    if (!isfinite (value))
        return s_fail (r, OVH_E_FLOAT, r->p, "float64 %s has no JSON form",
                       isnan (value)? "NaN": value > 0? "+Inf": "-Inf");
    r->out = s_dtoa (r->out, value);
    r->p += 9;
    return 0;
}

//  Unsigned integer of 1, 2, 4 or 8 bytes after the type byte
static int
s_uint (s_reader_t *r, size_t size)
{
    if (s_need (r, 1 + size))
        return -1;
    const uint8_t *d = r->p + 1;
    uint64_t value = size == 1? d [0]: size == 2? ovh_mp_be16 (d)
                   : size == 4? ovh_mp_be32 (d): ovh_mp_be64 (d);
    r->out = s_utoa (r->out, value);
    r->p += 1 + size;
    return 0;
}

static int
s_int (s_reader_t *r, size_t size)
{
    if (s_need (r, 1 + size))
        return -1;
    const uint8_t *d = r->p + 1;
    int64_t value = size == 1? (int8_t) d [0]: size == 2? (int16_t) ovh_mp_be16 (d)
                  : size == 4? (int32_t) ovh_mp_be32 (d): (int64_t) ovh_mp_be64 (d);
    r->out = s_itoa (r->out, value);
    r->p += 1 + size;
    return 0;
}

//  str8/16/32, array16/32, map16/32: a length field after the type byte
static int
s_sized (s_reader_t *r, int (*reader) (s_reader_t *, uint32_t, size_t), size_t field)
{
    if (s_need (r, 1 + field))
        return -1;
    return reader (r, s_length (r, 1 + field), 1 + field);
}

//  Every value but the few s_value does itself
static int __attribute__ ((noinline))
s_value_other (s_reader_t *r)
{
    if (r->p >= r->end)
        return s_fail (r, OVH_E_TRUNCATED, r->p, "value expected, data ends");
    uint8_t byte = *r->p;
    if (byte <= 0x7f) {             //  positive fixint
        r->out = s_utoa (r->out, byte);
        r->p++;
        return 0;
    }
    if (byte >= 0xe0) {             //  negative fixint
        r->out = s_itoa (r->out, (int8_t) byte);
        r->p++;
        return 0;
    }
    if (byte <= 0x8f)
        return s_map (r, byte & 0x0f, 1);
    if (byte <= 0x9f)
        return s_array (r, byte & 0x0f, 1);
    if (byte <= 0xbf)
        return s_str (r, byte & 0x1f, 1);

    switch (byte) {
        case 0xc0:
            r->out = s_put (r->out, "null", 4);
            r->p++;
            return 0;
        case 0xc2:
            r->out = s_put (r->out, "false", 5);
            r->p++;
            return 0;
        case 0xc3:
            r->out = s_put (r->out, "true", 4);
            r->p++;
            return 0;
        case 0xca: return s_float32 (r);
        case 0xcb: return s_float64 (r);
        case 0xcc: return s_uint (r, 1);
        case 0xcd: return s_uint (r, 2);
        case 0xce: return s_uint (r, 4);
        case 0xcf: return s_uint (r, 8);
        case 0xd0: return s_int (r, 1);
        case 0xd1: return s_int (r, 2);
        case 0xd2: return s_int (r, 4);
        case 0xd3: return s_int (r, 8);
        case 0xd9: return s_sized (r, s_str, 1);
        case 0xda: return s_sized (r, s_str, 2);
        case 0xdb: return s_sized (r, s_str, 4);
        case 0xdc: return s_sized (r, s_array, 2);
        case 0xdd: return s_sized (r, s_array, 4);
        case 0xde: return s_sized (r, s_map, 2);
        case 0xdf: return s_sized (r, s_map, 4);
        case 0xc4: case 0xc5: case 0xc6:
            return s_fail (r, OVH_E_BIN, r->p, "bin value has no JSON form");
        case 0xc7: case 0xc8: case 0xc9:
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
            return s_fail (r, OVH_E_EXT, r->p, "ext value has no JSON form");
        default:                    //  0xc1
            return s_fail (r, OVH_E_RESERVED, r->p, "byte 0xc1 is reserved, never used by msgpack");
    }
}

//  One value: strings, small integers and booleans inline in the loops of
//  maps and arrays; the rest, and the recursion, in s_value_other.
static inline __attribute__ ((always_inline)) int
s_value (s_reader_t *r)
{
    if (r->p < r->end) {
        uint8_t byte = *r->p;
        if ((byte & 0xe0) == 0xa0)
            return s_str (r, byte & 0x1f, 1);
        if (byte < 10) {
            *r->out++ = (char) ('0' + byte);
            r->p++;
            return 0;
        }
        if (byte == 0xc3 || byte == 0xc2) {
            r->out = byte == 0xc3? s_put (r->out, "true", 4): s_put (r->out, "false", 5);
            r->p++;
            return 0;
        }
    }
    return s_value_other (r);
}

//  Rank of a top-level key: an ordering key candidate, "event", or nothing
static inline int
s_key_rank (const uint8_t *key, uint32_t size)
{
    switch (size) {
        case 2: return memcmp (key, "id", 2) == 0? S_ID: S_NONE;
        case 5: return memcmp (key, "event", 5) == 0? S_EVENT: S_NONE;
        case 6: return memcmp (key, "nodeId", 6) == 0? S_NODE_ID: S_NONE;
        case 9: return memcmp (key, "sessionId", 9) == 0? S_SESSION_ID
                     : memcmp (key, "clusterId", 9) == 0? S_CLUSTER_ID: S_NONE;
        default: return S_NONE;
    }
}

static inline bool
s_is_str (uint8_t byte)
{
    return (byte >= 0xa0 && byte <= 0xbf) || (byte >= 0xd9 && byte <= 0xdb);
}

//  The body map: {"event":"<topic>" then its properties; extracts the
//  ordering key on the way.
static int
s_body (s_reader_t *r, const ovh_event_type_t *type, ovh_event_t *event)
{
    if (r->p >= r->end)
        return s_fail (r, OVH_E_TRUNCATED, r->p, "body is empty, expected a map");
    uint8_t byte = *r->p;
    size_t header = byte >= 0x80 && byte <= 0x8f? 1: byte == 0xde? 3: byte == 0xdf? 5: 0;
    if (!header)
        return s_fail (r, OVH_E_NOT_MAP, r->p, "body is %s, expected a map", s_byte_kind (byte));
    if (s_need (r, header))
        return -1;
    uint32_t count = header == 1? byte & 0x0f: s_length (r, header);
    if (s_claim (r, header, 2 * (uint64_t) count, "map", count) || s_enter (r, false))
        return -1;
    r->p += header;

    r->out = s_put (r->out, "{\"event\":\"", 10);
    r->out = s_put (r->out, type->name, type->name_size);
    *r->out++ = '"';
    int best = S_NONE;
    for (uint32_t index = 0; index < count; index++) {
        *r->out++ = ',';
        const uint8_t *key_at = r->p;
        if (s_key (r, index))
            return -1;
        int rank = s_key_rank (r->level [1].key, r->level [1].key_size);
        if (rank == S_EVENT)
            return s_fail (r, OVH_E_EVENT_KEY, key_at,
                           "the body has a top-level \"event\" key; the topic gives it");
        bool candidate = rank > best && r->p < r->end && s_is_str (*r->p);
        if (s_value (r))
            return -1;
        if (candidate) {
            best = rank;
            event->key = (const char *) r->str;
            event->key_size = r->str_size;
            event->key_name = s_rank_names [rank];
        }
    }
    *r->out++ = '}';
    *r->out = 0;
    r->depth = 0;
    if (r->p != r->end)
        return s_fail (r, OVH_E_TRAILING, r->p, "%zu byte(s) after the body map",
                       (size_t) (r->end - r->p));
    return 0;
}


//  --------------------------------------------------------------------------
//  Envelope: {src: str, seq: uint >= 1}; other keys are skipped after a
//  structural check, so that later versions can add keys of any type.

//  First byte of invalid UTF-8 in [s, s + size), or NULL; ASCII words skipped
static const uint8_t *
s_check_utf8 (const uint8_t *s, size_t size, const char **why)
{
    const uint8_t *end = s + size;
    while (s < end) {
#if defined (S_SSE2)
        if (end - s >= 16
        &&  _mm_movemask_epi8 (_mm_loadu_si128 ((const __m128i *) s)) == 0) {
            s += 16;
            continue;
        }
#endif
        uint64_t word;
        if (end - s >= 8 && (memcpy (&word, s, 8), (word & S_HIGH) == 0)) {
            s += 8;
            continue;
        }
        if (*s < 0x80) {
            s++;
            continue;
        }
        size_t seq = s_utf8 (s, (size_t) (end - s), why);
        if (!seq)
            return s;
        s += seq;
    }
    return NULL;
}

static int
s_envelope_src (s_reader_t *r, const ovh_mp_token_t *token, ovh_event_t *event)
{
    const char *why;
    if (token->kind != OVH_MP_STR)
        return s_fail (r, OVH_E_ENVELOPE, r->p, "src is %s, expected a string",
                       s_kind_name (token->kind));
    if (event->src)
        return s_fail (r, OVH_E_ENVELOPE, r->p, "src appears twice");
    const uint8_t *bad = s_check_utf8 (token->data, token->size, &why);
    if (bad)
        return s_fail (r, OVH_E_UTF8, bad, "invalid UTF-8 in src: %s", why);
    event->src = (const char *) token->data;
    event->src_size = token->size;
    return 0;
}

static int
s_envelope_seq (s_reader_t *r, const ovh_mp_token_t *token, ovh_event_t *event)
{
    if (token->kind == OVH_MP_INT)
        return s_fail (r, OVH_E_ENVELOPE, r->p, "seq is %" PRId64 ", must be >= 1", token->v.i);
    if (token->kind != OVH_MP_UINT)
        return s_fail (r, OVH_E_ENVELOPE, r->p, "seq is %s, expected an unsigned integer",
                       s_kind_name (token->kind));
    if (token->v.u == 0)
        return s_fail (r, OVH_E_ENVELOPE, r->p, "seq is 0, must be >= 1");
    if (event->seq)
        return s_fail (r, OVH_E_ENVELOPE, r->p, "seq appears twice");
    event->seq = token->v.u;
    return 0;
}

//  The envelope as publishers write it: a fixmap of "src" (fixstr or str8)
//  and "seq" (a positive fixint or uint 8..64), nothing else. Returns true
//  if it was that and valid; anything else, including every error, is left
//  to the general reader below, which reports it.
static bool
s_envelope_fast (s_reader_t *r, ovh_event_t *event)
{
    const uint8_t *p = r->p, *end = r->end;
    if (p >= end || *p < 0x81 || *p > 0x82)
        return false;
    uint32_t count = *p++ & 0x0f;
    const uint8_t *src = NULL;
    size_t src_size = 0;
    uint64_t seq = 0;
    for (uint32_t index = 0; index < count; index++) {
        if (end - p < 5 || p [0] != 0xa3 || p [1] != 's')
            return false;
        bool is_src = p [2] == 'r' && p [3] == 'c';
        bool is_seq = p [2] == 'e' && p [3] == 'q';
        p += 4;
        uint8_t byte = *p++;
        if (is_src && !src) {
            size_t size = byte;
            if ((byte & 0xe0) == 0xa0)
                size = byte & 0x1f;
            else
            if (byte != 0xd9 || p >= end)
                return false;
            else
                size = *p++;
            const char *why;
            if (size > (size_t) (end - p) || s_check_utf8 (p, size, &why))
                return false;
            src = p;
            src_size = size;
            p += size;
        }
        else
        if (is_seq && !seq) {
            size_t field = byte <= 0x7f? 0: byte >= 0xcc && byte <= 0xcf? (size_t) 1 << (byte - 0xcc)
                                                                         : 99;
            if (field > (size_t) (end - p))
                return false;
            seq = field == 0? byte: field == 1? p [0]: field == 2? ovh_mp_be16 (p)
                : field == 4? ovh_mp_be32 (p): ovh_mp_be64 (p);
            if (seq == 0)
                return false;
            p += field;
        }
        else
            return false;
    }
    if (!src || !seq || p != end)
        return false;
    event->src = (const char *) src;
    event->src_size = src_size;
    event->seq = seq;
    event->has_envelope = true;
    r->p = p;
    return true;
}

static int
s_envelope (s_reader_t *r, ovh_event_t *event)
{
    if (s_envelope_fast (r, event))
        return 0;
    ovh_mp_token_t token;
    const uint8_t *at = r->p;
    if (r->p >= r->end)
        return s_fail (r, OVH_E_TRUNCATED, r->p, "envelope is empty, expected a map");
    ovh_code_t code = ovh_mp_next (&r->p, r->end, &token);
    if (token.kind != OVH_MP_MAP)
        return s_fail (r, OVH_E_NOT_MAP, at, "envelope is %s, expected a map",
                       s_byte_kind (*at));
    if (code != OVH_OK)
        return s_fail_code (r, code, at);
    (void) s_enter (r, false);     //  depth 0 -> 1, cannot fail
    s_level_t *level = &r->level [1];
    for (uint32_t index = 0; index < token.size; index++) {
        ovh_mp_token_t key, value;
        level->key = NULL;
        at = r->p;
        code = ovh_mp_next (&r->p, r->end, &key);
        if (code != OVH_OK)
            return s_fail_code (r, code, at);
        if (key.kind != OVH_MP_STR)
            return s_fail (r, OVH_E_KEY_TYPE, at, "map key #%u is %s, keys must be strings",
                           index, s_kind_name (key.kind));
        level->key = key.data;
        level->key_size = key.size;
        bool src = key.size == 3 && memcmp (key.data, "src", 3) == 0;
        bool seq = key.size == 3 && memcmp (key.data, "seq", 3) == 0;
        if (src || seq) {
            at = r->p;
            code = ovh_mp_next (&r->p, r->end, &value);
            if (code == OVH_OK && value.kind == OVH_MP_RESERVED)
                code = OVH_E_RESERVED;
            if (code != OVH_OK)
                return s_fail_code (r, code, at);
            r->p = at;          //  so that reports point at the value
            if (src? s_envelope_src (r, &value, event): s_envelope_seq (r, &value, event))
                return -1;
            ovh_mp_skip (&r->p, r->end, 0);     //  a scalar: cannot fail
        }
        else {
            //  The value is at depth 2 or deeper
            code = ovh_mp_skip (&r->p, r->end, OVH_MAX_DEPTH - 1);
            if (code != OVH_OK)
                return s_fail_code (r, code, r->p);
        }
    }
    r->depth = 0;
    if (!event->src || !event->seq)
        return s_fail (r, OVH_E_ENVELOPE, r->start, "envelope lacks %s",
                       !event->src && !event->seq? "src and seq": !event->src? "src": "seq");
    if (r->p != r->end)
        return s_fail (r, OVH_E_TRAILING, r->p, "%zu byte(s) after the envelope map",
                       (size_t) (r->end - r->p));
    event->has_envelope = true;
    return 0;
}


//  --------------------------------------------------------------------------
//  Public API

ovh_translator_t *
ovh_translator_new (void)
{
    ovh_translator_t *self = (ovh_translator_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->max_frame = OVH_MAX_FRAME_DEFAULT;
    self->capacity = S_INITIAL_CAPACITY;
    self->buffer = (char *) malloc (self->capacity);
    if (!self->buffer) {
        free (self);
        return NULL;
    }
    ovh_error_clear (&self->error);
    return self;
}

void
ovh_translator_destroy (ovh_translator_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ovh_translator_t *self = *self_p;
        free (self->buffer);
        free (self);
        *self_p = NULL;
    }
}

void
ovh_translator_set_max_frame (ovh_translator_t *self, size_t bytes)
{
    assert (self);
    self->max_frame = bytes;
}

const ovh_error_t *
ovh_translator_error (ovh_translator_t *self)
{
    assert (self);
    return &self->error;
}

//  Make room for the worst-case JSON of a body of 'size' bytes
static int
s_reserve (ovh_translator_t *self, size_t size, size_t topic_size)
{
    if (size > (SIZE_MAX - S_SLACK - topic_size) / S_EXPANSION)
        return ovh_error_set (&self->error, OVH_E_MEMORY, OVH_FRAME_BODY, 0, NULL,
                              "body of %zu bytes is too large to translate", size);
    size_t needed = size * S_EXPANSION + topic_size + S_SLACK;
    if (needed <= self->capacity)
        return 0;
    size_t capacity = self->capacity + self->capacity / 2;
    if (capacity < needed)
        capacity = needed;
    char *buffer = (char *) realloc (self->buffer, capacity);
    if (!buffer)
        return ovh_error_set (&self->error, OVH_E_MEMORY, OVH_FRAME_BODY, 0, NULL,
                              "cannot allocate %zu bytes for the JSON", capacity);
    self->buffer = buffer;
    self->capacity = capacity;
    return 0;
}

//  The topic, printable and short, for a report
static void
s_topic_text (const ovh_frame_t *frame, char *text, size_t capacity)
{
    size_t size = frame->size < capacity - 4? frame->size: capacity - 4;
    const uint8_t *data = (const uint8_t *) frame->data;
    for (size_t index = 0; index < size; index++)
        text [index] = data [index] >= 0x20 && data [index] < 0x7f? (char) data [index]: '?';
    strcpy (text + size, size < frame->size? "...": "");
}

static int
s_check_frames (ovh_translator_t *self, const ovh_frame_t *frames, size_t count)
{
    static const char *names [] = { "topic", "body", "envelope" };
    if (count < 2 || count > 3)
        return ovh_error_set (&self->error, OVH_E_FRAMES, OVH_FRAME_NONE, 0, NULL,
                              "message has %zu frames, expected 2 or 3 "
                              "(topic, body, optional envelope)", count);
    for (size_t index = 0; index < count; index++) {
        if (!frames [index].data && frames [index].size)
            return ovh_error_set (&self->error, OVH_E_USAGE, (int) index, 0, NULL,
                                  "frame data is NULL");
        if (frames [index].size > self->max_frame)
            return ovh_error_set (&self->error, OVH_E_FRAME_SIZE, (int) index,
                                  self->max_frame, NULL,
                                  "%s frame has %zu bytes, the limit is %zu",
                                  names [index], frames [index].size, self->max_frame);
    }
    return 0;
}

static int
s_translate (ovh_translator_t *self, const ovh_frame_t *frames, size_t count,
             ovh_event_t *event)
{
    if (!frames && count)
        return ovh_error_set (&self->error, OVH_E_USAGE, OVH_FRAME_NONE, 0, NULL,
                              "frames is NULL");
    if (s_check_frames (self, frames, count))
        return -1;

    const ovh_event_type_t *type = ovh_catalog_lookup ((const char *) frames [0].data,
                                                       frames [0].size);
    if (!type) {
        char topic [48];
        s_topic_text (&frames [0], topic, sizeof topic);
        return ovh_error_set (&self->error, OVH_E_TOPIC, OVH_FRAME_TOPIC, 0, NULL,
                              "topic '%s' is not an event type", topic);
    }
    if (s_reserve (self, frames [1].size, type->name_size))
        return -1;

    s_reader_t reader;
    reader.start = reader.p = (const uint8_t *) frames [1].data;
    reader.end = reader.start + frames [1].size;
    reader.out = self->buffer;
    reader.frame = OVH_FRAME_BODY;
    reader.depth = 0;
    reader.error = &self->error;
    if (s_body (&reader, type, event))
        return -1;
    event->type = type;
    event->json = self->buffer;
    event->json_size = (size_t) (reader.out - self->buffer);

    if (count == 3) {
        reader.start = reader.p = (const uint8_t *) frames [2].data;
        reader.end = reader.start + frames [2].size;
        reader.frame = OVH_FRAME_ENVELOPE;
        reader.depth = 0;
        if (s_envelope (&reader, event))
            return -1;
    }
    return 0;
}

int
ovh_translator_translate (ovh_translator_t *self, const ovh_frame_t *frames,
                          size_t count, ovh_event_t *event)
{
    assert (self);
    assert (event);
    memset (event, 0, sizeof *event);
    ovh_error_clear (&self->error);
    int rc = s_translate (self, frames, count, event);
    if (rc)
        memset (event, 0, sizeof *event);   //  nothing half-filled on failure
    return rc;
}

int
ovh_translator_translate_zmsg (ovh_translator_t *self, zmsg_t *msg, ovh_event_t *event)
{
    assert (self);
    assert (event);
    if (!msg) {
        memset (event, 0, sizeof *event);
        return ovh_error_set (&self->error, OVH_E_USAGE, OVH_FRAME_NONE, 0, NULL,
                              "message is NULL");
    }
    //  Point at the frames' data, no copy; more than 3 frames fails on count
    ovh_frame_t frames [3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
    size_t count = zmsg_size (msg);
    size_t index = 0;
    for (zframe_t *frame = zmsg_first (msg); frame && index < 3;
         frame = zmsg_next (msg), index++) {
        frames [index].data = zframe_data (frame);
        frames [index].size = zframe_size (frame);
    }
    return ovh_translator_translate (self, frames, count, event);
}
