/*  ovh_notify.c - systemd's notification protocol (sd_notify) for a
    Type=notify unit: READY=1 once the program can do its job, STATUS=
    lines, STOPPING=1, and WATCHDOG=1 at half of WatchdogSec.

    libsystemd does the protocol; this class only remembers whether anyone
    listens and when the watchdog was last fed, so callers need no
    conditions of their own.                                                */

#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <czmq.h>
#include "ovh_log.h"
#include "ovh_notify.h"

struct _ovh_notify_t {
    bool enabled;                   //  NOTIFY_SOCKET was set
    int64_t watchdog_ms;            //  ping interval (half of WatchdogSec), 0 if none
    int64_t last_ping;              //  zclock_mono of the last WATCHDOG=1
};

ovh_notify_t *
ovh_notify_new (void)
{
    ovh_notify_t *self = (ovh_notify_t *) zmalloc (sizeof (ovh_notify_t));
    assert (self);
    const char *socket = getenv ("NOTIFY_SOCKET");
    self->enabled = socket && *socket;
    uint64_t usec = 0;
    //  0 unset_environment: children (none today) would see it too; the
    //  check also honours WATCHDOG_PID, so a forked child never pings
    if (self->enabled && sd_watchdog_enabled (0, &usec) > 0 && usec >= 2000)
        self->watchdog_ms = (int64_t) (usec / 2000);
    return self;
}

void
ovh_notify_destroy (ovh_notify_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

bool
ovh_notify_enabled (ovh_notify_t *self)
{
    assert (self);
    return self->enabled;
}

static void
s_send (ovh_notify_t *self, const char *state)
{
    //  A service manager that went away is not our failure: the return
    //  code only says whether the datagram left
    if (self->enabled && sd_notify (0, state) < 0)
        ovh_log_debug ("sd_notify (%s) failed", state);
}

void
ovh_notify_ready (ovh_notify_t *self, const char *status)
{
    assert (self);
    if (!self->enabled)
        return;
    char *state = status ? zsys_sprintf ("READY=1\nSTATUS=%s", status) : strdup ("READY=1");
    assert (state);
    s_send (self, state);
    self->last_ping = zclock_mono ();
    free (state);
}

void
ovh_notify_status (ovh_notify_t *self, const char *status)
{
    assert (self && status);
    if (!self->enabled)
        return;
    char *state = zsys_sprintf ("STATUS=%s", status);
    assert (state);
    s_send (self, state);
    free (state);
}

void
ovh_notify_stopping (ovh_notify_t *self)
{
    assert (self);
    s_send (self, "STOPPING=1");
}

int64_t
ovh_notify_watchdog (ovh_notify_t *self)
{
    assert (self);
    if (!self->enabled || self->watchdog_ms == 0)
        return -1;
    int64_t now = zclock_mono ();
    if (now - self->last_ping >= self->watchdog_ms) {
        s_send (self, "WATCHDOG=1");
        self->last_ping = now;
    }
    return self->last_ping + self->watchdog_ms - now;
}
