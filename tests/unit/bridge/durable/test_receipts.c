/*  test_receipts.c - delivery receipts (PATH.delivered): the file's format
    and what survives in it, and how the spool uses it: receipts of a killed
    process remove their rows at the next open, a stale receipt never
    removes another event, a rolled-back batch's removals are done again
    from the file, a commit clears it.                                       */

#include <czmq.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include "ovh_test.h"
#include "ovh_test_folder.h"
#include "ovh_receipts.h"
#include "ovh_spool.h"

static char s_dir [256];
static char s_path [512];
static char s_error [512];

static const char *
s_fresh (const char *name)
{
    snprintf (s_path, sizeof s_path, "%s/%s", s_dir, name);
    return s_path;
}

//  The file's bytes, NUL-terminated ("" if missing); the caller frees
static char *
s_slurp (const char *path)
{
    zchunk_t *chunk = NULL;
    FILE *file = fopen (path, "rb");
    if (file) {
        chunk = zchunk_read (file, 1 << 20);
        fclose (file);
    }
    char *text = chunk ? zchunk_strdup (chunk) : strdup ("");
    zchunk_destroy (&chunk);
    return text;
}

static void
s_append (const char *path, const char *text)
{
    FILE *file = fopen (path, "ab");
    REQUIRE (file);
    REQUIRE (fputs (text, file) >= 0);
    fclose (file);
}

typedef struct {
    int64_t rows [16];
    char ids [16][40];
    size_t count;
} seen_t;

static void
s_seen (void *arg, int64_t row, const char *id)
{
    seen_t *seen = (seen_t *) arg;
    REQUIRE (seen->count < 16);
    seen->rows [seen->count] = row;
    snprintf (seen->ids [seen->count], 40, "%s", id);
    seen->count++;
}

static ovh_item_t *
s_item (const char *id)
{
    const char *json = "{\"event\":\"sessionCreated\"}";
    ovh_item_t *item = ovh_item_restore (ovh_catalog_at (0), id, "ses_A", 5,
                                         json, strlen (json), 1700000000000, 0);
    REQUIRE (item);
    return item;
}

#define ID(n) "evt_0000000000000000000000000000000" #n

//  ---------------------------------------------------------------------
//  The file

static void
test_file_format (void)
{
    const char *path = s_fresh ("format.delivered");
    ovh_receipts_t *receipts = ovh_receipts_new (path, 1 << 20, s_error, sizeof s_error);
    REQUIRE (receipts);
    CHECK (!ovh_receipts_pending (receipts));

    //  Buffered until flushed: a killed process loses only the unflushed
    ovh_receipts_add (receipts, 7, ID (1));
    ovh_receipts_add (receipts, 12345678901, ID (2));
    CHECK (ovh_receipts_pending (receipts));
    char *text = s_slurp (path);
    CHECK_STR (text, "");
    free (text);
    CHECK (ovh_receipts_flush (receipts) == 0);
    text = s_slurp (path);
    CHECK_STR (text, "7 " ID (1) "\n12345678901 " ID (2) "\n");
    free (text);

    //  Read back in order
    seen_t seen = { .count = 0 };
    size_t malformed = 99;
    CHECK (ovh_receipts_read (receipts, s_seen, &seen, &malformed) == 2);
    CHECK (malformed == 0);
    CHECK (seen.count == 2 && seen.rows [0] == 7 && seen.rows [1] == 12345678901);
    CHECK_STR (seen.ids [1], ID (2));

    //  Cleared: the file is empty, the next receipt starts it again
    CHECK (ovh_receipts_clear (receipts) == 0);
    CHECK (!ovh_receipts_pending (receipts));
    text = s_slurp (path);
    CHECK_STR (text, "");
    free (text);
    ovh_receipts_add (receipts, 8, ID (3));
    ovh_receipts_destroy (&receipts);         //  writes what is buffered
    CHECK (receipts == NULL);
    text = s_slurp (path);
    CHECK_STR (text, "8 " ID (3) "\n");
    free (text);

    //  Reopened: what the file holds is pending
    receipts = ovh_receipts_new (path, 1 << 20, s_error, sizeof s_error);
    REQUIRE (receipts);
    CHECK (ovh_receipts_pending (receipts));
    ovh_receipts_destroy (&receipts);
}

