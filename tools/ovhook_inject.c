/*  ovhook_inject.c - ovhook-inject: publish events on the bus from the
    command line, from webhook JSON lines, or as realistic scenarios.

    ovhook-inject [options] EVENT key=value ...
    ovhook-inject [options] --json [FILE|-]
    ovhook-inject [options] --scenario NAME

    Everything is checked before anything is sent where it can be: the
    event name, every argument, and (with --strict, or when the lines are
    repeated) every JSON line. Plain --json streams: each line is sent as
    it is read, so ovhook-tail's output can be piped into it as a relay.
    The bus is opened at the first event; no subscriber within the join
    timeout is an error, since everything sent would be lost; with CURVE
    the error says why when a handshake failed (ovh_publisher_problem).

    Exit status: 0 all sent; 1 runtime failure (no subscriber, send error,
    some JSON lines bad while the others were sent, interrupted); 2 usage
    or input error (nothing sent).                                         */

#include <czmq.h>
#include <jansson.h>
#include "ovhook.h"
#include "ovh_argvalue.h"
#include "ovh_cli.h"
#include "ovh_clikeys.h"
#include "ovh_scenario.h"

#define NAME "ovhook-inject"

typedef struct {
    const char *bus;
    bool envelope;
    const char *src;
    int64_t join_timeout;
    bool strict;
    int64_t count;              //  0: until interrupted
    double rate;                //  events/s, 0: as fast as possible
    int64_t sessions, participants;
    uint64_t seed;
    bool quiet;
    const char *json_file;      //  --json: "-" is stdin; NULL without --json
    const char *scenario;
    char **positional;          //  EVENT key=value ...
    int positional_count;
    ovh_clikeys_t keys;         //  --bus-key, --bus-server-key, --bus-allow
} options_t;

typedef struct {
    options_t *options;
    ovh_publisher_t *publisher;
    bool bus_failed;
    uint64_t sent;
    int64_t started;            //  zclock_mono at the first send
    int64_t next_progress;
    bool progress;              //  stderr is a terminal
    ovh_body_t *body;
} run_t;

//  One event kept in memory, for --strict and --count
typedef struct {
    const ovh_event_type_t *type;
    size_t size;
    byte data [];
} stored_t;

static void
s_stored_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_usage (FILE *file)
{
    fprintf (file,
        "Usage: " NAME " [options] EVENT key=value ...\n"
        "  or:  " NAME " [options] --json [FILE|-]\n"
        "  or:  " NAME " [options] --scenario NAME\n"
        "Publish OpenVidu-style events on the ovhook bus.\n\n"
        "  key=value      typed: integer, float, true, false, null, else a string\n"
        "  key:=JSON      any JSON value (arrays, objects, n:=42, s:='\"42\"')\n"
        "  key==value     always a string (s==42 is \"42\")\n"
        "                 timestamp is the current time in ms unless given\n"
        "  --json [FILE]  one webhook JSON object per line (default: stdin)\n"
        "  --scenario NAME  session lifecycles (%s)\n"
        "  --sessions N, --participants M\n"
        "                 scenario size (1, 2)\n"
        "  --seed S       scenario PRNG seed (default: random)\n"
        "  --bus ENDPOINTS  CZMQ syntax (default >" OVH_BUS_ENDPOINT ")\n"
        "  --join-timeout MS  wait this long for a subscriber (2000)\n"
        OVH_CLIKEYS_USAGE
        "  --bus-allow DIR  with --bus @ENDPOINT: the subscribers' allowed public\n"
        "                   certificates (each --bus-* flag wins over its variable\n"
        "                   OVHOOK_BUS_KEY, OVHOOK_BUS_SERVER_KEY, OVHOOK_BUS_ALLOW)\n"
        "  --no-envelope, --src SRC   frame 3 off / its src\n"
        "  --strict       property warnings are errors; a bad JSON line sends nothing\n"
        "  --count N      send it all N times (0: until interrupted)\n"
        "  --rate R       events per second (0: as fast as possible)\n"
        "  --quiet        no progress line, no report\n"
        "  --log-format F log lines as text (the default) or json\n"
        "  --help, --version\n", ovh_scenario_names ());
}

