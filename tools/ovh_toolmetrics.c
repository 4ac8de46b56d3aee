/*  ovh_toolmetrics.c - a tool's metrics endpoint.                         */

#include <czmq.h>
#include "ovh_toolmetrics.h"

#ifndef OVHOOK_VERSION_STRING
#   define OVHOOK_VERSION_STRING OVHOOK_VERSION
#endif

struct _ovh_toolmetrics_t {
    const char *program;
    ovh_metrics_t *metrics;
    ovh_statusserver_t *server;
};

ovh_toolmetrics_t *
ovh_toolmetrics_new (const char *program, const char *address)
{
    assert (program && address);
    char error [512] = "out of memory";
    ovh_toolmetrics_t *self = (ovh_toolmetrics_t *) zmalloc (sizeof (ovh_toolmetrics_t));
    if (self) {
        self->program = program;
        self->metrics = ovh_metrics_new ();
    }
    //  A bad ADDR:PORT is told as a bind failure is: "cannot listen on..."
    if (self && self->metrics)
        self->server = ovh_statusserver_new (address, self->metrics, error, sizeof error);
    if (!self || !self->server) {
        fprintf (stderr, "%s: --metrics: %s\n", program, error);
        ovh_toolmetrics_destroy (&self);
        return NULL;
    }
    static const char *const version [] = { OVHOOK_VERSION_STRING };
    ovh_metric_label_t label = { "version", version, 1 };
    ovh_metric_spec_t info = { .type = OVH_METRIC_GAUGE, .name = "ovhook_build_info",
                               .help = "The program's version, as a label; always 1.",
                               .labels = &label, .label_count = 1 };
    ovh_metric_t *metric = ovh_metrics_add (self->metrics, &info, error, sizeof error);
    if (!metric || ovh_metrics_add_process (self->metrics)) {
        fprintf (stderr, "%s: --metrics: cannot register the metrics\n", program);
        ovh_toolmetrics_destroy (&self);
        return NULL;
    }
    ovh_metric_set (metric, 0, 1);
    return self;
}

void
ovh_toolmetrics_destroy (ovh_toolmetrics_t **self_p)
{
    assert (self_p);
    ovh_toolmetrics_t *self = *self_p;
    if (!self)
        return;
    ovh_statusserver_destroy (&self->server);
    ovh_metrics_destroy (&self->metrics);
    free (self);
    *self_p = NULL;
}

ovh_metric_t *
ovh_toolmetrics_add (ovh_toolmetrics_t *self, ovh_metric_type_t type, const char *name,
                     const char *help)
{
    assert (self);
    ovh_metric_spec_t spec = { .type = type, .name = name, .help = help };
    char error [256];
    ovh_metric_t *metric = ovh_metrics_add (self->metrics, &spec, error, sizeof error);
    assert (metric);
    return metric;
}

void
ovh_toolmetrics_on_collect (ovh_toolmetrics_t *self, ovh_metrics_collect_fn *collect, void *arg)
{
    assert (self);
    ovh_metrics_on_collect (self->metrics, collect, arg);
}

int
ovh_toolmetrics_start (ovh_toolmetrics_t *self)
{
    assert (self);
    char error [512];
    if (ovh_statusserver_start (self->server, error, sizeof error) == 0)
        return 0;
    fprintf (stderr, "%s: --metrics: %s\n", self->program, error);
    return -1;
}
