/*  ovh_config.c - configuration of ovhook-bridge.

    One table lists every setting: its environment variable, its flag, its
    default and its range. Loading collects one raw string per setting (flag,
    else environment, else env file, else the default text) and then checks
    each in table order, so that errors come out in a stable order and the
    defaults go through the very parsers that user values go through.

    Errors follow OpenVidu's own printing rule: "Property NAME=value. message",
    or "Property NAME is not set. message" when the value is empty.          */

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
#include "ovh_dotenv.h"

#ifndef OVHOOK_VERSION_STRING
#   define OVHOOK_VERSION_STRING OVHOOK_VERSION
#endif

#define KIB ((int64_t) 1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define HOUR_MS (60 * 60 * 1000)

typedef enum {
    K_BOOL, K_URL, K_HEADERS, K_EVENTS, K_BUS, K_INT, K_SIZE, K_DURATION, K_FILE
} s_kind_t;

typedef enum {
    S_WEBHOOK, S_ENDPOINT, S_HEADERS, S_EVENTS,
    S_BUS, S_WORKERS, S_QUEUE_EVENTS, S_QUEUE_BYTES, S_CONNECT_TIMEOUT,
    S_REQUEST_TIMEOUT, S_DRAIN_TIMEOUT, S_STATS_INTERVAL, S_CA_FILE,
    S_INSECURE, S_ACCEPT_2XX, S_MAX_FRAME, S_VERBOSE,
    S_COUNT
} s_id_t;

typedef struct {
    const char *name;           //  environment variable and .env key
    const char *flag;           //  long flag, without its dashes
    s_kind_t kind;
    const char *metavar;        //  for --help
    const char *def;            //  default, parsed like any value (NULL: events)
    const char *def_help;       //  default as --help shows it
    int64_t min, max;           //  range of numbers, sizes (bytes), durations (ms)
    const char *help;
} s_setting_t;

static const s_setting_t s_settings [S_COUNT] = {
    { "OPENVIDU_WEBHOOK", "webhook", K_BOOL, "BOOL", "false", "false", 0, 0,
      "Send events to the endpoint (true or false, any letter case)." },
    { "OPENVIDU_WEBHOOK_ENDPOINT", "endpoint", K_URL, "URL", "", "(empty)", 0, 0,
      "URL (http or https) the events are POSTed to; needed with the webhook on." },
    { "OPENVIDU_WEBHOOK_HEADERS", "headers", K_HEADERS, "JSON", "[]", "[]", 0, 0,
      "JSON array of \"Name: value\" headers added to every request." },
    { "OPENVIDU_WEBHOOK_EVENTS", "events", K_EVENTS, "JSON", NULL,
      "every type but HANodeRegistered and HANodeDeregistered", 0, 0,
      "JSON array of the event types to send; [] sends none." },
    { "OVHOOK_BUS", "bus", K_BUS, "ENDPOINTS", "@" OVH_BUS_ENDPOINT,
      "@" OVH_BUS_ENDPOINT, 0, 0,
      "ZeroMQ endpoints to read events from: @ binds, > connects, commas between." },
    { "OVHOOK_WORKERS", "workers", K_INT, "N", "32", "32", 1, 1024,
      "Requests in flight at most (one per ordering key at a time)." },
    { "OVHOOK_QUEUE_EVENTS", "queue-events", K_INT, "N", "65536", "65536", 1, 16 * MIB,
      "Events waiting for delivery at most; when full, the bus is not read." },
    { "OVHOOK_QUEUE_BYTES", "queue-bytes", K_SIZE, "SIZE", "16M", "16M", 64, 64 * GIB,
      "Bytes of webhook bodies waiting for delivery at most." },
    { "OVHOOK_CONNECT_TIMEOUT", "connect-timeout", K_DURATION, "TIME", "10s", "10s",
      1, HOUR_MS, "Time allowed to connect to the endpoint." },
    { "OVHOOK_REQUEST_TIMEOUT", "request-timeout", K_DURATION, "TIME", "10s", "10s",
      1, HOUR_MS, "Time allowed for a whole request, connection included." },
    { "OVHOOK_DRAIN_TIMEOUT", "drain-timeout", K_DURATION, "TIME", "10s", "10s",
      0, HOUR_MS, "At exit, time allowed to deliver the events still queued." },
    { "OVHOOK_STATS_INTERVAL", "stats-interval", K_DURATION, "TIME", "60s", "60s",
      1, HOUR_MS, "Time between two statistics lines (logged only after traffic)." },
    { "OVHOOK_CA_FILE", "ca-file", K_FILE, "PATH", "", "(the system's CAs)", 0, 0,
      "PEM file of the CAs that may sign the endpoint's certificate." },
    { "OVHOOK_INSECURE", "insecure", K_BOOL, "BOOL", "false", "false", 0, 0,
      "Do not verify the endpoint's TLS certificate (as OpenVidu does)." },
    { "OVHOOK_ACCEPT_2XX", "accept-2xx", K_BOOL, "BOOL", "false", "false", 0, 0,
      "Count any 2xx status as delivered; OpenVidu accepts 200 only." },
    { "OVHOOK_MAX_FRAME", "max-frame", K_SIZE, "SIZE", "1M", "1M", 64, 256 * MIB,
      "Largest bus frame accepted; larger messages are dropped." },
    { "OVHOOK_VERBOSE", "verbose", K_BOOL, "BOOL", "false", "false", 0, 0,
      "Log every delivery (-v)." },
};

