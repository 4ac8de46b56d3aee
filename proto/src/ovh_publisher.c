/*  ovh_publisher.c - publish events on the bus.

    The socket is an XPUB rather than a PUB for one reason: ZeroMQ's slow
    joiner. A PUB drops whatever it sends before the subscriber's
    subscription has reached it, and a component that starts, publishes
    "sessionCreated" and goes on would lose that first event. An XPUB hands
    us the subscriptions as messages ("\x01prefix" subscribe, "\x00prefix"
    unsubscribe), so before each send we know whether anyone downstream
    wants the topic, and can wait for a subscription during the join window
    (creation + join timeout). After the window a send never waits: a bus
    with no receiver must not slow its publishers down.

    The XPUB is not verbose, so it reports only the first subscription and
    the last unsubscription of each prefix over all subscribers; a plain
    set of prefixes is therefore an exact picture.

    The waiting needs the other side to be alive: a bound SUB/XSUB sends
    its subscriptions to a newly connected publisher only when its own
    thread calls into it (libzmq attaches accepted connections while the
    socket processes commands). A receiver polled by its own loop, as the
    bridge is, does; a SUB created in the publishing thread and not read
    meanwhile never would, and the send waits out the join window.

    Delivery at exit: CZMQ gives sockets a linger of 0 by default, which
    throws queued messages away when the socket closes. We set a linger
    (OVH_PUBLISHER_LINGER) instead. zmq_close then returns at once but the
    I/O thread keeps sending what is queued, and zmq_ctx_term, which CZMQ's
    atexit handler (zsys_shutdown) calls when the process exits, blocks
    until the queue is flushed or the linger runs out. So a process that
    publishes N events and exits straight away still delivers all N
    (tests/unit/proto/test_publisher.c checks it across fork).                    */

#include <assert.h>
#include <fcntl.h>
#include <unistd.h>
#include <czmq.h>
#include <msgpack.h>
#include "ovh_log.h"
#include "ovhook.h"
#include "ovh_busauth.h"
#include "ovh_buskeys.h"
#include "ovh_busmonitor.h"

//  Queue room for bursts: CZMQ's default (1000) would drop events when a
//  component publishes many at once while the bridge is busy
#define SNDHWM              100000

struct _ovh_publisher_t {
    zsock_t *socket;
    ovh_busmonitor_t *monitor;      //  the handshakes (ovh_publisher_new_secure)
    ovh_busauth_t *auth;            //  with CURVE, binding: the ZAP handler
    void *handle;                   //  the libzmq socket, for zmq_send
    int64_t join_deadline;          //  zclock_mono () until which sends wait
    int join_timeout;
    int64_t created;
    bool envelope;
    char *src;
    uint64_t epoch;                 //  drawn once per instance: this run
    //  Seq counts per topic (the last slot: topics not in the catalog), so
    //  that a subscriber of some topics sees no gap where others were sent
    uint64_t seq [OVH_CATALOG_SIZE + 1];
    uint64_t last_seq;              //  seq of the last message sent
    zlistx_t *prefixes;             //  subscribed prefixes, as zchunk_t
    bool subscribed_ever;           //  some subscription has arrived
    msgpack_sbuffer envelope_buffer;
    msgpack_packer envelope_packer;
};

static void
s_chunk_destroy (void **item)
{
    zchunk_destroy ((zchunk_t **) item);
}

//  Random bytes from /dev/urandom, or CZMQ's UUID generator if that fails.
//  Returns 0 or -1.
static int
s_random (uint8_t *random, size_t size)
{
    assert (size <= 16);
    int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        bool have_random = read (fd, random, size) == (ssize_t) size;
        close (fd);
        if (have_random)
            return 0;
    }
    zuuid_t *uuid = zuuid_new ();
    if (!uuid)
        return -1;
    memcpy (random, zuuid_data (uuid), size);
    zuuid_destroy (&uuid);
    return 0;
}

//  "<hostname>/<pid>/<16 hex digits>": unique per instance, so that a
//  receiver can tell two publishers in one process (or a restart) apart
static char *
s_generate_src (void)
{
    char host [256] = "";
    if (gethostname (host, sizeof host - 1) != 0)
        strcpy (host, "unknown");
    host [sizeof host - 1] = 0;

    uint8_t random [8];
    if (s_random (random, sizeof random))
        return NULL;
    char hex [sizeof random * 2 + 1];
    for (size_t index = 0; index < sizeof random; index++)
        snprintf (hex + 2 * index, 3, "%02x", random [index]);
    return zsys_sprintf ("%s/%d/%s", host, (int) getpid (), hex);
}

