/*  ovh_jsonbody.c - internal: the body walk, msgpack to webhook JSON in one
    pass.

    A hand-written msgpack reader that writes JSON as it goes: a switch on
    each type byte, strings copied 16 bytes at a time with the pieces of
    ovh_jsonwrite.h. Short strings, small integers and booleans are handled
    inline in the map and array loops, everything else out of line. The
    caller has made room for the worst case JSON of the body
    (OVH_JSON_EXPANSION per byte), so the writers need no capacity checks.

    msgpack-c's unpacker is not used on purpose: it allocates count * 24/48
    bytes for a container before reading it, so a 5-byte frame could claim
    gigabytes. Here every declared length is checked against the bytes left
    before it is trusted.                                                    */

#include <math.h>
#include <string.h>
#include "ovh_jsonbody.h"
#include "ovh_jsonfloat.h"
#include "ovh_msgpack.h"

//  Ordering key ranks; a higher rank wins
enum { S_EVENT = -1, S_NONE = 0, S_CLUSTER_ID, S_NODE_ID, S_ID, S_SESSION_ID };
static const char *s_rank_names [] = { NULL, "clusterId", "nodeId", "id", "sessionId" };

//  --------------------------------------------------------------------------
//  Strings: the pieces are in ovh_jsonwrite.h, the loops are here because
//  they report bad UTF-8 themselves, with the reader's path. Versions in
//  ovh_jsonwrite that handed the error back to the walk instead cost 35 to
//  45 more instructions per event (callgrind, webrtcConnectionCreated).