//  ovh_config_t is public, the error list is not: the object that
//  ovh_config_new returns is this larger one, the public part first.
typedef struct {
    ovh_config_t config;
    zlist_t *errors;
} s_config_t;

#define S_SELF(config) ((s_config_t *) (config))

static void
s_add_error (ovh_config_t *self, char *text)
{
    if (text) {
        zlist_append (S_SELF (self)->errors, text);     //  autofree: copied
        free (text);
    }
}

//  Copy of 'text' with control bytes escaped, so that an error stays one line
static char *
s_printable (const char *text)
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

//  "Property NAME=value. message", as OpenVidu prints it
static void
s_property_error (ovh_config_t *self, s_id_t id, const char *value,
                  const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *message = zsys_vprintf (format, args);
    va_end (args);
    char *shown = s_printable (value);
    if (message && shown) {
        if (*value)
            s_add_error (self, zsys_sprintf ("Property %s=%s. %s",
                                             s_settings [id].name, shown, message));
        else
            s_add_error (self, zsys_sprintf ("Property %s is not set. %s",
                                             s_settings [id].name, message));
    }
    free (message);
    free (shown);
}

//  Sizes and durations as --help and ovh_config_print write them
static void
s_format_size (char *buffer, size_t size, int64_t bytes)
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

static void
s_format_duration (char *buffer, size_t size, int64_t msecs)
{
    if (msecs == 0)
        snprintf (buffer, size, "0");
    else
    if (msecs % 60000 == 0 && msecs >= 600000)
        snprintf (buffer, size, "%" PRId64 "m", msecs / 60000);
    else
    if (msecs % 1000 == 0)
        snprintf (buffer, size, "%" PRId64 "s", msecs / 1000);
    else
        snprintf (buffer, size, "%" PRId64 "ms", msecs);
}

//  Digits, then one of the suffixes (or none); 'units' gives each suffix's
//  multiplier. Returns -1 unless the value is within [min, max].
typedef struct { const char *suffix; int64_t unit; } s_unit_t;

static int64_t
s_parse_number (const char *text, const s_unit_t *units, int64_t min, int64_t max)
{
    const char *p = text;
    int64_t number = 0;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (number > (INT64_MAX - 9) / 10)
            return -1;
        number = number * 10 + (*p - '0');
    }
    int64_t unit = *p? 0: 1;
    for (; units && units->suffix && !unit; units++)
        if (strcasecmp (p, units->suffix) == 0)
            unit = units->unit;
    if (unit == 0 || number > INT64_MAX / unit)
        return -1;
    number *= unit;
    return number >= min && number <= max? number: -1;
}

static const s_unit_t s_size_units [] = {
    { "K", KIB }, { "M", MIB }, { "G", GIB }, { NULL, 0 }
};
static const s_unit_t s_duration_units [] = {
    { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { NULL, 0 }
};

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
        if (!port || port == address
        ||  (strcmp (port + 1, "*") != 0
             && s_parse_number (port + 1, NULL, 1, 65535) < 0))
            return "expected tcp://HOST:PORT, PORT between 1 and 65535 or *";
    }
    return NULL;
}

