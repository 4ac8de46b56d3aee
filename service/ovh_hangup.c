/*  ovh_hangup.c - SIGHUP reopens the log file (logrotate's postrotate).

    The handler only sets a flag (nothing else is async-signal-safe); the
    main loop, which wakes at least once a second, does the reopening. It
    is installed with SA_RESTART, but calls such as poll () still return
    EINTR: the loops that wait already go on after one.                    */

#include <signal.h>
#include <czmq.h>
#include "ovh_log.h"
#include "ovh_hangup.h"

struct _ovh_hangup_t {
    uint64_t reopens;               //  done so far
};

static volatile sig_atomic_t s_hangups;

static void
s_on_hangup (int signal_number)
{
    (void) signal_number;
    s_hangups = 1;
}

ovh_hangup_t *
ovh_hangup_new (void)
{
    ovh_hangup_t *self = (ovh_hangup_t *) zmalloc (sizeof (ovh_hangup_t));
    assert (self);
    struct sigaction hangup = { .sa_handler = s_on_hangup, .sa_flags = SA_RESTART };
    sigemptyset (&hangup.sa_mask);
    sigaction (SIGHUP, &hangup, NULL);
    return self;
}

void
ovh_hangup_destroy (ovh_hangup_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

bool
ovh_hangup_check (ovh_hangup_t *self)
{
    assert (self);
    if (!s_hangups)
        return false;
    s_hangups = 0;
    self->reopens++;
    char error [512];
    int rc = ovh_log_reopen (error, sizeof error);
    if (rc < 0)
        ovh_log_error ("SIGHUP: %s; logging on to the old file", error);
    else
        ovh_log_info (rc ? "SIGHUP: no log file to reopen (logs go to stderr)"
                         : "SIGHUP: log file reopened");
    return true;
}
