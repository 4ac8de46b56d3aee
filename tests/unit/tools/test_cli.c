/*  test_cli.c - what the tools share (ovh_cli): option values (integers,
    numbers, durations) and endpoint syntax.                                */

#include "ovh_test.h"
#include "ovh_cli.h"

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

int
main (void)
{
    s_test_cli ();
    return ovh_test_done ("test_cli");
}
