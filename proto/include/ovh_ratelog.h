/*  ovh_ratelog.h - warnings limited in rate, one budget per reason, so that
    a flood of garbage on the bus cannot flood the log. The first warning of
    a reason is logged; later ones at most once per interval, saying how many
    were held back since.                                                    */

#ifndef OVH_RATELOG_H_INCLUDED
#define OVH_RATELOG_H_INCLUDED

#include <stdint.h>

typedef struct _ovh_ratelog_t ovh_ratelog_t;

ovh_ratelog_t *
    ovh_ratelog_new (int reasons, int64_t interval_ms);
void
    ovh_ratelog_destroy (ovh_ratelog_t **self_p);

//  Log a warning for 'reason' (0 .. reasons-1) unless its budget is spent.
//  Returns 1 if logged, 0 if held back.
int
    ovh_ratelog_warn (ovh_ratelog_t *self, int reason, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
