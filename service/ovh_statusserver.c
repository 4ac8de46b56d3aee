/*  ovh_statusserver.c - /metrics, /healthz and /readyz on libmicrohttpd.

    The socket is ours (bound in _new, handed to MHD with
    MHD_OPTION_LISTEN_SOCKET): that way a bad or busy address is an error
    with its reason before the program announces it is up, and the
    address bound is exactly the one given (no wildcard, no dual stack).   */

#include <netdb.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <jansson.h>
#include <czmq.h>
#include "ovh_statusserver.h"

#define MAX_CHECKS      8
//  A scraper that connects and says nothing must not hold a connection
#define IDLE_TIMEOUT    10
#define MAX_CONNECTIONS 16

struct _ovh_statusserver_t {
    char *address;
    int socket;                     //  -1 once MHD owns it
    ovh_metrics_t *metrics;
    struct MHD_Daemon *daemon;
    struct {
        const char *name;
        ovh_statusserver_check_fn *fn;
        void *arg;
    } checks [MAX_CHECKS];
    size_t check_count;
};

//  Split "host:port" / "[v6]:port" into its parts; 0 or -1 with a reason
static int
s_split (const char *address, char *host, size_t host_size, int *port,
         char *reason, size_t size)
{
    const char *colon = strrchr (address, ':');
    const char *start = address, *end = colon;
    if (*address == '[') {
        const char *close = strchr (address, ']');
        if (!close || close [1] != ':') {
            snprintf (reason, size, "an IPv6 address is written [ADDR]:PORT");
            return -1;
        }
        start = address + 1;
        end = close;
        colon = close + 1;
    }
    if (!colon || end == start) {
        snprintf (reason, size, "is not ADDR:PORT (e.g. 127.0.0.1:9464)");
        return -1;
    }
    size_t length = (size_t) (end - start);
    if (length >= host_size || (*address != '[' && memchr (start, ':', length))) {
        snprintf (reason, size, "the address part is too long, or an IPv6 address "
                  "without brackets");
        return -1;
    }
    char *tail;
    errno = 0;
    long number = strtol (colon + 1, &tail, 10);
    if (!isdigit ((unsigned char) colon [1]) || *tail || errno || number < 1 || number > 65535) {
        snprintf (reason, size, "the port must be a number from 1 to 65535");
        return -1;
    }
    memcpy (host, start, (size_t) (end - start));
    host [end - start] = 0;
    *port = (int) number;
    return 0;
}

int
ovh_statusserver_check_address (const char *address, char *reason, size_t size)
{
    assert (address && reason);
    char host [256];
    int port;
    return s_split (address, host, sizeof host, &port, reason, size);
}

//  A socket bound to exactly 'address', listening; -1 with the reason
static int
s_listen (const char *address, char *error, size_t size)
{
    char host [256], reason [200];
    int port;
    if (s_split (address, host, sizeof host, &port, reason, sizeof reason)) {
        snprintf (error, size, "cannot listen on '%s': %s", address, reason);
        return -1;
    }
    char service [8];
    snprintf (service, sizeof service, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV }, *found = NULL;
    int rc = getaddrinfo (host, service, &hints, &found);
    if (rc) {
        snprintf (error, size, "cannot listen on '%s': %s", address, gai_strerror (rc));
        return -1;
    }
    int fd = socket (found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd >= 0)
        setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (fd >= 0 && found->ai_family == AF_INET6)
        setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (fd < 0 || bind (fd, found->ai_addr, found->ai_addrlen) || listen (fd, 16)) {
        snprintf (error, size, "cannot listen on '%s': %s", address, strerror (errno));
        if (fd >= 0)
            close (fd);
        fd = -1;
    }
    freeaddrinfo (found);
    return fd;
}

ovh_statusserver_t *
ovh_statusserver_new (const char *address, ovh_metrics_t *metrics, char *error, size_t size)
{
    assert (address && error);
    int fd = s_listen (address, error, size);
    if (fd < 0)
        return NULL;
    ovh_statusserver_t *self = (ovh_statusserver_t *) zmalloc (sizeof (ovh_statusserver_t));
    if (self)
        self->address = strdup (address);
    if (!self || !self->address) {
        close (fd);
        free (self);
        snprintf (error, size, "cannot listen on '%s': out of memory", address);
        return NULL;
    }
    self->socket = fd;
    self->metrics = metrics;
    return self;
}

