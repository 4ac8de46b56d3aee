/*  test_seqtrack.c - what the envelope's seq tells (ovh_seqtrack): gaps,
    jumps, restarts, going back, bounded memory.                             */

#include "ovh_test.h"
#include "ovh_seqtrack.h"

static void
test_seqtrack (void)
{
    ovh_seqtrack_t *track = ovh_seqtrack_new (2);
    uint64_t last;
    //  epoch: 0 = no epoch in the envelope, else the epoch + 1 (so that
    //  epoch 0 is tested too)
    struct {
        const char *src; uint64_t seq; uint64_t epoch; ovh_seq_t verdict; uint64_t lost;
    } cases [] = {
        { "p1", 1, 0, OVH_SEQ_FIRST, 0 },
        { "p1", 2, 0, OVH_SEQ_NEXT, 0 },
        { "p1", 6, 0, OVH_SEQ_GAP, 3 },
        { "p1", 1, 0, OVH_SEQ_RESTART, 3 },     //  no epoch: seq 1 is a restart
        { "p1", 2, 0, OVH_SEQ_NEXT, 3 },
        { "p1", 2, 0, OVH_SEQ_BACKWARDS, 3 },
        { "p2", 5, 0, OVH_SEQ_FIRST, 3 },       //  joined late: no gap
        { "p2", 7, 0, OVH_SEQ_GAP, 4 },
        { "p3", 9, 0, OVH_SEQ_FIRST, 4 },       //  over max: all forgotten
        { "p1", 3, 0, OVH_SEQ_FIRST, 4 },
        //  With epochs: a new epoch is a restart whatever the seq (seq 1
        //  after a higher one, or the same seq again), never a gap or a
        //  step back; what the new run sent before is lost
        { "p1", 4, 1, OVH_SEQ_RESTART, 7 },     //  epoch appears: new run, 3 lost
        { "p1", 5, 1, OVH_SEQ_NEXT, 7 },
        { "p1", 1, 2, OVH_SEQ_RESTART, 7 },     //  restarted, seq 1
        { "p1", 2, 2, OVH_SEQ_NEXT, 7 },
        { "p1", 2, 3, OVH_SEQ_RESTART, 8 },     //  new run, its seq 1 lost
        { "p1", 9, 3, OVH_SEQ_GAP, 14 },
        { "p1", 1, 3, OVH_SEQ_BACKWARDS, 14 },  //  same run: seq 1 went back
        { "p1", 10, 3, OVH_SEQ_NEXT, 14 },
        { "p1", 1, 0, OVH_SEQ_RESTART, 14 },    //  epoch gone: another run
        //  A jump beyond OVH_SEQ_MAX_GAP is a publisher bug, not a loss:
        //  reported, never added (1, 2^63, 2^64-1 wrapped the counter)
        { "p1", UINT64_C (1) << 63, 0, OVH_SEQ_JUMP, 14 },
        { "p1", UINT64_MAX, 0, OVH_SEQ_JUMP, 14 },
        { "p1", 2, 0, OVH_SEQ_BACKWARDS, 14 },
        { "p1", UINT64_C (1) << 62, 4, OVH_SEQ_RESTART, 14 },   //  new run at 2^62
        { "p1", (UINT64_C (1) << 62) + OVH_SEQ_MAX_GAP + 1, 4, OVH_SEQ_GAP,
          14 + OVH_SEQ_MAX_GAP },                               //  the largest gap
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        uint64_t epoch = cases [index].epoch - 1;
        ovh_seq_t verdict = ovh_seqtrack_record (track, "sessionCreated", cases [index].src,
                                                 strlen (cases [index].src), cases [index].seq,
                                                 cases [index].epoch? &epoch: NULL, &last);
        CHECK_MSG (verdict == cases [index].verdict, "case %zu: verdict %d", index, verdict);
        CHECK_MSG (ovh_seqtrack_lost (track) == cases [index].lost, "case %zu: lost %llu",
                   index, (unsigned long long) ovh_seqtrack_lost (track));
    }
    ovh_seqtrack_destroy (&track);

    //  Each topic counts on its own: another topic's seq 9 is no gap
    track = ovh_seqtrack_new (100);
    CHECK (ovh_seqtrack_record (track, "sessionCreated", "p1", 2, 3, NULL, &last) == OVH_SEQ_FIRST);
    CHECK (ovh_seqtrack_record (track, "signalSent", "p1", 2, 9, NULL, &last) == OVH_SEQ_FIRST);
    CHECK (ovh_seqtrack_record (track, "sessionCreated", "p1", 2, 4, NULL, &last) == OVH_SEQ_NEXT);
    CHECK (last == 3);
    CHECK (ovh_seqtrack_lost (track) == 0);
    ovh_seqtrack_destroy (&track);
    CHECK (track == NULL);

    //  Restarts replace a src's entry: 1000 runs of one src fill one slot,
    //  so its next run is still a restart, not a first (which a table
    //  forgotten on overflow would say)
    track = ovh_seqtrack_new (2);
    for (uint64_t epoch = 0; epoch < 1000; epoch++)
        ovh_seqtrack_record (track, "sessionCreated", "p1", 2, 1, &epoch, &last);
    CHECK (ovh_seqtrack_record (track, "sessionCreated", "p2", 2, 1, NULL, &last) == OVH_SEQ_FIRST);
    uint64_t epoch = 5000;
    CHECK (ovh_seqtrack_record (track, "sessionCreated", "p1", 2, 1, &epoch, &last)
           == OVH_SEQ_RESTART);
    ovh_seqtrack_destroy (&track);
}

int
main (void)
{
    test_seqtrack ();
    return ovh_test_done ("test_seqtrack");
}
