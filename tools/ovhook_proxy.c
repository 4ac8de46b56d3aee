/*  ovhook_proxy.c - ovhook-proxy: the bus of a cluster. Publishers connect
    to the frontend (XSUB), consumers to the backend (XPUB); events flow
    down, subscriptions flow up, so filtering stays at the publishers.

    ovhook-proxy [--frontend ENDPOINTS] [--backend ENDPOINTS]
                 [--sndhwm N] [--rcvhwm N] [--max-frame BYTES]
                 [--stats-interval 60s] [--bus-key FILE] [--bus-server-key FILE]
                 [--bus-allow DIR] [--frontend-allow DIR] [--backend-allow DIR]
                 [--bus-insecure]

    By default it binds port 5560 (frontend) and 5561 (backend) on loopback
    only: a plaintext bus open to the network lets anyone who reaches it
    publish forged events or read every event, so reaching other hosts is
    a choice made with --frontend/--backend, and warned of without CURVE
    (unless --bus-insecure says it is meant).

    CURVE, per side: the proxy has one certificate (--bus-key); a side that
    binds has CURVE when it also has an allow folder (--frontend-allow,
    --backend-allow, or --bus-allow for both), under ZAP domain "frontend"
    or "backend" of one ovh_busauth; a side without one stays plaintext
    ("mixing": CURVE toward remote publishers, plaintext to a bridge on
    loopback). A side that connects has CURVE with --bus-key and needs
    --bus-server-key. On a CURVE frontend every message's envelope src is
    checked against its publisher's certificate (src-prefix) and dropped
    when the key does not own it: the proxy's consumers then know who sent
    what. Refused handshakes and dropped messages are counted in the stats.

    This is zmq_proxy with counters: a loop of its own, polling both sockets
    and forwarding whole messages (every frame, in order), so that it can
    count what it forwards and log it every --stats-interval while there is
    traffic. The XPUB is not verbose: it passes up the first subscription
    and the last unsubscription of each topic, which is all the publishers
    need (their XPUB keeps the union). A consumer slower than the backend's
    high-water mark loses messages there (XPUB drops rather than blocks the
    whole cluster); the envelope seq gaps at that consumer show it.

    Exit status: 0 after SIGINT/SIGTERM (with a summary line), 1 when a
    socket cannot be bound/connected, 2 usage error. SIGHUP reopens the
    --log-file. Under systemd (Type=notify) it says READY=1 once both
    sides are bound or connected, its counters in STATUS=, and feeds the
    watchdog from the loop.                                                */

#include <czmq.h>
#include "ovh_hangup.h"
#include "ovh_notify.h"
#include "ovh_log.h"
#include "ovhook.h"
#include "ovh_cli.h"
#include "ovh_clikeys.h"
#include "ovh_srcguard.h"
#include "ovh_toolmetrics.h"

#define NAME "ovhook-proxy"
#define DEFAULT_HWM 100000

typedef struct {
    uint64_t messages;          //  frontend -> backend
    uint64_t bytes;
    uint64_t subscribes;        //  backend -> frontend
    uint64_t unsubscribes;
    uint64_t other;             //  other upstream messages
} counters_t;

//  One side of the proxy
typedef struct {
    const char *name;           //  "frontend": log lines and ZAP domain
    const char *endpoints;
    const char *allow;          //  its own allow folder, or --bus-allow
    int role;                   //  OVH_BUSKEYS_*
    zsock_t *socket;
    ovh_busmonitor_t *monitor;  //  with CURVE
} side_t;

