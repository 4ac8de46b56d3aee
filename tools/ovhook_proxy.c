/*  ovhook_proxy.c - ovhook-proxy: the bus of a cluster. Publishers connect
    to the frontend (XSUB), consumers to the backend (XPUB); events flow
    down, subscriptions flow up, so filtering stays at the publishers.

    ovhook-proxy [--frontend ENDPOINTS] [--backend ENDPOINTS]
                 [--sndhwm N] [--rcvhwm N] [--max-frame BYTES]
                 [--stats-interval 60s]

    By default it binds port 5560 (frontend) and 5561 (backend) on every
    interface.

    This is zmq_proxy with counters: a loop of its own, polling both sockets
    and forwarding whole messages (every frame, in order), so that it can
    count what it forwards and log it every --stats-interval while there is
    traffic. The XPUB is not verbose: it passes up the first subscription
    and the last unsubscription of each topic, which is all the publishers
    need (their XPUB keeps the union). A consumer slower than the backend's
    high-water mark loses messages there (XPUB drops rather than blocks the
    whole cluster); the envelope seq gaps at that consumer show it.

    Exit status: 0 after SIGINT/SIGTERM (with a summary line), 1 when a
    socket cannot be bound/connected, 2 usage error.                      */

#include <czmq.h>
#include "ovhook.h"
#include "ovh_cli.h"

#define NAME "ovhook-proxy"
#define DEFAULT_HWM 100000

typedef struct {
    uint64_t messages;          //  frontend -> backend
    uint64_t bytes;
    uint64_t subscribes;        //  backend -> frontend
    uint64_t unsubscribes;
    uint64_t other;             //  other upstream messages
} counters_t;

typedef struct {
    const char *frontend;
    const char *backend;
    int64_t sndhwm, rcvhwm;         //  rcvhwm: bounded by max_frame (ovh_bus.h)
    int64_t max_frame;
    int64_t stats_interval;
    counters_t counters;
    uint64_t logged_activity;   //  messages + subscriptions at the last line
} proxy_t;

static void
s_usage (FILE *file)
{
    fprintf (file,
        "usage: " NAME " [--frontend ENDPOINTS] [--backend ENDPOINTS] [--sndhwm N]\n"
        "                    [--rcvhwm N] [--max-frame BYTES] [--stats-interval DURATION]\n"
        "Forward the ovhook bus: publishers connect to the frontend (XSUB),\n"
        "consumers to the backend (XPUB); subscriptions travel upstream.\n\n"
        "  --frontend ENDPOINTS   CZMQ syntax (default @tcp://*:5560)\n"
        "  --backend ENDPOINTS    CZMQ syntax (default @tcp://*:5561)\n"
        "  --sndhwm N, --rcvhwm N high-water marks, messages (%d; 0 = none); the\n"
        "                         receive one at most 32 MiB / (max-frame + 64 KiB)\n"
        "  --max-frame BYTES      largest frame forwarded, + 64 KiB (1048576); a\n"
        "                         larger one drops its sender's connection\n"
        "  --stats-interval D     counters while there is traffic (60s; ms, s, m, h)\n"
        "  --help, --version\n", DEFAULT_HWM);
}

//  Returns -1 to go on, else the exit status
static int
s_parse_options (proxy_t *self, int argc, char *argv [])
{
    const ovh_cli_option_t table [] = {
        { .name = "--frontend", .type = OVH_CLI_STRING, .target = &self->frontend },
        { .name = "--backend", .type = OVH_CLI_STRING, .target = &self->backend },
        { .name = "--sndhwm", .type = OVH_CLI_INTEGER, .target = &self->sndhwm,
          .needs = "a number >= 0", .min = 0, .max = INT32_MAX },
        { .name = "--rcvhwm", .type = OVH_CLI_INTEGER, .target = &self->rcvhwm,
          .needs = "a number >= 0", .min = 0, .max = INT32_MAX },
        { .name = "--max-frame", .type = OVH_CLI_INTEGER, .target = &self->max_frame,
          .needs = "bytes >= 1", .min = 1, .max = INT32_MAX },
        { .name = "--stats-interval", .type = OVH_CLI_DURATION, .target = &self->stats_interval,
          .needs = "a duration (500ms, 10s, 1m)", .min = 1, .max = INT64_MAX },
        { .name = NULL }
    };
    ovh_cli_t cli = { NAME, s_usage, table, NULL, NULL };
    int status = ovh_cli_parse (&cli, argc, argv);
    if (status >= 0)
        return status;
    if (ovh_cli_check_bus (NAME, "frontend", self->frontend)
    ||  ovh_cli_check_bus (NAME, "backend", self->backend))
        return 2;
    return -1;
}

