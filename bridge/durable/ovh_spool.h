/*  ovh_spool.h - the durable queue: accepted events and dead letters in an
    SQLite file (WAL mode), so that what the bridge accepted survives a
    restart or a killed process.

    Beside the file: PATH-wal and PATH-shm (SQLite's), PATH.delivered (the
    delivery receipts, ovh_receipts.h) and PATH.lock (bridge/main.c).

    Used from one thread only (the dispatcher's): the connection is opened
    without SQLite's mutexes, and never waits for a lock another process
    holds (busy timeout 0 once open): a busy spool fails the batch, which
    the caller retries, rather than stall the thread that drives HTTP. Writes are grouped: the caller opens a
    transaction with ovh_spool_begin, inserts/removes/buries any number of
    rows, and ends the batch with ovh_spool_commit (every few milliseconds
    or 1,000 rows). An event counts as accepted once its insert is committed.
    Outside a transaction every write commits on its own (correct, slow).

    A write that fails (-1: a full disk, an I/O error) ends the open batch:
    it is rolled back as a whole, so nothing written since ovh_spool_begin
    is on disk. Its inserts are not accepted; its buries are to be done
    again (or the events are sent again after a restart); its deliveries
    are done again from their receipts at the next successful commit.

    What survives: with synchronous=NORMAL, everything committed survives a
    killed process; a power cut may lose the last commits (WAL frames not yet
    synced). With sync_full (synchronous=FULL) every commit is on the disk
    before ovh_spool_commit returns. A delivery survives a killed process
    once its receipt is written; receipts are never synced, so a power cut
    may lose some and send those events again.                               */

#ifndef OVH_SPOOL_H_INCLUDED
#define OVH_SPOOL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ovh_item.h"
#include "ovh_dlselect.h"

typedef struct _ovh_spool_t ovh_spool_t;

//  Called by ovh_spool_load with each item rebuilt from a row (spool_row
//  set); the item is the callee's from then on.
typedef void (ovh_spool_load_fn) (void *arg, ovh_item_t *item);

//  Open or create the spool at 'path'. Checks that the file is ours
//  (user_version 1, or a new empty file that gets our schema), intact
//  (quick_check) and writable. On failure returns NULL and writes one line,
//  "cannot use spool PATH: <reason>", into 'error'.
ovh_spool_t *
    ovh_spool_new (const char *path, bool sync_full, size_t max_bytes,
                   char *error, size_t error_size);
//  Commits an open transaction, then closes the file
void
    ovh_spool_destroy (ovh_spool_t **self_p);

//  Start a batch (BEGIN IMMEDIATE) unless one is open. 0 or -1.
int
    ovh_spool_begin (ovh_spool_t *self);
//  End the batch (COMMIT) if one is open. 0, or -1 when the commit failed:
//  the batch is then rolled back, none of its writes is on disk.
int
    ovh_spool_commit (ovh_spool_t *self);
//  True while a batch is open
bool
    ovh_spool_in_transaction (ovh_spool_t *self);

//  Store an item (id, type, key, json, accepted_ms, attempts). Returns its
//  rowid (> 0), which the caller puts in item->spool_row, or -1. Rowids
//  only grow while the spool is open, even past a rolled-back batch or a
//  deleted last row: a number is never given to two events, and the rows
//  above a number are exactly those inserted after it.
int64_t
    ovh_spool_insert (ovh_spool_t *self, const ovh_item_t *item);
//  Delete a row (no row: not an error). 0 or -1.
int
    ovh_spool_remove (ovh_spool_t *self, int64_t row);
//  Delete the row of the event with this id, if any: a standby lets go
//  of what its active peer finished (docs/ha.md). The rows deleted (0 or
//  1), or -1. Uses the index ovh_spool_index_ids makes.
int
    ovh_spool_remove_id (ovh_spool_t *self, const char *id);
//  An index of the events by id, made once (a bridge of a pair: without
//  it, ovh_spool_remove_id reads the whole table). 0 or -1.
int
    ovh_spool_index_ids (ovh_spool_t *self);
