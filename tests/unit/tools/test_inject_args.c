/*  test_inject_args.c - the classes behind ovhook-inject and friends:
    key=value typing (the JSON each argument becomes, and every rejection
    with its code), endpoint syntax and option values, and the scenario
    generator's consistency (times that add up, ids that match, counts).

    tests/CMakeLists.txt links unit tests with ovhook_static and
    ovhook_bridge_core only, so the tools' classes are compiled in here.   */

#include "../../../tools/ovh_argvalue.c"
#include "../../../tools/ovh_cli.c"
#include "../../../tools/ovh_scenario.c"
#include <jansson.h>
#include "ovh_test.h"

#define NOW 1700000000000LL

//  The webhook JSON of a sessionCreated built from 'args', or NULL with
//  the error in 'error'
static char *
s_json_of (char *args [], size_t count, ovh_error_t *error)
{
    ovh_body_t *body = ovh_body_new ();
    ovh_translator_t *translator = ovh_translator_new ();
    assert (body && translator);
    char *json = NULL;
    if (ovh_argvalue_build (body, args, count, NOW, error) == 0) {
        size_t size;
        const void *data = ovh_body_data (body, &size);
        ovh_frame_t frames [2] = { { "sessionCreated", 14 }, { data, size } };
        ovh_event_t event;
        if (ovh_translator_translate (translator, frames, 2, &event) == 0)
            json = strdup (event.json);
        else
            *error = *ovh_translator_error (translator);
    }
    ovh_translator_destroy (&translator);
    ovh_body_destroy (&body);
    return json;
}

typedef struct {
    const char *arg;
    ovh_argkind_t kind;
    const char *json;           //  what follows "timestamp":NOW,
} s_typed_t;

