/*  test_retry.c - the retry policy (ovh_retry): which outcomes are worth
    another attempt, the delays, and Retry-After read strictly.              */

#include "ovh_test.h"
#include "ovh_retry.h"

static void
test_worth_retrying (void)
{
    struct { int curl_code; long status; bool worth; } cases [] = {
        { 7, 0, true },             //  couldn't connect
        { 28, 0, true },            //  timeout
        { 56, 0, true },            //  connection reset while receiving
        { 0, 408, true }, { 0, 429, true }, { 0, 500, true }, { 0, 502, true },
        { 0, 503, true }, { 0, 599, true },
        { 0, 400, false }, { 0, 401, false }, { 0, 404, false }, { 0, 410, false },
        { 0, 301, false }, { 0, 201, false }, { 0, 204, false }, { 0, 100, false },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        ovh_result_t result = { .curl_code = cases [index].curl_code,
                                .status = cases [index].status, .retry_after = -1 };
        CHECK_MSG (ovh_retry_worth (&result) == cases [index].worth, "curl %d status %ld",
                   cases [index].curl_code, cases [index].status);
    }
}

static void
test_delays (void)
{
    ovh_config_t config = { .retry_initial_ms = 1000, .retry_max_ms = 60000,
                            .retry_jitter = 20 };
    ovh_result_t plain = { .status = 500, .retry_after = -1 };
    //  random 0.5: no jitter; doubling from 1 s to the 60 s cap
    struct { int failures; int64_t delay; } doubling [] = {
        { 1, 1000 }, { 2, 2000 }, { 3, 4000 }, { 4, 8000 }, { 5, 16000 }, { 6, 32000 },
        { 7, 60000 }, { 8, 60000 }, { 40, 60000 },
    };
    for (size_t index = 0; index < sizeof doubling / sizeof doubling [0]; index++)
        CHECK_MSG (ovh_retry_delay (&config, doubling [index].failures, &plain, 0.5)
                   == doubling [index].delay, "failures %d", doubling [index].failures);
    //  Jitter: +-20 % at the ends of the random range
    CHECK (ovh_retry_delay (&config, 2, &plain, 0.0) == 1600);
    CHECK (ovh_retry_delay (&config, 2, &plain, 0.999999) >= 2399);
    CHECK (ovh_retry_delay (&config, 2, &plain, 0.999999) <= 2400);
    //  Retry-After replaces the computed delay, bounded by twice the cap
    ovh_result_t later = { .status = 429, .retry_after = 3 };
    CHECK (ovh_retry_delay (&config, 1, &later, 0.9) == 3000);
    later.retry_after = 100000;
    CHECK (ovh_retry_delay (&config, 1, &later, 0.9) == 120000);
    later.status = 503;
    later.retry_after = 7;
    CHECK (ovh_retry_delay (&config, 1, &later, 0.5) == 7000);
    //  ...and is ignored on other statuses
    later.status = 500;
    CHECK (ovh_retry_delay (&config, 1, &later, 0.5) == 1000);
    config.retry_jitter = 0;
    CHECK (ovh_retry_delay (&config, 3, &plain, 0.0) == 4000);
}

//  Whatever number of seconds an endpoint asks for, the delay is in
//  [0, 2 x cap]: huge values used to overflow seconds x 1000 (UBSan) into
//  a negative delay, i.e. an immediate retry
static void
test_huge_retry_after (void)
{
    ovh_config_t config = { .retry_initial_ms = 1000, .retry_max_ms = 60000,
                            .retry_jitter = 0 };
    struct { int64_t retry_after; int64_t delay; } cases [] = {
        { 0, 0 }, { 1, 1000 }, { 119, 119000 }, { 120, 120000 }, { 121, 120000 },
        { INT64_C (1) << 31, 120000 }, { INT64_C (1) << 53, 120000 },
        { INT64_MAX / 1000, 120000 }, { INT64_MAX / 1000 + 1, 120000 },
        { INT64_MAX, 120000 },
        { -1, 1000 },               //  none: the computed backoff
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++)
        for (long status = 429; status <= 503; status += 503 - 429) {
            ovh_result_t result = { .status = status,
                                    .retry_after = cases [index].retry_after };
            int64_t delay = ovh_retry_delay (&config, 1, &result, 0.5);
            CHECK_MSG (delay == cases [index].delay, "status %ld, Retry-After %" PRId64
                       ": %" PRId64 " ms", status, cases [index].retry_after, delay);
        }
}

