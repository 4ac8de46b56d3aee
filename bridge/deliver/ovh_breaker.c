/*  ovh_breaker.c - circuit breaker for the endpoint.                       */

#include <czmq.h>
#include "ovh_breaker.h"

struct _ovh_breaker_t {
    int threshold;
    int64_t initial;
    int64_t max;
    int failures;               //  consecutive
    bool open;
    int64_t interval;           //  between probes
    int64_t next_probe;
    bool probing;               //  a probe is in flight
};

ovh_breaker_t *
ovh_breaker_new (int threshold, int64_t initial_ms, int64_t max_ms)
{
    ovh_breaker_t *self = (ovh_breaker_t *) zmalloc (sizeof (ovh_breaker_t));
    if (!self)
        return NULL;
    self->threshold = threshold;
    self->initial = initial_ms > 0 ? initial_ms : 1;
    self->max = max_ms > self->initial ? max_ms : self->initial;
    self->next_probe = -1;
    return self;
}

void
ovh_breaker_destroy (ovh_breaker_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

bool
ovh_breaker_record (ovh_breaker_t *self, bool success, int64_t now)
{
    if (success) {
        self->failures = 0;
        self->probing = false;
        if (!self->open)
            return false;
        self->open = false;
        self->next_probe = -1;
        return true;
    }
    self->failures++;
    if (self->open) {
        //  A failed probe: wait longer before the next one. Failures of
        //  requests that were in flight when the circuit opened change
        //  nothing
        if (self->probing) {
            self->probing = false;
            self->interval = self->interval * 2 < self->max ? self->interval * 2 : self->max;
            self->next_probe = now + self->interval;
        }
        return false;
    }
    if (self->threshold > 0 && self->failures >= self->threshold) {
        self->open = true;
        self->interval = self->initial;
        self->next_probe = now + self->interval;
        return true;
    }
    return false;
}

bool
ovh_breaker_allows (ovh_breaker_t *self, int64_t now, size_t busy)
{
    if (!self->open)
        return true;
    if (busy > 0 || now < self->next_probe)
        return false;
    //  This is the probe; until it answers, no other
    self->probing = true;
    self->next_probe = now + self->interval;
    return true;
}

bool
ovh_breaker_open (ovh_breaker_t *self)
{
    return self->open;
}

int64_t
ovh_breaker_next_probe (ovh_breaker_t *self)
{
    return self->open ? self->next_probe : -1;
}

int64_t
ovh_breaker_interval (ovh_breaker_t *self)
{
    return self->interval;
}
