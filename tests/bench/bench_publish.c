/*  bench_publish.c - load publisher for the bridge benchmark
    (tests/bench/bench_bridge.sh).

    bench_publish [--bus ENDPOINTS] [--count N] [--sessions K] [--rate R]
                  [--join-timeout MS] [--print-json]
                  [--bus-key PATH --bus-server-key PATH]   (full speed only)

    Publishes N participantJoined events with libovhook's ovh_publisher and
    ovh_body, spread round-robin over K sessions (sessionId "ses_bench_<k>"),
    either as fast as it can (--rate 0, the default) or at a steady R events
    per second. Each event carries two extra properties for the receiver:
    "t_us", its publish time in microseconds (CLOCK_REALTIME, taken just
    before the send, so the receiver on the same machine can compute the
    latency), and "n", its index in publish order, so that the receiver can
    check that each session's events arrive in order.

    At the end it prints one line on stdout:
      published=N first_us=T0 last_us=T1 seconds=S rate=R
    --print-json prints instead the webhook JSON the bridge makes of one
    such event (through libovhook's translator), so that the wrk ceiling
    POSTs the same body.

    Pacing uses absolute deadlines (event i is due at start + i/R), so a late
    wake-up is caught up at once rather than lowering the rate; the sends
    that catch up are what a real burst looks like. The publisher lingers at
    exit (up to 60 s) until the bridge has taken everything queued.

    At full speed (--rate 0) it does not use ovh_publisher but an XPUB of
    its own with the same high-water mark (100,000) and ZMQ_XPUB_NODROP, and
    writes the same three frames (topic, body, envelope {src, seq}): when
    the chain is full (this queue + the bridge's SUB, 10,000, + its queue),
    the send waits instead of dropping. A bus publisher must never wait,
    which is why ovh_publisher drops; but 200,000 events sent as fast as
    possible exceed what the buffers hold, and the benchmark measures
    delivery, not the drop. --rate R (latency) uses ovh_publisher itself.  */

#include <czmq.h>
#include <time.h>
#include "ovhook.h"
#include "ovh_buskeys.h"

#define TOPIC           "participantJoined"
#define LINGER_MSECS    60000

