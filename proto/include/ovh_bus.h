/*  ovh_bus.h - what a receiving bus socket may hold in memory.

    ZeroMQ reads a peer's messages into the receiving socket's queue before
    the application sees them, so a peer decides what that queue costs
    unless the socket bounds it. Every receiving bus socket (the bridge's,
    ovhook-tail's, ovhook-proxy's) takes two limits from --max-frame:

    - ZMQ_MAXMSGSIZE = max-frame + OVH_FRAME_ROOM, per frame: room for the
      topic and envelope frames, and for a body somewhat over the limit,
      which is then read, counted and logged. A larger frame makes ZeroMQ
      drop the connection before it takes memory (nothing is logged: the
      publisher reconnects, and its seq shows the gap).
    - ZMQ_RCVHWM: at most OVH_BUS_HOLD / that size messages (never fewer
      than OVH_BUS_RCVHWM_MIN, never more than the caller's own cap).

    Per connection ZeroMQ then holds at most (RCVHWM + 1) messages (the one
    being decoded) of up to 3 frames of protocol (topic and envelope are
    small), so about (RCVHWM + 1) × (max-frame + 64 KiB), plus the kernel's
    TCP receive buffer. With the 1 MiB default: RCVHWM 30, so about 34 MB.  */

#ifndef OVH_BUS_H_INCLUDED
#define OVH_BUS_H_INCLUDED

#include <stddef.h>
#include <limits.h>
#include <czmq.h>

#define OVH_FRAME_ROOM      (64 * 1024)
#define OVH_BUS_HOLD        (32 * 1024 * 1024)
#define OVH_BUS_RCVHWM_MIN  16

//  The largest frame ZeroMQ accepts for a given --max-frame
static inline int
ovh_bus_maxmsgsize (size_t max_frame)
{
    size_t limit = max_frame + OVH_FRAME_ROOM;
    return limit > INT_MAX || limit < max_frame ? INT_MAX : (int) limit;
}

//  The receive high-water mark (messages) for a given --max-frame, at
//  most 'cap'
static inline int
ovh_bus_rcvhwm (size_t max_frame, int cap)
{
    size_t hwm = OVH_BUS_HOLD / (size_t) ovh_bus_maxmsgsize (max_frame);
    if (hwm < OVH_BUS_RCVHWM_MIN)
        hwm = OVH_BUS_RCVHWM_MIN;
    return hwm > (size_t) cap ? cap : (int) hwm;
}

//  Both limits on a receiving socket, and IPv6 (an IPv6 endpoint such as
//  tcp://[::1]:5560 fails with "No such device" without it; IPv4 ones work
//  as before). Call before bind or connect.
static inline void
ovh_bus_limit (zsock_t *socket, size_t max_frame, int rcvhwm_cap)
{
    zsock_set_maxmsgsize (socket, ovh_bus_maxmsgsize (max_frame));
    zsock_set_rcvhwm (socket, ovh_bus_rcvhwm (max_frame, rcvhwm_cap));
    zsock_set_ipv6 (socket, 1);
}

#endif
