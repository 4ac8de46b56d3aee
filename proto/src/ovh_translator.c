/*  ovh_translator.c - decode, validate and translate a bus message into the
    webhook JSON body, in one pass, into a reusable buffer.

    This file checks the frames and the topic, reads the envelope, makes
    the reader's error reports and holds the public API. The body is walked
    by ovh_jsonbody.c, which writes JSON as it reads msgpack, with the text
    writers of ovh_jsonwrite.h (strings, integers, UTF-8 checks in
    ovh_jsonwrite.c) and ovh_jsonfloat.c (floats). Nothing is allocated per
    event: before reading a body we make sure the buffer can hold the worst
    case JSON for that many bytes (OVH_JSON_EXPANSION per byte), so the
    writers need no capacity checks, and the buffer only grows when a body
    is bigger than any before.                                               */

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ovhook.h"
#include "ovh_jsonbody.h"
#include "ovh_msgpack.h"

#define S_INITIAL_CAPACITY (16 * 1024)

struct _ovh_translator_t {
    size_t max_frame;           //  largest frame accepted
    char *buffer;               //  JSON output, reused from event to event
    size_t capacity;
    ovh_error_t error;          //  why the last call failed
};

//  --------------------------------------------------------------------------
//  Error reports

//  Append 'size' bytes of a key to the path, replacing control characters
//  and invalid UTF-8 with '?' so that the report stays one printable line.
static void
s_path_append (char *path, size_t capacity, size_t *len, const uint8_t *text, size_t size)
{
    for (size_t index = 0; index < size; ) {
        uint8_t c = text [index];
        const char *why;
        size_t seq = c < 0x80? 1: ovh_json_utf8_sequence (text + index, size - index, &why);
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
s_path (const ovh_reader_t *r, char *path, size_t capacity)
{
    size_t len = 0;
    for (int depth = 1; depth <= r->depth; depth++) {
        const ovh_reader_level_t *level = &r->level [depth];
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

int
ovh_reader_fail (ovh_reader_t *r, ovh_code_t code, const uint8_t *at, const char *format, ...)
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

//  Report a structural problem found by the token reader (ovh_msgpack.h)
static int __attribute__ ((cold, noinline))
s_fail_code (ovh_reader_t *r, ovh_code_t code, const uint8_t *at)
{
    switch (code) {
        case OVH_E_TRUNCATED:
            return ovh_reader_fail (r, code, at, "data ends inside a value");
        case OVH_E_SIZE_CLAIM:
            return ovh_reader_fail (r, code, at,
                                    "%s declares more items or bytes than the %zu bytes left",
                                    ovh_mp_byte_kind (*at), (size_t) (r->end - at) - 1);
        case OVH_E_DEPTH:
            return ovh_reader_fail (r, code, at, "containers nested deeper than %d levels",
                                    OVH_MAX_DEPTH);
        case OVH_E_RESERVED:
            return ovh_reader_fail (r, code, at, "byte 0xc1 is reserved, never used by msgpack");
        default:
            return ovh_reader_fail (r, code, at, "invalid msgpack");
    }
}

//  --------------------------------------------------------------------------
//  Envelope: {src: str, seq: uint >= 1, epoch: uint (optional)}; other keys
//  are skipped after a structural check, so that later versions can add
//  keys of any type.

static int
s_envelope_src (ovh_reader_t *r, const ovh_mp_token_t *token, ovh_event_t *event)
{
    const char *why;
    if (token->kind != OVH_MP_STR)
        return ovh_reader_fail (r, OVH_E_ENVELOPE, r->p, "src is %s, expected a string",
                                ovh_mp_kind_name (token->kind));
    if (event->src)
        return ovh_reader_fail (r, OVH_E_ENVELOPE, r->p, "src appears twice");
    const uint8_t *bad = ovh_json_utf8_invalid (token->data, token->size, &why);
    if (bad)
        return ovh_reader_fail (r, OVH_E_UTF8, bad, "invalid UTF-8 in src: %s", why);
    event->src = (const char *) token->data;
    event->src_size = token->size;
    return 0;
}

//  An envelope key's unsigned value, at least 'least'. 0, or -1 (failed)
static int
s_envelope_uint (ovh_reader_t *r, const ovh_mp_token_t *token, const char *name,
                 uint64_t least)
{
    if (token->kind == OVH_MP_INT)
        return ovh_reader_fail (r, OVH_E_ENVELOPE, r->p, "%s is %" PRId64 ", must be >= %"
                                PRIu64, name, token->v.i, least);
    if (token->kind != OVH_MP_UINT)
        return ovh_reader_fail (r, OVH_E_ENVELOPE, r->p, "%s is %s, expected an unsigned integer",
                                name, ovh_mp_kind_name (token->kind));
    if (token->v.u < least)
        return ovh_reader_fail (r, OVH_E_ENVELOPE, r->p, "%s is %" PRIu64 ", must be >= %"
                                PRIu64, name, token->v.u, least);
    return 0;
}

static int
s_envelope_seq (ovh_reader_t *r, const ovh_mp_token_t *token, ovh_event_t *event)
{
    if (s_envelope_uint (r, token, "seq", 1))
        return -1;
    if (event->seq)
        return ovh_reader_fail (r, OVH_E_ENVELOPE, r->p, "seq appears twice");
    event->seq = token->v.u;
    return 0;
}

//  Any unsigned value, 0 included: it only has to differ from run to run
static int
s_envelope_epoch (ovh_reader_t *r, const ovh_mp_token_t *token, ovh_event_t *event)
{
    if (s_envelope_uint (r, token, "epoch", 0))
        return -1;
    if (event->has_epoch)
        return ovh_reader_fail (r, OVH_E_ENVELOPE, r->p, "epoch appears twice");
    event->has_epoch = true;
    event->epoch = token->v.u;
    return 0;
}

//  A positive fixint or uint 8..64 at *p; false if it is another type or
//  does not fit before 'end'
static bool
s_fast_uint (const uint8_t **p, const uint8_t *end, uint64_t *value)
{
    uint8_t byte = *(*p)++;
    size_t field = byte <= 0x7f? 0: byte >= 0xcc && byte <= 0xcf? (size_t) 1 << (byte - 0xcc)
                                                                 : 99;
    if (field > (size_t) (end - *p))
        return false;
    const uint8_t *at = *p;
    *value = field == 0? byte: field == 1? at [0]: field == 2? ovh_mp_be16 (at)
           : field == 4? ovh_mp_be32 (at): ovh_mp_be64 (at);
    *p += field;
    return true;
}

//  The envelope as publishers write it: a fixmap of "src" (fixstr or str8),
//  "seq" (a positive fixint or uint 8..64) and optionally "epoch" (the
//  same), nothing else. Returns true if it was that and valid; anything
//  else, including every error, is left to the general reader below, which
//  reports it.
static bool
s_envelope_fast (ovh_reader_t *r, ovh_event_t *event)
{
    const uint8_t *p = r->p, *end = r->end;
    if (p >= end || *p < 0x82 || *p > 0x83)
        return false;
    uint32_t count = *p++ & 0x0f;
    const uint8_t *src = NULL;
    size_t src_size = 0;
    uint64_t seq = 0, epoch = 0;
    bool has_epoch = false;
    for (uint32_t index = 0; index < count; index++) {
        if (end - p >= 7 && memcmp (p, "\xa5" "epoch", 6) == 0 && !has_epoch) {
            p += 6;
            if (!s_fast_uint (&p, end, &epoch))
                return false;
            has_epoch = true;
            continue;
        }
        if (end - p < 5 || p [0] != 0xa3 || p [1] != 's')
            return false;
        bool is_src = p [2] == 'r' && p [3] == 'c';
        bool is_seq = p [2] == 'e' && p [3] == 'q';
        p += 4;
        if (is_src && !src) {
            uint8_t byte = *p++;
            size_t size = byte;
            if ((byte & 0xe0) == 0xa0)
                size = byte & 0x1f;
            else
            if (byte != 0xd9 || p >= end)
                return false;
            else
                size = *p++;
            const char *why;
            if (size > (size_t) (end - p) || ovh_json_utf8_invalid (p, size, &why))
                return false;
            src = p;
            src_size = size;
            p += size;
        }
        else
        if (is_seq && !seq) {
            if (!s_fast_uint (&p, end, &seq) || seq == 0)
                return false;
        }
        else
            return false;
    }
    if (!src || !seq || p != end)
        return false;
    event->src = (const char *) src;
    event->src_size = src_size;
    event->seq = seq;
    event->has_epoch = has_epoch;
    event->epoch = epoch;
    event->has_envelope = true;
    r->p = p;
    return true;
}

typedef int (s_field_fn) (ovh_reader_t *r, const ovh_mp_token_t *token, ovh_event_t *event);

//  The reader of a known key, or NULL for a key to skip
static s_field_fn *
s_envelope_field (const ovh_mp_token_t *key)
{
    if (key->size == 3 && memcmp (key->data, "src", 3) == 0)
        return s_envelope_src;
    if (key->size == 3 && memcmp (key->data, "seq", 3) == 0)
        return s_envelope_seq;
    if (key->size == 5 && memcmp (key->data, "epoch", 5) == 0)
        return s_envelope_epoch;
    return NULL;
}

static int
s_envelope (ovh_reader_t *r, ovh_event_t *event)
{
    if (s_envelope_fast (r, event))
        return 0;
    ovh_mp_token_t token;
    const uint8_t *at = r->p;
    if (r->p >= r->end)
        return ovh_reader_fail (r, OVH_E_TRUNCATED, r->p, "envelope is empty, expected a map");
    ovh_code_t code = ovh_mp_next (&r->p, r->end, &token);
    if (token.kind != OVH_MP_MAP)
        return ovh_reader_fail (r, OVH_E_NOT_MAP, at, "envelope is %s, expected a map",
                                ovh_mp_byte_kind (*at));
    if (code != OVH_OK)
        return s_fail_code (r, code, at);
    (void) ovh_reader_enter (r, false);     //  depth 0 -> 1, cannot fail
    ovh_reader_level_t *level = &r->level [1];
    for (uint32_t index = 0; index < token.size; index++) {
        ovh_mp_token_t key, value;
        level->key = NULL;
        at = r->p;
        code = ovh_mp_next (&r->p, r->end, &key);
        if (code != OVH_OK)
            return s_fail_code (r, code, at);
        if (key.kind != OVH_MP_STR)
            return ovh_reader_fail (r, OVH_E_KEY_TYPE, at,
                                    "map key #%u is %s, keys must be strings",
                                    index, ovh_mp_kind_name (key.kind));
        level->key = key.data;
        level->key_size = key.size;
        s_field_fn *field = s_envelope_field (&key);
        if (field) {
            at = r->p;
            code = ovh_mp_next (&r->p, r->end, &value);
            if (code == OVH_OK && value.kind == OVH_MP_RESERVED)
                code = OVH_E_RESERVED;
            if (code != OVH_OK)
                return s_fail_code (r, code, at);
            r->p = at;          //  so that reports point at the value
            if (field (r, &value, event))
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
        return ovh_reader_fail (r, OVH_E_ENVELOPE, r->start, "envelope lacks %s",
                                !event->src && !event->seq? "src and seq"
                                : !event->src? "src": "seq");
    if (r->p != r->end)
        return ovh_reader_fail (r, OVH_E_TRAILING, r->p, "%zu byte(s) after the envelope map",
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
    if (size > (SIZE_MAX - OVH_JSON_SLACK - topic_size) / OVH_JSON_EXPANSION)
        return ovh_error_set (&self->error, OVH_E_MEMORY, OVH_FRAME_BODY, 0, NULL,
                              "body of %zu bytes is too large to translate", size);
    size_t needed = size * OVH_JSON_EXPANSION + topic_size + OVH_JSON_SLACK;
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

    if (ovh_jsonbody_walk (&frames [1], type, self->buffer, &self->error, event))
        return -1;
    event->type = type;

    if (count == 3) {
        ovh_reader_t reader;
        ovh_reader_init (&reader, &frames [2], OVH_FRAME_ENVELOPE, NULL, &self->error);
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
ovh_translator_envelope (ovh_translator_t *self, const void *data, size_t size,
                         ovh_event_t *event)
{
    assert (self);
    assert (event);
    assert (data || size == 0);
    memset (event, 0, sizeof *event);
    ovh_error_clear (&self->error);
    ovh_frame_t frame = { data, size };
    ovh_reader_t reader;
    ovh_reader_init (&reader, &frame, OVH_FRAME_ENVELOPE, NULL, &self->error);
    int rc = s_envelope (&reader, event);
    if (rc)
        memset (event, 0, sizeof *event);
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
