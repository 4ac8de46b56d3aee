/*  test_body.c - the body builder writes exactly the bytes msgpack's spec
    gives for each value (written out by hand below), patches container
    headers to their smallest form, and records misuse.                      */

#include <stdint.h>
#include "ovhook.h"
#include "ovh_test.h"

//  Compare the finished body with the expected bytes; print both on mismatch
static bool
s_bytes_equal (const char *what, const void *got, size_t got_size,
               const uint8_t *want, size_t want_size)
{
    if (got && got_size == want_size && memcmp (got, want, want_size) == 0)
        return true;
    fprintf (stderr, "%s:\n  got  (%zu):", what, got_size);
    for (size_t index = 0; got && index < got_size && index < 48; index++)
        fprintf (stderr, " %02x", ((const uint8_t *) got) [index]);
    fprintf (stderr, "\n  want (%zu):", want_size);
    for (size_t index = 0; index < want_size && index < 48; index++)
        fprintf (stderr, " %02x", want [index]);
    fputc ('\n', stderr);
    return false;
}

#define CHECK_BODY(body, ...) do { \
    static const uint8_t _want [] = { __VA_ARGS__ }; \
    size_t _size = 0; \
    const void *_data = ovh_body_data (body, &_size); \
    CHECK (s_bytes_equal (#body, _data, _size, _want, sizeof _want)); \
} while (0)

//  One scalar under key "k": 81 a1 6b <value bytes>
typedef enum { T_INT, T_UINT, T_DOUBLE, T_BOOL, T_NULL, T_STR_NULL } s_kind_t;
typedef struct {
    s_kind_t kind;
    int64_t i;
    uint64_t u;
    double d;
    uint8_t bytes [9];
    size_t size;
} s_scalar_t;

static const s_scalar_t s_scalars [] = {
    { T_INT, 0,                 0, 0, { 0x00 }, 1 },
    { T_INT, 1,                 0, 0, { 0x01 }, 1 },
    { T_INT, 127,               0, 0, { 0x7f }, 1 },
    { T_INT, 128,               0, 0, { 0xcc, 0x80 }, 2 },
    { T_INT, 255,               0, 0, { 0xcc, 0xff }, 2 },
    { T_INT, 256,               0, 0, { 0xcd, 0x01, 0x00 }, 3 },
    { T_INT, 65535,             0, 0, { 0xcd, 0xff, 0xff }, 3 },
    { T_INT, 65536,             0, 0, { 0xce, 0x00, 0x01, 0x00, 0x00 }, 5 },
    { T_INT, 4294967295LL,      0, 0, { 0xce, 0xff, 0xff, 0xff, 0xff }, 5 },
    { T_INT, 4294967296LL,      0, 0, { 0xcf, 0, 0, 0, 1, 0, 0, 0, 0 }, 9 },
    { T_INT, 1601394690713LL,   0, 0, { 0xcf, 0, 0, 0x01, 0x74, 0xda, 0x8f, 0xca, 0x99 }, 9 },
    { T_INT, INT64_MAX,         0, 0, { 0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9 },
    { T_INT, -1,                0, 0, { 0xff }, 1 },
    { T_INT, -32,               0, 0, { 0xe0 }, 1 },
    { T_INT, -33,               0, 0, { 0xd0, 0xdf }, 2 },
    { T_INT, -128,              0, 0, { 0xd0, 0x80 }, 2 },
    { T_INT, -129,              0, 0, { 0xd1, 0xff, 0x7f }, 3 },
    { T_INT, -32768,            0, 0, { 0xd1, 0x80, 0x00 }, 3 },
    { T_INT, -32769,            0, 0, { 0xd2, 0xff, 0xff, 0x7f, 0xff }, 5 },
    { T_INT, INT32_MIN,         0, 0, { 0xd2, 0x80, 0x00, 0x00, 0x00 }, 5 },
    { T_INT, INT32_MIN - 1LL,   0, 0, { 0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff }, 9 },
    { T_INT, INT64_MIN,         0, 0, { 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 9 },
    { T_UINT, 0, 0,                 0, { 0x00 }, 1 },
    { T_UINT, 0, 127,               0, { 0x7f }, 1 },
    { T_UINT, 0, 200,               0, { 0xcc, 0xc8 }, 2 },
    { T_UINT, 0, 65535,             0, { 0xcd, 0xff, 0xff }, 3 },
    { T_UINT, 0, 65536,             0, { 0xce, 0x00, 0x01, 0x00, 0x00 }, 5 },
    { T_UINT, 0, 1ULL << 63,        0, { 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 9 },
    { T_UINT, 0, UINT64_MAX,        0, { 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9 },
    { T_DOUBLE, 0, 0, 1.5,          { 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0 }, 9 },
    { T_DOUBLE, 0, 0, 674.0,        { 0xcb, 0x40, 0x85, 0x10, 0, 0, 0, 0, 0 }, 9 },
    { T_DOUBLE, 0, 0, 8.6,          { 0xcb, 0x40, 0x21, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33 }, 9 },
    { T_DOUBLE, 0, 0, -0.0,         { 0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 9 },
    { T_DOUBLE, 0, 0, 0.0,          { 0xcb, 0, 0, 0, 0, 0, 0, 0, 0 }, 9 },
    { T_BOOL, 1, 0, 0,              { 0xc3 }, 1 },
    { T_BOOL, 0, 0, 0,              { 0xc2 }, 1 },
    { T_NULL, 0, 0, 0,              { 0xc0 }, 1 },
    { T_STR_NULL, 0, 0, 0,          { 0xc0 }, 1 },
};

static void
s_test_scalars (ovh_body_t *body)
{
    for (size_t index = 0; index < sizeof s_scalars / sizeof s_scalars [0]; index++) {
        const s_scalar_t *scalar = &s_scalars [index];
        ovh_body_reset (body);
        int rc = 0;
        switch (scalar->kind) {
            case T_INT:      rc = ovh_body_int (body, "k", scalar->i); break;
            case T_UINT:     rc = ovh_body_uint (body, "k", scalar->u); break;
            case T_DOUBLE:   rc = ovh_body_double (body, "k", scalar->d); break;
            case T_BOOL:     rc = ovh_body_bool (body, "k", scalar->i != 0); break;
            case T_NULL:     rc = ovh_body_null (body, "k"); break;
            case T_STR_NULL: rc = ovh_body_str (body, "k", NULL); break;
        }
        CHECK (rc == 0);
        uint8_t want [12] = { 0x81, 0xa1, 'k' };
        memcpy (want + 3, scalar->bytes, scalar->size);
        size_t size;
        const void *data = ovh_body_data (body, &size);
        char what [64];
        snprintf (what, sizeof what, "scalar case %zu", index);
        CHECK (s_bytes_equal (what, data, size, want, 3 + scalar->size));
        CHECK (ovh_body_count (body) == 1);
    }
}

//  Strings: fixstr up to 31 bytes, then str8, str16, str32 (msgpack-c 4)
static void
s_test_strings (ovh_body_t *body)
{
    static const struct { size_t size; uint8_t header [5]; size_t header_size; } cases [] = {
        { 0,     { 0xa0 }, 1 },
        { 31,    { 0xbf }, 1 },
        { 32,    { 0xd9, 32 }, 2 },
        { 255,   { 0xd9, 255 }, 2 },
        { 256,   { 0xda, 0x01, 0x00 }, 3 },
        { 65535, { 0xda, 0xff, 0xff }, 3 },
        { 65536, { 0xdb, 0x00, 0x01, 0x00, 0x00 }, 5 },
    };
    char *text = malloc (65536);
    uint8_t *want = malloc (65536 + 16);
    assert (text && want);
    for (size_t index = 0; index < 65536; index++)
        text [index] = (char) ('a' + index % 26);
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        ovh_body_reset (body);
        CHECK (ovh_body_strn (body, "s", text, cases [index].size) == 0);
        size_t want_size = 0;
        want [want_size++] = 0x81;
        want [want_size++] = 0xa1;
        want [want_size++] = 's';
        memcpy (want + want_size, cases [index].header, cases [index].header_size);
        want_size += cases [index].header_size;
        memcpy (want + want_size, text, cases [index].size);
        want_size += cases [index].size;
        size_t size;
        const void *data = ovh_body_data (body, &size);
        char what [64];
        snprintf (what, sizeof what, "string of %zu bytes", cases [index].size);
        CHECK (s_bytes_equal (what, data, size, want, want_size));
    }
    free (text);
    free (want);

    //  Embedded NUL and UTF-8 bytes are carried as given; str counts bytes
    ovh_body_reset (body);
    CHECK (ovh_body_strn (body, "n", "a\0b", 3) == 0);
    CHECK (ovh_body_str (body, "u", "\xc3\xa9") == 0);
    CHECK_BODY (body, 0x82, 0xa1, 'n', 0xa3, 'a', 0, 'b', 0xa1, 'u', 0xa2, 0xc3, 0xa9);
}

//  A container of 'count' nils (array) or ""/nil pairs (map) under key "c"
static void
s_test_container_size (ovh_body_t *body, bool is_map, size_t count,
                       const uint8_t *header, size_t header_size)
{
    ovh_body_reset (body);
    CHECK (is_map? ovh_body_begin_map (body, "c") == 0
                 : ovh_body_begin_array (body, "c") == 0);
    for (size_t index = 0; index < count; index++)
        CHECK_MSG ((is_map? ovh_body_null (body, ""): ovh_body_null (body, NULL)) == 0,
                   "element %zu", index);
    CHECK (ovh_body_end (body) == 0);
    CHECK (ovh_body_int (body, "z", 7) == 0);

    size_t item = is_map? 2: 1;
    size_t want_size = 3 + header_size + count * item + 3;
    uint8_t *want = malloc (want_size);
    assert (want);
    size_t at = 0;
    want [at++] = 0x82;
    want [at++] = 0xa1;
    want [at++] = 'c';
    memcpy (want + at, header, header_size);
    at += header_size;
    for (size_t index = 0; index < count; index++) {
        if (is_map)
            want [at++] = 0xa0;
        want [at++] = 0xc0;
    }
    want [at++] = 0xa1;
    want [at++] = 'z';
    want [at++] = 7;
    assert (at == want_size);
    size_t size;
    const void *data = ovh_body_data (body, &size);
    char what [64];
    snprintf (what, sizeof what, "%s of %zu", is_map? "map": "array", count);
    CHECK (s_bytes_equal (what, data, size, want, want_size));
    free (want);
}

static void
s_test_container_sizes (ovh_body_t *body)
{
    static const struct { size_t count; uint8_t map [5]; uint8_t array [5]; size_t size; } cases [] = {
        { 0,     { 0x80 }, { 0x90 }, 1 },
        { 1,     { 0x81 }, { 0x91 }, 1 },
        { 15,    { 0x8f }, { 0x9f }, 1 },
        { 16,    { 0xde, 0x00, 0x10 }, { 0xdc, 0x00, 0x10 }, 3 },
        { 65535, { 0xde, 0xff, 0xff }, { 0xdc, 0xff, 0xff }, 3 },
        { 65536, { 0xdf, 0x00, 0x01, 0x00, 0x00 }, { 0xdd, 0x00, 0x01, 0x00, 0x00 }, 5 },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        s_test_container_size (body, true, cases [index].count,
                               cases [index].map, cases [index].size);
        s_test_container_size (body, false, cases [index].count,
                               cases [index].array, cases [index].size);
    }

    //  The body map itself: 0, 15, 16, 65536 properties
    static const struct { size_t count; uint8_t header [5]; size_t size; } tops [] = {
        { 0,     { 0x80 }, 1 },
        { 15,    { 0x8f }, 1 },
        { 16,    { 0xde, 0x00, 0x10 }, 3 },
        { 65536, { 0xdf, 0x00, 0x01, 0x00, 0x00 }, 5 },
    };
    for (size_t index = 0; index < sizeof tops / sizeof tops [0]; index++) {
        ovh_body_reset (body);
        for (size_t prop = 0; prop < tops [index].count; prop++)
            ovh_body_bool (body, "", true);
        CHECK (ovh_body_count (body) == tops [index].count);
        size_t size;
        const uint8_t *data = ovh_body_data (body, &size);
        CHECK (data && size == tops [index].size + 2 * tops [index].count);
        CHECK (data && memcmp (data, tops [index].header, tops [index].size) == 0);
        CHECK (data && (tops [index].count == 0
                        || (data [tops [index].size] == 0xa0 && data [size - 1] == 0xc3)));
    }
}

static void
s_test_nesting (ovh_body_t *body)
{
    //  {"a":[1,{"b":[]},"x"],"c":{},"d":{"event":null}}
    ovh_body_reset (body);
    CHECK (ovh_body_begin_array (body, "a") == 0);
    CHECK (ovh_body_int (body, NULL, 1) == 0);
    CHECK (ovh_body_begin_map (body, NULL) == 0);
    CHECK (ovh_body_begin_array (body, "b") == 0);
    CHECK (ovh_body_end (body) == 0);
    CHECK (ovh_body_end (body) == 0);
    CHECK (ovh_body_str (body, NULL, "x") == 0);
    CHECK (ovh_body_end (body) == 0);
    CHECK (ovh_body_begin_map (body, "c") == 0);
    CHECK (ovh_body_end (body) == 0);
    CHECK (ovh_body_begin_map (body, "d") == 0);
    CHECK (ovh_body_null (body, "event") == 0);      //  only top level is reserved
    CHECK (ovh_body_end (body) == 0);
    CHECK (ovh_body_count (body) == 3);
    CHECK_BODY (body, 0x83, 0xa1, 'a', 0x93, 0x01, 0x81, 0xa1, 'b', 0x90, 0xa1, 'x',
                0xa1, 'c', 0x80, 0xa1, 'd', 0x81, 0xa5, 'e', 'v', 'e', 'n', 't', 0xc0);

    //  Reading the body does not close it: more can be added, and the
    //  header is rewritten
    CHECK (ovh_body_bool (body, "e", false) == 0);
    CHECK_BODY (body, 0x84, 0xa1, 'a', 0x93, 0x01, 0x81, 0xa1, 'b', 0x90, 0xa1, 'x',
                0xa1, 'c', 0x80, 0xa1, 'd', 0x81, 0xa5, 'e', 'v', 'e', 'n', 't', 0xc0,
                0xa1, 'e', 0xc2);

    //  A shrunk inner container moves what follows it inside the outer one
    ovh_body_reset (body);
    CHECK (ovh_body_begin_array (body, "o") == 0);
    CHECK (ovh_body_begin_array (body, NULL) == 0);
    for (int index = 0; index < 16; index++)
        CHECK (ovh_body_int (body, NULL, index) == 0);
    CHECK (ovh_body_end (body) == 0);
    CHECK (ovh_body_int (body, NULL, -1) == 0);
    CHECK (ovh_body_end (body) == 0);
    CHECK_BODY (body, 0x81, 0xa1, 'o', 0x92, 0xdc, 0x00, 0x10,
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0xff);

    //  Depth: the body map is depth 1; 31 nested containers reach 32
    ovh_body_reset (body);
    CHECK (ovh_body_begin_array (body, "deep") == 0);
    for (int depth = 3; depth <= OVH_MAX_DEPTH; depth++)
        CHECK (ovh_body_begin_array (body, NULL) == 0);
    CHECK (ovh_body_begin_map (body, NULL) == -1);
    CHECK (ovh_body_error (body) && ovh_body_error (body)->code == OVH_E_DEPTH);
    ovh_body_reset (body);
    CHECK (ovh_body_begin_map (body, "deep") == 0);
    for (int depth = 3; depth <= OVH_MAX_DEPTH; depth++)
        CHECK (ovh_body_begin_map (body, "m") == 0);
    for (int depth = 2; depth <= OVH_MAX_DEPTH; depth++)
        CHECK (ovh_body_end (body) == 0);
    size_t size;
    const uint8_t *data = ovh_body_data (body, &size);
    //  81 a4 "deep" then 30 times (81 a1 'm') and an empty map 80
    CHECK (data && size == 1 + 5 + 30 * 3 + 1);
    CHECK (data && data [6] == 0x81 && data [size - 1] == 0x80);
}

//  Each misuse: its code, and everything fails afterwards until reset
typedef enum {
    M_MAP_NO_KEY, M_ARRAY_KEY, M_TOP_EVENT, M_TOP_EVENT_MAP, M_END_NOTHING,
    M_DATA_OPEN, M_STRN_NULL, M_TOO_DEEP, M_NESTED_MAP_NO_KEY
} s_misuse_t;

static const struct {
    s_misuse_t misuse;
    ovh_code_t code;
    const char *name;
} s_misuses [] = {
    { M_MAP_NO_KEY,         OVH_E_USAGE,     "value without key in the body map" },
    { M_NESTED_MAP_NO_KEY,  OVH_E_USAGE,     "value without key in a nested map" },
    { M_ARRAY_KEY,          OVH_E_USAGE,     "key inside an array" },
    { M_TOP_EVENT,          OVH_E_EVENT_KEY, "top-level \"event\" scalar" },
    { M_TOP_EVENT_MAP,      OVH_E_EVENT_KEY, "top-level \"event\" map" },
    { M_END_NOTHING,        OVH_E_USAGE,     "end with nothing open" },
    { M_DATA_OPEN,          OVH_E_USAGE,     "data with a container open" },
    { M_STRN_NULL,          OVH_E_USAGE,     "NULL string with a size" },
    { M_TOO_DEEP,           OVH_E_DEPTH,     "33 levels" },
};

static void
s_test_misuse (ovh_body_t *body)
{
    for (size_t index = 0; index < sizeof s_misuses / sizeof s_misuses [0]; index++) {
        ovh_body_reset (body);
        CHECK (ovh_body_error (body) == NULL);
        CHECK (ovh_body_int (body, "before", 1) == 0);
        int rc = 0;
        switch (s_misuses [index].misuse) {
            case M_MAP_NO_KEY:
                rc = ovh_body_int (body, NULL, 1);
                break;
            case M_NESTED_MAP_NO_KEY:
                ovh_body_begin_map (body, "m");
                rc = ovh_body_str (body, NULL, "x");
                break;
            case M_ARRAY_KEY:
                ovh_body_begin_array (body, "a");
                rc = ovh_body_int (body, "k", 1);
                break;
            case M_TOP_EVENT:
                rc = ovh_body_str (body, "event", "sessionCreated");
                break;
            case M_TOP_EVENT_MAP:
                rc = ovh_body_begin_map (body, "event");
                break;
            case M_END_NOTHING:
                rc = ovh_body_end (body);
                break;
            case M_DATA_OPEN:
                ovh_body_begin_array (body, "a");
                rc = ovh_body_data (body, NULL)? 0: -1;
                break;
            case M_STRN_NULL:
                rc = ovh_body_strn (body, "s", NULL, 4);
                break;
            case M_TOO_DEEP:
                for (int depth = 2; depth <= OVH_MAX_DEPTH; depth++)
                    ovh_body_begin_array (body, depth == 2? "a": NULL);
                rc = ovh_body_begin_array (body, NULL);
                break;
        }
        const char *name = s_misuses [index].name;
        CHECK_MSG (rc == -1, "%s: call should fail", name);
        const ovh_error_t *error = ovh_body_error (body);
        CHECK_MSG (error && error->code == s_misuses [index].code,
                   "%s: code %s, want %s", name,
                   error? ovh_code_name (error->code): "none",
                   ovh_code_name (s_misuses [index].code));
        CHECK_MSG (error && strncmp (error->text, ovh_code_name (s_misuses [index].code),
                                     strlen (ovh_code_name (s_misuses [index].code))) == 0,
                   "%s: text '%s'", name, error? error->text: "");
        //  Sticky: later calls fail and do not replace the first error
        CHECK (ovh_body_int (body, "after", 2) == -1);
        CHECK (ovh_body_end (body) == -1);
        CHECK (ovh_body_begin_map (body, "after") == -1);
        CHECK (ovh_body_data (body, NULL) == NULL);
        CHECK (ovh_body_error (body) && ovh_body_error (body)->code == s_misuses [index].code);
    }
    //  Reset makes the builder usable again, with no trace of the failure
    ovh_body_reset (body);
    CHECK (ovh_body_error (body) == NULL);
    CHECK (ovh_body_count (body) == 0);
    CHECK (ovh_body_str (body, "sessionId", "s1") == 0);
    CHECK_BODY (body, 0x81, 0xa9, 's', 'e', 's', 's', 'i', 'o', 'n', 'I', 'd', 0xa2, 's', '1');

    //  Error paths name where: the key, or the array index
    ovh_body_reset (body);
    ovh_body_str (body, "event", "x");
    CHECK_STR (ovh_body_error (body)->path, "event");
    ovh_body_reset (body);
    ovh_body_begin_array (body, "a");
    ovh_body_null (body, NULL);
    ovh_body_null (body, NULL);
    CHECK (ovh_body_strn (body, NULL, NULL, 3) == -1);
    CHECK (ovh_body_error (body) && ovh_body_error (body)->code == OVH_E_USAGE);
    CHECK_STR (ovh_body_error (body)->path, "[2]");
    //  Bytes written so far, the open array with its 5-byte placeholder
    //  header: a1 'a' dd 00 00 00 00 c0 c0
    CHECK (ovh_body_error (body)->offset == 9);
}

int
main (void)
{
    ovh_body_t *body = ovh_body_new ();
    CHECK (body);
    CHECK_BODY (body, 0x80);
    CHECK (ovh_body_count (body) == 0);
    s_test_scalars (body);
    s_test_strings (body);
    s_test_container_sizes (body);
    s_test_nesting (body);
    s_test_misuse (body);
    ovh_body_destroy (&body);
    CHECK (body == NULL);
    ovh_body_destroy (&body);       //  destroying NULL is harmless
    return ovh_test_done ("test_body");
}
