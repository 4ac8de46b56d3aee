/*  ovh_spool_private.h - what the files of the spool class share: its
    statements and its state. ovh_spool_open.c opens, checks and closes the
    file and applies the delivery receipts; ovh_spool.c writes and reads it.
    Not for other classes.                                                   */

#ifndef OVH_SPOOL_PRIVATE_H_INCLUDED
#define OVH_SPOOL_PRIVATE_H_INCLUDED

#include <sqlite3.h>
#include "ovh_spool.h"
#include "ovh_receipts.h"
#include "ovh_reserve.h"

typedef enum {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
    ST_INSERT, ST_REMOVE, ST_ATTEMPTS, ST_BURY, ST_MOVE_DEAD,
    ST_LOAD, ST_EVENTS, ST_DEAD, ST_BYTES, ST_FREE, ST_OLDEST, ST_LAST_ROW,
    ST_SHIFT, ST_REDELIVER, ST_CLEAR_DEAD, ST_SETTLE, ST_BUMP, ST_COMMITS, ST_REMOVE_ID,
    ST_COUNT
} statement_t;

struct _ovh_spool_t {
    sqlite3 *db;
    sqlite3_stmt *stmt [ST_COUNT];
    char *path;
    char *wal_path;                 //  path + "-wal"
    size_t max_bytes;
    //  The next rowid we give. SQLite would give max(rowid) + 1, which
    //  reuses the number of a deleted last row or of a rolled-back batch;
    //  ours only grows, so a row number names one event for as long as the
    //  spool is open: a stale number never touches another event's row,
    //  and the rows above a number are those inserted after it
    int64_t next_row;
    ovh_receipts_t *receipts;       //  PATH.delivered
    //  A batch holding removals was rolled back: its receipts must be
    //  applied again from the file before they are cleared
    bool unsettled;
    char error [256];               //  the last failure's reason
    size_t wal_limit;               //  bytes the WAL is truncated to
    size_t disk_reserve;            //  free disk kept for removals and checkpoints
    bool disk_low;                  //  under it, as of the last check
    ovh_reserve_t *reserve;         //  PATH.reserve, NULL if it cannot be made
    //  The files (ovh_spool_files.c)
    int db_fd;                      //  the database, flock'ed: one bridge per inode
    int lock_fd;                    //  PATH.lock, flock'ed too; holds the commit record
    bool created;                   //  we made the database file
    bool locked;                    //  we hold the database's flock
    unsigned existed;               //  bit per beside name (SIDE_*): there before us
    int64_t commits;                //  batches committed, as the database counts them
};

//  The names beside the database, in the order of the bits of 'existed'
typedef enum {
    SIDE_WAL, SIDE_SHM, SIDE_JOURNAL, SIDE_DELIVERED, SIDE_RESERVE, SIDE_LOCK, SIDE_COUNT
} side_t;

//  Check every name the spool uses, then open and lock the database file
//  and PATH.lock, creating them (0600) if absent; an existing spool that
//  others may read is made private (0600, with a warning). 0, or -1 with the reason
//  (without the "cannot use spool PATH: " heading) in 'error'.
int
    ovh_spool_files_open (ovh_spool_t *self, char *error, size_t error_size);
//  After the database was read: refuse a database behind the commit
//  record of PATH.lock (its WAL lost commits), then record its count.
//  0, or -1 with the reason in 'error'.
int
    ovh_spool_files_compare (ovh_spool_t *self, char *error, size_t error_size);
//  Write the commit record (self->commits, self->next_row) into PATH.lock
void
    ovh_spool_files_record (ovh_spool_t *self);
//  Close the files (after SQLite closed its own: closing any fd of the
//  database drops SQLite's POSIX locks). 'failed': remove every file this
//  start created, and nothing that was there before.
void
    ovh_spool_files_close (ovh_spool_t *self, bool failed);

//  Step a statement that returns no row, then reset it. 0, or -1 with
//  the reason in self->error (not logged).
int
    ovh_spool_run (ovh_spool_t *self, sqlite3_stmt *stmt);
//  A write of a batch: on failure the whole batch is rolled back. 0 or -1.
int
    ovh_spool_write (ovh_spool_t *self, sqlite3_stmt *stmt);
//  Step a statement that returns one integer (-1 on error, logged)
int64_t
    ovh_spool_count (ovh_spool_t *self, statement_t index);
//  COMMIT the open batch, or roll it back if that fails. 0 or -1.
int
    ovh_spool_commit_batch (ovh_spool_t *self);
//  Apply the receipts file in a batch of its own, then clear it. Returns
//  the number of rows removed, or -1.
int
    ovh_spool_settle (ovh_spool_t *self);

#endif
