/*  ovh_spool.c - the durable queue in SQLite (see ovh_spool.h).            */

#include <czmq.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include "ovh_spool.h"
#include "ovh_receipts.h"

#define SPOOL_VERSION 1

//  The WAL is truncated back to this size after a checkpoint, so that one
//  burst doesn't leave a large file behind (it counts in the spool's bytes)
#define SPOOL_WAL_LIMIT "16777216"

//  Rows with an unknown type moved per pass of ovh_spool_load
#define SPOOL_UNKNOWN_BATCH 32

static const char *s_schema =
    "CREATE TABLE events (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL,"
    " type TEXT NOT NULL, key TEXT, json BLOB NOT NULL,"
    " accepted_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE dead_letters (id TEXT NOT NULL, type TEXT NOT NULL, key TEXT,"
    " json BLOB NOT NULL, accepted_ms INTEGER NOT NULL, attempts INTEGER NOT NULL,"
    " last_error TEXT, failed_ms INTEGER NOT NULL);"
    "PRAGMA user_version = 1;";

//  Every statement, prepared once in ovh_spool_new
typedef enum {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
    ST_INSERT, ST_REMOVE, ST_ATTEMPTS, ST_BURY, ST_MOVE_DEAD,
    ST_LOAD, ST_EVENTS, ST_DEAD, ST_BYTES, ST_OLDEST, ST_LAST_ROW,
    ST_REDELIVER, ST_CLEAR_DEAD, ST_SETTLE,
    ST_COUNT
} statement_t;

static const char *s_sql [ST_COUNT] = {
    [ST_BEGIN]      = "BEGIN IMMEDIATE",
    [ST_COMMIT]     = "COMMIT",
    [ST_ROLLBACK]   = "ROLLBACK",
    [ST_INSERT]     = "INSERT INTO events (id, type, key, json, accepted_ms, attempts, rowid)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_REMOVE]     = "DELETE FROM events WHERE rowid = ?1",
    [ST_ATTEMPTS]   = "UPDATE events SET attempts = ?2 WHERE rowid = ?1",
    [ST_BURY]       = "INSERT INTO dead_letters (id, type, key, json, accepted_ms,"
                      " attempts, last_error, failed_ms)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_MOVE_DEAD]  = "INSERT INTO dead_letters (id, type, key, json, accepted_ms,"
                      " attempts, last_error, failed_ms)"
                      " SELECT id, type, key, json, accepted_ms, attempts, ?2, ?3"
                      " FROM events WHERE rowid = ?1",
    [ST_LOAD]       = "SELECT rowid, id, type, key, json, accepted_ms, attempts"
                      " FROM events WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
    [ST_EVENTS]     = "SELECT count(*) FROM events",
    [ST_DEAD]       = "SELECT count(*) FROM dead_letters",
    [ST_BYTES]      = "SELECT (c.page_count - f.freelist_count) * s.page_size FROM"
                      " pragma_page_count () c, pragma_freelist_count () f, pragma_page_size () s",
    [ST_OLDEST]     = "SELECT min(accepted_ms) FROM events",
    [ST_LAST_ROW]   = "SELECT coalesce (max (rowid), 0) FROM events",
    [ST_REDELIVER]  = "INSERT INTO events (rowid, id, type, key, json, accepted_ms, attempts)"
                      " SELECT ?2 + row_number () OVER (ORDER BY rowid), id, type, key,"
                      " json, ?1, 0 FROM dead_letters ORDER BY rowid",
    [ST_CLEAR_DEAD] = "DELETE FROM dead_letters",
    [ST_SETTLE]     = "DELETE FROM events WHERE rowid = ?1 AND id = ?2",
};

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
};

static int s_commit (ovh_spool_t *self);
static int s_run (ovh_spool_t *self, sqlite3_stmt *stmt);
static int s_write (ovh_spool_t *self, sqlite3_stmt *stmt);
static int64_t s_count (ovh_spool_t *self, statement_t index);

//  ---------------------------------------------------------------------
//  Opening

