/*  ovh_sender.c - POSTs events over a pool of keep-alive connections with
    libcurl's multi interface, driven by the dispatcher's zmq_poll loop.    */

#include <curl/curl.h>
#include "ovh_sender.h"
#include "ovh_retry.h"

//  Room for the signature header: "webhook-signature: " and up to 40
//  entries of "v1," + 44 base64 characters + a space
#define SIGNATURE_MAX   2048

typedef struct {
    CURL *easy;
    ovh_item_t *item;               //  NULL when the transfer is free
    int64_t started;                //  zclock_usecs at start
    char error [CURL_ERROR_SIZE];
    //  The per-attempt headers, linked in front of the shared ones: no
    //  allocation per request
    struct curl_slist nodes [3];
    char id_header [64];
    char timestamp_header [48];
    char signature_header [SIGNATURE_MAX];
} transfer_t;

struct _ovh_sender_t {
    CURLM *multi;
    struct curl_slist *headers;
    transfer_t *transfers;
    size_t transfer_count;
    size_t busy;
    size_t *idle;                   //  indexes of free transfers, a stack
    //  The poll set, kept up to date as curl asks instead of rebuilt at
    //  every loop: the caller's 'reserved' items, then the sockets curl
    //  wants watched. Each socket's place among those is stored with curl
    //  (curl_multi_assign, plus one), so that no callback searches.
    zmq_pollitem_t *polls;
    size_t reserved;
    size_t watch_count;
    size_t poll_max;                //  room in polls and ready
    zmq_pollitem_t *ready;          //  the ready sockets, copied by act
    int64_t timer_due;              //  zclock_mono ms, -1 when none
    ovh_sender_done_fn *done;
    void *done_arg;
    ovh_signer_t *signer;
    CURLU *url;                     //  the endpoint, parsed once for all transfers
    bool accept_2xx;
    char *endpoint_shown;
};

//  The body of the reply means nothing to us, but an endless one was read
//  until the timeout, then retried (a duplicate). Past 64 KiB the response
//  is complete enough (its status is known): end the transfer with
//  CURLE_WRITE_ERROR, which only this callback causes (s_finish: done).
static size_t
s_discard (char *data, size_t size, size_t nmemb, void *easy)
{
    curl_off_t received = 0;
    (void) data;
    curl_easy_getinfo ((CURL *) easy, CURLINFO_SIZE_DOWNLOAD_T, &received);
    return received > 64 * 1024 ? 0 : size * nmemb;
}

//  Room for 'count' items in the poll set (and as many ready ones)
static int
s_poll_room (ovh_sender_t *self, size_t count)
{
    if (count <= self->poll_max)
        return 0;
    size_t max = self->poll_max * 2 > count ? self->poll_max * 2 : count;
    zmq_pollitem_t *polls = (zmq_pollitem_t *) realloc (self->polls,
                                                        max * sizeof (zmq_pollitem_t));
    if (!polls)
        return -1;
    self->polls = polls;
    zmq_pollitem_t *ready = (zmq_pollitem_t *) realloc (self->ready,
                                                        max * sizeof (zmq_pollitem_t));
    if (!ready)
        return -1;
    self->ready = ready;
    self->poll_max = max;
    return 0;
}

//  The watched socket at 'index' is gone: the last one takes its place
static void
s_unwatch (ovh_sender_t *self, size_t index)
{
    assert (index < self->watch_count);
    size_t last = --self->watch_count;
    if (index == last)
        return;
    zmq_pollitem_t *moved = &self->polls [self->reserved + index];
    *moved = self->polls [self->reserved + last];
    curl_multi_assign (self->multi, moved->fd, (void *) (uintptr_t) (index + 1));
}

