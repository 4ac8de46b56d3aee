/*  ovh_dlstore.c - the dead letters of a spool or of a dead-letter file,
    for the one-shot command (see ovh_dlstore.h).                           */

#include <czmq.h>
#include <jansson.h>
#include <sqlite3.h>
#include <sys/file.h>
#include "ovh_deadletter.h"
#include "ovh_dlstore_private.h"
#include "ovh_file.h"


static ovh_dlstore_t *
s_fail (ovh_dlstore_t **self_p, char *error, size_t size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    int used = snprintf (error, size, "%s: ", (*self_p)->name);
    if (used >= 0 && (size_t) used < size)
        vsnprintf (error + used, size - (size_t) used, format, args);
    va_end (args);
    ovh_dlstore_destroy (self_p);
    return NULL;
}

//  One integer from a statement, -1 when it fails
static int64_t
s_integer (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt;
    int64_t value = -1;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK
    &&  sqlite3_step (stmt) == SQLITE_ROW)
        value = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return value;
}

//  SQLite's own busy handler sleeps longer and longer (up to 100 ms) between
//  tries; a running bridge begins its next batch as soon as it committed
//  one, so a command that sleeps that long keeps missing the gap. Every
//  millisecond, for up to LOCK_WAIT_MSECS.
static int
s_busy (void *arg, int count)
{
    (void) arg;
    if (count >= LOCK_WAIT_MSECS)
        return 0;
    usleep (1000);
    return 1;
}

static ovh_dlstore_t *
s_open_spool (ovh_dlstore_t *self, bool writable, char *error, size_t size)
{
    //  A purge takes the write lock the running bridge never waits for:
    //  its batch fails, and a dead letter it was burying from memory then
    //  could not be kept. So a purge takes the bridge's own lock (a flock
    //  on the database's inode; a bridge starting meanwhile stops, saying
    //  the spool is in use), and is refused while a bridge holds it. Taken
    //  before SQLite opens the file: closing this fd while SQLite held its
    //  POSIX locks on the inode would drop them (it is closed after SQLite).
    if (writable) {
        char reason [512];
        self->fd = ovh_file_open (self->path, O_RDONLY, false, reason, sizeof reason);
        if (self->fd < 0)
            return s_fail (&self, error, size, "%s", reason);
        if (flock (self->fd, LOCK_EX | LOCK_NB))
            return s_fail (&self, error, size, errno == EWOULDBLOCK
                           ? "in use by a running ovhook-bridge: stop it, purge, start it "
                             "again (list, show and export work while it runs)"
                           : "cannot lock it: %s", strerror (errno));
    }
    //  The bridge's own lock is left alone: this is no bridge. SQLite's
    //  locks keep a purge and the bridge's batches apart.
    int flags = (writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2 (self->path, &self->db, flags, NULL) != SQLITE_OK)
        return s_fail (&self, error, size, "cannot open: %s",
                       self->db ? sqlite3_errmsg (self->db) : "out of memory");
    sqlite3_busy_handler (self->db, s_busy, NULL);
    int64_t version = s_integer (self->db, "PRAGMA user_version");
    if (version < 0 && (sqlite3_errcode (self->db) & 0xff) == SQLITE_NOTADB)
        return s_fail (&self, error, size, "not an ovhook spool (not an SQLite database)");
    if (version < 0)
        return s_fail (&self, error, size, "cannot read: %s", sqlite3_errmsg (self->db));
    if (version != 1 || s_integer (self->db, "SELECT count(*) FROM sqlite_master WHERE "
                                   "type = 'table' AND name = 'dead_letters'") != 1)
        return s_fail (&self, error, size, "not an ovhook spool (no dead_letters table, "
                       "user_version %" PRId64 ")", version);
    return self;
}

