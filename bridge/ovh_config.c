/*  ovh_config.c - configuration of ovhook-bridge.

    One table lists every setting: its environment variable, its flag, its
    default and its range. Loading collects one raw string per setting (flag,
    else environment, else env file, else the default text) and then checks
    each in table order, so that errors come out in a stable order and the
    defaults go through the very parsers that user values go through. The
    checkers and printers of each kind of value are in ovh_config_check.c.

    Errors follow OpenVidu's own printing rule: "Property NAME=value. message",
    or "Property NAME is not set. message" when the value is empty.          */

#include <inttypes.h>
#include <string.h>
#include <czmq.h>
#include "ovh_config.h"
#include "ovh_config_check.h"
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
    zlist_t *problems;          //  the last checker's reasons, unprefixed
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

//  "Property NAME=value. message", as OpenVidu prints it
static void
s_property_error (ovh_config_t *self, s_id_t id, const char *value,
                  const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *message = zsys_vprintf (format, args);
    va_end (args);
    char *shown = ovh_config_printable (value);
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

//  Where a boolean or number setting is kept: one of the three is set
typedef struct { bool *b; int *i; size_t *z; } s_field_t;

static s_field_t
s_field (ovh_config_t *self, s_id_t id)
{
    switch (id) {
        case S_WEBHOOK:         return (s_field_t) { .b = &self->webhook };
        case S_INSECURE:        return (s_field_t) { .b = &self->insecure };
        case S_ACCEPT_2XX:      return (s_field_t) { .b = &self->accept_2xx };
        case S_VERBOSE:         return (s_field_t) { .b = &self->verbose };
        case S_WORKERS:         return (s_field_t) { .i = &self->workers };
        case S_QUEUE_EVENTS:    return (s_field_t) { .z = &self->queue_events };
        case S_QUEUE_BYTES:     return (s_field_t) { .z = &self->queue_bytes };
        case S_CONNECT_TIMEOUT: return (s_field_t) { .i = &self->connect_timeout_ms };
        case S_REQUEST_TIMEOUT: return (s_field_t) { .i = &self->request_timeout_ms };
        case S_DRAIN_TIMEOUT:   return (s_field_t) { .i = &self->drain_timeout_ms };
        case S_STATS_INTERVAL:  return (s_field_t) { .i = &self->stats_interval_ms };
        case S_MAX_FRAME:       return (s_field_t) { .z = &self->max_frame };
        default:                assert (false); return (s_field_t) { .b = NULL };
    }
}

//  Checks one setting and stores its value; every reason the checker
//  gives becomes an error line about this setting
static void
s_check (ovh_config_t *self, s_id_t id, const char *value)
{
    const s_setting_t *setting = &s_settings [id];
    zlist_t *problems = S_SELF (self)->problems;
    zlist_purge (problems);
    int64_t number = -1;       //  set by the number checkers, if good
    int64_t min = setting->min, max = setting->max;
    switch (setting->kind) {
        case K_BOOL:    ovh_config_check_bool (value, s_field (self, id).b, problems); break;
        case K_URL:     ovh_config_check_url (value, &self->endpoint, problems); break;
        case K_HEADERS: ovh_config_check_headers (value, self->headers, problems); break;
        case K_EVENTS:  ovh_config_check_events (value, self->events, problems); break;
        case K_BUS:     ovh_config_check_bus (value, &self->bus, problems); break;
        case K_FILE:    ovh_config_check_file (value, &self->ca_file, problems); break;
        case K_INT:     ovh_config_check_int (value, min, max, &number, problems); break;
        case K_SIZE:    ovh_config_check_size (value, min, max, &number, problems); break;
        case K_DURATION: ovh_config_check_duration (value, min, max, &number, problems); break;
    }
    for (const char *problem = (const char *) zlist_first (problems); problem;
         problem = (const char *) zlist_next (problems))
        s_property_error (self, id, value, "%s", problem);
    if (number < 0)
        return;                 //  not a number setting, or a bad value
    s_field_t field = s_field (self, id);
    if (field.i)
        *field.i = (int) number;    //  the table's ranges fit
    else
        *field.z = (size_t) number;
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
    wrapper->problems = zlist_new ();
    if (!self->headers || !wrapper->errors || !wrapper->problems) {
        ovh_config_destroy (&self);
        return NULL;
    }
    zlist_autofree (self->headers);
    zlist_autofree (wrapper->errors);
    zlist_autofree (wrapper->problems);
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
        zlist_destroy (&S_SELF (self)->problems);
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
            bool ignored;
            bool taken = ovh_config_parse_bool (next, &ignored) == 0;
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
        ovh_config_format_size (text, sizeof text, (int64_t) self->max_frame);
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

//  The value of a number, size or duration setting
static int64_t
s_number (ovh_config_t *self, s_id_t id)
{
    s_field_t field = s_field (self, id);
    return field.i? *field.i: (int64_t) *field.z;
}

void
ovh_config_print (ovh_config_t *self, FILE *file)
{
    assert (self);
    assert (file);
    for (s_id_t id = 0; id < S_COUNT; id++) {
        char text [32], *made = NULL;   //  'made' is allocated for this line
        const char *value = text;
        switch (s_settings [id].kind) {
            case K_BOOL:    value = *s_field (self, id).b? "true": "false"; break;
            case K_URL:     value = made = ovh_config_format_url (self->endpoint); break;
            case K_HEADERS: value = made = ovh_config_format_headers (self->headers); break;
            case K_EVENTS:  value = made = ovh_config_format_events (self->events); break;
            case K_BUS:     value = self->bus; break;
            case K_FILE:    value = self->ca_file? self->ca_file: ""; break;
            case K_INT:
                snprintf (text, sizeof text, "%" PRId64, s_number (self, id));
                break;
            case K_SIZE:
                ovh_config_format_size (text, sizeof text, s_number (self, id));
                break;
            case K_DURATION:
                ovh_config_format_duration (text, sizeof text, s_number (self, id));
                break;
        }
        fprintf (file, "%s=%s\n", s_settings [id].name, value? value: "");
        free (made);
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
