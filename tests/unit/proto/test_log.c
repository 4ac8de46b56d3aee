/*  test_log.c - log lines (ovh_log): the text and JSON formats, a file
    reopened after a rename, whole lines from many threads, CZMQ's own
    lines in the same format.                                               */

#include <pthread.h>
#include <regex.h>
#include <unistd.h>
#include <sys/stat.h>
#include <czmq.h>
#include <jansson.h>
#include "ovh_test.h"
#include "ovh_log.h"

static char s_folder [] = "/tmp/test_log.XXXXXX";

static char *
s_read (const char *name)
{
    char path [256];
    snprintf (path, sizeof path, "%s/%s", s_folder, name);
    FILE *file = fopen (path, "r");
    if (!file)
        return strdup ("");
    static char text [1 << 20];
    size_t size = fread (text, 1, sizeof text - 1, file);
    text [size] = 0;
    fclose (file);
    return strdup (text);
}

static bool
s_matches (const char *text, const char *pattern)
{
    regex_t regex;
    REQUIRE (regcomp (&regex, pattern, REG_EXTENDED | REG_NEWLINE) == 0);
    bool found = regexec (&regex, text, 0, NULL, 0) == 0;
    regfree (&regex);
    return found;
}

static void
s_use_file (const char *name)
{
    char path [256], error [512];
    snprintf (path, sizeof path, "%s/%s", s_folder, name);
    REQUIRE (ovh_log_set_file (path, error, sizeof error) == 0);
}

static void
test_text (void)
{
    s_use_file ("text.log");
    ovh_log_set_ident ("test-log");
    ovh_log_info ("hello %d", 42);
    ovh_log_error ("broken: %s", "yes");
    ovh_log_fields (OVH_LOG_WARNING, OVH_LOG_FIELDS (OVH_LOG_STR ("event_id", "evt_1")),
                    "with fields");
    char *text = s_read ("text.log");
    CHECK_MSG (s_matches (text, "^I: \\(test-log\\) [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
                          "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z hello 42$"), "%s", text);
    CHECK (s_matches (text, "^E: \\(test-log\\) [^ ]+Z broken: yes$"));
    //  Fields are for JSON; the text line's message says it already
    CHECK (s_matches (text, "^W: \\(test-log\\) [^ ]+Z with fields$"));
    CHECK (strstr (text, "evt_1") == NULL);
    free (text);

    struct stat status;
    char path [256];
    snprintf (path, sizeof path, "%s/text.log", s_folder);
    CHECK (stat (path, &status) == 0 && (status.st_mode & 0777) == 0640);
}

