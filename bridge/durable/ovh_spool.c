/*  ovh_spool.c - the durable queue in SQLite: writes in batches, loading,
    counts (see ovh_spool.h; opening and closing in ovh_spool_open.c).      */

#include <czmq.h>
#include <sys/statvfs.h>
#include "ovh_log.h"
#include "ovh_spool_private.h"

//  Rows with an unknown type moved per pass of ovh_spool_load
#define SPOOL_UNKNOWN_BATCH 32

//  ---------------------------------------------------------------------
//  Writes

//  Step a statement that returns no row, then reset it. 0, or -1 with the
//  reason kept for ovh_spool_error (callers decide what to log: a failing
//  disk is retried every second, and must not fill the log)
int
ovh_spool_run (ovh_spool_t *self, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    if (rc == SQLITE_DONE)
        return 0;
    snprintf (self->error, sizeof self->error, "%s", sqlite3_errmsg (self->db));
    return -1;
}

//  After a failed write or COMMIT, which may leave the transaction open:
//  roll it back, keeping the first error's words, so that the caller knows
//  where it stands (none of the batch is on disk). Returns -1.
static int
s_end_failed_batch (ovh_spool_t *self)
{
    char reason [sizeof self->error];
    memcpy (reason, self->error, sizeof reason);
    if (ovh_spool_in_transaction (self))
        ovh_spool_run (self, self->stmt [ST_ROLLBACK]);
    memcpy (self->error, reason, sizeof reason);
    self->unsettled = true;
    return -1;
}

//  A write of a batch. SQLite rolls the whole transaction back itself on
//  some errors (a full disk, I/O errors) and only the statement on others;
//  ending it in every case gives the caller one rule: after a failed
//  write, nothing of the batch is on disk
int
ovh_spool_write (ovh_spool_t *self, sqlite3_stmt *stmt)
{
    if (ovh_spool_run (self, stmt) == 0)
        return 0;
    return s_end_failed_batch (self);
}

//  Step a statement that returns one integer, then reset it
int64_t
ovh_spool_count (ovh_spool_t *self, statement_t index)
{
    sqlite3_stmt *stmt = self->stmt [index];
    int64_t value = -1;
    if (sqlite3_step (stmt) == SQLITE_ROW)
        value = sqlite3_column_int64 (stmt, 0);
    else
        ovh_log_error ("spool %s: %s (%s)", self->path, sqlite3_errmsg (self->db),
                       sqlite3_sql (stmt));
    sqlite3_reset (stmt);
    return value;
}

bool
ovh_spool_in_transaction (ovh_spool_t *self)
{
    assert (self);
    return !sqlite3_get_autocommit (self->db);
}

int
ovh_spool_begin (ovh_spool_t *self)
{
    assert (self);
    if (ovh_spool_in_transaction (self))
        return 0;
    return ovh_spool_run (self, self->stmt [ST_BEGIN]);
}

int
ovh_spool_commit_batch (ovh_spool_t *self)
{
    if (!ovh_spool_in_transaction (self))
        return 0;
    //  Counted in the batch, recorded outside the WAL once committed
    if ((!self->stmt [ST_BUMP] || ovh_spool_run (self, self->stmt [ST_BUMP]) == 0)
    &&  ovh_spool_run (self, self->stmt [ST_COMMIT]) == 0) {
        self->commits++;
        ovh_spool_files_record (self);
        return 0;
    }
    //  A failed COMMIT (disk full, I/O error)
    return s_end_failed_batch (self);
}

int
ovh_spool_commit (ovh_spool_t *self)
{
    assert (self);
    if (ovh_spool_commit_batch (self))
        return -1;
    //  Every removal with a receipt is now on disk, unless a batch was
    //  rolled back since the receipts were last cleared: then the file
    //  says which to do again
    if (self->receipts && ovh_receipts_pending (self->receipts)) {
        if (self->unsettled)
            ovh_spool_settle (self);
        else
            ovh_receipts_clear (self->receipts);
    }
    return 0;
}

//  The six columns an event has, as ?1..?6 (the json as a BLOB). The
//  buffers are the item's: SQLITE_STATIC, no copy; every parameter is
//  bound again before each use, so a stale pointer is never read
static void
s_bind_item (sqlite3_stmt *stmt, const ovh_item_t *item)
{
    sqlite3_bind_text (stmt, 1, item->id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, item->type->name, (int) item->type->name_size, SQLITE_STATIC);
    if (item->has_key)
        sqlite3_bind_text (stmt, 3, item->key, (int) item->key_size, SQLITE_STATIC);
    else
        sqlite3_bind_null (stmt, 3);
    sqlite3_bind_blob (stmt, 4, item->json, (int) item->json_size, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 5, item->accepted_ms);
    sqlite3_bind_int (stmt, 6, item->attempts);
}

