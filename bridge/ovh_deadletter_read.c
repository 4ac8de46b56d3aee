/*  ovh_deadletter_read.c - reading the JSONL dead-letter file back for
    --redeliver, and retiring it. The writer is ovh_deadletter.c.           */

#include <czmq.h>
#include <jansson.h>
#include "ovh_deadletter.h"

//  Skipping over values of a line Jansson has already found valid: only
//  strings (which may hold brackets and escaped quotes) need care
static const char *
s_skip_space (const char *cursor)
{
    while (*cursor == ' ' || *cursor == '\t' || *cursor == '\r' || *cursor == '\n')
        cursor++;
    return cursor;
}

static const char *
s_skip_string (const char *cursor)
{
    assert (*cursor == '"');
    for (cursor++; *cursor && *cursor != '"'; cursor++)
        if (*cursor == '\\' && cursor [1])
            cursor++;
    return *cursor ? cursor + 1 : cursor;
}

static const char *
s_skip_value (const char *cursor)
{
    if (*cursor == '"')
        return s_skip_string (cursor);
    int depth = 0;
    while (*cursor) {
        if (*cursor == '"') {
            cursor = s_skip_string (cursor);
            continue;
        }
        if (*cursor == '{' || *cursor == '[')
            depth++;
        else
        if (*cursor == '}' || *cursor == ']') {
            if (depth == 0)
                break;                  //  the end of the enclosing object
            if (--depth == 0)
                return cursor + 1;
        }
        else
        if (depth == 0 && (*cursor == ',' || *cursor == ' ' || *cursor == '\t'
                       ||  *cursor == '\r' || *cursor == '\n'))
            break;
        cursor++;
    }
    return cursor;
}

//  Find the text of the top-level "body" value. Returns NULL when there is
//  none or more than one.
static const char *
s_find_body (const char *line, size_t *body_size)
{
    const char *found = NULL;
    const char *cursor = s_skip_space (line);
    if (*cursor++ != '{')
        return NULL;
    while (*(cursor = s_skip_space (cursor)) == '"') {
        const char *key = cursor;
        cursor = s_skip_string (cursor);
        bool is_body = cursor - key == 6 && memcmp (key, "\"body\"", 6) == 0;
        cursor = s_skip_space (cursor);
        if (*cursor++ != ':')
            return NULL;
        const char *value = s_skip_space (cursor);
        cursor = s_skip_value (value);
        if (is_body) {
            if (found)
                return NULL;
            found = value;
            *body_size = (size_t) (cursor - value);
        }
        cursor = s_skip_space (cursor);
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

//  Check one line and make its item. Returns the item, or NULL with what is
//  wrong in 'problem' ("" when memory ran out).
static ovh_item_t *
s_parse_line (char *line, char *problem, size_t size)
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

int
ovh_deadletter_read (const char *path, ovh_deadletter_fn *callback, void *arg,
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
    //  Read only what is there now (see the header)
    struct stat status;
    off_t end = fstat (fileno (file), &status) == 0 ? status.st_size : 0;
    off_t offset = 0;
    char *line = NULL;
    size_t capacity = 0;
    size_t number = 0;
    int count = 0, skipped = 0;
    ssize_t length;
    while (offset < end && (length = getline (&line, &capacity, file)) >= 0) {
        offset += length;
        number++;
        if (!*s_skip_space (line))
            continue;                   //  a blank line
        //  A NUL byte in a line would hide the rest of it from Jansson
        if (strlen (line) != (size_t) length) {
            zsys_warning ("dead-letter file %s line %zu: holds a NUL byte: skipped",
                          path, number);
            skipped++;
            continue;
        }
        char problem [256];
        ovh_item_t *item = s_parse_line (line, problem, sizeof problem);
        if (item) {
            callback (arg, item);
            count++;
        }
        else
        if (*problem) {
            zsys_warning ("dead-letter file %s line %zu: %s: skipped", path, number, problem);
            skipped++;
        }
        else {
            snprintf (error, size, "out of memory at line %zu", number);
            count = -1;
            break;
        }
    }
    if (count >= 0 && ferror (file)) {
        snprintf (error, size, "%s", strerror (errno));
        count = -1;
    }
    free (line);
    fclose (file);
    if (skipped)
        zsys_warning ("dead-letter file %s: %d invalid line%s skipped; the file keeps them",
                      path, skipped, skipped == 1 ? "" : "s");
    return count;
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
    zsys_info ("dead-letter file %s retired as %s", path, target);
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