static const s_typed_t s_typed [] = {
    { "n=42",                       OVH_ARG_INT,    "\"n\":42" },
    { "n=-7",                       OVH_ARG_INT,    "\"n\":-7" },
    { "n=0",                        OVH_ARG_INT,    "\"n\":0" },
    { "n=-0",                       OVH_ARG_INT,    "\"n\":0" },
    { "n=9223372036854775807",      OVH_ARG_INT,    "\"n\":9223372036854775807" },
    { "n=-9223372036854775808",     OVH_ARG_INT,    "\"n\":-9223372036854775808" },
    { "n=9223372036854775808",      OVH_ARG_UINT,   "\"n\":9223372036854775808" },
    { "n=18446744073709551615",     OVH_ARG_UINT,   "\"n\":18446744073709551615" },
    //  Beyond both ranges, and JSON-invalid numbers, stay strings
    { "n=18446744073709551616",     OVH_ARG_STRING, "\"n\":\"18446744073709551616\"" },
    { "n=-9223372036854775809",     OVH_ARG_STRING, "\"n\":\"-9223372036854775809\"" },
    { "n=007",                      OVH_ARG_STRING, "\"n\":\"007\"" },
    { "n=+1",                       OVH_ARG_STRING, "\"n\":\"+1\"" },
    { "n=0x10",                     OVH_ARG_STRING, "\"n\":\"0x10\"" },
    { "n=1 ",                       OVH_ARG_STRING, "\"n\":\"1 \"" },
    { "f=1.5",                      OVH_ARG_FLOAT,  "\"f\":1.5" },
    { "f=674.0",                    OVH_ARG_FLOAT,  "\"f\":674.0" },
    { "f=8.6",                      OVH_ARG_FLOAT,  "\"f\":8.6" },
    { "f=1e3",                      OVH_ARG_FLOAT,  "\"f\":1000.0" },
    { "f=-2.5E-3",                  OVH_ARG_FLOAT,  "\"f\":-0.0025" },
    { "f=0.1",                      OVH_ARG_FLOAT,  "\"f\":0.1" },
    { "f=1e999",                    OVH_ARG_STRING, "\"f\":\"1e999\"" },
    { "f=.5",                       OVH_ARG_STRING, "\"f\":\".5\"" },
    { "f=1.",                       OVH_ARG_STRING, "\"f\":\"1.\"" },
    { "f=1e",                       OVH_ARG_STRING, "\"f\":\"1e\"" },
    { "f=inf",                      OVH_ARG_STRING, "\"f\":\"inf\"" },
    { "f=NaN",                      OVH_ARG_STRING, "\"f\":\"NaN\"" },
    { "b=true",                     OVH_ARG_BOOL,   "\"b\":true" },
    { "b=false",                    OVH_ARG_BOOL,   "\"b\":false" },
    { "b=True",                     OVH_ARG_STRING, "\"b\":\"True\"" },
    { "z=null",                     OVH_ARG_NULL,   "\"z\":null" },
    { "z=NULL",                     OVH_ARG_STRING, "\"z\":\"NULL\"" },
    { "s=",                         OVH_ARG_STRING, "\"s\":\"\"" },
    { "s=hello world",              OVH_ARG_STRING, "\"s\":\"hello world\"" },
    { "s=\"q\"\\",                  OVH_ARG_STRING, "\"s\":\"\\\"q\\\"\\\\\"" },
    { "s=a=b",                      OVH_ARG_STRING, "\"s\":\"a=b\"" },
    { "s=caf\xc3\xa9",              OVH_ARG_STRING, "\"s\":\"caf\xc3\xa9\"" },
    //  key==value forces a string
    { "s==42",                      OVH_ARG_STRING, "\"s\":\"42\"" },
    { "s==true",                    OVH_ARG_STRING, "\"s\":\"true\"" },
    { "s===x",                      OVH_ARG_STRING, "\"s\":\"=x\"" },
    { "s==",                        OVH_ARG_STRING, "\"s\":\"\"" },
    //  key:=JSON takes any JSON value
    { "j:=[1,\"a\",{\"k\":null}]",  OVH_ARG_JSON,   "\"j\":[1,\"a\",{\"k\":null}]" },
    { "j:={\"b\":2,\"a\":[]}",      OVH_ARG_JSON,   "\"j\":{\"b\":2,\"a\":[]}" },
    { "j:=42",                      OVH_ARG_JSON,   "\"j\":42" },
    { "j:=\"42\"",                  OVH_ARG_JSON,   "\"j\":\"42\"" },
    { "j:=4.0",                     OVH_ARG_JSON,   "\"j\":4.0" },
    { "j:= true ",                  OVH_ARG_JSON,   "\"j\":true" },
    { "j:=null",                    OVH_ARG_JSON,   "\"j\":null" },
    //  Only a ':' right before the first '=' makes ":="
    { "a:b=c",                      OVH_ARG_STRING, "\"a:b\":\"c\"" },
    { "\xc3\xbc=1",                 OVH_ARG_INT,    "\"\xc3\xbc\":1" },
};

static void
s_test_typing (void)
{
    for (size_t index = 0; index < sizeof s_typed / sizeof s_typed [0]; index++) {
        const s_typed_t *row = &s_typed [index];
        ovh_argvalue_t value;
        ovh_error_t error;
        CHECK_MSG (ovh_argvalue_parse (row->arg, &value, &error) == 0, "%s: %s", row->arg, error.text);
        CHECK_MSG (value.kind == row->kind, "%s: kind %s, expected %s", row->arg,
                   ovh_argkind_name (value.kind), ovh_argkind_name (row->kind));
        char *args [] = { (char *) row->arg };
        char *json = s_json_of (args, 1, &error);
        char want [256];
        snprintf (want, sizeof want, "{\"event\":\"sessionCreated\",\"timestamp\":%lld,%s}",
                  NOW, row->json);
        CHECK_STR (json, want);
        free (json);
    }
}

typedef struct {
    const char *args [3];       //  NULL-terminated
    ovh_code_t code;
    const char *text;           //  the whole message
} s_reject_t;

