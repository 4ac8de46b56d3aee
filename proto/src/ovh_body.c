/*  ovh_body.c - builder of an event body: one msgpack map with string keys.

    Scalars and strings are written by msgpack-c's packer, which already
    picks the smallest form of every integer, into a buffer the body owns.
    Containers cannot know their size when they are opened, so each one is
    opened with a 5-byte map32/array32 header holding a placeholder count;
    ovh_body_end patches the count and, when a shorter header (fixmap/
    fixarray, map16/array16) fits, slides the container's content down over
    the unused header bytes. The output is thus the canonical compact form
    a one-pass encoder that knew the sizes would write.

    The top-level map is the exception: its 5 header bytes stay reserved at
    the start of the buffer and ovh_body_data writes the compact header just
    before the content, so finishing costs no memmove and a body can be read
    and then extended.                                                       */

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>
#include "ovhook.h"

//  Room reserved for a container header (map32/array32: marker + 4 bytes)
#define HEADER_MAX      5
#define INITIAL_ALLOC   256
#define S_STR_(x)       #x
#define S_STR(x)        S_STR_(x)

typedef struct {
    size_t offset;              //  where the container's 5-byte header starts
    uint64_t count;             //  elements (key/value pairs for a map)
    bool is_map;
} s_frame_t;

struct _ovh_body_t {
    char *data;                 //  data [0..HEADER_MAX) is the top header room
    size_t size;
    size_t alloc;
    msgpack_packer packer;
    //  stack [0] is the body map itself; OVH_MAX_DEPTH counts it as depth 1
    s_frame_t stack [OVH_MAX_DEPTH];
    size_t depth;
    bool failed;                //  an error is recorded: refuse everything
    ovh_error_t error;
};

//  Grow the buffer so that 'more' bytes fit after the current end
static int
s_reserve (ovh_body_t *self, size_t more)
{
    if (more <= self->alloc - self->size)
        return 0;
    size_t alloc = self->alloc;
    while (more > alloc - self->size) {
        if (alloc > SIZE_MAX / 2)
            return -1;
        alloc *= 2;
    }
    char *data = (char *) realloc (self->data, alloc);
    if (!data)
        return -1;
    self->data = data;
    self->alloc = alloc;
    return 0;
}

//  msgpack-c's write callback: append to our buffer
static int
s_write (void *context, const char *buf, size_t len)
{
    ovh_body_t *self = (ovh_body_t *) context;
    if (s_reserve (self, len))
        return -1;
    memcpy (self->data + self->size, buf, len);
    self->size += len;
    return 0;
}

ovh_body_t *
ovh_body_new (void)
{
    ovh_body_t *self = (ovh_body_t *) calloc (1, sizeof (ovh_body_t));
    if (!self)
        return NULL;
    self->data = (char *) malloc (INITIAL_ALLOC);
    if (!self->data) {
        free (self);
        return NULL;
    }
    self->alloc = INITIAL_ALLOC;
    msgpack_packer_init (&self->packer, self, s_write);
    ovh_body_reset (self);
    return self;
}

void
ovh_body_destroy (ovh_body_t **self_p)
{
    assert (self_p);
    ovh_body_t *self = *self_p;
    if (self) {
        free (self->data);
        free (self);
        *self_p = NULL;
    }
}

void
ovh_body_reset (ovh_body_t *self)
{
    assert (self);
    self->size = HEADER_MAX;
    self->depth = 1;
    self->stack [0].offset = 0;
    self->stack [0].count = 0;
    self->stack [0].is_map = true;
    self->failed = false;
    ovh_error_clear (&self->error);
}

//  Record the first error; every later call fails until reset
static int
s_fail (ovh_body_t *self, ovh_code_t code, const char *key, const char *detail)
{
    if (!self->failed) {
        char path [64] = "";
        s_frame_t *top = &self->stack [self->depth - 1];
        if (key)
            snprintf (path, sizeof path, "%s", key);
        else
        if (!top->is_map)
            snprintf (path, sizeof path, "[%llu]", (unsigned long long) top->count);
        //  The offset is the number of body bytes written so far, open
        //  containers counted with their 5-byte placeholder headers
        ovh_error_set (&self->error, code, OVH_FRAME_NONE,
                       self->size - HEADER_MAX, path, "%s", detail);
        self->failed = true;
    }
    return -1;
}

//  Check the key against the innermost container, write it (inside a
//  map) and count the new element. 'is_container' asks for a depth check.
static int
s_start_value (ovh_body_t *self, const char *key, bool is_container)
{
    assert (self);
    if (self->failed)
        return -1;
    s_frame_t *top = &self->stack [self->depth - 1];
    if (top->is_map && !key)
        return s_fail (self, OVH_E_USAGE, NULL, "a value inside a map needs a key");
    if (!top->is_map && key)
        return s_fail (self, OVH_E_USAGE, key, "a value inside an array takes no key");
    if (self->depth == 1 && strcmp (key, "event") == 0)
        return s_fail (self, OVH_E_EVENT_KEY, key,
                       "the body cannot hold a top-level \"event\" property");
    if (is_container && self->depth == OVH_MAX_DEPTH)
        return s_fail (self, OVH_E_DEPTH, key,
                       "containers nested deeper than " S_STR (OVH_MAX_DEPTH));
    if (top->count == UINT32_MAX)
        return s_fail (self, OVH_E_USAGE, key, "container holds 2^32-1 elements already");
    if (key) {
        size_t size = strlen (key);
        if (size > UINT32_MAX)
            return s_fail (self, OVH_E_USAGE, key, "key too long");
        if (msgpack_pack_str (&self->packer, size)
        ||  msgpack_pack_str_body (&self->packer, key, size))
            return s_fail (self, OVH_E_MEMORY, key, "out of memory");
    }
    top->count++;
    return 0;
}

