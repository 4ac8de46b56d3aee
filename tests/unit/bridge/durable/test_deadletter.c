/*  test_deadletter.c - the JSONL dead-letter file (ovh_deadletter): the
    exact line, items read back byte for byte (the 15 documented bodies and
    hand-made ones with unicode, escapes, NULs and big numbers), every kind
    of bad line reported with its line number and skipped, a torn last line,
    the file followed across a rename, a read that cannot chase its own
    appends, retiring (after or before the read), many lines written in few
    fsyncs and all kept at destroy, a write failure counted as lost, lines
    of one key read back in timestamp order, and paths that cannot be used. */

#include <czmq.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "ovh_test.h"
#include "ovh_log.h"
#include "ovh_test_folder.h"
#include "ovh_deadletter.h"

#define ID_A "evt_0123456789abcdef0123456789abcdef"

static char s_folder [256];

static const char *
s_path (const char *name)
{
    static char path [512];
    snprintf (path, sizeof path, "%s/%s", s_folder, name);
    return path;
}

static char *
s_slurp (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *text = NULL;
    size_t capacity = 0;
    FILE *out = open_memstream (&text, &capacity);
    int c;
    while ((c = fgetc (file)) != EOF)
        fputc (c, out);
    fclose (out);
    fclose (file);
    if (size)
        *size = capacity;
    return text;
}

static void
s_spit (const char *path, const char *text, size_t size)
{
    FILE *file = fopen (path, "wb");
    CHECK (file && fwrite (text, 1, size, file) == size);
    if (file)
        fclose (file);
}

//  Collects what ovh_deadletter_read hands over
static void
s_collect (void *arg, ovh_item_t *item)
{
    zlist_append ((zlist_t *) arg, item);
}

static void
s_free_items (zlist_t **list_p)
{
    ovh_item_t *item;
    while ((item = (ovh_item_t *) zlist_pop (*list_p)))
        ovh_item_destroy (&item);
    zlist_destroy (list_p);
}

static ovh_item_t *
s_item (const char *id, const char *key, size_t key_size, const char *json, int attempts)
{
    char name [64] = "";
    CHECK (sscanf (json, "{\"event\":\"%63[^\"]\"", name) == 1);
    const ovh_event_type_t *type = ovh_catalog_lookup (name, strlen (name));
    CHECK_MSG (type != NULL, "%s", name);
    return ovh_item_restore (type, id, key, key_size, json, strlen (json), 1000, attempts);
}

//  The line is exactly the documented one
static void
test_line_format (void)
{
    const char *path = s_path ("format.jsonl");
    char error [256] = "";
    mode_t mask = umask (0);            //  the 0600 comes from us, not the umask
    ovh_deadletter_t *letters = ovh_deadletter_new (path, error, sizeof error);
    CHECK_MSG (letters, "%s", error);
    if (!letters)
        return;
    //  No file until the first dead letter: a run without any leaves none
    CHECK (access (path, F_OK) != 0 && errno == ENOENT);

    const char *json = "{\"event\":\"sessionCreated\",\"timestamp\":1,\"sessionId\":\"ses_A\"}";
    ovh_item_t *item = s_item (ID_A, "ses_A", 5, json, 8);
    int64_t before = zclock_time ();
    CHECK (ovh_deadletter_write (letters, item, "HTTP 500 \"x\"\n\xff/") == 0);
    int64_t after = zclock_time ();
    //  No key, no error text
    ovh_item_t *keyless = s_item (ID_A, NULL, 0, "{\"event\":\"nodeCrashed\",\"id\":3}", 1);
    CHECK (ovh_deadletter_write (letters, keyless, NULL) == 0);
    ovh_deadletter_destroy (&letters);
    CHECK (letters == NULL);
    struct stat status;
    CHECK (stat (path, &status) == 0 && (status.st_mode & 0777) == 0600);

    char *text = s_slurp (path, NULL);
    long long failed_at = 0, second = 0;
    const char *stamp = text ? strstr (text, "\"failed_at\":") : NULL;
    CHECK (stamp && sscanf (stamp, "\"failed_at\":%lld", &failed_at) == 1);
    CHECK (failed_at >= before && failed_at <= after);
    stamp = stamp ? strstr (stamp + 1, "\"failed_at\":") : NULL;
    CHECK (stamp && sscanf (stamp, "\"failed_at\":%lld", &second) == 1);
    char want [1024];
    snprintf (want, sizeof want,
              "{\"id\":\"" ID_A "\",\"event\":\"sessionCreated\",\"key\":\"ses_A\","
              "\"attempts\":8,\"last_error\":\"HTTP 500 \\\"x\\\"\\n?/\",\"failed_at\":%lld,"
              "\"body\":%s}\n"
              "{\"id\":\"" ID_A "\",\"event\":\"nodeCrashed\",\"key\":null,"
              "\"attempts\":1,\"last_error\":\"\",\"failed_at\":%lld,"
              "\"body\":{\"event\":\"nodeCrashed\",\"id\":3}}\n", failed_at, json, second);
    CHECK_STR (text, want);
    free (text);
    ovh_item_destroy (&item);
    ovh_item_destroy (&keyless);
    umask (mask);
}

