/*  ovh_scenario.h - realistic event sequences for ovhook-inject
    --scenario: whole session lifecycles with consistent ids and times.

    One round is 'sessions' sessions of 'participants' participants each.
    Per session, in this order of time: sessionCreated; each participant
    joins (participantJoined), publishes (webrtcConnectionCreated OUTBOUND)
    and subscribes to every other participant's stream (INBOUND, both ways);
    a recording goes started, stopped, ready; each participant sends a
    signal to all; then each participant leaves: its connections are
    destroyed (webrtcConnectionDestroyed), participantLeft; finally
    sessionDestroyed. Every end event carries the startTime of its start
    event and the duration between them (integer seconds, truncated as
    OpenVidu does; the recording's as a float). Sessions start a little
    apart, and the events of a round come in timestamp order, so sessions
    interleave as they would on a real bus. Each round has new ids.

    Per session: 2M(M-1) + 5M + 5 events for M participants.              */

#ifndef OVH_SCENARIO_H_INCLUDED
#define OVH_SCENARIO_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ovhook.h"

#define OVH_SCENARIO_MAX_SESSIONS       100000
#define OVH_SCENARIO_MAX_PARTICIPANTS   100

typedef struct _ovh_scenario_t ovh_scenario_t;

//  Valid scenario names, comma-separated ("session, lifecycle")
const char *
    ovh_scenario_names (void);

//  A generator of scenario 'name' with the PRNG seeded with 'seed' (the same
//  seed gives the same ids and times relative to the start). Returns NULL
//  for an unknown name or counts out of range (1..OVH_SCENARIO_MAX_*).
ovh_scenario_t *
    ovh_scenario_new (const char *name, size_t sessions, size_t participants,
                      uint64_t seed);
void
    ovh_scenario_destroy (ovh_scenario_t **self_p);

//  Number of events in one round
size_t
    ovh_scenario_round_size (ovh_scenario_t *self);

//  Make the next round, its first session starting at 'start_ms'. Returns 0
//  or -1 (out of memory). Events are then read with ovh_scenario_next.
int
    ovh_scenario_generate (ovh_scenario_t *self, int64_t start_ms);

//  Next event of the round: its type, and its msgpack body (valid until the
//  next generate). NULL after the last event of the round.
const ovh_event_type_t *
    ovh_scenario_next (ovh_scenario_t *self, const void **body, size_t *size);

#endif
