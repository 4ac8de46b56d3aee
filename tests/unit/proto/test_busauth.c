/*  test_busauth.c - the process's ZAP handler (ovh_busauth) and the
    handshake monitor (ovh_busmonitor), over real TCP sockets: an allowed
    key gets through with its certificate's metadata; an unknown key, a
    plaintext peer and a client with the wrong server key are refused,
    counted, and the connecting side is told why; a key added to the folder
    while running gets in and a removed one no longer does, without a
    restart; folder errors; one handler per process; after SIGINT/SIGTERM
    (zsys_interrupted) both still work until destroyed, and destroying the
    monitor of a socket whose peer keeps failing returns.                   */

#include <czmq.h>
#include "ovh_test.h"
#include "ovh_test_folder.h"
#include "ovh_busauth.h"
#include "ovh_buskeys.h"
#include "ovh_busmonitor.h"

static char s_folder [128];
static char s_allow [160];
static zcert_t *s_server;

//  What one attempt to publish to the CURVE server saw
typedef struct {
    bool received;
    char user_id [64];
    char prefix [64];
    char problem [256];             //  the client monitor's
} s_seen_t;

//  A client: CURVE with 'client' (NULL: plaintext) and 'server_key'.
//  Publishes until the server's SUB receives or 'msecs' pass.
static s_seen_t
s_try (zsock_t *sub, const char *endpoint, zcert_t *client, const char *server_key, int msecs)
{
    s_seen_t seen = { 0 };
    zsock_t *pub = zsock_new (ZMQ_PUB);
    REQUIRE (pub);
    if (client) {
        zcert_apply (client, pub);
        zsock_set_curve_serverkey (pub, server_key);
    }
    ovh_busmonitor_t *monitor = ovh_busmonitor_new (pub, "test-client", false);
    REQUIRE (monitor);
    REQUIRE (zsock_connect (pub, "%s", endpoint) == 0);
    int64_t end = zclock_mono () + msecs;
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    while (!seen.received && zclock_mono () < end) {
        zstr_send (pub, "hello");
        zclock_sleep (20);
        if (zmq_msg_recv (&msg, zsock_resolve (sub), ZMQ_DONTWAIT) >= 0) {
            seen.received = true;
            const char *user = zmq_msg_gets (&msg, "User-Id");
            const char *prefix = zmq_msg_gets (&msg, OVH_BUSKEYS_SRC_PREFIX);
            snprintf (seen.user_id, sizeof seen.user_id, "%s", user? user: "");
            snprintf (seen.prefix, sizeof seen.prefix, "%s", prefix? prefix: "");
        }
    }
    zmq_msg_close (&msg);
    //  A refused peer's problem may come after the first attempts
    for (int wait = 0; !seen.received && wait < 50; wait++) {
        if (ovh_busmonitor_problem (monitor, seen.problem, sizeof seen.problem))
            break;
        zclock_sleep (20);
    }
    ovh_busmonitor_destroy (&monitor);
    zsock_destroy (&pub);
    return seen;
}

//  The CURVE server's SUB, with the server's key, in ZAP 'domain'
static zsock_t *
s_server_sub (const char *domain)
{
    zsock_t *sub = zsock_new (ZMQ_SUB);
    REQUIRE (sub);
    zcert_apply (s_server, sub);
    zsock_set_curve_server (sub, 1);
    zsock_set_zap_domain (sub, domain);
    zsock_set_subscribe (sub, "");
    return sub;
}

