/*  ovh_intake.h - the bridge's side of the bus: a SUB socket subscribed to
    exactly the enabled event types, and everything that happens to a message
    before it is queued: the exact topic check, validation and translation,
    counting and logging what is dropped, and counting what the bus lost.

    Redundant paths: a bus of two endpoints or more (two proxies' backends)
    brings each event once per path. The first copy is kept, the others are
    dropped here, before anything is queued or spooled (by src, epoch, topic
    and seq: ovh_seqtrack.h), and a loss counts only when no path brought
    the event. Shards: with OVHOOK_SHARD=K/N only the events whose ordering
    key hashes to K are accepted; the others are dropped here too, counted
    as "other-shard", after their seq was recorded (the seq counts all the
    events of a topic, whatever their shard).

    With a bus key (config->bus_keys) the socket speaks CURVE: a binding bus
    lets in the keys of --bus-allow (the process's ZAP handler) and keeps
    a message with an envelope only when the publisher's certificate owns
    its src (src-prefix); a connecting bus trusts --bus-server-key, and the
    server it reaches (ovhook-proxy) vouches for what it forwards.          */

#ifndef OVH_INTAKE_H_INCLUDED
#define OVH_INTAKE_H_INCLUDED

#include <stdatomic.h>
#include <stdint.h>
#include <czmq.h>
#include "ovh_busauth.h"
#include "ovh_config.h"
#include "ovh_item.h"

//  Reasons to drop a message: the protocol's codes, and one of ours
#define OVH_DROP_DISABLED   OVH_E_COUNT     //  a valid type that is not enabled
#define OVH_DROP_MEMORY     (OVH_E_COUNT + 1)
#define OVH_DROP_SRC        (OVH_E_COUNT + 2)   //  a src the publisher's key does not own
//  With redundant paths (two endpoints or more in config->bus), the copies
//  after the first, and those too old to tell (ovh_seqtrack.h); with
//  OVHOOK_SHARD, the events of the other shards (ovh_shard.h)
#define OVH_DROP_DUPLICATE  (OVH_E_COUNT + 3)
#define OVH_DROP_TOO_OLD    (OVH_E_COUNT + 4)
#define OVH_DROP_SHARD      (OVH_E_COUNT + 5)
#define OVH_DROP_REASONS    (OVH_E_COUNT + 6)
//  Messages received are counted by type: the catalog's, then one for a
//  topic that is no type
#define OVH_INTAKE_TYPES    (OVH_CATALOG_SIZE + 1)

typedef struct _ovh_intake_t ovh_intake_t;

//  Create the SUB socket on config->bus and subscribe; with config->bus_keys,
//  start the key checks (binding) and the handshake monitor first. Returns
//  NULL (logged) if an endpoint cannot be bound or connected, or the
//  allowed keys' folder cannot be read.
ovh_intake_t *
    ovh_intake_new (ovh_config_t *config);
void
    ovh_intake_destroy (ovh_intake_t **self_p);

//  The socket to poll for input
zsock_t *
    ovh_intake_socket (ovh_intake_t *self);

//  Read one message without waiting. Returns 1 with a new item in *item_p,
//  0 when the message was dropped (counted and logged), -1 when there was
//  nothing to read.
int
    ovh_intake_read (ovh_intake_t *self, ovh_item_t **item_p);

//  Messages read from the bus, and dropped (in all, and for one reason)
uint64_t ovh_intake_received (ovh_intake_t *self);
uint64_t ovh_intake_dropped (ovh_intake_t *self);
uint64_t ovh_intake_dropped_for (ovh_intake_t *self, int reason);
//  The counters themselves, for the metrics to read (any thread) without
//  counting twice: OVH_INTAKE_TYPES received (by catalog index, then
//  unknown topics) and OVH_DROP_REASONS dropped (by reason)
atomic_uint_least64_t *ovh_intake_received_counters (ovh_intake_t *self);
atomic_uint_least64_t *ovh_intake_dropped_counters (ovh_intake_t *self);
//  Messages the bus lost, seen from envelope seq gaps
uint64_t ovh_intake_lost (ovh_intake_t *self);

//  With CURVE on, one line with the bus's handshakes so far: allowed,
//  refused (a key not in --bus-allow) and failed (no CURVE, a wrong server
//  key); on a connecting bus, those with the server. Nothing with CURVE off.
void
    ovh_intake_log_handshakes (ovh_intake_t *self);

//  The process's ZAP handler when this bus binds with CURVE, else NULL:
//  there is one per process, and the pair's link (ovh_ha) shares it
ovh_busauth_t *
    ovh_intake_busauth (ovh_intake_t *self);

//  Name of a drop reason ("utf8", "disabled-topic", ...)
const char *
    ovh_intake_reason_name (int reason);

#endif