//  The epoch tells runs apart even when a src is reused (set by the
//  application, or a pid recycled in a container): with 64 random bits,
//  two runs of one src collide with a chance of 2^-64
static uint64_t
s_generate_epoch (void)
{
    uint8_t random [8];
    if (s_random (random, sizeof random))
        return (uint64_t) zclock_time () ^ ((uint64_t) getpid () << 40);
    uint64_t epoch = 0;
    for (size_t index = 0; index < sizeof random; index++)
        epoch = (epoch << 8) | random [index];
    return epoch;
}

//  The publisher, in plaintext when 'keys' is NULL. Returns NULL with the
//  reason in 'error'.
static ovh_publisher_t *
s_new (const char *endpoints, ovh_buskeys_t *keys, int role, const char *allow, bool watch,
       char *error, size_t error_size)
{
    ovh_publisher_t *self = (ovh_publisher_t *) zmalloc (sizeof (ovh_publisher_t));
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->envelope = true;
    self->join_timeout = OVH_PUBLISHER_JOIN_TIMEOUT;
    self->created = zclock_mono ();
    self->join_deadline = self->created + self->join_timeout;
    msgpack_sbuffer_init (&self->envelope_buffer);
    msgpack_packer_init (&self->envelope_packer, &self->envelope_buffer,
                         msgpack_sbuffer_write);
    self->src = s_generate_src ();
    self->epoch = s_generate_epoch ();
    self->prefixes = zlistx_new ();
    self->socket = zsock_new (ZMQ_XPUB);
    if (!self->src || !self->prefixes || !self->socket) {
        snprintf (error, error_size, "out of memory");
        ovh_publisher_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->prefixes, s_chunk_destroy);
    self->handle = zsock_resolve (self->socket);

    //  Options that shape connections must be set before connecting
    zsock_set_sndhwm (self->socket, SNDHWM);
    zsock_set_linger (self->socket, OVH_PUBLISHER_LINGER);
    //  IPv6, reconnects, keepalives: as every bus socket (ovh_bus.h)
    ovh_bus_options (self->socket);
    if (role == OVH_BUSKEYS_SERVER) {
        self->auth = ovh_busauth_new ();
        if (!self->auth) {
            snprintf (error, error_size, "another ZAP handler runs in this process: a "
                      "process can hold one binding CURVE publisher, and no other ovh_busauth");
            ovh_publisher_destroy (&self);
            return NULL;
        }
        if (ovh_busauth_allow (self->auth, "bus", allow, error, error_size) < 0) {
            ovh_publisher_destroy (&self);
            return NULL;
        }
        ovh_buskeys_apply_server (keys, self->socket, "bus");
    }
    else
    if (role == OVH_BUSKEYS_CLIENT)
        ovh_buskeys_apply_client (keys, self->socket);
    //  The monitor must watch the socket before it connects, or the first
    //  handshake's failure would go unseen
    if (watch) {
        self->monitor = ovh_busmonitor_new (self->socket, "bus", role == OVH_BUSKEYS_SERVER);
        if (!self->monitor) {
            snprintf (error, error_size, "out of memory");
            ovh_publisher_destroy (&self);
            return NULL;
        }
    }
    //  Unprefixed endpoints bind, as for any CZMQ publishing socket. An
    //  empty list would make a publisher that silently reaches nobody.
    if (*endpoints == 0 || zsock_attach (self->socket, endpoints, true) != 0) {
        snprintf (error, error_size, "cannot open bus '%s': %s", endpoints,
                  *endpoints? zmq_strerror (zmq_errno ()): "empty endpoint list");
        ovh_publisher_destroy (&self);
        return NULL;
    }
    return self;
}

ovh_publisher_t *
ovh_publisher_new (const char *endpoints)
{
    if (!endpoints)
        endpoints = ">" OVH_BUS_ENDPOINT;
    char error [256];
    ovh_publisher_t *self = s_new (endpoints, NULL, OVH_BUSKEYS_PLAINTEXT, NULL, false,
                                   error, sizeof error);
    if (!self)
        ovh_log_error ("ovh_publisher: invalid bus endpoint '%s'", endpoints);
    return self;
}

