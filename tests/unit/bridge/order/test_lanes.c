/*  test_lanes.c - per-key ordering (ovh_lanes): one item in flight per key,
    keys served oldest first, nothing left behind.                           */

#include "ovh_test.h"
#include "ovh_lanes.h"

//  An item with key 'key' (NULL: no key) whose JSON is 'json'
static ovh_item_t *
s_item (const char *key, const char *json)
{
    ovh_event_t event = { .type = ovh_catalog_at (0), .json = json,
                          .json_size = strlen (json), .key = key,
                          .key_size = key ? strlen (key) : 0 };
    return ovh_item_new (&event);
}

//  The next item ready to send, which must be the one whose JSON is 'json'
//  (NULL: none may be ready)
static ovh_item_t *
s_next (ovh_lanes_t *lanes, const char *json)
{
    ovh_item_t *item = ovh_lanes_next (lanes);
    CHECK_MSG (json? item && streq (item->json, json): item == NULL, "want %s, got %s",
               json? json: "none", item? item->json: "none");
    return item;
}

static void
s_finish (ovh_lanes_t *lanes, ovh_item_t *item)
{
    if (!item)
        return;                 //  s_next has reported it
    ovh_item_t *done = ovh_lanes_done (lanes, item);
    CHECK (done == item);
    ovh_item_destroy (&done);
}

static void
test_one_in_flight_per_key (void)
{
    ovh_lanes_t *lanes = ovh_lanes_new ();
    ovh_lanes_push (lanes, s_item ("A", "a1"));
    ovh_lanes_push (lanes, s_item ("A", "a2"));
    ovh_lanes_push (lanes, s_item ("B", "b1"));
    CHECK (ovh_lanes_items (lanes) == 3);
    CHECK (ovh_lanes_keys (lanes) == 2);

    ovh_item_t *first = s_next (lanes, "a1");
    ovh_item_t *second = s_next (lanes, "b1");
    //  a2 waits behind a1, which is still in flight
    s_next (lanes, NULL);
    s_finish (lanes, first);
    ovh_item_t *third = s_next (lanes, "a2");
    s_finish (lanes, second);
    s_finish (lanes, third);
    CHECK (ovh_lanes_items (lanes) == 0);
    CHECK (ovh_lanes_bytes (lanes) == 0);
    CHECK (ovh_lanes_keys (lanes) == 0);
    ovh_lanes_destroy (&lanes);
    CHECK (lanes == NULL);
}

static void
test_slow_key_does_not_block_others (void)
{
    ovh_lanes_t *lanes = ovh_lanes_new ();
    ovh_lanes_push (lanes, s_item ("slow", "s1"));
    ovh_lanes_push (lanes, s_item ("slow", "s2"));
    ovh_item_t *slow = s_next (lanes, "s1");
    //  While "slow" is in flight, 100 other keys all get through
    for (int index = 0; index < 100; index++) {
        char key [16];
        snprintf (key, sizeof key, "k%d", index);
        ovh_lanes_push (lanes, s_item (key, key));
        ovh_item_t *item = s_next (lanes, key);
        if (item)
            s_finish (lanes, item);
    }
    s_next (lanes, NULL);
    s_finish (lanes, slow);
    s_finish (lanes, s_next (lanes, "s2"));
    ovh_lanes_destroy (&lanes);
}

static void
test_keyless_events_in_order (void)
{
    ovh_lanes_t *lanes = ovh_lanes_new ();
    ovh_lanes_push (lanes, s_item (NULL, "n1"));
    ovh_lanes_push (lanes, s_item (NULL, "n2"));
    ovh_lanes_push (lanes, s_item ("", "empty-key"));
    ovh_item_t *first = s_next (lanes, "n1");
    //  An empty string is a key of its own, not "no key"
    ovh_item_t *other = s_next (lanes, "empty-key");
    s_next (lanes, NULL);
    s_finish (lanes, first);
    s_finish (lanes, s_next (lanes, "n2"));
    s_finish (lanes, other);
    ovh_lanes_destroy (&lanes);
}

