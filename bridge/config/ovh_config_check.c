/*  ovh_config_check.c - the value checkers behind ovh_config.

    Each checker stores nothing until the whole value is known to be good,
    so that a bad value leaves the setting as it was (its default); only
    the headers are kept as read, since a bad one fails the load anyway.
    The formatters, the other way round, are in ovh_config_format.c.        */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <czmq.h>
#include <curl/curl.h>
#include <jansson.h>
#include "ovh_config.h"
#include "ovh_config_check.h"
#include "ovh_signer.h"
#include "ovh_statusserver.h"

void
ovh_config_problem (zlist_t *problems, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = zsys_vprintf (format, args);
    va_end (args);
    if (text) {
        zlist_append (problems, text);     //  autofree: the list keeps a copy
        free (text);
    }
}

//  Replace the string at *text_p with a copy of 'value'
static void
s_store (char **text_p, const char *value)
{
    free (*text_p);
    *text_p = strdup (value);
}

int
ovh_config_parse_bool (const char *text, bool *on)
{
    if (strcasecmp (text, "true") == 0)
        *on = true;
    else
    if (strcasecmp (text, "false") == 0)
        *on = false;
    else
        return -1;
    return 0;
}

int
ovh_config_check_bool (const char *value, bool *on, zlist_t *problems)
{
    if (*value == '\0') {
        ovh_config_problem (problems, "Cannot be empty");
        return -1;
    }
    if (ovh_config_parse_bool (value, on)) {
        ovh_config_problem (problems, "Is not a boolean (true or false)");
        return -1;
    }
    return 0;
}

int
ovh_config_check_int (const char *value, int64_t min, int64_t max,
                      int64_t *number, zlist_t *problems)
{
    if (ovh_parse_number (value, min, max, number)) {
        ovh_config_problem (problems, "Is not an integer between %" PRId64 " and %" PRId64,
                   min, max);
        return -1;
    }
    return 0;
}

//  A size or a duration: 'parse' reads it, 'format' prints the range in
//  the error, which ends with what the value may look like
static int
s_check_quantity (const char *value, int64_t min, int64_t max, int64_t *result,
                  zlist_t *problems, int (*parse) (const char *, int64_t, int64_t, int64_t *),
                  void (*format) (char *, size_t, int64_t), const char *what, const char *forms)
{
    if (parse (value, min, max, result)) {
        char low [32], high [32];
        format (low, sizeof low, min);
        format (high, sizeof high, max);
        ovh_config_problem (problems, "Is not a %s between %s and %s (%s)", what, low, high, forms);
        return -1;
    }
    return 0;
}

int
ovh_config_check_size (const char *value, int64_t min, int64_t max,
                       int64_t *bytes, zlist_t *problems)
{
    return s_check_quantity (value, min, max, bytes, problems, ovh_parse_size,
                             ovh_config_format_size, "size",
                             "bytes, or a number with suffix K, M or G");
}

int
ovh_config_check_duration (const char *value, int64_t min, int64_t max,
                           int64_t *msecs, zlist_t *problems)
{
    return s_check_quantity (value, min, max, msecs, problems, ovh_parse_duration,
                             ovh_config_format_duration, "duration",
                             "milliseconds, or a number with suffix ms, s, m or h");
}