//  An item of a webhook JSON line with the ordering key that libovhook's
//  translator takes from it, as the bridge's items have
static ovh_item_t *
s_keyed_item (const char *id, const char *json, int attempts)
{
    ovh_body_t *body = ovh_body_new ();
    ovh_translator_t *translator = ovh_translator_new ();
    ovh_error_t error;
    const ovh_event_type_t *type = ovh_webhook_to_body (json, strlen (json), body, &error);
    assert (type);
    ovh_frame_t frames [2] = { { type->name, type->name_size }, { NULL, 0 } };
    frames [1].data = ovh_body_data (body, &frames [1].size);
    ovh_event_t event;
    ovh_item_t *item = NULL;
    if (ovh_translator_translate (translator, frames, 2, &event) == 0)
        item = s_item (id, event.key, event.key_size, json, attempts);
    CHECK_MSG (item, "%s", json);
    ovh_translator_destroy (&translator);
    ovh_body_destroy (&body);
    return item;
}

//  What is written reads back byte for byte
static void
test_round_trip (void)
{
    zlist_t *written = zlist_new ();
    //  Hand-made bodies: unicode, every escape, NUL in a key, big numbers
    static const char *bodies [] = {
        "{\"event\":\"sessionCreated\",\"sessionId\":\"k\\u0000ey\xc3\xa9\",\"s\":\"s\\u00e9\xc3\xa9\xf0\x9f\x98\x80\",\"x\":\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u0000\"}",
        "{\"event\":\"signalSent\",\"sessionId\":\"a/b\",\"data\":\"}{][,:\\\"\",\"to\":[\"x\",[],{}]}",
        "{\"event\":\"nodeCrashed\",\"big\":18446744073709551615,\"neg\":-9223372036854775808,\"f\":674.0,\"e\":1e+300,\"n\":null,\"t\":true}",
        "{\"event\":\"sessionCreated\"}",
    };
    static const char key_with_nul [] = "k\0ey\xc3\xa9";
    for (size_t index = 0; index < sizeof bodies / sizeof bodies [0]; index++) {
        char id [40];
        snprintf (id, sizeof id, "evt_%032zx", index + 1);
        const char *key = index == 0 ? key_with_nul : index == 1 ? "a/b" : NULL;
        size_t key_size = index == 0 ? sizeof key_with_nul - 1 : key ? strlen (key) : 0;
        zlist_append (written, s_item (id, key, key_size, bodies [index], (int) index));
    }
    //  The 15 documented bodies, each with the key the translator takes
    //  from it (a line's key must match its body)
    const char *dir = getenv ("OVHOOK_REFERENCE_DIR");
    CHECK_MSG (dir != NULL, "OVHOOK_REFERENCE_DIR is not set");
    char examples [512];
    snprintf (examples, sizeof examples, "%s/openvidu-examples.jsonl", dir ? dir : ".");
    FILE *file = fopen (examples, "r");
    CHECK_MSG (file != NULL, "%s", examples);
    char line [4096];
    while (file && fgets (line, sizeof line, file)) {
        line [strcspn (line, "\n")] = 0;
        char id [40];
        snprintf (id, sizeof id, "evt_%032zx", zlist_size (written) + 100);
        zlist_append (written, s_keyed_item (id, line, 3));
    }
    if (file)
        fclose (file);
    CHECK (zlist_size (written) == 4 + 15);

    const char *path = s_path ("round.jsonl");
    char error [256] = "";
    ovh_deadletter_t *letters = ovh_deadletter_new (path, error, sizeof error);
    CHECK (letters);
    for (ovh_item_t *item = (ovh_item_t *) zlist_first (written); item && letters;
         item = (ovh_item_t *) zlist_next (written))
        CHECK (ovh_deadletter_write (letters, item, "final status 404") == 0);
    ovh_deadletter_destroy (&letters);

    zlist_t *read = zlist_new ();
    int64_t before = zclock_time ();
    CHECK (ovh_deadletter_read (path, s_collect, read, error, sizeof error)
           == (int) zlist_size (written));
    CHECK (zlist_size (read) == zlist_size (written));
    //  Each line as written, found by its id: the lines of one key come
    //  back in timestamp order, not in file order (test_read_order)
    for (ovh_item_t *got = (ovh_item_t *) zlist_first (read); got;
         got = (ovh_item_t *) zlist_next (read)) {
        ovh_item_t *want = (ovh_item_t *) zlist_first (written);
        while (want && strcmp (want->id, got->id))
            want = (ovh_item_t *) zlist_next (written);
        CHECK_MSG (want, "%s was never written", got->id);
        if (!want)
            continue;
        CHECK (got->type == want->type);
        CHECK (got->has_key == want->has_key);
        CHECK (got->key_size == want->key_size
               && memcmp (got->key, want->key, want->key_size) == 0);
        CHECK_MSG (got->json_size == want->json_size
                   && memcmp (got->json, want->json, want->json_size) == 0,
                   "got %s", got->json);
        //  A fresh budget: no attempts made, age counted from now
        CHECK (got->attempts == 0);
        CHECK (got->accepted_ms >= before);
    }
    s_free_items (&read);
    s_free_items (&written);
}

