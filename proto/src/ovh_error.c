/*  ovh_error.c - error codes and error reports of libovhook.               */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "ovh_error.h"

static const char *s_code_names [OVH_E_COUNT] = {
    [OVH_OK]            = "ok",
    [OVH_E_FRAMES]      = "frame-count",
    [OVH_E_TOPIC]       = "unknown-topic",
    [OVH_E_FRAME_SIZE]  = "frame-size",
    [OVH_E_TRUNCATED]   = "truncated",
    [OVH_E_TRAILING]    = "trailing-bytes",
    [OVH_E_NOT_MAP]     = "not-a-map",
    [OVH_E_KEY_TYPE]    = "key-type",
    [OVH_E_EVENT_KEY]   = "event-key",
    [OVH_E_DEPTH]       = "depth",
    [OVH_E_SIZE_CLAIM]  = "size-claim",
    [OVH_E_UTF8]        = "utf8",
    [OVH_E_FLOAT]       = "float",
    [OVH_E_BIN]         = "bin",
    [OVH_E_EXT]         = "ext",
    [OVH_E_RESERVED]    = "reserved-byte",
    [OVH_E_ENVELOPE]    = "envelope",
    [OVH_E_JSON]        = "json",
    [OVH_E_JSON_EVENT]  = "json-event",
    [OVH_E_JSON_NUMBER] = "json-number",
    [OVH_E_USAGE]       = "usage",
    [OVH_E_MEMORY]      = "memory",
};

static const char *s_frame_names [] = { "topic", "body", "envelope" };

const char *
ovh_code_name (ovh_code_t code)
{
    if ((int) code < 0 || code >= OVH_E_COUNT)
        return "unknown";
    return s_code_names [code];
}

void
ovh_error_clear (ovh_error_t *error)
{
    if (!error)
        return;
    error->code = OVH_OK;
    error->frame = OVH_FRAME_NONE;
    error->offset = 0;
    error->path [0] = 0;
    error->text [0] = 0;
}

//  Replace bytes that would break a one-line log with '?'
static void
s_printable (char *text)
{
    for (unsigned char *c = (unsigned char *) text; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            *c = '?';
}

int
ovh_error_set (ovh_error_t *error, ovh_code_t code, int frame, size_t offset,
               const char *path, const char *format, ...)
{
    if (!error)
        return -1;
    error->code = code;
    error->frame = frame;
    error->offset = offset;
    snprintf (error->path, sizeof error->path, "%s", path ? path : "");
    s_printable (error->path);

    char detail [200];
    va_list args;
    va_start (args, format);
    vsnprintf (detail, sizeof detail, format, args);
    va_end (args);
    s_printable (detail);

    //  Where: the frame and offset, or the offset in a text; a command-line
    //  value has no offset worth giving, only its path if any
    char where [64] = "";
    if (frame >= OVH_FRAME_TOPIC && frame <= OVH_FRAME_ENVELOPE)
        snprintf (where, sizeof where, "%s frame, offset %zu", s_frame_names [frame], offset);
    else
    if (frame == OVH_FRAME_NONE)
        snprintf (where, sizeof where, "offset %zu", offset);
    //  Truncated if need be: the text is one line of bounded size
    int len = snprintf (error->text, sizeof error->text, "%s: %s", ovh_code_name (code), detail);
    if ((*where || error->path [0]) && len > 0 && (size_t) len < sizeof error->text)
        snprintf (error->text + len, sizeof error->text - (size_t) len, " (%s%s%s%s)", where,
                  *where && error->path [0]? ", ": "", error->path [0]? "at ": "",
                  error->path);
    return -1;
}
