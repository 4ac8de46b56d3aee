/*  ovh_hold.c - a pair's index of queued events by id, and the ids its
    peer finished early. A hash per kind; the early ids also in a list,
    oldest first, for eviction.                                             */

#include <czmq.h>
#include "ovh_hold.h"

struct _ovh_hold_t {
    zhashx_t *items;            //  id -> ovh_item_t * (not owned)
    zhashx_t *early;            //  id -> handle in 'early_order'
    zlistx_t *early_order;      //  the same ids, oldest first
};

ovh_hold_t *
ovh_hold_new (void)
{
    ovh_hold_t *self = (ovh_hold_t *) zmalloc (sizeof (ovh_hold_t));
    if (!self)
        return NULL;
    self->items = zhashx_new ();
    self->early = zhashx_new ();
    self->early_order = zlistx_new ();
    if (!self->items || !self->early || !self->early_order) {
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
    zhashx_destroy (&self->items);
    zhashx_destroy (&self->early);
    zlistx_destroy (&self->early_order);
    free (self);
    *self_p = NULL;
}

bool
ovh_hold_claim_early (ovh_hold_t *self, const char *id)
{
    assert (self && id);
    void *handle = zhashx_lookup (self->early, id);
    if (!handle)
        return false;
    zhashx_delete (self->early, id);
    zlistx_delete (self->early_order, handle);
    return true;
}

bool
ovh_hold_add (ovh_hold_t *self, ovh_item_t *item)
{
    assert (self && item);
    //  A second event with the same id keeps the first one's entry
    zhashx_insert (self->items, item->id, item);
    return ovh_hold_claim_early (self, item->id);
}

ovh_item_t *
ovh_hold_find (ovh_hold_t *self, const char *id)
{
    assert (self && id);
    return (ovh_item_t *) zhashx_lookup (self->items, id);
}

void
ovh_hold_forget (ovh_hold_t *self, ovh_item_t *item)
{
    assert (self && item);
    if (zhashx_lookup (self->items, item->id) == item)
        zhashx_delete (self->items, item->id);
}

void
ovh_hold_forget_all (ovh_hold_t *self)
{
    assert (self);
    zhashx_purge (self->items);
}

void
ovh_hold_early (ovh_hold_t *self, const char *id)
{
    assert (self && id);
    if (zhashx_lookup (self->early, id))
        return;
    if (zlistx_size (self->early_order) >= OVH_HOLD_EARLY_MAX) {
        //  The oldest early id goes: its event is unlikely to come now
        char *oldest = (char *) zlistx_first (self->early_order);
        zhashx_delete (self->early, oldest);
        zlistx_delete (self->early_order, zlistx_cursor (self->early_order));
    }
    void *place = zlistx_add_end (self->early_order, (void *) id);
    if (place)
        zhashx_insert (self->early, id, place);
}

size_t
ovh_hold_items (ovh_hold_t *self)
{
    return zhashx_size (self->items);
}

size_t
ovh_hold_early_ids (ovh_hold_t *self)
{
    return zhashx_size (self->early);
}
