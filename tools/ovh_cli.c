/*  ovh_cli.c - what the three command-line tools share.                  */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <czmq.h>
#include "ovhook.h"
#include "ovh_log.h"
#include "ovh_cli.h"

const char ovh_cli_no_value [] = "-";

//  --log-format and --log-file, for ovh_cli_start
static const char *s_log_format = "text";
static const char *s_log_file;

const char *
ovh_cli_value (int argc, char *argv [], int *index, const char *name, bool *missing)
{
    const char *arg = argv [*index];
    size_t name_size = strlen (name);
    if (strncmp (arg, name, name_size) != 0)
        return NULL;
    if (arg [name_size] == '=')
        return arg + name_size + 1;
    if (arg [name_size] != 0)
        return NULL;            //  "--bus" is not "--busy"
    if (*index + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv [++*index];
}

int
ovh_cli_integer (const char *text, int64_t min, int64_t max, int64_t *value)
{
    if (!text || !(*text == '-' || isdigit ((unsigned char) *text)))
        return -1;              //  strtoll would skip spaces and '+'
    char *end;
    errno = 0;
    long long number = strtoll (text, &end, 10);
    if (errno || end == text || *end || number < min || number > max)
        return -1;
    *value = number;
    return 0;
}

int
ovh_cli_real (const char *text, double *value)
{
    if (!text || !(isdigit ((unsigned char) *text) || *text == '.'))
        return -1;
    char *end;
    errno = 0;
    double number = strtod (text, &end);
    if (errno || end == text || *end || !isfinite (number) || number < 0)
        return -1;
    *value = number;
    return 0;
}

int
ovh_cli_duration (const char *text, int64_t *msecs)
{
    //  The bridge's rules (ovh_units.h), and at most OVH_CLI_DURATION_MAX
    return ovh_parse_duration (text, 0, OVH_CLI_DURATION_MAX, msecs);
}

//  Check one endpoint, without its '@' or '>'
static int
s_check_endpoint (const char *endpoint, size_t size, char *why, size_t why_size)
{
    static const char *transports [] = {
        "tcp", "ipc", "inproc", "pgm", "epgm", "tipc", "vmci", "udp", "ws", "wss"
    };
    const char *colon = memchr (endpoint, ':', size);
    if (!colon || (size_t) (endpoint + size - colon) < 3 || colon [1] != '/' || colon [2] != '/') {
        snprintf (why, why_size, "'%.*s' is not TRANSPORT://ADDRESS", (int) size, endpoint);
        return -1;
    }
    size_t transport_size = (size_t) (colon - endpoint);
    bool known = false;
    for (size_t index = 0; index < sizeof transports / sizeof transports [0]; index++)
        if (strlen (transports [index]) == transport_size
        &&  memcmp (transports [index], endpoint, transport_size) == 0)
            known = true;
    if (!known) {
        snprintf (why, why_size, "unknown transport '%.*s' in '%.*s'",
                  (int) transport_size, endpoint, (int) size, endpoint);
        return -1;
    }
    const char *address = colon + 3;
    size_t address_size = (size_t) (endpoint + size - address);
    if (address_size == 0) {
        snprintf (why, why_size, "no address in '%.*s'", (int) size, endpoint);
        return -1;
    }
    if (transport_size == 3 && memcmp (endpoint, "tcp", 3) == 0) {
        //  host:port, or src;host:port; the port is a number, '*' or '!'
        //  (bind to any / a random one)
        const char *port = address + address_size;
        while (port > address && port [-1] != ':')
            port--;
        size_t port_size = (size_t) (address + address_size - port);
        bool port_ok = port_size > 0 && port > address + 1;
        if (port_ok && !(port_size == 1 && (*port == '*' || *port == '!'))) {
            unsigned long value = 0;
            for (size_t index = 0; index < port_size && port_ok; index++) {
                port_ok = isdigit ((unsigned char) port [index]);
                value = value * 10 + (unsigned long) (port [index] - '0');
                if (value > 65535)
                    port_ok = false;
            }
        }
        if (!port_ok) {
            snprintf (why, why_size, "'%.*s' needs tcp://HOST:PORT (PORT 0..65535 or *)",
                      (int) size, endpoint);
            return -1;
        }
    }
    return 0;
}

int
ovh_cli_check_endpoints (const char *endpoints, char *why, size_t why_size)
{
    if (!endpoints || *endpoints == 0) {
        snprintf (why, why_size, "empty endpoint list");
        return -1;
    }
    const char *item = endpoints;
    while (true) {
        const char *comma = strchr (item, ',');
        size_t size = comma? (size_t) (comma - item): strlen (item);
        if (size > 0 && (*item == '@' || *item == '>')) {
            item++;
            size--;
        }
        if (size == 0) {
            snprintf (why, why_size, "empty endpoint in '%s'", endpoints);
            return -1;
        }
        if (s_check_endpoint (item, size, why, why_size))
            return -1;
        if (!comma)
            return 0;
        item = comma + 1;
    }
}

int
ovh_cli_usage_error (const char *name, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fprintf (stderr, "%s: ", name);
    vfprintf (stderr, format, args);
    fprintf (stderr, " (see --help)\n");
    va_end (args);
    return 2;
}

int
ovh_cli_unknown_event (const char *name, const char *event)
{
    fprintf (stderr, "%s: unknown event '%s'; valid names: ", name, event);
    for (size_t index = 0; index < ovh_catalog_size (); index++)
        fprintf (stderr, "%s%s", index? ", ": "", ovh_catalog_at (index)->name);
    fprintf (stderr, "\n");
    return 2;
}

int
ovh_cli_check_bus (const char *name, const char *what, const char *endpoints)
{
    char why [256];
    if (ovh_cli_check_endpoints (endpoints, why, sizeof why) == 0)
        return 0;
    fprintf (stderr, "%s: invalid %s endpoint '%s': %s\n", name, what, endpoints, why);
    return -1;
}

//  Store the value given to 'option'. Returns -1, or 2 after a usage error.
static int
s_cli_store (const char *name, const ovh_cli_option_t *option, const char *value)
{
    bool valid = true;
    int64_t msecs;
    switch (option->type) {
        case OVH_CLI_STRING:
        case OVH_CLI_OPTIONAL:
            *(const char **) option->target = value;
            break;
        case OVH_CLI_INTEGER:
            valid = ovh_cli_integer (value, option->min, option->max,
                                     (int64_t *) option->target) == 0;
            break;
        case OVH_CLI_REAL:
            valid = ovh_cli_real (value, (double *) option->target) == 0;
            break;
        case OVH_CLI_DURATION:
            valid = ovh_cli_duration (value, &msecs) == 0
                 && msecs >= option->min && msecs <= option->max;
            if (valid)
                *(int64_t *) option->target = msecs;
            break;
        case OVH_CLI_LIST:
            valid = zlist_append ((zlist_t *) option->target, (void *) value) == 0;
            break;
        default:
            assert (false);     //  a flag has no value
    }
    return valid? -1: ovh_cli_usage_error (name, "%s needs %s, not '%s'",
                                           option->name, option->needs, value);
}

//  The option at argv [*index], against the table. Returns -1 when taken
//  (*index is then on its last argument), else 2 after a usage error.
static int
s_cli_option (const ovh_cli_t *cli, int argc, char *argv [], int *index)
{
    const char *arg = argv [*index];
    bool missing = false;
    for (const ovh_cli_option_t *option = cli->options; option && option->name; option++) {
        if (option->type == OVH_CLI_TRUE || option->type == OVH_CLI_FALSE) {
            if (streq (arg, option->name) || (option->alias && streq (arg, option->alias))) {
                *(bool *) option->target = option->type == OVH_CLI_TRUE;
                return -1;
            }
        }
        else
        if (option->type == OVH_CLI_OPTIONAL) {
            size_t size = strlen (option->name);
            if (strncmp (arg, option->name, size) != 0 || (arg [size] && arg [size] != '='))
                continue;
            const char *value = ovh_cli_no_value;
            if (arg [size] == '=')
                value = arg + size + 1;
            else
            if (*index + 1 < argc
            && (argv [*index + 1][0] != '-' || streq (argv [*index + 1], "-")))
                value = argv [++*index];
            return s_cli_store (cli->name, option, value);
        }
        else {
            const char *value = ovh_cli_value (argc, argv, index, option->name, &missing);
            if (value)
                return s_cli_store (cli->name, option, value);
        }
    }
    if (missing)
        return ovh_cli_usage_error (cli->name, "%s needs a value", arg);
    return ovh_cli_usage_error (cli->name, "unknown option '%s'", arg);
}

//  --log-format, --log-file: -1 when taken, 2 after a usage error, -2
//  when argv [*index] is another option
static int
s_cli_log_option (const ovh_cli_t *cli, int argc, char *argv [], int *index)
{
    bool missing = false;
    const char *arg = argv [*index];
    const char *value = ovh_cli_value (argc, argv, index, "--log-format", &missing);
    if (value) {
        if (!streq (value, "text") && !streq (value, "json"))
            return ovh_cli_usage_error (cli->name, "--log-format needs text or json, not "
                                        "'%s'", value);
        s_log_format = value;
        return -1;
    }
    if (cli->log_file && !missing)
        value = ovh_cli_value (argc, argv, index, "--log-file", &missing);
    if (value) {
        if (!*value)
            return ovh_cli_usage_error (cli->name, "--log-file needs a path");
        s_log_file = value;
        return -1;
    }
    if (missing)
        return ovh_cli_usage_error (cli->name, "%s needs a value", arg);
    return -2;
}

int
ovh_cli_parse (const ovh_cli_t *cli, int argc, char *argv [])
{
    assert (cli && cli->name && cli->usage);
    bool options_done = false;
    for (int index = 1; index < argc; index++) {
        char *arg = argv [index];
        int status = -1;
        if (options_done || arg [0] != '-' || streq (arg, "-"))
            status = cli->operand? cli->operand (cli->self, arg)
                   : ovh_cli_usage_error (cli->name, "unexpected argument '%s'", arg);
        else
        if (streq (arg, "--"))
            options_done = true;
        else
        if (streq (arg, "--help") || streq (arg, "-h")) {
            cli->usage (stdout);
            status = 0;
        }
        else
        if (streq (arg, "--version")) {
            printf ("%s %s (libovhook %s, protocol %d)\n", cli->name, OVHOOK_VERSION_STRING,
                    OVHOOK_VERSION, OVH_PROTOCOL_VERSION);
            status = 0;
        }
        else
            status = s_cli_log_option (cli, argc, argv, &index);
        if (status == -2)
            status = s_cli_option (cli, argc, argv, &index);
        if (status >= 0)
            return status;
    }
    return -1;
}

int
ovh_cli_start (const char *name)
{
    zsys_init ();
    zsys_set_logident (name);
    ovh_log_set_ident (name);
    ovh_log_set_format (s_log_format);
    char error [512];
    if (s_log_file && ovh_log_set_file (s_log_file, error, sizeof error)) {
        fprintf (stderr, "%s: %s\n", name, error);
        return 2;
    }
    ovh_log_route_czmq ();
    return 0;
}
