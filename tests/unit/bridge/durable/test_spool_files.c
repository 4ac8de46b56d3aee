/*  test_spool_files.c - the spool's files against a hostile folder: links,
    FIFOs and folders at every name it uses are refused before anything is
    made, a failed start leaves the folder as it was, one bridge per
    database inode, commits a damaged WAL lost are found, and an existing
    spool readable by others is made private.                              */

#include <czmq.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include "ovh_test.h"
#include "ovh_test_folder.h"
#include "ovh_spool.h"

static char s_dir [256];
static char s_error [1024];

static ovh_item_t *
s_item (const char *id)
{
    const char *json = "{\"event\":\"x\"}";
    ovh_item_t *item = ovh_item_restore (ovh_catalog_at (0), id, "k", 1, json, strlen (json),
                                         1, 0);
    assert (item);
    return item;
}

//  A spool at 'path' holding 'events' events, committed in batches of 10
static int
s_make_spool (const char *path, int events)
{
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    if (!spool)
        return -1;
    int rc = 0;
    for (int index = 0; index < events && rc == 0; index++) {
        char id [32];
        snprintf (id, sizeof id, "evt_%d", index);
        ovh_item_t *item = s_item (id);
        if (ovh_spool_begin (spool) || ovh_spool_insert (spool, item) <= 0
        ||  (index % 10 == 9 && ovh_spool_commit (spool)))
            rc = -1;
        ovh_item_destroy (&item);
    }
    ovh_spool_destroy (&spool);
    return rc;
}

//  Every hostile thing at every name of the spool, for a new and an
//  existing spool: refused with the name and the reason, the victim and
//  the folder as they were
static void
test_hostile_names (void)
{
    const char *suffixes [] = { "", ".delivered", ".reserve", ".lock", "-wal", "-shm", "-journal" };
    char *victim = zsys_sprintf ("%s/victim", s_dir);
    int round = 0;
    for (int existing = 0; existing < 2; existing++)
    for (size_t name = 0; name < sizeof suffixes / sizeof suffixes [0]; name++)
    for (int kind = 0; kind < HOSTILE_COUNT; kind++) {
        //  A hard link to the database is allowed (locked by inode)
        if (name == 0 && (existing || kind == HOSTILE_HARDLINK))
            continue;
        char *folder = zsys_sprintf ("%s/case%d", s_dir, round++);
        char *path = zsys_sprintf ("%s/spool.db", folder);
        char *target = zsys_sprintf ("%s%s", path, suffixes [name]);
        REQUIRE (mkdir (folder, 0700) == 0 && ovh_test_victim_new (victim) == 0);
        if (existing)
            REQUIRE (s_make_spool (path, 3) == 0);
        unlink (target);            //  the existing spool's own PATH.lock
        REQUIRE (ovh_test_hostile_make ((ovh_test_hostile_t) kind, target, victim) == 0);
        char *before = ovh_test_listing (folder);
        ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
        char *want = zsys_sprintf ("cannot use spool %s: %s %s", path, target,
                                   ovh_test_hostile_reason [kind]);
        CHECK_MSG (spool == NULL && streq (s_error, want), "%s at spool.db%s (%s): %s",
                   ovh_test_hostile_name [kind], suffixes [name],
                   existing ? "existing" : "new", s_error);
        ovh_spool_destroy (&spool);
        char *after = ovh_test_listing (folder);
        CHECK_MSG (streq (before, after), "%s at spool.db%s: folder changed:\n%s---\n%s",
                   ovh_test_hostile_name [kind], suffixes [name], before, after);
        CHECK_MSG (ovh_test_victim_intact (victim), "%s at spool.db%s: victim changed",
                   ovh_test_hostile_name [kind], suffixes [name]);
        if (existing) {
            //  Its events are all there once the hostile name is gone
            if (kind == HOSTILE_DIR)
                rmdir (target);
            else
                unlink (target);
            spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
            CHECK_MSG (spool && ovh_spool_events (spool) == 3, "%s", s_error);
            ovh_spool_destroy (&spool);
        }
        zstr_free (&want);
        free (before);
        free (after);
        zstr_free (&target);
        zstr_free (&path);
        zstr_free (&folder);
        unlink (victim);
    }
    zstr_free (&victim);
}