static void
s_check_bus (ovh_config_t *self, const char *value)
{
    if (*value == '\0') {
        s_property_error (self, S_BUS, value, "Cannot be empty");
        return;
    }
    char *items = strdup (value);
    bool valid = items != NULL;
    for (char *item = items, *next = NULL; valid && item; item = next) {
        next = strchr (item, ',');
        if (next)
            *next++ = '\0';
        const char *problem = s_endpoint_problem (item);
        if (problem) {
            char *shown = s_printable (item);
            s_property_error (self, S_BUS, value, "Endpoint '%s' is not valid: %s",
                              shown? shown: "", problem);
            free (shown);
            valid = false;
        }
    }
    free (items);
    if (valid) {
        free (self->bus);
        self->bus = strdup (value);
    }
}

//  Parse a JSON array of strings. Returns a new reference, or NULL after
//  reporting why not. [""] is taken as [], as OpenVidu does.
static json_t *
s_strings_array (ovh_config_t *self, s_id_t id, const char *value)
{
    static const char *prefix = "Is not a valid strings array in JSON format. ";
    json_error_t error;
    json_t *array = json_loads (value, JSON_DECODE_ANY, &error);
    if (!array) {
        s_property_error (self, id, value, "%s%s", prefix, error.text);
        return NULL;
    }
    if (!json_is_array (array)) {
        s_property_error (self, id, value, "%sIt is not an array", prefix);
        json_decref (array);
        return NULL;
    }
    for (size_t index = 0; index < json_array_size (array); index++)
        if (!json_is_string (json_array_get (array, index))) {
            s_property_error (self, id, value, "%sItem %zu is not a string", prefix, index);
            json_decref (array);
            return NULL;
        }
    if (json_array_size (array) == 1
    &&  json_string_length (json_array_get (array, 0)) == 0)
        json_array_clear (array);
    return array;
}

static void
s_check_headers (ovh_config_t *self, const char *value)
{
    static const char *syntax = "syntax is not correct.";
    //  Empty means no headers: the default is [] anyway
    json_t *array = *value? s_strings_array (self, S_HEADERS, value): json_array ();
    for (size_t index = 0; index < json_array_size (array); index++) {
        const char *header = json_string_value (json_array_get (array, index));
        char *shown = s_printable (header);
        const char *split = strstr (header, ": ");
        if (!shown)
            ;   //  out of memory: nothing sensible to say
        else
        if (strpbrk (header, "\r\n"))
            //  A line break would let the value inject headers of its own
            s_property_error (self, S_HEADERS, value, "HTTP header '%s' %s Header cannot "
                              "contain line breaks (CR or LF)", shown, syntax);
        else
        if (!split)
            s_property_error (self, S_HEADERS, value, "HTTP header '%s' %s Must be "
                              "'HEADER_NAME: HEADER_VALUE'. For example: "
                              "'Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l'", shown, syntax);
        else {
            if (split == header)
                s_property_error (self, S_HEADERS, value, "HTTP header '%s' %s "
                                  "Header name cannot be empty", shown, syntax);
            if (split [2] == '\0')
                s_property_error (self, S_HEADERS, value, "HTTP header '%s' %s "
                                  "Header value cannot be empty", shown, syntax);
            zlist_append (self->headers, (void *) header);
        }
        free (shown);
    }
    json_decref (array);
}

static void
s_check_events (ovh_config_t *self, const char *value)
{
    if (!value) {
        for (size_t index = 0; index < OVH_CATALOG_SIZE; index++)
            self->events [index] = ovh_catalog_at (index)->default_on;
        return;
    }
    //  Empty could mean "none" or "the default": refuse to guess
    if (*value == '\0') {
        s_property_error (self, S_EVENTS, value, "Cannot be empty. Write [] to send "
                          "no events, or leave it unset to send the default ones");
        return;
    }
    json_t *array = s_strings_array (self, S_EVENTS, value);
    if (!array)
        return;
    bool events [OVH_CATALOG_SIZE] = { false };
    bool valid = true;
    for (size_t index = 0; index < json_array_size (array); index++) {
        json_t *item = json_array_get (array, index);
        const ovh_event_type_t *type =
            ovh_catalog_lookup (json_string_value (item), json_string_length (item));
        if (type)
            events [type->index] = true;
        else {
            char *shown = s_printable (json_string_value (item));
            s_property_error (self, S_EVENTS, value, "Event '%s' does not exist",
                              shown? shown: "");
            free (shown);
            valid = false;
        }
    }
    if (valid)
        memcpy (self->events, events, sizeof events);
    json_decref (array);
}

