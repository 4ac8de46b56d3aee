/*  ovh_lanes.h - per-key ordering of queued events.

    Every ordering key has a lane: a FIFO of its events, of which at most one
    is in flight. A lane with events and nothing in flight waits in the ready
    queue, oldest first, so keys are served fairly and one slow key never
    holds back another. Events without a key share one lane of their own, so
    they go out one after another in publish order.                          */

#ifndef OVH_LANES_H_INCLUDED
#define OVH_LANES_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "ovh_item.h"

typedef struct _ovh_lanes_t ovh_lanes_t;

ovh_lanes_t *
    ovh_lanes_new (void);
//  Destroys the queued items too
void
    ovh_lanes_destroy (ovh_lanes_t **self_p);

//  Queue an item behind the others of its key; takes ownership. Returns 0,
//  or -1 when out of memory (the item is then still the caller's).
int
    ovh_lanes_push (ovh_lanes_t *self, ovh_item_t *item);

//  The next item that may be sent now (oldest ready lane, its head), or
//  NULL. The item stays queued and its lane is busy until ovh_lanes_done.
ovh_item_t *
    ovh_lanes_next (ovh_lanes_t *self);

//  Is a lane ready to send (ovh_lanes_next would return an item)?
bool
    ovh_lanes_has_ready (ovh_lanes_t *self);

//  The in-flight item of a lane is finished: removes it from the queue and
//  gives it back to the caller (to destroy), and readies the lane's next.
ovh_item_t *
    ovh_lanes_done (ovh_lanes_t *self, ovh_item_t *item);

//  Take a queued item out of its lane, unless it is in flight (the busy
//  head): a standby lets go what its active peer finished. Returns the
//  item, the caller's from then on, or NULL (in flight, or not queued).
ovh_item_t *
    ovh_lanes_remove (ovh_lanes_t *self, ovh_item_t *item);
//  Queued items (in flight included), and the bytes they hold
size_t ovh_lanes_items (ovh_lanes_t *self);
size_t ovh_lanes_bytes (ovh_lanes_t *self);
//  Number of lanes (keys) with queued items
size_t ovh_lanes_keys (ovh_lanes_t *self);

#endif
