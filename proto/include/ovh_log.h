/*  ovh_log.h - the programs' log lines: a level, an ISO-8601 UTC time with
    milliseconds, the program's name and a message, as text

        I: (ovhook-bridge) 2026-12-05T23:49:22.123Z ready: ...

    or as one JSON object per line, for log shippers

        {"ts":"2026-12-05T23:49:22.123Z","level":"info",
         "program":"ovhook-bridge","msg":"ready: ...","event_id":"evt_..."}

    written to stderr or to a file (O_APPEND) that SIGHUP can reopen. One
    write () per line, so lines from several threads never interleave.
    Structured fields (ovh_log_fields) appear in JSON only: the text line's
    message already says the same in words.                                 */

#ifndef OVH_LOG_H_INCLUDED
#define OVH_LOG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdarg.h>

typedef enum {
    OVH_LOG_ERROR,
    OVH_LOG_WARNING,
    OVH_LOG_NOTICE,
    OVH_LOG_INFO,
    OVH_LOG_DEBUG
} ovh_log_level_t;

//  One structured field: a text (NULL: JSON null) or a number
typedef struct {
    const char *key;
    const char *text;
    int64_t number;
    bool is_number;
} ovh_log_field_t;

#define OVH_LOG_STR(key, value)  { (key), (value), 0, false }
#define OVH_LOG_INT(key, value)  { (key), NULL, (int64_t) (value), true }
//  A field list for ovh_log_fields, ended for it
#define OVH_LOG_FIELDS(...) \
    ((const ovh_log_field_t []) { __VA_ARGS__, { NULL, NULL, 0, false } })

//  The name in every line ("ovhook-bridge"); none by default
void
    ovh_log_set_ident (const char *ident);

//  "text" (the default) or "json". Returns 0, or -1 for another name.
int
    ovh_log_set_format (const char *name);

//  Lines go to 'path' from now on, opened for appending (created 0640),
//  or to stderr when 'path' is NULL. Returns 0, or -1 with the reason in
//  'error' ("cannot open log file PATH: ..."); the output is unchanged
//  then.
int
    ovh_log_set_file (const char *path, char *error, size_t size);

//  Lines go to 'stream' (tests: an open_memstream), written and flushed
//  one at a time, until the next ovh_log_set_stream or ovh_log_set_file;
//  NULL goes back to stderr. The caller keeps the stream and closes it
//  after it is no longer the output.
void
    ovh_log_set_stream (FILE *stream);

//  Open the log file again by its name (after logrotate renamed it): later
//  lines go to the new file, none is lost or written twice. Returns 0, 1
//  when there is no file (stderr), or -1 with the reason in 'error', the
//  old file kept.
int
    ovh_log_reopen (char *error, size_t size);

//  Send the lines CZMQ logs itself (zsys_*: zauth, zactor, ...) through
//  ovh_log too, in the same format and to the same output
void
    ovh_log_route_czmq (void);

//  Back to stderr and text, the file closed, CZMQ's lines to stderr. Call
//  it before zsys_shutdown ().
void
    ovh_log_close (void);

void
    ovh_log_error (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
void
    ovh_log_warning (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
void
    ovh_log_notice (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
void
    ovh_log_info (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
void
    ovh_log_debug (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  A line with structured fields ('fields' ended by a NULL key, as
//  OVH_LOG_FIELDS makes it; may be NULL):
//  ovh_log_fields (OVH_LOG_ERROR, OVH_LOG_FIELDS (OVH_LOG_STR ("event_id", id),
//                  OVH_LOG_INT ("attempt", 2)), "delivery failed: %s", why);
void
    ovh_log_fields (ovh_log_level_t level, const ovh_log_field_t *fields,
                    const char *format, ...) __attribute__ ((format (printf, 3, 4)));
void
    ovh_log_vfields (ovh_log_level_t level, const ovh_log_field_t *fields,
                     const char *format, va_list args) __attribute__ ((format (printf, 3, 0)));

#endif
