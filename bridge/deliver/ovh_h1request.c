/*  ovh_h1request.c - the requests of the h1sender: which endpoints it
    serves, their addresses, and the bytes of each request. The URL is read
    by libcurl's parser, so that both clients take an endpoint to mean the
    same path, query, host and port.

    A request is three pieces, sent by one sendmsg: the head shared by
    every request (request line, Host, User-Agent, Accept, Content-Type and
    the configured headers, in libcurl's order), the attempt's own headers
    (webhook-id, webhook-timestamp, webhook-signature, Content-Length), and
    the body, the item's JSON, never copied.                                 */

#include <arpa/inet.h>
#include <netdb.h>
#include <curl/curl.h>
#include "ovh_h1sender_private.h"
#include "ovh_jsonwrite.h"

static bool
s_header_is (const char *header, const char *name)
{
    size_t size = strlen (name);
    return strncasecmp (header, name, size) == 0 && header [size] == ':';
}

//  A configured header with nothing after its colon: libcurl takes it to
//  mean "do not send this header" (and removes its own of that name)
static bool
s_header_blank (const char *header)
{
    const char *colon = strchr (header, ':');
    return !colon || colon [1 + strspn (colon + 1, " \t")] == '\0';
}

//  The host's addresses: a numeric one, or localhost's from the system's
//  hosts file; no name goes to DNS, which could block the loop
static int
s_addresses (ovh_h1sender_t *self, const char *host, char *reason, size_t reason_size)
{
    char bare [256];
    size_t size = strlen (host);
    if (size >= sizeof bare) {
        snprintf (reason, reason_size, "its host name is long");
        return -1;
    }
    //  libcurl gives an IPv6 literal in brackets
    if (size > 2 && host [0] == '[' && host [size - 1] == ']') {
        memcpy (bare, host + 1, size - 2);
        bare [size - 2] = 0;
    }
    else
        memcpy (bare, host, size + 1);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP,
                              .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
    if (strcasecmp (bare, "localhost") == 0)
        hints.ai_flags = AI_NUMERICSERV;
    char port [8];
    snprintf (port, sizeof port, "%u", self->port);
    struct addrinfo *found = NULL;
    if (getaddrinfo (bare, port, &hints, &found) != 0 || !found) {
        snprintf (reason, reason_size, "its host is a name to resolve");
        return -1;
    }
    for (struct addrinfo *address = found; address && self->address_count < ADDRESS_MAX;
         address = address->ai_next)
        if (address->ai_addrlen <= sizeof self->addresses [0]) {
            memcpy (&self->addresses [self->address_count], address->ai_addr,
                    address->ai_addrlen);
            self->address_sizes [self->address_count++] = address->ai_addrlen;
        }
    freeaddrinfo (found);
    return self->address_count > 0 ? 0 : -1;
}

