/*  ovh_config.c - configuration of ovhook-bridge.

    One table lists every setting: its environment variable, its flag, the
    field it fills, its default and its range. Loading collects one raw
    string per setting (flag, else environment, else env file, else the
    default text) and then checks each in table order, so that errors come
    out in a stable order and the defaults go through the very parsers that
    user values go through. The checkers and printers of each kind of value
    are in ovh_config_check.c and ovh_config_format.c; the table itself,
    and --help, in ovh_config_table.c.

    Errors follow OpenVidu's own printing rule: "Property NAME=value. message",
    or "Property NAME is not set. message" when the value is empty. A secret
    is never shown: its value is printed as ****.                            */

#include <dirent.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <string.h>
#include <czmq.h>
#include "ovh_config.h"
#include "ovh_config_check.h"
#include "ovh_config_table.h"
#include "ovh_dotenv.h"

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

//  "Property NAME=value. message", as OpenVidu prints it; a flag without
//  an environment variable is named as the flag
static void
s_property_error (ovh_config_t *self, s_id_t id, const char *value,
                  const char *format, ...)
{
    const ovh_config_setting_t *setting = &ovh_config_settings [id];
    va_list args;
    va_start (args, format);
    char *message = zsys_vprintf (format, args);
    va_end (args);
    //  Not even a secret's length or first letters: it is all masked. The
    //  endpoint's password and query values, and header values, are masked
    //  as everywhere
    char *masked = setting->kind == K_URL? ovh_config_format_url (value):
                   setting->kind == K_HEADERS? ovh_config_mask_headers_value (value): NULL;
    char *shown = setting->kind == K_SECRET && *value? strdup ("****"):
                  ovh_config_printable (masked? masked: value);
    free (masked);
    if (message && shown) {
        if (!setting->name)
            s_add_error (self, zsys_sprintf ("Option '--%s=%s'. %s", setting->flag,
                                             shown, message));
        else
        if (*value)
            s_add_error (self, zsys_sprintf ("Property %s=%s. %s", setting->name,
                                             shown, message));
        else
            s_add_error (self, zsys_sprintf ("Property %s is not set. %s",
                                             setting->name, message));
    }
    free (message);
    free (shown);
}

static void *
s_field (ovh_config_t *self, s_id_t id)
{
    return (char *) self + ovh_config_settings [id].offset;
}

//  The value of a number, size or duration setting
static int64_t
s_number (ovh_config_t *self, s_id_t id)
{
    void *field = s_field (self, id);
    switch (ovh_config_settings [id].type) {
        case T_INT:     return *(int *) field;
        case T_INT64:   return *(int64_t *) field;
        case T_SIZE:    return (int64_t) *(size_t *) field;
        default:        assert (false); return -1;
    }
}

static void
s_set_number (ovh_config_t *self, s_id_t id, int64_t number)
{
    void *field = s_field (self, id);
    switch (ovh_config_settings [id].type) {
        case T_INT:     *(int *) field = (int) number; break;   //  the table's ranges fit
        case T_INT64:   *(int64_t *) field = number; break;
        case T_SIZE:    *(size_t *) field = (size_t) number; break;
        default:        assert (false);
    }
}

