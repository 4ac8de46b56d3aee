/*  test_translator.c - the msgpack -> webhook JSON translator: one table row
    per mapping rule, one per rejection (with its exact code, frame, offset
    and path), ordering key and envelope results, buffer reuse, and the 15
    golden examples of the reference round-tripping byte for byte.

    Bytes are written as "81 a1 'v' c0": hex bytes, and quoted ASCII text.   */

#include <czmq.h>
#include <jansson.h>
#include <msgpack.h>
#include "ovhook.h"
#include "ovh_test.h"

#define TOPIC "sessionCreated"
#define PREFIX "{\"event\":\"" TOPIC "\""

//  Translate topic + body (+ envelope when not NULL); specs as above
static int
s_translate (ovh_translator_t *translator, const char *topic, const char *body,
             const char *envelope, ovh_event_t *event)
{
    static uint8_t body_bytes [4096], envelope_bytes [1024];
    ovh_frame_t frames [3] = {
        { topic, strlen (topic) },
        { body_bytes, ovh_test_bytes (body, body_bytes, sizeof body_bytes) },
        { envelope_bytes, 0 }
    };
    if (envelope)
        frames [2].size = ovh_test_bytes (envelope, envelope_bytes, sizeof envelope_bytes);
    return ovh_translator_translate (translator, frames, envelope? 3: 2, event);
}

//  Output must be valid JSON (big integers read as reals)
static bool
s_valid_json (const char *text, size_t size)
{
    json_error_t error;
    json_t *json = json_loadb (text, size, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &error);
    bool valid = json && json_is_object (json);
    json_decref (json);
    return valid;
}

//  --------------------------------------------------------------------------
//  Mapping: each value is the body {"v": value}

typedef struct {
    const char *value;          //  msgpack bytes of the value
    const char *json;           //  its JSON text
} value_case_t;

static const value_case_t s_values [] = {
    { "c0", "null" },
    { "c2", "false" },
    { "c3", "true" },
    //  Integers, every width, at their limits
    { "00", "0" },
    { "7f", "127" },
    { "09", "9" },
    { "0a", "10" },
    { "63", "99" },
    { "cc 64", "100" },
    { "ce 3b 9a c9 ff", "999999999" },
    { "ce 3b 9a ca 00", "1000000000" },
    { "cf 00 00 00 01 00 00 00 00", "4294967296" },
    { "cf 8a c7 23 04 89 e7 ff ff", "9999999999999999999" },
    { "cf 8a c7 23 04 89 e8 00 00", "10000000000000000000" },
    { "ff", "-1" },
    { "e0", "-32" },
    { "cc ff", "255" },
    { "cd ff ff", "65535" },
    { "ce ff ff ff ff", "4294967295" },
    { "cf ff ff ff ff ff ff ff ff", "18446744073709551615" },
    { "cf 00 00 01 74 da 8f cb 5f", "1601394690911" },
    { "d0 80", "-128" },
    { "d0 05", "5" },
    { "d1 80 00", "-32768" },
    { "d2 80 00 00 00", "-2147483648" },
    { "d3 80 00 00 00 00 00 00 00", "-9223372036854775808" },
    { "d3 7f ff ff ff ff ff ff ff", "9223372036854775807" },
    { "d3 ff ff ff ff ff ff ff 9c", "-100" },
    //  float64: shortest of %.15g/%.16g/%.17g that reads back; integral keeps .0
    { "cb 40 21 33 33 33 33 33 33", "8.6" },
    { "cb 40 85 10 00 00 00 00 00", "674.0" },
    { "cb 40 1f c9 62 fc 96 2f c9", "7.946666666666666" },
    { "cb 7e 37 e4 3c 88 00 75 9c", "1e+300" },
    { "cb 00 00 00 00 00 00 00 01", "4.94065645841247e-324" },
    { "cb 80 00 00 00 00 00 00 00", "-0.0" },
    { "cb 00 00 00 00 00 00 00 00", "0.0" },
    { "cb 3f d3 33 33 33 33 33 34", "0.30000000000000004" },
    { "cb 43 0c 6b f5 26 34 00 00", "1e+15" },
    { "cb 42 dc 12 21 83 77 de 40", "123456789012345.0" },
    { "cb 43 40 00 00 00 00 00 00", "9007199254740992.0" },
    { "cb c0 04 00 00 00 00 00 00", "-2.5" },
    { "cb 3e 7a d7 f2 9a bc af 48", "1e-07" },
    //  float32: shortest of %.6g..%.9g that reads back as the float
    { "ca 3d cc cc cd", "0.1" },
    { "ca 44 28 80 00", "674.0" },
    { "ca 50 15 02 f9", "1e+10" },
    { "ca 4b 80 00 00", "16777216.0" },
    { "ca 7f 7f ff ff", "3.4028235e+38" },
    { "ca 00 00 00 01", "1.4013e-45" },
    { "ca 80 00 00 00", "-0.0" },
    { "ca bf c0 00 00", "-1.5" },
    //  Strings: RFC 8259 escapes, '/' DEL and non-ASCII as they are
    { "a0", "\"\"" },
    { "a3 'abc'", "\"abc\"" },
    { "a2 22 5c", "\"\\\"\\\\\"" },
    { "a5 08 0c 0a 0d 09", "\"\\b\\f\\n\\r\\t\"" },
    { "a3 00 01 1f", "\"\\u0000\\u0001\\u001f\"" },
    { "a3 2f 7f 20", "\"/\x7f \"" },
    { "a2 c3 a9", "\"\xc3\xa9\"" },
    { "a4 f0 9f 98 80", "\"\xf0\x9f\x98\x80\"" },
    { "a3 e2 82 ac", "\"\xe2\x82\xac\"" },
    { "a4 f4 8f bf bf", "\"\xf4\x8f\xbf\xbf\"" },
    //  Longer than a word: escapes and non-ASCII at every kind of position
    { "b4 'abcdefghij' 22 'klmnopqr' 0a", "\"abcdefghij\\\"klmnopqr\\n\"" },
    { "b3 '0123456' c3 a9 '789abcdef' 00", "\"0123456\xc3\xa9" "789abcdef\\u0000\"" },
    { "b0 'abcdefgh' 'ijklmnop'", "\"abcdefghijklmnop\"" },
    { "b1 'abcdefgh' 'ijklmnop' 5c", "\"abcdefghijklmnop\\\\\"" },
    { "ac 'x' f0 9f 98 80 'yyyyyyy'", "\"x\xf0\x9f\x98\x80yyyyyyy\"" },
    //  Every string encoding
    { "d9 03 'abc'", "\"abc\"" },
    { "da 00 03 'abc'", "\"abc\"" },
    { "db 00 00 00 03 'abc'", "\"abc\"" },
    //  Containers, nested, empty, every encoding
    { "80", "{}" },
    { "90", "[]" },
    { "92 01 92 02 c0", "[1,[2,null]]" },
    { "81 a1 'k' 91 80", "{\"k\":[{}]}" },
    { "82 a1 'a' 01 a1 'b' 92 c3 a0", "{\"a\":1,\"b\":[true,\"\"]}" },
    { "81 a3 'a' 22 'b' 01", "{\"a\\\"b\":1}" },
    { "81 a5 'event' 01", "{\"event\":1}" },    //  only the top level is reserved
    { "dc 00 02 01 02", "[1,2]" },
    { "dd 00 00 00 02 01 02", "[1,2]" },
    { "de 00 01 a1 'a' 01", "{\"a\":1}" },
    { "df 00 00 00 01 a1 'a' 01", "{\"a\":1}" },
    { "dc 00 00", "[]" },
    { "df 00 00 00 00", "{}" },
};

