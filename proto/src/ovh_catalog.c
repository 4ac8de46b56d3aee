/*  ovh_catalog.c - the 17 OpenVidu event types and their documented
    properties, as listed in openvidu-events.md.                            */

#include <string.h>
#include <czmq.h>
#include "ovh_catalog.h"

#define S OVH_JT_STRING
#define I OVH_JT_INTEGER
#define N OVH_JT_NUMBER
#define B OVH_JT_BOOLEAN
#define A OVH_JT_ARRAY
#define O OVH_JT_OBJECT

//  Properties of the session-scoped events
#define SESSION      { "timestamp", I }, { "sessionId", S }, { "uniqueSessionId", S }
#define ENDING       { "startTime", I }, { "duration", N }, { "reason", S }
#define PARTICIPANT  { "connectionId", S }, { "participantId", S }, { "location", S }, \
                     { "ip", S }, { "platform", S }, { "clientData", S }, { "serverData", S }
#define CONNECTION   { "streamId", S }, { "participantId", S }, { "connectionId", S }, \
                     { "connection", S }, { "receivingFrom", S }, { "audioEnabled", B }, \
                     { "videoEnabled", B }, { "videoSource", S }, { "videoFramerate", I }, \
                     { "videoDimensions", S }, { "rtspUri", S }, { "adaptativeBitrate", B }, \
                     { "networkCache", I }, { "onlyPlayWithSubscribers", B }
#define NODE         { "timestamp", I }, { "id", S }, { "environmentId", S }, { "ip", S }, \
                     { "uri", S }, { "clusterId", S }

static const ovh_prop_t s_session_created [] = { SESSION };
static const ovh_prop_t s_session_destroyed [] = { SESSION, ENDING };
static const ovh_prop_t s_participant_joined [] = { SESSION, PARTICIPANT };
static const ovh_prop_t s_participant_left [] = { SESSION, PARTICIPANT, ENDING };
static const ovh_prop_t s_webrtc_created [] = { SESSION, CONNECTION };
static const ovh_prop_t s_webrtc_destroyed [] = { SESSION, CONNECTION, ENDING };
static const ovh_prop_t s_recording [] = {
    SESSION, ENDING, { "id", S }, { "name", S }, { "outputMode", S },
    { "resolution", S }, { "frameRate", I }, { "recordingLayout", S },
    { "customLayout", S }, { "media_node_id", S }, { "hasAudio", B },
    { "hasVideo", B }, { "size", I }, { "status", S }
};
static const ovh_prop_t s_filter [] = {
    SESSION, { "participantId", S }, { "connectionId", S }, { "streamId", S },
    { "filterType", S }, { "eventType", S }, { "data", S }
};
static const ovh_prop_t s_signal [] = {
    SESSION, { "from", S }, { "to", A }, { "type", S }, { "data", S }
};
static const ovh_prop_t s_media_node_status [] = {
    NODE, { "oldStatus", S }, { "newStatus", S }
};
static const ovh_prop_t s_autoscaling [] = {
    { "timestamp", I }, { "clusterId", S }, { "reason", S },
    { "mediaNodes", O }, { "system", O }
};
static const ovh_prop_t s_node_crashed [] = {
    NODE, { "nodeRole", S }, { "sessionIds", A }, { "recordingIds", A },
    { "broadcasts", A }, { "timeOfDisconnection", I }
};
static const ovh_prop_t s_node_recovered [] = { NODE, { "nodeRole", S } };
//  Broadcast events are undocumented: the session properties and a reason
static const ovh_prop_t s_broadcast_started [] = { SESSION };
static const ovh_prop_t s_broadcast_stopped [] = { SESSION, { "reason", S } };
static const ovh_prop_t s_ha_registered [] = {
    { "timestamp", I }, { "nodeId", S }, { "ip", S }
};
static const ovh_prop_t s_ha_deregistered [] = {
    { "timestamp", I }, { "nodeId", S }, { "ip", S }, { "reason", S }
};

#define TYPE(index, name, on, key, props) \
    { name, sizeof name - 1, index, on, key, props, sizeof props / sizeof props [0] }

static const ovh_event_type_t s_catalog [OVH_CATALOG_SIZE] = {
    TYPE ( 0, "sessionCreated",            true,  "sessionId", s_session_created),
    TYPE ( 1, "sessionDestroyed",          true,  "sessionId", s_session_destroyed),
    TYPE ( 2, "participantJoined",         true,  "sessionId", s_participant_joined),
    TYPE ( 3, "participantLeft",           true,  "sessionId", s_participant_left),
    TYPE ( 4, "webrtcConnectionCreated",   true,  "sessionId", s_webrtc_created),
    TYPE ( 5, "webrtcConnectionDestroyed", true,  "sessionId", s_webrtc_destroyed),
    TYPE ( 6, "recordingStatusChanged",    true,  "sessionId", s_recording),
    TYPE ( 7, "filterEventDispatched",     true,  "sessionId", s_filter),
    TYPE ( 8, "signalSent",                true,  "sessionId", s_signal),
    TYPE ( 9, "mediaNodeStatusChanged",    true,  "id",        s_media_node_status),
    TYPE (10, "autoscaling",               true,  "clusterId", s_autoscaling),
    TYPE (11, "nodeCrashed",               true,  "id",        s_node_crashed),
    TYPE (12, "nodeRecovered",             true,  "id",        s_node_recovered),
    TYPE (13, "broadcastStarted",          true,  "sessionId", s_broadcast_started),
    TYPE (14, "broadcastStopped",          true,  "sessionId", s_broadcast_stopped),
    TYPE (15, "HANodeRegistered",          false, "nodeId",    s_ha_registered),
    TYPE (16, "HANodeDeregistered",        false, "nodeId",    s_ha_deregistered),
};

