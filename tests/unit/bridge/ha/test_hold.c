/*  test_hold.c - a pair's index of queued events (ovh_hold): found by id
    until forgotten, ids that come before their event, the bound on those,
    and nothing leaked on destroy.                                         */

#include "ovh_test.h"
#include "ovh_hold.h"

//  An item with a given id
static ovh_item_t *
s_item (const char *id)
{
    ovh_event_t event = { .type = ovh_catalog_at (0), .json = "{}", .json_size = 2 };
    ovh_item_t *item = ovh_item_new (&event);
    assert (item);
    snprintf (item->id, sizeof item->id, "%s", id);
    return item;
}

static void
test_found_by_id_until_forgotten (void)
{
    ovh_hold_t *hold = ovh_hold_new ();
    ovh_item_t *a = s_item ("a"), *b = s_item ("b");
    CHECK (!ovh_hold_add (hold, a));
    CHECK (!ovh_hold_add (hold, b));
    CHECK (ovh_hold_items (hold) == 2);
    CHECK (ovh_hold_find (hold, "a") == a);
    CHECK (ovh_hold_find (hold, "b") == b);
    CHECK (ovh_hold_find (hold, "c") == NULL);
    ovh_hold_forget (hold, a);
    CHECK (ovh_hold_find (hold, "a") == NULL);
    //  A second item with b's id: the first keeps the entry, and
    //  forgetting the second leaves it
    ovh_item_t *b2 = s_item ("b");
    ovh_hold_add (hold, b2);
    ovh_hold_forget (hold, b2);
    CHECK (ovh_hold_find (hold, "b") == b);
    ovh_hold_forget_all (hold);
    CHECK (ovh_hold_items (hold) == 0);
    ovh_hold_destroy (&hold);
    CHECK (hold == NULL);
    ovh_item_destroy (&a);
    ovh_item_destroy (&b);
    ovh_item_destroy (&b2);
}

static void
test_early_ids (void)
{
    ovh_hold_t *hold = ovh_hold_new ();
    ovh_hold_early (hold, "x");
    ovh_hold_early (hold, "x");
    CHECK (ovh_hold_early_ids (hold) == 1);
    ovh_item_t *x = s_item ("x"), *y = s_item ("y");
    CHECK (ovh_hold_add (hold, x));         //  finished already: let go
    CHECK (ovh_hold_early_ids (hold) == 0);
    CHECK (!ovh_hold_add (hold, y));
    ovh_hold_destroy (&hold);               //  early ids freed (valgrind)
    ovh_item_destroy (&x);
    ovh_item_destroy (&y);
}

static void
test_early_ids_bounded (void)
{
    ovh_hold_t *hold = ovh_hold_new ();
    char id [32];
    for (int index = 0; index < OVH_HOLD_EARLY_MAX + 10; index++) {
        snprintf (id, sizeof id, "early-%d", index);
        ovh_hold_early (hold, id);
    }
    CHECK (ovh_hold_early_ids (hold) == OVH_HOLD_EARLY_MAX);
    //  The oldest went: its event is not recognised
    ovh_item_t *oldest = s_item ("early-0");
    CHECK (!ovh_hold_add (hold, oldest));
    snprintf (id, sizeof id, "early-%d", OVH_HOLD_EARLY_MAX + 9);
    ovh_item_t *newest = s_item (id);
    CHECK (ovh_hold_add (hold, newest));
    ovh_hold_destroy (&hold);
    ovh_item_destroy (&oldest);
    ovh_item_destroy (&newest);
}

int
main (void)
{
    test_found_by_id_until_forgotten ();
    test_early_ids ();
    test_early_ids_bounded ();
    return ovh_test_done ("test_hold");
}
