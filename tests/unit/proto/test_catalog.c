/*  test_catalog.c - the 17 event types as the reference lists them, exact
    lookups, and ovh_catalog_check warnings on hand-built msgpack bodies.

    Bytes are written as "81 a1 'v' c0": hex bytes, and quoted ASCII text.   */

#include <czmq.h>
#include "ovhook.h"
#include "ovh_test.h"

//  The reference table (openvidu-events.md), in catalog order
typedef struct {
    const char *name;
    bool default_on;
    const char *key_name;
} type_case_t;

static const type_case_t s_types [] = {
    { "sessionCreated",            true,  "sessionId" },
    { "sessionDestroyed",          true,  "sessionId" },
    { "participantJoined",         true,  "sessionId" },
    { "participantLeft",           true,  "sessionId" },
    { "webrtcConnectionCreated",   true,  "sessionId" },
    { "webrtcConnectionDestroyed", true,  "sessionId" },
    { "recordingStatusChanged",    true,  "sessionId" },
    { "filterEventDispatched",     true,  "sessionId" },
    { "signalSent",                true,  "sessionId" },
    { "mediaNodeStatusChanged",    true,  "id" },
    { "autoscaling",               true,  "clusterId" },
    { "nodeCrashed",               true,  "id" },
    { "nodeRecovered",             true,  "id" },
    { "broadcastStarted",          true,  "sessionId" },
    { "broadcastStopped",          true,  "sessionId" },
    { "HANodeRegistered",          false, "nodeId" },
    { "HANodeDeregistered",        false, "nodeId" },
};

static void
s_test_types (void)
{
    CHECK (ovh_catalog_size () == 17);
    CHECK (sizeof s_types / sizeof s_types [0] == OVH_CATALOG_SIZE);
    CHECK (ovh_catalog_at (17) == NULL);
    CHECK (ovh_catalog_at ((size_t) -1) == NULL);
    int default_on = 0;
    for (size_t index = 0; index < OVH_CATALOG_SIZE; index++) {
        const type_case_t *row = &s_types [index];
        const ovh_event_type_t *type = ovh_catalog_at (index);
        REQUIRE (type);
        CHECK_STR (type->name, row->name);
        CHECK (type->name_size == strlen (row->name));
        CHECK (type->index == (int) index);
        CHECK_MSG (type->default_on == row->default_on, "%s default", row->name);
        CHECK_STR (type->key_name, row->key_name);
        CHECK (type->prop_count > 0 && type->props);
        //  The ordering key and timestamp are documented properties
        CHECK_MSG (ovh_catalog_prop (type, type->key_name, strlen (type->key_name)),
                   "%s lacks its key", row->name);
        const ovh_prop_t *timestamp = ovh_catalog_prop (type, "timestamp", 9);
        CHECK (timestamp && timestamp->type == OVH_JT_INTEGER);
        CHECK (ovh_catalog_lookup (row->name, strlen (row->name)) == type);
        default_on += type->default_on;
    }
    CHECK (default_on == 15);
}

//  Lookups compare the whole name, byte for byte
typedef struct {
    const char *name;
    size_t size;                //  0: strlen
    int index;                  //  -1: not found
} lookup_case_t;

static const lookup_case_t s_lookups [] = {
    { "sessionCreated", 0, 0 },
    { "HANodeDeregistered", 0, 16 },
    { "sessionCreatedXYZ", 14, 0 },         //  only the given bytes count
    { "SessionCreated", 0, -1 },
    { "sessioncreated", 0, -1 },
    { "hANodeRegistered", 0, -1 },
    { "recordingStarted", 0, -1 },
    { "recordingStopped", 0, -1 },
    { "session", 0, -1 },
    { "sessionCreatedX", 0, -1 },
    { "sessionCreated\0", 15, -1 },
    { " sessionCreated", 0, -1 },
    { "", 0, -1 },
};

