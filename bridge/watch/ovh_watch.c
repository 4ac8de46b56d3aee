/*  ovh_watch.c - the bridge's metrics and readiness checks.

    Counters borrow the intake's and the dispatcher's own slots; gauges
    are set at each scrape from what those classes publish for other
    threads (atomics only: the scrape runs on the server's thread).       */

#include <sys/stat.h>
#include "ovh_watch.h"
#include "ovh_metrics.h"
#include "ovh_statusserver.h"

struct _ovh_watch_t {
    ovh_config_t *config;
    ovh_metrics_t *metrics;
    ovh_statusserver_t *server;
    ovh_intake_t *intake;
    ovh_dispatcher_t *dispatcher;
    ovh_spool_t *spool;             //  NULL without one
    ovh_ha_t *ha;                   //  NULL when not one of a pair
    ovh_metric_t *ha_role, *ha_peer_up, *ha_held, *ha_released;
    char *spool_wal;                //  its write-ahead log's path
    uint64_t dead_at_start;         //  dead letters in the spool at start
    //  Gauges set at scrape time
    ovh_metric_t *lost, *queue_events, *queue_bytes, *spool_events, *spool_bytes,
                 *dead_letters, *breaker_open, *workers_busy, *workers_limit;
    //  Label values
    const char *types [OVH_INTAKE_TYPES];
    const char *reasons [OVH_DROP_REASONS];
    char status_text [OVH_STATUSES][4];
    const char *statuses [OVH_STATUSES];
};

static const char *const s_outcomes [OVH_OUTCOMES] = {
    [OVH_OUTCOME_DELIVERED] = "delivered", [OVH_OUTCOME_RETRIED] = "retried",
    [OVH_OUTCOME_DEAD] = "dead", [OVH_OUTCOME_FAILED] = "failed"
};

ovh_watch_t *
ovh_watch_new (ovh_config_t *config, char *error, size_t size)
{
    assert (config && config->metrics);
    ovh_watch_t *self = (ovh_watch_t *) zmalloc (sizeof (ovh_watch_t));
    if (!self) {
        snprintf (error, size, "out of memory");
        return NULL;
    }
    self->config = config;
    self->metrics = ovh_metrics_new ();
    if (self->metrics)
        self->server = ovh_statusserver_new (config->metrics, self->metrics, error, size);
    if (!self->server) {
        if (!self->metrics)
            snprintf (error, size, "out of memory");
        ovh_watch_destroy (&self);
    }
    return self;
}

