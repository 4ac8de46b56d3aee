/*  test_spool.c - the SQLite spool: what it keeps across a reopen and a
    killed process, paging, group commit as another connection sees it,
    dead letters, and every way a file can be unusable at start.            */

#include <czmq.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "ovh_test.h"
#include "ovh_test_folder.h"
#include "ovh_spool.h"

static char s_dir [256];
static char s_path [512];
static char s_error [512];

//  A fresh spool path in the test's folder
static const char *
s_fresh (const char *name)
{
    snprintf (s_path, sizeof s_path, "%s/%s", s_dir, name);
    return s_path;
}

static ovh_item_t *
s_item (int type_index, const char *id, const char *key, const char *json,
        int64_t accepted_ms, int attempts)
{
    ovh_item_t *item = ovh_item_restore (ovh_catalog_at ((size_t) type_index), id,
                                         key, key ? strlen (key) : 0,
                                         json, strlen (json), accepted_ms, attempts);
    assert (item);
    return item;
}

//  Items handed over by ovh_spool_load, in order
typedef struct {
    ovh_item_t *items [128];
    size_t count;
} loaded_t;

static void
s_collect (void *arg, ovh_item_t *item)
{
    loaded_t *loaded = (loaded_t *) arg;
    assert (loaded->count < 128);
    loaded->items [loaded->count++] = item;
}

static void
s_loaded_clear (loaded_t *loaded)
{
    for (size_t index = 0; index < loaded->count; index++)
        ovh_item_destroy (&loaded->items [index]);
    loaded->count = 0;
}

//  Run SQL on a separate read-write connection; 0 or -1
static int
s_exec (const char *path, const char *sql)
{
    sqlite3 *db;
    int rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec (db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        fprintf (stderr, "s_exec: %s\n", sqlite3_errmsg (db));
    sqlite3_close (db);
    return rc == SQLITE_OK ? 0 : -1;
}

static int64_t
s_pragma (ovh_spool_t *spool, const char *sql)
{
    sqlite3_stmt *stmt;
    int64_t value = -1;
    if (sqlite3_prepare_v2 (ovh_spool_db (spool), sql, -1, &stmt, NULL) == SQLITE_OK) {
        if (sqlite3_step (stmt) == SQLITE_ROW)
            value = sqlite3_column_int64 (stmt, 0);
        sqlite3_finalize (stmt);
    }
    return value;
}

//  ---------------------------------------------------------------------

static struct {
    int type;
    const char *id;
    const char *key;            //  NULL: no key
    const char *json;
    int64_t accepted_ms;
    int attempts;
} s_rows [] = {
    { 0, "evt_00000000000000000000000000000001", "ses_A", "{\"event\":\"a\",\"n\":1}", 1700000000001, 0 },
    { 1, "evt_00000000000000000000000000000002", NULL,    "{\"event\":\"b\"}",         1700000000002, 3 },
    { 2, "evt_00000000000000000000000000000003", "",      "{\"x\":\"caf\xc3\xa9 \\u0000\"}", 1700000000003, 7 },
    { 16, "evt_00000000000000000000000000000004", "ses_B", "{}",                     1600000000000, 1 },
    { 5, "evt_00000000000000000000000000000005", "ses_A", "{\"n\":5}",               1700000000005, 0 },
};
#define ROWS (sizeof s_rows / sizeof s_rows [0])

static void
test_reopen (void)
{
    const char *path = s_fresh ("reopen.db");
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool, "%s", s_error);
    CHECK_STR (ovh_spool_path (spool), path);
    CHECK (ovh_spool_events (spool) == 0);
    CHECK (ovh_spool_oldest_ms (spool) == 0);
    int64_t rows [ROWS];
    CHECK (ovh_spool_begin (spool) == 0);
    CHECK (ovh_spool_begin (spool) == 0);      //  already open: no-op
    for (size_t index = 0; index < ROWS; index++) {
        ovh_item_t *item = s_item (s_rows [index].type, s_rows [index].id, s_rows [index].key,
                                   s_rows [index].json, s_rows [index].accepted_ms,
                                   s_rows [index].attempts);
        rows [index] = ovh_spool_insert (spool, item);
        CHECK (rows [index] > 0);
        CHECK (index == 0 || rows [index] > rows [index - 1]);
        ovh_item_destroy (&item);
    }
    CHECK (ovh_spool_commit (spool) == 0);
    CHECK (ovh_spool_commit (spool) == 0);     //  none open: no-op
    CHECK (ovh_spool_oldest_ms (spool) == 1600000000000);
    ovh_spool_destroy (&spool);
    CHECK (spool == NULL);

    spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool, "%s", s_error);
    if (!spool)
        return;
    CHECK (ovh_spool_events (spool) == ROWS);
    CHECK (ovh_spool_dead (spool) == 0);
    loaded_t loaded = { .count = 0 };
    CHECK (ovh_spool_load (spool, 0, 100, s_collect, &loaded) == (int) ROWS);
    CHECK (loaded.count == ROWS);
    for (size_t index = 0; index < loaded.count && index < ROWS; index++) {
        ovh_item_t *item = loaded.items [index];
        CHECK (item->type == ovh_catalog_at ((size_t) s_rows [index].type));
        CHECK_STR (item->id, s_rows [index].id);
        CHECK (item->has_key == (s_rows [index].key != NULL));
        if (s_rows [index].key)
            CHECK_STR (item->key, s_rows [index].key);
        CHECK_STR (item->json, s_rows [index].json);
        CHECK (item->json_size == strlen (s_rows [index].json));
        CHECK (item->accepted_ms == s_rows [index].accepted_ms);
        CHECK (item->attempts == s_rows [index].attempts);
        CHECK (item->spool_row == rows [index]);
    }
    s_loaded_clear (&loaded);
    ovh_spool_destroy (&spool);
}

