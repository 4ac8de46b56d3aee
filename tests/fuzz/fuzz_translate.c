/*  fuzz_translate.c - libFuzzer target of the translator and the catalog
    check.

    Input format (so that the fuzzer reaches the body reader quickly):
        byte 0      flags: bits 0-1  number of frames - 1 (1 to 4)
                           bit 2     topic frame read from the input (raw)
                                     instead of a catalog name
                           bit 3     max frame of 256 bytes instead of 1 MiB
        byte 1      catalog index of the topic (modulo 17), unless raw
        then the frames still to be read (the topic when raw, the body, the
        envelope, a 4th): each but the last as a 2-byte little-endian length
        and that many bytes (cut short at the end of the input); the last
        one takes the rest of the input.
    Example: 01 00 80 is the message ("sessionCreated", {}).

    For every accepted message it checks what must hold: the JSON is NUL-
    terminated, has no raw NUL, is an object that Jansson reads, starts with
    the event name; the catalog check of the accepted body does not fail
    (and runs, without failing the run, on rejected bodies too).
    Run: build-fuzz/tests/fuzz_translate -max_total_time=60 tests/fuzz/corpus */

#include <jansson.h>
#include "ovhook.h"

static ovh_translator_t *s_translator;
static void s_check (const ovh_frame_t *frames, size_t count);

static void
s_require (bool condition, const char *what)
{
    if (!condition) {
        fprintf (stderr, "fuzz_translate: %s\n", what);
        abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (!s_translator) {
        s_translator = ovh_translator_new ();       //  reused: buffer reuse is fuzzed too
        s_require (s_translator, "no translator");
    }
    uint8_t flags = data [0];
    size_t count = (size_t) (flags & 3) + 1;
    bool raw_topic = flags & 4;
    ovh_translator_set_max_frame (s_translator, flags & 8? 256: OVH_MAX_FRAME_DEFAULT);
    const ovh_event_type_t *type = ovh_catalog_at (data [1] % OVH_CATALOG_SIZE);

    ovh_frame_t frames [4] = { { type->name, type->name_size } };
    const uint8_t *p = data + 2;
    const uint8_t *end = data + size;
    for (size_t index = raw_topic? 0: 1; index < count; index++) {
        size_t length = (size_t) (end - p);
        if (index + 1 < count) {
            length = 0;
            if (end - p >= 2) {
                length = (size_t) p [0] | (size_t) p [1] << 8;
                p += 2;
            }
            if (length > (size_t) (end - p))
                length = (size_t) (end - p);
        }
        frames [index].data = p;
        frames [index].size = length;
        p += length;
    }
    //  Each frame in its own allocation of its exact size, so that
    //  AddressSanitizer sees any read past the end of any frame
    void *copies [4] = { NULL, NULL, NULL, NULL };
    for (size_t index = 0; index < count; index++) {
        copies [index] = malloc (frames [index].size? frames [index].size: 1);
        s_require (copies [index], "out of memory");
        memcpy (copies [index], frames [index].data, frames [index].size);
        frames [index].data = copies [index];
    }
    s_check (frames, count);
    for (size_t index = 0; index < count; index++)
        free (copies [index]);
    return 0;
}

static void
s_check (const ovh_frame_t *frames, size_t count)
{

    ovh_event_t event;
    if (ovh_translator_translate (s_translator, frames, count, &event) != 0) {
        const ovh_error_t *error = ovh_translator_error (s_translator);
        s_require (error->code > OVH_OK && error->code < OVH_E_COUNT, "no error code");
        s_require (strlen (error->text) > 0, "no error text");
        s_require (event.json == NULL, "json after a failure");
        //  The check must also survive bodies it was not meant for
        if (count >= 2)
            ovh_catalog_check (ovh_catalog_at (frames [1].size % OVH_CATALOG_SIZE),
                               frames [1].data, frames [1].size, NULL);
        return;
    }
    s_require (event.json [event.json_size] == 0, "JSON not NUL-terminated");
    s_require (strlen (event.json) == event.json_size, "raw NUL in the JSON");
    s_require (strncmp (event.json, "{\"event\":\"", 10) == 0, "JSON does not start with event");
    s_require (event.type && (count == 3) == event.has_envelope, "event fields");
    s_require (!event.has_envelope || (event.src && event.seq >= 1), "envelope fields");

    json_error_t error;
    json_t *json = json_loadb (event.json, event.json_size,
                               JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &error);
    //  Jansson takes NUL in strings (JSON_ALLOW_NUL) but not in keys
    s_require ((json && json_is_object (json))
            || (!json && strstr (error.text, "NUL byte in object key")),
               "JSON that Jansson does not read");
    json_decref (json);

    int warnings = ovh_catalog_check (event.type, frames [1].data, frames [1].size, NULL);
    s_require (warnings >= 0, "catalog check failed on an accepted body");
}