static void
s_test_values (ovh_translator_t *translator)
{
    for (size_t index = 0; index < sizeof s_values / sizeof s_values [0]; index++) {
        const value_case_t *row = &s_values [index];
        char body [512], want [512];
        snprintf (body, sizeof body, "81 a1 'v' %s", row->value);
        snprintf (want, sizeof want, PREFIX ",\"v\":%s}", row->json);
        ovh_event_t event;
        int rc = s_translate (translator, TOPIC, body, NULL, &event);
        CHECK_MSG (rc == 0, "value %s: %s", row->value, ovh_translator_error (translator)->text);
        if (rc)
            continue;
        CHECK_STR (event.json, want);
        CHECK (event.json_size == strlen (want));
        CHECK (event.json [event.json_size] == 0);
        CHECK_MSG (s_valid_json (event.json, event.json_size), "invalid JSON %s", event.json);
        CHECK (event.type == ovh_catalog_lookup (TOPIC, strlen (TOPIC)));
    }
}

//  Floats against common.md's rule, written literally: the first of %.15g,
//  %.16g, %.17g (float32: %.6g..%.9g) that reads back, ".0" when integral.
//  The translator takes shortcuts; they must give the same text.
static void
s_reference_float (double value, bool single, char *text, size_t size)
{
    for (int precision = single? 6: 15; precision <= (single? 9: 17); precision++) {
        snprintf (text, size, "%.*g", precision, value);
        if (single? strtof (text, NULL) == (float) value: strtod (text, NULL) == value)
            break;
    }
    if (!strchr (text, '.') && !strchr (text, 'e'))
        strcat (text, ".0");
}

static uint64_t
s_random (void)
{
    static uint64_t state = 0x9e3779b97f4a7c15ULL;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static int
s_check_float (ovh_translator_t *translator, double value, bool single)
{
    uint8_t body [16] = { 0x81, 0xa1, 'v', single? 0xca: 0xcb };
    size_t size;
    if (single) {
        float narrow = (float) value;
        uint32_t bits;
        memcpy (&bits, &narrow, 4);
        for (int index = 0; index < 4; index++)
            body [4 + index] = (uint8_t) (bits >> (24 - 8 * index));
        size = 8;
    }
    else {
        uint64_t bits;
        memcpy (&bits, &value, 8);
        for (int index = 0; index < 8; index++)
            body [4 + index] = (uint8_t) (bits >> (56 - 8 * index));
        size = 12;
    }
    ovh_frame_t frames [2] = { { TOPIC, strlen (TOPIC) }, { body, size } };
    ovh_event_t event;
    if (ovh_translator_translate (translator, frames, 2, &event))
        return 1;
    char want [64], got [64];
    s_reference_float (single? (double) (float) value: value, single, want, sizeof want);
    size_t prefix = strlen (PREFIX ",\"v\":");
    snprintf (got, sizeof got, "%.*s", (int) (event.json_size - prefix - 1), event.json + prefix);
    if (strcmp (got, want) == 0)
        return 0;
    fprintf (stderr, "float %.17g (%s): got %s, want %s\n", value, single? "float32": "float64",
             got, want);
    return 1;
}

//  Neighbour of a positive double (no libm in this test's link)
static double
s_neighbour (double value, int direction)
{
    uint64_t bits;
    memcpy (&bits, &value, 8);
    bits += direction;
    memcpy (&value, &bits, 8);
    return value;
}

static void
s_test_floats (ovh_translator_t *translator)
{
    static const double powers [] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                      1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20 };
    int failures = 0, checked = 0;
    //  Short decimals, as people and sensors write them, at every scale
    for (int round = 0; round < 100000 && failures < 5; round++, checked++) {
        uint64_t random = s_random ();
        int digits = 1 + (int) ((random >> 8) % 17);        //  1 to 17 digits
        double mantissa = (double) ((random >> 12) % (uint64_t) powers [digits]);
        double value = mantissa / powers [(random >> 20) % 21];
        if (random & (1ULL << 40))
            value = -value;
        failures += s_check_float (translator, value, false);
        failures += s_check_float (translator, value, true);
    }
    //  Any bit pattern
    for (int round = 0; round < 100000 && failures < 5; round++, checked++) {
        uint64_t bits = s_random ();
        double value;
        memcpy (&value, &bits, 8);
        if (!isfinite (value))
            continue;
        failures += s_check_float (translator, value, false);
        uint32_t narrow_bits = (uint32_t) bits;
        float narrow;
        memcpy (&narrow, &narrow_bits, 4);
        if (isfinite (narrow))
            failures += s_check_float (translator, narrow, true);
    }
    //  Around the edges of the shortcuts
    const double edges [] = { 1e-4, 1e15, 1e-5, 1e14, 1e6, 0.1, 0.5, 2.5, 9007199254740993.0,
                              999999999999999.9, 99999999999999.99, 0.00012345678901234 };
    for (size_t index = 0; index < sizeof edges / sizeof edges [0]; index++) {
        double value = edges [index];
        for (int step = 0; step < 3; step++, checked++) {
            failures += s_check_float (translator, value, false);
            failures += s_check_float (translator, -value, false);
            failures += s_check_float (translator, value, true);
            value = s_neighbour (value, 1);
        }
        value = edges [index];
        for (int step = 0; step < 3; step++, checked++) {
            value = s_neighbour (value, -1);
            failures += s_check_float (translator, value, false);
        }
    }
    CHECK_MSG (failures == 0, "%d of %d floats differ from common.md's rule", failures, checked);
}

//  Whole bodies: the body map's own encodings, order, duplicate keys
typedef struct {
    const char *topic;
    const char *body;
    const char *json;
} body_case_t;

static const body_case_t s_bodies [] = {
    { TOPIC, "80", PREFIX "}" },
    { TOPIC, "de 00 00", PREFIX "}" },
    { TOPIC, "df 00 00 00 01 a1 'a' c0", PREFIX ",\"a\":null}" },
    { TOPIC, "83 a1 'z' 01 a1 'a' 02 a1 'm' 03", PREFIX ",\"z\":1,\"a\":2,\"m\":3}" },
    { TOPIC, "82 a1 'a' 01 a1 'a' 02", PREFIX ",\"a\":1,\"a\":2}" },     //  passed through
    //  Strings in the last 16 bytes of a frame of 16 or more (another path)
    { TOPIC, "81 a5 'ab' 22 'cd' a9 'xyzxyzxyz'", PREFIX ",\"ab\\\"cd\":\"xyzxyzxyz\"}" },
    { TOPIC, "81 a5 'abcde' a9 'xyz' 0a 'xyzxy'", PREFIX ",\"abcde\":\"xyz\\nxyzxy\"}" },
    { TOPIC, "81 a5 'abcde' a9 'xyz' c3 a9 'xyzx'", PREFIX ",\"abcde\":\"xyz\xc3\xa9xyzx\"}" },
    { TOPIC, "81 a5 'abcde' af 'xyzxyzxyzxyzxyz'", PREFIX ",\"abcde\":\"xyzxyzxyzxyzxyz\"}" },
    { TOPIC, "81 a5 'abcde' b0 'xyzxyzxyzxyzxyz' 5c", PREFIX ",\"abcde\":\"xyzxyzxyzxyzxyz\\\\\"}" },
    { TOPIC, "81 a5 'abcde' a0", PREFIX ",\"abcde\":\"\"}" },
    { "HANodeDeregistered", "81 a6 'nodeId' a1 'n'",
      "{\"event\":\"HANodeDeregistered\",\"nodeId\":\"n\"}" },
};