//  Paging: rows 1..10, pages asked by (after_row, max)
static void
test_paging (void)
{
    const char *path = s_fresh ("paging.db");
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool, "%s", s_error);
    if (!spool)
        return;
    ovh_spool_begin (spool);
    for (int index = 1; index <= 10; index++) {
        char id [40];
        snprintf (id, sizeof id, "evt_%032d", index);
        ovh_item_t *item = s_item (0, id, "k", "{}", index, 0);
        CHECK (ovh_spool_insert (spool, item) == index);
        ovh_item_destroy (&item);
    }
    ovh_spool_commit (spool);
    struct {
        int64_t after_row;
        size_t max;
        int first;              //  expected first row
        int count;
    } pages [] = {
        { 0, 3, 1, 3 }, { 3, 3, 4, 3 }, { 6, 3, 7, 3 }, { 9, 3, 10, 1 },
        { 10, 3, 0, 0 }, { 0, 0, 0, 0 }, { 4, 100, 5, 6 }, { -5, 2, 1, 2 },
        { 0, SIZE_MAX, 1, 10 },
    };
    for (size_t page = 0; page < sizeof pages / sizeof pages [0]; page++) {
        loaded_t loaded = { .count = 0 };
        int count = ovh_spool_load (spool, pages [page].after_row, pages [page].max,
                                    s_collect, &loaded);
        CHECK_MSG (count == pages [page].count, "page %zu: %d", page, count);
        for (size_t index = 0; index < loaded.count; index++) {
            char id [40];
            snprintf (id, sizeof id, "evt_%032d", pages [page].first + (int) index);
            CHECK (loaded.items [index]->spool_row == pages [page].first + (int) index);
            CHECK_STR (loaded.items [index]->id, id);
        }
        s_loaded_clear (&loaded);
    }
    ovh_spool_destroy (&spool);
}

