/*  ovh_sender_http.c - the HTTP version of the sender's requests
    (OVHOOK_HTTP_VERSION): which one curl asks for, multiplexing on the
    shards' multi handles when it is h2, and how a transfer that ended with
    an HTTP/2 stream error is judged.

    1.1     HTTP/1.1 always, over TLS too: one request per connection at
            a time, --workers connections.
    2       over https, h2 offered by ALPN (with http/1.1 as fallback, if
            the endpoint has no h2); over http, h2c with prior knowledge
            (no Upgrade: the endpoint must speak h2c), a connection per
            request with libcurl before 8.0 (below).
    auto    h2 if the https endpoint offers it by ALPN, HTTP/1.1 otherwise
            and always over http.

    With h2, the transfers of a shard share its connections: up to
    SHARD_SLOTS streams on one, so that the default 32 workers use a
    single connection, and the whole request goes out in one write.

    HTTP/2 lets a server answer before it has read the request body and
    then end the stream with RST_STREAM (NO_ERROR) (RFC 9113, 8.1): nginx
    does it for `return 200`. libcurl 7.88 reports such a transfer as
    CURLE_HTTP2_STREAM although the whole response came, and a retry
    would deliver the event twice. A final status received over h2 is the
    endpoint's answer, whatever became of the stream after it: it is
    judged like any other response. A stream the server refused or never
    processed (REFUSED_STREAM, or beyond a GOAWAY's last stream id) has no
    status; libcurl sends those again itself on a fresh connection, and
    when its miscount makes it give up, the sender does (resend, below).
    Measured against nginx 1.22: docs/delivery.md, "HTTP version".         */

#include "ovh_log.h"
#include "ovh_sender_private.h"