//  Bad lines: each logged with its number and what is wrong, then skipped
static void
test_bad_lines (void)
{
    #define GOOD(id) "{\"id\":\"" id "\",\"event\":\"sessionCreated\",\"key\":null," \
                     "\"attempts\":1,\"last_error\":\"\",\"failed_at\":1," \
                     "\"body\":{\"event\":\"sessionCreated\",\"timestamp\":1}}"
    #define FIELDS "\"id\":\"" ID_A "\",\"event\":\"sessionCreated\""
    #define BODY "\"body\":{\"event\":\"sessionCreated\"}"
    #define OPEN_8 "[[[[[[[["
    #define CLOSE_8 "]]]]]]]]"
    #define DEEP_31 OPEN_8 OPEN_8 OPEN_8 "[[[[[[[]]]]]]]" CLOSE_8 CLOSE_8 CLOSE_8
    #define DEEP_32 "[" DEEP_31 "]"
    struct {
        const char *line;
        const char *problem;            //  NULL: a good or blank line
    } lines [] = {
        { GOOD ("evt_00000000000000000000000000000001"), NULL },
        { "not json", "not JSON (" },
        { "[1,2]", "not a JSON object" },
        { "{\"event\":\"sessionCreated\",\"key\":null," BODY "}", "no valid \"id\"" },
        { "{\"id\":\"evt_0123\",\"event\":\"sessionCreated\",\"key\":null," BODY "}", "no valid \"id\"" },
        { "{\"id\":\"evt_0123456789ABCDEF0123456789abcdef\",\"event\":\"sessionCreated\",\"key\":null," BODY "}",
          "no valid \"id\"" },
        { "{\"id\":\"" ID_A "\",\"event\":\"sessionCreatedX\",\"key\":null," BODY "}",
          "\"event\" is not an event type" },
        { "{" FIELDS ",\"key\":5," BODY "}", "\"key\" is not a string or null" },
        { "{" FIELDS "," BODY "}", "\"key\" is not a string or null" },
        { "   \t", NULL },
        { "{" FIELDS ",\"key\":null,\"body\":\"{}\"}", "\"body\" is not a JSON object" },
        { "{" FIELDS ",\"key\":null}", "\"body\" is not a JSON object" },
        { "{" FIELDS ",\"key\":null,\"body\":{\"event\":\"sessionDestroyed\"}}",
          "the body's \"event\" is not \"sessionCreated\"" },
        { "{" FIELDS ",\"key\":null," BODY "," BODY "}", "\"body\" must appear once" },
        { "{" FIELDS ",\"key\":null,\"bo\\u0064y\":{\"event\":\"sessionCreated\"}}",
          "\"body\" must appear once" },
        //  Spaces, "body" first, odd strings: still good, body verbatim
        { " { \"body\" : {\"event\":\"sessionCreated\", \"sessionId\": \"k\", \"a\": [1, \"]}\\\"\"]} , \"id\":\""
          ID_A "\", \"event\": \"sessionCreated\",\"key\":\"k\" } ", NULL },
        //  What the bus could never have carried (issue 10)
        { "{" FIELDS ",\"key\":null,\"body\":{\"event\":\"sessionCreated\",\"d\":" DEEP_32 "}}",
          "\"body\" is nested deeper than 32 levels" },
        { "{" FIELDS ",\"key\":\"x\",\"body\":{\"event\":\"sessionCreated\",\"sessionId\":\"s\"}}",
          "\"key\" does not match the body (its sessionId is \"s\")" },
        { "{" FIELDS ",\"key\":null,\"body\":{\"event\":\"sessionCreated\",\"id\":\"i\\n\"}}",
          "\"key\" does not match the body (its id is \"i?\")" },
        { "{" FIELDS ",\"key\":\"s\"," BODY "}",
          "\"key\" does not match the body (it has no sessionId, id, nodeId nor clusterId" },
        { "{" FIELDS ",\"key\":\"s\",\"body\":{\"event\":\"sessionCreated\",\"sessionId\":5}}",
          "\"key\" does not match the body (it has no" },
        //  31 levels below the body: the limit, good
        { "{\"id\":\"evt_00000000000000000000000000000004\",\"event\":\"sessionCreated\","
          "\"key\":null,\"body\":{\"event\":\"sessionCreated\",\"d\":" DEEP_31 "}}", NULL },
        { GOOD ("evt_00000000000000000000000000000002"), NULL },
        { GOOD ("evt_00000000000000000000000000000003"), "not JSON (" },  //  NUL, torn
    };
    size_t count = sizeof lines / sizeof lines [0];
    size_t problems = 0;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    for (size_t index = 0; index < count; index++) {
        const char *line = lines [index].line;
        problems += lines [index].problem != NULL;
        if (index == count - 1) {
            //  A line with a NUL byte inside, then a line torn by a crash
            fwrite ("{\"id\":\"x\0\"}\n", 1, 12, out);
            fwrite (line, 1, strlen (line) - 20, out);
            problems++;
        }
        else
            fprintf (out, "%s\n", line);
    }
    fclose (out);
    const char *path = s_path ("bad.jsonl");
    s_spit (path, text, size);
    free (text);

    char *log = NULL;
    size_t log_size = 0;
    FILE *log_stream = open_memstream (&log, &log_size);
    ovh_log_set_stream (log_stream);
    zlist_t *read = zlist_new ();
    char error [256] = "";
    CHECK (ovh_deadletter_read (path, s_collect, read, error, sizeof error) == 4);
    ovh_log_set_stream (NULL);
    fclose (log_stream);

    //  Line numbers: the NUL line is number count (the torn one count + 1)
    for (size_t index = 0; index < count; index++) {
        size_t number = index + 1 + (index == count - 1);
        char want [300];
        snprintf (want, sizeof want, "bad.jsonl line %zu: %s", number,
                  lines [index].problem ? lines [index].problem : "");
        if (lines [index].problem)
            CHECK_MSG (strstr (log, want), "no '%s' in\n%s", want, log);
        else {
            snprintf (want, sizeof want, "bad.jsonl line %zu:", number);
            CHECK_MSG (!strstr (log, want), "'%s' reported", want);
        }
    }
    char want [64];
    snprintf (want, sizeof want, "bad.jsonl line %zu: holds a NUL byte: skipped", count);
    CHECK_MSG (strstr (log, want), "%s", log);
    snprintf (want, sizeof want, "bad.jsonl: %zu invalid lines skipped", problems);
    CHECK_MSG (strstr (log, want), "%s", log);
    free (log);

    ovh_item_t *item = (ovh_item_t *) zlist_first (read);
    CHECK (item && strcmp (item->id, "evt_00000000000000000000000000000001") == 0);
    CHECK (item && !item->has_key);
    item = (ovh_item_t *) zlist_next (read);
    CHECK (item && strcmp (item->id, ID_A) == 0);
    CHECK (item && item->has_key && strcmp (item->key, "k") == 0);
    CHECK (item && strcmp (item->json, "{\"event\":\"sessionCreated\", \"sessionId\": \"k\", \"a\": [1, \"]}\\\"\"]}") == 0);
    item = (ovh_item_t *) zlist_next (read);
    CHECK (item && strcmp (item->id, "evt_00000000000000000000000000000004") == 0);
    item = (ovh_item_t *) zlist_next (read);
    CHECK (item && strcmp (item->id, "evt_00000000000000000000000000000002") == 0);
    s_free_items (&read);

    //  A writer opening that file ends the torn line first: the next line
    //  stands alone and reads back
    ovh_deadletter_t *letters = ovh_deadletter_new (path, error, sizeof error);
    ovh_item_t *added = s_item (ID_A, NULL, 0, "{\"event\":\"sessionCreated\"}", 2);
    CHECK (letters && ovh_deadletter_write (letters, added, "x") == 0);
    ovh_deadletter_destroy (&letters);
    read = zlist_new ();
    CHECK (ovh_deadletter_read (path, s_collect, read, error, sizeof error) == 5);
    item = (ovh_item_t *) zlist_last (read);
    CHECK (item && strcmp (item->json, added->json) == 0);
    s_free_items (&read);
    ovh_item_destroy (&added);
}

