/*  test_buskeys.c - CurveZMQ certificates for the bus (ovh_buskeys): every
    way a key file can be wrong, with its error text; which endpoint lists
    bind, connect or mix; which are open to the network; which src values a
    certificate's src-prefix owns.                                          */

#include <czmq.h>
#include "ovh_test.h"
#include "ovh_test_folder.h"
#include "ovh_buskeys.h"

static char s_folder [128];

//  'name' in the test folder
static const char *
s_path (const char *name)
{
    static char path [4][256];
    static int next;
    char *slot = path [next++ % 4];
    snprintf (slot, 256, "%s/%s", s_folder, name);
    return slot;
}

static void
s_write (const char *name, const char *text, mode_t mode)
{
    FILE *file = fopen (s_path (name), "w");
    REQUIRE (file);
    fputs (text, file);
    fclose (file);
    chmod (s_path (name), mode);
}

static void
test_load_errors (void)
{
    zcert_t *cert = zcert_new ();
    REQUIRE (cert);
    REQUIRE (zcert_save (cert, s_path ("good")) == 0);     //  good, good_secret
    chmod (s_path ("good_secret"), 0600);
    s_write ("open_secret", "", 0600);
    REQUIRE (zcert_save_secret (cert, s_path ("open_secret")) == 0);
    chmod (s_path ("open_secret"), 0644);
    s_write ("garbage", "this is not a certificate\n", 0600);
    s_write ("short", "curve\n    public-key = \"abc\"\n    secret-key = \"abc\"\n", 0600);
    zcert_destroy (&cert);
    mkdir (s_path ("folder"), 0700);

    struct {
        const char *key, *server, *error;   //  @ stands for the folder
    } cases [] = {
        { "missing", NULL, "bus key '@/missing': No such file or directory" },
        { "folder", NULL, "bus key '@/folder': not a regular file" },
        { "good", NULL, "bus key '@/good': no curve secret-key in it (give the NAME_secret "
                        "file, not the public NAME)" },
        { "open_secret", NULL, "bus key '@/open_secret': readable or writable by others "
                               "(mode 0644); make it 0600" },
        { "garbage", NULL, "bus key '@/garbage': not a CurveZMQ certificate (no valid curve "
                           "public-key; ovhook-keygen writes them)" },
        { "short", NULL, "bus key '@/short': not a CurveZMQ certificate (no valid curve "
                         "public-key; ovhook-keygen writes them)" },
        { "good_secret", "missing", "bus server key '@/missing': No such file or directory" },
        { "good_secret", "garbage", "bus server key '@/garbage': not a CurveZMQ certificate "
                                    "(no valid curve public-key; ovhook-keygen writes them)" },
        { "good_secret", NULL, NULL },
        { "good_secret", "good", NULL },
        //  A server key file may be a secret one too: only its public key is used
        { "good_secret", "good_secret", NULL },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        char error [300] = "";
        ovh_buskeys_t *keys = ovh_buskeys_new (s_path (cases [index].key),
                                               cases [index].server? s_path (cases [index].server): NULL,
                                               error, sizeof error);
        if (cases [index].error) {
            char *want = strdup (cases [index].error);
            char *at = strchr (want, '@');
            char *expanded = zsys_sprintf ("%.*s%s%s", (int) (at - want), want, s_folder, at + 1);
            CHECK_MSG (keys == NULL && streq (error, expanded), "case %zu: %s", index, error);
            free (expanded);
            free (want);
        }
        else {
            CHECK_MSG (keys != NULL, "case %zu: %s", index, error);
            if (keys) {
                CHECK (strlen (ovh_buskeys_public (keys)) == 40);
                CHECK (ovh_buskeys_has_server (keys) == (cases [index].server != NULL));
            }
        }
        ovh_buskeys_destroy (&keys);
        CHECK (keys == NULL);
    }
}

