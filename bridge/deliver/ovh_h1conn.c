/*  ovh_h1conn.c - the sockets of the h1sender's connections: connecting
    (each of the host's addresses in turn), writing a request, reading the
    response, and what a socket event means in each state. A request costs
    one sendmsg and, as a rule, one recv: the socket stays registered for
    input the whole time it is open (an idle one too, which is how a close
    by the endpoint is seen), so a request's start and end change nothing
    in the epoll set; only a socket being connected, or a request the
    kernel did not take whole, is also watched for output.                   */

#include <netinet/tcp.h>
#include <sys/uio.h>
#include <curl/curl.h>
#include "ovh_h1sender_private.h"

//  --- sockets ------------------------------------------------------------

//  What an epoll event carries: the connection, and which of its sockets
//  (an event read before a close may come after the number's reuse)
uint64_t
ovh_h1conn_tag (ovh_h1sender_t *self, conn_t *conn)
{
    return (uint64_t) (conn->generation & 0x7fffffffu) << 32
         | (uint64_t) (conn - self->conns);
}

int
ovh_h1conn_watch (ovh_h1sender_t *self, conn_t *conn, uint32_t events)
{
    if (conn->watched == events)
        return 0;
    struct epoll_event event = { .events = events, .data.u64 = ovh_h1conn_tag (self, conn) };
    if (epoll_ctl (self->epoll_fd, conn->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, conn->fd,
                   &event) == -1)
        return -1;
    conn->watched = events;
    return 0;
}

void
ovh_h1conn_close (conn_t *conn)
{
    if (conn->fd >= 0)
        close (conn->fd);           //  which takes it out of the epoll set
    conn->fd = -1;
    conn->watched = 0;
    conn->state = CONN_CLOSED;
    conn->served = 0;
}

//  A reused connection that had not answered a byte of this request: the
//  endpoint closed it while it was idle, and the request may go again on
//  a fresh one, once (as libcurl does)
static bool
s_stale (conn_t *conn)
{
    return !conn->fresh && !conn->resent && conn->received == 0;
}

static void
s_resend (ovh_h1sender_t *self, conn_t *conn)
{
    conn->resent = true;
    self->resends++;
    ovh_h1conn_close (conn);
    conn->written = 0;
    ovh_h1conn_open (self, conn);
}

//  A socket failed under a request: sent again if the connection was
//  stale, else the attempt fails with libcurl's words
static void
s_broken (ovh_h1sender_t *self, conn_t *conn, int code, const char *what, int error)
{
    if (s_stale (conn))
        s_resend (self, conn);
    else
        ovh_h1sender_fail (self, conn, code, "%s: %s", what, strerror (error));
}

void
ovh_h1conn_send (ovh_h1sender_t *self, conn_t *conn)
{
    struct iovec pieces [3] = {
        { self->head, self->head_size },
        { conn->attempt, conn->attempt_size },
        { conn->item->json, conn->item->json_size }
    };
    size_t total = self->head_size + conn->attempt_size + conn->item->json_size;
    //  Past what earlier writes took
    size_t skip = conn->written;
    int first = 0;
    while (skip >= pieces [first].iov_len) {
        skip -= pieces [first].iov_len;
        first++;
    }
    pieces [first].iov_base = (char *) pieces [first].iov_base + skip;
    pieces [first].iov_len -= skip;
    struct msghdr message = { .msg_iov = pieces + first, .msg_iovlen = (size_t) (3 - first) };
    ssize_t sent = sendmsg (conn->fd, &message, MSG_NOSIGNAL);
    if (sent == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        s_broken (self, conn, CURLE_SEND_ERROR, "Send failure", errno);
        return;
    }
    if (sent > 0)
        conn->written += (size_t) sent;
    conn->state = conn->written == total ? CONN_WAITING : CONN_SENDING;
    if (ovh_h1conn_watch (self, conn, conn->state == CONN_WAITING ? EPOLLIN : EPOLLIN | EPOLLOUT))
        ovh_h1sender_fail (self, conn, CURLE_OUT_OF_MEMORY, "cannot watch the connection: %s",
                strerror (errno));
}

