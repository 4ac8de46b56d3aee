/*  test_publisher.c - the publisher on real sockets, in this process and
    across processes:

    - a forked child publishes 1000 events and exits at once: the parent's
      SUB gets all 1000 (slow joiner and linger handled). This runs first,
      before the parent touches ZeroMQ, so the child starts with a clean
      CZMQ state;
    - a publisher connected to a bound SUB (serviced by its own thread, as
      in the bridge) publishes at once: every message arrives with topic,
      body and envelope (src, seq 1..N);
    - a topic nobody subscribed is not waited for after the join window,
      and a subscribed one is;
    - no subscriber: ovh_publisher_wait_subscriber gives up after its time;
    - invalid endpoints give NULL;
    - CURVE (ovh_publisher_new_secure), over TCP: a connecting publisher
      with an allowed key reaches a CURVE SUB; with an unknown key, a
      wrong server key, against a plaintext SUB, or in plaintext against
      the CURVE SUB no subscriber comes and
      ovh_publisher_problem says why; a binding publisher lets an allowed
      subscriber in and keeps a stranger out; the settings' errors.        */

#include <sys/wait.h>
#include <czmq.h>
#include <msgpack.h>
#include "ovhook.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "ovh_test.h"
#include "ovh_test_folder.h"
#include "ovh_busauth.h"
#include "ovh_buskeys.h"
#include "ovh_busmonitor.h"

#define FORK_EVENTS     1000
#define BURST_EVENTS    500

//  Decode an envelope {src: str, seq: uint, epoch: uint}, in that order
//  (as the publisher writes it); false if it is not one
static bool
s_envelope (zframe_t *frame, char *src, size_t src_max, uint64_t *seq, uint64_t *epoch)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    bool valid = false;
    *src = 0;
    *seq = 0;
    *epoch = 0;
    static const char *keys [] = { "src", "seq", "epoch" };
    if (msgpack_unpack_next (&unpacked, (const char *) zframe_data (frame),
                             zframe_size (frame), &offset) == MSGPACK_UNPACK_SUCCESS
    &&  offset == zframe_size (frame)
    &&  unpacked.data.type == MSGPACK_OBJECT_MAP
    &&  unpacked.data.via.map.size == 3) {
        msgpack_object_kv *kv = unpacked.data.via.map.ptr;
        valid = true;
        for (size_t index = 0; index < 3; index++)
            valid = valid && kv [index].key.type == MSGPACK_OBJECT_STR
                 && kv [index].key.via.str.size == strlen (keys [index])
                 && memcmp (kv [index].key.via.str.ptr, keys [index],
                            kv [index].key.via.str.size) == 0
                 && kv [index].val.type == (index? MSGPACK_OBJECT_POSITIVE_INTEGER
                                                 : MSGPACK_OBJECT_STR);
        if (valid) {
            snprintf (src, src_max, "%.*s", (int) kv [0].val.via.str.size,
                      kv [0].val.via.str.ptr);
            *seq = kv [1].val.via.u64;
            *epoch = kv [2].val.via.u64;
        }
    }
    msgpack_unpacked_destroy (&unpacked);
    return valid;
}

//  Body {"sessionId":"ses_test","index":<index>}
static void
s_make_body (ovh_body_t *body, int64_t index)
{
    ovh_body_reset (body);
    ovh_body_str (body, "sessionId", "ses_test");
    ovh_body_int (body, "index", index);
}

//  Receive one message; checks its shape. Returns false on timeout.
typedef struct {
    char topic [64];
    int64_t index;
    bool has_envelope;
    char src [256];
    uint64_t seq;
    uint64_t epoch;
} s_received_t;

