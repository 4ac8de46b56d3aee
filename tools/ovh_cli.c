/*  ovh_cli.c - what the three command-line tools share.                  */

#include <errno.h>
#include <math.h>
#include <czmq.h>
#include "ovhook.h"
#include "ovh_cli.h"

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
    if (!text || !isdigit ((unsigned char) *text))
        return -1;
    char *end;
    errno = 0;
    long long number = strtoll (text, &end, 10);
    if (errno || end == text)
        return -1;
    int64_t unit;
    if (*end == 0 || streq (end, "ms"))
        unit = 1;
    else
    if (streq (end, "s"))
        unit = 1000;
    else
    if (streq (end, "m"))
        unit = 60000;
    else
        return -1;
    if (number > INT32_MAX / unit)
        return -1;              //  more than 24 days: a typo
    *msecs = number * unit;
    return 0;
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

void
ovh_cli_print_events (FILE *file)
{
    for (size_t index = 0; index < ovh_catalog_size (); index++)
        fprintf (file, "%s%s", index? ", ": "", ovh_catalog_at (index)->name);
}

void
ovh_cli_bus_options (zsock_t *socket)
{
    zsock_set_reconnect_ivl (socket, OVH_CLI_RECONNECT_IVL);
    zsock_set_reconnect_ivl_max (socket, OVH_CLI_RECONNECT_IVL_MAX);
    zsock_set_heartbeat_ivl (socket, OVH_CLI_HEARTBEAT_IVL);
    zsock_set_heartbeat_timeout (socket, OVH_CLI_HEARTBEAT_TIMEOUT);
    zsock_set_tcp_keepalive (socket, 1);
}
