/*  ovh_jsonwrite.c - internal: UTF-8 validation for the JSON writers. Only
    non-ASCII text gets here; the rest of the writers is inline in
    ovh_jsonwrite.h.                                                         */

#include "ovh_jsonwrite.h"

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
        if (end - s >= 8 && (memcpy (&word, s, 8), (word & OVH_JSON_HIGH) == 0)) {
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
