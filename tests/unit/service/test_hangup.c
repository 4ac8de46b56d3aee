/*  test_hangup.c - SIGHUP (ovh_hangup): the process goes on, the log file
    is reopened by its name, once per check.                                */

#include <signal.h>
#include <unistd.h>
#include <czmq.h>
#include "ovh_test.h"
#include "ovh_log.h"
#include "ovh_hangup.h"

static bool
s_contains (const char *path, const char *text)
{
    char buffer [4096] = "";
    FILE *file = fopen (path, "r");
    if (!file)
        return false;
    size_t size = fread (buffer, 1, sizeof buffer - 1, file);
    buffer [size] = 0;
    fclose (file);
    return strstr (buffer, text) != NULL;
}

int
main (void)
{
    char folder [] = "/tmp/test_hangup.XXXXXX";
    REQUIRE (mkdtemp (folder));
    char path [128], rotated [128], error [256];
    snprintf (path, sizeof path, "%s/x.log", folder);
    snprintf (rotated, sizeof rotated, "%s/x.log.1", folder);
    REQUIRE (ovh_log_set_file (path, error, sizeof error) == 0);

    ovh_hangup_t *hangup = ovh_hangup_new ();
    CHECK (!ovh_hangup_check (hangup));
    ovh_log_info ("first");
    REQUIRE (rename (path, rotated) == 0);
    //  Two signals before a check: one reopen
    raise (SIGHUP);
    raise (SIGHUP);
    CHECK (ovh_hangup_check (hangup));
    CHECK (!ovh_hangup_check (hangup));
    ovh_log_info ("second");
    CHECK (s_contains (rotated, " first\n") && !s_contains (rotated, "second"));
    CHECK (s_contains (path, "SIGHUP: log file reopened") && s_contains (path, " second\n"));
    ovh_hangup_destroy (&hangup);
    CHECK (hangup == NULL);
    //  Still no default action after the destroy
    raise (SIGHUP);

    ovh_log_close ();
    unlink (path);
    unlink (rotated);
    rmdir (folder);
    return ovh_test_done ("test_hangup");
}
