/*  ovh_deadletter_read.c - reading the JSONL dead-letter file back for
    --redeliver, in the original order per ordering key, and retiring it.
    The writer is ovh_deadletter.c.                                         */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE                     //  qsort_r
#endif
#include <czmq.h>
#include <jansson.h>
#include <math.h>
#include "ovh_log.h"
#include "ovh_deadletter.h"

//  Find the text of the top-level "body" value. Returns NULL when there is
//  none or more than one. The line is one Jansson has found valid, so a
//  skipper that stops short (NULL) means no body; the line ends in a NUL,
//  which stops every test of the next byte.
static const char *
s_find_body (const char *line, size_t *body_size)
{
    const char *end = line + strlen (line);
    const char *found = NULL;
    const char *cursor = ovh_jsontext_skip_space (line, end);
    if (*cursor++ != '{')
        return NULL;
    while (*(cursor = ovh_jsontext_skip_space (cursor, end)) == '"') {
        const char *key = cursor;
        cursor = ovh_jsontext_skip_string (cursor, end);
        if (!cursor)
            return NULL;
        bool is_body = cursor - key == 6 && memcmp (key, "\"body\"", 6) == 0;
        cursor = ovh_jsontext_skip_space (cursor, end);
        if (*cursor++ != ':')
            return NULL;
        const char *value = ovh_jsontext_skip_space (cursor, end);
        cursor = ovh_jsontext_skip_value (value, end);
        if (!cursor)
            return NULL;
        if (is_body) {
            if (found)
                return NULL;
            found = value;
            *body_size = (size_t) (cursor - value);
        }
        cursor = ovh_jsontext_skip_space (cursor, end);
        if (*cursor == ',')
            cursor++;
    }
    return found;
}

static bool
s_valid_id (const char *id)
{
    if (strlen (id) != 36 || memcmp (id, "evt_", 4) != 0)
        return false;
    for (const char *digit = id + 4; *digit; digit++)
        if (!((*digit >= '0' && *digit <= '9') || (*digit >= 'a' && *digit <= 'f')))
            return false;
    return true;
}

//  Nesting of a JSON value: 0 for a scalar, 1 + its deepest member for an
//  array or object; stops counting past 'limit'
static int
s_depth (json_t *value, int limit)
{
    int deepest = 0;
    bool array = json_is_array (value);
    if (limit < 0 || !(array || json_is_object (value)))
        return 0;
    size_t size = array ? json_array_size (value) : 0;
    void *iter = array ? NULL : json_object_iter (value);
    for (size_t index = 0; array ? index < size : iter != NULL; index++) {
        json_t *member = array ? json_array_get (value, index) : json_object_iter_value (iter);
        int depth = s_depth (member, limit - 1);
        deepest = depth > deepest ? depth : deepest;
        iter = array ? NULL : json_object_iter_next (value, iter);
    }
    return deepest + 1;
}

//  The ordering key the bridge takes from a body (as the translator does,
//  ovh_jsonbody.c s_key_rank): the first string of sessionId, id, nodeId,
//  clusterId; NULL when there is none. 'name' gets the property's name.
static json_t *
s_body_key (json_t *body, const char **name)
{
    static const char *names [] = { "sessionId", "id", "nodeId", "clusterId" };
    for (size_t index = 0; index < sizeof names / sizeof names [0]; index++) {
        json_t *value = json_object_get (body, names [index]);
        if (json_is_string (value)) {
            *name = names [index];
            return value;
        }
    }
    return NULL;
}

//  What a line holds must be what the bus could have carried: bodies
//  nested deeper than OVH_MAX_DEPTH are refused there, and the key must be
//  the one the bridge takes from the body (it orders the redelivery)
static bool
s_check_body (json_t *body, json_t *key, char *problem, size_t size)
{
    if (s_depth (body, OVH_MAX_DEPTH + 1) > OVH_MAX_DEPTH) {
        snprintf (problem, size, "\"body\" is nested deeper than %d levels", OVH_MAX_DEPTH);
        return false;
    }
    const char *name = NULL;
    json_t *expected = s_body_key (body, &name);
    if (json_equal (expected, key) || (!expected && json_is_null (key)))
        return true;
    char shown [80];
    if (expected)
        snprintf (problem, size, "\"key\" does not match the body (its %s is \"%s\")", name,
                  ovh_shown (shown, sizeof shown, json_string_value (expected),
                             json_string_length (expected)));
    else
        snprintf (problem, size, "\"key\" does not match the body (it has no sessionId, id, "
                  "nodeId nor clusterId string: the key is null)");
    return false;
}

