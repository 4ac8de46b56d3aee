/*  ovh_ratelog.c - warnings limited in rate, one budget per reason.        */

#include <czmq.h>
#include "ovh_log.h"
#include "ovh_ratelog.h"

typedef struct {
    int64_t last;               //  zclock_mono of the last line, 0: never
    uint64_t held;              //  warnings held back since
} reason_t;

struct _ovh_ratelog_t {
    int64_t interval;
    int reasons;
    reason_t *reason;
};

ovh_ratelog_t *
ovh_ratelog_new (int reasons, int64_t interval_ms)
{
    assert (reasons > 0);
    ovh_ratelog_t *self = (ovh_ratelog_t *) zmalloc (sizeof (ovh_ratelog_t));
    if (!self)
        return NULL;
    self->reason = (reason_t *) calloc ((size_t) reasons, sizeof (reason_t));
    if (!self->reason) {
        free (self);
        return NULL;
    }
    self->reasons = reasons;
    self->interval = interval_ms;
    return self;
}

void
ovh_ratelog_destroy (ovh_ratelog_t **self_p)
{
    assert (self_p);
    ovh_ratelog_t *self = *self_p;
    if (!self)
        return;
    free (self->reason);
    free (self);
    *self_p = NULL;
}

int
ovh_ratelog_warn (ovh_ratelog_t *self, int reason, const char *format, ...)
{
    assert (self);
    assert (reason >= 0 && reason < self->reasons);
    reason_t *slot = &self->reason [reason];
    int64_t now = zclock_mono ();
    if (slot->last && now - slot->last < self->interval) {
        slot->held++;
        return 0;
    }
    char text [512];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    if (slot->held)
        ovh_log_warning ("%s (%" PRIu64 " more of this kind since the last report)",
                         text, slot->held);
    else
        ovh_log_warning ("%s", text);
    slot->last = now;
    slot->held = 0;
    return 1;
}
