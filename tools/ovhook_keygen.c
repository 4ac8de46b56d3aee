/*  ovhook_keygen.c - ovhook-keygen: a CurveZMQ certificate pair for the
    bus, in CZMQ's certificate format:

    ovhook-keygen [--meta KEY=VALUE]... [--src-prefix PREFIX] NAME

    writes NAME (the public certificate: for the --bus-allow folder of the
    servers this program connects to, or as their --bus-server-key) and
    NAME_secret (mode 0600: this program's --bus-key). Existing files are
    never overwritten: both names are created exclusively, and a failure
    removes what this run created.

    Exit status: 0 written, 1 a file exists or cannot be written, 2 usage
    error.                                                                  */

#include <czmq.h>
#include <fcntl.h>
#include "ovhook.h"
#include "ovh_buskeys.h"
#include "ovh_cli.h"

#define NAME "ovhook-keygen"

typedef struct {
    const char *name;           //  the NAME operand
    zlist_t *meta;              //  "key=value" texts, from argv
    const char *src_prefix;
} keygen_t;

static void
s_usage (FILE *file)
{
    fprintf (file,
        "Usage: " NAME " [--meta KEY=VALUE]... [--src-prefix PREFIX] NAME\n"
        "Write a CurveZMQ certificate pair for the ovhook bus: NAME, the public\n"
        "certificate (put it in the --bus-allow folder of the servers this\n"
        "program connects to, or give it to clients as --bus-server-key), and\n"
        "NAME_secret, mode 0600 (this program's --bus-key). Existing files are\n"
        "never overwritten.\n\n"
        "  --meta KEY=VALUE    metadata written into both files (repeatable)\n"
        "  --src-prefix P      the same as --meta src-prefix=P: a publisher with\n"
        "                      this key may use only envelope src values that\n"
        "                      start with P ('*': any src, for a relay)\n"
        "  --log-format F      log lines as text (the default) or json\n"
        "  --help, --version\n");
}

static int
s_operand (void *self_, char *arg)
{
    keygen_t *self = (keygen_t *) self_;
    if (self->name)
        return ovh_cli_usage_error (NAME, "one NAME only, not '%s' too", arg);
    if (!*arg)
        return ovh_cli_usage_error (NAME, "NAME is empty");
    self->name = arg;
    return -1;
}

//  A metadata key as CZMQ's certificate format (ZPL) takes it
static bool
s_valid_key (const char *key, size_t size)
{
    if (size == 0 || size > 255)
        return false;
    for (size_t index = 0; index < size; index++)
        if (!isalnum ((unsigned char) key [index]) && !strchr ("-_.", key [index]))
            return false;
    return true;
}

//  A value ZPL can quote: printable, no double quote
static bool
s_valid_value (const char *value)
{
    for (const char *cursor = value; *cursor; cursor++)
        if ((unsigned char) *cursor < 0x20 || *cursor == '"' || *cursor == 0x7f)
            return false;
    return strlen (value) <= 1024;
}

//  The metadata into the certificate; 0, or 2 after a usage error
static int
s_set_meta (keygen_t *self, zcert_t *cert)
{
    for (const char *item = (const char *) zlist_first (self->meta); item;
         item = (const char *) zlist_next (self->meta)) {
        const char *equals = strchr (item, '=');
        if (!equals || !s_valid_key (item, (size_t) (equals - item)))
            return ovh_cli_usage_error (NAME, "--meta needs KEY=VALUE with a KEY of letters, "
                                        "digits, '-', '_' or '.', not '%s'", item);
        if (!s_valid_value (equals + 1))
            return ovh_cli_usage_error (NAME, "--meta value in '%s' has a control character "
                                        "or a double quote", item);
        char key [256];
        snprintf (key, sizeof key, "%.*s", (int) (equals - item), item);
        zcert_set_meta (cert, key, "%s", equals + 1);
    }
    if (self->src_prefix) {
        if (!*self->src_prefix || !s_valid_value (self->src_prefix))
            return ovh_cli_usage_error (NAME, "--src-prefix needs a printable prefix, not '%s'",
                                        self->src_prefix);
        zcert_set_meta (cert, OVH_BUSKEYS_SRC_PREFIX, "%s", self->src_prefix);
    }
    return 0;
}

//  Create 'path' exclusively with 'mode'; 0, or -1 (reported)
static int
s_claim (const char *path, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd == -1) {
        if (errno == EEXIST)
            fprintf (stderr, NAME ": %s exists: not overwritten\n", path);
        else
            fprintf (stderr, NAME ": cannot create %s: %s\n", path, strerror (errno));
        return -1;
    }
    close (fd);
    return 0;
}

//  Both files, or none
static int
s_write (const char *name, zcert_t *cert)
{
    char *secret = zsys_sprintf ("%s_secret", name);
    if (!secret)
        return -1;
    int rc = -1;
    if (s_claim (secret, 0600) == 0) {
        if (s_claim (name, 0644) == 0) {
            //  zcert_save_* write into the files claimed above, keeping
            //  their modes (fopen "w" truncates an existing file)
            if (zcert_save_secret (cert, secret) == 0 && zcert_save_public (cert, name) == 0
            &&  chmod (secret, 0600) == 0)
                rc = 0;
            else {
                fprintf (stderr, NAME ": cannot write %s: %s\n", name, strerror (errno));
                unlink (name);
            }
        }
        if (rc)
            unlink (secret);
    }
    zstr_free (&secret);
    return rc;
}

int
main (int argc, char *argv [])
{
    keygen_t self = { .meta = zlist_new () };
    assert (self.meta);
    const ovh_cli_option_t table [] = {
        { .name = "--meta", .type = OVH_CLI_LIST, .target = self.meta, .needs = "KEY=VALUE" },
        { .name = "--src-prefix", .type = OVH_CLI_STRING, .target = &self.src_prefix },
        { .name = NULL }
    };
    ovh_cli_t cli = { NAME, s_usage, table, s_operand, &self, false };
    int status = ovh_cli_parse (&cli, argc, argv);
    if (status < 0 && !self.name)
        status = ovh_cli_usage_error (NAME, "NAME is missing");
    zcert_t *cert = status < 0? zcert_new (): NULL;
    if (status < 0 && !cert) {
        fprintf (stderr, NAME ": cannot make a key pair\n");
        status = 1;
    }
    if (status < 0 && s_set_meta (&self, cert))
        status = 2;
    if (status < 0) {
        (void) ovh_cli_start (NAME);      //  fails only with --log-file
        status = s_write (self.name, cert) == 0? 0: 1;
        if (status == 0)
            printf ("%s: wrote %s and %s_secret (mode 0600), public key %s\n", NAME,
                    self.name, self.name, zcert_public_txt (cert));
    }
    zcert_destroy (&cert);
    zlist_destroy (&self.meta);
    return status;
}
