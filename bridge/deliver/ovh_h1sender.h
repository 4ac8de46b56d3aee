/*  ovh_h1sender.h - POSTs events to a plain http endpoint over a pool of
    keep-alive HTTP/1.1 connections, without libcurl: requests are written
    by hand (one sendmsg each), responses read with http-parser (Debian's
    libhttp-parser). The same contract as ovh_sender.h, whose table
    (ovh_sender_class_t) the dispatcher drives it through.

    Why: libcurl 7.88 spends some 57,000 instructions and two poll () per
    request in its own code, more than the rest of the bridge together
    (docs/benchmarks.md, "Hot path"); this client spends a few thousand and
    no system call that is not the request's send and the response's
    receive. It serves only what it does as libcurl would: http:// with a
    numeric host or localhost (no name lookup in the dispatcher's loop),
    no user:password in the URL, HTTP/1.1, and configured headers that all
    have a value. Everything else (https, h2, names to resolve) stays with
    libcurl, and OVHOOK_HTTP_LIBCURL sends everything through libcurl.

    What it keeps from libcurl's behaviour, so that the dispatcher cannot
    tell them apart: one connection per worker, kept alive; a request on a
    reused connection that the endpoint closed before answering a byte is
    sent again once on a fresh one (what curl does, same webhook-id);
    responses of any framing (length, chunked, until close) are read,
    bodies discarded, past 64 KiB cut; 1xx answers skipped; the connect
    and request timeouts; errors reported with libcurl's codes and words
    ("Failed to connect to 127.0.0.1 port 9 after 0 ms: Connection
    refused", "Empty reply from server", "Operation timed out after ...").   */

#ifndef OVH_H1SENDER_H_INCLUDED
#define OVH_H1SENDER_H_INCLUDED

#include "ovh_sender.h"

typedef struct _ovh_h1sender_t ovh_h1sender_t;

//  True if this client serves the configuration's endpoint; otherwise
//  false with the reason (for the log) in 'reason'
bool
    ovh_h1sender_serves (ovh_config_t *config, char *reason, size_t reason_size);

//  The class to drive it through; its new returns NULL (logged) if the
//  endpoint is not one it serves or memory runs out
const ovh_sender_class_t *
    ovh_h1sender_class (void);

#endif
