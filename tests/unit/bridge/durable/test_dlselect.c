/*  test_dlselect.c - which dead letters a selection chooses
    (ovh_dlselect): a table of filter sets, each against the same six dead
    letters, with the exact set it must choose; times as ISO-8601 (every
    form, zones, bad dates) and as durations ago; and the error text of
    every bad filter.                                                        */

#include <czmq.h>
#include "ovh_test.h"
#include "ovh_dlselect.h"

#define NOW 1765000000000LL             //  2025-12-06T05:46:40Z
#define HOUR 3600000LL

static const ovh_dlrecord_t s_letters [] = {
    { 1, "evt_00000000000000000000000000000001", "sessionCreated", "ses_A", 8, "503",
      NOW - 5 * HOUR, "{}", 2, NULL, 0 },
    { 2, "evt_00000000000000000000000000000002", "participantJoined", "ses_A", 8, "503",
      NOW - 4 * HOUR, "{}", 2, NULL, 0 },
    { 3, "evt_00000000000000000000000000000003", "sessionCreated", "ses_B", 1, "404",
      NOW - 3 * HOUR, "{}", 2, NULL, 0 },
    { 4, "evt_00000000000000000000000000000004", "sessionDestroyed", "ses_B", 1, "404",
      NOW - 2 * HOUR, "{}", 2, NULL, 0 },
    { 5, "evt_00000000000000000000000000000005", "mediaNodeStatusChanged", NULL, 3, "",
      NOW - HOUR, "{}", 2, NULL, 0 },
    { 12, "evt_0000000000000000000000000000000c", "sessionDestroyed", "ses_C", 2, "410",
      NOW, "{}", 2, NULL, 0 },
};
#define LETTERS (sizeof s_letters / sizeof s_letters [0])

typedef struct {
    const char *filters [4][2];         //  option, value; NULL ends
    const char *chosen;                 //  the numbers chosen, "1 3"
} select_case_t;

static const select_case_t s_cases [] = {
    { { { NULL } }, "1 2 3 4 5 12" },
    { { { "event", "sessionCreated" } }, "1 3" },
    { { { "event", "sessionCreated,sessionDestroyed" } }, "1 3 4 12" },
    { { { "event", "sessionCreated" }, { "event", "sessionDestroyed" } }, "1 3 4 12" },
    { { { "event", "recordingStatusChanged" } }, "" },
    { { { "session", "ses_A" } }, "1 2" },
    { { { "session", "ses_A" }, { "session", "ses_C" } }, "1 2 12" },
    { { { "session", "ses_Z" } }, "" },
    { { { "event", "sessionCreated" }, { "session", "ses_B" } }, "3" },
    //  since is inclusive, until is not
    { { { "since", "3h" } }, "3 4 5 12" },
    { { { "until", "3h" } }, "1 2" },
    { { { "since", "4h" }, { "until", "2h" } }, "2 3" },
    { { { "since", "2025-12-06T02:46:40Z" } }, "3 4 5 12" },
    { { { "since", "2025-12-06T03:46:40+01:00" } }, "3 4 5 12" },
    { { { "since", "2025-12-06T01:46:40-01:00" } }, "3 4 5 12" },
    { { { "since", "2025-12-06T02:46:40.001Z" } }, "4 5 12" },
    { { { "until", "2025-12-06" } }, "" },
    { { { "since", "2025-12-06" } }, "1 2 3 4 5 12" },
    { { { "id", "3" } }, "3" },
    { { { "id", "3,12" } }, "3 12" },
    { { { "id", "evt_0000000000000000000000000000000c" } }, "12" },
    { { { "id", "2" }, { "id", "evt_00000000000000000000000000000004" } }, "2 4" },
    { { { "id", "7" } }, "" },
    { { { "id", "1,2,3" }, { "session", "ses_A" }, { "event", "participantJoined" } }, "2" },
};

typedef struct {
    const char *option, *value;
    const char *error;                  //  the start of the error text
} error_case_t;

static const error_case_t s_errors [] = {
    { "event", "sessionCreate", "--event 'sessionCreate': not an event type; the types are: "
      "sessionCreated, sessionDestroyed," },
    { "event", "sessionCreated,", "--event 'sessionCreated,': an empty item in the list" },
    { "event", "", "--event: needs a value, not an empty one" },
    { "session", "", "--session: needs a value, not an empty one" },
    { "since", "yesterday", "--since 'yesterday': not a time: give an ISO-8601 time" },
    { "until", "2025-02-30", "--until '2025-02-30': not a time" },
    { "until", "2025-12-06T24:00", "--until '2025-12-06T24:00': not a time" },
    { "until", "2025-12-06T10:00+0", "--until '2025-12-06T10:00+0': not a time" },
    { "since", "-2h", "--since '-2h': not a time" },
    { "id", "0", "--id '0': not a dead letter's id" },
    { "id", "evt_123", "--id 'evt_123': not a dead letter's id" },
    { "id", "12x", "--id '12x': not a dead letter's id" },
    { "bogus", "1", "--bogus: not a filter of dead letters" },
};