typedef struct {
    const char *frontend;
    const char *backend;
    ovh_clikeys_t keys;         //  .allow: --bus-allow, both sides
    const char *frontend_allow, *backend_allow;
    bool insecure;
    side_t front, back;
    ovh_buskeys_t *loaded;
    ovh_busauth_t *auth;
    ovh_srcguard_t *srcguard;   //  a CURVE frontend's
    ovh_translator_t *translator;
    int64_t sndhwm, rcvhwm;         //  rcvhwm: bounded by max_frame (ovh_bus.h)
    int64_t max_frame;
    int64_t stats_interval;
    counters_t counters;
    uint64_t logged_activity;   //  everything counted, at the last line
    ovh_notify_t *notify;       //  the service manager (systemd), if any
    ovh_hangup_t *hangup;       //  SIGHUP: reopen the log file
    const char *metrics;        //  --metrics ADDR:PORT, or NULL
    ovh_toolmetrics_t *watch;   //  with --metrics
    ovh_metric_t *gauges [6];   //  the counters, copied in by the main thread
} proxy_t;

static void
s_usage (FILE *file)
{
    fprintf (file,
        "Usage: " NAME " [--frontend ENDPOINTS] [--backend ENDPOINTS] [OPTION]...\n"
        "Forward the ovhook bus: publishers connect to the frontend (XSUB),\n"
        "consumers to the backend (XPUB); subscriptions travel upstream.\n\n"
        "  --frontend ENDPOINTS   CZMQ syntax (default @tcp://127.0.0.1:5560)\n"
        "  --backend ENDPOINTS    CZMQ syntax (default @tcp://127.0.0.1:5561)\n"
        "  --sndhwm N, --rcvhwm N\n"
        "                         high-water marks, messages (%d; 0 = none); the\n"
        "                         receive one at most 32 MiB / (max-frame + 64 KiB)\n"
        "  --max-frame BYTES      largest frame forwarded, + 64 KiB (1048576); a\n"
        "                         larger one drops its sender's connection\n"
        "  --stats-interval D     counters while there is traffic (60s; ms, s, m, h)\n"
        "  --bus-key FILE         this proxy's secret certificate (ovhook-keygen's\n"
        "                         NAME_secret); CURVE on each side that has an allow\n"
        "                         folder, or that connects\n"
        "  --frontend-allow DIR   publishers' public certificates: the frontend has\n"
        "                         CURVE, and each message's envelope src must be owned\n"
        "                         by its publisher's key (src-prefix), else it is dropped\n"
        "  --backend-allow DIR    consumers' public certificates: the backend has CURVE\n"
        "  --bus-allow DIR        both sides' folder, unless the side has its own; a side\n"
        "                         with no folder stays plaintext (mixing)\n"
        "  --bus-server-key FILE  a connecting side's server certificate\n"
        "  --bus-insecure         no warning for a plaintext side bound to the network\n"
        "  --metrics ADDR:PORT    serve /metrics (Prometheus), /healthz, /readyz there\n"
        "  Each flag wins over its variable: OVHOOK_BUS_KEY, OVHOOK_BUS_SERVER_KEY,\n"
        "  OVHOOK_BUS_ALLOW, OVHOOK_BUS_INSECURE=true.\n"
        "  --log-format FORMAT    text (the default) or json: one object per line\n"
        "  --log-file PATH        append the log there, not to stderr; SIGHUP reopens it\n"
        "  --help, --version\n", DEFAULT_HWM);
}

//  The role of one side: a binding side without an allow folder stays
//  plaintext (mixing); a connecting one has CURVE with the key. -1 after
//  a usage error.
static int
s_side_role (proxy_t *self, side_t *side)
{
    int binds = ovh_buskeys_binds (side->endpoints, true);
    if (!self->keys.key || (binds == 1 && !side->allow))
        return OVH_BUSKEYS_PLAINTEXT;
    char error [512];
    int role = ovh_buskeys_role (side->name, side->endpoints, true, self->keys.key,
                                 self->keys.server_key, side->allow, error, sizeof error);
    if (role < 0)
        fprintf (stderr, NAME ": %s\n", error);
    return role;
}

