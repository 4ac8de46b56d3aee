/*  ovh_body.h - builder of an event body: one msgpack map with string keys,
    properties kept in the order they are added.

    Containers are opened with ovh_body_begin_map/array and closed with
    ovh_body_end; sizes are patched when a container is closed, so callers do
    not count elements. Inside a map every value needs a key; inside an array
    the key must be NULL. The top level is the body map itself, opened by
    ovh_body_new/ovh_body_reset. The first misuse is remembered (see
    ovh_body_error) and every later call returns -1.                         */

#ifndef OVH_BODY_H_INCLUDED
#define OVH_BODY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ovh_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ovh_body_t ovh_body_t;

ovh_body_t *
    ovh_body_new (void);
void
    ovh_body_destroy (ovh_body_t **self_p);
//  Start a new, empty body; keeps the buffer.
void
    ovh_body_reset (ovh_body_t *self);

int ovh_body_str    (ovh_body_t *self, const char *key, const char *value);
int ovh_body_strn   (ovh_body_t *self, const char *key, const char *value, size_t size);
int ovh_body_int    (ovh_body_t *self, const char *key, int64_t value);
int ovh_body_uint   (ovh_body_t *self, const char *key, uint64_t value);
int ovh_body_double (ovh_body_t *self, const char *key, double value);
int ovh_body_bool   (ovh_body_t *self, const char *key, bool value);
int ovh_body_null   (ovh_body_t *self, const char *key);
int ovh_body_begin_map   (ovh_body_t *self, const char *key);
int ovh_body_begin_array (ovh_body_t *self, const char *key);
int ovh_body_end    (ovh_body_t *self);

//  The finished msgpack map; closes the top-level map. Returns NULL if a
//  container is still open or an error was recorded.
const void *
    ovh_body_data (ovh_body_t *self, size_t *size);

//  Number of top-level properties so far.
size_t
    ovh_body_count (ovh_body_t *self);

//  First misuse recorded since the last reset, or NULL.
const ovh_error_t *
    ovh_body_error (ovh_body_t *self);

#ifdef __cplusplus
}
#endif
#endif