ovh_publisher_t *
ovh_publisher_new_secure (const char *endpoints, const char *key_path,
                          const char *server_key_path, const char *allow_folder,
                          char *error, size_t error_size)
{
    assert (error);
    if (!endpoints)
        endpoints = ">" OVH_BUS_ENDPOINT;
    int role = ovh_buskeys_role ("bus", endpoints, true, key_path, server_key_path,
                                 allow_folder, error, error_size);
    if (role < 0)
        return NULL;
    ovh_buskeys_t *keys = NULL;
    if (key_path) {
        //  The server key only matters to a client
        keys = ovh_buskeys_new (key_path, role == OVH_BUSKEYS_CLIENT? server_key_path: NULL,
                                error, error_size);
        if (!keys)
            return NULL;
    }
    //  A plaintext publisher that connects is watched too: a server that
    //  wants CURVE then gets named as the reason no subscriber comes
    bool watch = role != OVH_BUSKEYS_PLAINTEXT || ovh_buskeys_binds (endpoints, true) == 0;
    ovh_publisher_t *self = s_new (endpoints, keys, role, allow_folder, watch,
                                   error, error_size);
    //  The socket keeps its own copy of the keys
    ovh_buskeys_destroy (&keys);
    return self;
}

void
ovh_publisher_destroy (ovh_publisher_t **self_p)
{
    assert (self_p);
    ovh_publisher_t *self = *self_p;
    if (self) {
        //  The monitor goes first, in this thread (ovh_busmonitor.h).
        //  Closing keeps the linger: queued events still go out (see top),
        //  over connections whose handshakes are done: the ZAP handler can
        //  go after the socket
        ovh_busmonitor_destroy (&self->monitor);
        zsock_destroy (&self->socket);
        ovh_busauth_destroy (&self->auth);
        zlistx_destroy (&self->prefixes);
        msgpack_sbuffer_destroy (&self->envelope_buffer);
        zstr_free (&self->src);
        free (self);
        *self_p = NULL;
    }
}

void
ovh_publisher_set_join_timeout (ovh_publisher_t *self, int msecs)
{
    assert (self);
    self->join_timeout = msecs < 0? 0: msecs;
    self->join_deadline = self->created + self->join_timeout;
}

void
ovh_publisher_set_linger (ovh_publisher_t *self, int msecs)
{
    assert (self);
    zsock_set_linger (self->socket, msecs);
}

void
ovh_publisher_set_envelope (ovh_publisher_t *self, bool envelope)
{
    assert (self);
    self->envelope = envelope;
}

void
ovh_publisher_set_src (ovh_publisher_t *self, const char *src)
{
    assert (self);
    assert (src);
    char *copy = strdup (src);
    if (copy) {
        zstr_free (&self->src);
        self->src = copy;
    }
}

void
ovh_publisher_set_epoch (ovh_publisher_t *self, uint64_t epoch)
{
    assert (self);
    self->epoch = epoch;
}

//  Apply one subscription message to our set of prefixes
static void
s_subscription (ovh_publisher_t *self, const byte *data, size_t size)
{
    if (size < 1 || (data [0] != 0 && data [0] != 1))
        return;                     //  not a subscription message
    const byte *prefix = data + 1;
    size_t prefix_size = size - 1;
    zchunk_t *chunk = (zchunk_t *) zlistx_first (self->prefixes);
    while (chunk && !(zchunk_size (chunk) == prefix_size
                  &&  memcmp (zchunk_data (chunk), prefix, prefix_size) == 0))
        chunk = (zchunk_t *) zlistx_next (self->prefixes);
    if (data [0] == 1) {
        self->subscribed_ever = true;
        if (!chunk)
            zlistx_add_end (self->prefixes, zchunk_new (prefix, prefix_size));
    }
    else
    if (chunk)
        zlistx_delete (self->prefixes, zlistx_cursor (self->prefixes));
}

//  Read subscription messages, waiting up to 'msecs' for the first (0 =
//  only what is pending). Returns the number read, or -1 if the socket
//  cannot be read at all (context terminated): then nobody should wait.
static int
s_read_subscriptions (ovh_publisher_t *self, int msecs)
{
    int count = 0;
    while (true) {
        zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLIN, 0 };
        int rc = zmq_poll (&item, 1, count == 0? msecs: 0);
        if (rc == -1 && zmq_errno () != EINTR)
            return -1;
        if (rc <= 0)
            break;                  //  nothing pending, or a signal
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, self->handle, ZMQ_DONTWAIT) == -1) {
            zmq_msg_close (&msg);
            break;
        }
        s_subscription (self, (const byte *) zmq_msg_data (&msg), zmq_msg_size (&msg));
        zmq_msg_close (&msg);
        count++;
    }
    return count;
}

