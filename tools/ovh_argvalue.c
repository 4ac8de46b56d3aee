/*  ovh_argvalue.c - "key=value" arguments of ovhook-inject, typed.

    Numbers follow JSON's grammar rather than strtoll's, so that what is a
    number on the command line is exactly what would be a number in a
    webhook body: "007", "+1", "0x10", ".5" and "1." stay strings (an id
    like "007" keeps its zeros). An integer too large for int64 and uint64
    stays a string too, and so does a float that overflows to infinity:
    the protocol has no infinity, and the catalog check then says which
    property got a string where a number was expected.                    */

#include <errno.h>
#include <math.h>
#include <jansson.h>
#include <czmq.h>
#include "ovh_argvalue.h"

static const char *s_kind_names [] = {
    "string", "integer", "integer", "float", "boolean", "null", "json"
};

const char *
ovh_argkind_name (ovh_argkind_t kind)
{
    return (int) kind >= 0 && kind <= OVH_ARG_JSON? s_kind_names [kind]: "unknown";
}

bool
ovh_utf8_valid (const char *data, size_t size)
{
    const unsigned char *p = (const unsigned char *) data;
    const unsigned char *end = p + size;
    while (p < end) {
        unsigned char c = *p++;
        if (c < 0x80)
            continue;
        size_t more;
        uint32_t code, min;
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1; code = c & 0x1f; min = 0x80;
        }
        else
        if (c >= 0xe0 && c <= 0xef) {
            more = 2; code = c & 0x0f; min = 0x800;
        }
        else
        if (c >= 0xf0 && c <= 0xf4) {
            more = 3; code = c & 0x07; min = 0x10000;
        }
        else
            return false;       //  continuation byte, 0xc0/0xc1, 0xf5..
        if ((size_t) (end - p) < more)
            return false;
        for (size_t index = 0; index < more; index++) {
            if ((p [index] & 0xc0) != 0x80)
                return false;
            code = (code << 6) | (p [index] & 0x3f);
        }
        p += more;
        if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
            return false;
    }
    return true;
}

//  Length of JSON's "-?(0|[1-9][0-9]*)" at 'text', 0 if none
static size_t
s_json_integer_part (const char *text)
{
    size_t at = *text == '-'? 1: 0;
    if (text [at] == '0')
        return at + 1;
    if (text [at] < '1' || text [at] > '9')
        return 0;
    while (isdigit ((unsigned char) text [at]))
        at++;
    return at;
}

//  Type a plain value: JSON number, true, false, null, else string
static void
s_type_plain (ovh_argvalue_t *value)
{
    const char *text = value->text;
    value->kind = OVH_ARG_STRING;
    if (streq (text, "true") || streq (text, "false")) {
        value->kind = OVH_ARG_BOOL;
        value->b = text [0] == 't';
        return;
    }
    if (streq (text, "null")) {
        value->kind = OVH_ARG_NULL;
        return;
    }
    size_t at = s_json_integer_part (text);
    if (at == 0)
        return;
    bool is_float = false;
    if (text [at] == '.') {
        if (!isdigit ((unsigned char) text [++at]))
            return;
        while (isdigit ((unsigned char) text [at]))
            at++;
        is_float = true;
    }
    if (text [at] == 'e' || text [at] == 'E') {
        at++;
        if (text [at] == '+' || text [at] == '-')
            at++;
        if (!isdigit ((unsigned char) text [at]))
            return;
        while (isdigit ((unsigned char) text [at]))
            at++;
        is_float = true;
    }
    if (text [at] != 0)
        return;
    errno = 0;
    if (is_float) {
        double number = strtod (text, NULL);
        if (isfinite (number)) {
            value->kind = OVH_ARG_FLOAT;
            value->f = number;
        }
        return;
    }
    long long number = strtoll (text, NULL, 10);
    if (errno == 0) {
        value->kind = OVH_ARG_INT;
        value->i = number;
        return;
    }
    if (*text == '-')
        return;                 //  below INT64_MIN
    errno = 0;
    unsigned long long unsigned_number = strtoull (text, NULL, 10);
    if (errno == 0) {
        value->kind = OVH_ARG_UINT;
        value->u = unsigned_number;
    }
}