static void
s_test_bodies (ovh_translator_t *translator)
{
    for (size_t index = 0; index < sizeof s_bodies / sizeof s_bodies [0]; index++) {
        const body_case_t *row = &s_bodies [index];
        ovh_event_t event;
        int rc = s_translate (translator, row->topic, row->body, NULL, &event);
        CHECK_MSG (rc == 0, "body %s: %s", row->body, ovh_translator_error (translator)->text);
        if (rc == 0) {
            CHECK_STR (event.json, row->json);
            CHECK (event.json [event.json_size] == 0);
        }
    }
}

//  --------------------------------------------------------------------------
//  Rejections

#define ANY -2                  //  offset not checked

typedef struct {
    const char *name;
    size_t frames;              //  0: 2, or 3 with an envelope
    size_t max_frame;           //  0: default
    const char *topic;          //  NULL: TOPIC
    const char *body;
    const char *envelope;       //  NULL: none
    ovh_code_t code;
    int frame;
    long offset;                //  ANY: not checked
    const char *path;           //  NULL: not checked
} reject_case_t;

#define ENV_OK "82 a3 'src' a1 'p' a3 'seq' 01"

static const reject_case_t s_rejects [] = {
    { "1 frame", 1, 0, NULL, "80", NULL, OVH_E_FRAMES, OVH_FRAME_NONE, 0, "" },
    { "4 frames", 4, 0, NULL, "80", ENV_OK, OVH_E_FRAMES, OVH_FRAME_NONE, 0, "" },
    { "unknown topic", 0, 0, "foo", "80", NULL, OVH_E_TOPIC, OVH_FRAME_TOPIC, 0, "" },
    { "topic + suffix", 0, 0, "sessionCreatedX", "80", NULL, OVH_E_TOPIC, OVH_FRAME_TOPIC, 0, "" },
    { "topic prefix", 0, 0, "session", "80", NULL, OVH_E_TOPIC, OVH_FRAME_TOPIC, 0, "" },
    { "topic case", 0, 0, "SessionCreated", "80", NULL, OVH_E_TOPIC, OVH_FRAME_TOPIC, 0, "" },
    { "old topic", 0, 0, "recordingStarted", "80", NULL, OVH_E_TOPIC, OVH_FRAME_TOPIC, 0, "" },
    { "empty topic", 0, 0, "", "80", NULL, OVH_E_TOPIC, OVH_FRAME_TOPIC, 0, "" },
    //  Frame sizes against set_max_frame
    { "body > max", 0, 10, "signalSent", "81 a1 'v' a7 'abcdefg'", NULL, OVH_E_FRAME_SIZE, OVH_FRAME_BODY, 10, "" },
    { "topic > max", 0, 10, NULL, "80", NULL, OVH_E_FRAME_SIZE, OVH_FRAME_TOPIC, 10, "" },
    { "envelope > max", 0, 10, "signalSent", "80", ENV_OK, OVH_E_FRAME_SIZE, OVH_FRAME_ENVELOPE, 10, "" },
    //  Truncation: data ends inside a value (header or scalar)
    { "empty body", 0, 0, NULL, "", NULL, OVH_E_TRUNCATED, OVH_FRAME_BODY, 0, "" },
    { "no value", 0, 0, NULL, "81 a1 'v'", NULL, OVH_E_TRUNCATED, OVH_FRAME_BODY, 3, "v" },
    { "cut uint16", 0, 0, NULL, "81 a1 'v' cd 01", NULL, OVH_E_TRUNCATED, OVH_FRAME_BODY, 3, "v" },
    { "cut float64", 0, 0, NULL, "81 a1 'v' cb 40 21", NULL, OVH_E_TRUNCATED, OVH_FRAME_BODY, 3, "v" },
    { "cut float32", 0, 0, NULL, "81 a1 'v' ca 40", NULL, OVH_E_TRUNCATED, OVH_FRAME_BODY, 3, "v" },
    { "cut int64", 0, 0, NULL, "81 a1 'v' d3 00 00", NULL, OVH_E_TRUNCATED, OVH_FRAME_BODY, 3, "v" },
    { "cut str8 header", 0, 0, NULL, "81 a1 'v' d9", NULL, OVH_E_TRUNCATED, OVH_FRAME_BODY, 3, "v" },
    { "cut str16 header", 0, 0, NULL, "81 a1 'v' da 00", NULL, OVH_E_TRUNCATED, OVH_FRAME_BODY, 3, "v" },
    { "cut array16 header", 0, 0, NULL, "81 a1 'v' dc 00", NULL, OVH_E_TRUNCATED, OVH_FRAME_BODY, 3, "v" },
    { "cut map32 header", 0, 0, NULL, "81 a1 'v' df 00 00", NULL, OVH_E_TRUNCATED, OVH_FRAME_BODY, 3, "v" },
    { "cut body map16", 0, 0, NULL, "de 00", NULL, OVH_E_TRUNCATED, OVH_FRAME_BODY, 0, "" },
    { "cut 2nd element", 0, 0, NULL, "81 a1 'v' 92 cd 01 02", NULL, OVH_E_TRUNCATED, OVH_FRAME_BODY, 7, "v[1]" },
    { "cut 2nd key", 0, 0, NULL, "82 a1 'a' 01 cd 00", NULL, OVH_E_KEY_TYPE, OVH_FRAME_BODY, 4, "" },
    //  Trailing bytes
    { "trailing", 0, 0, NULL, "80 00", NULL, OVH_E_TRAILING, OVH_FRAME_BODY, 1, "" },
    { "trailing 2", 0, 0, NULL, "81 a1 'v' 01 c0 c0", NULL, OVH_E_TRAILING, OVH_FRAME_BODY, 4, "" },
    //  Body not a map, keys not strings, top-level "event"
    { "body array", 0, 0, NULL, "90", NULL, OVH_E_NOT_MAP, OVH_FRAME_BODY, 0, "" },
    { "body string", 0, 0, NULL, "a1 'x'", NULL, OVH_E_NOT_MAP, OVH_FRAME_BODY, 0, "" },
    { "body nil", 0, 0, NULL, "c0", NULL, OVH_E_NOT_MAP, OVH_FRAME_BODY, 0, "" },
    { "body int", 0, 0, NULL, "01", NULL, OVH_E_NOT_MAP, OVH_FRAME_BODY, 0, "" },
    { "int key", 0, 0, NULL, "81 01 01", NULL, OVH_E_KEY_TYPE, OVH_FRAME_BODY, 1, "" },
    { "nil key", 0, 0, NULL, "81 c0 01", NULL, OVH_E_KEY_TYPE, OVH_FRAME_BODY, 1, "" },
    { "nested int key", 0, 0, NULL, "81 a1 'v' 81 01 01", NULL, OVH_E_KEY_TYPE, OVH_FRAME_BODY, 4, "v" },
    { "event key", 0, 0, NULL, "81 a5 'event' a1 'x'", NULL, OVH_E_EVENT_KEY, OVH_FRAME_BODY, 1, "event" },
    { "event key 2nd", 0, 0, NULL, "82 a1 'a' 01 a5 'event' 01", NULL, OVH_E_EVENT_KEY, OVH_FRAME_BODY, 4, "event" },
    //  Size claims: checked before anything else is read
    { "map32 claim", 0, 0, NULL, "df ff ff ff ff", NULL, OVH_E_SIZE_CLAIM, OVH_FRAME_BODY, 0, "" },
    { "fixmap claim", 0, 0, NULL, "81", NULL, OVH_E_SIZE_CLAIM, OVH_FRAME_BODY, 0, "" },
    { "array32 claim", 0, 0, NULL, "81 a1 'v' dd ff ff ff ff", NULL, OVH_E_SIZE_CLAIM, OVH_FRAME_BODY, 3, "v" },
    { "array16 claim", 0, 0, NULL, "81 a1 'v' dc 00 03 01 02", NULL, OVH_E_SIZE_CLAIM, OVH_FRAME_BODY, 3, "v" },
    { "map16 claim", 0, 0, NULL, "81 a1 'v' de 00 02 a1 'a' 01", NULL, OVH_E_SIZE_CLAIM, OVH_FRAME_BODY, 3, "v" },
    { "str32 claim", 0, 0, NULL, "81 a1 'v' db ff ff ff ff", NULL, OVH_E_SIZE_CLAIM, OVH_FRAME_BODY, 3, "v" },
    { "fixstr claim", 0, 0, NULL, "81 a1 'v' a3 'ab'", NULL, OVH_E_SIZE_CLAIM, OVH_FRAME_BODY, 3, "v" },
    { "key claim", 0, 0, NULL, "81 db ff ff ff ff", NULL, OVH_E_SIZE_CLAIM, OVH_FRAME_BODY, 1, "" },
    { "fixarray claim", 0, 0, NULL, "81 a1 'v' 91", NULL, OVH_E_SIZE_CLAIM, OVH_FRAME_BODY, 3, "v" },
    //  Invalid UTF-8, each kind, in values and keys
    { "stray continuation", 0, 0, NULL, "81 a1 'v' a1 80", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 4, "v" },
    { "overlong c0", 0, 0, NULL, "81 a1 'v' a2 c0 80", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 4, "v" },
    { "overlong c1", 0, 0, NULL, "81 a1 'v' a2 c1 bf", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 4, "v" },
    { "overlong 3 bytes", 0, 0, NULL, "81 a1 'v' a3 e0 80 af", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 4, "v" },
    { "overlong 4 bytes", 0, 0, NULL, "81 a1 'v' a4 f0 8f bf bf", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 4, "v" },
    { "surrogate", 0, 0, NULL, "81 a1 'v' a3 ed a0 80", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 4, "v" },
    { "low surrogate", 0, 0, NULL, "81 a1 'v' a4 'a' ed bf bf", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 5, "v" },
    { "above U+10FFFF", 0, 0, NULL, "81 a1 'v' a4 f4 90 80 80", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 4, "v" },
    { "lead f5", 0, 0, NULL, "81 a1 'v' a4 f5 80 80 80", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 4, "v" },
    { "byte ff", 0, 0, NULL, "81 a1 'v' a1 ff", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 4, "v" },
    { "truncated 2", 0, 0, NULL, "81 a1 'v' a2 'a' c3", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 5, "v" },
    { "truncated 3", 0, 0, NULL, "81 a1 'v' a2 e2 82", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 4, "v" },
    { "truncated 4", 0, 0, NULL, "81 a1 'v' a4 f0 9f 98 'x'", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 4, "v" },
    { "bad continuation", 0, 0, NULL, "81 a1 'v' a3 e2 28 a1", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 4, "v" },
    { "after a word", 0, 0, NULL, "81 a1 'v' ab 'abcdefghij' ff", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 14, "v" },
    { "in a key", 0, 0, NULL, "81 a2 c3 28 01", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 2, "" },
    { "in an array", 0, 0, NULL, "81 a2 'to' 92 a1 'a' a1 ff", NULL, OVH_E_UTF8, OVH_FRAME_BODY, 8, "to[1]" },
    //  Floats without a JSON form
    { "float32 NaN", 0, 0, NULL, "81 a1 'v' ca 7f c0 00 00", NULL, OVH_E_FLOAT, OVH_FRAME_BODY, 3, "v" },
    { "float32 +Inf", 0, 0, NULL, "81 a1 'v' ca 7f 80 00 00", NULL, OVH_E_FLOAT, OVH_FRAME_BODY, 3, "v" },
    { "float32 -Inf", 0, 0, NULL, "81 a1 'v' ca ff 80 00 00", NULL, OVH_E_FLOAT, OVH_FRAME_BODY, 3, "v" },
    { "float64 NaN", 0, 0, NULL, "81 a1 'v' cb 7f f8 00 00 00 00 00 00", NULL, OVH_E_FLOAT, OVH_FRAME_BODY, 3, "v" },
    { "float64 +Inf", 0, 0, NULL, "81 a1 'v' cb 7f f0 00 00 00 00 00 00", NULL, OVH_E_FLOAT, OVH_FRAME_BODY, 3, "v" },
    { "float64 -Inf", 0, 0, NULL, "81 a1 'v' cb ff f0 00 00 00 00 00 00", NULL, OVH_E_FLOAT, OVH_FRAME_BODY, 3, "v" },
    //  bin, ext, reserved
    { "bin8", 0, 0, NULL, "81 a1 'v' c4 01 00", NULL, OVH_E_BIN, OVH_FRAME_BODY, 3, "v" },
    { "bin16", 0, 0, NULL, "81 a1 'v' c5 00 01 00", NULL, OVH_E_BIN, OVH_FRAME_BODY, 3, "v" },
    { "bin32", 0, 0, NULL, "81 a1 'v' c6 00 00 00 01 00", NULL, OVH_E_BIN, OVH_FRAME_BODY, 3, "v" },
    { "fixext1", 0, 0, NULL, "81 a1 'v' d4 01 00", NULL, OVH_E_EXT, OVH_FRAME_BODY, 3, "v" },
    { "fixext2", 0, 0, NULL, "81 a1 'v' d5 01 00 00", NULL, OVH_E_EXT, OVH_FRAME_BODY, 3, "v" },
    { "fixext4", 0, 0, NULL, "81 a1 'v' d6 ff 00 00 00 00", NULL, OVH_E_EXT, OVH_FRAME_BODY, 3, "v" },
    { "fixext8", 0, 0, NULL, "81 a1 'v' d7 01 00 00 00 00 00 00 00 00", NULL, OVH_E_EXT, OVH_FRAME_BODY, 3, "v" },
    { "fixext16", 0, 0, NULL, "81 a1 'v' d8 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", NULL, OVH_E_EXT, OVH_FRAME_BODY, 3, "v" },
    { "ext8", 0, 0, NULL, "81 a1 'v' c7 01 01 00", NULL, OVH_E_EXT, OVH_FRAME_BODY, 3, "v" },
    { "ext16", 0, 0, NULL, "81 a1 'v' c8 00 01 01 00", NULL, OVH_E_EXT, OVH_FRAME_BODY, 3, "v" },
    { "ext32", 0, 0, NULL, "81 a1 'v' c9 00 00 00 01 01 00", NULL, OVH_E_EXT, OVH_FRAME_BODY, 3, "v" },
    { "0xc1", 0, 0, NULL, "81 a1 'v' c1", NULL, OVH_E_RESERVED, OVH_FRAME_BODY, 3, "v" },
    { "0xc1 key", 0, 0, NULL, "81 c1 01", NULL, OVH_E_KEY_TYPE, OVH_FRAME_BODY, 1, "" },
    //  Paths
    { "deep path", 0, 0, NULL, "81 aa 'mediaNodes' 81 a6 'launch' 81 a5 'total' c1", NULL,
      OVH_E_RESERVED, OVH_FRAME_BODY, 27, "mediaNodes.launch.total" },
    { "array in map in array", 0, 0, NULL, "81 a1 'a' 92 01 81 a1 'b' 93 01 02 c4 00", NULL,
      OVH_E_BIN, OVH_FRAME_BODY, 11, "a[1].b[2]" },
    { "control char in path", 0, 0, NULL, "81 a3 'a' 0a 'b' c1", NULL,
      OVH_E_RESERVED, OVH_FRAME_BODY, 5, "a?b" },
    //  Envelope
    { "env bad key in path", 0, 0, NULL, "80", "83 a3 'src' a1 'p' a3 'seq' 01 a2 ff 'x' c1",
      OVH_E_RESERVED, OVH_FRAME_ENVELOPE, 15, "?x" },
    { "env not a map", 0, 0, NULL, "80", "01", OVH_E_NOT_MAP, OVH_FRAME_ENVELOPE, 0, "" },
    { "env array", 0, 0, NULL, "80", "92 01 01", OVH_E_NOT_MAP, OVH_FRAME_ENVELOPE, 0, "" },
    { "env empty", 0, 0, NULL, "80", "", OVH_E_TRUNCATED, OVH_FRAME_ENVELOPE, 0, "" },
    { "env empty map", 0, 0, NULL, "80", "80", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 0, "" },
    { "env no src", 0, 0, NULL, "80", "81 a3 'seq' 01", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 0, "" },
    { "env no seq", 0, 0, NULL, "80", "81 a3 'src' a1 'p'", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 0, "" },
    { "env seq 0", 0, 0, NULL, "80", "82 a3 'src' a1 'p' a3 'seq' 00", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 11, "seq" },
    { "env seq -1", 0, 0, NULL, "80", "82 a3 'src' a1 'p' a3 'seq' ff", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 11, "seq" },
    { "env seq int8 -1", 0, 0, NULL, "80", "82 a3 'src' a1 'p' a3 'seq' d0 ff", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 11, "seq" },
    { "env seq float", 0, 0, NULL, "80", "82 a3 'src' a1 'p' a3 'seq' ca 3f 80 00 00", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 11, "seq" },
    { "env seq string", 0, 0, NULL, "80", "82 a3 'src' a1 'p' a3 'seq' a1 '1'", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 11, "seq" },
    { "env seq twice", 0, 0, NULL, "80", "83 a3 'src' a1 'p' a3 'seq' 01 a3 'seq' 02", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 16, "seq" },
    { "env src int", 0, 0, NULL, "80", "82 a3 'src' 01 a3 'seq' 01", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 5, "src" },
    { "env src nil", 0, 0, NULL, "80", "82 a3 'src' c0 a3 'seq' 01", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 5, "src" },
    { "env src bad UTF-8", 0, 0, NULL, "80", "82 a3 'src' a2 'a' ff a3 'seq' 01", OVH_E_UTF8, OVH_FRAME_ENVELOPE, 7, "src" },
    { "env int key", 0, 0, NULL, "80", "83 a3 'src' a1 'p' a3 'seq' 01 01 01", OVH_E_KEY_TYPE, OVH_FRAME_ENVELOPE, 12, "" },
    { "env trailing", 0, 0, NULL, "80", ENV_OK " c0", OVH_E_TRAILING, OVH_FRAME_ENVELOPE, 12, "" },
    { "env claim", 0, 0, NULL, "80", "df ff ff ff ff", OVH_E_SIZE_CLAIM, OVH_FRAME_ENVELOPE, 0, "" },
    { "env unknown 0xc1", 0, 0, NULL, "80", "83 a3 'src' a1 'p' a3 'seq' 01 a1 'x' 91 c1", OVH_E_RESERVED, OVH_FRAME_ENVELOPE, 15, "x" },
    { "env unknown claim", 0, 0, NULL, "80", "83 a3 'src' a1 'p' a3 'seq' 01 a1 'x' db 00 00 01 00", OVH_E_SIZE_CLAIM, OVH_FRAME_ENVELOPE, 14, "x" },
    { "env unknown cut", 0, 0, NULL, "80", "83 a3 'src' a1 'p' a3 'seq' 01 a1 'x' cd 00", OVH_E_TRUNCATED, OVH_FRAME_ENVELOPE, 14, "x" },
    { "env src cut", 0, 0, NULL, "80", "82 a3 'src' d9", OVH_E_TRUNCATED, OVH_FRAME_ENVELOPE, 5, "src" },
    //  The optional epoch: an unsigned integer, once
#define ENV_EPOCH "83 a3 'src' a1 'p' a3 'seq' 01 a5 'epoch' "
    { "env epoch -1", 0, 0, NULL, "80", ENV_EPOCH "ff", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 18, "epoch" },
    { "env epoch int64 -1", 0, 0, NULL, "80", ENV_EPOCH "d3 ff ff ff ff ff ff ff ff", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 18, "epoch" },
    { "env epoch string", 0, 0, NULL, "80", ENV_EPOCH "a1 '1'", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 18, "epoch" },
    { "env epoch float", 0, 0, NULL, "80", ENV_EPOCH "cb 3f f0 00 00 00 00 00 00", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 18, "epoch" },
    { "env epoch nil", 0, 0, NULL, "80", ENV_EPOCH "c0", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 18, "epoch" },
    { "env epoch bin", 0, 0, NULL, "80", ENV_EPOCH "c4 01 00", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 18, "epoch" },
    { "env epoch array", 0, 0, NULL, "80", ENV_EPOCH "91 01", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 18, "epoch" },
    { "env epoch twice", 0, 0, NULL, "80", "84 a3 'src' a1 'p' a3 'seq' 01 a5 'epoch' 07 a5 'epoch' 07",
      OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 25, "epoch" },
    { "env epoch cut", 0, 0, NULL, "80", ENV_EPOCH "cf 00 00", OVH_E_TRUNCATED, OVH_FRAME_ENVELOPE, 18, "epoch" },
    { "env epoch 0xc1", 0, 0, NULL, "80", ENV_EPOCH "c1", OVH_E_RESERVED, OVH_FRAME_ENVELOPE, 18, "epoch" },
    { "env epoch, no seq", 0, 0, NULL, "80", "82 a3 'src' a1 'p' a5 'epoch' 07", OVH_E_ENVELOPE, OVH_FRAME_ENVELOPE, 0, "" },
    //  A bad body is reported before the envelope
    { "body before env", 0, 0, NULL, "81 a1 'v' c1", "01", OVH_E_RESERVED, OVH_FRAME_BODY, 3, "v" },
};