//  Each item read is written again meanwhile (a redelivered event failing
//  at once): the read stops at the lines it started with
static zlist_t *s_seen;
static ovh_deadletter_t *s_writer;

static void
s_fail_again (void *arg, ovh_item_t *item)
{
    (void) arg;
    CHECK (ovh_deadletter_write (s_writer, item, "again") == 0);
    zlist_append (s_seen, item);
}

static void
test_read_stops_at_start_size (void)
{
    const char *path = s_path ("again.jsonl");
    char error [256] = "";
    s_writer = ovh_deadletter_new (path, error, sizeof error);
    s_seen = zlist_new ();
    for (int index = 0; index < 3; index++) {
        ovh_item_t *item = s_item (ID_A, NULL, 0, "{\"event\":\"sessionCreated\"}", index);
        CHECK (ovh_deadletter_write (s_writer, item, "x") == 0);
        ovh_item_destroy (&item);
    }
    CHECK (ovh_deadletter_flush (s_writer) == 0);
    CHECK (ovh_deadletter_read (path, s_fail_again, NULL, error, sizeof error) == 3);
    CHECK (zlist_size (s_seen) == 3);
    s_free_items (&s_seen);
    CHECK (ovh_deadletter_flush (s_writer) == 0);
    zlist_t *read = zlist_new ();
    CHECK (ovh_deadletter_read (path, s_collect, read, error, sizeof error) == 6);
    s_free_items (&read);

    //  Retire, then the writer follows the path to a new file
    CHECK (ovh_deadletter_retire (path) == 0);
    CHECK (access (path, F_OK) != 0);
    ovh_item_t *item = s_item (ID_A, NULL, 0, "{\"event\":\"sessionCreated\"}", 9);
    CHECK (ovh_deadletter_write (s_writer, item, "after") == 0);
    ovh_item_destroy (&item);
    ovh_deadletter_destroy (&s_writer);
    read = zlist_new ();
    CHECK (ovh_deadletter_read (path, s_collect, read, error, sizeof error) == 1);
    s_free_items (&read);

    //  The retired file holds the six lines, under the documented name;
    //  a second retirement in the same second does not overwrite it
    long long now = (long long) time (NULL);
    CHECK (ovh_deadletter_retire (path) == 0);
    char first [600], second [700];
    snprintf (first, sizeof first, "%s.redelivered-%lld", path, now - 1);
    if (access (first, F_OK) != 0)
        snprintf (first, sizeof first, "%s.redelivered-%lld", path, now);
    snprintf (second, sizeof second, "%s.1", first);
    read = zlist_new ();
    CHECK_MSG (ovh_deadletter_read (first, s_collect, read, error, sizeof error) == 6, "%s", first);
    s_free_items (&read);
    if (access (second, F_OK) == 0) {           //  same second: ".1"
        read = zlist_new ();
        CHECK (ovh_deadletter_read (second, s_collect, read, error, sizeof error) == 1);
        s_free_items (&read);
    }
    errno = 0;
    CHECK (ovh_deadletter_retire (path) == -1 && errno == ENOENT);
}