//  Checks one setting and stores its value; every reason the checker
//  gives becomes an error line about setting 'named' showing 'shown': this
//  setting and its value, or the file setting its value was read from and
//  that file's path. True if it was good.
static bool
s_check (ovh_config_t *self, s_id_t id, const char *value, s_id_t named, const char *shown)
{
    const ovh_config_setting_t *setting = &ovh_config_settings [id];
    zlist_t *problems = S_SELF (self)->problems;
    zlist_purge (problems);
    void *field = s_field (self, id);
    int64_t number = -1;       //  set by the number checkers, if good
    int64_t min = setting->min, max = setting->max;
    int rc = -1;
    switch (setting->kind) {
        case K_BOOL:    rc = ovh_config_check_bool (value, (bool *) field, problems); break;
        case K_SYNC:    rc = ovh_config_check_sync (value, (bool *) field, problems); break;
        case K_LOG_FORMAT:
            rc = ovh_config_check_log_format (value, (bool *) field, problems);
            break;
        case K_URL:     rc = ovh_config_check_url (value, (char **) field, problems); break;
        case K_HEADERS: rc = ovh_config_check_headers (value, self->headers, problems); break;
        case K_EVENTS:  rc = ovh_config_check_events (value, self->events, problems); break;
        case K_BUS:     rc = ovh_config_check_bus (value, (char **) field, problems); break;
        case K_CA:      rc = ovh_config_check_ca (value, (char **) field, problems); break;
        case K_PATH:    rc = ovh_config_check_path (value, (char **) field, problems); break;
        case K_LISTEN:  rc = ovh_config_check_listen (value, (char **) field, problems); break;
        case K_SHARD:   rc = ovh_config_check_shard (value, (ovh_shard_t *) field, problems);
                        break;
        case K_HTTP_VERSION:
            rc = ovh_config_check_http_version (value, (int *) field, problems);
            break;
        case K_HA:      rc = ovh_config_check_ha (value, (char **) field, problems); break;
        case K_ENDPOINTS:
            rc = *value? ovh_config_check_bus (value, (char **) field, problems): 0;
            break;
        case K_KEY:     rc = ovh_config_check_key (value, (char **) field, problems); break;
        case K_FOLDER:  rc = ovh_config_check_folder (value, (char **) field, problems); break;
        case K_SECRET:  rc = ovh_config_check_secret (value, (char **) field, problems); break;
        case K_INT:     rc = ovh_config_check_int (value, min, max, &number, problems); break;
        case K_SIZE:    rc = ovh_config_check_size (value, min, max, &number, problems); break;
        case K_DURATION: rc = ovh_config_check_duration (value, min, max, &number, problems);
                         break;
    }
    for (const char *problem = (const char *) zlist_first (problems); problem;
         problem = (const char *) zlist_next (problems))
        s_property_error (self, named, shown, "%s", problem);
    if (rc == 0 && number >= 0)
        s_set_number (self, id, number);
    return rc == 0;
}

//  Free every string the table fills, and the keys loaded from them
static void
s_free_texts (ovh_config_t *self)
{
    for (s_id_t id = 0; id < S_COUNT; id++)
        if (ovh_config_settings [id].type == T_TEXT)
            zstr_free ((char **) s_field (self, id));
    zstr_free (&self->env_file);
    ovh_buskeys_destroy (&self->bus_keys);
    ovh_buskeys_destroy (&self->ha_link_keys);
}