//  Check one line and make its item. Returns the item, or NULL with what is
//  wrong in 'problem' ("" when memory ran out). 'timestamp' gets the body's
//  "timestamp", NAN when it has none.
static ovh_item_t *
s_parse_line (char *line, char *problem, size_t size, double *timestamp, int64_t *failed_ms)
{
    json_error_t error;
    //  Integers as reals: a body may hold uint64 values beyond Jansson's
    //  json_int_t; the body's text is spliced, never taken from Jansson
    json_t *root = json_loads (line, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &error);
    if (!root) {
        snprintf (problem, size, "not JSON (%s at column %d)", error.text, error.column);
        return NULL;
    }
    ovh_item_t *item = NULL;
    json_t *id = json_object_get (root, "id");
    json_t *event = json_object_get (root, "event");
    json_t *key = json_object_get (root, "key");
    json_t *body = json_object_get (root, "body");
    const ovh_event_type_t *type = json_is_string (event)
        ? ovh_catalog_lookup (json_string_value (event), json_string_length (event)) : NULL;
    size_t body_size = 0;
    const char *body_text = NULL;
    json_t *stamp = json_object_get (body, "timestamp");
    *timestamp = json_is_number (stamp) ? json_number_value (stamp) : NAN;
    json_t *failed_at = json_object_get (root, "failed_at");
    *failed_ms = json_is_number (failed_at) ? (int64_t) json_number_value (failed_at) : 0;
    if (!json_is_object (root))
        snprintf (problem, size, "not a JSON object");
    else
    if (!json_is_string (id) || !s_valid_id (json_string_value (id)))
        snprintf (problem, size, "no valid \"id\" (evt_ and 32 hex digits)");
    else
    if (!type)
        snprintf (problem, size, "\"event\" is not an event type");
    else
    if (!key || !(json_is_string (key) || json_is_null (key)))
        snprintf (problem, size, "\"key\" is not a string or null");
    else
    if (!json_is_object (body))
        snprintf (problem, size, "\"body\" is not a JSON object");
    else
    if (!json_equal (json_object_get (body, "event"), event))
        snprintf (problem, size, "the body's \"event\" is not \"%s\"", type->name);
    else
    if (!(body_text = s_find_body (line, &body_size)))
        snprintf (problem, size, "\"body\" must appear once, spelled plainly");
    else
    if (!s_check_body (body, key, problem, size))
        ;                               //  'problem' says why
    else {
        *problem = 0;
        item = ovh_item_restore (type, json_string_value (id),
                                 json_is_string (key) ? json_string_value (key) : NULL,
                                 json_is_string (key) ? json_string_length (key) : 0,
                                 body_text, body_size, zclock_time (), 0);
    }
    json_decref (root);
    return item;
}

ovh_item_t *
ovh_deadletter_parse (char *line, char *problem, size_t size, int64_t *failed_ms)
{
    assert (line);
    assert (problem);
    double timestamp;
    int64_t ignored;
    return s_parse_line (line, problem, size, &timestamp, failed_ms ? failed_ms : &ignored);
}

//  What the first pass keeps of a valid line: where it is and what orders
//  it among the lines of its key (not the line: the file may be large)
typedef struct {
    off_t offset;
    size_t length;
    size_t number;              //  its line number
    char *key;                  //  a copy; NULL: no key
    size_t key_size;
    double timestamp;           //  the body's; NAN: none
} entry_t;

typedef struct {
    const entry_t *entries;
    bool by_time;               //  false: by key, then file order
} order_t;

static bool
s_same_key (const entry_t *a, const entry_t *b)
{
    return a->key && b->key && a->key_size == b->key_size
        && memcmp (a->key, b->key, a->key_size) == 0;
}

//  Indexes of entries ordered by key (keyless ones first, each apart), then
//  timestamp if by_time, then file order: a total order, so qsort is stable
static int
s_compare (const void *a, const void *b, void *arg)
{
    const order_t *order = (const order_t *) arg;
    size_t index_a = *(const size_t *) a, index_b = *(const size_t *) b;
    const entry_t *entry_a = order->entries + index_a;
    const entry_t *entry_b = order->entries + index_b;
    if (entry_a->key && entry_b->key) {
        size_t common = entry_a->key_size < entry_b->key_size
                      ? entry_a->key_size : entry_b->key_size;
        int rc = memcmp (entry_a->key, entry_b->key, common);
        if (rc)
            return rc;
        if (entry_a->key_size != entry_b->key_size)
            return entry_a->key_size < entry_b->key_size ? -1 : 1;
        if (order->by_time && entry_a->timestamp != entry_b->timestamp)
            return entry_a->timestamp < entry_b->timestamp ? -1 : 1;
    }
    else
    if (entry_a->key || entry_b->key)
        return entry_a->key ? 1 : -1;
    return index_a < index_b ? -1 : index_a > index_b;
}