//  Write bytes as a JSON string, validating UTF-8: the general case
static int __attribute__ ((noinline))
s_write_str_long (ovh_reader_t *r, const uint8_t *s, uint32_t size, char *out)
{
    const uint8_t *end = s + size;
    while (true) {
        size_t run = ovh_json_plain_run (s, end, r->end, out);
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
            out = ovh_json_escape (out, *s++);
        else {
            const char *why;
            size_t seq = ovh_json_utf8_sequence (s, (size_t) (end - s), &why);
            if (!seq)
                return ovh_reader_fail (r, OVH_E_UTF8, s, "invalid UTF-8 in string: %s", why);
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
s_write_str (ovh_reader_t *r, const uint8_t *s, uint32_t size)
{
    char *out = r->out;
    *out++ = '"';
#if defined (OVH_JSON_SSE2)
    //  16 bytes at a time while they are plain and readable in the frame;
    //  the last chunk may read past the string, its mask is cut to size
    const uint8_t *from = s;
    const uint8_t *end = s + size;
    while (r->end - s >= 16) {
        __m128i bytes = _mm_loadu_si128 ((const __m128i *) s);
        _mm_storeu_si128 ((__m128i *) out, bytes);
        uint32_t mask = ovh_json_special16 (bytes);
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
        uint32_t mask = ovh_json_special16 (bytes) >> (s - last);
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

static int s_value_other (ovh_reader_t *r);
static inline int s_value (ovh_reader_t *r);

//  Fail unless 'size' bytes are left from the value starting at r->p
static inline int
s_need (ovh_reader_t *r, size_t size)
{
    if ((size_t) (r->end - r->p) >= size)
        return 0;
    return ovh_reader_fail (r, OVH_E_TRUNCATED, r->p, "%s needs %zu bytes, %zu left",
                            ovh_mp_byte_kind (*r->p), size, (size_t) (r->end - r->p));
}

//  Length of a str/array/map whose header is 'header' bytes long; r->p is at
//  the type byte and 'header' bytes are known to be there.
static inline uint32_t
s_length (const ovh_reader_t *r, size_t header)
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
s_claim (ovh_reader_t *r, size_t header, uint64_t bytes_needed, const char *what,
         uint32_t length)
{
    size_t left = (size_t) (r->end - r->p) - header;
    if (bytes_needed <= left)
        return 0;
    return ovh_reader_fail (r, OVH_E_SIZE_CLAIM, r->p,
                            "%s of %u %s declared, only %zu bytes left",
                            what, length, strcmp (what, "array") == 0? "items"
                                          : strcmp (what, "map") == 0? "entries": "bytes",
                            left);
}

static inline __attribute__ ((always_inline)) int
s_str (ovh_reader_t *r, uint32_t length, size_t header)
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

static int
s_array (ovh_reader_t *r, uint32_t count, size_t header)
{
    if (s_claim (r, header, count, "array", count) || ovh_reader_enter (r, true))
        return -1;
    r->p += header;
    ovh_reader_level_t *level = &r->level [r->depth];
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
s_key_slow (ovh_reader_t *r, uint32_t index)
{
    ovh_reader_level_t *level = &r->level [r->depth];
    level->key = NULL;          //  the path ends at the map until the key is good
    if (r->p >= r->end)
        return ovh_reader_fail (r, OVH_E_TRUNCATED, r->p, "map key #%u expected, data ends",
                                index);
    uint8_t byte = *r->p;
    size_t header;
    if (byte >= 0xa0 && byte <= 0xbf)
        header = 1;
    else
    if (byte >= 0xd9 && byte <= 0xdb)
        header = (size_t) 1 + ((size_t) 1 << (byte - 0xd9));
    else
        return ovh_reader_fail (r, OVH_E_KEY_TYPE, r->p,
                                "map key #%u is %s, keys must be strings",
                                index, ovh_mp_byte_kind (byte));
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
s_key (ovh_reader_t *r, uint32_t index)
{
#if defined (OVH_JSON_SSE2)
    const uint8_t *p = r->p;
    //  fixstr of up to 16 bytes, with 17 bytes readable from the type byte
    if (r->end - p >= 17 && (*p & 0xe0) == 0xa0 && (*p & 0x1f) <= 16) {
        uint32_t size = *p & 0x1f;
        __m128i bytes = _mm_loadu_si128 ((const __m128i *) (p + 1));
        uint32_t mask = ovh_json_special16 (bytes) & (((uint32_t) 1 << size) - 1);
        if (mask == 0) {
            //  The claim holds: 16 bytes follow the type byte
            char *out = r->out;
            out [0] = '"';
            _mm_storeu_si128 ((__m128i *) (out + 1), bytes);
            out [size + 1] = '"';
            out [size + 2] = ':';
            r->out = out + size + 3;
            ovh_reader_level_t *level = &r->level [r->depth];
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
s_map (ovh_reader_t *r, uint32_t count, size_t header)
{
    if (s_claim (r, header, 2 * (uint64_t) count, "map", count) || ovh_reader_enter (r, false))
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
s_float32 (ovh_reader_t *r)
{
    if (s_need (r, 5))
        return -1;
    uint32_t bits = ovh_mp_be32 (r->p + 1);
    float value;
    memcpy (&value, &bits, 4);
    if (!isfinite (value))
        return ovh_reader_fail (r, OVH_E_FLOAT, r->p, "float32 %s has no JSON form",
                                isnan (value)? "NaN": value > 0? "+Inf": "-Inf");
    r->out = ovh_json_ftoa (r->out, value);
    r->p += 5;
    return 0;
}

static int
s_float64 (ovh_reader_t *r)
{
    if (s_need (r, 9))
        return -1;
    uint64_t bits = ovh_mp_be64 (r->p + 1);
    double value;
    memcpy (&value, &bits, 8);
    if (!isfinite (value))
        return ovh_reader_fail (r, OVH_E_FLOAT, r->p, "float64 %s has no JSON form",
                                isnan (value)? "NaN": value > 0? "+Inf": "-Inf");
    r->out = ovh_json_dtoa (r->out, value);
    r->p += 9;
    return 0;
}

//  Unsigned integer of 1, 2, 4 or 8 bytes after the type byte
static int
s_uint (ovh_reader_t *r, size_t size)
{
    if (s_need (r, 1 + size))
        return -1;
    const uint8_t *d = r->p + 1;
    uint64_t value = size == 1? d [0]: size == 2? ovh_mp_be16 (d)
                   : size == 4? ovh_mp_be32 (d): ovh_mp_be64 (d);
    r->out = ovh_json_utoa (r->out, value);
    r->p += 1 + size;
    return 0;
}

static int
s_int (ovh_reader_t *r, size_t size)
{
    if (s_need (r, 1 + size))
        return -1;
    const uint8_t *d = r->p + 1;
    int64_t value = size == 1? (int8_t) d [0]: size == 2? (int16_t) ovh_mp_be16 (d)
                  : size == 4? (int32_t) ovh_mp_be32 (d): (int64_t) ovh_mp_be64 (d);
    r->out = ovh_json_itoa (r->out, value);
    r->p += 1 + size;
    return 0;
}

//  str8/16/32, array16/32, map16/32: a length field after the type byte
static int
s_sized (ovh_reader_t *r, int (*reader) (ovh_reader_t *, uint32_t, size_t), size_t field)
{
    if (s_need (r, 1 + field))
        return -1;
    return reader (r, s_length (r, 1 + field), 1 + field);
}

//  Every value but the few s_value does itself
static int __attribute__ ((noinline))
s_value_other (ovh_reader_t *r)
{
    if (r->p >= r->end)
        return ovh_reader_fail (r, OVH_E_TRUNCATED, r->p, "value expected, data ends");
    uint8_t byte = *r->p;
    if (byte <= 0x7f) {             //  positive fixint
        r->out = ovh_json_utoa (r->out, byte);
        r->p++;
        return 0;
    }
    if (byte >= 0xe0) {             //  negative fixint
        r->out = ovh_json_itoa (r->out, (int8_t) byte);
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
            r->out = ovh_json_put (r->out, "null", 4);
            r->p++;
            return 0;
        case 0xc2:
            r->out = ovh_json_put (r->out, "false", 5);
            r->p++;
            return 0;
        case 0xc3:
            r->out = ovh_json_put (r->out, "true", 4);
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
            return ovh_reader_fail (r, OVH_E_BIN, r->p, "bin value has no JSON form");
        case 0xc7: case 0xc8: case 0xc9:
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
            return ovh_reader_fail (r, OVH_E_EXT, r->p, "ext value has no JSON form");
        default:                    //  0xc1
            return ovh_reader_fail (r, OVH_E_RESERVED, r->p,
                                    "byte 0xc1 is reserved, never used by msgpack");
    }
}

//  One value: strings, small integers and booleans inline in the loops of
//  maps and arrays; the rest, and the recursion, in s_value_other.
static inline __attribute__ ((always_inline)) int
s_value (ovh_reader_t *r)
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
            r->out = byte == 0xc3? ovh_json_put (r->out, "true", 4)
                                 : ovh_json_put (r->out, "false", 5);
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
s_body (ovh_reader_t *r, const ovh_event_type_t *type, ovh_event_t *event)
{
    if (r->p >= r->end)
        return ovh_reader_fail (r, OVH_E_TRUNCATED, r->p, "body is empty, expected a map");
    uint8_t byte = *r->p;
    size_t header = byte >= 0x80 && byte <= 0x8f? 1: byte == 0xde? 3: byte == 0xdf? 5: 0;
    if (!header)
        return ovh_reader_fail (r, OVH_E_NOT_MAP, r->p, "body is %s, expected a map",
                                ovh_mp_byte_kind (byte));
    if (s_need (r, header))
        return -1;
    uint32_t count = header == 1? byte & 0x0f: s_length (r, header);
    if (s_claim (r, header, 2 * (uint64_t) count, "map", count) || ovh_reader_enter (r, false))
        return -1;
    r->p += header;

    r->out = ovh_json_put (r->out, "{\"event\":\"", 10);
    r->out = ovh_json_put (r->out, type->name, type->name_size);
    *r->out++ = '"';
    int best = S_NONE;
    for (uint32_t index = 0; index < count; index++) {
        *r->out++ = ',';
        const uint8_t *key_at = r->p;
        if (s_key (r, index))
            return -1;
        int rank = s_key_rank (r->level [1].key, r->level [1].key_size);
        if (rank == S_EVENT)
            return ovh_reader_fail (r, OVH_E_EVENT_KEY, key_at,
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
        return ovh_reader_fail (r, OVH_E_TRAILING, r->p, "%zu byte(s) after the body map",
                                (size_t) (r->end - r->p));
    return 0;
}

int
ovh_jsonbody_walk (const ovh_frame_t *body, const ovh_event_type_t *type, char *json,
                   ovh_error_t *error, ovh_event_t *event)
{
    ovh_reader_t reader;
    ovh_reader_init (&reader, body, OVH_FRAME_BODY, json, error);
    if (s_body (&reader, type, event))
        return -1;
    event->json = json;
    event->json_size = (size_t) (reader.out - json);
    return 0;
}