//  Back to the defaults, keeping the allocations that can be kept
static void
s_reset (ovh_config_t *self)
{
    s_free_texts (self);
    zlist_purge (self->headers);
    zlist_purge (S_SELF (self)->errors);
    self->endpoint = strdup ("");
    for (s_id_t id = 0; id < S_COUNT; id++)
        s_check (self, id, ovh_config_settings [id].def, id, ovh_config_settings [id].def);
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
        s_free_texts (self);
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
        if (strlen (ovh_config_settings [id].flag) == size
        &&  memcmp (ovh_config_settings [id].flag, name, size) == 0)
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
            //  "--secret whsec_a whsec_b" unquoted: the second key is not shown
            if (strncmp (arg, "whsec_", 6) == 0)
                s_add_error (self, strdup ("Unexpected argument 'whsec_****': give several "
                                           "secrets as one quoted value"));
            else
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
        if (!value && id >= 0 && ovh_config_settings [id].kind == K_BOOL) {
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

//  A setting that must not be less than another: checked only when both
//  were good, since a bad one holds its default, not what the user meant
static void
s_not_less (ovh_config_t *self, s_id_t id, s_id_t lower, const char *value,
            const bool valid [S_COUNT])
{
    if (!valid [id] || !valid [lower] || s_number (self, id) >= s_number (self, lower))
        return;
    char text [32];
    if (ovh_config_settings [lower].kind == K_SIZE)
        ovh_config_format_size (text, sizeof text, s_number (self, lower));
    else
        ovh_config_format_duration (text, sizeof text, s_number (self, lower));
    s_property_error (self, id, value, "Must not be less than %s (%s)",
                      ovh_config_settings [lower].name, text);
}

//  A setting whose value may come from a file instead (--secret-file), so
//  that no secret shows in /proc/PID/cmdline or environ. 'text' is what
//  was read, if anything.
typedef struct {
    s_id_t file_id, target;
    char *text;
} s_from_file_t;

//  Read the file of 'from', if one is named, to replace the value of its
//  target; naming a file and giving the value too is an error, since
//  either could be the one meant
static void
s_read_setting_file (ovh_config_t *self, s_from_file_t *from, const char *values [S_COUNT],
                     const bool given [S_COUNT])
{
    const char *path = values [from->file_id];
    if (*path == '\0')
        return;
    if (given [from->target]) {
        s_property_error (self, from->file_id, path, "Cannot be used together with %s: "
                          "give one or the other", ovh_config_settings [from->target].name);
        return;
    }
    zlist_t *problems = S_SELF (self)->problems;
    zlist_purge (problems);
    from->text = ovh_config_read_file (path, problems);
    for (const char *problem = (const char *) zlist_first (problems); problem;
         problem = (const char *) zlist_next (problems))
        s_property_error (self, from->file_id, path, "%s", problem);
    if (from->text)
        values [from->target] = from->text;
}

//  The bus security settings together. CURVE gives a socket one role, so
//  a bus with a key either binds (and needs the folder of allowed keys) or
//  connects (and needs the server's key); without a key of its own the
//  bridge does not use CURVE, and a folder or server key alone would look
//  like security that is not there. Then loads the keys the intake uses.
static void
s_check_bus_security (ovh_config_t *self, const char *values [S_COUNT],
                      const bool given [S_COUNT], const bool valid [S_COUNT])
{
    const char *bus = values [S_BUS];
    if (!given [S_BUS_KEY]) {
        s_id_t needing [] = { S_BUS_ALLOW, S_BUS_SERVER_KEY };
        for (size_t index = 0; index < 2; index++)
            if (given [needing [index]])
                s_property_error (self, needing [index], values [needing [index]],
                                  "Needs OVHOOK_BUS_KEY: without a key of its own the bridge "
                                  "does not use CURVE");
        return;
    }
    if (!valid [S_BUS_KEY] || !valid [S_BUS])
        return;                 //  said already
    //  The bridge's SUB attaches with CZMQ's default: an endpoint without
    //  '@' or '>' connects
    int binds = ovh_buskeys_binds (self->bus, false);
    if (binds == -1) {
        s_property_error (self, S_BUS_KEY, values [S_BUS_KEY], "Cannot be used with a bus that "
                          "both binds and connects (OVHOOK_BUS=%s): CURVE gives a socket one "
                          "role; make every endpoint bind (@) or every one connect (>)", bus);
        return;
    }
    if (binds && !given [S_BUS_ALLOW])
        s_property_error (self, S_BUS_ALLOW, "", "Needed with OVHOOK_BUS_KEY on a bus that "
                          "binds (OVHOOK_BUS=%s): the folder of the public certificates that "
                          "may publish", bus);
    if (!binds && !given [S_BUS_SERVER_KEY])
        s_property_error (self, S_BUS_SERVER_KEY, "", "Needed with OVHOOK_BUS_KEY on a bus "
                          "that connects (OVHOOK_BUS=%s): the public certificate of the "
                          "server it connects to", bus);
    if (binds? !valid [S_BUS_ALLOW] || !given [S_BUS_ALLOW]: !given [S_BUS_SERVER_KEY])
        return;
    //  The key loaded before; what fails now is the server's certificate
    char error [512];
    self->bus_keys = ovh_buskeys_new (self->bus_key, binds? NULL: self->bus_server_key,
                                      error, sizeof error);
    if (!self->bus_keys)
        s_property_error (self, binds? S_BUS_KEY: S_BUS_SERVER_KEY,
                          values [binds? S_BUS_KEY: S_BUS_SERVER_KEY], "Cannot be used: %s", error);
}

//  The one public certificate in the folder 'folder' (files ending in
//  _secret and dot files aside): its path (caller frees), or NULL with the
//  reason in 'error'
static char *
s_peer_certificate (const char *folder, char *error, size_t size)
{
    DIR *dir = opendir (folder);
    if (!dir) {
        snprintf (error, size, "%s", strerror (errno));
        return NULL;
    }
    char *found = NULL;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        size_t length = strlen (entry->d_name);
        if (entry->d_name [0] == '.'
        ||  (length >= 7 && streq (entry->d_name + length - 7, "_secret")))
            continue;
        //  Regular files only (a subfolder is not a certificate)
        char *path = zsys_sprintf ("%s/%s", folder, entry->d_name);
        struct stat status;
        if (path && stat (path, &status) == 0 && S_ISREG (status.st_mode) && ++count == 1)
            found = path;
        else
            zstr_free (&path);
    }
    closedir (dir);
    if (count != 1) {
        snprintf (error, size, "holds %d public certificates: put the peer's, and only "
                  "it, there", count);
        zstr_free (&found);
    }
    return found;
}

//  CURVE on the pair's link goes with CURVE on the bus: this bridge's bus
//  key, and the peer's public certificate, alone in OVHOOK_HA_KEYS
static void
s_check_ha_keys (ovh_config_t *self, const char *values [S_COUNT], const bool given [S_COUNT],
                 const bool valid [S_COUNT])
{
    if (given [S_HA_KEYS] && !given [S_BUS_KEY]) {
        s_property_error (self, S_HA_KEYS, values [S_HA_KEYS], "Needs OVHOOK_BUS_KEY: the "
                          "pair's link uses CURVE with the bus's key");
        return;
    }
    if (!given [S_BUS_KEY] || !valid [S_BUS_KEY])
        return;
    if (!given [S_HA_KEYS]) {
        s_property_error (self, S_HA_KEYS, "", "Needed with OVHOOK_HA and OVHOOK_BUS_KEY: the "
                          "folder of the peer's public certificate (CURVE on the pair's link)");
        return;
    }
    if (!valid [S_HA_KEYS])
        return;
    char error [512];
    char *certificate = s_peer_certificate (self->ha_keys, error, sizeof error);
    if (certificate) {
        self->ha_link_keys = ovh_buskeys_new (self->bus_key, certificate, error, sizeof error);
        free (certificate);
    }
    if (!self->ha_link_keys)
        s_property_error (self, S_HA_KEYS, values [S_HA_KEYS], "Cannot be used: %s", error);
}

//  The pair's settings together: a role needs both ends of the link, and
//  the link's ends mean nothing without a role
static void
s_check_ha (ovh_config_t *self, const char *values [S_COUNT], const bool given [S_COUNT],
            const bool valid [S_COUNT])
{
    if (!given [S_HA]) {
        s_id_t needing [] = { S_HA_BIND, S_HA_PEER, S_HA_KEYS };
        for (size_t index = 0; index < 3; index++)
            if (given [needing [index]])
                s_property_error (self, needing [index], values [needing [index]],
                                  "Needs OVHOOK_HA: without a role the bridge is not one of "
                                  "a pair");
        return;
    }
    if (!valid [S_HA])
        return;
    s_id_t needed [] = { S_HA_BIND, S_HA_PEER };
    for (size_t index = 0; index < 2; index++)
        if (!given [needed [index]])
            s_property_error (self, needed [index], "", "Needed with OVHOOK_HA=%s: %s",
                              values [S_HA], index == 0? "where the peer hears this bridge"
                              : "where this bridge hears the peer");
    s_check_ha_keys (self, values, given, valid);
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
    //  Flags beat the environment, which beats the env file. A flag-only
    //  setting (--redeliver) is an action for this run: no variable or
    //  file line may ask for it on every start.
    const char *values [S_COUNT];
    bool given [S_COUNT];           //  not empty, and not the default
    for (int id = 0; id < S_COUNT; id++) {
        const char *name = ovh_config_settings [id].name;
        values [id] = args.values [id];
        if (!values [id] && name)
            values [id] = s_getenv (envp, name);
        if (!values [id] && name && dotenv)
            values [id] = ovh_dotenv_get (dotenv, name);
        given [id] = values [id] && *values [id];
        if (!values [id])
            values [id] = ovh_config_settings [id].def;
    }
    s_from_file_t files [] = {
        { S_HEADERS_FILE, S_HEADERS, NULL }, { S_SECRET_FILE, S_SECRET, NULL }
    };
    bool valid [S_COUNT];
    for (s_id_t id = 0; id < S_COUNT; id++) {
        //  A file's errors come where its target's would
        s_id_t named = id;
        for (size_t index = 0; index < sizeof files / sizeof files [0]; index++)
            if (files [index].target == id) {
                s_read_setting_file (self, &files [index], values, given);
                if (files [index].text)
                    named = files [index].file_id;
            }
        valid [id] = s_check (self, id, values [id], named, values [named]);
        //  OpenVidu checks this one after the other three; a wrong endpoint
        //  has had its own error already
        const char *endpoint = values [S_ENDPOINT];
        if (id == S_EVENTS && self->webhook && endpoint [strspn (endpoint, " \t")] == '\0')
            s_property_error (self, S_ENDPOINT, endpoint,
                              "With OPENVIDU_WEBHOOK=true, this property cannot be empty");
    }
    s_not_less (self, S_QUEUE_BYTES, S_MAX_FRAME, values [S_QUEUE_BYTES], valid);
    s_not_less (self, S_RETRY_MAX, S_RETRY_INITIAL, values [S_RETRY_MAX], valid);
    s_check_bus_security (self, values, given, valid);
    s_check_ha (self, values, given, valid);
    if (self->redeliver && !self->spool && !self->dead_letter)
        s_add_error (self, strdup ("Option '--redeliver' needs OVHOOK_SPOOL or "
                                   "OVHOOK_DEAD_LETTER: there is nothing to redeliver"));
    for (size_t index = 0; index < sizeof files / sizeof files [0]; index++)
        zstr_free (&files [index].text);
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

void
ovh_config_print (ovh_config_t *self, FILE *file)
{
    assert (self);
    assert (file);
    for (s_id_t id = 0; id < S_COUNT; id++) {
        const ovh_config_setting_t *setting = &ovh_config_settings [id];
        if (!setting->name)
            continue;           //  --redeliver: an action, not a setting to keep
        char text [32], *made = NULL;   //  'made' is allocated for this line
        const char *value = text;
        void *field = s_field (self, id);
        switch (setting->kind) {
            case K_BOOL:    value = *(bool *) field? "true": "false"; break;
            case K_SYNC:    value = *(bool *) field? "full": "normal"; break;
            case K_LOG_FORMAT: value = *(bool *) field? "json": "text"; break;
            case K_SHARD: {
                const ovh_shard_t *shard = (const ovh_shard_t *) field;
                if (shard->count > 1)
                    snprintf (text, sizeof text, "%d/%d", shard->index, shard->count);
                else
                    *text = 0;
                break;
            }
            case K_HTTP_VERSION:
                value = ovh_config_format_http_version (*(int *) field);
                break;
            case K_URL:     value = made = ovh_config_format_url (self->endpoint); break;
            case K_HEADERS: value = made = ovh_config_format_headers (self->headers); break;
            case K_EVENTS:  value = made = ovh_config_format_events (self->events); break;
            case K_BUS:
            case K_CA:
            case K_FOLDER:
            case K_LISTEN:
            case K_HA:
            case K_ENDPOINTS:
            case K_PATH:    value = *(char **) field; break;
            case K_KEY:
                //  The public key, for the other side's folder or
                //  --bus-server-key; a comment, so that the output still
                //  reads as an env file
                value = *(char **) field;
                if (value && self->bus_keys)
                    value = made = zsys_sprintf ("%s   # public key: %s", value,
                                                 ovh_buskeys_public (self->bus_keys));
                break;
            case K_SECRET:  value = *(char **) field? "****": NULL; break;
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
        fprintf (file, "%s=%s\n", setting->name, value? value: "");
        free (made);
    }
}
