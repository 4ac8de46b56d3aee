/*  ovh_backlog.c - the durable side of the dispatcher's queue.             */

#include <czmq.h>
#include "ovh_backlog.h"

#define COMMIT_ROWS     1000
//  An accepted event waits for its commit before it can be sent: commit
//  soon. The other changes (deliveries, with their receipts already
//  written; attempts; dead letters, sent again at worst) can wait longer
//  and share fewer, larger commits.
#define COMMIT_MS       5
#define COMMIT_LAZY_MS  50
#define RELOAD_MAX      1000

struct _ovh_backlog_t {
    ovh_spool_t *spool;
    ovh_backlog_admit_fn *admit;
    void *admit_arg;
    ovh_item_t *uncommitted;        //  written, not yet committed, in order
    ovh_item_t *uncommitted_tail;
    size_t changes;                 //  in the open transaction
    int64_t commit_due;             //  zclock_mono, 0: nothing to commit
    bool spilling;                  //  newer events are on disk only
    int64_t memory_row;             //  newest row handed to memory
    bool full;
    bool broken;                    //  logged once
    bool refused;                   //  memory refused an item of this load
    bool failed;                    //  a write of the open transaction failed
    int64_t full_checked;           //  zclock_mono of the last size check
};

ovh_backlog_t *
ovh_backlog_new (ovh_spool_t *spool, ovh_backlog_admit_fn *admit, void *arg)
{
    assert (spool);
    assert (admit);
    ovh_backlog_t *self = (ovh_backlog_t *) zmalloc (sizeof (ovh_backlog_t));
    if (!self)
        return NULL;
    self->spool = spool;
    self->admit = admit;
    self->admit_arg = arg;
    //  What an earlier run left goes first: start as if all were spilled
    self->spilling = true;
    return self;
}

void
ovh_backlog_destroy (ovh_backlog_t **self_p)
{
    assert (self_p);
    ovh_backlog_t *self = *self_p;
    if (!self)
        return;
    while (self->uncommitted) {
        ovh_item_t *item = self->uncommitted;
        self->uncommitted = item->next;
        ovh_item_destroy (&item);
    }
    free (self);
    *self_p = NULL;
}

static void
s_broken (ovh_backlog_t *self, const char *what)
{
    if (self->broken)
        return;
    self->broken = true;
    zsys_error ("spool: %s failed: events are delivered from memory only and would "
                "not survive a restart", what);
}

//  Open a transaction if none is, and count one more change in it, to be
//  committed within 'delay' ms
static bool
s_change (ovh_backlog_t *self, int64_t delay)
{
    if (ovh_spool_begin (self->spool))
        return false;
    self->changes++;
    int64_t due = zclock_mono () + delay;
    if (!self->commit_due || due < self->commit_due)
        self->commit_due = due;
    return true;
}

void
ovh_backlog_accept (ovh_backlog_t *self, ovh_item_t *item)
{
    item->spool_row = 0;
    if (s_change (self, COMMIT_MS))
        item->spool_row = ovh_spool_insert (self->spool, item);
    if (item->spool_row <= 0) {
        item->spool_row = 0;
        self->failed = true;
        s_broken (self, "write");
    }
    item->next = NULL;
    if (self->uncommitted_tail)
        self->uncommitted_tail->next = item;
    else
        self->uncommitted = item;
    self->uncommitted_tail = item;
    if (self->changes >= COMMIT_ROWS)
        ovh_backlog_commit (self);
}

void
ovh_backlog_delivered (ovh_backlog_t *self, ovh_item_t *item)
{
    //  The receipt makes the delivery durable before the next request
    //  starts; the removal rides with the group commit
    if (item->spool_row && s_change (self, COMMIT_LAZY_MS))
        ovh_spool_delivered (self->spool, item->spool_row, item->id);
    if (self->changes >= COMMIT_ROWS)
        ovh_backlog_commit (self);
}

void
ovh_backlog_write_receipts (ovh_backlog_t *self)
{
    ovh_spool_write_receipts (self->spool);
}

void
ovh_backlog_retrying (ovh_backlog_t *self, ovh_item_t *item)
{
    if (item->spool_row && s_change (self, COMMIT_LAZY_MS))
        ovh_spool_set_attempts (self->spool, item->spool_row, item->attempts);
}

int
ovh_backlog_bury (ovh_backlog_t *self, ovh_item_t *item, const char *error)
{
    if (item->spool_row && s_change (self, COMMIT_LAZY_MS))
        return ovh_spool_bury (self->spool, item, error);
    return -1;
}

//  Offer a durable item to memory; once memory refuses one, every newer
//  item stays on disk until the reload has caught up
static void
s_offer (ovh_backlog_t *self, ovh_item_t *item)
{
    if (!self->spilling && self->admit (self->admit_arg, item))
        self->memory_row = item->spool_row;
    else {
        self->spilling = true;
        ovh_item_destroy (&item);
    }
}

void
ovh_backlog_commit (ovh_backlog_t *self)
{
    bool committed = true;
    if (self->changes) {
        //  A failed write or commit undoes the whole transaction: none of
        //  this batch is on disk, so memory must keep all of it
        committed = ovh_spool_commit (self->spool) == 0 && !self->failed;
        if (!committed)
            s_broken (self, "commit");
        self->changes = 0;
        self->commit_due = 0;
        self->failed = false;
        //  The size takes a query and a stat: look at most every 50 ms
        int64_t now = zclock_mono ();
        if (now - self->full_checked >= 50) {
            self->full = ovh_spool_full (self->spool);
            self->full_checked = now;
        }
    }
    while (self->uncommitted) {
        ovh_item_t *item = self->uncommitted;
        self->uncommitted = item->next;
        item->next = NULL;
        if (!committed)
            item->spool_row = 0;
        if (item->spool_row)
            s_offer (self, item);
        else
            //  Not on disk: memory takes it whatever its fill
            self->admit (self->admit_arg, item);
    }
    self->uncommitted_tail = NULL;
}

int64_t
ovh_backlog_commit_due (ovh_backlog_t *self)
{
    return self->commit_due ? self->commit_due : -1;
}

static void
s_loaded (void *arg, ovh_item_t *item)
{
    ovh_backlog_t *self = (ovh_backlog_t *) arg;
    //  Once memory refuses one, the newer ones of the batch wait too
    if (!self->refused && self->admit (self->admit_arg, item))
        self->memory_row = item->spool_row;
    else {
        self->refused = true;
        ovh_item_destroy (&item);       //  still on disk; loaded again later
    }
}

void
ovh_backlog_reload (ovh_backlog_t *self, size_t room)
{
    if (!self->spilling || room == 0)
        return;
    //  Every accepted row must be committed (and so counted) first; the
    //  open batch's other changes may wait
    if (self->uncommitted)
        ovh_backlog_commit (self);
    if (room > RELOAD_MAX)
        room = RELOAD_MAX;
    self->refused = false;
    int loaded = ovh_spool_load (self->spool, self->memory_row, room, s_loaded, self);
    if (loaded >= 0 && (size_t) loaded < room && !self->refused)
        self->spilling = false;         //  caught up
}

bool
ovh_backlog_pending (ovh_backlog_t *self)
{
    return self->uncommitted || self->spilling;
}

bool
ovh_backlog_full (ovh_backlog_t *self)
{
    return self->full;
}