static void
s_test_lookups (void)
{
    for (size_t index = 0; index < sizeof s_lookups / sizeof s_lookups [0]; index++) {
        const lookup_case_t *row = &s_lookups [index];
        size_t size = row->size? row->size: strlen (row->name);
        const ovh_event_type_t *type = ovh_catalog_lookup (row->name, size);
        if (row->index < 0)
            CHECK_MSG (type == NULL, "'%s' (%zu) found", row->name, size);
        else
            CHECK_MSG (type == ovh_catalog_at ((size_t) row->index), "'%s' not found", row->name);
    }
    CHECK (ovh_catalog_lookup (NULL, 0) == NULL);

    const ovh_event_type_t *destroyed = ovh_catalog_lookup ("sessionDestroyed", 16);
    const ovh_event_type_t *created = ovh_catalog_lookup ("sessionCreated", 14);
    REQUIRE (destroyed && created);
    const ovh_prop_t *duration = ovh_catalog_prop (destroyed, "duration", 8);
    CHECK (duration && duration->type == OVH_JT_NUMBER);
    CHECK (ovh_catalog_prop (created, "duration", 8) == NULL);
    CHECK (ovh_catalog_prop (created, "durationX", 8) == NULL);
    CHECK (ovh_catalog_prop (destroyed, "duration", 7) == NULL);
    CHECK_STR (ovh_jtype_name (OVH_JT_STRING), "string");
    CHECK_STR (ovh_jtype_name (OVH_JT_INTEGER), "integer");
    CHECK_STR (ovh_jtype_name (OVH_JT_NUMBER), "number");
    CHECK_STR (ovh_jtype_name (OVH_JT_BOOLEAN), "boolean");
    CHECK_STR (ovh_jtype_name (OVH_JT_ARRAY), "array");
    CHECK_STR (ovh_jtype_name (OVH_JT_OBJECT), "object");
    CHECK_STR (ovh_jtype_name ((ovh_jtype_t) 99), "unknown");
}

//  Check of bodies against the documented properties
typedef struct {
    const char *type;
    const char *body;
    int count;                  //  -1: not a map
    const char *warnings [3];   //  the first ones, in order
} check_case_t;

