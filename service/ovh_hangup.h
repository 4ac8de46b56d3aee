/*  ovh_hangup.h - SIGHUP, as daemons take it: reopen the log file (and
    whatever else the program appends to), never stop.                     */

#ifndef OVH_HANGUP_H_INCLUDED
#define OVH_HANGUP_H_INCLUDED

#include <stdbool.h>

typedef struct _ovh_hangup_t ovh_hangup_t;

//  Installs the process's SIGHUP handler (one instance per process): from
//  now on a SIGHUP only marks a reopen as due. Install it while SIGHUP is
//  blocked, or early, so that no SIGHUP finds the default action (which
//  ends the process).
ovh_hangup_t *
    ovh_hangup_new (void);
//  The handler stays: a late SIGHUP must not end a process on its way out
void
    ovh_hangup_destroy (ovh_hangup_t **self_p);

//  Call it from the main loop. After one SIGHUP or more since the last
//  call: reopens the log file (ovh_log_reopen; a failure is logged and the
//  old file kept), logs it, and returns true so that the caller reopens
//  its own files. Else returns false.
bool
    ovh_hangup_check (ovh_hangup_t *self);

#endif
