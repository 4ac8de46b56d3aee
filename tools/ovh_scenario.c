/*  ovh_scenario.c - realistic event sequences (see ovh_scenario.h).

    A round is generated whole: each session writes its events with its own
    clock into one byte arena, then the records are sorted by (timestamp,
    order of generation), which interleaves the sessions and keeps each
    session's own order. The PRNG is splitmix64: small, seedable, and the
    same on every platform, so a seed reproduces a run.                    */

#include <czmq.h>
#include "ovh_log.h"
#include "ovh_scenario.h"

typedef struct {
    int64_t timestamp;
    size_t order;               //  generation order, breaks timestamp ties
    const ovh_event_type_t *type;
    size_t offset;              //  body bytes in the arena
    size_t size;
} s_record_t;

//  A participant of the session being generated
typedef struct {
    char id [16];               //  con_XXXXXXXXXX
    char stream [40];           //  str_CAM_XXXX_con_XXXXXXXXXX
    int64_t joined;
    int64_t published;
    int profile;                //  index into the tables below
    char ip [16];
} s_person_t;

struct _ovh_scenario_t {
    size_t sessions;
    size_t participants;
    uint64_t state;             //  splitmix64
    ovh_body_t *body;
    byte *arena;
    size_t arena_size, arena_max;
    s_record_t *records;
    size_t record_count, record_max;
    size_t next;
    s_person_t *people;
    int64_t (*inbound) [2];     //  [subscriber * M + publisher]: created, destroyed
    bool failed;
};

static const char *s_names [] = { "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi" };
static const char *s_locations [] = {
    "Berlin, Germany", "Madrid, Spain", "Paris, France", "Lisbon, Portugal",
    "Austin, United States", "unknown", "Tokyo, Japan", "Nairobi, Kenya"
};
static const char *s_platforms [] = {
    "Chrome 85.0.4183.121 on Linux 64-bit", "Firefox 81.0 on Windows 10 64-bit",
    "Safari 14.0 on OS X 10.15.6", "Chrome Mobile 86.0.4240.75 on Android 10",
    "Firefox 80.0 on Ubuntu 64-bit", "Edge 86.0.622.38 on Windows 10 64-bit",
    "Chrome 86.0.4240.80 on OS X 10.15.7", "Safari 14.0 on iOS 14.0.1"
};
#define PROFILES (sizeof s_names / sizeof s_names [0])
#define DIMENSIONS_HD "{\"width\":1280,\"height\":720}"
#define DIMENSIONS_SD "{\"width\":640,\"height\":480}"

const char *
ovh_scenario_names (void)
{
    return "session, lifecycle";
}

