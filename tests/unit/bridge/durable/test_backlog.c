/*  test_backlog.c - the durable side of the dispatcher's queue: an event is
    released to memory only once committed; accepted events commit within
    5 ms, deliveries alone wait longer (their receipts are written); memory
    that refuses an event makes every newer one wait on disk, and reloads
    bring them back in order; what a reopened spool holds.                  */

#include <czmq.h>
#include <sqlite3.h>
#include "ovh_test.h"
#include "ovh_test_folder.h"
#include "ovh_backlog.h"
#include "ovh_spool.h"

static char s_dir [256];
static char s_path [512];
static char s_error [512];

//  The dispatcher's memory, as the backlog sees it: takes up to 'room'
//  items, in the order offered
typedef struct {
    ovh_item_t *items [64];
    size_t count;
    size_t room;
} memory_t;

static bool
s_admit (void *arg, ovh_item_t *item)
{
    memory_t *memory = (memory_t *) arg;
    if (memory->count >= memory->room)
        return false;
    REQUIRE (memory->count < 64);
    memory->items [memory->count++] = item;
    return true;
}

static void
s_memory_clear (memory_t *memory)
{
    for (size_t index = 0; index < memory->count; index++)
        ovh_item_destroy (&memory->items [index]);
    memory->count = 0;
}

static ovh_item_t *
s_item (int number)
{
    char id [40], json [64];
    snprintf (id, sizeof id, "evt_%032d", number);
    snprintf (json, sizeof json, "{\"n\":%d}", number);
    ovh_item_t *item = ovh_item_restore (ovh_catalog_at (0), id, "ses_A", 5,
                                         json, strlen (json), 1700000000000, 0);
    REQUIRE (item);
    return item;
}

//  The number in an item's id
static int
s_number (const ovh_item_t *item)
{
    return atoi (item->id + 4);
}

static ovh_spool_t *
s_spool (const char *name)
{
    snprintf (s_path, sizeof s_path, "%s/%s", s_dir, name);
    ovh_spool_t *spool = ovh_spool_new (s_path, false, 1 << 30, s_error, sizeof s_error);
    REQUIRE (spool);
    return spool;
}

//  Accepted events reach memory only after their commit, which is due
//  within 5 ms; another connection sees them then
static void
test_released_after_commit (void)
{
    ovh_spool_t *spool = s_spool ("released.db");
    memory_t memory = { .room = 64 };
    ovh_backlog_t *backlog = ovh_backlog_new (spool, s_admit, &memory);
    REQUIRE (backlog);
    CHECK (ovh_backlog_commit_due (backlog) == -1);
    //  A new backlog holds new events on disk until it has loaded what the
    //  spool held (here nothing): older events go first
    CHECK (ovh_backlog_pending (backlog));
    ovh_backlog_reload (backlog, 64);
    CHECK (!ovh_backlog_pending (backlog));

    int64_t before = zclock_mono ();
    for (int number = 1; number <= 3; number++)
        ovh_backlog_accept (backlog, s_item (number));
    int64_t due = ovh_backlog_commit_due (backlog);
    CHECK_MSG (due >= before + 5 && due <= zclock_mono () + 5, "due in %" PRId64 " ms",
               due - before);
    CHECK (memory.count == 0);
    CHECK (ovh_backlog_pending (backlog));
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM events") == 0);

    ovh_backlog_commit (backlog);
    CHECK (memory.count == 3);
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM events") == 3);
    CHECK (ovh_backlog_commit_due (backlog) == -1);
    CHECK (!ovh_backlog_pending (backlog));
    for (size_t index = 0; index < memory.count; index++) {
        CHECK (s_number (memory.items [index]) == (int) index + 1);
        CHECK (memory.items [index]->spool_row == (int64_t) index + 1);
    }
    s_memory_clear (&memory);
    ovh_backlog_destroy (&backlog);
    CHECK (backlog == NULL);
    ovh_spool_destroy (&spool);
}