//  Which side has CURVE, and the key files read; -1 to go on, else 2
static int
s_check_keys (proxy_t *self)
{
    if (!self->keys.key) {
        const char *flag = self->frontend_allow? "--frontend-allow"
                         : self->backend_allow? "--backend-allow"
                         : self->keys.allow? "--bus-allow"
                         : self->keys.server_key? "--bus-server-key": NULL;
        //  Else the proxy would run in plaintext while its operator
        //  believes a side is protected
        if (flag)
            return ovh_cli_usage_error (NAME, "%s needs --bus-key (this proxy's secret "
                                        "certificate)", flag);
        return -1;
    }
    self->front.role = s_side_role (self, &self->front);
    self->back.role = self->front.role < 0? -1: s_side_role (self, &self->back);
    if (self->front.role < 0 || self->back.role < 0)
        return 2;
    if (self->front.role == OVH_BUSKEYS_PLAINTEXT && self->back.role == OVH_BUSKEYS_PLAINTEXT)
        return ovh_cli_usage_error (NAME, "--bus-key needs --frontend-allow, --backend-allow "
                                    "or --bus-allow: a side that binds has CURVE when it "
                                    "has a folder of allowed keys");
    bool client = self->front.role == OVH_BUSKEYS_CLIENT || self->back.role == OVH_BUSKEYS_CLIENT;
    char error [512];
    self->loaded = ovh_buskeys_new (self->keys.key, client? self->keys.server_key: NULL,
                                    error, sizeof error);
    if (!self->loaded) {
        fprintf (stderr, NAME ": %s\n", error);
        return 2;
    }
    return -1;
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
        OVH_CLIKEYS_KEY_OPTIONS (&self->keys),
        OVH_CLIKEYS_ALLOW_OPTION (&self->keys),
        { .name = "--frontend-allow", .type = OVH_CLI_STRING, .target = &self->frontend_allow },
        { .name = "--backend-allow", .type = OVH_CLI_STRING, .target = &self->backend_allow },
        { .name = "--bus-insecure", .type = OVH_CLI_TRUE, .target = &self->insecure },
        { .name = "--metrics", .type = OVH_CLI_STRING, .target = &self->metrics },
        { .name = NULL }
    };
    ovh_cli_t cli = { NAME, s_usage, table, NULL, NULL, true };
    int status = ovh_cli_parse (&cli, argc, argv);
    if (status >= 0)
        return status;
    if (ovh_cli_check_bus (NAME, "frontend", self->frontend)
    ||  ovh_cli_check_bus (NAME, "backend", self->backend))
        return 2;
    ovh_clikeys_env (&self->keys);
    const char *insecure = ovh_clikeys_getenv ("OVHOOK_BUS_INSECURE");
    if (insecure && !self->insecure) {
        if (!streq (insecure, "true") && !streq (insecure, "false"))
            return ovh_cli_usage_error (NAME, "OVHOOK_BUS_INSECURE needs true or false, "
                                        "not '%s'", insecure);
        self->insecure = streq (insecure, "true");
    }
    self->front = (side_t) { .name = "frontend", .endpoints = self->frontend,
        .allow = self->frontend_allow? self->frontend_allow: self->keys.allow };
    self->back = (side_t) { .name = "backend", .endpoints = self->backend,
        .allow = self->backend_allow? self->backend_allow: self->keys.allow };
    return s_check_keys (self);
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

