/*  ovh_breaker.h - circuit breaker for the endpoint. After 'threshold'
    consecutive failed attempts it opens: deliveries pause, and one probe at
    a time goes out, at growing intervals (initial, doubling up to max). The
    first success closes it.                                                 */

#ifndef OVH_BREAKER_H_INCLUDED
#define OVH_BREAKER_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct _ovh_breaker_t ovh_breaker_t;

//  threshold 0: never opens
ovh_breaker_t *
    ovh_breaker_new (int threshold, int64_t initial_ms, int64_t max_ms);
void
    ovh_breaker_destroy (ovh_breaker_t **self_p);

//  Record an attempt's outcome at 'now' (ms). Returns true when this
//  changed the state (opened, or closed), for the log.
bool
    ovh_breaker_record (ovh_breaker_t *self, bool success, int64_t now);

//  May a request start now, with 'busy' requests in flight? When open,
//  only one probe, once it is due; starting it counts as the probe.
bool
    ovh_breaker_allows (ovh_breaker_t *self, int64_t now, size_t busy);

bool
    ovh_breaker_open (ovh_breaker_t *self);
//  When the next probe is due (open only), else -1
int64_t
    ovh_breaker_next_probe (ovh_breaker_t *self);
//  Current gap between probes, ms
int64_t
    ovh_breaker_interval (ovh_breaker_t *self);

#endif