ovh_dlstore_t *
ovh_dlstore_new (const char *spool, const char *file, bool writable, char *error, size_t size)
{
    assert (spool || file);
    ovh_dlstore_t *self = (ovh_dlstore_t *) zmalloc (sizeof (ovh_dlstore_t));
    if (!self) {
        snprintf (error, size, "out of memory");
        return NULL;
    }
    self->fd = -1;
    self->path = strdup (spool ? spool : file);
    self->name = zsys_sprintf ("%s %s", spool ? "spool" : "dead-letter file", self->path);
    self->problems = zlist_new ();
    if (!self->path || !self->name || !self->problems) {
        ovh_dlstore_destroy (&self);
        snprintf (error, size, "out of memory");
        return NULL;
    }
    zlist_autofree (self->problems);
    struct stat status;
    if (lstat (self->path, &status))
        return s_fail (&self, error, size, "%s", errno != ENOENT ? strerror (errno) : spool
                       ? "does not exist" : "does not exist (the bridge makes it at its first "
                       "dead letter: none so far)");
    //  Never through a link, a FIFO or a device (the bridge refuses them too)
    const char *problem = ovh_file_unusable (&status, spool != NULL ? false : true);
    if (problem)
        return s_fail (&self, error, size, "%s", problem);
    if (spool)
        return s_open_spool (self, writable, error, size);
    char reason [512];
    self->fd = ovh_file_open (self->path, writable ? O_RDWR : O_RDONLY, true, reason,
                              sizeof reason);
    if (self->fd < 0)
        return s_fail (&self, error, size, "%s", reason);
    return self;
}

void
ovh_dlstore_destroy (ovh_dlstore_t **self_p)
{
    assert (self_p);
    ovh_dlstore_t *self = *self_p;
    if (!self)
        return;
    //  SQLite first: see s_open_spool
    if (self->db)
        sqlite3_close (self->db);
    if (self->fd >= 0)
        close (self->fd);
    zlist_destroy (&self->problems);
    zstr_free (&self->name);
    free (self->path);
    free (self);
    *self_p = NULL;
}

const char *
ovh_dlstore_name (ovh_dlstore_t *self)
{
    assert (self);
    return self->name;
}

zlist_t *
ovh_dlstore_problems (ovh_dlstore_t *self)
{
    assert (self);
    return self->problems;
}

//  ---------------------------------------------------------------------
//  A spool

static int
s_spool_each (ovh_dlstore_t *self, ovh_dlselect_t *selection, ovh_dlstore_fn *fn, void *arg,
              char *error, size_t size)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2 (self->db, "SELECT rowid, id, type, key, json, attempts,"
                            " coalesce (last_error, ''), failed_ms FROM dead_letters"
                            " ORDER BY rowid", -1, &stmt, NULL) != SQLITE_OK) {
        snprintf (error, size, "%s: cannot read: %s", self->name, sqlite3_errmsg (self->db));
        return -1;
    }
    int count = 0, rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        ovh_dlrecord_t record = {
            .number = sqlite3_column_int64 (stmt, 0),
            .id = (const char *) sqlite3_column_text (stmt, 1),
            .type = (const char *) sqlite3_column_text (stmt, 2),
            .key = (const char *) sqlite3_column_text (stmt, 3),
            .body = (const char *) sqlite3_column_blob (stmt, 4),
            .body_size = (size_t) sqlite3_column_bytes (stmt, 4),
            .attempts = sqlite3_column_int (stmt, 5),
            .last_error = (const char *) sqlite3_column_text (stmt, 6),
            .failed_ms = sqlite3_column_int64 (stmt, 7)
        };
        if (!record.id || !record.type || !record.last_error)
            continue;                   //  out of memory in SQLite; not ours to make up
        if (selection && !ovh_dlselect_match (selection, &record))
            continue;
        count++;
        if (fn (arg, &record))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf (error, size, "%s: cannot read: %s", self->name, sqlite3_errmsg (self->db));
        count = -1;
    }
    sqlite3_finalize (stmt);
    return count;
}

//  The rows to purge, collected before the write transaction so that it
//  holds the lock for the deletions only
typedef struct {
    int64_t *rows;
    char (*ids) [40];
    size_t count, capacity;
} chosen_t;

