/*  ovh_dlselect.h - which dead letters an operator means: the filters of
    `ovhook-bridge --dead-letters list|export|purge` and of a selective
    `--redeliver`. A dead letter is selected when it passes every filter
    given; within one filter, any of its values will do (--event a,b is a
    or b). No filter selects every dead letter.

    --event TYPE[,TYPE]     a known event type (the catalog's 17)
    --session ID            the ordering key (the body's sessionId, else
                            id, nodeId, clusterId)
    --since TIME            died at or after TIME
    --until TIME            died before TIME
    --id ID[,ID]            a number (the spool's row id, the file's line
                            number) or a webhook id (evt_ + 32 hex digits)

    TIME is ISO-8601 (2026-12-05, 2026-12-05T14:30, 2026-12-05T14:30:15Z,
    2026-12-05T14:30:15.250+01:00; no zone means UTC) or a duration ago as
    the settings write them (90s, 30m, 2h: ovh_parse_duration).            */

#ifndef OVH_DLSELECT_H_INCLUDED
#define OVH_DLSELECT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  One dead letter as either store holds it. The strings belong to the
//  store that hands the record over, for the time of the call.
typedef struct {
    int64_t number;             //  spool: the row id; file: the line number
    const char *id;             //  webhook id, evt_...
    const char *type;           //  event type name
    const char *key;            //  ordering key, NULL when none
    int attempts;
    const char *last_error;     //  "" when none
    int64_t failed_ms;          //  Unix ms when it died
    const char *body;           //  the webhook JSON as POSTed (not NUL-ended)
    size_t body_size;
    const char *line;           //  file: the line as written, with its \n;
    size_t line_size;           //  spool: NULL
} ovh_dlrecord_t;

typedef struct _ovh_dlselect_t ovh_dlselect_t;

//  A selection that selects everything; durations ago count from 'now_ms'
//  (Unix ms). NULL when out of memory.
ovh_dlselect_t *
    ovh_dlselect_new (int64_t now_ms);
void
    ovh_dlselect_destroy (ovh_dlselect_t **self_p);

//  True if 'option' (without its dashes: "event", "session", "since",
//  "until", "id") is a filter
bool
    ovh_dlselect_is_filter (const char *option);

//  Add a filter. Returns 0, or -1 with what is wrong, naming the option
//  and the value, in 'error' ("--event 'sessionCreate': not an event
//  type; the types are: ...").
int
    ovh_dlselect_add (ovh_dlselect_t *self, const char *option, const char *value,
                      char *error, size_t size);

//  True when at least one filter was added
bool
    ovh_dlselect_filtered (ovh_dlselect_t *self);

//  True when 'record' passes every filter
bool
    ovh_dlselect_match (ovh_dlselect_t *self, const ovh_dlrecord_t *record);

//  Read an ISO-8601 time (see above) into Unix ms. 0 or -1.
int
    ovh_dlselect_parse_time (const char *text, int64_t *msecs);

//  Write a Unix ms time as ISO-8601 UTC, to the millisecond
//  ("2026-12-05T14:30:15.250Z") into 'text' (at least 32 bytes)
void
    ovh_dlselect_format_time (int64_t msecs, char *text, size_t size);

#ifdef __cplusplus
}
#endif
#endif
