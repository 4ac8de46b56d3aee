/*  ovh_webhook.c - a webhook JSON body in, the event type and a msgpack
    body out: the inverse of the translator.

    Jansson parses the text (it keeps object keys in insertion order, rejects
    duplicate keys on request and reads \u0000 with JSON_ALLOW_NUL); the tree
    is then walked into an ovh_body. JSON integers become msgpack ints
    (json_int_t is int64), JSON reals become float64, so "674.0" stays a
    float and the translator writes it back as "674.0".

    Limitation: Jansson 2.14 reads every integer as json_int_t (long long)
    and fails with "too big integer" above INT64_MAX. An integer between
    INT64_MAX and UINT64_MAX is therefore rejected (OVH_E_JSON_NUMBER) like
    any other out-of-range integer, although msgpack could carry it. Working
    around it would mean editing the text before Jansson sees it; not worth
    it for OpenVidu bodies, whose integers are timestamps and sizes.

    Jansson reports no property path, and no position for problems found in
    the tree (too deep, bad "event"), so a small scanner walks the text again
    to say where such a problem is. It only runs when there is an error.     */

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "ovhook.h"

//  ---------------------------------------------------------------------
//  Locating problems in the text, on the error path only

typedef enum {
    FIND_DEPTH,                 //  first container deeper than OVH_MAX_DEPTH
    FIND_NUMBER,                //  first number Jansson cannot hold
    FIND_EVENT                  //  value of the top-level "event" key
} s_find_t;

typedef struct {
    const char *text;
    size_t size;
    size_t pos;
    s_find_t find;
    char path [sizeof ((ovh_error_t *) 0)->path];
    bool found;
    size_t found_at;
} s_scan_t;

//  The scanner steps over space, strings and scalars with ovh_jsontext;
//  these move its position. False when the text ends first.
static void
s_skip_space (s_scan_t *scan)
{
    const char *end = scan->text + scan->size;
    scan->pos = (size_t) (ovh_jsontext_skip_space (scan->text + scan->pos, end) - scan->text);
}

static bool
s_skip (s_scan_t *scan, const char *(*skip) (const char *, const char *))
{
    const char *after = skip (scan->text + scan->pos, scan->text + scan->size);
    if (after)
        scan->pos = (size_t) (after - scan->text);
    return after != NULL;
}

//  Does this number token overflow as Jansson reads it (strtoll for
//  integers, strtod for reals, both with ERANGE)?
static bool
s_number_overflows (const char *token, size_t size)
{
    char *copy = strndup (token, size);
    if (!copy)
        return false;
    bool is_real = strpbrk (copy, ".eE") != NULL;
    errno = 0;
    bool overflows;
    if (is_real) {
        double value = strtod (copy, NULL);
        overflows = errno == ERANGE && isinf (value);
    }
    else {
        (void) strtoll (copy, NULL, 10);
        overflows = errno == ERANGE;
    }
    free (copy);
    return overflows;
}

//  Append a path component; the path is cut off (not overflowed) when long
static void
s_path_push (s_scan_t *scan, bool is_key, const char *name, size_t size, size_t index)
{
    size_t len = strlen (scan->path);
    size_t room = sizeof scan->path - len;
    if (is_key)
        snprintf (scan->path + len, room, "%s%.*s", len? ".": "", (int) size, name);
    else
        snprintf (scan->path + len, room, "[%zu]", index);
}

