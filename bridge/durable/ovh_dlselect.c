/*  ovh_dlselect.c - which dead letters an operator means (see
    ovh_dlselect.h).                                                         */

#include <czmq.h>
#include <time.h>
#include "ovhook.h"
#include "ovh_dlselect.h"

struct _ovh_dlselect_t {
    int64_t now_ms;
    bool types [OVH_CATALOG_SIZE];  //  by catalog index
    bool any_type;                  //  an --event was given
    zlist_t *sessions;              //  --session values
    zlist_t *ids;                   //  --id webhook ids
    zlist_t *numbers;               //  --id numbers, as text
    int64_t since_ms;               //  INT64_MIN: none
    int64_t until_ms;               //  INT64_MAX: none
    bool filtered;
};

ovh_dlselect_t *
ovh_dlselect_new (int64_t now_ms)
{
    ovh_dlselect_t *self = (ovh_dlselect_t *) zmalloc (sizeof (ovh_dlselect_t));
    if (!self)
        return NULL;
    self->now_ms = now_ms;
    self->since_ms = INT64_MIN;
    self->until_ms = INT64_MAX;
    self->sessions = zlist_new ();
    self->ids = zlist_new ();
    self->numbers = zlist_new ();
    if (!self->sessions || !self->ids || !self->numbers) {
        ovh_dlselect_destroy (&self);
        return NULL;
    }
    zlist_autofree (self->sessions);
    zlist_autofree (self->ids);
    zlist_autofree (self->numbers);
    return self;
}

void
ovh_dlselect_destroy (ovh_dlselect_t **self_p)
{
    assert (self_p);
    ovh_dlselect_t *self = *self_p;
    if (!self)
        return;
    zlist_destroy (&self->sessions);
    zlist_destroy (&self->ids);
    zlist_destroy (&self->numbers);
    free (self);
    *self_p = NULL;
}

bool
ovh_dlselect_is_filter (const char *option)
{
    assert (option);
    return streq (option, "event") || streq (option, "session") || streq (option, "since")
        || streq (option, "until") || streq (option, "id");
}

//  Digits only, with a count of them
static bool
s_digits (const char *text, size_t count)
{
    for (size_t index = 0; index < count; index++)
        if (text [index] < '0' || text [index] > '9')
            return false;
    return true;
}

static int
s_number (const char *text, size_t count)
{
    int value = 0;
    for (size_t index = 0; index < count; index++)
        value = value * 10 + (text [index] - '0');
    return value;
}

int
ovh_dlselect_parse_time (const char *text, int64_t *msecs)
{
    assert (text);
    assert (msecs);
    //  YYYY-MM-DD
    size_t length = strlen (text);
    if (length < 10 || !s_digits (text, 4) || text [4] != '-' || !s_digits (text + 5, 2)
    ||  text [7] != '-' || !s_digits (text + 8, 2))
        return -1;
    struct tm tm = { 0 };
    tm.tm_year = s_number (text, 4) - 1900;
    tm.tm_mon = s_number (text + 5, 2) - 1;
    tm.tm_mday = s_number (text + 8, 2);
    int millis = 0, offset_minutes = 0;
    const char *cursor = text + 10;
    if (*cursor == 'T' || *cursor == 't' || *cursor == ' ') {
        //  THH:MM[:SS[.fff]]
        cursor++;
        if (!s_digits (cursor, 2) || cursor [2] != ':' || !s_digits (cursor + 3, 2))
            return -1;
        tm.tm_hour = s_number (cursor, 2);
        tm.tm_min = s_number (cursor + 3, 2);
        cursor += 5;
        if (*cursor == ':') {
            if (!s_digits (cursor + 1, 2))
                return -1;
            tm.tm_sec = s_number (cursor + 1, 2);
            cursor += 3;
            if (*cursor == '.') {
                size_t count = strspn (++cursor, "0123456789");
                if (count == 0 || count > 9)
                    return -1;
                for (size_t index = 0; index < 3; index++)
                    millis = millis * 10 + (index < count ? cursor [index] - '0' : 0);
                cursor += count;
            }
        }
        //  Z, +HH:MM, -HH:MM, +HHMM, or nothing (UTC)
        if (*cursor == 'Z' || *cursor == 'z')
            cursor++;
        else
        if (*cursor == '+' || *cursor == '-') {
            int sign = *cursor++ == '-' ? -1 : 1;
            if (!s_digits (cursor, 2))
                return -1;
            int hours = s_number (cursor, 2);
            cursor += 2;
            if (*cursor == ':')
                cursor++;
            if (!s_digits (cursor, 2))
                return -1;
            offset_minutes = sign * (hours * 60 + s_number (cursor, 2));
            cursor += 2;
            if (hours > 23)
                return -1;
        }
    }
    if (*cursor || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_hour > 23 || tm.tm_min > 59
    ||  tm.tm_sec > 60)
        return -1;
    //  timegm normalises 2026-02-31 to March: refuse a day that is not
    struct tm check = tm;
    time_t seconds = timegm (&check);
    if (seconds == (time_t) -1 || check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon)
        return -1;
    *msecs = ((int64_t) seconds - (int64_t) offset_minutes * 60) * 1000 + millis;
    return 0;
}

