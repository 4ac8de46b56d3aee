/*  ovh_h1sender.c - the h1sender class: its connections' lists, the
    start and the end of an attempt, deadlines, and the table the
    dispatcher drives it through (the sockets are ovh_h1conn.c's).

    Attempts that fail before any I/O (a refused connect) are not reported
    from ovh_h1sender_start, whose caller does not expect its done callback
    there: they wait in a list the next act reports, and the timeout says
    0 meanwhile. The deadlines need no heap: every request has the same
    timeout and every connect the same one, so the busy list (in start
    order) and the connecting list (in connect order) are each sorted by
    deadline, and their heads are the next to expire.                       */

#include <stddef.h>
#include <curl/curl.h>
#include "ovh_log.h"
#include "ovh_retry.h"
#include "ovh_h1sender_private.h"

//  --- lists --------------------------------------------------------------

static conn_link_t *
s_link (conn_list_t *list, conn_t *conn)
{
    return (conn_link_t *) ((char *) conn + list->offset);
}

void
ovh_h1sender_list_append (conn_list_t *list, conn_t *conn)
{
    conn_link_t *link = s_link (list, conn);
    assert (!link->listed);
    link->prev = list->last;
    link->next = NULL;
    if (list->last)
        s_link (list, list->last)->next = conn;
    else
        list->first = conn;
    list->last = conn;
    link->listed = true;
}

void
ovh_h1sender_list_remove (conn_list_t *list, conn_t *conn)
{
    conn_link_t *link = s_link (list, conn);
    if (!link->listed)
        return;
    if (link->prev)
        s_link (list, link->prev)->next = link->next;
    else
        list->first = link->next;
    if (link->next)
        s_link (list, link->next)->prev = link->prev;
    else
        list->last = link->prev;
    link->prev = link->next = NULL;
    link->listed = false;
}

//  --- the end of an attempt ----------------------------------------------

static void
s_report (ovh_h1sender_t *self, conn_t *conn)
{
    ovh_result_t result = { .curl_code = conn->code, .retry_after = -1,
                            .usecs = zclock_usecs () - conn->started_us };
    //  Copied: the done callback may start the next attempt on this one
    char error [sizeof conn->error];
    if (conn->code) {
        memcpy (error, conn->error, sizeof error);
        result.error = error;
    }
    else {
        result.status = (long) conn->parser.status_code;
        result.ok = result.status == 200
                 || (self->accept_2xx && result.status >= 200 && result.status < 300);
        if (conn->retry_after_size > 0) {
            int64_t seconds = ovh_retry_after_read (conn->retry_after, (int64_t) time (NULL));
            if (seconds > 0)
                result.retry_after = seconds;
        }
    }
    ovh_item_t *item = conn->item;
    conn->item = NULL;
    self->free [self->conn_count - self->busy] = (size_t) (conn - self->conns);
    self->busy--;
    self->done (self->done_arg, item, &result);
}

//  The attempt is over (conn->code says how): off the lists; the socket
//  kept for the next request only after a whole response that allows it
void
ovh_h1sender_end (ovh_h1sender_t *self, conn_t *conn)
{
    ovh_h1sender_list_remove (&self->in_flight, conn);
    ovh_h1sender_list_remove (&self->connecting, conn);
    if (conn->code == 0 && conn->keep && conn->state == CONN_WAITING) {
        conn->state = CONN_IDLE;
        conn->served++;
        if (conn->watched != EPOLLIN && ovh_h1conn_watch (self, conn, EPOLLIN))
            ovh_h1conn_close (conn);
    }
    else
        ovh_h1conn_close (conn);
    if (self->starting) {
        conn->finished_next = self->finished;
        self->finished = conn;
    }
    else
        s_report (self, conn);
}

void
ovh_h1sender_fail (ovh_h1sender_t *self, conn_t *conn, int code, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (conn->error, sizeof conn->error, format, args);
    va_end (args);
    conn->code = code;
    ovh_h1sender_end (self, conn);
}

//  A socket failed under a request: on a reused connection that had not
//  answered a byte, the endpoint closed it while idle and the request
//  goes again on a fresh one, once (as libcurl does); else the attempt
//  fails

