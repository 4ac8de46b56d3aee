/*  ovh_dispatcher_wait.c - the actor's one wait: an epoll set holding its
    command pipe (the ZMQ_FD of a ZeroMQ socket, edge-triggered: ZeroMQ
    signals it when something may have changed, and commands are then read
    while ZMQ_EVENTS says POLLIN), the feed's eventfd and curl's sockets,
    which the sender adds, changes and removes one at a time as curl asks.

    It replaced a zmq_poll over an array of the pipe, the feed and every
    socket: zmq_poll makes a zero-timeout pass before its blocking one (two
    poll calls per wait) and costs O(sockets) at every loop.               */

#include <czmq.h>
#include <sys/epoll.h>
#include "ovh_log.h"
#include "ovh_dispatcher_private.h"

int
ovh_dispatcher_wait_setup (ovh_dispatcher_t *self)
{
    self->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    if (self->epoll_fd < 0)
        return -1;
    struct epoll_event event = { .events = EPOLLIN, .data.u64 = OVH_DISPATCHER_TAG_FEED };
    if (epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, ovh_feed_fd (self->feed), &event))
        return -1;
    return self->sender_class->watch (self->sender, self->epoll_fd);
}

//  Does the pipe hold a command? ZMQ_EVENTS also clears its ZMQ_FD's
//  signal, which is why the edge-triggered wait is safe only if this is
//  asked until it says no. -1 when the context is terminated.
int
ovh_dispatcher_pipe_readable (void *pipe)
{
    int events;
    size_t size = sizeof events;
    int rc;
    do
        rc = zmq_getsockopt (pipe, ZMQ_EVENTS, &events, &size);
    while (rc == -1 && errno == EINTR);
    return rc == -1 ? -1 : (events & ZMQ_POLLIN) != 0;
}

//  The pipe joins the epoll set (the feed and the sender's sockets are in
//  it since ovh_dispatcher_new). 0 or -1.
int
ovh_dispatcher_watch_pipe (ovh_dispatcher_t *self, void *pipe)
{
    int fd;
    size_t size = sizeof fd;
    if (zmq_getsockopt (pipe, ZMQ_FD, &fd, &size) == -1)
        return -1;
    struct epoll_event event = { .events = EPOLLIN | EPOLLET,
                                 .data.u64 = OVH_DISPATCHER_TAG_PIPE };
    return epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

//  Wait for anything to do, up to 'timeout' ms: returns the events read
//  into 'events' (0 after a signal), -1 when the wait failed. Tells the
//  feed first, so that a push while the actor sleeps wakes it.
int
ovh_dispatcher_wait (ovh_dispatcher_t *self, struct epoll_event *events, long timeout,
                     bool *pipe_ready)
{
    bool sleeping = timeout != 0 && ovh_feed_sleep (self->feed);
    if (!sleeping)
        timeout = 0;            //  items wait on the feed
    int count = epoll_wait (self->epoll_fd, events, OVH_DISPATCHER_EVENTS,
                            timeout > INT_MAX || timeout < 0 ? -1 : (int) timeout);
    if (count == -1 && errno != EINTR)
        return -1;
    bool fed = false;
    for (int index = 0; index < count; index++) {
        if (events [index].data.u64 == OVH_DISPATCHER_TAG_PIPE)
            *pipe_ready = true;
        else
        if (events [index].data.u64 == OVH_DISPATCHER_TAG_FEED)
            fed = true;
    }
    ovh_feed_awake (self->feed, fed);
    return count < 0 ? 0 : count;
}
