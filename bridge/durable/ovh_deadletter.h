/*  ovh_deadletter.h - the JSONL dead-letter file, used when there is no
    spool (--dead-letter FILE). One line per event that exhausted its
    retries or got a final failure:

    {"id":"evt_..","event":"<type>","key":<key or null>,"attempts":N,
     "last_error":"<text>","failed_at":<unix ms>,"body":<webhook JSON>}

    "body" is last and is the webhook JSON byte for byte (spliced in, never
    re-encoded), so that a redelivered event is the event that failed.

    Writing is off the caller's thread: ovh_deadletter_write hands the line
    to a writer actor that appends and fsyncs in batches (the lines that
    come within BATCH_MSECS of the first, at most BATCH_LINES), so that an
    outage that expires thousands of events costs a few fsyncs, not one
    per event, and never stalls the dispatcher on the disk.

    --redeliver reads the file back (ovh_deadletter_read), queues its lines
    with their ids, and renames it (ovh_deadletter_retire).                 */

#ifndef OVH_DEADLETTER_H_INCLUDED
#define OVH_DEADLETTER_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "ovh_item.h"
#include "ovh_dlselect.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ovh_deadletter_t ovh_deadletter_t;

//  Start the writer for 'path'. The file is opened (created with mode 0600,
//  O_APPEND) when the first dead letter comes, so that a run without any
//  leaves nothing behind; whether it can be is checked now (a missing file
//  is created and removed again). Returns NULL with the reason in 'error'
//  when it cannot be written.
ovh_deadletter_t *
    ovh_deadletter_new (const char *path, char *error, size_t size);

//  Write and fsync every line accepted so far, then stop the writer: what
//  ovh_deadletter_write accepted is on disk, or counted in
//  ovh_deadletter_lost, when this returns. Signals do not cut it short.
void
    ovh_deadletter_destroy (ovh_deadletter_t **self_p);

//  Hand a line for 'item', failed with 'last_error' (NULL: ""), to the
//  writer, which appends it within BATCH_MSECS. The queue to the writer is
//  bounded (QUEUE_LINES lines): when it is full the caller waits until the
//  writer has made room (back-pressure; a line is never dropped to make
//  room). Returns 0 when the line is accepted, or -1 (logged with E:) when
//  it could not be (out of memory, the writer gone). A line accepted and
//  then not written (disk full, EIO: see ovh_deadletter_lost) is logged by
//  the writer with the file and the number of dead letters lost. If the
//  file was renamed or removed since it was opened (a --redeliver, a log
//  rotation), lines go to a new file at the path. Call it from one thread
//  at a time (with ovh_deadletter_flush and _destroy).
int
    ovh_deadletter_write (ovh_deadletter_t *self, const ovh_item_t *item,
                          const char *last_error);

//  Wait until every line accepted so far is written and fsynced, or counted
//  as lost. Returns 0, or -1 if any dead letter was lost since the start.
int
    ovh_deadletter_flush (ovh_deadletter_t *self);

//  Open the file again by its name before the next batch (SIGHUP, after
//  logrotate renamed or copied it): every line is written once, to the old
//  file or to the new one. Any thread.
void
    ovh_deadletter_reopen (ovh_deadletter_t *self);

//  Dead letters accepted by ovh_deadletter_write that could not be kept
//  (the write or the fsync failed). Any thread.
uint64_t
    ovh_deadletter_lost (ovh_deadletter_t *self);

//  fsyncs done by the writer so far (tests: batching). Any thread.
uint64_t
    ovh_deadletter_syncs (ovh_deadletter_t *self);

//  Called for each valid line with a new item that the callee then owns:
//  id, type, key and webhook JSON as written; attempts 0 and accepted_ms
//  now, so that the event gets a full retry budget again.
typedef void (ovh_deadletter_fn) (void *arg, ovh_item_t *item);

//  Read a dead-letter file back, calling 'callback' per valid line, in the
//  original order per ordering key: file order, except that the lines of
//  one key are handed back in the order of their body's "timestamp" (ties:
//  file order; a line without one keeps its place after the line of its
//  key before it). A file can hold a key's later event first when it holds
//  the lines of several runs or bridges. Lines without a key keep their
//  place. Invalid lines are skipped, each logged (W:) with its line number
//  and what is wrong; blank lines are ignored. Only the lines present when
//  the read starts are read, so that lines appended meanwhile (by a
//  redelivered event failing again) cannot make the read endless. Memory
//  holds a few words per line, not the lines. Returns the number of items
//  handed over (0 when the file does not exist), or -1 with the reason in
//  'error' when the file cannot be read or memory runs out.
int
    ovh_deadletter_read (const char *path, ovh_deadletter_fn *callback, void *arg,
                         char *error, size_t size);

//  Decides, for ovh_deadletter_read_some, whether a valid line is read
//  back: the record has the line's number, id, type, key, failed_at, body
//  and the line itself (attempts 0 and last_error "": not read here).
//  Returns true to hand the line's item over, false to leave it out.
typedef bool (ovh_deadletter_filter_fn) (void *arg, const ovh_dlrecord_t *record);

//  ovh_deadletter_read, handing over only the lines 'filter' keeps (NULL:
//  all), in the same order. The filter sees the lines in file order, once
//  each, before any is handed over (a selective --redeliver).
int
    ovh_deadletter_read_some (const char *path, ovh_deadletter_filter_fn *filter,
                              void *filter_arg, ovh_deadletter_fn *callback, void *arg,
                              char *error, size_t size);

//  Check one line (NUL-ended, its newline allowed) as --redeliver does and
//  make its item (attempts 0, accepted now). Returns NULL with what is
//  wrong in 'problem', "" when memory ran out. 'failed_ms' (if not NULL)
//  gets its failed_at, 0 when it has none.
ovh_item_t *
    ovh_deadletter_parse (char *line, char *problem, size_t size, int64_t *failed_ms);

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

//  A dead-letter line: the JSON object 'fields' (its keys in insertion
//  order), then "body": with 'body' spliced in byte for byte as it was
//  sent, and a newline. Returns a malloc'ed line (its size in *line_size),
//  or NULL when out of memory. Both stores' lines are made here, so
//  `export` writes exactly what the bridge's writer writes.
char *
    ovh_deadletter_splice (json_t *fields, const char *body, size_t body_size,
                           size_t *line_size);

#ifdef __cplusplus
}
#endif
#endif