static void
s_test_rejects (ovh_translator_t *translator)
{
    for (size_t index = 0; index < sizeof s_rejects / sizeof s_rejects [0]; index++) {
        const reject_case_t *row = &s_rejects [index];
        uint8_t body [256], envelope [256];
        ovh_frame_t frames [4] = {
            { row->topic? row->topic: TOPIC, strlen (row->topic? row->topic: TOPIC) },
            { body, ovh_test_bytes (row->body, body, sizeof body) },
            { envelope, row->envelope? ovh_test_bytes (row->envelope, envelope, sizeof envelope): 0 },
            { "x", 1 }
        };
        size_t count = row->frames? row->frames: row->envelope? 3: 2;
        ovh_translator_set_max_frame (translator, row->max_frame? row->max_frame
                                                                : OVH_MAX_FRAME_DEFAULT);
        ovh_event_t event;
        int rc = ovh_translator_translate (translator, frames, count, &event);
        const ovh_error_t *error = ovh_translator_error (translator);
        CHECK_MSG (rc == -1, "%s: accepted", row->name);
        CHECK_MSG (error->code == row->code, "%s: code %s, want %s (%s)", row->name,
                   ovh_code_name (error->code), ovh_code_name (row->code), error->text);
        CHECK_MSG (error->frame == row->frame, "%s: frame %d, want %d", row->name,
                   error->frame, row->frame);
        if (row->offset != ANY)
            CHECK_MSG (error->offset == (size_t) row->offset, "%s: offset %zu, want %ld (%s)",
                       row->name, error->offset, row->offset, error->text);
        if (row->path)
            CHECK_MSG (streq (error->path, row->path), "%s: path '%s', want '%s'",
                       row->name, error->path, row->path);
        //  The text names the code, the offset (in a frame) and the path
        CHECK_MSG (strstr (error->text, ovh_code_name (row->code)) == error->text,
                   "%s: text '%s'", row->name, error->text);
        if (row->frame != OVH_FRAME_NONE) {
            char where [40];
            snprintf (where, sizeof where, "offset %zu", error->offset);
            CHECK_MSG (strstr (error->text, where), "%s: text '%s'", row->name, error->text);
        }
        if (row->path && *row->path) {
            char where [140];
            snprintf (where, sizeof where, "at %s)", row->path);
            CHECK_MSG (strstr (error->text, where), "%s: text '%s'", row->name, error->text);
        }
        CHECK (event.json == NULL && event.type == NULL);
    }
    ovh_translator_set_max_frame (translator, OVH_MAX_FRAME_DEFAULT);
}

