/*  ovh_hold.h - what a bridge of a pair holds for its peer: the events in
    its delivery queue by webhook-id, so that a standby can let go of each
    one its active peer says it finished, and the finished ids that came
    before their events did (the active read the bus and delivered before
    the standby read it), a bounded number of them, so that such an event
    is let go as soon as it arrives.

    The ids are the same on both bridges (derived from the envelope,
    ovh_item.c). The index does not own the items: the dispatcher's lanes
    do. Used by one thread (the dispatcher's actor).                         */

#ifndef OVH_HOLD_H_INCLUDED
#define OVH_HOLD_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "ovh_item.h"

//  Ids finished before their event arrived, remembered at most
#define OVH_HOLD_EARLY_MAX  65536

typedef struct _ovh_hold_t ovh_hold_t;

ovh_hold_t *
    ovh_hold_new (void);
void
    ovh_hold_destroy (ovh_hold_t **self_p);

//  An item joined the queue: indexed by its id. Returns true when the peer
//  finished it already (its id came early, and is forgotten now): the
//  caller lets it go.
bool
    ovh_hold_add (ovh_hold_t *self, ovh_item_t *item);

//  Did the peer finish this id before its event came? True once: the id
//  is forgotten then (an event that memory refused, on disk only)
bool
    ovh_hold_claim_early (ovh_hold_t *self, const char *id);

//  The queued item with this id, or NULL
ovh_item_t *
    ovh_hold_find (ovh_hold_t *self, const char *id);

//  An item left the queue (finished, let go): forgotten
void
    ovh_hold_forget (ovh_hold_t *self, ovh_item_t *item);

//  Every item left the queue at once (the drain gave up)
void
    ovh_hold_forget_all (ovh_hold_t *self);

//  The peer finished an event this bridge has not queued yet: remembered
//  until it comes (the oldest such id goes when OVH_HOLD_EARLY_MAX are)
void
    ovh_hold_early (ovh_hold_t *self, const char *id);

//  Items indexed; early ids remembered
size_t ovh_hold_items (ovh_hold_t *self);
size_t ovh_hold_early_ids (ovh_hold_t *self);

#endif
