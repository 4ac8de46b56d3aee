/*  ovh_bus.c - the options every bus socket takes.                        */

#include <limits.h>
#include <czmq.h>
#include "ovhook.h"

void
ovh_bus_options (zsock_t *socket)
{
    assert (socket);
    //  IPv6 endpoints (tcp://[::1]:5560) fail with "No such device" without it
    zsock_set_ipv6 (socket, 1);
    zsock_set_reconnect_ivl (socket, OVH_BUS_RECONNECT_IVL);
    zsock_set_reconnect_ivl_max (socket, OVH_BUS_RECONNECT_IVL_MAX);
    //  A vanished peer is noticed by TCP keepalives (about 5 s), not by
    //  ZMTP heartbeats: heartbeats are not answered while a receiver's
    //  queue is full and it has stopped reading, so they would cut (and
    //  reorder, and in libzmq 4.3.4 sometimes crash on) a connection that is
    //  only slow. Keepalives are answered by the kernel.
    zsock_set_tcp_keepalive (socket, 1);
    zsock_set_tcp_keepalive_idle (socket, OVH_BUS_KEEPALIVE_IDLE);
    zsock_set_tcp_keepalive_intvl (socket, OVH_BUS_KEEPALIVE_INTVL);
    zsock_set_tcp_keepalive_cnt (socket, OVH_BUS_KEEPALIVE_CNT);
}

int
ovh_bus_maxmsgsize (size_t max_frame)
{
    size_t limit = max_frame + OVH_FRAME_ROOM;
    return limit > INT_MAX || limit < max_frame ? INT_MAX : (int) limit;
}

int
ovh_bus_rcvhwm (size_t max_frame, int cap)
{
    size_t hwm = OVH_BUS_HOLD / (size_t) ovh_bus_maxmsgsize (max_frame);
    if (hwm < OVH_BUS_RCVHWM_MIN)
        hwm = OVH_BUS_RCVHWM_MIN;
    return hwm > (size_t) cap ? cap : (int) hwm;
}

void
ovh_bus_limit (zsock_t *socket, size_t max_frame, int rcvhwm_cap)
{
    assert (socket);
    zsock_set_maxmsgsize (socket, ovh_bus_maxmsgsize (max_frame));
    zsock_set_rcvhwm (socket, ovh_bus_rcvhwm (max_frame, rcvhwm_cap));
    //  As ovh_bus_options does: a receiver that sets only these limits
    //  (as this did before ovh_bus_options) still takes IPv6 endpoints
    zsock_set_ipv6 (socket, 1);
}
