/*  ovh_backlog.c - the durable side of the dispatcher's queue.

    SQLite undoes a whole transaction when one of its writes fails (a full
    disk, an I/O error, a lock held by another process). So the open batch
    is also kept here as a journal: the items it inserts, the rows it
    removes, the attempts it records and the dead letters it buries. After a
    failure the journal is written again in a new transaction, with backoff,
    until it commits; nothing of it is forgotten meanwhile. An accepted item
    reaches memory only once its row is committed, and while the spool fails
    the dispatcher pauses the bus (ovh_backlog_failing), so memory and the
    journal stay bounded and per-key order holds. The journal's side is in
    ovh_backlog_journal.c.                                                   */

#include "ovh_log.h"
#include "ovh_backlog_private.h"

#define COMMIT_ROWS     1000
//  An accepted event waits for its commit before it can be sent: commit
//  soon. The other changes (deliveries, with their receipts already
//  written; attempts; dead letters, sent again at worst) can wait longer
//  and share fewer, larger commits.
#define COMMIT_MS       5
#define COMMIT_LAZY_MS  50
#define RELOAD_MAX      1000
//  While the spool is full, how often to look again
#define FULL_RECHECK_MS 50
//  A failed batch is written again after this delay, doubling to 1 s
#define RETRY_FIRST_MS  10

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
    self->removals = zlistx_new ();
    self->attempts = zlistx_new ();
    self->burials = zlistx_new ();
    if (!self->removals || !self->attempts || !self->burials) {
        ovh_backlog_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->removals, ovh_backlog_entry_destroy);
    zlistx_set_destructor (self->attempts, ovh_backlog_entry_destroy);
    zlistx_set_destructor (self->burials, ovh_backlog_burial_destroy);
    //  What an earlier run left goes first: start as if all were spilled
    self->spilling = true;
    self->retry_ms = RETRY_FIRST_MS;
    return self;
}

void
ovh_backlog_destroy (ovh_backlog_t **self_p)
{
    assert (self_p);
    ovh_backlog_t *self = *self_p;
    if (!self)
        return;
    while (self->accepted) {
        ovh_item_t *item = self->accepted;
        self->accepted = item->next;
        ovh_item_destroy (&item);
    }
    zlistx_destroy (&self->removals);
    zlistx_destroy (&self->attempts);
    zlistx_destroy (&self->burials);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------
//  The batch and its journal

//  Count one more change, to be committed within 'delay' ms
static void
s_count (ovh_backlog_t *self, int64_t delay)
{
    self->changes++;
    if (self->failing)
        return;                 //  the retry is scheduled already
    int64_t due = zclock_mono () + delay;
    if (!self->commit_due || due < self->commit_due)
        self->commit_due = due;
}

//  Open a batch unless one is open; false (and failing) when it cannot be
static bool
s_begin (ovh_backlog_t *self)
{
    if (self->failing)
        return false;           //  the journal is written again at the retry
    if (ovh_spool_begin (self->spool) == 0)
        return true;
    ovh_backlog_fail (self, "BEGIN");
    return false;
}

void
ovh_backlog_accept (ovh_backlog_t *self, ovh_item_t *item)
{
    item->spool_row = 0;
    item->next = NULL;
    if (self->accepted_tail)
        self->accepted_tail->next = item;
    else
        self->accepted = item;
    self->accepted_tail = item;
    self->accepted_count++;
    s_count (self, COMMIT_MS);
    self->batch_bytes += item->json_size;
    if (s_begin (self) && ovh_backlog_write_accepted (self, item))
        ovh_backlog_fail (self, "write");
    if ((self->changes >= COMMIT_ROWS || self->batch_bytes >= ovh_spool_batch_bytes (self->spool))
    &&  !self->failing)
        ovh_backlog_commit (self);
    ovh_backlog_degrade (self);
}

void
ovh_backlog_delivered (ovh_backlog_t *self, ovh_item_t *item)
{
    if (!item->spool_row)
        return;
    removal_t *removal = (removal_t *) zmalloc (sizeof (removal_t));
    if (removal) {
        removal->row = item->spool_row;
        snprintf (removal->id, sizeof removal->id, "%s", item->id);
        zlistx_add_end (self->removals, removal);
    }
    //  The receipt makes the delivery durable before the next request
    //  starts (even while the spool fails); the removal rides with the
    //  group commit
    ovh_spool_receipt (self->spool, item->spool_row, item->id);
    s_count (self, COMMIT_LAZY_MS);
    //  A removal rewrites about as much of the file as the row held
    self->batch_bytes += item->json_size;
    if (s_begin (self) && ovh_spool_remove (self->spool, item->spool_row))
        ovh_backlog_fail (self, "write");
    if ((self->changes >= COMMIT_ROWS || self->batch_bytes >= ovh_spool_batch_bytes (self->spool))
    &&  !self->failing)
        ovh_backlog_commit (self);
}

int
ovh_backlog_release_id (ovh_backlog_t *self, const char *id)
{
    if (!s_begin (self))
        return 0;
    int rows = ovh_spool_remove_id (self->spool, id);
    if (rows < 0) {
        ovh_backlog_fail (self, "write");
        return 0;
    }
    if (rows > 0)
        s_count (self, COMMIT_LAZY_MS);
    return rows;
}

void
ovh_backlog_write_receipts (ovh_backlog_t *self)
{
    ovh_spool_write_receipts (self->spool);
}

void
ovh_backlog_retrying (ovh_backlog_t *self, ovh_item_t *item)
{
    if (!item->spool_row)
        return;
    attempt_t *attempt = (attempt_t *) zmalloc (sizeof (attempt_t));
    if (attempt) {
        attempt->row = item->spool_row;
        attempt->attempts = item->attempts;
        zlistx_add_end (self->attempts, attempt);
    }
    s_count (self, COMMIT_LAZY_MS);
    if (s_begin (self)
    &&  ovh_spool_set_attempts (self->spool, item->spool_row, item->attempts))
        ovh_backlog_fail (self, "write");
}

int
ovh_backlog_bury (ovh_backlog_t *self, ovh_item_t *item, const char *error)
{
    if (!item->spool_row)
        return -1;
    //  The dispatcher frees its item now: the journal keeps a copy until
    //  the dead letter is committed
    burial_t *burial = (burial_t *) zmalloc (sizeof (burial_t));
    if (burial) {
        burial->item = ovh_item_restore (item->type, item->id,
                                         item->has_key ? item->key : NULL, item->key_size,
                                         item->json, item->json_size, item->accepted_ms,
                                         item->attempts);
        burial->error = strdup (error ? error : "");
    }
    if (!burial || !burial->item || !burial->error) {
        void *gone = burial;
        ovh_backlog_burial_destroy (&gone);
        //  The row is still in the spool: sent again after a restart
        return -1;
    }
    burial->item->spool_row = item->spool_row;
    zlistx_add_end (self->burials, burial);
    s_count (self, COMMIT_LAZY_MS);
    if (s_begin (self) && ovh_backlog_write_burial (self, burial))
        ovh_backlog_fail (self, "write");
    return 0;
}

void
ovh_backlog_on_spill (ovh_backlog_t *self, ovh_backlog_spilled_fn *spilled)
{
    assert (self);
    self->spilled = spilled;
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
        if (self->spilled)
            self->spilled (self->admit_arg, item);
        ovh_item_destroy (&item);
    }
}