static const char *s_jtype_names [] = {
    "string", "integer", "number", "boolean", "array", "object"
};

const char *
ovh_jtype_name (ovh_jtype_t type)
{
    if ((int) type < 0 || type > OVH_JT_OBJECT)
        return "unknown";
    return s_jtype_names [type];
}

size_t
ovh_catalog_size (void)
{
    return OVH_CATALOG_SIZE;
}

const ovh_event_type_t *
ovh_catalog_at (size_t index)
{
    if (index >= OVH_CATALOG_SIZE)
        return NULL;
    return &s_catalog [index];
}

const ovh_event_type_t *
ovh_catalog_lookup (const char *name, size_t size)
{
    if (!name)
        return NULL;
    for (size_t index = 0; index < OVH_CATALOG_SIZE; index++) {
        const ovh_event_type_t *type = &s_catalog [index];
        if (type->name_size == size && memcmp (type->name, name, size) == 0)
            return type;
    }
    return NULL;
}

const ovh_prop_t *
ovh_catalog_prop (const ovh_event_type_t *type, const char *name, size_t size)
{
    assert (type);
    for (size_t index = 0; index < type->prop_count; index++) {
        const ovh_prop_t *prop = &type->props [index];
        if (strlen (prop->name) == size && memcmp (prop->name, name, size) == 0)
            return prop;
    }
    return NULL;
}


//  --------------------------------------------------------------------------
//  Check of a body against the documented properties of its type

#include <stdarg.h>
#include "ovh_msgpack.h"
#include "ovhook.h"

//  Does a value of this kind fit a property of this JSON type?
static bool
s_fits (ovh_jtype_t type, const ovh_mp_token_t *token)
{
    switch (token->kind) {
        case OVH_MP_NIL:   return true;     //  null is accepted anywhere
        case OVH_MP_BOOL:  return type == OVH_JT_BOOLEAN;
        case OVH_MP_UINT:
        case OVH_MP_INT:   return type == OVH_JT_INTEGER || type == OVH_JT_NUMBER;
        case OVH_MP_FLOAT: return type == OVH_JT_NUMBER;
        case OVH_MP_STR:   return type == OVH_JT_STRING;
        case OVH_MP_ARRAY: return type == OVH_JT_ARRAY;
        case OVH_MP_MAP:   return type == OVH_JT_OBJECT;
        default:           return false;
    }
}

//  JSON name of a value's kind, for warnings
static const char *
s_json_kind (const ovh_mp_token_t *token)
{
    switch (token->kind) {
        case OVH_MP_NIL:   return "null";
        case OVH_MP_BOOL:  return "boolean";
        case OVH_MP_UINT:
        case OVH_MP_INT:   return "integer";
        case OVH_MP_FLOAT: return "number";
        case OVH_MP_STR:   return "string";
        case OVH_MP_ARRAY: return "array";
        case OVH_MP_MAP:   return "object";
        case OVH_MP_BIN:   return "bin";
        case OVH_MP_EXT:   return "ext";
        default:           return "invalid";
    }
}

static void
s_warn (zlist_t *warnings, const char *format, ...)
{
    if (!warnings)
        return;
    va_list args;
    va_start (args, format);
    char *text = zsys_vprintf (format, args);
    va_end (args);
    if (text) {
        //  The contract is an autofree list of strings: it keeps a copy
        zlist_autofree (warnings);
        zlist_append (warnings, text);
        zstr_free (&text);
    }
}

int
ovh_catalog_check (const ovh_event_type_t *type, const void *body, size_t size,
                   zlist_t *warnings)
{
    assert (type);
    const uint8_t *p = (const uint8_t *) body;
    const uint8_t *end = p + size;
    ovh_mp_token_t map;
    if (!body || ovh_mp_next (&p, end, &map) != OVH_OK || map.kind != OVH_MP_MAP)
        return -1;

    int count = 0;
    for (uint32_t index = 0; index < map.size; index++) {
        ovh_mp_token_t key, value;
        if (ovh_mp_next (&p, end, &key) != OVH_OK || key.kind != OVH_MP_STR)
            return -1;
        const uint8_t *value_at = p;
        if (ovh_mp_next (&p, end, &value) != OVH_OK)
            return -1;
        int name_size = key.size > 64? 64: (int) key.size;
        const ovh_prop_t *prop = ovh_catalog_prop (type, (const char *) key.data, key.size);
        if (!prop) {
            s_warn (warnings, "unknown property '%.*s%s'", name_size,
                    (const char *) key.data, key.size > 64? "...": "");
            count++;
        }
        else
        if (!s_fits (prop->type, &value)) {
            s_warn (warnings, "property '%s' is %s, expected %s", prop->name,
                    s_json_kind (&value), ovh_jtype_name (prop->type));
            count++;
        }
        //  Skip the whole value, containers included
        p = value_at;
        if (ovh_mp_skip (&p, end, OVH_MAX_DEPTH - 1) != OVH_OK)
            return -1;
    }
    return count;
}
