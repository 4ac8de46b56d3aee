/*  ovh_h1sender_private.h - what the files of the h1sender class share:
    its connections and the endpoint's parts. ovh_h1sender.c starts,
    times out and ends attempts; ovh_h1conn.c runs their sockets (connect,
    send, receive); ovh_h1request.c reads the endpoint and writes requests;
    ovh_h1response.c reads responses with http-parser. Not for other
    classes.                                                                  */

#ifndef OVH_H1SENDER_PRIVATE_H_INCLUDED
#define OVH_H1SENDER_PRIVATE_H_INCLUDED

#include <netinet/in.h>
#include <sys/socket.h>
#include <http_parser.h>
#include "ovh_h1sender.h"

//  Addresses of the endpoint's host tried in turn (localhost: ::1, 127.0.0.1)
#define ADDRESS_MAX     4

//  Room for one attempt's own headers: webhook-id, webhook-timestamp, the
//  signature (as the libcurl sender's: up to 40 signatures) and
//  Content-Length
#define ATTEMPT_HEAD_MAX   2304

//  A response body is discarded; past 64 KiB the status is all we need
//  (as the libcurl sender): the connection is closed instead of read on
#define BODY_MAX        (64 * 1024)

//  Response headers larger than this are an error (libcurl's limit)
#define HEADERS_MAX     (100 * 1024)

//  Retry-After values longer than this are not a number of seconds or a
//  date anyone sends: cut, and then read as invalid
#define RETRY_AFTER_MAX 64

typedef enum {
    CONN_CLOSED,                //  no socket
    CONN_IDLE,                  //  open, kept alive, no request
    CONN_CONNECTING,            //  connect () under way, request waiting
    CONN_SENDING,               //  request partly written
    CONN_WAITING                //  request written, response not complete
} conn_state_t;

typedef struct _conn_t conn_t;

//  A connection's place in one of the sender's lists
typedef struct {
    conn_t *prev, *next;
    bool listed;
} conn_link_t;

//  A list of connections, threaded through the conn_link_t at 'offset'
typedef struct {
    conn_t *first, *last;
    size_t offset;
} conn_list_t;

struct _conn_t {
    ovh_h1sender_t *sender;
    int fd;                     //  -1 when closed
    uint32_t generation;        //  sockets opened: tells an old one's events
    uint8_t state;              //  conn_state_t
    uint32_t watched;           //  epoll events registered, 0 when not in the set
    size_t address;             //  the address being tried or connected to
    size_t served;              //  requests answered on this socket
    //  The attempt under way
    ovh_item_t *item;           //  NULL when free
    int64_t started_us;         //  zclock_usecs at the start
    int64_t due;                //  zclock_mono ms: the request's deadline
    int64_t connect_due;        //  zclock_mono ms: connect's deadline
    bool resent;                //  sent again on a fresh socket once
    bool fresh;                 //  the socket was opened for this attempt
    size_t written;             //  bytes of head, attempt head and body sent
    size_t attempt_size;
    char attempt [ATTEMPT_HEAD_MAX];
    //  The response
    http_parser parser;
    size_t received;            //  bytes read for this attempt
    size_t body;                //  body bytes
    bool complete;              //  final response read (or cut at BODY_MAX)
    bool keep;                  //  the socket may serve the next request
    bool in_retry_after;        //  the header being read is Retry-After
    bool field_done;            //  the name seen is complete (a value came)
    size_t field_size;
    char field [12];            //  "retry-after" and one more
    size_t retry_after_size;
    char retry_after [RETRY_AFTER_MAX];
    //  The error of a failed attempt, as curl words its own
    int code;                   //  a CURLcode, 0 for none
    char error [160];
    //  Busy connections in start order, connecting ones in connect order:
    //  each list's head has the nearest deadline
    conn_link_t in_flight_link;
    conn_link_t connecting_link;
    conn_t *finished_next;      //  failed at start, reported by the next act
};