//  A delivery alone waits up to 50 ms for its commit (its receipt is on
//  disk at once); an accepted event in the same batch brings it to 5 ms
static void
test_deliveries_commit_lazily (void)
{
    ovh_spool_t *spool = s_spool ("lazy.db");
    memory_t memory = { .room = 64 };
    ovh_backlog_t *backlog = ovh_backlog_new (spool, s_admit, &memory);
    ovh_backlog_reload (backlog, 64);
    for (int number = 1; number <= 2; number++)
        ovh_backlog_accept (backlog, s_item (number));
    ovh_backlog_commit (backlog);
    REQUIRE (memory.count == 2);

    int64_t before = zclock_mono ();
    ovh_backlog_delivered (backlog, memory.items [0]);
    ovh_backlog_write_receipts (backlog);
    int64_t due = ovh_backlog_commit_due (backlog);
    CHECK_MSG (due >= before + 50 && due <= zclock_mono () + 50, "due in %" PRId64 " ms",
               due - before);
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM events") == 2);
    char receipts [600];
    snprintf (receipts, sizeof receipts, "%s.delivered", s_path);
    CHECK (zsys_file_size (receipts) > 0);

    ovh_backlog_accept (backlog, s_item (3));
    CHECK (ovh_backlog_commit_due (backlog) <= zclock_mono () + 5);
    ovh_backlog_commit (backlog);
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM events") == 2);     //  1 gone, 3 in
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM events WHERE rowid = 1") == 0);
    CHECK (zsys_file_size (receipts) == 0);
    s_memory_clear (&memory);
    ovh_backlog_destroy (&backlog);
    ovh_spool_destroy (&spool);
}

//  Once memory refuses an event, every newer one stays on disk, even when
//  memory has room again, until a reload brings them back in order
static void
test_spill_and_reload_in_order (void)
{
    ovh_spool_t *spool = s_spool ("spill.db");
    memory_t memory = { .room = 4 };
    ovh_backlog_t *backlog = ovh_backlog_new (spool, s_admit, &memory);
    //  A new spool: nothing to load, the first reload finds it caught up
    ovh_backlog_reload (backlog, 10);
    CHECK (!ovh_backlog_pending (backlog));

    for (int number = 1; number <= 10; number++)
        ovh_backlog_accept (backlog, s_item (number));
    ovh_backlog_commit (backlog);
    CHECK (memory.count == 4);
    CHECK (ovh_backlog_pending (backlog));                   //  6 on disk only
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM events") == 10);

    //  Memory frees two; a newer event must not jump the queue
    for (int index = 0; index < 2; index++)
        ovh_backlog_delivered (backlog, memory.items [index]);
    ovh_item_destroy (&memory.items [0]);
    ovh_item_destroy (&memory.items [1]);
    memory.items [0] = memory.items [2];
    memory.items [1] = memory.items [3];
    memory.count = 2;
    ovh_backlog_accept (backlog, s_item (11));
    ovh_backlog_commit (backlog);
    CHECK (memory.count == 2);

    //  Reloads take them back oldest first, as room allows
    ovh_backlog_reload (backlog, 2);
    CHECK (memory.count == 4);
    CHECK (s_number (memory.items [2]) == 5 && s_number (memory.items [3]) == 6);
    s_memory_clear (&memory);
    memory.room = 64;
    ovh_backlog_reload (backlog, 64);
    CHECK (memory.count == 5);
    int want = 7;
    for (size_t index = 0; index < memory.count; index++)
        CHECK_MSG (s_number (memory.items [index]) == want++, "position %zu", index);
    CHECK (!ovh_backlog_pending (backlog));
    s_memory_clear (&memory);

    //  Caught up: new events go straight to memory again
    ovh_backlog_accept (backlog, s_item (12));
    ovh_backlog_commit (backlog);
    CHECK (memory.count == 1 && s_number (memory.items [0]) == 12);
    s_memory_clear (&memory);
    ovh_backlog_destroy (&backlog);
    ovh_spool_destroy (&spool);
}

//  A new backlog on a spool that holds events starts by loading them
static void
test_resume_after_reopen (void)
{
    ovh_spool_t *spool = s_spool ("resume.db");
    memory_t memory = { .room = 64 };
    ovh_backlog_t *backlog = ovh_backlog_new (spool, s_admit, &memory);
    ovh_backlog_reload (backlog, 64);
    for (int number = 1; number <= 5; number++)
        ovh_backlog_accept (backlog, s_item (number));
    ovh_backlog_commit (backlog);
    ovh_backlog_delivered (backlog, memory.items [1]);       //  2 delivered
    ovh_backlog_write_receipts (backlog);
    memory.items [3]->attempts = 3;
    ovh_backlog_retrying (backlog, memory.items [3]);        //  4 retrying
    CHECK (ovh_backlog_bury (backlog, memory.items [4], "final status") == 0);
    s_memory_clear (&memory);
    ovh_backlog_destroy (&backlog);
    ovh_spool_destroy (&spool);                              //  commits

    spool = s_spool ("resume.db");
    backlog = ovh_backlog_new (spool, s_admit, &memory);
    CHECK (ovh_backlog_pending (backlog));
    ovh_backlog_reload (backlog, 64);
    CHECK (memory.count == 3);
    if (memory.count == 3) {
        CHECK (s_number (memory.items [0]) == 1);
        CHECK (s_number (memory.items [1]) == 3);
        CHECK (s_number (memory.items [2]) == 4 && memory.items [2]->attempts == 3);
    }
    CHECK (ovh_spool_dead (spool) == 1);
    CHECK (!ovh_backlog_pending (backlog));
    s_memory_clear (&memory);
    ovh_backlog_destroy (&backlog);
    ovh_spool_destroy (&spool);
}