//  --- the class ----------------------------------------------------------

bool
ovh_h1sender_serves (ovh_config_t *config, char *reason, size_t reason_size)
{
    ovh_h1sender_t *probe = (ovh_h1sender_t *) zmalloc (sizeof (ovh_h1sender_t));
    if (!probe) {
        snprintf (reason, reason_size, "out of memory");
        return false;
    }
    int rc = ovh_h1request_setup (probe, config, reason, reason_size);
    free (probe->head);
    free (probe);
    return rc == 0;
}

static void s_destroy (ovh_h1sender_t **self_p);

static ovh_h1sender_t *
s_new (ovh_config_t *config, ovh_signer_t *signer, ovh_sender_done_fn *done, void *arg)
{
    assert (config);
    assert (done);
    assert (config->workers > 0);
    ovh_h1sender_t *self = (ovh_h1sender_t *) zmalloc (sizeof (ovh_h1sender_t));
    if (!self)
        return NULL;
    self->done = done;
    self->done_arg = arg;
    self->signer = signer;
    self->accept_2xx = config->accept_2xx;
    self->connect_timeout_ms = config->connect_timeout_ms;
    self->request_timeout_ms = config->request_timeout_ms;
    self->epoll_fd = -1;
    self->endpoint_shown = ovh_config_format_url (config->endpoint);
    self->conn_count = (size_t) config->workers;
    self->conns = (conn_t *) calloc (self->conn_count, sizeof (conn_t));
    self->free = (size_t *) calloc (self->conn_count, sizeof (size_t));
    self->in_flight.offset = offsetof (conn_t, in_flight_link);
    self->connecting.offset = offsetof (conn_t, connecting_link);
    char reason [160] = "out of memory";
    if (!self->endpoint_shown || !self->conns || !self->free
    ||  ovh_h1request_setup (self, config, reason, sizeof reason)) {
        ovh_log_error ("cannot set up HTTP delivery to %s: %s",
                       self->endpoint_shown ? self->endpoint_shown : "the endpoint", reason);
        s_destroy (&self);
        return NULL;
    }
    http_parser_set_max_header_size (HEADERS_MAX);
    //  Popped from the end: the first connections go first
    for (size_t index = 0; index < self->conn_count; index++) {
        self->conns [index].sender = self;
        self->conns [index].fd = -1;
        self->free [index] = self->conn_count - 1 - index;
    }
    return self;
}

static void
s_destroy (ovh_h1sender_t **self_p)
{
    assert (self_p);
    ovh_h1sender_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; self->conns && index < self->conn_count; index++)
        ovh_h1conn_close (&self->conns [index]);
    free (self->conns);
    free (self->free);
    free (self->head);
    free (self->endpoint_shown);
    free (self);
    *self_p = NULL;
}

static int
s_start (ovh_h1sender_t *self, ovh_item_t *item)
{
    assert (item);
    if (self->busy == self->conn_count)
        return -1;
    conn_t *conn = &self->conns [self->free [self->conn_count - self->busy - 1]];
    assert (!conn->item);
    if (ovh_h1request_attempt (self, conn, item))
        return -1;
    self->busy++;
    conn->item = item;
    conn->code = 0;
    conn->error [0] = 0;
    conn->written = 0;
    conn->resent = false;
    conn->address = 0;
    conn->started_us = zclock_usecs ();
    conn->due = zclock_mono () + self->request_timeout_ms;
    ovh_h1response_reset (conn);
    ovh_h1sender_list_append (&self->in_flight, conn);
    //  Failures here wait for the next act (s_end)
    self->starting = true;
    if (conn->state == CONN_IDLE) {
        conn->fresh = false;
        ovh_h1conn_send (self, conn);
    }
    else
        ovh_h1conn_open (self, conn);
    self->starting = false;
    return 0;
}

static void
s_report_finished (ovh_h1sender_t *self)
{
    while (self->finished) {
        conn_t *conn = self->finished;
        self->finished = conn->finished_next;
        conn->finished_next = NULL;
        s_report (self, conn);
    }
}