//  Messages about a command-line value carry no offset (it would always
//  be 0, or count bytes of msgpack the user never sees); those about a
//  JSON value (key:=JSON) keep the offset in that JSON text
static const s_reject_t s_rejects [] = {
    { { "noequals" },               OVH_E_USAGE,
      "usage: 'noequals' is not key=value (or key:=JSON, key==string)" },
    { { "" },                       OVH_E_USAGE,
      "usage: '' is not key=value (or key:=JSON, key==string)" },
    { { "=5" },                     OVH_E_USAGE,       "usage: '=5' has an empty key" },
    { { ":=5" },                    OVH_E_USAGE,       "usage: ':=5' has an empty key" },
    { { "==5" },                    OVH_E_USAGE,       "usage: '==5' has an empty key" },
    { { "event=x" },                OVH_E_EVENT_KEY,
      "event-key: 'event=x': the event is named by the EVENT argument, not by a property "
      "\"event\" (at event)" },
    { { "event:=1" },               OVH_E_EVENT_KEY,
      "event-key: 'event:=1': the event is named by the EVENT argument, not by a property "
      "\"event\" (at event)" },
    { { "k=\xff" },                 OVH_E_UTF8,
      "utf8: the value of 'k=\xff' is not valid UTF-8" },
    { { "k==a\xc3" },               OVH_E_UTF8,
      "utf8: the value of 'k==a\xc3' is not valid UTF-8" },
    { { "k=\xed\xa0\x80" },         OVH_E_UTF8,
      "utf8: the value of 'k=\xed\xa0\x80' is not valid UTF-8" },
    { { "\xc0\xaf=1" },             OVH_E_UTF8,        "utf8: the key of '\xc0\xaf=1' is not valid UTF-8" },
    { { "a=1", "b=2", "a=3" },      OVH_E_USAGE,
      "usage: property 'a' is given twice ('a=1', 'a=3')" },
    { { "a=1", "a:=1" },            OVH_E_USAGE,
      "usage: property 'a' is given twice ('a=1', 'a:=1')" },
    { { "j:=[1," },                 OVH_E_JSON,
      "j:=[1,: json: j:=[1,: ']' expected near end of file (offset 3, at j)" },
    { { "j:=" },                    OVH_E_JSON,
      "j:=: json: j:=: unexpected token near end of file (offset 0, at j)" },
    { { "j:=nope" },                OVH_E_JSON,
      "j:=nope: json: j:=nope: invalid token near 'nope' (offset 4, at j)" },
    { { "j:={\"a\":1,\"a\":2}" },   OVH_E_JSON,
      "j:={\"a\":1,\"a\":2}: json: j:={\"a\":1,\"a\":2}: duplicate object key near '\"a\"' "
      "(offset 10, at j)" },
    { { "j:={\"a\\u0000\":1}" },    OVH_E_JSON,
      "j:={\"a\\u0000\":1}: json: j:={\"a\\u0000\":1}: NUL byte in object key not supported "
      "near '\"a\\u0000\"' (offset 10, at j)" },
    { { "j:=\"\\ud800\"" },         OVH_E_JSON,
      "j:=\"\\ud800\": json: j:=\"\\ud800\": invalid Unicode '\\uD800' near '\"\\ud800\"' "
      "(offset 8, at j)" },
    { { "j:=99999999999999999999" },OVH_E_JSON_NUMBER,
      "j:=99999999999999999999: json-number: j:=99999999999999999999: too big integer near "
      "'99999999999999999999' (offset 20, at j)" },
    { { "ok=1", "j:=[1,]" },        OVH_E_JSON,
      "j:=[1,]: json: j:=[1,]: unexpected token near ']' (offset 4, at j)" },
    //  Found while building the body: its msgpack offset is not shown
    { { "d:=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]" }, OVH_E_DEPTH,
      "d:=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]: depth: containers "
      "nested deeper than 32 (at [0])" },
};