static void
test_handshakes (ovh_busauth_t *auth)
{
    zcert_t *allowed = zcert_new ();
    zcert_set_meta (allowed, OVH_BUSKEYS_SRC_PREFIX, "media-1/");
    zcert_t *stranger = zcert_new ();
    zcert_t *other_server = zcert_new ();
    char path [256];
    snprintf (path, sizeof path, "%s/media-1", s_allow);
    REQUIRE (zcert_save_public (allowed, path) == 0);

    char error [256] = "";
    CHECK (ovh_busauth_allow (auth, "bus", s_allow, error, sizeof error) == 1);
    zsock_t *sub = s_server_sub ("bus");
    ovh_busmonitor_t *monitor = ovh_busmonitor_new (sub, "test-bus", true);
    REQUIRE (monitor);
    int port = zsock_bind (sub, "tcp://127.0.0.1:*");
    REQUIRE (port > 0);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    const char *server_key = zcert_public_txt (s_server);

    s_seen_t seen = s_try (sub, endpoint, allowed, server_key, 3000);
    CHECK (seen.received);
    CHECK_STR (seen.user_id, zcert_public_txt (allowed));
    CHECK_STR (seen.prefix, "media-1/");
    CHECK (ovh_busauth_allowed (auth) >= 1);

    uint64_t refused = ovh_busauth_refused (auth);
    seen = s_try (sub, endpoint, stranger, server_key, 600);
    CHECK (!seen.received);
    CHECK (ovh_busauth_refused (auth) > refused);
    CHECK_STR (seen.problem, ovh_busmonitor_reason (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, false));

    uint64_t failed = ovh_busmonitor_failed (monitor);
    seen = s_try (sub, endpoint, NULL, NULL, 600);
    CHECK (!seen.received);
    CHECK_STR (seen.problem, ovh_busmonitor_reason (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                                                    ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH, false));
    CHECK (ovh_busmonitor_failed (monitor) > failed);

    failed = ovh_busmonitor_failed (monitor);
    seen = s_try (sub, endpoint, allowed, zcert_public_txt (other_server), 600);
    CHECK (!seen.received);
    CHECK_STR (seen.problem, ovh_busmonitor_reason (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, 0, false));
    CHECK (ovh_busmonitor_failed (monitor) > failed);

    //  Rotation without a restart: the stranger's key added, then the
    //  first key removed
    snprintf (path, sizeof path, "%s/stranger", s_allow);
    REQUIRE (zcert_save_public (stranger, path) == 0);
    seen = s_try (sub, endpoint, stranger, server_key, 3000);
    CHECK (seen.received);
    CHECK_STR (seen.prefix, "");                    //  no src-prefix in its certificate
    snprintf (path, sizeof path, "%s/media-1", s_allow);
    REQUIRE (unlink (path) == 0);
    seen = s_try (sub, endpoint, allowed, server_key, 600);
    CHECK (!seen.received);
    CHECK (ovh_busmonitor_succeeded (monitor) >= 2);

    //  A domain without a folder lets nobody in
    zsock_set_zap_domain (sub, "elsewhere");
    zsock_t *other = s_server_sub ("elsewhere");
    int other_port = zsock_bind (other, "tcp://127.0.0.1:*");
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", other_port);
    refused = ovh_busauth_refused (auth);
    seen = s_try (other, endpoint, stranger, server_key, 600);
    CHECK (!seen.received);
    CHECK (ovh_busauth_refused (auth) > refused);
    zsock_destroy (&other);

    ovh_busmonitor_destroy (&monitor);
    CHECK (monitor == NULL);
    zsock_destroy (&sub);
    zcert_destroy (&allowed);
    zcert_destroy (&stranger);
    zcert_destroy (&other_server);
}

static void
test_folder_errors (ovh_busauth_t *auth)
{
    char error [256], path [256], want [400];
    snprintf (path, sizeof path, "%s/none", s_folder);
    CHECK (ovh_busauth_allow (auth, "x", path, error, sizeof error) == -1);
    snprintf (want, sizeof want, "bus allowed keys '%s': No such file or directory", path);
    CHECK_STR (error, want);
    snprintf (path, sizeof path, "%s/file", s_folder);
    FILE *file = fopen (path, "w");
    REQUIRE (file);
    fclose (file);
    CHECK (ovh_busauth_allow (auth, "x", path, error, sizeof error) == -1);
    snprintf (want, sizeof want, "bus allowed keys '%s': not a folder", path);
    CHECK_STR (error, want);
    //  A secret certificate in the folder is not counted (and warned of)
    char folder [200];
    snprintf (folder, sizeof folder, "%s/mixed", s_folder);
    mkdir (folder, 0700);
    zcert_t *cert = zcert_new ();
    snprintf (path, sizeof path, "%s/node", folder);
    REQUIRE (zcert_save (cert, path) == 0);
    zcert_destroy (&cert);
    CHECK (ovh_busauth_allow (auth, "y", folder, error, sizeof error) == 1);
}

