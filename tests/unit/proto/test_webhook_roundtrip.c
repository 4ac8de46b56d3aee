/*  test_webhook_roundtrip.c - random bodies survive msgpack -> JSON -> msgpack.

    For each of BODIES random bodies (nested maps and arrays up to depth 6,
    strings with escapes, control characters and multibyte UTF-8, integers
    of every width, finite doubles of random bit patterns, bools, nulls):

        body -> translator -> JSON1 -> ovh_webhook_to_body -> msgpack
             -> translator -> JSON2

    JSON1 must parse with Jansson, JSON2 must equal JSON1, and the second
    msgpack must equal the first byte for byte (both sides write the
    smallest integer form and float64).

    Then ENVELOPES random envelopes {src, seq, epoch (or none)}, keys in
    any order, integers in any width, strings as fixstr/str 8/str 16,
    sometimes an unknown key: the translator must read back the values
    written, whichever of its two readers (the fast one for what
    publishers write, the general one) takes the envelope. The seed is printed; OVHOOK_SEED
    reproduces a run.                                                        */

#include <inttypes.h>
#include <math.h>
#include <time.h>
#include <jansson.h>
#include "ovhook.h"
#include "ovh_test.h"

#define BODIES      2000
#define MAX_DEPTH   6           //  the body map is depth 1
#define ENVELOPES   2000

static uint64_t s_state;

