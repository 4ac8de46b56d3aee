/*  test_ratelog.c - rate-limited warnings (ovh_ratelog): a budget per
    reason, so a flood of one kind cannot hide another.                     */

#include "ovh_test.h"
#include "ovh_ratelog.h"

static void
test_ratelog (void)
{
    ovh_ratelog_t *log = ovh_ratelog_new (2, 60000);
    CHECK (ovh_ratelog_warn (log, 0, "first %d", 0) == 1);
    int logged = 0;
    for (int index = 0; index < 1000; index++)
        logged += ovh_ratelog_warn (log, 0, "flood %d", index);
    CHECK (logged == 0);
    //  Another reason has a budget of its own
    CHECK (ovh_ratelog_warn (log, 1, "other") == 1);
    ovh_ratelog_destroy (&log);

    log = ovh_ratelog_new (1, 0);
    CHECK (ovh_ratelog_warn (log, 0, "a") == 1);
    CHECK (ovh_ratelog_warn (log, 0, "b") == 1);
    ovh_ratelog_destroy (&log);
}

int
main (void)
{
    test_ratelog ();
    return ovh_test_done ("test_ratelog");
}