static bool
s_receive (void *sub, s_received_t *received)
{
    zmsg_t *msg = zmsg_recv (sub);
    if (!msg)
        return false;
    memset (received, 0, sizeof *received);
    CHECK (zmsg_size (msg) == 2 || zmsg_size (msg) == 3);
    zframe_t *topic = zmsg_first (msg);
    snprintf (received->topic, sizeof received->topic, "%.*s",
              (int) zframe_size (topic), (const char *) zframe_data (topic));
    zframe_t *body = zmsg_next (msg);
    received->index = -1;
    //  Body: {"sessionId":"ses_test","index":<int>, ...}
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    if (body && msgpack_unpack_next (&unpacked, (const char *) zframe_data (body),
                                     zframe_size (body), &offset) == MSGPACK_UNPACK_SUCCESS
    &&  unpacked.data.type == MSGPACK_OBJECT_MAP && unpacked.data.via.map.size >= 2
    &&  unpacked.data.via.map.ptr [1].val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        received->index = (int64_t) unpacked.data.via.map.ptr [1].val.via.u64;
    msgpack_unpacked_destroy (&unpacked);
    zframe_t *envelope = zmsg_next (msg);
    if (envelope) {
        received->has_envelope = true;
        CHECK (s_envelope (envelope, received->src, sizeof received->src, &received->seq,
                           &received->epoch));
        //  What the publisher writes, the translator reads back whole
        ovh_translator_t *translator = ovh_translator_new ();
        ovh_event_t event;
        if (ovh_translator_translate_zmsg (translator, msg, &event) == 0)
            CHECK (event.has_epoch && event.epoch == received->epoch
                   && event.seq == received->seq);
        ovh_translator_destroy (&translator);
    }
    zmsg_destroy (&msg);
    return true;
}

//  A SUB bound on an ephemeral port; fills the endpoint to connect to
static zsock_t *
s_bound_sub (const char *subscription, char *endpoint, size_t endpoint_max)
{
    zsock_t *sub = zsock_new_sub ("@tcp://127.0.0.1:*", subscription);
    assert (sub);
    zsock_set_rcvtimeo (sub, 10000);
    snprintf (endpoint, endpoint_max, ">%s", zsock_endpoint (sub));
    return sub;
}

//  What a receiver is: its subscription, and a CURVE server certificate
//  (ZAP domain "bus", checked by the test's ovh_busauth) or NULL
typedef struct {
    const char *subscription;
    zcert_t *server;
} s_receiver_args_t;

//  A bound SUB only sends its subscription to a new peer once its own
//  thread calls into it (libzmq attaches accepted connections while the
//  socket processes commands). A receiver that the publishing thread also
//  drives would therefore never be seen. As a real bridge does, this one
//  runs in its own thread and forwards every message to the actor pipe.
static void
s_receiver_actor (zsock_t *pipe, void *args_)
{
    s_receiver_args_t *args = (s_receiver_args_t *) args_;
    zsock_t *sub = zsock_new (ZMQ_SUB);
    assert (sub);
    if (args->server) {
        zcert_apply (args->server, sub);
        zsock_set_curve_server (sub, 1);
        zsock_set_zap_domain (sub, "bus");
    }
    zsock_set_subscribe (sub, args->subscription);
    int port = zsock_bind (sub, "tcp://127.0.0.1:*");
    assert (port > 0);
    zsock_signal (pipe, 0);         //  'args' is not used after this
    zstr_sendf (pipe, ">tcp://127.0.0.1:%d", port);
    zpoller_t *poller = zpoller_new (pipe, sub, NULL);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe || !which)
            break;                  //  $TERM, or interrupted
        zmsg_t *msg = zmsg_recv (sub);
        if (msg)
            zmsg_send (&msg, pipe);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
}

//  Start a receiver subscribed to 'subscription', a CURVE server when
//  'server' is not NULL; fills its endpoint
static zactor_t *
s_receiver_new_curve (const char *subscription, zcert_t *server,
                      char *endpoint, size_t endpoint_max)
{
    s_receiver_args_t args = { subscription, server };
    zactor_t *receiver = zactor_new (s_receiver_actor, &args);
    assert (receiver);
    char *text = zstr_recv (receiver);
    snprintf (endpoint, endpoint_max, "%s", text? text: "");
    zstr_free (&text);
    zsock_set_rcvtimeo (zactor_sock (receiver), 10000);
    return receiver;
}

static zactor_t *
s_receiver_new (const char *subscription, char *endpoint, size_t endpoint_max)
{
    return s_receiver_new_curve (subscription, NULL, endpoint, endpoint_max);
}

//  ---------------------------------------------------------------------
//  (2) A child process publishes and exits at once