//  curl tells which sockets to watch for what; 'socketp' is the socket's
//  place among the watched ones plus one, NULL for a socket new to us
static int
s_socket_cb (CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
    (void) easy;
    ovh_sender_t *self = (ovh_sender_t *) arg;
    size_t place = (size_t) (uintptr_t) socketp;
    if (what == CURL_POLL_REMOVE) {
        //  curl forgets the socket's assignment itself
        if (place)
            s_unwatch (self, place - 1);
        return 0;
    }
    if (!place) {
        if (s_poll_room (self, self->reserved + self->watch_count + 1))
            return -1;          //  curl fails the transfers
        place = ++self->watch_count;
        self->polls [self->reserved + place - 1] = (zmq_pollitem_t) { NULL, fd, 0, 0 };
        if (curl_multi_assign (self->multi, fd, (void *) (uintptr_t) place) != CURLM_OK) {
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
    ovh_sender_t *self = (ovh_sender_t *) arg;
    self->timer_due = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    return 0;
}

//  The endpoint as logs may show it: user and password replaced by ****
static char *
s_endpoint_shown (const char *endpoint)
{
    char *shown = NULL;
    CURLU *url = curl_url ();
    char *user = NULL;
    if (url && curl_url_set (url, CURLUPART_URL, endpoint, 0) == CURLUE_OK
    &&  curl_url_get (url, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        curl_url_set (url, CURLUPART_USER, "****", 0);
        curl_url_set (url, CURLUPART_PASSWORD, NULL, 0);
        char *masked = NULL;
        if (curl_url_get (url, CURLUPART_URL, &masked, 0) == CURLUE_OK) {
            shown = strdup (masked);
            curl_free (masked);
        }
    }
    curl_free (user);
    curl_url_cleanup (url);
    return shown ? shown : strdup (endpoint);
}

static bool
s_has_header (zlist_t *headers, const char *name)
{
    size_t size = strlen (name);
    for (const char *header = (const char *) zlist_first (headers); header;
         header = (const char *) zlist_next (headers))
        if (strncasecmp (header, name, size) == 0 && header [size] == ':')
            return true;
    return false;
}

static int
s_build_headers (ovh_sender_t *self, ovh_config_t *config)
{
    struct curl_slist *list = NULL;
    if (!s_has_header (config->headers, "Content-Type"))
        list = curl_slist_append (list, "Content-Type: application/json");
    //  A blank Expect stops curl from waiting for 100-continue on big bodies
    struct curl_slist *added = curl_slist_append (list, "Expect:");
    for (const char *header = (const char *) zlist_first (config->headers);
         header && added; header = (const char *) zlist_next (config->headers)) {
        list = added;
        added = curl_slist_append (list, header);
    }
    if (!added) {
        curl_slist_free_all (list);
        return -1;
    }
    list = added;
    self->headers = list;
    return 0;
}

static int
s_setup_transfer (transfer_t *transfer, ovh_config_t *config, CURLU *url)
{
    CURL *easy = curl_easy_init ();
    if (!easy)
        return -1;
    transfer->easy = easy;
    int rc = 0;
    //  A parsed URL handle spares curl parsing the endpoint at every request
    rc |= curl_easy_setopt (easy, CURLOPT_CURLU, url);
    //  The endpoint is reached directly: no proxy from the environment
    //  (http_proxy & co. would silently reroute webhooks; and looking them
    //  up costs at every request)
    rc |= curl_easy_setopt (easy, CURLOPT_PROXY, "");
    rc |= curl_easy_setopt (easy, CURLOPT_POST, 1L);
    //  HTTP/1.1 always, even where ALPN offers h2: against nginx's h2,
    //  libcurl 7.88 fails a transfer whose stream the server reset after a
    //  complete 200, and the retry duplicates the event (docs/delivery.md)
    rc |= curl_easy_setopt (easy, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
    rc |= curl_easy_setopt (easy, CURLOPT_USERAGENT, "ovhook/" OVHOOK_VERSION);
    rc |= curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt (easy, CURLOPT_TCP_NODELAY, 1L);
    rc |= curl_easy_setopt (easy, CURLOPT_TCP_KEEPALIVE, 1L);
    rc |= curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT_MS, (long) config->connect_timeout_ms);
    rc |= curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, (long) config->request_timeout_ms);
    rc |= curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_discard);
    rc |= curl_easy_setopt (easy, CURLOPT_WRITEDATA, easy);
    rc |= curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, transfer->error);
    rc |= curl_easy_setopt (easy, CURLOPT_PRIVATE, transfer);
    rc |= curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
    //  Redirects are not followed, as OpenVidu: a 3xx is not a 200
    rc |= curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 0L);
    if (config->ca_file)
        rc |= curl_easy_setopt (easy, CURLOPT_CAINFO, config->ca_file);
    if (config->insecure) {
        rc |= curl_easy_setopt (easy, CURLOPT_SSL_VERIFYPEER, 0L);
        rc |= curl_easy_setopt (easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return rc == CURLE_OK ? 0 : -1;
}

ovh_sender_t *
ovh_sender_new (ovh_config_t *config, ovh_signer_t *signer,
                ovh_sender_done_fn *done, void *arg)
{
    assert (config);
    assert (done);
    ovh_sender_t *self = (ovh_sender_t *) zmalloc (sizeof (ovh_sender_t));
    if (!self)
        return NULL;
    self->done = done;
    self->done_arg = arg;
    self->signer = signer;
    self->accept_2xx = config->accept_2xx;
    self->timer_due = -1;
    self->endpoint_shown = s_endpoint_shown (config->endpoint);
    self->transfer_count = (size_t) config->workers;
    self->transfers = (transfer_t *) calloc (self->transfer_count, sizeof (transfer_t));
    self->idle = (size_t *) calloc (self->transfer_count, sizeof (size_t));
    //  Popped from the end: the first transfers go first
    for (size_t index = 0; self->idle && index < self->transfer_count; index++)
        self->idle [index] = self->transfer_count - 1 - index;
    self->multi = curl_multi_init ();
    self->url = curl_url ();
    if (self->url && curl_url_set (self->url, CURLUPART_URL, config->endpoint, 0) != CURLUE_OK) {
        zsys_error ("cannot parse the endpoint %s", self->endpoint_shown);
        ovh_sender_destroy (&self);
        return NULL;
    }
    if (!self->endpoint_shown || !self->transfers || !self->idle || !self->multi
    ||  !self->url || s_poll_room (self, self->transfer_count + 8)
    ||  s_build_headers (self, config)) {
        zsys_error ("cannot set up HTTP delivery: out of memory");
        ovh_sender_destroy (&self);
        return NULL;
    }
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
    //  One connection per transfer, kept alive between events
    curl_multi_setopt (self->multi, CURLMOPT_MAXCONNECTS, (long) self->transfer_count);
    curl_multi_setopt (self->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) self->transfer_count);
    for (size_t index = 0; index < self->transfer_count; index++)
        if (s_setup_transfer (&self->transfers [index], config, self->url)) {
            zsys_error ("cannot set up HTTP delivery to %s (libcurl refused an option)",
                        self->endpoint_shown);
            ovh_sender_destroy (&self);
            return NULL;
        }
    return self;
}