int64_t
ovh_spool_insert (ovh_spool_t *self, const ovh_item_t *item)
{
    assert (self);
    assert (item);
    sqlite3_stmt *stmt = self->stmt [ST_INSERT];
    s_bind_item (stmt, item);
    int64_t row = self->next_row++;
    sqlite3_bind_int64 (stmt, 7, row);
    return ovh_spool_write (self, stmt) ? -1 : row;
}

int
ovh_spool_remove (ovh_spool_t *self, int64_t row)
{
    assert (self);
    sqlite3_stmt *stmt = self->stmt [ST_REMOVE];
    sqlite3_bind_int64 (stmt, 1, row);
    return ovh_spool_write (self, stmt);
}

int
ovh_spool_remove_id (ovh_spool_t *self, const char *id)
{
    assert (self);
    assert (id);
    sqlite3_stmt *stmt = self->stmt [ST_REMOVE_ID];
    sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
    if (ovh_spool_write (self, stmt))
        return -1;
    return sqlite3_changes (self->db);
}

int
ovh_spool_index_ids (ovh_spool_t *self)
{
    assert (self);
    char *message = NULL;
    if (sqlite3_exec (self->db, "CREATE INDEX IF NOT EXISTS events_id ON events (id)",
                      NULL, NULL, &message) == SQLITE_OK)
        return 0;
    snprintf (self->error, sizeof self->error, "%s",
              message ? message : sqlite3_errmsg (self->db));
    sqlite3_free (message);
    return -1;
}

void
ovh_spool_receipt (ovh_spool_t *self, int64_t row, const char *id)
{
    assert (self);
    assert (id);
    ovh_receipts_add (self->receipts, row, id);
}

int
ovh_spool_delivered (ovh_spool_t *self, int64_t row, const char *id)
{
    ovh_spool_receipt (self, row, id);
    return ovh_spool_remove (self, row);
}

int
ovh_spool_write_receipts (ovh_spool_t *self)
{
    assert (self);
    return ovh_receipts_flush (self->receipts);
}

int
ovh_spool_set_attempts (ovh_spool_t *self, int64_t row, int attempts)
{
    assert (self);
    sqlite3_stmt *stmt = self->stmt [ST_ATTEMPTS];
    sqlite3_bind_int64 (stmt, 1, row);
    sqlite3_bind_int (stmt, 2, attempts);
    return ovh_spool_write (self, stmt);
}

int
ovh_spool_bury (ovh_spool_t *self, const ovh_item_t *item, const char *last_error)
{
    assert (self);
    assert (item);
    sqlite3_stmt *stmt = self->stmt [ST_BURY];
    s_bind_item (stmt, item);
    sqlite3_bind_text (stmt, 7, last_error ? last_error : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 8, zclock_time ());
    if (ovh_spool_write (self, stmt))
        return -1;
    if (item->spool_row > 0)
        return ovh_spool_remove (self, item->spool_row);
    return 0;
}

//  ---------------------------------------------------------------------
//  Loading

//  Move rows whose type we don't know to the dead letters, in the open
//  batch or in one of their own
static int
s_move_dead (ovh_spool_t *self, const int64_t *rows, size_t count)
{
    bool own = !ovh_spool_in_transaction (self);
    if (own && ovh_spool_begin (self))
        return -1;
    int rc = 0;
    sqlite3_stmt *stmt = self->stmt [ST_MOVE_DEAD];
    for (size_t index = 0; index < count && rc == 0; index++) {
        sqlite3_bind_int64 (stmt, 1, rows [index]);
        sqlite3_bind_text (stmt, 2, "unknown event type", -1, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 3, zclock_time ());
        rc = ovh_spool_write (self, stmt);
        if (rc == 0)
            rc = ovh_spool_remove (self, rows [index]);
    }
    if (own && ovh_spool_commit (self))
        rc = -1;
    return rc;
}