//  Lines that are not receipts are skipped and counted; a last line cut
//  short (no newline) is no receipt and no error
static void
test_file_damage (void)
{
    const char *path = s_fresh ("damage.delivered");
    s_append (path, "1 " ID (1) "\n"
                    "\n"
                    "0 " ID (2) "\n"                 //  row 0 is no row
                    "-3 " ID (2) "\n"
                    "03 " ID (2) "\n"
                    "x " ID (2) "\n"
                    "4\n"
                    "5 \n"
                    "6 evt_1234567890123456789012345678901234567\n"    //  40 chars
                    "7 evt 1\n"
                    "99999999999999999999 " ID (2) "\n"                  //  > INT64_MAX
                    "9 " ID (9) "\n"
                    "10 " ID (5));                   //  cut short
    ovh_receipts_t *receipts = ovh_receipts_new (path, 1 << 20, s_error, sizeof s_error);
    REQUIRE (receipts);
    seen_t seen = { .count = 0 };
    size_t malformed = 0;
    CHECK (ovh_receipts_read (receipts, s_seen, &seen, &malformed) == 2);
    CHECK_MSG (malformed == 10, "%zu", malformed);
    CHECK (seen.count == 2 && seen.rows [0] == 1 && seen.rows [1] == 9);
    ovh_receipts_destroy (&receipts);

    //  Cannot open: a clear error naming the file
    receipts = ovh_receipts_new ("/proc/no-such-dir/x.delivered", 1 << 20, s_error, sizeof s_error);
    CHECK (receipts == NULL);
    CHECK_MSG (strstr (s_error, "/proc/no-such-dir/x.delivered") != NULL, "%s", s_error);
}

//  While nothing clears the file it stops at its limit, and starts again
//  once cleared
static void
test_file_limit (void)
{
    const char *path = s_fresh ("limit.delivered");
    ovh_receipts_t *receipts = ovh_receipts_new (path, 400, s_error, sizeof s_error);
    REQUIRE (receipts);
    for (int index = 1; index <= 20; index++)
        ovh_receipts_add (receipts, index, ID (1));     //  39 bytes each (rows 1-9)
    ovh_receipts_flush (receipts);
    seen_t seen = { .count = 0 };
    int kept = ovh_receipts_read (receipts, s_seen, &seen, NULL);
    //  A receipt is taken while the file keeps room for a longest one (64
    //  bytes) after it: 9 × 39 + 64 > 400 stops the tenth
    CHECK_MSG (kept == 9, "%d", kept);
    CHECK (seen.count == 9 && seen.rows [8] == 9);
    CHECK (ovh_receipts_clear (receipts) == 0);
    ovh_receipts_add (receipts, 21, ID (2));
    ovh_receipts_flush (receipts);
    char *text = s_slurp (path);
    CHECK_STR (text, "21 " ID (2) "\n");
    free (text);
    ovh_receipts_destroy (&receipts);
}

//  ---------------------------------------------------------------------
//  The spool with its receipts

//  A new spool at 'name' holding 'count' committed events (rows 1..count,
//  ids[0..count-1]), its path in s_path; its receipts file's path into
//  'receipts'
static ovh_spool_t *
s_spool_with (const char *name, const char **ids, int count,
              char *receipts, size_t receipts_size)
{
    const char *path = s_fresh (name);
    snprintf (receipts, receipts_size, "%s.delivered", path);
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    REQUIRE (spool);
    ovh_spool_begin (spool);
    for (int index = 0; index < count; index++) {
        ovh_item_t *item = s_item (ids [index]);
        CHECK (ovh_spool_insert (spool, item) == index + 1);
        ovh_item_destroy (&item);
    }
    CHECK (ovh_spool_commit (spool) == 0);
    return spool;
}

//  A child delivers rows 1-3 (receipts written), 4 without writing its
//  receipt, and is killed before the commit: the next open removes 1-3 only
static void
test_spool_after_kill (void)
{
    const char *ids [] = { ID (1), ID (2), ID (3), ID (4), ID (5) };
    char receipts_path [600];
    ovh_spool_t *spool = s_spool_with ("kill.db", ids, 5, receipts_path, sizeof receipts_path);
    const char *path = s_path;
    ovh_spool_destroy (&spool);

    pid_t child = fork ();
    if (child == 0) {
        ovh_spool_t *doomed = ovh_spool_new (path, false, 1 << 30, NULL, 0);
        if (!doomed)
            _exit (3);
        ovh_spool_begin (doomed);
        for (int index = 0; index < 3; index++)
            ovh_spool_delivered (doomed, index + 1, ids [index]);
        ovh_spool_write_receipts (doomed);
        ovh_spool_delivered (doomed, 4, ids [3]);
        kill (getpid (), SIGKILL);      //  no commit, receipt 4 not written
        _exit (4);
    }
    int status = 0;
    waitpid (child, &status, 0);
    CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events") == 5);
    char *text = s_slurp (receipts_path);
    CHECK_STR (text, "1 " ID (1) "\n2 " ID (2) "\n3 " ID (3) "\n");
    free (text);

    //  A stale receipt (row 5 under another id) must not remove row 5
    s_append (receipts_path, "5 " ID (9) "\n");
    spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    REQUIRE (spool);
    CHECK (ovh_spool_events (spool) == 2);
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events WHERE rowid IN (4, 5)") == 2);
    text = s_slurp (receipts_path);
    CHECK_STR (text, "");
    free (text);
    ovh_spool_destroy (&spool);
}