struct _ovh_h1sender_t {
    conn_t *conns;
    size_t conn_count;
    size_t busy;
    //  Free connections, a stack: the one that finished last (its socket
    //  warm and kept alive) is reused first
    size_t *free;
    //  Busy connections in start order, connecting ones in connect order:
    //  each list's head has the nearest deadline
    conn_list_t in_flight;
    conn_list_t connecting;
    conn_t *finished;           //  attempts that failed before any I/O
    bool starting;              //  in ovh_h1sender_start: no done calls
    int epoll_fd;
    ovh_sender_done_fn *done;
    void *done_arg;
    ovh_signer_t *signer;
    bool accept_2xx;
    int connect_timeout_ms;
    int request_timeout_ms;
    char *endpoint_shown;
    //  The endpoint, read once
    struct sockaddr_storage addresses [ADDRESS_MAX];
    socklen_t address_sizes [ADDRESS_MAX];
    size_t address_count;
    char host [256];            //  for errors: as the URL has it
    unsigned port;
    //  The request's head up to the attempt's headers: request line, Host,
    //  User-Agent, Accept, Content-Type and the configured headers
    char *head;
    size_t head_size;
    size_t resends;             //  attempts sent again on a fresh socket
    char input [16 * 1024];     //  what a read brings, parsed at once
};

//  ovh_h1sender.c: the attempt is over, conn->code (0: a response) says
//  how: off the lists, the socket kept only for a whole kept-alive
//  response, reported (or, inside start, listed for the next act)
void
    ovh_h1sender_end (ovh_h1sender_t *self, conn_t *conn);
//  ovh_h1sender.c: the attempt failed with 'code' (a CURLcode) and the
//  error text; ends it
void
    ovh_h1sender_fail (ovh_h1sender_t *self, conn_t *conn, int code, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));
//  ovh_h1sender.c: the connection goes last in 'list', or leaves it (if
//  it is in it)
void
    ovh_h1sender_list_append (conn_list_t *list, conn_t *conn);
void
    ovh_h1sender_list_remove (conn_list_t *list, conn_t *conn);

//  ovh_h1conn.c: what the connection's epoll events carry (data.u64)
uint64_t
    ovh_h1conn_tag (ovh_h1sender_t *self, conn_t *conn);
//  ovh_h1conn.c: registers the socket for 'events' (no call if unchanged);
//  0 or -1 (errno)
int
    ovh_h1conn_watch (ovh_h1sender_t *self, conn_t *conn, uint32_t events);
//  ovh_h1conn.c: closes the socket, if any (which takes it out of the set)
void
    ovh_h1conn_close (conn_t *conn);
//  ovh_h1conn.c: connects to the endpoint's next address, then sends
void
    ovh_h1conn_open (ovh_h1sender_t *self, conn_t *conn);
//  ovh_h1conn.c: writes what is left of the request
void
    ovh_h1conn_send (ovh_h1sender_t *self, conn_t *conn);
//  ovh_h1conn.c: acts on an epoll event of the connection's socket
void
    ovh_h1conn_event (ovh_h1sender_t *self, conn_t *conn, uint32_t events);

//  ovh_h1request.c: reads the endpoint into the sender's addresses, host
//  and port, and writes the shared head. 0, or -1 with 'reason' set when
//  the endpoint or headers are not for this client (libcurl's then).
int
    ovh_h1request_setup (ovh_h1sender_t *self, ovh_config_t *config,
                         char *reason, size_t reason_size);
//  ovh_h1request.c: the attempt's own headers for 'item' into
//  conn->attempt; 0 or -1 (the signer failed)
int
    ovh_h1request_attempt (ovh_h1sender_t *self, conn_t *conn, ovh_item_t *item);

//  ovh_h1response.c: a fresh parser for the next response
void
    ovh_h1response_reset (conn_t *conn);
//  ovh_h1response.c: feeds 'size' bytes (0: the peer closed) to the
//  parser. Returns 0 while incomplete or once complete (conn->complete),
//  -1 on a response that is not HTTP/1.x (conn->code, conn->error set).
int
    ovh_h1response_read (conn_t *conn, const char *data, size_t size);

#endif