int
ovh_spool_load (ovh_spool_t *self, int64_t after_row, size_t max,
                ovh_spool_load_fn *fn, void *arg)
{
    assert (self);
    assert (fn);
    if (max > INT_MAX)
        max = INT_MAX;              //  the count must fit the return value
    sqlite3_stmt *stmt = self->stmt [ST_LOAD];
    size_t loaded = 0;
    size_t moved = 0;               //  rows of unknown types
    char first [160] = "";
    //  Rows of unknown types are moved after the scan (changing a table
    //  under a running SELECT is undefined), then the scan goes on from
    //  where it stopped so that 'max' items come back if there are as many
    while (loaded < max) {
        int64_t unknown [SPOOL_UNKNOWN_BATCH];
        size_t unknowns = 0;
        size_t rows = 0;
        sqlite3_bind_int64 (stmt, 1, after_row);
        sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) (max - loaded));
        int rc;
        while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
            rows++;
            int64_t row = sqlite3_column_int64 (stmt, 0);
            const char *id = (const char *) sqlite3_column_text (stmt, 1);
            const char *name = (const char *) sqlite3_column_text (stmt, 2);
            size_t name_size = (size_t) sqlite3_column_bytes (stmt, 2);
            const ovh_event_type_t *type = name ? ovh_catalog_lookup (name, name_size) : NULL;
            after_row = row;
            if (!type || !id) {
                //  One warning per load, naming the first: a spool written
                //  by a newer version could hold thousands of these
                if (moved + unknowns == 0)
                    snprintf (first, sizeof first, "row %" PRId64 ", id %s, type '%.64s'",
                              row, id ? id : "(none)", name ? name : "(none)");
                unknown [unknowns++] = row;
                if (unknowns == SPOOL_UNKNOWN_BATCH)
                    break;
                continue;
            }
            const char *key = NULL;
            size_t key_size = 0;
            if (sqlite3_column_type (stmt, 3) != SQLITE_NULL) {
                key = (const char *) sqlite3_column_text (stmt, 3);
                key_size = (size_t) sqlite3_column_bytes (stmt, 3);
            }
            const char *json = (const char *) sqlite3_column_blob (stmt, 4);
            size_t json_size = (size_t) sqlite3_column_bytes (stmt, 4);
            ovh_item_t *item = ovh_item_restore (type, id, key, key_size,
                                                 json ? json : "", json_size,
                                                 sqlite3_column_int64 (stmt, 5),
                                                 sqlite3_column_int (stmt, 6));
            if (!item) {
                rc = SQLITE_NOMEM;
                break;
            }
            item->spool_row = row;
            loaded++;
            fn (arg, item);
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            ovh_log_error ("spool %s: cannot load events: %s", self->path,
                           rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg (self->db));
        sqlite3_reset (stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return -1;
        if (unknowns && s_move_dead (self, unknown, unknowns)) {
            ovh_log_error ("spool %s: cannot move events of an unknown type to the dead "
                           "letters: %s", self->path, ovh_spool_error (self));
            return -1;
        }
        moved += unknowns;
        if (unknowns == 0 || rows == 0)
            break;              //  the table has no more rows past after_row
    }
    if (moved)
        ovh_log_warning ("spool %s: %zu events of an unknown type moved to the dead letters"
                         " (first: %s)", self->path, moved, first);
    return (int) loaded;
}

//  ---------------------------------------------------------------------
//  Counts and the rest

size_t
ovh_spool_events (ovh_spool_t *self)
{
    assert (self);
    int64_t count = ovh_spool_count (self, ST_EVENTS);
    return count > 0 ? (size_t) count : 0;
}

size_t
ovh_spool_dead (ovh_spool_t *self)
{
    assert (self);
    int64_t count = ovh_spool_count (self, ST_DEAD);
    return count > 0 ? (size_t) count : 0;
}

uint64_t
ovh_spool_bytes (ovh_spool_t *self)
{
    assert (self);
    //  Pages in use, as this connection sees them (WAL included): the
    //  rows' bytes, which fall as events leave. The WAL file itself is
    //  kept small by checkpoints (ovh_spool_open.c) and does not count:
    //  it never shrinks below its limit, so counting it could keep the
    //  spool "full" forever once emptied
    int64_t bytes = ovh_spool_count (self, ST_BYTES);
    return bytes > 0 ? (uint64_t) bytes : 0;
}

//  Free space on the spool's disk, UINT64_MAX when it cannot be told
static uint64_t
s_disk_free (ovh_spool_t *self)
{
    struct statvfs disk;
    if (statvfs (self->path, &disk))
        return UINT64_MAX;
    return (uint64_t) disk.f_bavail * disk.f_frsize;
}

