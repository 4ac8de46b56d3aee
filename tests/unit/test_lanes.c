/*  test_lanes.c - per-key ordering (ovh_lanes), seq gap counting
    (ovh_seqtrack), rate-limited warnings (ovh_ratelog), event ids
    (ovh_item) and peer-controlled text in log lines (ovh_shown).                                                             */

#include "ovh_test.h"
#include "ovh_lanes.h"
#include "ovh_ratelog.h"
#include "ovh_seqtrack.h"

//  An item with key 'key' (NULL: no key) whose JSON is 'json'
static ovh_item_t *
s_item (const char *key, const char *json)
{
    ovh_event_t event = { .type = ovh_catalog_at (0), .json = json,
                          .json_size = strlen (json), .key = key,
                          .key_size = key ? strlen (key) : 0 };
    return ovh_item_new (&event);
}

//  The next item ready to send, which must be the one whose JSON is 'json'
//  (NULL: none may be ready)
static ovh_item_t *
s_next (ovh_lanes_t *lanes, const char *json)
{
    ovh_item_t *item = ovh_lanes_next (lanes);
    CHECK_MSG (json? item && streq (item->json, json): item == NULL, "want %s, got %s",
               json? json: "none", item? item->json: "none");
    return item;
}

static void
s_finish (ovh_lanes_t *lanes, ovh_item_t *item)
{
    if (!item)
        return;                 //  s_next has reported it
    ovh_item_t *done = ovh_lanes_done (lanes, item);
    CHECK (done == item);
    ovh_item_destroy (&done);
}

static void
test_one_in_flight_per_key (void)
{
    ovh_lanes_t *lanes = ovh_lanes_new ();
    ovh_lanes_push (lanes, s_item ("A", "a1"));
    ovh_lanes_push (lanes, s_item ("A", "a2"));
    ovh_lanes_push (lanes, s_item ("B", "b1"));
    CHECK (ovh_lanes_items (lanes) == 3);
    CHECK (ovh_lanes_keys (lanes) == 2);

    ovh_item_t *first = s_next (lanes, "a1");
    ovh_item_t *second = s_next (lanes, "b1");
    //  a2 waits behind a1, which is still in flight
    s_next (lanes, NULL);
    s_finish (lanes, first);
    ovh_item_t *third = s_next (lanes, "a2");
    s_finish (lanes, second);
    s_finish (lanes, third);
    CHECK (ovh_lanes_items (lanes) == 0);
    CHECK (ovh_lanes_bytes (lanes) == 0);
    CHECK (ovh_lanes_keys (lanes) == 0);
    ovh_lanes_destroy (&lanes);
    CHECK (lanes == NULL);
}

static void
test_slow_key_does_not_block_others (void)
{
    ovh_lanes_t *lanes = ovh_lanes_new ();
    ovh_lanes_push (lanes, s_item ("slow", "s1"));
    ovh_lanes_push (lanes, s_item ("slow", "s2"));
    ovh_item_t *slow = s_next (lanes, "s1");
    //  While "slow" is in flight, 100 other keys all get through
    for (int index = 0; index < 100; index++) {
        char key [16];
        snprintf (key, sizeof key, "k%d", index);
        ovh_lanes_push (lanes, s_item (key, key));
        ovh_item_t *item = s_next (lanes, key);
        if (item)
            s_finish (lanes, item);
    }
    s_next (lanes, NULL);
    s_finish (lanes, slow);
    s_finish (lanes, s_next (lanes, "s2"));
    ovh_lanes_destroy (&lanes);
}

static void
test_keyless_events_in_order (void)
{
    ovh_lanes_t *lanes = ovh_lanes_new ();
    ovh_lanes_push (lanes, s_item (NULL, "n1"));
    ovh_lanes_push (lanes, s_item (NULL, "n2"));
    ovh_lanes_push (lanes, s_item ("", "empty-key"));
    ovh_item_t *first = s_next (lanes, "n1");
    //  An empty string is a key of its own, not "no key"
    ovh_item_t *other = s_next (lanes, "empty-key");
    s_next (lanes, NULL);
    s_finish (lanes, first);
    s_finish (lanes, s_next (lanes, "n2"));
    s_finish (lanes, other);
    ovh_lanes_destroy (&lanes);
}