//  Deliveries in a batch that is rolled back are done again from their
//  receipts at the next commit; a plain commit clears the receipts
static void
test_spool_rollback (void)
{
    const char *ids [] = { ID (1), ID (2), ID (3), ID (4) };
    char receipts_path [600];
    ovh_spool_t *spool = s_spool_with ("rollback.db", ids, 4, receipts_path, sizeof receipts_path);
    const char *path = s_path;

    //  Row 1 delivered and committed: receipts cleared
    ovh_spool_begin (spool);
    CHECK (ovh_spool_delivered (spool, 1, ids [0]) == 0);
    ovh_spool_write_receipts (spool);
    CHECK (ovh_spool_commit (spool) == 0);
    CHECK (ovh_spool_events (spool) == 3);
    char *text = s_slurp (receipts_path);
    CHECK_STR (text, "");
    free (text);

    //  Rows 2 and 3 delivered; the batch fails at row 3 and is rolled back
    CHECK (sqlite3_exec (ovh_spool_db (spool),
                         "CREATE TRIGGER poison BEFORE DELETE ON events WHEN old.rowid = 3"
                         " BEGIN SELECT RAISE (ABORT, 'poisoned'); END", NULL, NULL, NULL) == SQLITE_OK);
    ovh_spool_begin (spool);
    CHECK (ovh_spool_delivered (spool, 2, ids [1]) == 0);
    CHECK (ovh_spool_delivered (spool, 3, ids [2]) == -1);
    CHECK (!ovh_spool_in_transaction (spool));
    CHECK (ovh_spool_events (spool) == 3);
    CHECK (sqlite3_exec (ovh_spool_db (spool), "DROP TRIGGER poison", NULL, NULL, NULL) == SQLITE_OK);

    //  The next commit (of other work) applies the receipts again
    ovh_spool_begin (spool);
    CHECK (ovh_spool_set_attempts (spool, 4, 2) == 0);
    CHECK (ovh_spool_commit (spool) == 0);
    CHECK_MSG (ovh_spool_events (spool) == 1, "%zu", ovh_spool_events (spool));
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events WHERE rowid = 4 AND attempts = 2") == 1);
    text = s_slurp (receipts_path);
    CHECK_STR (text, "");
    free (text);
    ovh_spool_destroy (&spool);
}

//  An unusable receipts file stops the spool's start, naming it
static void
test_spool_unusable_receipts (void)
{
    const char *path = s_fresh ("blocked.db");
    char receipts_path [600];
    snprintf (receipts_path, sizeof receipts_path, "%s.delivered", path);
    REQUIRE (zsys_dir_create ("%s", receipts_path) == 0);      //  a folder, not a file
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK (spool == NULL);
    char *want = zsys_sprintf ("cannot use spool %s: %s is a directory", path, receipts_path);
    CHECK_STR (s_error, want);
    zstr_free (&want);
    ovh_spool_destroy (&spool);
}

//  The receipts file is truncated at each commit: a link, a FIFO or a
//  folder at its name is refused, and what a link points to is untouched
static void
test_hostile_file (void)
{
    char *victim = zsys_sprintf ("%s/victim", s_dir);
    for (int kind = 0; kind < HOSTILE_COUNT; kind++) {
        char *path = zsys_sprintf ("%s/hostile%d.delivered", s_dir, kind);
        REQUIRE (ovh_test_victim_new (victim) == 0);
        REQUIRE (ovh_test_hostile_make ((ovh_test_hostile_t) kind, path, victim) == 0);
        ovh_receipts_t *receipts = ovh_receipts_new (path, 1 << 20, s_error, sizeof s_error);
        if (receipts) {             //  what the old code did with it
            ovh_receipts_add (receipts, 1, "evt_1");
            ovh_receipts_flush (receipts);
            ovh_receipts_clear (receipts);
        }
        OVH_TEST_HOSTILE_REFUSED (kind, path, receipts != NULL, s_error, victim);
        ovh_receipts_destroy (&receipts);
        zstr_free (&path);
        unlink (victim);
    }
    zstr_free (&victim);
}

int
main (void)
{
    zsys_init ();
    if (ovh_test_folder_new (s_dir, sizeof s_dir, "test_receipts"))
        return 1;
    test_file_format ();
    test_file_damage ();
    test_file_limit ();
    test_spool_after_kill ();
    test_spool_rollback ();
    test_spool_unusable_receipts ();
    test_hostile_file ();
    ovh_test_folder_remove (s_dir);
    return ovh_test_done ("test_receipts");
}
