/*  ovh_limiter.h - how many requests the dispatcher keeps in flight: up to
    --workers, fewer when the endpoint only queues the extra ones.

    An endpoint that serves requests one after another (or a few at a
    time) answers 1,024 requests in flight no sooner than 32: each waits
    for the ones before it, and the bridge pays the kernel's cost of a
    thousand busy connections for nothing (+20% CPU per event, measured:
    docs/benchmarks.md). One that serves them in parallel answers each in
    the same time however many there are.

    The limiter tells them apart from the response times. It works in
    windows of at least max (limit, 32) responses, and only in windows
    where the limit held work back (demand above it): below that, the
    times say nothing of it. After a step, the responses to requests
    started before it are left out. After each step of the limit (by 3/2 or
    2/3) it compares the mean response time with the window before: if
    the time followed the limit (elasticity above 0.6: the extra requests
    only queued) the limit goes down, else up. Never below min (workers,
    32), where it starts the same way from the other side (a step up, to
    see); never above --workers, where it starts, and where it steps down
    every 8 windows to see whether fewer would do. So with --workers 32 or
    fewer it never limits anything.

    The dispatcher's thread only: no locks.                                */

#ifndef OVH_LIMITER_H_INCLUDED
#define OVH_LIMITER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  The floor: below this many workers the limiter never limits
#define OVH_LIMITER_FLOOR       32

typedef struct _ovh_limiter_t ovh_limiter_t;

ovh_limiter_t *
    ovh_limiter_new (size_t workers);
void
    ovh_limiter_destroy (ovh_limiter_t **self_p);

//  True when one more request may start with 'busy' in flight; when not,
//  notes that the limit held work back (call it only when work waits)
bool
    ovh_limiter_allows (ovh_limiter_t *self, size_t busy);

//  A response came after 'usecs' (any status: an answer, not an error
//  of the connection, whose time says nothing of the endpoint's queue)
void
    ovh_limiter_sample (ovh_limiter_t *self, int64_t usecs);

//  The limit now
size_t
    ovh_limiter_limit (ovh_limiter_t *self);

//  How many times the limit changed, and its lowest value so far (for the
//  stopped: line and tests)
uint64_t
    ovh_limiter_changes (ovh_limiter_t *self);
size_t
    ovh_limiter_lowest (ovh_limiter_t *self);

#endif
