/*  ovh_receipts.h - the spool's delivery receipts: a small append-only file
    (PATH.delivered beside the spool) with one line per delivered event,
    "<rowid> <id>\n", written as soon as the endpoint has answered.

    Why a file beside SQLite: removing a delivered event from the spool is
    durable only once its transaction commits, and a commit per delivery
    (or per few) costs more than the delivery itself. The receipt makes the
    delivery durable against a killed process at the price of one write()
    per dispatch pass; the removals are then committed with the spool's
    group commit, after which the receipts are cleared. On the next start,
    receipts still in the file are applied to the spool before anything is
    resumed, so a crash sends again only the requests that were under way.

    Receipts are not fsynced: a power cut may lose the latest ones, and
    those events are sent again (a duplicate, never a loss). Each receipt
    names the row and the event's id, and is applied only to a row that
    still has that id, so a stale or damaged line can never remove
    another event. A last line without its newline (a write cut short) is
    ignored.                                                                 */

#ifndef OVH_RECEIPTS_H_INCLUDED
#define OVH_RECEIPTS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _ovh_receipts_t ovh_receipts_t;

//  Called by ovh_receipts_read for each well-formed receipt
typedef void (ovh_receipts_fn) (void *arg, int64_t row, const char *id);

//  Open or create the file at 'path' (mode 0600). The file grows only
//  while nothing clears it (the spool's commits keep failing); past
//  'max_bytes' receipts are dropped, logged once: those deliveries would be
//  sent again after a crash. On failure returns NULL and writes
//  "cannot open PATH: <reason>" into 'error'.
ovh_receipts_t *
    ovh_receipts_new (const char *path, size_t max_bytes, char *error, size_t error_size);
//  Writes what is buffered, then closes the file
void
    ovh_receipts_destroy (ovh_receipts_t **self_p);

//  Buffer a receipt; it reaches the file at the next ovh_receipts_flush
//  (or when the buffer is full)
void
    ovh_receipts_add (ovh_receipts_t *self, int64_t row, const char *id);
//  Write the buffered receipts (one write). 0, or -1 when the write
//  failed (logged once per episode; those events may be sent again after
//  a crash, nothing is lost).
int
    ovh_receipts_flush (ovh_receipts_t *self);
//  Forget every receipt, buffered or written: their removals are
//  committed. 0 or -1.
int
    ovh_receipts_clear (ovh_receipts_t *self);
//  Are receipts buffered or in the file?
bool
    ovh_receipts_pending (ovh_receipts_t *self);

//  Hand every well-formed receipt in the file to fn, in file order.
//  Returns the number handed over, or -1 when the file cannot be read.
//  Malformed lines are skipped and counted in *malformed (if not NULL).
int
    ovh_receipts_read (ovh_receipts_t *self, ovh_receipts_fn *fn, void *arg,
                       size_t *malformed);

//  The file's path
const char *
    ovh_receipts_path (ovh_receipts_t *self);

#endif
