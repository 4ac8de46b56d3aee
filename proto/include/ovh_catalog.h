/*  ovh_catalog.h - the 17 OpenVidu event types, their defaults and their
    documented properties (see shared reference, openvidu-events.md).        */

#ifndef OVH_CATALOG_H_INCLUDED
#define OVH_CATALOG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OVH_CATALOG_SIZE 17

//  JSON type of a documented property. Any property may also be null
//  (OpenVidu sends null for unknown strings; the check accepts null).
typedef enum {
    OVH_JT_STRING,
    OVH_JT_INTEGER,         //  a JSON integer (msgpack int or uint)
    OVH_JT_NUMBER,          //  integer or float
    OVH_JT_BOOLEAN,
    OVH_JT_ARRAY,
    OVH_JT_OBJECT
} ovh_jtype_t;

typedef struct {
    const char *name;
    ovh_jtype_t type;
} ovh_prop_t;

typedef struct {
    const char *name;           //  the topic, e.g. "sessionCreated"
    size_t name_size;           //  strlen (name)
    int index;                  //  0..16, position in the catalog
    bool default_on;            //  on when OPENVIDU_WEBHOOK_EVENTS is unset
    const char *key_name;       //  documented ordering key property
    const ovh_prop_t *props;    //  documented properties
    size_t prop_count;
} ovh_event_type_t;

//  Name of a JSON type ("string", "integer", ...)
const char *
    ovh_jtype_name (ovh_jtype_t type);

//  Number of event types (OVH_CATALOG_SIZE).
size_t
    ovh_catalog_size (void);

//  Event type at index, or NULL when out of range.
const ovh_event_type_t *
    ovh_catalog_at (size_t index);

//  Event type whose name is exactly these bytes, or NULL.
const ovh_event_type_t *
    ovh_catalog_lookup (const char *name, size_t size);

//  Documented property of a type, or NULL.
const ovh_prop_t *
    ovh_catalog_prop (const ovh_event_type_t *type, const char *name, size_t size);

//  Check a msgpack body (already valid per the protocol) against the
//  documented properties of its type. Appends one warning string per problem
//  to 'warnings' (if not NULL; set zlist_autofree on it), e.g.
//  "unknown property 'foo'" or "property 'duration' is string, expected
//  number". Returns the number of warnings, or -1 if the body is not a map.
int
    ovh_catalog_check (const ovh_event_type_t *type,
                       const void *body, size_t size, zlist_t *warnings);

#ifdef __cplusplus
}
#endif
#endif
