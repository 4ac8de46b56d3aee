/*  ovh_backlog.h - the durable side of the dispatcher's queue: every event
    goes into the SQLite spool first and is released for delivery only once
    its transaction has committed (group commit: at most COMMIT_ROWS changes,
    and within COMMIT_MS of the first accepted event; deliveries, with their
    receipts written, wait up to COMMIT_LAZY_MS). When memory is full, newer
    events stay on disk only ("spilled") and come back in spool order as
    memory frees, so memory always holds the oldest events and per-key order
    holds.

    A batch whose write or commit fails is kept (a journal of its inserts,
    removals, attempts and dead letters) and written again with backoff
    (10 ms doubling to 1 s) until it commits; meanwhile its accepted events
    wait in memory and ovh_backlog_failing says the bus must pause.         */

#ifndef OVH_BACKLOG_H_INCLUDED
#define OVH_BACKLOG_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "ovh_item.h"
#include "ovh_spool.h"

//  Offered a committed item: take it (true) or refuse, memory being full
//  (false: the backlog frees it and keeps it on disk only).
typedef bool (ovh_backlog_admit_fn) (void *arg, ovh_item_t *item);

//  Told of a committed item that stays on disk only, before the backlog
//  frees it (the same 'arg' as admit)
typedef void (ovh_backlog_spilled_fn) (void *arg, const ovh_item_t *item);
typedef struct _ovh_backlog_t ovh_backlog_t;

//  Works on 'spool', which stays the caller's.
ovh_backlog_t *
    ovh_backlog_new (ovh_spool_t *spool, ovh_backlog_admit_fn *admit, void *arg);
void
    ovh_backlog_destroy (ovh_backlog_t **self_p);
//  Who is told of the items left on disk only (a pair's standby, whose
//  peer may have finished them already); none by default
void
    ovh_backlog_on_spill (ovh_backlog_t *self, ovh_backlog_spilled_fn *spilled);

//  Write an accepted item; it is admitted after the next commit
void
    ovh_backlog_accept (ovh_backlog_t *self, ovh_item_t *item);
//  The item was delivered / waits for a retry (attempts saved) / is dead
void
    ovh_backlog_delivered (ovh_backlog_t *self, ovh_item_t *item);
void
    ovh_backlog_retrying (ovh_backlog_t *self, ovh_item_t *item);
//  A standby lets go of an event its active peer finished that is on disk
//  only (spilled): its row is deleted in the batch. 1 if there was one, 0
//  if not (or while the spool fails). Not in the journal: if the batch
//  fails, the row stays, and is delivered again (same id) at a takeover.
int
    ovh_backlog_release_id (ovh_backlog_t *self, const char *id);
//  Write the receipts of the deliveries recorded since the last call; the
//  dispatcher does it before it starts requests, so that a crash sends
//  again at most the requests that were under way
void
    ovh_backlog_write_receipts (ovh_backlog_t *self);
//  Returns 0 when the dead letter is in the batch (kept once it commits;
//  until then, and after a crash, the event is still in the spool)
int
    ovh_backlog_bury (ovh_backlog_t *self, ovh_item_t *item, const char *error);

//  Commit now if anything changed, then admit what the commit made durable
void
    ovh_backlog_commit (ovh_backlog_t *self);
//  The same, and while failing try again now whatever the backoff (at
//  shutdown)
void
    ovh_backlog_commit_now (ovh_backlog_t *self);
//  When the open transaction must be committed (zclock_mono), -1: none
int64_t
    ovh_backlog_commit_due (ovh_backlog_t *self);
//  Load up to 'room' spilled items back, oldest first
void
    ovh_backlog_reload (ovh_backlog_t *self, size_t room);
//  Are items uncommitted or on disk only?
bool
    ovh_backlog_pending (ovh_backlog_t *self);
//  Is the spool over its size limit (as of the last commit)?
bool
    ovh_backlog_full (ovh_backlog_t *self);
//  While full: when to look again (zclock_mono), -1 when not full; and the
//  look itself, due or not (the dispatcher calls it every loop)
int64_t
    ovh_backlog_full_due (ovh_backlog_t *self);
void
    ovh_backlog_recheck (ovh_backlog_t *self);
//  Did the last write or commit fail (a retry is due at commit_due)?
bool
    ovh_backlog_failing (ovh_backlog_t *self);
//  Accepted events that are not in the spool (while failing), for the
//  final count: lost if the process ends now
size_t
    ovh_backlog_unwritten (ovh_backlog_t *self);

#endif
