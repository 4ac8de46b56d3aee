/*  ovh_toolmetrics.h - --metrics ADDR:PORT for a tool (ovhook-proxy,
    ovhook-tail): a metrics registry with the process_* metrics and
    ovhook_build_info, served with /healthz and /readyz (ready while the
    tool runs: it has no store or endpoint to check) by an
    ovh_statusserver. The tool registers its own metrics, then starts.   */

#ifndef OVH_TOOLMETRICS_H_INCLUDED
#define OVH_TOOLMETRICS_H_INCLUDED

#include "ovh_metrics.h"
#include "ovh_statusserver.h"

typedef struct _ovh_toolmetrics_t ovh_toolmetrics_t;

//  Bind 'address'. Returns NULL after "PROGRAM: --metrics: reason" on
//  stderr.
ovh_toolmetrics_t *
    ovh_toolmetrics_new (const char *program, const char *address);
void
    ovh_toolmetrics_destroy (ovh_toolmetrics_t **self_p);

//  An unlabelled counter or gauge; asserts on a bad name (a programming
//  error)
ovh_metric_t *
    ovh_toolmetrics_add (ovh_toolmetrics_t *self, ovh_metric_type_t type,
                         const char *name, const char *help);

//  Run 'collect' at each scrape (to copy the tool's counts in)
void
    ovh_toolmetrics_on_collect (ovh_toolmetrics_t *self, ovh_metrics_collect_fn *collect,
                                void *arg);

//  Serve. 0, or -1 after the reason on stderr.
int
    ovh_toolmetrics_start (ovh_toolmetrics_t *self);

#endif
