/*  ovh_translator.h - decode, validate and translate a bus message into the
    webhook JSON body, in one pass, into a reusable buffer.

    Strings are not copied while decoding; the JSON buffer grows to the
    largest event seen and is then reused, so the steady state allocates
    nothing per event. The event returned points into the translator's buffer
    and into the caller's frames: valid until the next call or until the
    frames are freed.                                                        */

#ifndef OVH_TRANSLATOR_H_INCLUDED
#define OVH_TRANSLATOR_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <czmq.h>
#include "ovh_error.h"
#include "ovh_catalog.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const void *data;
    size_t size;
} ovh_frame_t;

typedef struct {
    const ovh_event_type_t *type;   //  catalog entry of the topic
    const char *json;               //  webhook body, not NUL-terminated...
    size_t json_size;               //  ...but json [json_size] is '\0'
    const char *key;                //  ordering key value (raw UTF-8), or NULL
    size_t key_size;
    const char *key_name;           //  "sessionId", "id", "nodeId", "clusterId"
    bool has_envelope;
    const char *src;                //  envelope src (raw UTF-8), or NULL
    size_t src_size;
    uint64_t seq;                   //  envelope seq, 0 without envelope
    bool has_epoch;                 //  the envelope has an epoch (optional)
    uint64_t epoch;                 //  publisher run identity, 0 without one
} ovh_event_t;

typedef struct _ovh_translator_t ovh_translator_t;

ovh_translator_t *
    ovh_translator_new (void);
void
    ovh_translator_destroy (ovh_translator_t **self_p);

//  Largest frame accepted, in bytes (default OVH_MAX_FRAME_DEFAULT).
void
    ovh_translator_set_max_frame (ovh_translator_t *self, size_t bytes);

//  Translate one message given as 2 or 3 frames. Returns 0 and fills
//  'event', or -1 with the reason in ovh_translator_error ().
int
    ovh_translator_translate (ovh_translator_t *self,
                              const ovh_frame_t *frames, size_t count,
                              ovh_event_t *event);

//  The same for a CZMQ message (not destroyed; must outlive 'event').
int
    ovh_translator_translate_zmsg (ovh_translator_t *self, zmsg_t *msg,
                                   ovh_event_t *event);

//  Read an envelope frame alone (frame 3), by the same rules as in a whole
//  message: fills event->src, src_size, seq, has_epoch, epoch and
//  has_envelope, the rest zero. Returns 0, or -1 with the reason in
//  ovh_translator_error (). For a relay that checks the src of what it
//  forwards without translating it (ovhook-proxy): reading with the
//  bridge's own rules means the relay and every bridge agree on the src
//  (a second "src" key is invalid for both, not read differently).
int
    ovh_translator_envelope (ovh_translator_t *self, const void *data, size_t size,
                             ovh_event_t *event);

//  Why the last call failed.
const ovh_error_t *
    ovh_translator_error (ovh_translator_t *self);

#ifdef __cplusplus
}
#endif
#endif
