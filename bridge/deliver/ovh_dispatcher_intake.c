/*  ovh_dispatcher_intake.c - the dispatcher seen from the intake's thread:
    handing items over (within the queue's capacity, or the spool's state),
    waiting for room, the drain at shutdown and the counts (see
    ovh_dispatcher.h). Only atomics and the feed's producing end are
    touched from here, always from one thread (the feed has one producer).                                                      */

#include <czmq.h>
#include "ovh_log.h"
#include "ovh_dispatcher_private.h"

//  Without a spool: is there room for 'size' more bytes? An item larger
//  than the byte limit still goes in alone, into an empty queue.
static bool
s_has_room (ovh_dispatcher_t *self, size_t size)
{
    if (self->spool)
        return atomic_load (&self->spool_state) == OVH_SPOOL_OK
            && atomic_load (&self->feed_items) < FEED_MAX;
    uint64_t items = atomic_load (&self->held_items);
    uint64_t bytes = atomic_load (&self->held_bytes);
    return items < self->config->queue_events
        && (items == 0 || bytes + size <= self->config->queue_bytes);
}

//  Hand over, with or without the room check
static int
s_post (ovh_dispatcher_t *self, ovh_item_t *item, bool check_room)
{
    size_t size = ovh_item_size (item);
    if (check_room && !s_has_room (self, size))
        return -1;
    if (!self->spool) {
        atomic_fetch_add (&self->held_items, 1);
        atomic_fetch_add (&self->held_bytes, size);
    }
    atomic_store_explicit (&item->handed_over, 1, memory_order_release);
    atomic_fetch_add (&self->feed_items, 1);
    //  Counted before the actor can see the item, so that no reader ever
    //  sees it finished before it was posted
    atomic_fetch_add (&self->posted, 1);
    if (ovh_feed_push (self->feed, item) == 0)
        return 0;
    atomic_fetch_sub (&self->posted, 1);
    atomic_fetch_sub (&self->feed_items, 1);
    if (!self->spool) {
        atomic_fetch_sub (&self->held_bytes, size);
        atomic_fetch_sub (&self->held_items, 1);
    }
    return -1;
}

ovh_spool_state_t
ovh_dispatcher_spool_state (ovh_dispatcher_t *self)
{
    return self->spool ? (ovh_spool_state_t) atomic_load (&self->spool_state) : OVH_SPOOL_OK;
}

int
ovh_dispatcher_post (ovh_dispatcher_t *self, ovh_item_t *item)
{
    assert (self);
    assert (item);
    return s_post (self, item, true);
}

int
ovh_dispatcher_post_last (ovh_dispatcher_t *self, ovh_item_t *item)
{
    assert (self);
    assert (item);
    return s_post (self, item, false);
}

bool
ovh_dispatcher_wait_room (ovh_dispatcher_t *self, ovh_item_t *item, int msecs)
{
    //  Once full, wait until the queue is down to three quarters, so that a
    //  busy queue pauses and resumes in episodes rather than at every
    //  event. Room comes back as the actor finishes items; nothing signals
    //  it, so look every two milliseconds: the bus is paused anyway.
    uint64_t low_items = self->config->queue_events - self->config->queue_events / 4;
    uint64_t low_bytes = self->config->queue_bytes - self->config->queue_bytes / 4;
    int64_t deadline = zclock_mono () + msecs;
    while (true) {
        bool low = self->spool || (atomic_load (&self->held_items) <= low_items
                                   && atomic_load (&self->held_bytes) <= low_bytes);
        if (low && s_has_room (self, ovh_item_size (item)) && ovh_feed_has_room (self->feed))
            return true;
        if (zclock_mono () >= deadline || zsys_interrupted)
            return false;
        zclock_sleep (2);
    }
}

int
ovh_dispatcher_tell (ovh_dispatcher_t *self, const char *frame, bool more)
{
    int rc;
    do
        rc = more ? zstr_sendm (self->actor, frame) : zstr_send (self->actor, frame);
    while (rc == -1 && errno == EINTR);
    return rc;
}

void
ovh_dispatcher_drain (ovh_dispatcher_t *self, int msecs, ovh_dispatch_stats_t *stats)
{
    assert (self);
    char text [16];
    snprintf (text, sizeof text, "%d", msecs);
    ovh_dispatcher_tell (self, "DRAIN", true);
    ovh_dispatcher_tell (self, text, false);
    //  Wait for the end whatever signals come: a signal interrupts the
    //  wait (and sets zsys_interrupted, which the caller cleared before
    //  the drain); it shortens the drain, it never skips it. The reply
    //  only says the actor is done; the counts are read from the atomics
    //  it updated before it set 'drained'. A reply left unread is
    //  harmless: the join's wait skips what is not its signal.
    bool hurried = false;
    while (!atomic_load_explicit (&self->drained, memory_order_acquire)
       &&  !atomic_load_explicit (&self->finished, memory_order_acquire)) {
        zmq_pollitem_t reply_ready = { zsock_resolve (self->actor), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&reply_ready, 1, 100) == 1) {
            zframe_t *reply = zframe_recv (self->actor);
            if (reply) {
                zframe_destroy (&reply);
                break;
            }
        }
        if (zsys_interrupted && !hurried) {
            ovh_log_info ("signal during the drain: stopping now, what is not delivered "
                          "is counted undelivered%s",
                          self->spool ? " (it stays in the spool)" : "");
            hurried = ovh_dispatcher_tell (self, "HURRY", false) == 0;
        }
    }
    ovh_dispatcher_stats (self, stats);
}

