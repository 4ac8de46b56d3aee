/*  test_bus.c - the options of a bus socket (ovh_bus): what a receiving
    socket may hold for a given --max-frame, and the connection options
    every bus socket takes, read back from the socket.                      */

#include "ovh_test.h"
#include "ovhook.h"

static void
test_limits (void)
{
    //  max-frame → ZMQ_MAXMSGSIZE, then RCVHWM under a cap of 5000 and of 20
    struct {
        size_t max_frame; int maxmsgsize; int rcvhwm; int rcvhwm_capped;
    } cases [] = {
        //  The 1 MiB default: 32 MiB / (1 MiB + 64 KiB) = 30
        { 1024 * 1024, 1024 * 1024 + 65536, 30, 20 },
        //  Small frames: many fit, the cap decides
        { 1, 65537, 511, 20 },
        { 0, 65536, 512, 20 },
        //  Large frames: never fewer than OVH_BUS_RCVHWM_MIN
        { 16 * 1024 * 1024, 16 * 1024 * 1024 + 65536, OVH_BUS_RCVHWM_MIN, OVH_BUS_RCVHWM_MIN },
        //  Beyond int: ZeroMQ's option is an int, so INT_MAX (no wrap)
        { (size_t) INT32_MAX, INT32_MAX, OVH_BUS_RCVHWM_MIN, OVH_BUS_RCVHWM_MIN },
        { SIZE_MAX, INT32_MAX, OVH_BUS_RCVHWM_MIN, OVH_BUS_RCVHWM_MIN },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        size_t max_frame = cases [index].max_frame;
        CHECK_MSG (ovh_bus_maxmsgsize (max_frame) == cases [index].maxmsgsize,
                   "case %zu: maxmsgsize %d", index, ovh_bus_maxmsgsize (max_frame));
        CHECK_MSG (ovh_bus_rcvhwm (max_frame, 5000) == cases [index].rcvhwm,
                   "case %zu: rcvhwm %d", index, ovh_bus_rcvhwm (max_frame, 5000));
        CHECK_MSG (ovh_bus_rcvhwm (max_frame, 20) == cases [index].rcvhwm_capped,
                   "case %zu: capped rcvhwm %d", index, ovh_bus_rcvhwm (max_frame, 20));
    }
    //  Set on a socket
    zsock_t *socket = zsock_new (ZMQ_SUB);
    REQUIRE (socket);
    ovh_bus_limit (socket, 1024 * 1024, 5000);
    CHECK (zsock_maxmsgsize (socket) == 1024 * 1024 + 65536);
    CHECK (zsock_rcvhwm (socket) == 30);
    CHECK (zsock_ipv6 (socket) == 1);
    zsock_destroy (&socket);
}

static void
test_options (void)
{
    int types [] = { ZMQ_SUB, ZMQ_XPUB, ZMQ_XSUB };
    for (size_t index = 0; index < sizeof types / sizeof types [0]; index++) {
        zsock_t *socket = zsock_new (types [index]);
        REQUIRE (socket);
        ovh_bus_options (socket);
        CHECK_MSG (zsock_ipv6 (socket) == 1, "type %d", types [index]);
        CHECK_MSG (zsock_reconnect_ivl (socket) == 100, "type %d", types [index]);
        CHECK_MSG (zsock_reconnect_ivl_max (socket) == 5000, "type %d", types [index]);
        CHECK_MSG (zsock_tcp_keepalive (socket) == 1, "type %d", types [index]);
        CHECK_MSG (zsock_tcp_keepalive_idle (socket) == 2, "type %d", types [index]);
        CHECK_MSG (zsock_tcp_keepalive_intvl (socket) == 1, "type %d", types [index]);
        CHECK_MSG (zsock_tcp_keepalive_cnt (socket) == 3, "type %d", types [index]);
        //  What it does not touch stays as the caller set it
        CHECK_MSG (zsock_heartbeat_ivl (socket) == 0, "type %d", types [index]);
        zsock_destroy (&socket);
    }
    //  An IPv6 endpoint binds (where the host has ::1)
    zsock_t *socket = zsock_new (ZMQ_SUB);
    REQUIRE (socket);
    ovh_bus_options (socket);
    int port = zsock_bind (socket, "tcp://[::1]:*");
    if (port == -1)
        printf ("test_bus: no IPv6 loopback here, bind not checked\n");
    else
        CHECK (port > 0);
    zsock_destroy (&socket);
}

int
main (void)
{
    test_limits ();
    test_options ();
    return ovh_test_done ("test_bus");
}
