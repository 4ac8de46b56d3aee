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

#endif