static void
s_act (ovh_h1sender_t *self, const struct epoll_event *events, int count, int64_t now)
{
    s_report_finished (self);
    for (int index = 0; index < count; index++) {
        uint64_t data = events [index].data.u64;
        if (data & OVH_SENDER_FOREIGN)
            continue;
        size_t slot = (size_t) (uint32_t) data;
        assert (slot < self->conn_count);
        conn_t *conn = &self->conns [slot];
        if (conn->fd == -1 || ovh_h1conn_tag (self, conn) != data)
            continue;               //  closed, or reopened, since the wait read it
        ovh_h1conn_event (self, conn, events [index].events);
    }
    //  Deadlines: only the heads can be due
    while (self->connecting.first && now >= self->connecting.first->connect_due) {
        conn_t *conn = self->connecting.first;
        ovh_h1sender_fail (self, conn, CURLE_OPERATION_TIMEDOUT, "Connection timed out after %d "
                "milliseconds", self->connect_timeout_ms);
    }
    while (self->in_flight.first && now >= self->in_flight.first->due) {
        conn_t *conn = self->in_flight.first;
        ovh_h1sender_fail (self, conn, CURLE_OPERATION_TIMEDOUT, "Operation timed out after %d "
                "milliseconds with %zu bytes received", self->request_timeout_ms,
                conn->received);
    }
    s_report_finished (self);
}

static long
s_timeout (ovh_h1sender_t *self, int64_t now)
{
    if (self->finished)
        return 0;
    int64_t due = -1;
    if (self->in_flight.first)
        due = self->in_flight.first->due;
    if (self->connecting.first && (due < 0 || self->connecting.first->connect_due < due))
        due = self->connecting.first->connect_due;
    if (due < 0)
        return -1;
    return due > now ? (long) (due - now) : 0;
}

static void
s_abort (ovh_h1sender_t *self)
{
    s_report_finished (self);
    while (self->in_flight.first)
        ovh_h1sender_fail (self, self->in_flight.first, CURLE_ABORTED_BY_CALLBACK, "aborted at shutdown");
}

//  --- the table, in ovh_sender_t's clothes ------------------------------

static ovh_sender_t *
s_class_new (ovh_config_t *config, ovh_signer_t *signer, ovh_sender_done_fn *done, void *arg)
{
    return (ovh_sender_t *) s_new (config, signer, done, arg);
}

static void
s_class_destroy (ovh_sender_t **self_p)
{
    s_destroy ((ovh_h1sender_t **) self_p);
}

static size_t
s_class_free (ovh_sender_t *self)
{
    return ((ovh_h1sender_t *) self)->conn_count - ((ovh_h1sender_t *) self)->busy;
}

static size_t
s_class_busy (ovh_sender_t *self)
{
    return ((ovh_h1sender_t *) self)->busy;
}

static int
s_class_start (ovh_sender_t *self, ovh_item_t *item)
{
    return s_start ((ovh_h1sender_t *) self, item);
}

static int
s_class_watch (ovh_sender_t *self, int epoll_fd)
{
    ((ovh_h1sender_t *) self)->epoll_fd = epoll_fd;
    return 0;
}

static long
s_class_timeout (ovh_sender_t *self, int64_t now)
{
    return s_timeout ((ovh_h1sender_t *) self, now);
}

static void
s_class_act (ovh_sender_t *self, const struct epoll_event *events, int count, int64_t now)
{
    s_act ((ovh_h1sender_t *) self, events, count, now);
}

static void
s_class_abort (ovh_sender_t *self)
{
    s_abort ((ovh_h1sender_t *) self);
}

static const char *
s_class_endpoint (ovh_sender_t *self)
{
    return ((ovh_h1sender_t *) self)->endpoint_shown;
}

static const ovh_sender_class_t s_class = {
    .new = s_class_new, .destroy = s_class_destroy, .free = s_class_free,
    .busy = s_class_busy, .start = s_class_start, .watch = s_class_watch,
    .timeout = s_class_timeout, .act = s_class_act, .abort = s_class_abort,
    .endpoint = s_class_endpoint
};

const ovh_sender_class_t *
ovh_h1sender_class (void)
{
    return &s_class;
}