static int64_t
s_realtime_usecs (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
s_mono_nsecs (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

//  One event as a session component would publish it, plus t_us and n. The
//  properties and sizes follow the documented participantJoined example.
static int
s_build (ovh_body_t *body, uint64_t index, long sessions, int64_t t_us)
{
    char session [32], connection [32];
    long session_index = (long) (index % (uint64_t) sessions);
    snprintf (session, sizeof session, "ses_bench_%06ld", session_index);
    snprintf (connection, sizeof connection, "con_%010" PRIu64, index);
    ovh_body_reset (body);
    int rc = 0;
    rc |= ovh_body_int (body, "timestamp", t_us / 1000);
    rc |= ovh_body_str (body, "sessionId", session);
    rc |= ovh_body_str (body, "connectionId", connection);
    rc |= ovh_body_str (body, "location", "Berlin, Germany");
    rc |= ovh_body_str (body, "ip", "37.122.145.190");
    rc |= ovh_body_str (body, "platform", "Chrome 85.0.4183.121 on Linux 64-bit");
    rc |= ovh_body_str (body, "clientData", "Mike");
    rc |= ovh_body_str (body, "serverData", "{'user': 'client1'}");
    rc |= ovh_body_int (body, "t_us", t_us);
    rc |= ovh_body_uint (body, "n", index);
    return rc ? -1 : 0;
}

//  The full-speed sender: an XPUB that waits at its high-water mark
typedef struct {
    zsock_t *socket;
    void *handle;
    ovh_body_t *envelope;
    char src [64];
    uint64_t seq;
} sender_t;

static int
s_sender_open (sender_t *self, const char *bus, long join_timeout, ovh_buskeys_t *keys)
{
    self->socket = zsock_new (ZMQ_XPUB);
    self->envelope = ovh_body_new ();
    if (!self->socket || !self->envelope)
        return -1;
    //  CURVE, to measure what encryption costs the bridge
    if (keys && ovh_buskeys_apply_client (keys, self->socket))
        return -1;
    self->handle = zsock_resolve (self->socket);
    snprintf (self->src, sizeof self->src, "bench/%d/%08x", (int) getpid (),
              (unsigned) randof (0x7fffffff));
    zsock_set_sndhwm (self->socket, 100000);
    zsock_set_xpub_nodrop (self->socket, 1);
    zsock_set_linger (self->socket, LINGER_MSECS);
    zsock_set_rcvtimeo (self->socket, 100);
    if (zsock_attach (self->socket, bus, false)) {
        fprintf (stderr, "bench_publish: bad bus endpoint '%s'\n", bus);
        return -1;
    }
    //  Wait for the bridge's subscription to our topic ("\x01" + prefix)
    int64_t deadline = zclock_mono () + join_timeout;
    while (zclock_mono () < deadline && !zsys_interrupted) {
        char buffer [256];
        int size = zmq_recv (self->handle, buffer, sizeof buffer, 0);
        if (size > 1 && size <= (int) sizeof buffer && buffer [0] == 1
        &&  (size_t) size - 1 <= strlen (TOPIC)
        &&  memcmp (buffer + 1, TOPIC, (size_t) size - 1) == 0)
            return 0;
    }
    return 1;
}

//  Send one frame; at the high-water mark (EAGAIN) wait and try again
static int
s_sender_frame (sender_t *self, const void *data, size_t size, int flags)
{
    while (zmq_send (self->handle, data, size, flags) == -1) {
        if (zmq_errno () == EAGAIN && !zsys_interrupted)
            zclock_sleep (1);
        else
        if (zmq_errno () != EINTR)
            return -1;
    }
    return 0;
}

static int
s_sender_send (sender_t *self, ovh_body_t *body)
{
    size_t size, envelope_size;
    const void *data = ovh_body_data (body, &size);
    ovh_body_reset (self->envelope);
    if (!data
    ||  ovh_body_str (self->envelope, "src", self->src)
    ||  ovh_body_uint (self->envelope, "seq", self->seq + 1))
        return -1;
    const void *envelope = ovh_body_data (self->envelope, &envelope_size);
    if (!envelope
    ||  s_sender_frame (self, TOPIC, strlen (TOPIC), ZMQ_SNDMORE)
    ||  s_sender_frame (self, data, size, ZMQ_SNDMORE)
    ||  s_sender_frame (self, envelope, envelope_size, 0))
        return -1;
    self->seq++;
    return 0;
}

static void
s_sender_close (sender_t *self)
{
    zsock_destroy (&self->socket);      //  the linger applies at exit
    ovh_body_destroy (&self->envelope);
}

static int
s_print_json (ovh_body_t *body)
{
    if (s_build (body, 0, 1, s_realtime_usecs ()))
        return 1;
    size_t size;
    const void *data = ovh_body_data (body, &size);
    ovh_translator_t *translator = ovh_translator_new ();
    assert (translator);
    ovh_frame_t frames [2] = { { TOPIC, strlen (TOPIC) }, { data, size } };
    ovh_event_t event;
    int rc = 1;
    if (data && ovh_translator_translate (translator, frames, 2, &event) == 0) {
        fwrite (event.json, 1, event.json_size, stdout);
        rc = 0;
    }
    ovh_translator_destroy (&translator);
    return rc;
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: bench_publish [--bus ENDPOINTS] [--count N] [--sessions K]"
                     " [--rate R] [--join-timeout MS] [--print-json]"
                     " [--bus-key PATH --bus-server-key PATH]\n");
}

//  A positive integer option value; -1 if invalid
static long
s_number (const char *text, long min)
{
    char *end;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (errno || end == text || *end || value < min)
        return -1;
    return value;
}

int
main (int argc, char *argv [])
{
    const char *bus = ">" OVH_BUS_ENDPOINT;
    long count = 200000, sessions = 1000, rate = 0, join_timeout = 10000;
    bool print_json = false;
    const char *key = NULL, *server_key = NULL;
    for (int arg = 1; arg < argc; arg++) {
        const char *name = argv [arg];
        const char *value = arg + 1 < argc ? argv [arg + 1] : NULL;
        if (streq (name, "--print-json"))
            print_json = true;
        else
        if (streq (name, "--bus") && value)
            bus = argv [++arg];
        else
        if (streq (name, "--bus-key") && value)
            key = argv [++arg];
        else
        if (streq (name, "--bus-server-key") && value)
            server_key = argv [++arg];
        else
        if (streq (name, "--count") && value && (count = s_number (argv [++arg], 1)) > 0)
            ;
        else
        if (streq (name, "--sessions") && value
        &&  (sessions = s_number (argv [++arg], 1)) > 0)
            ;
        else
        if (streq (name, "--rate") && value && (rate = s_number (argv [++arg], 0)) >= 0)
            ;
        else
        if (streq (name, "--join-timeout") && value
        &&  (join_timeout = s_number (argv [++arg], 0)) >= 0)
            ;
        else {
            s_usage ();
            return 2;
        }
    }
    if (key && rate > 0) {
        fprintf (stderr, "bench_publish: --bus-key is for full speed (--rate 0) only\n");
        return 2;
    }
    ovh_body_t *body = ovh_body_new ();
    assert (body);
    if (print_json) {
        int rc = s_print_json (body);
        ovh_body_destroy (&body);
        return rc;
    }
    ovh_publisher_t *publisher = NULL;
    sender_t sender = { NULL };
    bool joined;
    if (rate > 0) {
        publisher = ovh_publisher_new (bus);
        if (publisher) {
            ovh_publisher_set_join_timeout (publisher, (int) join_timeout);
            ovh_publisher_set_linger (publisher, LINGER_MSECS);
        }
        //  The bridge subscribes to each enabled type in turn: wait for the
        //  first subscription, then a little for the rest, so that the first
        //  send does not wait for its topic inside the measured run
        joined = publisher && ovh_publisher_wait_subscriber (publisher, (int) join_timeout);
    }
    else {
        char error [256] = "";
        ovh_buskeys_t *keys = key? ovh_buskeys_new (key, server_key, error, sizeof error): NULL;
        if (key && !keys) {
            fprintf (stderr, "bench_publish: %s\n", error);
            ovh_body_destroy (&body);
            return 2;
        }
        joined = s_sender_open (&sender, bus, join_timeout, keys) == 0;
        ovh_buskeys_destroy (&keys);
    }
    if (!joined) {
        fprintf (stderr, "bench_publish: no subscriber on %s after %ld ms\n", bus, join_timeout);
        ovh_publisher_destroy (&publisher);
        s_sender_close (&sender);
        ovh_body_destroy (&body);
        return 2;
    }
    zclock_sleep (200);

    int64_t first_us = 0, last_us = 0;
    int64_t start_ns = s_mono_nsecs ();
    long sent = 0, failed = 0;
    for (long index = 0; index < count && !zsys_interrupted; index++) {
        if (rate > 0) {
            int64_t due = start_ns + (int64_t) ((double) index * 1e9 / (double) rate);
            if (s_mono_nsecs () < due) {
                struct timespec ts = { (time_t) (due / 1000000000), (long) (due % 1000000000) };
                while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR
                       && !zsys_interrupted)
                    ;
            }
        }
        int64_t now_us = s_realtime_usecs ();
        if (s_build (body, (uint64_t) index, sessions, now_us) == 0
        &&  (publisher ? ovh_publisher_send (publisher, TOPIC, body)
                       : s_sender_send (&sender, body)) == 0)
            sent++;
        else
            failed++;
        if (index == 0)
            first_us = now_us;
        last_us = now_us;
    }
    double seconds = (last_us - first_us) / 1e6;
    printf ("published=%ld first_us=%" PRId64 " last_us=%" PRId64 " seconds=%.3f rate=%.0f"
            " failed=%ld\n", sent, first_us, last_us, seconds,
            seconds > 0 ? sent / seconds : 0.0, failed);
    fflush (stdout);
    //  Lingers until the bridge has read what is still queued
    ovh_publisher_destroy (&publisher);
    s_sender_close (&sender);
    ovh_body_destroy (&body);
    return failed ? 1 : 0;
}