static int
s_child (int fd)
{
    char endpoint [128] = "";
    ssize_t size = read (fd, endpoint, sizeof endpoint - 1);
    close (fd);
    if (size <= 0)
        return 3;
    endpoint [size] = 0;
    ovh_publisher_t *publisher = ovh_publisher_new (endpoint);
    if (!publisher)
        return 4;
    ovh_publisher_set_src (publisher, "forked-child");
    ovh_body_t *body = ovh_body_new ();
    //  Events of some size, so that much is still queued at exit: with a
    //  linger of 0 this test then loses events in most runs
    static char padding [4096];
    memset (padding, 'p', sizeof padding);
    int status = 0;
    for (int index = 1; index <= FORK_EVENTS; index++) {
        s_make_body (body, index);
        ovh_body_strn (body, "serverData", padding, sizeof padding);
        if (ovh_publisher_send (publisher, "participantJoined", body))
            status = 5;
    }
    ovh_body_destroy (&body);
    ovh_publisher_destroy (&publisher);
    //  exit (), not _exit (): CZMQ's atexit handler terminates the context,
    //  which is what flushes the queue
    return status;
}

static void
s_test_fork (void)
{
    int fds [2];
    CHECK (pipe (fds) == 0);
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        close (fds [1]);
        exit (s_child (fds [0]));
    }
    close (fds [0]);
    char endpoint [128];
    zsock_t *sub = s_bound_sub ("", endpoint, sizeof endpoint);
    ssize_t written = write (fds [1], endpoint, strlen (endpoint));
    CHECK (written == (ssize_t) strlen (endpoint));
    close (fds [1]);

    int64_t start = zclock_mono ();
    int count = 0;
    bool in_order = true;
    s_received_t received;
    while (count < FORK_EVENTS && s_receive (sub, &received)) {
        count++;
        if (received.seq != (uint64_t) count || received.index != count
        ||  !streq (received.src, "forked-child") || !streq (received.topic, "participantJoined"))
            in_order = false;
    }
    int status = -1;
    CHECK (waitpid (pid, &status, 0) == pid);
    int64_t elapsed = zclock_mono () - start;
    CHECK_MSG (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child status %d", status);
    CHECK_MSG (count == FORK_EVENTS, "received %d of %d events from the child",
               count, FORK_EVENTS);
    CHECK (in_order);
    //  Nothing more: the child sent exactly FORK_EVENTS
    zsock_set_rcvtimeo (sub, 200);
    CHECK (!s_receive (sub, &received));
    printf ("test_publisher: child published %d events and exited; %d received in %d ms\n",
            FORK_EVENTS, count, (int) elapsed);
    zsock_destroy (&sub);
}

//  ---------------------------------------------------------------------
//  (1) In-process: publish at once to a bound SUB

