/*  bench_receiver.c - latency receiver for the bridge benchmark
    (tests/bench/bench_bridge.sh).

    bench_receiver --port-file PATH [--expect N] [--timeout SECS]

    A minimal HTTP/1.1 keep-alive server on 127.0.0.1 (a free port, written
    to PATH once listening) that answers every request "200 OK" with an empty
    body. For each request it takes the arrival time (CLOCK_REALTIME, when
    the last byte of the request has been read) and reads from the JSON body
    the properties bench_publish adds: "t_us" (publish time) and "n" (publish
    index), and "sessionId". Latency = arrival - t_us. A request whose n is
    not above the last n seen for its session is an order violation.

    It stops after N requests (--expect), on SIGINT/SIGTERM, or when nothing
    has arrived for --timeout seconds (default 30), and prints one line:
      received=C p50_us=.. p90_us=.. p99_us=.. p999_us=.. max_us=..
      order_violations=V sessions=S unparsed=U first_us=.. last_us=..
      over_2ms=K
    (first_us and last_us: arrival times of the first and last request;
    over_2ms: how many arrived more than 2 ms after their publish, to tell
    one stall that delayed many events from many slow events).
    Written in C (one thread, epoll, no copies beyond the read buffer) so
    that the receiver's own cost stays small next to the bridge's at 10,000
    events per second on a 2-core machine.                                   */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define MAX_EVENTS      64
#define INITIAL_BUFFER  4096

typedef struct _conn_t conn_t;
struct _conn_t {
    int fd;
    char *data;
    size_t size;
    size_t alloc;
    conn_t *prev, *next;            //  open connections, freed at exit
};

static conn_t *s_conns = NULL;

static void
s_close (int epoll, conn_t *conn)
{
    epoll_ctl (epoll, EPOLL_CTL_DEL, conn->fd, NULL);
    close (conn->fd);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        s_conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    free (conn->data);
    free (conn);
}

static volatile sig_atomic_t s_interrupted = 0;

static void
s_signal (int signum)
{
    (void) signum;
    s_interrupted = 1;
}

typedef struct {
    int64_t *latencies;
    size_t count;
    size_t alloc;
    int64_t *last_n;            //  per session index, -1 before any
    size_t sessions;
    uint64_t violations;
    uint64_t unparsed;
    int64_t first_us;           //  arrival of the first and last request
    int64_t last_us;
} stats_t;