//  Read one value; returns false to stop (found, or text ends/is malformed)
static bool
s_scan_value (s_scan_t *scan, int depth)
{
    s_skip_space (scan);
    if (scan->pos >= scan->size)
        return false;
    char c = scan->text [scan->pos];
    size_t start = scan->pos;

    if (c == '{' || c == '[') {
        if (scan->find == FIND_DEPTH && depth > OVH_MAX_DEPTH) {
            scan->found = true;
            scan->found_at = start;
            return false;
        }
        bool is_object = c == '{';
        char close = is_object? '}': ']';
        size_t base = strlen (scan->path);
        scan->pos++;
        s_skip_space (scan);
        if (scan->pos < scan->size && scan->text [scan->pos] == close) {
            scan->pos++;
            return true;
        }
        for (size_t index = 0; ; index++) {
            s_skip_space (scan);
            if (is_object) {
                if (scan->pos >= scan->size || scan->text [scan->pos] != '"')
                    return false;
                size_t key_start = scan->pos + 1;
                if (!s_skip (scan, ovh_jsontext_skip_string))
                    return false;
                size_t key_size = scan->pos - 1 - key_start;
                s_path_push (scan, true, scan->text + key_start, key_size, 0);
                s_skip_space (scan);
                if (scan->pos >= scan->size || scan->text [scan->pos] != ':')
                    return false;
                scan->pos++;
                if (scan->find == FIND_EVENT && depth == 1
                &&  key_size == 5 && memcmp (scan->text + key_start, "event", 5) == 0) {
                    s_skip_space (scan);
                    scan->found = true;
                    scan->found_at = scan->pos;
                    return false;
                }
            }
            else
                s_path_push (scan, false, NULL, 0, index);
            if (!s_scan_value (scan, depth + 1))
                return false;
            scan->path [base] = 0;
            s_skip_space (scan);
            if (scan->pos >= scan->size)
                return false;
            if (scan->text [scan->pos] == close) {
                scan->pos++;
                return true;
            }
            if (scan->text [scan->pos] != ',')
                return false;
            scan->pos++;
        }
    }
    if (c == '"')
        return s_skip (scan, ovh_jsontext_skip_string);

    //  Number or literal
    if (!s_skip (scan, ovh_jsontext_skip_value))
        return false;
    if (scan->find == FIND_NUMBER && (c == '-' || (c >= '0' && c <= '9'))
    &&  s_number_overflows (scan->text + start, scan->pos - start)) {
        scan->found = true;
        scan->found_at = start;
        return false;
    }
    return true;
}

//  Find a problem in the text: fills 'offset' and 'path'; false if not found
static bool
s_locate (const char *text, size_t size, s_find_t find, size_t *offset, char *path)
{
    s_scan_t scan = { .text = text, .size = size, .find = find };
    s_scan_value (&scan, 1);
    if (scan.found) {
        *offset = scan.found_at;
        strcpy (path, scan.path);
    }
    return scan.found;
}

//  ---------------------------------------------------------------------
//  Walking the tree into the body

typedef struct {
    const char *text;
    size_t size;
    ovh_body_t *body;
    ovh_error_t *error;
} s_walk_t;

static int
s_body_failed (s_walk_t *walk)
{
    const ovh_error_t *body_error = ovh_body_error (walk->body);
    if (body_error)
        *walk->error = *body_error;
    else
        ovh_error_set (walk->error, OVH_E_USAGE, OVH_FRAME_NONE, 0, NULL,
                       "body builder failed");
    return -1;
}

static int
s_too_deep (s_walk_t *walk)
{
    size_t offset = 0;
    char path [sizeof walk->error->path] = "";
    s_locate (walk->text, walk->size, FIND_DEPTH, &offset, path);
    return ovh_error_set (walk->error, OVH_E_DEPTH, OVH_FRAME_NONE, offset, path,
                          "arrays and objects nested deeper than %d", OVH_MAX_DEPTH);
}

static int s_put_container (s_walk_t *walk, const char *key, json_t *value, int depth);

//  Add one value under 'key' (NULL inside an array); 'depth' is the depth
//  the value would have if it is a container (the body map is depth 1)
static int
s_put (s_walk_t *walk, const char *key, json_t *value, int depth)
{
    int rc;
    switch (json_typeof (value)) {
        case JSON_OBJECT:
        case JSON_ARRAY:
            return s_put_container (walk, key, value, depth);
        case JSON_STRING:
            rc = ovh_body_strn (walk->body, key, json_string_value (value),
                                json_string_length (value));
            break;
        case JSON_INTEGER:
            rc = ovh_body_int (walk->body, key, (int64_t) json_integer_value (value));
            break;
        case JSON_REAL:
            rc = ovh_body_double (walk->body, key, json_real_value (value));
            break;
        case JSON_TRUE:
            rc = ovh_body_bool (walk->body, key, true);
            break;
        case JSON_FALSE:
            rc = ovh_body_bool (walk->body, key, false);
            break;
        case JSON_NULL:
        default:
            rc = ovh_body_null (walk->body, key);
            break;
    }
    return rc? s_body_failed (walk): 0;
}