static int
s_compare_index (const void *a, const void *b)
{
    size_t index_a = *(const size_t *) a, index_b = *(const size_t *) b;
    return index_a < index_b ? -1 : index_a > index_b;
}

//  The order to hand the entries back in: each key's lines are sorted by
//  timestamp into the places its lines take in the file, so that only the
//  order within a key changes. Returns NULL when memory runs out.
static size_t *
s_redelivery_order (entry_t *entries, size_t count)
{
    size_t *sorted = (size_t *) malloc ((count + 1) * sizeof (size_t));
    size_t *places = (size_t *) malloc ((count + 1) * sizeof (size_t));
    size_t *result = (size_t *) malloc ((count + 1) * sizeof (size_t));
    if (!sorted || !places || !result) {
        free (sorted);
        free (places);
        free (result);
        return NULL;
    }
    for (size_t index = 0; index < count; index++)
        sorted [index] = index;
    //  A line without a timestamp goes after the line of its key before it
    order_t order = { entries, false };
    qsort_r (sorted, count, sizeof (size_t), s_compare, &order);
    for (size_t index = 0; index < count; index++) {
        entry_t *entry = entries + sorted [index];
        if (isnan (entry->timestamp))
            entry->timestamp = index && s_same_key (entries + sorted [index - 1], entry)
                             ? entries [sorted [index - 1]].timestamp : -INFINITY;
    }
    order.by_time = true;
    qsort_r (sorted, count, sizeof (size_t), s_compare, &order);
    for (size_t first = 0, last; first < count; first = last) {
        last = first + 1;
        while (last < count && s_same_key (entries + sorted [first], entries + sorted [last]))
            last++;
        memcpy (places, sorted + first, (last - first) * sizeof (size_t));
        qsort (places, last - first, sizeof (size_t), s_compare_index);
        for (size_t index = first; index < last; index++)
            result [places [index - first]] = sorted [index];
    }
    free (sorted);
    free (places);
    return result;
}

//  First pass: check every line present now, log the bad ones, and keep an
//  entry per good one. Returns the number of entries, or -1 ('error' set).
static int
s_scan (FILE *file, const char *path, ovh_deadletter_filter_fn *filter, void *filter_arg,
        entry_t **entries_p, char *error, size_t size)
{
    struct stat status;
    off_t end = fstat (fileno (file), &status) == 0 ? status.st_size : 0;
    off_t offset = 0;
    char *line = NULL;
    size_t capacity = 0, number = 0, allocated = 0;
    int count = 0, skipped = 0;
    ssize_t length;
    while (offset < end && (length = getline (&line, &capacity, file)) >= 0) {
        off_t start = offset;
        offset += length;
        number++;
        if (!*ovh_jsontext_skip_space (line, line + strlen (line)))
            continue;                   //  a blank line
        //  A NUL byte in a line would hide the rest of it from Jansson
        if (strlen (line) != (size_t) length) {
            ovh_log_warning ("dead-letter file %s line %zu: holds a NUL byte: skipped",
                             path, number);
            skipped++;
            continue;
        }
        char problem [256];
        double timestamp;
        int64_t failed_ms;
        ovh_item_t *item = s_parse_line (line, problem, sizeof problem, &timestamp, &failed_ms);
        if (!item && *problem) {
            ovh_log_warning ("dead-letter file %s line %zu: %s: skipped", path, number, problem);
            skipped++;
            continue;
        }
        if (item && filter) {
            ovh_dlrecord_t record = {
                (int64_t) number, item->id, item->type->name, item->has_key ? item->key : NULL,
                0, "", failed_ms, item->json, item->json_size, line, (size_t) length };
            if (!filter (filter_arg, &record)) {
                ovh_item_destroy (&item);
                continue;
            }
        }
        if (item && (size_t) count == allocated) {
            allocated = allocated ? allocated * 2 : 256;
            entry_t *grown = (entry_t *) realloc (*entries_p, allocated * sizeof (entry_t));
            if (grown)
                *entries_p = grown;
            else
                ovh_item_destroy (&item);
        }
        entry_t *entry = item ? *entries_p + count : NULL;
        if (entry) {
            *entry = (entry_t) { start, (size_t) length, number, NULL, item->key_size, timestamp };
            if (item->has_key && !(entry->key = (char *) malloc (item->key_size + 1)))
                entry = NULL;
            else
            if (item->has_key)
                memcpy (entry->key, item->key, item->key_size);
            ovh_item_destroy (&item);
        }
        if (!entry) {
            snprintf (error, size, "out of memory at line %zu", number);
            count = -1;
            break;
        }
        count++;
    }
    if (count >= 0 && ferror (file)) {
        snprintf (error, size, "%s", strerror (errno));
        count = -1;
    }
    free (line);
    if (skipped)
        ovh_log_warning ("dead-letter file %s: %d invalid line%s skipped; the file keeps them",
                         path, skipped, skipped == 1 ? "" : "s");
    return count;
}