static const check_case_t s_checks [] = {
    { "sessionCreated", "82 a9 'timestamp' cf 00 00 01 74 da 8f cb 5f a9 'sessionId' a1 's'", 0, { NULL } },
    { "sessionCreated", "80", 0, { NULL } },
    { "sessionCreated", "81 a3 'foo' 01", 1, { "unknown property 'foo'" } },
    { "sessionCreated", "81 a9 'Timestamp' 01", 1, { "unknown property 'Timestamp'" } },
    { "sessionCreated", "81 a9 'timestamp' a1 'x'", 1,
      { "property 'timestamp' is string, expected integer" } },
    { "sessionCreated", "81 a9 'timestamp' cb 3f f8 00 00 00 00 00 00", 1,
      { "property 'timestamp' is number, expected integer" } },
    { "sessionCreated", "81 a9 'timestamp' ca 3f c0 00 00", 1,
      { "property 'timestamp' is number, expected integer" } },
    { "sessionCreated", "81 a9 'timestamp' d3 ff ff ff ff ff ff ff fb", 0, { NULL } },
    { "sessionCreated", "81 a9 'sessionId' 05", 1,
      { "property 'sessionId' is integer, expected string" } },
    //  number takes int, uint and float
    { "sessionDestroyed", "81 a8 'duration' cb 40 21 33 33 33 33 33 33", 0, { NULL } },
    { "sessionDestroyed", "81 a8 'duration' cd 02 a2", 0, { NULL } },
    { "sessionDestroyed", "81 a8 'duration' ff", 0, { NULL } },
    { "sessionDestroyed", "81 a8 'duration' c3", 1,
      { "property 'duration' is boolean, expected number" } },
    //  null is accepted for every property
    { "sessionDestroyed", "84 a9 'sessionId' c0 a9 'timestamp' c0 a8 'duration' c0 a6 'reason' c0",
      0, { NULL } },
    { "signalSent", "82 a2 'to' 91 a1 'a' a4 'from' c0", 0, { NULL } },
    { "signalSent", "81 a2 'to' a1 'a'", 1, { "property 'to' is string, expected array" } },
    { "signalSent", "81 a2 'to' 80", 1, { "property 'to' is object, expected array" } },
    { "autoscaling", "82 aa 'mediaNodes' 81 a6 'launch' 81 a5 'total' 00 a6 'system' 90", 1,
      { "property 'system' is array, expected object" } },
    { "webrtcConnectionCreated", "82 ac 'audioEnabled' 01 ac 'videoEnabled' c2", 1,
      { "property 'audioEnabled' is integer, expected boolean" } },
    { "webrtcConnectionCreated", "81 ae 'videoFramerate' cb 40 3e 00 00 00 00 00 00", 1,
      { "property 'videoFramerate' is number, expected integer" } },
    //  Several problems, in body order; nested values are skipped whole
    { "sessionCreated", "83 a1 'a' 01 a9 'timestamp' a1 'x' a1 'b' 02", 3,
      { "unknown property 'a'", "property 'timestamp' is string, expected integer",
        "unknown property 'b'" } },
    { "sessionCreated", "82 a1 'x' 81 a1 'y' 93 01 02 81 a1 'z' 03 a9 'sessionId' 05", 2,
      { "unknown property 'x'", "property 'sessionId' is integer, expected string" } },
    //  A nested "sessionId" is not a top-level property
    { "nodeCrashed", "81 aa 'sessionIds' 91 a9 'sessionId'", 0, { NULL } },
    { "HANodeRegistered", "81 a9 'sessionId' a1 's'", 1, { "unknown property 'sessionId'" } },
    //  Not a map
    { "sessionCreated", "90", -1, { NULL } },
    { "sessionCreated", "a1 'x'", -1, { NULL } },
    { "sessionCreated", "", -1, { NULL } },
};

static void
s_test_checks (void)
{
    for (size_t index = 0; index < sizeof s_checks / sizeof s_checks [0]; index++) {
        const check_case_t *row = &s_checks [index];
        const ovh_event_type_t *type = ovh_catalog_lookup (row->type, strlen (row->type));
        REQUIRE (type);
        uint8_t body [256];
        size_t size = ovh_test_bytes (row->body, body, sizeof body);
        zlist_t *warnings = zlist_new ();
        zlist_autofree (warnings);
        int count = ovh_catalog_check (type, body, size, warnings);
        CHECK_MSG (count == row->count, "%s %s: %d warnings, want %d", row->type, row->body,
                   count, row->count);
        CHECK (zlist_size (warnings) == (size_t) (count > 0? count: 0));
        const char *warning = (const char *) zlist_first (warnings);
        for (int which = 0; which < 3 && row->warnings [which]; which++) {
            CHECK_STR (warning, row->warnings [which]);
            warning = (const char *) zlist_next (warnings);
        }
        zlist_destroy (&warnings);
        //  Without a list, only the count
        CHECK (ovh_catalog_check (type, body, size, NULL) == row->count);
    }
    //  A long unknown name is cut in the warning
    const ovh_event_type_t *type = ovh_catalog_at (0);
    uint8_t body [128] = { 0x81, 0xd9, 100 };
    memset (body + 3, 'k', 100);
    body [103] = 0xc0;
    zlist_t *warnings = zlist_new ();       //  the check sets autofree itself
    CHECK (ovh_catalog_check (type, body, 104, warnings) == 1);
    const char *warning = (const char *) zlist_first (warnings);
    CHECK (warning && strlen (warning) < 100 && strstr (warning, "kkkk...'"));
    zlist_destroy (&warnings);
}

int
main (void)
{
    s_test_types ();
    s_test_lookups ();
    s_test_checks ();
    return ovh_test_done ("test_catalog");
}