//  Nesting: 32 levels accepted, 33 rejected; every cut of a body fails
static void
s_test_depth_and_cuts (ovh_translator_t *translator)
{
    for (int levels = 31; levels <= 33; levels++) {
        //  The body map is level 1: {"v": [[[...1...]]]} with levels - 1 arrays
        char body [512] = "81 a1 'v'";
        for (int level = 2; level <= levels; level++)
            strcat (body, " 91");
        strcat (body, " 01");
        ovh_event_t event;
        int rc = s_translate (translator, TOPIC, body, NULL, &event);
        const ovh_error_t *error = ovh_translator_error (translator);
        if (levels <= OVH_MAX_DEPTH) {
            CHECK_MSG (rc == 0, "depth %d: %s", levels, error->text);
            CHECK (rc == 0 && strncmp (event.json + strlen (PREFIX) + 5, "[[[[", 4) == 0);
        }
        else {
            CHECK (rc == -1 && error->code == OVH_E_DEPTH);
            CHECK (error->offset == 3 + 31);        //  the 32nd array
            CHECK (strncmp (error->path, "v[0][0]", 7) == 0);
        }
    }
    //  Nested maps too
    char body [1024] = "";
    for (int level = 1; level <= 33; level++)
        strcat (body, "81 a1 'k' ");
    strcat (body, "01");
    ovh_event_t event;
    CHECK (s_translate (translator, TOPIC, body, NULL, &event) == -1);
    CHECK (ovh_translator_error (translator)->code == OVH_E_DEPTH);

    const char *whole = "84 a9 'sessionId' a3 'abc' a2 'to' 92 a1 'x' cd 01 00"
                        " a1 'f' cb 40 21 33 33 33 33 33 33 a1 'b' d9 02 'hi'";
    uint8_t bytes [128];
    size_t size = ovh_test_bytes (whole, bytes, sizeof bytes);
    for (size_t cut = 0; cut < size; cut++) {
        ovh_frame_t frames [2] = { { TOPIC, strlen (TOPIC) }, { bytes, cut } };
        int rc = ovh_translator_translate (translator, frames, 2, &event);
        ovh_code_t code = ovh_translator_error (translator)->code;
        CHECK_MSG (rc == -1 && (code == OVH_E_TRUNCATED || code == OVH_E_SIZE_CLAIM),
                   "cut at %zu: rc %d, code %s", cut, rc, ovh_code_name (code));
    }
    ovh_frame_t frames [2] = { { TOPIC, strlen (TOPIC) }, { bytes, size } };
    CHECK (ovh_translator_translate (translator, frames, 2, &event) == 0);
    CHECK_STR (event.json, PREFIX ",\"sessionId\":\"abc\",\"to\":[\"x\",256],\"f\":8.6,\"b\":\"hi\"}");
}