static void
s_check_file (ovh_config_t *self, const char *value)
{
    if (*value == '\0')
        return;                 //  the system's CAs
    struct stat info;
    const char *problem = NULL;
    if (stat (value, &info) != 0 || access (value, R_OK) != 0)
        problem = strerror (errno);
    else
    if (!S_ISREG (info.st_mode))
        problem = "Not a regular file";
    if (problem)
        s_property_error (self, S_CA_FILE, value, "Is not a readable file: %s", problem);
    else {
        free (self->ca_file);
        self->ca_file = strdup (value);
    }
}

//  Checks one setting and stores its value
static void
s_check (ovh_config_t *self, s_id_t id, const char *value)
{
    const s_setting_t *setting = &s_settings [id];
    char low [32], high [32];
    int64_t number = 0;
    if (setting->kind == K_BOOL) {
        if (*value == '\0')
            s_property_error (self, id, value, "Cannot be empty");
        else
        if (strcasecmp (value, "true") != 0 && strcasecmp (value, "false") != 0)
            s_property_error (self, id, value, "Is not a boolean (true or false)");
        else {
            bool on = strcasecmp (value, "true") == 0;
            if (id == S_WEBHOOK)
                self->webhook = on;
            else
            if (id == S_INSECURE)
                self->insecure = on;
            else
            if (id == S_ACCEPT_2XX)
                self->accept_2xx = on;
            else
                self->verbose = on;
        }
        return;
    }
    switch (setting->kind) {
        case K_URL: {
            char buffer [128];
            const char *problem = NULL;
            const char *start = value + strspn (value, " \t");
            //  A blank endpoint is no endpoint, as in OpenVidu
            if (*start && (problem = s_url_problem (value, buffer, sizeof buffer)))
                s_property_error (self, id, value, "Is not a valid URL. %s", problem);
            else
            if (*start) {
                free (self->endpoint);
                self->endpoint = strdup (value);
            }
            return;
        }
        case K_HEADERS:
            s_check_headers (self, value);
            return;
        case K_EVENTS:
            s_check_events (self, value);
            return;
        case K_BUS:
            s_check_bus (self, value);
            return;
        case K_FILE:
            s_check_file (self, value);
            return;
        case K_INT:
            number = s_parse_number (value, NULL, setting->min, setting->max);
            if (number < 0)
                s_property_error (self, id, value, "Is not an integer between %" PRId64
                                  " and %" PRId64, setting->min, setting->max);
            break;
        case K_SIZE:
            number = s_parse_number (value, s_size_units, setting->min, setting->max);
            s_format_size (low, sizeof low, setting->min);
            s_format_size (high, sizeof high, setting->max);
            if (number < 0)
                s_property_error (self, id, value, "Is not a size between %s and %s "
                                  "(bytes, or a number with suffix K, M or G)", low, high);
            break;
        default:
            number = s_parse_number (value, s_duration_units, setting->min, setting->max);
            s_format_duration (low, sizeof low, setting->min);
            s_format_duration (high, sizeof high, setting->max);
            if (number < 0)
                s_property_error (self, id, value, "Is not a duration between %s and %s "
                                  "(milliseconds, or a number with suffix ms, s or m)",
                                  low, high);
            break;
    }
    if (number < 0)
        return;
    switch (id) {
        case S_WORKERS:         self->workers = (int) number; break;
        case S_QUEUE_EVENTS:    self->queue_events = (size_t) number; break;
        case S_QUEUE_BYTES:     self->queue_bytes = (size_t) number; break;
        case S_CONNECT_TIMEOUT: self->connect_timeout_ms = (int) number; break;
        case S_REQUEST_TIMEOUT: self->request_timeout_ms = (int) number; break;
        case S_DRAIN_TIMEOUT:   self->drain_timeout_ms = (int) number; break;
        case S_STATS_INTERVAL:  self->stats_interval_ms = (int) number; break;
        case S_MAX_FRAME:       self->max_frame = (size_t) number; break;
        default:                assert (false);
    }
}

//  Back to the defaults, keeping the allocations that can be kept
static void
s_reset (ovh_config_t *self)
{
    zstr_free (&self->endpoint);
    zstr_free (&self->bus);
    zstr_free (&self->ca_file);
    zstr_free (&self->env_file);
    zlist_purge (self->headers);
    zlist_purge (S_SELF (self)->errors);
    self->endpoint = strdup ("");
    for (int id = 0; id < S_COUNT; id++)
        s_check (self, (s_id_t) id, s_settings [id].def);
    assert (zlist_size (S_SELF (self)->errors) == 0);
}

