/*  ovh_srcguard.c - src binding where a tool binds with CURVE.           */

#include <czmq.h>
#include "ovhook.h"
#include "ovh_buskeys.h"
#include "ovh_ratelog.h"
#include "ovh_srcguard.h"

//  One line a second of each kind at most: a spoofing publisher sends
//  floods, and the count in the held-back note tells their size
#define WARN_INTERVAL   1000

enum { KIND_NOT_OWNED, KIND_UNREADABLE, KIND_COUNT };

struct _ovh_srcguard_t {
    char *side;
    ovh_ratelog_t *ratelog;
    uint64_t dropped;
};

ovh_srcguard_t *
ovh_srcguard_new (const char *side)
{
    assert (side);
    ovh_srcguard_t *self = (ovh_srcguard_t *) zmalloc (sizeof (ovh_srcguard_t));
    if (!self)
        return NULL;
    self->side = strdup (side);
    self->ratelog = ovh_ratelog_new (KIND_COUNT, WARN_INTERVAL);
    if (!self->side || !self->ratelog)
        ovh_srcguard_destroy (&self);
    return self;
}

void
ovh_srcguard_destroy (ovh_srcguard_t **self_p)
{
    assert (self_p);
    ovh_srcguard_t *self = *self_p;
    if (!self)
        return;
    ovh_ratelog_destroy (&self->ratelog);
    free (self->side);
    free (self);
    *self_p = NULL;
}

bool
ovh_srcguard_allows (ovh_srcguard_t *self, const char *user_id, const char *prefix,
                     const char *src, size_t src_size)
{
    assert (self);
    if (!src || ovh_buskeys_owns (prefix, src, src_size))
        return true;
    self->dropped++;
    //  The src is the sender's: shown without what would break the line
    char shown [256], prefix_shown [128];
    ovh_ratelog_warn (self->ratelog, KIND_NOT_OWNED, "%s: dropped a message "
                      "(src-not-allowed): src '%s' is not owned by key %s (%s%s%s)",
                      self->side, ovh_shown (shown, sizeof shown, src, src_size),
                      user_id? user_id: "?", prefix? "src-prefix '": "no src-prefix",
                      prefix? ovh_shown (prefix_shown, sizeof prefix_shown, prefix,
                                         strlen (prefix)): "", prefix? "'": "");
    return false;
}

void
ovh_srcguard_unreadable (ovh_srcguard_t *self, const char *user_id, const char *why)
{
    assert (self);
    self->dropped++;
    ovh_ratelog_warn (self->ratelog, KIND_UNREADABLE, "%s: dropped a message from key %s: %s",
                      self->side, user_id? user_id: "?", why);
}

uint64_t
ovh_srcguard_dropped (ovh_srcguard_t *self)
{
    assert (self);
    return self->dropped;
}