void
ovh_dispatcher_stats (ovh_dispatcher_t *self, ovh_dispatch_stats_t *stats)
{
    //  Finished counts first, then what came in: an event finished
    //  between the reads can only make 'queued' larger, never wrap
    uint64_t sums [OVH_OUTCOMES] = { 0 };
    for (size_t index = 0; index < OVH_CATALOG_SIZE * OVH_OUTCOMES; index++)
        sums [index % OVH_OUTCOMES] += atomic_load (&self->counters.outcomes [index]);
    stats->delivered = sums [OVH_OUTCOME_DELIVERED];
    stats->dead = sums [OVH_OUTCOME_DEAD];
    stats->failed = sums [OVH_OUTCOME_FAILED];
    stats->failed_attempts = atomic_load (&self->failed_attempts);
    stats->unwritten = atomic_load (&self->unwritten);
    stats->released = atomic_load (&self->released);
    stats->resumed = atomic_load (&self->resumed);
    stats->posted = atomic_load (&self->posted);
    uint64_t in = stats->resumed + stats->posted;
    uint64_t out = stats->delivered + stats->dead + stats->failed + stats->released;
    stats->queued = in > out ? in - out : 0;
}

const ovh_dispatch_counters_t *
ovh_dispatcher_counters (ovh_dispatcher_t *self)
{
    assert (self);
    return &self->counters;
}

uint64_t
ovh_dispatcher_busy (ovh_dispatcher_t *self)
{
    assert (self);
    return atomic_load_explicit (&self->busy, memory_order_relaxed);
}

uint64_t
ovh_dispatcher_limit (ovh_dispatcher_t *self)
{
    assert (self);
    return atomic_load_explicit (&self->limit, memory_order_relaxed);
}

void
ovh_dispatcher_memory (ovh_dispatcher_t *self, uint64_t *items, uint64_t *bytes)
{
    assert (self);
    atomic_uint_least64_t *counts [2] = { &self->held_items, &self->held_bytes };
    if (self->spool) {
        counts [0] = &self->lane_items;
        counts [1] = &self->lane_bytes;
    }
    *items = atomic_load_explicit (counts [0], memory_order_relaxed);
    *bytes = atomic_load_explicit (counts [1], memory_order_relaxed);
}

bool
ovh_dispatcher_circuit_open (ovh_dispatcher_t *self)
{
    assert (self);
    return atomic_load_explicit (&self->circuit_open, memory_order_relaxed);
}

void
ovh_dispatcher_gate (ovh_dispatcher_t *self, bool open)
{
    assert (self);
    atomic_store_explicit (&self->gate_closed, !open, memory_order_release);
    //  The actor may sleep without a timeout: any command wakes it to
    //  dispatch (it ignores those it does not know)
    ovh_dispatcher_tell (self, "GATE", false);
}

//  One frame to the actor, never lost to a signal (ovh_dispatcher_tell)
static int
s_send_frame (ovh_dispatcher_t *self, const void *data, size_t size, bool more)
{
    void *socket = zsock_resolve (self->actor);
    int rc;
    do
        rc = zmq_send (socket, data, size, more ? ZMQ_SNDMORE : 0);
    while (rc == -1 && errno == EINTR);
    return rc < 0 ? -1 : 0;
}

int
ovh_dispatcher_release (ovh_dispatcher_t *self, const void *ids, size_t size, size_t id_size)
{
    assert (self);
    assert (id_size > 0 && id_size < sizeof (((ovh_item_t *) 0)->id));
    if (ovh_dispatcher_tell (self, "RELEASE", true)
    ||  s_send_frame (self, &id_size, sizeof id_size, true)
    ||  s_send_frame (self, ids, size, false))
        return -1;
    return 0;
}

void
ovh_dispatcher_on_finished (ovh_dispatcher_t *self, ovh_dispatcher_finished_fn *fn, void *arg)
{
    assert (self);
    atomic_store_explicit (&self->finished_arg, arg, memory_order_release);
    atomic_store_explicit (&self->finished_fn, fn, memory_order_release);
}

const char *
ovh_dispatcher_endpoint (ovh_dispatcher_t *self)
{
    return self->sender_class->endpoint (self->sender);
}