//  Move one message from a CURVE frontend to the backend when its
//  publisher's key owns its envelope src (ovh_srcguard.h). The message is
//  read whole before anything is sent: the envelope is its last frame.
//  Returns 1 when forwarded, 0 when dropped, -1 when nothing was read.
static int
s_forward_checked (proxy_t *self, void *from, void *to)
{
    zmq_msg_t parts [3];
    int count = 0;
    bool more = true;
    while (more) {
        zmq_msg_t extra;
        zmq_msg_t *part = count < 3? &parts [count]: &extra;
        zmq_msg_init (part);
        int rc;
        //  The later frames are already here: only a signal stops them
        while ((rc = zmq_msg_recv (part, from, count? 0: ZMQ_DONTWAIT)) == -1
           &&  count && zmq_errno () == EINTR)
            ;
        if (rc == -1) {
            zmq_msg_close (part);
            break;
        }
        more = zmq_msg_more (part);
        if (part == &extra)
            zmq_msg_close (part);
        count++;
    }
    if (count == 0)
        return -1;
    //  The key's properties come with every frame of its connection
    const char *user_id = zmq_msg_gets (&parts [0], "User-Id");
    const char *prefix = zmq_msg_gets (&parts [0], OVH_BUSKEYS_SRC_PREFIX);
    bool pass = true;
    char why [400];
    if (count > 3) {
        //  No receiver takes it either; forwarding only what was checked
        //  keeps the rule simple
        snprintf (why, sizeof why, "it has %d frames, not an ovhook message whose src "
                  "could be checked", count);
        ovh_srcguard_unreadable (self->srcguard, user_id, why);
        pass = false;
    }
    else
    if (count == 3) {
        ovh_event_t event;
        if (ovh_translator_envelope (self->translator, zmq_msg_data (&parts [2]),
                                     zmq_msg_size (&parts [2]), &event)) {
            //  Every bridge would drop it too (PROTOCOL.md, section 6)
            snprintf (why, sizeof why, "its envelope does not decode: %s",
                      ovh_translator_error (self->translator)->text);
            ovh_srcguard_unreadable (self->srcguard, user_id, why);
            pass = false;
        }
        else
            pass = ovh_srcguard_allows (self->srcguard, user_id, prefix,
                                        event.src, event.src_size);
    }
    int stored = count < 3? count: 3;
    for (int index = 0; index < stored; index++) {
        if (pass) {
            self->counters.bytes += zmq_msg_size (&parts [index]);
            int flags = index + 1 < stored? ZMQ_SNDMORE: 0;
            while (zmq_msg_send (&parts [index], to, flags) == -1 && zmq_errno () == EINTR)
                ;
        }
        zmq_msg_close (&parts [index]);
    }
    return pass? 1: 0;
}

//  Handshakes refused on each side, and messages dropped at the frontend
static uint64_t
s_refused (side_t *side)
{
    return side->monitor? ovh_busmonitor_failed (side->monitor): 0;
}

static void
s_log_counters (proxy_t *self, const char *prefix)
{
    counters_t *c = &self->counters;
    ovh_log_info ("%s: forwarded %" PRIu64 " message%s (%" PRIu64 " bytes) to consumers, "
                  "%" PRIu64 " subscribe and %" PRIu64 " unsubscribe message%s to publishers",
                  prefix, c->messages, c->messages == 1? "": "s", c->bytes,
                  c->subscribes, c->unsubscribes, c->unsubscribes == 1? "": "s");
    if (self->front.role != OVH_BUSKEYS_PLAINTEXT || self->back.role != OVH_BUSKEYS_PLAINTEXT)
        ovh_log_info ("%s: handshakes refused: %" PRIu64 " at the frontend, %" PRIu64 " at the "
                      "backend; %" PRIu64 " message%s dropped at the frontend (src not owned "
                      "by its key, or unreadable)", prefix, s_refused (&self->front),
                      s_refused (&self->back),
                      self->srcguard? ovh_srcguard_dropped (self->srcguard): 0,
                      self->srcguard && ovh_srcguard_dropped (self->srcguard) == 1? "": "s");
}

//  Everything counted: a stats line is due when it changed
static uint64_t
s_activity (proxy_t *self)
{
    counters_t *c = &self->counters;
    return c->messages + c->subscribes + c->unsubscribes + c->other
         + s_refused (&self->front) + s_refused (&self->back)
         + (self->srcguard? ovh_srcguard_dropped (self->srcguard): 0);
}