static void
s_error (char *error, size_t error_size, const char *path, const char *format, ...)
{
    if (!error || !error_size)
        return;
    int used = snprintf (error, error_size, "cannot use spool %s: ", path);
    if (used < 0 || (size_t) used >= error_size)
        return;
    va_list args;
    va_start (args, format);
    vsnprintf (error + used, error_size - (size_t) used, format, args);
    va_end (args);
}

//  SQLite's message, plus the system's when it has one (a missing folder
//  and a permission problem both read "unable to open database file")
static void
s_sqlite_error (char *error, size_t error_size, const char *path, sqlite3 *db)
{
    //  errno is stale after other errors: only these come from the system
    int code = db ? sqlite3_errcode (db) & 0xff : SQLITE_NOMEM;
    bool from_system = code == SQLITE_CANTOPEN || code == SQLITE_IOERR
                    || code == SQLITE_PERM || code == SQLITE_READONLY || code == SQLITE_FULL;
    int sys = from_system ? sqlite3_system_errno (db) : 0;
    const char *message = db ? sqlite3_errmsg (db) : "out of memory";
    if (db && sqlite3_extended_errcode (db) == SQLITE_READONLY_DIRECTORY)
        s_error (error, error_size, path, "%s (its folder is not writable: the -wal and"
                 " -shm files are made beside the file)", message);
    else
    if (sys)
        s_error (error, error_size, path, "%s (%s)", message, strerror (sys));
    else
        s_error (error, error_size, path, "%s", message);
}

