/*  ovh_metrics.c - the metrics registry and its text format.

    Everything a scrape writes that does not change (label sets, escaped
    help texts, bucket bounds) is rendered once, at registration, so that
    a scrape only formats numbers. The process_* metrics are in
    ovh_metrics_process.c.                                                 */

#include <czmq.h>
#include "ovh_metrics.h"

#define MAX_COLLECTORS  8

struct _ovh_metric_t {
    ovh_metric_type_t type;
    char *name;
    char *help;                     //  escaped for a HELP line
    int decimals;
    size_t series;                  //  label combinations
    char **labels;                  //  per series: 'a="x",b="y"', or "" without labels
    int64_t *bounds;
    size_t bound_count;
    char **bound_text;              //  bounds as 'le' values, then "+Inf"
    atomic_uint_least64_t *slots;
    bool owned;                     //  the slots are ours to free
    bool sparse;
};

struct _ovh_metrics_t {
    ovh_metric_t **metrics;
    size_t count;
    struct {
        ovh_metrics_collect_fn *fn;
        void *arg;
    } collectors [MAX_COLLECTORS];
    size_t collector_count;
    pthread_mutex_t scrape;         //  one scrape at a time: collectors set gauges
};

ovh_metrics_t *
ovh_metrics_new (void)
{
    ovh_metrics_t *self = (ovh_metrics_t *) zmalloc (sizeof (ovh_metrics_t));
    if (self)
        pthread_mutex_init (&self->scrape, NULL);
    return self;
}

static void
s_metric_destroy (ovh_metric_t **self_p)
{
    ovh_metric_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; self->labels && index < self->series; index++)
        free (self->labels [index]);
    for (size_t index = 0; self->bound_text && index <= self->bound_count; index++)
        free (self->bound_text [index]);
    free (self->labels);
    free (self->bound_text);
    free (self->bounds);
    if (self->owned)
        free (self->slots);
    free (self->name);
    free (self->help);
    free (self);
    *self_p = NULL;
}

void
ovh_metrics_destroy (ovh_metrics_t **self_p)
{
    assert (self_p);
    ovh_metrics_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->count; index++)
        s_metric_destroy (&self->metrics [index]);
    free (self->metrics);
    pthread_mutex_destroy (&self->scrape);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------
//  Text

//  A value in units of 10^-decimals, exactly: 1500 with 3 decimals is
//  "1.5", 2000 is "2"
static void
s_format (char *text, size_t size, int64_t value, int decimals)
{
    if (decimals == 0) {
        snprintf (text, size, "%" PRId64, value);
        return;
    }
    uint64_t scale = 1;
    for (int index = 0; index < decimals; index++)
        scale *= 10;
    uint64_t magnitude = value < 0 ? (uint64_t) 0 - (uint64_t) value : (uint64_t) value;
    int length = snprintf (text, size, "%s%" PRIu64 ".%0*" PRIu64, value < 0 ? "-" : "",
                           magnitude / scale, decimals, magnitude % scale);
    if (length < 0 || (size_t) length >= size)
        return;
    while (length > 0 && text [length - 1] == '0')
        text [--length] = 0;
    if (length > 0 && text [length - 1] == '.')
        text [--length] = 0;
}

//  Escape for a HELP line (backslash, newline) or a label value (also the
//  double quote), as the text format asks
static char *
s_escape (const char *text, bool label)
{
    size_t length = strlen (text);
    char *escaped = (char *) malloc (2 * length + 1);
    if (!escaped)
        return NULL;
    char *out = escaped;
    for (const char *in = text; *in; in++) {
        if (*in == '\\' || (label && *in == '"'))
            *out++ = '\\', *out++ = *in;
        else
        if (*in == '\n')
            *out++ = '\\', *out++ = 'n';
        else
            *out++ = *in;
    }
    *out = 0;
    return escaped;
}

static bool
s_valid_name (const char *name, bool label)
{
    if (!name || !*name || isdigit ((unsigned char) *name))
        return false;
    if (label && strncmp (name, "__", 2) == 0)
        return false;
    for (const char *c = name; *c; c++)
        if (!isalnum ((unsigned char) *c) && *c != '_' && !(*c == ':' && !label))
            return false;
    return true;
}

//  ---------------------------------------------------------------------
//  Registration

