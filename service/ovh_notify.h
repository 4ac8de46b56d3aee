/*  ovh_notify.h - tell the service manager (systemd) how the process is
    doing: ready, a status line, watchdog pings, stopping.                  */

#ifndef OVH_NOTIFY_H_INCLUDED
#define OVH_NOTIFY_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct _ovh_notify_t ovh_notify_t;

//  Reads NOTIFY_SOCKET and WATCHDOG_USEC from the environment. Never fails:
//  outside a service manager every method does nothing.
ovh_notify_t *
    ovh_notify_new (void);
void
    ovh_notify_destroy (ovh_notify_t **self_p);

//  True when a service manager listens (NOTIFY_SOCKET is set)
bool
    ovh_notify_enabled (ovh_notify_t *self);

//  READY=1, with a STATUS= line when 'status' is not NULL
void
    ovh_notify_ready (ovh_notify_t *self, const char *status);
//  STATUS=<text>
void
    ovh_notify_status (ovh_notify_t *self, const char *status);
//  STOPPING=1
void
    ovh_notify_stopping (ovh_notify_t *self);

//  Sends WATCHDOG=1 when half the watchdog interval has passed since the
//  last ping (call it from the loop as often as you like); returns the
//  milliseconds until the next ping is due, or -1 without a watchdog
int64_t
    ovh_notify_watchdog (ovh_notify_t *self);

#endif
