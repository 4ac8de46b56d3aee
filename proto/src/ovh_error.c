/*  ovh_error.c - error codes and error reports of libovhook.               */

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <stdint.h>
#include "ovh_error.h"
#include "ovh_jsonwrite.h"

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

//  Bytes of the character at 'text' (at least 1); *shown says whether it
//  is shown as it is, or as one '?' (a control character, an invalid byte)
static size_t
s_character (const uint8_t *text, size_t left, bool *shown)
{
    if (text [0] < 0x80) {
        *shown = text [0] >= 0x20 && text [0] != 0x7f;
        return 1;
    }
    const char *why;
    size_t length = ovh_json_utf8_sequence (text, left, &why);
    //  U+0080..U+009F (C2 80..C2 9F): C1 controls, 0x9b starts an escape
    *shown = length > 0 && !(length == 2 && text [0] == 0xc2 && text [1] < 0xa0);
    return length ? length : 1;
}

//  Write the shown form of text [0, size) into 'buffer' while it stays
//  within 'limit' bytes; returns the bytes written (or needed, when
//  'buffer' is NULL), and in *taken the text's bytes it covers
static size_t
s_show (char *buffer, size_t limit, const uint8_t *text, size_t size, size_t *taken)
{
    size_t used = 0;
    size_t index = 0;
    while (index < size) {
        bool shown;
        size_t length = s_character (text + index, size - index, &shown);
        size_t width = shown ? length : 1;
        if (used + width > limit)
            break;
        if (shown)
            memcpy (buffer + used, text + index, length);
        else
            buffer [used] = '?';
        used += width;
        index += length;
    }
    *taken = index;
    return used;
}

const char *
ovh_shown (char *buffer, size_t size, const void *text, size_t text_size)
{
    assert (buffer && size >= 4);
    const uint8_t *bytes = (const uint8_t *) text;
    size_t taken;
    size_t used = s_show (buffer, size - 1, bytes, text_size, &taken);
    if (taken < text_size) {
        //  Does not fit: as much as leaves room for "...", then "..."
        used = s_show (buffer, size - 4, bytes, text_size, &taken);
        memcpy (buffer + used, "...", 3);
        used += 3;
    }
    buffer [used] = 0;
    return buffer;
}