static void
s_test_burst (void)
{
    char endpoint [128];
    zactor_t *sub = s_receiver_new ("", endpoint, sizeof endpoint);
    ovh_publisher_t *publisher = ovh_publisher_new (endpoint);
    CHECK (publisher);
    ovh_publisher_t *other = ovh_publisher_new (endpoint);
    CHECK (other);
    if (!publisher || !other)
        return;

    //  src: "<host>/<pid>/<16 hex digits>", one per instance
    const char *src = ovh_publisher_src (publisher);
    char host [256] = "";
    gethostname (host, sizeof host - 1);
    char prefix [300];
    snprintf (prefix, sizeof prefix, "%s/%d/", host, (int) getpid ());
    CHECK_MSG (strncmp (src, prefix, strlen (prefix)) == 0, "src '%s'", src);
    CHECK_MSG (strlen (src) == strlen (prefix) + 16
               && strspn (src + strlen (prefix), "0123456789abcdef") == 16, "src '%s'", src);
    CHECK (!streq (src, ovh_publisher_src (other)));
    //  epoch: drawn at random per instance, so that two runs that reuse
    //  one src (an application's choice, a recycled pid) still differ
    uint64_t epoch = ovh_publisher_epoch (publisher);
    CHECK (epoch != ovh_publisher_epoch (other));
    ovh_publisher_destroy (&other);

    CHECK (ovh_publisher_seq (publisher) == 0);
    ovh_body_t *body = ovh_body_new ();
    int64_t start = zclock_mono ();
    for (int index = 1; index <= BURST_EVENTS; index++) {
        s_make_body (body, index);
        CHECK (ovh_publisher_send (publisher, "sessionCreated", body) == 0);
    }
    CHECK (ovh_publisher_seq (publisher) == BURST_EVENTS);
    int count = 0;
    bool in_order = true;
    s_received_t received;
    while (count < BURST_EVENTS && s_receive (sub, &received)) {
        count++;
        if (!received.has_envelope || received.seq != (uint64_t) count
        ||  received.epoch != epoch
        ||  received.index != count || !streq (received.src, src)
        ||  !streq (received.topic, "sessionCreated"))
            in_order = false;
    }
    CHECK_MSG (count == BURST_EVENTS, "received %d of %d", count, BURST_EVENTS);
    CHECK (in_order);
    printf ("test_publisher: %d events published at once, %d received in %d ms\n",
            BURST_EVENTS, count, (int) (zclock_mono () - start));

    //  Without envelope: two frames; seq still counts
    ovh_publisher_set_envelope (publisher, false);
    s_make_body (body, 7);
    CHECK (ovh_publisher_send (publisher, "sessionDestroyed", body) == 0);
    CHECK (s_receive (sub, &received));
    CHECK (!received.has_envelope && received.index == 7);
    CHECK_STR (received.topic, "sessionDestroyed");

    //  A chosen src; raw bytes go out as given
    ovh_publisher_set_envelope (publisher, true);
    ovh_publisher_set_src (publisher, "tester/1");
    static const uint8_t raw [] = { 0x82, 0xa9, 's', 'e', 's', 's', 'i', 'o', 'n', 'I', 'd',
                                    0xa1, 'x', 0xa5, 'i', 'n', 'd', 'e', 'x', 0x09 };
    CHECK (ovh_publisher_send_raw (publisher, "signalSent", raw, sizeof raw) == 0);
    CHECK (s_receive (sub, &received));
    CHECK (received.index == 9 && received.seq == 1 && received.epoch == epoch);
    CHECK_STR (received.src, "tester/1");
    //  A chosen epoch
    ovh_publisher_set_epoch (publisher, 42);
    CHECK (ovh_publisher_epoch (publisher) == 42);
    CHECK (ovh_publisher_send_raw (publisher, "signalSent", raw, sizeof raw) == 0);
    CHECK (s_receive (sub, &received));
    CHECK (received.seq == 2 && received.epoch == 42);

    //  An unfinished body is refused and not counted
    ovh_body_reset (body);
    ovh_body_begin_map (body, "open");
    CHECK (ovh_publisher_send (publisher, "sessionCreated", body) == -1);
    CHECK (ovh_publisher_seq (publisher) == 2);

    ovh_body_destroy (&body);
    ovh_publisher_destroy (&publisher);
    CHECK (publisher == NULL);
    zactor_destroy (&sub);
}

//  A publisher that binds (inproc, the same context)
static void
s_test_bind (void)
{
    ovh_publisher_t *publisher = ovh_publisher_new ("@inproc://ovh-test-publisher");
    CHECK (publisher);
    zsock_t *sub = zsock_new_sub (">inproc://ovh-test-publisher", "nodeCrashed");
    zsock_set_rcvtimeo (sub, 5000);
    CHECK (ovh_publisher_wait_subscriber (publisher, 5000));
    ovh_body_t *body = ovh_body_new ();
    s_make_body (body, 3);
    CHECK (ovh_publisher_send (publisher, "nodeCrashed", body) == 0);
    s_received_t received;
    CHECK (s_receive (sub, &received));
    CHECK (received.index == 3 && received.seq == 1);
    ovh_body_destroy (&body);
    ovh_publisher_destroy (&publisher);
    zsock_destroy (&sub);
}

//  ---------------------------------------------------------------------
//  Join window: a subscribed topic is waited for, others only until the
//  deadline, and after it nothing waits