static int
s_choose (void *arg, const ovh_dlrecord_t *record)
{
    chosen_t *chosen = (chosen_t *) arg;
    if (chosen->count == chosen->capacity) {
        size_t capacity = chosen->capacity ? chosen->capacity * 2 : 64;
        int64_t *rows = (int64_t *) realloc (chosen->rows, capacity * sizeof (int64_t));
        if (rows)
            chosen->rows = rows;
        char (*ids) [40] = (char (*) [40]) realloc (chosen->ids, capacity * 40);
        if (ids)
            chosen->ids = ids;
        if (!rows || !ids)
            return -1;
        chosen->capacity = capacity;
    }
    chosen->rows [chosen->count] = record->number;
    snprintf (chosen->ids [chosen->count], 40, "%s", record->id);
    chosen->count++;
    return 0;
}

static int
s_spool_purge (ovh_dlstore_t *self, ovh_dlselect_t *selection, char *error, size_t size)
{
    chosen_t chosen = { NULL, NULL, 0, 0 };
    int found = s_spool_each (self, selection, s_choose, &chosen, error, size);
    if (found >= 0 && (size_t) found != chosen.count) {
        snprintf (error, size, "%s: out of memory", self->name);
        found = -1;
    }
    int removed = 0;
    sqlite3_stmt *stmt = NULL;
    if (found > 0 && (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK
                  ||  sqlite3_prepare_v2 (self->db, "DELETE FROM dead_letters WHERE rowid = ?1"
                                          " AND id = ?2", -1, &stmt, NULL) != SQLITE_OK))
        removed = -1;
    //  A row gone meanwhile (redelivered by a bridge) is not counted
    for (size_t index = 0; found > 0 && removed >= 0 && index < chosen.count; index++) {
        sqlite3_bind_int64 (stmt, 1, chosen.rows [index]);
        sqlite3_bind_text (stmt, 2, chosen.ids [index], -1, SQLITE_STATIC);
        if (sqlite3_step (stmt) == SQLITE_DONE)
            removed += sqlite3_changes (self->db);
        else
            removed = -1;
        sqlite3_reset (stmt);
    }
    sqlite3_finalize (stmt);
    if (found > 0 && removed >= 0 && sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL))
        removed = -1;
    if (found > 0 && removed < 0) {
        snprintf (error, size, "%s: cannot purge: %s (nothing was removed)", self->name,
                  sqlite3_errmsg (self->db));
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    }
    free (chosen.rows);
    free (chosen.ids);
    return found < 0 ? -1 : removed;
}

//  ---------------------------------------------------------------------

int
ovh_dlstore_each (ovh_dlstore_t *self, ovh_dlselect_t *selection, ovh_dlstore_fn *fn,
                  void *arg, char *error, size_t size)
{
    assert (self);
    assert (fn);
    if (self->db)
        return s_spool_each (self, selection, fn, arg, error, size);
    return ovh_dlstore_file_each (self, selection, fn, arg, error, size);
}

int
ovh_dlstore_purge (ovh_dlstore_t *self, ovh_dlselect_t *selection, char *error, size_t size)
{
    assert (self);
    return self->db ? s_spool_purge (self, selection, error, size)
                    : ovh_dlstore_file_purge (self, selection, error, size);
}

char *
ovh_dlstore_line (const ovh_dlrecord_t *record, size_t *line_size)
{
    assert (record);
    assert (line_size);
    if (record->line) {
        char *line = (char *) malloc (record->line_size + 1);
        if (line) {
            memcpy (line, record->line, record->line_size);
            line [record->line_size] = 0;
            *line_size = record->line_size;
        }
        return line;
    }
    //  As the bridge's writer makes them: the body spliced in, last
    json_t *fields = json_pack ("{s:s, s:s, s:o, s:i, s:s, s:I}", "id", record->id,
                                "event", record->type, "key",
                                record->key ? json_string (record->key) : json_null (),
                                "attempts", record->attempts, "last_error", record->last_error,
                                "failed_at", (json_int_t) record->failed_ms);
    char *line = fields ? ovh_deadletter_splice (fields, record->body, record->body_size,
                                                 line_size) : NULL;
    json_decref (fields);
    return line;
}
