/*  ovhook_tail.c - ovhook-tail: an extra consumer of the bus that prints
    each event as the webhook JSON the bridge would POST, byte for byte.

    ovhook-tail [--bus ENDPOINTS] [--envelope] [--count N]
                [--bus-key FILE] [--bus-server-key FILE] [--bus-allow DIR]
                [EVENT ...]

    It subscribes to the given event types (all 17 by default) and checks
    the whole topic frame, since ZeroMQ matches subscriptions by prefix.
    The translation is libovhook's translator, the bridge's own, so what it
    prints is exactly the bridge's request body. stdout is flushed after
    every event so that scripts read it live; diagnostics go to stderr.

    Envelope seq gaps (per src and topic, as the bridge counts them) are
    reported on stderr. Invalid messages are reported, rate-limited per
    reason, and skipped.

    A --bus of two endpoints or more (two proxies' backends) is redundant:
    each event comes once per path, the first copy is printed and the
    others are dropped (by src, epoch, topic and seq: ovh_seqtrack.h), and
    a loss is reported only when no path brought the event.

    With CURVE (ovh_clikeys.h): a tail that connects (to a proxy's backend)
    needs the server's key, and says why no event comes when the handshake
    fails; a tail that binds (in place of a bridge) needs an allow folder,
    and then checks that each publisher's key owns the src of its events,
    dropping the others (ovh_srcguard.h).                                  */

#include <signal.h>
#include <czmq.h>
#include "ovhook.h"
#include "ovh_cli.h"
#include "ovh_clikeys.h"
#include "ovh_srcguard.h"
#include "ovh_toolmetrics.h"

#define NAME "ovhook-tail"
//  A tail is a debugging tool that may be slow to print: let the bus
//  buffer bursts rather than drop them (small ones: ovh_bus.h caps it by
//  --max-frame)
#define RCVHWM          100000
#define SEQ_SOURCES     4096
#define WARN_INTERVAL   1000
#define SETTLE_INTERVAL 1000        //  as the bridge: holes get 1-2 s

typedef struct {
    int64_t last;               //  zclock_mono of the last line, 0: never
    uint64_t held;
} warn_t;

typedef struct {
    const char *bus;
    bool envelope;
    int64_t count;              //  0: no limit
    int64_t max_frame;
    bool wanted [OVH_CATALOG_SIZE];
    size_t wanted_count;
    warn_t warn [OVH_E_COUNT];
    ovh_clikeys_t keys;
    ovh_buskeys_t *loaded;      //  NULL in plaintext
    int role;                   //  OVH_BUSKEYS_*
    ovh_srcguard_t *srcguard;   //  binding with CURVE
    const char *metrics;        //  --metrics ADDR:PORT, or NULL
    ovh_toolmetrics_t *watch;   //  with --metrics
    ovh_metric_t *received, *dropped, *printed, *lost, *duplicates;
    size_t paths;               //  endpoints in --bus
    uint64_t duplicate_count, too_old_count;
} tail_t;

static void
s_usage (FILE *file)
{
    fprintf (file,
        "Usage: " NAME " [--bus ENDPOINTS] [--envelope] [--count N] [EVENT ...]\n"
        "Print the events on the ovhook bus as the webhook JSON the bridge POSTs,\n"
        "one line each.\n\n"
        "  --bus ENDPOINTS  CZMQ syntax (default >tcp://127.0.0.1:5561, the proxy's\n"
        "                   backend; '@' binds, as the bridge does without a proxy)\n"
        "  --envelope       add a TAB, the src and a TAB, the seq to each line\n"
        "  --count N        exit after N events\n"
        "  --max-frame BYTES  largest frame accepted (1048576)\n"
        OVH_CLIKEYS_USAGE
        "  --bus-allow DIR  a binding tail's allowed publishers' public certificates;\n"
        "                   events whose src their key does not own are dropped\n"
        "                   (each --bus-* flag wins over its variable OVHOOK_BUS_KEY,\n"
        "                   OVHOOK_BUS_SERVER_KEY, OVHOOK_BUS_ALLOW)\n"
        "  --metrics ADDR:PORT  serve /metrics (Prometheus), /healthz, /readyz there\n"
        "  EVENT ...        event types to subscribe to (default: all)\n"
        "  --log-format F   log lines as text (the default) or json\n"
        "  --help, --version\n");
}

//  An operand: an event type to subscribe to
static int
s_wanted (void *self_, char *arg)
{
    tail_t *self = (tail_t *) self_;
    const ovh_event_type_t *type = ovh_catalog_lookup (arg, strlen (arg));
    if (!type)
        return ovh_cli_unknown_event (NAME, arg);
    if (!self->wanted [type->index])
        self->wanted_count++;
    self->wanted [type->index] = true;
    return -1;
}