static int
s_check_spec (ovh_metrics_t *self, const ovh_metric_spec_t *spec, char *error, size_t size)
{
    if (!s_valid_name (spec->name, false)) {
        snprintf (error, size, "metric name '%s' is not [a-zA-Z_:][a-zA-Z0-9_:]*",
                  spec->name ? spec->name : "(null)");
        return -1;
    }
    for (size_t index = 0; index < self->count; index++)
        if (streq (self->metrics [index]->name, spec->name)) {
            snprintf (error, size, "metric %s is registered twice", spec->name);
            return -1;
        }
    if (spec->decimals < 0 || spec->decimals > 9 || spec->label_count > 2
    ||  (spec->type == OVH_METRIC_HISTOGRAM && (spec->label_count || !spec->bound_count))) {
        snprintf (error, size, "metric %s: decimals 0..9, at most 2 label dimensions, "
                  "histograms have bounds and no labels", spec->name);
        return -1;
    }
    for (size_t index = 0; index < spec->label_count; index++) {
        const ovh_metric_label_t *label = &spec->labels [index];
        if (!s_valid_name (label->name, true) || streq (label->name, "le")
        ||  label->count == 0) {
            snprintf (error, size, "metric %s: label %zu ('%s') has a bad name or no values",
                      spec->name, index + 1, label->name ? label->name : "(null)");
            return -1;
        }
    }
    for (size_t index = 1; index < spec->bound_count; index++)
        if (spec->bounds [index] <= spec->bounds [index - 1]) {
            snprintf (error, size, "metric %s: bucket bounds must increase (bound %zu)",
                      spec->name, index + 1);
            return -1;
        }
    return 0;
}

//  'a="x",b="y"' for one series
static char *
s_render_labels (const ovh_metric_spec_t *spec, size_t series)
{
    char *text = strdup ("");
    size_t divisor = 1;
    for (size_t index = spec->label_count; text && index-- > 0; ) {
        const ovh_metric_label_t *label = &spec->labels [index];
        char *value = s_escape (label->values [(series / divisor) % label->count], true);
        char *longer = value ? zsys_sprintf ("%s=\"%s\"%s%s", label->name, value,
                                             *text ? "," : "", text) : NULL;
        free (value);
        free (text);
        text = longer;
        divisor *= label->count;
    }
    return text;
}

static int
s_render (ovh_metric_t *metric, const ovh_metric_spec_t *spec)
{
    metric->labels = (char **) calloc (metric->series, sizeof (char *));
    if (!metric->labels)
        return -1;
    for (size_t series = 0; series < metric->series; series++)
        if (!(metric->labels [series] = s_render_labels (spec, series)))
            return -1;
    if (spec->type != OVH_METRIC_HISTOGRAM)
        return 0;
    metric->bound_count = spec->bound_count;
    metric->bounds = (int64_t *) malloc (spec->bound_count * sizeof (int64_t));
    metric->bound_text = (char **) calloc (spec->bound_count + 1, sizeof (char *));
    if (!metric->bounds || !metric->bound_text)
        return -1;
    memcpy (metric->bounds, spec->bounds, spec->bound_count * sizeof (int64_t));
    for (size_t index = 0; index < spec->bound_count; index++) {
        char text [48];
        s_format (text, sizeof text, spec->bounds [index], spec->decimals);
        if (!(metric->bound_text [index] = strdup (text)))
            return -1;
    }
    return (metric->bound_text [spec->bound_count] = strdup ("+Inf")) ? 0 : -1;
}

ovh_metric_t *
ovh_metrics_add (ovh_metrics_t *self, const ovh_metric_spec_t *spec, char *error, size_t size)
{
    assert (self && spec && error);
    if (s_check_spec (self, spec, error, size))
        return NULL;
    ovh_metric_t *metric = (ovh_metric_t *) zmalloc (sizeof (ovh_metric_t));
    ovh_metric_t **grown = (ovh_metric_t **) realloc (self->metrics,
                                                      (self->count + 1) * sizeof (ovh_metric_t *));
    if (grown)
        self->metrics = grown;
    if (!metric || !grown) {
        free (metric);
        snprintf (error, size, "metric %s: out of memory", spec->name);
        return NULL;
    }
    metric->type = spec->type;
    metric->decimals = spec->decimals;
    metric->sparse = spec->sparse;
    metric->series = 1;
    for (size_t index = 0; index < spec->label_count; index++)
        metric->series *= spec->labels [index].count;
    size_t slots = spec->type == OVH_METRIC_HISTOGRAM ? spec->bound_count + 2 : metric->series;
    metric->name = strdup (spec->name);
    metric->help = s_escape (spec->help ? spec->help : "", false);
    metric->slots = spec->slots;
    if (!metric->slots) {
        metric->slots = (atomic_uint_least64_t *) calloc (slots, sizeof (atomic_uint_least64_t));
        metric->owned = true;
    }
    if (!metric->name || !metric->help || !metric->slots || s_render (metric, spec)) {
        s_metric_destroy (&metric);
        snprintf (error, size, "metric %s: out of memory", spec->name);
        return NULL;
    }
    self->metrics [self->count++] = metric;
    return metric;
}

