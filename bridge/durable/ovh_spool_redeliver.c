/*  ovh_spool_redeliver.c - a selective --redeliver: the dead letters a
    selection chooses go back to the events, the others stay (see
    ovh_spool.h). The whole redelivery is ovh_spool_redeliver.              */

#include <czmq.h>
#include "ovh_spool_private.h"

//  The row ids of the dead letters 'selection' chooses, in rowid order
//  (the order they died). Returns the count, or -1 (self->error set).
static int
s_chosen_rows (ovh_spool_t *self, ovh_dlselect_t *selection, int64_t **rows)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2 (self->db, "SELECT rowid, id, type, key, failed_ms FROM"
                            " dead_letters ORDER BY rowid", -1, &stmt, NULL) != SQLITE_OK) {
        snprintf (self->error, sizeof self->error, "%s", sqlite3_errmsg (self->db));
        return -1;
    }
    size_t count = 0, capacity = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        ovh_dlrecord_t record = {
            .number = sqlite3_column_int64 (stmt, 0),
            .id = (const char *) sqlite3_column_text (stmt, 1),
            .type = (const char *) sqlite3_column_text (stmt, 2),
            .key = (const char *) sqlite3_column_text (stmt, 3),
            .failed_ms = sqlite3_column_int64 (stmt, 4),
            .last_error = ""
        };
        if (!ovh_dlselect_match (selection, &record))
            continue;
        if (count == capacity) {
            capacity = capacity ? capacity * 2 : 64;
            int64_t *grown = (int64_t *) realloc (*rows, capacity * sizeof (int64_t));
            if (!grown) {
                rc = SQLITE_NOMEM;
                break;
            }
            *rows = grown;
        }
        (*rows) [count++] = record.number;
    }
    if (rc != SQLITE_DONE)
        snprintf (self->error, sizeof self->error, "%s",
                  rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg (self->db));
    sqlite3_finalize (stmt);
    return rc == SQLITE_DONE ? (int) count : -1;
}

int
ovh_spool_redeliver_selected (ovh_spool_t *self, ovh_dlselect_t *selection)
{
    assert (self);
    if (!selection || !ovh_dlselect_filtered (selection))
        return ovh_spool_redeliver (self);
    int64_t *rows = NULL;
    int count = s_chosen_rows (self, selection, &rows);
    if (count <= 0) {
        free (rows);
        return count;
    }
    bool own = !ovh_spool_in_transaction (self);
    sqlite3_stmt *move = NULL, *clear = NULL;
    int rc = own ? ovh_spool_begin (self) : 0;
    //  As the whole redelivery does: below every waiting event, numbered
    //  1..count in the order they died, so a session's dead letters go
    //  before its later events
    sqlite3_stmt *shift = self->stmt [ST_SHIFT];
    sqlite3_bind_int64 (shift, 1, self->next_row + count);
    if (rc == 0)
        rc = ovh_spool_write (self, shift);
    if (rc == 0
    &&  (sqlite3_prepare_v2 (self->db, "INSERT INTO events (rowid, id, type, key, json,"
                             " accepted_ms, attempts) SELECT ?1, id, type, key, json, ?2, 0"
                             " FROM dead_letters WHERE rowid = ?3", -1, &move, NULL)
    ||   sqlite3_prepare_v2 (self->db, "DELETE FROM dead_letters WHERE rowid = ?1", -1,
                             &clear, NULL))) {
        snprintf (self->error, sizeof self->error, "%s", sqlite3_errmsg (self->db));
        if (ovh_spool_in_transaction (self))
            ovh_spool_run (self, self->stmt [ST_ROLLBACK]);
        rc = -1;
    }
    int64_t now = zclock_time ();
    for (int index = 0; rc == 0 && index < count; index++) {
        sqlite3_bind_int64 (move, 1, index + 1);
        sqlite3_bind_int64 (move, 2, now);
        sqlite3_bind_int64 (move, 3, rows [index]);
        sqlite3_bind_int64 (clear, 1, rows [index]);
        rc = ovh_spool_write (self, move);
        if (rc == 0)
            rc = ovh_spool_write (self, clear);
    }
    sqlite3_finalize (move);
    sqlite3_finalize (clear);
    free (rows);
    if (rc == 0 && own && ovh_spool_commit (self))
        rc = -1;
    if (rc == 0)
        self->next_row = ovh_spool_count (self, ST_LAST_ROW) + 1;
    return rc ? -1 : count;
}
