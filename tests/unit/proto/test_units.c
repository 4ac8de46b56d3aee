/*  test_units.c - sizes and durations as people write them (ovh_units):
    the suffixes, letter case, ranges, and what is refused (signs, spaces,
    fractions, unknown suffixes, int64 overflow).                           */

#include "ovh_test.h"
#include "ovhook.h"

typedef int (parse_fn) (const char *text, int64_t min, int64_t max, int64_t *value);

typedef struct {
    const char *text; int64_t min, max; int rc; int64_t value;
} row_t;

static void
s_check_rows (const char *name, parse_fn *parse, const row_t *rows, size_t count)
{
    for (size_t index = 0; index < count; index++) {
        int64_t value = -42;
        int rc = parse (rows [index].text, rows [index].min, rows [index].max, &value);
        CHECK_MSG (rc == rows [index].rc, "%s '%s': rc %d", name,
                   rows [index].text? rows [index].text: "(null)", rc);
        //  A refused value leaves the target as it was
        int64_t want = rows [index].rc == 0? rows [index].value: -42;
        CHECK_MSG (value == want, "%s '%s': %lld, not %lld", name,
                   rows [index].text? rows [index].text: "(null)",
                   (long long) value, (long long) want);
    }
}

#define ROWS(rows) rows, sizeof rows / sizeof rows [0]

static void
test_number (void)
{
    static const row_t rows [] = {
        { "0", 0, 10, 0, 0 }, { "10", 0, 10, 0, 10 }, { "007", 0, 10, 0, 7 },
        { "11", 0, 10, -1, 0 }, { "0", 1, 65535, -1, 0 }, { "65535", 1, 65535, 0, 65535 },
        { "", 0, 10, -1, 0 }, { NULL, 0, 10, -1, 0 }, { "-1", -5, 10, -1, 0 },
        { "+1", 0, 10, -1, 0 }, { " 1", 0, 10, -1, 0 }, { "1 ", 0, 10, -1, 0 },
        { "1x", 0, 10, -1, 0 }, { "1K", 0, INT64_MAX, -1, 0 }, { "1ms", 0, INT64_MAX, -1, 0 },
        { "9223372036854775807", 0, INT64_MAX, 0, INT64_MAX },
        { "9223372036854775808", 0, INT64_MAX, -1, 0 },
        { "9223372036854775799", 0, INT64_MAX, 0, INT64_MAX - 8 },
        { "99999999999999999999", 0, INT64_MAX, -1, 0 },
    };
    s_check_rows ("number", ovh_parse_number, ROWS (rows));
}

static void
test_size (void)
{
    static const row_t rows [] = {
        { "0", 0, INT64_MAX, 0, 0 }, { "1500", 0, INT64_MAX, 0, 1500 },
        { "1K", 0, INT64_MAX, 0, 1024 }, { "1k", 0, INT64_MAX, 0, 1024 },
        { "16M", 0, INT64_MAX, 0, 16777216 }, { "16m", 0, INT64_MAX, 0, 16777216 },
        { "2G", 0, INT64_MAX, 0, 2147483648 }, { "2g", 0, INT64_MAX, 0, 2147483648 },
        { "1M", 1024, 1048576, 0, 1048576 }, { "1025K", 1024, 1048576, -1, 0 },
        { "1023", 1024, 1048576, -1, 0 },
        { "K", 0, INT64_MAX, -1, 0 }, { "1KB", 0, INT64_MAX, -1, 0 }, { "1T", 0, INT64_MAX, -1, 0 },
        { "1.5M", 0, INT64_MAX, -1, 0 }, { "1 M", 0, INT64_MAX, -1, 0 }, { "-1K", 0, INT64_MAX, -1, 0 },
        { "1s", 0, INT64_MAX, -1, 0 },
        //  8589934591G overflows int64 once multiplied: refused, not wrapped
        { "8589934591G", 0, INT64_MAX, 0, INT64_C (8589934591) << 30 },
        { "8589934592G", 0, INT64_MAX, -1, 0 },
        { "9007199254740992K", 0, INT64_MAX, -1, 0 },
    };
    s_check_rows ("size", ovh_parse_size, ROWS (rows));
}

static void
test_duration (void)
{
    static const row_t rows [] = {
        { "0", 0, INT64_MAX, 0, 0 }, { "500", 0, INT64_MAX, 0, 500 },
        { "500ms", 0, INT64_MAX, 0, 500 }, { "500MS", 0, INT64_MAX, 0, 500 },
        { "500Ms", 0, INT64_MAX, 0, 500 }, { "2s", 0, INT64_MAX, 0, 2000 },
        { "2S", 0, INT64_MAX, 0, 2000 }, { "90s", 0, INT64_MAX, 0, 90000 },
        { "15m", 0, INT64_MAX, 0, 900000 }, { "15M", 0, INT64_MAX, 0, 900000 },
        { "1h", 0, INT64_MAX, 0, 3600000 }, { "24H", 0, INT64_MAX, 0, 86400000 },
        //  Ranges: the tools' cap (INT32_MAX ms, 24 days) and a minimum
        { "596h", 0, INT32_MAX, 0, 2145600000 }, { "597h", 0, INT32_MAX, -1, 0 },
        { "2147483647ms", 0, INT32_MAX, 0, INT32_MAX }, { "2147484s", 0, INT32_MAX, -1, 0 },
        { "99ms", 100, 1000, -1, 0 }, { "1s", 100, 1000, 0, 1000 }, { "1001", 100, 1000, -1, 0 },
        { "", 0, INT64_MAX, -1, 0 }, { "s", 0, INT64_MAX, -1, 0 }, { "-1s", 0, INT64_MAX, -1, 0 },
        { "1.5s", 0, INT64_MAX, -1, 0 }, { " 1s", 0, INT64_MAX, -1, 0 }, { "1s ", 0, INT64_MAX, -1, 0 },
        { "1d", 0, INT64_MAX, -1, 0 }, { "1sec", 0, INT64_MAX, -1, 0 }, { "1K", 0, INT64_MAX, -1, 0 },
        { "1m30s", 0, INT64_MAX, -1, 0 },
        //  Overflow once multiplied by the unit: refused, not wrapped
        { "2562047788015h", 0, INT64_MAX, 0, INT64_C (2562047788015) * 3600000 },
        { "2562047788016h", 0, INT64_MAX, -1, 0 },
        { "9223372036854775808ms", 0, INT64_MAX, -1, 0 },
    };
    s_check_rows ("duration", ovh_parse_duration, ROWS (rows));
}

int
main (void)
{
    test_number ();
    test_size ();
    test_duration ();
    return ovh_test_done ("test_units");
}