int
ovh_argvalue_parse (const char *arg, ovh_argvalue_t *value, ovh_error_t *error)
{
    assert (arg && value && error);
    memset (value, 0, sizeof *value);
    ovh_error_clear (error);
    const char *equals = strchr (arg, '=');
    if (!equals)
        return ovh_error_set (error, OVH_E_USAGE, OVH_FRAME_ARGUMENT, 0, NULL,
                              "'%s' is not key=value (or key:=JSON, key==string)", arg);
    value->key = arg;
    value->key_size = (size_t) (equals - arg);
    value->text = equals + 1;
    if (value->key_size > 0 && equals [-1] == ':') {
        value->key_size--;
        value->kind = OVH_ARG_JSON;
    }
    else
    if (equals [1] == '=') {
        value->text++;
        value->kind = OVH_ARG_STRING;
    }
    else
        s_type_plain (value);

    if (value->key_size == 0)
        return ovh_error_set (error, OVH_E_USAGE, OVH_FRAME_ARGUMENT, 0, NULL,
                              "'%s' has an empty key", arg);
    if (value->key_size == 5 && memcmp (arg, "event", 5) == 0)
        return ovh_error_set (error, OVH_E_EVENT_KEY, OVH_FRAME_ARGUMENT, 0, "event",
                              "'%s': the event is named by the EVENT argument, not by a "
                              "property \"event\"", arg);
    if (!ovh_utf8_valid (value->key, value->key_size))
        return ovh_error_set (error, OVH_E_UTF8, OVH_FRAME_ARGUMENT, 0, NULL,
                              "the key of '%s' is not valid UTF-8", arg);
    if (value->kind == OVH_ARG_STRING && !ovh_utf8_valid (value->text, strlen (value->text)))
        return ovh_error_set (error, OVH_E_UTF8, OVH_FRAME_ARGUMENT, 0, NULL,
                              "the value of '%s' is not valid UTF-8", arg);
    return 0;
}

//  A failure of the body being built, as a report about the argument: its
//  offset counts bytes of msgpack written so far, which whoever typed the
//  argument never sees, so the report keeps the code, detail and path only
static void
s_body_error (ovh_body_t *body, ovh_error_t *error)
{
    const ovh_error_t *cause = ovh_body_error (body);
    //  The text is "<code-name>: <detail> (offset N[, at PATH])"
    const char *detail = cause->text + strlen (ovh_code_name (cause->code)) + 2;
    const char *where = NULL;
    for (const char *at = strstr (detail, " (offset "); at; at = strstr (at + 1, " (offset "))
        where = at;
    int size = where? (int) (where - detail): (int) strlen (detail);
    ovh_code_t code = cause->code;
    char path [sizeof cause->path];
    snprintf (path, sizeof path, "%s", cause->path);
    char text [sizeof cause->text];
    snprintf (text, sizeof text, "%.*s", size, detail);
    ovh_error_set (error, code, OVH_FRAME_ARGUMENT, 0, path, "%s", text);
}

//  Add a JSON value under 'key' (NULL inside an array)
static int
s_put_json (ovh_body_t *body, const char *key, json_t *json)
{
    switch (json_typeof (json)) {
        case JSON_OBJECT: {
            if (ovh_body_begin_map (body, key))
                return -1;
            const char *member;
            json_t *item;
            json_object_foreach (json, member, item)
                if (s_put_json (body, member, item))
                    return -1;
            return ovh_body_end (body);
        }
        case JSON_ARRAY: {
            if (ovh_body_begin_array (body, key))
                return -1;
            size_t index;
            json_t *item;
            json_array_foreach (json, index, item)
                if (s_put_json (body, NULL, item))
                    return -1;
            return ovh_body_end (body);
        }
        case JSON_STRING:
            return ovh_body_strn (body, key, json_string_value (json), json_string_length (json));
        case JSON_INTEGER:
            return ovh_body_int (body, key, (int64_t) json_integer_value (json));
        case JSON_REAL:
            return ovh_body_double (body, key, json_real_value (json));
        case JSON_TRUE:
            return ovh_body_bool (body, key, true);
        case JSON_FALSE:
            return ovh_body_bool (body, key, false);
        default:
            return ovh_body_null (body, key);
    }
}

//  Object keys with \u0000 cannot become body keys (C strings)
static bool
s_has_nul_key (json_t *json)
{
    if (json_is_object (json)) {
        const char *member;
        json_t *item;
        json_object_foreach (json, member, item) {
            size_t member_size = json_object_iter_key_len (json_object_key_to_iter (member));
            if (strlen (member) != member_size || s_has_nul_key (item))
                return true;
        }
    }
    else
    if (json_is_array (json)) {
        size_t index;
        json_t *item;
        json_array_foreach (json, index, item)
            if (s_has_nul_key (item))
                return true;
    }
    return false;
}