void
ovh_watch_destroy (ovh_watch_t **self_p)
{
    assert (self_p);
    ovh_watch_t *self = *self_p;
    if (!self)
        return;
    ovh_statusserver_destroy (&self->server);
    ovh_metrics_destroy (&self->metrics);
    free (self->spool_wal);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------
//  At each scrape

static int64_t
s_file_size (const char *path)
{
    struct stat status;
    return path && stat (path, &status) == 0 ? (int64_t) status.st_size : 0;
}

static void
s_collect (void *arg)
{
    ovh_watch_t *self = (ovh_watch_t *) arg;
    ovh_metric_set (self->lost, 0, (int64_t) ovh_intake_lost (self->intake));
    uint64_t items, bytes;
    ovh_dispatcher_memory (self->dispatcher, &items, &bytes);
    ovh_metric_set (self->queue_events, 0, (int64_t) items);
    ovh_metric_set (self->queue_bytes, 0, (int64_t) bytes);
    ovh_dispatch_stats_t stats;
    ovh_dispatcher_stats (self->dispatcher, &stats);
    if (self->spool) {
        //  Everything accepted and not finished is in the spool
        ovh_metric_set (self->spool_events, 0, (int64_t) stats.queued);
        ovh_metric_set (self->spool_bytes, 0, s_file_size (ovh_spool_path (self->spool))
                                              + s_file_size (self->spool_wal));
    }
    ovh_metric_set (self->dead_letters, 0, (int64_t) (self->dead_at_start + stats.dead));
    ovh_metric_set (self->breaker_open, 0, ovh_dispatcher_circuit_open (self->dispatcher));
    ovh_metric_set (self->workers_busy, 0, (int64_t) ovh_dispatcher_busy (self->dispatcher));
    ovh_metric_set (self->workers_limit, 0, (int64_t) ovh_dispatcher_limit (self->dispatcher));
    if (self->ha) {
        ovh_metric_set (self->ha_role, 0, ovh_ha_role (self->ha));
        ovh_metric_set (self->ha_peer_up, 0, ovh_ha_peer_up (self->ha));
        ovh_metric_set (self->ha_held, 0, (int64_t) ovh_ha_held (self->ha));
        ovh_metric_set (self->ha_released, 0, (int64_t) stats.released);
    }
}

static bool
s_check_bus (void *arg, char *reason, size_t size)
{
    (void) arg;
    (void) reason;
    (void) size;
    return true;                //  the intake is open: bound, or connecting
}

static bool
s_check_spool (void *arg, char *reason, size_t size)
{
    ovh_watch_t *self = (ovh_watch_t *) arg;
    ovh_spool_state_t state = ovh_dispatcher_spool_state (self->dispatcher);
    if (state == OVH_SPOOL_FAILING)
        snprintf (reason, size, "the spool cannot be written: bus reads paused");
    else
    if (state == OVH_SPOOL_FULL)
        snprintf (reason, size, "the spool is full (--spool-max, or its disk): bus "
                  "reads paused");
    return state == OVH_SPOOL_OK;
}

static bool
s_check_circuit (void *arg, char *reason, size_t size)
{
    ovh_watch_t *self = (ovh_watch_t *) arg;
    if (!ovh_dispatcher_circuit_open (self->dispatcher))
        return true;
    snprintf (reason, size, "open: the endpoint failed %d times in a row; deliveries "
              "paused, probing", self->config->breaker_threshold);
    return false;
}

//  ---------------------------------------------------------------------
//  Registration

static ovh_metric_t *
s_add (ovh_watch_t *self, ovh_metric_type_t type, const char *name, const char *help,
       const ovh_metric_label_t *labels, size_t label_count, atomic_uint_least64_t *slots,
       char *error, size_t size, bool sparse)
{
    ovh_metric_spec_t spec = { .type = type, .name = name, .help = help, .labels = labels,
                               .label_count = label_count, .slots = (void *) slots,
                               .sparse = sparse };
    return ovh_metrics_add (self->metrics, &spec, error, size);
}

#define GAUGE(name, help) s_add (self, OVH_METRIC_GAUGE, name, help, NULL, 0, NULL, error, size, false)

//  The metrics whose counts the stages keep
static int
s_add_counters (ovh_watch_t *self, char *error, size_t size)
{
    ovh_dispatch_counters_t *counters =
        (ovh_dispatch_counters_t *) ovh_dispatcher_counters (self->dispatcher);
    ovh_metric_label_t events = { "event", self->types, OVH_INTAKE_TYPES };
    ovh_metric_label_t reasons = { "reason", self->reasons, OVH_DROP_REASONS };
    ovh_metric_label_t outcomes [2] = { { "event", self->types, OVH_CATALOG_SIZE },
                                        { "outcome", s_outcomes, OVH_OUTCOMES } };
    ovh_metric_spec_t codes = {
        .type = OVH_METRIC_COUNTER, .name = "ovhook_http_responses_total",
        .help = "Responses from the endpoint, by HTTP status (connection errors and "
                "timeouts have none).",
        .labels = &(ovh_metric_label_t) { "code", self->statuses, OVH_STATUSES },
        .label_count = 1, .slots = counters->statuses, .sparse = true };
    ovh_metric_spec_t latency = {
        .type = OVH_METRIC_HISTOGRAM, .name = "ovhook_delivery_duration_seconds",
        .help = "Time from the bus read of an event to its successful delivery, retries "
                "included.", .decimals = 6, .bounds = ovh_dispatcher_latency_bounds,
        .bound_count = OVH_LATENCY_BUCKETS, .slots = counters->latency };
    if (!s_add (self, OVH_METRIC_COUNTER, "ovhook_events_received_total", "Messages read "
                "from the bus, by event type ('unknown': a topic that is no type).",
                &events, 1, ovh_intake_received_counters (self->intake), error, size, false)
    ||  !s_add (self, OVH_METRIC_COUNTER, "ovhook_events_dropped_total", "Messages dropped "
                "before the queue, by reason (reasons that never happened are left out).", &reasons, 1,
                ovh_intake_dropped_counters (self->intake), error, size, true)
    ||  !s_add (self, OVH_METRIC_COUNTER, "ovhook_deliveries_total", "Events delivered, "
                "dead (kept as dead letters), failed (given up, not kept), and attempts "
                "retried, by event type.", outcomes, 2, counters->outcomes, error, size, false)
    ||  !ovh_metrics_add (self->metrics, &codes, error, size)
    ||  !ovh_metrics_add (self->metrics, &latency, error, size))
        return -1;
    return 0;
}

//  Fixed values and the gauges set at scrape time
static int
s_add_gauges (ovh_watch_t *self, char *error, size_t size)
{
    static const char *const version [] = { OVHOOK_VERSION_STRING };
    ovh_metric_label_t label = { "version", version, 1 };
    ovh_metric_t *info = s_add (self, OVH_METRIC_GAUGE, "ovhook_build_info", "The bridge's "
                                "version, as a label; always 1.", &label, 1, NULL, error, size, false);
    ovh_metric_t *workers = GAUGE ("ovhook_workers", "Requests in flight at most (--workers).");
    ovh_metric_t *capacity = GAUGE ("ovhook_queue_capacity_events", "Events the memory "
                                    "queue holds at most (--queue-events).");
    ovh_metric_t *capacity_bytes = GAUGE ("ovhook_queue_capacity_bytes", "Bytes of bodies "
                                          "the memory queue holds at most (--queue-bytes).");
    self->lost = s_add (self, OVH_METRIC_COUNTER, "ovhook_bus_lost_total", "Messages the bus "
                        "lost, from envelope seq gaps.", NULL, 0, NULL, error, size, false);
    self->queue_events = GAUGE ("ovhook_queue_events", "Events in memory, waiting or in "
                                "flight.");
    self->queue_bytes = GAUGE ("ovhook_queue_bytes", "Bytes of bodies in memory, waiting "
                               "or in flight.");
    self->spool_events = GAUGE ("ovhook_spool_events", "Events in the spool, not yet "
                                "delivered (0 without a spool).");
    self->spool_bytes = GAUGE ("ovhook_spool_bytes", "Size of the spool's files (database "
                               "and write-ahead log).");
    self->dead_letters = GAUGE ("ovhook_dead_letters", "Dead letters: in the spool, or "
                                "written to the dead-letter file by this run.");
    self->breaker_open = GAUGE ("ovhook_breaker_open", "1 while the circuit breaker is "
                                "open (deliveries paused), else 0.");
    self->workers_busy = GAUGE ("ovhook_workers_busy", "Requests in flight now.");
    self->workers_limit = GAUGE ("ovhook_workers_limit", "Requests allowed in flight now: "
                                 "--workers, or fewer while the endpoint only queues more.");
    if (!info || !workers || !capacity || !capacity_bytes || !self->lost || !self->queue_events
    ||  !self->queue_bytes || !self->spool_events || !self->spool_bytes || !self->dead_letters
    ||  !self->breaker_open || !self->workers_busy || !self->workers_limit)
        return -1;
    if (self->ha) {
        self->ha_role = GAUGE ("ovhook_ha_role", "One of an active/standby pair: 1 while "
                               "active (delivering), 0 while standby.");
        self->ha_peer_up = GAUGE ("ovhook_ha_peer_up", "1 while the pair's peer is heard "
                                  "(within --ha-timeout), else 0.");
        self->ha_held = GAUGE ("ovhook_ha_held_events", "Events the standby holds that the "
                               "active has not finished yet (0 while active).");
        self->ha_released = s_add (self, OVH_METRIC_COUNTER, "ovhook_ha_released_total",
                                   "Events this bridge let go as its active peer finished "
                                   "them (while standby).", NULL, 0, NULL, error, size, false);
        if (!self->ha_role || !self->ha_peer_up || !self->ha_held || !self->ha_released)
            return -1;
    }
    ovh_metric_set (info, 0, 1);
    ovh_metric_set (workers, 0, self->config->workers);
    ovh_metric_set (capacity, 0, (int64_t) self->config->queue_events);
    ovh_metric_set (capacity_bytes, 0, (int64_t) self->config->queue_bytes);
    return 0;
}

void
ovh_watch_set_ha (ovh_watch_t *self, ovh_ha_t *ha)
{
    assert (self);
    self->ha = ha;
}

int
ovh_watch_start (ovh_watch_t *self, ovh_intake_t *intake, ovh_dispatcher_t *dispatcher,
                 ovh_spool_t *spool, char *error, size_t size)
{
    assert (self && intake && dispatcher);
    self->intake = intake;
    self->dispatcher = dispatcher;
    self->spool = spool;
    for (size_t index = 0; index < OVH_CATALOG_SIZE; index++)
        self->types [index] = ovh_catalog_at (index)->name;
    self->types [OVH_CATALOG_SIZE] = "unknown";
    for (int reason = 0; reason < OVH_DROP_REASONS; reason++)
        self->reasons [reason] = ovh_intake_reason_name (reason);
    for (int index = 0; index < OVH_STATUSES; index++) {
        snprintf (self->status_text [index], sizeof self->status_text [index], "%d",
                  OVH_STATUS_FIRST + index);
        self->statuses [index] = self->status_text [index];
    }
    if (spool) {
        //  Read here, on the main thread, before the scrapes start
        self->dead_at_start = ovh_spool_dead (spool);
        self->spool_wal = zsys_sprintf ("%s-wal", ovh_spool_path (spool));
    }
    if (s_add_counters (self, error, size) || s_add_gauges (self, error, size)
    ||  ovh_metrics_add_process (self->metrics)) {
        if (!*error)
            snprintf (error, size, "cannot register the process metrics");
        return -1;
    }
    ovh_metrics_on_collect (self->metrics, s_collect, self);
    ovh_statusserver_check (self->server, "bus", s_check_bus, self);
    if (spool)
        ovh_statusserver_check (self->server, "spool", s_check_spool, self);
    ovh_statusserver_check (self->server, "circuit", s_check_circuit, self);
    return ovh_statusserver_start (self->server, error, size);
}
