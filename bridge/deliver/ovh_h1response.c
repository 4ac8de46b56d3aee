/*  ovh_h1response.c - reads the h1sender's responses with http-parser:
    the status, whether the connection stays open, Retry-After on a 429 or
    503, and where the response ends (Content-Length, chunked, or the
    peer's close). The body is counted, not kept. Interim 1xx responses
    (100 Continue) are skipped, as libcurl skips them; a body past
    BODY_MAX ends the read with the status known, and the connection is
    then closed rather than read to its end.                                 */

#include <ctype.h>
#include <curl/curl.h>
#include "ovh_h1sender_private.h"

static int
s_on_header_field (http_parser *parser, const char *at, size_t length)
{
    conn_t *conn = (conn_t *) parser->data;
    //  Only a 429 or a 503 has a header we read
    if (parser->status_code != 429 && parser->status_code != 503)
        return 0;
    if (conn->field_done) {
        conn->field_done = false;
        conn->field_size = 0;
    }
    //  Past the buffer the name is longer than "retry-after": stays unequal
    for (size_t index = 0; index < length && conn->field_size < sizeof conn->field; index++)
        conn->field [conn->field_size++] = (char) tolower ((unsigned char) at [index]);
    return 0;
}

static int
s_on_header_value (http_parser *parser, const char *at, size_t length)
{
    conn_t *conn = (conn_t *) parser->data;
    if (parser->status_code != 429 && parser->status_code != 503)
        return 0;
    if (!conn->field_done) {
        conn->field_done = true;
        //  The first Retry-After only, as libcurl's curl_easy_header (index 0)
        conn->in_retry_after = conn->field_size == 11
                            && memcmp (conn->field, "retry-after", 11) == 0
                            && (parser->status_code == 429 || parser->status_code == 503)
                            && conn->retry_after_size == 0;
    }
    if (conn->in_retry_after) {
        size_t room = sizeof conn->retry_after - 1 - conn->retry_after_size;
        size_t size = length < room ? length : room;
        memcpy (conn->retry_after + conn->retry_after_size, at, size);
        conn->retry_after_size += size;
        conn->retry_after [conn->retry_after_size] = 0;
    }
    return 0;
}

static int
s_on_body (http_parser *parser, const char *at, size_t length)
{
    conn_t *conn = (conn_t *) parser->data;
    (void) at;
    conn->body += length;
    if (conn->body > BODY_MAX) {
        conn->complete = true;
        conn->keep = false;
        http_parser_pause (parser, 1);
    }
    return 0;
}

static int
s_on_message_complete (http_parser *parser)
{
    conn_t *conn = (conn_t *) parser->data;
    if (parser->status_code < 200) {
        //  An interim answer: the final one follows on the same stream
        conn->field_done = false;
        conn->field_size = 0;
        conn->retry_after_size = 0;
        conn->in_retry_after = false;
        return 0;
    }
    conn->complete = true;
    conn->keep = http_should_keep_alive (parser) != 0;
    http_parser_pause (parser, 1);
    return 0;
}

static const http_parser_settings s_settings = {
    .on_header_field = s_on_header_field,
    .on_header_value = s_on_header_value,
    .on_body = s_on_body,
    .on_message_complete = s_on_message_complete
};

void
ovh_h1response_reset (conn_t *conn)
{
    http_parser_init (&conn->parser, HTTP_RESPONSE);
    conn->parser.data = conn;
    conn->received = 0;
    conn->body = 0;
    conn->complete = false;
    conn->keep = false;
    conn->in_retry_after = false;
    conn->field_done = false;
    conn->field_size = 0;
    conn->retry_after_size = 0;
    conn->retry_after [0] = 0;
}

static int
s_fail (conn_t *conn, int code, const char *error)
{
    conn->code = code;
    snprintf (conn->error, sizeof conn->error, "%s", error);
    return -1;
}

int
ovh_h1response_read (conn_t *conn, const char *data, size_t size)
{
    assert (!conn->complete);
    conn->received += size;
    //  Size 0 tells the parser the peer closed: a body read until the
    //  close ends there
    size_t parsed = http_parser_execute (&conn->parser, &s_settings, data, size);
    enum http_errno error = HTTP_PARSER_ERRNO (&conn->parser);
    if (conn->complete) {
        //  Bytes after the response are nothing we asked for: the
        //  connection is not trusted with another request
        if (error == HPE_PAUSED && parsed < size)
            conn->keep = false;
        return 0;
    }
    //  A close before the response's end (the parser says
    //  HPE_INVALID_EOF_STATE): libcurl's words for it
    if (size == 0)
        return conn->received == 0
             ? s_fail (conn, CURLE_GOT_NOTHING, "Empty reply from server")
             : s_fail (conn, CURLE_PARTIAL_FILE,
                       "transfer closed with outstanding read data remaining");
    if (error != HPE_OK) {
        char text [120];
        snprintf (text, sizeof text, "Weird server reply: %s (%s)",
                  http_errno_description (error), http_errno_name (error));
        return s_fail (conn, CURLE_WEIRD_SERVER_REPLY, text);
    }
    if (conn->parser.upgrade)
        return s_fail (conn, CURLE_WEIRD_SERVER_REPLY,
                       "Weird server reply: a protocol switch, to a POST");
    return 0;
}