//  After the signal (CZMQ's handler sets zsys_interrupted), the handler
//  still answers and the monitor still reads until destroyed: a monitor
//  that stopped reading blocked libzmq's I/O thread on the next event, and
//  its destroy with it (the bridge hung at exit while a publisher with the
//  wrong server key kept reconnecting)
static void
test_interrupted (ovh_busauth_t *auth)
{
    zcert_t *stranger = zcert_new ();
    zcert_t *other_server = zcert_new ();
    char error [256] = "";
    CHECK (ovh_busauth_allow (auth, "bus", s_allow, error, sizeof error) >= 0);
    zsock_t *sub = s_server_sub ("bus");
    int port = zsock_bind (sub, "tcp://127.0.0.1:*");
    REQUIRE (port > 0);
    //  A client that keeps failing: the wrong server key, reconnecting
    //  every 10 ms
    zsock_t *pub = zsock_new (ZMQ_PUB);
    zcert_apply (stranger, pub);
    zsock_set_curve_serverkey (pub, zcert_public_txt (other_server));
    zsock_set_reconnect_ivl (pub, 10);
    ovh_busmonitor_t *monitor = ovh_busmonitor_new (pub, "test-interrupted", false);
    REQUIRE (monitor);
    REQUIRE (zsock_connect (pub, "tcp://127.0.0.1:%d", port) == 0);
    for (int wait = 0; ovh_busmonitor_failed (monitor) == 0 && wait < 100; wait++)
        zclock_sleep (20);
    CHECK (ovh_busmonitor_failed (monitor) > 0);

    zsys_interrupted = 1;
    uint64_t failed = ovh_busmonitor_failed (monitor);
    uint64_t refused = ovh_busauth_refused (auth);
    for (int wait = 0; ovh_busmonitor_failed (monitor) < failed + 20 && wait < 150; wait++)
        zclock_sleep (20);
    //  Still counted: the monitor reads on. If not, the destroy below
    //  would hang: stop here instead.
    REQUIRE (ovh_busmonitor_failed (monitor) >= failed + 20);
    //  And a stranger is still refused by the handler, not let in
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    s_seen_t seen = s_try (sub, endpoint, stranger, zcert_public_txt (s_server), 600);
    CHECK (!seen.received);
    CHECK (ovh_busauth_refused (auth) > refused);
    ovh_busmonitor_destroy (&monitor);
    CHECK (monitor == NULL);
    zsys_interrupted = 0;
    zsock_destroy (&pub);
    zsock_destroy (&sub);
    zcert_destroy (&stranger);
    zcert_destroy (&other_server);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    REQUIRE (ovh_test_folder_new (s_folder, sizeof s_folder, "ovh_test_busauth") == 0);
    snprintf (s_allow, sizeof s_allow, "%s/allow", s_folder);
    REQUIRE (mkdir (s_allow, 0700) == 0);
    s_server = zcert_new ();
    ovh_busauth_t *auth = ovh_busauth_new ();
    REQUIRE (auth);
    //  One ZAP handler per process
    CHECK (ovh_busauth_new () == NULL);
    test_handshakes (auth);
    test_folder_errors (auth);
    test_interrupted (auth);
    ovh_busauth_destroy (&auth);
    CHECK (auth == NULL);
    zcert_destroy (&s_server);
    ovh_test_folder_remove (s_folder);
    return ovh_test_done ("test_busauth");
}
