/*  ovh_srcguard.h - src binding where a tool binds with CURVE: a message
    whose envelope src the publisher's key does not own is dropped,
    counted and warned of (rate-limited), as the bridge does.

    The key's ownership comes with every message of its connection: the
    properties "User-Id" (the Z85 key) and OVH_BUSKEYS_SRC_PREFIX that
    ovh_busauth sets from the allowed certificate (ovh_buskeys_owns says
    what a prefix owns). A message without an envelope has no src to
    impersonate and passes.                                                */

#ifndef OVH_SRCGUARD_H_INCLUDED
#define OVH_SRCGUARD_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _ovh_srcguard_t ovh_srcguard_t;

//  'side' names the socket in warnings ("bus", "frontend")
ovh_srcguard_t *
    ovh_srcguard_new (const char *side);
void
    ovh_srcguard_destroy (ovh_srcguard_t **self_p);

//  Whether a message from the key 'user_id' (NULL: unknown) whose
//  certificate carried 'prefix' (NULL: none) may use the envelope src
//  'src' (NULL: the message has no envelope). false: count and warn
//  "SIDE: dropped a message (src-not-allowed): src 'S' is not owned by
//  key K (src-prefix 'P')".
bool
    ovh_srcguard_allows (ovh_srcguard_t *self, const char *user_id, const char *prefix,
                         const char *src, size_t src_size);

//  Count and warn of a message dropped because its src cannot be read:
//  "SIDE: dropped a message from key K: WHY"
void
    ovh_srcguard_unreadable (ovh_srcguard_t *self, const char *user_id, const char *why);

//  Messages dropped, both ways, since the start
uint64_t
    ovh_srcguard_dropped (ovh_srcguard_t *self);

#endif