//  Why 'url' is not an http(s) URL with a host, or NULL if it is one
static const char *
s_url_problem (const char *url, char *buffer, size_t size)
{
    const char *colon = strstr (url, "://");
    size_t scheme_size = colon? (size_t) (colon - url): 0;
    bool scheme_ok = scheme_size > 0 && isalpha ((unsigned char) url [0]);
    for (size_t index = 0; scheme_ok && index < scheme_size; index++)
        scheme_ok = isalnum ((unsigned char) url [index]) || strchr ("+-.", url [index]);
    if (!scheme_ok)
        return "Missing scheme: it must start with http:// or https://";
    if (!(scheme_size == 4 && strncasecmp (url, "http", 4) == 0)
    &&  !(scheme_size == 5 && strncasecmp (url, "https", 5) == 0)) {
        snprintf (buffer, size, "Unsupported scheme '%.*s': only http and https are accepted",
                  (int) (scheme_size > 32? 32: scheme_size), url);
        return buffer;
    }
    //  libcurl is lenient with "http:///path" (host "path"): not us
    if (colon [3] == '\0' || strchr ("/?#", colon [3]))
        return "Missing host";
    CURLU *handle = curl_url ();
    if (!handle)
        return "Out of memory";
    char *host = NULL;
    CURLUcode rc = curl_url_set (handle, CURLUPART_URL, url, 0);
    if (rc == CURLUE_OK)
        rc = curl_url_get (handle, CURLUPART_HOST, &host, 0);
    const char *problem = NULL;
    if (rc == CURLUE_NO_HOST || (rc == CURLUE_OK && (!host || !*host)))
        problem = "Missing host";
    else
    if (rc != CURLUE_OK) {
        snprintf (buffer, size, "Bad format: %s", curl_url_strerror (rc));
        problem = buffer;
    }
    curl_free (host);
    curl_url_cleanup (handle);
    return problem;
}

int
ovh_config_check_url (const char *value, char **url_p, zlist_t *problems)
{
    if (value [strspn (value, " \t")] == '\0')
        return 0;
    char buffer [128];
    const char *problem = s_url_problem (value, buffer, sizeof buffer);
    if (problem) {
        ovh_config_problem (problems, "Is not a valid URL. %s", problem);
        return -1;
    }
    s_store (url_p, value);
    return 0;
}

//  Why one bus endpoint is not valid, or NULL if it is
static const char *
s_endpoint_problem (const char *item)
{
    if (*item == '\0')
        return "it is empty";
    if (*item == '@' || *item == '>')
        item++;
    static const char *transports [] = { "tcp://", "ipc://", "inproc://", "pgm://", "epgm://" };
    const char *address = NULL;
    for (size_t index = 0; index < sizeof transports / sizeof transports [0]; index++)
        if (strncmp (item, transports [index], strlen (transports [index])) == 0)
            address = item + strlen (transports [index]);
    if (!address)
        return "expected tcp://, ipc://, inproc://, pgm:// or epgm://, after an optional @ (bind) or > (connect)";
    if (*address == '\0')
        return "the address is missing";
    if (strncmp (item, "tcp://", 6) == 0) {
        const char *port = strrchr (address, ':');
        int64_t number;
        if (!port || port == address
        ||  (strcmp (port + 1, "*") != 0
             && ovh_parse_number (port + 1, 1, 65535, &number)))
            return "expected tcp://HOST:PORT, PORT between 1 and 65535 or *";
    }
    return NULL;
}

int
ovh_config_check_bus (const char *value, char **bus_p, zlist_t *problems)
{
    if (*value == '\0') {
        ovh_config_problem (problems, "Cannot be empty");
        return -1;
    }
    char *items = strdup (value);
    bool valid = items != NULL;
    for (char *item = items, *next = NULL; valid && item; item = next) {
        next = strchr (item, ',');
        if (next)
            *next++ = '\0';
        const char *problem = s_endpoint_problem (item);
        if (problem) {
            char *shown = ovh_config_printable (item);
            ovh_config_problem (problems, "Endpoint '%s' is not valid: %s", shown? shown: "", problem);
            free (shown);
            valid = false;
        }
    }
    free (items);
    if (!valid)
        return -1;
    s_store (bus_p, value);
    return 0;
}

//  Parse a JSON array of strings. Returns a new reference, or NULL after
//  saying why not. [""] is taken as [], as OpenVidu does.
static json_t *
s_strings_array (const char *value, zlist_t *problems)
{
    static const char *prefix = "Is not a valid strings array in JSON format. ";
    json_error_t error;
    json_t *array = json_loads (value, JSON_DECODE_ANY, &error);
    if (!array) {
        ovh_config_problem (problems, "%s%s", prefix, error.text);
        return NULL;
    }
    if (!json_is_array (array)) {
        ovh_config_problem (problems, "%sIt is not an array", prefix);
        json_decref (array);
        return NULL;
    }
    for (size_t index = 0; index < json_array_size (array); index++)
        if (!json_is_string (json_array_get (array, index))) {
            ovh_config_problem (problems, "%sItem %zu is not a string", prefix, index);
            json_decref (array);
            return NULL;
        }
    if (json_array_size (array) == 1
    &&  json_string_length (json_array_get (array, 0)) == 0)
        json_array_clear (array);
    return array;
}

