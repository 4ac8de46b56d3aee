/*  ovh_dispatcher.c - the delivery actor.

    The queue's capacity counts every item handed over and not yet finished,
    wherever it is (on the feed or in the lanes): the intake adds to the
    counts when it posts, the actor subtracts when it frees an item. So the
    limits hold exactly, and the feed's own high-water mark only smooths the
    hand-over.                                                              */

#include <stdatomic.h>
#include <czmq.h>
#include <curl/curl.h>
#include "ovh_dispatcher.h"
#include "ovh_lanes.h"
#include "ovh_sender.h"

//  Items taken from the feed in one go before the actor looks at curl again
#define FEED_BATCH      256

struct _ovh_dispatcher_t {
    ovh_config_t *config;
    zactor_t *actor;
    zsock_t *feed_in;               //  intake's end (the caller's thread)
    zsock_t *feed_out;              //  actor's end
    ovh_sender_t *sender;           //  used by the actor only
    ovh_lanes_t *lanes;             //  used by the actor only
    bool draining;
    int64_t drain_deadline;
    //  Written by the actor, read by anyone
    atomic_uint_least64_t delivered;
    atomic_uint_least64_t failed;
    atomic_uint_least64_t undelivered;
    //  Items handed over and not finished, and their bytes
    atomic_uint_least64_t held_items;
    atomic_uint_least64_t held_bytes;
};

//  A key as logs may show it: at most 64 bytes, no control characters
static const char *
s_shown_key (const ovh_item_t *item, char *buffer, size_t size)
{
    if (!item->has_key)
        return "(none)";
    size_t length = item->key_size < size - 4 ? item->key_size : size - 4;
    for (size_t index = 0; index < length; index++) {
        unsigned char c = (unsigned char) item->key [index];
        buffer [index] = c < 0x20 || c == 0x7f ? '?' : (char) c;
    }
    if (length < item->key_size)
        memcpy (buffer + length, "...", 3), length += 3;
    buffer [length] = 0;
    return buffer;
}

//  An item is finished: free it and give its room back to the intake
static void
s_release (ovh_dispatcher_t *self, ovh_item_t **item_p)
{
    atomic_fetch_sub (&self->held_bytes, ovh_item_size (*item_p));
    atomic_fetch_sub (&self->held_items, 1);
    ovh_item_destroy (item_p);
}

static void
s_done (void *arg, ovh_item_t *item, const ovh_result_t *result)
{
    ovh_dispatcher_t *self = (ovh_dispatcher_t *) arg;
    char key [80];
    if (result->ok) {
        atomic_fetch_add (&self->delivered, 1);
        if (self->config->verbose)
            zsys_info ("delivered %s (key %s): %ld in %.1f ms", item->type->name,
                       s_shown_key (item, key, sizeof key), result->status,
                       result->usecs / 1000.0);
    }
    else
    if (self->draining && result->curl_code == CURLE_ABORTED_BY_CALLBACK)
        atomic_fetch_add (&self->undelivered, 1);
    else {
        atomic_fetch_add (&self->failed, 1);
        const char *endpoint = ovh_sender_endpoint (self->sender);
        if (result->curl_code == 0)
            zsys_error ("Unexpected HTTP status from callback endpoint %s: expected 200, "
                        "received %ld (event %s, key %s)", endpoint, result->status,
                        item->type->name, s_shown_key (item, key, sizeof key));
        else
            zsys_error ("Error sending to callback endpoint %s: %s (event %s, key %s)",
                        endpoint, result->error, item->type->name,
                        s_shown_key (item, key, sizeof key));
    }
    ovh_item_t *finished = ovh_lanes_done (self->lanes, item);
    s_release (self, &finished);
}

//  Move items from the feed into the lanes. Returns the number taken.
static int
s_take_feed (ovh_dispatcher_t *self)
{
    void *socket = zsock_resolve (self->feed_out);
    int taken = 0;
    while (taken < FEED_BATCH) {
        ovh_item_t *item;
        if (zmq_recv (socket, &item, sizeof item, ZMQ_DONTWAIT) != sizeof item)
            break;
        (void) atomic_load_explicit (&item->handed_over, memory_order_acquire);
        if (ovh_lanes_push (self->lanes, item)) {
            zsys_error ("out of memory queueing %s: event dropped", item->type->name);
            atomic_fetch_add (&self->failed, 1);
            s_release (self, &item);
        }
        taken++;
    }
    return taken;
}