static void
s_check_case (const select_case_t *test)
{
    ovh_dlselect_t *selection = ovh_dlselect_new (NOW);
    REQUIRE (selection);
    char error [1024];
    for (int index = 0; index < 4 && test->filters [index][0]; index++)
        CHECK_MSG (ovh_dlselect_add (selection, test->filters [index][0],
                                     test->filters [index][1], error, sizeof error) == 0,
                   "--%s %s: %s", test->filters [index][0], test->filters [index][1], error);
    CHECK (ovh_dlselect_filtered (selection) == (test->filters [0][0] != NULL));
    char chosen [128] = "";
    for (size_t index = 0; index < LETTERS; index++)
        if (ovh_dlselect_match (selection, &s_letters [index]))
            snprintf (chosen + strlen (chosen), sizeof chosen - strlen (chosen), "%s%" PRId64,
                      *chosen ? " " : "", s_letters [index].number);
    CHECK_MSG (streq (chosen, test->chosen), "filters starting --%s %s chose '%s', not '%s'",
               test->filters [0][0] ? test->filters [0][0] : "(none)",
               test->filters [0][1] ? test->filters [0][1] : "", chosen, test->chosen);
    ovh_dlselect_destroy (&selection);
    CHECK (selection == NULL);
}

static void
s_check_times (void)
{
    int64_t msecs = 0;
    CHECK (ovh_dlselect_parse_time ("2025-01-01T00:00:00.123Z", &msecs) == 0
        && msecs == 1735689600123LL);
    CHECK (ovh_dlselect_parse_time ("2025-01-01 00:00", &msecs) == 0 && msecs == 1735689600000LL);
    CHECK (ovh_dlselect_parse_time ("2025-01-01T01:00:00+0100", &msecs) == 0
        && msecs == 1735689600000LL);
    CHECK (ovh_dlselect_parse_time ("2025-01-01T00:00:00.5Z", &msecs) == 0
        && msecs == 1735689600500LL);
    CHECK (ovh_dlselect_parse_time ("2024-02-29", &msecs) == 0);
    CHECK (ovh_dlselect_parse_time ("2025-02-29", &msecs) == -1);
    CHECK (ovh_dlselect_parse_time ("2025-13-01", &msecs) == -1);
    CHECK (ovh_dlselect_parse_time ("2025-01-01T00:60", &msecs) == -1);
    CHECK (ovh_dlselect_parse_time ("2025-01-01Z", &msecs) == -1);
    CHECK (ovh_dlselect_parse_time ("2025-01-01T00:00:00Zx", &msecs) == -1);
    CHECK (ovh_dlselect_parse_time ("2h", &msecs) == -1);
    char text [40];
    ovh_dlselect_format_time (1735689600123LL, text, sizeof text);
    CHECK_STR (text, "2025-01-01T00:00:00.123Z");
    ovh_dlselect_format_time (0, text, sizeof text);
    CHECK_STR (text, "1970-01-01T00:00:00.000Z");
}

int
main (void)
{
    for (size_t index = 0; index < sizeof s_cases / sizeof s_cases [0]; index++)
        s_check_case (&s_cases [index]);
    for (size_t index = 0; index < sizeof s_errors / sizeof s_errors [0]; index++) {
        const error_case_t *test = &s_errors [index];
        ovh_dlselect_t *selection = ovh_dlselect_new (NOW);
        REQUIRE (selection);
        char error [1024] = "";
        CHECK_MSG (ovh_dlselect_add (selection, test->option, test->value, error,
                                     sizeof error) == -1, "--%s '%s' was taken", test->option,
                   test->value);
        CHECK_MSG (strncmp (error, test->error, strlen (test->error)) == 0,
                   "--%s '%s':\n  got:  %s\n  want: %s...", test->option, test->value, error,
                   test->error);
        CHECK (!ovh_dlselect_filtered (selection));
        ovh_dlselect_destroy (&selection);
    }
    //  A range that cannot hold anything, and a bound given twice
    ovh_dlselect_t *selection = ovh_dlselect_new (NOW);
    char error [1024] = "";
    CHECK (ovh_dlselect_add (selection, "until", "2h", error, sizeof error) == 0);
    CHECK (ovh_dlselect_add (selection, "since", "1h", error, sizeof error) == -1);
    CHECK_STR (error, "--since 2025-12-06T04:46:40.000Z is not before --until "
               "2025-12-06T03:46:40.000Z: nothing can be selected");
    CHECK (ovh_dlselect_add (selection, "until", "1h", error, sizeof error) == -1);
    CHECK_STR (error, "--until '1h': given twice; give it once");
    ovh_dlselect_destroy (&selection);
    s_check_times ();
    return ovh_test_done ("test_dlselect");
}
