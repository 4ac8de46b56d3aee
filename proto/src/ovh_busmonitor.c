/*  ovh_busmonitor.c - the handshakes of one bus socket (ovh_busmonitor.h).

    libzmq reports a failed handshake without the peer: the binding side
    learns the address at ACCEPTED (the event's value is the connection's
    file descriptor, getpeername) and the failure comes between that and
    DISCONNECTED of the same descriptor, from the same I/O thread, so the
    failure is held until DISCONNECTED names its connection.               */

#include <czmq.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include "ovh_log.h"
#include "ovh_busmonitor.h"
#include "ovh_ratelog.h"

#define LOG_INTERVAL    10000       //  ms between two lines of one kind
#define EVENTS  (ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED \
               | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL \
               | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

enum { KIND_AUTH, KIND_MECHANISM, KIND_CRYPTO, KIND_OTHER, KIND_COUNT };

struct _ovh_busmonitor_t {
    zsock_t *socket;
    zactor_t *actor;
    char *name;
    bool binds;
    bool plaintext;                 //  no CURVE on this socket
    atomic_uint_least64_t failed;
    atomic_uint_least64_t succeeded;
    pthread_mutex_t lock;           //  guards 'problem'
    char problem [256];
    char endpoint [64];             //  the monitor's inproc name
};

//  Monitor names come from a counter, not from an address: ZeroMQ frees a
//  closed monitor's name later, on its own thread, so a monitor made at
//  the address of one just destroyed could not bind its name
static atomic_uint s_monitors;

typedef struct {
    ovh_busmonitor_t *owner;
    zsock_t *events;                //  PAIR, connected to the monitor
    zhash_t *peers;                 //  fd (text) -> address
    int pending_event;              //  a failure waiting for DISCONNECTED, or 0
    int pending_value;
    ovh_ratelog_t *ratelog;
} s_watch_t;

const char *
ovh_busmonitor_reason (int event, int value, bool binds)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return binds? "its key is not allowed (not in --bus-allow)":
               "the server refused this program's key: is its public certificate in the "
               "server's --bus-allow folder?";
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
    &&  value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        return binds? "it does not use CURVE (no --bus-key, or plaintext)":
               "the two sides disagree on CURVE: one has --bus-key, the other not";
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
    &&  (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
    ||   value == ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE))
        return binds? "its handshake does not decrypt: it was given another server key "
                      "(--bus-server-key)":
               "the handshake does not decrypt: --bus-server-key is not this server's key";
    //  Either side may see a mechanism mismatch first: when the peer does,
    //  it hangs up, and this side sees only that
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        return binds? "it closed the connection during the handshake: it does not use CURVE, "
                      "or it was given another server key":
               "the server closed the connection during the handshake: --bus-server-key is "
               "not this server's key, or the server does not use CURVE";
    return "the handshake failed (ZeroMQ protocol error)";
}

static int
s_log_kind (int event, int value)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return KIND_AUTH;
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        return KIND_MECHANISM;
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        return KIND_CRYPTO;
    return KIND_OTHER;
}

//  "ip:port" of the connection on 'fd', or "an unknown address"
static void
s_peer (int fd, char *text, size_t size)
{
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    char host [INET6_ADDRSTRLEN] = "";
    snprintf (text, size, "an unknown address");
    if (getpeername (fd, (struct sockaddr *) &address, &length))
        return;
    if (address.ss_family == AF_INET) {
        struct sockaddr_in *ipv4 = (struct sockaddr_in *) &address;
        inet_ntop (AF_INET, &ipv4->sin_addr, host, sizeof host);
        snprintf (text, size, "%s:%u", host, ntohs (ipv4->sin_port));
    }
    else
    if (address.ss_family == AF_INET6) {
        struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *) &address;
        inet_ntop (AF_INET6, &ipv6->sin6_addr, host, sizeof host);
        snprintf (text, size, "[%s]:%u", host, ntohs (ipv6->sin6_port));
    }
    else
        snprintf (text, size, "a local peer");
}

//  A failure seen on a connecting socket: logged and kept as the problem
static void
s_client_failed (s_watch_t *self, int event, int value, const char *endpoint)
{
    ovh_busmonitor_t *owner = self->owner;
    //  A CURVE server drops a plaintext client as soon as it sees the
    //  mechanism, and the client sees either the mismatch or, when the
    //  close comes first, a failure without detail: for a plaintext
    //  client both mean the same, and are told the same
    if (owner->plaintext && event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
        event = ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
        value = ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH;
    }
    const char *reason = ovh_busmonitor_reason (event, value, false);
    pthread_mutex_lock (&owner->lock);
    snprintf (owner->problem, sizeof owner->problem, "%s", reason);
    pthread_mutex_unlock (&owner->lock);
    ovh_ratelog_warn (self->ratelog, s_log_kind (event, value), "%s %s: %s",
                      owner->name, endpoint, reason);
}

//  A failure seen on a binding socket, once its connection is known.
//  Refused keys are logged by ovh_busauth, which knows the key.
static void
s_server_failed (s_watch_t *self, int event, int value, const char *address)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return;
    ovh_ratelog_warn (self->ratelog, s_log_kind (event, value), "%s: refused a peer from %s: %s",
                      self->owner->name, address, ovh_busmonitor_reason (event, value, true));
}