//  Retry-After as the endpoint writes it: delay-seconds of any length
//  saturate instead of reading as "none"; an HTTP-date far ahead is a huge
//  number, never negative. Strict: what is not delay-seconds or one of the
//  three HTTP-date forms is -1, whatever a lenient parser would make of it
static void
test_retry_after_parse (void)
{
    int64_t now = 1700000000;           //  Tue, 14 Nov 2023 22:13:20 GMT
    struct { const char *value; int64_t seconds; } cases [] = {
        { "0", 0 }, { "1", 1 }, { "30", 30 }, { "2147483648", INT64_C (2147483648) },
        { "99999999999999999", INT64_C (99999999999999999) },
        { "9223372036854775807", INT64_MAX }, { "9223372036854775808", INT64_MAX },
        { "99999999999999999999999999", INT64_MAX },
        //  IMF-fixdate
        { "Tue, 14 Nov 2023 22:13:22 GMT", 2 },
        { "Tue, 14 Nov 2023 22:13:20 GMT", 0 }, { "Mon, 13 Nov 2023 00:00:00 GMT", 0 },
        { "Sat, 02 Dec 2023 22:13:20 GMT", 1555200 },
        { "Fri, 31 Dec 9999 23:59:59 GMT", INT64_C (253402300799) - now },
        { "Sat, 31 Dec 2016 23:59:60 GMT", 0 },            //  a leap second
        //  RFC 850, obsolete: a two-digit year up to 50 years ahead is ahead
        { "Tuesday, 14-Nov-23 22:13:25 GMT", 5 },
        { "Tuesday, 14-Nov-73 22:13:20 GMT", INT64_C (1577923200) },
        { "Thursday, 14-Nov-74 22:13:20 GMT", 0 },         //  1974
        { "Sunday, 06-Nov-94 08:49:37 GMT", 0 },
        //  asctime, obsolete
        { "Tue Nov 14 22:13:30 2023", 10 }, { "Sat Dec  2 22:13:20 2023", 1555200 },
        //  Neither: what libcurl or strtol would take as a number
        { "3abc", -1 }, { "1e9", -1 }, { "2.5", -1 }, { " 5", -1 }, { "+5", -1 },
        { "0x10", -1 }, { "5 ", -1 }, { "5\t", -1 }, { "", -1 }, { "-5", -1 },
        { "5s", -1 }, { "soon", -1 }, { "1,5", -1 },
        //  Neither: dates that do not exist, or are spelled otherwise
        { "Tue, 31 Feb 2023 10:00:00 GMT", -1 }, { "Mon, 14 Nov 2023 22:13:22 GMT", -1 },
        { "Tue, 14 Nov 2023 24:00:00 GMT", -1 }, { "Tue, 14 Nov 2023 22:60:00 GMT", -1 },
        { "Tue, 14 Nov 2023 22:13:22 UTC", -1 }, { "Tue, 14 Nov 2023 22:13:22 +0000", -1 },
        { "Tue, 14 Nov 2023 22:13:22 GMT ", -1 }, { " Tue, 14 Nov 2023 22:13:22 GMT", -1 },
        { "tue, 14 Nov 2023 22:13:22 GMT", -1 }, { "Tue, 14 nov 2023 22:13:22 GMT", -1 },
        { "Tue, 14 Nov 23 22:13:22 GMT", -1 }, { "Tue, 4 Nov 2023 22:13:22 GMT", -1 },
        { "Tue, 14 Nov 2023 22:13 GMT", -1 }, { "Tue, 14 Nov 2023", -1 },
        { "14 Nov 2023 22:13:22 GMT", -1 }, { "Tue 14 Nov 2023 22:13:22 GMT", -1 },
        { "Tuesday, 14-Nov-2023 22:13:22 GMT", -1 }, { "Tue, 14-Nov-23 22:13:22 GMT", -1 },
        { "Tue Nov 14 22:13:30 2023 ", -1 }, { "Tue Nov 14 22:13:30 23", -1 },
        { "Tue Nov 14 22:13:30 2023 GMT", -1 }, { "Tue, 00 Nov 2023 22:13:22 GMT", -1 },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        int64_t seconds = ovh_retry_after_parse (cases [index].value, now);
        CHECK_MSG (seconds == cases [index].seconds, "'%s': %" PRId64,
                   cases [index].value, seconds);
    }
}

int
main (void)
{
    test_worth_retrying ();
    test_delays ();
    test_huge_retry_after ();
    test_retry_after_parse ();
    return ovh_test_done ("test_retry");
}
