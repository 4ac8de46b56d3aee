/*  ovh_cli.h - what the three command-line tools share: option parsing
    from a table ("--name value" and "--name=value", --help, --version,
    "--", usage errors worded alike), numbers and durations, a syntax check
    of CZMQ endpoint lists, the list of event names, logging. The socket
    options of a bus connection are libovhook's (ovh_bus.h).                */

#ifndef OVH_CLI_H_INCLUDED
#define OVH_CLI_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <czmq.h>

//  The longest duration an option takes: more than 24 days is a typo (and
//  fits in an int, as ZeroMQ's and zloop's timers want)
#define OVH_CLI_DURATION_MAX        INT32_MAX       //  msecs

//  What an option takes, and the type of its target
typedef enum {
    OVH_CLI_TRUE,               //  a flag; bool *, set true
    OVH_CLI_FALSE,              //  a flag; bool *, set false ("--no-envelope")
    OVH_CLI_STRING,             //  const char *
    OVH_CLI_OPTIONAL,           //  const char *; "--json=V", "--json V" when V
                                //  is no option ("-" is one), else
                                //  ovh_cli_no_value ("-")
    OVH_CLI_INTEGER,            //  int64_t, in [min, max]
    OVH_CLI_REAL,               //  double, >= 0
    OVH_CLI_DURATION,           //  int64_t, ms (ovh_cli_duration), in [min, max]
    OVH_CLI_LIST                //  zlist_t *, made by the caller: each value of a
                                //  repeated option appended (argv's own text)
} ovh_cli_type_t;

//  The value an OVH_CLI_OPTIONAL option gets when none follows it: "-",
//  but told from an explicit "-" by its address, so that a program can
//  take a later operand as the value ("--json --strict FILE")
extern const char ovh_cli_no_value [];

typedef struct {
    const char *name;           //  "--count"
    ovh_cli_type_t type;
    void *target;
    //  A bad value is "NAME needs <needs>, not 'VALUE'"
    const char *needs;
    int64_t min, max;           //  OVH_CLI_INTEGER, OVH_CLI_DURATION
    const char *alias;          //  another spelling of a flag ("-q"), or NULL
} ovh_cli_option_t;

typedef struct {
    const char *name;           //  the program: first word of every message
    void (*usage) (FILE *file); //  --help, -h
    const ovh_cli_option_t *options;    //  ended by an entry without name
    //  Called with each operand: an argument that is no option, "-", and
    //  all after "--". Returns -1 to go on, else the exit status. NULL: the
    //  program takes none ("unexpected argument").
    int (*operand) (void *self, char *arg);
    void *self;
    bool log_file;              //  the program takes --log-file (a daemon)
} ovh_cli_t;

//  Parse argv [1..]: --help/-h (usage on stdout), --version, --log-format
//  (and --log-file if cli->log_file), the options of the table in turn,
//  and the operands. Returns -1 to go on, else the
//  exit status: 0 after --help or --version, 2 after a usage error (its
//  message is on stderr).
int
    ovh_cli_parse (const ovh_cli_t *cli, int argc, char *argv []);

//  Print "NAME: MESSAGE (see --help)" on stderr. Returns 2, the exit
//  status of a usage error.
int
    ovh_cli_usage_error (const char *name, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Print "NAME: unknown event 'EVENT'; valid names: ..." on stderr.
//  Returns 2, the exit status of a usage error.
int
    ovh_cli_unknown_event (const char *name, const char *event);

//  Check the endpoint list given for 'what' ("bus", "frontend"). Returns
//  0, or -1 after "NAME: invalid WHAT endpoint 'ENDPOINTS': why" on stderr.
int
    ovh_cli_check_bus (const char *name, const char *what, const char *endpoints);

//  Once the options are read: log lines (ovh_log, and CZMQ's own) carry
//  the program's name, in the --log-format asked for, to stderr or the
//  --log-file. Returns 0, or 2 after "NAME: cannot open log file ..." on
//  stderr (only with --log-file).
int
    ovh_cli_start (const char *name);

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

//  Duration: plain integer = ms, or suffixed "ms", "s", "m", "h" (any
//  letter case), as the bridge reads them (ovh_parse_duration), at most
//  OVH_CLI_DURATION_MAX. 0 or -1.
int
    ovh_cli_duration (const char *text, int64_t *msecs);

//  Check the syntax of a CZMQ endpoint list ("@tcp://*:5560,>ipc://x"):
//  non-empty items, a known transport, and for tcp a host and a port.
//  Returns 0, or -1 with the reason in 'why'. What only the network can
//  tell (a port in use, an unknown host) is left to bind/connect.
int
    ovh_cli_check_endpoints (const char *endpoints, char *why, size_t why_size);

#endif