static void
s_event (s_watch_t *self, int event, int value, const char *endpoint)
{
    ovh_busmonitor_t *owner = self->owner;
    char fd [16];
    snprintf (fd, sizeof fd, "%d", value);
    if (event == ZMQ_EVENT_ACCEPTED) {
        char address [64];
        s_peer (value, address, sizeof address);
        zhash_update (self->peers, fd, address);
    }
    else
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        atomic_fetch_add (&owner->succeeded, 1);
        pthread_mutex_lock (&owner->lock);
        bool had_problem = owner->problem [0] != 0;
        owner->problem [0] = 0;
        pthread_mutex_unlock (&owner->lock);
        if (had_problem)
            ovh_log_info ("%s %s: handshake succeeded", owner->name, endpoint);
    }
    else
    if (event == ZMQ_EVENT_DISCONNECTED) {
        const char *address = (const char *) zhash_lookup (self->peers, fd);
        if (self->pending_event && owner->binds)
            s_server_failed (self, self->pending_event, self->pending_value,
                             address? address: "an unknown address");
        self->pending_event = 0;
        zhash_delete (self->peers, fd);
    }
    else {
        atomic_fetch_add (&owner->failed, 1);
        if (owner->binds) {
            self->pending_event = event;
            self->pending_value = value;
        }
        else
            s_client_failed (self, event, value, endpoint);
    }
}

static void
s_actor (zsock_t *pipe, void *args)
{
    s_watch_t self = { .owner = (ovh_busmonitor_t *) args };
    self.events = zsock_new (ZMQ_PAIR);
    self.peers = zhash_new ();
    self.ratelog = ovh_ratelog_new (KIND_COUNT, LOG_INTERVAL);
    bool ready = self.events && self.peers && self.ratelog
              && zsock_connect (self.events, "%s", self.owner->endpoint) == 0;
    if (self.peers)
        zhash_autofree (self.peers);
    zsock_signal (pipe, 0);
    zpoller_t *poller = ready? zpoller_new (pipe, self.events, NULL): NULL;
    //  Read events until destroyed, through SIGINT/SIGTERM too: libzmq's
    //  I/O thread sends each event with a blocking send while it holds the
    //  socket's monitor lock, so once nobody read them, the next event (a
    //  peer reconnecting during the drain) blocked it for good, and with
    //  it zmq_socket_monitor (NULL) in destroy: the bridge hung at exit
    if (poller)
        zpoller_set_nonstop (poller, true);
    while (poller) {
        void *which = zpoller_wait (poller, -1);
        if (which == self.events) {
            zframe_t *head = zframe_recv (self.events);
            char *where = zsock_rcvmore (self.events)? zstr_recv (self.events): NULL;
            if (head && zframe_size (head) == 6) {
                uint8_t *data = zframe_data (head);
                uint16_t event = (uint16_t) (data [0] | data [1] << 8);
                uint32_t value = (uint32_t) data [2] | (uint32_t) data [3] << 8
                               | (uint32_t) data [4] << 16 | (uint32_t) data [5] << 24;
                s_event (&self, event, (int) value, where? where: "?");
            }
            zframe_destroy (&head);
            zstr_free (&where);
        }
        else
        if (which == pipe || zpoller_terminated (poller))
            break;              //  $TERM (the only command), or the context ended
    }
    zpoller_destroy (&poller);
    ovh_ratelog_destroy (&self.ratelog);
    zhash_destroy (&self.peers);
    zsock_destroy (&self.events);
}

ovh_busmonitor_t *
ovh_busmonitor_new (zsock_t *socket, const char *name, bool binds)
{
    assert (socket);
    assert (name);
    ovh_busmonitor_t *self = (ovh_busmonitor_t *) zmalloc (sizeof (ovh_busmonitor_t));
    if (!self)
        return NULL;
    self->socket = socket;
    self->binds = binds;
    self->plaintext = zsock_mechanism (socket) == ZMQ_NULL;
    self->name = strdup (name);
    atomic_init (&self->failed, 0);
    atomic_init (&self->succeeded, 0);
    pthread_mutex_init (&self->lock, NULL);
    snprintf (self->endpoint, sizeof self->endpoint, "inproc://ovh-busmonitor-%u",
              atomic_fetch_add (&s_monitors, 1));
    //  The monitor's end binds in the socket's thread; the actor connects
    //  before zactor_new returns, so no event is sent before it listens
    if (!self->name || zmq_socket_monitor (zsock_resolve (socket), self->endpoint, EVENTS)) {
        pthread_mutex_destroy (&self->lock);
        free (self->name);
        free (self);
        return NULL;
    }
    self->actor = zactor_new (s_actor, self);
    return self;
}

void
ovh_busmonitor_destroy (ovh_busmonitor_t **self_p)
{
    assert (self_p);
    ovh_busmonitor_t *self = *self_p;
    if (!self)
        return;
    zmq_socket_monitor (zsock_resolve (self->socket), NULL, 0);
    zactor_destroy (&self->actor);
    pthread_mutex_destroy (&self->lock);
    free (self->name);
    free (self);
    *self_p = NULL;
}

uint64_t
ovh_busmonitor_failed (ovh_busmonitor_t *self)
{
    assert (self);
    return atomic_load (&self->failed);
}

uint64_t
ovh_busmonitor_succeeded (ovh_busmonitor_t *self)
{
    assert (self);
    return atomic_load (&self->succeeded);
}

bool
ovh_busmonitor_problem (ovh_busmonitor_t *self, char *buffer, size_t size)
{
    assert (self);
    pthread_mutex_lock (&self->lock);
    snprintf (buffer, size, "%s", self->problem);
    pthread_mutex_unlock (&self->lock);
    return buffer [0] != 0;
}
