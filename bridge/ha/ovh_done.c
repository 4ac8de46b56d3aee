/*  ovh_done.c - finished events as seq ranges per stream, ids otherwise.   */

#include "ovh_catalog.h"
#include "ovh_done.h"

typedef struct {
    const ovh_event_type_t *type;
    bool has_epoch;
    uint64_t epoch;
    size_t src_size;
    uint64_t *seqs;
    size_t count, max;
    char src [];
} stream_t;

struct _ovh_done_t {
    size_t max_events, events;
    zhashx_t *streams;          //  "topic \1 epoch \1 src" -> stream_t
    char *ids;                  //  packed OVH_DONE_ID_SIZE-byte ids
    size_t id_count, id_max;
};

static void
s_stream_destroy (void **item_p)
{
    stream_t *stream = (stream_t *) *item_p;
    free (stream->seqs);
    free (stream);
    *item_p = NULL;
}

ovh_done_t *
ovh_done_new (size_t max_events)
{
    ovh_done_t *self = (ovh_done_t *) zmalloc (sizeof (ovh_done_t));
    if (!self)
        return NULL;
    self->max_events = max_events;
    self->streams = zhashx_new ();
    if (!self->streams) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->streams, s_stream_destroy);
    return self;
}

void
ovh_done_destroy (ovh_done_t **self_p)
{
    assert (self_p);
    ovh_done_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->streams);
    free (self->ids);
    free (self);
    *self_p = NULL;
}

//  Grow an array of 'size'-byte elements to hold one more
static int
s_room (void **array, size_t count, size_t *max, size_t size)
{
    if (count < *max)
        return 0;
    size_t grown = *max ? *max * 2 : 64;
    void *bigger = realloc (*array, grown * size);
    if (!bigger)
        return -1;
    *array = bigger;
    *max = grown;
    return 0;
}

static int
s_add_id (ovh_done_t *self, const char *id)
{
    if (strlen (id) != OVH_DONE_ID_SIZE
    ||  s_room ((void **) &self->ids, self->id_count, &self->id_max, OVH_DONE_ID_SIZE))
        return -1;
    memcpy (self->ids + OVH_DONE_ID_SIZE * self->id_count++, id, OVH_DONE_ID_SIZE);
    return 0;
}

static stream_t *
s_stream (ovh_done_t *self, const ovh_item_t *item)
{
    char *key = zsys_sprintf ("%s\001%s%" PRIu64 "\001%.*s", item->type->name,
                              item->has_epoch ? "" : "-", item->epoch,
                              (int) item->src_size, item->src);
    if (!key)
        return NULL;
    stream_t *stream = (stream_t *) zhashx_lookup (self->streams, key);
    if (!stream && (stream = (stream_t *) zmalloc (sizeof (stream_t) + item->src_size))) {
        stream->type = item->type;
        stream->has_epoch = item->has_epoch;
        stream->epoch = item->epoch;
        stream->src_size = item->src_size;
        memcpy (stream->src, item->src, item->src_size);
        if (zhashx_insert (self->streams, key, stream)) {
            free (stream);
            stream = NULL;
        }
    }
    zstr_free (&key);
    return stream;
}

int
ovh_done_add (ovh_done_t *self, const ovh_item_t *item)
{
    assert (self && item);
    if (self->events >= self->max_events)
        return -1;
    //  A src with a NUL in it would not make a key: by id, as without one
    bool ranged = item->seq && item->src && item->src_size <= UINT16_MAX
               && !memchr (item->src, 0, item->src_size);
    int rc = -1;
    if (ranged) {
        stream_t *stream = s_stream (self, item);
        if (stream && s_room ((void **) &stream->seqs, stream->count, &stream->max,
                              sizeof (uint64_t)) == 0) {
            stream->seqs [stream->count++] = item->seq;
            rc = 0;
        }
    }
    else
        rc = s_add_id (self, item->id);
    if (rc == 0)
        self->events++;
    return rc;
}

size_t
ovh_done_events (ovh_done_t *self)
{
    return self->events;
}

