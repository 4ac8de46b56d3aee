/*  ovh_hold.c - a standby bridge's held events. A list keeps the order of
    arrival; a hash finds an item's place in it by id, so a release costs
    O(1) whatever the order the active finishes in.                        */

#include <czmq.h>
#include "ovh_hold.h"

struct _ovh_hold_t {
    size_t max_items, max_bytes;
    size_t bytes;
    zlistx_t *items;            //  ovh_item_t *, oldest first
    zhashx_t *places;           //  id -> handle in 'items'
    zhashx_t *early;            //  ids finished before their event came
    zlistx_t *early_order;      //  the same ids, oldest first, for eviction
};

ovh_hold_t *
ovh_hold_new (size_t max_items, size_t max_bytes)
{
    ovh_hold_t *self = (ovh_hold_t *) zmalloc (sizeof (ovh_hold_t));
    if (!self)
        return NULL;
    self->max_items = max_items;
    self->max_bytes = max_bytes;
    self->items = zlistx_new ();
    self->places = zhashx_new ();
    self->early = zhashx_new ();
    self->early_order = zlistx_new ();
    if (!self->items || !self->places || !self->early || !self->early_order) {
        ovh_hold_destroy (&self);
        return NULL;
    }
    //  The early ids are owned by 'early_order' (the hash keeps its own
    //  copies of keys, values unused)
    zlistx_set_destructor (self->early_order, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_duplicator (self->early_order, (zlistx_duplicator_fn *) strdup);
    return self;
}

void
ovh_hold_destroy (ovh_hold_t **self_p)
{
    assert (self_p);
    ovh_hold_t *self = *self_p;
    if (!self)
        return;
    if (self->items) {
        ovh_item_t *item;
        while ((item = ovh_hold_take (self)))
            ovh_item_destroy (&item);
    }
    zlistx_destroy (&self->items);
    zhashx_destroy (&self->places);
    zhashx_destroy (&self->early);
    zlistx_destroy (&self->early_order);
    free (self);
    *self_p = NULL;
}

//  Forget an early id once it has served (or to make room)
static void
s_forget_early (ovh_hold_t *self, const char *id)
{
    void *handle = zhashx_lookup (self->early, id);
    if (!handle)
        return;
    zhashx_delete (self->early, id);
    zlistx_delete (self->early_order, handle);
}

int
ovh_hold_put (ovh_hold_t *self, ovh_item_t *item)
{
    assert (self && item);
    if (zhashx_lookup (self->early, item->id)) {
        s_forget_early (self, item->id);
        ovh_item_destroy (&item);
        return 0;
    }
    if (zhashx_lookup (self->places, item->id)) {
        ovh_item_destroy (&item);
        return 0;
    }
    size_t size = ovh_item_size (item);
    //  Like the queue: an item larger than the byte limit still goes in alone
    size_t count = zlistx_size (self->items);
    if (count >= self->max_items || (count && self->bytes + size > self->max_bytes))
        return -1;
    void *handle = zlistx_add_end (self->items, item);
    if (!handle)
        return -1;
    if (zhashx_insert (self->places, item->id, handle)) {
        zlistx_delete (self->items, handle);
        return -1;
    }
    self->bytes += size;
    return 0;
}

bool
ovh_hold_release (ovh_hold_t *self, const char *id)
{
    assert (self && id);
    void *handle = zhashx_lookup (self->places, id);
    if (handle) {
        ovh_item_t *item = (ovh_item_t *) zlistx_handle_item (handle);
        zhashx_delete (self->places, id);
        zlistx_delete (self->items, handle);
        self->bytes -= ovh_item_size (item);
        ovh_item_destroy (&item);
        return true;
    }
    if (zhashx_lookup (self->early, id))
        return false;
    if (zlistx_size (self->early_order) >= OVH_HOLD_EARLY_MAX) {
        //  The oldest early id goes: its event is unlikely to come now
        char *oldest = (char *) zlistx_first (self->early_order);
        zhashx_delete (self->early, oldest);
        zlistx_delete (self->early_order, zlistx_cursor (self->early_order));
    }
    void *place = zlistx_add_end (self->early_order, (void *) id);
    if (place)
        zhashx_insert (self->early, id, place);
    return false;
}

ovh_item_t *
ovh_hold_first (ovh_hold_t *self)
{
    assert (self);
    return (ovh_item_t *) zlistx_first (self->items);
}

ovh_item_t *
ovh_hold_take (ovh_hold_t *self)
{
    assert (self);
    ovh_item_t *item = (ovh_item_t *) zlistx_first (self->items);
    if (!item)
        return NULL;
    zhashx_delete (self->places, item->id);
    zlistx_detach_cur (self->items);
    self->bytes -= ovh_item_size (item);
    return item;
}

size_t
ovh_hold_items (ovh_hold_t *self)
{
    return zlistx_size (self->items);
}

size_t
ovh_hold_bytes (ovh_hold_t *self)
{
    return self->bytes;
}

size_t
ovh_hold_early (ovh_hold_t *self)
{
    return zhashx_size (self->early);
}
