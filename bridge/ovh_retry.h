/*  ovh_retry.h - the retry policy: which failures are worth another
    attempt, and when. Pure functions of the configuration and the result,
    so that a table of cases can test them.                                  */

#ifndef OVH_RETRY_H_INCLUDED
#define OVH_RETRY_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "ovh_config.h"
#include "ovh_sender.h"

//  Connection errors, timeouts, 408, 429 and 5xx may succeed later; other
//  statuses will not
bool
    ovh_retry_worth (const ovh_result_t *result);

//  Milliseconds to wait before the next attempt, after 'failures' failed
//  attempts (1, 2, ...): initial x 2^(failures-1) up to the cap, with
//  +-jitter %; a Retry-After on 429 or 503 replaces it, bounded by twice
//  the cap.
//  'random' is uniform in [0, 1).
int64_t
    ovh_retry_delay (const ovh_config_t *config, int failures,
                     const ovh_result_t *result, double random);

//  Seconds a Retry-After header value asks to wait, at time 'now' (Unix
//  seconds): delay-seconds saturated at INT64_MAX, an HTTP-date in the past
//  is 0; -1 when the value is neither
int64_t
    ovh_retry_after_parse (const char *value, int64_t now);

#endif
