/*  ovh_dlstore.h - the dead letters of a spool or of a dead-letter file,
    read and purged by a one-shot command (ovh_dlcommand) while a bridge
    may be running on the same store.

    A spool is opened through SQLite only, never with the bridge's own
    spool class: read-only for reading (a running bridge does not notice),
    with a busy handler. A purge is one short transaction that deletes
    rows by row id and webhook id, and is refused while a bridge runs on
    the spool: the bridge never waits for SQLite's write lock, and a batch
    it could not write would lose the dead letters it buried from memory.
    The purge holds the bridge's flock on the database meanwhile, so that
    no bridge starts on it halfway.

    A file is read up to its size at the start. A purge takes an exclusive
    flock on it, which the bridge's writer respects (it appends under a
    shared one and looks again whether the path still names its file),
    writes the lines it keeps to PATH.purging-<pid>, fsyncs and renames it
    over PATH: the writer's next batch goes to the new file.                */

#ifndef OVH_DLSTORE_H_INCLUDED
#define OVH_DLSTORE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <czmq.h>
#include "ovh_dlselect.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ovh_dlstore_t ovh_dlstore_t;

//  Called for each dead letter selected, in the store's order (row id,
//  line). Return 0 to go on, -1 to stop.
typedef int (ovh_dlstore_fn) (void *arg, const ovh_dlrecord_t *record);

//  Open the spool at 'spool', or else the dead-letter file at 'file';
//  'writable' for a purge. Returns NULL with one line naming the store and
//  what is wrong in 'error' ("spool PATH: does not exist", "spool PATH:
//  not an ovhook spool (not an SQLite database)").
ovh_dlstore_t *
    ovh_dlstore_new (const char *spool, const char *file, bool writable,
                     char *error, size_t size);
void
    ovh_dlstore_destroy (ovh_dlstore_t **self_p);

//  "spool PATH" or "dead-letter file PATH", as errors name it
const char *
    ovh_dlstore_name (ovh_dlstore_t *self);

//  Hand each dead letter 'selection' selects (NULL: all) to 'fn'. Returns
//  the number handed over, or -1 with the reason in 'error'. Lines of the
//  file that cannot be read are left out, each named in
//  ovh_dlstore_problems.
int
    ovh_dlstore_each (ovh_dlstore_t *self, ovh_dlselect_t *selection,
                      ovh_dlstore_fn *fn, void *arg, char *error, size_t size);

//  Remove the dead letters 'selection' selects (NULL: all). Lines of the
//  file that cannot be read stay in it (named in ovh_dlstore_problems).
//  Returns the number removed, or -1 with the reason in 'error' (then
//  nothing was removed).
int
    ovh_dlstore_purge (ovh_dlstore_t *self, ovh_dlselect_t *selection,
                       char *error, size_t size);

//  What the last pass over a file could not read, one line each: "dead-
//  letter file PATH line N: <what is wrong>"
zlist_t *
    ovh_dlstore_problems (ovh_dlstore_t *self);

//  The dead-letter file's line for a record, with its newline: the line
//  itself for a file's record, one made as the bridge writes them for a
//  spool's. Caller frees; NULL when out of memory.
char *
    ovh_dlstore_line (const ovh_dlrecord_t *record, size_t *line_size);

#ifdef __cplusplus
}
#endif
#endif
