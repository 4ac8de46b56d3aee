/*  ovh_dispatcher_private.h - what the files of the dispatcher class
    share: the actor's state. ovh_dispatcher.c runs the actor and serves
    the intake; ovh_dispatcher_outcome.c decides what follows an attempt.
    Not for other classes; tests/unit/bridge/deliver gives the dispatcher a
    stand-in sender through ovh_sender_class_t.                                                   */

#ifndef OVH_DISPATCHER_PRIVATE_H_INCLUDED
#define OVH_DISPATCHER_PRIVATE_H_INCLUDED

#include <stdatomic.h>
#include "ovh_dispatcher.h"
#include "ovh_backlog.h"
#include "ovh_breaker.h"
#include "ovh_feed.h"
#include "ovh_hold.h"
#include "ovh_lanes.h"
#include "ovh_limiter.h"
#include "ovh_schedule.h"
#include "ovh_sender.h"

//  With a spool, items posted and not yet written: the spool, not memory,
//  is where a backlog waits, so the feed stays short
#define FEED_MAX        4096

struct _ovh_dispatcher_t {
    ovh_config_t *config;
    zactor_t *actor;
    //  The intake's items to the actor: a ring for one producer (the
    //  intake's thread) and one consumer (the actor)
    ovh_feed_t *feed;
    //  The actor's one wait: its pipe, the feed, curl's sockets
    int epoll_fd;
    //  Used by the actor only
    const ovh_sender_class_t *sender_class;
    ovh_sender_t *sender;
    ovh_signer_t *signer;
    ovh_lanes_t *lanes;
    ovh_schedule_t *schedule;       //  items waiting for a retry
    ovh_breaker_t *breaker;
    ovh_limiter_t *limiter;         //  requests in flight: up to --workers
    ovh_spool_t *spool;             //  NULL: no spool
    ovh_backlog_t *backlog;         //  with a spool
    ovh_deadletter_t *deadletter;   //  NULL: no dead-letter file
    //  One of a pair (docs/ha.md): the queue by id, and the ids the peer
    //  finished early; ids of queued items to let go (owned strings)
    ovh_hold_t *hold;
    zlistx_t *let_go;
    bool draining;
    int64_t drain_deadline;
    bool abandoned;                 //  stopping: memory takes nothing more
    //  Written by the actor, read by anyone (ovh_dispatch_stats_t says
    //  what each counts)
    atomic_uint_least64_t resumed;
    atomic_uint_least64_t released;     //  let go: the pair's active peer finished them
    ovh_dispatch_counters_t counters;   //  delivered, dead, failed by type; statuses
    atomic_uint_least64_t failed_attempts;
    atomic_uint_least64_t busy;         //  transfers running
    atomic_uint_least64_t limit;        //  the limiter's, for the metrics
    atomic_uint_least64_t lane_items;   //  in memory (lanes and retries), and their bytes
    atomic_uint_least64_t lane_bytes;
    atomic_bool circuit_open;
    atomic_uint_least64_t unwritten;
    atomic_int spool_state;         //  ovh_spool_state_t
    //  Set last by the actor: a release/acquire pair that shows
    //  ThreadSanitizer the hand-back of the actor's state on destroy (CZMQ
    //  orders it through ZeroMQ, out of TSan's sight)
    atomic_bool finished;
    //  Set by the actor just before it replies to DRAIN. The intake looks
    //  at it as well as at the pipe: under a storm of signals every poll
    //  of the pipe may end in EINTR before it looks at the socket (seen
    //  under valgrind, where even a poll that need not wait is interrupted
    //  when a signal is pending), and the reply would sit there unseen.
    atomic_bool drained;
    atomic_uint_least64_t posted;       //  by the intake, ever
    atomic_uint_least64_t feed_items;   //  posted, not yet taken by the actor
    //  Without a spool: items handed over and not finished, and their bytes
    atomic_uint_least64_t held_items;
    atomic_uint_least64_t held_bytes;
    //  The pair's gate (closed: start nothing) and whom to tell of each
    //  finished event; set by the intake's thread, read by the actor's
    atomic_bool gate_closed;
    _Atomic (ovh_dispatcher_finished_fn *) finished_fn;
    void *_Atomic finished_arg;
};

//  Count an outcome of an item (by the actor only)
static inline void
ovh_dispatcher_count (ovh_dispatcher_t *self, const ovh_item_t *item, ovh_outcome_t outcome)
{
    atomic_fetch_add_explicit (&self->counters.outcomes [item->type->index * OVH_OUTCOMES
                                                         + outcome], 1, memory_order_relaxed);
}

//  Events read by one epoll_wait; more ready ones wait for the next
#define OVH_DISPATCHER_EVENTS       256

//  The actor's own descriptors in the epoll set (the sender's never have
//  OVH_SENDER_FOREIGN set)
#define OVH_DISPATCHER_TAG_PIPE     (OVH_SENDER_FOREIGN | 1)
#define OVH_DISPATCHER_TAG_FEED     (OVH_SENDER_FOREIGN | 2)

//  ovh_dispatcher_wait.c: the epoll set, with the feed and the sender's
//  sockets in it. 0 or -1 (errno set).
int
    ovh_dispatcher_wait_setup (ovh_dispatcher_t *self);
//  ovh_dispatcher_wait.c: the actor's pipe joins the set. 0 or -1.
int
    ovh_dispatcher_watch_pipe (ovh_dispatcher_t *self, void *pipe);
//  ovh_dispatcher_wait.c: does the pipe hold a command? 1 or 0; -1 when
//  the context is terminated
int
    ovh_dispatcher_pipe_readable (void *pipe);
//  ovh_dispatcher_wait.c: wait up to 'timeout' ms (-1: no limit) for
//  anything to do; the events read into 'events' (OVH_DISPATCHER_EVENTS
//  of room), *pipe_ready set if the pipe was signalled. The count (0
//  after a signal), or -1 when the wait failed.
int
    ovh_dispatcher_wait (ovh_dispatcher_t *self, struct epoll_event *events, long timeout,
                         bool *pipe_ready);

//  Take items from the feed (through the spool, if any): at most a batch.
//  Returns the number taken.
int
    ovh_dispatcher_take_feed (ovh_dispatcher_t *self);
//  ovh_dispatcher_release.c: the RELEASE command (the id size, then the
//  ids the peer finished); the early ids matched since the last call, to
//  let go before anything starts; the backlog's callback for an event left
//  on disk only (ovh_backlog_spilled_fn)
void
    ovh_dispatcher_release_command (ovh_dispatcher_t *self, zmsg_t *msg);
void
    ovh_dispatcher_let_go_early (ovh_dispatcher_t *self);
void
    ovh_dispatcher_spilled (void *arg, const ovh_item_t *item);
//  ovh_dispatcher_new with another sender than libcurl's: for unit tests
ovh_dispatcher_t *
    ovh_dispatcher_new_with (ovh_config_t *config, ovh_signer_t *signer,
                             ovh_spool_t *spool, ovh_deadletter_t *deadletter,
                             const ovh_sender_class_t *sender_class);

//  Send a command frame to the actor ('more': others follow). 0, or -1
//  if it could not be sent; never lost to a signal, as zmq_send is when a
//  signal interrupts it (EINTR, the frame unsent)
int
    ovh_dispatcher_tell (ovh_dispatcher_t *self, const char *frame, bool more);

//  The sender's callback after each attempt (ovh_sender_done_fn): count
//  it, then deliver, retry, bury or drop the item
void
    ovh_dispatcher_done (void *arg, ovh_item_t *item, const ovh_result_t *result);

#endif
