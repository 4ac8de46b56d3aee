/*  ovh_hagate.h - the pair seen from the bridge's main thread: where an
    accepted event goes (the dispatcher when active, the hold when standby),
    and what the HA actor says (role changes, finished ids).

    On becoming active it opens the dispatcher's gate and hands it what the
    hold kept, oldest first: the events the old active had not finished,
    with the same webhook-ids. On becoming standby it closes the gate: what
    the dispatcher already has waits there (docs/ha.md, split brain).      */

#ifndef OVH_HAGATE_H_INCLUDED
#define OVH_HAGATE_H_INCLUDED

#include "ovh_config.h"
#include "ovh_dispatcher.h"
#include "ovh_ha.h"
#include "ovh_item.h"

typedef struct _ovh_hagate_t ovh_hagate_t;

//  Start the HA actor (binds and connects the link) and the hold. The
//  dispatcher must have been made with this config (its gate starts
//  closed) and outlive the gate. 'busauth': the process's ZAP handler if
//  there is one (ovh_ha_new). NULL when the link cannot be set up.
ovh_hagate_t *
    ovh_hagate_new (ovh_config_t *config, ovh_dispatcher_t *dispatcher,
                    ovh_busauth_t *busauth);
void
    ovh_hagate_destroy (ovh_hagate_t **self_p);

//  Hand an accepted event over to the dispatcher. 0 (taken), or -1 when
//  the queue is full (still the caller's)
int
    ovh_hagate_post (ovh_hagate_t *self, ovh_item_t *item);
//  The actor's socket, to poll for input; ovh_hagate_handle reads one
//  message from it (a role change or finished ids)
void *
    ovh_hagate_socket (ovh_hagate_t *self);
void
    ovh_hagate_handle (ovh_hagate_t *self);
//  Handle every message waiting, without waiting for more
void
    ovh_hagate_news (ovh_hagate_t *self);

bool
    ovh_hagate_active (ovh_hagate_t *self);
//  Events held for the peer: a standby's queue; 0 when active
uint64_t
    ovh_hagate_held (ovh_hagate_t *self);
ovh_ha_t *
    ovh_hagate_ha (ovh_hagate_t *self);

#endif
