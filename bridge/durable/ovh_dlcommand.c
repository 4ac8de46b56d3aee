/*  ovh_dlcommand.c - `ovhook-bridge --dead-letters list|show|export|purge`
    (see ovh_dlcommand.h). The stores are read by ovh_dlstore, the filters
    are ovh_dlselect's; --redeliver's part is ovh_dlcommand_redeliver.c.    */

#include <czmq.h>
#include <jansson.h>
#include "ovh_dlcommand.h"
#include "ovh_dlstore.h"

typedef enum { CMD_NONE, CMD_LIST, CMD_SHOW, CMD_EXPORT, CMD_PURGE } command_t;

struct _ovh_dlcommand_t {
    bool wanted;                //  --dead-letters given
    command_t command;
    char *argument;             //  show's ID, export's FILE
    bool json;
    char *first_filter;         //  the first filter given, for errors
    ovh_dlselect_t *selection;
    FILE *out, *err;            //  while it runs
};

ovh_dlcommand_t *
ovh_dlcommand_new (void)
{
    ovh_dlcommand_t *self = (ovh_dlcommand_t *) zmalloc (sizeof (ovh_dlcommand_t));
    if (self && !(self->selection = ovh_dlselect_new (zclock_time ())))
        ovh_dlcommand_destroy (&self);
    return self;
}

void
ovh_dlcommand_destroy (ovh_dlcommand_t **self_p)
{
    assert (self_p);
    ovh_dlcommand_t *self = *self_p;
    if (!self)
        return;
    ovh_dlselect_destroy (&self->selection);
    zstr_free (&self->argument);
    zstr_free (&self->first_filter);
    free (self);
    *self_p = NULL;
}

bool
ovh_dlcommand_wanted (ovh_dlcommand_t *self)
{
    assert (self);
    return self->wanted;
}

ovh_dlselect_t *
ovh_dlcommand_selection (ovh_dlcommand_t *self)
{
    assert (self);
    return self->selection;
}

//  --dead-letters CMD [ARG]: ARG is the next argument unless it is an
//  option, so that a missing ID says so instead of taking "--spool"
static int
s_take_command (ovh_dlcommand_t *self, const char *name, int *index, int argc, char *argv [],
                char *error, size_t size)
{
    static const char *names [] = { NULL, "list", "show", "export", "purge" };
    static const char *commands = "the commands are list, show ID, export FILE and purge";
    if (self->wanted) {
        snprintf (error, size, "--dead-letters: given twice; give one command");
        return -1;
    }
    self->wanted = true;
    if (!name) {
        snprintf (error, size, "--dead-letters needs a command: %s", commands);
        return -1;
    }
    for (command_t command = CMD_LIST; command <= CMD_PURGE; command++)
        if (streq (name, names [command]))
            self->command = command;
    if (self->command == CMD_NONE) {
        snprintf (error, size, "--dead-letters '%s': unknown command; %s", name, commands);
        return -1;
    }
    if (self->command != CMD_SHOW && self->command != CMD_EXPORT)
        return 0;
    const char *next = *index + 1 < argc ? argv [*index + 1] : NULL;
    if (!next || strncmp (next, "--", 2) == 0 || !*next) {
        snprintf (error, size, self->command == CMD_SHOW
                  ? "--dead-letters show needs the ID of a dead letter (the number list "
                    "shows, or its webhook id)"
                  : "--dead-letters export needs the FILE to write the dead letters to");
        return -1;
    }
    self->argument = strdup (next);
    (*index)++;
    if (!self->argument) {
        snprintf (error, size, "out of memory");
        return -1;
    }
    //  show's ID is the one filter it takes: a bad one is a usage error
    return self->command == CMD_SHOW
         ? ovh_dlselect_add (self->selection, "id", self->argument, error, size) : 0;
}

