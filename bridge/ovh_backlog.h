/*  ovh_backlog.h - the durable side of the dispatcher's queue: every event
    goes into the SQLite spool first and is released for delivery only once
    its transaction has committed (group commit: at most COMMIT_ROWS changes,
    and within COMMIT_MS of the first accepted event; deliveries, with their
    receipts written, wait up to COMMIT_LAZY_MS). When memory is full, newer events stay on
    disk only ("spilled") and come back in spool order as memory frees, so
    memory always holds the oldest events and per-key order holds.           */

#ifndef OVH_BACKLOG_H_INCLUDED
#define OVH_BACKLOG_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "ovh_item.h"
#include "ovh_spool.h"

//  Offered a committed item: take it (true) or refuse, memory being full
//  (false: the backlog frees it and keeps it on disk only). An item that
//  is not on disk (spool_row 0: the spool failed) must be taken.
typedef bool (ovh_backlog_admit_fn) (void *arg, ovh_item_t *item);

typedef struct _ovh_backlog_t ovh_backlog_t;

//  Works on 'spool', which stays the caller's.
ovh_backlog_t *
    ovh_backlog_new (ovh_spool_t *spool, ovh_backlog_admit_fn *admit, void *arg);
void
    ovh_backlog_destroy (ovh_backlog_t **self_p);

//  Write an accepted item; it is admitted after the next commit
void
    ovh_backlog_accept (ovh_backlog_t *self, ovh_item_t *item);
//  The item was delivered / waits for a retry (attempts saved) / is dead
void
    ovh_backlog_delivered (ovh_backlog_t *self, ovh_item_t *item);
void
    ovh_backlog_retrying (ovh_backlog_t *self, ovh_item_t *item);
//  Write the receipts of the deliveries recorded since the last call; the
//  dispatcher does it before it starts requests, so that a crash sends
//  again at most the requests that were under way
void
    ovh_backlog_write_receipts (ovh_backlog_t *self);
//  Returns 0 when the dead letter was kept
int
    ovh_backlog_bury (ovh_backlog_t *self, ovh_item_t *item, const char *error);

//  Commit now if anything changed, then admit what the commit made durable
void
    ovh_backlog_commit (ovh_backlog_t *self);
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

#endif
