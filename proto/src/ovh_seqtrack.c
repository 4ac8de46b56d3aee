/*  ovh_seqtrack.c - counts what the bus lost, per publishing instance.    */

#include <inttypes.h>
#include <czmq.h>
#include "ovhook.h"

#define WINDOW_WORDS    (OVH_SEQ_WINDOW / 64)

//  What we know of one src and topic. The epoch is part of the value, not
//  of the key: a publisher that restarts replaces its entry, so restarts
//  do not make the table grow.
typedef struct {
    uint64_t seq;               //  last seq seen (redundant: the highest)
    uint64_t epoch;
    bool has_epoch;
    //  Redundant paths only. A hole is a seq in the window, at or above
    //  'floor', not seen yet: another path may still bring it.
    bool has_prev;              //  the run before this one had an epoch:
    uint64_t prev_epoch;        //  its copies still coming are too old
    uint64_t floor;             //  the first seq seen, or 1 after a restart
    uint64_t settle_top;        //  holes at or below count at the next settle
    size_t holes;
    uint64_t bits [];           //  seq s seen: bit s % OVH_SEQ_WINDOW, for
                                //  s in (seq - OVH_SEQ_WINDOW, seq]
} s_source_t;

struct _ovh_seqtrack_t {
    zhashx_t *sources;          //  "topic src" -> s_source_t
    size_t max_sources;
    bool redundant;             //  two paths or more: the window
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

void
ovh_seqtrack_set_paths (ovh_seqtrack_t *self, size_t paths)
{
    assert (self);
    //  The entries' size depends on it
    assert (zhashx_size (self->sources) == 0);
    self->redundant = paths > 1;
}

//  The window: one bit per seq, a ring indexed by seq % OVH_SEQ_WINDOW
static bool
s_seen (const s_source_t *source, uint64_t seq)
{
    uint64_t slot = seq % OVH_SEQ_WINDOW;
    return (source->bits [slot / 64] >> (slot % 64)) & 1;
}

static void
s_mark (s_source_t *source, uint64_t seq, bool seen)
{
    uint64_t slot = seq % OVH_SEQ_WINDOW;
    uint64_t bit = UINT64_C (1) << (slot % 64);
    if (seen)
        source->bits [slot / 64] |= bit;
    else
        source->bits [slot / 64] &= ~bit;
}

//  The lowest seq the window holds
static uint64_t
s_window_low (const s_source_t *source)
{
    return source->seq >= OVH_SEQ_WINDOW? source->seq - OVH_SEQ_WINDOW + 1: 0;
}

//  Start the window afresh at 'top', every seq from 'floor' below it a
//  hole; those already out of the window are lost at once
static void
s_window_reset (ovh_seqtrack_t *self, s_source_t *source, uint64_t top, uint64_t floor)
{
    memset (source->bits, 0, WINDOW_WORDS * sizeof (uint64_t));
    source->seq = top;
    source->floor = floor;
    source->settle_top = 0;
    uint64_t missing = top - floor;
    source->holes = missing < OVH_SEQ_WINDOW - 1? missing: OVH_SEQ_WINDOW - 1;
    s_lost (self, missing - source->holes);
    s_mark (source, top, true);
}

//  Move the window up to 'seq' (above the highest): the seqs that leave it
//  unseen are lost, those skipped are new holes
static void
s_window_advance (ovh_seqtrack_t *self, s_source_t *source, uint64_t seq)
{
    uint64_t top = source->seq;
    if (seq >= OVH_SEQ_WINDOW) {
        uint64_t leave_last = seq - OVH_SEQ_WINDOW;     //  leaves the window
        if (leave_last > top)
            leave_last = top;
        for (uint64_t old = s_window_low (source); old <= leave_last; old++)
            if (old >= source->floor && !s_seen (source, old)) {
                s_lost (self, 1);
                source->holes--;
            }
    }
    uint64_t skipped = seq - top - 1;
    uint64_t entering = skipped < OVH_SEQ_WINDOW - 1? skipped: OVH_SEQ_WINDOW - 1;
    s_lost (self, skipped - entering);      //  never in the window
    if (seq - top >= OVH_SEQ_WINDOW)
        memset (source->bits, 0, WINDOW_WORDS * sizeof (uint64_t));
    else
        for (uint64_t next = top + 1; next < seq; next++)
            s_mark (source, next, false);
    s_mark (source, seq, true);
    source->holes += entering;
    source->seq = seq;
}

//  The verdict with redundant paths, updating the entry
static ovh_seq_t
s_redundant_verdict (ovh_seqtrack_t *self, s_source_t *source, uint64_t seq,
                     const uint64_t *epoch)
{
    bool same_run = source->has_epoch == (epoch != NULL)
                && (!epoch || source->epoch == *epoch);
    if (same_run && seq == 1 && !epoch && seq <= source->seq)
        same_run = false;       //  without an epoch, the only sign of a restart
    if (!same_run) {
        if (epoch && source->has_prev && *epoch == source->prev_epoch)
            return OVH_SEQ_TOO_OLD;         //  a slow path's copy of the last run
        //  The old run's holes can no longer be filled: its copies are too old
        s_lost (self, source->holes);
        source->has_prev = source->has_epoch;
        source->prev_epoch = source->epoch;
        source->has_epoch = epoch != NULL;
        source->epoch = epoch? *epoch: 0;
        //  What the new run sent before may still come on another path
        s_window_reset (self, source, seq, seq - 1 <= OVH_SEQ_MAX_GAP? 1: seq);
        return OVH_SEQ_RESTART;
    }
    if (seq > source->seq) {
        if (seq - source->seq - 1 > OVH_SEQ_MAX_GAP) {
            s_lost (self, source->holes);
            s_window_reset (self, source, seq, seq);
            return OVH_SEQ_JUMP;
        }
        bool next = seq == source->seq + 1;
        s_window_advance (self, source, seq);
        return next? OVH_SEQ_NEXT: OVH_SEQ_GAP;
    }
    if (seq < s_window_low (source))
        return OVH_SEQ_TOO_OLD;
    if (s_seen (source, seq))
        return OVH_SEQ_DUPLICATE;
    s_mark (source, seq, true);
    if (seq >= source->floor)
        source->holes--;
    return OVH_SEQ_LATE;
}

uint64_t
ovh_seqtrack_settle (ovh_seqtrack_t *self)
{
    assert (self);
    if (!self->redundant)
        return 0;
    uint64_t before = self->lost;
    for (s_source_t *source = (s_source_t *) zhashx_first (self->sources); source;
         source = (s_source_t *) zhashx_next (self->sources)) {
        uint64_t low = s_window_low (source);
        if (low < source->floor)
            low = source->floor;
        //  Marked as seen once counted: a copy that still comes is dropped
        //  as a duplicate, so nothing counts as both. (The loop stops at
        //  settle_top itself: it may be UINT64_MAX.)
        for (uint64_t seq = low; source->holes && seq <= source->settle_top; seq++) {
            if (!s_seen (source, seq)) {
                s_mark (source, seq, true);
                s_lost (self, 1);
                source->holes--;
            }
            if (seq == source->settle_top)
                break;
        }
        source->settle_top = source->seq;
    }
    return self->lost - before;
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
        size_t bits = self->redundant? WINDOW_WORDS * sizeof (uint64_t): 0;
        source = (s_source_t *) zmalloc (sizeof (s_source_t) + bits);
        if (!source)
            return OVH_SEQ_FIRST;   //  not tracked: the next one is a first again
        zhashx_insert (self->sources, self->key, source);
        source->seq = seq;
        source->has_epoch = epoch != NULL;
        source->epoch = epoch? *epoch: 0;
        //  Joined late: what came before is not ours to count
        if (self->redundant)
            s_window_reset (self, source, seq, seq);
        return OVH_SEQ_FIRST;
    }
    if (self->redundant)
        return s_redundant_verdict (self, source, seq, epoch);
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
    //  Most messages have nothing to say: no work for them (this runs for
    //  every message the intake reads)
    if (verdict != OVH_SEQ_GAP && verdict != OVH_SEQ_JUMP && verdict != OVH_SEQ_RESTART
    &&  verdict != OVH_SEQ_BACKWARDS && verdict != OVH_SEQ_TOO_OLD)
        return NULL;
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
    if (verdict == OVH_SEQ_TOO_OLD)
        snprintf (buffer, size, "%s seq %" PRIu64 " of src %s came after seq %" PRIu64
                  ", older than the %d-message window or of an earlier run: dropped "
                  "(a path lagging that far behind?)", topic, seq, src, last, OVH_SEQ_WINDOW);
    else
        return NULL;
    return buffer;
}