//  --------------------------------------------------------------------------
//  Ordering key and envelope results

typedef struct {
    const char *body;
    const char *key;            //  NULL: no key
    const char *key_name;
} key_case_t;

static const key_case_t s_keys [] = {
    { "82 a9 'sessionId' a1 's' a2 'id' a1 'i'", "s", "sessionId" },
    { "82 a2 'id' a1 'i' a9 'sessionId' a1 's'", "s", "sessionId" },
    { "83 a9 'clusterId' a1 'c' a6 'nodeId' a1 'n' a2 'id' a1 'i'", "i", "id" },
    { "82 a9 'clusterId' a1 'c' a6 'nodeId' a1 'n'", "n", "nodeId" },
    { "81 a9 'clusterId' a2 'cl'", "cl", "clusterId" },
    { "82 a9 'sessionId' 05 a2 'id' a1 'i'", "i", "id" },             //  not a string
    { "82 a9 'sessionId' c0 a9 'clusterId' a1 'c'", "c", "clusterId" },
    { "81 a9 'sessionId' 91 a1 's'", NULL, NULL },
    { "82 a9 'sessionId' a1 'a' a9 'sessionId' a1 'b'", "a", "sessionId" },   //  first wins
    { "82 a9 'sessionId' 01 a9 'sessionId' a1 'b'", "b", "sessionId" },
    { "81 a1 'x' 81 a9 'sessionId' a1 's'", NULL, NULL },            //  top level only
    { "81 a9 'sessionid' a1 's'", NULL, NULL },                      //  case-sensitive
    { "81 a9 'sessionId' d9 02 'ab'", "ab", "sessionId" },
    { "81 a9 'sessionId' a0", "", "sessionId" },
    { "80", NULL, NULL },
};