static int64_t
s_realtime_usecs (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  Integer value of "name": in body, or -1 if absent
static int64_t
s_json_int (const char *body, size_t size, const char *name)
{
    const char *found = memmem (body, size, name, strlen (name));
    if (!found)
        return -1;
    return strtoll (found + strlen (name), NULL, 10);
}

static void
s_record (stats_t *stats, const char *body, size_t size, int64_t arrived)
{
    int64_t t_us = s_json_int (body, size, "\"t_us\":");
    int64_t n = s_json_int (body, size, "\"n\":");
    int64_t session = s_json_int (body, size, "\"sessionId\":\"ses_bench_");
    if (!stats->first_us)
        stats->first_us = arrived;
    stats->last_us = arrived;
    if (t_us < 0 || n < 0 || session < 0) {
        stats->unparsed++;
        return;
    }
    if (stats->count == stats->alloc) {
        stats->alloc = stats->alloc ? stats->alloc * 2 : 65536;
        stats->latencies = realloc (stats->latencies, stats->alloc * sizeof (int64_t));
        if (!stats->latencies)
            abort ();
    }
    stats->latencies [stats->count++] = arrived - t_us;
    if ((size_t) session >= stats->sessions) {
        size_t sessions = (size_t) session + 1024;
        stats->last_n = realloc (stats->last_n, sessions * sizeof (int64_t));
        if (!stats->last_n)
            abort ();
        for (size_t index = stats->sessions; index < sessions; index++)
            stats->last_n [index] = -1;
        stats->sessions = sessions;
    }
    if (n <= stats->last_n [session])
        stats->violations++;
    else
        stats->last_n [session] = n;
}

//  Content-Length of the head [data, data + head), 0 if none
static size_t
s_content_length (const char *data, size_t head)
{
    const char *line = data;
    const char *end = data + head;
    while (line < end) {
        const char *next = memmem (line, (size_t) (end - line), "\r\n", 2);
        if (!next)
            break;
        if ((size_t) (next - line) > 15 && strncasecmp (line, "Content-Length:", 15) == 0)
            return (size_t) strtoull (line + 15, NULL, 10);
        line = next + 2;
    }
    return 0;
}

static const char s_reply [] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

//  Handle every complete request in the buffer. Returns -1 to close.
static int
s_handle (conn_t *conn, stats_t *stats, int64_t arrived)
{
    size_t used = 0;
    while (true) {
        char *start = conn->data + used;
        size_t left = conn->size - used;
        char *blank = memmem (start, left, "\r\n\r\n", 4);
        if (!blank)
            break;
        size_t head = (size_t) (blank - start) + 4;
        size_t length = s_content_length (start, head);
        if (left < head + length)
            break;
        s_record (stats, start + head, length, arrived);
        //  A short blocking-free write: the reply fits any empty socket buffer
        if (write (conn->fd, s_reply, sizeof s_reply - 1) != (ssize_t) sizeof s_reply - 1)
            return -1;
        used += head + length;
    }
    memmove (conn->data, conn->data + used, conn->size - used);
    conn->size -= used;
    return 0;
}

static int
s_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

static int64_t
s_percentile (const stats_t *stats, double fraction)
{
    if (!stats->count)
        return 0;
    size_t index = (size_t) (fraction * (double) (stats->count - 1) + 0.5);
    return stats->latencies [index];
}

int
main (int argc, char *argv [])
{
    const char *port_file = NULL;
    uint64_t expect = 0;
    int timeout_secs = 30;
    for (int arg = 1; arg + 1 < argc; arg += 2) {
        if (strcmp (argv [arg], "--port-file") == 0)
            port_file = argv [arg + 1];
        else
        if (strcmp (argv [arg], "--expect") == 0)
            expect = strtoull (argv [arg + 1], NULL, 10);
        else
        if (strcmp (argv [arg], "--timeout") == 0)
            timeout_secs = atoi (argv [arg + 1]);
    }
    if (!port_file || argc % 2 == 0) {
        fprintf (stderr, "usage: bench_receiver --port-file PATH [--expect N] [--timeout SECS]\n");
        return 2;
    }
    signal (SIGINT, s_signal);
    signal (SIGTERM, s_signal);
    signal (SIGPIPE, SIG_IGN);

    int listener = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t address_size = sizeof address;
    if (listener < 0
    ||  bind (listener, (struct sockaddr *) &address, sizeof address)
    ||  listen (listener, 256)
    ||  getsockname (listener, (struct sockaddr *) &address, &address_size)) {
        perror ("bench_receiver: listen");
        return 2;
    }
    int epoll = epoll_create1 (EPOLL_CLOEXEC);
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl (epoll, EPOLL_CTL_ADD, listener, &event);
    //  Written only now that connections are accepted
    char temp [4096];
    snprintf (temp, sizeof temp, "%s.tmp", port_file);
    FILE *file = fopen (temp, "w");
    if (!file || fprintf (file, "%d\n", ntohs (address.sin_port)) < 0
    ||  fclose (file) || rename (temp, port_file)) {
        perror ("bench_receiver: port file");
        return 2;
    }

    stats_t stats = { 0 };
    int64_t last_activity = s_realtime_usecs ();
    struct epoll_event events [MAX_EVENTS];
    while (!s_interrupted && (expect == 0 || stats.count + stats.unparsed < expect)) {
        int ready = epoll_wait (epoll, events, MAX_EVENTS, 200);
        int64_t now = s_realtime_usecs ();
        if (ready <= 0) {
            if (now - last_activity > (int64_t) timeout_secs * 1000000)
                break;
            continue;
        }
        last_activity = now;
        for (int index = 0; index < ready; index++) {
            conn_t *conn = (conn_t *) events [index].data.ptr;
            if (!conn) {
                int fd;
                while ((fd = accept4 (listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    int one = 1;
                    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn = calloc (1, sizeof *conn);
                    if (!conn)
                        abort ();
                    conn->fd = fd;
                    conn->next = s_conns;
                    if (s_conns)
                        s_conns->prev = conn;
                    s_conns = conn;
                    conn->alloc = INITIAL_BUFFER;
                    conn->data = malloc (conn->alloc);
                    if (!conn->data)
                        abort ();
                    struct epoll_event add = { .events = EPOLLIN, .data.ptr = conn };
                    epoll_ctl (epoll, EPOLL_CTL_ADD, fd, &add);
                }
                continue;
            }
            bool close_it = false;
            while (true) {
                if (conn->alloc - conn->size < 1024) {
                    conn->alloc *= 2;
                    conn->data = realloc (conn->data, conn->alloc);
                    if (!conn->data)
                        abort ();
                }
                ssize_t got = read (conn->fd, conn->data + conn->size, conn->alloc - conn->size);
                if (got > 0) {
                    conn->size += (size_t) got;
                    if (s_handle (conn, &stats, s_realtime_usecs ())) {
                        close_it = true;
                        break;
                    }
                    continue;
                }
                if (got == 0 || (errno != EAGAIN && errno != EINTR))
                    close_it = true;
                if (got < 0 && errno == EINTR)
                    continue;
                break;
            }
            if (close_it)
                s_close (epoll, conn);
        }
    }
    qsort (stats.latencies, stats.count, sizeof (int64_t), s_compare);
    size_t sessions = 0;
    for (size_t index = 0; index < stats.sessions; index++)
        sessions += stats.last_n [index] >= 0;
    size_t over_2ms = 0;
    while (over_2ms < stats.count && stats.latencies [stats.count - 1 - over_2ms] > 2000)
        over_2ms++;
    printf ("received=%zu p50_us=%" PRId64 " p90_us=%" PRId64 " p99_us=%" PRId64
            " p999_us=%" PRId64 " max_us=%" PRId64 " order_violations=%" PRIu64
            " sessions=%zu unparsed=%" PRIu64 " first_us=%" PRId64 " last_us=%" PRId64
            " over_2ms=%zu\n",
            stats.count, s_percentile (&stats, 0.50), s_percentile (&stats, 0.90),
            s_percentile (&stats, 0.99), s_percentile (&stats, 0.999),
            stats.count ? stats.latencies [stats.count - 1] : 0, stats.violations,
            sessions, stats.unparsed, stats.first_us, stats.last_us, over_2ms);
    while (s_conns)
        s_close (epoll, s_conns);
    free (stats.latencies);
    free (stats.last_n);
    close (epoll);
    close (listener);
    return 0;
}