ovh_config_t *
ovh_config_new (void)
{
    s_config_t *wrapper = (s_config_t *) zmalloc (sizeof (s_config_t));
    if (!wrapper)
        return NULL;
    ovh_config_t *self = &wrapper->config;
    self->headers = zlist_new ();
    wrapper->errors = zlist_new ();
    if (!self->headers || !wrapper->errors) {
        ovh_config_destroy (&self);
        return NULL;
    }
    zlist_autofree (self->headers);
    zlist_autofree (wrapper->errors);
    s_reset (self);
    if (!self->endpoint || !self->bus)
        ovh_config_destroy (&self);
    return self;
}

void
ovh_config_destroy (ovh_config_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ovh_config_t *self = *self_p;
        zstr_free (&self->endpoint);
        zstr_free (&self->bus);
        zstr_free (&self->ca_file);
        zstr_free (&self->env_file);
        zlist_destroy (&self->headers);
        zlist_destroy (&S_SELF (self)->errors);
        free (S_SELF (self));
        *self_p = NULL;
    }
}

//  The setting whose flag is name [0..size), or -1
static int
s_find_flag (const char *name, size_t size)
{
    for (int id = 0; id < S_COUNT; id++)
        if (strlen (s_settings [id].flag) == size
        &&  memcmp (s_settings [id].flag, name, size) == 0)
            return id;
    return -1;
}

typedef struct {
    const char *values [S_COUNT];   //  set by flags, pointing into argv
    bool help, version, check;
} s_args_t;

//  Read argv into 'args'; every problem becomes an error line
static void
s_parse_args (ovh_config_t *self, int argc, char *argv [], s_args_t *args)
{
    bool options_done = false;
    for (int index = 1; index < argc; index++) {
        const char *arg = argv [index];
        if (options_done || arg [0] != '-' || arg [1] == '\0') {
            s_add_error (self, zsys_sprintf ("Unexpected argument '%s'", arg));
            continue;
        }
        if (streq (arg, "--")) {
            options_done = true;
            continue;
        }
        if (arg [1] != '-') {
            if (streq (arg, "-h"))
                args->help = true;
            else
            if (streq (arg, "-V"))
                args->version = true;
            else
            if (streq (arg, "-v"))
                args->values [S_VERBOSE] = "true";
            else
                s_add_error (self, zsys_sprintf ("Unknown option '%s'", arg));
            continue;
        }
        const char *name = arg + 2;
        const char *equals = strchr (name, '=');
        size_t size = equals? (size_t) (equals - name): strlen (name);
        const char *value = equals? equals + 1: NULL;
        bool *action = size == 4 && memcmp (name, "help", 4) == 0? &args->help:
                       size == 7 && memcmp (name, "version", 7) == 0? &args->version:
                       size == 12 && memcmp (name, "check-config", 12) == 0? &args->check:
                       NULL;
        int id = s_find_flag (name, size);
        if (action) {
            *action = true;
            if (value)
                s_add_error (self, zsys_sprintf ("Option '--%.*s' takes no value",
                                                 (int) size, name));
        }
        else
        if (id < 0 && !(size == 8 && memcmp (name, "env-file", 8) == 0))
            s_add_error (self, zsys_sprintf ("Unknown option '--%.*s'", (int) size, name));
        else
        if (!value && id >= 0 && s_settings [id].kind == K_BOOL) {
            //  A boolean flag alone means true; "--webhook false" works too
            const char *next = index + 1 < argc? argv [index + 1]: "";
            bool taken = strcasecmp (next, "true") == 0 || strcasecmp (next, "false") == 0;
            args->values [id] = taken? argv [++index]: "true";
        }
        else {
            if (!value && index + 1 < argc)
                value = argv [++index];
            if (!value)
                s_add_error (self, zsys_sprintf ("Option '--%.*s' needs a value",
                                                 (int) size, name));
            else
            if (id >= 0)
                args->values [id] = value;
            else {
                free (self->env_file);
                self->env_file = strdup (value);
            }
        }
    }
}