//  Returns -1 to go on, else the exit status
static int
s_parse_options (tail_t *self, int argc, char *argv [])
{
    const ovh_cli_option_t table [] = {
        { .name = "--envelope", .type = OVH_CLI_TRUE, .target = &self->envelope },
        { .name = "--bus", .type = OVH_CLI_STRING, .target = &self->bus },
        { .name = "--count", .type = OVH_CLI_INTEGER, .target = &self->count,
          .needs = "a number >= 0", .min = 0, .max = INT64_MAX },
        { .name = "--max-frame", .type = OVH_CLI_INTEGER, .target = &self->max_frame,
          .needs = "bytes >= 1", .min = 1, .max = INT32_MAX },
        OVH_CLIKEYS_KEY_OPTIONS (&self->keys),
        OVH_CLIKEYS_ALLOW_OPTION (&self->keys),
        { .name = "--metrics", .type = OVH_CLI_STRING, .target = &self->metrics },
        { .name = NULL }
    };
    ovh_cli_t cli = { NAME, s_usage, table, s_wanted, self, false };
    int status = ovh_cli_parse (&cli, argc, argv);
    if (status >= 0)
        return status;
    if (self->wanted_count == 0) {
        for (size_t index = 0; index < OVH_CATALOG_SIZE; index++)
            self->wanted [index] = true;
        self->wanted_count = OVH_CATALOG_SIZE;
    }
    if (ovh_cli_check_bus (NAME, "bus", self->bus))
        return 2;
    //  Unprefixed endpoints connect: a consumer usually joins a bus
    ovh_clikeys_env (&self->keys);
    self->role = ovh_clikeys_load (NAME, "bus", self->bus, false, &self->keys, &self->loaded);
    return self->role < 0? 2: -1;
}

//  A warning about a dropped message: the first of each reason at once,
//  then at most one a second, saying how many were held back
static void
s_warn_dropped (tail_t *self, const ovh_error_t *error)
{
    warn_t *warn = &self->warn [error->code < OVH_E_COUNT? error->code: 0];
    int64_t now = zclock_mono ();
    if (warn->last && now - warn->last < WARN_INTERVAL) {
        warn->held++;
        return;
    }
    if (warn->held)
        fprintf (stderr, NAME ": warning: dropped message: %s (%" PRIu64 " more of "
                 "this kind since the last report)\n", error->text, warn->held);
    else
        fprintf (stderr, NAME ": warning: dropped message: %s\n", error->text);
    warn->last = now;
    warn->held = 0;
}

//  Write the src without bytes that would break the line or its fields
static void
s_write_src (const char *src, size_t size)
{
    char shown [1024];
    fputs (ovh_shown (shown, sizeof shown, src, size), stdout);
}

//  Print one event. Returns 0, or -1 when stdout is gone.
static int
s_print (tail_t *self, const ovh_event_t *event)
{
    fwrite (event->json, 1, event->json_size, stdout);
    if (self->envelope) {
        putchar ('\t');
        if (event->has_envelope) {
            s_write_src (event->src, event->src_size);
            printf ("\t%" PRIu64, event->seq);
        }
        else
            putchar ('\t');
    }
    putchar ('\n');
    return fflush (stdout) == 0 && !ferror (stdout)? 0: -1;
}

//  Gaps, jumps and restarts, worded as the bridge words them. Seq going
//  back is left out: it comes in floods (two publishers with one src) that
//  the tail, which limits no rate, would print line by line; so are the
//  holes of redundant paths, which another path may still fill. Returns
//  whether to print the event: not another path's copy, nor a too old one.
static bool
s_check_seq (tail_t *self, ovh_seqtrack_t *seqtrack, const ovh_event_t *event)
{
    if (!event->has_envelope)
        return true;
    uint64_t last, lost_before = ovh_seqtrack_lost (seqtrack);
    ovh_seq_t verdict = ovh_seqtrack_record (seqtrack, event->type->name, event->src,
                                             event->src_size, event->seq,
                                             event->has_epoch? &event->epoch: NULL, &last);
    //  Holes that left the window unfilled (ovh_seqtrack.h)
    uint64_t lost = ovh_seqtrack_lost (seqtrack) - lost_before;
    if (self->paths > 1 && lost && verdict != OVH_SEQ_RESTART && verdict != OVH_SEQ_JUMP) {
        char src [204];
        fprintf (stderr, NAME ": lost %" PRIu64 " message(s): %s from src %s, out of the "
                 "window at seq %" PRIu64 ": no path of the %zu brought them\n", lost,
                 event->type->name, ovh_shown (src, sizeof src, event->src, event->src_size),
                 event->seq, self->paths);
    }
    if (verdict == OVH_SEQ_DUPLICATE) {
        self->duplicate_count++;
        if (self->duplicates)
            ovh_metric_add (self->duplicates, 0, 1);
        return false;
    }
    char sentence [512];
    if (verdict != OVH_SEQ_BACKWARDS && !(verdict == OVH_SEQ_GAP && self->paths > 1)
    &&  ovh_seqtrack_describe (verdict, event, last, sentence, sizeof sentence))
        fprintf (stderr, NAME ": %s\n", sentence);
    if (verdict == OVH_SEQ_TOO_OLD) {
        self->too_old_count++;
        return false;
    }
    return true;
}