void
ovh_sender_destroy (ovh_sender_t **self_p)
{
    assert (self_p);
    ovh_sender_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; self->transfers && index < self->transfer_count; index++) {
        transfer_t *transfer = &self->transfers [index];
        if (transfer->easy) {
            if (transfer->item && self->multi)
                curl_multi_remove_handle (self->multi, transfer->easy);
            curl_easy_cleanup (transfer->easy);
        }
    }
    if (self->multi)
        curl_multi_cleanup (self->multi);
    curl_url_cleanup (self->url);
    curl_slist_free_all (self->headers);
    free (self->transfers);
    free (self->idle);
    free (self->polls);
    free (self->ready);
    free (self->endpoint_shown);
    free (self);
    *self_p = NULL;
}

size_t
ovh_sender_free (ovh_sender_t *self)
{
    return self->transfer_count - self->busy;
}

size_t
ovh_sender_busy (ovh_sender_t *self)
{
    return self->busy;
}

int
ovh_sender_start (ovh_sender_t *self, ovh_item_t *item)
{
    assert (self);
    assert (item);
    if (self->busy == self->transfer_count)
        return -1;
    //  Taken off the idle stack only once curl has it
    transfer_t *transfer = &self->transfers [self->idle [self->transfer_count - self->busy - 1]];
    assert (!transfer->item);
    //  Standard Webhooks headers, made for this attempt
    int64_t now = (int64_t) time (NULL);
    snprintf (transfer->id_header, sizeof transfer->id_header, "webhook-id: %s", item->id);
    snprintf (transfer->timestamp_header, sizeof transfer->timestamp_header,
              "webhook-timestamp: %" PRId64, now);
    transfer->nodes [0] = (struct curl_slist) { transfer->id_header, &transfer->nodes [1] };
    transfer->nodes [1] = (struct curl_slist) { transfer->timestamp_header, self->headers };
    if (self->signer) {
        static const char prefix [] = "webhook-signature: ";
        memcpy (transfer->signature_header, prefix, sizeof prefix);
        if (ovh_signer_sign (self->signer, item->id, now, item->json, item->json_size,
                             transfer->signature_header + sizeof prefix - 1,
                             sizeof transfer->signature_header - sizeof prefix + 1))
            return -1;
        transfer->nodes [1].next = &transfer->nodes [2];
        transfer->nodes [2] = (struct curl_slist) { transfer->signature_header, self->headers };
    }
    curl_easy_setopt (transfer->easy, CURLOPT_HTTPHEADER, &transfer->nodes [0]);
    curl_easy_setopt (transfer->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) item->json_size);
    curl_easy_setopt (transfer->easy, CURLOPT_POSTFIELDS, item->json);
    transfer->error [0] = 0;
    transfer->started = zclock_usecs ();
    if (curl_multi_add_handle (self->multi, transfer->easy) != CURLM_OK)
        return -1;
    transfer->item = item;
    self->busy++;
    return 0;
}