//  An operand: EVENT key=value ...
static int
s_positional (void *self, char *arg)
{
    options_t *options = (options_t *) self;
    options->positional [options->positional_count++] = arg;
    return -1;
}

//  Returns -1 to go on, else the exit status
static int
s_parse_options (options_t *options, int argc, char *argv [])
{
    int64_t seed = -1;
    const ovh_cli_option_t table [] = {
        { .name = "--no-envelope", .type = OVH_CLI_FALSE, .target = &options->envelope },
        { .name = "--strict", .type = OVH_CLI_TRUE, .target = &options->strict },
        { .name = "--quiet", .type = OVH_CLI_TRUE, .target = &options->quiet, .alias = "-q" },
        { .name = "--json", .type = OVH_CLI_OPTIONAL, .target = &options->json_file },
        { .name = "--bus", .type = OVH_CLI_STRING, .target = &options->bus },
        { .name = "--src", .type = OVH_CLI_STRING, .target = &options->src },
        { .name = "--scenario", .type = OVH_CLI_STRING, .target = &options->scenario },
        { .name = "--join-timeout", .type = OVH_CLI_INTEGER, .target = &options->join_timeout,
          .needs = "milliseconds", .min = 0, .max = INT32_MAX },
        { .name = "--count", .type = OVH_CLI_INTEGER, .target = &options->count,
          .needs = "a number >= 0", .min = 0, .max = INT64_MAX },
        { .name = "--rate", .type = OVH_CLI_REAL, .target = &options->rate,
          .needs = "events per second >= 0" },
        { .name = "--sessions", .type = OVH_CLI_INTEGER, .target = &options->sessions,
          .needs = "1..100000", .min = 1, .max = OVH_SCENARIO_MAX_SESSIONS },
        { .name = "--participants", .type = OVH_CLI_INTEGER, .target = &options->participants,
          .needs = "1..100", .min = 1, .max = OVH_SCENARIO_MAX_PARTICIPANTS },
        { .name = "--seed", .type = OVH_CLI_INTEGER, .target = &seed,
          .needs = "a number >= 0", .min = 0, .max = INT64_MAX },
        OVH_CLIKEYS_KEY_OPTIONS (&options->keys),
        OVH_CLIKEYS_ALLOW_OPTION (&options->keys),
        { .name = NULL }
    };
    ovh_cli_t cli = { NAME, s_usage, table, s_positional, options, false };
    int status = ovh_cli_parse (&cli, argc, argv);
    if (status >= 0)
        return status;
    if (seed >= 0)
        options->seed = (uint64_t) seed;
    bool json = options->json_file != NULL;
    //  "--json --strict FILE": a flag came between --json and its FILE, so
    //  --json took no value; the first operand is the FILE
    if (json && options->json_file == ovh_cli_no_value && options->positional_count > 0) {
        options->json_file = options->positional [0];
        options->positional_count--;
        memmove (options->positional, options->positional + 1,
                 (size_t) options->positional_count * sizeof options->positional [0]);
    }
    if (json && options->scenario)
        return ovh_cli_usage_error (NAME, "--json and --scenario exclude each other");
    if ((json || options->scenario) && options->positional_count > 0)
        return ovh_cli_usage_error (NAME, "unexpected argument '%s'", options->positional [0]);
    if (!json && !options->scenario && options->positional_count == 0)
        return ovh_cli_usage_error (NAME, "no EVENT given");
    //  Every bridge drops a message whose src is not UTF-8: refuse it here
    //  rather than say "sent" (Jansson checks UTF-8: the library's checker
    //  is internal to it)
    json_t *src = options->src? json_string (options->src): NULL;
    if (options->src && !src) {
        char shown [128];
        return ovh_cli_usage_error (NAME, "--src '%s' is not valid UTF-8 (shown with '?' "
                                    "where it is not): every bridge would drop its events",
                                    ovh_shown (shown, sizeof shown, options->src,
                                               strlen (options->src)));
    }
    json_decref (src);
    if (ovh_cli_check_bus (NAME, "bus", options->bus))
        return 2;
    //  The key files are read now, so that a wrong one is a usage error
    //  before any input is read; the publisher reads them again
    ovh_clikeys_env (&options->keys);
    ovh_buskeys_t *keys;
    if (ovh_clikeys_load (NAME, "bus", options->bus, true, &options->keys, &keys) < 0)
        return 2;
    ovh_buskeys_destroy (&keys);
    return -1;
}