//  Group commit: another connection sees a batch only once committed; a
//  process killed with a batch open leaves exactly the committed rows
static void
test_group_commit (void)
{
    const char *path = s_fresh ("commit.db");
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool, "%s", s_error);
    if (!spool)
        return;
    ovh_item_t *item = s_item (0, "evt_0123456789abcdef0123456789abcdef", "k", "{}", 1, 0);
    CHECK (ovh_spool_begin (spool) == 0);
    CHECK (ovh_spool_in_transaction (spool));
    for (int index = 0; index < 5; index++)
        CHECK (ovh_spool_insert (spool, item) > 0);
    CHECK (ovh_spool_events (spool) == 5);          //  own connection sees them
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events") == 0);
    CHECK (ovh_spool_commit (spool) == 0);
    CHECK (!ovh_spool_in_transaction (spool));
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events") == 5);

    //  Removals are batched the same way
    ovh_spool_begin (spool);
    CHECK (ovh_spool_remove (spool, 1) == 0);
    CHECK (ovh_spool_remove (spool, 999) == 0);     //  no such row: fine
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events") == 5);
    ovh_spool_commit (spool);
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events") == 4);

    //  Outside a batch, a write commits on its own
    CHECK (ovh_spool_insert (spool, item) > 0);
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events") == 5);

    //  A write that fails only as a statement (here a trigger; in life
    //  the errors that SQLite doesn't roll back itself) still ends the
    //  whole batch: nothing of it reaches the disk
    CHECK (sqlite3_exec (ovh_spool_db (spool),
                         "CREATE TRIGGER poison BEFORE DELETE ON events WHEN old.rowid = 2"
                         " BEGIN SELECT RAISE (ABORT, 'poisoned'); END", NULL, NULL, NULL) == SQLITE_OK);
    ovh_spool_begin (spool);
    CHECK (ovh_spool_insert (spool, item) == 7);
    CHECK (ovh_spool_remove (spool, 3) == 0);
    CHECK (ovh_spool_remove (spool, 2) == -1);
    CHECK (!ovh_spool_in_transaction (spool));
    CHECK (ovh_spool_events (spool) == 5);
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events WHERE rowid = 3") == 1);
    CHECK (sqlite3_exec (ovh_spool_db (spool), "DROP TRIGGER poison", NULL, NULL, NULL) == SQLITE_OK);

    //  Row numbers are not reused: not that of the rolled-back batch (7),
    //  nor that of a deleted last row
    int64_t row = ovh_spool_insert (spool, item);
    CHECK_MSG (row == 8, "%" PRId64, row);
    CHECK (ovh_spool_remove (spool, row) == 0);
    CHECK (ovh_spool_insert (spool, item) == 9);
    CHECK (ovh_spool_remove (spool, 9) == 0);

    //  Destroying the spool with a batch open commits it
    ovh_spool_begin (spool);
    CHECK (ovh_spool_insert (spool, item) > 0);
    ovh_spool_destroy (&spool);
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events") == 6);

    //  A child commits 3 rows, inserts 4 more and dies without committing
    pid_t child = fork ();
    if (child == 0) {
        ovh_spool_t *doomed = ovh_spool_new (path, false, 1 << 30, NULL, 0);
        if (!doomed)
            _exit (3);
        ovh_spool_begin (doomed);
        for (int index = 0; index < 3; index++)
            ovh_spool_insert (doomed, item);
        ovh_spool_commit (doomed);
        ovh_spool_begin (doomed);
        for (int index = 0; index < 4; index++)
            ovh_spool_insert (doomed, item);
        kill (getpid (), SIGKILL);
        _exit (4);
    }
    int status = 0;
    waitpid (child, &status, 0);
    CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool, "%s", s_error);
    if (spool) {
        CHECK (ovh_spool_events (spool) == 9);
        ovh_spool_destroy (&spool);
    }
    ovh_item_destroy (&item);
}

