/*  test_scenario.c - the scenario generator (ovh_scenario): every event of
    a round replayed against a model of its sessions: valid, documented, in
    time order, times that add up, ids that match, counts; same seed, same
    bytes.                                                                  */

#include <jansson.h>
#include "ovh_test.h"
#include "ovh_scenario.h"

#define NOW 1700000000000LL

//  ---------------------------------------------------------------------
//  Scenario: replay every event of a round against a model of the
//  sessions and check that times and ids agree

static int64_t
s_int (json_t *object, const char *key)
{
    json_t *value = json_object_get (object, key);
    return json_is_integer (value)? (int64_t) json_integer_value (value): -1;
}

static const char *
s_str (json_t *object, const char *key)
{
    const char *value = json_string_value (json_object_get (object, key));
    return value? value: "";
}

//  Whole seconds from start to timestamp, as OpenVidu truncates them
static bool
s_duration_ok (json_t *body, int64_t start)
{
    return s_int (body, "startTime") == start
        && s_int (body, "duration") == (s_int (body, "timestamp") - start) / 1000;
}

//  One event against the model of its session
static void
s_check_event (json_t *state, const char *type, json_t *body, size_t participants)
{
    int64_t ts = s_int (body, "timestamp");
    const char *sid = s_str (body, "sessionId");
    json_t *session = json_object_get (state, sid);
    if (streq (type, "sessionCreated")) {
        CHECK_MSG (!session && strlen (sid) == 14 && strncmp (sid, "ses_", 4) == 0,
                   "new session id %s", sid);
        json_object_set_new (state, sid, json_pack ("{sI s{} s{} s{} s{} s[] si si}",
            "created", (json_int_t) ts, "joined", "left", "conns", "gone",
            "recording", "signals", 0, "destroyed", 0));
        return;
    }
    CHECK_MSG (session && s_int (session, "destroyed") == 0, "%s in no live session", type);
    if (!session)
        return;
    json_t *joined = json_object_get (session, "joined");
    json_t *left = json_object_get (session, "left");
    json_t *conns = json_object_get (session, "conns");
    json_t *gone = json_object_get (session, "gone");
    const char *con = s_str (body, "connectionId");
    bool present = json_object_get (joined, con) && !json_object_get (left, con);
    char link [128];
    snprintf (link, sizeof link, "%s|%s", con, s_str (body, "streamId"));

    if (streq (type, "participantJoined")) {
        CHECK_MSG (!json_object_get (joined, con) && strlen (con) == 14, "joins twice: %s", con);
        json_object_set_new (joined, con, json_integer (ts));
    }
    else
    if (streq (type, "participantLeft")) {
        CHECK_MSG (present, "%s leaves without being there", con);
        CHECK (s_duration_ok (body, s_int (joined, con)));
        CHECK_STR (s_str (body, "reason"), "disconnect");
        //  Every connection of the leaver is gone by now
        const char *key;
        json_t *value;
        json_object_foreach (conns, key, value)
            if (strstr (key, con))
                CHECK_MSG (json_object_get (gone, key), "%s left with %s open", con, key);
        json_object_set_new (left, con, json_integer (ts));
    }
    else
    if (streq (type, "webrtcConnectionCreated")) {
        CHECK_MSG (present && !json_object_get (conns, link), "created %s", link);
        const char *from = s_str (body, "receivingFrom");
        const char *stream = s_str (body, "streamId");
        if (streq (s_str (body, "connection"), "OUTBOUND")) {
            size_t size = strlen (stream), con_size = strlen (con);
            CHECK_MSG (!json_object_get (body, "receivingFrom") && size > con_size
                       && streq (stream + size - con_size, con), "outbound %s", link);
        }
        else {
            char published [128];
            snprintf (published, sizeof published, "%s|%s", from, stream);
            CHECK_STR (s_str (body, "connection"), "INBOUND");
            CHECK_MSG (!streq (from, con) && json_object_get (conns, published)
                       && !json_object_get (gone, published), "inbound %s from %s", link, from);
        }
        json_object_set_new (conns, link, json_integer (ts));
    }
    else
    if (streq (type, "webrtcConnectionDestroyed")) {
        CHECK_MSG (json_object_get (conns, link) && !json_object_get (gone, link),
                   "destroyed %s", link);
        CHECK (s_duration_ok (body, s_int (conns, link)));
        json_object_set_new (gone, link, json_integer (ts));
    }
    else
    if (streq (type, "recordingStatusChanged")) {
        json_t *recording = json_object_get (session, "recording");
        static const char *order [] = { "started", "stopped", "ready" };
        size_t step = json_array_size (recording);
        CHECK_MSG (step < 3 && streq (s_str (body, "status"), order [step]),
                   "recording status %s at step %zu", s_str (body, "status"), step);
        CHECK_STR (s_str (body, "id"), sid);
        double duration = json_number_value (json_object_get (body, "duration"));
        int64_t start = s_int (body, "startTime");
        if (step == 0)
            CHECK (start == ts && !json_object_get (body, "reason") && duration == 0);
        else {
            json_t *started = json_array_get (recording, 0);
            json_t *stopped = json_array_get (recording, step == 2? 1: 0);
            CHECK (start == s_int (started, "startTime"));
            //  The recording lasted from start to "stopped", in float seconds
            int64_t stop = step == 1? ts: s_int (stopped, "timestamp");
            CHECK_MSG (fabs (duration * 1000 - (double) (stop - start)) < 0.5,
                       "recording duration %g for %lld ms", duration, (long long) (stop - start));
            CHECK (*s_str (body, "reason"));
        }
        json_array_append (recording, body);
    }
    else
    if (streq (type, "signalSent")) {
        CHECK_MSG (json_object_get (joined, s_str (body, "from"))
                   && !json_object_get (left, s_str (body, "from")), "signal from a stranger");
        json_t *to = json_object_get (body, "to");
        CHECK (json_array_size (to) == participants);
        size_t index;
        json_t *item;
        json_array_foreach (to, index, item)
            CHECK (json_object_get (joined, json_string_value (item)) != NULL);
        json_object_set_new (session, "signals",
                             json_integer (s_int (session, "signals") + 1));
    }
    else
    if (streq (type, "sessionDestroyed")) {
        size_t m = participants;
        CHECK (s_duration_ok (body, s_int (session, "created")));
        CHECK_STR (s_str (body, "reason"), "lastParticipantLeft");
        CHECK (json_object_size (joined) == m && json_object_size (left) == m);
        CHECK (json_object_size (conns) == m * m && json_object_size (gone) == m * m);
        CHECK (json_array_size (json_object_get (session, "recording")) == 3);
        CHECK (s_int (session, "signals") == (int64_t) m);
        json_object_set_new (session, "destroyed", json_integer (1));
    }
    else
        CHECK_MSG (false, "unexpected event %s", type);
}

