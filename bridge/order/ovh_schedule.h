/*  ovh_schedule.h - items waiting for a later attempt, earliest first: a
    binary min-heap on item->due. Waiting items hold no worker; their lanes
    stay busy, so the events behind them keep their order.                   */

#ifndef OVH_SCHEDULE_H_INCLUDED
#define OVH_SCHEDULE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "ovh_item.h"

typedef struct _ovh_schedule_t ovh_schedule_t;

ovh_schedule_t *
    ovh_schedule_new (void);
//  Does not destroy the items (they belong to their lanes)
void
    ovh_schedule_destroy (ovh_schedule_t **self_p);

//  Add an item due at item->due. Returns 0, or -1 when out of memory.
int
    ovh_schedule_add (ovh_schedule_t *self, ovh_item_t *item);

//  The earliest item if it is due at 'now' (removed), else NULL
ovh_item_t *
    ovh_schedule_pop_due (ovh_schedule_t *self, int64_t now);

//  When the earliest item is due, or -1 when none waits
int64_t
    ovh_schedule_next (ovh_schedule_t *self);

size_t
    ovh_schedule_size (ovh_schedule_t *self);

#endif
