/*  ovh_hagate.c - the pair on the bridge's main thread.                   */

#include <czmq.h>
#include "ovh_log.h"
#include "ovh_hagate.h"
#include "ovh_done.h"

struct _ovh_hagate_t {
    ovh_dispatcher_t *dispatcher;
    ovh_ha_t *ha;
    bool active;
};

ovh_hagate_t *
ovh_hagate_new (ovh_config_t *config, ovh_dispatcher_t *dispatcher, ovh_busauth_t *busauth)
{
    assert (config && dispatcher);
    ovh_hagate_t *self = (ovh_hagate_t *) zmalloc (sizeof (ovh_hagate_t));
    if (!self)
        return NULL;
    self->dispatcher = dispatcher;
    self->ha = ovh_ha_new (config, busauth);
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
    free (self);
    *self_p = NULL;
}

int
ovh_hagate_post (ovh_hagate_t *self, ovh_item_t *item)
{
    ovh_ha_arrived (self->ha);
    return ovh_dispatcher_post (self->dispatcher, item);
}

//  What the dispatcher holds for the peer: its queue, while standby
static void
s_update_held (ovh_hagate_t *self)
{
    ovh_ha_set_held (self->ha, (size_t) ovh_hagate_held (self));
}

//  Takeover: the gate opens on what the queue (and spool) kept, oldest
//  first per key, before any new event
static void
s_take_over (ovh_hagate_t *self)
{
    ovh_dispatch_stats_t stats;
    ovh_dispatcher_stats (self->dispatcher, &stats);
    ovh_dispatcher_gate (self->dispatcher, true);
    ovh_log_info ("ha: active: delivering from now on; %" PRIu64 " events held that the peer "
                  "had not finished go first (same webhook-ids); %" PRIu64 " held events were "
                  "let go as the peer finished them", stats.queued, stats.released);
}

//  Gathers the ids a ranges frame stands for
static void
s_gather (void *arg, const char *id)
{
    zchunk_t *ids = (zchunk_t *) arg;
    zchunk_extend (ids, id, OVH_DONE_ID_SIZE);
}

//  DONE: the ids, then the ranges (ovh_done.h), for the dispatcher to let go
static void
s_let_go (ovh_hagate_t *self, zmsg_t *msg)
{
    zframe_t *ids = zmsg_pop (msg);
    zframe_t *ranges = zmsg_pop (msg);
    //  Whole ids only: the expanded ones follow, aligned
    zchunk_t *all = ids? zchunk_new (zframe_data (ids),
                                     zframe_size (ids) - zframe_size (ids) % OVH_DONE_ID_SIZE)
                       : NULL;
    long expanded = all && ranges? ovh_done_expand (zframe_data (ranges), zframe_size (ranges),
                                                    s_gather, all): 0;
    if (expanded < 0)
        ovh_log_warning ("ha: a malformed list of finished events from the peer: its ranges "
                         "are ignored (those events would be delivered again on takeover)");
    size_t size = all? zchunk_size (all): 0;
    if (size && ovh_dispatcher_release (self->dispatcher, zchunk_data (all), size,
                                        OVH_DONE_ID_SIZE))
        ovh_log_error ("ha: the dispatcher could not be told of %zu finished events",
                       size / OVH_DONE_ID_SIZE);
    zchunk_destroy (&all);
    zframe_destroy (&ids);
    zframe_destroy (&ranges);
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
                         "until it is active again, or until the peer finishes it");
    }
    else
    if (kind && streq (kind, "DONE") && !self->active)
        s_let_go (self, msg);
    zstr_free (&kind);
    zmsg_destroy (&msg);
}

void
ovh_hagate_news (ovh_hagate_t *self)
{
    zmq_pollitem_t news = { ovh_hagate_socket (self), 0, ZMQ_POLLIN, 0 };
    while (zmq_poll (&news, 1, 0) == 1 && (news.revents & ZMQ_POLLIN))
        ovh_hagate_handle (self);
    s_update_held (self);
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

uint64_t
ovh_hagate_held (ovh_hagate_t *self)
{
    if (self->active)
        return 0;
    ovh_dispatch_stats_t stats;
    ovh_dispatcher_stats (self->dispatcher, &stats);
    return stats.queued;
}

ovh_ha_t *
ovh_hagate_ha (ovh_hagate_t *self)
{
    return self->ha;
}
