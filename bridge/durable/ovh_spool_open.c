/*  ovh_spool_open.c - the spool's file: open it, check that it is ours and
    usable, apply the delivery receipts an earlier run left, close it (see
    ovh_spool.h).                                                            */

#include <czmq.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include "ovh_log.h"
#include "ovh_spool_private.h"

#define SPOOL_VERSION 1

//  The WAL is truncated back to at most this size after a checkpoint, so
//  that one burst doesn't leave a large file behind; with a small
//  --spool-max, to a quarter of it (it is disk the limit does not count)
#define SPOOL_WAL_LIMIT (16 * 1024 * 1024)
//  Pages of WAL after which a commit checkpoints (fewer, larger
//  checkpoints: each syncs the file twice), at most
#define SPOOL_WAL_PAGES 4000

//  Delivery receipts wait for a commit; this many bytes (about 380,000
//  receipts) only pile up while commits fail
#define SPOOL_RECEIPTS_MAX (16 * 1024 * 1024)

static const char *s_schema =
    "CREATE TABLE events (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL,"
    " type TEXT NOT NULL, key TEXT, json BLOB NOT NULL,"
    " accepted_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE dead_letters (id TEXT NOT NULL, type TEXT NOT NULL, key TEXT,"
    " json BLOB NOT NULL, accepted_ms INTEGER NOT NULL, attempts INTEGER NOT NULL,"
    " last_error TEXT, failed_ms INTEGER NOT NULL);"
    "PRAGMA user_version = 1;";

//  Every statement, prepared once in ovh_spool_new
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
    [ST_FREE]       = "SELECT f.freelist_count * s.page_size FROM"
                      " pragma_freelist_count () f, pragma_page_size () s",
    [ST_OLDEST]     = "SELECT min(accepted_ms) FROM events",
    [ST_LAST_ROW]   = "SELECT coalesce (max (rowid), 0) FROM events",
    [ST_SHIFT]      = "UPDATE events SET rowid = rowid + ?1",
    [ST_REDELIVER]  = "INSERT INTO events (rowid, id, type, key, json, accepted_ms, attempts)"
                      " SELECT row_number () OVER (ORDER BY rowid), id, type, key,"
                      " json, ?1, 0 FROM dead_letters ORDER BY rowid",
    [ST_CLEAR_DEAD] = "DELETE FROM dead_letters",
    [ST_SETTLE]     = "DELETE FROM events WHERE rowid = ?1 AND id = ?2",
    [ST_BUMP]       = "UPDATE commits SET n = n + 1",
    [ST_COMMITS]    = "SELECT coalesce (max (n), 0) FROM commits",
    [ST_REMOVE_ID]  = "DELETE FROM events WHERE id = ?1",
};

//  The count of committed batches, in the database: compared at start with
//  the record of PATH.lock, it shows commits a damaged WAL lost (added to
//  a spool of an older version at its first start)
static const char *s_commits =
    "CREATE TABLE IF NOT EXISTS commits (n INTEGER NOT NULL);"
    "INSERT INTO commits SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM commits);";

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

//  What the file is: an ovhook spool (or a new, empty file) that passes
//  SQLite's quick check. Reads only: a foreign or broken file stays
//  untouched. Sets *is_new for an empty file.
static int
s_check_content (ovh_spool_t *self, bool *is_new, char *error, size_t error_size)
{
    sqlite3 *db = self->db;
    const char *path = self->path;
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
    *is_new = version == 0 && tables == 0;
    return 0;
}