//  Add the members of an object (in order) to the map open in the body;
//  'skip_event' drops the top-level "event"
static int
s_put_members (s_walk_t *walk, json_t *object, int depth, bool skip_event)
{
    for (void *iter = json_object_iter (object); iter;
         iter = json_object_iter_next (object, iter)) {
        const char *key = json_object_iter_key (iter);
        size_t key_size = json_object_iter_key_len (iter);
        if (skip_event && key_size == 5 && memcmp (key, "event", 5) == 0)
            continue;
        if (strlen (key) != key_size)
            //  Body keys are C strings; a key with \u0000 has no place there
            return ovh_error_set (walk->error, OVH_E_JSON, OVH_FRAME_NONE, 0, key,
                                  "object key holds a NUL character");
        if (s_put (walk, key, json_object_iter_value (iter), depth + 1))
            return -1;
    }
    return 0;
}

static int
s_put_container (s_walk_t *walk, const char *key, json_t *value, int depth)
{
    if (depth > OVH_MAX_DEPTH)
        return s_too_deep (walk);
    if (json_is_object (value)) {
        if (ovh_body_begin_map (walk->body, key))
            return s_body_failed (walk);
        if (s_put_members (walk, value, depth, false))
            return -1;
    }
    else {
        if (ovh_body_begin_array (walk->body, key))
            return s_body_failed (walk);
        for (size_t index = 0; index < json_array_size (value); index++)
            if (s_put (walk, NULL, json_array_get (value, index), depth + 1))
                return -1;
    }
    return ovh_body_end (walk->body)? s_body_failed (walk): 0;
}

//  Read the event type from the top-level "event" property
static const ovh_event_type_t *
s_event_type (s_walk_t *walk, json_t *root)
{
    size_t offset = 0;
    char path [sizeof walk->error->path];
    json_t *event = json_object_getn (root, "event", 5);
    if (!event) {
        ovh_error_set (walk->error, OVH_E_JSON_EVENT, OVH_FRAME_NONE, 0, NULL,
                       "object has no \"event\" property");
        return NULL;
    }
    s_locate (walk->text, walk->size, FIND_EVENT, &offset, path);
    if (!json_is_string (event)) {
        static const char *type_names [] = {
            "an object", "an array", "a string", "an integer", "a real",
            "true", "false", "null"
        };
        ovh_error_set (walk->error, OVH_E_JSON_EVENT, OVH_FRAME_NONE, offset, "event",
                       "\"event\" is %s, expected a string",
                       type_names [json_typeof (event)]);
        return NULL;
    }
    const char *name = json_string_value (event);
    size_t name_size = json_string_length (event);
    const ovh_event_type_t *type = ovh_catalog_lookup (name, name_size);
    if (!type)
        ovh_error_set (walk->error, OVH_E_JSON_EVENT, OVH_FRAME_NONE, offset, "event",
                       "unknown event type '%.*s'",
                       (int) (name_size > 64? 64: name_size), name);
    return type;
}

const ovh_event_type_t *
ovh_webhook_to_body (const char *json, size_t size, ovh_body_t *body,
                     ovh_error_t *error)
{
    assert (json || size == 0);
    assert (body);
    ovh_error_t local_error;
    if (!error)
        error = &local_error;
    ovh_error_clear (error);
    ovh_body_reset (body);

    json_error_t jerror;
    json_t *root = json_loadb (json? json: "", size,
                               JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerror);
    if (!root) {
        ovh_code_t code = OVH_E_JSON;
        size_t offset = (size_t) jerror.position;
        char path [sizeof error->path] = "";
        if (json_error_code (&jerror) == json_error_numeric_overflow) {
            code = OVH_E_JSON_NUMBER;
            s_locate (json, size, FIND_NUMBER, &offset, path);
        }
        ovh_error_set (error, code, OVH_FRAME_NONE, offset, path,
                       "%s (line %d, column %d)", jerror.text,
                       jerror.line, jerror.column);
        return NULL;
    }
    s_walk_t walk = { .text = json, .size = size, .body = body, .error = error };
    const ovh_event_type_t *type = NULL;
    if (!json_is_object (root))
        ovh_error_set (error, OVH_E_JSON, OVH_FRAME_NONE, 0, NULL,
                       "JSON text is not an object");
    else {
        type = s_event_type (&walk, root);
        if (type && s_put_members (&walk, root, 1, true))
            type = NULL;
    }
    json_decref (root);
    if (!type)
        ovh_body_reset (body);
    return type;
}
