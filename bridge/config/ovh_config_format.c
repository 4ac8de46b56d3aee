/*  ovh_config_format.c - the formatters behind ovh_config: values written
    as --help and --check-config show them, secrets masked.                  */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <czmq.h>
#include <jansson.h>
#include "ovh_config.h"
#include "ovh_config_check.h"

#define KIB ((int64_t) 1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define MINUTE_MS ((int64_t) 60 * 1000)
#define HOUR_MS (60 * MINUTE_MS)

char *
ovh_config_printable (const char *text)
{
    char *out = (char *) malloc (strlen (text) * 4 + 1), *p = out;
    if (!out)
        return NULL;
    for (const unsigned char *c = (const unsigned char *) text; *c; c++) {
        if (*c == '\n')
            p += sprintf (p, "\\n");
        else
        if (*c == '\r')
            p += sprintf (p, "\\r");
        else
        if (*c == '\t')
            p += sprintf (p, "\\t");
        else
        if (*c < 0x20 || *c == 0x7f)
            p += sprintf (p, "\\x%02x", *c);
        else
            *p++ = (char) *c;
    }
    *p = '\0';
    return out;
}

void
ovh_config_format_size (char *buffer, size_t size, int64_t bytes)
{
    if (bytes > 0 && bytes % GIB == 0)
        snprintf (buffer, size, "%" PRId64 "G", bytes / GIB);
    else
    if (bytes > 0 && bytes % MIB == 0)
        snprintf (buffer, size, "%" PRId64 "M", bytes / MIB);
    else
    if (bytes > 0 && bytes % KIB == 0)
        snprintf (buffer, size, "%" PRId64 "K", bytes / KIB);
    else
        snprintf (buffer, size, "%" PRId64, bytes);
}

void
ovh_config_format_duration (char *buffer, size_t size, int64_t msecs)
{
    //  Whole seconds stay seconds up to 10 minutes ("60s", "90s"), since
    //  "1m" and "1m30s" read no better; whole hours are hours ("1h").
    if (msecs == 0)
        snprintf (buffer, size, "0");
    else
    if (msecs % HOUR_MS == 0)
        snprintf (buffer, size, "%" PRId64 "h", msecs / HOUR_MS);
    else
    if (msecs % MINUTE_MS == 0 && msecs >= 10 * MINUTE_MS)
        snprintf (buffer, size, "%" PRId64 "m", msecs / MINUTE_MS);
    else
    if (msecs % 1000 == 0)
        snprintf (buffer, size, "%" PRId64 "s", msecs / 1000);
    else
        snprintf (buffer, size, "%" PRId64 "ms", msecs);
}

//  Append 'size' bytes of 'text' to the string at *out, 'used' bytes long;
//  *out becomes NULL when memory runs out, and stays so
static void
s_append (char **out, size_t *used, const char *text, size_t size)
{
    char *grown = *out? (char *) realloc (*out, *used + size + 1): NULL;
    if (!grown) {
        free (*out);
        *out = NULL;
        return;
    }
    memcpy (grown + *used, text, size);
    *used += size;
    grown [*used] = '\0';
    *out = grown;
}

char *
ovh_config_format_url (const char *url)
{
    //  Read as text, not with libcurl: an endpoint that fails to parse is
    //  shown in its error line, and must be masked there too
    const char *authority = strstr (url, "://");
    authority = authority? authority + 3: url;
    const char *at = NULL, *p = authority;
    for (; *p && !strchr ("/?#", *p); p++)
        if (*p == '@')
            at = p;         //  the last one: passwords may hold '@'
    char *out = strdup ("");
    size_t used = 0;
    s_append (&out, &used, url, (size_t) (authority - url));
    if (at)
        s_append (&out, &used, "****", 4);
    const char *host = at? at: authority;
    const char *query = strpbrk (host, "?#");
    s_append (&out, &used, host, query? (size_t) (query - host): strlen (host));
    //  Query values are tokens and keys as often as not: "?token=****".
    //  A parameter without '=' may be a bare key, and the fragment anything
    if (query && *query == '?') {
        const char *end = query + 1 + strcspn (query + 1, "#");
        s_append (&out, &used, "?", 1);
        for (const char *param = query + 1; out && param < end; ) {
            size_t size = strcspn (param, "&#");
            const char *equals = (const char *) memchr (param, '=', size);
            size_t kept = equals? (size_t) (equals - param) + 1: 0;
            s_append (&out, &used, param, kept);
            if (size > kept)
                s_append (&out, &used, "****", 4);
            param += size;
            if (param < end)
                s_append (&out, &used, param++, 1);        //  the '&'
        }
        query = end;
    }
    if (query && *query == '#')
        s_append (&out, &used, "#****", query [1]? 5: 1);
    return out;
}

char *
ovh_config_mask_header (const char *header)
{
    //  Where the value starts: after ": ", or failing that (a malformed
    //  header) after the first ':' or space, which may still hold a token
    const char *split = strstr (header, ": ");
    const char *value = split? split + 2: NULL;
    if (!value && (split = strpbrk (header, ": ")))
        value = split + 1;
    //  A blank value hides nothing, and may be what an error is about
    if (!value || value [strspn (value, " \t")] == '\0')
        return strdup (header);
    return zsys_sprintf ("%.*s****", (int) (value - header), header);
}

//  The strings of a JSON array, each masked, as a compact JSON array
static char *
s_masked_array (json_t *array)
{
    json_t *masked = json_array ();
    for (size_t index = 0; index < json_array_size (array); index++) {
        char *header = ovh_config_mask_header (json_string_value (json_array_get (array, index)));
        json_array_append_new (masked, json_string (header? header: ""));
        free (header);
    }
    char *json = json_dumps (masked, JSON_COMPACT);
    json_decref (masked);
    return json;
}

char *
ovh_config_format_headers (zlist_t *headers)
{
    json_t *array = json_array ();
    for (const char *header = (const char *) zlist_first (headers);
         header; header = (const char *) zlist_next (headers))
        json_array_append_new (array, json_string (header));
    char *json = s_masked_array (array);
    json_decref (array);
    return json;
}

char *
ovh_config_mask_headers_value (const char *value)
{
    json_t *array = json_loads (value, JSON_DECODE_ANY, NULL);
    bool strings = json_is_array (array);
    for (size_t index = 0; strings && index < json_array_size (array); index++)
        strings = json_is_string (json_array_get (array, index));
    char *shown = strings? s_masked_array (array): strdup (value);
    json_decref (array);
    return shown;
}

char *
ovh_config_format_events (const bool events [OVH_CATALOG_SIZE])
{
    json_t *array = json_array ();
    for (size_t index = 0; index < OVH_CATALOG_SIZE; index++)
        if (events [index])
            json_array_append_new (array, json_string (ovh_catalog_at (index)->name));
    char *json = json_dumps (array, JSON_COMPACT);
    json_decref (array);
    return json;
}

const char *
ovh_config_format_http_version (int version)
{
    return version == OVH_HTTP_2? "2": version == OVH_HTTP_AUTO? "auto": "1.1";
}
