/*  ovh_hagate.c - the pair on the bridge's main thread.                   */

#include <czmq.h>
#include "ovh_log.h"
#include "ovh_hagate.h"
#include "ovh_hold.h"

struct _ovh_hagate_t {
    ovh_dispatcher_t *dispatcher;
    ovh_ha_t *ha;
    ovh_hold_t *hold;
    bool active;
    uint64_t released;              //  held events the active finished
};

ovh_hagate_t *
ovh_hagate_new (ovh_config_t *config, ovh_dispatcher_t *dispatcher, ovh_busauth_t *busauth)
{
    assert (config && dispatcher);
    ovh_hagate_t *self = (ovh_hagate_t *) zmalloc (sizeof (ovh_hagate_t));
    if (!self)
        return NULL;
    self->dispatcher = dispatcher;
    //  The standby holds what the queue would: same limits
    self->hold = ovh_hold_new (config->queue_events, config->queue_bytes);
    self->ha = self->hold? ovh_ha_new (config, busauth): NULL;
    if (!self->ha) {
        ovh_hagate_destroy (&self);
        return NULL;
    }
    ovh_dispatcher_on_finished (dispatcher, ovh_ha_finished, self->ha);
    return self;
}

void
ovh_hagate_destroy (ovh_hagate_t **self_p)
{
    assert (self_p);
    ovh_hagate_t *self = *self_p;
    if (!self)
        return;
    ovh_ha_destroy (&self->ha);
    ovh_hold_destroy (&self->hold);
    free (self);
    *self_p = NULL;
}

//  Active: hand what is held to the dispatcher, oldest first, as far as
//  its queue takes them. True when the hold is empty. What does not fit
//  yet stays held, and new events queue behind it (ovh_hagate_post): the
//  main thread never blocks here, and signals still stop the bridge.
static bool
s_release_held (ovh_hagate_t *self)
{
    ovh_item_t *item;
    while ((item = ovh_hold_first (self->hold))
       &&  ovh_dispatcher_post (self->dispatcher, item) == 0)
        (void) ovh_hold_take (self->hold);     //  the dispatcher owns it now
    ovh_ha_set_held (self->ha, ovh_hold_items (self->hold));
    return item == NULL;
}

int
ovh_hagate_post (ovh_hagate_t *self, ovh_item_t *item)
{
    ovh_ha_arrived (self->ha);
    if (self->active && s_release_held (self))
        return ovh_dispatcher_post (self->dispatcher, item);
    //  Standby, or active with held events still to hand over: in order
    int rc = ovh_hold_put (self->hold, item);
    ovh_ha_set_held (self->ha, ovh_hold_items (self->hold));
    return rc;
}

//  Takeover: everything held goes to the dispatcher, oldest first, before
//  any new event
static void
s_take_over (ovh_hagate_t *self)
{
    size_t count = ovh_hold_items (self->hold);
    ovh_dispatcher_gate (self->dispatcher, true);
    s_release_held (self);
    ovh_log_info ("ha: active: delivering from now on; %zu events held that the peer had not "
                  "finished go first (same webhook-ids); %" PRIu64 " held events were let go "
                  "as the peer finished them", count, self->released);
}

void
ovh_hagate_handle (ovh_hagate_t *self)
{
    zmsg_t *msg = zmsg_recv (ovh_ha_actor (self->ha));
    if (!msg)
        return;
    char *kind = zmsg_popstr (msg);
    if (kind && streq (kind, "ACTIVE") && !self->active) {
        self->active = true;
        s_take_over (self);
    }
    else
    if (kind && streq (kind, "STANDBY") && self->active) {
        self->active = false;
        ovh_dispatcher_gate (self->dispatcher, false);
        ovh_log_warning ("ha: standby: deliveries stop; what this bridge had queued waits "
                         "until it is active again");
    }
    else
    if (kind && streq (kind, "DONE") && !self->active) {
        zframe_t *ids = zmsg_pop (msg);
        size_t size = ids? zframe_size (ids): 0;
        const char *data = ids? (const char *) zframe_data (ids): NULL;
        char id [OVH_HA_ID_SIZE + 1];
        for (size_t at = 0; at + OVH_HA_ID_SIZE <= size; at += OVH_HA_ID_SIZE) {
            memcpy (id, data + at, OVH_HA_ID_SIZE);
            id [OVH_HA_ID_SIZE] = 0;
            self->released += ovh_hold_release (self->hold, id);
        }
        zframe_destroy (&ids);
        ovh_ha_set_held (self->ha, ovh_hold_items (self->hold));
    }
    zstr_free (&kind);
    zmsg_destroy (&msg);
}

void
ovh_hagate_news (ovh_hagate_t *self)
{
    zmq_pollitem_t news = { ovh_hagate_socket (self), 0, ZMQ_POLLIN, 0 };
    while (zmq_poll (&news, 1, 0) == 1 && (news.revents & ZMQ_POLLIN))
        ovh_hagate_handle (self);
    //  What a full queue left held at the takeover goes on as room comes
    if (self->active && ovh_hold_items (self->hold))
        s_release_held (self);
}

int
ovh_hagate_stop (ovh_hagate_t *self)
{
    if (!self->active)
        return 0;
    ovh_item_t *item;
    while ((item = ovh_hold_first (self->hold))
       &&  ovh_dispatcher_post_last (self->dispatcher, item) == 0)
        (void) ovh_hold_take (self->hold);
    ovh_ha_set_held (self->ha, ovh_hold_items (self->hold));
    return item? -1: 0;
}

void *
ovh_hagate_socket (ovh_hagate_t *self)
{
    return zsock_resolve (ovh_ha_actor (self->ha));
}

bool
ovh_hagate_active (ovh_hagate_t *self)
{
    return self->active;
}

size_t
ovh_hagate_held (ovh_hagate_t *self)
{
    return ovh_hold_items (self->hold);
}

ovh_ha_t *
ovh_hagate_ha (ovh_hagate_t *self)
{
    return self->ha;
}
