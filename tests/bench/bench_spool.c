/*  bench_spool.c - rows per second through the spool: inserts and deletes
    grouped in transactions (as the dispatcher does), one row per commit for
    comparison, deliveries (removal with or without a receipt, committed
    every N), and loading everything back (recovery after a restart).

    bench_spool [folder [count [json-bytes]]]
    Defaults: /tmp, 100000 rows, 400-byte webhook bodies. Runs with
    synchronous=NORMAL and =FULL. The folder's file system matters: tmpfs
    makes every fsync free.                                                  */

#include <czmq.h>
#include "ovh_spool.h"

static double
s_rate (size_t rows, int64_t start_us)
{
    int64_t elapsed = zclock_usecs () - start_us;
    return elapsed > 0 ? (double) rows * 1e6 / (double) elapsed : 0;
}

typedef struct {
    size_t count;
    int64_t last_row;
} drop_t;

static void
s_drop (void *arg, ovh_item_t *item)
{
    drop_t *drop = (drop_t *) arg;
    drop->count++;
    drop->last_row = item->spool_row;
    ovh_item_destroy (&item);
}

//  Insert 'count' rows committing every 'batch', then delete them the same
//  way; rows/s of each into the two rates
static int
s_round (ovh_spool_t *spool, ovh_item_t *item, size_t count, size_t batch,
         int64_t *rows, double *insert_rate, double *delete_rate)
{
    int64_t start = zclock_usecs ();
    for (size_t index = 0; index < count; index++) {
        if (index % batch == 0 && (ovh_spool_commit (spool) || ovh_spool_begin (spool)))
            return -1;
        if ((rows [index] = ovh_spool_insert (spool, item)) < 0)
            return -1;
    }
    if (ovh_spool_commit (spool))
        return -1;
    *insert_rate = s_rate (count, start);
    start = zclock_usecs ();
    for (size_t index = 0; index < count; index++) {
        if (index % batch == 0 && (ovh_spool_commit (spool) || ovh_spool_begin (spool)))
            return -1;
        if (ovh_spool_remove (spool, rows [index]))
            return -1;
    }
    if (ovh_spool_commit (spool))
        return -1;
    *delete_rate = s_rate (count, start);
    return 0;
}

//  Fill the spool with 'count' rows (not timed), then remove them as the
//  dispatcher does after deliveries: with a receipt each (written every 8,
//  a dispatch pass) or without, committed every 'batch'. Rows/s.
static double
s_deliveries (ovh_spool_t *spool, ovh_item_t *item, size_t count, size_t batch,
              bool receipts, int64_t *rows)
{
    ovh_spool_begin (spool);
    for (size_t index = 0; index < count; index++) {
        if (index % 1000 == 0 && (ovh_spool_commit (spool) || ovh_spool_begin (spool)))
            return -1;
        if ((rows [index] = ovh_spool_insert (spool, item)) < 0)
            return -1;
    }
    if (ovh_spool_commit (spool))
        return -1;
    int64_t start = zclock_usecs ();
    for (size_t index = 0; index < count; index++) {
        if (index % batch == 0 && (ovh_spool_commit (spool) || ovh_spool_begin (spool)))
            return -1;
        int rc = receipts ? ovh_spool_delivered (spool, rows [index], item->id)
                          : ovh_spool_remove (spool, rows [index]);
        if (rc)
            return -1;
        if (receipts && index % 8 == 7)
            ovh_spool_write_receipts (spool);
    }
    if (ovh_spool_commit (spool))
        return -1;
    return s_rate (count, start);
}