//  remove, set_attempts, bury, redeliver
static void
test_dead_letters (void)
{
    const char *path = s_fresh ("dead.db");
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool, "%s", s_error);
    if (!spool)
        return;
    ovh_item_t *items [3];
    ovh_spool_begin (spool);
    for (int index = 0; index < 3; index++) {
        char id [40];
        snprintf (id, sizeof id, "evt_%032d", index + 1);
        items [index] = s_item (index, id, index == 2 ? NULL : "ses", "{\"a\":1}", 1000 + index, 0);
        items [index]->spool_row = ovh_spool_insert (spool, items [index]);
        CHECK (items [index]->spool_row == index + 1);
    }
    ovh_spool_commit (spool);
    ovh_spool_begin (spool);
    CHECK (ovh_spool_remove (spool, items [0]->spool_row) == 0);
    CHECK (ovh_spool_set_attempts (spool, items [1]->spool_row, 5) == 0);
    items [2]->attempts = 8;
    CHECK (ovh_spool_bury (spool, items [2], "HTTP 500") == 0);
    CHECK (ovh_spool_dead (spool) == 1);
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM dead_letters") == 0);
    int64_t before = zclock_time ();
    CHECK (ovh_spool_commit (spool) == 0);
    CHECK (ovh_spool_events (spool) == 1);
    CHECK (ovh_spool_dead (spool) == 1);
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM dead_letters"
                         " WHERE id = 'evt_00000000000000000000000000000003' AND type = 'participantJoined'"
                         " AND key IS NULL AND json = CAST ('{\"a\":1}' AS BLOB) AND accepted_ms = 1002"
                         " AND attempts = 8 AND last_error = 'HTTP 500'") == 1);
    CHECK (llabs (ovh_test_peek (path, "SELECT failed_ms FROM dead_letters") - before) < 5000);

    loaded_t loaded = { .count = 0 };
    CHECK (ovh_spool_load (spool, 0, 10, s_collect, &loaded) == 1);
    CHECK (loaded.count == 1 && loaded.items [0]->attempts == 5
           && loaded.items [0]->spool_row == 2);
    s_loaded_clear (&loaded);

    //  An item that was never spooled (spool_row 0) is only added
    ovh_item_t *loose = s_item (3, "evt_ffffffffffffffffffffffffffffffff", "x", "{}", 7, 2);
    CHECK (ovh_spool_bury (spool, loose, NULL) == 0);
    CHECK (ovh_spool_events (spool) == 1 && ovh_spool_dead (spool) == 2);
    ovh_item_destroy (&loose);

    //  Redeliver: back in events AHEAD of the event still waiting (a
    //  session's dead letters are older than its waiting events), in the
    //  order they died, same ids, attempts 0, accepted now
    before = zclock_time ();
    CHECK (ovh_spool_redeliver (spool) == 2);
    CHECK (ovh_spool_dead (spool) == 0);
    CHECK (ovh_spool_events (spool) == 3);
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events") == 3);      //  committed
    CHECK (ovh_spool_load (spool, 0, 10, s_collect, &loaded) == 3);
    CHECK (loaded.count == 3);
    if (loaded.count == 3) {
        CHECK_STR (loaded.items [0]->id, "evt_00000000000000000000000000000003");
        CHECK_STR (loaded.items [1]->id, "evt_ffffffffffffffffffffffffffffffff");
        CHECK (!loaded.items [0]->has_key);
        CHECK (loaded.items [0]->type == ovh_catalog_at (2));
        for (int index = 0; index < 2; index++) {
            CHECK (loaded.items [index]->attempts == 0);
            CHECK (loaded.items [index]->accepted_ms >= before);
            CHECK (loaded.items [index]->spool_row == 1 + index);
        }
        //  The waiting event keeps its attempts, behind them
        CHECK (loaded.items [2]->attempts == 5 && loaded.items [2]->spool_row > 2);
    }
    int64_t last = loaded.count == 3 ? loaded.items [2]->spool_row : 0;
    s_loaded_clear (&loaded);
    CHECK (ovh_spool_insert (spool, items [0]) == last + 1);  //  after all of them
    CHECK (ovh_spool_redeliver (spool) == 0);
    for (int index = 0; index < 3; index++)
        ovh_item_destroy (&items [index]);
    ovh_spool_destroy (&spool);
}

//  A row whose type is not in the catalog goes to the dead letters, and
//  the load still hands over 'max' known rows when there are that many
static void
test_unknown_type (void)
{
    const char *path = s_fresh ("unknown.db");
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool, "%s", s_error);
    if (!spool)
        return;
    ovh_spool_destroy (&spool);
    //  1 known, 40 unknown (more than one pass moves), 3 known
    char *sql = zsys_sprintf (
        "INSERT INTO events (id, type, key, json, accepted_ms) VALUES"
        " ('evt_1', 'sessionCreated', 's', '{}', 1);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)"
        " INSERT INTO events (id, type, key, json, accepted_ms)"
        " SELECT 'evt_bad' || i, 'bogusEvent', 's', '{}', 1 FROM n;"
        "INSERT INTO events (id, type, key, json, accepted_ms) VALUES"
        " ('evt_2', 'sessionDestroyed', 's', '{}', 2),"
        " ('evt_3', 'sessionCreated', NULL, '{}', 3),"
        " ('evt_4', 'sessionCreated', NULL, '{}', 4);");
    CHECK (s_exec (path, sql) == 0);
    zstr_free (&sql);
    spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool, "%s", s_error);
    if (!spool)
        return;
    printf ("test_spool: a warning about 40 'bogusEvent' rows expected below\n");
    fflush (stdout);
    loaded_t loaded = { .count = 0 };
    CHECK (ovh_spool_load (spool, 0, 3, s_collect, &loaded) == 3);
    CHECK (loaded.count == 3);
    if (loaded.count == 3) {
        CHECK_STR (loaded.items [0]->id, "evt_1");
        CHECK_STR (loaded.items [1]->id, "evt_2");
        CHECK_STR (loaded.items [2]->id, "evt_3");
    }
    s_loaded_clear (&loaded);
    CHECK (ovh_spool_dead (spool) == 40);
    CHECK (ovh_spool_events (spool) == 4);
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM dead_letters WHERE type = 'bogusEvent'"
                         " AND last_error = 'unknown event type'") == 40);
    CHECK (ovh_spool_load (spool, 0, 100, s_collect, &loaded) == 4);
    s_loaded_clear (&loaded);
    ovh_spool_destroy (&spool);
}