//  The safe order for --redeliver: retire first, read the retired file;
//  events failing again meanwhile go to a new file at the path
static void
test_retire_first (void)
{
    const char *path = s_path ("first.jsonl");
    char error [256] = "";
    s_writer = ovh_deadletter_new (path, error, sizeof error);
    for (int index = 0; index < 3; index++) {
        ovh_item_t *item = s_item (ID_A, NULL, 0, "{\"event\":\"sessionCreated\"}", index);
        CHECK (ovh_deadletter_write (s_writer, item, "x") == 0);
        ovh_item_destroy (&item);
    }
    CHECK (ovh_deadletter_flush (s_writer) == 0);
    char small [8];
    errno = 0;
    CHECK (ovh_deadletter_retire_as (path, small, sizeof small) == -1 && errno == ENAMETOOLONG);
    CHECK (access (path, F_OK) == 0);
    char taken [600];
    CHECK (ovh_deadletter_retire_as (path, taken, sizeof taken) == 0);
    CHECK (strncmp (taken, path, strlen (path)) == 0
           && strncmp (taken + strlen (path), ".redelivered-", 13) == 0);
    s_seen = zlist_new ();
    CHECK (ovh_deadletter_read (taken, s_fail_again, NULL, error, sizeof error) == 3);
    s_free_items (&s_seen);
    ovh_deadletter_destroy (&s_writer);
    zlist_t *read = zlist_new ();
    CHECK (ovh_deadletter_read (taken, s_collect, read, error, sizeof error) == 3);
    s_free_items (&read);
    read = zlist_new ();
    CHECK (ovh_deadletter_read (path, s_collect, read, error, sizeof error) == 3);
    ovh_item_t *item = (ovh_item_t *) zlist_first (read);
    CHECK (item && strcmp (item->id, ID_A) == 0);
    s_free_items (&read);
}