//  Run one statement whose single result is text (a PRAGMA) into 'text'
static int
s_pragma_text (sqlite3 *db, const char *sql, char *text, size_t text_size)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        const char *value = (const char *) sqlite3_column_text (stmt, 0);
        snprintf (text, text_size, "%s", value ? value : "");
    }
    sqlite3_finalize (stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int
s_pragma_int (sqlite3 *db, const char *sql, int64_t *value)
{
    char text [32] = "";
    if (s_pragma_text (db, sql, text, sizeof text))
        return -1;
    *value = strtoll (text, NULL, 10);
    return 0;
}

//  The checks of a freshly opened file, in an order that leaves a foreign
//  or broken file untouched: read what it is before switching it to WAL.
//  Returns 0, or -1 with 'error' filled.
static int
s_check (ovh_spool_t *self, bool sync_full, char *error, size_t error_size)
{
    sqlite3 *db = self->db;
    const char *path = self->path;
    if (sqlite3_db_readonly (db, "main") == 1) {
        s_error (error, error_size, path, "the file is read-only");
        return -1;
    }
    sqlite3_busy_timeout (db, 5000);

    //  The first read of the file: a file that isn't SQLite fails here
    int64_t version, tables;
    if (s_pragma_int (db, "PRAGMA user_version", &version)
    ||  s_pragma_int (db, "SELECT count(*) FROM sqlite_master", &tables)) {
        s_sqlite_error (error, error_size, path, db);
        return -1;
    }
    if (version != SPOOL_VERSION && (version != 0 || tables != 0)) {
        s_error (error, error_size, path, "not an ovhook spool (user_version %" PRId64 ")", version);
        return -1;
    }
    char text [256] = "";
    if (s_pragma_text (db, "PRAGMA quick_check (1)", text, sizeof text)) {
        s_sqlite_error (error, error_size, path, db);
        return -1;
    }
    if (strcmp (text, "ok") != 0) {
        //  The first problem, without SQLite's "*** in database main ***"
        //  heading, on one line
        char *problem = text;
        if (strncmp (problem, "*** ", 4) == 0 && strchr (problem, '\n'))
            problem = strchr (problem, '\n') + 1;
        for (char *cursor = problem; *cursor; cursor++)
            if (*cursor == '\n')
                *cursor = ' ';
        s_error (error, error_size, path, "integrity check failed: %s", problem);
        return -1;
    }
    if (s_pragma_text (db, "PRAGMA journal_mode = WAL", text, sizeof text)) {
        s_sqlite_error (error, error_size, path, db);
        return -1;
    }
    if (strcmp (text, "wal") != 0) {
        s_error (error, error_size, path, "cannot switch to WAL mode (journal_mode is %s)", text);
        return -1;
    }
    if (sqlite3_exec (db, sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                      NULL, NULL, NULL) != SQLITE_OK
    ||  sqlite3_exec (db, "PRAGMA journal_size_limit = " SPOOL_WAL_LIMIT,
                      NULL, NULL, NULL) != SQLITE_OK
    //  Fewer, larger checkpoints (each syncs the file twice)
    ||  sqlite3_exec (db, "PRAGMA wal_autocheckpoint = 4000", NULL, NULL, NULL) != SQLITE_OK) {
        s_sqlite_error (error, error_size, path, db);
        return -1;
    }
    //  Take the write lock once (and create the schema in a new file), so
    //  that an unwritable spool is found now, not at the first event
    if (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        s_sqlite_error (error, error_size, path, db);
        return -1;
    }
    if (version == 0 && sqlite3_exec (db, s_schema, NULL, NULL, NULL) != SQLITE_OK) {
        s_sqlite_error (error, error_size, path, db);
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        s_sqlite_error (error, error_size, path, db);
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    for (int index = 0; index < ST_COUNT; index++)
        if (sqlite3_prepare_v3 (db, s_sql [index], -1, SQLITE_PREPARE_PERSISTENT,
                                &self->stmt [index], NULL) != SQLITE_OK) {
            s_sqlite_error (error, error_size, path, db);
            return -1;
        }
    self->next_row = s_count (self, ST_LAST_ROW) + 1;
    if (self->next_row <= 0) {
        s_sqlite_error (error, error_size, path, db);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Delivery receipts (see ovh_receipts.h)

typedef struct {
    ovh_spool_t *spool;
    int rc;
    size_t removed;
} settle_t;

static void
s_settle_one (void *arg, int64_t row, const char *id)
{
    settle_t *settle = (settle_t *) arg;
    if (settle->rc)
        return;
    sqlite3_stmt *stmt = settle->spool->stmt [ST_SETTLE];
    sqlite3_bind_int64 (stmt, 1, row);
    sqlite3_bind_text (stmt, 2, id, -1, SQLITE_TRANSIENT);
    settle->rc = s_write (settle->spool, stmt);
    if (settle->rc == 0)
        settle->removed += (size_t) sqlite3_changes (settle->spool->db);
}

//  Remove the rows the receipts file names (in a batch of its own), then
//  clear it. Returns the number of rows removed, or -1.
static int
s_settle (ovh_spool_t *self)
{
    assert (!ovh_spool_in_transaction (self));
    if (!ovh_receipts_pending (self->receipts))
        return 0;
    settle_t settle = { self, 0, 0 };
    size_t malformed = 0;
    if (ovh_receipts_flush (self->receipts)
    ||  ovh_spool_begin (self)
    ||  ovh_receipts_read (self->receipts, s_settle_one, &settle, &malformed) < 0
    ||  settle.rc
    ||  s_commit (self)) {
        if (ovh_spool_in_transaction (self))
            s_run (self, self->stmt [ST_ROLLBACK]);
        return -1;
    }
    if (malformed)
        zsys_warning ("spool %s: %zu malformed lines in %s ignored (those events, if"
                      " delivered, are sent again)", self->path, malformed,
                      ovh_receipts_path (self->receipts));
    if (ovh_receipts_clear (self->receipts))
        return -1;
    self->unsettled = false;
    return (int) settle.removed;
}

//  Open PATH.delivered and apply what an earlier run left in it: those
//  events were delivered, their removal not yet committed
static int
s_open_receipts (ovh_spool_t *self, char *error, size_t error_size)
{
    char *path = zsys_sprintf ("%s.delivered", self->path);
    char reason [PATH_MAX + 128] = "out of memory";
    if (path)
        self->receipts = ovh_receipts_new (path, reason, sizeof reason);
    zstr_free (&path);
    if (!self->receipts) {
        s_error (error, error_size, self->path, "%s", reason);
        return -1;
    }
    int removed = s_settle (self);
    if (removed < 0) {
        s_error (error, error_size, self->path, "cannot apply the delivery receipts in %s",
                 ovh_receipts_path (self->receipts));
        return -1;
    }
    if (removed > 0)
        zsys_info ("spool %s: %d delivered events removed (their receipts were written,"
                   " their removal not yet committed when the last run ended)",
                   self->path, removed);
    return 0;
}

ovh_spool_t *
ovh_spool_new (const char *path, bool sync_full, size_t max_bytes,
               char *error, size_t error_size)
{
    assert (path);
    if (error && error_size)
        *error = 0;
    ovh_spool_t *self = (ovh_spool_t *) zmalloc (sizeof (ovh_spool_t));
    if (self) {
        self->path = strdup (path);
        self->wal_path = zsys_sprintf ("%s-wal", path);
        self->max_bytes = max_bytes;
    }
    if (!self || !self->path || !self->wal_path) {
        s_error (error, error_size, path, "out of memory");
        ovh_spool_destroy (&self);
        return NULL;
    }
    int rc = sqlite3_open_v2 (path, &self->db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                              NULL);
    if (rc != SQLITE_OK) {
        s_sqlite_error (error, error_size, path, self->db);
        ovh_spool_destroy (&self);
        return NULL;
    }
    if (s_check (self, sync_full, error, error_size)
    ||  s_open_receipts (self, error, error_size)) {
        ovh_spool_destroy (&self);
        return NULL;
    }
    return self;
}

void
ovh_spool_destroy (ovh_spool_t **self_p)
{
    assert (self_p);
    ovh_spool_t *self = *self_p;
    if (!self)
        return;
    if (self->db) {
        //  What the batch holds (accepted events, deliveries) is real:
        //  keep it rather than lose it
        if (self->stmt [ST_COMMIT])
            ovh_spool_commit (self);
        for (int index = 0; index < ST_COUNT; index++)
            sqlite3_finalize (self->stmt [index]);
        sqlite3_close (self->db);
    }
    ovh_receipts_destroy (&self->receipts);
    free (self->path);
    zstr_free (&self->wal_path);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------
//  Writes

//  Step a statement that returns no row, then reset it. 0 or -1 (logged).
static int
s_run (ovh_spool_t *self, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    if (rc == SQLITE_DONE)
        return 0;
    zsys_error ("spool %s: %s (%s)", self->path, sqlite3_errmsg (self->db),
                sqlite3_sql (stmt));
    return -1;
}

//  A write of a batch. SQLite rolls the whole transaction back itself on
//  some errors (a full disk, I/O errors) and only the statement on others;
//  ending it in every case gives the caller one rule: after a failed
//  write, nothing of the batch is on disk
static int
s_write (ovh_spool_t *self, sqlite3_stmt *stmt)
{
    if (s_run (self, stmt) == 0)
        return 0;
    if (ovh_spool_in_transaction (self))
        s_run (self, self->stmt [ST_ROLLBACK]);
    zsys_error ("spool %s: the batch was rolled back", self->path);
    self->unsettled = true;
    return -1;
}

//  Step a statement that returns one integer, then reset it
static int64_t
s_count (ovh_spool_t *self, statement_t index)
{
    sqlite3_stmt *stmt = self->stmt [index];
    int64_t value = -1;
    if (sqlite3_step (stmt) == SQLITE_ROW)
        value = sqlite3_column_int64 (stmt, 0);
    else
        zsys_error ("spool %s: %s (%s)", self->path, sqlite3_errmsg (self->db),
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
    return s_run (self, self->stmt [ST_BEGIN]);
}

static int
s_commit (ovh_spool_t *self)
{
    if (!ovh_spool_in_transaction (self))
        return 0;
    if (s_run (self, self->stmt [ST_COMMIT]) == 0)
        return 0;
    //  A failed COMMIT (disk full, I/O error) may leave the transaction
    //  open; end it, so that the caller knows where it stands: none of
    //  the batch is on disk
    if (ovh_spool_in_transaction (self))
        s_run (self, self->stmt [ST_ROLLBACK]);
    self->unsettled = true;
    return -1;
}

int
ovh_spool_commit (ovh_spool_t *self)
{
    assert (self);
    if (s_commit (self))
        return -1;
    //  Every removal with a receipt is now on disk, unless a batch was
    //  rolled back since the receipts were last cleared: then the file
    //  says which to do again
    if (self->receipts && ovh_receipts_pending (self->receipts)) {
        if (self->unsettled)
            s_settle (self);
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
    return s_write (self, stmt) ? -1 : row;
}

int
ovh_spool_remove (ovh_spool_t *self, int64_t row)
{
    assert (self);
    sqlite3_stmt *stmt = self->stmt [ST_REMOVE];
    sqlite3_bind_int64 (stmt, 1, row);
    return s_write (self, stmt);
}

int
ovh_spool_delivered (ovh_spool_t *self, int64_t row, const char *id)
{
    assert (self);
    assert (id);
    ovh_receipts_add (self->receipts, row, id);
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
    return s_write (self, stmt);
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
    if (s_write (self, stmt))
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
        rc = s_write (self, stmt);
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
            zsys_error ("spool %s: cannot load events: %s", self->path,
                        rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg (self->db));
        sqlite3_reset (stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return -1;
        if (unknowns && s_move_dead (self, unknown, unknowns))
            return -1;
        moved += unknowns;
        if (unknowns == 0 || rows == 0)
            break;              //  the table has no more rows past after_row
    }
    if (moved)
        zsys_warning ("spool %s: %zu events of an unknown type moved to the dead letters"
                      " (first: %s)", self->path, moved, first);
    return (int) loaded;
}

//  ---------------------------------------------------------------------
//  Counts and the rest

size_t
ovh_spool_events (ovh_spool_t *self)
{
    assert (self);
    int64_t count = s_count (self, ST_EVENTS);
    return count > 0 ? (size_t) count : 0;
}

size_t
ovh_spool_dead (ovh_spool_t *self)
{
    assert (self);
    int64_t count = s_count (self, ST_DEAD);
    return count > 0 ? (size_t) count : 0;
}

uint64_t
ovh_spool_bytes (ovh_spool_t *self)
{
    assert (self);
    int64_t pages = s_count (self, ST_BYTES);
    uint64_t bytes = pages > 0 ? (uint64_t) pages : 0;
    struct stat wal;
    if (stat (self->wal_path, &wal) == 0)
        bytes += (uint64_t) wal.st_size;
    return bytes;
}

bool
ovh_spool_full (ovh_spool_t *self)
{
    assert (self);
    return ovh_spool_bytes (self) > (uint64_t) self->max_bytes;
}

int
ovh_spool_redeliver (ovh_spool_t *self)
{
    assert (self);
    bool own = !ovh_spool_in_transaction (self);
    if (own && ovh_spool_begin (self))
        return -1;
    sqlite3_stmt *stmt = self->stmt [ST_REDELIVER];
    sqlite3_bind_int64 (stmt, 1, zclock_time ());
    sqlite3_bind_int64 (stmt, 2, self->next_row - 1);
    int rc = s_write (self, stmt);
    int count = rc == 0 ? sqlite3_changes (self->db) : -1;
    if (rc == 0)
        self->next_row += count;
    if (rc == 0)
        rc = s_write (self, self->stmt [ST_CLEAR_DEAD]);
    if (rc == 0 && own && ovh_spool_commit (self))
        rc = -1;
    return rc ? -1 : count;
}

int64_t
ovh_spool_oldest_ms (ovh_spool_t *self)
{
    assert (self);
    //  min() of an empty table is NULL, which reads as 0
    int64_t oldest = s_count (self, ST_OLDEST);
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
