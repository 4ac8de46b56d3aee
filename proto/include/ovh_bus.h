/*  ovh_bus.h - the options every bus socket takes: how its connections
    live (IPv6, reconnects, TCP keepalives) and, on a receiving socket,
    what a peer may make it hold in memory. Publishers, the bridge, the
    proxy and the tail set them here, so that they cannot drift apart.

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
#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OVH_FRAME_ROOM      (64 * 1024)
#define OVH_BUS_HOLD        (32 * 1024 * 1024)
#define OVH_BUS_RCVHWM_MIN  16

//  Reconnect quickly, backing off to 5 s; notice a vanished peer in about
//  5 s (2 s idle, then 3 probes 1 s apart)
#define OVH_BUS_RECONNECT_IVL       100     //  msecs
#define OVH_BUS_RECONNECT_IVL_MAX   5000    //  msecs
#define OVH_BUS_KEEPALIVE_IDLE      2       //  seconds before the first probe
#define OVH_BUS_KEEPALIVE_INTVL     1       //  seconds between probes
#define OVH_BUS_KEEPALIVE_CNT       3       //  unanswered probes that end a connection

//  IPv6, the reconnect interval and TCP keepalives of any bus socket,
//  sending or receiving, connecting or binding. Call before bind or
//  connect: they shape the connections made afterwards.
void
    ovh_bus_options (zsock_t *socket);

//  The largest frame ZeroMQ accepts for a given --max-frame
int
    ovh_bus_maxmsgsize (size_t max_frame);

//  The receive high-water mark (messages) for a given --max-frame, at
//  most 'cap'
int
    ovh_bus_rcvhwm (size_t max_frame, int cap);

//  Both limits on a receiving socket, and IPv6 (as ovh_bus_options).
//  Call before bind or connect.
void
    ovh_bus_limit (zsock_t *socket, size_t max_frame, int rcvhwm_cap);

#ifdef __cplusplus
}
#endif
#endif
