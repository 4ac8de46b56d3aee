/*  ovh_feed.c - single-producer, single-consumer ring with an eventfd
    wake-up (see ovh_feed.h).

    The wake-up is the classic pair of a flag and a re-check. The consumer
    raises 'sleeping', then looks at the ring; the producer publishes an
    item, then looks at 'sleeping'. Both sides order their store before
    their load with a sequentially consistent fence, so at least one of
    them sees the other: either the consumer sees the item and does not
    block, or the producer sees the flag and writes the eventfd. Only the
    side that swaps the flag back to false writes, so one sleep costs at
    most one write and one read.                                            */

#include <czmq.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include "ovh_log.h"
#include "ovh_feed.h"

struct _ovh_feed_t {
    void **slots;
    size_t mask;                    //  slots - 1, a power of two less one
    int wakeup;                     //  eventfd
    //  Each index on a cache line of its own: the two threads write one each
    _Alignas (64) atomic_size_t head;    //  next slot the producer writes
    _Alignas (64) atomic_size_t tail;    //  next slot the consumer reads
    _Alignas (64) atomic_bool sleeping;
};

ovh_feed_t *
ovh_feed_new (size_t capacity)
{
    size_t slots = 2;
    while (slots < capacity)
        slots *= 2;
    ovh_feed_t *self = (ovh_feed_t *) aligned_alloc (64, sizeof (ovh_feed_t));
    if (!self)
        return NULL;
    memset (self, 0, sizeof *self);
    self->mask = slots - 1;
    self->slots = (void **) calloc (slots, sizeof (void *));
    self->wakeup = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    atomic_init (&self->head, 0);
    atomic_init (&self->tail, 0);
    atomic_init (&self->sleeping, false);
    if (!self->slots || self->wakeup < 0) {
        ovh_feed_destroy (&self);
        return NULL;
    }
    return self;
}

void
ovh_feed_destroy (ovh_feed_t **self_p)
{
    assert (self_p);
    ovh_feed_t *self = *self_p;
    if (!self)
        return;
    if (self->wakeup >= 0)
        close (self->wakeup);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

int
ovh_feed_fd (ovh_feed_t *self)
{
    return self->wakeup;
}

bool
ovh_feed_has_room (ovh_feed_t *self)
{
    size_t head = atomic_load_explicit (&self->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit (&self->tail, memory_order_acquire);
    return head - tail <= self->mask;
}

int
ovh_feed_push (ovh_feed_t *self, void *item)
{
    size_t head = atomic_load_explicit (&self->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit (&self->tail, memory_order_acquire);
    if (head - tail > self->mask)
        return -1;                  //  full
    self->slots [head & self->mask] = item;
    atomic_store_explicit (&self->head, head + 1, memory_order_release);
    //  The item's store before the flag's load (see the top of the file)
    atomic_thread_fence (memory_order_seq_cst);
    if (atomic_load_explicit (&self->sleeping, memory_order_relaxed)
    &&  atomic_exchange (&self->sleeping, false)) {
        uint64_t one = 1;
        ssize_t rc;
        do
            rc = write (self->wakeup, &one, sizeof one);
        while (rc == -1 && errno == EINTR);
        //  An eventfd's counter cannot overflow at one write per sleep; a
        //  failure would leave the consumer asleep with the item, so say it
        if (rc != sizeof one)
            ovh_log_error ("feed wake-up failed: %s", strerror (errno));
    }
    return 0;
}

void *
ovh_feed_pop (ovh_feed_t *self)
{
    size_t tail = atomic_load_explicit (&self->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit (&self->head, memory_order_acquire);
    if (tail == head)
        return NULL;
    void *item = self->slots [tail & self->mask];
    atomic_store_explicit (&self->tail, tail + 1, memory_order_release);
    return item;
}

bool
ovh_feed_sleep (ovh_feed_t *self)
{
    atomic_store_explicit (&self->sleeping, true, memory_order_relaxed);
    //  The flag's store before the ring's load (see the top of the file)
    atomic_thread_fence (memory_order_seq_cst);
    size_t tail = atomic_load_explicit (&self->tail, memory_order_relaxed);
    if (atomic_load_explicit (&self->head, memory_order_acquire) != tail) {
        atomic_store_explicit (&self->sleeping, false, memory_order_relaxed);
        return false;
    }
    return true;
}

void
ovh_feed_awake (ovh_feed_t *self, bool signalled)
{
    atomic_store_explicit (&self->sleeping, false, memory_order_relaxed);
    if (signalled) {
        uint64_t count;
        //  EAGAIN: another wait already read it; nothing is lost, the
        //  ring is what the consumer looks at
        if (read (self->wakeup, &count, sizeof count) == -1 && errno != EAGAIN)
            ovh_log_error ("feed wake-up could not be read: %s", strerror (errno));
    }
}

size_t
ovh_feed_size (ovh_feed_t *self)
{
    size_t tail = atomic_load_explicit (&self->tail, memory_order_acquire);
    size_t head = atomic_load_explicit (&self->head, memory_order_acquire);
    return head - tail;
}