static int
s_add_json (const ovh_argvalue_t *value, const char *key, ovh_body_t *body,
            ovh_error_t *error)
{
    json_error_t jerror;
    json_t *json = json_loads (value->text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES
                                            | JSON_ALLOW_NUL, &jerror);
    if (!json)
        return ovh_error_set (error, json_error_code (&jerror) == json_error_numeric_overflow
                                     ? OVH_E_JSON_NUMBER: OVH_E_JSON,
                              OVH_FRAME_NONE, (size_t) jerror.position, key,
                              "%s:=%s: %s", key, value->text, jerror.text);
    int rc = 0;
    if (s_has_nul_key (json))
        rc = ovh_error_set (error, OVH_E_JSON, OVH_FRAME_ARGUMENT, 0, key,
                            "%s:=...: an object key holds \\u0000", key);
    else
    if (s_put_json (body, key, json)) {
        s_body_error (body, error);
        rc = -1;
    }
    json_decref (json);
    return rc;
}

int
ovh_argvalue_add (const ovh_argvalue_t *value, ovh_body_t *body, ovh_error_t *error)
{
    assert (value && body && error);
    ovh_error_clear (error);
    char *key = strndup (value->key, value->key_size);
    if (!key)
        return ovh_error_set (error, OVH_E_MEMORY, OVH_FRAME_ARGUMENT, 0, NULL, "out of memory");
    int rc;
    switch (value->kind) {
        case OVH_ARG_JSON:
            rc = s_add_json (value, key, body, error);
            free (key);
            return rc;
        case OVH_ARG_INT:   rc = ovh_body_int (body, key, value->i); break;
        case OVH_ARG_UINT:  rc = ovh_body_uint (body, key, value->u); break;
        case OVH_ARG_FLOAT: rc = ovh_body_double (body, key, value->f); break;
        case OVH_ARG_BOOL:  rc = ovh_body_bool (body, key, value->b); break;
        case OVH_ARG_NULL:  rc = ovh_body_null (body, key); break;
        default:            rc = ovh_body_str (body, key, value->text); break;
    }
    free (key);
    if (rc)
        s_body_error (body, error);
    return rc;
}

int
ovh_argvalue_build (ovh_body_t *body, char *args [], size_t count, int64_t now_ms,
                    ovh_error_t *error)
{
    assert (body && error);
    ovh_body_reset (body);
    ovh_argvalue_t *values = (ovh_argvalue_t *) calloc (count? count: 1, sizeof *values);
    if (!values)
        return ovh_error_set (error, OVH_E_MEMORY, OVH_FRAME_ARGUMENT, 0, NULL, "out of memory");
    bool has_timestamp = false;
    int rc = 0;
    for (size_t index = 0; index < count && rc == 0; index++) {
        rc = ovh_argvalue_parse (args [index], &values [index], error);
        for (size_t other = 0; other < index && rc == 0; other++)
            if (values [other].key_size == values [index].key_size
            &&  memcmp (values [other].key, values [index].key, values [index].key_size) == 0)
                rc = ovh_error_set (error, OVH_E_USAGE, OVH_FRAME_ARGUMENT, 0, NULL,
                                    "property '%.*s' is given twice ('%s', '%s')",
                                    (int) values [index].key_size, values [index].key,
                                    args [other], args [index]);
        if (rc == 0 && values [index].key_size == 9
        &&  memcmp (values [index].key, "timestamp", 9) == 0)
            has_timestamp = true;
    }
    //  OpenVidu writes the timestamp first; so do we when we make it up
    if (rc == 0 && !has_timestamp && ovh_body_int (body, "timestamp", now_ms)) {
        s_body_error (body, error);
        rc = -1;
    }
    for (size_t index = 0; index < count && rc == 0; index++)
        if (ovh_argvalue_add (&values [index], body, error)) {
            //  Say which argument it was, keep the code and the path
            char prefix [120];
            snprintf (prefix, sizeof prefix, "%.100s: ", args [index]);
            size_t prefix_size = strlen (prefix);
            size_t text_size = strlen (error->text);
            if (prefix_size + text_size >= sizeof error->text)
                text_size = sizeof error->text - prefix_size - 1;
            memmove (error->text + prefix_size, error->text, text_size);
            memcpy (error->text, prefix, prefix_size);
            error->text [prefix_size + text_size] = 0;
            rc = -1;
        }
    free (values);
    return rc;
}