//  ---------------------------------------------------------------------
//  Files that cannot be used at start

static void
s_write_file (const char *path, const void *data, size_t size)
{
    FILE *file = fopen (path, "wb");
    assert (file);
    fwrite (data, 1, size, file);
    fclose (file);
}

static void
setup_garbage (const char *path)
{
    unsigned char bytes [8192];
    for (size_t index = 0; index < sizeof bytes; index++)
        bytes [index] = (unsigned char) (index * 7919 + 13);
    s_write_file (path, bytes, sizeof bytes);
}

//  A real spool, then one of its table pages overwritten
static void
s_damage (const char *path, bool journal_wal)
{
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, NULL, 0);
    assert (spool);
    ovh_item_t *item = s_item (0, "evt_0", "k", "{\"padding\":\"................................\"}", 1, 0);
    ovh_spool_begin (spool);
    for (int index = 0; index < 2000; index++)
        ovh_spool_insert (spool, item);
    ovh_spool_commit (spool);
    ovh_item_destroy (&item);
    ovh_spool_destroy (&spool);
    if (!journal_wal)
        CHECK (s_exec (path, "PRAGMA journal_mode = DELETE") == 0);
    FILE *file = fopen (path, "r+b");
    assert (file);
    unsigned char bytes [4096];
    memset (bytes, 0x5a, sizeof bytes);
    fseek (file, 4096 * 10 + 100, SEEK_SET);
    fwrite (bytes, 1, 2000, file);
    fclose (file);
}

static void
setup_damaged_wal (const char *path)
{
    s_damage (path, true);
}

//  The same in rollback-journal mode: the check must come before the
//  switch to WAL, which would rewrite the header
static void
setup_damaged_rollback (const char *path)
{
    s_damage (path, false);
}

static void
setup_version (const char *path)
{
    CHECK (s_exec (path, "CREATE TABLE t (x); PRAGMA user_version = 7;") == 0);
}

static void
setup_foreign (const char *path)
{
    CHECK (s_exec (path, "CREATE TABLE t (x);") == 0);
}

static void
setup_read_only (const char *path)
{
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, NULL, 0);
    assert (spool);
    ovh_spool_destroy (&spool);
    chmod (path, 0444);
}

static void
setup_unreadable (const char *path)
{
    setup_read_only (path);
    chmod (path, 0);
}

//  A spool in a folder where its WAL cannot be created
static void
setup_read_only_folder (const char *path)
{
    char *folder = zsys_sprintf ("%s/rofolder", s_dir);
    mkdir (folder, 0755);
    zstr_free (&folder);
    setup_read_only (path);
    chmod (path, 0644);
    folder = zsys_sprintf ("%s/rofolder", s_dir);
    chmod (folder, 0555);
    zstr_free (&folder);
}

//  'text' with each "PATH" replaced by 'path'
static char *
s_expand (const char *text, const char *path)
{
    char *result = strdup ("");
    const char *at;
    while ((at = strstr (text, "PATH"))) {
        char *next = zsys_sprintf ("%s%.*s%s", result, (int) (at - text), text, path);
        free (result);
        result = next;
        text = at + 4;
    }
    char *next = zsys_sprintf ("%s%s", result, text);
    free (result);
    return next;
}