//  One of ours, its value taken; 1 when the argument is not ours
static int
s_take_one (ovh_dlcommand_t *self, int *index, int argc, char *argv [], char *error,
            size_t size)
{
    const char *arg = argv [*index];
    if (strncmp (arg, "--", 2) != 0)
        return 1;
    char option [32];
    const char *equals = strchr (arg + 2, '=');
    size_t length = equals ? (size_t) (equals - arg - 2) : strlen (arg + 2);
    if (length >= sizeof option)
        return 1;
    memcpy (option, arg + 2, length);
    option [length] = 0;
    const char *value = equals ? equals + 1 : NULL;
    if (streq (option, "json")) {
        self->json = true;
        if (value)
            snprintf (error, size, "--json takes no value");
        return value ? -1 : 0;
    }
    bool command = streq (option, "dead-letters");
    if (!command && !ovh_dlselect_is_filter (option))
        return 1;
    //  The next argument, unless it is an option: "--session --spool x"
    //  says the value is missing rather than select session "--spool"
    if (!value && *index + 1 < argc && strncmp (argv [*index + 1], "--", 2) != 0)
        value = argv [++*index];
    if (command)
        return s_take_command (self, value, index, argc, argv, error, size);
    if (!value) {
        snprintf (error, size, "--%s needs a value", option);
        return -1;
    }
    if (!self->first_filter)
        self->first_filter = zsys_sprintf ("--%s", option);
    return ovh_dlselect_add (self->selection, option, value, error, size);
}

