/*  test_feed.c - the intake→dispatcher ring (ovh_feed): bounded, in order,
    and a consumer that sleeps in epoll_wait on its eventfd is always woken
    by a push (no lost wake-up), with a real second thread and a real
    epoll set, as the dispatcher uses it.                                   */

#include <czmq.h>
#include <pthread.h>
#include <sys/epoll.h>
#include "ovh_test.h"
#include "ovh_feed.h"

#define ITEMS           2000000

static void
test_bounds (void)
{
    ovh_feed_t *feed = ovh_feed_new (5);        //  8 slots
    REQUIRE (feed);
    CHECK (ovh_feed_pop (feed) == NULL);
    size_t pushed = 0;
    while (ovh_feed_push (feed, (void *) (uintptr_t) (pushed + 1)) == 0)
        pushed++;
    CHECK (pushed == 8);
    CHECK (!ovh_feed_has_room (feed));
    CHECK (ovh_feed_size (feed) == 8);
    //  FIFO, across the wrap of the indexes
    for (size_t round = 0; round < 100; round++) {
        uintptr_t first = (uintptr_t) ovh_feed_pop (feed);
        CHECK (first == round + 1);
        CHECK (ovh_feed_has_room (feed));
        CHECK (ovh_feed_push (feed, (void *) (uintptr_t) (pushed++ + 1)) == 0);
    }
    //  Nothing was pushed while no one slept: no wake-up was written
    CHECK (ovh_feed_sleep (feed) == false);     //  items wait
    uint64_t count;
    CHECK (read (ovh_feed_fd (feed), &count, sizeof count) == -1 && errno == EAGAIN);
    while (ovh_feed_pop (feed))
        ;
    CHECK (ovh_feed_sleep (feed) == true);
    CHECK (ovh_feed_push (feed, (void *) 1) == 0);
    CHECK (read (ovh_feed_fd (feed), &count, sizeof count) == sizeof count && count == 1);
    ovh_feed_awake (feed, false);
    ovh_feed_destroy (&feed);
    CHECK (feed == NULL);
}

typedef struct {
    ovh_feed_t *feed;
    size_t full;                    //  pushes refused, then tried again
} producer_t;

static void *
s_producer (void *arg)
{
    producer_t *producer = (producer_t *) arg;
    for (uintptr_t next = 1; next <= ITEMS; next++) {
        while (ovh_feed_push (producer->feed, (void *) next) == -1) {
            producer->full++;
            sched_yield ();
        }
        //  Now and then a pause, so that the consumer goes to sleep often
        if (next % 1000 == 0)
            usleep (50);
    }
    return NULL;
}

//  The consumer blocks with no timeout at all: a lost wake-up hangs the
//  test (ctest's timeout fails it)
static void
test_threads (void)
{
    ovh_feed_t *feed = ovh_feed_new (1024);
    REQUIRE (feed);
    int epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    REQUIRE (epoll_fd >= 0);
    struct epoll_event event = { .events = EPOLLIN, .data.u64 = 7 };
    REQUIRE (epoll_ctl (epoll_fd, EPOLL_CTL_ADD, ovh_feed_fd (feed), &event) == 0);
    producer_t producer = { feed, 0 };
    pthread_t thread;
    REQUIRE (pthread_create (&thread, NULL, s_producer, &producer) == 0);
    uintptr_t expected = 1;
    size_t sleeps = 0, waits = 0;
    bool in_order = true;
    while (expected <= ITEMS) {
        void *item;
        while ((item = ovh_feed_pop (feed))) {
            in_order &= (uintptr_t) item == expected;
            expected++;
        }
        if (expected > ITEMS)
            break;
        bool sleeping = ovh_feed_sleep (feed);
        int count = 0;
        if (sleeping) {
            sleeps++;
            count = epoll_wait (epoll_fd, &event, 1, -1);
            waits++;
        }
        ovh_feed_awake (feed, count == 1);
    }
    pthread_join (thread, NULL);
    CHECK (in_order);
    CHECK_MSG (expected == ITEMS + 1, "took %zu of %d", (size_t) expected - 1, ITEMS);
    CHECK (ovh_feed_size (feed) == 0);
    printf ("%d items: consumer slept %zu times, producer found it full %zu times\n",
            ITEMS, sleeps, producer.full);
    close (epoll_fd);
    ovh_feed_destroy (&feed);
}

int
main (void)
{
    test_bounds ();
    test_threads ();
    return ovh_test_done ("test_feed");
}