static void
s_progress (run_t *run, bool final)
{
    if (!run->progress)
        return;
    int64_t now = zclock_mono ();
    if (!final && now < run->next_progress)
        return;
    run->next_progress = now + 250;
    double seconds = run->started? (now - run->started) / 1000.0: 0;
    fprintf (stderr, "\r" NAME ": sent %" PRIu64 " events (%.0f events/s)   %s",
             run->sent, seconds > 0? run->sent / seconds: 0.0, final? "\r": "");
    if (final)
        fprintf (stderr, "\033[K");
}

//  Open the bus at the first event and wait for a subscriber
static int
s_open (run_t *run)
{
    options_t *options = run->options;
    char error [512];
    run->publisher = ovh_publisher_new_secure (options->bus, options->keys.key,
                                               options->keys.server_key, options->keys.allow,
                                               error, sizeof error);
    if (!run->publisher) {
        fprintf (stderr, NAME ": %s\n", error);
        return -1;
    }
    ovh_publisher_set_join_timeout (run->publisher, (int) options->join_timeout);
    ovh_publisher_set_envelope (run->publisher, options->envelope);
    if (options->src)
        ovh_publisher_set_src (run->publisher, options->src);
    if (!ovh_publisher_wait_subscriber (run->publisher, (int) options->join_timeout)) {
        char problem [256];
        if (zsys_interrupted)
            ;
        else
        //  A handshake that failed is the likely reason: say it rather
        //  than send people looking for a process that runs
        if (ovh_publisher_problem (run->publisher, problem, sizeof problem))
            fprintf (stderr, NAME ": no subscriber on %s within %" PRId64 " ms: %s\n",
                     options->bus, options->join_timeout, problem);
        else
            fprintf (stderr, NAME ": no subscriber on %s within %" PRId64 " ms "
                     "(is the bridge or proxy running?)\n", options->bus,
                     options->join_timeout);
        return -1;
    }
    run->started = zclock_mono ();
    return 0;
}

//  Publish one event, at the rate asked for. 0 or -1 (bus failure).
static int
s_publish (run_t *run, const ovh_event_type_t *type, const void *data, size_t size)
{
    if (run->bus_failed || zsys_interrupted)
        return -1;
    if (!run->publisher && s_open (run)) {
        run->bus_failed = true;
        return -1;
    }
    if (run->options->rate > 0) {
        int64_t due = run->started + (int64_t) (run->sent * 1000.0 / run->options->rate);
        int64_t wait = due - zclock_mono ();
        if (wait > 0)
            zclock_sleep ((int) wait);
    }
    if (ovh_publisher_send_raw (run->publisher, type->name, data, size)) {
        fprintf (stderr, NAME ": cannot send %s: %s\n", type->name, zmq_strerror (zmq_errno ()));
        run->bus_failed = true;
        return -1;
    }
    run->sent++;
    s_progress (run, false);
    return 0;
}

//  Catalog check: warnings, or with --strict errors. Returns the count.
static int
s_check (run_t *run, const ovh_event_type_t *type, const void *data, size_t size,
         const char *where)
{
    zlist_t *warnings = zlist_new ();
    assert (warnings);
    zlist_autofree (warnings);
    int count = ovh_catalog_check (type, data, size, warnings);
    for (const char *text = (const char *) zlist_first (warnings); text;
         text = (const char *) zlist_next (warnings))
        fprintf (stderr, NAME ": %s%s%s: %s%s\n", run->options->strict? "": "warning: ",
                 where, type->name, text, run->options->strict? " (--strict)": "");
    zlist_destroy (&warnings);
    return count;
}

//  How many rounds: --count, 0 meaning until interrupted
static bool
s_more_rounds (run_t *run, int64_t round)
{
    return !run->bus_failed && !zsys_interrupted
        && (run->options->count == 0 || round < run->options->count);
}