//  Start as many transfers as there are free workers and ready keys
static void
s_dispatch (ovh_dispatcher_t *self)
{
    while (ovh_sender_free (self->sender)) {
        ovh_item_t *item = ovh_lanes_next (self->lanes);
        if (!item)
            break;
        if (ovh_sender_start (self->sender, item)) {
            ovh_result_t result = { .curl_code = CURLE_FAILED_INIT,
                                    .error = "libcurl could not start the transfer" };
            s_done (self, item, &result);
        }
    }
}

//  Everything still held at the drain deadline is left undelivered
static void
s_abandon (ovh_dispatcher_t *self)
{
    ovh_sender_abort (self->sender);
    uint64_t left = ovh_lanes_items (self->lanes);
    atomic_fetch_sub (&self->held_bytes, ovh_lanes_bytes (self->lanes));
    atomic_fetch_sub (&self->held_items, left);
    ovh_lanes_destroy (&self->lanes);
    ovh_item_t *item;
    while (zmq_recv (zsock_resolve (self->feed_out), &item, sizeof item, ZMQ_DONTWAIT)
           == sizeof item) {
        (void) atomic_load_explicit (&item->handed_over, memory_order_acquire);
        s_release (self, &item);
        left++;
    }
    atomic_fetch_add (&self->undelivered, left);
    self->lanes = ovh_lanes_new ();
}

static bool
s_drained (ovh_dispatcher_t *self)
{
    if (ovh_lanes_items (self->lanes) || ovh_sender_busy (self->sender))
        return false;
    //  The intake stopped posting before it asked to drain: once the feed
    //  reads empty, nothing more is coming
    return s_take_feed (self) == 0;
}

static void
s_reply_stats (ovh_dispatcher_t *self, zsock_t *pipe)
{
    ovh_dispatch_stats_t stats;
    ovh_dispatcher_stats (self, &stats);
    zsock_send (pipe, "b", &stats, sizeof stats);
}

//  Returns false when the actor must stop
static bool
s_command (ovh_dispatcher_t *self, zsock_t *pipe)
{
    zmsg_t *msg = zmsg_recv (pipe);
    if (!msg)
        return false;
    char *command = zmsg_popstr (msg);
    bool running = command && !streq (command, "$TERM");
    if (command && streq (command, "DRAIN")) {
        char *msecs = zmsg_popstr (msg);
        self->draining = true;
        self->drain_deadline = zclock_mono () + (msecs ? atol (msecs) : 0);
        zstr_free (&msecs);
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
    return running;
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    ovh_dispatcher_t *self = (ovh_dispatcher_t *) arg;
    zsock_signal (pipe, 0);

    size_t max_items = 2 + (size_t) self->config->workers * 2 + 16;
    zmq_pollitem_t *items = (zmq_pollitem_t *) calloc (max_items, sizeof (zmq_pollitem_t));
    assert (items);
    bool running = true;
    while (running) {
        items [0] = (zmq_pollitem_t) { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 };
        items [1] = (zmq_pollitem_t) { zsock_resolve (self->feed_out), 0, ZMQ_POLLIN, 0 };
        int count = 2 + ovh_sender_pollitems (self->sender, items + 2, (int) max_items - 2);
        long timeout = ovh_sender_timeout (self->sender);
        if (self->draining) {
            long left = (long) (self->drain_deadline - zclock_mono ());
            if (left < 0)
                left = 0;
            if (timeout < 0 || left < timeout)
                timeout = left;
        }
        if (zmq_poll (items, count, timeout) == -1 && errno != EINTR)
            break;              //  context terminated
        if (items [0].revents & ZMQ_POLLIN)
            running = s_command (self, pipe);
        if (items [1].revents & ZMQ_POLLIN)
            s_take_feed (self);
        ovh_sender_act (self->sender, items + 2, count - 2);
        s_dispatch (self);

        if (running && self->draining
        &&  (s_drained (self) || zclock_mono () >= self->drain_deadline)) {
            s_dispatch (self);
            if (!s_drained (self))
                s_abandon (self);
            s_reply_stats (self, pipe);
            self->draining = false;
            //  Nothing more to do but wait for $TERM
            char *command = zstr_recv (pipe);
            zstr_free (&command);
            running = false;
        }
    }
    if (!self->draining && ovh_lanes_items (self->lanes))
        s_abandon (self);
    free (items);
}

ovh_dispatcher_t *
ovh_dispatcher_new (ovh_config_t *config)
{
    assert (config);
    ovh_dispatcher_t *self = (ovh_dispatcher_t *) zmalloc (sizeof (ovh_dispatcher_t));
    if (!self)
        return NULL;
    self->config = config;
    self->sender = ovh_sender_new (config, s_done, self);
    self->lanes = ovh_lanes_new ();
    //  A unique inproc name per dispatcher, so several can live in a process
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://ovh-feed-%p", (void *) self);
    self->feed_out = zsock_new (ZMQ_PAIR);
    self->feed_in = zsock_new (ZMQ_PAIR);
    if (!self->sender || !self->lanes || !self->feed_out || !self->feed_in) {
        ovh_dispatcher_destroy (&self);
        return NULL;
    }
    //  The queue's counts bound what is on the feed; its own high-water
    //  mark must not stop the intake first
    int hwm = config->queue_events > INT_MAX / 2 ? INT_MAX / 2 : (int) config->queue_events;
    zsock_set_rcvhwm (self->feed_out, hwm);
    zsock_set_sndhwm (self->feed_in, hwm);
    if (zsock_bind (self->feed_out, "%s", endpoint) != 0
    ||  zsock_connect (self->feed_in, "%s", endpoint) != 0) {
        zsys_error ("cannot set up the internal feed %s", endpoint);
        ovh_dispatcher_destroy (&self);
        return NULL;
    }
    self->actor = zactor_new (s_actor, self);
    if (!self->actor) {
        ovh_dispatcher_destroy (&self);
        return NULL;
    }
    return self;
}

void
ovh_dispatcher_destroy (ovh_dispatcher_t **self_p)
{
    assert (self_p);
    ovh_dispatcher_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor);      //  sends $TERM and waits
    //  Items still on the feed belong to nobody else now
    if (self->feed_out) {
        ovh_item_t *item;
        while (zmq_recv (zsock_resolve (self->feed_out), &item, sizeof item, ZMQ_DONTWAIT)
               == sizeof item)
            ovh_item_destroy (&item);
    }
    zsock_destroy (&self->feed_in);
    zsock_destroy (&self->feed_out);
    ovh_lanes_destroy (&self->lanes);
    ovh_sender_destroy (&self->sender);
    free (self);
    *self_p = NULL;
}

