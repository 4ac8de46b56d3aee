/*  ovh_seqtrack.c - counts what the bus lost, per publishing instance.    */

#include <czmq.h>
#include "ovh_seqtrack.h"

struct _ovh_seqtrack_t {
    zhashx_t *sources;          //  src -> uint64_t last seq (stored in the pointer)
    size_t max_sources;
    uint64_t lost;
    char key [256];
};

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

ovh_seq_t
ovh_seqtrack_record (ovh_seqtrack_t *self, const char *topic,
                     const char *src, size_t src_size, uint64_t seq, uint64_t *last)
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

    uint64_t previous = (uint64_t) (uintptr_t) zhashx_lookup (self->sources, self->key);
    *last = previous;
    ovh_seq_t verdict;
    if (previous == 0) {
        if (zhashx_size (self->sources) >= self->max_sources)
            zhashx_purge (self->sources);
        verdict = OVH_SEQ_FIRST;
    }
    else
    if (seq == previous + 1)
        verdict = OVH_SEQ_NEXT;
    else
    if (seq == 1)
        verdict = OVH_SEQ_RESTART;
    else
    if (seq > previous) {
        verdict = OVH_SEQ_GAP;
        self->lost += seq - previous - 1;
    }
    else
        verdict = OVH_SEQ_BACKWARDS;
    //  seq is at least 1 (the protocol says so), so a stored value is never
    //  taken for "absent"; the pointer holds the number itself
    if (verdict != OVH_SEQ_BACKWARDS)
        zhashx_update (self->sources, self->key, (void *) (uintptr_t) seq);
    return verdict;
}

uint64_t
ovh_seqtrack_lost (ovh_seqtrack_t *self)
{
    return self->lost;
}