static int
s_run_event (run_t *run)
{
    options_t *options = run->options;
    const char *name = options->positional [0];
    const ovh_event_type_t *type = ovh_catalog_lookup (name, strlen (name));
    if (!type)
        return ovh_cli_unknown_event (NAME, name);
    char **args = options->positional + 1;
    size_t arg_count = (size_t) options->positional_count - 1;
    ovh_error_t error;
    size_t size;
    const void *data;
    //  Check once before anything is sent, then build each round (a
    //  made-up timestamp is the time of that round's send)
    if (ovh_argvalue_build (run->body, args, arg_count, zclock_time (), &error)) {
        fprintf (stderr, NAME ": %s\n", error.text);
        return 2;
    }
    data = ovh_body_data (run->body, &size);
    if (s_check (run, type, data, size, "") && options->strict)
        return 2;
    for (int64_t round = 0; s_more_rounds (run, round); round++) {
        //  It passed once, only the made-up timestamp changes
        if (ovh_argvalue_build (run->body, args, arg_count, zclock_time (), &error)
        ||  s_publish (run, type, ovh_body_data (run->body, &size), size))
            break;
    }
    return run->bus_failed? 1: 0;
}

//  One line of --json: sent at once, or kept in 'stored' (NULL: streamed).
//  Returns -1 for a bad line (reported), else 0.
static int
s_json_line (run_t *run, char *line, size_t line_size, size_t line_number, zlistx_t *stored)
{
    while (line_size > 0 && isspace ((unsigned char) line [line_size - 1]))
        line_size--;
    size_t skip = 0;
    while (skip < line_size && isspace ((unsigned char) line [skip]))
        skip++;
    if (skip == line_size)
        return 0;
    ovh_error_t error;
    const ovh_event_type_t *type = ovh_webhook_to_body (line + skip, line_size - skip,
                                                        run->body, &error);
    size_t size = 0;
    const void *data = type? ovh_body_data (run->body, &size): NULL;
    if (!data) {
        fprintf (stderr, NAME ": line %zu: %s\n", line_number,
                 type? ovh_body_error (run->body)->text: error.text);
        return -1;
    }
    char where [32];
    snprintf (where, sizeof where, "line %zu: ", line_number);
    if (s_check (run, type, data, size, where) && run->options->strict)
        return -1;
    if (!stored)
        s_publish (run, type, data, size);
    else {
        stored_t *event = (stored_t *) malloc (sizeof (stored_t) + size);
        assert (event);
        event->type = type;
        event->size = size;
        memcpy (event->data, data, size);
        zlistx_add_end (stored, event);
    }
    return 0;
}

static int
s_run_json (run_t *run)
{
    options_t *options = run->options;
    bool from_stdin = streq (options->json_file, "-");
    FILE *file = from_stdin? stdin: fopen (options->json_file, "r");
    if (!file) {
        fprintf (stderr, NAME ": cannot read %s: %s\n", options->json_file, strerror (errno));
        return 2;
    }
    //  Stream unless every line must be seen first, or sent again
    bool store = options->strict || options->count != 1;
    zlistx_t *stored = zlistx_new ();
    assert (stored);
    zlistx_set_destructor (stored, s_stored_destroy);
    char *line = NULL;
    size_t line_max = 0;
    ssize_t line_size;
    size_t line_number = 0, bad_lines = 0;
    while (!zsys_interrupted && !run->bus_failed
       &&  (line_size = getline (&line, &line_max, file)) != -1)
        if (s_json_line (run, line, (size_t) line_size, ++line_number, store? stored: NULL))
            bad_lines++;
    free (line);
    //  A read error ends getline as the end of the file does: a directory
    //  (EISDIR) or an I/O error must not pass for an empty file
    int read_error = ferror (file)? errno: 0;
    if (!from_stdin)
        fclose (file);
    if (read_error) {
        fprintf (stderr, NAME ": cannot read %s: %s\n", options->json_file,
                 strerror (read_error));
        zlistx_destroy (&stored);
        return 2;
    }
    int status = bad_lines? 1: 0;
    if (bad_lines && options->strict) {
        fprintf (stderr, NAME ": %zu bad line%s: nothing sent (--strict)\n",
                 bad_lines, bad_lines == 1? "": "s");
        status = 2;
    }
    else
    if (zlistx_size (stored) > 0)
        for (int64_t round = 0; s_more_rounds (run, round); round++)
            for (stored_t *event = (stored_t *) zlistx_first (stored); event;
                 event = (stored_t *) zlistx_next (stored))
                if (s_publish (run, event->type, event->data, event->size))
                    break;
    zlistx_destroy (&stored);
    return run->bus_failed? 1: status;
}

