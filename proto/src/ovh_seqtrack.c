/*  ovh_seqtrack.c - counts what the bus lost, per publishing instance.    */

#include <inttypes.h>
#include <czmq.h>
#include "ovhook.h"

//  What we know of one src and topic. The epoch is part of the value, not
//  of the key: a publisher that restarts replaces its entry, so restarts
//  do not make the table grow.
typedef struct {
    uint64_t seq;               //  last seq seen
    uint64_t epoch;
    bool has_epoch;
} s_source_t;

struct _ovh_seqtrack_t {
    zhashx_t *sources;          //  "topic src" -> s_source_t
    size_t max_sources;
    uint64_t lost;
    char key [256];
};

static void
s_source_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

ovh_seqtrack_t *
ovh_seqtrack_new (size_t max_sources)
{
    ovh_seqtrack_t *self = (ovh_seqtrack_t *) zmalloc (sizeof (ovh_seqtrack_t));
    if (!self)
        return NULL;
    self->sources = zhashx_new ();
    if (!self->sources) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->sources, s_source_destroy);
    self->max_sources = max_sources;
    return self;
}

void
ovh_seqtrack_destroy (ovh_seqtrack_t **self_p)
{
    assert (self_p);
    ovh_seqtrack_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->sources);
    free (self);
    *self_p = NULL;
}

//  Count 'count' more lost messages; the counter saturates, never wraps
static void
s_lost (ovh_seqtrack_t *self, uint64_t count)
{
    self->lost = count > UINT64_MAX - self->lost ? UINT64_MAX : self->lost + count;
}

//  The verdict for 'seq' after what 'source' holds
static ovh_seq_t
s_verdict (ovh_seqtrack_t *self, const s_source_t *source, uint64_t seq,
           const uint64_t *epoch)
{
    bool same_run = source->has_epoch == (epoch != NULL)
                && (!epoch || source->epoch == *epoch);
    if (!same_run) {
        //  Another run of the publisher: its seq starts over at 1, so what
        //  came before seq in this run was lost
        if (seq - 1 <= OVH_SEQ_MAX_GAP)
            s_lost (self, seq - 1);
        return OVH_SEQ_RESTART;
    }
    if (seq == source->seq + 1)
        return OVH_SEQ_NEXT;
    //  Without an epoch, seq 1 again is the only sign of a restart. With
    //  one, the same epoch means the same run, so seq 1 went back.
    if (seq == 1 && !epoch)
        return OVH_SEQ_RESTART;
    if (seq > source->seq) {
        if (seq - source->seq - 1 > OVH_SEQ_MAX_GAP)
            return OVH_SEQ_JUMP;
        s_lost (self, seq - source->seq - 1);
        return OVH_SEQ_GAP;
    }
    return OVH_SEQ_BACKWARDS;
}

ovh_seq_t
ovh_seqtrack_record (ovh_seqtrack_t *self, const char *topic,
                     const char *src, size_t src_size, uint64_t seq,
                     const uint64_t *epoch, uint64_t *last)
{
    assert (self);
    assert (topic);
    //  The key is "topic src"; sources longer than the buffer are told
    //  apart by their first bytes
    size_t topic_size = strlen (topic);
    assert (topic_size < 64);
    memcpy (self->key, topic, topic_size);
    self->key [topic_size++] = ' ';
    if (src_size >= sizeof self->key - topic_size)
        src_size = sizeof self->key - topic_size - 1;
    memcpy (self->key + topic_size, src, src_size);
    self->key [topic_size + src_size] = 0;

    s_source_t *source = (s_source_t *) zhashx_lookup (self->sources, self->key);
    *last = source? source->seq: 0;
    if (!source) {
        if (zhashx_size (self->sources) >= self->max_sources)
            zhashx_purge (self->sources);
        source = (s_source_t *) zmalloc (sizeof (s_source_t));
        if (!source)
            return OVH_SEQ_FIRST;   //  not tracked: the next one is a first again
        zhashx_insert (self->sources, self->key, source);
        source->seq = seq;
        source->has_epoch = epoch != NULL;
        source->epoch = epoch? *epoch: 0;
        return OVH_SEQ_FIRST;
    }
    ovh_seq_t verdict = s_verdict (self, source, seq, epoch);
    if (verdict != OVH_SEQ_BACKWARDS) {
        source->seq = seq;
        source->has_epoch = epoch != NULL;
        source->epoch = epoch? *epoch: 0;
    }
    return verdict;
}

uint64_t
ovh_seqtrack_lost (ovh_seqtrack_t *self)
{
    return self->lost;
}

const char *
ovh_seqtrack_describe (ovh_seq_t verdict, const ovh_event_t *event, uint64_t last,
                       char *buffer, size_t size)
{
    assert (event && event->type);
    assert (buffer && size > 0);
    *buffer = 0;
    //  The src is the publisher's text: never written as it came
    char src [204];
    ovh_shown (src, sizeof src, event->src, event->src_size);
    const char *topic = event->type->name;
    uint64_t seq = event->seq;
    if (verdict == OVH_SEQ_GAP)
        snprintf (buffer, size, "lost %" PRIu64 " message(s) on the bus: %s from src %s "
                  "(seq %" PRIu64 " → %" PRIu64 ")", seq - last - 1, topic, src, last, seq);
    else
    if (verdict == OVH_SEQ_JUMP)
        snprintf (buffer, size, "%s seq of src %s jumped from %" PRIu64 " to %" PRIu64
                  " (%" PRIu64 " messages lost, or a publisher bug)",
                  topic, src, last, seq, seq - last - 1);
    else
    if (verdict == OVH_SEQ_RESTART)
        snprintf (buffer, size, "publisher %s restarted (%s seq %" PRIu64 " after %" PRIu64
                  "%s)", src, topic, seq, last, event->has_epoch? ", new epoch": "");
    else
    if (verdict == OVH_SEQ_BACKWARDS)
        snprintf (buffer, size, "src %s went back from %s seq %" PRIu64 " to %" PRIu64
                  " (two publishers with one src?)", src, topic, last, seq);
    else
        return NULL;
    return buffer;
}
