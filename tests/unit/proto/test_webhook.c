/*  test_webhook.c - webhook JSON to msgpack body: the bytes produced for
    each kind of JSON value (written by hand), and every rejection with its
    code, offset and property path.                                          */

#include <ctype.h>
#include "ovhook.h"
#include "ovh_test.h"

//  Expected bytes as hex with spaces ("81 a1 6b 01"); strings as "'text'"
//  for readability: 'ab' is 61 62
static size_t
s_unhex (const char *hex, uint8_t *out, size_t max)
{
    size_t size = 0;
    while (*hex) {
        if (isspace ((unsigned char) *hex)) {
            hex++;
            continue;
        }
        if (*hex == '\'') {
            for (hex++; *hex && *hex != '\''; hex++)
                if (size < max)
                    out [size++] = (uint8_t) *hex;
            if (*hex)
                hex++;
            continue;
        }
        unsigned int byte;
        if (sscanf (hex, "%2x", &byte) != 1) {
            fprintf (stderr, "bad hex in test table: %s\n", hex);
            abort ();
        }
        if (size < max)
            out [size++] = (uint8_t) byte;
        hex += 2;
    }
    return size;
}

typedef struct {
    const char *json;
    const char *type;
    const char *bytes;
} s_good_t;

static const s_good_t s_goods [] = {
    { "{\"event\":\"sessionCreated\",\"timestamp\":1601394690713,\"sessionId\":\"ses_Jd8tUyvhXO\"}",
      "sessionCreated",
      "82 a9 'timestamp' cf 00 00 01 74 da 8f ca 99 a9 'sessionId' ae 'ses_Jd8tUyvhXO'" },
    //  "event" may be anywhere; it is never copied
    { "{\"timestamp\":1,\"event\":\"signalSent\",\"to\":[\"a\",\"b\"]}",
      "signalSent", "82 a9 'timestamp' 01 a2 'to' 92 a1 'a' a1 'b'" },
    { "{\"a\":null,\"event\":\"autoscaling\"}", "autoscaling", "81 a1 'a' c0" },
    { "{\"event\":\"nodeCrashed\"}", "nodeCrashed", "80" },
    //  Reals stay float64, even integral ones; integers take the smallest form
    { "{\"event\":\"recordingStatusChanged\",\"duration\":8.6,\"d\":674.0,\"z\":-0.0,\"e\":1e3}",
      "recordingStatusChanged",
      "84 a8 'duration' cb 40 21 33 33 33 33 33 33 a1 'd' cb 40 85 10 00 00 00 00 00"
      " a1 'z' cb 80 00 00 00 00 00 00 00 a1 'e' cb 40 8f 40 00 00 00 00 00" },
    { "{\"event\":\"sessionCreated\",\"a\":-1,\"b\":9223372036854775807,"
      "\"c\":-9223372036854775808,\"d\":128,\"e\":0,\"f\":-33}",
      "sessionCreated",
      "86 a1 'a' ff a1 'b' cf 7f ff ff ff ff ff ff ff a1 'c' d3 80 00 00 00 00 00 00 00"
      " a1 'd' cc 80 a1 'e' 00 a1 'f' d0 df" },
    { "{\"event\":\"autoscaling\",\"x\":{\"y\":[true,false,null,{}],\"z\":[]}}",
      "autoscaling", "81 a1 'x' 82 a1 'y' 94 c3 c2 c0 80 a1 'z' 90" },
    //  Escapes decoded, UTF-8 kept, \u0000 carried (JSON_ALLOW_NUL)
    { "{\"event\":\"sessionCreated\",\"s\":\"a\\\"b\\\\c\\/d\\n\\u00e9\\u0000x\\ud83d\\ude00\"}",
      "sessionCreated",
      "81 a1 's' b0 'a' 22 'b' 5c 'c/d' 0a c3 a9 00 'x' f0 9f 98 80" },
    { "{\"event\":\"sessionCreated\",\"s\":\"\xc3\xa9t\xc3\xa9\"}", "sessionCreated",
      "81 a1 's' a5 c3 a9 't' c3 a9" },
    { " {\n\"event\" : \"HANodeRegistered\" ,\t\"k\" : 1 }\r\n", "HANodeRegistered",
      "81 a1 'k' 01" },
    //  Only the top-level "event" is special
    { "{\"event\":\"sessionCreated\",\"m\":{\"event\":1}}", "sessionCreated",
      "81 a1 'm' 81 a5 'event' 01" },
    //  Sixteen elements: array16 header
    { "{\"event\":\"nodeCrashed\",\"a\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}",
      "nodeCrashed", "81 a1 'a' dc 00 10 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f" },
};

typedef struct {
    const char *name;
    const char *json;
    ovh_code_t code;
    size_t offset;              //  SIZE_MAX: not checked
    const char *path;           //  NULL: not checked
    const char *text;           //  substring of the message, or NULL
} s_bad_t;