//  The batch committed: the journal is done with
static void
s_committed (ovh_backlog_t *self)
{
    if (self->failing) {
        ovh_log_info ("spool %s: writes work again after %.1f s (%" PRIu64 " failed tries); "
                      "%zu held events written, %zu sent from memory meanwhile",
                      ovh_spool_path (self->spool), (zclock_mono () - self->failing_since) / 1000.0,
                      self->failures, self->accepted_count, self->degraded);
        self->failing = false;
        self->failures = 0;
        self->degraded = 0;
    }
    self->retry_ms = RETRY_FIRST_MS;
    self->changes = 0;
    self->batch_bytes = 0;
    self->commit_due = 0;
    zlistx_purge (self->removals);
    zlistx_purge (self->attempts);
    zlistx_purge (self->burials);
    while (self->accepted) {
        ovh_item_t *item = self->accepted;
        self->accepted = item->next;
        item->next = NULL;
        s_offer (self, item);
    }
    self->accepted_tail = NULL;
    self->accepted_count = 0;
}

static void
s_check_full (ovh_backlog_t *self)
{
    self->full = ovh_spool_full (self->spool);
    self->full_checked = zclock_mono ();
}

void
ovh_backlog_commit (ovh_backlog_t *self)
{
    //  While failing, a retry is due even with an empty journal (its
    //  events went to memory): it tells when the spool works again
    if (!self->changes && !self->failing)
        return;
    if (self->failing) {
        if (zclock_mono () < self->commit_due)
            return;             //  backing off
        //  A full disk may be full of our own WAL: give it back first
        ovh_spool_checkpoint (self->spool);
        if (ovh_backlog_replay (self)) {
            ovh_backlog_fail (self, "write");
            ovh_backlog_degrade (self);
            return;
        }
    }
    if (ovh_spool_commit (self->spool)) {
        ovh_backlog_fail (self, "commit");
        ovh_backlog_degrade (self);
        return;
    }
    s_committed (self);
    //  A query and a stat (a few microseconds): after every commit, so that
    //  a small disk is never overrun between two looks
    s_check_full (self);
}

void
ovh_backlog_commit_now (ovh_backlog_t *self)
{
    if (self->failing)
        self->commit_due = zclock_mono ();      //  no backoff this time
    ovh_backlog_commit (self);
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
    //  Every accepted row must be committed (and so offered) first, or a
    //  load would see it in the open batch and memory would get it twice.
    //  While failing, the journal's items are in no batch at all.
    if (self->accepted && !self->failing) {
        ovh_backlog_commit (self);
        if (self->failing)
            return;
    }
    if (room > RELOAD_MAX)
        room = RELOAD_MAX;
    self->refused = false;
    int loaded = ovh_spool_load (self->spool, self->memory_row, room, s_loaded, self);
    if (loaded >= 0 && (size_t) loaded < room && !self->refused)
        self->spilling = false;         //  caught up
    ovh_backlog_degrade (self);
}

bool
ovh_backlog_pending (ovh_backlog_t *self)
{
    return self->accepted || self->spilling;
}

bool
ovh_backlog_full (ovh_backlog_t *self)
{
    return self->full;
}

int64_t
ovh_backlog_full_due (ovh_backlog_t *self)
{
    return self->full ? self->full_checked + FULL_RECHECK_MS : -1;
}

void
ovh_backlog_recheck (ovh_backlog_t *self)
{
    //  While full, a look without waiting for a commit: once the last
    //  deliveries are committed there may be no further commit at all
    if (self->full && zclock_mono () >= self->full_checked + FULL_RECHECK_MS)
        s_check_full (self);
}

bool
ovh_backlog_failing (ovh_backlog_t *self)
{
    return self->failing;
}

size_t
ovh_backlog_unwritten (ovh_backlog_t *self)
{
    return self->failing ? self->accepted_count : 0;
}
