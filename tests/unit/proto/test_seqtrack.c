/*  test_seqtrack.c - what the envelope's seq tells (ovh_seqtrack): gaps,
    jumps, restarts, going back, bounded memory; and the sentence that
    says what each verdict means (ovh_seqtrack_describe).                   */

#include "ovh_test.h"
#include "ovhook.h"

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

//  Two paths: each message comes twice, in any interleaving; "seen" is
//  exact within the window, and a hole is lost only when no path filled it
//  before it left the window or stayed open through two settles
#define LOST    (6 + 3 * OVH_SEQ_WINDOW)       //  lost before the restart below

static void
test_redundant (void)
{
    ovh_seqtrack_t *track = ovh_seqtrack_new (4);
    ovh_seqtrack_set_paths (track, 2);
    uint64_t last;
    //  op: 'r' records (src, seq, epoch + 1 or 0), 's' settles (seq: the
    //  count it must return); lost: the total after the step
    struct {
        char op; const char *src; uint64_t seq; uint64_t epoch; ovh_seq_t verdict;
        uint64_t lost;
    } cases [] = {
        { 'r', "p1", 5, 1, OVH_SEQ_FIRST, 0 },      //  joined late: 1..4 not ours
        { 'r', "p1", 5, 1, OVH_SEQ_DUPLICATE, 0 },  //  path B's copy
        { 'r', "p1", 4, 1, OVH_SEQ_LATE, 0 },       //  before the first, unseen: kept
        { 'r', "p1", 4, 1, OVH_SEQ_DUPLICATE, 0 },
        { 'r', "p1", 6, 1, OVH_SEQ_NEXT, 0 },
        { 'r', "p1", 9, 1, OVH_SEQ_GAP, 0 },        //  7, 8 are holes, not lost yet
        { 'r', "p1", 7, 1, OVH_SEQ_LATE, 0 },       //  the slow path fills 7
        { 'r', "p1", 9, 1, OVH_SEQ_DUPLICATE, 0 },
        { 'r', "p1", 7, 1, OVH_SEQ_DUPLICATE, 0 },
        { 's', NULL, 0, 0, 0, 0 },                  //  8 was open before no settle
        { 'r', "p1", 10, 1, OVH_SEQ_NEXT, 0 },
        { 's', NULL, 1, 0, 0, 1 },                  //  8 still open: lost now
        { 'r', "p1", 8, 1, OVH_SEQ_DUPLICATE, 1 },  //  counted: never also kept
        { 's', NULL, 0, 0, 0, 1 },
        //  A hole that leaves the window unfilled is lost then
        { 'r', "p1", 12, 1, OVH_SEQ_GAP, 1 },
        { 'r', "p1", 10 + OVH_SEQ_WINDOW, 1, OVH_SEQ_GAP, 1 },  //  11 still inside
        { 'r', "p1", 11 + OVH_SEQ_WINDOW, 1, OVH_SEQ_NEXT, 2 }, //  11 leaves
        { 'r', "p1", 11, 1, OVH_SEQ_TOO_OLD, 2 },   //  out of the window: dropped
        { 'r', "p1", 13, 1, OVH_SEQ_LATE, 2 },
        //  A gap wider than the window: the old window's W - 4 holes leave
        //  it, the W + 9 seqs that never entered it are lost at once, the
        //  W - 1 entering it are holes
        { 'r', "p1", 20 + 3 * OVH_SEQ_WINDOW, 1, OVH_SEQ_GAP, 2 + 2 * OVH_SEQ_WINDOW + 5 },
        { 's', NULL, 0, 0, 0, 2 + 2 * OVH_SEQ_WINDOW + 5 },
        { 's', NULL, OVH_SEQ_WINDOW - 1, 0, 0, LOST },
        //  A restart: the new run's earlier seqs may still come on the
        //  other path; the old run's late copies are too old
        { 'r', "p1", 3, 2, OVH_SEQ_RESTART, LOST },
        { 'r', "p1", 1, 2, OVH_SEQ_LATE, LOST },
        { 'r', "p1", 30 + 3 * OVH_SEQ_WINDOW, 1, OVH_SEQ_TOO_OLD, LOST },
        { 'r', "p1", 3, 2, OVH_SEQ_DUPLICATE, LOST },
        { 's', NULL, 0, 0, 0, LOST },
        { 's', NULL, 1, 0, 0, LOST + 1 },               //  seq 2 of the new run
        //  Each src on its own
        { 'r', "p2", 1, 0, OVH_SEQ_FIRST, LOST + 1 },
        { 'r', "p2", 3, 0, OVH_SEQ_GAP, LOST + 1 },
        { 'r', "p2", 3, 0, OVH_SEQ_DUPLICATE, LOST + 1 },
        { 'r', "p2", 2, 0, OVH_SEQ_LATE, LOST + 1 },
        { 's', NULL, 0, 0, 0, LOST + 1 },
        { 's', NULL, 0, 0, 0, LOST + 1 },
        //  Without an epoch, seq 1 again is a restart (the documented limit)
        { 'r', "p2", 1, 0, OVH_SEQ_RESTART, LOST + 1 },
        //  A jump is still a bug, not a loss; open holes count then
        { 'r', "p2", 5, 0, OVH_SEQ_GAP, LOST + 1 },
        { 'r', "p2", UINT64_C (1) << 62, 0, OVH_SEQ_JUMP, LOST + 4 },
        { 'r', "p2", 3, 0, OVH_SEQ_TOO_OLD, LOST + 4 },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        if (cases [index].op == 's') {
            uint64_t settled = ovh_seqtrack_settle (track);
            CHECK_MSG (settled == cases [index].seq, "case %zu: settled %llu", index,
                       (unsigned long long) settled);
        }
        else {
            uint64_t epoch = cases [index].epoch - 1;
            ovh_seq_t verdict = ovh_seqtrack_record (track, "sessionCreated",
                cases [index].src, strlen (cases [index].src), cases [index].seq,
                cases [index].epoch? &epoch: NULL, &last);
            CHECK_MSG (verdict == cases [index].verdict, "case %zu: verdict %d", index, verdict);
        }
        CHECK_MSG (ovh_seqtrack_lost (track) == cases [index].lost, "case %zu: lost %llu",
                   index, (unsigned long long) ovh_seqtrack_lost (track));
    }
    ovh_seqtrack_destroy (&track);

    //  Every interleaving of two complete copies keeps each seq exactly
    //  once and loses nothing: path B lags path A by 0..300 messages
    for (uint64_t lag = 0; lag <= 300; lag += 37) {
        track = ovh_seqtrack_new (4);
        ovh_seqtrack_set_paths (track, 2);
        uint64_t epoch = 42, kept = 0, count = 2000;
        for (uint64_t step = 1; step <= count + lag; step++) {
            uint64_t seqs [2] = { step, step > lag? step - lag: 0 };
            for (int path = 0; path < 2; path++)
                if (seqs [path] >= 1 && seqs [path] <= count) {
                    ovh_seq_t verdict = ovh_seqtrack_record (track, "signalSent", "p", 1,
                                                             seqs [path], &epoch, &last);
                    kept += verdict != OVH_SEQ_DUPLICATE;
                }
            if (step % 100 == 0)
                ovh_seqtrack_settle (track);
        }
        CHECK_MSG (kept == count, "lag %llu: kept %llu", (unsigned long long) lag,
                   (unsigned long long) kept);
        CHECK (ovh_seqtrack_lost (track) == 0);
        ovh_seqtrack_destroy (&track);
    }
    //  One path missing a stretch the other has: nothing lost; both
    //  missing it: lost, once
    track = ovh_seqtrack_new (4);
    ovh_seqtrack_set_paths (track, 2);
    uint64_t epoch = 7, kept = 0;
    for (uint64_t seq = 1; seq <= 500; seq++)
        for (int path = 0; path < 2; path++) {
            bool missing = (path == 0 && seq >= 100 && seq < 200)   //  proxy A died
                        || (seq >= 300 && seq < 310);               //  both
            if (!missing)
                kept += ovh_seqtrack_record (track, "signalSent", "p", 1, seq, &epoch,
                                             &last) != OVH_SEQ_DUPLICATE;
        }
    ovh_seqtrack_settle (track);
    ovh_seqtrack_settle (track);
    CHECK (kept == 490);
    CHECK (ovh_seqtrack_lost (track) == 10);
    ovh_seqtrack_destroy (&track);

    //  The top of the seq range: holes below UINT64_MAX settle, and the
    //  loops end
    track = ovh_seqtrack_new (4);
    ovh_seqtrack_set_paths (track, 2);
    CHECK (ovh_seqtrack_record (track, "signalSent", "p", 1, UINT64_MAX - 5, &epoch, &last)
           == OVH_SEQ_FIRST);
    CHECK (ovh_seqtrack_record (track, "signalSent", "p", 1, UINT64_MAX, &epoch, &last)
           == OVH_SEQ_GAP);
    CHECK (ovh_seqtrack_record (track, "signalSent", "p", 1, UINT64_MAX - 1, &epoch, &last)
           == OVH_SEQ_LATE);
    CHECK (ovh_seqtrack_settle (track) == 0);
    CHECK (ovh_seqtrack_settle (track) == 3);
    CHECK (ovh_seqtrack_record (track, "signalSent", "p", 1, UINT64_MAX, &epoch, &last)
           == OVH_SEQ_DUPLICATE);
    ovh_seqtrack_destroy (&track);

    //  One path: the window is not used, the old verdicts stand
    track = ovh_seqtrack_new (4);
    ovh_seqtrack_set_paths (track, 1);
    CHECK (ovh_seqtrack_record (track, "signalSent", "p", 1, 1, &epoch, &last) == OVH_SEQ_FIRST);
    CHECK (ovh_seqtrack_record (track, "signalSent", "p", 1, 1, &epoch, &last)
           == OVH_SEQ_BACKWARDS);
    CHECK (ovh_seqtrack_record (track, "signalSent", "p", 1, 4, &epoch, &last) == OVH_SEQ_GAP);
    CHECK (ovh_seqtrack_lost (track) == 2);
    CHECK (ovh_seqtrack_settle (track) == 0);
    ovh_seqtrack_destroy (&track);
}