//  Files that are not SQLite are refused before a lock or a journal is
//  made beside them (a failed --spool /etc/passwd left /etc/passwd.lock)
static void
test_nothing_left_behind (void)
{
    struct {
        const char *name;
        const char *text;
        const char *reason;
    } cases [] = {
        { "a text file", "root:x:0:0:root:/root:/bin/bash\n", "not an ovhook spool (not an SQLite database)" },
        { "a short file", "SQLite", "not an ovhook spool (not an SQLite database)" },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        char *folder = zsys_sprintf ("%s/left%zu", s_dir, index);
        char *path = zsys_sprintf ("%s/passwd", folder);
        REQUIRE (mkdir (folder, 0700) == 0);
        FILE *file = fopen (path, "w");
        REQUIRE (file);
        fputs (cases [index].text, file);
        fclose (file);
        char *before = ovh_test_listing (folder);
        ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
        char *want = zsys_sprintf ("cannot use spool %s: %s", path, cases [index].reason);
        CHECK_MSG (spool == NULL && streq (s_error, want), "%s: %s", cases [index].name, s_error);
        ovh_spool_destroy (&spool);
        char *after = ovh_test_listing (folder);
        CHECK_MSG (streq (before, after), "%s: folder changed:\n%s---\n%s", cases [index].name,
                   before, after);
        zstr_free (&want);
        free (before);
        free (after);
        zstr_free (&path);
        zstr_free (&folder);
    }
    //  A device: nothing made beside it (a failed --spool /dev/null
    //  left /dev/null-journal)
    ovh_spool_t *spool = ovh_spool_new ("/dev/null", false, 1 << 30, s_error, sizeof s_error);
    CHECK_STR (s_error, "cannot use spool /dev/null: /dev/null is a device");
    ovh_spool_destroy (&spool);
    CHECK (access ("/dev/null-journal", F_OK) != 0 && access ("/dev/null.lock", F_OK) != 0);
}

//  One bridge per database, whatever the name: a hard link, or a removed
//  PATH.lock, does not let a second one in
static void
test_one_per_inode (void)
{
    char *path = zsys_sprintf ("%s/locked.db", s_dir);
    char *other = zsys_sprintf ("%s/other-name.db", s_dir);
    char *lock = zsys_sprintf ("%s.lock", path);
    ovh_spool_t *first = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (first, "%s", s_error);
    REQUIRE (link (path, other) == 0);
    struct {
        const char *name;
        const char *path;
        bool remove_lock;
    } cases [] = {
        { "a hard link", other, false },
        { "PATH.lock removed", path, true },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        if (cases [index].remove_lock)
            unlink (lock);
        ovh_spool_t *second = ovh_spool_new (cases [index].path, false, 1 << 30,
                                             s_error, sizeof s_error);
        char *want = zsys_sprintf ("cannot use spool %s: in use by another ovhook-bridge",
                                   cases [index].path);
        CHECK_MSG (second == NULL && streq (s_error, want), "%s: %s", cases [index].name, s_error);
        ovh_spool_destroy (&second);
        zstr_free (&want);
    }
    //  SQLite's own locks still work beside the flock: a write commits
    ovh_item_t *item = s_item ("evt_after");
    CHECK (ovh_spool_begin (first) == 0 && ovh_spool_insert (first, item) > 0
        && ovh_spool_commit (first) == 0);
    ovh_item_destroy (&item);
    ovh_spool_destroy (&first);
    CHECK (ovh_test_peek (path, "SELECT count(*) FROM events") == 1);
    zstr_free (&lock);
    zstr_free (&other);
    zstr_free (&path);
}

static int64_t
s_file_size (const char *path)
{
    struct stat info;
    return stat (path, &info) ? -1 : (int64_t) info.st_size;
}

