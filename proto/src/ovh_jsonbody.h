/*  ovh_jsonbody.h - internal: the translator's reader of msgpack frames,
    and the walk that turns the body into the webhook JSON in one pass.

    The reader keeps the path to the value being read ("to[1]",
    "mediaNodes.launch.total") so that every report can name where the
    problem lies. The body walk (ovh_jsonbody.c) and the envelope share it;
    the reports are made in ovh_translator.c.                                */

#ifndef OVH_JSONBODY_H_INCLUDED
#define OVH_JSONBODY_H_INCLUDED

#include "ovhook.h"
#include "ovh_jsonwrite.h"

//  Worst-case JSON bytes per body byte: a control character inside a string
//  becomes "\u00XX" (6 bytes), a one-byte false inside an array "false,"
//  (6). Every other encoding expands less.
#define OVH_JSON_EXPANSION 6
//  The {"event":"..."} wrapper beyond the topic, closing brace, NUL, and the
//  up to OVH_JSON_OVERWRITE bytes a vector copy may write past the end of a
//  string.
#define OVH_JSON_SLACK 64
_Static_assert (OVH_JSON_SLACK >= sizeof "{\"event\":\"\"}" + OVH_JSON_OVERWRITE,
                "JSON slack too small");

//  One level of the path to the value being read, for error reports
typedef struct {
    const uint8_t *key;         //  map: current key, NULL while reading it
    uint32_t key_size;
    uint32_t index;             //  array: current element
    bool array;
} ovh_reader_level_t;

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
    ovh_reader_level_t level [OVH_MAX_DEPTH + 1];
} ovh_reader_t;

//  Report a problem at 'at' in the frame, with the current path; returns -1
OVH_INTERNAL int __attribute__ ((cold, noinline, format (printf, 4, 5)))
    ovh_reader_fail (ovh_reader_t *r, ovh_code_t code, const uint8_t *at,
                     const char *format, ...);

//  Enter a container at the next depth
static inline int
ovh_reader_enter (ovh_reader_t *r, bool array)
{
    if (r->depth >= OVH_MAX_DEPTH)
        return ovh_reader_fail (r, OVH_E_DEPTH, r->p, "containers nested deeper than %d levels",
                                OVH_MAX_DEPTH);
    ovh_reader_level_t *level = &r->level [++r->depth];
    level->array = array;
    level->key = NULL;
    level->index = 0;
    return 0;
}

//  Start reading a frame; JSON, if any, goes to 'out'
static inline void
ovh_reader_init (ovh_reader_t *r, const ovh_frame_t *frame, int which, char *out,
                 ovh_error_t *error)
{
    r->start = r->p = (const uint8_t *) frame->data;
    r->end = r->start + frame->size;
    r->out = out;
    r->frame = which;
    r->depth = 0;
    r->error = error;
}

//  Read the body map and write {"event":"<topic>", then its properties}
//  and a NUL at 'json', which has room for the worst case (the topic,
//  OVH_JSON_EXPANSION per body byte and OVH_JSON_SLACK). Sets the event's
//  json, json_size and ordering key. Returns 0, or -1 with the problem in
//  'error'. The reader is the walk's own local rather than the caller's:
//  measured, that saves a few instructions per event.
OVH_INTERNAL int
    ovh_jsonbody_walk (const ovh_frame_t *body, const ovh_event_type_t *type, char *json,
                       ovh_error_t *error, ovh_event_t *event);

#endif
