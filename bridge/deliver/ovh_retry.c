/*  ovh_retry.c - the retry policy.                                         */

#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <czmq.h>
#include "ovh_log.h"
#include "ovh_config_check.h"
#include "ovh_retry.h"

bool
ovh_retry_worth (const ovh_result_t *result)
{
    if (result->curl_code != 0)
        return true;            //  connect errors, timeouts, resets...
    long status = result->status;
    return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

int64_t
ovh_retry_delay (const ovh_config_t *config, int failures,
                 const ovh_result_t *result, double random)
{
    int64_t cap = config->retry_max_ms;
    //  Retry-After means something on 429 and 503 (RFC 9110); elsewhere it
    //  is ignored
    bool honoured = result->status == 429 || result->status == 503;
    if (honoured && result->retry_after >= 0) {
        //  Compared in seconds before the product: an endpoint may ask for
        //  any number up to INT64_MAX, and seconds x 1000 would overflow
        //  into a negative delay, i.e. a retry storm
        int64_t bound = 2 * cap;
        if (result->retry_after > bound / 1000)
            return bound;
        int64_t asked = result->retry_after * 1000;
        return asked < bound ? asked : bound;
    }
    int64_t delay = config->retry_initial_ms;
    for (int step = 1; step < failures && delay < cap; step++)
        delay *= 2;
    if (delay > cap)
        delay = cap;
    //  Spread retries of many events that failed together
    double spread = config->retry_jitter / 100.0 * (2 * random - 1);
    delay = (int64_t) ((double) delay * (1 + spread));
    return delay > 0 ? delay : 0;
}

//  Exactly 'count' digits at *text, into *number; advances past them
static bool
s_digits (const char **text, int count, int *number)
{
    *number = 0;
    for (int index = 0; index < count; index++, (*text)++) {
        if (**text < '0' || **text > '9')
            return false;
        *number = *number * 10 + (**text - '0');
    }
    return true;
}

//  'literal' at *text, advancing past it
static bool
s_literal (const char **text, const char *literal)
{
    size_t size = strlen (literal);
    if (strncmp (*text, literal, size))
        return false;
    *text += size;
    return true;
}

//  One of 'names' (case-sensitive, as RFC 9110 spells them), its index
//  into *index; advances past it
static bool
s_name (const char **text, const char *const *names, int count, int *index)
{
    for (*index = 0; *index < count; (*index)++)
        if (s_literal (text, names [*index]))
            return true;
    return false;
}

static const char *const s_days [] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const s_long_days [] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"
};
static const char *const s_months [] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

//  "HH:MM:SS"; 60 seconds is a leap second
static bool
s_time_of_day (const char **text, struct tm *tm)
{
    return s_digits (text, 2, &tm->tm_hour) && tm->tm_hour < 24 && s_literal (text, ":")
        && s_digits (text, 2, &tm->tm_min) && tm->tm_min < 60 && s_literal (text, ":")
        && s_digits (text, 2, &tm->tm_sec) && tm->tm_sec <= 60;
}