//  Result of a packer call that wrote a value
static int
s_packed (ovh_body_t *self, const char *key, int rc)
{
    return rc == 0? 0: s_fail (self, OVH_E_MEMORY, key, "out of memory");
}

int
ovh_body_str (ovh_body_t *self, const char *key, const char *value)
{
    return ovh_body_strn (self, key, value, value? strlen (value): 0);
}

//  A NULL value is written as nil: OpenVidu sends null for unknown strings.
int
ovh_body_strn (ovh_body_t *self, const char *key, const char *value, size_t size)
{
    assert (self);
    if (!self->failed && !value && size > 0)
        return s_fail (self, OVH_E_USAGE, key, "NULL string with a non-zero size");
    if (!self->failed && size > UINT32_MAX)
        return s_fail (self, OVH_E_USAGE, key, "string longer than 2^32-1 bytes");
    if (s_start_value (self, key, false))
        return -1;
    if (!value)
        return s_packed (self, key, msgpack_pack_nil (&self->packer));
    return s_packed (self, key, msgpack_pack_str (&self->packer, size)
                             || msgpack_pack_str_body (&self->packer, value, size));
}

int
ovh_body_int (ovh_body_t *self, const char *key, int64_t value)
{
    if (s_start_value (self, key, false))
        return -1;
    return s_packed (self, key, msgpack_pack_int64 (&self->packer, value));
}

int
ovh_body_uint (ovh_body_t *self, const char *key, uint64_t value)
{
    if (s_start_value (self, key, false))
        return -1;
    return s_packed (self, key, msgpack_pack_uint64 (&self->packer, value));
}

//  Always float64: a float32 would lose digits the publisher gave us
int
ovh_body_double (ovh_body_t *self, const char *key, double value)
{
    if (s_start_value (self, key, false))
        return -1;
    return s_packed (self, key, msgpack_pack_double (&self->packer, value));
}

int
ovh_body_bool (ovh_body_t *self, const char *key, bool value)
{
    if (s_start_value (self, key, false))
        return -1;
    return s_packed (self, key, value? msgpack_pack_true (&self->packer)
                                     : msgpack_pack_false (&self->packer));
}

int
ovh_body_null (ovh_body_t *self, const char *key)
{
    if (s_start_value (self, key, false))
        return -1;
    return s_packed (self, key, msgpack_pack_nil (&self->packer));
}

static int
s_begin (ovh_body_t *self, const char *key, bool is_map)
{
    if (s_start_value (self, key, true))
        return -1;
    if (s_reserve (self, HEADER_MAX))
        return s_fail (self, OVH_E_MEMORY, key, "out of memory");
    s_frame_t *frame = &self->stack [self->depth++];
    frame->offset = self->size;
    frame->count = 0;
    frame->is_map = is_map;
    //  Placeholder; ovh_body_end writes the real header
    memset (self->data + self->size, 0, HEADER_MAX);
    self->size += HEADER_MAX;
    return 0;
}

int
ovh_body_begin_map (ovh_body_t *self, const char *key)
{
    return s_begin (self, key, true);
}

int
ovh_body_begin_array (ovh_body_t *self, const char *key)
{
    return s_begin (self, key, false);
}

//  Write the smallest header for a container of 'count' elements into
//  'dest'; returns its length (1, 3 or 5).
static size_t
s_header (uint8_t *dest, bool is_map, uint32_t count)
{
    if (count < 16) {
        dest [0] = (uint8_t) ((is_map? 0x80: 0x90) | count);
        return 1;
    }
    if (count <= 0xffff) {
        dest [0] = is_map? 0xde: 0xdc;
        dest [1] = (uint8_t) (count >> 8);
        dest [2] = (uint8_t) count;
        return 3;
    }
    dest [0] = is_map? 0xdf: 0xdd;
    dest [1] = (uint8_t) (count >> 24);
    dest [2] = (uint8_t) (count >> 16);
    dest [3] = (uint8_t) (count >> 8);
    dest [4] = (uint8_t) count;
    return 5;
}

int
ovh_body_end (ovh_body_t *self)
{
    assert (self);
    if (self->failed)
        return -1;
    if (self->depth == 1)
        return s_fail (self, OVH_E_USAGE, NULL, "end without an open map or array");

    s_frame_t *frame = &self->stack [--self->depth];
    uint8_t header [HEADER_MAX];
    size_t header_size = s_header (header, frame->is_map, (uint32_t) frame->count);
    if (header_size < HEADER_MAX) {
        //  Every container opened inside this one is closed already, so
        //  moving its content invalidates no offset we still hold
        size_t content = frame->offset + HEADER_MAX;
        memmove (self->data + frame->offset + header_size,
                 self->data + content, self->size - content);
        self->size -= HEADER_MAX - header_size;
    }
    memcpy (self->data + frame->offset, header, header_size);
    return 0;
}

const void *
ovh_body_data (ovh_body_t *self, size_t *size)
{
    assert (self);
    if (self->failed)
        return NULL;
    if (self->depth > 1) {
        s_fail (self, OVH_E_USAGE, NULL, "body read while a map or array is open");
        return NULL;
    }
    uint8_t header [HEADER_MAX];
    size_t header_size = s_header (header, true, (uint32_t) self->stack [0].count);
    char *start = self->data + HEADER_MAX - header_size;
    memcpy (start, header, header_size);
    if (size)
        *size = self->size - (HEADER_MAX - header_size);
    return start;
}

size_t
ovh_body_count (ovh_body_t *self)
{
    assert (self);
    return (size_t) self->stack [0].count;
}

const ovh_error_t *
ovh_body_error (ovh_body_t *self)
{
    assert (self);
    return self->failed? &self->error: NULL;
}
