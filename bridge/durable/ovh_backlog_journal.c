/*  ovh_backlog_journal.c - the backlog's journal: when a write or a commit
    of the spool fails, SQLite has undone the whole batch; the journal (the
    items it inserted, the rows it removed, the attempts and dead letters it
    recorded) is written again with backoff until it commits, and the held
    items go to memory meanwhile where order allows (see ovh_backlog.h).    */

#include "ovh_log.h"
#include "ovh_backlog_private.h"

//  A failed batch is written again after this delay, doubling to the cap
#define RETRY_MAX_MS    1000
//  Removals written again per batch after a failure
#define REPLAY_CHUNK    64
//  While the spool fails: a reminder at most this often
#define FAILING_LOG_MS  60000

void
ovh_backlog_entry_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

void
ovh_backlog_burial_destroy (void **item)
{
    burial_t *burial = (burial_t *) *item;
    if (burial) {
        ovh_item_destroy (&burial->item);
        free (burial->error);
        free (burial);
    }
    *item = NULL;
}

//  A write or the commit failed: SQLite undid the whole batch. Keep the
//  journal and write it again later.
void
ovh_backlog_fail (ovh_backlog_t *self, const char *what)
{
    int64_t now = zclock_mono ();
    self->failures++;
    if (!self->failing) {
        self->failing = true;
        self->failing_since = now;
        self->failing_logged = now;
        ovh_log_error ("spool %s: %s failed (%s): bus reads paused; %zu accepted events are "
                       "held in memory and written again every %d ms at most until it works",
                       ovh_spool_path (self->spool), what, ovh_spool_error (self->spool),
                       self->accepted_count, RETRY_MAX_MS);
    }
    else
    if (now - self->failing_logged >= FAILING_LOG_MS) {
        self->failing_logged = now;
        ovh_log_error ("spool %s: still failing after %.0f s (%s, %" PRIu64 " tries): %zu "
                       "accepted events held in memory", ovh_spool_path (self->spool),
                       (now - self->failing_since) / 1000.0, ovh_spool_error (self->spool),
                       self->failures, self->accepted_count);
    }
    self->commit_due = now + self->retry_ms;
    self->retry_ms = self->retry_ms * 2 < RETRY_MAX_MS ? self->retry_ms * 2 : RETRY_MAX_MS;
}

int
ovh_backlog_write_accepted (ovh_backlog_t *self, ovh_item_t *item)
{
    int64_t row = ovh_spool_insert (self->spool, item);
    item->spool_row = row > 0 ? row : 0;
    return row > 0 ? 0 : -1;
}

int
ovh_backlog_write_burial (ovh_backlog_t *self, burial_t *burial)
{
    return ovh_spool_bury (self->spool, burial->item, burial->error);
}

//  Write the whole journal again in a new batch. 0 or -1 (failing).
//  Removals first, in small batches of their own, each checkpointed: on
//  a full disk, one large batch of them would need more WAL than there is
//  room for, and the pages they free are what the inserts then use.
//  0, or -1 (failing; what was committed has left the journal).
static int
s_replay_removals (ovh_backlog_t *self)
{
    while (zlistx_size (self->removals)) {
        if (ovh_spool_begin (self->spool))
            return -1;
        size_t count = 0;
        for (removal_t *removal = (removal_t *) zlistx_first (self->removals);
             removal && count < REPLAY_CHUNK;
             removal = (removal_t *) zlistx_next (self->removals), count++)
            if (ovh_spool_remove (self->spool, removal->row))
                return -1;
        if (ovh_spool_commit (self->spool))
            return -1;
        for (size_t index = 0; index < count; index++) {
            zlistx_first (self->removals);
            zlistx_delete (self->removals, zlistx_cursor (self->removals));
        }
        self->changes = self->changes > count ? self->changes - count : 0;
        ovh_spool_checkpoint (self->spool);
    }
    return 0;
}

int
ovh_backlog_replay (ovh_backlog_t *self)
{
    if (s_replay_removals (self) || ovh_spool_begin (self->spool))
        return -1;
    for (attempt_t *attempt = (attempt_t *) zlistx_first (self->attempts); attempt;
         attempt = (attempt_t *) zlistx_next (self->attempts))
        if (ovh_spool_set_attempts (self->spool, attempt->row, attempt->attempts))
            return -1;
    for (burial_t *burial = (burial_t *) zlistx_first (self->burials); burial;
         burial = (burial_t *) zlistx_next (self->burials))
        if (ovh_backlog_write_burial (self, burial))
            return -1;
    for (ovh_item_t *item = self->accepted; item; item = item->next)
        if (ovh_backlog_write_accepted (self, item))
            return -1;
    return 0;
}

//  While the spool fails, the oldest held events may still be delivered
//  from memory: when memory holds every older event (nothing spilled), in
//  order, as far as memory has room. They are not in the spool (a crash
//  now loses them, as it would lose them held here); the bus stays paused.
void
ovh_backlog_degrade (ovh_backlog_t *self)
{
    while (self->failing && !self->spilling && self->accepted) {
        ovh_item_t *item = self->accepted;
        item->spool_row = 0;
        ovh_item_t *next = item->next;
        item->next = NULL;
        if (!self->admit (self->admit_arg, item)) {
            item->next = next;
            break;
        }
        self->accepted = next;
        self->accepted_count--;
        self->changes--;
        self->degraded++;
    }
    if (!self->accepted)
        self->accepted_tail = NULL;
}

