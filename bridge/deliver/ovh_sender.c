/*  ovh_sender.c - POSTs events over a pool of keep-alive connections with
    libcurl's multi interface, driven by the dispatcher's epoll loop: sets
    up the shards and their transfers, starts and finishes transfers (the
    epoll registrations and timers are in ovh_sender_poll.c).                     */

#include "ovh_log.h"
#include "ovh_sender_private.h"
#include "ovh_retry.h"

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
s_setup_transfer (ovh_sender_t *self, transfer_t *transfer, ovh_config_t *config, CURLU *url)
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
    //  1.1, h2 or h2c as OVHOOK_HTTP_VERSION says (ovh_sender_http.c)
    if (ovh_sender_http_easy (self, easy))
        return -1;
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

//  The shard goes to the front of the list of shards with a free transfer
static void
s_list_first (ovh_sender_t *self, shard_t *shard)
{
    if (self->free_first == shard)
        return;
    if (shard->listed) {
        shard->prev->next = shard->next;
        if (shard->next)
            shard->next->prev = shard->prev;
    }
    shard->prev = NULL;
    shard->next = self->free_first;
    if (shard->next)
        shard->next->prev = shard;
    self->free_first = shard;
    shard->listed = true;
}

//  The shard has no free transfer left: off the list
static void
s_list_remove (ovh_sender_t *self, shard_t *shard)
{
    assert (shard->listed);
    if (shard->prev)
        shard->prev->next = shard->next;
    else
        self->free_first = shard->next;
    if (shard->next)
        shard->next->prev = shard->prev;
    shard->prev = shard->next = NULL;
    shard->listed = false;
}

//  Splits the transfers into shards of at most SHARD_SLOTS, as even as
//  can be, each with its multi handle and its own stack of idle transfers
static int
s_setup_shards (ovh_sender_t *self)
{
    self->shard_count = (self->transfer_count + SHARD_SLOTS - 1) / SHARD_SLOTS;
    self->shards = (shard_t *) calloc (self->shard_count, sizeof (shard_t));
    if (!self->shards)
        return -1;
    size_t first = 0;
    //  Listed last to first, so that the first shard is at the front
    for (size_t index = self->shard_count; index-- > 0;) {
        shard_t *shard = &self->shards [index];
        shard->sender = self;
        shard->timer_due = -1;
        shard->transfer_count = self->transfer_count / self->shard_count
                              + (index < self->transfer_count % self->shard_count);
        shard->idle = (size_t *) calloc (shard->transfer_count, sizeof (size_t));
        shard->multi = curl_multi_init ();
        if (!shard->idle || !shard->multi)
            return -1;
        s_list_first (self, shard);
    }
    for (size_t index = 0; index < self->shard_count; index++) {
        shard_t *shard = &self->shards [index];
        shard->transfers = self->transfers + first;
        first += shard->transfer_count;
        //  Popped from the end: the first transfers go first
        for (size_t slot = 0; slot < shard->transfer_count; slot++) {
            shard->idle [slot] = shard->transfer_count - 1 - slot;
            shard->transfers [slot].shard = shard;
        }
        ovh_sender_poll_attach (shard);
        //  Connections per shard, and h2 multiplexing (ovh_sender_http.c)
        if (ovh_sender_http_multi (self, shard))
            return -1;
    }
    return 0;
}