//  Value of 'name' in a KEY=VALUE array, the first one as getenv does
static const char *
s_getenv (char **envp, const char *name)
{
    size_t size = strlen (name);
    for (char **entry = envp; entry && *entry; entry++)
        if (strncmp (*entry, name, size) == 0 && (*entry) [size] == '=')
            return *entry + size + 1;
    return NULL;
}

int
ovh_config_load (ovh_config_t *self, int argc, char *argv [], char **envp,
                 ovh_config_action_t *action)
{
    assert (self);
    assert (argc == 0 || argv);
    s_reset (self);
    s_args_t args;
    memset (&args, 0, sizeof args);
    s_parse_args (self, argc, argv, &args);
    ovh_config_action_t wanted = args.help? OVH_CONFIG_HELP:
                                 args.version? OVH_CONFIG_VERSION:
                                 args.check? OVH_CONFIG_CHECK: OVH_CONFIG_RUN;
    if (action)
        *action = wanted;
    //  --help and --version always work, whatever else is wrong
    if (wanted == OVH_CONFIG_HELP || wanted == OVH_CONFIG_VERSION) {
        zlist_purge (S_SELF (self)->errors);
        return 0;
    }
    ovh_dotenv_t *dotenv = NULL;
    if (self->env_file) {
        dotenv = ovh_dotenv_new ();
        if (!dotenv) {
            s_add_error (self, strdup ("Out of memory"));
            return -1;
        }
        ovh_dotenv_load (dotenv, self->env_file);
        zlist_t *errors = ovh_dotenv_errors (dotenv);
        for (char *error = (char *) zlist_first (errors); error;
             error = (char *) zlist_next (errors))
            s_add_error (self, strdup (error));
    }
    //  Flags beat the environment, which beats the env file
    const char *values [S_COUNT];
    for (int id = 0; id < S_COUNT; id++) {
        values [id] = args.values [id];
        if (!values [id])
            values [id] = s_getenv (envp, s_settings [id].name);
        if (!values [id] && dotenv)
            values [id] = ovh_dotenv_get (dotenv, s_settings [id].name);
        if (!values [id])
            values [id] = s_settings [id].def;
    }
    for (int id = 0; id < S_COUNT; id++) {
        s_check (self, (s_id_t) id, values [id]);
        //  OpenVidu checks this one after the other three; a wrong endpoint
        //  has had its own error already
        const char *endpoint = values [S_ENDPOINT];
        if (id == S_EVENTS && self->webhook && endpoint [strspn (endpoint, " \t")] == '\0')
            s_property_error (self, S_ENDPOINT, endpoint,
                              "With OPENVIDU_WEBHOOK=true, this property cannot be empty");
    }
    if (self->queue_bytes < self->max_frame) {
        char text [32];
        s_format_size (text, sizeof text, (int64_t) self->max_frame);
        s_property_error (self, S_QUEUE_BYTES, values [S_QUEUE_BYTES],
                          "Must not be less than OVHOOK_MAX_FRAME (%s)", text);
    }
    ovh_dotenv_destroy (&dotenv);
    return zlist_size (S_SELF (self)->errors)? -1: 0;
}

zlist_t *
ovh_config_errors (ovh_config_t *self)
{
    assert (self);
    return S_SELF (self)->errors;
}

size_t
ovh_config_event_count (ovh_config_t *self)
{
    assert (self);
    size_t count = 0;
    for (size_t index = 0; index < OVH_CATALOG_SIZE; index++)
        count += self->events [index];
    return count;
}

//  The endpoint with its userinfo (user:password@) masked
static void
s_print_endpoint (FILE *file, const char *url)
{
    const char *authority = strstr (url, "://");
    authority = authority? authority + 3: url;
    const char *at = NULL;
    for (const char *p = authority; *p && !strchr ("/?#", *p); p++)
        if (*p == '@')
            at = p;         //  the last one: passwords may hold '@'
    if (at)
        fprintf (file, "%.*s****%s\n", (int) (authority - url), url, at);
    else
        fprintf (file, "%s\n", url);
}