//  Why the configuration is not for this client, or 0 if it is
static int
s_eligible (ovh_config_t *config, CURLU *url, char *reason, size_t reason_size)
{
    char *scheme = NULL, *user = NULL;
    int rc = -1;
    if (config->http_libcurl)
        snprintf (reason, reason_size, "OVHOOK_HTTP_LIBCURL is on");
    else
    if (config->http_version == OVH_HTTP_2)
        snprintf (reason, reason_size, "--http-version 2 is libcurl's");
    else
    if (curl_url_get (url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
    ||  strcasecmp (scheme, "http") != 0)
        snprintf (reason, reason_size, "https is libcurl's");
    else
    if (curl_url_get (url, CURLUPART_USER, &user, 0) == CURLUE_OK)
        snprintf (reason, reason_size, "the URL holds credentials");
    else
        rc = 0;
    for (const char *header = (const char *) zlist_first (config->headers);
         rc == 0 && header; header = (const char *) zlist_next (config->headers))
        if (s_header_blank (header)) {
            snprintf (reason, reason_size, "a configured header has no value");
            rc = -1;
        }
    curl_free (scheme);
    curl_free (user);
    return rc;
}

//  The request line's target and the Host header's value, as libcurl
//  writes them: the port only when it is not 80
static int
s_target (ovh_h1sender_t *self, CURLU *url, char **target, char **host_header, char **host)
{
    char *path = NULL, *query = NULL, *port = NULL;
    int rc = -1;
    if (curl_url_get (url, CURLUPART_HOST, host, 0) == CURLUE_OK
    &&  curl_url_get (url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK
    &&  curl_url_get (url, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        curl_url_get (url, CURLUPART_QUERY, &query, 0);
        self->port = (unsigned) atoi (port);
        *target = query ? zsys_sprintf ("%s?%s", path, query) : strdup (path);
        *host_header = self->port == 80 ? strdup (*host)
                                        : zsys_sprintf ("%s:%u", *host, self->port);
        rc = *target && *host_header ? 0 : -1;
    }
    curl_free (path);
    curl_free (query);
    curl_free (port);
    return rc;
}

static int
s_write_head (ovh_h1sender_t *self, ovh_config_t *config, const char *target,
              const char *host_header)
{
    bool agent = true, accept = true, type = true;
    size_t size = strlen (target) + strlen (host_header) + 128;
    for (const char *header = (const char *) zlist_first (config->headers); header;
         header = (const char *) zlist_next (config->headers)) {
        agent = agent && !s_header_is (header, "User-Agent");
        accept = accept && !s_header_is (header, "Accept");
        type = type && !s_header_is (header, "Content-Type");
        size += strlen (header) + 2;
    }
    self->head = (char *) malloc (size);
    if (!self->head)
        return -1;
    int used = snprintf (self->head, size, "POST %s HTTP/1.1\r\nHost: %s\r\n%s%s%s", target,
                         host_header, agent ? "User-Agent: ovhook/" OVHOOK_VERSION "\r\n" : "",
                         accept ? "Accept: */*\r\n" : "",
                         type ? "Content-Type: application/json\r\n" : "");
    assert (used > 0 && (size_t) used < size);
    self->head_size = (size_t) used;
    for (const char *header = (const char *) zlist_first (config->headers); header;
         header = (const char *) zlist_next (config->headers)) {
        size_t length = strlen (header);
        memcpy (self->head + self->head_size, header, length);
        memcpy (self->head + self->head_size + length, "\r\n", 2);
        self->head_size += length + 2;
    }
    assert (self->head_size < size);
    return 0;
}

int
ovh_h1request_setup (ovh_h1sender_t *self, ovh_config_t *config, char *reason,
                     size_t reason_size)
{
    CURLU *url = curl_url ();
    char *target = NULL, *host_header = NULL, *host = NULL;
    int rc = -1;
    if (!url)
        snprintf (reason, reason_size, "out of memory");
    else
    if (curl_url_set (url, CURLUPART_URL, config->endpoint, 0) != CURLUE_OK)
        snprintf (reason, reason_size, "libcurl cannot parse the endpoint");
    else
    if (s_eligible (config, url, reason, reason_size) == 0) {
        if (s_target (self, url, &target, &host_header, &host))
            snprintf (reason, reason_size, "out of memory");
        else {
            snprintf (self->host, sizeof self->host, "%s", host);
            if (s_addresses (self, host, reason, reason_size) == 0) {
                rc = s_write_head (self, config, target, host_header);
                if (rc)
                    snprintf (reason, reason_size, "out of memory");
            }
        }
    }
    free (target);
    free (host_header);
    curl_free (host);
    curl_url_cleanup (url);
    return rc;
}

#define PUT(at, literal) ovh_json_put ((at), (literal), sizeof (literal) - 1)

//  By hand rather than by snprintf, which cost more than the rest of the
//  request together (callgrind)
int
ovh_h1request_attempt (ovh_h1sender_t *self, conn_t *conn, ovh_item_t *item)
{
    int64_t now = (int64_t) time (NULL);
    char *at = conn->attempt;
    char *end = conn->attempt + sizeof conn->attempt;
    at = PUT (at, "webhook-id: ");
    at = ovh_json_put (at, item->id, strlen (item->id));
    at = PUT (at, "\r\nwebhook-timestamp: ");
    at = ovh_json_utoa (at, (uint64_t) now);
    at = PUT (at, "\r\n");
    if (self->signer) {
        at = PUT (at, "webhook-signature: ");
        //  Leaves room for the line's end and Content-Length
        if (ovh_signer_sign (self->signer, item->id, now, item->json, item->json_size,
                             at, (size_t) (end - at) - 64))
            return -1;
        at += strlen (at);
        at = PUT (at, "\r\n");
    }
    at = PUT (at, "Content-Length: ");
    at = ovh_json_utoa (at, (uint64_t) item->json_size);
    at = PUT (at, "\r\n\r\n");
    assert (at < end);
    conn->attempt_size = (size_t) (at - conn->attempt);
    return 0;
}