int
ovh_dlcommand_take_args (ovh_dlcommand_t *self, int *argc, char *argv [],
                         char *error, size_t size)
{
    assert (self);
    assert (argc);
    int kept = 1;
    bool options_done = false, failed = false;
    //  Every argument is looked at, so that the configuration gets only
    //  its own (and --help still works); the first error is the one said
    for (int index = 1; index < *argc; index++) {
        char later [256];
        int rc = options_done ? 1 : s_take_one (self, &index, *argc, argv,
                                                failed ? later : error,
                                                failed ? sizeof later : size);
        failed |= rc < 0;
        if (rc == 1) {
            options_done |= streq (argv [index], "--");
            argv [kept++] = argv [index];
        }
    }
    *argc = kept;
    argv [kept] = NULL;
    if (failed)
        return -1;
    if (self->json && self->command != CMD_LIST && self->command != CMD_SHOW) {
        snprintf (error, size, "--json goes with --dead-letters list or show");
        return -1;
    }
    if (self->first_filter && self->command == CMD_SHOW) {
        snprintf (error, size, "%s: --dead-letters show takes an ID, not filters",
                  self->first_filter);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Output

//  Write a JSON text indented, its tokens as they are (numbers too: a
//  uint64 stays exact). The text is valid JSON (checked when written).
static void
s_pretty (FILE *out, const char *text, size_t size)
{
    int depth = 0;
    bool in_string = false;
    for (size_t index = 0; index < size; index++) {
        char c = text [index];
        if (in_string) {
            fputc (c, out);
            if (c == '\\' && index + 1 < size)
                fputc (text [++index], out);
            else
                in_string = c != '"';
            continue;
        }
        char next = index + 1 < size ? text [index + 1] : 0;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        fputc (c, out);
        in_string = c == '"';
        if ((c == '{' || c == '[') && next != '}' && next != ']')
            fprintf (out, "\n%*s", 2 * ++depth, "");
        else
        if (c == ',')
            fprintf (out, "\n%*s", 2 * depth, "");
        else
        if (c == ':')
            fputc (' ', out);
        if (next == '}' || next == ']')
            if (!(c == '{' || c == '['))
                fprintf (out, "\n%*s", 2 * --depth, "");
    }
    fputc ('\n', out);
}

static void
s_json_record (FILE *out, const ovh_dlrecord_t *record)
{
    char since [40];
    ovh_dlselect_format_time (record->failed_ms, since, sizeof since);
    json_t *object = json_pack ("{s:I, s:s, s:s, s:o, s:i, s:s, s:I, s:s}",
                                "number", (json_int_t) record->number, "id", record->id,
                                "event", record->type, "key",
                                record->key ? json_string (record->key) : json_null (),
                                "attempts", record->attempts, "last_error", record->last_error,
                                "failed_at", (json_int_t) record->failed_ms,
                                "dead_since", since);
    char *text = object ? json_dumps (object, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        fprintf (out, "%s\n", text);
    free (text);
    json_decref (object);
}

static int
s_list_one (void *arg, const ovh_dlrecord_t *record)
{
    ovh_dlcommand_t *self = (ovh_dlcommand_t *) arg;
    if (self->json) {
        s_json_record (self->out, record);
        return 0;
    }
    char since [40];
    ovh_dlselect_format_time (record->failed_ms, since, sizeof since);
    fprintf (self->out, "%-6" PRId64 " %-24s %-26s %-20s %8d  %s  %s\n", record->number, since,
             record->type, record->key ? record->key : "-", record->attempts, record->id,
             *record->last_error ? record->last_error : "-");
    return 0;
}

static int
s_show_one (void *arg, const ovh_dlrecord_t *record)
{
    ovh_dlcommand_t *self = (ovh_dlcommand_t *) arg;
    if (self->json) {
        size_t size;
        char *line = ovh_dlstore_line (record, &size);
        if (line)
            fwrite (line, 1, size, self->out);
        free (line);
        return line ? 0 : -1;
    }
    char since [40];
    ovh_dlselect_format_time (record->failed_ms, since, sizeof since);
    fprintf (self->out, "id:          %" PRId64 "\nwebhook id:  %s\nevent:       %s\n"
             "session:     %s\nattempts:    %d\ndead since:  %s (failed_at %" PRId64 ")\n"
             "last error:  %s\nbody:\n", record->number, record->id, record->type,
             record->key ? record->key : "(none)", record->attempts, since, record->failed_ms,
             *record->last_error ? record->last_error : "(none)");
    s_pretty (self->out, record->body, record->body_size);
    return 0;
}

typedef struct {
    FILE *file;
    int count;
} export_t;

static int
s_export_one (void *arg, const ovh_dlrecord_t *record)
{
    export_t *export = (export_t *) arg;
    size_t size;
    char *line = ovh_dlstore_line (record, &size);
    int rc = line && fwrite (line, 1, size, export->file) == size ? 0 : -1;
    export->count += rc == 0;
    free (line);
    return rc;
}

//  ---------------------------------------------------------------------
//  The commands

static int
s_export (ovh_dlcommand_t *self, ovh_dlstore_t *store, char *error, size_t size)
{
    const char *path = self->argument;
    //  Never over an existing file, nor through a link
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf (error, size, errno == EEXIST
                  ? "cannot export to %s: it exists (export never overwrites a file)"
                  : "cannot export to %s: %s", path, strerror (errno));
        return -1;
    }
    export_t export = { fdopen (fd, "w"), 0 };
    int count = export.file ? ovh_dlstore_each (store, self->selection, s_export_one,
                                                &export, error, size) : -1;
    //  ovh_dlstore_each said why if it failed; the file's own failures here
    bool failed = count < 0;
    if (!failed && (count != export.count || fflush (export.file) || fsync (fd))) {
        snprintf (error, size, "cannot export to %s: %s", path, strerror (errno ? errno : EIO));
        failed = true;
    }
    if (!export.file)
        snprintf (error, size, "cannot export to %s: %s", path, strerror (errno));
    if (export.file)
        fclose (export.file);
    else
        close (fd);
    if (failed) {
        unlink (path);
        return -1;
    }
    fprintf (self->out, "exported %d dead letter%s from %s to %s\n", count,
             count == 1 ? "" : "s", ovh_dlstore_name (store), path);
    return 0;
}

static int
s_show (ovh_dlcommand_t *self, ovh_dlstore_t *store, char *error, size_t size)
{
    int count = ovh_dlstore_each (store, self->selection, s_show_one, self, error, size);
    if (count == 0)
        snprintf (error, size, "%s: no dead letter with id %s (list shows their ids)",
                  ovh_dlstore_name (store), self->argument);
    return count > 0 ? 0 : -1;
}

static int
s_run (ovh_dlcommand_t *self, ovh_dlstore_t *store, char *error, size_t size)
{
    if (self->command == CMD_LIST) {
        if (!self->json)
            fprintf (self->out, "%-6s %-24s %-26s %-20s %8s  %-36s  %s\n", "ID", "DEAD SINCE",
                     "EVENT", "SESSION", "ATTEMPTS", "WEBHOOK ID", "LAST ERROR");
        return ovh_dlstore_each (store, self->selection, s_list_one, self, error, size) < 0
             ? -1 : 0;
    }
    if (self->command == CMD_SHOW)
        return s_show (self, store, error, size);
    if (self->command == CMD_EXPORT)
        return s_export (self, store, error, size);
    int count = ovh_dlstore_purge (store, self->selection, error, size);
    if (count >= 0)
        fprintf (self->out, "purged %d dead letter%s from %s\n", count, count == 1 ? "" : "s",
                 ovh_dlstore_name (store));
    return count < 0 ? -1 : 0;
}

int
ovh_dlcommand_run (ovh_dlcommand_t *self, const char *spool, const char *file,
                   FILE *out, FILE *err)
{
    assert (self);
    assert (self->wanted);
    assert (out && err);
    self->out = out;
    self->err = err;
    if (!spool && !file) {
        fprintf (err, "ovhook-bridge: --dead-letters needs the store of the dead letters: "
                 "--spool PATH or --dead-letter FILE (or OVHOOK_SPOOL, OVHOOK_DEAD_LETTER)\n");
        return 2;
    }
    //  The export FILE first: a command refused costs nothing
    char error [1024] = "";
    if (self->command == CMD_EXPORT && access (self->argument, F_OK) == 0) {
        fprintf (err, "ovhook-bridge: cannot export to %s: it exists (export never "
                 "overwrites a file)\n", self->argument);
        return 1;
    }
    ovh_dlstore_t *store = ovh_dlstore_new (spool, file, self->command == CMD_PURGE,
                                            error, sizeof error);
    int rc = store ? s_run (self, store, error, sizeof error) : -1;
    fflush (out);
    zlist_t *problems = store ? ovh_dlstore_problems (store) : NULL;
    for (const char *problem = problems ? (const char *) zlist_first (problems) : NULL;
         problem; problem = (const char *) zlist_next (problems))
        fprintf (err, "ovhook-bridge: %s%s\n", problem, self->command == CMD_PURGE
                 ? ": kept as it is" : ": left out");
    if (rc)
        fprintf (err, "ovhook-bridge: %s\n", error);
    int status = rc || (problems && zlist_size (problems)) ? 1 : 0;
    ovh_dlstore_destroy (&store);
    return status;
}

void
ovh_dlcommand_usage (FILE *file)
{
    assert (file);
    fprintf (file,
        "\nDead letters (one-shot commands on --spool PATH, else --dead-letter FILE,\n"
        "while a bridge runs too, but a spool's purge; see docs/durability.md):\n"
        "  --dead-letters list        one line per dead letter: id, dead since (UTC),\n"
        "                             event, session, attempts, webhook id, last error\n"
        "  --dead-letters show ID     one dead letter in full, its body indented\n"
        "  --dead-letters export FILE the dead letters as JSON lines, as --dead-letter\n"
        "                             writes them (for --redeliver); FILE must not exist\n"
        "  --dead-letters purge       remove the dead letters; prints how many\n"
        "  --json                     list and show: JSON lines for programs\n"
        "Filters, for list, export, purge and --redeliver (all must match):\n"
        "  --event TYPE[,TYPE]        these event types (repeatable)\n"
        "  --session ID               this session (the ordering key; repeatable)\n"
        "  --since TIME               died at or after TIME\n"
        "  --until TIME               died before TIME\n"
        "  --id ID[,ID]               these ids: list's number, or a webhook id evt_...\n"
        "  TIME is ISO-8601 (2026-12-05T14:30:00Z; no zone: UTC) or a duration ago (2h).\n"
        "  The ID is the spool's row id, or the line number in the file.\n");
}
