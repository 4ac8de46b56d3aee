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
//  seconds): delay-seconds (digits only) saturated at INT64_MAX, or an
//  HTTP-date in any of RFC 9110's three forms (IMF-fixdate, RFC 850,
//  asctime), one in the past being 0; -1 when the value is neither, read
//  strictly: no sign, point, exponent, hex, blank or trailing text, no
//  date that does not exist or whose day name is wrong
int64_t
    ovh_retry_after_parse (const char *value, int64_t now);

//  The same, and an invalid value is logged as a warning: the first one,
//  then at most one line per 10 minutes with the count since
int64_t
    ovh_retry_after_read (const char *value, int64_t now);

#endif