static void
test_unusable (void)
{
    struct {
        const char *name;
        const char *file;           //  in the test's folder
        void (*setup) (const char *path);
        const char *reason;         //  expected after "cannot use spool PATH: " (PATH: the path)
        bool untouched;             //  the file must be left as it was
        bool needs_non_root;
    } cases [] = {
        { "garbage bytes",     "garbage.db",     setup_garbage, "not an ovhook spool (not an SQLite database)", true, false },
        { "damaged page",      "damaged.db",     setup_damaged_wal, NULL, true, false },
        { "damaged, rollback", "damaged2.db",    setup_damaged_rollback, NULL, true, false },
        { "other user_version","version.db",     setup_version, "not an ovhook spool (user_version 7)", true, false },
        { "foreign tables",    "foreign.db",     setup_foreign, "not an ovhook spool (user_version 0)", true, false },
        { "missing folder",    "no/such/dir.db", NULL, "cannot create it: No such file or directory", false, false },
        { "a folder",          "",               NULL, "PATH is a directory", false, false },
        { "read-only file",    "readonly.db",    setup_read_only, "the file is read-only", false, true },
        { "unreadable file",   "unreadable.db",  setup_unreadable, "cannot open PATH: Permission denied", false, true },
        { "read-only folder",  "rofolder/x.db",  setup_read_only_folder,
          "cannot open PATH.lock: Permission denied", false, true },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        if (cases [index].needs_non_root && geteuid () == 0) {
            printf ("test_spool: SKIPPED case '%s': running as root, who bypasses file permissions\n",
                    cases [index].name);
            continue;
        }
        const char *path = s_fresh (cases [index].file);
        if (cases [index].setup)
            cases [index].setup (path);
        zchunk_t *before = NULL;
        if (cases [index].untouched) {
            zfile_t *file = zfile_new (NULL, path);
            zfile_input (file);
            before = zfile_read (file, zfile_cursize (file), 0);
            zfile_destroy (&file);
        }
        snprintf (s_error, sizeof s_error, "not written");
        ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
        CHECK_MSG (spool == NULL, "%s: opened", cases [index].name);
        ovh_spool_destroy (&spool);
        char *prefix = zsys_sprintf ("cannot use spool %s: ", path);
        CHECK_MSG (strncmp (s_error, prefix, strlen (prefix)) == 0, "%s: %s", cases [index].name, s_error);
        const char *reason = s_error + strlen (prefix);
        if (cases [index].reason) {
            char *want = s_expand (cases [index].reason, path);
            CHECK_MSG (strcmp (reason, want) == 0, "%s: %s", cases [index].name, s_error);
            zstr_free (&want);
        }
        else
            CHECK_MSG (strstr (reason, "integrity check failed") || strstr (reason, "malformed"),
                       "%s: %s", cases [index].name, s_error);
        CHECK (strchr (s_error, '\n') == NULL);
        printf ("test_spool: %-18s -> %s\n", cases [index].name, s_error);
        zstr_free (&prefix);
        if (before) {
            zfile_t *file = zfile_new (NULL, path);
            zfile_input (file);
            zchunk_t *after = zfile_read (file, zfile_cursize (file), 0);
            zfile_destroy (&file);
            CHECK_MSG (after && zchunk_size (after) == zchunk_size (before)
                       && memcmp (zchunk_data (after), zchunk_data (before), zchunk_size (before)) == 0,
                       "%s: file changed", cases [index].name);
            zchunk_destroy (&after);
            zchunk_destroy (&before);
            char *wal = zsys_sprintf ("%s-wal", path);
            CHECK_MSG (!zsys_file_exists (wal), "%s: a WAL appeared", cases [index].name);
            zstr_free (&wal);
        }
    }
}

//  Event bodies are for this user only: a new spool, its WAL and its
//  shared-memory file are 0600 whatever the umask
static void
test_files_private (void)
{
    const char *path = s_fresh ("private.db");
    mode_t old = umask (022);
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    umask (old);
    CHECK_MSG (spool, "%s", s_error);
    if (!spool)
        return;
    ovh_item_t *item = s_item (0, "evt_private", "k", "{}", 1, 0);
    CHECK (ovh_spool_insert (spool, item) > 0);     //  a write makes the WAL
    OVH_TEST_SPOOL_PRIVATE (path);
    ovh_item_destroy (&item);
    ovh_spool_destroy (&spool);
}