static void
test_ready_keys_served_oldest_first (void)
{
    ovh_lanes_t *lanes = ovh_lanes_new ();
    const char *keys [] = { "C", "A", "B", "A", "C" };
    for (size_t index = 0; index < 5; index++)
        ovh_lanes_push (lanes, s_item (keys [index], keys [index]));
    ovh_item_t *c = s_next (lanes, "C");
    ovh_item_t *a = s_next (lanes, "A");
    ovh_item_t *b = s_next (lanes, "B");
    //  A finishes before C: A's second event is ready first
    s_finish (lanes, a);
    s_finish (lanes, c);
    s_finish (lanes, s_next (lanes, "A"));
    s_finish (lanes, s_next (lanes, "C"));
    s_finish (lanes, b);
    CHECK (ovh_lanes_items (lanes) == 0);
    ovh_lanes_destroy (&lanes);
}

static void
test_destroy_frees_queued_items (void)
{
    //  Under valgrind/ASan this shows that queued items are freed
    ovh_lanes_t *lanes = ovh_lanes_new ();
    for (int index = 0; index < 10; index++)
        ovh_lanes_push (lanes, s_item (index % 2 ? "odd" : NULL, "x"));
    ovh_lanes_next (lanes);
    CHECK (ovh_lanes_items (lanes) == 10);
    CHECK (ovh_lanes_bytes (lanes) > 10 * sizeof (ovh_item_t));
    ovh_lanes_destroy (&lanes);
}

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

static void
test_ratelog (void)
{
    ovh_ratelog_t *log = ovh_ratelog_new (2, 60000);
    CHECK (ovh_ratelog_warn (log, 0, "first %d", 0) == 1);
    int logged = 0;
    for (int index = 0; index < 1000; index++)
        logged += ovh_ratelog_warn (log, 0, "flood %d", index);
    CHECK (logged == 0);
    //  Another reason has a budget of its own
    CHECK (ovh_ratelog_warn (log, 1, "other") == 1);
    ovh_ratelog_destroy (&log);

    log = ovh_ratelog_new (1, 0);
    CHECK (ovh_ratelog_warn (log, 0, "a") == 1);
    CHECK (ovh_ratelog_warn (log, 0, "b") == 1);
    ovh_ratelog_destroy (&log);
}

