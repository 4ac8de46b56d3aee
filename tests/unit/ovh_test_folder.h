/*  ovh_test_folder.h - what the tests of files on disk (spool, receipts,
    backlog, dead letters) share: a fresh folder per run, removed at the
    end, and a look at an SQLite file through a connection of its own (the
    view another process would have).                                        */

#ifndef OVH_TEST_FOLDER_H_INCLUDED
#define OVH_TEST_FOLDER_H_INCLUDED

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>

//  Make /tmp/<name>.XXXXXX into 'folder' (at least 64 bytes); 0 or -1
static inline int
ovh_test_folder_new (char *folder, size_t size, const char *name)
{
    snprintf (folder, size, "/tmp/%s.XXXXXX", name);
    if (mkdtemp (folder))
        return 0;
    perror ("mkdtemp");
    return -1;
}

//  Remove the folder and everything in it, whatever modes a test left
static inline void
ovh_test_folder_remove (const char *folder)
{
    char command [600];
    snprintf (command, sizeof command, "chmod -R u+rwx '%s'; rm -rf '%s'", folder, folder);
    if (system (command) != 0)
        fprintf (stderr, "cannot remove %s\n", folder);
}

//  One integer from SQL on the database at 'path', read-only; -1 on error
static inline int64_t
ovh_test_peek (const char *path, const char *sql)
{
    sqlite3 *db;
    int64_t value = -1;
    if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *stmt;
        if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK) {
            if (sqlite3_step (stmt) == SQLITE_ROW)
                value = sqlite3_column_int64 (stmt, 0);
            sqlite3_finalize (stmt);
        }
    }
    sqlite3_close (db);
    return value;
}

//  What a hostile user puts where the bridge writes a file of its own, and
//  the bridge's reason for refusing it (after "PATH ")
typedef enum {
    HOSTILE_SYMLINK, HOSTILE_DANGLING, HOSTILE_FIFO, HOSTILE_DIR, HOSTILE_HARDLINK,
    HOSTILE_COUNT
} ovh_test_hostile_t;

static const char *const ovh_test_hostile_name [HOSTILE_COUNT] __attribute__ ((unused)) = {
    "a symbolic link", "a dangling symbolic link", "a FIFO", "a directory", "a hard link",
};
static const char *const ovh_test_hostile_reason [HOSTILE_COUNT] __attribute__ ((unused)) = {
    "is a symbolic link", "is a symbolic link", "is a FIFO", "is a directory",
    "has 2 hard links",
};

//  The victim: a file of the test standing for /etc/passwd, which the
//  links point to ("<victim>.absent" for the dangling one)
#define OVH_TEST_VICTIM_TEXT "root:x:0:0:root:/root:/bin/bash\n"

static inline int
ovh_test_victim_new (const char *victim)
{
    char absent [600];
    snprintf (absent, sizeof absent, "%s.absent", victim);
    unlink (absent);                //  what a case before made in its name
    FILE *file = fopen (victim, "w");
    if (!file)
        return -1;
    fputs (OVH_TEST_VICTIM_TEXT, file);
    return fclose (file);
}

//  True if the victim holds what it held and nothing was made in its name
static inline int
ovh_test_victim_intact (const char *victim)
{
    char text [256] = "", absent [600];
    FILE *file = fopen (victim, "r");
    size_t size = file ? fread (text, 1, sizeof text - 1, file) : 0;
    if (file)
        fclose (file);
    text [size] = 0;
    snprintf (absent, sizeof absent, "%s.absent", victim);
    return strcmp (text, OVH_TEST_VICTIM_TEXT) == 0 && access (absent, F_OK) != 0;
}

//  Make 'kind' at 'path'. 0 or -1.
static inline int
ovh_test_hostile_make (ovh_test_hostile_t kind, const char *path, const char *victim)
{
    char absent [600];
    snprintf (absent, sizeof absent, "%s.absent", victim);
    switch (kind) {
        case HOSTILE_SYMLINK:  return symlink (victim, path);
        case HOSTILE_DANGLING: return symlink (absent, path);
        case HOSTILE_FIFO:     return mkfifo (path, 0600);
        case HOSTILE_DIR:      return mkdir (path, 0700);
        case HOSTILE_HARDLINK: return link (victim, path);
        default:               return -1;
    }
}

//  The names in 'folder', sorted, one per line; the caller frees
static inline char *
ovh_test_listing (const char *folder)
{
    struct dirent **names;
    int count = scandir (folder, &names, NULL, alphasort);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    for (int index = 0; index < count; index++) {
        if (out)
            fprintf (out, "%s\n", names [index]->d_name);
        free (names [index]);
    }
    if (count >= 0)
        free (names);
    if (out)
        fclose (out);
    return text;
}

//  The verdict on one hostile name (needs ovh_test.h): the open refused
//  with "<path> <reason>" in 'error', and the victim untouched
#define OVH_TEST_HOSTILE_REFUSED(kind, path, opened, error, victim) do { \
    char *want_ = zsys_sprintf ("%s %s", (path), ovh_test_hostile_reason [kind]); \
    CHECK_MSG (!(opened) && streq ((error), want_), "%s: %s", \
               ovh_test_hostile_name [kind], (opened) ? "opened" : (error)); \
    CHECK_MSG (ovh_test_victim_intact (victim), "%s: the victim was changed", \
               ovh_test_hostile_name [kind]); \
    zstr_free (&want_); \
} while (0)

//  A spool's file, its WAL and its shared memory are 0600 (needs ovh_test.h)
#define OVH_TEST_SPOOL_PRIVATE(path) do { \
    const char *suffixes_ [] = { "", "-wal", "-shm" }; \
    for (int index_ = 0; index_ < 3; index_++) { \
        char *name_ = zsys_sprintf ("%s%s", (path), suffixes_ [index_]); \
        struct stat info_; \
        CHECK_MSG (stat (name_, &info_) == 0 && (info_.st_mode & 0777) == 0600, \
                   "%s: mode %o", name_, (unsigned) (info_.st_mode & 0777)); \
        zstr_free (&name_); \
    } \
} while (0)

#endif
