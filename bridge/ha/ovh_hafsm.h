/*  ovh_hafsm.h - Binary Star's finite-state machine (ZeroMQ guide, chapter
    4, bstar.c), for a pair of bridges: one primary, one backup; at most one
    of them active on a healthy link.

    States: PRIMARY and BACKUP are the starting states (role known, peer not
    yet heard); ACTIVE delivers; PASSIVE (the standby) accepts and holds.
    Events: the peer's state, as its heartbeats say, and DEMAND: events came
    in on the bus (Binary Star's client request). A standby takes over only
    on DEMAND after the peer has been silent for the timeout: with no
    events, there is nothing to take over for, and no reason to risk two
    actives.

    Pure logic, no sockets and no clock of its own: the caller says what
    time it is, so that a table can test every state and event.            */

#ifndef OVH_HAFSM_H_INCLUDED
#define OVH_HAFSM_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    OVH_HA_PRIMARY = 1, OVH_HA_BACKUP, OVH_HA_ACTIVE, OVH_HA_PASSIVE
} ovh_ha_state_t;

typedef enum {
    OVH_HA_PEER_PRIMARY = 1, OVH_HA_PEER_BACKUP, OVH_HA_PEER_ACTIVE, OVH_HA_PEER_PASSIVE,
    OVH_HA_DEMAND
} ovh_ha_event_t;

typedef struct {
    ovh_ha_state_t state;
    bool primary;               //  our role in the pair
    int64_t peer_expiry;        //  when the peer counts as gone, if not heard again
    int timeout;                //  ms of silence that mean the peer is gone
} ovh_hafsm_t;

//  What a step did: nothing, a change of state (said in 'why'), or a
//  refusal (the event is not allowed in this state: a standby's DEMAND
//  while the peer lives, two actives or two standbys)
typedef enum {
    OVH_HAFSM_SAME, OVH_HAFSM_CHANGED, OVH_HAFSM_REFUSED
} ovh_hafsm_result_t;

//  Start as primary or backup; the peer is given the timeout to show up
void
    ovh_hafsm_init (ovh_hafsm_t *self, bool primary, int timeout, int64_t now);

//  Note the peer was heard at 'now' (its heartbeat): it lives until
//  now + timeout
void
    ovh_hafsm_heard (ovh_hafsm_t *self, int64_t now);

//  Apply one event at 'now'. 'why' gets a sentence for the log (a change
//  or a refusal), or "" when nothing happened.
ovh_hafsm_result_t
    ovh_hafsm_step (ovh_hafsm_t *self, ovh_ha_event_t event, int64_t now,
                    const char **why);

//  "primary", "backup", "active", "passive"
const char *
    ovh_hafsm_state_name (ovh_ha_state_t state);

#endif