static void
s_test_join_window (void)
{
    char endpoint [128];
    zactor_t *sub = s_receiver_new ("participant", endpoint, sizeof endpoint);
    ovh_publisher_t *publisher = ovh_publisher_new (endpoint);
    assert (publisher);
    ovh_publisher_set_join_timeout (publisher, 600);
    ovh_body_t *body = ovh_body_new ();

    //  Wanted: sent as soon as the subscription arrives
    int64_t start = zclock_mono ();
    s_make_body (body, 1);
    CHECK (ovh_publisher_send (publisher, "participantJoined", body) == 0);
    int64_t first = zclock_mono () - start;
    CHECK_MSG (first < 400, "wanted topic waited %d ms", (int) first);

    //  Not wanted by anyone: waits out the window, then is dropped
    s_make_body (body, 2);
    CHECK (ovh_publisher_send (publisher, "sessionCreated", body) == 0);
    int64_t second = zclock_mono () - start;
    CHECK_MSG (second >= 550 && second < 1500, "unwanted topic waited until %d ms",
               (int) second);

    //  After the window: no waiting at all
    int64_t before = zclock_mono ();
    for (int index = 0; index < 100; index++)
        CHECK (ovh_publisher_send (publisher, "sessionDestroyed", body) == 0);
    int64_t third = zclock_mono () - before;
    //  (A wait would cost the whole window per send: 60 s for 100)
    CHECK_MSG (third < 300, "100 unwanted sends after the window took %d ms", (int) third);

    s_make_body (body, 3);
    CHECK (ovh_publisher_send (publisher, "participantLeft", body) == 0);
    s_received_t received;
    CHECK (s_receive (sub, &received));
    CHECK (received.index == 1 && received.seq == 1);
    CHECK_STR (received.topic, "participantJoined");
    CHECK (s_receive (sub, &received));
    CHECK (received.index == 3 && received.seq == 1);
    CHECK_STR (received.topic, "participantLeft");
    zsock_set_rcvtimeo (zactor_sock (sub), 200);
    CHECK (!s_receive (sub, &received));

    ovh_body_destroy (&body);
    ovh_publisher_destroy (&publisher);
    zactor_destroy (&sub);
}

//  (3) Nobody listening
static void
s_test_no_subscriber (void)
{
    //  A port nobody listens on: bind one and close it
    zsock_t *probe = zsock_new_sub ("@tcp://127.0.0.1:*", NULL);
    char endpoint [128];
    snprintf (endpoint, sizeof endpoint, ">%s", zsock_endpoint (probe));
    zsock_destroy (&probe);

    ovh_publisher_t *publisher = ovh_publisher_new (endpoint);
    CHECK (publisher);
    ovh_publisher_set_join_timeout (publisher, 300);
    int64_t start = zclock_mono ();
    CHECK (!ovh_publisher_wait_subscriber (publisher, 400));
    int64_t waited = zclock_mono () - start;
    CHECK_MSG (waited >= 390 && waited < 1000, "waited %d ms for 400", (int) waited);
    CHECK (!ovh_publisher_wait_subscriber (publisher, 0));

    //  Past the join window a send returns at once, the event is dropped
    ovh_body_t *body = ovh_body_new ();
    s_make_body (body, 1);
    start = zclock_mono ();
    CHECK (ovh_publisher_send (publisher, "sessionCreated", body) == 0);
    CHECK (zclock_mono () - start < 50);
    CHECK (ovh_publisher_seq (publisher) == 1);
    ovh_body_destroy (&body);
    ovh_publisher_destroy (&publisher);
}

//  (4) Invalid endpoints
static void
s_test_invalid (void)
{
    static const char *endpoints [] = {
        ">foo://bar", "@tcp://127.0.0.1", ">tcp://", "nonsense", "",
        ">tcp://127.0.0.1:5560,@bogus", "@tcp://256.1.1.1:5"
    };
    for (size_t index = 0; index < sizeof endpoints / sizeof endpoints [0]; index++) {
        ovh_publisher_t *publisher = ovh_publisher_new (endpoints [index]);
        CHECK_MSG (publisher == NULL, "'%s' accepted", endpoints [index]);
        ovh_publisher_destroy (&publisher);
    }
    //  NULL is the default bus endpoint; connecting succeeds with no peer
    ovh_publisher_t *publisher = ovh_publisher_new (NULL);
    CHECK (publisher);
    ovh_publisher_destroy (&publisher);
}

//  ---------------------------------------------------------------------
//  (5) CURVE

static char s_folder [128];

//  'cert' saved as FOLDER/NAME and FOLDER/NAME_secret (0600); fills 'path'
//  with the secret's path
static void
s_save_cert (zcert_t *cert, const char *name, char *path, size_t size)
{
    char public_path [256];
    snprintf (public_path, sizeof public_path, "%s/%s", s_folder, name);
    REQUIRE (zcert_save (cert, public_path) == 0);
    REQUIRE ((size_t) snprintf (path, size, "%.240s_secret", public_path) < size);
    REQUIRE (chmod (path, 0600) == 0);
}

