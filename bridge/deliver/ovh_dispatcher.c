/*  ovh_dispatcher.c - the delivery actor.

    Without a spool, the queue's capacity counts every item handed over and
    not yet finished, wherever it is (on the feed or in the lanes): the
    intake adds to the counts when it posts, the actor subtracts when it
    frees an item. So the limits hold exactly.

    With a spool, every item is written to SQLite first and delivered only
    once its transaction has committed (group commit, every few ms). Memory
    then holds at most the queue's capacity of the OLDEST events; newer ones
    are only on disk ("spilled") and are loaded back in order as memory
    frees, so per-key order holds across the spill. The intake stops reading
    the bus only when the spool file is over its size limit.

    What follows an attempt (retry, dead letter) is in
    ovh_dispatcher_outcome.c; the intake's side (posting, waiting for room,
    the drain, the counts) in ovh_dispatcher_intake.c.

    The actor waits in one epoll set, changed incrementally: its pipe (the
    ZMQ_FD of a ZeroMQ socket: edge-triggered, so after each wake-up its
    commands are read while ZMQ_EVENTS says POLLIN), the feed's eventfd
    and curl's sockets, which the sender adds and removes as curl asks.
    One epoll_wait per loop, whatever the number of workers (the set and
    the wait: ovh_dispatcher_wait.c).                                       */

#include <czmq.h>
#include <curl/curl.h>
#include <sys/epoll.h>
#include "ovh_log.h"
#include "ovh_dispatcher_private.h"
#include "ovh_h1sender.h"
#include <http_parser.h>

//  Items taken from the feed in one go before the actor looks at curl again
#define FEED_BATCH      256

//  ---------------------------------------------------------------------
//  Taking events in and sending them out

//  Is there room in memory for one more item? (With a spool; without,
//  the intake's counts keep memory within the capacity.)
static bool
s_memory_room (ovh_dispatcher_t *self)
{
    return ovh_lanes_items (self->lanes) < self->config->queue_events
        && ovh_lanes_bytes (self->lanes) < self->config->queue_bytes;
}

//  An accepted (with a spool: committed) item joins its lane. With a
//  spool, every item offered is on disk and can wait there (false) while
//  memory is full; without, the intake's counts keep memory bounded.
static bool
s_admit (void *arg, ovh_item_t *item)
{
    ovh_dispatcher_t *self = (ovh_dispatcher_t *) arg;
    if (self->backlog && (self->abandoned || !s_memory_room (self)))
        return false;
    if (ovh_lanes_push (self->lanes, item) == 0) {
        //  One of a pair: an event the active peer finished already is let
        //  go, outside the backlog's commit that may be offering it
        if (self->hold && ovh_hold_add (self->hold, item))
            zlistx_add_end (self->let_go, item->id);
        return true;
    }
    if (self->backlog)
        return false;           //  stays on disk, loaded again later
    ovh_log_error ("out of memory queueing %s: event dropped", item->id);
    ovh_dispatcher_count (self, item, OVH_OUTCOME_FAILED);
    atomic_fetch_sub (&self->held_bytes, ovh_item_size (item));
    atomic_fetch_sub (&self->held_items, 1);
    ovh_item_destroy (&item);
    return true;                //  taken care of
}

//  Take items from the feed: through the spool, if any. Returns the
//  number taken.
int
ovh_dispatcher_take_feed (ovh_dispatcher_t *self)
{
    int taken = 0;
    while (taken < FEED_BATCH) {
        ovh_item_t *item = (ovh_item_t *) ovh_feed_pop (self->feed);
        if (!item)
            break;
        (void) atomic_load_explicit (&item->handed_over, memory_order_acquire);
        atomic_fetch_sub (&self->feed_items, 1);
        taken++;
        if (self->backlog)
            ovh_backlog_accept (self->backlog, item);
        else
            s_admit (self, item);
    }
    return taken;
}