//  --metrics: bind at start (a busy port is an error before "ready"),
//  serve the counters the stats lines show. 0 or -1 (reported).
static int
s_open_metrics (proxy_t *self)
{
    if (!self->metrics)
        return 0;
    self->watch = ovh_toolmetrics_new (NAME, self->metrics);
    if (!self->watch)
        return -1;
    static const struct { ovh_metric_type_t type; const char *name, *help; } metrics [] = {
        { OVH_METRIC_COUNTER, "ovhook_proxy_messages_total",
          "Messages forwarded from publishers (frontend) to consumers (backend)." },
        { OVH_METRIC_COUNTER, "ovhook_proxy_bytes_total", "Bytes of those messages." },
        { OVH_METRIC_COUNTER, "ovhook_proxy_subscribe_messages_total",
          "Subscriptions passed up to the publishers (first subscriber of a topic)." },
        { OVH_METRIC_COUNTER, "ovhook_proxy_unsubscribe_messages_total",
          "Unsubscriptions passed up to the publishers (last subscriber of a topic gone)." },
        { OVH_METRIC_GAUGE, "ovhook_proxy_subscribed_topics",
          "Topics that have at least one subscriber now." },
        { OVH_METRIC_COUNTER, "ovhook_proxy_dropped_total", "Messages dropped at a CURVE "
          "frontend: src not owned by the publisher's key, or unreadable." }
    };
    for (size_t index = 0; index < 6; index++)
        self->gauges [index] = ovh_toolmetrics_add (self->watch, metrics [index].type,
                                                    metrics [index].name, metrics [index].help);
    return ovh_toolmetrics_start (self->watch);
}

//  Copy the counts where a scrape reads them (atomics)
static void
s_publish_metrics (proxy_t *self)
{
    if (!self->watch)
        return;
    counters_t *c = &self->counters;
    int64_t values [6] = { (int64_t) c->messages, (int64_t) c->bytes, (int64_t) c->subscribes,
                           (int64_t) c->unsubscribes, (int64_t) (c->subscribes - c->unsubscribes),
                           self->srcguard? (int64_t) ovh_srcguard_dropped (self->srcguard): 0 };
    for (size_t index = 0; index < 6; index++)
        ovh_metric_set (self->gauges [index], 0, values [index]);
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
        if (timeout > 1000)
            timeout = 1000;
        int64_t ping = ovh_notify_watchdog (self->notify);
        if (ping >= 0 && ping < timeout)
            timeout = ping;
        ovh_hangup_check (self->hangup);
        if (zmq_poll (items, 2, (long) timeout) > 0) {
            //  Bounded batches, so that one busy side cannot starve the other
            for (int count = 0; count < 1000 && (items [0].revents & ZMQ_POLLIN); count++) {
                int first;
                int forwarded = self->srcguard? s_forward_checked (self, front, back)
                              : s_forward (front, back, &self->counters.bytes, &first) < 0? -1: 1;
                if (forwarded < 0)
                    break;
                self->counters.messages += (uint64_t) forwarded;
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
            s_publish_metrics (self);
        }
        if (zclock_mono () >= next_stats) {
            next_stats = zclock_mono () + self->stats_interval;
            uint64_t activity = s_activity (self);
            char status [160];
            snprintf (status, sizeof status, "forwarded %" PRIu64 " messages, %" PRIu64
                      " subscribes", self->counters.messages, self->counters.subscribes);
            ovh_notify_status (self->notify, status);
            if (activity != self->logged_activity)
                s_log_counters (self, "stats");
            self->logged_activity = activity;
        }
    }
}

//  HWMs, reconnects and TCP keepalives, CURVE as the side's role says,
//  then bind/connect ('@' binds by default). 0 or -1 (reported).
static int
s_open (proxy_t *self, side_t *side, int type)
{
    side->socket = zsock_new (type);
    if (!side->socket) {
        fprintf (stderr, NAME ": cannot create the %s socket\n", side->name);
        return -1;
    }
    zsock_set_sndhwm (side->socket, (int) self->sndhwm);
    //  What one peer may make the proxy hold is bounded (ovh_bus.h)
    ovh_bus_limit (side->socket, (size_t) self->max_frame, (int) self->rcvhwm);
    zsock_set_linger (side->socket, 0);
    ovh_bus_options (side->socket);
    return ovh_clikeys_attach (NAME, side->name, side->socket, side->endpoints, true,
                               self->loaded, side->role, &side->monitor);
}