//  Many dead letters at once (an outage expiring thousands of events): the
//  caller only queues them, more than the queue holds (it waits for room,
//  never drops); they are written in batches, far fewer fsyncs than lines;
//  destroy writes everything before it returns, in order
#define MANY 3000

static void
test_many_batched (void)
{
    const char *path = s_path ("many.jsonl");
    char error [256] = "";
    ovh_deadletter_t *letters = ovh_deadletter_new (path, error, sizeof error);
    CHECK_MSG (letters, "%s", error);
    if (!letters)
        return;
    for (int index = 0; index < MANY; index++) {
        char id [40];
        snprintf (id, sizeof id, "evt_%032x", index);
        ovh_item_t *item = s_item (id, "ses_A", 5, "{\"event\":\"sessionCreated\",\"sessionId\":\"ses_A\"}", 1);
        CHECK (ovh_deadletter_write (letters, item, "x") == 0);
        ovh_item_destroy (&item);
    }
    CHECK (ovh_deadletter_flush (letters) == 0);
    uint64_t syncs = ovh_deadletter_syncs (letters);
    CHECK_MSG (syncs > 0 && syncs <= MANY / 20, "%d lines, %llu fsyncs", MANY,
               (unsigned long long) syncs);
    //  What was accepted after the flush is written by destroy
    for (int index = MANY; index < MANY + 5; index++) {
        char id [40];
        snprintf (id, sizeof id, "evt_%032x", index);
        ovh_item_t *item = s_item (id, "ses_A", 5, "{\"event\":\"sessionCreated\",\"sessionId\":\"ses_A\"}", 1);
        CHECK (ovh_deadletter_write (letters, item, "x") == 0);
        ovh_item_destroy (&item);
    }
    CHECK (ovh_deadletter_lost (letters) == 0);
    ovh_deadletter_destroy (&letters);

    FILE *file = fopen (path, "r");
    CHECK (file);
    char line [512];
    int count = 0;
    while (file && fgets (line, sizeof line, file)) {
        char want [64];
        snprintf (want, sizeof want, "{\"id\":\"evt_%032x\",", count);
        CHECK_MSG (strncmp (line, want, strlen (want)) == 0, "line %d: %s", count + 1, line);
        count++;
    }
    if (file)
        fclose (file);
    CHECK_MSG (count == MANY + 5, "%d lines", count);
}

