/*  ovh_jsonfloat.h - internal: floats as the shortest JSON text that reads
    back to the same value (float64: first of %.15g, %.16g, %.17g that
    strtod reads back identically; float32: %.6g .. %.9g with strtof). An
    integral value keeps a ".0" (674.0 -> "674.0") so that JSON -> msgpack
    -> JSON round-trips; exponent forms stay as printf writes them. The
    value must be finite; the text takes at most 32 bytes.                   */

#ifndef OVH_JSONFLOAT_H_INCLUDED
#define OVH_JSONFLOAT_H_INCLUDED

#include "ovh_jsonwrite.h"

//  Write a double; returns the byte after it
OVH_INTERNAL char *
    ovh_json_dtoa (char *out, double value);

//  Write a float32; returns the byte after it
OVH_INTERNAL char *
    ovh_json_ftoa (char *out, float value);

#endif