int
ovh_deadletter_read (const char *path, ovh_deadletter_fn *callback, void *arg,
                     char *error, size_t size)
{
    return ovh_deadletter_read_some (path, NULL, NULL, callback, arg, error, size);
}

int
ovh_deadletter_read_some (const char *path, ovh_deadletter_filter_fn *filter,
                          void *filter_arg, ovh_deadletter_fn *callback, void *arg,
                          char *error, size_t size)
{
    assert (path);
    assert (callback);
    FILE *file = fopen (path, "re");
    if (!file) {
        if (errno == ENOENT)
            return 0;
        snprintf (error, size, "%s", strerror (errno));
        return -1;
    }
    //  Only what is there now (see the header), checked and ordered first,
    //  then read again line by line: memory holds an entry per line only
    entry_t *entries = NULL;
    int count = s_scan (file, path, filter, filter_arg, &entries, error, size);
    size_t *order = count > 0 ? s_redelivery_order (entries, (size_t) count) : NULL;
    if (count > 0 && !order) {
        snprintf (error, size, "out of memory ordering %d lines", count);
        count = -1;
    }
    int handed = 0;
    char *line = NULL;
    for (int index = 0; index < count; index++) {
        const entry_t *entry = entries + order [index];
        char *buffer = (char *) realloc (line, entry->length + 1);
        if (!buffer) {
            snprintf (error, size, "out of memory at line %zu", entry->number);
            handed = -1;
            break;
        }
        line = buffer;
        char problem [256] = "";
        double timestamp;
        int64_t failed_ms;
        ovh_item_t *item = NULL;
        if (pread (fileno (file), line, entry->length, entry->offset) == (ssize_t) entry->length) {
            line [entry->length] = 0;
            item = s_parse_line (line, problem, sizeof problem, &timestamp, &failed_ms);
        }
        else
            snprintf (problem, sizeof problem, "%s", "changed while read");
        if (item) {
            callback (arg, item);
            handed++;
        }
        else
        if (*problem)                   //  someone wrote over the file meanwhile
            ovh_log_warning ("dead-letter file %s line %zu: %s: skipped", path, entry->number,
                             problem);
        else {
            snprintf (error, size, "out of memory at line %zu", entry->number);
            handed = -1;
            break;
        }
    }
    free (line);
    for (int index = 0; index < count; index++)
        free (entries [index].key);
    free (entries);
    free (order);
    fclose (file);
    return count < 0 ? -1 : handed;
}

int
ovh_deadletter_retire_as (const char *path, char *target, size_t target_size)
{
    assert (path);
    assert (target);
    long long now = (long long) time (NULL);
    //  Never overwrite an earlier retired file (two runs in one second)
    for (int attempt = 0; attempt < 100; attempt++) {
        int size = attempt
            ? snprintf (target, target_size, "%s.redelivered-%lld.%d", path, now, attempt)
            : snprintf (target, target_size, "%s.redelivered-%lld", path, now);
        if (size < 0 || (size_t) size >= target_size) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (access (target, F_OK) != 0 && errno == ENOENT)
            break;
    }
    if (rename (path, target))
        return -1;
    ovh_log_info ("dead-letter file %s retired as %s", path, target);
    return 0;
}

int
ovh_deadletter_retire (const char *path)
{
    assert (path);
    size_t size = strlen (path) + 64;
    char *target = (char *) malloc (size);
    if (!target) {
        errno = ENOMEM;
        return -1;
    }
    int rc = ovh_deadletter_retire_as (path, target, size);
    int saved = errno;
    free (target);
    errno = saved;
    return rc;
}