//  A disk that fills up (a file size limit here: writes fail with EFBIG):
//  the whole lines written stay, the torn one is cut off, and the lines
//  not written are logged with the file and counted as lost
static void
test_write_failure (void)
{
    const char *path = s_path ("full.jsonl");
    char error [256] = "";
    ovh_deadletter_t *letters = ovh_deadletter_new (path, error, sizeof error);
    CHECK_MSG (letters, "%s", error);
    if (!letters)
        return;
    ovh_item_t *item = s_item (ID_A, "ses_A", 5, "{\"event\":\"sessionCreated\",\"sessionId\":\"ses_A\"}", 1);
    CHECK (ovh_deadletter_write (letters, item, "x") == 0);
    CHECK (ovh_deadletter_flush (letters) == 0);
    struct stat status;
    CHECK (stat (path, &status) == 0);
    off_t line_size = status.st_size;

    //  Room for one more line and a half
    struct rlimit saved;
    CHECK (getrlimit (RLIMIT_FSIZE, &saved) == 0);
    struct rlimit limit = saved;
    limit.rlim_cur = (rlim_t) (line_size * 2 + line_size / 2);
    void (*handler) (int) = signal (SIGXFSZ, SIG_IGN);
    CHECK (setrlimit (RLIMIT_FSIZE, &limit) == 0);
    char *log = NULL;
    size_t log_size = 0;
    FILE *log_stream = open_memstream (&log, &log_size);
    ovh_log_set_stream (log_stream);
    for (int index = 0; index < 3; index++)
        CHECK (ovh_deadletter_write (letters, item, "x") == 0);
    CHECK (ovh_deadletter_flush (letters) == -1);
    ovh_log_set_stream (NULL);
    fclose (log_stream);
    CHECK (setrlimit (RLIMIT_FSIZE, &saved) == 0);
    signal (SIGXFSZ, handler);

    CHECK_MSG (ovh_deadletter_lost (letters) == 2, "lost %llu",
               (unsigned long long) ovh_deadletter_lost (letters));
    char want [600];
    snprintf (want, sizeof want, "dead-letter file %s: File too large: ", path);
    CHECK_MSG (strstr (log, want) && strstr (log, " lost"), "%s", log);
    CHECK_MSG (strstr (log, "2 dead letters lost") || strstr (log, "1 dead letter lost"),
               "%s", log);
    free (log);
    CHECK (stat (path, &status) == 0 && status.st_size == 2 * line_size);

    //  With room again, the file goes on, whole lines only
    CHECK (ovh_deadletter_write (letters, item, "x") == 0);
    ovh_deadletter_destroy (&letters);
    zlist_t *read = zlist_new ();
    CHECK (ovh_deadletter_read (path, s_collect, read, error, sizeof error) == 3);
    s_free_items (&read);
    ovh_item_destroy (&item);
}

//  Lines of one key read back in the order of their body's timestamp, in
//  the places that key's lines take; other keys and keyless lines keep
//  their places (a file holding the lines of two runs)
static void
test_read_order (void)
{
    #define LINE(n, key, event, stamp) "{\"id\":\"evt_%032x\",\"event\":\"" event "\"," \
        "\"key\":" key ",\"attempts\":1,\"last_error\":\"\",\"failed_at\":1,\"body\":" \
        "{\"event\":\"" event "\",\"sessionId\":" key stamp "}}\n"
    const char *format =
        LINE (1, "\"K\"", "sessionDestroyed", ",\"timestamp\":30")
        LINE (2, "\"L\"", "sessionCreated", ",\"timestamp\":50")
        LINE (3, "null", "nodeCrashed", ",\"timestamp\":1")
        LINE (4, "\"K\"", "participantJoined", ",\"timestamp\":20")
        LINE (5, "\"K\"", "participantLeft", "")       //  no timestamp: stays after 4
        LINE (6, "\"L\"", "sessionDestroyed", ",\"timestamp\":60")
        LINE (7, "\"K\"", "sessionCreated", ",\"timestamp\":10")
        LINE (8, "\"K\"", "sessionCreated", ",\"timestamp\":10");   //  tie: file order
    char text [4096];
    snprintf (text, sizeof text, format, 1, 2, 3, 4, 5, 6, 7, 8);
    const char *path = s_path ("order.jsonl");
    s_spit (path, text, strlen (text));
    zlist_t *read = zlist_new ();
    char error [256] = "";
    CHECK (ovh_deadletter_read (path, s_collect, read, error, sizeof error) == 8);
    //  K's places are 1, 4, 5, 7, 8; by time: 7, 8, 4, 5, 1
    int want [] = { 7, 2, 3, 8, 4, 6, 5, 1 };
    char got [64] = "", expected [64] = "";
    int index = 0;
    for (ovh_item_t *item = (ovh_item_t *) zlist_first (read); item;
         item = (ovh_item_t *) zlist_next (read), index++) {
        unsigned number = 0;
        sscanf (item->id, "evt_%x", &number);
        snprintf (got + strlen (got), sizeof got - strlen (got), " %u", number);
        if (index < 8)
            snprintf (expected + strlen (expected), sizeof expected - strlen (expected),
                      " %d", want [index]);
    }
    CHECK_STR (got, expected);
    s_free_items (&read);
}