//  Connects to the next address to try; on success the request follows
void
ovh_h1conn_open (ovh_h1sender_t *self, conn_t *conn)
{
    int error = 0;
    for (; conn->address < self->address_count; conn->address++) {
        const struct sockaddr *address
            = (const struct sockaddr *) &self->addresses [conn->address];
        int fd = socket (address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                         IPPROTO_TCP);
        if (fd == -1) {
            error = errno;
            break;
        }
        int on = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        setsockopt (fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
        int rc = connect (fd, address, self->address_sizes [conn->address]);
        if (rc == 0 || errno == EINPROGRESS) {
            conn->fd = fd;
            conn->generation++;
            conn->fresh = true;
            if (rc == 0) {
                ovh_h1conn_send (self, conn);
                return;
            }
            conn->state = CONN_CONNECTING;
            conn->connect_due = zclock_mono () + self->connect_timeout_ms;
            if (ovh_h1conn_watch (self, conn, EPOLLOUT)) {
                ovh_h1sender_fail (self, conn, CURLE_OUT_OF_MEMORY, "cannot watch the connection: %s",
                        strerror (errno));
                return;
            }
            ovh_h1sender_list_append (&self->connecting, conn);
            return;
        }
        error = errno;
        close (fd);
    }
    ovh_h1sender_fail (self, conn, CURLE_COULDNT_CONNECT, "Failed to connect to %s port %u after %"
            PRId64 " ms: %s", self->host, self->port,
            (zclock_usecs () - conn->started_us) / 1000, strerror (error));
}

//  --- socket events ------------------------------------------------------

static void
s_connected (ovh_h1sender_t *self, conn_t *conn, uint32_t events)
{
    int error = 0;
    socklen_t size = sizeof error;
    if (getsockopt (conn->fd, SOL_SOCKET, SO_ERROR, &error, &size) == -1)
        error = errno;
    if (error == 0 && !(events & EPOLLOUT))
        return;                     //  not yet
    ovh_h1sender_list_remove (&self->connecting, conn);
    if (error) {
        //  The next address, if any: s_open fails the attempt after the last
        ovh_h1conn_close (conn);
        conn->address++;
        if (conn->address >= self->address_count) {
            ovh_h1sender_fail (self, conn, CURLE_COULDNT_CONNECT, "Failed to connect to %s port %u after %"
                    PRId64 " ms: %s", self->host, self->port,
                    (zclock_usecs () - conn->started_us) / 1000, strerror (error));
            return;
        }
        ovh_h1conn_open (self, conn);
        return;
    }
    ovh_h1conn_send (self, conn);
}

static void
s_receive (ovh_h1sender_t *self, conn_t *conn)
{
    ssize_t size = recv (conn->fd, self->input, sizeof self->input, 0);
    if (size == -1) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            s_broken (self, conn, CURLE_RECV_ERROR, "Recv failure", errno);
        return;
    }
    if (size == 0 && s_stale (conn)) {
        s_resend (self, conn);
        return;
    }
    if (ovh_h1response_read (conn, self->input, (size_t) size)) {
        ovh_h1sender_end (self, conn);         //  conn->code and error say why
        return;
    }
    if (conn->complete) {
        //  An answer before the whole request went (a 413, say): the
        //  connection is out of step, not reused
        if (conn->state == CONN_SENDING) {
            conn->keep = false;
            conn->state = CONN_WAITING;
        }
        ovh_h1sender_end (self, conn);
    }
}

void
ovh_h1conn_event (ovh_h1sender_t *self, conn_t *conn, uint32_t events)
{
    switch (conn->state) {
        case CONN_IDLE:
            //  The endpoint closed an idle connection, or wrote to it
            //  unasked: either way it carries no more requests
            ovh_h1conn_close (conn);
            break;
        case CONN_CONNECTING:
            s_connected (self, conn, events);
            break;
        case CONN_SENDING:
            if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                s_receive (self, conn);
            if (conn->state == CONN_SENDING && (events & EPOLLOUT))
                ovh_h1conn_send (self, conn);
            break;
        case CONN_WAITING:
            s_receive (self, conn);
            break;
        default:
            break;
    }
}
