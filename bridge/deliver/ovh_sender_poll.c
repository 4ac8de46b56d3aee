/*  ovh_sender_poll.c - curl's sockets in the dispatcher's epoll set, and
    the shards' timers: one set and one timeout for the dispatcher, whatever
    the number of shards, each socket acted on through the multi that
    watches it.

    The set is changed one socket at a time as curl asks (CURLMOPT_
    SOCKETFUNCTION), never rebuilt: with --workers 1024 a poll() over every
    socket at every loop cost the kernel 8% of the bridge's samples, and
    each wait now costs what the ready sockets cost. Level-triggered, as
    curl does not promise to read a socket dry.

    Per socket, a record indexed by its descriptor says how it is
    registered, so that a change that changes nothing costs no call, and
    an event finds its shard and state in O(1).                             */

#include "ovh_log.h"
#include "ovh_sender_private.h"

//  Room in the record for descriptor 'fd'. 0 or -1.
static int
s_fd_room (ovh_sender_t *self, curl_socket_t fd)
{
    if (fd < 0)
        return -1;
    if ((size_t) fd < self->fd_room)
        return 0;
    size_t room = self->fd_room ? self->fd_room : 256;
    while (room <= (size_t) fd)
        room *= 2;
    watch_t *fds = (watch_t *) realloc (self->fds, room * sizeof (watch_t));
    if (!fds)
        return -1;
    memset (fds + self->fd_room, 0, (room - self->fd_room) * sizeof (watch_t));
    self->fds = fds;
    self->fd_room = room;
    return 0;
}

//  One epoll_ctl; when the set disagrees with the record (a descriptor
//  closed behind it, or a registration left over), the other operation
static int
s_register (ovh_sender_t *self, curl_socket_t fd, int op, struct epoll_event *event)
{
    int rc = epoll_ctl (self->epoll_fd, op, fd, event);
    if (rc == -1 && (errno == EEXIST || errno == ENOENT))
        rc = epoll_ctl (self->epoll_fd, errno == EEXIST ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
                        fd, event);
    return rc;
}

//  curl tells which sockets to watch for what. A socket curl no longer
//  watches is "parked", not taken out of the set: curl removes a keep-alive
//  connection's socket when a transfer ends and adds it again when the
//  next one starts on it, and an epoll_ctl each way cost 5% of the
//  bridge's samples at full speed. A parked socket that gets an event
//  (the endpoint closed it) is taken out then; its close comes through
//  s_close_cb, so the record never outlives the descriptor.
static int
s_socket_cb (CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
    (void) easy;
    (void) socketp;
    shard_t *shard = (shard_t *) arg;
    ovh_sender_t *self = shard->sender;
    if (self->closing || self->epoll_fd < 0)
        return 0;               //  the set is going away, or not there yet
    if (s_fd_room (self, fd)) {
        ovh_log_error ("epoll: no room to watch socket %d", fd);
        return -1;              //  curl fails the transfers on it
    }
    watch_t *watch = &self->fds [fd];
    if (what == CURL_POLL_REMOVE) {
        if (watch->state == WATCH_CURL) {
            watch->state = WATCH_PARKED;
            self->watch_count--;
        }
        return 0;
    }
    struct epoll_event event = {
        .events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u),
        .data.u64 = (uint64_t) (shard - self->shards) << 32 | (uint32_t) fd
    };
    if (watch->state != WATCH_NONE && watch->events == event.events
    &&  watch->data == event.data.u64)
        ;                       //  registered as wanted already: no call
    else
    if (s_register (self, fd, watch->state == WATCH_NONE ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
                    &event) == -1) {
        ovh_log_error ("epoll: cannot watch socket %d: %s", fd, strerror (errno));
        return -1;
    }
    if (watch->state != WATCH_CURL)
        self->watch_count++;
    *watch = (watch_t) { event.data.u64, event.events, WATCH_CURL };
    return 0;
}

//  curl closes a socket: the kernel takes it out of the set (curl never
//  duplicates its sockets), and so does the record
static int
s_close_cb (void *arg, curl_socket_t fd)
{
    ovh_sender_t *self = (ovh_sender_t *) arg;
    if (fd >= 0 && (size_t) fd < self->fd_room) {
        if (self->fds [fd].state == WATCH_CURL)
            self->watch_count--;
        self->fds [fd].state = WATCH_NONE;
    }
    return close (fd);
}

int
ovh_sender_poll_attach_easy (transfer_t *transfer)
{
    int rc = curl_easy_setopt (transfer->easy, CURLOPT_CLOSESOCKETFUNCTION, s_close_cb);
    rc |= curl_easy_setopt (transfer->easy, CURLOPT_CLOSESOCKETDATA, transfer->shard->sender);
    return rc == CURLE_OK ? 0 : -1;
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
    //  in 'events': the record says so; a number reused at once for the
    //  same shard gets a spurious action, which curl's non-blocking reads
    //  and writes take as nothing to do
    int running;
    for (int index = 0; index < count; index++) {
        uint64_t data = events [index].data.u64;
        if (data & OVH_SENDER_FOREIGN)
            continue;
        curl_socket_t fd = (curl_socket_t) (uint32_t) data;
        watch_t *watch = (size_t) fd < self->fd_room ? &self->fds [fd] : NULL;
        if (!watch || watch->state == WATCH_NONE || watch->data != data)
            continue;           //  closed, or reused, since the wait read it
        if (watch->state == WATCH_PARKED) {
            //  An idle connection the endpoint closed or wrote to: out of
            //  the set, or it would fire at every wait; curl finds it dead
            //  when it looks for a connection to reuse
            watch->state = WATCH_NONE;
            if (epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, fd, NULL) == -1 && errno != ENOENT)
                ovh_log_warning ("epoll: cannot unwatch socket %d: %s", fd, strerror (errno));
            continue;
        }
        size_t shard_index = (size_t) (data >> 32);
        assert (shard_index < self->shard_count);
        shard_t *shard = &self->shards [shard_index];
        uint32_t revents = events [index].events;
        int mask = (revents & EPOLLIN ? CURL_CSELECT_IN : 0)
                 | (revents & EPOLLOUT ? CURL_CSELECT_OUT : 0)
                 | (revents & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action (shard->multi, fd, mask, &running);
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
