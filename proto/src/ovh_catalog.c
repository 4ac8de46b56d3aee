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
