/*  test_schedule.c - items waiting for a retry (ovh_schedule), served by
    due time.                                                                */

#include "ovh_test.h"
#include "ovh_schedule.h"

static void
test_schedule (void)
{
    ovh_schedule_t *schedule = ovh_schedule_new ();
    ovh_item_t items [100];
    memset (items, 0, sizeof items);
    //  Dues in a scrambled order
    for (int index = 0; index < 100; index++) {
        items [index].due = (index * 37) % 100;
        CHECK (ovh_schedule_add (schedule, &items [index]) == 0);
    }
    CHECK (ovh_schedule_size (schedule) == 100);
    CHECK (ovh_schedule_next (schedule) == 0);
    CHECK (ovh_schedule_pop_due (schedule, -1) == NULL);
    int64_t last = -1;
    int popped = 0;
    ovh_item_t *item;
    while ((item = ovh_schedule_pop_due (schedule, 49))) {
        CHECK (item->due >= last && item->due <= 49);
        last = item->due;
        popped++;
    }
    CHECK (popped == 50);
    CHECK (ovh_schedule_next (schedule) == 50);
    while (ovh_schedule_pop_due (schedule, 1000))
        popped++;
    CHECK (popped == 100);
    CHECK (ovh_schedule_next (schedule) == -1);
    ovh_schedule_destroy (&schedule);
    CHECK (schedule == NULL);
}

int
main (void)
{
    test_schedule ();
    return ovh_test_done ("test_schedule");
}