int
ovh_sender_http_setup (ovh_sender_t *self, ovh_config_t *config)
{
    char *scheme = NULL;
    if (curl_url_get (self->url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
        return -1;
    bool tls = strcasecmp (scheme, "https") == 0;
    curl_free (scheme);
    switch (config->http_version) {
        case OVH_HTTP_2:
            //  2_0 over TLS offers h2 and http/1.1 by ALPN; over plain
            //  http it would try an Upgrade, which a POST cannot carry
            //  (curl sends the body as HTTP/1.1): prior knowledge instead
            self->curl_version = tls? CURL_HTTP_VERSION_2_0
                                    : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
            self->multiplex = true;
            //  Before 8.0, libcurl fails every request on a reused
            //  prior-knowledge connection, "Error in the HTTP2 framing
            //  layer" (curl issue 10634, fixed in 8.0.0): h2c then opens
            //  a connection per request, correct but slower than 1.1
            if (!tls && curl_version_info (CURLVERSION_NOW)->version_num < 0x080000) {
                self->multiplex = false;
                self->h2c_fresh = true;
                ovh_log_warning ("--http-version 2 over http (h2c) with libcurl %s: one "
                                 "connection per request, as libcurl before 8.0 cannot reuse "
                                 "an h2c connection (curl issue 10634); 1.1 keeps "
                                 "connections alive", curl_version_info (CURLVERSION_NOW)->version);
            }
            break;
        case OVH_HTTP_AUTO:
            self->curl_version = CURL_HTTP_VERSION_2TLS;
            self->multiplex = tls;
            break;
        default:
            self->curl_version = CURL_HTTP_VERSION_1_1;
            self->multiplex = false;
    }
    return 0;
}

int
ovh_sender_http_easy (ovh_sender_t *self, CURL *easy)
{
    int rc = 0;
    rc |= curl_easy_setopt (easy, CURLOPT_HTTP_VERSION, self->curl_version);
    //  With h2, transfers started together wait for the first connection
    //  to say whether it multiplexes, rather than each opening its own
    rc |= curl_easy_setopt (easy, CURLOPT_PIPEWAIT, self->multiplex? 1L: 0L);
    rc |= curl_easy_setopt (easy, CURLOPT_FORBID_REUSE, self->h2c_fresh? 1L: 0L);
    return rc == CURLE_OK? 0: -1;
}

int
ovh_sender_http_multi (ovh_sender_t *self, shard_t *shard)
{
    long count = (long) shard->transfer_count;
    int rc = 0;
    rc |= curl_multi_setopt (shard->multi, CURLMOPT_PIPELINING,
                             self->multiplex? (long) CURLPIPE_MULTIPLEX: (long) CURLPIPE_NOTHING);
    //  HTTP/1.1: one connection per transfer, kept alive between events.
    //  h2: every transfer of the shard may be a stream of one connection;
    //  curl opens another only if the server allows fewer streams (its
    //  SETTINGS_MAX_CONCURRENT_STREAMS), never more than one per transfer
    rc |= curl_multi_setopt (shard->multi, CURLMOPT_MAXCONNECTS, count);
    rc |= curl_multi_setopt (shard->multi, CURLMOPT_MAX_HOST_CONNECTIONS, count);
    if (self->multiplex)
        rc |= curl_multi_setopt (shard->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, count);
    return rc == CURLM_OK? 0: -1;
}

//  The errors that can follow a final status when the server ends an h2
//  stream or connection early: the stream reset after the answer
//  (CURLE_HTTP2_STREAM), the connection closed after a GOAWAY before curl
//  saw the stream's end (CURLE_PARTIAL_FILE, _SEND_ERROR, _RECV_ERROR,
//  _HTTP2), and libcurl 7.88 never waking the transfer whose stream closed
//  while another one was being read (CURLE_OPERATION_TIMEDOUT, after the
//  answer came)
static bool
s_after_answer (CURLcode code)
{
    return code == CURLE_HTTP2_STREAM || code == CURLE_HTTP2 || code == CURLE_PARTIAL_FILE
        || code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR
        || code == CURLE_OPERATION_TIMEDOUT;
}

CURLcode
ovh_sender_http_settle (ovh_sender_t *self, transfer_t *transfer, CURLcode code, long status)
{
    if (!self->multiplex || status < 200 || !s_after_answer (code))
        return code;
    long version = 0;
    curl_easy_getinfo (transfer->easy, CURLINFO_HTTP_VERSION, &version);
    if (version != CURL_HTTP_VERSION_2_0)
        return code;
    //  Said once: the endpoint may want to read bodies before answering
    if (self->stream_cuts++ == 0)
        ovh_log_info ("%s answered %ld over HTTP/2, then the stream failed (%s): the "
                      "answer counts; said once", self->endpoint_shown, status,
                      transfer->error [0]? transfer->error: curl_easy_strerror (code));
    return CURLE_OK;
}

bool
ovh_sender_http_resend (ovh_sender_t *self, transfer_t *transfer, CURLcode code)
{
    //  libcurl sends a request again by itself, up to 5 times, when the
    //  server refused its stream (REFUSED_STREAM, or beyond a GOAWAY's last
    //  stream id: not processed, RFC 9113 6.8) or when a reused connection
    //  died before any byte of an answer. libcurl 7.88 counts those
    //  retries per easy handle, never per request (fixed upstream in
    //  October 2025, curl PR 19066): every GOAWAY (nginx's after 1,000 requests on a
    //  connection) adds to a handle's count, and its sixth retry, maybe
    //  hours later, fails "Connection died, tried 5 times before giving
    //  up", the count then cleared. That request is one libcurl would
    //  have sent again: so does the sender, at once, as the same attempt,
    //  a few times at most.
    //  The text is libcurl's; the code is CURLE_SEND_ERROR, or
    //  CURLE_RECV_ERROR when the give-up came while reading
    if (!self->multiplex || (code != CURLE_SEND_ERROR && code != CURLE_RECV_ERROR)
    ||  transfer->resent >= RESEND_MAX
    ||  strncmp (transfer->error, "Connection died, tried", 22) != 0)
        return false;
    long status = 0;
    curl_easy_getinfo (transfer->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 0)
        return false;
    shard_t *shard = transfer->shard;
    curl_multi_remove_handle (shard->multi, transfer->easy);
    transfer->error [0] = 0;
    if (curl_multi_add_handle (shard->multi, transfer->easy) != CURLM_OK)
        return false;           //  reported as failed; removing it again is harmless
    transfer->resent++;
    if (self->resends++ == 0)
        ovh_log_info ("%s: a request libcurl gave up resending after a refused stream or a "
                      "closed connection is sent again (libcurl 7.88's per-handle count); "
                      "said once", self->endpoint_shown);
    return true;
}
