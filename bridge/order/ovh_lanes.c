/*  ovh_lanes.c - per-key ordering of queued events.                        */

#include <czmq.h>
#include "ovh_lanes.h"

typedef struct _lane_t lane_t;
struct _lane_t {
    ovh_item_t *head;               //  oldest; in flight when busy
    ovh_item_t *tail;
    lane_t *next_ready;             //  links in the ready queue
    lane_t *prev_ready;
    bool busy;
    bool keyless;
    char *key;                      //  hash key (owned by the hash)
};

struct _ovh_lanes_t {
    zhashx_t *lanes;                //  key -> lane_t
    lane_t keyless;                 //  events without an ordering key
    lane_t *ready_head;
    lane_t *ready_tail;
    size_t items;
    size_t bytes;
};

static void
s_lane_destroy (void **item_p)
{
    lane_t *lane = (lane_t *) *item_p;
    while (lane->head) {
        ovh_item_t *item = lane->head;
        lane->head = item->next;
        ovh_item_destroy (&item);
    }
    free (lane);
    *item_p = NULL;
}

ovh_lanes_t *
ovh_lanes_new (void)
{
    ovh_lanes_t *self = (ovh_lanes_t *) zmalloc (sizeof (ovh_lanes_t));
    if (!self)
        return NULL;
    self->lanes = zhashx_new ();
    if (!self->lanes) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->lanes, s_lane_destroy);
    self->keyless.keyless = true;
    return self;
}

void
ovh_lanes_destroy (ovh_lanes_t **self_p)
{
    assert (self_p);
    ovh_lanes_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->lanes);
    while (self->keyless.head) {
        ovh_item_t *item = self->keyless.head;
        self->keyless.head = item->next;
        ovh_item_destroy (&item);
    }
    free (self);
    *self_p = NULL;
}

static void
s_ready (ovh_lanes_t *self, lane_t *lane)
{
    lane->next_ready = NULL;
    lane->prev_ready = self->ready_tail;
    if (self->ready_tail)
        self->ready_tail->next_ready = lane;
    else
        self->ready_head = lane;
    self->ready_tail = lane;
}

//  Take a lane out of the ready queue, wherever it stands
static void
s_unready (ovh_lanes_t *self, lane_t *lane)
{
    if (lane->prev_ready)
        lane->prev_ready->next_ready = lane->next_ready;
    else
        self->ready_head = lane->next_ready;
    if (lane->next_ready)
        lane->next_ready->prev_ready = lane->prev_ready;
    else
        self->ready_tail = lane->prev_ready;
    lane->next_ready = lane->prev_ready = NULL;
}

static lane_t *
s_lane_of (ovh_lanes_t *self, ovh_item_t *item, bool create)
{
    if (!item->has_key)
        return &self->keyless;
    lane_t *lane = (lane_t *) zhashx_lookup (self->lanes, item->key);
    if (lane || !create)
        return lane;
    lane = (lane_t *) zmalloc (sizeof (lane_t));
    if (!lane)
        return NULL;
    if (zhashx_insert (self->lanes, item->key, lane) != 0) {
        free (lane);
        return NULL;
    }
    return lane;
}

int
ovh_lanes_push (ovh_lanes_t *self, ovh_item_t *item)
{
    assert (self);
    assert (item);
    lane_t *lane = s_lane_of (self, item, true);
    if (!lane)
        return -1;
    item->next = NULL;
    if (lane->tail)
        lane->tail->next = item;
    else {
        lane->head = item;
        if (!lane->busy)
            s_ready (self, lane);
    }
    lane->tail = item;
    self->items++;
    self->bytes += ovh_item_size (item);
    return 0;
}

ovh_item_t *
ovh_lanes_next (ovh_lanes_t *self)
{
    assert (self);
    lane_t *lane = self->ready_head;
    if (!lane)
        return NULL;
    s_unready (self, lane);
    lane->busy = true;
    return lane->head;
}

bool
ovh_lanes_has_ready (ovh_lanes_t *self)
{
    return self->ready_head != NULL;
}

ovh_item_t *
ovh_lanes_done (ovh_lanes_t *self, ovh_item_t *item)
{
    assert (self);
    assert (item);
    lane_t *lane = s_lane_of (self, item, false);
    assert (lane && lane->busy && lane->head == item);
    lane->head = item->next;
    if (!lane->head)
        lane->tail = NULL;
    lane->busy = false;
    item->next = NULL;
    self->items--;
    self->bytes -= ovh_item_size (item);
    if (lane->head)
        s_ready (self, lane);
    else
    if (!lane->keyless)
        //  The key comes from the item, which the caller may now free: the
        //  hash keeps its own copy, and deleting the lane drops both
        zhashx_delete (self->lanes, item->key);
    return item;
}

ovh_item_t *
ovh_lanes_remove (ovh_lanes_t *self, ovh_item_t *item)
{
    assert (self);
    assert (item);
    lane_t *lane = s_lane_of (self, item, false);
    if (!lane || (lane->busy && lane->head == item))
        return NULL;
    //  A walk along one key's lane: a standby's lanes are as long as the
    //  sessions are busy, and its releases come at the active's pace
    ovh_item_t *previous = NULL;
    ovh_item_t *cursor = lane->head;
    while (cursor && cursor != item) {
        previous = cursor;
        cursor = cursor->next;
    }
    if (!cursor)
        return NULL;
    if (previous)
        previous->next = item->next;
    else
        lane->head = item->next;
    if (lane->tail == item)
        lane->tail = previous;
    item->next = NULL;
    self->items--;
    self->bytes -= ovh_item_size (item);
    if (!lane->head && !lane->busy) {
        //  An idle lane with items waits in the ready queue; empty, it goes
        s_unready (self, lane);
        if (!lane->keyless)
            zhashx_delete (self->lanes, item->key);
    }
    return item;
}

size_t
ovh_lanes_items (ovh_lanes_t *self)
{
    return self->items;
}

size_t
ovh_lanes_bytes (ovh_lanes_t *self)
{
    return self->bytes;
}

size_t
ovh_lanes_keys (ovh_lanes_t *self)
{
    return zhashx_size (self->lanes) + (self->keyless.head ? 1 : 0);
}
