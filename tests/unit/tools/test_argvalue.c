/*  test_argvalue.c - key=value typing for ovhook-inject (ovh_argvalue):
    the JSON each argument becomes, every rejection with its code, nesting,
    the made-up timestamp, UTF-8 checks.                                    */

#include <jansson.h>
#include "ovh_test.h"
#include "ovh_argvalue.h"

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

int
main (void)
{
    s_test_typing ();
    s_test_rejects ();
    s_test_depth ();
    s_test_timestamp ();
    s_test_utf8 ();
    return ovh_test_done ("test_argvalue");
}