//  With a spool: commit, let memory take spilled events back, and tell the
//  intake whether the spool is over its limit
static void
s_spool_work (ovh_dispatcher_t *self, bool commit_now, int64_t now)
{
    if (!self->backlog)
        return;
    int64_t due = ovh_backlog_commit_due (self->backlog);
    if (commit_now)
        ovh_backlog_commit_now (self->backlog);
    else
    if (due >= 0 && now >= due)
        ovh_backlog_commit (self->backlog);
    //  Reload in large batches: each reload commits first, and a commit per
    //  delivered event would cost more than the events themselves
    size_t items = ovh_lanes_items (self->lanes);
    size_t room = self->config->queue_events - items;
    //  Room by bytes too, at the queue's average item size, so that a
    //  reload does not read rows memory would refuse
    size_t bytes = ovh_lanes_bytes (self->lanes);
    size_t average = items ? bytes / items : 512;
    size_t room_bytes = bytes < self->config->queue_bytes ? self->config->queue_bytes - bytes : 0;
    if (room_bytes / (average ? average : 1) < room)
        room = room_bytes / (average ? average : 1);
    size_t batch = self->config->queue_events / 4 < 1000 ? self->config->queue_events / 4 : 1000;
    if (s_memory_room (self) && (room >= batch || items == 0))
        ovh_backlog_reload (self->backlog, room);
    ovh_backlog_recheck (self->backlog);
    atomic_store (&self->spool_state, ovh_backlog_failing (self->backlog) ? OVH_SPOOL_FAILING
                                    : ovh_backlog_full (self->backlog) ? OVH_SPOOL_FULL
                                    : OVH_SPOOL_OK);
}

static void
s_start (ovh_dispatcher_t *self, ovh_item_t *item)
{
    item->attempts++;
    if (self->sender_class->start (self->sender, item)) {
        ovh_result_t result = { .curl_code = CURLE_FAILED_INIT, .retry_after = -1,
                                .error = "libcurl could not start the transfer" };
        ovh_dispatcher_done (self, item, &result);
    }
}

//  Start as many transfers as the workers, the limiter (fewer when the
//  endpoint only queues them), the breaker and the queue allow:
//  due retries first, then ready keys. While the circuit is open, the probe
//  is the next of those, or else the retry due soonest: probes keep their
//  own pace, not the events' backoff.
static void
s_dispatch (ovh_dispatcher_t *self, int64_t now)
{
    //  With a spool, the deliveries so far are made durable before more
    //  requests start: after a crash, only the requests under way (at most
    //  the worker count) are sent again
    if (self->backlog)
        ovh_backlog_write_receipts (self->backlog);
    bool gated = atomic_load_explicit (&self->gate_closed, memory_order_acquire);
    while (!gated) {
        int64_t next = ovh_schedule_next (self->schedule);
        bool due = next >= 0 && next <= now;
        bool open = ovh_breaker_open (self->breaker);
        if (!due && !ovh_lanes_has_ready (self->lanes) && !(open && next >= 0))
            break;
        //  Work waits: the limiter learns whether it held it back (it is
        //  never above the workers, so it holds back whenever they are busy)
        size_t busy = self->sender_class->busy (self->sender);
        if (!ovh_limiter_allows (self->limiter, busy)
        ||  self->sender_class->free (self->sender) == 0
        ||  !ovh_breaker_allows (self->breaker, now, busy))
            break;
        ovh_item_t *item = due ? ovh_schedule_pop_due (self->schedule, now)
                               : ovh_lanes_next (self->lanes);
        if (!item)
            item = ovh_schedule_pop_due (self->schedule, INT64_MAX);
        s_start (self, item);
    }
    //  Once per loop, for the metrics (workers busy, the memory queue)
    atomic_store_explicit (&self->busy, self->sender_class->busy (self->sender),
                           memory_order_relaxed);
    atomic_store_explicit (&self->limit, ovh_limiter_limit (self->limiter),
                           memory_order_relaxed);
    atomic_store_explicit (&self->lane_items, ovh_lanes_items (self->lanes),
                           memory_order_relaxed);
    atomic_store_explicit (&self->lane_bytes, ovh_lanes_bytes (self->lanes),
                           memory_order_relaxed);
}

//  ---------------------------------------------------------------------
//  Stopping

