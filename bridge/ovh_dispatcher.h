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

#include <stdbool.h>
#include <stdint.h>
#include "ovh_config.h"
#include "ovh_deadletter.h"
#include "ovh_item.h"
#include "ovh_signer.h"
#include "ovh_spool.h"

typedef struct {
    uint64_t delivered;
    uint64_t failed;            //  attempts that did not succeed
    uint64_t dead;              //  events given up (dead letters)
    uint64_t queued;            //  in the queue now, in flight included
    uint64_t undelivered;       //  left behind at shutdown
} ovh_dispatch_stats_t;

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

//  After a post was refused: wait up to 'msecs' until the queue is down to
//  three quarters of its capacity and has room for 'item'; true if so
bool
    ovh_dispatcher_wait_room (ovh_dispatcher_t *self, ovh_item_t *item, int msecs);

//  With a spool: is the spool over its size limit?
bool
    ovh_dispatcher_spool_full (ovh_dispatcher_t *self);

//  Deliver what is queued, for at most 'msecs', then stop; fills 'stats'
void
    ovh_dispatcher_drain (ovh_dispatcher_t *self, int msecs,
                          ovh_dispatch_stats_t *stats);

//  The endpoint as logs show it (userinfo masked)
const char *
    ovh_dispatcher_endpoint (ovh_dispatcher_t *self);

//  Counters so far (read without stopping the actor)
void
    ovh_dispatcher_stats (ovh_dispatcher_t *self, ovh_dispatch_stats_t *stats);

#endif
