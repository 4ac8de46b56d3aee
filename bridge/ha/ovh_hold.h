/*  ovh_hold.h - what a standby bridge holds: every event it accepted from
    the bus that the active bridge has not yet said it finished, oldest
    first, bounded like the delivery queue (events and bytes).

    The active tells which events it finished by their webhook-ids (the same
    on both bridges: derived from the envelope, ovh_item.c). An id can come
    before its event does (the active read the bus and delivered before the
    standby read it): such ids are remembered, a bounded number of them, and
    the event is let go as soon as it arrives. On takeover the standby takes
    everything held, oldest first, and delivers it.

    Used by one thread (the bridge's main thread).                         */

#ifndef OVH_HOLD_H_INCLUDED
#define OVH_HOLD_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "ovh_item.h"

//  Ids finished before their event arrived, remembered at most
#define OVH_HOLD_EARLY_MAX  65536

typedef struct _ovh_hold_t ovh_hold_t;

ovh_hold_t *
    ovh_hold_new (size_t max_items, size_t max_bytes);
//  Destroys the held items too
void
    ovh_hold_destroy (ovh_hold_t **self_p);

//  Hold an item; takes ownership and returns 0, also when the item was
//  finished already (it is destroyed at once) or is held already (the copy
//  is destroyed). -1 when the hold is full: the item is still the
//  caller's, who stops reading the bus until there is room.
int
    ovh_hold_put (ovh_hold_t *self, ovh_item_t *item);

//  The active finished the event with this id: let it go. True if it was
//  held; if not, the id is remembered for when its event arrives.
bool
    ovh_hold_release (ovh_hold_t *self, const char *id);

//  The oldest held item, still held, or NULL when empty
ovh_item_t *
    ovh_hold_first (ovh_hold_t *self);

//  Take the oldest held item (the caller owns it), or NULL when empty
ovh_item_t *
    ovh_hold_take (ovh_hold_t *self);

//  Held now: events, bytes (ovh_item_size); finished early, remembered
size_t ovh_hold_items (ovh_hold_t *self);
size_t ovh_hold_bytes (ovh_hold_t *self);
size_t ovh_hold_early (ovh_hold_t *self);

#endif
