/*  ovh_seqtrack.h - counts what the bus lost, from the envelope's seq per
    publishing instance (src) and topic. Seq counts per topic because
    subscribers see only the topics they subscribed to: a count across all
    topics would show every filtered message as a gap. A publisher that
    restarted is told by a new epoch in its envelope, or, from publishers
    that send none, by a seq that starts again at 1; neither is a gap.
    Memory is bounded: one entry per src and topic (a new epoch replaces
    the old one), at most 'max_sources' entries.

    Redundant paths (ovh_seqtrack_set_paths with 2 or more): the same
    message comes once per path (two proxies), and a message may first
    arrive on the slower path after a later seq came on the faster one.
    Each entry then keeps a bitmap of the last OVH_SEQ_WINDOW seqs, so
    "seen before" is exact within the window: a second copy is
    OVH_SEQ_DUPLICATE, a first copy below the highest seq is OVH_SEQ_LATE
    (new, to be kept), a seq older than the window is OVH_SEQ_TOO_OLD
    (cannot be told from a duplicate: the receiver drops it). A gap opens
    holes that another path may still fill; a hole counts as lost only when
    it leaves the window unfilled, or when ovh_seqtrack_settle finds it
    still open at its second call (so: after one to two settle intervals).
    The bitmap costs OVH_SEQ_WINDOW / 8 bytes per entry, only in that mode.
    Redundancy needs publishers that send an epoch: without one, seq 1
    again is taken as a restart, and a lagging path's copies would be
    delivered again.

    What a verdict means is said in one sentence, ovh_seqtrack_describe, so
    that every receiver (the bridge, ovhook-tail) words it alike; each one
    decides where the sentence goes and how often.                          */

#ifndef OVH_SEQTRACK_H_INCLUDED
#define OVH_SEQTRACK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ovh_translator.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    OVH_SEQ_FIRST,              //  first message seen from this src
    OVH_SEQ_NEXT,               //  the expected one
    OVH_SEQ_GAP,                //  messages were lost: see 'lost'
    OVH_SEQ_JUMP,               //  seq jumped ahead by more than OVH_SEQ_MAX_GAP:
                                //  a publisher bug rather than a loss, not counted
    OVH_SEQ_RESTART,            //  a new epoch, or seq 1 again: the publisher
                                //  restarted (seq - 1 counted as lost)
    OVH_SEQ_BACKWARDS,          //  seq not above the last one (and not 1)
    //  Only with redundant paths (ovh_seqtrack_set_paths), in place of
    //  OVH_SEQ_BACKWARDS:
    OVH_SEQ_DUPLICATE,          //  already seen: another path's copy, drop it
    OVH_SEQ_LATE,               //  below the highest seq, not seen: keep it
    OVH_SEQ_TOO_OLD             //  older than the window, or of the run before
                                //  the current one: cannot tell, drop it
} ovh_seq_t;

//  Seqs remembered per src and topic with redundant paths: how far one
//  path may lag behind another without its messages counting as too old
#define OVH_SEQ_WINDOW      4096

//  The largest gap counted as lost: a year of 30,000 messages a second.
//  A larger one (seq 1, then 2^63) is reported, and not added to a counter
//  that it would wrap.
#define OVH_SEQ_MAX_GAP     (UINT64_C (1) << 40)

typedef struct _ovh_seqtrack_t ovh_seqtrack_t;

//  Remembers at most 'max_sources' sources; beyond, it forgets them all
//  (the next message of each counts as a first one)
ovh_seqtrack_t *
    ovh_seqtrack_new (size_t max_sources);
void
    ovh_seqtrack_destroy (ovh_seqtrack_t **self_p);

//  How many paths bring each message (the consumer's bus endpoints): 1
//  (the default) or more, for redundant proxies. Set it before the first
//  record.
void
    ovh_seqtrack_set_paths (ovh_seqtrack_t *self, size_t paths);

//  With redundant paths, count as lost the holes that were already open at
//  the previous call and are still open; call it every second or so.
//  Returns how many it counted now (0 with one path).
uint64_t
    ovh_seqtrack_settle (ovh_seqtrack_t *self);

//  Record 'seq' of 'topic' from 'src', in run 'epoch' (NULL when the
//  envelope has none); 'last' gets the previous seq of that src and topic
//  (0 if none; with redundant paths, the highest seq)
ovh_seq_t
    ovh_seqtrack_record (ovh_seqtrack_t *self, const char *topic,
                         const char *src, size_t src_size, uint64_t seq,
                         const uint64_t *epoch, uint64_t *last);

//  Messages lost in all, since creation; saturates at UINT64_MAX
uint64_t
    ovh_seqtrack_lost (ovh_seqtrack_t *self);

//  The sentence for what 'verdict' says of 'event' (recorded after seq
//  'last'), without a final period, into 'buffer' (cut off if it does not
//  fit; the src is shown through ovh_shown):
//    OVH_SEQ_GAP        lost N message(s) on the bus: TOPIC from src S (seq LAST → SEQ)
//    OVH_SEQ_JUMP       TOPIC seq of src S jumped from LAST to SEQ (N messages lost,
//                       or a publisher bug)
//    OVH_SEQ_RESTART    publisher S restarted (TOPIC seq SEQ after LAST[, new epoch])
//    OVH_SEQ_BACKWARDS  src S went back from TOPIC seq LAST to SEQ (two publishers
//                       with one src?)
//    OVH_SEQ_TOO_OLD    TOPIC seq SEQ of src S came after seq LAST, older than the
//                       4096-message window or of an earlier run: dropped
//                       (a path lagging that far behind?)
//  Returns 'buffer', or NULL (buffer empty) for OVH_SEQ_FIRST, OVH_SEQ_NEXT,
//  OVH_SEQ_DUPLICATE and OVH_SEQ_LATE, which tell nothing worth a line.
//  With redundant paths OVH_SEQ_GAP is only a hole for now: the caller
//  says nothing, and reports what ovh_seqtrack_settle counts.
const char *
    ovh_seqtrack_describe (ovh_seq_t verdict, const ovh_event_t *event, uint64_t last,
                           char *buffer, size_t size);

#ifdef __cplusplus
}
#endif
#endif