static int
s_run_scenario (run_t *run)
{
    options_t *options = run->options;
    ovh_scenario_t *scenario = ovh_scenario_new (options->scenario, (size_t) options->sessions,
                                                 (size_t) options->participants, options->seed);
    if (!scenario) {
        fprintf (stderr, NAME ": unknown scenario '%s'; valid names: %s\n",
                 options->scenario, ovh_scenario_names ());
        return 2;
    }
    for (int64_t round = 0; s_more_rounds (run, round); round++) {
        if (ovh_scenario_generate (scenario, zclock_time ())) {
            fprintf (stderr, NAME ": out of memory generating the scenario\n");
            run->bus_failed = true;
            break;
        }
        const void *data;
        size_t size;
        const ovh_event_type_t *type;
        while ((type = ovh_scenario_next (scenario, &data, &size)))
            if (s_publish (run, type, data, size))
                break;
    }
    ovh_scenario_destroy (&scenario);
    return run->bus_failed? 1: 0;
}

int
main (int argc, char *argv [])
{
    options_t options = {
        .bus = ">" OVH_BUS_ENDPOINT, .envelope = true, .count = 1,
        .join_timeout = OVH_PUBLISHER_JOIN_TIMEOUT, .sessions = 1, .participants = 2,
        .seed = (uint64_t) zclock_time () ^ ((uint64_t) getpid () << 32)
    };
    options.positional = (char **) calloc ((size_t) argc, sizeof (char *));
    assert (options.positional);
    int status = s_parse_options (&options, argc, argv);
    if (status >= 0) {
        free (options.positional);
        return status;
    }
    (void) ovh_cli_start (NAME);      //  fails only with --log-file

    run_t run = { .options = &options, .progress = isatty (STDERR_FILENO) && !options.quiet };
    run.body = ovh_body_new ();
    assert (run.body);
    if (options.json_file)
        status = s_run_json (&run);
    else
    if (options.scenario)
        status = s_run_scenario (&run);
    else
        status = s_run_event (&run);

    //  Closing lingers; zsys_shutdown waits until what is queued went out,
    //  so the report counts the time to deliver, not just to queue
    bool interrupted = zsys_interrupted;
    int64_t closing = zclock_mono ();
    ovh_publisher_destroy (&run.publisher);
    zsys_shutdown ();
    //  The linger ran out: what was still queued was thrown away, and no
    //  receiver can count it (a lost tail shows no seq gap)
    if (run.sent && zclock_mono () - closing >= OVH_PUBLISHER_LINGER - 50) {
        fprintf (stderr, NAME ": warning: the bus had not taken every event after %.1f s "
                 "(a subscriber paused its reads, or left): the rest were dropped, so "
                 "fewer than %" PRIu64 " may have been sent\n", OVH_PUBLISHER_LINGER / 1000.0,
                 run.sent);
        if (status == 0)
            status = 1;
    }
    if (run.started && !options.quiet) {
        s_progress (&run, true);
        double seconds = (zclock_mono () - run.started) / 1000.0;
        fprintf (stderr, NAME ": sent %" PRIu64 " event%s in %.3f s (%.0f events/s)",
                 run.sent, run.sent == 1? "": "s", seconds,
                 seconds > 0? run.sent / seconds: (double) run.sent);
        if (options.scenario)
            fprintf (stderr, ", seed %" PRIu64, options.seed);
        fprintf (stderr, "\n");
    }
    if (interrupted && status == 0 && options.count != 0) {
        fprintf (stderr, NAME ": interrupted\n");
        status = 1;
    }
    ovh_body_destroy (&run.body);
    free (options.positional);
    return status;
}