#define ANY SIZE_MAX

static const s_bad_t s_bads [] = {
    { "empty text", "", OVH_E_JSON, 0, "", NULL },
    { "truncated", "{\"event\":\"sessionCreated\"", OVH_E_JSON, ANY, NULL, "line 1" },
    { "bad token", "{\"event\":\"sessionCreated\",\"k\":tru}", OVH_E_JSON, 33, "",
      "invalid token" },
    { "trailing comma", "{\"event\":\"sessionCreated\",}", OVH_E_JSON, ANY, NULL, NULL },
    { "trailing garbage", "{\"event\":\"sessionCreated\"} x", OVH_E_JSON, ANY, NULL, NULL },
    { "invalid UTF-8", "{\"event\":\"sessionCreated\",\"s\":\"\xc3\x28\"}", OVH_E_JSON,
      ANY, NULL, NULL },
    { "second line error", "{\"event\":\"sessionCreated\",\n\"k\":}", OVH_E_JSON, ANY, NULL,
      "line 2" },
    { "array", "[{\"event\":\"sessionCreated\"}]", OVH_E_JSON, 0, "", "not an object" },
    { "number", "42", OVH_E_JSON, ANY, NULL, NULL },
    { "string", "\"sessionCreated\"", OVH_E_JSON, ANY, NULL, NULL },
    { "no event", "{\"timestamp\":1}", OVH_E_JSON_EVENT, ANY, NULL, "no \"event\"" },
    { "empty object", "{}", OVH_E_JSON_EVENT, ANY, NULL, NULL },
    { "nested event only", "{\"m\":{\"event\":\"sessionCreated\"}}", OVH_E_JSON_EVENT, ANY,
      NULL, NULL },
    { "event number", "{\"a\":1, \"event\":1}", OVH_E_JSON_EVENT, 16, "event", "an integer" },
    { "event null", "{\"event\":null}", OVH_E_JSON_EVENT, 9, "event", "null" },
    { "event array", "{\"event\":[\"sessionCreated\"]}", OVH_E_JSON_EVENT, 9, "event",
      "an array" },
    { "old event name", "{\"event\":\"recordingStarted\"}", OVH_E_JSON_EVENT, 9, "event",
      "'recordingStarted'" },
    { "wrong case", "{\"event\":\"SessionCreated\"}", OVH_E_JSON_EVENT, ANY, "event",
      "'SessionCreated'" },
    { "empty event", "{\"event\":\"\"}", OVH_E_JSON_EVENT, ANY, "event", NULL },
    { "event with NUL", "{\"event\":\"sessionCreated\\u0000\"}", OVH_E_JSON_EVENT, ANY,
      "event", NULL },
    { "duplicate key", "{\"event\":\"sessionCreated\",\"a\":1,\"a\":2}", OVH_E_JSON, ANY,
      NULL, "duplicate" },
    { "duplicate nested", "{\"event\":\"sessionCreated\",\"m\":{\"x\":1,\"x\":1}}", OVH_E_JSON,
      ANY, NULL, "duplicate" },
    { "duplicate event", "{\"event\":\"sessionCreated\",\"event\":\"sessionCreated\"}",
      OVH_E_JSON, ANY, NULL, "duplicate" },
    { "key with NUL", "{\"event\":\"sessionCreated\",\"a\\u0000b\":1}", OVH_E_JSON, ANY,
      NULL, "NUL" },
    { "int64 max + 1", "{\"event\":\"sessionCreated\",\"n\":9223372036854775808}",
      OVH_E_JSON_NUMBER, 30, "n", "too big integer" },
    { "int64 min - 1", "{\"event\":\"sessionCreated\",\"m\":{\"a\":[1,-9223372036854775809]}}",
      OVH_E_JSON_NUMBER, 38, "m.a[1]", "too big negative integer" },
    //  Jansson 2.14 cannot read integers above INT64_MAX (see ovh_webhook.c)
    { "uint64 max", "{\"event\":\"sessionCreated\",\"n\":18446744073709551615}",
      OVH_E_JSON_NUMBER, 30, "n", NULL },
    { "huge integer", "{\"event\":\"sessionCreated\",\"a\":[0,1,2,99999999999999999999999]}",
      OVH_E_JSON_NUMBER, 37, "a[3]", NULL },
    { "real overflow", "{\"event\":\"sessionCreated\",\"x\":{\"y\":-1e400}}",
      OVH_E_JSON_NUMBER, 35, "x.y", "overflow" },
};

//  {"event":"sessionCreated","d":[[[...1...]]]} with 'arrays' nested arrays
static char *
s_nested (int arrays)
{
    char *json = malloc (64 + 2 * (size_t) arrays);
    assert (json);
    size_t at = (size_t) sprintf (json, "{\"event\":\"sessionCreated\",\"d\":");
    for (int index = 0; index < arrays; index++)
        json [at++] = '[';
    json [at++] = '1';
    for (int index = 0; index < arrays; index++)
        json [at++] = ']';
    json [at++] = '}';
    json [at] = 0;
    return json;
}