//  splitmix64: small, fast, and the same sequence everywhere for a seed
static uint64_t
s_random (void)
{
    uint64_t z = (s_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t
s_below (uint32_t limit)
{
    return (uint32_t) (s_random () % limit);
}

static struct {
    size_t strings, ints, doubles, bools, nulls, maps, arrays, max_json;
} s_stats;

//  Append the UTF-8 form of a code point
static size_t
s_utf8 (char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out [0] = (char) cp;
        return 1;
    }
    if (cp < 0x800) {
        out [0] = (char) (0xc0 | cp >> 6);
        out [1] = (char) (0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out [0] = (char) (0xe0 | cp >> 12);
        out [1] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out [2] = (char) (0x80 | (cp & 0x3f));
        return 3;
    }
    out [0] = (char) (0xf0 | cp >> 18);
    out [1] = (char) (0x80 | ((cp >> 12) & 0x3f));
    out [2] = (char) (0x80 | ((cp >> 6) & 0x3f));
    out [3] = (char) (0x80 | (cp & 0x3f));
    return 4;
}

//  Random valid UTF-8 of 'chars' characters into 'out' (room 4 * chars);
//  keys cannot hold NUL (the body API takes C strings)
static size_t
s_text (char *out, size_t chars, bool allow_nul)
{
    size_t size = 0;
    for (size_t index = 0; index < chars; index++) {
        uint32_t cp;
        switch (s_below (10)) {
            case 0: {
                static const char specials [] = "\"\\/\b\f\n\r\t\x7f";
                cp = (uint8_t) specials [s_below (sizeof specials - 1)];
                break;
            }
            case 1:
                cp = s_below (0x20);                    //  control characters
                if (cp == 0 && !allow_nul)
                    cp = 1;
                break;
            case 2:
                cp = 0x80 + s_below (0x800 - 0x80);     //  2 bytes
                break;
            case 3:
                do                                      //  3 bytes, no surrogates
                    cp = 0x800 + s_below (0x10000 - 0x800);
                while (cp >= 0xd800 && cp <= 0xdfff);
                break;
            case 4:
                cp = 0x10000 + s_below (0x110000 - 0x10000);   //  4 bytes
                break;
            default:
                cp = 0x20 + s_below (0x7f - 0x20);      //  printable ASCII
                break;
        }
        size += s_utf8 (out + size, cp);
    }
    return size;
}

static int64_t
s_int (void)
{
    switch (s_below (12)) {
        case 0: return INT64_MAX;
        case 1: return INT64_MIN;
        case 2: return (int64_t) s_below (256) - 128;
        default: {
            //  A random width from 0 to 63 bits, then a random sign
            int bits = (int) s_below (64);
            uint64_t magnitude = bits? s_random () >> (64 - bits): 0;
            return s_below (2)? -(int64_t) magnitude: (int64_t) magnitude;
        }
    }
}

static double
s_double (void)
{
    switch (s_below (8)) {
        case 0: return (double) s_int ();               //  integral values
        case 1: return (double) ((int) s_below (20001) - 10000) / 10.0;
        case 2: return s_below (2)? -0.0: 0.0;
        default: {
            double value;
            do {
                uint64_t bits = s_random ();
                memcpy (&value, &bits, sizeof value);
            } while (!isfinite (value));
            return value;
        }
    }
}

static void s_fill_map (ovh_body_t *body, int depth);
static void s_fill_array (ovh_body_t *body, int depth);

//  One random value under 'key' (NULL in arrays); 'depth' of the container
//  holding it
static void
s_value (ovh_body_t *body, const char *key, int depth)
{
    char text [4 * 300 + 1];
    uint32_t kind = s_below (depth < MAX_DEPTH? 10: 8);
    switch (kind) {
        case 0: case 1: {
            //  Mostly short strings, now and then one past str8
            size_t chars = s_below (10) == 0? 60 + s_below (240): s_below (24);
            size_t size = s_text (text, chars, true);
            ovh_body_strn (body, key, text, size);
            s_stats.strings++;
            break;
        }
        case 2:
            if (s_below (2))
                ovh_body_int (body, key, s_int ());
            else
                ovh_body_uint (body, key, (uint64_t) s_int () & INT64_MAX);
            s_stats.ints++;
            break;
        case 3: case 4:
            ovh_body_double (body, key, s_double ());
            s_stats.doubles++;
            break;
        case 5:
            ovh_body_bool (body, key, s_below (2));
            s_stats.bools++;
            break;
        case 6:
            if (s_below (2))
                ovh_body_null (body, key);
            else
                ovh_body_str (body, key, NULL);
            s_stats.nulls++;
            break;
        case 7:
            ovh_body_int (body, key, (int64_t) s_below (1u << 31) + 1600000000000LL);
            s_stats.ints++;
            break;
        case 8:
            ovh_body_begin_map (body, key);
            s_fill_map (body, depth + 1);
            ovh_body_end (body);
            s_stats.maps++;
            break;
        default:
            ovh_body_begin_array (body, key);
            s_fill_array (body, depth + 1);
            ovh_body_end (body);
            s_stats.arrays++;
            break;
    }
}

static size_t
s_count (void)
{
    //  Mostly small; sometimes 16+ for the 16-bit headers
    return s_below (12) == 0? 16 + s_below (8): s_below (6);
}

static void
s_fill_map (ovh_body_t *body, int depth)
{
    size_t count = s_count ();
    for (size_t index = 0; index < count; index++) {
        //  Random text made unique by its index (JSON rejects duplicates);
        //  "#" also keeps a top-level key from being exactly "event"
        char key [4 * 12 + 16];
        size_t size = s_text (key, s_below (12), false);
        snprintf (key + size, sizeof key - size, "#%zu", index);
        s_value (body, key, depth);
    }
}

static void
s_fill_array (ovh_body_t *body, int depth)
{
    size_t count = s_count ();
    for (size_t index = 0; index < count; index++)
        s_value (body, NULL, depth);
}

//  An unsigned integer in a random format wide enough for it
static size_t
s_pack_uint (uint8_t *out, uint64_t value)
{
    int width = value <= 0x7f? (int) s_below (5): value <= 0xff? 1 + (int) s_below (4)
              : value <= 0xffff? 2 + (int) s_below (3): value <= 0xffffffff? 3 + (int) s_below (2)
              : 4;
    if (width == 0) {
        out [0] = (uint8_t) value;
        return 1;
    }
    size_t bytes = (size_t) 1 << (width - 1);
    out [0] = (uint8_t) (0xcc + width - 1);
    for (size_t index = 0; index < bytes; index++)
        out [1 + index] = (uint8_t) (value >> (8 * (bytes - 1 - index)));
    return 1 + bytes;
}

static size_t
s_pack_str (uint8_t *out, const char *text, size_t size)
{
    size_t header;
    int form = size < 32? (int) s_below (3): size < 256? 1 + (int) s_below (2): 2;
    if (form == 0) {
        out [0] = (uint8_t) (0xa0 | size);
        header = 1;
    }
    else
    if (form == 1) {
        out [0] = 0xd9;
        out [1] = (uint8_t) size;
        header = 2;
    }
    else {
        out [0] = 0xda;
        out [1] = (uint8_t) (size >> 8);
        out [2] = (uint8_t) size;
        header = 3;
    }
    memcpy (out + header, text, size);
    return header + size;
}

static int
s_test_envelopes (ovh_translator_t *translator)
{
    int failures = 0;
    for (int round = 0; round < ENVELOPES && failures < 5; round++) {
        char src [300];
        size_t src_size = s_text (src, s_below (4) == 0? 100: s_below (20), false);
        uint64_t seq = s_below (3) == 0? 1 + s_below (200): s_random () | 1;
        uint64_t epoch = s_below (4) == 0? s_below (300): s_random ();
        bool has_epoch = s_below (4) != 0;
        bool extra = s_below (5) == 0;
        uint8_t data [1024];
        size_t size = 1;
        int keys [4] = { 0, 1, 2, 3 }, count = 2 + has_epoch + extra;
        int order [4];
        for (int index = 0, used = 0; index < 4; index++)
            if (index < 2 || (index == 2 && has_epoch) || (index == 3 && extra))
                order [used++] = keys [index];
        for (int index = count - 1; index > 0; index--) {
            int other = (int) s_below ((uint32_t) index + 1);
            int swap = order [index];
            order [index] = order [other];
            order [other] = swap;
        }
        data [0] = (uint8_t) (0x80 | count);
        for (int index = 0; index < count; index++) {
            static const char *names [] = { "src", "seq", "epoch", "x" };
            size += s_pack_str (data + size, names [order [index]], strlen (names [order [index]]));
            if (order [index] == 0)
                size += s_pack_str (data + size, src, src_size);
            else
            if (order [index] == 1)
                size += s_pack_uint (data + size, seq);
            else
            if (order [index] == 2)
                size += s_pack_uint (data + size, epoch);
            else
                data [size++] = 0xc0;
        }
        ovh_frame_t frames [3] = {
            { "signalSent", 10 }, { "\x80", 1 }, { data, size }
        };
        ovh_event_t event;
        int rc = ovh_translator_translate (translator, frames, 3, &event);
        bool same = rc == 0 && event.has_envelope && event.seq == seq
                 && event.src_size == src_size && memcmp (event.src, src, src_size) == 0
                 && event.has_epoch == has_epoch && event.epoch == (has_epoch? epoch: 0);
        CHECK_MSG (same, "envelope %d: %s; seq %" PRIu64 "/%" PRIu64 ", epoch %d %" PRIu64
                   "/%d %" PRIu64, round, rc? ovh_translator_error (translator)->text: "read",
                   event.seq, seq, event.has_epoch, event.epoch, has_epoch, epoch);
        if (!same)
            failures++;
    }
    return failures;
}

int
main (void)
{
    uint64_t seed = (uint64_t) time (NULL) ^ ((uint64_t) getpid () << 32);
    const char *seed_text = getenv ("OVHOOK_SEED");
    if (seed_text)
        seed = strtoull (seed_text, NULL, 0);
    printf ("test_webhook_roundtrip: seed %" PRIu64 " (OVHOOK_SEED=%" PRIu64 " reproduces)\n",
            seed, seed);
    s_state = seed;

    ovh_body_t *body = ovh_body_new ();
    ovh_body_t *body2 = ovh_body_new ();
    ovh_translator_t *translator = ovh_translator_new ();
    CHECK (body && body2 && translator);
    if (!body || !body2 || !translator)
        return ovh_test_done ("test_webhook_roundtrip");

    int failures = 0;
    int rounds = 0;
    for (int round = 0; round < BODIES && failures < 5; round++, rounds++) {
        const ovh_event_type_t *type = ovh_catalog_at (s_below (OVH_CATALOG_SIZE));
        ovh_body_reset (body);
        s_fill_map (body, 1);
        size_t size1;
        const void *data1 = ovh_body_data (body, &size1);
        CHECK_MSG (data1, "round %d: %s", round,
                   ovh_body_error (body)? ovh_body_error (body)->text: "?");
        if (!data1) {
            failures++;
            continue;
        }
        ovh_frame_t frames [2] = { { type->name, type->name_size }, { data1, size1 } };
        ovh_event_t event;
        int rc = ovh_translator_translate (translator, frames, 2, &event);
        CHECK_MSG (rc == 0, "round %d: translate: %s", round,
                   ovh_translator_error (translator)->text);
        if (rc) {
            failures++;
            continue;
        }
        //  The translator reuses its buffer: keep JSON1
        char *json1 = strndup (event.json, event.json_size);
        size_t json1_size = event.json_size;
        if (json1_size > s_stats.max_json)
            s_stats.max_json = json1_size;

        json_error_t jerror;
        json_t *root = json_loadb (json1, json1_size,
                                   JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerror);
        CHECK_MSG (root && json_is_object (root), "round %d: Jansson: %s at %d",
                   round, jerror.text, jerror.position);
        json_decref (root);

        ovh_error_t error;
        const ovh_event_type_t *type2 = ovh_webhook_to_body (json1, json1_size, body2, &error);
        CHECK_MSG (type2 == type, "round %d: webhook: %s", round, error.text);
        size_t size2 = 0;
        const void *data2 = type2? ovh_body_data (body2, &size2): NULL;
        bool same_msgpack = data2 && size2 == size1 && memcmp (data1, data2, size1) == 0;
        CHECK_MSG (same_msgpack, "round %d: msgpack differs (%zu vs %zu bytes)",
                   round, size1, size2);

        bool same_json = false;
        if (data2) {
            frames [1].data = data2;
            frames [1].size = size2;
            rc = ovh_translator_translate (translator, frames, 2, &event);
            CHECK_MSG (rc == 0, "round %d: translate again: %s", round,
                       ovh_translator_error (translator)->text);
            same_json = rc == 0 && event.json_size == json1_size
                     && memcmp (event.json, json1, json1_size) == 0;
            CHECK_MSG (same_json, "round %d: JSON differs\n  first:  %.300s\n  second: %.300s",
                       round, json1, rc == 0? event.json: "");
        }
        if (!same_json || !same_msgpack)
            failures++;
        free (json1);
    }
    CHECK (rounds == BODIES);
    failures += s_test_envelopes (translator);
    if (failures)
        fprintf (stderr, "test_webhook_roundtrip: failed with seed %" PRIu64 "\n", seed);
    printf ("test_webhook_roundtrip: %d bodies: %zu strings, %zu ints, %zu doubles, %zu bools,"
            " %zu nulls, %zu maps, %zu arrays; largest JSON %zu bytes\n",
            rounds, s_stats.strings, s_stats.ints, s_stats.doubles, s_stats.bools,
            s_stats.nulls, s_stats.maps, s_stats.arrays, s_stats.max_json);

    ovh_translator_destroy (&translator);
    ovh_body_destroy (&body2);
    ovh_body_destroy (&body);
    return ovh_test_done ("test_webhook_roundtrip");
}