int
main (int argc, char *argv [])
{
    const char *folder = argc > 1 ? argv [1] : "/tmp";
    size_t count = argc > 2 ? (size_t) atol (argv [2]) : 100000;
    size_t json_size = argc > 3 ? (size_t) atol (argv [3]) : 400;
    if (count < 1000 || json_size < 2) {
        fprintf (stderr, "usage: bench_spool [folder [count>=1000 [json-bytes]]]\n");
        return 2;
    }
    char *json = (char *) malloc (json_size + 1);
    int64_t *rows = (int64_t *) malloc (count * sizeof (int64_t));
    assert (json && rows);
    memset (json, 'x', json_size);
    json [0] = '{';
    json [json_size - 1] = '}';
    json [json_size] = 0;
    ovh_item_t *item = ovh_item_restore (ovh_catalog_at (2), "evt_0123456789abcdef0123456789abcdef",
                                         "ses_ABCDEFGHIJ", 14, json, json_size,
                                         zclock_time (), 0);
    assert (item);
    printf ("bench_spool: %zu rows of %zu-byte bodies in %s\n", count, json_size, folder);
    int rc = 0;
    for (int full = 0; full < 2 && rc == 0; full++) {
        char *path = zsys_sprintf ("%s/bench_spool.%d.db", folder, (int) getpid ());
        char error [512];
        ovh_spool_t *spool = ovh_spool_new (path, full, SIZE_MAX, error, sizeof error);
        if (!spool) {
            fprintf (stderr, "bench_spool: %s\n", error);
            zstr_free (&path);
            rc = 1;
            break;
        }
        const char *mode = full ? "FULL  " : "NORMAL";
        double insert_rate, delete_rate;
        if (s_round (spool, item, count, 1000, rows, &insert_rate, &delete_rate) == 0)
            printf ("  synchronous=%s batch 1000: insert+commit %9.0f rows/s, delete+commit %9.0f rows/s\n",
                    mode, insert_rate, delete_rate);
        else
            rc = 1;
        //  One commit per row: what group commit saves
        size_t few = count / 50;
        if (rc == 0 && s_round (spool, item, few, 1, rows, &insert_rate, &delete_rate) == 0)
            printf ("  synchronous=%s batch 1:    insert+commit %9.0f rows/s, delete+commit %9.0f rows/s (%zu rows)\n",
                    mode, insert_rate, delete_rate, few);
        else
            rc = 1;
        //  Deliveries: a commit every 16 removals (what bounding
        //  uncommitted removals by half of 32 workers did), every 85 (5 ms
        //  at 17,000 deliveries/s), every 1,000 with receipts (now)
        if (rc == 0) {
            double every16 = s_deliveries (spool, item, count, 16, false, rows);
            double every85 = s_deliveries (spool, item, count, 85, false, rows);
            double receipts = s_deliveries (spool, item, count, 1000, true, rows);
            if (every16 < 0 || every85 < 0 || receipts < 0)
                rc = 1;
            else
                printf ("  synchronous=%s deliveries: commit every 16 %9.0f rows/s, every 85 %9.0f rows/s;"
                        " receipts + every 1000 %9.0f rows/s\n", mode, every16, every85, receipts);
        }
        //  Recovery: fill, reopen, load everything in pages of 1,000
        if (rc == 0 && full == 0) {
            ovh_spool_begin (spool);
            for (size_t index = 0; index < count; index++) {
                if (index % 1000 == 0) {
                    ovh_spool_commit (spool);
                    ovh_spool_begin (spool);
                }
                rows [index] = ovh_spool_insert (spool, item);
            }
            ovh_spool_commit (spool);
            printf ("  spool with %zu rows: %" PRIu64 " bytes\n", count, ovh_spool_bytes (spool));
            ovh_spool_destroy (&spool);
            int64_t start = zclock_usecs ();
            spool = ovh_spool_new (path, false, SIZE_MAX, error, sizeof error);
            int64_t opened = zclock_usecs ();
            drop_t drop = { 0, 0 };
            while (spool && ovh_spool_load (spool, drop.last_row, 1000, s_drop, &drop) > 0)
                ;
            printf ("  recovery: open (quick_check) %.1f ms, load %zu rows %.1f ms (%.0f rows/s)\n",
                    (opened - start) / 1e3, drop.count, (zclock_usecs () - opened) / 1e3,
                    s_rate (drop.count, opened));
            if (drop.count != count)
                rc = 1;
        }
        ovh_spool_destroy (&spool);
        char *extra = zsys_sprintf ("%s-wal", path);
        zsys_file_delete (extra);
        zstr_free (&extra);
        extra = zsys_sprintf ("%s-shm", path);
        zsys_file_delete (extra);
        zstr_free (&extra);
        extra = zsys_sprintf ("%s.delivered", path);
        zsys_file_delete (extra);
        zstr_free (&extra);
        zsys_file_delete (path);
        zstr_free (&path);
    }
    ovh_item_destroy (&item);
    free (rows);
    free (json);
    return rc;
}