zmq_pollitem_t *
ovh_sender_pollitems (ovh_sender_t *self, int reserved, int *count)
{
    assert (reserved >= 0);
    if ((size_t) reserved != self->reserved) {
        //  Once, normally: the sockets move after the caller's items
        if (s_poll_room (self, (size_t) reserved + self->watch_count))
            return NULL;
        memmove (self->polls + reserved, self->polls + self->reserved,
                 self->watch_count * sizeof (zmq_pollitem_t));
        self->reserved = (size_t) reserved;
    }
    *count = (int) (self->reserved + self->watch_count);
    return self->polls;
}

long
ovh_sender_timeout (ovh_sender_t *self)
{
    if (self->timer_due < 0)
        return -1;
    int64_t left = self->timer_due - zclock_mono ();
    return left > 0 ? (long) left : 0;
}

static void
s_finish (ovh_sender_t *self, transfer_t *transfer, CURLcode code)
{
    if (code == CURLE_WRITE_ERROR)
        code = CURLE_OK;                //  a body cut at 64 KiB by s_discard
    ovh_result_t result = { .curl_code = (int) code, .retry_after = -1 };
    curl_easy_getinfo (transfer->easy, CURLINFO_RESPONSE_CODE, &result.status);
    //  Read from the header rather than CURLINFO_RETRY_AFTER, which gives 0
    //  ("none") for delay-seconds past INT64_MAX: those must clamp to the
    //  cap like any huge value. 0 or a past date asks for no wait: the
    //  backoff applies, or a 503 answering "Retry-After: 0" would storm
    struct curl_header *header;
    if (result.status == 429 || result.status == 503) {
        if (curl_easy_header (transfer->easy, "Retry-After", 0, CURLH_HEADER, -1,
                              &header) == CURLHE_OK) {
            int64_t seconds = ovh_retry_after_parse (header->value, (int64_t) time (NULL));
            if (seconds > 0)
                result.retry_after = seconds;
        }
    }
    result.usecs = zclock_usecs () - transfer->started;
    if (code == CURLE_OK)
        result.ok = result.status == 200
                 || (self->accept_2xx && result.status >= 200 && result.status < 300);
    else
        result.error = transfer->error [0] ? transfer->error : curl_easy_strerror (code);
    curl_multi_remove_handle (self->multi, transfer->easy);
    ovh_item_t *item = transfer->item;
    transfer->item = NULL;
    self->busy--;
    self->idle [self->transfer_count - self->busy - 1] = (size_t) (transfer - self->transfers);
    self->done (self->done_arg, item, &result);
}

static void
s_collect (ovh_sender_t *self)
{
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read (self->multi, &left))) {
        if (message->msg != CURLMSG_DONE)
            continue;
        transfer_t *transfer;
        curl_easy_getinfo (message->easy_handle, CURLINFO_PRIVATE, (char **) &transfer);
        s_finish (self, transfer, message->data.result);
    }
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
            self->ready [ready++] = *item;
            item->revents = 0;
        }
    }
    int running;
    for (size_t index = 0; index < ready; index++) {
        short revents = self->ready [index].revents;
        int mask = (revents & ZMQ_POLLIN ? CURL_CSELECT_IN : 0)
                 | (revents & ZMQ_POLLOUT ? CURL_CSELECT_OUT : 0)
                 | (revents & ZMQ_POLLERR ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action (self->multi, self->ready [index].fd, mask, &running);
    }
    if (self->timer_due >= 0 && zclock_mono () >= self->timer_due) {
        self->timer_due = -1;
        curl_multi_socket_action (self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    s_collect (self);
}

void
ovh_sender_abort (ovh_sender_t *self)
{
    for (size_t index = 0; index < self->transfer_count; index++) {
        transfer_t *transfer = &self->transfers [index];
        if (transfer->item) {
            snprintf (transfer->error, sizeof transfer->error, "aborted at shutdown");
            s_finish (self, transfer, CURLE_ABORTED_BY_CALLBACK);
        }
    }
}

const char *
ovh_sender_endpoint (ovh_sender_t *self)
{
    return self->endpoint_shown;
}