static void
s_test_depth (ovh_body_t *body)
{
    ovh_error_t error;
    //  The body map is depth 1, so 31 nested arrays are the most allowed
    char *json = s_nested (OVH_MAX_DEPTH - 1);
    CHECK (ovh_webhook_to_body (json, strlen (json), body, &error) != NULL);
    size_t size;
    const uint8_t *data = ovh_body_data (body, &size);
    CHECK (data && size == 3 + (OVH_MAX_DEPTH - 1) + 1);
    CHECK (data && data [3] == 0x91 && data [size - 1] == 0x01);
    free (json);

    json = s_nested (OVH_MAX_DEPTH);
    CHECK (ovh_webhook_to_body (json, strlen (json), body, &error) == NULL);
    CHECK_MSG (error.code == OVH_E_DEPTH, "code %s", ovh_code_name (error.code));
    //  The 32nd '[' is too deep: offset 30 is the first '['
    CHECK_MSG (error.offset == 30 + OVH_MAX_DEPTH - 1, "offset %zu", error.offset);
    //  "d" is depth 2, so the 32nd array is d followed by 31 [0]
    CHECK_STR (error.path, "d[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
                           "[0][0][0][0][0][0][0][0][0][0][0][0]");
    CHECK (ovh_body_count (body) == 0);
    free (json);

    //  Deeper than Jansson's own limit: still an error, not a crash
    json = s_nested (5000);
    CHECK (ovh_webhook_to_body (json, strlen (json), body, &error) == NULL);
    CHECK (error.code == OVH_E_JSON || error.code == OVH_E_DEPTH);
    free (json);
}

int
main (void)
{
    ovh_body_t *body = ovh_body_new ();
    assert (body);
    ovh_error_t error;

    for (size_t index = 0; index < sizeof s_goods / sizeof s_goods [0]; index++) {
        const s_good_t *good = &s_goods [index];
        const ovh_event_type_t *type = ovh_webhook_to_body (good->json, strlen (good->json),
                                                            body, &error);
        CHECK_MSG (type && streq (type->name, good->type), "good %zu: %s", index,
                   type? type->name: error.text);
        CHECK (type == NULL || error.code == OVH_OK);
        uint8_t want [256];
        size_t want_size = s_unhex (good->bytes, want, sizeof want);
        size_t size = 0;
        const uint8_t *data = ovh_body_data (body, &size);
        bool same = data && size == want_size && memcmp (data, want, size) == 0;
        CHECK_MSG (same, "good %zu: bytes differ", index);
        if (!same && data) {
            for (size_t at = 0; at < size; at++)
                fprintf (stderr, "%02x ", data [at]);
            fputc ('\n', stderr);
        }
    }

    for (size_t index = 0; index < sizeof s_bads / sizeof s_bads [0]; index++) {
        const s_bad_t *bad = &s_bads [index];
        //  Leave something in the body: a failure must reset it
        ovh_body_reset (body);
        ovh_body_int (body, "stale", 1);
        const ovh_event_type_t *type = ovh_webhook_to_body (bad->json, strlen (bad->json),
                                                            body, &error);
        CHECK_MSG (type == NULL, "%s: accepted", bad->name);
        CHECK_MSG (error.code == bad->code, "%s: code %s, want %s (%s)", bad->name,
                   ovh_code_name (error.code), ovh_code_name (bad->code), error.text);
        if (bad->offset != ANY)
            CHECK_MSG (error.offset == bad->offset, "%s: offset %zu, want %zu",
                       bad->name, error.offset, bad->offset);
        if (bad->path)
            CHECK_MSG (streq (error.path, bad->path), "%s: path '%s', want '%s'",
                       bad->name, error.path, bad->path);
        if (bad->text)
            CHECK_MSG (strstr (error.text, bad->text), "%s: text '%s' lacks '%s'",
                       bad->name, error.text, bad->text);
        CHECK_MSG (strncmp (error.text, ovh_code_name (bad->code),
                            strlen (ovh_code_name (bad->code))) == 0,
                   "%s: text '%s'", bad->name, error.text);
        CHECK_MSG (ovh_body_count (body) == 0, "%s: body not reset", bad->name);
    }

    //  Text with an embedded NUL is given by size
    const char with_nul [] = "{\"event\":\"sessionCreated\"}\0garbage";
    CHECK (ovh_webhook_to_body (with_nul, sizeof with_nul - 1, body, &error) == NULL);
    CHECK (error.code == OVH_E_JSON);
    CHECK (ovh_webhook_to_body (with_nul, strlen (with_nul), body, &error) != NULL);
    //  The error report is optional
    CHECK (ovh_webhook_to_body ("{}", 2, body, NULL) == NULL);

    s_test_depth (body);
    ovh_body_destroy (&body);
    return ovh_test_done ("test_webhook");
}