int
ovh_config_check_headers (const char *value, zlist_t *headers, zlist_t *problems)
{
    static const char *syntax = "syntax is not correct.";
    //  Empty means no headers: the default is [] anyway
    json_t *array = *value? s_strings_array (value, problems): json_array ();
    bool valid = array != NULL;
    for (size_t index = 0; index < json_array_size (array); index++) {
        const char *header = json_string_value (json_array_get (array, index));
        //  Quoted with its value masked: a header holds a token as often as not
        char *masked = ovh_config_mask_header (header);
        char *shown = masked? ovh_config_printable (masked): NULL;
        free (masked);
        const char *split = strstr (header, ": ");
        if (!shown)
            valid = false;      //  out of memory: nothing sensible to say
        else
        if (strpbrk (header, "\r\n")) {
            //  A line break would let the value inject headers of its own
            ovh_config_problem (problems, "HTTP header '%s' %s Header cannot contain line "
                       "breaks (CR or LF)", shown, syntax);
            valid = false;
        }
        else
        if (!split) {
            ovh_config_problem (problems, "HTTP header '%s' %s Must be 'HEADER_NAME: "
                       "HEADER_VALUE'. For example: 'Authorization: Basic "
                       "YWxhZGRpbjpvcGVuc2VzYW1l'", shown, syntax);
            valid = false;
        }
        else {
            if (split == header) {
                ovh_config_problem (problems, "HTTP header '%s' %s Header name cannot be "
                           "empty", shown, syntax);
                valid = false;
            }
            if (split [2] == '\0') {
                ovh_config_problem (problems, "HTTP header '%s' %s Header value cannot be "
                           "empty", shown, syntax);
                valid = false;
            }
            //  OpenVidu's rules end here; ours follow
            if (ovh_config_header_problem (header, (size_t) (split - header), split + 2,
                                           shown, problems))
                valid = false;
            zlist_append (headers, (void *) header);
        }
        free (shown);
    }
    json_decref (array);
    return valid? 0: -1;
}

int
ovh_config_check_events (const char *value, bool events [OVH_CATALOG_SIZE],
                         zlist_t *problems)
{
    if (!value) {
        for (size_t index = 0; index < OVH_CATALOG_SIZE; index++)
            events [index] = ovh_catalog_at (index)->default_on;
        return 0;
    }
    //  Empty could mean "none" or "the default": refuse to guess
    if (*value == '\0') {
        ovh_config_problem (problems, "Cannot be empty. Write [] to send no events, or "
                   "leave it unset to send the default ones");
        return -1;
    }
    json_t *array = s_strings_array (value, problems);
    if (!array)
        return -1;
    bool chosen [OVH_CATALOG_SIZE] = { false };
    bool valid = true;
    for (size_t index = 0; index < json_array_size (array); index++) {
        json_t *item = json_array_get (array, index);
        const ovh_event_type_t *type =
            ovh_catalog_lookup (json_string_value (item), json_string_length (item));
        if (type)
            chosen [type->index] = true;
        else {
            char *shown = ovh_config_printable (json_string_value (item));
            ovh_config_problem (problems, "Event '%s' does not exist", shown? shown: "");
            free (shown);
            valid = false;
        }
    }
    if (valid)
        memcpy (events, chosen, sizeof chosen);
    json_decref (array);
    return valid? 0: -1;
}

int
ovh_config_check_file (const char *value, char **path_p, zlist_t *problems)
{
    if (*value == '\0')
        return 0;               //  the system's CAs
    struct stat info;
    const char *problem = NULL;
    if (stat (value, &info) != 0 || access (value, R_OK) != 0)
        problem = strerror (errno);
    else
    if (!S_ISREG (info.st_mode))
        problem = "Not a regular file";
    if (problem) {
        ovh_config_problem (problems, "Is not a readable file: %s", problem);
        return -1;
    }
    s_store (path_p, value);
    return 0;
}

