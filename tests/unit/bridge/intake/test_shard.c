/*  test_shard.c - the shard of an event (ovh_shard): FNV-1a 64 of the
    ordering key, mod N; no key, shard 0. The published vectors pin the
    function, so that other tools can reproduce it (docs/ha.md).          */

#include "ovh_test.h"
#include "ovh_shard.h"

int
main (void)
{
    //  FNV-1a 64 test vectors (the empty string, "a", "foobar")
    CHECK (ovh_shard_hash ("", 0) == UINT64_C (0xcbf29ce484222325));
    CHECK (ovh_shard_hash ("a", 1) == UINT64_C (0xaf63dc4c8601ec8c));
    CHECK (ovh_shard_hash ("foobar", 6) == UINT64_C (0x85944171f73967e8));
    CHECK (ovh_shard_hash ("ses_A", 5) == UINT64_C (0x1b16343088919712));
    //  docs/ha.md's examples
    struct { const char *key; int count; int shard; } cases [] = {
        { "ses_A", 2, 0 },              //  0x1b16343088919712
        { "ses_B", 2, 1 },              //  0x1b1633308891955f
        { "ses_B", 3, 1 },
        { "ses_A", 3, 2 },
        { "ses_Jd8tUyvhXO", 1, 0 },
        { NULL, 7, 0 },                 //  no key: shard 0
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        const char *key = cases [index].key;
        CHECK_MSG (ovh_shard_of (key, key? strlen (key): 0, cases [index].count)
                   == cases [index].shard, "case %zu", index);
    }
    //  The bytes are the key's, every one: a NUL inside counts
    CHECK (ovh_shard_hash ("a\0b", 3) != ovh_shard_hash ("a", 1));
    //  Spread: 10,000 session ids over 4 shards, each within 10 % of 2,500
    int counts [4] = { 0 };
    for (int session = 0; session < 10000; session++) {
        char key [32];
        int size = snprintf (key, sizeof key, "ses_%d", session);
        int shard = ovh_shard_of (key, (size_t) size, 4);
        REQUIRE (shard >= 0 && shard < 4);
        counts [shard]++;
    }
    for (int shard = 0; shard < 4; shard++)
        CHECK_MSG (counts [shard] > 2250 && counts [shard] < 2750, "shard %d: %d", shard,
                   counts [shard]);
    return ovh_test_done ("test_shard");
}
