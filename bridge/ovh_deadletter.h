/*  ovh_deadletter.h - the JSONL dead-letter file, used when there is no
    spool (--dead-letter FILE). One line per event that exhausted its
    retries or got a final failure:

    {"id":"evt_..","event":"<type>","key":<key or null>,"attempts":N,
     "last_error":"<text>","failed_at":<unix ms>,"body":<webhook JSON>}

    "body" is last and is the webhook JSON byte for byte (spliced in, never
    re-encoded), so that a redelivered event is the event that failed.

    --redeliver reads the file back (ovh_deadletter_read), queues its lines
    with their ids, and renames it (ovh_deadletter_retire).                 */

#ifndef OVH_DEADLETTER_H_INCLUDED
#define OVH_DEADLETTER_H_INCLUDED

#include <stddef.h>
#include "ovh_item.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ovh_deadletter_t ovh_deadletter_t;

//  Open 'path' for appending, created with mode 0600 when missing. Returns
//  NULL with the reason in 'error' when it cannot be written.
ovh_deadletter_t *
    ovh_deadletter_new (const char *path, char *error, size_t size);
void
    ovh_deadletter_destroy (ovh_deadletter_t **self_p);

//  Append one line for 'item', failed with 'last_error' (NULL: ""), and
//  fsync it (dead letters are rare; each one is an event that would
//  otherwise be lost). If the file was renamed or removed since it was
//  opened (a --redeliver, a log rotation), the line goes to a new file at
//  the path. Returns 0, or -1 (logged with E:) when the line could not be
//  written entirely; a partial line is cut off again.
int
    ovh_deadletter_write (ovh_deadletter_t *self, const ovh_item_t *item,
                          const char *last_error);

//  Called for each valid line with a new item that the callee then owns:
//  id, type, key and webhook JSON as written; attempts 0 and accepted_ms
//  now, so that the event gets a full retry budget again.
typedef void (ovh_deadletter_fn) (void *arg, ovh_item_t *item);

//  Read a dead-letter file back, calling 'callback' per valid line in file
//  order. Invalid lines are skipped, each logged (W:) with its line number
//  and what is wrong; blank lines are ignored. Only the lines present when
//  the read starts are read, so that lines appended meanwhile (by a
//  redelivered event failing again) cannot make the read endless. Returns
//  the number of items handed over (0 when the file does not exist), or -1
//  with the reason in 'error' when the file cannot be read or memory runs
//  out.
int
    ovh_deadletter_read (const char *path, ovh_deadletter_fn *callback, void *arg,
                         char *error, size_t size);

//  Rename 'path' to 'path.redelivered-<unix seconds>' (".N" appended if
//  that name is taken), logged with I:. Returns 0, or -1 with errno set.
int
    ovh_deadletter_retire (const char *path);

//  The same, writing the new name into 'target'. Retiring FIRST and then
//  reading the retired file is the safe order while a writer is running:
//  a redelivered event that fails again at once then lands in a new file
//  at 'path', never in the file being redelivered (where it would not be
//  redelivered and could be thrown away with it).
int
    ovh_deadletter_retire_as (const char *path, char *target, size_t target_size);

#ifdef __cplusplus
}
#endif
#endif