//  With redundant paths, report the holes no path filled in time
static void
s_settle (tail_t *self, ovh_seqtrack_t *seqtrack, int64_t *settled)
{
    int64_t now = zclock_mono ();
    if (self->paths < 2 || now - *settled < SETTLE_INTERVAL)
        return;
    *settled = now;
    uint64_t lost = ovh_seqtrack_settle (seqtrack);
    if (!lost)
        return;
    fprintf (stderr, NAME ": lost %" PRIu64 " message(s): no path of the %zu brought them\n",
             lost, self->paths);
    if (self->lost)
        ovh_metric_set (self->lost, 0, (int64_t) ovh_seqtrack_lost (seqtrack));
}

//  --metrics: bind at start, then serve. 0 or -1 (reported).
static int
s_open_metrics (tail_t *self)
{
    if (!self->metrics)
        return 0;
    self->watch = ovh_toolmetrics_new (NAME, self->metrics);
    if (!self->watch)
        return -1;
    self->received = ovh_toolmetrics_add (self->watch, OVH_METRIC_COUNTER,
        "ovhook_tail_messages_total", "Messages read from the bus.");
    self->dropped = ovh_toolmetrics_add (self->watch, OVH_METRIC_COUNTER,
        "ovhook_tail_dropped_total", "Messages dropped: malformed, or a src the "
        "publisher's key does not own.");
    self->printed = ovh_toolmetrics_add (self->watch, OVH_METRIC_COUNTER,
        "ovhook_tail_events_total", "Events printed.");
    self->lost = ovh_toolmetrics_add (self->watch, OVH_METRIC_COUNTER,
        "ovhook_tail_bus_lost_total", "Messages the bus lost, from envelope seq gaps.");
    self->duplicates = ovh_toolmetrics_add (self->watch, OVH_METRIC_COUNTER,
        "ovhook_tail_duplicates_total", "Copies of an event already printed, from "
        "another path (redundant proxies), dropped.");
    return ovh_toolmetrics_start (self->watch);
}

static void
s_count (ovh_metric_t *metric)
{
    if (metric)
        ovh_metric_add (metric, 0, 1);
}

//  Read until interrupted or --count is reached, counting in '*printed';
//  returns the exit status
static int
s_run (tail_t *self, zsock_t *socket, ovh_translator_t *translator,
       ovh_seqtrack_t *seqtrack, int64_t *printed)
{
    zmq_pollitem_t item = { zsock_resolve (socket), 0, ZMQ_POLLIN, 0 };
    int64_t settled = zclock_mono ();
    while (!zsys_interrupted && (self->count == 0 || *printed < self->count)) {
        s_settle (self, seqtrack, &settled);
        if (zmq_poll (&item, 1, 1000) <= 0)
            continue;
        zmsg_t *msg = zmsg_recv_nowait (socket);
        if (!msg)
            continue;
        ovh_event_t event;
        zframe_t *first = zmsg_first (msg);
        s_count (self->received);
        if (ovh_translator_translate_zmsg (translator, msg, &event)) {
            s_count (self->dropped);
            s_warn_dropped (self, ovh_translator_error (translator));
        }
        else
        if (self->srcguard
        &&  !ovh_srcguard_allows (self->srcguard, zframe_meta (first, "User-Id"),
                                  zframe_meta (first, OVH_BUSKEYS_SRC_PREFIX),
                                  event.has_envelope? event.src: NULL, event.src_size))
            s_count (self->dropped);        //  warned
        else
        //  Prefix matching let through a type we did not ask for, e.g.
        //  when one name would start another
        if (self->wanted [event.type->index]
        &&  s_check_seq (self, seqtrack, &event)) {
            if (self->lost)
                ovh_metric_set (self->lost, 0, (int64_t) ovh_seqtrack_lost (seqtrack));
            if (s_print (self, &event)) {
                zmsg_destroy (&msg);
                //  A reader that went away (| head) is a normal end
                return errno == EPIPE? 0: 1;
            }
            (*printed)++;
            s_count (self->printed);
        }
        zmsg_destroy (&msg);
    }
    return 0;
}

