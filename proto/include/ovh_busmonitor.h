/*  ovh_busmonitor.h - what happens to the handshakes of one bus socket,
    told in words and counted (a ZeroMQ socket monitor behind an actor).

    On a binding socket: a peer without CURVE, or one whose handshake does
    not decrypt (it was given another server key), is logged with its
    address and the reason, rate-limited, and counted. Refused keys are
    counted here too; ovh_busauth logs them (it knows the key).
    On a connecting socket: a refused key, a server without CURVE or a
    wrong server key is logged once per kind (then rate-limited) and kept
    as the socket's problem, so that a program waiting for a peer can say
    why none comes (ovh_busmonitor_problem) instead of waiting silently.  */

#ifndef OVH_BUSMONITOR_H_INCLUDED
#define OVH_BUSMONITOR_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ovh_busmonitor_t ovh_busmonitor_t;

//  Watch 'socket', named 'name' in log lines ("bus", "frontend"), which
//  binds ('binds') or connects. Call in the socket's thread, after CURVE
//  is set on it (or not: a plaintext client is told its problem in those
//  terms) and before it binds or connects. NULL when out of memory.
ovh_busmonitor_t *
    ovh_busmonitor_new (zsock_t *socket, const char *name, bool binds);
//  Call in the socket's thread, before the socket is destroyed
void
    ovh_busmonitor_destroy (ovh_busmonitor_t **self_p);

//  Handshakes that failed, and that succeeded, since the start
uint64_t
    ovh_busmonitor_failed (ovh_busmonitor_t *self);
uint64_t
    ovh_busmonitor_succeeded (ovh_busmonitor_t *self);

//  On a connecting socket: why the last handshake failed, as a sentence,
//  into 'buffer'; false (buffer empty) when the last one succeeded or none
//  failed yet
bool
    ovh_busmonitor_problem (ovh_busmonitor_t *self, char *buffer, size_t size);

//  The sentence for a handshake failure: 'event' is a ZMQ_EVENT_HANDSHAKE_
//  FAILED_* event, 'value' its value; 'binds' says which side sees it
const char *
    ovh_busmonitor_reason (int event, int value, bool binds);

#ifdef __cplusplus
}
#endif
#endif