//  Move one whole message from 'from' to 'to'; counts its frames' bytes.
//  Returns the first frame's size and byte, or -1 if nothing was read.
static int
s_forward (void *from, void *to, uint64_t *bytes, int *first_byte)
{
    zmq_msg_t part;
    zmq_msg_init (&part);
    int frames = 0;
    int first_size = -1;
    while (true) {
        if (zmq_msg_recv (&part, from, frames? 0: ZMQ_DONTWAIT) == -1) {
            //  The later frames of a message are already here (ZeroMQ
            //  delivers messages whole): only a signal can interrupt them
            if (frames && zmq_errno () == EINTR)
                continue;
            zmq_msg_close (&part);
            return first_size;
        }
        bool more = zmq_msg_more (&part);
        if (frames == 0) {
            first_size = (int) (zmq_msg_size (&part) > INT32_MAX? INT32_MAX: zmq_msg_size (&part));
            *first_byte = first_size > 0? *(byte *) zmq_msg_data (&part): -1;
        }
        *bytes += zmq_msg_size (&part);
        frames++;
        //  An XPUB/XSUB send does not block: at the high-water mark the
        //  message is dropped, never the proxy held
        while (zmq_msg_send (&part, to, more? ZMQ_SNDMORE: 0) == -1 && zmq_errno () == EINTR)
            ;
        if (!more)
            break;
    }
    zmq_msg_close (&part);
    return first_size;
}

static void
s_log_counters (proxy_t *self, const char *prefix)
{
    counters_t *c = &self->counters;
    zsys_info ("%s: forwarded %" PRIu64 " message%s (%" PRIu64 " bytes) to consumers, "
               "%" PRIu64 " subscribe and %" PRIu64 " unsubscribe message%s to publishers",
               prefix, c->messages, c->messages == 1? "": "s", c->bytes,
               c->subscribes, c->unsubscribes, c->unsubscribes == 1? "": "s");
}

static void
s_run (proxy_t *self, zsock_t *frontend, zsock_t *backend)
{
    void *front = zsock_resolve (frontend);
    void *back = zsock_resolve (backend);
    zmq_pollitem_t items [] = {
        { front, 0, ZMQ_POLLIN, 0 },
        { back, 0, ZMQ_POLLIN, 0 }
    };
    int64_t next_stats = zclock_mono () + self->stats_interval;
    while (!zsys_interrupted) {
        int64_t timeout = next_stats - zclock_mono ();
        if (timeout < 0)
            timeout = 0;
        if (zmq_poll (items, 2, timeout > 1000? 1000: (long) timeout) > 0) {
            //  Bounded batches, so that one busy side cannot starve the other
            for (int count = 0; count < 1000 && (items [0].revents & ZMQ_POLLIN); count++) {
                int first;
                if (s_forward (front, back, &self->counters.bytes, &first) < 0)
                    break;
                self->counters.messages++;
            }
            for (int count = 0; count < 1000 && (items [1].revents & ZMQ_POLLIN); count++) {
                uint64_t bytes = 0;
                int first;
                if (s_forward (back, front, &bytes, &first) < 0)
                    break;
                if (first == 1)
                    self->counters.subscribes++;
                else
                if (first == 0)
                    self->counters.unsubscribes++;
                else
                    self->counters.other++;
            }
        }
        if (zclock_mono () >= next_stats) {
            next_stats = zclock_mono () + self->stats_interval;
            counters_t *c = &self->counters;
            uint64_t activity = c->messages + c->subscribes + c->unsubscribes + c->other;
            if (activity != self->logged_activity)
                s_log_counters (self, "stats");
            self->logged_activity = activity;
        }
    }
}

//  HWMs, reconnects and TCP keepalives, then bind/connect ('@' binds by default)
static zsock_t *
s_socket (proxy_t *self, int type, const char *endpoints, const char *side)
{
    zsock_t *socket = zsock_new (type);
    if (!socket) {
        fprintf (stderr, NAME ": cannot create the %s socket\n", side);
        return NULL;
    }
    zsock_set_sndhwm (socket, (int) self->sndhwm);
    //  What one peer may make the proxy hold is bounded (ovh_bus.h)
    ovh_bus_limit (socket, (size_t) self->max_frame, (int) self->rcvhwm);
    zsock_set_linger (socket, 0);
    ovh_bus_options (socket);
    if (zsock_attach (socket, endpoints, true)) {
        fprintf (stderr, NAME ": cannot open %s '%s': %s\n", side, endpoints,
                 zmq_strerror (zmq_errno ()));
        zsock_destroy (&socket);
    }
    return socket;
}

int
main (int argc, char *argv [])
{
    proxy_t self = {
        .frontend = "@tcp://*:5560", .backend = "@tcp://*:5561",
        .sndhwm = DEFAULT_HWM, .rcvhwm = DEFAULT_HWM, .stats_interval = 60000,
        .max_frame = OVH_MAX_FRAME_DEFAULT
    };
    int status = s_parse_options (&self, argc, argv);
    if (status >= 0)
        return status;
    self.rcvhwm = ovh_bus_rcvhwm ((size_t) self.max_frame, (int) self.rcvhwm);
    ovh_cli_start (NAME);

    zsock_t *frontend = s_socket (&self, ZMQ_XSUB, self.frontend, "frontend");
    zsock_t *backend = frontend? s_socket (&self, ZMQ_XPUB, self.backend, "backend"): NULL;
    if (frontend && backend) {
        zsys_info (NAME " %s ready: frontend %s (publishers), backend %s (consumers), "
                   "hwm %" PRId64 "/%" PRId64, OVHOOK_VERSION_STRING, self.frontend,
                   self.backend, self.sndhwm, self.rcvhwm);
        s_run (&self, frontend, backend);
        s_log_counters (&self, "stopped");
        status = 0;
    }
    else
        status = 1;
    zsock_destroy (&backend);
    zsock_destroy (&frontend);
    return status;
}
