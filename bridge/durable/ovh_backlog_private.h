/*  ovh_backlog_private.h - what the files of the backlog class share: its
    state and its journal. ovh_backlog.c takes events in and commits;
    ovh_backlog_journal.c handles a batch that failed (written again with
    backoff; held events to memory meanwhile). Not for other classes.        */

#ifndef OVH_BACKLOG_PRIVATE_H_INCLUDED
#define OVH_BACKLOG_PRIVATE_H_INCLUDED

#include <czmq.h>
#include "ovh_backlog.h"

typedef struct {
    int64_t row;
    char id [40];
} removal_t;

typedef struct {
    int64_t row;
    int attempts;
} attempt_t;

typedef struct {
    ovh_item_t *item;               //  a copy: the dispatcher freed its own
    char *error;
} burial_t;

struct _ovh_backlog_t {
    ovh_spool_t *spool;
    ovh_backlog_admit_fn *admit;
    void *admit_arg;
    ovh_backlog_spilled_fn *spilled;    //  NULL: nobody asks
    //  The journal of the open batch
    ovh_item_t *accepted;           //  inserted (or to insert), in order
    ovh_item_t *accepted_tail;
    size_t accepted_count;
    zlistx_t *removals;             //  removal_t
    zlistx_t *attempts;             //  attempt_t
    zlistx_t *burials;              //  burial_t
    size_t changes;                 //  in the open batch
    size_t batch_bytes;             //  of the events it inserts
    int64_t commit_due;             //  zclock_mono, 0: nothing to commit
    bool spilling;                  //  newer events are on disk only
    int64_t memory_row;             //  newest row handed to memory
    bool full;
    bool refused;                   //  memory refused an item of this load
    //  Failing: the last write or commit failed, the journal waits for a retry
    bool failing;
    int64_t failing_since;          //  zclock_mono
    int64_t failing_logged;         //  zclock_mono of the last line about it
    int64_t retry_ms;               //  the next retry's delay
    uint64_t failures;              //  of this episode
    size_t degraded;                //  held events sent from memory meanwhile
    int64_t full_checked;           //  zclock_mono of the last size check
};

//  Frees a removal_t or attempt_t (zlistx destructor)
void
    ovh_backlog_entry_destroy (void **item);
//  Frees a burial_t (zlistx destructor)
void
    ovh_backlog_burial_destroy (void **item);
//  A write or the commit failed ('what'): SQLite undid the whole batch;
//  keep the journal and schedule its next writing
void
    ovh_backlog_fail (ovh_backlog_t *self, const char *what);
//  Insert an accepted item (sets its spool_row). 0 or -1.
int
    ovh_backlog_write_accepted (ovh_backlog_t *self, ovh_item_t *item);
//  Write a dead letter of the journal. 0 or -1.
int
    ovh_backlog_write_burial (ovh_backlog_t *self, burial_t *burial);
//  Write the whole journal again in a new batch (removals first, in small
//  committed batches). 0, or -1 (the caller fails again).
int
    ovh_backlog_replay (ovh_backlog_t *self);
//  While failing: hand the oldest held items to memory, in order, as far
//  as it takes them and nothing older is on disk only
void
    ovh_backlog_degrade (ovh_backlog_t *self);

#endif
