/*  ovh_webhook.h - the inverse of the translator: a webhook JSON body in,
    the event type and a msgpack body out (Jansson keeps key order). Used to
    replay saved webhook bodies onto the bus and by the golden tests.        */

#ifndef OVH_WEBHOOK_H_INCLUDED
#define OVH_WEBHOOK_H_INCLUDED

#include <stddef.h>
#include "ovh_error.h"
#include "ovh_catalog.h"
#include "ovh_body.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Parse one JSON object '{"event":"<type>", ...}'. Resets 'body' and fills
//  it with every property but "event", in order. Returns the event type, or
//  NULL with 'error' filled: invalid JSON (offset = byte position), no
//  "event" or an unknown one, a non-object, integers outside the int64 and
//  uint64 ranges, duplicate keys, nesting deeper than OVH_MAX_DEPTH.
const ovh_event_type_t *
    ovh_webhook_to_body (const char *json, size_t size, ovh_body_t *body,
                         ovh_error_t *error);

#ifdef __cplusplus
}
#endif
#endif