//  A byte changed in the middle of the WAL: SQLite drops every commit
//  after the bad frame without a word; the record in PATH.lock shows it
static void
test_lost_commits (void)
{
    char *path = zsys_sprintf ("%s/wal.db", s_dir);
    char *wal = zsys_sprintf ("%s-wal", path);
    char *lock = zsys_sprintf ("%s.lock", path);
    //  A spool whose WAL holds its commits: a copy taken while it is open
    //  (the bridge killed with kill -9 leaves the same)
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    REQUIRE (spool);
    for (int index = 0; index < 500; index++) {
        char id [32];
        snprintf (id, sizeof id, "evt_%d", index);
        ovh_item_t *item = s_item (id);
        CHECK (ovh_spool_begin (spool) == 0 && ovh_spool_insert (spool, item) > 0);
        if (index % 10 == 9)
            CHECK (ovh_spool_commit (spool) == 0);
        ovh_item_destroy (&item);
    }
    char *copy = zsys_sprintf ("%s/copy.db", s_dir);
    char *command = zsys_sprintf ("cp '%s' '%s' && cp '%s' '%s-wal' && cp '%s' '%s.lock'",
                                  path, copy, wal, copy, lock, copy);
    REQUIRE (system (command) == 0);
    zstr_free (&command);
    ovh_spool_destroy (&spool);
    char *copy_wal = zsys_sprintf ("%s-wal", copy);
    int64_t size = s_file_size (copy_wal);
    CHECK_MSG (size > 100000, "WAL of %" PRId64 " bytes", size);
    FILE *file = fopen (copy_wal, "r+b");
    REQUIRE (file);
    fseek (file, (long) (size / 2), SEEK_SET);
    int byte = fgetc (file);
    fseek (file, (long) (size / 2), SEEK_SET);
    fputc (byte ^ 0x55, file);
    fclose (file);
    spool = ovh_spool_new (copy, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool == NULL, "started with %zu events", spool ? ovh_spool_events (spool) : 0);
    ovh_spool_destroy (&spool);
    char *prefix = zsys_sprintf ("cannot use spool %s: the database holds ", copy);
    char *tail = zsys_sprintf (" committed batches were lost (a corrupted or cut %s-wal); to"
                               " start with what it holds, remove %s.lock", copy, copy);
    CHECK_MSG (strncmp (s_error, prefix, strlen (prefix)) == 0 && strstr (s_error, tail)
            && strstr (s_error, "recorded 50 (last row 500)"), "%s", s_error);
    printf ("test_spool_files: %s\n", s_error);
    //  The way out the message gives: what the database holds, no less
    char *copy_lock = zsys_sprintf ("%s.lock", copy);
    unlink (copy_lock);
    spool = ovh_spool_new (copy, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool, "%s", s_error);
    if (spool)
        CHECK (ovh_spool_events (spool) > 0 && ovh_spool_events (spool) < 500);
    ovh_spool_destroy (&spool);
    //  The intact original starts, and a clean stop keeps the record true
    spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool && ovh_spool_events (spool) == 500, "%s", s_error);
    ovh_spool_destroy (&spool);
    zstr_free (&copy_lock);
    zstr_free (&prefix);
    zstr_free (&tail);
    zstr_free (&copy_wal);
    zstr_free (&copy);
    zstr_free (&lock);
    zstr_free (&wal);
    zstr_free (&path);
}

//  An existing spool readable by others is made 0600 (with a warning)
static void
test_existing_private (void)
{
    char *path = zsys_sprintf ("%s/open.db", s_dir);
    REQUIRE (s_make_spool (path, 3) == 0);
    REQUIRE (chmod (path, 0644) == 0);
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, s_error, sizeof s_error);
    CHECK_MSG (spool, "%s", s_error);
    ovh_item_t *item = s_item ("evt_more");
    CHECK (spool && ovh_spool_begin (spool) == 0 && ovh_spool_insert (spool, item) > 0
        && ovh_spool_commit (spool) == 0);
    ovh_item_destroy (&item);
    OVH_TEST_SPOOL_PRIVATE (path);
    ovh_spool_destroy (&spool);
    zstr_free (&path);
}

int
main (void)
{
    zsys_init ();
    if (ovh_test_folder_new (s_dir, sizeof s_dir, "test_spool_files"))
        return 1;
    test_hostile_names ();
    test_nothing_left_behind ();
    test_one_per_inode ();
    test_lost_commits ();
    test_existing_private ();
    ovh_test_folder_remove (s_dir);
    return ovh_test_done ("test_spool_files");
}