//  A connecting publisher with 'key' and 'server_key' (secret and public
//  paths) on 'endpoint': whether a subscriber came within 'msecs', and the
//  problem when none did
static bool
s_curve_try (const char *endpoint, const char *key, const char *server_key, int msecs,
             char *problem, size_t problem_size)
{
    char error [512] = "";
    ovh_publisher_t *publisher = ovh_publisher_new_secure (endpoint, key, server_key, NULL,
                                                           error, sizeof error);
    CHECK_MSG (publisher, "%s", error);
    if (!publisher)
        return false;
    bool joined = ovh_publisher_wait_subscriber (publisher, msecs);
    //  A refusal is noticed by the monitor's thread shortly after
    for (int wait = 0; !joined && wait < 50
                    && !ovh_publisher_problem (publisher, problem, problem_size); wait++)
        zclock_sleep (20);
    if (joined)
        CHECK (!ovh_publisher_problem (publisher, problem, problem_size));
    ovh_publisher_destroy (&publisher);
    return joined;
}

//  A connecting publisher against a CURVE SUB that this test's ZAP handler
//  guards, and against a plaintext SUB
static void
s_test_curve_connect (zcert_t *server, const char *server_public, const char *client_secret,
                      const char *stranger_secret, const char *other_public, const char *allow)
{
    ovh_busauth_t *auth = ovh_busauth_new ();
    REQUIRE (auth);
    char error [512] = "";
    CHECK (ovh_busauth_allow (auth, "bus", allow, error, sizeof error) == 1);
    char endpoint [128];
    zactor_t *sub = s_receiver_new_curve ("", server, endpoint, sizeof endpoint);

    //  An allowed key: events arrive whole, and there is no problem
    ovh_publisher_t *publisher = ovh_publisher_new_secure (endpoint, client_secret,
                                                           server_public, NULL,
                                                           error, sizeof error);
    CHECK_MSG (publisher, "%s", error);
    REQUIRE (publisher);
    ovh_publisher_set_src (publisher, "media-1/a");
    CHECK (ovh_publisher_wait_subscriber (publisher, 3000));
    ovh_body_t *body = ovh_body_new ();
    s_make_body (body, 5);
    CHECK (ovh_publisher_send (publisher, "sessionCreated", body) == 0);
    s_received_t received;
    CHECK (s_receive (zactor_sock (sub), &received));
    CHECK (received.index == 5 && received.seq == 1);
    CHECK_STR (received.src, "media-1/a");
    char problem [256] = "x";
    CHECK (!ovh_publisher_problem (publisher, problem, sizeof problem));
    CHECK_STR (problem, "");
    ovh_body_destroy (&body);
    ovh_publisher_destroy (&publisher);

    //  An unknown key: refused, and told so
    uint64_t refused = ovh_busauth_refused (auth);
    CHECK (!s_curve_try (endpoint, stranger_secret, server_public, 600,
                         problem, sizeof problem));
    CHECK_STR (problem, ovh_busmonitor_reason (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, false));
    CHECK (ovh_busauth_refused (auth) > refused);

    //  A wrong server key
    CHECK (!s_curve_try (endpoint, client_secret, other_public, 600,
                         problem, sizeof problem));
    CHECK_STR (problem, ovh_busmonitor_reason (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, 0, false));
    //  A plaintext publisher made by the secure constructor is watched
    //  too: the server's wish for CURVE is the problem
    CHECK (!s_curve_try (endpoint, NULL, NULL, 600, problem, sizeof problem));
    CHECK_STR (problem, ovh_busmonitor_reason (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                                               ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH,
                                               false));
    zactor_destroy (&sub);

    //  CURVE against a plaintext SUB
    sub = s_receiver_new ("", endpoint, sizeof endpoint);
    CHECK (!s_curve_try (endpoint, client_secret, server_public, 600,
                         problem, sizeof problem));
    CHECK_STR (problem, ovh_busmonitor_reason (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                                               ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH,
                                               false));
    zactor_destroy (&sub);
    ovh_busauth_destroy (&auth);
}

