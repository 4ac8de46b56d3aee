/*  ovh_busauth.h - the process's ZAP handler (ZeroMQ's authentication
    protocol, RFC 27): every CURVE handshake on a binding bus socket of
    this process is checked against a folder of allowed public
    certificates.

    An actor, like CZMQ's zauth, but with one folder per ZAP domain (the
    proxy lets different keys into its frontend and its backend), counters,
    and rate-limited log lines that name the refused key and the peer's
    address. Folders are read with zcertstore: a certificate added to or
    removed from a folder counts from the next handshake, without a restart
    (the folder is read again when its file count, total size or newest
    modification time changes). Files ending in "_secret" are never read
    as allowed keys. The metadata of an allowed certificate (src-prefix)
    travels with every message of that connection (zmq_msg_gets).

    ZeroMQ has one ZAP handler per context: one ovh_busauth per process.   */

#ifndef OVH_BUSAUTH_H_INCLUDED
#define OVH_BUSAUTH_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ovh_busauth_t ovh_busauth_t;

//  Start the handler. Returns NULL (logged) if another ZAP handler runs in
//  this process.
ovh_busauth_t *
    ovh_busauth_new (void);
void
    ovh_busauth_destroy (ovh_busauth_t **self_p);

//  Let the holders of the public certificates in 'folder' connect to the
//  sockets of ZAP domain 'domain' (ovh_buskeys_apply_server). Returns the
//  number of certificates found now, or -1 with the reason in 'error' (no
//  such folder, not a folder, unreadable). Logs a warning for a secret
//  certificate found in the folder: it does not belong there.
int
    ovh_busauth_allow (ovh_busauth_t *self, const char *domain, const char *folder,
                       char *error, size_t error_size);

//  Handshakes let in, and refused (an unknown key, or a domain that has no
//  folder), since the start
uint64_t
    ovh_busauth_allowed (ovh_busauth_t *self);
uint64_t
    ovh_busauth_refused (ovh_busauth_t *self);

#ifdef __cplusplus
}
#endif
#endif
