/*  ovh_done.h - what the active bridge of a pair tells its standby it
    finished since the last flush (docs/ha.md). An event with an envelope
    goes as a seq in its (src, epoch, topic) stream, sent as ranges: at 1,000
    events/s a 20 ms flush holds a few runs of consecutive seqs per stream.
    Any other event (no envelope: a random id the standby cannot match
    anyway; rebuilt from a spool, which keeps ids, not envelopes) goes by
    its webhook-id.

    A DONE message's frames after "DONE": the ids (OVH_DONE_ID_SIZE bytes
    each, packed), then the ranges. The ranges frame is a sequence of
    streams, integers big-endian:
        u16 src size, src, u8 topic size, topic, u8 has epoch, u64 epoch,
        u32 range count, then per range u64 first seq, u64 last seq
    The standby turns each seq back into the webhook-id both bridges gave
    the event (ovh_item_envelope_id). Not thread-safe: the caller locks.  */

#ifndef OVH_DONE_H_INCLUDED
#define OVH_DONE_H_INCLUDED

#include <czmq.h>
#include "ovh_item.h"

#define OVH_DONE_ID_SIZE        36
//  Seqs one range may stand for, and ids one ranges frame may expand to:
//  a peer's frame beyond these is refused whole (it would cost the
//  standby that many SHA-256 digests)
#define OVH_DONE_RANGE_MAX      (1 << 20)
#define OVH_DONE_FRAME_MAX      (1 << 22)

typedef struct _ovh_done_t ovh_done_t;

//  At most 'max_events' finished events between two flushes
ovh_done_t *
    ovh_done_new (size_t max_events);
void
    ovh_done_destroy (ovh_done_t **self_p);

//  A finished event. 0, or -1 when full (or out of memory): not told.
int
    ovh_done_add (ovh_done_t *self, const ovh_item_t *item);

//  Finished events added since the last ovh_done_take
size_t
    ovh_done_events (ovh_done_t *self);

//  The two frames (ids, ranges) of everything added, appended to 'msg';
//  empties the set. 0, or -1 when out of memory (the set is emptied all
//  the same: those events are not told).
int
    ovh_done_take (ovh_done_t *self, zmsg_t *msg);

//  Called with each webhook-id a ranges frame stands for
typedef void (ovh_done_id_fn) (void *arg, const char *id);

//  Read a ranges frame: 'fn' gets each id. Returns the ids, or -1 when the
//  frame is malformed (a size past its end, a topic not in the catalog,
//  a range backwards or over the limits); then 'fn' got none.
long
    ovh_done_expand (const byte *data, size_t size, ovh_done_id_fn *fn, void *arg);

#endif
