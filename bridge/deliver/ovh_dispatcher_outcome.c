/*  ovh_dispatcher_outcome.c - what follows an attempt: a delivery is
    counted and leaves the spool; a failure is logged (one line, OpenVidu's
    text first) and retried after its backoff, or buried as a dead letter,
    or dropped (docs/delivery.md, durability.md).                                  */

#include <czmq.h>
#include <curl/curl.h>
#include "ovh_log.h"
#include "ovh_dispatcher_private.h"
#include "ovh_retry.h"

//  A key as logs may show it, written into 'buffer' (ovh_shown: no control
//  characters, no invalid UTF-8, cut to the buffer); "(none)" for no key
static void
s_shown_key (const ovh_item_t *item, char *buffer, size_t size)
{
    if (item->has_key)
        ovh_shown (buffer, size, item->key, item->key_size);
    else
        snprintf (buffer, size, "(none)");
}

//  What a JSON log line of a failed attempt carries besides its text, for
//  log shippers to filter on (the text says the same in words)
#define FAILURE_FIELDS(item, key, result, attempts, outcome) OVH_LOG_FIELDS ( \
    OVH_LOG_STR ("event", (item)->type->name), OVH_LOG_STR ("event_id", (item)->id), \
    OVH_LOG_STR ("session", (key)), OVH_LOG_INT ("status", (result)->status), \
    OVH_LOG_STR ("error", (result)->curl_code ? (result)->error : ""), \
    OVH_LOG_INT ("attempt", (item)->attempts), OVH_LOG_INT ("attempts", (attempts)), \
    OVH_LOG_STR ("outcome", (outcome)))

//  ---------------------------------------------------------------------
//  After an attempt

//  An item is finished: free it and give its room back to the intake
static void
s_release (ovh_dispatcher_t *self, ovh_item_t *item)
{
    ovh_item_t *finished = ovh_lanes_done (self->lanes, item);
    if (self->hold)
        ovh_hold_forget (self->hold, finished);
    if (!self->spool) {
        atomic_fetch_sub (&self->held_bytes, ovh_item_size (finished));
        atomic_fetch_sub (&self->held_items, 1);
    }
    ovh_item_destroy (&finished);
}

//  An item is finished for good (delivered, dead-lettered or dropped, not
//  cut short): the pair's standby hears of it, then it is released
static void
s_finish (ovh_dispatcher_t *self, ovh_item_t *item)
{
    ovh_dispatcher_finished_fn *fn = atomic_load_explicit (&self->finished_fn,
                                                           memory_order_acquire);
    if (fn)
        fn (atomic_load_explicit (&self->finished_arg, memory_order_relaxed), item);
    s_release (self, item);
}

//  Keep a dead event where the operator can find and resend it, and count
//  it once: a dead letter if kept, failed if not, and neither if it stays
//  in the spool (it is sent again at the next start: still queued)
static const char *
s_bury (ovh_dispatcher_t *self, ovh_item_t *item, const char *error)
{
    if (self->backlog && item->spool_row) {
        if (ovh_backlog_bury (self->backlog, item, error) == 0) {
            ovh_dispatcher_count (self, item, OVH_OUTCOME_DEAD);
            return "dead letter kept in the spool";
        }
        return "dead letter could NOT be kept: the event stays in the spool";
    }
    if (self->deadletter && ovh_deadletter_write (self->deadletter, item, error) == 0) {
        ovh_dispatcher_count (self, item, OVH_OUTCOME_DEAD);
        return "dead letter written";
    }
    ovh_dispatcher_count (self, item, OVH_OUTCOME_FAILED);
    return self->spool || self->deadletter ? "dead letter could NOT be kept: event lost"
                                           : "event dropped (no --spool or --dead-letter)";
}