static void
s_test_rejects (void)
{
    for (size_t index = 0; index < sizeof s_rejects / sizeof s_rejects [0]; index++) {
        const s_reject_t *row = &s_rejects [index];
        size_t count = 0;
        while (count < 3 && row->args [count])
            count++;
        ovh_error_t error;
        ovh_error_clear (&error);
        char *json = s_json_of ((char **) row->args, count, &error);
        CHECK_MSG (json == NULL, "%s: accepted as %s", row->args [0], json);
        free (json);
        CHECK_MSG (error.code == row->code, "%s: code %s, expected %s (%s)", row->args [0],
                   ovh_code_name (error.code), ovh_code_name (row->code), error.text);
        CHECK_STR (error.text, row->text);
    }
}

//  Nesting: the body map is depth 1, so 31 nested arrays fit, 32 do not
static void
s_test_depth (void)
{
    for (int levels = 31; levels <= 32; levels++) {
        char arg [128] = "j:=";
        for (int level = 0; level < levels; level++)
            strcat (arg, "[");
        for (int level = 0; level < levels; level++)
            strcat (arg, "]");
        char *args [] = { arg };
        ovh_error_t error;
        ovh_error_clear (&error);
        char *json = s_json_of (args, 1, &error);
        if (levels == 31)
            CHECK_MSG (json != NULL, "31 levels: %s", error.text);
        else
            CHECK_MSG (json == NULL && error.code == OVH_E_DEPTH, "32 levels: %s", error.text);
        free (json);
    }
}

//  timestamp: made up and first unless given; kept where it is given
static void
s_test_timestamp (void)
{
    ovh_error_t error;
    char *none [] = { "sessionId=s" };
    char *json = s_json_of (none, 1, &error);
    CHECK_STR (json, "{\"event\":\"sessionCreated\",\"timestamp\":1700000000000,\"sessionId\":\"s\"}");
    free (json);
    char *given [] = { "sessionId=s", "timestamp=5" };
    json = s_json_of (given, 2, &error);
    CHECK_STR (json, "{\"event\":\"sessionCreated\",\"sessionId\":\"s\",\"timestamp\":5}");
    free (json);
    char *as_string [] = { "timestamp==5" };
    json = s_json_of (as_string, 1, &error);
    CHECK_STR (json, "{\"event\":\"sessionCreated\",\"timestamp\":\"5\"}");
    free (json);
    json = s_json_of (NULL, 0, &error);
    CHECK_STR (json, "{\"event\":\"sessionCreated\",\"timestamp\":1700000000000}");
    free (json);
}

static void
s_test_utf8 (void)
{
    static const struct { const char *text; bool valid; } rows [] = {
        { "", true }, { "plain", true }, { "\xc3\xa9", true }, { "\xe2\x82\xac", true },
        { "\xf0\x9f\x98\x80", true }, { "\xf4\x8f\xbf\xbf", true },
        { "\xc0\x80", false },          //  overlong NUL
        { "\xe0\x80\xaf", false },      //  overlong '/'
        { "\xed\xa0\x80", false },      //  surrogate
        { "\xf4\x90\x80\x80", false },  //  above U+10FFFF
        { "\xe2\x82", false },          //  truncated
        { "\x80", false }, { "\xff", false }, { "a\xc3(", false },
    };
    for (size_t index = 0; index < sizeof rows / sizeof rows [0]; index++)
        CHECK_MSG (ovh_utf8_valid (rows [index].text, strlen (rows [index].text))
                   == rows [index].valid, "row %zu", index);
}

