/*  ovh_retry.c - the retry policy.                                         */

#include <curl/curl.h>
#include <ctype.h>
#include "ovh_retry.h"

bool
ovh_retry_worth (const ovh_result_t *result)
{
    if (result->curl_code != 0)
        return true;            //  connect errors, timeouts, resets...
    long status = result->status;
    return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

int64_t
ovh_retry_delay (const ovh_config_t *config, int failures,
                 const ovh_result_t *result, double random)
{
    int64_t cap = config->retry_max_ms;
    //  Retry-After means something on 429 and 503 (RFC 9110); elsewhere it
    //  is ignored
    bool honoured = result->status == 429 || result->status == 503;
    if (honoured && result->retry_after >= 0) {
        //  Compared in seconds before the product: an endpoint may ask for
        //  any number up to INT64_MAX, and seconds x 1000 would overflow
        //  into a negative delay, i.e. a retry storm
        int64_t bound = 2 * cap;
        if (result->retry_after > bound / 1000)
            return bound;
        int64_t asked = result->retry_after * 1000;
        return asked < bound ? asked : bound;
    }
    int64_t delay = config->retry_initial_ms;
    for (int step = 1; step < failures && delay < cap; step++)
        delay *= 2;
    if (delay > cap)
        delay = cap;
    //  Spread retries of many events that failed together
    double spread = config->retry_jitter / 100.0 * (2 * random - 1);
    delay = (int64_t) ((double) delay * (1 + spread));
    return delay > 0 ? delay : 0;
}

int64_t
ovh_retry_after_parse (const char *value, int64_t now)
{
    assert (value);
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit ((unsigned char) *value)) {
        //  delay-seconds: any number of digits, saturated rather than
        //  wrapped or refused (libcurl's own reading gives 0 past INT64_MAX)
        int64_t seconds = 0;
        for (; isdigit ((unsigned char) *value); value++) {
            int digit = *value - '0';
            seconds = seconds > (INT64_MAX - digit) / 10 ? INT64_MAX : seconds * 10 + digit;
        }
        while (*value == ' ' || *value == '\t')
            value++;
        return *value ? -1 : seconds;
    }
    //  HTTP-date: how far in the future; a date past means now
    time_t date = curl_getdate (value, NULL);
    if (date == -1)
        return -1;
    return (int64_t) date > now ? (int64_t) date - now : 0;
}