static void
s_test_keys (ovh_translator_t *translator)
{
    for (size_t index = 0; index < sizeof s_keys / sizeof s_keys [0]; index++) {
        const key_case_t *row = &s_keys [index];
        ovh_event_t event;
        int rc = s_translate (translator, TOPIC, row->body, NULL, &event);
        CHECK_MSG (rc == 0, "%s: %s", row->body, ovh_translator_error (translator)->text);
        if (row->key) {
            CHECK_MSG (event.key && event.key_size == strlen (row->key)
                    && memcmp (event.key, row->key, event.key_size) == 0,
                       "%s: key '%.*s'", row->body, (int) event.key_size,
                       event.key? event.key: "");
            CHECK_STR (event.key_name, row->key_name);
        }
        else
            CHECK_MSG (event.key == NULL && event.key_name == NULL && event.key_size == 0,
                       "%s: unexpected key", row->body);
    }
}

typedef struct {
    const char *envelope;       //  NULL: no envelope
    const char *src;
    uint64_t seq;
    bool has_epoch;
    uint64_t epoch;
} envelope_case_t;

static const envelope_case_t s_envelopes [] = {
    { NULL, NULL, 0, false, 0 },
    { ENV_OK, "p", 1, false, 0 },
    { "82 a3 'seq' cf ff ff ff ff ff ff ff ff a3 'src' a5 'h/1/x'", "h/1/x", UINT64_MAX, false, 0 },
    { "82 a3 'seq' d0 05 a3 'src' a0", "", 5, false, 0 },                   //  a signed format, >= 1
    { "82 a3 'seq' cd 01 00 a3 'src' a2 c3 a9", "\xc3\xa9", 256, false, 0 },
    //  Unknown keys are skipped whatever their (well-formed) type
    { "86 a3 'src' a1 'p' a1 'v' a1 '2' a3 'sig' c4 02 00 01 a3 'ext' d4 01 00"
      " a1 'f' cb 7f f8 00 00 00 00 00 00 a3 'seq' 02", "p", 2, false, 0 },
    { "83 a3 'src' a1 'p' a3 'seq' 03 a1 'm' 82 01 02 92 c0 c0 80", "p", 3, false, 0 },
    //  The epoch: any unsigned integer, in any order among src and seq,
    //  with or without other keys (the general reader then)
    { "83 a3 'src' a1 'p' a3 'seq' 01 a5 'epoch' cf ff ff ff ff ff ff ff ff", "p", 1, true, UINT64_MAX },
    { "83 a5 'epoch' 00 a3 'seq' 02 a3 'src' a1 'p'", "p", 2, true, 0 },
    { "83 a3 'src' a1 'p' a5 'epoch' cd 01 00 a3 'seq' 02", "p", 2, true, 256 },
    { "83 a3 'seq' 02 a3 'src' a1 'p' a5 'epoch' d0 05", "p", 2, true, 5 },
    { "84 a3 'src' a1 'p' a1 'x' c4 00 a3 'seq' 02 a5 'epoch' ce 01 02 03 04", "p", 2, true,
      0x01020304 },
    { "de 00 03 a3 'src' a1 'p' a3 'seq' 02 a5 'epoch' 09", "p", 2, true, 9 },
    //  Keys that only look like it are other keys
    { "83 a3 'src' a1 'p' a3 'seq' 02 a6 'epochs' a1 'x'", "p", 2, false, 0 },
    { "83 a3 'src' a1 'p' a3 'seq' 02 a5 'Epoch' a1 'x'", "p", 2, false, 0 },
};

static void
s_test_envelopes (ovh_translator_t *translator)
{
    for (size_t index = 0; index < sizeof s_envelopes / sizeof s_envelopes [0]; index++) {
        const envelope_case_t *row = &s_envelopes [index];
        ovh_event_t event;
        int rc = s_translate (translator, TOPIC, "81 a1 'v' 01", row->envelope, &event);
        CHECK_MSG (rc == 0, "%s: %s", row->envelope, ovh_translator_error (translator)->text);
        CHECK_STR (event.json, PREFIX ",\"v\":1}");
        CHECK (event.has_envelope == (row->envelope != NULL));
        CHECK (event.seq == row->seq);
        CHECK_MSG (event.has_epoch == row->has_epoch && event.epoch == row->epoch,
                   "%s: epoch %d %llu", row->envelope, event.has_epoch,
                   (unsigned long long) event.epoch);
        if (row->src)
            CHECK (event.src && event.src_size == strlen (row->src)
                && memcmp (event.src, row->src, event.src_size) == 0);
        else
            CHECK (event.src == NULL && event.src_size == 0);
        //  The envelope alone (ovhook-proxy's src check) reads the same
        if (!row->envelope)
            continue;
        uint8_t bytes [1024];
        size_t size = ovh_test_bytes (row->envelope, bytes, sizeof bytes);
        ovh_event_t alone;
        CHECK (ovh_translator_envelope (translator, bytes, size, &alone) == 0);
        CHECK (alone.has_envelope && alone.seq == event.seq && alone.epoch == event.epoch
               && alone.has_epoch == event.has_epoch && alone.src_size == event.src_size
               && alone.type == NULL && alone.json == NULL);
    }
    //  ...and refuses what a whole message would: src twice, src not a
    //  string, no src, trailing bytes, not a map
    static const char *invalid [] = {
        "83 a3 'src' a1 'a' a3 'seq' 01 a3 'src' a1 'b'",
        "82 a3 'src' 01 a3 'seq' 01",
        "81 a3 'seq' 01",
        "82 a3 'src' a1 'a' a3 'seq' 01 00",
        "a1 'a'",
        ""
    };
    for (size_t index = 0; index < sizeof invalid / sizeof invalid [0]; index++) {
        uint8_t bytes [256];
        size_t size = ovh_test_bytes (invalid [index], bytes, sizeof bytes);
        ovh_event_t alone;
        CHECK_MSG (ovh_translator_envelope (translator, bytes, size, &alone) == -1,
                   "'%s' accepted", invalid [index]);
        CHECK (alone.src == NULL && !alone.has_envelope);
        CHECK (ovh_translator_error (translator)->frame == OVH_FRAME_ENVELOPE);
    }
}

//  --------------------------------------------------------------------------
//  One translator over many events: the buffer grows once, then is reused