//  Another connection to the same file, to inject faults as another
//  process would: a trigger that fails a write, a lock held
static sqlite3 *
s_other (void)
{
    sqlite3 *db = NULL;
    REQUIRE (sqlite3_open (s_path, &db) == SQLITE_OK);
    sqlite3_busy_timeout (db, 5000);
    return db;
}

static void
s_exec (sqlite3 *db, const char *sql)
{
    char *message = NULL;
    int rc = sqlite3_exec (db, sql, NULL, NULL, &message);
    CHECK_MSG (rc == SQLITE_OK, "%s: %s", sql, message ? message : "?");
    sqlite3_free (message);
}

//  Commit when due, as the dispatcher's loop does
static void
s_commit_when_due (ovh_backlog_t *backlog)
{
    int64_t due = ovh_backlog_commit_due (backlog);
    if (due > zclock_mono ())
        zclock_sleep ((int) (due - zclock_mono ()));
    ovh_backlog_commit (backlog);
}

//  A write that fails in the middle of a batch undoes the whole batch in
//  SQLite: the events accepted before it in the batch, a delivery and a
//  dead letter. None of it is lost: the events go to memory in order (not
//  spilled, memory has room), marked as not in the spool, and the delivery
//  and the dead letter are written again once the spool works.
static void
test_failed_write_keeps_the_batch (void)
{
    ovh_spool_t *spool = s_spool ("failed.db");
    memory_t memory = { .room = 64 };
    ovh_backlog_t *backlog = ovh_backlog_new (spool, s_admit, &memory);
    ovh_backlog_reload (backlog, 64);
    for (int number = 1; number <= 3; number++)
        ovh_backlog_accept (backlog, s_item (number));
    ovh_backlog_commit (backlog);
    REQUIRE (memory.count == 3);

    //  Event 6's insert fails; 4 and 5, the delivery of 1 and the dead
    //  letter of 2 were written before it in the same batch
    sqlite3 *other = s_other ();
    s_exec (other, "CREATE TRIGGER poison BEFORE INSERT ON events"
                   " WHEN NEW.id = 'evt_00000000000000000000000000000006'"
                   " BEGIN SELECT RAISE (ABORT, 'injected fault'); END");
    //  Once 6 is in memory, the dead letter keeps the retries failing
    s_exec (other, "CREATE TRIGGER poison_dead BEFORE INSERT ON dead_letters"
                   " WHEN (SELECT count(*) FROM events WHERE rowid > 3) = 0"
                   " BEGIN SELECT RAISE (ABORT, 'injected fault'); END");
    ovh_backlog_delivered (backlog, memory.items [0]);
    ovh_backlog_write_receipts (backlog);
    CHECK (ovh_backlog_bury (backlog, memory.items [1], "final status") == 0);
    for (int number = 4; number <= 7; number++)
        ovh_backlog_accept (backlog, s_item (number));
    CHECK (ovh_backlog_failing (backlog));
    CHECK (ovh_backlog_unwritten (backlog) == 0);       //  all went to memory
    CHECK (memory.count == 7);
    for (size_t index = 3; index < memory.count; index++) {
        CHECK_MSG (s_number (memory.items [index]) == (int) index + 1, "position %zu", index);
        CHECK (memory.items [index]->spool_row == 0);
    }
    //  Retries back off, and fail again while the fault lasts
    int64_t due = ovh_backlog_commit_due (backlog);
    CHECK (due > 0);
    for (int tries = 0; tries < 3; tries++)
        s_commit_when_due (backlog);
    CHECK (ovh_backlog_failing (backlog));
    CHECK (ovh_backlog_commit_due (backlog) - due >= 10);
    //  The removal went through in a batch of its own; the dead letter not
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM events") == 2);
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM dead_letters") == 0);

    //  The fault ends: the next retry writes everything
    s_exec (other, "DROP TRIGGER poison");
    s_exec (other, "DROP TRIGGER poison_dead");
    sqlite3_close (other);
    s_commit_when_due (backlog);
    CHECK (!ovh_backlog_failing (backlog));
    //  1 delivered, 2 buried, 3 waiting (4 to 7 are in memory only)
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM events") == 1);
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM dead_letters") == 1);
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM events WHERE id IN"
                                  " ('evt_00000000000000000000000000000001',"
                                  "  'evt_00000000000000000000000000000002')") == 0);
    s_memory_clear (&memory);
    ovh_backlog_destroy (&backlog);
    ovh_spool_destroy (&spool);
}