//  Each verdict and its exact sentence, as the bridge logs it and the tail
//  prints it (tests/e2e match these words)
static void
test_describe (void)
{
    const ovh_event_type_t *created = ovh_catalog_lookup ("sessionCreated", 14);
    const ovh_event_type_t *joined = ovh_catalog_lookup ("participantJoined", 17);
    REQUIRE (created && joined);
    struct {
        ovh_seq_t verdict; const ovh_event_type_t *type; const char *src;
        uint64_t last, seq; bool has_epoch; const char *sentence;
    } cases [] = {
        { OVH_SEQ_GAP, created, "pubA", 3, 7, false,
          "lost 3 message(s) on the bus: sessionCreated from src pubA (seq 3 → 7)" },
        { OVH_SEQ_GAP, joined, "p", 1, 3, true,
          "lost 1 message(s) on the bus: participantJoined from src p (seq 1 → 3)" },
        { OVH_SEQ_JUMP, created, "py-jump", 1, UINT64_C (1) << 63, false,
          "sessionCreated seq of src py-jump jumped from 1 to 9223372036854775808 "
          "(9223372036854775806 messages lost, or a publisher bug)" },
        { OVH_SEQ_RESTART, created, "media-node-1", 1, 1, true,
          "publisher media-node-1 restarted (sessionCreated seq 1 after 1, new epoch)" },
        { OVH_SEQ_RESTART, joined, "m", 40, 1, false,
          "publisher m restarted (participantJoined seq 1 after 40)" },
        { OVH_SEQ_BACKWARDS, created, "p1", 9, 4, true,
          "src p1 went back from sessionCreated seq 9 to 4 (two publishers with one src?)" },
        //  The src is the publisher's text: a newline and an escape are shown as '?'
        { OVH_SEQ_GAP, created, "a\nb\x1b[2J", 1, 3, false,
          "lost 1 message(s) on the bus: sessionCreated from src a?b?[2J (seq 1 → 3)" },
        { OVH_SEQ_TOO_OLD, created, "p1", 5000, 3, true,
          "sessionCreated seq 3 of src p1 came after seq 5000, older than the "
          "4096-message window or of an earlier run: dropped (a path lagging that "
          "far behind?)" },
        //  Nothing to say of the expected seq or a first one, nor of a
        //  copy that another path brought first, nor of one it missed
        { OVH_SEQ_FIRST, created, "p1", 0, 5, false, NULL },
        { OVH_SEQ_NEXT, created, "p1", 5, 6, false, NULL },
        { OVH_SEQ_DUPLICATE, created, "p1", 6, 6, true, NULL },
        { OVH_SEQ_LATE, created, "p1", 9, 7, true, NULL },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        ovh_event_t event = {
            .type = cases [index].type, .has_envelope = true, .src = cases [index].src,
            .src_size = strlen (cases [index].src), .seq = cases [index].seq,
            .has_epoch = cases [index].has_epoch, .epoch = 77
        };
        char buffer [512] = "junk";
        const char *sentence = ovh_seqtrack_describe (cases [index].verdict, &event,
                                                      cases [index].last, buffer, sizeof buffer);
        if (cases [index].sentence) {
            CHECK_MSG (sentence == buffer, "case %zu: not the buffer", index);
            CHECK_STR (sentence, cases [index].sentence);
        }
        else
            CHECK_MSG (sentence == NULL && *buffer == 0, "case %zu: '%s'", index, buffer);
    }
    //  A small buffer gets the start of the sentence, ended
    ovh_event_t event = { .type = created, .has_envelope = true, .src = "pubA",
                          .src_size = 4, .seq = 7 };
    char small [12];
    CHECK_STR (ovh_seqtrack_describe (OVH_SEQ_GAP, &event, 3, small, sizeof small),
               "lost 3 mess");
}

int
main (void)
{
    test_seqtrack ();
    test_describe ();
    test_redundant ();
    return ovh_test_done ("test_seqtrack");
}