static int
s_compare (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

static void
s_put (byte **at, uint64_t value, int bytes)
{
    for (int index = bytes - 1; index >= 0; index--)
        *(*at)++ = (byte) (value >> (index * 8));
}

static uint64_t
s_get (const byte *at, int bytes)
{
    uint64_t value = 0;
    for (int index = 0; index < bytes; index++)
        value = (value << 8) | at [index];
    return value;
}

//  One stream, its seqs sorted and merged into ranges, at 'at' (room made
//  by the caller: the worst case, one range per seq)
static byte *
s_encode (stream_t *stream, byte *at)
{
    qsort (stream->seqs, stream->count, sizeof (uint64_t), s_compare);
    size_t topic_size = strlen (stream->type->name);
    s_put (&at, stream->src_size, 2);
    memcpy (at, stream->src, stream->src_size);
    at += stream->src_size;
    s_put (&at, topic_size, 1);
    memcpy (at, stream->type->name, topic_size);
    at += topic_size;
    s_put (&at, stream->has_epoch, 1);
    s_put (&at, stream->epoch, 8);
    byte *count_at = at;
    at += 4;
    uint32_t ranges = 0;
    for (size_t index = 0; index < stream->count; ) {
        uint64_t first = stream->seqs [index], last = first;
        while (++index < stream->count && stream->seqs [index] <= last + 1
           &&  stream->seqs [index] - first < OVH_DONE_RANGE_MAX)
            last = stream->seqs [index];
        s_put (&at, first, 8);
        s_put (&at, last, 8);
        ranges++;
    }
    s_put (&count_at, ranges, 4);
    return at;
}

int
ovh_done_take (ovh_done_t *self, zmsg_t *msg)
{
    assert (self && msg);
    size_t room = 0;
    for (stream_t *stream = (stream_t *) zhashx_first (self->streams); stream;
         stream = (stream_t *) zhashx_next (self->streams))
        room += 2 + stream->src_size + 1 + 64 + 1 + 8 + 4 + 16 * stream->count;
    byte *ranges = (byte *) malloc (room ? room : 1);
    byte *at = ranges;
    if (ranges)
        for (stream_t *stream = (stream_t *) zhashx_first (self->streams); stream;
             stream = (stream_t *) zhashx_next (self->streams))
            at = s_encode (stream, at);
    int rc = ranges && zmsg_addmem (msg, self->ids, self->id_count * OVH_DONE_ID_SIZE) == 0
                    && zmsg_addmem (msg, ranges, (size_t) (at - ranges)) == 0 ? 0 : -1;
    free (ranges);
    zhashx_purge (self->streams);
    self->id_count = 0;
    self->events = 0;
    return rc;
}

//  One pass over a ranges frame: checked only ('fn' NULL), or expanded
static long
s_walk (const byte *data, size_t size, ovh_done_id_fn *fn, void *arg)
{
    const byte *at = data, *end = data + size;
    long ids = 0;
    char id [48];
    while (at < end) {
        if (end - at < 2)
            return -1;
        size_t src_size = (size_t) s_get (at, 2);
        if ((size_t) (end - at) < 2 + src_size + 1)
            return -1;
        const char *src = (const char *) at + 2;
        at += 2 + src_size;
        size_t topic_size = *at++;
        if ((size_t) (end - at) < topic_size + 1 + 8 + 4)
            return -1;
        const ovh_event_type_t *type = ovh_catalog_lookup ((const char *) at, topic_size);
        if (!type)
            return -1;
        at += topic_size;
        bool has_epoch = *at++ != 0;
        uint64_t epoch = s_get (at, 8);
        uint64_t ranges = s_get (at + 8, 4);
        at += 12;
        if ((size_t) (end - at) / 16 < ranges)
            return -1;
        for (uint64_t range = 0; range < ranges; range++, at += 16) {
            uint64_t first = s_get (at, 8), last = s_get (at + 8, 8);
            if (first == 0 || last < first || last - first >= OVH_DONE_RANGE_MAX
            ||  (uint64_t) ids + (last - first) >= OVH_DONE_FRAME_MAX)
                return -1;
            ids += (long) (last - first + 1);
            for (uint64_t seq = first; fn && seq <= last; seq++) {
                ovh_item_envelope_id (type->name, src, src_size, seq,
                                      has_epoch ? &epoch : NULL, id);
                fn (arg, id);
            }
        }
    }
    return ids;
}

long
ovh_done_expand (const byte *data, size_t size, ovh_done_id_fn *fn, void *arg)
{
    assert (fn);
    if (s_walk (data, size, NULL, arg) < 0)
        return -1;
    return s_walk (data, size, fn, arg);
}