//  A connecting CURVE SUB on 'endpoint': whether it receives what the
//  publisher sends within 'msecs'
static bool
s_curve_subscriber_gets (ovh_publisher_t *publisher, const char *endpoint,
                         zcert_t *client, const char *server_key, int msecs)
{
    zsock_t *sub = zsock_new (ZMQ_SUB);
    REQUIRE (sub);
    zcert_apply (client, sub);
    zsock_set_curve_serverkey (sub, server_key);
    zsock_set_subscribe (sub, "");
    zsock_set_rcvtimeo (sub, 200);
    REQUIRE (zsock_connect (sub, "%s", endpoint) == 0);
    ovh_body_t *body = ovh_body_new ();
    s_make_body (body, 8);
    bool received = false;
    s_received_t message;
    for (int64_t end = zclock_mono () + msecs; !received && zclock_mono () < end; ) {
        ovh_publisher_wait_subscriber (publisher, 100);
        CHECK (ovh_publisher_send (publisher, "sessionCreated", body) == 0);
        received = s_receive (zsock_resolve (sub), &message);
    }
    ovh_body_destroy (&body);
    zsock_destroy (&sub);
    return received;
}

//  A binding publisher with an allow folder (its own ZAP handler)
static void
s_test_curve_bind (zcert_t *server, const char *server_secret, zcert_t *client,
                   zcert_t *stranger, const char *allow)
{
    //  A port nobody listens on: the kernel's pick for a plain socket,
    //  closed at once (a ZeroMQ socket would release it later, on its I/O
    //  thread, and the publisher's bind could find it still taken)
    int probe = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t length = sizeof address;
    REQUIRE (probe >= 0 && bind (probe, (struct sockaddr *) &address, sizeof address) == 0
             && getsockname (probe, (struct sockaddr *) &address, &length) == 0);
    close (probe);
    char bind_to [128], connect [128];
    snprintf (bind_to, sizeof bind_to, "@tcp://127.0.0.1:%d", ntohs (address.sin_port));
    snprintf (connect, sizeof connect, "tcp://127.0.0.1:%d", ntohs (address.sin_port));
    char error [512] = "";
    ovh_publisher_t *publisher = ovh_publisher_new_secure (bind_to, server_secret, NULL,
                                                           allow, error, sizeof error);
    CHECK_MSG (publisher, "%s", error);
    REQUIRE (publisher);
    ovh_publisher_set_join_timeout (publisher, 0);
    //  One ZAP handler per process: a second binding CURVE publisher
    //  cannot have one
    ovh_publisher_t *second = ovh_publisher_new_secure ("@tcp://127.0.0.1:*", server_secret,
                                                        NULL, allow, error, sizeof error);
    CHECK (second == NULL);
    CHECK_MSG (strstr (error, "another ZAP handler runs in this process") == error,
               "%s", error);

    const char *server_key = zcert_public_txt (server);
    CHECK (!s_curve_subscriber_gets (publisher, connect, stranger, server_key, 600));
    CHECK (!ovh_publisher_wait_subscriber (publisher, 0));
    CHECK (s_curve_subscriber_gets (publisher, connect, client, server_key, 3000));
    //  The binding side keeps no problem: refused peers are logged
    char problem [256];
    CHECK (!ovh_publisher_problem (publisher, problem, sizeof problem));
    ovh_publisher_destroy (&publisher);
}