//  With memory full, an event is freed only once its row is committed:
//  while the spool fails, the events memory refuses stay in the journal,
//  and are written once it works
static void
test_memory_full_waits_for_the_row (void)
{
    ovh_spool_t *spool = s_spool ("spillfail.db");
    memory_t memory = { .room = 2 };
    ovh_backlog_t *backlog = ovh_backlog_new (spool, s_admit, &memory);
    ovh_backlog_reload (backlog, 64);
    sqlite3 *other = s_other ();
    s_exec (other, "CREATE TRIGGER poison BEFORE INSERT ON events"
                   " WHEN NEW.id = 'evt_00000000000000000000000000000005'"
                   " BEGIN SELECT RAISE (ABORT, 'injected fault'); END");
    for (int number = 1; number <= 6; number++)
        ovh_backlog_accept (backlog, s_item (number));
    s_commit_when_due (backlog);
    CHECK (ovh_backlog_failing (backlog));
    CHECK (memory.count == 2);                  //  1 and 2, from memory
    CHECK (ovh_backlog_unwritten (backlog) == 4);
    s_exec (other, "DROP TRIGGER poison");
    sqlite3_close (other);
    s_commit_when_due (backlog);
    CHECK (!ovh_backlog_failing (backlog));
    //  Two in memory, four on disk only: none lost
    CHECK (memory.count == 2);
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM events") == 4);
    s_memory_clear (&memory);
    memory.room = 64;
    ovh_backlog_reload (backlog, 64);
    CHECK (memory.count == 4);
    for (size_t index = 0; index < memory.count; index++)
        CHECK_MSG (s_number (memory.items [index]) == (int) index + 3, "position %zu", index);
    s_memory_clear (&memory);
    ovh_backlog_destroy (&backlog);
    ovh_spool_destroy (&spool);
}

//  A lock held by another process makes BEGIN fail at once, not after
//  SQLite's busy wait: the thread that drives HTTP never stalls on it, a
//  retry is scheduled, and the events go through once the lock is gone
static void
test_lock_held_never_blocks (void)
{
    ovh_spool_t *spool = s_spool ("locked.db");
    memory_t memory = { .room = 64 };
    ovh_backlog_t *backlog = ovh_backlog_new (spool, s_admit, &memory);
    ovh_backlog_reload (backlog, 64);
    sqlite3 *other = s_other ();
    s_exec (other, "BEGIN IMMEDIATE");
    int64_t before = zclock_mono ();
    for (int number = 1; number <= 3; number++)
        ovh_backlog_accept (backlog, s_item (number));
    s_commit_when_due (backlog);
    s_commit_when_due (backlog);
    int64_t took = zclock_mono () - before;
    CHECK_MSG (took < 1000, "took %" PRId64 " ms", took);
    CHECK (ovh_backlog_failing (backlog));
    CHECK (ovh_backlog_commit_due (backlog) > 0);       //  a retry is scheduled
    CHECK (memory.count == 3);                          //  sent from memory meanwhile
    s_exec (other, "COMMIT");
    sqlite3_close (other);
    s_commit_when_due (backlog);
    CHECK (!ovh_backlog_failing (backlog));
    s_memory_clear (&memory);
    ovh_backlog_accept (backlog, s_item (4));
    s_commit_when_due (backlog);
    CHECK (memory.count == 1 && memory.items [0]->spool_row > 0);
    CHECK (ovh_test_peek (s_path, "SELECT count(*) FROM events") == 1);
    s_memory_clear (&memory);
    ovh_backlog_destroy (&backlog);
    ovh_spool_destroy (&spool);
}

int
main (void)
{
    zsys_init ();
    if (ovh_test_folder_new (s_dir, sizeof s_dir, "test_backlog"))
        return 1;
    test_released_after_commit ();
    test_deliveries_commit_lazily ();
    test_spill_and_reload_in_order ();
    test_resume_after_reopen ();
    test_failed_write_keeps_the_batch ();
    test_memory_full_waits_for_the_row ();
    test_lock_held_never_blocks ();
    ovh_test_folder_remove (s_dir);
    return ovh_test_done ("test_backlog");
}