void
ovh_metrics_on_collect (ovh_metrics_t *self, ovh_metrics_collect_fn *collect, void *arg)
{
    assert (self && collect);
    assert (self->collector_count < MAX_COLLECTORS);
    self->collectors [self->collector_count].fn = collect;
    self->collectors [self->collector_count++].arg = arg;
}

//  ---------------------------------------------------------------------
//  Counting: the hot path

void
ovh_metric_add (ovh_metric_t *self, size_t series, uint64_t amount)
{
    assert (series < self->series);
    atomic_fetch_add_explicit (&self->slots [series], amount, memory_order_relaxed);
}

void
ovh_metric_set (ovh_metric_t *self, size_t series, int64_t value)
{
    assert (series < self->series);
    atomic_store_explicit (&self->slots [series], (uint64_t) value, memory_order_relaxed);
}

void
ovh_metrics_observe_into (atomic_uint_least64_t *slots, const int64_t *bounds,
                          size_t bound_count, int64_t value)
{
    size_t bucket = 0;
    while (bucket < bound_count && value > bounds [bucket])
        bucket++;
    atomic_fetch_add_explicit (&slots [bucket], 1, memory_order_relaxed);
    atomic_fetch_add_explicit (&slots [bound_count + 1], (uint64_t) value, memory_order_relaxed);
}

void
ovh_metric_observe (ovh_metric_t *self, int64_t value)
{
    assert (self->type == OVH_METRIC_HISTOGRAM);
    ovh_metrics_observe_into (self->slots, self->bounds, self->bound_count, value);
}

int64_t
ovh_metric_value (ovh_metric_t *self, size_t series)
{
    assert (series < self->series);
    return (int64_t) atomic_load_explicit (&self->slots [series], memory_order_relaxed);
}

//  ---------------------------------------------------------------------
//  Writing

static void
s_write_histogram (ovh_metric_t *metric, FILE *out)
{
    //  Read once: a bucket counted during the scrape shows in the next one,
    //  and _count always equals the +Inf bucket
    uint64_t cumulative = 0;
    char text [48];
    for (size_t index = 0; index <= metric->bound_count; index++) {
        cumulative += atomic_load_explicit (&metric->slots [index], memory_order_relaxed);
        fprintf (out, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", metric->name,
                 metric->bound_text [index], cumulative);
    }
    s_format (text, sizeof text, (int64_t) atomic_load_explicit (
              &metric->slots [metric->bound_count + 1], memory_order_relaxed), metric->decimals);
    fprintf (out, "%s_sum %s\n%s_count %" PRIu64 "\n", metric->name, text, metric->name,
             cumulative);
}

static void
s_write (ovh_metric_t *metric, FILE *out)
{
    static const char *types [] = { "counter", "gauge", "histogram" };
    fprintf (out, "# HELP %s %s\n# TYPE %s %s\n", metric->name, metric->help, metric->name,
             types [metric->type]);
    if (metric->type == OVH_METRIC_HISTOGRAM) {
        s_write_histogram (metric, out);
        return;
    }
    for (size_t series = 0; series < metric->series; series++) {
        int64_t value = (int64_t) atomic_load_explicit (&metric->slots [series],
                                                        memory_order_relaxed);
        if (metric->sparse && value == 0)
            continue;
        char text [48];
        s_format (text, sizeof text, value, metric->decimals);
        const char *labels = metric->labels [series];
        fprintf (out, "%s%s%s%s %s\n", metric->name, *labels ? "{" : "", labels,
                 *labels ? "}" : "", text);
    }
}

char *
ovh_metrics_text (ovh_metrics_t *self, size_t *size)
{
    assert (self && size);
    char *text = NULL;
    FILE *out = open_memstream (&text, size);
    if (!out)
        return NULL;
    pthread_mutex_lock (&self->scrape);
    for (size_t index = 0; index < self->collector_count; index++)
        self->collectors [index].fn (self->collectors [index].arg);
    for (size_t index = 0; index < self->count; index++)
        s_write (self->metrics [index], out);
    pthread_mutex_unlock (&self->scrape);
    if (fclose (out)) {
        free (text);
        return NULL;
    }
    return text;
}