static bool
s_topic_wanted (ovh_publisher_t *self, const char *topic, size_t topic_size)
{
    zchunk_t *chunk = (zchunk_t *) zlistx_first (self->prefixes);
    for (; chunk; chunk = (zchunk_t *) zlistx_next (self->prefixes))
        if (zchunk_size (chunk) <= topic_size
        &&  memcmp (zchunk_data (chunk), topic, zchunk_size (chunk)) == 0)
            return true;
    return false;
}

//  Send one frame, retrying if a signal interrupts the call
static int
s_send_frame (void *handle, const void *data, size_t size, int flags)
{
    while (zmq_send (handle, data, size, flags) == -1) {
        if (zmq_errno () != EINTR)
            return -1;
    }
    return 0;
}

int
ovh_publisher_send_raw (ovh_publisher_t *self, const char *topic,
                        const void *body, size_t size)
{
    assert (self);
    assert (topic);
    assert (body || size == 0);
    size_t topic_size = strlen (topic);

    int rc = s_read_subscriptions (self, 0);
    //  Join window: wait for a subscriber that wants this topic
    while (rc != -1 && !s_topic_wanted (self, topic, topic_size)) {
        int64_t left = self->join_deadline - zclock_mono ();
        if (left <= 0)
            break;
        rc = s_read_subscriptions (self, (int) left);
    }
    const ovh_event_type_t *type = ovh_catalog_lookup (topic, topic_size);
    size_t counter = type ? (size_t) type->index : OVH_CATALOG_SIZE;
    uint64_t seq = self->seq [counter] + 1;
    if (self->envelope) {
        msgpack_sbuffer_clear (&self->envelope_buffer);
        msgpack_packer *packer = &self->envelope_packer;
        if (msgpack_pack_map (packer, 3)
        ||  msgpack_pack_str_with_body (packer, "src", 3)
        ||  msgpack_pack_str_with_body (packer, self->src, strlen (self->src))
        ||  msgpack_pack_str_with_body (packer, "seq", 3)
        ||  msgpack_pack_uint64 (packer, seq)
        ||  msgpack_pack_str_with_body (packer, "epoch", 5)
        ||  msgpack_pack_uint64 (packer, self->epoch)) {
            ovh_log_error ("ovh_publisher: out of memory");
            return -1;
        }
    }
    //  zmq_send copies each frame once into its message (small ones inline);
    //  a PUB-type send never blocks, so the three parts go out together or,
    //  at the high-water mark, are dropped together
    if (s_send_frame (self->handle, topic, topic_size, ZMQ_SNDMORE)
    ||  s_send_frame (self->handle, body, size, self->envelope? ZMQ_SNDMORE: 0)
    || (self->envelope
    &&  s_send_frame (self->handle, self->envelope_buffer.data,
                      self->envelope_buffer.size, 0))) {
        ovh_log_error ("ovh_publisher: cannot send '%s': %s", topic, zmq_strerror (zmq_errno ()));
        return -1;
    }
    self->seq [counter] = seq;
    self->last_seq = seq;
    return 0;
}

int
ovh_publisher_send (ovh_publisher_t *self, const char *topic, ovh_body_t *body)
{
    assert (self);
    assert (body);
    size_t size;
    const void *data = ovh_body_data (body, &size);
    if (!data)
        return -1;
    return ovh_publisher_send_raw (self, topic, data, size);
}

bool
ovh_publisher_wait_subscriber (ovh_publisher_t *self, int msecs)
{
    assert (self);
    int64_t deadline = zclock_mono () + (msecs < 0? 0: msecs);
    int rc = s_read_subscriptions (self, 0);
    while (rc != -1 && !self->subscribed_ever) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            break;
        rc = s_read_subscriptions (self, (int) left);
    }
    return self->subscribed_ever;
}

bool
ovh_publisher_problem (ovh_publisher_t *self, char *buffer, size_t size)
{
    assert (self);
    assert (buffer && size);
    buffer [0] = 0;
    return self->monitor && ovh_busmonitor_problem (self->monitor, buffer, size);
}

const char *
ovh_publisher_src (ovh_publisher_t *self)
{
    assert (self);
    return self->src;
}

uint64_t
ovh_publisher_epoch (ovh_publisher_t *self)
{
    assert (self);
    return self->epoch;
}

uint64_t
ovh_publisher_seq (ovh_publisher_t *self)
{
    assert (self);
    return self->last_seq;
}