//  synchronous, WAL, and the size limit
static void
test_settings (void)
{
    for (int full = 0; full < 2; full++) {
        const char *path = s_fresh (full ? "sync_full.db" : "sync_normal.db");
        ovh_spool_t *spool = ovh_spool_new (path, full, 1 << 30, s_error, sizeof s_error);
        CHECK_MSG (spool, "%s", s_error);
        if (!spool)
            continue;
        CHECK (s_pragma (spool, "PRAGMA synchronous") == (full ? 2 : 1));
        CHECK (s_pragma (spool, "PRAGMA user_version") == 1);
        //  Never wait for another process's lock: the batch fails, the
        //  backlog retries it
        CHECK (s_pragma (spool, "PRAGMA busy_timeout") == 0);
        sqlite3_stmt *stmt;
        sqlite3_prepare_v2 (ovh_spool_db (spool), "PRAGMA journal_mode", -1, &stmt, NULL);
        CHECK (sqlite3_step (stmt) == SQLITE_ROW);
        CHECK_STR ((const char *) sqlite3_column_text (stmt, 0), "wal");
        sqlite3_finalize (stmt);
        ovh_spool_destroy (&spool);
    }

    const char *path = s_fresh ("full.db");
    ovh_spool_t *spool = ovh_spool_new (path, false, 256 * 1024, s_error, sizeof s_error);
    CHECK_MSG (spool, "%s", s_error);
    if (!spool)
        return;
    uint64_t empty = ovh_spool_bytes (spool);
    CHECK (empty > 0 && empty < 256 * 1024);
    CHECK (!ovh_spool_full (spool));
    char json [4001];
    memset (json, 'x', 4000);
    json [4000] = 0;
    ovh_item_t *item = s_item (0, "evt_big", "k", json, 1, 0);
    ovh_spool_begin (spool);
    int64_t rows [100];
    for (int index = 0; index < 100; index++)
        rows [index] = ovh_spool_insert (spool, item);
    ovh_spool_commit (spool);
    uint64_t bytes = ovh_spool_bytes (spool);
    CHECK_MSG (bytes > 400000, "%" PRIu64, bytes);
    CHECK (ovh_spool_full (spool));
    //  Pages freed by deliveries stop counting at once: the WAL, which
    //  still holds them and never shrinks below its limit, does not count
    ovh_spool_begin (spool);
    for (int index = 0; index < 100; index++)
        ovh_spool_remove (spool, rows [index]);
    ovh_spool_commit (spool);
    CHECK_MSG (!ovh_spool_full (spool), "%" PRIu64 " bytes", ovh_spool_bytes (spool));
    //  With a small limit the WAL is truncated to a quarter of it
    CHECK (s_pragma (spool, "PRAGMA journal_size_limit") == 64 * 1024);
    CHECK (sqlite3_wal_checkpoint_v2 (ovh_spool_db (spool), NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                      NULL, NULL) == SQLITE_OK);
    CHECK_MSG (ovh_spool_bytes (spool) < 64 * 1024, "%" PRIu64, ovh_spool_bytes (spool));
    CHECK (!ovh_spool_full (spool));
    //  A disk that fills up (max_page_count as the disk's size): the insert
    //  that doesn't fit fails and the whole batch is rolled back
    int64_t pages = s_pragma (spool, "PRAGMA page_count");
    char *sql = zsys_sprintf ("PRAGMA max_page_count = %" PRId64, pages + 8);
    CHECK (s_pragma (spool, sql) == pages + 8);
    zstr_free (&sql);
    int64_t before = ovh_test_peek (path, "SELECT count(*) FROM events");
    ovh_spool_begin (spool);
    int inserted = 0;
    while (inserted < 1000 && ovh_spool_insert (spool, item) > 0)
        inserted++;
    CHECK_MSG (inserted > 0 && inserted < 1000, "%d", inserted);
    CHECK (!ovh_spool_in_transaction (spool));
    CHECK (ovh_spool_commit (spool) == 0);
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events") == before);
    CHECK (ovh_spool_events (spool) == (size_t) before);
    ovh_item_destroy (&item);
    ovh_spool_destroy (&spool);

    //  The same spool with a larger limit
    spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool, "%s", s_error);
    CHECK (spool && !ovh_spool_full (spool));
    ovh_spool_destroy (&spool);
}

int
main (void)
{
    if (ovh_test_folder_new (s_dir, sizeof s_dir, "test_spool"))
        return 1;
    test_reopen ();
    test_paging ();
    test_group_commit ();
    test_dead_letters ();
    test_unknown_type ();
    test_unusable ();
    test_settings ();
    test_files_private ();
    ovh_test_folder_remove (s_dir);
    return ovh_test_done ("test_spool");
}
