/*  ovh_feed.h - the intake's hand-over to the dispatcher: a bounded ring
    of pointers for exactly one producer thread and one consumer thread,
    with an eventfd the consumer can wait on in its epoll set.

    It replaced an inproc ZeroMQ PAIR socket, whose mailbox checks cost a
    getpid (libzmq's fork check) and a poll each time a side found it
    asleep, and which needed the dispatcher's zmq_poll. Here a push is two
    atomic stores and, only when the consumer said it is going to sleep,
    one write to the eventfd: at most one per wake-up of the consumer, for
    all the items pushed meanwhile.

    The consumer's protocol: before it blocks, ovh_feed_sleep (false: items
    wait, do not block); after it wakes, ovh_feed_awake; pop until NULL.    */

#ifndef OVH_FEED_H_INCLUDED
#define OVH_FEED_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _ovh_feed_t ovh_feed_t;

//  Room for at least 'capacity' items (rounded up to a power of two).
//  NULL when out of memory or out of descriptors.
ovh_feed_t *
    ovh_feed_new (size_t capacity);
//  Items still in the ring are the caller's: pop them first
void
    ovh_feed_destroy (ovh_feed_t **self_p);

//  The eventfd, readable after a push that found the consumer asleep
int
    ovh_feed_fd (ovh_feed_t *self);

//  Producer: append an item. 0, or -1 when the ring is full (or the wake-up
//  could not be written: then nothing was appended).
int
    ovh_feed_push (ovh_feed_t *self, void *item);
//  Producer: is there room for one more?
bool
    ovh_feed_has_room (ovh_feed_t *self);

//  Consumer: the oldest item, or NULL when the ring is empty
void *
    ovh_feed_pop (ovh_feed_t *self);
//  Consumer: about to block. Returns false when items already wait (do
//  not block then); true when a later push will make the eventfd readable.
bool
    ovh_feed_sleep (ovh_feed_t *self);
//  Consumer: back from the wait; 'signalled' when the eventfd was readable
//  (it is read, so that a level-triggered wait does not fire again)
void
    ovh_feed_awake (ovh_feed_t *self, bool signalled);

//  Items in the ring (either thread; a snapshot)
size_t
    ovh_feed_size (ovh_feed_t *self);

#endif