static void
test_json (void)
{
    CHECK (ovh_log_set_format ("yaml") == -1);
    CHECK (ovh_log_set_format ("json") == 0);
    s_use_file ("json.log");
    ovh_log_info ("quote \" backslash \\ newline \n tab \t done");
    ovh_log_fields (OVH_LOG_ERROR, OVH_LOG_FIELDS (OVH_LOG_STR ("event_id", "evt_2"),
                    OVH_LOG_STR ("session", "ses_A"), OVH_LOG_INT ("status", 500),
                    OVH_LOG_INT ("attempt", 3), OVH_LOG_STR ("msg", "not this one")),
                    "delivery failed");
    ovh_log_info ("bad utf-8: \xff\xfe end");
    char *text = s_read ("json.log");
    char *save = NULL;
    int lines = 0;
    for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        lines++;
        json_error_t error;
        json_t *object = json_loads (line, 0, &error);
        CHECK_MSG (object && json_is_object (object), "%s: %s", line, error.text);
        if (!object)
            continue;
        const char *ts = json_string_value (json_object_get (object, "ts"));
        CHECK (ts && s_matches (ts, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$"));
        CHECK_STR (json_string_value (json_object_get (object, "program")), "test-log");
        const char *msg = json_string_value (json_object_get (object, "msg"));
        const char *level = json_string_value (json_object_get (object, "level"));
        if (lines == 1) {
            CHECK_STR (level, "info");
            CHECK_STR (msg, "quote \" backslash \\ newline \n tab \t done");
        }
        if (lines == 2) {
            CHECK_STR (level, "error");
            CHECK_STR (msg, "delivery failed");
            CHECK_STR (json_string_value (json_object_get (object, "event_id")), "evt_2");
            CHECK_STR (json_string_value (json_object_get (object, "session")), "ses_A");
            CHECK (json_integer_value (json_object_get (object, "status")) == 500);
            CHECK (json_integer_value (json_object_get (object, "attempt")) == 3);
        }
        if (lines == 3)
            CHECK_STR (msg, "bad utf-8: ?? end");
        json_decref (object);
    }
    CHECK (lines == 3);
    free (text);
    ovh_log_set_format ("text");
}

static void
test_reopen (void)
{
    char error [512], path [256], rotated [256];
    snprintf (path, sizeof path, "%s/rotate.log", s_folder);
    snprintf (rotated, sizeof rotated, "%s/rotate.log.1", s_folder);
    CHECK (ovh_log_set_file (NULL, error, sizeof error) == 0);
    CHECK (ovh_log_reopen (error, sizeof error) == 1);      //  stderr: nothing to reopen
    s_use_file ("rotate.log");
    ovh_log_info ("before");
    REQUIRE (rename (path, rotated) == 0);
    ovh_log_info ("between");               //  still the renamed file
    CHECK (ovh_log_reopen (error, sizeof error) == 0);
    ovh_log_info ("after");
    char *old = s_read ("rotate.log.1");
    char *new = s_read ("rotate.log");
    CHECK (strstr (old, " before\n") && strstr (old, " between\n") && !strstr (old, "after"));
    CHECK (strstr (new, " after\n") && !strstr (new, "before"));
    free (old);
    free (new);

    CHECK (ovh_log_set_file ("/nonexistent/dir/x.log", error, sizeof error) == -1);
    CHECK_MSG (strstr (error, "cannot open log file /nonexistent/dir/x.log: No such file"),
               "%s", error);
    //  The folder vanished: the reopen fails, the old file stays in use
    snprintf (path, sizeof path, "%s/gone", s_folder);
    REQUIRE (mkdir (path, 0700) == 0);
    s_use_file ("gone/x.log");
    snprintf (rotated, sizeof rotated, "%s/gone/x.log", s_folder);
    unlink (rotated);
    rmdir (path);
    CHECK (ovh_log_reopen (error, sizeof error) == -1);
    CHECK (strstr (error, "cannot open log file") != NULL);
}

#define THREADS 4
#define LINES   2000

static void *
s_writer (void *arg)
{
    long number = (long) arg;
    for (int index = 0; index < LINES; index++)
        ovh_log_info ("thread %ld line %d %s", number, index,
                      "padding padding padding padding padding padding padding padding");
    return NULL;
}

static void
test_threads (void)
{
    s_use_file ("threads.log");
    pthread_t threads [THREADS];
    for (long index = 0; index < THREADS; index++)
        pthread_create (&threads [index], NULL, s_writer, (void *) index);
    //  A rotation in the middle of it
    char error [512], path [256], rotated [256];
    snprintf (path, sizeof path, "%s/threads.log", s_folder);
    snprintf (rotated, sizeof rotated, "%s/threads.log.1", s_folder);
    usleep (2000);
    REQUIRE (rename (path, rotated) == 0);
    CHECK (ovh_log_reopen (error, sizeof error) == 0);
    for (int index = 0; index < THREADS; index++)
        pthread_join (threads [index], NULL);
    int count = 0, whole = 0;
    const char *names [] = { "threads.log.1", "threads.log" };
    for (int file = 0; file < 2; file++) {
        char *text = s_read (names [file]);
        char *save = NULL;
        for (char *line = strtok_r (text, "\n", &save); line;
             line = strtok_r (NULL, "\n", &save)) {
            count++;
            whole += s_matches (line, "^I: \\(test-log\\) [^ ]+Z thread [0-9] line [0-9]+ "
                                "(padding ?){8}$");
        }
        free (text);
    }
    CHECK_MSG (count == THREADS * LINES && whole == count, "%d lines, %d whole", count, whole);
}

static void
test_stream (void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&text, &size);
    REQUIRE (stream);
    ovh_log_set_stream (stream);
    ovh_log_notice ("into the %s", "stream");
    ovh_log_set_stream (NULL);
    ovh_log_notice ("not into the stream");
    fclose (stream);
    CHECK_MSG (s_matches (text, "^N: \\(test-log\\) [^ ]+Z into the stream\n$"), "%s", text);
    free (text);
}

static void
test_czmq (void)
{
    s_use_file ("czmq.log");
    zsys_set_logident ("test-log");
    ovh_log_route_czmq ();
    zsys_warning ("from czmq %d", 7);
    zsys_error ("%s", "(parenthesis) first");
    char *text = s_read ("czmq.log");
    CHECK_MSG (s_matches (text, "^W: \\(test-log\\) [0-9]{4}-[^ ]+Z from czmq 7$"), "%s", text);
    CHECK_MSG (s_matches (text, "^E: \\(test-log\\) [^ ]+Z \\(parenthesis\\) first$"), "%s", text);
    free (text);
}

int
main (void)
{
    REQUIRE (mkdtemp (s_folder));
    test_text ();
    test_json ();
    test_reopen ();
    test_threads ();
    test_stream ();
    test_czmq ();
    ovh_log_close ();
    zsys_shutdown ();
    char command [300];
    snprintf (command, sizeof command, "rm -rf %s", s_folder);
    REQUIRE (system (command) == 0);
    return ovh_test_done ("test_log");
}