static void
s_test_cli (void)
{
    static const struct { const char *endpoints; bool valid; } rows [] = {
        { ">tcp://127.0.0.1:5560", true }, { "@tcp://*:5560", true },
        { "tcp://[::1]:5560", true }, { "@tcp://127.0.0.1:*", true },
        { "@ipc:///tmp/ovhook.bus", true }, { "inproc://bus", true },
        { ">tcp://a:1,>tcp://b:2", true }, { "@tcp://eth0:0", true },
        { "", false }, { "@", false }, { ",", false }, { ">tcp://a:1,", false },
        { "tcp://127.0.0.1", false }, { "tcp://:5560", false }, { "tcp://h:", false },
        { "tcp://h:99999", false }, { "tcp://h:5a", false }, { "foo://x", false },
        { "127.0.0.1:5560", false }, { ">tcp//a:1", false }, { "tcp://", false },
        { "@@tcp://a:1", false },
    };
    for (size_t index = 0; index < sizeof rows / sizeof rows [0]; index++) {
        char why [256] = "";
        int rc = ovh_cli_check_endpoints (rows [index].endpoints, why, sizeof why);
        CHECK_MSG ((rc == 0) == rows [index].valid, "'%s': rc %d (%s)",
                   rows [index].endpoints, rc, why);
        if (!rows [index].valid)
            CHECK_MSG (*why, "'%s': no reason given", rows [index].endpoints);
    }
    static const struct { const char *text; int rc; int64_t msecs; } durations [] = {
        { "500", 0, 500 }, { "500ms", 0, 500 }, { "2s", 0, 2000 }, { "1m", 0, 60000 },
        { "0", 0, 0 }, { "", -1, 0 }, { "s", -1, 0 }, { "-1", -1, 0 }, { "2h", 0, 7200000 },
        { "2S", 0, 2000 }, { "500MS", 0, 500 }, { "596h", 0, 2145600000 },
        { "597h", -1, 0 }, { "1.5s", -1, 0 }, { " 1", -1, 0 }, { "99999999m", -1, 0 },
        { "2147483647", 0, 2147483647 }, { "2147483648", -1, 0 }, { "1d", -1, 0 },
    };
    for (size_t index = 0; index < sizeof durations / sizeof durations [0]; index++) {
        int64_t msecs = -42;
        int rc = ovh_cli_duration (durations [index].text, &msecs);
        CHECK_MSG (rc == durations [index].rc, "duration '%s'", durations [index].text);
        if (rc == 0)
            CHECK_MSG (msecs == durations [index].msecs, "duration '%s'", durations [index].text);
    }
    int64_t number;
    CHECK (ovh_cli_integer ("12", 0, 100, &number) == 0 && number == 12);
    CHECK (ovh_cli_integer ("101", 0, 100, &number) == -1);
    CHECK (ovh_cli_integer ("-1", 0, 100, &number) == -1);
    CHECK (ovh_cli_integer (" 1", 0, 100, &number) == -1);
    CHECK (ovh_cli_integer ("+1", 0, 100, &number) == -1);
    CHECK (ovh_cli_integer ("1x", 0, 100, &number) == -1);
    double real;
    CHECK (ovh_cli_real ("2.5", &real) == 0 && real == 2.5);
    CHECK (ovh_cli_real ("-1", &real) == -1);
    CHECK (ovh_cli_real ("inf", &real) == -1);

    char *argv [] = { "x", "--bus=@tcp://a:1", "--bus", "v", "--busy", "--bus" };
    int index = 1;
    bool missing = false;
    CHECK_STR (ovh_cli_value (6, argv, &index, "--bus", &missing), "@tcp://a:1");
    index = 2;
    CHECK_STR (ovh_cli_value (6, argv, &index, "--bus", &missing), "v");
    CHECK (index == 3);
    index = 4;
    CHECK (ovh_cli_value (6, argv, &index, "--bus", &missing) == NULL && !missing);
    index = 5;
    CHECK (ovh_cli_value (6, argv, &index, "--bus", &missing) == NULL && missing);
}

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
    s_test_typing ();
    s_test_rejects ();
    s_test_depth ();
    s_test_timestamp ();
    s_test_utf8 ();
    s_test_cli ();
    s_test_scenarios ();
    return ovh_test_done ("test_inject_args");
}
