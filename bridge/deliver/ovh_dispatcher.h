/*  ovh_dispatcher.h - the delivery actor: takes accepted events from the
    intake, queues them per ordering key (ovh_lanes) within the configured
    capacity, and has the sender POST them, one at a time per key, many keys
    at once.

    Events cross from the intake's thread on a 'feed' socket that carries
    only pointers; commands use the actor pipe. The queue's capacity (events
    and bytes) counts every item posted and not yet finished; when it is
    full, ovh_dispatcher_post says so: that is how the intake knows to stop
    reading the bus.                                                         */

#ifndef OVH_DISPATCHER_H_INCLUDED
#define OVH_DISPATCHER_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "ovh_config.h"
#include "ovh_deadletter.h"
#include "ovh_item.h"
#include "ovh_signer.h"
#include "ovh_spool.h"

typedef struct {
    //  Events, each counted once: resumed + posted = delivered + dead +
    //  failed + released + queued
    uint64_t resumed;           //  found in the spool at start
    uint64_t posted;            //  handed over by the intake
    uint64_t delivered;
    uint64_t released;          //  one of a pair: let go, as the active peer finished them
    uint64_t dead;              //  given up and kept as dead letters
    uint64_t failed;            //  given up and not kept (no store, or it failed)
    uint64_t queued;            //  waiting, in flight included; at the end:
                                //  undelivered (with a spool, still in it)
    uint64_t unwritten;         //  of those, at the end: not in the spool (lost)
    //  Attempts, not events
    uint64_t failed_attempts;   //  attempts that did not succeed
} ovh_dispatch_stats_t;

//  What happened to events and attempts, by event type: what the stats
//  add up, and what the metrics show (ovh_watch), counted once
typedef enum {
    OVH_OUTCOME_DELIVERED,      //  events delivered
    OVH_OUTCOME_RETRIED,        //  attempts failed and scheduled again
    OVH_OUTCOME_DEAD,           //  events given up and kept as dead letters
    OVH_OUTCOME_FAILED,         //  events given up and not kept
    OVH_OUTCOMES
} ovh_outcome_t;

//  HTTP statuses counted: 100..599
#define OVH_STATUS_FIRST    100
#define OVH_STATUSES        500
//  Upper bounds of the publish-to-delivery latency buckets, microseconds
#define OVH_LATENCY_BUCKETS 16
extern const int64_t ovh_dispatcher_latency_bounds [OVH_LATENCY_BUCKETS];

typedef struct {
    //  [type][outcome]: the outcome varies fastest
    atomic_uint_least64_t outcomes [OVH_CATALOG_SIZE * OVH_OUTCOMES];
    //  Responses received, by status - OVH_STATUS_FIRST
    atomic_uint_least64_t statuses [OVH_STATUSES];
    //  From acceptance (the bus read) to a delivery: bucket counts (not
    //  cumulative, the last past every bound), then the sum, microseconds
    atomic_uint_least64_t latency [OVH_LATENCY_BUCKETS + 2];
} ovh_dispatch_counters_t;

typedef struct _ovh_dispatcher_t ovh_dispatcher_t;

//  Start the actor. 'signer', 'spool' and 'deadletter' may be NULL; they
//  stay the caller's, and must outlive the dispatcher. Returns NULL
//  (logged) if HTTP delivery cannot be set up.
ovh_dispatcher_t *
    ovh_dispatcher_new (ovh_config_t *config, ovh_signer_t *signer,
                        ovh_spool_t *spool, ovh_deadletter_t *deadletter);
//  Stop at once: what is queued is dropped (see ovh_dispatcher_drain)
void
    ovh_dispatcher_destroy (ovh_dispatcher_t **self_p);

//  Hand an item over. Returns 0 (the dispatcher owns it now) or -1 when the
//  queue is full (the item is still the caller's).
int
    ovh_dispatcher_post (ovh_dispatcher_t *self, ovh_item_t *item);

//  At shutdown, before the drain: hand over the one item that was waiting
//  for room, whatever the queue's fill (with a spool it is written there;
//  without, the queue holds one more for the drain). 0 or -1.
int
    ovh_dispatcher_post_last (ovh_dispatcher_t *self, ovh_item_t *item);
//  After a post was refused: wait up to 'msecs' until the queue is down to
//  three quarters of its capacity and has room for 'item'; true if so
bool
    ovh_dispatcher_wait_room (ovh_dispatcher_t *self, ovh_item_t *item, int msecs);

//  Why the intake must not post now beyond the queue's fill (the bus is
//  paused): the spool is over its size limit, or cannot be written
typedef enum {
    OVH_SPOOL_OK, OVH_SPOOL_FULL, OVH_SPOOL_FAILING
} ovh_spool_state_t;
ovh_spool_state_t
    ovh_dispatcher_spool_state (ovh_dispatcher_t *self);

//  Deliver what is queued, for at most 'msecs', then stop; fills 'stats'.
//  Returns only once the actor has stopped delivering, whatever signals
//  arrive; a SIGINT or SIGTERM during the drain (ovh_dispatcher_hurry)
//  ends it early, and what was not delivered stays in the spool or is
//  counted undelivered.
void
    ovh_dispatcher_drain (ovh_dispatcher_t *self, int msecs,
                          ovh_dispatch_stats_t *stats);

//  The endpoint as logs show it (userinfo masked)
const char *
    ovh_dispatcher_endpoint (ovh_dispatcher_t *self);

//  Counters so far (read without stopping the actor)
void
    ovh_dispatcher_stats (ovh_dispatcher_t *self, ovh_dispatch_stats_t *stats);

//  The counters themselves, for the metrics to read from any thread
const ovh_dispatch_counters_t *
    ovh_dispatcher_counters (ovh_dispatcher_t *self);

//  Events and attempts in flight now (workers busy), from any thread
uint64_t
    ovh_dispatcher_busy (ovh_dispatcher_t *self);
//  Requests that may be in flight now: --workers, or fewer while the
//  endpoint only queues more (ovh_limiter.h), from any thread
uint64_t
    ovh_dispatcher_limit (ovh_dispatcher_t *self);
//  Events in memory and their bytes (in flight included), from any
//  thread: without a spool, what the queue's capacity counts; with one,
//  the part of the spool loaded in memory
void
    ovh_dispatcher_memory (ovh_dispatcher_t *self, uint64_t *items, uint64_t *bytes);
//  Is the circuit open now? From any thread
bool
    ovh_dispatcher_circuit_open (ovh_dispatcher_t *self);

//  The gate of a bridge in an active/standby pair (docs/ha.md): closed, the
//  dispatcher queues (and spools) but starts no delivery. A dispatcher
//  starts with its gate closed when config->ha is set, so that what the
//  spool holds waits too. From the intake's thread.
void
    ovh_dispatcher_gate (ovh_dispatcher_t *self, bool open);

//  A standby's peer finished these events (webhook-ids, 'id_size' bytes
//  each, one after the other): the dispatcher lets them go from its queue
//  and its spool, or, not there yet, when they come. From the intake's
//  thread. 0, or -1 if the actor could not be told.
int
    ovh_dispatcher_release (ovh_dispatcher_t *self, const void *ids, size_t size,
                            size_t id_size);

//  Called by the actor with every finished event (delivered,
//  dead-lettered or dropped), for the pair's standby. Set it before the
//  gate first opens.
typedef void (ovh_dispatcher_finished_fn) (void *arg, const ovh_item_t *item);
void
    ovh_dispatcher_on_finished (ovh_dispatcher_t *self, ovh_dispatcher_finished_fn *fn,
                                void *arg);

#endif