static void
s_test_curve_errors (const char *client_secret, const char *server_public, const char *allow)
{
    char error [512], want [600], path [256];
    ovh_publisher_t *publisher;
    struct {
        const char *endpoints, *key, *server_key, *allow, *error;
    } cases [] = {
        { ">tcp://127.0.0.1:5", client_secret, NULL, NULL,
          "the bus connects ('>tcp://127.0.0.1:5'): with --bus-key it needs --bus-server-key, "
          "the public certificate of the server it connects to" },
        { "@tcp://127.0.0.1:*", client_secret, NULL, NULL,
          "the bus binds ('@tcp://127.0.0.1:*'): with --bus-key it needs --bus-allow, "
          "a folder of the public certificates allowed to connect" },
        { ">tcp://127.0.0.1:5,@tcp://127.0.0.1:*", client_secret, server_public, allow,
          "the bus endpoints '>tcp://127.0.0.1:5,@tcp://127.0.0.1:*' both bind and connect: "
          "with --bus-key (CURVE) a socket is either the server or a client; use one kind "
          "of endpoint" },
        { ">tcp://127.0.0.1:5", NULL, server_public, NULL,
          "--bus-server-key needs --bus-key (this program's secret certificate)" },
        { "@tcp://127.0.0.1:*", NULL, NULL, allow,
          "--bus-allow needs --bus-key (this program's secret certificate)" },
        { ">tcp://127.0.0.1:5", server_public, server_public, NULL, NULL },
        { ">foo://x", client_secret, server_public, NULL, "cannot open bus '>foo://x': " }
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        strcpy (error, "");
        publisher = ovh_publisher_new_secure (cases [index].endpoints, cases [index].key,
                                              cases [index].server_key, cases [index].allow,
                                              error, sizeof error);
        CHECK_MSG (publisher == NULL, "case %zu accepted", index);
        ovh_publisher_destroy (&publisher);
        if (cases [index].error && strlen (cases [index].error) > 0
        &&  cases [index].error [strlen (cases [index].error) - 1] == ' ')
            CHECK_MSG (strncmp (error, cases [index].error, strlen (cases [index].error)) == 0,
                       "case %zu: %s", index, error);
        else
        if (cases [index].error)
            CHECK_STR (error, cases [index].error);
        else
            CHECK_MSG (*error, "case %zu: no reason", index);
    }
    //  A public certificate given as the key: the key loader's own words
    snprintf (want, sizeof want, "bus key '%s': no curve secret-key in it (give the "
              "NAME_secret file, not the public NAME)", server_public);
    publisher = ovh_publisher_new_secure (">tcp://127.0.0.1:5", server_public, server_public,
                                          NULL, error, sizeof error);
    CHECK_STR (error, want);
    //  A missing allow folder, on a binding publisher
    snprintf (path, sizeof path, "%s/none", s_folder);
    snprintf (want, sizeof want, "bus allowed keys '%s': No such file or directory", path);
    publisher = ovh_publisher_new_secure ("@tcp://127.0.0.1:*", client_secret, NULL, path,
                                          error, sizeof error);
    CHECK (publisher == NULL);
    CHECK_STR (error, want);
    //  Plaintext through the secure constructor, and an allow folder on a
    //  connecting one is not used (one environment serves every program)
    publisher = ovh_publisher_new_secure (">tcp://127.0.0.1:5", NULL, NULL, NULL,
                                          error, sizeof error);
    CHECK (publisher);
    CHECK (!ovh_publisher_problem (publisher, error, sizeof error));
    ovh_publisher_destroy (&publisher);
    publisher = ovh_publisher_new_secure (">tcp://127.0.0.1:5", client_secret, server_public,
                                          path, error, sizeof error);
    CHECK (publisher);
    ovh_publisher_destroy (&publisher);
}

static void
s_test_curve (void)
{
    REQUIRE (ovh_test_folder_new (s_folder, sizeof s_folder, "ovh_test_publisher") == 0);
    char allow [160], server_secret [256], server_public [256], client_secret [256],
         stranger_secret [256], other_secret [256], other_public [256];
    snprintf (allow, sizeof allow, "%s/allow", s_folder);
    REQUIRE (mkdir (allow, 0700) == 0);
    zcert_t *server = zcert_new ();
    zcert_t *client = zcert_new ();
    zcert_set_meta (client, OVH_BUSKEYS_SRC_PREFIX, "media-1/");
    zcert_t *stranger = zcert_new ();
    zcert_t *other = zcert_new ();
    s_save_cert (server, "server", server_secret, sizeof server_secret);
    snprintf (server_public, sizeof server_public, "%s/server", s_folder);
    s_save_cert (client, "client", client_secret, sizeof client_secret);
    s_save_cert (stranger, "stranger", stranger_secret, sizeof stranger_secret);
    s_save_cert (other, "other", other_secret, sizeof other_secret);
    snprintf (other_public, sizeof other_public, "%s/other", s_folder);
    char path [256];
    snprintf (path, sizeof path, "%s/client", allow);
    REQUIRE (zcert_save_public (client, path) == 0);

    s_test_curve_connect (server, server_public, client_secret, stranger_secret,
                          other_public, allow);
    s_test_curve_bind (server, server_secret, client, stranger, allow);
    s_test_curve_errors (client_secret, server_public, allow);

    zcert_destroy (&server);
    zcert_destroy (&client);
    zcert_destroy (&stranger);
    zcert_destroy (&other);
    ovh_test_folder_remove (s_folder);
}

int
main (void)
{
    s_test_fork ();             //  first: the parent has no ZeroMQ state yet
    s_test_burst ();
    s_test_bind ();
    s_test_join_window ();
    s_test_no_subscriber ();
    s_test_invalid ();
    s_test_curve ();
    return ovh_test_done ("test_publisher");
}