//  Is there room for 'size' more bytes? An item larger than the byte limit
//  still goes in alone, into an empty queue.
static bool
s_has_room (ovh_dispatcher_t *self, size_t size)
{
    uint64_t items = atomic_load (&self->held_items);
    uint64_t bytes = atomic_load (&self->held_bytes);
    return items < self->config->queue_events
        && (items == 0 || bytes + size <= self->config->queue_bytes);
}

int
ovh_dispatcher_post (ovh_dispatcher_t *self, ovh_item_t *item)
{
    assert (self);
    assert (item);
    size_t size = ovh_item_size (item);
    if (!s_has_room (self, size))
        return -1;
    atomic_fetch_add (&self->held_items, 1);
    atomic_fetch_add (&self->held_bytes, size);
    atomic_store_explicit (&item->handed_over, 1, memory_order_release);
    if (zmq_send (zsock_resolve (self->feed_in), &item, sizeof item, ZMQ_DONTWAIT)
        == sizeof item)
        return 0;
    atomic_fetch_sub (&self->held_bytes, size);
    atomic_fetch_sub (&self->held_items, 1);
    return -1;
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
        if (atomic_load (&self->held_items) <= low_items
        &&  atomic_load (&self->held_bytes) <= low_bytes
        &&  s_has_room (self, ovh_item_size (item))) {
            zmq_pollitem_t poller = { zsock_resolve (self->feed_in), 0, ZMQ_POLLOUT, 0 };
            if (zmq_poll (&poller, 1, 0) == 1)
                return true;
        }
        if (zclock_mono () >= deadline || zsys_interrupted)
            return false;
        zclock_sleep (2);
    }
}

void
ovh_dispatcher_drain (ovh_dispatcher_t *self, int msecs, ovh_dispatch_stats_t *stats)
{
    assert (self);
    char text [16];
    snprintf (text, sizeof text, "%d", msecs);
    zstr_sendx (self->actor, "DRAIN", text, NULL);
    zframe_t *reply = zframe_recv (self->actor);
    if (reply && zframe_size (reply) == sizeof *stats)
        memcpy (stats, zframe_data (reply), sizeof *stats);
    else
        ovh_dispatcher_stats (self, stats);
    zframe_destroy (&reply);
}

void
ovh_dispatcher_stats (ovh_dispatcher_t *self, ovh_dispatch_stats_t *stats)
{
    stats->delivered = atomic_load (&self->delivered);
    stats->failed = atomic_load (&self->failed);
    stats->queued = atomic_load (&self->held_items);
    stats->undelivered = atomic_load (&self->undelivered);
}

const char *
ovh_dispatcher_endpoint (ovh_dispatcher_t *self)
{
    return ovh_sender_endpoint (self->sender);
}
