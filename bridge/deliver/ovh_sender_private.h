/*  ovh_sender_private.h - what the files of the sender class share: its
    shards, transfers and epoll registrations. ovh_sender.c sets them up,
    starts and finishes transfers; ovh_sender_poll.c keeps curl's sockets in
    the dispatcher's epoll set and the timers of all shards, and lets curl
    act on them. Not for other classes.

    The transfers are split over shards of at most SHARD_SLOTS, each with
    a curl multi handle of its own. libcurl 7.88 looks for a connection to
    reuse by walking every connection its multi holds to the host, busy
    ones included (ConnectionExists in lib/url.c): with all workers on one
    multi, each request would cost a walk over up to --workers connections.
    A shard bounds that walk whatever --workers is.                          */

#ifndef OVH_SENDER_PRIVATE_H_INCLUDED
#define OVH_SENDER_PRIVATE_H_INCLUDED

#include <curl/curl.h>
#include "ovh_sender.h"

//  Transfers per shard, at most: small enough that curl's walk stays
//  short, large enough that 32 workers (the default) share one connection
//  cache as they always did
#define SHARD_SLOTS     64

//  Room for the signature header: "webhook-signature: " and up to 40
//  entries of "v1," + 44 base64 characters + a space
#define SIGNATURE_MAX   2048

//  Times one request is sent again for libcurl at most (ovh_sender_http.c)
#define RESEND_MAX      3

typedef struct _shard_t shard_t;

typedef struct {
    CURL *easy;
    shard_t *shard;                 //  whose multi runs it, for its life
    ovh_item_t *item;               //  NULL when the transfer is free
    int64_t started;                //  zclock_usecs at start
    int resent;                     //  sent again by ovh_sender_http_resend
    char error [CURL_ERROR_SIZE];
    //  The per-attempt headers, linked in front of the shared ones: no
    //  allocation per request
    struct curl_slist nodes [3];
    char id_header [64];
    char timestamp_header [48];
    char signature_header [SIGNATURE_MAX];
} transfer_t;

struct _shard_t {
    CURLM *multi;
    ovh_sender_t *sender;           //  for curl's callbacks
    transfer_t *transfers;          //  its slice of the sender's transfers
    size_t transfer_count;
    size_t busy;
    size_t *idle;                   //  indexes of its free transfers, a stack
    int64_t timer_due;              //  zclock_mono ms, -1 when none
    bool acted;                     //  curl ran since its messages were read
    //  In the sender's list of shards with a free transfer
    shard_t *prev;
    shard_t *next;
    bool listed;
};

//  A descriptor in the epoll set, as ovh_sender_poll.c keeps it
typedef enum { WATCH_NONE, WATCH_CURL, WATCH_PARKED } watch_state_t;
typedef struct {
    uint64_t data;                  //  as registered
    uint32_t events;
    uint8_t state;                  //  watch_state_t
} watch_t;

struct _ovh_sender_t {
    shard_t *shards;
    size_t shard_count;
    //  The shards with a free transfer, the one that most recently finished
    //  a transfer first: its connection is idle and reused by the next
    shard_t *free_first;
    struct curl_slist *headers;
    transfer_t *transfers;
    size_t transfer_count;
    size_t busy;
    //  The dispatcher's epoll set, -1 until ovh_sender_watch. Each socket
    //  curl wants watched is registered with data.u64 = its shard's index
    //  << 32 | the descriptor: an event leads to its multi in O(1).
    int epoll_fd;
    size_t watch_count;             //  sockets curl wants watched
    //  Each descriptor's registration, indexed by the descriptor (O(1)),
    //  grown as curl's sockets get higher numbers (ovh_sender_poll.c)
    watch_t *fds;
    size_t fd_room;
    bool closing;                   //  destroy: curl's callbacks are ignored
    ovh_sender_done_fn *done;
    void *done_arg;
    ovh_signer_t *signer;
    CURLU *url;                     //  the endpoint, parsed once for all transfers
    bool accept_2xx;
    char *endpoint_shown;
    long curl_version;              //  CURLOPT_HTTP_VERSION (ovh_sender_http.c)
    bool multiplex;                 //  h2 may be used: streams share connections
    bool h2c_fresh;                 //  h2c on libcurl < 8.0: no connection reuse
    size_t stream_cuts;             //  h2 answers followed by a stream error
    size_t resends;                 //  requests sent again for libcurl
};

//  ovh_sender_poll.c: hands the shard's multi the socket and timer
//  callbacks
void
    ovh_sender_poll_attach (shard_t *shard);
//  ovh_sender_poll.c: the transfer's sockets are closed through the
//  sender, which keeps its record of the epoll set true. 0 or -1.
int
    ovh_sender_poll_attach_easy (transfer_t *transfer);
//  ovh_sender_http.c: the HTTP version to ask for, from the setting and
//  the endpoint's scheme (self->url); 0 or -1
int
    ovh_sender_http_setup (ovh_sender_t *self, ovh_config_t *config);
//  ovh_sender_http.c: that version on an easy handle; 0 or -1
int
    ovh_sender_http_easy (ovh_sender_t *self, CURL *easy);
//  ovh_sender_http.c: connections and multiplexing of a shard's multi;
//  0 or -1
int
    ovh_sender_http_multi (ovh_sender_t *self, shard_t *shard);
//  ovh_sender_http.c: the code a finished transfer counts as: CURLE_OK
//  for an h2 stream error after a final status, else 'code'
CURLcode
    ovh_sender_http_settle (ovh_sender_t *self, transfer_t *transfer, CURLcode code,
                            long status);
//  ovh_sender_http.c: true if the transfer is one libcurl should have
//  sent again itself, and curl has it again: not finished
bool
    ovh_sender_http_resend (ovh_sender_t *self, transfer_t *transfer, CURLcode code);
//  ovh_sender.c: reports the shard's finished transfers
void
    ovh_sender_collect (shard_t *shard);

#endif