//  How large the WAL may grow, and the free disk the spool keeps: on a
//  small disk, most of the data stays in the file, not in the WAL: a WAL
//  that holds it cannot be checkpointed once the disk is full (the file
//  would have to grow), and nothing could be removed again
static void
s_size_wal (ovh_spool_t *self)
{
    size_t wal_limit = self->max_bytes / 4 < SPOOL_WAL_LIMIT ? self->max_bytes / 4
                                                             : SPOOL_WAL_LIMIT;
    uint64_t available = UINT64_MAX;
    struct statvfs disk;
    if (statvfs (self->path, &disk) == 0) {
        available = (uint64_t) disk.f_bavail * disk.f_frsize;
        if (available / 8 < wal_limit)
            wal_limit = (size_t) (available / 8);
    }
    //  Free disk the spool keeps (ovh_spool_full): the WAL left after a
    //  checkpoint (its limit) and one batch on top (half of it, see
    //  ovh_spool_batch_bytes), what a checkpoint can add to the file (the
    //  limit again), and 64 KiB for receipts
    self->wal_limit = wal_limit;
    self->disk_reserve = wal_limit * 5 / 2 + 64 * 1024;
    if (available / 2 < self->disk_reserve)
        self->disk_reserve = (size_t) (available / 2);
    //  Space held back beside the file, released when the disk fills up
    //  anyway (ovh_reserve.h): as much as a checkpoint and a batch need
    char *reserve_path = zsys_sprintf ("%s.reserve", self->path);
    if (reserve_path)
        self->reserve = ovh_reserve_new (reserve_path, wal_limit + 64 * 1024);
    zstr_free (&reserve_path);
}

//  WAL mode and its limits, the sync level; a new file first gives the
//  pages of delivered events back to the disk on demand (ovh_spool_full):
//  auto_vacuum is set before WAL mode and the first table
static int
s_set_modes (ovh_spool_t *self, bool is_new, bool sync_full, char *error, size_t error_size)
{
    sqlite3 *db = self->db;
    if (is_new && sqlite3_exec (db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL, NULL) != SQLITE_OK) {
        s_sqlite_error (error, error_size, self->path, db);
        return -1;
    }
    char text [256] = "";
    if (s_pragma_text (db, "PRAGMA journal_mode = WAL", text, sizeof text)) {
        s_sqlite_error (error, error_size, self->path, db);
        return -1;
    }
    if (strcmp (text, "wal") != 0) {
        s_error (error, error_size, self->path, "cannot switch to WAL mode (journal_mode is %s)", text);
        return -1;
    }
    s_size_wal (self);
    size_t wal_pages = self->wal_limit / 4096 < SPOOL_WAL_PAGES ? self->wal_limit / 4096
                                                                : SPOOL_WAL_PAGES;
    char wal_pragmas [128];
    snprintf (wal_pragmas, sizeof wal_pragmas, "PRAGMA journal_size_limit = %zu;"
              "PRAGMA wal_autocheckpoint = %zu;", self->wal_limit, wal_pages > 16 ? wal_pages : 16);
    if (sqlite3_exec (db, sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                      NULL, NULL, NULL) != SQLITE_OK
    ||  sqlite3_exec (db, wal_pragmas, NULL, NULL, NULL) != SQLITE_OK) {
        s_sqlite_error (error, error_size, self->path, db);
        return -1;
    }
    return 0;
}

