/*  ovh_ha.h - one bridge of an active/standby pair (docs/ha.md): an actor
    that owns the link to the peer and runs Binary Star's state machine
    (ovh_hafsm) on it.

    The link: each bridge binds a PUB at --ha-bind and connects a SUB to the
    peer's at --ha-peer. Each sends its state as a heartbeat, a quarter of
    --ha-timeout apart; the active also sends, every 20 ms, the events it
    finished (delivered, dead-lettered or dropped): (src, epoch, topic) seq
    ranges, and webhook-ids for events without an envelope (ovh_done.h).
    Both bridges give an event the same id, so the standby can let it go.

    The bridge's main thread reads the actor (ovh_ha_actor) for:
        "ACTIVE"            deliver from now on
        "STANDBY"           hold, do not deliver
        "DONE" ids ranges   the active finished these (ovh_done.h)
    and tells the actor, through atomics, that events are coming in
    (ovh_ha_arrived: Binary Star's client requests, without which a standby
    never takes over). The dispatcher's thread reports finished events with
    ovh_ha_finished.                                                        */

#ifndef OVH_HA_H_INCLUDED
#define OVH_HA_H_INCLUDED

#include <czmq.h>
#include "ovh_busauth.h"
#include "ovh_config.h"
#include "ovh_item.h"

//  The length of a webhook-id on the link ("evt_" + 32 hex)

typedef struct _ovh_ha_t ovh_ha_t;

//  Bind --ha-bind and connect --ha-peer, then start the actor. NULL when
//  an endpoint cannot be used (logged). With config->ha_link_keys the link
//  speaks CURVE: our PUB is a server that lets in only the keys of
//  --ha-keys (through 'busauth', the process's ZAP handler, or one of its
//  own when NULL), our SUB a client that trusts only the peer's key.
ovh_ha_t *
    ovh_ha_new (ovh_config_t *config, ovh_busauth_t *busauth);
void
    ovh_ha_destroy (ovh_ha_t **self_p);

//  What the main thread polls and reads
zactor_t *
    ovh_ha_actor (ovh_ha_t *self);

//  An event was accepted from the bus (main thread)
void
    ovh_ha_arrived (ovh_ha_t *self);

//  How many events the standby holds now (main thread): holding some is
//  demand too, so that a standby takes over what it holds even when
//  nothing new comes in
void
    ovh_ha_set_held (ovh_ha_t *self, size_t held);

//  An event is finished (any thread; the dispatcher's): told the peer at
//  the next flush
void
    ovh_ha_finished (void *self, const ovh_item_t *item);

//  For the metrics, from any thread: 1 active, 0 not; 1 peer heard within
//  the timeout, 0 not
int ovh_ha_role (ovh_ha_t *self);
int ovh_ha_peer_up (ovh_ha_t *self);
//  Events the standby holds now (0 when active)
size_t ovh_ha_held (ovh_ha_t *self);

#endif