int
ovh_config_check_path (const char *value, char **path_p, zlist_t *problems)
{
    (void) problems;            //  any path: the bridge reports what fails at start
    if (*value)
        s_store (path_p, value);
    return 0;
}

int
ovh_config_check_listen (const char *value, char **address_p, zlist_t *problems)
{
    if (*value == '\0')
        return 0;               //  no listener
    char reason [200];
    if (ovh_statusserver_check_address (value, reason, sizeof reason)) {
        ovh_config_problem (problems, "Is not a valid ADDR:PORT: %s", reason);
        return -1;
    }
    s_store (address_p, value);
    return 0;
}

int
ovh_config_check_secret (const char *value, char **secret_p, zlist_t *problems)
{
    if (*value == '\0')
        return 0;               //  no signatures
    //  The signer's reasons name the entry by its number, never its text
    char reason [128];
    if (ovh_signer_check_secrets (value, reason, sizeof reason)) {
        ovh_config_problem (problems, "Is not a valid secret: %s", reason);
        return -1;
    }
    s_store (secret_p, value);
    return 0;
}

int
ovh_config_check_sync (const char *value, bool *full, zlist_t *problems)
{
    if (strcasecmp (value, "normal") == 0)
        *full = false;
    else
    if (strcasecmp (value, "full") == 0)
        *full = true;
    else {
        ovh_config_problem (problems, *value? "Is not normal or full": "Cannot be empty");
        return -1;
    }
    return 0;
}

int
ovh_config_check_ha (const char *value, char **role_p, zlist_t *problems)
{
    if (*value == '\0')
        return 0;
    if (strcasecmp (value, "primary") && strcasecmp (value, "backup")) {
        ovh_config_problem (problems, "Is not primary or backup");
        return -1;
    }
    s_store (role_p, tolower ((unsigned char) *value) == 'p'? "primary": "backup");
    return 0;
}

int
ovh_config_check_log_format (const char *value, bool *json, zlist_t *problems)
{
    if (strcasecmp (value, "text") == 0)
        *json = false;
    else
    if (strcasecmp (value, "json") == 0)
        *json = true;
    else {
        ovh_config_problem (problems, *value? "Is not text or json": "Cannot be empty");
        return -1;
    }
    return 0;
}

int
ovh_config_check_shard (const char *value, ovh_shard_t *shard, zlist_t *problems)
{
    if (*value == '\0') {
        *shard = (ovh_shard_t) { 0, 1 };
        return 0;
    }
    //  Digits only: no sign, no space, no "0x", as for the other numbers
    const char *slash = strchr (value, '/');
    size_t index_size = slash? (size_t) (slash - value): 0;
    bool digits = slash && index_size > 0 && index_size <= 4 && slash [1]
               && strlen (slash + 1) <= 4
               && strspn (value, "0123456789") == index_size
               && strspn (slash + 1, "0123456789") == strlen (slash + 1);
    if (!digits) {
        ovh_config_problem (problems, "Is not K/N (this bridge's shard K of N, e.g. 0/2)");
        return -1;
    }
    int index = atoi (value), count = atoi (slash + 1);
    if (count < 1 || count > OVH_SHARD_MAX || index >= count) {
        ovh_config_problem (problems, "Is not K/N with 0 <= K < N <= %d", OVH_SHARD_MAX);
        return -1;
    }
    *shard = (ovh_shard_t) { index, count };
    return 0;
}

int
ovh_config_check_http_version (const char *value, int *version, zlist_t *problems)
{
    if (strcmp (value, "1.1") == 0)
        *version = OVH_HTTP_1_1;
    else
    if (strcmp (value, "2") == 0)
        *version = OVH_HTTP_2;
    else
    if (strcasecmp (value, "auto") == 0)
        *version = OVH_HTTP_AUTO;
    else {
        ovh_config_problem (problems, *value? "Is not 1.1, 2 or auto": "Cannot be empty");
        return -1;
    }
    return 0;
}