static void
test_apply (void)
{
    ovh_buskeys_t *keys = ovh_buskeys_new (s_path ("good_secret"), NULL, NULL, 0);
    REQUIRE (keys);
    zsock_t *socket = zsock_new (ZMQ_SUB);
    //  No server key: a connecting socket cannot be set up
    CHECK (ovh_buskeys_apply_client (keys, socket) == -1);
    ovh_buskeys_apply_server (keys, socket, "bus");
    CHECK (zsock_curve_server (socket) == 1);
    CHECK (zsock_mechanism (socket) == ZMQ_CURVE);
    char *domain = zsock_zap_domain (socket);
    CHECK_STR (domain, "bus");
    zstr_free (&domain);
    zsock_destroy (&socket);
    ovh_buskeys_destroy (&keys);

    keys = ovh_buskeys_new (s_path ("good_secret"), s_path ("good"), NULL, 0);
    REQUIRE (keys);
    socket = zsock_new (ZMQ_PUB);
    CHECK (ovh_buskeys_apply_client (keys, socket) == 0);
    CHECK (zsock_mechanism (socket) == ZMQ_CURVE);
    CHECK (zsock_curve_server (socket) == 0);
    char *server = zsock_curve_serverkey (socket);
    CHECK_STR (server, ovh_buskeys_public (keys));
    zstr_free (&server);
    zsock_destroy (&socket);
    ovh_buskeys_destroy (&keys);
}

static void
test_binds_and_exposed (void)
{
    struct {
        const char *endpoints; bool by_default; int binds; bool exposed;
    } cases [] = {
        { "tcp://127.0.0.1:5560", true, 1, false },
        { "tcp://127.0.0.1:5560", false, 0, false },
        { "@tcp://*:5560", false, 1, true },
        { ">tcp://10.0.0.1:5560", true, 0, false },          //  connects: not exposed
        { "@tcp://0.0.0.0:5560", false, 1, true },
        { "@tcp://10.0.0.1:5560", false, 1, true },
        { "@tcp://eth0:5560", false, 1, true },
        { "@tcp://localhost:5560", false, 1, false },
        { "@tcp://[::1]:5560", false, 1, false },
        { "@tcp://[::]:5560", false, 1, true },
        { "@tcp://127.8.9.10:5560", false, 1, false },
        { "@ipc:///run/ovhook.sock", false, 1, false },
        { "@inproc://bus", false, 1, false },
        { "@tcp://127.0.0.1:1,@tcp://*:2", false, 1, true },
        { "@tcp://127.0.0.1:1,>tcp://127.0.0.1:2", false, -1, false },
        { ">tcp://a:1,tcp://b:2", true, -1, true },      //  b binds, on b
        { ">tcp://a:1,tcp://b:2", false, 0, false },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        CHECK_MSG (ovh_buskeys_binds (cases [index].endpoints, cases [index].by_default)
                   == cases [index].binds, "binds case %zu", index);
        CHECK_MSG (ovh_buskeys_exposed (cases [index].endpoints, cases [index].by_default)
                   == cases [index].exposed, "exposed case %zu", index);
    }
}

static void
test_owns (void)
{
    struct {
        const char *prefix, *src; bool owns;
    } cases [] = {
        { "media-1/", "media-1/4242/x", true },
        { "media-1/", "media-1/", true },
        { "media-1/", "media-10/1", false },
        { "media-1/", "media-", false },
        { "media-1/", "", false },
        { "*", "anything", true },
        { "*", "", true },
        { "", "media-1/1", false },
        { NULL, "media-1/1", false },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++)
        CHECK_MSG (ovh_buskeys_owns (cases [index].prefix, cases [index].src,
                                     strlen (cases [index].src)) == cases [index].owns,
                   "owns case %zu", index);
}

int
main (void)
{
    zsys_init ();
    REQUIRE (ovh_test_folder_new (s_folder, sizeof s_folder, "ovh_test_buskeys") == 0);
    test_load_errors ();
    test_apply ();
    test_binds_and_exposed ();
    test_owns ();
    ovh_test_folder_remove (s_folder);
    return ovh_test_done ("test_buskeys");
}
