/*  ovh_retry.c - the retry policy.                                         */

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
        int64_t asked = result->retry_after * 1000;
        return asked < 2 * cap ? asked : 2 * cap;
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