void
ovh_spool_checkpoint (ovh_spool_t *self)
{
    assert (self);
    if (ovh_spool_in_transaction (self))
        return;
    //  Called after a failure: if the disk is full, the held-back space is
    //  what lets the checkpoint and the removals through
    if (self->reserve && ovh_reserve_held (self->reserve)
    &&  s_disk_free (self) < self->disk_reserve) {
        size_t released = ovh_reserve_release (self->reserve);
        if (released)
            ovh_log_warning ("spool %s: the disk is full: released the %zu bytes held in "
                             "reserve so that delivered events can be removed", self->path,
                             released);
    }
    //  TRUNCATE gives the WAL's disk space back: on a full disk that may
    //  be what the next write needs
    sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

size_t
ovh_spool_batch_bytes (ovh_spool_t *self)
{
    assert (self);
    return self->wal_limit / 2 > 4096 ? self->wal_limit / 2 : 4096;
}

const char *
ovh_spool_error (ovh_spool_t *self)
{
    assert (self);
    return self->error [0] ? self->error : "no error";
}

bool
ovh_spool_full (ovh_spool_t *self)
{
    assert (self);
    if (ovh_spool_bytes (self) > (uint64_t) self->max_bytes)
        return true;
    //  Stop taking events while there is still room to remove them: on a
    //  full disk even a delete fails (it needs WAL, and a checkpoint may
    //  need the file to grow), and the spool could not recover. Room is
    //  the free disk plus the file's free pages (rows deleted), which new
    //  rows reuse: deliveries make room without giving the disk anything
    //  back. What the spool keeps free (ovh_spool_open.c) covers the WAL
    //  and what a checkpoint adds to the file.
    uint64_t disk_free = s_disk_free (self);
    int64_t free_pages = ovh_spool_count (self, ST_FREE);
    //  Short of disk: give the file's free pages back to it, a few at a
    //  time (a spool made before auto_vacuum has none to give)
    if (self->disk_low && free_pages > 0 && !ovh_spool_in_transaction (self)
    &&  sqlite3_exec (self->db, "PRAGMA incremental_vacuum (256)", NULL, NULL, NULL) == SQLITE_OK) {
        disk_free = s_disk_free (self);
        free_pages = ovh_spool_count (self, ST_FREE);
    }
    uint64_t room = disk_free == UINT64_MAX ? UINT64_MAX
                  : disk_free + (free_pages > 0 ? (uint64_t) free_pages : 0);
    //  Once low, stay so until there is half a WAL more: not on and off at
    //  every commit
    uint64_t margin = self->disk_low ? self->wal_limit / 2 : 0;
    //  While the reserve is given away, the next full disk would find none
    //  The WAL needs free disk of its own, file pages or not: what a
    //  checkpoint leaves (the limit) and a batch on top (half of it)
    bool low = room < self->disk_reserve + margin
            || disk_free < (uint64_t) self->wal_limit * 3 / 2 + 64 * 1024 + margin
            || (self->reserve && !ovh_reserve_held (self->reserve));
    if (low && !self->disk_low)
        ovh_log_warning ("spool %s: its disk is nearly full (%" PRIu64 " bytes free, %" PRIu64
                         " with the spool's free pages; it keeps %zu): taking no more events "
                         "until deliveries make room", self->path, disk_free, room,
                         self->disk_reserve);
    else
    if (!low && self->disk_low)
        ovh_log_info ("spool %s: room on its disk again (%" PRIu64 " bytes)", self->path, room);
    self->disk_low = low;
    //  Hold the reserve again as soon as the disk has room for it and
    //  more: the next time the disk fills, it is needed
    if (self->reserve && !ovh_reserve_held (self->reserve)
    &&  disk_free >= ovh_reserve_size (self->reserve) + self->disk_reserve
    &&  ovh_reserve_restore (self->reserve) == 0)
        ovh_log_info ("spool %s: %zu bytes held in reserve again", self->path,
                      ovh_reserve_size (self->reserve));
    return low;
}

int
ovh_spool_redeliver (ovh_spool_t *self)
{
    assert (self);
    int64_t dead = ovh_spool_count (self, ST_DEAD);
    if (dead <= 0)
        return dead == 0 ? 0 : -1;
    bool own = !ovh_spool_in_transaction (self);
    if (own && ovh_spool_begin (self))
        return -1;
    //  Make room below the waiting events: move them up past every number
    //  in use, then give the dead letters the numbers 1..dead. Rows load in
    //  rowid order, so a session's dead letters go before its later events.
    sqlite3_stmt *shift = self->stmt [ST_SHIFT];
    sqlite3_bind_int64 (shift, 1, self->next_row + dead);
    int rc = ovh_spool_write (self, shift);
    int count = -1;
    if (rc == 0) {
        sqlite3_stmt *stmt = self->stmt [ST_REDELIVER];
        sqlite3_bind_int64 (stmt, 1, zclock_time ());
        rc = ovh_spool_write (self, stmt);
        count = rc == 0 ? sqlite3_changes (self->db) : -1;
    }
    if (rc == 0)
        rc = ovh_spool_write (self, self->stmt [ST_CLEAR_DEAD]);
    if (rc == 0 && own && ovh_spool_commit (self))
        rc = -1;
    if (rc == 0)
        self->next_row = ovh_spool_count (self, ST_LAST_ROW) + 1;
    return rc ? -1 : count;
}

int64_t
ovh_spool_oldest_ms (ovh_spool_t *self)
{
    assert (self);
    //  min() of an empty table is NULL, which reads as 0
    int64_t oldest = ovh_spool_count (self, ST_OLDEST);
    return oldest > 0 ? oldest : 0;
}

const char *
ovh_spool_path (ovh_spool_t *self)
{
    assert (self);
    return self->path;
}

struct sqlite3 *
ovh_spool_db (ovh_spool_t *self)
{
    assert (self);
    return self->db;
}
