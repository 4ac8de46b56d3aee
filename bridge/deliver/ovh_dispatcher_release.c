/*  ovh_dispatcher_release.c - one of a pair (docs/ha.md): the dispatcher
    of a standby queues and spools every event behind its closed gate, and
    lets go of each one its active peer says it finished: from the lanes
    (ovh_lanes_remove), from the spool (a delivery's receipt and removal,
    or a delete by id when the event waits on disk only), or, for an id
    that comes before its event, as soon as the event is queued or left on
    disk. What is left when it takes over is what the peer had not
    finished. Run by the actor only.                                        */

#include <czmq.h>
#include "ovh_dispatcher_private.h"

//  A queued item the peer finished: out of the lanes, the spool (with a
//  receipt, as a delivery) and the counts. Not while it is in flight
//  (after a split brain): then it finishes here too.
static void
s_let_go_item (ovh_dispatcher_t *self, ovh_item_t *item)
{
    ovh_item_t *removed = ovh_lanes_remove (self->lanes, item);
    if (!removed)
        return;
    ovh_hold_forget (self->hold, removed);
    if (self->backlog)
        ovh_backlog_delivered (self->backlog, removed);
    else {
        atomic_fetch_sub (&self->held_bytes, ovh_item_size (removed));
        atomic_fetch_sub (&self->held_items, 1);
    }
    atomic_fetch_add (&self->released, 1);
    ovh_item_destroy (&removed);
}

//  Let the event with this id go, from memory or, when it waits on disk
//  only, from the spool. False when this bridge does not have it (yet).
static bool
s_let_go (ovh_dispatcher_t *self, const char *id)
{
    ovh_item_t *item = ovh_hold_find (self->hold, id);
    if (item) {
        s_let_go_item (self, item);
        return true;
    }
    if (self->backlog && ovh_backlog_release_id (self->backlog, id) > 0) {
        atomic_fetch_add (&self->released, 1);
        return true;
    }
    return false;
}

//  RELEASE: the id size, then the ids. Everything accepted is committed
//  first, so that each event is either in memory or on disk only.
void
ovh_dispatcher_release_command (ovh_dispatcher_t *self, zmsg_t *msg)
{
    zframe_t *size_frame = zmsg_pop (msg);
    zframe_t *ids = zmsg_pop (msg);
    size_t id_size = 0;
    if (self->hold && size_frame && ids && zframe_size (size_frame) == sizeof id_size) {
        memcpy (&id_size, zframe_data (size_frame), sizeof id_size);
        //  What the intake posted before the peer's news (a bounded
        //  number of turns: the intake may post on meanwhile)
        for (int turn = 0; turn < 64 && ovh_dispatcher_take_feed (self) > 0; turn++)
            ;
        if (self->backlog)
            ovh_backlog_commit_now (self->backlog);
        char id [sizeof (((ovh_item_t *) 0)->id)];
        const char *data = (const char *) zframe_data (ids);
        for (size_t at = 0; id_size && id_size < sizeof id && at + id_size <= zframe_size (ids);
             at += id_size) {
            memcpy (id, data + at, id_size);
            id [id_size] = 0;
            if (!s_let_go (self, id))
                ovh_hold_early (self->hold, id);        //  it comes later
        }
    }
    zframe_destroy (&size_frame);
    zframe_destroy (&ids);
}

//  The early ids that matched as their events joined the lanes, or were
//  left on disk only
void
ovh_dispatcher_let_go_early (ovh_dispatcher_t *self)
{
    if (!self->let_go)
        return;
    char *id;
    while ((id = (char *) zlistx_first (self->let_go))) {
        s_let_go (self, id);
        zlistx_delete (self->let_go, zlistx_cursor (self->let_go));
    }
}

//  A pair's standby: an event left on disk only that the peer finished
//  already goes from there (outside the backlog's commit)
void
ovh_dispatcher_spilled (void *arg, const ovh_item_t *item)
{
    ovh_dispatcher_t *self = (ovh_dispatcher_t *) arg;
    if (!self->abandoned && ovh_hold_claim_early (self->hold, item->id))
        zlistx_add_end (self->let_go, (void *) item->id);
}