//  Every event of a round: valid, documented, in time order, consistent
static void
s_check_round (ovh_scenario_t *scenario, size_t sessions, size_t participants)
{
    ovh_translator_t *translator = ovh_translator_new ();
    json_t *state = json_object ();
    assert (translator && state);
    size_t count = 0;
    int64_t last = NOW;
    const void *data;
    size_t size;
    const ovh_event_type_t *type;
    while ((type = ovh_scenario_next (scenario, &data, &size))) {
        count++;
        CHECK_MSG (ovh_catalog_check (type, data, size, NULL) == 0, "%s: catalog warnings",
                   type->name);
        ovh_frame_t frames [2] = { { type->name, type->name_size }, { data, size } };
        ovh_event_t event;
        if (ovh_translator_translate (translator, frames, 2, &event)) {
            CHECK_MSG (false, "%s: %s", type->name, ovh_translator_error (translator)->text);
            continue;
        }
        json_t *body = json_loads (event.json, 0, NULL);
        CHECK (json_is_object (body));
        int64_t ts = s_int (body, "timestamp");
        CHECK_MSG (ts >= last, "timestamp %lld after %lld", (long long) ts, (long long) last);
        last = ts;
        s_check_event (state, type->name, body, participants);
        json_decref (body);
    }
    CHECK_MSG (count == ovh_scenario_round_size (scenario), "%zu events", count);
    CHECK (json_object_size (state) == sessions);
    const char *sid;
    json_t *session;
    json_object_foreach (state, sid, session)
        CHECK_MSG (s_int (session, "destroyed") == 1, "session %s not destroyed", sid);
    json_decref (state);
    ovh_translator_destroy (&translator);
}

