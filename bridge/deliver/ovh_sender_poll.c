/*  ovh_sender_poll.c - curl's sockets in the dispatcher's epoll set, and
    the shards' timers: one set and one timeout for the dispatcher, whatever
    the number of shards, each socket acted on through the multi that
    watches it.

    The set is changed one socket at a time as curl asks (CURLMOPT_
    SOCKETFUNCTION), never rebuilt: with --workers 1024 a poll() over every
    socket at every loop cost the kernel 8% of the bridge's samples, and
    each wait now costs what the ready sockets cost. Level-triggered, as
    curl does not promise to read a socket dry.                             */

#include "ovh_log.h"
#include "ovh_sender_private.h"

//  Marks a socket registered (curl_multi_assign): any non-NULL value
#define REGISTERED      ((void *) 1)

//  curl tells which sockets to watch for what; 'socketp' is REGISTERED for
//  a socket already in the set, NULL for one new to us
static int
s_socket_cb (CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
    (void) easy;
    shard_t *shard = (shard_t *) arg;
    ovh_sender_t *self = shard->sender;
    if (self->closing || self->epoll_fd < 0)
        return 0;               //  the set is going away, or not there yet
    if (what == CURL_POLL_REMOVE) {
        //  curl forgets the socket's assignment itself. It may have closed
        //  the socket already, which took it out of the set: ENOENT, EBADF.
        if (socketp) {
            self->watch_count--;
            if (epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, fd, NULL) == -1
            &&  errno != ENOENT && errno != EBADF)
                ovh_log_warning ("epoll: cannot unwatch socket %d: %s", fd, strerror (errno));
        }
        return 0;
    }
    struct epoll_event event = {
        .events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u),
        .data.u64 = (uint64_t) (shard - self->shards) << 32 | (uint32_t) fd
    };
    int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    int rc = epoll_ctl (self->epoll_fd, op, fd, &event);
    //  A descriptor number closed and reused without a REMOVE between, or
    //  a registration lost with a closed one: take the other operation
    if (rc == -1 && (errno == EEXIST || errno == ENOENT))
        rc = epoll_ctl (self->epoll_fd, errno == EEXIST ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
                        fd, &event);
    if (rc == -1) {
        ovh_log_error ("epoll: cannot watch socket %d: %s", fd, strerror (errno));
        return -1;              //  curl fails the transfers on it
    }
    if (!socketp) {
        if (curl_multi_assign (shard->multi, fd, REGISTERED) != CURLM_OK) {
            (void) epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
            return -1;
        }
        self->watch_count++;
    }
    return 0;
}

static int
s_timer_cb (CURLM *multi, long timeout_ms, void *arg)
{
    (void) multi;
    shard_t *shard = (shard_t *) arg;
    shard->timer_due = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    return 0;
}

void
ovh_sender_poll_attach (shard_t *shard)
{
    curl_multi_setopt (shard->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt (shard->multi, CURLMOPT_SOCKETDATA, shard);
    curl_multi_setopt (shard->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt (shard->multi, CURLMOPT_TIMERDATA, shard);
}

int
ovh_sender_watch (ovh_sender_t *self, int epoll_fd)
{
    assert (self);
    //  Before any transfer: no socket exists yet that would be missed
    assert (self->busy == 0 && self->watch_count == 0);
    self->epoll_fd = epoll_fd;
    return 0;
}

//  The shards' timers are few (--workers / SHARD_SLOTS at most): a pass
//  over them per loop costs less than keeping them sorted
long
ovh_sender_timeout (ovh_sender_t *self, int64_t now)
{
    int64_t due = -1;
    for (size_t index = 0; index < self->shard_count; index++) {
        int64_t shard_due = self->shards [index].timer_due;
        if (shard_due >= 0 && (due < 0 || shard_due < due))
            due = shard_due;
    }
    if (due < 0)
        return -1;
    int64_t left = due - now;
    return left > 0 ? (long) left : 0;
}

void
ovh_sender_act (ovh_sender_t *self, const struct epoll_event *events, int count,
                int64_t now)
{
    //  Acting on one socket may let curl close others that are further on
    //  in 'events': curl ignores a socket it no longer knows, and a number
    //  reused at once gets a spurious action, which curl's non-blocking
    //  reads and writes take as nothing to do
    int running;
    for (int index = 0; index < count; index++) {
        uint64_t data = events [index].data.u64;
        if (data & OVH_SENDER_FOREIGN)
            continue;
        size_t shard_index = (size_t) (data >> 32);
        assert (shard_index < self->shard_count);
        shard_t *shard = &self->shards [shard_index];
        uint32_t revents = events [index].events;
        int mask = (revents & EPOLLIN ? CURL_CSELECT_IN : 0)
                 | (revents & EPOLLOUT ? CURL_CSELECT_OUT : 0)
                 | (revents & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action (shard->multi, (curl_socket_t) (uint32_t) data, mask,
                                  &running);
        shard->acted = true;
    }
    for (size_t index = 0; index < self->shard_count; index++) {
        shard_t *shard = &self->shards [index];
        if (shard->timer_due >= 0 && now >= shard->timer_due) {
            shard->timer_due = -1;
            curl_multi_socket_action (shard->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            shard->acted = true;
        }
    }
    //  Finished transfers are reported once curl is done with every shard:
    //  the done callback may start others, in any shard
    for (size_t index = 0; index < self->shard_count; index++) {
        shard_t *shard = &self->shards [index];
        if (shard->acted) {
            shard->acted = false;
            ovh_sender_collect (shard);
        }
    }
}