static void
test_item_ids (void)
{
    //  Expected value computed independently:
    //  'evt_' + hashlib.sha256 (b'pubA\x00sessionCreated\x007').hexdigest () [:32]
    char id [40];
    ovh_item_envelope_id ("sessionCreated", "pubA", 4, 7, NULL, id);
    CHECK_STR (id, "evt_5052d2a766f5565aa74abf3804d03353");
    //  With an epoch: b'pubA\x00sessionCreated\x007\x00<epoch in decimal>'
    struct { uint64_t epoch; const char *id; } epochs [] = {
        { UINT64_MAX, "evt_5bd9aa188a4aad339a95096769334d2f" },
        { 0, "evt_49941c10aa7f26ec65666f1ff9ce88e9" },
    };
    for (size_t index = 0; index < sizeof epochs / sizeof epochs [0]; index++) {
        char epoch_id [40];
        ovh_item_envelope_id ("sessionCreated", "pubA", 4, 7, &epochs [index].epoch, epoch_id);
        CHECK_STR (epoch_id, epochs [index].id);
    }

    //  Same envelope, same id (two bridges agree); another seq, another id
    ovh_event_t event = { .type = ovh_catalog_at (0), .json = "{}", .json_size = 2,
                          .has_envelope = true, .src = "pubA", .src_size = 4, .seq = 7 };
    ovh_item_t *first = ovh_item_new (&event);
    ovh_item_t *second = ovh_item_new (&event);
    CHECK_STR (first->id, second->id);
    CHECK_STR (first->id, id);
    event.seq = 8;
    ovh_item_t *third = ovh_item_new (&event);
    CHECK (strcmp (third->id, first->id) != 0);
    //  Same src and seq in another run (epoch): another id; in the same
    //  run: the same id (two bridges agree)
    event.seq = 7;
    event.has_epoch = true;
    event.epoch = 1;
    ovh_item_t *run1 = ovh_item_new (&event);
    ovh_item_t *run1_again = ovh_item_new (&event);
    event.epoch = 2;
    ovh_item_t *run2 = ovh_item_new (&event);
    CHECK (strcmp (run1->id, first->id) != 0);
    CHECK (strcmp (run1->id, run2->id) != 0);
    CHECK_STR (run1->id, run1_again->id);
    ovh_item_destroy (&run1);
    ovh_item_destroy (&run1_again);
    ovh_item_destroy (&run2);
    event.has_epoch = false;
    //  Without an envelope: random, 128 bits of hex, never the same twice
    event.has_envelope = false;
    ovh_item_t *random1 = ovh_item_new (&event);
    ovh_item_t *random2 = ovh_item_new (&event);
    CHECK (strlen (random1->id) == 36 && strncmp (random1->id, "evt_", 4) == 0);
    CHECK (strspn (random1->id + 4, "0123456789abcdef") == 32);
    CHECK (strcmp (random1->id, random2->id) != 0);
    CHECK (random1->accepted_ms > 1700000000000LL);
    //  Restored items keep what they were given
    ovh_item_t *restored = ovh_item_restore (ovh_catalog_at (1), "evt_x", "k", 1, "{\"a\":1}", 7,
                                             1234, 3);
    CHECK_STR (restored->id, "evt_x");
    CHECK (restored->has_key && streq (restored->key, "k"));
    CHECK_STR (restored->json, "{\"a\":1}");
    CHECK (restored->accepted_ms == 1234 && restored->attempts == 3);
    ovh_item_t *keyless = ovh_item_restore (ovh_catalog_at (1), "evt_y", NULL, 0, "{}", 2, 1, 0);
    CHECK (!keyless->has_key);
    ovh_item_destroy (&first);
    ovh_item_destroy (&second);
    ovh_item_destroy (&third);
    ovh_item_destroy (&random1);
    ovh_item_destroy (&random2);
    ovh_item_destroy (&restored);
    ovh_item_destroy (&keyless);
}

//  What a publisher controls reaches a log line as one printable line
static void
test_shown (void)
{
    struct {
        const char *text; size_t size; size_t buffer; const char *shown;
    } cases [] = {
        { "node-1", 6, 64, "node-1" },
        { "a\nb", 3, 64, "a?b" },                           //  a forged log line
        { "\x1b[31mred", 8, 64, "?[31mred" },               //  terminal escape
        { "a\xc2\x9b" "31m", 6, 64, "a?31m" },              //  C1 CSI, as UTF-8
        { "\xff\xfe" "ok", 4, 64, "??ok" },                 //  not UTF-8
        { "\xe2\x82", 2, 64, "??" },                         //  cut sequence
        { "caf\xc3\xa9", 5, 64, "caf\xc3\xa9" },            //  valid UTF-8 kept
        { "a\0b", 3, 64, "a?b" },
        { "abcdefghij", 10, 8, "abcd..." },                 //  cut, marked
        { "abc\xc3\xa9xyz", 8, 8, "abc..." },               //  never in a character
        { "abcdefg", 7, 8, "abcdefg" },                     //  fits exactly
        { "", 0, 4, "" },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        char buffer [64];
        ovh_shown (buffer, cases [index].buffer, cases [index].text, cases [index].size);
        CHECK_MSG (streq (buffer, cases [index].shown), "case %zu: '%s'", index, buffer);
    }
}

int
main (void)
{
    test_item_ids ();
    test_one_in_flight_per_key ();
    test_slow_key_does_not_block_others ();
    test_keyless_events_in_order ();
    test_ready_keys_served_oldest_first ();
    test_destroy_frees_queued_items ();
    test_seqtrack ();
    test_ratelog ();
    test_shown ();
    return ovh_test_done ("test_lanes");
}
