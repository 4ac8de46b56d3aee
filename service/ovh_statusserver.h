/*  ovh_statusserver.h - the HTTP listener an operator's tools read:
    GET /metrics (a metrics registry in the Prometheus text format),
    GET /healthz (200 while the process runs) and GET /readyz (200 when
    every readiness check passes, else 503 with a JSON body naming the
    failing ones). Other paths get 404, other methods 405.

    libmicrohttpd serves it on a thread of its own. The listening socket
    is bound by ovh_statusserver_new, so that a program learns at start
    that its address cannot be used; serving begins with _start, once the
    checks are registered.                                                 */

#ifndef OVH_STATUSSERVER_H_INCLUDED
#define OVH_STATUSSERVER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "ovh_metrics.h"

typedef struct _ovh_statusserver_t ovh_statusserver_t;

//  A readiness check, called from the server's thread at each GET /readyz:
//  true when ready; else false with why in 'reason'
typedef bool (ovh_statusserver_check_fn) (void *arg, char *reason, size_t size);

//  Is 'address' an ADDR:PORT the server can be given? (IPv4 address,
//  [IPv6] address or host name, then a port 1..65535.) 0, or -1 with the
//  reason in 'reason'. Syntax only: nothing is resolved or bound.
int
    ovh_statusserver_check_address (const char *address, char *reason, size_t size);

//  Bind and listen on exactly 'address' (ADDR:PORT). 'metrics' may be
//  NULL (then /metrics is 404) and must outlive the server. Returns NULL
//  with the reason, naming the address, in 'error'.
ovh_statusserver_t *
    ovh_statusserver_new (const char *address, ovh_metrics_t *metrics,
                          char *error, size_t size);
//  Stop serving (waits for the server's thread) and close the socket
void
    ovh_statusserver_destroy (ovh_statusserver_t **self_p);

//  Register a readiness check named 'name' (before _start; at most 8)
void
    ovh_statusserver_check (ovh_statusserver_t *self, const char *name,
                            ovh_statusserver_check_fn *check, void *arg);

//  Start serving on the server's own thread. 0, or -1 with the reason.
int
    ovh_statusserver_start (ovh_statusserver_t *self, char *error, size_t size);

//  The address as given
const char *
    ovh_statusserver_address (ovh_statusserver_t *self);

#endif
