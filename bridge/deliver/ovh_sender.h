/*  ovh_sender.h - POSTs events to the endpoint over a pool of keep-alive
    connections, with libcurl's multi interface.

    'workers' transfers run at once, each on an easy handle of its own that
    keeps its connection alive between events (past 64 workers, over
    several curl multi handles: ovh_sender_private.h says why); with h2
    (OVHOOK_HTTP_VERSION, ovh_sender_http.c) they are streams sharing
    connections instead. The sender does not own an event loop: it keeps
    curl's sockets in the dispatcher's epoll set as curl asks (added,
    changed, removed one at a time), and the dispatcher hands it back the
    events of those sockets.                                                */

#ifndef OVH_SENDER_H_INCLUDED
#define OVH_SENDER_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <czmq.h>
#include "ovh_config.h"
#include "ovh_item.h"
#include "ovh_signer.h"

typedef struct {
    bool ok;                    //  delivered
    long status;                //  HTTP status, 0 when none was received
    int curl_code;              //  CURLcode of the transfer
    const char *error;          //  curl's error text when curl_code != 0
    int64_t usecs;              //  time the attempt took
    int64_t retry_after;        //  seconds the endpoint asked to wait, -1 if not
} ovh_result_t;

//  Called for every finished transfer, from ovh_sender_act
typedef void (ovh_sender_done_fn) (void *arg, ovh_item_t *item,
                                   const ovh_result_t *result);

typedef struct _ovh_sender_t ovh_sender_t;

//  Returns NULL (logged) if libcurl cannot be set up with this config.
//  With a signer, every request is signed (webhook-signature).
ovh_sender_t *
    ovh_sender_new (ovh_config_t *config, ovh_signer_t *signer,
                    ovh_sender_done_fn *done, void *arg);
void
    ovh_sender_destroy (ovh_sender_t **self_p);

//  Number of transfers that could start now
size_t
    ovh_sender_free (ovh_sender_t *self);
//  Number of transfers running
size_t
    ovh_sender_busy (ovh_sender_t *self);

//  Start POSTing an item, with its webhook-id, a fresh webhook-timestamp
//  and, with a signer, its webhook-signature; the item must stay alive
//  until its done call. Returns -1 if no transfer is free or curl refuses.
int
    ovh_sender_start (ovh_sender_t *self, ovh_item_t *item);

//  epoll events whose data.u64 has this bit set are the caller's: the
//  sender's own never do, and it ignores them
#define OVH_SENDER_FOREIGN  (UINT64_C (1) << 63)

//  Keep curl's sockets in 'epoll_fd' from now on (level-triggered, one
//  epoll_ctl per change curl asks for). 0, or -1 (errno set).
int
    ovh_sender_watch (ovh_sender_t *self, int epoll_fd);
//  Milliseconds from 'now' (zclock_mono) until the sender must act even
//  without socket activity, -1 for no limit
long
    ovh_sender_timeout (ovh_sender_t *self, int64_t now);
//  After epoll_wait: act on the ready sockets among 'events' (others are
//  skipped) and on due timers, and report finished transfers through the
//  done callback. 'now' is zclock_mono's, read once by the caller's loop.
void
    ovh_sender_act (ovh_sender_t *self, const struct epoll_event *events, int count,
                    int64_t now);

//  Stop every running transfer; each item is reported as not delivered
//  with curl_code CURLE_ABORTED_BY_CALLBACK
void
    ovh_sender_abort (ovh_sender_t *self);

//  The endpoint for logs: userinfo masked
const char *
    ovh_sender_endpoint (ovh_sender_t *self);

//  A sender as the dispatcher drives it: this file's functions, as a
//  table. It exists so that a unit test can run the dispatcher's real
//  loop (ordering, retries, breaker, drain, signals) against a stand-in
//  that finishes transfers as a script says, without HTTP, and so that the
//  bridge can use ovhook's own HTTP/1.1 client for plain http endpoints
//  (ovh_h1sender.h) and libcurl's sender for the rest. Each call
//  costs one load more than a direct one: a few instructions per event,
//  next to some 100,000 (callgrind). A stand-in casts its own type to and
//  from ovh_sender_t: the dispatcher never looks inside.
typedef struct {
    ovh_sender_t *(*new) (ovh_config_t *config, ovh_signer_t *signer,
                          ovh_sender_done_fn *done, void *arg);
    void (*destroy) (ovh_sender_t **self_p);
    size_t (*free) (ovh_sender_t *self);
    size_t (*busy) (ovh_sender_t *self);
    int (*start) (ovh_sender_t *self, ovh_item_t *item);
    int (*watch) (ovh_sender_t *self, int epoll_fd);
    long (*timeout) (ovh_sender_t *self, int64_t now);
    void (*act) (ovh_sender_t *self, const struct epoll_event *events, int count,
                 int64_t now);
    void (*abort) (ovh_sender_t *self);
    const char *(*endpoint) (ovh_sender_t *self);
} ovh_sender_class_t;

#endif
