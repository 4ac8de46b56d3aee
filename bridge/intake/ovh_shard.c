/*  ovh_shard.c - which of N bridges delivers an event.                    */

#include <assert.h>
#include "ovh_shard.h"

#define FNV_OFFSET      UINT64_C (14695981039346656037)
#define FNV_PRIME       UINT64_C (1099511628211)

uint64_t
ovh_shard_hash (const char *key, size_t size)
{
    uint64_t hash = FNV_OFFSET;
    for (size_t index = 0; index < size; index++) {
        hash ^= (uint8_t) key [index];
        hash *= FNV_PRIME;
    }
    return hash;
}

int
ovh_shard_of (const char *key, size_t size, int count)
{
    assert (count >= 1);
    if (!key)
        return 0;
    return (int) (ovh_shard_hash (key, size) % (uint64_t) count);
}
