/*  ovh_dlcommand.h - dead letters without sqlite3 by hand:

        ovhook-bridge --dead-letters list [--json] [FILTER]...
        ovhook-bridge --dead-letters show ID [--json]
        ovhook-bridge --dead-letters export FILE [FILTER]...
        ovhook-bridge --dead-letters purge [FILTER]...
        ovhook-bridge --redeliver [FILTER]...   (the bridge, then runs)

    on the store the bridge uses (--spool PATH, else --dead-letter FILE,
    from flags, environment or --env-file as the bridge takes them). The
    FILTERs are ovh_dlselect's. A command is one-shot: it neither starts
    the bridge nor touches the bus or the endpoint, and is safe while a
    bridge runs on the same store (see ovh_dlstore.h).

    Exit status: 0; 1 when the store cannot be used, an ID is not found,
    the export FILE exists, or lines of the file could not be read (each
    named on stderr; the command did what it could with the others); 2
    when the command line is wrong.                                         */

#ifndef OVH_DLCOMMAND_H_INCLUDED
#define OVH_DLCOMMAND_H_INCLUDED

#include <stdbool.h>
#include <stdio.h>
#include "ovh_dlselect.h"
#include "ovh_deadletter.h"
#include "ovh_spool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ovh_dlcommand_t ovh_dlcommand_t;

//  No command, no filter. NULL when out of memory.
ovh_dlcommand_t *
    ovh_dlcommand_new (void);
void
    ovh_dlcommand_destroy (ovh_dlcommand_t **self_p);

//  Take the command's options out of argv (--dead-letters CMD [ARG],
//  --json, the filters), moving the others down for the bridge's
//  configuration; *argc is updated and argv [*argc] set to NULL. Returns
//  0, or -1 with what is wrong in 'error' (a bad filter, a missing ID).
int
    ovh_dlcommand_take_args (ovh_dlcommand_t *self, int *argc, char *argv [],
                             char *error, size_t size);

//  True when --dead-letters was given: run the command instead of the bridge
bool
    ovh_dlcommand_wanted (ovh_dlcommand_t *self);

//  The filters given (for a selective --redeliver)
ovh_dlselect_t *
    ovh_dlcommand_selection (ovh_dlcommand_t *self);

//  Run the command on the spool at 'spool', or else the file at 'file'
//  (both NULL: an error). Output to 'out', errors to 'err', each line of
//  those "ovhook-bridge: ..." naming what is wrong and where. Returns the
//  exit status.
int
    ovh_dlcommand_run (ovh_dlcommand_t *self, const char *spool, const char *file,
                       FILE *out, FILE *err);

//  --redeliver on a file: retire 'path' (ovh_deadletter_retire_as), read
//  the retired file back, hand the selected lines to 'post' in their
//  original order per key, and append the others to a new file at 'path',
//  where they stay dead letters. Logs what it did. Returns the number
//  handed over, or -1 (logged).
int
    ovh_dlcommand_redeliver_file (ovh_dlcommand_t *self, const char *path,
                                  ovh_deadletter_fn *post, void *arg);

//  --redeliver on a spool: the selected dead letters (all without a
//  filter) back to its events; logs what it did. Returns the count, or -1
//  with the reason in ovh_spool_error.
int
    ovh_dlcommand_redeliver_spool (ovh_dlcommand_t *self, ovh_spool_t *spool);

//  The command's part of --help
void
    ovh_dlcommand_usage (FILE *file);

#ifdef __cplusplus
}
#endif
#endif
