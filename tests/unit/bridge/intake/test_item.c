/*  test_item.c - the unit carried through the bridge (ovh_item): webhook
    ids from the envelope (two bridges agree), random ones without it,
    restored items.                                                          */

#include "ovh_test.h"
#include "ovh_item.h"

static void
test_item_ids (void)
{
    //  Expected value computed independently:
    //  'evt_' + hashlib.sha256 (b'pubA\x00sessionCreated\x007').hexdigest () [:32]
    char id [40];
    ovh_item_envelope_id ("sessionCreated", "pubA", 4, 7, NULL, id);
    CHECK_STR (id, "evt_5052d2a766f5565aa74abf3804d03353");
    //  With an epoch: b'pubA\x00sessionCreated\x007\x00<epoch in decimal>'
    struct { uint64_t epoch; const char *id; } epochs [] = {
        { UINT64_MAX, "evt_5bd9aa188a4aad339a95096769334d2f" },
        { 0, "evt_49941c10aa7f26ec65666f1ff9ce88e9" },
    };
    for (size_t index = 0; index < sizeof epochs / sizeof epochs [0]; index++) {
        char epoch_id [40];
        ovh_item_envelope_id ("sessionCreated", "pubA", 4, 7, &epochs [index].epoch, epoch_id);
        CHECK_STR (epoch_id, epochs [index].id);
    }

    //  Same envelope, same id (two bridges agree); another seq, another id
    ovh_event_t event = { .type = ovh_catalog_at (0), .json = "{}", .json_size = 2,
                          .has_envelope = true, .src = "pubA", .src_size = 4, .seq = 7 };
    ovh_item_t *first = ovh_item_new (&event);
    ovh_item_t *second = ovh_item_new (&event);
    CHECK_STR (first->id, second->id);
    CHECK_STR (first->id, id);
    event.seq = 8;
    ovh_item_t *third = ovh_item_new (&event);
    CHECK (strcmp (third->id, first->id) != 0);
    //  Same src and seq in another run (epoch): another id; in the same
    //  run: the same id (two bridges agree)
    event.seq = 7;
    event.has_epoch = true;
    event.epoch = 1;
    ovh_item_t *run1 = ovh_item_new (&event);
    ovh_item_t *run1_again = ovh_item_new (&event);
    event.epoch = 2;
    ovh_item_t *run2 = ovh_item_new (&event);
    CHECK (strcmp (run1->id, first->id) != 0);
    CHECK (strcmp (run1->id, run2->id) != 0);
    CHECK_STR (run1->id, run1_again->id);
    ovh_item_destroy (&run1);
    ovh_item_destroy (&run1_again);
    ovh_item_destroy (&run2);
    event.has_epoch = false;
    //  Without an envelope: random, 128 bits of hex, never the same twice
    event.has_envelope = false;
    ovh_item_t *random1 = ovh_item_new (&event);
    ovh_item_t *random2 = ovh_item_new (&event);
    CHECK (strlen (random1->id) == 36 && strncmp (random1->id, "evt_", 4) == 0);
    CHECK (strspn (random1->id + 4, "0123456789abcdef") == 32);
    CHECK (strcmp (random1->id, random2->id) != 0);
    //  Across several batches of 64 (one getrandom each): never twice
    zhashx_t *seen = zhashx_new ();
    size_t repeated = 0;
    for (int index = 0; index < 1000; index++) {
        ovh_item_t *item = ovh_item_new (&event);
        CHECK (item && strspn (item->id + 4, "0123456789abcdef") == 32);
        if (item && zhashx_insert (seen, item->id, (void *) 1))
            repeated++;
        ovh_item_destroy (&item);
    }
    CHECK (repeated == 0 && zhashx_size (seen) == 1000);
    zhashx_destroy (&seen);
    CHECK (random1->accepted_ms > 1700000000000LL);
    //  Restored items keep what they were given
    ovh_item_t *restored = ovh_item_restore (ovh_catalog_at (1), "evt_x", "k", 1, "{\"a\":1}", 7,
                                             1234, 3);
    CHECK_STR (restored->id, "evt_x");
    CHECK (restored->has_key && streq (restored->key, "k"));
    CHECK_STR (restored->json, "{\"a\":1}");
    CHECK (restored->accepted_ms == 1234 && restored->attempts == 3);
    ovh_item_t *keyless = ovh_item_restore (ovh_catalog_at (1), "evt_y", NULL, 0, "{}", 2, 1, 0);
    CHECK (!keyless->has_key);
    ovh_item_destroy (&first);
    ovh_item_destroy (&second);
    ovh_item_destroy (&third);
    ovh_item_destroy (&random1);
    ovh_item_destroy (&random2);
    ovh_item_destroy (&restored);
    ovh_item_destroy (&keyless);
}

int
main (void)
{
    test_item_ids ();
    return ovh_test_done ("test_item");
}
