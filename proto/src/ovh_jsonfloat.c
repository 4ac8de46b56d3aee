/*  ovh_jsonfloat.c - internal: shortest round-trip text of floats.

    Integral values and short decimals (most floats in events: "8.6",
    "23.84") are written without printf by exact arithmetic; the rest by
    snprintf at increasing precision until strtod/strtof reads the text
    back as the same value.                                                  */

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "ovh_jsonfloat.h"

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

//  Fast path of ovh_json_dtoa for 1e-4 <= |value| < 1e15 when a decimal of
//  at most 15 significant digits reads back as value ("8.6", "23.84"); NULL
//  when not. It writes what %.15g would, without printf and strtod:
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
        char *end = ovh_json_utoa (text, (uint64_t) digits);
        size_t size = (size_t) (end - text);
        if (value < 0)
            *out++ = '-';
        if (size <= k) {
            out = ovh_json_put (out, "0.", 2);
            memset (out, '0', k - size);
            out = ovh_json_put (out + (k - size), text, size);
        }
        else {
            out = ovh_json_put (out, text, size - k);
            *out++ = '.';
            out = ovh_json_put (out, text + size - k, k);
        }
        return out;
    }
    return NULL;
}

//  Shortest of %.15g, %.16g, %.17g that reads back as the same double
char *
ovh_json_dtoa (char *out, double value)
{
    //  Integral values below 1e15 are what %.15g writes: their digits
    if (value > -1e15 && value < 1e15 && value == (double) (int64_t) value) {
        if (value == 0 && signbit (value))
            *out++ = '-';
        out = ovh_json_itoa (out, (int64_t) value);
        return ovh_json_put (out, ".0", 2);
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
char *
ovh_json_ftoa (char *out, float value)
{
    //  Integral values below 1e6 are what %.6g writes: their digits
    if (value > -1e6f && value < 1e6f && value == (float) (int32_t) value) {
        if (value == 0 && signbit (value))
            *out++ = '-';
        out = ovh_json_itoa (out, (int32_t) value);
        return ovh_json_put (out, ".0", 2);
    }
    int size = 0;
    for (int precision = 6; precision <= 9; precision++) {
        size = snprintf (out, 32, "%.*g", precision, (double) value);
        if (strtof (out, NULL) == value)
            break;
    }
    return s_float_text (out, size);
}