static void
s_test_reuse (void)
{
    ovh_translator_t *translator = ovh_translator_new ();
    REQUIRE (translator);
    ovh_event_t event;
    CHECK (s_translate (translator, TOPIC, "81 a1 'a' 01", NULL, &event) == 0);

    //  A body of 200 kB: the buffer must grow
    size_t big = 200000;
    uint8_t *body = (uint8_t *) malloc (big + 16);
    REQUIRE (body);
    memcpy (body, "\x81\xa1v\xdb", 4);
    body [4] = (uint8_t) (big >> 24); body [5] = (uint8_t) (big >> 16);
    body [6] = (uint8_t) (big >> 8);  body [7] = (uint8_t) big;
    for (size_t index = 0; index < big; index++)
        body [8 + index] = index % 1000 == 999? '\n': 'a' + index % 26;
    ovh_frame_t frames [2] = { { TOPIC, strlen (TOPIC) }, { body, big + 8 } };
    CHECK (ovh_translator_translate (translator, frames, 2, &event) == 0);
    CHECK (event.json_size == strlen (PREFIX ",\"v\":\"\"}") + big + big / 1000);
    CHECK (event.json [event.json_size] == 0 && event.json [event.json_size - 1] == '}');
    CHECK (memcmp (event.json + strlen (PREFIX) + 6, "abcdefghij", 10) == 0);
    const char *buffer = event.json;

    //  Smaller events after it: same buffer, right text, errors in between
    for (int round = 0; round < 2000; round++) {
        char spec [200], want [200];
        if (round % 7 == 3) {
            CHECK (s_translate (translator, TOPIC, "81 a1 'v' c1", NULL, &event) == -1);
            CHECK (ovh_translator_error (translator)->code == OVH_E_RESERVED);
            continue;
        }
        snprintf (spec, sizeof spec, "83 a9 'sessionId' a5 's%04d' a1 'n' cd %02x %02x a1 'f' 80",
                  round, round >> 8, round & 0xff);
        snprintf (want, sizeof want, PREFIX ",\"sessionId\":\"s%04d\",\"n\":%d,\"f\":{}}",
                  round, round);
        int rc = s_translate (translator, TOPIC, spec, NULL, &event);
        CHECK (rc == 0);
        CHECK (ovh_translator_error (translator)->code == OVH_OK);
        if (rc == 0) {
            CHECK_STR (event.json, want);
            CHECK (event.json == buffer);
            char key [8];
            snprintf (key, sizeof key, "s%04d", round);
            CHECK (event.key_size == 5 && memcmp (event.key, key, 5) == 0);
        }
    }
    free (body);
    ovh_translator_destroy (&translator);
    CHECK (translator == NULL);
    ovh_translator_destroy (&translator);       //  harmless on NULL
}

static void
s_test_zmsg (ovh_translator_t *translator)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "signalSent");
    zmsg_addmem (msg, "\x81\xa2to\x91\xa1x", 7);
    uint8_t envelope [64];
    size_t size = ovh_test_bytes (ENV_OK, envelope, sizeof envelope);
    zmsg_addmem (msg, envelope, size);
    ovh_event_t event;
    CHECK (ovh_translator_translate_zmsg (translator, msg, &event) == 0);
    CHECK_STR (event.json, "{\"event\":\"signalSent\",\"to\":[\"x\"]}");
    CHECK (streq (event.type->name, "signalSent"));
    CHECK (event.has_envelope && event.seq == 1);
    //  src points into the message's last frame: no copy
    zframe_t *last = zmsg_last (msg);
    CHECK ((const uint8_t *) event.src == zframe_data (last) + 6);

    zmsg_addstr (msg, "extra");
    CHECK (ovh_translator_translate_zmsg (translator, msg, &event) == -1);
    CHECK (ovh_translator_error (translator)->code == OVH_E_FRAMES);
    zmsg_destroy (&msg);

    msg = zmsg_new ();
    zmsg_addstr (msg, "signalSent");
    CHECK (ovh_translator_translate_zmsg (translator, msg, &event) == -1);
    CHECK (ovh_translator_error (translator)->code == OVH_E_FRAMES);
    zmsg_destroy (&msg);
    CHECK (ovh_translator_translate_zmsg (translator, NULL, &event) == -1);
    CHECK (ovh_translator_error (translator)->code == OVH_E_USAGE);
}

//  --------------------------------------------------------------------------
//  The 15 documented bodies, packed with msgpack-c, come back byte for byte

static void
s_pack (msgpack_packer *packer, json_t *value)
{
    const char *key;
    json_t *item;
    size_t index;
    switch (json_typeof (value)) {
        case JSON_OBJECT:
            msgpack_pack_map (packer, json_object_size (value));
            json_object_foreach (value, key, item) {
                msgpack_pack_str (packer, strlen (key));
                msgpack_pack_str_body (packer, key, strlen (key));
                s_pack (packer, item);
            }
            break;
        case JSON_ARRAY:
            msgpack_pack_array (packer, json_array_size (value));
            json_array_foreach (value, index, item)
                s_pack (packer, item);
            break;
        case JSON_STRING:
            msgpack_pack_str (packer, json_string_length (value));
            msgpack_pack_str_body (packer, json_string_value (value), json_string_length (value));
            break;
        case JSON_INTEGER:
            if (json_integer_value (value) >= 0)
                msgpack_pack_uint64 (packer, (uint64_t) json_integer_value (value));
            else
                msgpack_pack_int64 (packer, json_integer_value (value));
            break;
        case JSON_REAL:  msgpack_pack_double (packer, json_real_value (value)); break;
        case JSON_TRUE:  msgpack_pack_true (packer); break;
        case JSON_FALSE: msgpack_pack_false (packer); break;
        default:         msgpack_pack_nil (packer); break;
    }
}

static void
s_test_golden (ovh_translator_t *translator)
{
    const char *dir = getenv ("OVHOOK_REFERENCE_DIR");
    char path [512];
    snprintf (path, sizeof path, "%s/openvidu-examples.jsonl", dir? dir: "tests/data");
    FILE *file = fopen (path, "r");
    CHECK_MSG (file, "cannot open %s", path);
    if (!file)
        return;
    char line [8192];
    int examples = 0;
    while (fgets (line, sizeof line, file)) {
        line [strcspn (line, "\r\n")] = 0;
        if (!*line)
            continue;
        json_error_t error;
        json_t *json = json_loads (line, 0, &error);
        CHECK (json && json_is_string (json_object_get (json, "event")));
        const char *topic = json_string_value (json_object_get (json, "event"));
        json_incref (json_object_get (json, "event"));
        json_t *name = json_object_get (json, "event");
        json_object_del (json, "event");

        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        msgpack_packer packer;
        msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
        s_pack (&packer, json);
        ovh_frame_t frames [2] = { { topic, strlen (topic) }, { buffer.data, buffer.size } };
        ovh_event_t event;
        int rc = ovh_translator_translate (translator, frames, 2, &event);
        CHECK_MSG (rc == 0, "%s: %s", topic, ovh_translator_error (translator)->text);
        if (rc == 0) {
            CHECK_STR (event.json, line);
            CHECK_STR (event.key_name, event.type->key_name);
            zlist_t *warnings = zlist_new ();
            zlist_autofree (warnings);
            int count = ovh_catalog_check (event.type, buffer.data, buffer.size, warnings);
            CHECK_MSG (count == 0, "%s: %d warnings, first: %s", topic, count,
                       (char *) zlist_first (warnings));
            zlist_destroy (&warnings);
        }
        examples++;
        msgpack_sbuffer_destroy (&buffer);
        json_decref (name);
        json_decref (json);
    }
    fclose (file);
    CHECK (examples == 15);
}

int
main (void)
{
    ovh_translator_t *translator = ovh_translator_new ();
    REQUIRE (translator);
    s_test_values (translator);
    s_test_bodies (translator);
    s_test_floats (translator);
    s_test_rejects (translator);
    s_test_depth_and_cuts (translator);
    s_test_keys (translator);
    s_test_envelopes (translator);
    s_test_zmsg (translator);
    s_test_golden (translator);
    ovh_translator_destroy (&translator);
    s_test_reuse ();
    return ovh_test_done ("test_translator");
}