void
ovh_dlselect_format_time (int64_t msecs, char *text, size_t size)
{
    assert (text);
    time_t seconds = (time_t) (msecs >= 0 ? msecs / 1000 : (msecs - 999) / 1000);
    int millis = (int) (msecs - (int64_t) seconds * 1000);
    struct tm tm;
    if (!gmtime_r (&seconds, &tm)) {
        snprintf (text, size, "%" PRId64, msecs);
        return;
    }
    snprintf (text, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

//  An ISO-8601 time, or a duration ago
static int
s_time (ovh_dlselect_t *self, const char *option, const char *value, int64_t *msecs,
        char *error, size_t size)
{
    int64_t ago;
    if (ovh_dlselect_parse_time (value, msecs) == 0)
        return 0;
    if (ovh_parse_duration (value, 0, self->now_ms, &ago) == 0) {
        *msecs = self->now_ms - ago;
        return 0;
    }
    snprintf (error, size, "--%s '%s': not a time: give an ISO-8601 time (2026-12-05, "
              "2026-12-05T14:30:15Z, 2026-12-05T14:30:15+01:00) or a duration ago (90s, 30m, "
              "2h)", option, value);
    return -1;
}

static int
s_event (ovh_dlselect_t *self, const char *item, size_t length, char *error, size_t size)
{
    const ovh_event_type_t *type = ovh_catalog_lookup (item, length);
    if (type) {
        self->types [type->index] = true;
        self->any_type = true;
        return 0;
    }
    int used = snprintf (error, size, "--event '%.*s': not an event type; the types are:",
                         (int) length, item);
    for (size_t index = 0; index < ovh_catalog_size () && used >= 0 && (size_t) used < size;
         index++)
        used += snprintf (error + used, size - (size_t) used, "%s %s", index ? "," : "",
                          ovh_catalog_at (index)->name);
    return -1;
}

static int
s_id (ovh_dlselect_t *self, const char *item, size_t length, char *error, size_t size)
{
    char *copy = strndup (item, length);
    if (!copy) {
        snprintf (error, size, "--id: out of memory");
        return -1;
    }
    bool webhook_id = length == 36 && memcmp (copy, "evt_", 4) == 0
                   && strspn (copy + 4, "0123456789abcdef") == 32;
    bool number = length > 0 && length <= 18 && s_digits (copy, length) && copy [0] != '0';
    if (!webhook_id && !number) {
        snprintf (error, size, "--id '%s': not a dead letter's id: give the number that list "
                  "shows (a row of the spool, a line of the file) or a webhook id (evt_ and 32 "
                  "hex digits)", copy);
        free (copy);
        return -1;
    }
    //  Numbers are kept as text without leading zeros: compared as text.
    //  The lists copy what they are given (autofree).
    int rc = zlist_append (webhook_id ? self->ids : self->numbers, copy);
    free (copy);
    if (rc)
        snprintf (error, size, "--id: out of memory");
    return rc ? -1 : 0;
}

//  Each item of a comma list
static int
s_each_item (ovh_dlselect_t *self, const char *option, const char *value, char *error,
             size_t size)
{
    const char *cursor = value;
    do {
        size_t length = strcspn (cursor, ",");
        if (length == 0) {
            snprintf (error, size, "--%s '%s': an empty item in the list", option, value);
            return -1;
        }
        int rc = streq (option, "event") ? s_event (self, cursor, length, error, size)
                                         : s_id (self, cursor, length, error, size);
        if (rc)
            return -1;
        cursor += length;
    } while (*cursor++ == ',');
    return 0;
}

int
ovh_dlselect_add (ovh_dlselect_t *self, const char *option, const char *value,
                  char *error, size_t size)
{
    assert (self);
    assert (option);
    assert (value);
    int rc = 0;
    if (!ovh_dlselect_is_filter (option)) {
        snprintf (error, size, "--%s: not a filter of dead letters", option);
        return -1;
    }
    if (*value == '\0') {
        snprintf (error, size, "--%s: needs a value, not an empty one", option);
        return -1;
    }
    if (streq (option, "event") || streq (option, "id"))
        rc = s_each_item (self, option, value, error, size);
    else
    if (streq (option, "session")) {
        //  The list copies it (autofree)
        if (zlist_append (self->sessions, (void *) value)) {
            snprintf (error, size, "--session: out of memory");
            rc = -1;
        }
    }
    else {
        bool since = streq (option, "since");
        int64_t *bound = since ? &self->since_ms : &self->until_ms;
        if (*bound != (since ? INT64_MIN : INT64_MAX)) {
            snprintf (error, size, "--%s '%s': given twice; give it once", option, value);
            return -1;
        }
        rc = s_time (self, option, value, bound, error, size);
        if (rc == 0 && self->since_ms != INT64_MIN && self->until_ms != INT64_MAX
        &&  self->since_ms >= self->until_ms) {
            char from [40], to [40];
            ovh_dlselect_format_time (self->since_ms, from, sizeof from);
            ovh_dlselect_format_time (self->until_ms, to, sizeof to);
            snprintf (error, size, "--since %s is not before --until %s: nothing can be "
                      "selected", from, to);
            *bound = since ? INT64_MIN : INT64_MAX;
            rc = -1;
        }
    }
    self->filtered |= rc == 0;
    return rc;
}

bool
ovh_dlselect_filtered (ovh_dlselect_t *self)
{
    assert (self);
    return self->filtered;
}

static bool
s_in (zlist_t *list, const char *text)
{
    for (const char *item = (const char *) zlist_first (list); item;
         item = (const char *) zlist_next (list))
        if (text && streq (item, text))
            return true;
    return false;
}

bool
ovh_dlselect_match (ovh_dlselect_t *self, const ovh_dlrecord_t *record)
{
    assert (self);
    assert (record);
    if (self->any_type) {
        const ovh_event_type_t *type = record->type
            ? ovh_catalog_lookup (record->type, strlen (record->type)) : NULL;
        if (!type || !self->types [type->index])
            return false;
    }
    if (zlist_size (self->sessions) && !s_in (self->sessions, record->key))
        return false;
    if (record->failed_ms < self->since_ms || record->failed_ms >= self->until_ms)
        return false;
    if (zlist_size (self->ids) + zlist_size (self->numbers)) {
        char number [24];
        snprintf (number, sizeof number, "%" PRId64, record->number);
        if (!s_in (self->ids, record->id) && !s_in (self->numbers, number))
            return false;
    }
    return true;
}