//  Everything still held at the drain deadline is left undelivered: with
//  a spool it stays there for the next start (what was still on the feed
//  is written to it first), without it is lost and counted
static void
s_abandon (ovh_dispatcher_t *self)
{
    self->abandoned = true;
    self->sender_class->abort (self->sender);
    if (!self->spool) {
        atomic_fetch_sub (&self->held_bytes, ovh_lanes_bytes (self->lanes));
        atomic_fetch_sub (&self->held_items, ovh_lanes_items (self->lanes));
    }
    ovh_schedule_destroy (&self->schedule);
    ovh_lanes_destroy (&self->lanes);
    if (self->hold) {
        ovh_hold_forget_all (self->hold);
        zlistx_purge (self->let_go);
    }
    self->lanes = ovh_lanes_new ();
    self->schedule = ovh_schedule_new ();
    ovh_item_t *item;
    while ((item = (ovh_item_t *) ovh_feed_pop (self->feed))) {
        (void) atomic_load_explicit (&item->handed_over, memory_order_acquire);
        atomic_fetch_sub (&self->feed_items, 1);
        if (self->backlog) {
            //  Memory is full (s_admit refuses): it goes to disk only
            ovh_backlog_accept (self->backlog, item);
            continue;
        }
        atomic_fetch_sub (&self->held_bytes, ovh_item_size (item));
        atomic_fetch_sub (&self->held_items, 1);
        ovh_item_destroy (&item);
    }
    if (self->backlog) {
        ovh_backlog_commit_now (self->backlog);
        //  Lost if the spool still cannot be written: said and counted
        size_t unwritten = ovh_backlog_unwritten (self->backlog);
        atomic_store (&self->unwritten, unwritten);
        if (unwritten)
            ovh_log_error ("spool %s: %zu accepted events could not be written to it "
                           "(%s) and are lost", ovh_spool_path (self->spool), unwritten,
                           ovh_spool_error (self->spool));
    }
}

static bool
s_drained (ovh_dispatcher_t *self)
{
    if (ovh_lanes_items (self->lanes) || self->sender_class->busy (self->sender)
    ||  (self->backlog && ovh_backlog_pending (self->backlog)))
        return false;
    //  The intake stopped posting before it asked to drain: once the feed
    //  reads empty, nothing more is coming
    return ovh_dispatcher_take_feed (self) == 0
        && !(self->backlog && ovh_backlog_pending (self->backlog));
}

