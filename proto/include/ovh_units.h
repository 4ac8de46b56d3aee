/*  ovh_units.h - numbers with units as people write them in settings and
    options: sizes ("16M") and durations ("90s", "1h"). The bridge's
    configuration and the tools' options read them here, by one set of
    rules: decimal digits, then one suffix or none, in any letter case; no
    sign, no spaces, no fraction; a value that overflows int64 is refused,
    not wrapped. Each caller says which range it accepts and words its own
    error.                                                                  */

#ifndef OVH_UNITS_H_INCLUDED
#define OVH_UNITS_H_INCLUDED

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Decimal digits and nothing else, within [min, max], into *value.
//  Returns 0, or -1 leaving *value as it was.
int
    ovh_parse_number (const char *text, int64_t min, int64_t max, int64_t *value);

//  Bytes, or digits with suffix K, M or G (powers of 1024), within
//  [min, max] bytes. Returns 0, or -1 leaving *bytes as it was.
int
    ovh_parse_size (const char *text, int64_t min, int64_t max, int64_t *bytes);

//  Milliseconds, or digits with suffix ms, s, m or h, within [min, max]
//  milliseconds. Returns 0, or -1 leaving *msecs as it was.
int
    ovh_parse_duration (const char *text, int64_t min, int64_t max, int64_t *msecs);

#ifdef __cplusplus
}
#endif
#endif