void
ovh_config_print (ovh_config_t *self, FILE *file)
{
    assert (self);
    assert (file);
    char text [32];
    for (int id = 0; id < S_COUNT; id++) {
        const s_setting_t *setting = &s_settings [id];
        fprintf (file, "%s=", setting->name);
        json_t *array = json_array ();
        switch (id) {
            case S_WEBHOOK:  fprintf (file, "%s\n", self->webhook? "true": "false"); break;
            case S_INSECURE: fprintf (file, "%s\n", self->insecure? "true": "false"); break;
            case S_ACCEPT_2XX: fprintf (file, "%s\n", self->accept_2xx? "true": "false"); break;
            case S_VERBOSE:  fprintf (file, "%s\n", self->verbose? "true": "false"); break;
            case S_ENDPOINT: s_print_endpoint (file, self->endpoint); break;
            case S_BUS:      fprintf (file, "%s\n", self->bus); break;
            case S_CA_FILE:  fprintf (file, "%s\n", self->ca_file? self->ca_file: ""); break;
            case S_WORKERS:  fprintf (file, "%d\n", self->workers); break;
            case S_QUEUE_EVENTS: fprintf (file, "%zu\n", self->queue_events); break;
            case S_HEADERS:
            case S_EVENTS:
                if (id == S_HEADERS) {
                    //  Header values are secrets as often as not
                    for (const char *header = (const char *) zlist_first (self->headers);
                         header; header = (const char *) zlist_next (self->headers)) {
                        const char *split = strstr (header, ": ");
                        char *masked = zsys_sprintf ("%.*s: ****",
                                                     split? (int) (split - header): 0, header);
                        json_array_append_new (array, json_string (masked));
                        free (masked);
                    }
                }
                else
                    for (size_t index = 0; index < OVH_CATALOG_SIZE; index++)
                        if (self->events [index])
                            json_array_append_new (array, json_string (ovh_catalog_at (index)->name));
                char *json = json_dumps (array, JSON_COMPACT);
                fprintf (file, "%s\n", json? json: "[]");
                free (json);
                break;
            default: {
                int64_t number = id == S_QUEUE_BYTES? (int64_t) self->queue_bytes:
                                 id == S_MAX_FRAME? (int64_t) self->max_frame:
                                 id == S_CONNECT_TIMEOUT? self->connect_timeout_ms:
                                 id == S_REQUEST_TIMEOUT? self->request_timeout_ms:
                                 id == S_DRAIN_TIMEOUT? self->drain_timeout_ms:
                                 self->stats_interval_ms;
                if (setting->kind == K_SIZE)
                    s_format_size (text, sizeof text, number);
                else
                    s_format_duration (text, sizeof text, number);
                fprintf (file, "%s\n", text);
            }
        }
        json_decref (array);
    }
}

void
ovh_config_usage (FILE *file)
{
    assert (file);
    fprintf (file,
        "Usage: ovhook-bridge [OPTION]...\n"
        "Carry OpenVidu session events from the ovhook bus to a webhook endpoint, as\n"
        "OpenVidu Server's webhook would POST them.\n"
        "\n"
        "Each setting is taken from, highest precedence first: its flag, its\n"
        "environment variable, the file named by --env-file, its default.\n"
        "Flags take '--flag VALUE' or '--flag=VALUE'; a boolean flag alone means true.\n");
    for (int id = 0; id < S_COUNT; id++) {
        const s_setting_t *setting = &s_settings [id];
        if (id == S_WEBHOOK)
            fprintf (file, "\nOpenVidu's webhook properties:\n");
        else
        if (id == S_BUS)
            fprintf (file, "\nThe bridge's own settings:\n");
        char flag [64];
        snprintf (flag, sizeof flag, "%s--%s%s%s", id == S_VERBOSE? "-v, ": "",
                  setting->flag, setting->kind == K_BOOL? "[=": " ", setting->metavar);
        if (setting->kind == K_BOOL)
            strcat (flag, "]");
        fprintf (file, "  %-26s %s\n      %s\n      default: %s\n", flag, setting->name,
                 setting->help, setting->def_help);
    }
    fprintf (file,
        "\nOther options:\n"
        "  --env-file PATH            read KEY=VALUE lines from PATH (lowest precedence)\n"
        "  --check-config             check, print the effective configuration, exit\n"
        "  -h, --help                 print this help and exit\n"
        "  -V, --version              print the version and exit\n"
        "\n"
        "BOOL is true or false, in any letter case.\n"
        "SIZE is a number of bytes, or a number with suffix K, M or G (powers of 1024).\n"
        "TIME is a number of milliseconds, or a number with suffix ms, s or m.\n"
        "Every configuration error is printed on its own line; the exit status is then 2.\n"
        "ovhook-bridge %s; see docs/configuration.md.\n", OVHOOK_VERSION_STRING);
}