static void
s_failed (ovh_dispatcher_t *self, ovh_item_t *item, const ovh_result_t *result)
{
    atomic_fetch_add (&self->failed_attempts, 1);
    if (ovh_breaker_record (self->breaker, false, zclock_mono ())) {
        atomic_store_explicit (&self->circuit_open, true, memory_order_relaxed);
        ovh_log_warning ("circuit open after %d consecutive failures: pausing deliveries, "
                         "probing every %.1f s", self->config->breaker_threshold,
                         ovh_breaker_interval (self->breaker) / 1000.0);
    }
    char error [CURL_ERROR_SIZE + 160];
    const char *endpoint = self->sender_class->endpoint (self->sender);
    if (result->curl_code == 0)
        snprintf (error, sizeof error, "Unexpected HTTP status from callback endpoint %s: "
                  "expected 200, received %ld", endpoint, result->status);
    else
        snprintf (error, sizeof error, "Error sending to callback endpoint %s: %s",
                  endpoint, result->error);

    char key [80];
    s_shown_key (item, key, sizeof key);
    int attempts = 1 + self->config->retries;
    if (self->config->retries == 0) {
        //  OpenVidu's behaviour: one attempt, one line
        const char *kept = s_bury (self, item, error);
        ovh_log_fields (OVH_LOG_ERROR, FAILURE_FIELDS (item, key, result, attempts, kept),
                        "%s (event %s, key %s, id %s); %s", error, item->type->name, key,
                        item->id, kept);
        s_finish (self, item);
        return;
    }
    const char *verdict = NULL;
    int64_t delay = 0;
    if (!ovh_retry_worth (result))
        verdict = "final status";
    else
    if (item->attempts >= attempts)
        verdict = "giving up";
    else {
        delay = ovh_retry_delay (self->config, item->attempts, result, randof (1000000) / 1e6);
        if (zclock_time () + delay - item->accepted_ms > self->config->retry_max_age_ms)
            verdict = "too old to retry";
    }
    if (verdict) {
        const char *kept = s_bury (self, item, error);
        ovh_log_fields (OVH_LOG_ERROR, FAILURE_FIELDS (item, key, result, attempts, verdict),
                        "%s (event %s, key %s, id %s, attempt %d/%d; %s: %s)", error,
                        item->type->name, key, item->id, item->attempts, attempts, verdict,
                        kept);
        s_finish (self, item);
        return;
    }
    ovh_log_fields (OVH_LOG_ERROR, FAILURE_FIELDS (item, key, result, attempts, "retry"),
                    "%s (event %s, key %s, id %s, attempt %d/%d; retry in %.1f s)", error,
                    item->type->name, key, item->id, item->attempts, attempts, delay / 1000.0);
    //  The lane stays busy while its head waits: later events of the key
    //  keep their place, other keys go on
    item->due = zclock_mono () + delay;
    ovh_dispatcher_count (self, item, OVH_OUTCOME_RETRIED);
    if (self->backlog)
        ovh_backlog_retrying (self->backlog, item);
    if (ovh_schedule_add (self->schedule, item)) {
        ovh_log_error ("out of memory scheduling a retry of %s: %s", item->id,
                       s_bury (self, item, "out of memory"));
        s_finish (self, item);
    }
}

//  Publish (the bus read) to delivery, bucketed as ovh_metrics_observe_into
//  does: the bridge core keeps its counts, the metrics only read them
const int64_t ovh_dispatcher_latency_bounds [OVH_LATENCY_BUCKETS] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 300000000
};

static void
s_observe_latency (ovh_dispatcher_t *self, const ovh_item_t *item)
{
    int64_t latency = ovh_item_clock_us () - item->accepted_us;
    if (latency < 0)
        latency = 0;            //  the wall clock was set back
    size_t bucket = 0;
    while (bucket < OVH_LATENCY_BUCKETS && latency > ovh_dispatcher_latency_bounds [bucket])
        bucket++;
    atomic_uint_least64_t *slots = self->counters.latency;
    atomic_fetch_add_explicit (&slots [bucket], 1, memory_order_relaxed);
    atomic_fetch_add_explicit (&slots [OVH_LATENCY_BUCKETS + 1], (uint64_t) latency,
                               memory_order_relaxed);
}

void
ovh_dispatcher_done (void *arg, ovh_item_t *item, const ovh_result_t *result)
{
    ovh_dispatcher_t *self = (ovh_dispatcher_t *) arg;
    //  An answer's time tells how the endpoint queues; a connection's
    //  failure says nothing of it
    if (result->status > 0)
        ovh_limiter_sample (self->limiter, result->usecs);
    if (result->status >= OVH_STATUS_FIRST && result->status < OVH_STATUS_FIRST + OVH_STATUSES)
        atomic_fetch_add_explicit (&self->counters.statuses [result->status - OVH_STATUS_FIRST],
                                   1, memory_order_relaxed);
    if (result->ok) {
        ovh_dispatcher_count (self, item, OVH_OUTCOME_DELIVERED);
        s_observe_latency (self, item);
        if (ovh_breaker_record (self->breaker, true, zclock_mono ())) {
            atomic_store_explicit (&self->circuit_open, false, memory_order_relaxed);
            ovh_log_info ("circuit closed: the endpoint answered, deliveries resume");
        }
        if (self->config->verbose) {
            char key [80];
            s_shown_key (item, key, sizeof key);
            ovh_log_fields (OVH_LOG_INFO, OVH_LOG_FIELDS (OVH_LOG_STR ("event", item->type->name),
                            OVH_LOG_STR ("event_id", item->id), OVH_LOG_STR ("session", key),
                            OVH_LOG_INT ("status", result->status),
                            OVH_LOG_INT ("attempt", item->attempts),
                            OVH_LOG_STR ("outcome", "delivered")),
                            "delivered %s (key %s, id %s): %ld in %.1f ms", item->type->name,
                            key, item->id, result->status, result->usecs / 1000.0);
        }
        if (self->backlog)
            ovh_backlog_delivered (self->backlog, item);
        s_finish (self, item);
    }
    else
    if (result->curl_code == CURLE_ABORTED_BY_CALLBACK) {
        //  Cut short at shutdown: undelivered (still in the spool, if any)
        s_release (self, item);
    }
    else
        s_failed (self, item, result);
}