//  What the tail says at its end when something was in the way
static void
s_report (tail_t *self, ovh_busmonitor_t *monitor, int64_t printed)
{
    char problem [256];
    if (printed == 0 && monitor && ovh_busmonitor_problem (monitor, problem, sizeof problem))
        fprintf (stderr, NAME ": no event received: %s\n", problem);
    if (self->paths > 1)
        fprintf (stderr, NAME ": %zu paths: dropped %" PRIu64 " duplicate cop%s, %" PRIu64
                 " too old\n", self->paths, self->duplicate_count,
                 self->duplicate_count == 1? "y": "ies", self->too_old_count);
    uint64_t dropped = self->srcguard? ovh_srcguard_dropped (self->srcguard): 0;
    if (dropped)
        fprintf (stderr, NAME ": dropped %" PRIu64 " message%s whose src the "
                 "publisher's key does not own (src-not-allowed)\n", dropped,
                 dropped == 1? "": "s");
}

int
main (int argc, char *argv [])
{
    tail_t self = { .bus = ">tcp://127.0.0.1:5561", .max_frame = OVH_MAX_FRAME_DEFAULT };
    int status = s_parse_options (&self, argc, argv);
    if (status >= 0) {
        ovh_buskeys_destroy (&self.loaded);
        return status;
    }
    signal (SIGPIPE, SIG_IGN);
    (void) ovh_cli_start (NAME);      //  fails only with --log-file
    ovh_busauth_t *auth = NULL;
    ovh_busmonitor_t *monitor = NULL;
    if (self.role == OVH_BUSKEYS_SERVER) {
        self.srcguard = ovh_srcguard_new ("bus");
        if (!self.srcguard || ovh_clikeys_allow (NAME, &auth, "bus", self.keys.allow)) {
            ovh_srcguard_destroy (&self.srcguard);
            ovh_buskeys_destroy (&self.loaded);
            return 2;
        }
    }

    zsock_t *socket = zsock_new (ZMQ_SUB);
    ovh_translator_t *translator = ovh_translator_new ();
    ovh_seqtrack_t *seqtrack = ovh_seqtrack_new (SEQ_SOURCES);
    if (!socket || !translator || !seqtrack) {
        fprintf (stderr, NAME ": out of memory\n");
        return 1;
    }
    ovh_translator_set_max_frame (translator, (size_t) self.max_frame);
    self.paths = 1;
    for (const char *comma = strchr (self.bus, ','); comma; comma = strchr (comma + 1, ','))
        self.paths++;
    ovh_seqtrack_set_paths (seqtrack, self.paths);
    ovh_bus_options (socket);
    //  What one publisher may make the tail hold is bounded (ovh_bus.h)
    ovh_bus_limit (socket, (size_t) self.max_frame, RCVHWM);
    zsock_set_linger (socket, 0);
    for (size_t index = 0; index < OVH_CATALOG_SIZE; index++)
        if (self.wanted [index])
            zsock_set_subscribe (socket, ovh_catalog_at (index)->name);
    if (s_open_metrics (&self)
    ||  ovh_clikeys_attach (NAME, "bus", socket, self.bus, false, self.loaded, self.role,
                            &monitor))
        status = 1;
    else {
        fprintf (stderr, NAME ": ready: bus %s%s, %zu event type%s%s\n", self.bus,
                 self.role == OVH_BUSKEYS_PLAINTEXT? "": " (CURVE)",
                 self.wanted_count, self.wanted_count == 1? "": "s",
                 self.paths > 1? ", redundant paths: each event once": "");
        int64_t printed = 0;
        status = s_run (&self, socket, translator, seqtrack, &printed);
        s_report (&self, monitor, printed);
    }
    ovh_toolmetrics_destroy (&self.watch);
    ovh_busmonitor_destroy (&monitor);
    ovh_srcguard_destroy (&self.srcguard);
    ovh_buskeys_destroy (&self.loaded);
    ovh_seqtrack_destroy (&seqtrack);
    ovh_translator_destroy (&translator);
    zsock_destroy (&socket);
    ovh_busauth_destroy (&auth);
    return status;
}
