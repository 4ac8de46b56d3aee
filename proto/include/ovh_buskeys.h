/*  ovh_buskeys.h - CurveZMQ on the bus: this program's certificate, the
    server's public key, and which src values a publisher's key owns.

    Every bus socket of a program takes the same three settings (flags
    --bus-key, --bus-server-key, --bus-allow; variables OVHOOK_BUS_KEY,
    OVHOOK_BUS_SERVER_KEY, OVHOOK_BUS_ALLOW):

    - key: this program's secret certificate (a CZMQ certificate file with
      a curve secret-key, as ovhook-keygen writes NAME_secret). Turns CURVE
      on: every connection is encrypted and the peer proves its key.
    - server key: on a socket that connects, the public certificate of the
      server it connects to. Without it a connecting CURVE socket cannot
      start (there would be nobody to trust).
    - allow: on a socket that binds, a folder of public certificates whose
      holders may connect (ovh_busauth checks every handshake against it).

    A socket either binds all its endpoints (it is the CURVE server) or
    connects all of them (a client): CURVE has one role per socket, so a
    mixed endpoint list is refused with CURVE on.

    src binding: a publisher's certificate may carry the metadata
    'src-prefix' (ovhook-keygen --meta src-prefix=media-1/). The binding
    side receives it with every message of that connection (ovh_busauth
    passes certificate metadata on) and keeps only messages whose envelope
    src starts with it; '*' owns every src (a relay, such as a proxy's key).
    A key without src-prefix owns no src: its messages with an envelope are
    dropped (src-not-allowed); without an envelope there is nothing to
    impersonate, and they pass.                                              */

#ifndef OVH_BUSKEYS_H_INCLUDED
#define OVH_BUSKEYS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The metadata of a certificate that names the src values its key owns
#define OVH_BUSKEYS_SRC_PREFIX  "src-prefix"

typedef struct _ovh_buskeys_t ovh_buskeys_t;

//  Load this program's secret certificate from 'key_path' and, when not
//  NULL, the server's public certificate from 'server_key_path'. Returns
//  NULL with the reason in 'error' (naming the file and what is wrong with
//  it): missing, unreadable, not a certificate, no secret key, readable by
//  others.
ovh_buskeys_t *
    ovh_buskeys_new (const char *key_path, const char *server_key_path,
                     char *error, size_t error_size);
void
    ovh_buskeys_destroy (ovh_buskeys_t **self_p);

//  This program's public key, Z85 (40 characters)
const char *
    ovh_buskeys_public (ovh_buskeys_t *self);
//  True when a server key was given
bool
    ovh_buskeys_has_server (ovh_buskeys_t *self);

//  Make 'socket' a CURVE server whose handshakes ovh_busauth checks under
//  'domain' (ovh_busauth_allow). Call before bind.
void
    ovh_buskeys_apply_server (ovh_buskeys_t *self, zsock_t *socket, const char *domain);
//  Make 'socket' a CURVE client of the server key. Returns -1 when no
//  server key was given. Call before connect.
int
    ovh_buskeys_apply_client (ovh_buskeys_t *self, zsock_t *socket);

//  Whether the endpoint list (CZMQ syntax) binds: 1 when every endpoint
//  binds, 0 when every one connects, -1 when it mixes them. An endpoint
//  without '@' or '>' does what 'bind_by_default' says.
int
    ovh_buskeys_binds (const char *endpoints, bool bind_by_default);

//  What a socket does with the three settings (key, server key, allow
//  folder; NULL when not given), checked before anything is opened:
#define OVH_BUSKEYS_PLAINTEXT   0   //  no key: no CURVE
#define OVH_BUSKEYS_CLIENT      1   //  a key, and every endpoint connects
#define OVH_BUSKEYS_SERVER      2   //  a key, and every endpoint binds
//  Returns one of them, or -1 with the reason in 'error', worded with the
//  flags' names since a person has to fix it; 'what' names the socket
//  ("bus", "frontend"):
//    "--bus-server-key needs --bus-key (this program's secret certificate)"
//    "--bus-allow needs --bus-key (this program's secret certificate)"
//    "the WHAT endpoints 'E' both bind and connect: with --bus-key (CURVE)
//     a socket is either the server or a client; ..."
//    "the WHAT connects ('E'): with --bus-key it needs --bus-server-key, ..."
//    "the WHAT binds ('E'): with --bus-key it needs --bus-allow, ..."
//  A setting that the role does not use (an allow folder on a socket that
//  connects, a server key on one that binds) is ignored: one environment
//  can then serve every program of a host.
int
    ovh_buskeys_role (const char *what, const char *endpoints, bool bind_by_default,
                      const char *key, const char *server_key, const char *allow,
                      char *error, size_t error_size);

//  Whether 'src' may be used by the peer whose certificate carried
//  'prefix' (the message property OVH_BUSKEYS_SRC_PREFIX; NULL: none).
bool
    ovh_buskeys_owns (const char *prefix, const char *src, size_t src_size);

//  Whether a bus endpoint list binds a non-loopback address (tcp://*,
//  tcp://0.0.0.0, tcp://10.1.2.3, an interface name): the case where a
//  plaintext bus is open to the network
bool
    ovh_buskeys_exposed (const char *endpoints, bool bind_by_default);

#ifdef __cplusplus
}
#endif
#endif