static void
test_unusable_paths (void)
{
    struct {
        const char *path;
        const char *error;
    } cases [] = {
        { "/nonexistent-ovhook-dir/dead.jsonl", "No such file or directory" },
        { "/tmp", "/tmp is a directory" },
        { "/dev/null", "/dev/null is a device" },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        char error [256] = "";
        ovh_deadletter_t *letters = ovh_deadletter_new (cases [index].path, error, sizeof error);
        CHECK_MSG (letters == NULL, "%s", cases [index].path);
        ovh_deadletter_destroy (&letters);
        CHECK_STR (error, cases [index].error);
    }
    //  Permissions only bind a non-root user
    if (geteuid () != 0) {
        const char *path = s_path ("readonly.jsonl");
        s_spit (path, "", 0);
        chmod (path, 0400);
        char error [256] = "";
        CHECK (ovh_deadletter_new (path, error, sizeof error) == NULL);
        CHECK_STR (error, "Permission denied");
        chmod (path, 0000);
        CHECK (ovh_deadletter_read (path, s_collect, NULL, error, sizeof error) == -1);
        CHECK_STR (error, "Permission denied");
    }
    //  Reading: a missing file holds no dead letters; a folder is an error
    char error [256] = "";
    CHECK (ovh_deadletter_read (s_path ("missing.jsonl"), s_collect, NULL,
                                error, sizeof error) == 0);
    CHECK (ovh_deadletter_read (s_folder, s_collect, NULL, error, sizeof error) == -1);
    CHECK_STR (error, "Is a directory");
}

//  Dead letters are appended: a link, a FIFO or a folder at the file's
//  name is refused at start, and what a link points to is untouched
static void
test_hostile_file (void)
{
    char *victim = zsys_sprintf ("%s/victim", s_folder);
    for (int kind = 0; kind < HOSTILE_COUNT; kind++) {
        char *path = zsys_sprintf ("%s/hostile%d.jsonl", s_folder, kind);
        REQUIRE (ovh_test_victim_new (victim) == 0);
        REQUIRE (ovh_test_hostile_make ((ovh_test_hostile_t) kind, path, victim) == 0);
        char error [512] = "";
        ovh_deadletter_t *letters = ovh_deadletter_new (path, error, sizeof error);
        if (letters) {              //  what the old code did with it
            ovh_item_t *item = s_item (ID_A, "k", 1, "{\"event\":\"participantJoined\"}", 1);
            ovh_deadletter_write (letters, item, "HTTP 500");
            ovh_deadletter_flush (letters);
            ovh_item_destroy (&item);
        }
        OVH_TEST_HOSTILE_REFUSED (kind, path, letters != NULL, error, victim);
        ovh_deadletter_destroy (&letters);
        zstr_free (&path);
        unlink (victim);
    }
    zstr_free (&victim);
}

int
main (void)
{
    if (ovh_test_folder_new (s_folder, sizeof s_folder, "test_deadletter"))
        return 1;
    test_line_format ();
    test_round_trip ();
    test_bad_lines ();
    test_read_stops_at_start_size ();
    test_retire_first ();
    test_many_batched ();
    test_write_failure ();
    test_read_order ();
    test_unusable_paths ();
    test_hostile_file ();

    ovh_test_folder_remove (s_folder);
    zsys_shutdown ();
    return ovh_test_done ("test_deadletter");
}
