/*  ovh_dlstore_private.h - what the files of the dlstore class share: its
    state. ovh_dlstore.c opens the stores and reads and purges a spool;
    ovh_dlstore_file.c reads and purges a dead-letter file. Not for other
    classes.                                                                */

#ifndef OVH_DLSTORE_PRIVATE_H_INCLUDED
#define OVH_DLSTORE_PRIVATE_H_INCLUDED

#include <sqlite3.h>
#include "ovh_dlstore.h"

//  How long a command waits for a lock (SQLite's, or the file's flock
//  while the bridge appends a batch): a batch takes milliseconds
#define LOCK_WAIT_MSECS 10000

struct _ovh_dlstore_t {
    char *name;                 //  "spool PATH" or "dead-letter file PATH"
    char *path;
    sqlite3 *db;                //  a spool; NULL for a file
    int fd;                     //  a file, or a spool being purged (its flock); else -1
    zlist_t *problems;
};

//  ovh_dlstore_each and ovh_dlstore_purge for a file
int
    ovh_dlstore_file_each (ovh_dlstore_t *self, ovh_dlselect_t *selection,
                           ovh_dlstore_fn *fn, void *arg, char *error, size_t size);
int
    ovh_dlstore_file_purge (ovh_dlstore_t *self, ovh_dlselect_t *selection,
                            char *error, size_t size);

#endif