static uint64_t
s_random (ovh_scenario_t *self)
{
    uint64_t z = (self->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

//  Uniform in [low, high]
static int64_t
s_between (ovh_scenario_t *self, int64_t low, int64_t high)
{
    return low + (int64_t) (s_random (self) % (uint64_t) (high - low + 1));
}

//  prefix + 'size' random letters and digits, as OpenVidu's ids look
static void
s_make_id (ovh_scenario_t *self, char *id, const char *prefix, size_t size)
{
    static const char alphabet [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t at = strlen (prefix);
    memcpy (id, prefix, at);
    for (size_t index = 0; index < size; index++)
        id [at++] = alphabet [s_random (self) % (sizeof alphabet - 1)];
    id [at] = 0;
}

ovh_scenario_t *
ovh_scenario_new (const char *name, size_t sessions, size_t participants, uint64_t seed)
{
    if (!name || !(streq (name, "session") || streq (name, "lifecycle"))
    ||  sessions < 1 || sessions > OVH_SCENARIO_MAX_SESSIONS
    ||  participants < 1 || participants > OVH_SCENARIO_MAX_PARTICIPANTS)
        return NULL;
    ovh_scenario_t *self = (ovh_scenario_t *) zmalloc (sizeof (ovh_scenario_t));
    if (!self)
        return NULL;
    self->sessions = sessions;
    self->participants = participants;
    self->state = seed;
    self->body = ovh_body_new ();
    self->people = (s_person_t *) calloc (participants, sizeof (s_person_t));
    self->inbound = calloc (participants * participants, sizeof self->inbound [0]);
    if (!self->body || !self->people || !self->inbound)
        ovh_scenario_destroy (&self);
    return self;
}

void
ovh_scenario_destroy (ovh_scenario_t **self_p)
{
    assert (self_p);
    ovh_scenario_t *self = *self_p;
    if (self) {
        ovh_body_destroy (&self->body);
        free (self->arena);
        free (self->records);
        free (self->people);
        free (self->inbound);
        free (self);
        *self_p = NULL;
    }
}

size_t
ovh_scenario_round_size (ovh_scenario_t *self)
{
    assert (self);
    size_t m = self->participants;
    return self->sessions * (2 * m * (m - 1) + 5 * m + 5);
}

//  Store the finished body as an event of the round
static void
s_emit (ovh_scenario_t *self, const char *type_name, int64_t timestamp)
{
    size_t size;
    const void *data = ovh_body_data (self->body, &size);
    const ovh_event_type_t *type = ovh_catalog_lookup (type_name, strlen (type_name));
    assert (type);
    if (!data) {                //  a misuse of the builder: a bug here
        ovh_log_error ("ovh_scenario: %s", ovh_body_error (self->body)->text);
        assert (false);
    }
    if (self->failed)
        return;
    if (self->arena_size + size > self->arena_max) {
        size_t max = (self->arena_max + size) * 2;
        byte *arena = (byte *) realloc (self->arena, max);
        if (!arena) {
            self->failed = true;
            return;
        }
        self->arena = arena;
        self->arena_max = max;
    }
    if (self->record_count == self->record_max) {
        size_t max = self->record_max? self->record_max * 2: 256;
        s_record_t *records = (s_record_t *) realloc (self->records, max * sizeof *records);
        if (!records) {
            self->failed = true;
            return;
        }
        self->records = records;
        self->record_max = max;
    }
    memcpy (self->arena + self->arena_size, data, size);
    self->records [self->record_count] = (s_record_t) {
        timestamp, self->record_count, type, self->arena_size, size
    };
    self->record_count++;
    self->arena_size += size;
}

//  Start a body: timestamp, sessionId
static void
s_begin (ovh_scenario_t *self, int64_t timestamp, const char *session)
{
    ovh_body_reset (self->body);
    ovh_body_int (self->body, "timestamp", timestamp);
    ovh_body_str (self->body, "sessionId", session);
}

//  startTime, duration (whole seconds), reason: the tail of an end event
static void
s_ending (ovh_scenario_t *self, int64_t start, int64_t timestamp, const char *reason)
{
    ovh_body_int (self->body, "startTime", start);
    ovh_body_int (self->body, "duration", (timestamp - start) / 1000);
    ovh_body_str (self->body, "reason", reason);
}

static void
s_participant (ovh_scenario_t *self, const s_person_t *person)
{
    char server_data [64];
    snprintf (server_data, sizeof server_data, "{'user': '%s'}", s_names [person->profile]);
    ovh_body_str (self->body, "connectionId", person->id);
    ovh_body_str (self->body, "location", s_locations [person->profile]);
    ovh_body_str (self->body, "ip", person->ip);
    ovh_body_str (self->body, "platform", s_platforms [person->profile]);
    ovh_body_str (self->body, "clientData", s_names [person->profile]);
    ovh_body_str (self->body, "serverData", server_data);
}

//  Properties of a WebRTC connection: 'subscriber' NULL for OUTBOUND
static void
s_connection (ovh_scenario_t *self, const s_person_t *publisher, const s_person_t *subscriber)
{
    ovh_body_str (self->body, "streamId", publisher->stream);
    ovh_body_str (self->body, "connectionId", subscriber? subscriber->id: publisher->id);
    ovh_body_str (self->body, "connection", subscriber? "INBOUND": "OUTBOUND");
    if (subscriber)
        ovh_body_str (self->body, "receivingFrom", publisher->id);
    ovh_body_str (self->body, "videoSource", "CAMERA");
    ovh_body_int (self->body, "videoFramerate", 30);
    ovh_body_str (self->body, "videoDimensions", publisher->profile % 2? DIMENSIONS_SD: DIMENSIONS_HD);
    ovh_body_bool (self->body, "audioEnabled", true);
    ovh_body_bool (self->body, "videoEnabled", true);
}

static void
s_connection_created (ovh_scenario_t *self, const char *session, int64_t timestamp,
                      const s_person_t *publisher, const s_person_t *subscriber)
{
    s_begin (self, timestamp, session);
    s_connection (self, publisher, subscriber);
    s_emit (self, "webrtcConnectionCreated", timestamp);
}

static void
s_connection_destroyed (ovh_scenario_t *self, const char *session, int64_t timestamp,
                        int64_t start, const s_person_t *publisher,
                        const s_person_t *subscriber)
{
    s_begin (self, timestamp, session);
    s_ending (self, start, timestamp, "disconnect");
    s_connection (self, publisher, subscriber);
    s_emit (self, "webrtcConnectionDestroyed", timestamp);
}

//  One recordingStatusChanged; 'stop' 0 while started
static void
s_recording (ovh_scenario_t *self, const char *session, int64_t timestamp,
             int64_t start, int64_t stop, const char *status, int64_t size)
{
    s_begin (self, timestamp, session);
    ovh_body_int (self->body, "startTime", start);
    //  Milliseconds to seconds: a float, e.g. 8.6 (0.0 when just started)
    ovh_body_double (self->body, "duration", stop? (double) (stop - start) / 1000.0: 0.0);
    if (stop)
        ovh_body_str (self->body, "reason", "recordingStoppedByServer");
    ovh_body_str (self->body, "id", session);
    ovh_body_str (self->body, "name", "Recording");
    ovh_body_str (self->body, "outputMode", "COMPOSED");
    ovh_body_str (self->body, "resolution", "1280x720");
    ovh_body_int (self->body, "frameRate", 25);
    ovh_body_str (self->body, "recordingLayout", "BEST_FIT");
    ovh_body_bool (self->body, "hasAudio", true);
    ovh_body_bool (self->body, "hasVideo", true);
    ovh_body_int (self->body, "size", size);
    ovh_body_str (self->body, "status", status);
    s_emit (self, "recordingStatusChanged", timestamp);
}

//  Everyone joins, publishes, and subscribes to those already there;
//  returns the time of the last event
static int64_t
s_arrive (ovh_scenario_t *self, const char *session, int64_t t)
{
    size_t m = self->participants;
    for (size_t p = 0; p < m; p++) {
        s_person_t *person = &self->people [p];
        s_make_id (self, person->id, "con_", 10);
        char tag [8];
        s_make_id (self, tag, "", 4);
        snprintf (person->stream, sizeof person->stream, "str_CAM_%s_%s", tag, person->id);
        person->profile = (int) (s_random (self) % PROFILES);
        snprintf (person->ip, sizeof person->ip, "37.122.%d.%d",
                  (int) s_between (self, 0, 255), (int) s_between (self, 1, 254));
        person->joined = t += s_between (self, 300, 2000);
        s_begin (self, t, session);
        s_participant (self, person);
        s_emit (self, "participantJoined", t);
        person->published = t += s_between (self, 100, 500);
        s_connection_created (self, session, t, person, NULL);
        //  The newcomer and everyone already there subscribe to each other
        for (size_t q = 0; q < p; q++) {
            self->inbound [p * m + q][0] = t += s_between (self, 50, 300);
            s_connection_created (self, session, t, &self->people [q], person);
            self->inbound [q * m + p][0] = t += s_between (self, 50, 300);
            s_connection_created (self, session, t, person, &self->people [q]);
        }
    }
    return t;
}

//  A recording, and a chat message from each participant to all while it
//  runs; returns the time of the last event
static int64_t
s_record_and_chat (ovh_scenario_t *self, const char *session, int64_t t)
{
    size_t m = self->participants;
    int64_t recording_start = t += s_between (self, 1000, 3000);
    s_recording (self, session, t, recording_start, 0, "started", 0);
    for (size_t p = 0; p < m; p++) {
        t += s_between (self, 200, 2000);
        char data [80];
        snprintf (data, sizeof data, "{'message':'Hello!','name':'%s'}",
                  s_names [self->people [p].profile]);
        s_begin (self, t, session);
        ovh_body_str (self->body, "from", self->people [p].id);
        ovh_body_begin_array (self->body, "to");
        for (size_t q = 0; q < m; q++)
            ovh_body_str (self->body, NULL, self->people [q].id);
        ovh_body_end (self->body);
        ovh_body_str (self->body, "type", "my-chat");
        ovh_body_str (self->body, "data", data);
        s_emit (self, "signalSent", t);
    }
    int64_t recording_stop = t += s_between (self, 5000, 30000);
    s_recording (self, session, t, recording_start, recording_stop, "stopped", 0);
    t += s_between (self, 500, 3000);
    s_recording (self, session, t, recording_start, recording_stop, "ready",
                 (recording_stop - recording_start) * s_between (self, 150, 300));
    return t;
}

//  Leaving in join order: subscriptions of and to the leaver, its own
//  stream, then the participant; returns the time of the last event
static int64_t
s_leave (ovh_scenario_t *self, const char *session, int64_t t)
{
    size_t m = self->participants;
    for (size_t p = 0; p < m; p++) {
        s_person_t *person = &self->people [p];
        t += s_between (self, 1000, 5000);
        for (size_t q = 0; q < m; q++) {
            if (q == p)
                continue;
            for (int side = 0; side < 2; side++) {
                size_t subscriber = side? q: p, publisher = side? p: q;
                int64_t *link = self->inbound [subscriber * m + publisher];
                if (link [1])
                    continue;   //  gone when that one left
                link [1] = t += s_between (self, 10, 100);
                s_connection_destroyed (self, session, t, link [0],
                                        &self->people [publisher], &self->people [subscriber]);
            }
        }
        t += s_between (self, 10, 100);
        s_connection_destroyed (self, session, t, person->published, person, NULL);
        t += s_between (self, 10, 100);
        s_begin (self, t, session);
        s_ending (self, person->joined, t, "disconnect");
        s_participant (self, person);
        s_emit (self, "participantLeft", t);
    }
    return t;
}

//  One session from 'start', created, lived and destroyed
static void
s_session (ovh_scenario_t *self, int64_t start)
{
    char session [16];
    s_make_id (self, session, "ses_", 10);
    int64_t t = start;
    s_begin (self, t, session);
    s_emit (self, "sessionCreated", t);
    t = s_arrive (self, session, t);
    t = s_record_and_chat (self, session, t);
    t = s_leave (self, session, t);
    t += s_between (self, 10, 200);
    s_begin (self, t, session);
    s_ending (self, start, t, "lastParticipantLeft");
    s_emit (self, "sessionDestroyed", t);
}

static int
s_compare (const void *a, const void *b)
{
    const s_record_t *left = (const s_record_t *) a;
    const s_record_t *right = (const s_record_t *) b;
    if (left->timestamp != right->timestamp)
        return left->timestamp < right->timestamp? -1: 1;
    return left->order < right->order? -1: left->order > right->order;
}

int
ovh_scenario_generate (ovh_scenario_t *self, int64_t start_ms)
{
    assert (self);
    self->arena_size = 0;
    self->record_count = 0;
    self->next = 0;
    self->failed = false;
    int64_t start = start_ms;
    for (size_t session = 0; session < self->sessions && !self->failed; session++) {
        memset (self->inbound, 0, self->participants * self->participants
                                  * sizeof self->inbound [0]);
        s_session (self, start);
        start += s_between (self, 100, 1500);
    }
    if (self->failed) {
        self->record_count = 0;
        return -1;
    }
    qsort (self->records, self->record_count, sizeof (s_record_t), s_compare);
    return 0;
}

const ovh_event_type_t *
ovh_scenario_next (ovh_scenario_t *self, const void **body, size_t *size)
{
    assert (self && body && size);
    if (self->next >= self->record_count)
        return NULL;
    s_record_t *record = &self->records [self->next++];
    *body = self->arena + record->offset;
    *size = record->size;
    return record->type;
}
