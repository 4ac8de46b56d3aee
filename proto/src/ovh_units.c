/*  ovh_units.c - sizes and durations as people write them.                */

#include <assert.h>
#include <strings.h>
#include "ovhook.h"

#define KIB ((int64_t) 1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

typedef struct { const char *suffix; int64_t unit; } s_unit_t;

static const s_unit_t s_size_units [] = {
    { "K", KIB }, { "M", MIB }, { "G", GIB }, { NULL, 0 }
};
static const s_unit_t s_duration_units [] = {
    { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { NULL, 0 }
};

//  Digits, then one of the suffixes (or none); 'units' gives each suffix's
//  multiplier. Checked by hand rather than by strtoll, which would take a
//  sign and leading spaces.
static int
s_parse (const char *text, const s_unit_t *units, int64_t min, int64_t max, int64_t *value)
{
    assert (value);
    if (!text || *text < '0' || *text > '9')
        return -1;
    const char *cursor = text;
    int64_t number = 0;
    for (; *cursor >= '0' && *cursor <= '9'; cursor++) {
        int digit = *cursor - '0';
        if (number > (INT64_MAX - digit) / 10)
            return -1;
        number = number * 10 + digit;
    }
    int64_t unit = *cursor? 0: 1;
    for (; units && units->suffix && !unit; units++)
        if (strcasecmp (cursor, units->suffix) == 0)
            unit = units->unit;
    if (unit == 0 || number > INT64_MAX / unit)
        return -1;
    number *= unit;
    if (number < min || number > max)
        return -1;
    *value = number;
    return 0;
}

int
ovh_parse_number (const char *text, int64_t min, int64_t max, int64_t *value)
{
    return s_parse (text, NULL, min, max, value);
}

int
ovh_parse_size (const char *text, int64_t min, int64_t max, int64_t *bytes)
{
    return s_parse (text, s_size_units, min, max, bytes);
}

int
ovh_parse_duration (const char *text, int64_t min, int64_t max, int64_t *msecs)
{
    return s_parse (text, s_duration_units, min, max, msecs);
}
