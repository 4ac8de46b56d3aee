/*  ovh_publisher.h - publish events on the bus, as session components do.

    One publisher belongs to one thread. It numbers its messages (envelope
    src + seq, seq counting 1, 2, 3... per topic, and an epoch drawn at
    random when it is created, so that a restart that reuses a src still
    gives its events new ids) and deals with ZeroMQ's slow joiner: the socket is an XPUB, so
    it sees subscriptions arrive; a send made before any subscriber matching
    the topic has joined waits for one, up to the join timeout counted from
    ovh_publisher_new (after that, sends never wait). On destroy it lingers
    so that queued events are still delivered by a process that publishes
    and exits at once.

    CurveZMQ (issue 12): ovh_publisher_new_secure takes the three settings
    every program of the project takes as --bus-key, --bus-server-key and
    --bus-allow (ovh_buskeys.h). They are constructor arguments, not
    setters, because the socket connects or binds inside the constructor
    and CURVE must be set before that.                                      */

#ifndef OVH_PUBLISHER_H_INCLUDED
#define OVH_PUBLISHER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ovh_body.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OVH_PUBLISHER_JOIN_TIMEOUT  2000    //  msecs
#define OVH_PUBLISHER_LINGER        5000    //  msecs

typedef struct _ovh_publisher_t ovh_publisher_t;

//  Create a publisher on 'endpoints' (CZMQ syntax, '>' connects, '@' binds,
//  comma-separated); NULL means ">" OVH_BUS_ENDPOINT. Returns NULL if an
//  endpoint is invalid (logged with ovh_log_error).
ovh_publisher_t *
    ovh_publisher_new (const char *endpoints);

//  The same with CurveZMQ, or in plaintext when 'key_path' is NULL (then
//  'server_key_path' and 'allow_folder' must be NULL too). 'key_path' is
//  this program's secret certificate (ovhook-keygen's NAME_secret, mode
//  0600). A publisher that
//  - connects (every endpoint '>', the usual case: to a bridge or proxy)
//    needs 'server_key_path', the server's public certificate. A monitor
//    watches its handshakes: ovh_publisher_problem says why no subscriber
//    comes (the server refused this key, a wrong server key, CURVE on one
//    side only), and the reason is logged as it happens.
//  - binds (every endpoint '@') needs 'allow_folder', the public
//    certificates of the subscribers it lets in. The publisher then runs
//    the process's ZAP handler (ovh_busauth, ZAP domain "bus"), so that a
//    process can hold only one such publisher, and no other ovh_busauth.
//  A list mixing '@' and '>' is refused with CURVE (one role per socket).
//  A plaintext publisher made here that connects is watched too, so that
//  a server that wants CURVE is named as the problem.
//  Returns NULL with the reason in 'error': the key files (ovh_buskeys_new's
//  texts: "bus key 'PATH': ..."), a missing companion or a mixed list
//  (ovh_buskeys_role's), "another ZAP handler runs in this process", the
//  allow folder (ovh_busauth_allow's: "bus allowed keys 'DIR': ..."), or
//  "cannot open bus 'ENDPOINTS': WHY". Nothing is logged.
ovh_publisher_t *
    ovh_publisher_new_secure (const char *endpoints, const char *key_path,
                              const char *server_key_path, const char *allow_folder,
                              char *error, size_t error_size);
void
    ovh_publisher_destroy (ovh_publisher_t **self_p);

void ovh_publisher_set_join_timeout (ovh_publisher_t *self, int msecs);
void ovh_publisher_set_linger (ovh_publisher_t *self, int msecs);
//  Send frame 3 (default true)
void ovh_publisher_set_envelope (ovh_publisher_t *self, bool envelope);
//  Replace the generated src ("<host>/<pid>/<random>"); for tests
void ovh_publisher_set_src (ovh_publisher_t *self, const char *src);

//  Replace the epoch drawn at creation (64 random bits); for tests, or for
//  a component that keeps one run's identity across several publishers
void ovh_publisher_set_epoch (ovh_publisher_t *self, uint64_t epoch);

//  Publish a finished body. Returns 0, or -1 if the body is unfinished or the
//  send failed.
int
    ovh_publisher_send (ovh_publisher_t *self, const char *topic, ovh_body_t *body);
//  Publish raw msgpack body bytes (not validated).
int
    ovh_publisher_send_raw (ovh_publisher_t *self, const char *topic,
                            const void *body, size_t size);

//  Wait up to 'msecs' until at least one subscription has arrived. Returns
//  true if one has (at any time since creation).
bool
    ovh_publisher_wait_subscriber (ovh_publisher_t *self, int msecs);

//  Why the last CURVE handshake with the server failed, as a sentence,
//  into 'buffer' (ovh_busmonitor_problem); false, 'buffer' empty, when
//  none failed since the last success, or the publisher has no monitor
//  (made by ovh_publisher_new, or binding: refused subscribers are
//  logged, not kept).
//  Call it when ovh_publisher_wait_subscriber gives up, to say why.
bool
    ovh_publisher_problem (ovh_publisher_t *self, char *buffer, size_t size);

const char *
    ovh_publisher_src (ovh_publisher_t *self);
//  The epoch sent in every envelope: this publisher's run
uint64_t
    ovh_publisher_epoch (ovh_publisher_t *self);
//  Seq of the last message sent, in its topic's count (0 before the first)
uint64_t
    ovh_publisher_seq (ovh_publisher_t *self);

#ifdef __cplusplus
}
#endif
#endif
