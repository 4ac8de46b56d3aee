/*  ovh_argvalue.h - one "key=value" argument of ovhook-inject, typed as a
    user would expect, and the body built from a list of them.

    key=value   integer (JSON syntax, within int64, else uint64), float (a
                JSON number with '.' or an exponent), true, false, null;
                anything else is a string
    key:=JSON   any JSON value: arrays, objects, or forcing a type
                (n:=42, s:='"42"')
    key==value  always a string (s==42 is "42", s===x is "=x")

    The key ends at the first '=' (a ':' right before it makes ":="), so
    keys cannot hold '='. Keys and strings must be valid UTF-8.             */

#ifndef OVH_ARGVALUE_H_INCLUDED
#define OVH_ARGVALUE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ovhook.h"

typedef enum {
    OVH_ARG_STRING,
    OVH_ARG_INT,                //  fits int64
    OVH_ARG_UINT,               //  above INT64_MAX, fits uint64
    OVH_ARG_FLOAT,
    OVH_ARG_BOOL,
    OVH_ARG_NULL,
    OVH_ARG_JSON                //  key:=JSON, parsed when added to a body
} ovh_argkind_t;

typedef struct {
    const char *key;            //  points into the argument...
    size_t key_size;            //  ...not NUL-terminated there
    const char *text;           //  value text (NUL-terminated)
    ovh_argkind_t kind;
    int64_t i;
    uint64_t u;
    double f;
    bool b;
} ovh_argvalue_t;

//  Name of a kind: "string", "integer", ...
const char *
    ovh_argkind_name (ovh_argkind_t kind);

//  Split and type one argument. Returns 0, or -1 with 'error' filled:
//  OVH_E_USAGE (not key=value, empty key), OVH_E_EVENT_KEY (key "event"),
//  OVH_E_UTF8 (key or string not UTF-8). The argument must outlive 'value'.
int
    ovh_argvalue_parse (const char *arg, ovh_argvalue_t *value, ovh_error_t *error);

//  Append one parsed value to 'body'. Returns 0, or -1 with 'error' filled:
//  for key:=JSON OVH_E_JSON (invalid JSON, NUL in a key), OVH_E_JSON_NUMBER
//  (integer out of range), OVH_E_DEPTH (too deep); or the body's error.
int
    ovh_argvalue_add (const ovh_argvalue_t *value, ovh_body_t *body, ovh_error_t *error);

//  Build a whole body from 'count' arguments: parse each, reject a key
//  given twice (OVH_E_USAGE), and put "timestamp" first with 'now_ms' when
//  no argument gives one. Returns 0 or -1 with 'error' filled; the text
//  names the argument.
int
    ovh_argvalue_build (ovh_body_t *body, char *args [], size_t count,
                        int64_t now_ms, ovh_error_t *error);

//  True if 'data' is valid UTF-8 (no overlong forms, no surrogates, at
//  most U+10FFFF).
bool
    ovh_utf8_valid (const char *data, size_t size);

#endif