static void
s_reply_drained (zsock_t *pipe)
{
    zstr_send (pipe, "DRAINED");
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
    if (command && streq (command, "RELEASE"))
        ovh_dispatcher_release_command (self, msg);
    else
    if (command && streq (command, "HURRY"))
        self->drain_deadline = zclock_mono ();
    else
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

//  How long the loop may sleep: until curl, a retry, a commit, a probe or
//  the drain deadline needs it
static long
s_timeout (ovh_dispatcher_t *self, int64_t now)
{
    long timeout = self->sender_class->timeout (self->sender, now);
    //  While the circuit is open, retries wait for the probe, and the
    //  probe waits while a request is still out: then only a transfer's
    //  end (a socket event) can change anything
    bool open = ovh_breaker_open (self->breaker);
    //  Behind a closed gate (a standby) retries and probes wait too
    bool gated = atomic_load_explicit (&self->gate_closed, memory_order_relaxed);
    bool probe_possible = !gated && open && self->sender_class->busy (self->sender) == 0
                       && (ovh_schedule_size (self->schedule) || ovh_lanes_has_ready (self->lanes));
    int64_t deadlines [5] = {
        //  A due retry needs a free worker too
        gated || open || !self->sender_class->free (self->sender) ? -1
                                       : ovh_schedule_next (self->schedule),
        self->backlog ? ovh_backlog_commit_due (self->backlog) : -1,
        probe_possible ? ovh_breaker_next_probe (self->breaker) : -1,
        self->draining ? self->drain_deadline : -1,
        self->backlog ? ovh_backlog_full_due (self->backlog) : -1
    };
    for (int index = 0; index < 5; index++) {
        if (deadlines [index] < 0)
            continue;
        long left = deadlines [index] > now ? (long) (deadlines [index] - now) : 0;
        if (timeout < 0 || left < timeout)
            timeout = left;
    }
    return timeout;
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    ovh_dispatcher_t *self = (ovh_dispatcher_t *) arg;
    zsock_signal (pipe, 0);
    void *pipe_socket = zsock_resolve (pipe);
    bool running = true;
    if (ovh_dispatcher_watch_pipe (self, pipe_socket)) {
        //  Commands cannot be heard: stop now, the caller's wait ends with
        //  'finished' and everything queued counts as undelivered
        ovh_log_error ("dispatcher: cannot watch its command pipe: %s", strerror (errno));
        running = false;
    }
    //  What an earlier run left in the spool goes first, oldest first
    int64_t now = zclock_mono ();
    s_spool_work (self, false, now);
    s_dispatch (self, now);

    //  Commands may have come before the pipe was watched
    bool pipe_ready = true;
    struct epoll_event events [OVH_DISPATCHER_EVENTS];
    while (running) {
        long timeout = pipe_ready ? 0 : s_timeout (self, zclock_mono ());
        int count = ovh_dispatcher_wait (self, events, timeout, &pipe_ready);
        if (count == -1) {
            ovh_log_error ("dispatcher: epoll_wait failed: %s", strerror (errno));
            break;
        }
        int rc = 0;
        while (running && pipe_ready && (rc = ovh_dispatcher_pipe_readable (pipe_socket)) == 1)
            running = s_command (self, pipe);
        if (rc == -1 || !running)
            break;              //  $TERM, or the context terminated
        pipe_ready = false;
        //  One clock read for the work of this turn
        now = zclock_mono ();
        ovh_dispatcher_take_feed (self);
        self->sender_class->act (self->sender, events, count, now);
        s_spool_work (self, false, now);
        ovh_dispatcher_let_go_early (self);
        s_dispatch (self, now);

        if (self->draining && (s_drained (self) || now >= self->drain_deadline)) {
            s_spool_work (self, true, now);
            s_dispatch (self, now);
            if (!s_drained (self))
                s_abandon (self);
            s_spool_work (self, true, now);
            atomic_store_explicit (&self->drained, true, memory_order_release);
            s_reply_drained (pipe);
            self->draining = false;
            //  Nothing more to do but wait for $TERM
            char *command = zstr_recv (pipe);
            zstr_free (&command);
            running = false;
        }
    }
    s_spool_work (self, true, zclock_mono ());
    if (ovh_lanes_items (self->lanes))
        s_abandon (self);
    atomic_store_explicit (&self->finished, true, memory_order_release);
}

//  ---------------------------------------------------------------------
//  The intake's side

//  The bridge's sender: libcurl's
static const ovh_sender_class_t s_curl_sender = {
    .new = ovh_sender_new, .destroy = ovh_sender_destroy, .free = ovh_sender_free,
    .busy = ovh_sender_busy, .start = ovh_sender_start, .watch = ovh_sender_watch,
    .timeout = ovh_sender_timeout, .act = ovh_sender_act, .abort = ovh_sender_abort,
    .endpoint = ovh_sender_endpoint
};

//  ovhook's own HTTP/1.1 client where it serves the endpoint (plain http,
//  a numeric host), libcurl's sender for the rest (ovh_h1sender.h)
ovh_dispatcher_t *
ovh_dispatcher_new (ovh_config_t *config, ovh_signer_t *signer, ovh_spool_t *spool,
                    ovh_deadletter_t *deadletter)
{
    char reason [160];
    if (ovh_h1sender_serves (config, reason, sizeof reason)) {
        ovh_log_info ("delivery: ovhook's HTTP/1.1 client (http-parser %d.%d.%d)",
                      HTTP_PARSER_VERSION_MAJOR, HTTP_PARSER_VERSION_MINOR,
                      HTTP_PARSER_VERSION_PATCH);
        return ovh_dispatcher_new_with (config, signer, spool, deadletter,
                                        ovh_h1sender_class ());
    }
    ovh_log_info ("delivery: libcurl %s (%s)", curl_version_info (CURLVERSION_NOW)->version,
                  reason);
    return ovh_dispatcher_new_with (config, signer, spool, deadletter, &s_curl_sender);
}

ovh_dispatcher_t *
ovh_dispatcher_new_with (ovh_config_t *config, ovh_signer_t *signer, ovh_spool_t *spool,
                         ovh_deadletter_t *deadletter, const ovh_sender_class_t *sender_class)
{
    assert (config);
    assert (sender_class);
    ovh_dispatcher_t *self = (ovh_dispatcher_t *) zmalloc (sizeof (ovh_dispatcher_t));
    if (!self)
        return NULL;
    self->config = config;
    self->signer = signer;
    self->spool = spool;
    self->deadletter = deadletter;
    self->sender_class = sender_class;
    self->epoll_fd = -1;
    //  One of a pair: nothing goes out, not even the spool's, until active
    atomic_init (&self->gate_closed, config->ha != NULL);
    self->sender = sender_class->new (config, signer, ovh_dispatcher_done, self);
    self->lanes = ovh_lanes_new ();
    self->schedule = ovh_schedule_new ();
    if (config->ha) {
        self->hold = ovh_hold_new ();
        self->let_go = zlistx_new ();
        if (self->let_go) {
            zlistx_set_destructor (self->let_go, (zlistx_destructor_fn *) zstr_free);
            zlistx_set_duplicator (self->let_go, (zlistx_duplicator_fn *) strdup);
        }
    }
    if (spool) {
        self->backlog = ovh_backlog_new (spool, s_admit, self);
        if (self->backlog && self->hold)
            ovh_backlog_on_spill (self->backlog, ovh_dispatcher_spilled);
        atomic_store (&self->resumed, ovh_spool_events (spool));
    }
    //  Probes start at the first retry delay and back off to the cap
    self->breaker = ovh_breaker_new (config->breaker_threshold, config->retry_initial_ms,
                                     config->retry_max_ms);
    self->limiter = ovh_limiter_new ((size_t) config->workers);
    atomic_init (&self->limit, (uint64_t) config->workers);
    //  Room for everything the queue's counts let the intake hand over
    //  (the spool's FEED_MAX with a spool), plus the last item posted at
    //  shutdown without a check; at most 64 Ki slots (512 KiB): past that,
    //  a full ring only makes the intake wait for room, as a full queue does
    size_t capacity = spool ? FEED_MAX : config->queue_events;
    capacity = capacity < 65535 ? capacity + 1 : 65536;
    self->feed = ovh_feed_new (capacity);
    if (!self->sender || !self->lanes || !self->schedule || !self->breaker
    ||  !self->limiter || !self->feed || (spool && !self->backlog)
    ||  (config->ha && (!self->hold || !self->let_go))) {
        ovh_dispatcher_destroy (&self);
        return NULL;
    }
    if (ovh_dispatcher_wait_setup (self)) {
        ovh_log_error ("cannot set up the dispatcher's epoll set: %s", strerror (errno));
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

//  Stop the actor and wait until it has: zactor_destroy gives up waiting
//  when a signal interrupts it, and freeing what the actor still uses
//  would follow. Any number of signals may come; the join happens.
static void
s_join (ovh_dispatcher_t *self)
{
    if (!self->actor)
        return;
    //  A send to an actor that ended by itself must not block
    zsock_set_sndtimeo (self->actor, 0);
    ovh_dispatcher_tell (self, "$TERM", false);
    while (!atomic_load_explicit (&self->finished, memory_order_acquire)) {
        //  The signal comes after the actor's last step; an interrupted
        //  or failed wait is tried again
        if (zsock_wait (self->actor) == -1 && errno != EINTR)
            zclock_sleep (1);
    }
    //  The actor is done; only its pipe is left. Never wait for it again.
    zsock_set_rcvtimeo (self->actor, 0);
    zactor_destroy (&self->actor);
}

void
ovh_dispatcher_destroy (ovh_dispatcher_t **self_p)
{
    assert (self_p);
    ovh_dispatcher_t *self = *self_p;
    if (!self)
        return;
    s_join (self);
    //  Items still on the feed belong to nobody else now
    if (self->feed) {
        ovh_item_t *item;
        while ((item = (ovh_item_t *) ovh_feed_pop (self->feed)))
            ovh_item_destroy (&item);
    }
    ovh_backlog_destroy (&self->backlog);
    ovh_feed_destroy (&self->feed);
    ovh_schedule_destroy (&self->schedule);
    ovh_lanes_destroy (&self->lanes);
    ovh_hold_destroy (&self->hold);
    zlistx_destroy (&self->let_go);
    ovh_breaker_destroy (&self->breaker);
    //  The actor has ended: its limiter can be read here
    if (self->limiter && ovh_limiter_changes (self->limiter))
        ovh_log_info ("delivery: requests in flight were limited to as few as %zu of %d "
                      "workers, where the endpoint only queued more (%" PRIu64 " changes, "
                      "%zu at the end)", ovh_limiter_lowest (self->limiter),
                      self->config->workers, ovh_limiter_changes (self->limiter),
                      ovh_limiter_limit (self->limiter));
    ovh_limiter_destroy (&self->limiter);
    self->sender_class->destroy (&self->sender);
    //  After the sender: its sockets left the set as curl closed them
    if (self->epoll_fd >= 0)
        close (self->epoll_fd);
    free (self);
    *self_p = NULL;
}
