/*  ovh_watch.h - the bridge as an operator's tools see it: its metrics
    (docs/metrics.md) and readiness checks, served with /healthz on
    --metrics ADDR:PORT by an ovh_statusserver.

    The counts are those the intake and the dispatcher keep for the
    stats lines, read where they are (nothing is counted twice), so the
    metrics and the "stopped:" line agree.                                 */

#ifndef OVH_WATCH_H_INCLUDED
#define OVH_WATCH_H_INCLUDED

#include "ovh_config.h"
#include "ovh_dispatcher.h"
#include "ovh_ha.h"
#include "ovh_intake.h"
#include "ovh_spool.h"

typedef struct _ovh_watch_t ovh_watch_t;

//  Bind config->metrics (call it early: a busy port stops the start).
//  Returns NULL with the reason in 'error'.
ovh_watch_t *
    ovh_watch_new (ovh_config_t *config, char *error, size_t size);
//  Stop serving; call it before the intake and the dispatcher go
void
    ovh_watch_destroy (ovh_watch_t **self_p);

//  Register the metrics on the running stages and start serving. 'spool'
//  may be NULL; all must outlive the watch. 0, or -1 with the reason.
//  One of a pair: show its role, its peer's health and what it holds
//  (ovhook_ha_*). Call before ovh_watch_start; 'ha' must outlive the watch.
void
    ovh_watch_set_ha (ovh_watch_t *self, ovh_ha_t *ha);

int
    ovh_watch_start (ovh_watch_t *self, ovh_intake_t *intake, ovh_dispatcher_t *dispatcher,
                     ovh_spool_t *spool, char *error, size_t size);

#endif
