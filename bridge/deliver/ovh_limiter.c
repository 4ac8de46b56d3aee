/*  ovh_limiter.c - requests in flight: up to --workers, fewer when the
    endpoint only queues the extra ones (ovh_limiter.h).                   */

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include "ovh_limiter.h"

//  A step changes the limit by this factor (up) or its inverse (down):
//  large enough that a queueing endpoint's time moves well beyond the
//  noise of a shared machine (log 1.5 = 0.41)
#define STEP            1.5
//  Elasticity of the response time to the limit above which the extra
//  requests only queued: 1 for an endpoint serving one at a time, 0 for
//  one serving all in parallel
#define QUEUED          0.6
//  Windows spent at --workers (or at the floor) before a step to see
#define STAY            8
#define WINDOW_MIN      32

struct _ovh_limiter_t {
    size_t workers, floor;
    size_t limit;
    //  The window being measured
    uint64_t samples;
    double sum;                     //  of response times, µs
    bool held_back;                 //  the limit held work back in it
    //  Responses to requests started before the last step, left out: the
    //  window after a step measures the new limit only
    uint64_t skip;
    //  The last measured window: its limit and mean time (0: none)
    size_t last_limit;
    double last_mean;
    unsigned stayed;                //  windows at a bound since the last step
    uint64_t changes;
    size_t lowest;
};

ovh_limiter_t *
ovh_limiter_new (size_t workers)
{
    assert (workers > 0);
    ovh_limiter_t *self = (ovh_limiter_t *) calloc (1, sizeof (ovh_limiter_t));
    if (!self)
        return NULL;
    self->workers = workers;
    self->floor = workers < OVH_LIMITER_FLOOR ? workers : OVH_LIMITER_FLOOR;
    self->limit = workers;
    self->lowest = workers;
    return self;
}

void
ovh_limiter_destroy (ovh_limiter_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

bool
ovh_limiter_allows (ovh_limiter_t *self, size_t busy)
{
    if (busy < self->limit)
        return true;
    self->held_back = true;
    return false;
}

static void
s_set (ovh_limiter_t *self, double limit)
{
    size_t next = (size_t) llround (limit);
    if (next < self->floor)
        next = self->floor;
    if (next > self->workers)
        next = self->workers;
    if (next != self->limit) {
        self->skip = self->limit;   //  in flight when it changed, at most
        self->limit = next;
        self->changes++;
        if (next < self->lowest)
            self->lowest = next;
    }
}

//  The window is measured: step the limit
static void
s_step (ovh_limiter_t *self, double mean)
{
    size_t limit = self->limit;
    bool at_bound = limit == self->workers || limit == self->floor;
    if (self->last_mean > 0 && self->last_limit != limit) {
        double elasticity = log (mean / self->last_mean)
                          / log ((double) limit / (double) self->last_limit);
        s_set (self, elasticity > QUEUED ? limit / STEP : limit * STEP);
        self->stayed = 0;
    }
    else
    if (!at_bound || self->last_mean == 0 || ++self->stayed >= STAY) {
        //  Nothing to compare with (the first window, or a step the bound
        //  stopped): a step to see, away from the bound (at once the
        //  first time, then every STAY windows)
        s_set (self, limit == self->floor && limit < self->workers ? limit * STEP : limit / STEP);
        self->stayed = 0;
    }
    self->last_limit = limit;
    self->last_mean = mean;
}

void
ovh_limiter_sample (ovh_limiter_t *self, int64_t usecs)
{
    if (self->floor == self->workers)
        return;                     //  nothing to choose
    if (self->skip) {
        if (--self->skip == 0)
            self->held_back = false;
        return;
    }
    self->samples++;
    self->sum += (double) (usecs > 0 ? usecs : 1);
    uint64_t window = self->limit > WINDOW_MIN ? self->limit : WINDOW_MIN;
    if (self->samples < window)
        return;
    //  A window where the limit held nothing back says nothing of it
    if (self->held_back)
        s_step (self, self->sum / (double) self->samples);
    self->samples = 0;
    self->sum = 0;
    self->held_back = false;
}

size_t
ovh_limiter_limit (ovh_limiter_t *self)
{
    return self->limit;
}

uint64_t
ovh_limiter_changes (ovh_limiter_t *self)
{
    return self->changes;
}

size_t
ovh_limiter_lowest (ovh_limiter_t *self)
{
    return self->lowest;
}