//  Take the write lock once (and create the schema in a new file), so
//  that an unwritable spool is found now, not at the first event
static int
s_create_tables (ovh_spool_t *self, bool is_new, char *error, size_t error_size)
{
    sqlite3 *db = self->db;
    if (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        s_sqlite_error (error, error_size, self->path, db);
        return -1;
    }
    if ((is_new && sqlite3_exec (db, s_schema, NULL, NULL, NULL) != SQLITE_OK)
    ||  sqlite3_exec (db, s_commits, NULL, NULL, NULL) != SQLITE_OK) {
        s_sqlite_error (error, error_size, self->path, db);
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        s_sqlite_error (error, error_size, self->path, db);
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

//  The statements, and the counters that continue from the file
static int
s_prepare (ovh_spool_t *self, char *error, size_t error_size)
{
    for (int index = 0; index < ST_COUNT; index++)
        if (sqlite3_prepare_v3 (self->db, s_sql [index], -1, SQLITE_PREPARE_PERSISTENT,
                                &self->stmt [index], NULL) != SQLITE_OK) {
            s_sqlite_error (error, error_size, self->path, self->db);
            return -1;
        }
    self->next_row = ovh_spool_count (self, ST_LAST_ROW) + 1;
    self->commits = ovh_spool_count (self, ST_COMMITS);
    if (self->next_row <= 0 || self->commits < 0) {
        s_sqlite_error (error, error_size, self->path, self->db);
        return -1;
    }
    return 0;
}

//  The checks of a freshly opened file, in an order that leaves a foreign
//  or broken file untouched: read what it is before switching it to WAL.
//  Returns 0, or -1 with 'error' filled.
static int
s_check (ovh_spool_t *self, bool sync_full, char *error, size_t error_size)
{
    if (sqlite3_db_readonly (self->db, "main") == 1) {
        s_error (error, error_size, self->path, "the file is read-only");
        return -1;
    }
    sqlite3_busy_timeout (self->db, 5000);
    bool is_new = false;
    if (s_check_content (self, &is_new, error, error_size)
    ||  s_set_modes (self, is_new, sync_full, error, error_size)
    ||  s_create_tables (self, is_new, error, error_size)
    ||  s_prepare (self, error, error_size))
        return -1;
    //  From now on a lock held by another process fails the batch at
    //  once (the backlog retries it): waiting for it here would stall
    //  every delivery
    sqlite3_busy_timeout (self->db, 0);
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
    settle->rc = ovh_spool_write (settle->spool, stmt);
    if (settle->rc == 0)
        settle->removed += (size_t) sqlite3_changes (settle->spool->db);
}

//  Remove the rows the receipts file names (in a batch of its own), then
//  clear it. Returns the number of rows removed, or -1.
int
ovh_spool_settle (ovh_spool_t *self)
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
    ||  ovh_spool_commit_batch (self)) {
        if (ovh_spool_in_transaction (self))
            ovh_spool_run (self, self->stmt [ST_ROLLBACK]);
        return -1;
    }
    if (malformed)
        ovh_log_warning ("spool %s: %zu malformed lines in %s ignored (those events, if"
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
        self->receipts = ovh_receipts_new (path, SPOOL_RECEIPTS_MAX, reason, sizeof reason);
    zstr_free (&path);
    if (!self->receipts) {
        s_error (error, error_size, self->path, "%s", reason);
        return -1;
    }
    int removed = ovh_spool_settle (self);
    if (removed < 0) {
        s_error (error, error_size, self->path, "cannot apply the delivery receipts in %s",
                 ovh_receipts_path (self->receipts));
        return -1;
    }
    if (removed > 0)
        ovh_log_info ("spool %s: %d delivered events removed (their receipts were written,"
                      " their removal not yet committed when the last run ended)",
                      self->path, removed);
    return 0;
}

//  'failed': a start that failed, whose files are removed
static void
s_destroy (ovh_spool_t **self_p, bool failed)
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
    ovh_reserve_destroy (&self->reserve);
    ovh_spool_files_close (self, failed);
    free (self->path);
    zstr_free (&self->wal_path);
    free (self);
    *self_p = NULL;
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
        self->db_fd = -1;
        self->lock_fd = -1;
    }
    if (!self || !self->path || !self->wal_path) {
        s_error (error, error_size, path, "out of memory");
        ovh_spool_destroy (&self);
        return NULL;
    }
    char reason [PATH_MAX + 256] = "";
    if (ovh_spool_files_open (self, reason, sizeof reason)) {
        s_error (error, error_size, path, "%s", reason);
        s_destroy (&self, true);
        return NULL;
    }
    //  No symbolic link either where SQLite opens the file itself
    int rc = sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                              | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc != SQLITE_OK)
        s_sqlite_error (error, error_size, path, self->db);
    else
    if (s_check (self, sync_full, error, error_size) == 0) {
        if (ovh_spool_files_compare (self, reason, sizeof reason))
            s_error (error, error_size, path, "%s", reason);
        else
        if (s_open_receipts (self, error, error_size) == 0)
            return self;
    }
    //  A failed start leaves nothing it made behind
    s_destroy (&self, true);
    return NULL;
}

void
ovh_spool_destroy (ovh_spool_t **self_p)
{
    s_destroy (self_p, false);
}
