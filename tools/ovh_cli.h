/*  ovh_cli.h - what the three command-line tools share: option parsing
    ("--name value" and "--name=value"), numbers and durations, a syntax
    check of CZMQ endpoint lists, the list of event names, and the socket
    options of a bus connection.                                            */

#ifndef OVH_CLI_H_INCLUDED
#define OVH_CLI_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <czmq.h>

//  Reconnect quickly, back off to 5 s; notice a vanished peer in 6 s
#define OVH_CLI_RECONNECT_IVL       100
#define OVH_CLI_RECONNECT_IVL_MAX   5000
#define OVH_CLI_HEARTBEAT_IVL       2000
#define OVH_CLI_HEARTBEAT_TIMEOUT   6000

//  If argv [*index] is option 'name' ("--bus"), return its value, taken
//  from "--bus=VALUE" or from the next argument (then *index moves past
//  it). Returns NULL if argv [*index] is another option; sets *missing
//  (never clears it, so that one flag serves a chain of calls) when it is
//  this option but its value is absent.
const char *
    ovh_cli_value (int argc, char *argv [], int *index, const char *name,
                   bool *missing);

//  Decimal integer in [min, max], nothing else around it. 0 or -1.
int
    ovh_cli_integer (const char *text, int64_t min, int64_t max, int64_t *value);

//  Non-negative decimal number (e.g. a rate "2.5"). 0 or -1.
int
    ovh_cli_real (const char *text, double *value);

//  Duration: plain integer = ms, or suffixed "ms", "s", "m". 0 or -1.
int
    ovh_cli_duration (const char *text, int64_t *msecs);

//  Check the syntax of a CZMQ endpoint list ("@tcp://*:5560,>ipc://x"):
//  non-empty items, a known transport, and for tcp a host and a port.
//  Returns 0, or -1 with the reason in 'why'. What only the network can
//  tell (a port in use, an unknown host) is left to bind/connect.
int
    ovh_cli_check_endpoints (const char *endpoints, char *why, size_t why_size);

//  Write the 17 event names, comma-separated, to 'file'.
void
    ovh_cli_print_events (FILE *file);

//  Reconnect interval and heartbeats of a bus socket; call before attach.
void
    ovh_cli_bus_options (zsock_t *socket);

#endif