void
ovh_statusserver_destroy (ovh_statusserver_t **self_p)
{
    assert (self_p);
    ovh_statusserver_t *self = *self_p;
    if (!self)
        return;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);     //  closes the socket it was given
    else
    if (self->socket >= 0)
        close (self->socket);
    free (self->address);
    free (self);
    *self_p = NULL;
}

void
ovh_statusserver_check (ovh_statusserver_t *self, const char *name,
                        ovh_statusserver_check_fn *check, void *arg)
{
    assert (self && name && check);
    assert (!self->daemon && self->check_count < MAX_CHECKS);
    self->checks [self->check_count].name = name;
    self->checks [self->check_count].fn = check;
    self->checks [self->check_count++].arg = arg;
}

const char *
ovh_statusserver_address (ovh_statusserver_t *self)
{
    assert (self);
    return self->address;
}

//  ---------------------------------------------------------------------
//  Serving

static enum MHD_Result
s_reply (struct MHD_Connection *connection, unsigned int status, const char *type,
         char *body, size_t size)
{
    //  'body' is malloc'ed; MHD frees it
    struct MHD_Response *response = body
        ? MHD_create_response_from_buffer (size, body, MHD_RESPMEM_MUST_FREE)
        : MHD_create_response_from_buffer (0, (void *) "", MHD_RESPMEM_PERSISTENT);
    if (!response) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

static enum MHD_Result
s_text (struct MHD_Connection *connection, unsigned int status, const char *text)
{
    return s_reply (connection, status, "text/plain; charset=utf-8", strdup (text),
                    strlen (text));
}

//  {"status": "ready"|"not ready", "checks": {name: "ok"|reason},
//   "failing": [names]}
static enum MHD_Result
s_readyz (ovh_statusserver_t *self, struct MHD_Connection *connection)
{
    json_t *checks = json_object (), *failing = json_array ();
    for (size_t index = 0; index < self->check_count; index++) {
        char reason [256] = "";
        bool ready = self->checks [index].fn (self->checks [index].arg, reason, sizeof reason);
        json_object_set_new (checks, self->checks [index].name,
                             json_string (ready ? "ok" : *reason ? reason : "failing"));
        if (!ready)
            json_array_append_new (failing, json_string (self->checks [index].name));
    }
    bool ready = json_array_size (failing) == 0;
    json_t *body = json_pack ("{s:s, s:o, s:o}", "status", ready ? "ready" : "not ready",
                              "checks", checks, "failing", failing);
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    json_decref (body);
    if (!text)
        return s_text (connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    //  json_dumps allocates with malloc (the default allocator): MHD frees it
    size_t size = strlen (text);
    text = (char *) realloc (text, size + 2);
    strcpy (text + size, "\n");
    return s_reply (connection, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                    "application/json", text, size + 1);
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size,
          void **request)
{
    (void) version;
    (void) upload_data;
    (void) request;
    ovh_statusserver_t *self = (ovh_statusserver_t *) cls;
    bool known = streq (url, "/healthz") || streq (url, "/readyz")
              || (self->metrics && streq (url, "/metrics"));
    if (!known)
        return s_text (connection, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /healthz "
                       "or /readyz\n");
    if (!streq (method, MHD_HTTP_METHOD_GET) && !streq (method, MHD_HTTP_METHOD_HEAD)) {
        *upload_data_size = 0;          //  whatever body came is not read
        return s_text (connection, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    if (streq (url, "/healthz"))
        return s_text (connection, MHD_HTTP_OK, "ok\n");
    if (streq (url, "/readyz"))
        return s_readyz (self, connection);
    size_t size = 0;
    char *text = ovh_metrics_text (self->metrics, &size);
    if (!text)
        return s_text (connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    return s_reply (connection, MHD_HTTP_OK, OVH_METRICS_CONTENT_TYPE, text, size);
}

int
ovh_statusserver_start (ovh_statusserver_t *self, char *error, size_t size)
{
    assert (self && error);
    assert (!self->daemon);
    self->daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                                     s_handle, self,
                                     MHD_OPTION_LISTEN_SOCKET, self->socket,
                                     MHD_OPTION_CONNECTION_LIMIT, (unsigned int) MAX_CONNECTIONS,
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) IDLE_TIMEOUT,
                                     MHD_OPTION_END);
    if (!self->daemon) {
        snprintf (error, size, "cannot serve on '%s': libmicrohttpd would not start",
                  self->address);
        return -1;
    }
    self->socket = -1;
    return 0;
}