//  The bytes of a whole round, to compare runs
static zchunk_t *
s_round_bytes (ovh_scenario_t *scenario)
{
    zchunk_t *all = zchunk_new (NULL, 0);
    const void *data;
    size_t size;
    while (ovh_scenario_next (scenario, &data, &size))
        zchunk_extend (all, data, size);
    return all;
}

static bool
s_same (zchunk_t *a, zchunk_t *b)
{
    return zchunk_size (a) == zchunk_size (b)
        && memcmp (zchunk_data (a), zchunk_data (b), zchunk_size (a)) == 0;
}

static void
s_test_scenarios (void)
{
    static const size_t shapes [][2] = { { 1, 1 }, { 1, 2 }, { 3, 4 }, { 5, 3 } };
    for (size_t index = 0; index < sizeof shapes / sizeof shapes [0]; index++) {
        size_t sessions = shapes [index][0], m = shapes [index][1];
        ovh_scenario_t *scenario = ovh_scenario_new (index % 2? "lifecycle": "session",
                                                     sessions, m, 42 + index);
        CHECK (scenario != NULL);
        if (!scenario)
            continue;
        CHECK (ovh_scenario_round_size (scenario) == sessions * (2 * m * (m - 1) + 5 * m + 5));
        for (int round = 0; round < 2; round++) {
            CHECK (ovh_scenario_generate (scenario, NOW) == 0);
            s_check_round (scenario, sessions, m);
            CHECK (ovh_scenario_next (scenario, &(const void *) { NULL }, &(size_t) { 0 }) == NULL);
        }
        ovh_scenario_destroy (&scenario);
        CHECK (scenario == NULL);
    }
    //  The same seed makes the same round; the next round has new ids
    ovh_scenario_t *one = ovh_scenario_new ("session", 2, 3, 7);
    ovh_scenario_t *two = ovh_scenario_new ("session", 2, 3, 7);
    ovh_scenario_t *other = ovh_scenario_new ("session", 2, 3, 8);
    assert (one && two && other);
    ovh_scenario_generate (one, NOW);
    ovh_scenario_generate (two, NOW);
    ovh_scenario_generate (other, NOW);
    zchunk_t *first = s_round_bytes (one);
    zchunk_t *same = s_round_bytes (two);
    zchunk_t *different = s_round_bytes (other);
    ovh_scenario_generate (one, NOW);
    zchunk_t *next = s_round_bytes (one);
    CHECK (zchunk_size (first) > 0 && s_same (first, same));
    CHECK (!s_same (first, different));
    CHECK (!s_same (first, next));
    zchunk_destroy (&first);
    zchunk_destroy (&same);
    zchunk_destroy (&different);
    zchunk_destroy (&next);
    ovh_scenario_destroy (&one);
    ovh_scenario_destroy (&two);
    ovh_scenario_destroy (&other);

    CHECK (ovh_scenario_new ("nope", 1, 1, 0) == NULL);
    CHECK (ovh_scenario_new (NULL, 1, 1, 0) == NULL);
    CHECK (ovh_scenario_new ("session", 0, 1, 0) == NULL);
    CHECK (ovh_scenario_new ("session", 1, 0, 0) == NULL);
    CHECK (ovh_scenario_new ("session", 1, OVH_SCENARIO_MAX_PARTICIPANTS + 1, 0) == NULL);
    CHECK (ovh_scenario_new ("session", OVH_SCENARIO_MAX_SESSIONS + 1, 1, 0) == NULL);
}

int
main (void)
{
    s_test_scenarios ();
    return ovh_test_done ("test_scenario");
}
