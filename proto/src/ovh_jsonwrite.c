/*  ovh_jsonwrite.c - internal: JSON strings in the general case (escapes
    and UTF-8 validation) and the UTF-8 checks. The fast paths and the
    integer writers are inline in ovh_jsonwrite.h.                           */

#include "ovh_jsonwrite.h"

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

#define S_ONES 0x0101010101010101ULL
#define S_HIGH 0x8080808080808080ULL

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
            out = ovh_json_put (out, "u00", 3);
            *out++ = hex [c >> 4];
            *out++ = hex [c & 0x0f];
    }
    return out;
}

size_t
ovh_json_utf8_sequence (const uint8_t *s, size_t left, const char **why)
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

//  Copy the bytes at the start of [s, end) that need no escaping and
//  return how many. Reads whole vectors/words while enough bytes remain in
//  the frame ('limit'), even past the string's end: a stop bit at the
//  string's end keeps the bytes beyond it out of the answer. The caller's
//  buffer has room for the up to 15 bytes written past the run.
static inline size_t
s_plain_run (const uint8_t *s, const uint8_t *end, const uint8_t *limit, char *out)
{
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

char *
ovh_json_str_long (char *out, const uint8_t *s, size_t size, const uint8_t *limit)
{
    const uint8_t *end = s + size;
    while (true) {
        size_t run = s_plain_run (s, end, limit, out);
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
            size_t seq = ovh_json_utf8_sequence (s, (size_t) (end - s), &why);
            if (!seq)
                return NULL;
            memcpy (out, s, seq);
            out += seq;
            s += seq;
        }
    }
    *out++ = '"';
    return out;
}

//  ASCII vectors and words are skipped; the rest one sequence at a time
const uint8_t *
ovh_json_utf8_invalid (const uint8_t *s, size_t size, const char **why)
{
    const uint8_t *end = s + size;
    while (s < end) {
#if defined (OVH_JSON_SSE2)
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
        size_t seq = ovh_json_utf8_sequence (s, (size_t) (end - s), why);
        if (!seq)
            return s;
        s += seq;
    }
    return NULL;
}