//  The event of 'row' (with this id) was delivered: record its receipt
//  only (the caller removes the row in its batch)
void
    ovh_spool_receipt (ovh_spool_t *self, int64_t row, const char *id);
//  The event of 'row' (with this id) was delivered: a receipt for
//  PATH.delivered (see ovh_receipts.h) and the row's removal in the batch.
//  The receipt reaches the file at the next ovh_spool_write_receipts; the
//  commit of the batch clears the receipts. 0 or -1.
int
    ovh_spool_delivered (ovh_spool_t *self, int64_t row, const char *id);
//  Write the receipts buffered since the last call: do it before a new
//  request starts, so that a crash sends again at most the requests that
//  were under way. 0 or -1 (logged; nothing is lost).
int
    ovh_spool_write_receipts (ovh_spool_t *self);
//  Record the attempts made so far. 0 or -1.
int
    ovh_spool_set_attempts (ovh_spool_t *self, int64_t row, int attempts);
//  Move an event to the dead letters: a dead_letters row from the item
//  (with its attempts, 'last_error' and the time now), and its events row
//  (item->spool_row, if any) deleted. 0 or -1.
int
    ovh_spool_bury (ovh_spool_t *self, const ovh_item_t *item, const char *last_error);

//  Rebuild up to 'max' events whose rowid is above 'after_row', in rowid
//  order, and hand each to fn. A row whose type is not in the catalog is
//  logged and moved to the dead letters ("unknown event type") instead.
//  Returns the number of items handed over (max is capped at INT_MAX), or
//  -1 on an error; the items handed over before it are fn's all the same.
int
    ovh_spool_load (ovh_spool_t *self, int64_t after_row, size_t max,
                    ovh_spool_load_fn *fn, void *arg);

//  Rows in events / in dead_letters (each counts the table: not for the
//  hot path)
size_t
    ovh_spool_events (ovh_spool_t *self);
size_t
    ovh_spool_dead (ovh_spool_t *self);
//  Bytes the spool's rows hold: pages in use (free pages left by deleted
//  rows are reused, so they don't count). The WAL file is not counted; it
//  is checkpointed and truncated to a quarter of max_bytes (at most 16 MiB)
uint64_t
    ovh_spool_bytes (ovh_spool_t *self);
//  Copy the WAL into the file and truncate it (outside a batch only): on a
//  full disk this gives space back
void
    ovh_spool_checkpoint (ovh_spool_t *self);
//  Bytes of events a batch should hold at most before its commit: the WAL
//  grows by a batch before a checkpoint can shrink it, and the disk room
//  the spool keeps counts on this
size_t
    ovh_spool_batch_bytes (ovh_spool_t *self);
//  Why the last write, commit or BEGIN failed (SQLite's message)
const char *
    ovh_spool_error (ovh_spool_t *self);
//  True when ovh_spool_bytes exceeds max_bytes, or the disk has less free
//  space than the spool keeps to be able to remove rows and checkpoint
//  (2.5 times the WAL's limit and 64 KiB; at most half of what was free
//  at start); logged once when that begins and ends
bool
    ovh_spool_full (ovh_spool_t *self);

//  Move every dead letter back to events (ids kept, attempts 0, accepted
//  now), in the order they died, and ahead of every event the spool still
//  holds: a session's dead letters are older than its waiting events, so
//  per-key order holds. Call it before anything is loaded. Returns the
//  count, or -1.
int
    ovh_spool_redeliver (ovh_spool_t *self);

//  The same for the dead letters 'selection' chooses only (all with NULL
//  or no filter), in the order they died; the others stay dead letters.
//  Returns the count, or -1.
int
    ovh_spool_redeliver_selected (ovh_spool_t *self, ovh_dlselect_t *selection);

//  accepted_ms of the oldest event, 0 when there is none
int64_t
    ovh_spool_oldest_ms (ovh_spool_t *self);

//  The path given to ovh_spool_new
const char *
    ovh_spool_path (ovh_spool_t *self);

//  The SQLite connection, for tests and diagnostics only
struct sqlite3;
struct sqlite3 *
    ovh_spool_db (ovh_spool_t *self);

#endif
