/*  ovh_shard.h - which of N bridges delivers an event (OVHOOK_SHARD=K/N).

    N bridges (or N active/standby pairs) behind one bus share the load by
    the events' ordering key, so that all the events of one session go to
    one bridge and keep their order there. The hash is stable and simple
    enough for any tool to reproduce it:

        shard = FNV-1a-64 (the key's UTF-8 bytes) mod N

    FNV-1a 64: h = 14695981039346656037; for each byte b: h ^= b,
    h *= 1099511628211 (mod 2^64). The key is the value of the field that
    orders the event (sessionId, else id, nodeId, clusterId: ovh_item.h),
    without quotes. Events that have no key go to shard 0.                 */

#ifndef OVH_SHARD_H_INCLUDED
#define OVH_SHARD_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  FNV-1a 64 of 'size' bytes
uint64_t
    ovh_shard_hash (const char *key, size_t size);

//  The shard (0 to count - 1) of an event whose ordering key is 'key'
//  ('size' bytes), or of one without a key (NULL): 0
int
    ovh_shard_of (const char *key, size_t size, int count);

#ifdef __cplusplus
}
#endif
#endif
