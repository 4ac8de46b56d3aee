/*  test_hold.c - a standby's held events (ovh_hold): arrival order kept,
    released by id in any order, ids that come before their event, the
    limits, and nothing leaked on destroy.                                 */

#include "ovh_test.h"
#include "ovh_hold.h"

//  An item with a given id and JSON
static ovh_item_t *
s_item (const char *id, const char *json)
{
    ovh_event_t event = { .type = ovh_catalog_at (0), .json = json,
                          .json_size = strlen (json) };
    ovh_item_t *item = ovh_item_new (&event);
    assert (item);
    snprintf (item->id, sizeof item->id, "%s", id);
    return item;
}

static void
s_expect_take (ovh_hold_t *hold, const char *id)
{
    ovh_item_t *item = ovh_hold_take (hold);
    CHECK_MSG (id? item && streq (item->id, id): item == NULL, "want %s, got %s",
               id? id: "none", item? item->id: "none");
    ovh_item_destroy (&item);
}

static void
test_release_keeps_order (void)
{
    ovh_hold_t *hold = ovh_hold_new (100, 1 << 20);
    const char *ids [] = { "a", "b", "c", "d", "e" };
    for (int index = 0; index < 5; index++)
        CHECK (ovh_hold_put (hold, s_item (ids [index], "{}")) == 0);
    CHECK (ovh_hold_items (hold) == 5);
    CHECK (ovh_hold_release (hold, "d"));
    CHECK (ovh_hold_release (hold, "a"));
    CHECK (!ovh_hold_release (hold, "a"));      //  gone already: remembered as early
    CHECK (ovh_hold_items (hold) == 3);
    //  Looking at the oldest leaves it held
    CHECK (ovh_hold_first (hold) && streq (ovh_hold_first (hold)->id, "b"));
    CHECK (ovh_hold_items (hold) == 3);
    s_expect_take (hold, "b");
    s_expect_take (hold, "c");
    s_expect_take (hold, "e");
    s_expect_take (hold, NULL);
    CHECK (ovh_hold_bytes (hold) == 0);
    ovh_hold_destroy (&hold);
}

static void
test_early_ids (void)
{
    ovh_hold_t *hold = ovh_hold_new (100, 1 << 20);
    //  Finished by the active before the standby read the event
    CHECK (!ovh_hold_release (hold, "x"));
    CHECK (ovh_hold_early (hold) == 1);
    CHECK (ovh_hold_put (hold, s_item ("x", "{}")) == 0);
    CHECK (ovh_hold_items (hold) == 0);
    CHECK (ovh_hold_early (hold) == 0);
    //  The same event twice is held once
    CHECK (ovh_hold_put (hold, s_item ("y", "{}")) == 0);
    CHECK (ovh_hold_put (hold, s_item ("y", "{}")) == 0);
    CHECK (ovh_hold_items (hold) == 1);
    ovh_hold_destroy (&hold);
}

static void
test_early_ids_bounded (void)
{
    ovh_hold_t *hold = ovh_hold_new (10, 1 << 20);
    char id [32];
    for (int index = 0; index < OVH_HOLD_EARLY_MAX + 10; index++) {
        snprintf (id, sizeof id, "early-%d", index);
        ovh_hold_release (hold, id);
    }
    CHECK (ovh_hold_early (hold) == OVH_HOLD_EARLY_MAX);
    //  The oldest were forgotten: their event is held when it comes
    CHECK (ovh_hold_put (hold, s_item ("early-0", "{}")) == 0);
    CHECK (ovh_hold_items (hold) == 1);
    snprintf (id, sizeof id, "early-%d", OVH_HOLD_EARLY_MAX + 9);
    CHECK (ovh_hold_put (hold, s_item (id, "{}")) == 0);
    CHECK (ovh_hold_items (hold) == 1);
    ovh_hold_destroy (&hold);
}

static void
test_limits (void)
{
    ovh_hold_t *hold = ovh_hold_new (3, 1 << 20);
    CHECK (ovh_hold_put (hold, s_item ("1", "{}")) == 0);
    CHECK (ovh_hold_put (hold, s_item ("2", "{}")) == 0);
    CHECK (ovh_hold_put (hold, s_item ("3", "{}")) == 0);
    ovh_item_t *fourth = s_item ("4", "{}");
    CHECK (ovh_hold_put (hold, fourth) == -1);      //  still ours
    CHECK (ovh_hold_release (hold, "2"));
    CHECK (ovh_hold_put (hold, fourth) == 0);
    ovh_hold_destroy (&hold);

    //  Bytes: one item alone always fits; a second one over the limit does not
    ovh_item_t *big = s_item ("big", "{\"text\":\"0123456789012345678901234567890123456789\"}");
    hold = ovh_hold_new (100, ovh_item_size (big) + 10);
    CHECK (ovh_hold_put (hold, big) == 0);
    ovh_item_t *more = s_item ("more", "{\"text\":\"0123456789\"}");
    CHECK (ovh_hold_put (hold, more) == -1);
    ovh_item_destroy (&more);
    ovh_hold_destroy (&hold);       //  frees 'big' (valgrind, ASan)
}

int
main (void)
{
    test_release_keeps_order ();
    test_early_ids ();
    test_early_ids_bounded ();
    test_limits ();
    return ovh_test_done ("test_hold");
}
