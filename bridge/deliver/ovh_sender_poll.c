/*  ovh_sender_poll.c - the sender's poll set and timers: one poll set and
    one timeout for the dispatcher, whatever the number of shards, each
    socket acted on through the multi that watches it.                      */

#include "ovh_sender_private.h"

int
ovh_sender_poll_room (ovh_sender_t *self, size_t count)
{
    if (count <= self->poll_max)
        return 0;
    size_t max = self->poll_max * 2 > count ? self->poll_max * 2 : count;
    zmq_pollitem_t *polls = (zmq_pollitem_t *) realloc (self->polls,
                                                        max * sizeof (zmq_pollitem_t));
    if (!polls)
        return -1;
    self->polls = polls;
    shard_t **owners = (shard_t **) realloc (self->owners, max * sizeof (shard_t *));
    if (!owners)
        return -1;
    self->owners = owners;
    ready_t *ready = (ready_t *) realloc (self->ready, max * sizeof (ready_t));
    if (!ready)
        return -1;
    self->ready = ready;
    self->poll_max = max;
    return 0;
}

//  The watched socket at 'index' is gone: the last one takes its place,
//  and its own multi learns where it went
static void
s_unwatch (ovh_sender_t *self, size_t index)
{
    assert (index < self->watch_count);
    size_t last = --self->watch_count;
    if (index == last)
        return;
    zmq_pollitem_t *moved = &self->polls [self->reserved + index];
    *moved = self->polls [self->reserved + last];
    self->owners [index] = self->owners [last];
    curl_multi_assign (self->owners [index]->multi, moved->fd,
                       (void *) (uintptr_t) (index + 1));
}

//  curl tells which sockets to watch for what; 'socketp' is the socket's
//  place among the watched ones plus one, NULL for a socket new to us
static int
s_socket_cb (CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
    (void) easy;
    shard_t *shard = (shard_t *) arg;
    ovh_sender_t *self = shard->sender;
    if (self->closing)
        return 0;               //  the poll set is going away with it
    size_t place = (size_t) (uintptr_t) socketp;
    if (what == CURL_POLL_REMOVE) {
        //  curl forgets the socket's assignment itself
        if (place)
            s_unwatch (self, place - 1);
        return 0;
    }
    if (!place) {
        if (ovh_sender_poll_room (self, self->reserved + self->watch_count + 1))
            return -1;          //  curl fails the transfers
        place = ++self->watch_count;
        self->polls [self->reserved + place - 1] = (zmq_pollitem_t) { NULL, fd, 0, 0 };
        self->owners [place - 1] = shard;
        if (curl_multi_assign (shard->multi, fd, (void *) (uintptr_t) place) != CURLM_OK) {
            self->watch_count--;
            return -1;
        }
    }
    self->polls [self->reserved + place - 1].events
        = (short) ((what & CURL_POLL_IN ? ZMQ_POLLIN : 0)
                 | (what & CURL_POLL_OUT ? ZMQ_POLLOUT : 0));
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

zmq_pollitem_t *
ovh_sender_pollitems (ovh_sender_t *self, int reserved, int *count)
{
    assert (reserved >= 0);
    if ((size_t) reserved != self->reserved) {
        //  Once, normally: the sockets move after the caller's items
        if (ovh_sender_poll_room (self, (size_t) reserved + self->watch_count))
            return NULL;
        memmove (self->polls + reserved, self->polls + self->reserved,
                 self->watch_count * sizeof (zmq_pollitem_t));
        self->reserved = (size_t) reserved;
    }
    *count = (int) (self->reserved + self->watch_count);
    return self->polls;
}

//  The shards' timers are few (--workers / SHARD_SLOTS at most): a pass
//  over them per loop costs less than keeping them sorted
long
ovh_sender_timeout (ovh_sender_t *self)
{
    int64_t due = -1;
    for (size_t index = 0; index < self->shard_count; index++) {
        int64_t shard_due = self->shards [index].timer_due;
        if (shard_due >= 0 && (due < 0 || shard_due < due))
            due = shard_due;
    }
    if (due < 0)
        return -1;
    int64_t left = due - zclock_mono ();
    return left > 0 ? (long) left : 0;
}

void
ovh_sender_act (ovh_sender_t *self)
{
    //  The ready sockets are copied first: acting on one may let curl
    //  close or open others, which moves items within the poll set
    size_t ready = 0;
    for (size_t index = 0; index < self->watch_count; index++) {
        zmq_pollitem_t *item = &self->polls [self->reserved + index];
        if (item->revents) {
            self->ready [ready++] = (ready_t) { item->fd, item->revents, self->owners [index] };
            item->revents = 0;
        }
    }
    int running;
    for (size_t index = 0; index < ready; index++) {
        short revents = self->ready [index].revents;
        int mask = (revents & ZMQ_POLLIN ? CURL_CSELECT_IN : 0)
                 | (revents & ZMQ_POLLOUT ? CURL_CSELECT_OUT : 0)
                 | (revents & ZMQ_POLLERR ? CURL_CSELECT_ERR : 0);
        shard_t *shard = self->ready [index].shard;
        curl_multi_socket_action (shard->multi, self->ready [index].fd, mask, &running);
        shard->acted = true;
    }
    int64_t now = -1;               //  read once, only if a timer is set
    for (size_t index = 0; index < self->shard_count; index++) {
        shard_t *shard = &self->shards [index];
        if (shard->timer_due < 0)
            continue;
        if (now < 0)
            now = zclock_mono ();
        if (now >= shard->timer_due) {
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