//  The three forms of RFC 9110 section 5.6.7, which a recipient must all
//  accept: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", the obsolete
//  RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime
//  "Sun Nov  6 08:49:37 1994". Nothing before or after, the day name that
//  of the date. Unix seconds, or -1.
static int64_t
s_http_date (const char *text, int64_t now)
{
    struct tm tm = { 0 };
    int wday = -1, year = 0;
    const char *p = text;
    bool good;
    if (s_name (&p, s_days, 7, &wday) && s_literal (&p, ", "))
        good = s_digits (&p, 2, &tm.tm_mday) && s_literal (&p, " ")
            && s_name (&p, s_months, 12, &tm.tm_mon) && s_literal (&p, " ")
            && s_digits (&p, 4, &year) && s_literal (&p, " ")
            && s_time_of_day (&p, &tm) && s_literal (&p, " GMT");
    else
    if ((p = text, s_name (&p, s_long_days, 7, &wday)) && s_literal (&p, ", ")) {
        good = s_digits (&p, 2, &tm.tm_mday) && s_literal (&p, "-")
            && s_name (&p, s_months, 12, &tm.tm_mon) && s_literal (&p, "-")
            && s_digits (&p, 2, &year) && s_literal (&p, " ")
            && s_time_of_day (&p, &tm) && s_literal (&p, " GMT");
        //  A two-digit year more than 50 years ahead is in the past century
        struct tm today = { .tm_year = 100 };
        time_t seconds = (time_t) now;
        gmtime_r (&seconds, &today);
        year += (today.tm_year + 1900) / 100 * 100;
        if (year > today.tm_year + 1900 + 50)
            year -= 100;
    }
    else {
        p = text;
        good = s_name (&p, s_days, 7, &wday) && s_literal (&p, " ")
            && s_name (&p, s_months, 12, &tm.tm_mon) && s_literal (&p, " ")
            && (s_literal (&p, " ")? s_digits (&p, 1, &tm.tm_mday)
                                   : s_digits (&p, 2, &tm.tm_mday))
            && s_literal (&p, " ") && s_time_of_day (&p, &tm) && s_literal (&p, " ")
            && s_digits (&p, 4, &year);
    }
    if (!good || *p || tm.tm_mday < 1)
        return -1;
    tm.tm_year = year - 1900;
    //  timegm moves 31 Feb to 3 Mar: a date that moves did not exist
    struct tm check = tm;
    check.tm_sec = 0;
    int64_t date = (int64_t) timegm (&check);
    if (check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon || check.tm_wday != wday)
        return -1;
    return date + tm.tm_sec;
}

int64_t
ovh_retry_after_parse (const char *value, int64_t now)
{
    assert (value);
    if (*value >= '0' && *value <= '9') {
        //  delay-seconds: digits only, saturated rather than wrapped or
        //  refused (libcurl's own reading gives 0 past INT64_MAX)
        int64_t seconds = 0;
        for (; *value >= '0' && *value <= '9'; value++) {
            int digit = *value - '0';
            seconds = seconds > (INT64_MAX - digit) / 10 ? INT64_MAX : seconds * 10 + digit;
        }
        return *value ? -1 : seconds;
    }
    //  HTTP-date: how far in the future; a date past means now
    int64_t date = s_http_date (value, now);
    if (date == -1)
        return -1;
    return date > now ? date - now : 0;
}

//  An endpoint that answers every request with a bad Retry-After must not
//  write a line per request: the first is logged, then at most one per
//  interval, saying how many were ignored since. Any thread may ask.
#define S_BAD_VALUE_INTERVAL_MS  (10 * 60 * 1000)

static struct {
    pthread_mutex_t lock;
    int64_t logged_at;          //  zclock_mono of the last line, 0: never
    uint64_t held;              //  ignored values not logged since
} s_bad_value = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };

static void
s_log_bad_value (const char *value)
{
    pthread_mutex_lock (&s_bad_value.lock);
    int64_t now = zclock_mono ();
    bool due = s_bad_value.logged_at == 0
            || now - s_bad_value.logged_at >= S_BAD_VALUE_INTERVAL_MS;
    uint64_t held = s_bad_value.held;
    if (due) {
        s_bad_value.logged_at = now;
        s_bad_value.held = 0;
    }
    else
        s_bad_value.held++;
    pthread_mutex_unlock (&s_bad_value.lock);
    if (!due)
        return;
    //  The endpoint's text: shown escaped and cut, it is not ours
    char cut [65];
    snprintf (cut, sizeof cut, "%s", value);
    char *shown = ovh_config_printable (cut);
    char since [48] = "";
    if (held)
        snprintf (since, sizeof since, " (%" PRIu64 " more since the last one)", held);
    ovh_log_warning ("ignored an invalid Retry-After '%s%s' from the endpoint (neither "
                     "delay-seconds nor an HTTP-date), the backoff applies; logged at most "
                     "every 10 minutes%s", shown ? shown : "",
                     strlen (value) >= sizeof cut - 1 ? "..." : "", since);
    free (shown);
}

int64_t
ovh_retry_after_read (const char *value, int64_t now)
{
    int64_t seconds = ovh_retry_after_parse (value, now);
    if (seconds < 0)
        s_log_bad_value (value);
    return seconds;
}
