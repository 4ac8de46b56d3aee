/*  ovh_metrics.h - a registry of metrics written out in the Prometheus
    text format (version 0.0.4): counters, gauges, and histograms with
    fixed buckets, each with a fixed set of label values chosen when it
    is registered.

    Every series is one 64-bit atomic slot in a plain array: the hot path
    adds to a slot by index (a relaxed atomic add: no lock, no allocation,
    no lookup by name). Values are integers in units of 10^-decimals (a
    duration in microseconds has decimals 6 and is written in seconds),
    so that the text is exact. A metric may borrow its slots from the
    class that counts (the bridge's dispatcher and intake keep their own
    counters): then the registry only writes them out.

    Registration happens before the program serves the registry; after
    that, the registry's shape never changes and any thread may count.   */

#ifndef OVH_METRICS_H_INCLUDED
#define OVH_METRICS_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct _ovh_metrics_t ovh_metrics_t;
typedef struct _ovh_metric_t ovh_metric_t;

typedef enum {
    OVH_METRIC_COUNTER, OVH_METRIC_GAUGE, OVH_METRIC_HISTOGRAM
} ovh_metric_type_t;

//  One label dimension: its name and every value it can take
typedef struct {
    const char *name;
    const char *const *values;
    size_t count;
} ovh_metric_label_t;

//  A metric as registered. Series are the product of the label
//  dimensions, the last one varying fastest: with labels (event, outcome),
//  series index = event * outcomes + outcome.
typedef struct {
    ovh_metric_type_t type;
    const char *name;               //  [a-zA-Z_:][a-zA-Z0-9_:]*
    const char *help;
    int decimals;                   //  values are in units of 10^-decimals (0..9)
    const ovh_metric_label_t *labels;
    size_t label_count;             //  0..2
    //  Histograms: upper bounds, increasing, in the values' units (+Inf added)
    const int64_t *bounds;
    size_t bound_count;
    //  NULL: the registry's own slots. Else the caller's, which must
    //  outlive the registry: one per series; a histogram's are its
    //  bucket counts (bound_count + 1, the last for +Inf; not cumulative),
    //  then the sum of the values
    atomic_uint_least64_t *slots;
    bool sparse;                    //  leave series at 0 out of the text
} ovh_metric_spec_t;

//  Called at every scrape, before the text is written, from the thread
//  that serves it: sets gauges whose values live elsewhere
typedef void (ovh_metrics_collect_fn) (void *arg);

ovh_metrics_t *
    ovh_metrics_new (void);
void
    ovh_metrics_destroy (ovh_metrics_t **self_p);

//  Register a metric. Returns its handle (owned by the registry), or NULL
//  with the reason in 'error' for a bad spec (name, labels, bounds) or a
//  name registered twice.
ovh_metric_t *
    ovh_metrics_add (ovh_metrics_t *self, const ovh_metric_spec_t *spec,
                     char *error, size_t size);

//  Register a scrape-time collector (at most 8)
void
    ovh_metrics_on_collect (ovh_metrics_t *self, ovh_metrics_collect_fn *collect, void *arg);

//  The process_* metrics of the Prometheus client conventions (CPU
//  seconds, resident memory, open and max fds, start time), read from
//  /proc at each scrape. 0 or -1.
int
    ovh_metrics_add_process (ovh_metrics_t *self);

//  Add to a counter's (or gauge's) series
void
    ovh_metric_add (ovh_metric_t *self, size_t series, uint64_t amount);
//  Set a gauge's series (negative values allowed)
void
    ovh_metric_set (ovh_metric_t *self, size_t series, int64_t value);
//  Count one observation in a histogram (value in the metric's units)
void
    ovh_metric_observe (ovh_metric_t *self, int64_t value);
//  A series' value now (for tests)
int64_t
    ovh_metric_value (ovh_metric_t *self, size_t series);

//  For a class that keeps its own histogram slots (spec.slots): count an
//  observation into them with the same bucket rule
void
    ovh_metrics_observe_into (atomic_uint_least64_t *slots, const int64_t *bounds,
                              size_t bound_count, int64_t value);

//  The whole registry as Prometheus text (0.0.4). Runs the collectors
//  first. Returns a malloc'ed string (its length in *size), or NULL when
//  out of memory.
char *
    ovh_metrics_text (ovh_metrics_t *self, size_t *size);

//  The media type of that text
#define OVH_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