static void
test_ready_keys_served_oldest_first (void)
{
    ovh_lanes_t *lanes = ovh_lanes_new ();
    const char *keys [] = { "C", "A", "B", "A", "C" };
    for (size_t index = 0; index < 5; index++)
        ovh_lanes_push (lanes, s_item (keys [index], keys [index]));
    ovh_item_t *c = s_next (lanes, "C");
    ovh_item_t *a = s_next (lanes, "A");
    ovh_item_t *b = s_next (lanes, "B");
    //  A finishes before C: A's second event is ready first
    s_finish (lanes, a);
    s_finish (lanes, c);
    s_finish (lanes, s_next (lanes, "A"));
    s_finish (lanes, s_next (lanes, "C"));
    s_finish (lanes, b);
    CHECK (ovh_lanes_items (lanes) == 0);
    ovh_lanes_destroy (&lanes);
}

static void
test_destroy_frees_queued_items (void)
{
    //  Under valgrind/ASan this shows that queued items are freed
    ovh_lanes_t *lanes = ovh_lanes_new ();
    for (int index = 0; index < 10; index++)
        ovh_lanes_push (lanes, s_item (index % 2 ? "odd" : NULL, "x"));
    ovh_lanes_next (lanes);
    CHECK (ovh_lanes_items (lanes) == 10);
    CHECK (ovh_lanes_bytes (lanes) > 10 * sizeof (ovh_item_t));
    ovh_lanes_destroy (&lanes);
}

//  A standby lets go of what its peer finished: from any place in a lane,
//  never the item in flight; an emptied lane leaves the ready queue
static void
test_remove_takes_queued_items_out_of_order (void)
{
    ovh_lanes_t *lanes = ovh_lanes_new ();
    ovh_item_t *a1 = s_item ("A", "a1"), *a2 = s_item ("A", "a2"), *a3 = s_item ("A", "a3");
    ovh_item_t *b1 = s_item ("B", "b1"), *c1 = s_item ("C", "c1"), *n1 = s_item (NULL, "n1");
    ovh_lanes_push (lanes, a1);
    ovh_lanes_push (lanes, a2);
    ovh_lanes_push (lanes, a3);
    ovh_lanes_push (lanes, b1);
    ovh_lanes_push (lanes, c1);
    ovh_lanes_push (lanes, n1);
    size_t bytes = ovh_lanes_bytes (lanes);
    //  The middle and the tail of a lane, a whole lane (B), the keyless one
    ovh_item_t *taken [] = { a2, a3, b1, n1 };
    for (size_t index = 0; index < 4; index++) {
        bytes -= ovh_item_size (taken [index]);
        ovh_item_t *removed = ovh_lanes_remove (lanes, taken [index]);
        CHECK (removed == taken [index]);
        ovh_item_destroy (&removed);
    }
    CHECK (ovh_lanes_items (lanes) == 2);
    CHECK (ovh_lanes_bytes (lanes) == bytes);
    CHECK (ovh_lanes_keys (lanes) == 2);
    //  In flight: not removed
    ovh_item_t *first = s_next (lanes, "a1");
    CHECK (ovh_lanes_remove (lanes, a1) == NULL);
    //  The ready queue skips nothing and holds no emptied lane
    ovh_item_t *second = s_next (lanes, "c1");
    s_next (lanes, NULL);
    CHECK (!ovh_lanes_has_ready (lanes));
    s_finish (lanes, first);
    s_finish (lanes, second);
    //  A removed lane's key comes back as a new lane, ready once
    ovh_item_t *b2 = s_item ("B", "b2");
    ovh_lanes_push (lanes, b2);
    ovh_item_t *b3 = s_item ("B", "b3");
    ovh_lanes_push (lanes, b3);
    ovh_item_t *removed = ovh_lanes_remove (lanes, b2);
    CHECK (removed == b2);
    ovh_item_destroy (&removed);
    s_finish (lanes, s_next (lanes, "b3"));
    s_next (lanes, NULL);
    CHECK (ovh_lanes_items (lanes) == 0 && ovh_lanes_keys (lanes) == 0);
    ovh_lanes_destroy (&lanes);
}

int
main (void)
{
    test_one_in_flight_per_key ();
    test_slow_key_does_not_block_others ();
    test_keyless_events_in_order ();
    test_ready_keys_served_oldest_first ();
    test_destroy_frees_queued_items ();
    test_remove_takes_queued_items_out_of_order ();
    return ovh_test_done ("test_lanes");
}