//  A plaintext side that the network reaches: say loudly what that means
static void
s_warn_exposed (proxy_t *self, side_t *side, const char *risk, const char *allow_flag)
{
    if (self->insecure || side->role != OVH_BUSKEYS_PLAINTEXT
    ||  !ovh_buskeys_exposed (side->endpoints, true))
        return;
    ovh_log_warning ("WARNING: the %s binds %s, reachable from the network, without CURVE: "
                     "anyone who reaches the port can %s. Turn CURVE on (--bus-key and %s), "
                     "bind a loopback address, or say it is meant with --bus-insecure",
                     side->name, side->endpoints, risk, allow_flag);
}

static void
s_close (side_t *side)
{
    //  The monitor first, in this thread (ovh_busmonitor.h)
    ovh_busmonitor_destroy (&side->monitor);
    zsock_destroy (&side->socket);
}

int
main (int argc, char *argv [])
{
    proxy_t self = {
        .frontend = "@tcp://127.0.0.1:5560", .backend = "@tcp://127.0.0.1:5561",
        .sndhwm = DEFAULT_HWM, .rcvhwm = DEFAULT_HWM, .stats_interval = 60000,
        .max_frame = OVH_MAX_FRAME_DEFAULT
    };
    int status = s_parse_options (&self, argc, argv);
    if (status >= 0) {
        ovh_buskeys_destroy (&self.loaded);
        return status;
    }
    self.rcvhwm = ovh_bus_rcvhwm ((size_t) self.max_frame, (int) self.rcvhwm);
    if (ovh_cli_start (NAME)) {
        ovh_buskeys_destroy (&self.loaded);
        return 2;
    }
    self.hangup = ovh_hangup_new ();
    self.notify = ovh_notify_new ();
    s_warn_exposed (&self, &self.front, "publish forged events", "--frontend-allow");
    s_warn_exposed (&self, &self.back, "read every event", "--backend-allow");
    if (self.front.role == OVH_BUSKEYS_SERVER) {
        self.srcguard = ovh_srcguard_new ("frontend");
        self.translator = ovh_translator_new ();
        assert (self.srcguard && self.translator);
    }
    //  The allowed keys are read first: a wrong folder is a usage error
    status = 1;
    if ((self.front.role == OVH_BUSKEYS_SERVER
    &&   ovh_clikeys_allow (NAME, &self.auth, "frontend", self.front.allow))
    ||  (self.back.role == OVH_BUSKEYS_SERVER
    &&   ovh_clikeys_allow (NAME, &self.auth, "backend", self.back.allow)))
        status = 2;
    else
    if (s_open_metrics (&self) == 0
    &&  s_open (&self, &self.front, ZMQ_XSUB) == 0 && s_open (&self, &self.back, ZMQ_XPUB) == 0) {
        ovh_log_info (NAME " %s ready: frontend %s (publishers%s), backend %s (consumers%s), "
                      "hwm %" PRId64 "/%" PRId64, OVHOOK_VERSION_STRING, self.frontend,
                      self.front.role == OVH_BUSKEYS_PLAINTEXT? "": ", CURVE", self.backend,
                      self.back.role == OVH_BUSKEYS_PLAINTEXT? "": ", CURVE",
                      self.sndhwm, self.rcvhwm);
        ovh_notify_ready (self.notify, "forwarding");
        s_run (&self, self.front.socket, self.back.socket);
        ovh_notify_stopping (self.notify);
        s_log_counters (&self, "stopped");
        status = 0;
    }
    ovh_toolmetrics_destroy (&self.watch);
    s_close (&self.back);
    s_close (&self.front);
    ovh_busauth_destroy (&self.auth);
    ovh_srcguard_destroy (&self.srcguard);
    ovh_translator_destroy (&self.translator);
    ovh_buskeys_destroy (&self.loaded);
    ovh_notify_destroy (&self.notify);
    ovh_hangup_destroy (&self.hangup);
    ovh_log_close ();
    return status;
}