ovh_sender_t *
ovh_sender_new (ovh_config_t *config, ovh_signer_t *signer,
                ovh_sender_done_fn *done, void *arg)
{
    assert (config);
    assert (done);
    assert (config->workers > 0);
    ovh_sender_t *self = (ovh_sender_t *) zmalloc (sizeof (ovh_sender_t));
    if (!self)
        return NULL;
    self->done = done;
    self->done_arg = arg;
    self->signer = signer;
    self->accept_2xx = config->accept_2xx;
    self->epoll_fd = -1;
    self->endpoint_shown = ovh_config_format_url (config->endpoint);
    self->transfer_count = (size_t) config->workers;
    self->transfers = (transfer_t *) calloc (self->transfer_count, sizeof (transfer_t));
    self->url = curl_url ();
    if (self->url && curl_url_set (self->url, CURLUPART_URL, config->endpoint, 0) != CURLUE_OK) {
        ovh_log_error ("cannot parse the endpoint %s", self->endpoint_shown);
        ovh_sender_destroy (&self);
        return NULL;
    }
    if (!self->endpoint_shown || !self->transfers || !self->url
    ||  ovh_sender_http_setup (self, config)
    ||  s_setup_shards (self)
    ||  s_build_headers (self, config)) {
        ovh_log_error ("cannot set up HTTP delivery: out of memory");
        ovh_sender_destroy (&self);
        return NULL;
    }
    for (size_t index = 0; index < self->transfer_count; index++)
        if (s_setup_transfer (self, &self->transfers [index], config, self->url)
        ||  ovh_sender_poll_attach_easy (&self->transfers [index])) {
            ovh_log_error ("cannot set up HTTP delivery to %s (libcurl refused an option)",
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
    //  Closing the connections makes curl report their sockets gone: the
    //  epoll set may be closed already (closing a socket takes it out)
    self->closing = true;
    for (size_t index = 0; self->transfers && index < self->transfer_count; index++) {
        transfer_t *transfer = &self->transfers [index];
        if (transfer->easy) {
            if (transfer->item)
                curl_multi_remove_handle (transfer->shard->multi, transfer->easy);
            curl_easy_cleanup (transfer->easy);
        }
    }
    for (size_t index = 0; self->shards && index < self->shard_count; index++) {
        shard_t *shard = &self->shards [index];
        if (shard->multi)
            curl_multi_cleanup (shard->multi);
        free (shard->idle);
    }
    free (self->fds);
    curl_url_cleanup (self->url);
    curl_slist_free_all (self->headers);
    free (self->shards);
    free (self->transfers);
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
    //  The shard that most recently finished a transfer, whose connection
    //  waits idle; then the others in the order they finished
    shard_t *shard = self->free_first;
    if (!shard)
        return -1;
    assert (shard->busy < shard->transfer_count);
    //  Taken off the idle stack only once curl has it
    transfer_t *transfer
        = &shard->transfers [shard->idle [shard->transfer_count - shard->busy - 1]];
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
    transfer->resent = 0;
    transfer->started = zclock_usecs ();
    if (curl_multi_add_handle (shard->multi, transfer->easy) != CURLM_OK)
        return -1;
    transfer->item = item;
    self->busy++;
    if (++shard->busy == shard->transfer_count)
        s_list_remove (self, shard);
    return 0;
}

static void
s_finish (ovh_sender_t *self, transfer_t *transfer, CURLcode code)
{
    //  A request libcurl should have sent again itself (ovh_sender_http.c)
    if (ovh_sender_http_resend (self, transfer, code))
        return;
    if (code == CURLE_WRITE_ERROR)
        code = CURLE_OK;                //  a body cut at 64 KiB by s_discard
    ovh_result_t result = { .curl_code = (int) code, .retry_after = -1 };
    curl_easy_getinfo (transfer->easy, CURLINFO_RESPONSE_CODE, &result.status);
    //  An h2 answer the server followed by a stream reset (ovh_sender_http.c)
    code = ovh_sender_http_settle (self, transfer, code, result.status);
    result.curl_code = (int) code;
    //  Read from the header rather than CURLINFO_RETRY_AFTER, which gives 0
    //  ("none") for delay-seconds past INT64_MAX: those must clamp to the
    //  cap like any huge value. 0 or a past date asks for no wait: the
    //  backoff applies, or a 503 answering "Retry-After: 0" would storm
    struct curl_header *header;
    if (result.status == 429 || result.status == 503) {
        if (curl_easy_header (transfer->easy, "Retry-After", 0, CURLH_HEADER, -1,
                              &header) == CURLHE_OK) {
            int64_t seconds = ovh_retry_after_read (header->value, (int64_t) time (NULL));
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
    shard_t *shard = transfer->shard;
    curl_multi_remove_handle (shard->multi, transfer->easy);
    ovh_item_t *item = transfer->item;
    transfer->item = NULL;
    self->busy--;
    shard->busy--;
    shard->idle [shard->transfer_count - shard->busy - 1]
        = (size_t) (transfer - shard->transfers);
    s_list_first (self, shard);
    self->done (self->done_arg, item, &result);
}

void
ovh_sender_collect (shard_t *shard)
{
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read (shard->multi, &left))) {
        if (message->msg != CURLMSG_DONE)
            continue;
        transfer_t *transfer;
        curl_easy_getinfo (message->easy_handle, CURLINFO_PRIVATE, (char **) &transfer);
        s_finish (shard->sender, transfer, message->data.result);
    }
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
