/*  test_done.c - what the active tells its standby it finished
    (ovh_done): seqs merged into ranges per (src, epoch, topic) stream,
    each range read back as the ids both bridges gave the events; ids for
    events without an envelope; the bound; and frames from a peer that
    lie about their sizes or ranges, refused whole.                        */

#include "ovh_test.h"
#include "ovh_done.h"

//  An event of 'topic' from 'src' with 'seq' (0: no envelope) and epoch
//  (0: none)
static ovh_item_t *
s_item (const char *topic, const char *src, uint64_t seq, uint64_t epoch)
{
    ovh_event_t event = { .type = ovh_catalog_lookup (topic, strlen (topic)), .json = "{}",
                          .json_size = 2, .has_envelope = seq > 0, .src = src,
                          .src_size = src ? strlen (src) : 0, .seq = seq,
                          .has_epoch = epoch > 0, .epoch = epoch };
    ovh_item_t *item = ovh_item_new (&event);
    REQUIRE (item);
    return item;
}

static void
s_add (ovh_done_t *done, const char *topic, const char *src, uint64_t seq, uint64_t epoch)
{
    ovh_item_t *item = s_item (topic, src, seq, epoch);
    CHECK (ovh_done_add (done, item) == 0);
    ovh_item_destroy (&item);
}

static void
s_collect (void *arg, const char *id)
{
    zlistx_add_end ((zlistx_t *) arg, (void *) id);
}

//  The ids a frame stands for, in a list (strings); NULL if refused
static zlistx_t *
s_expand (const byte *data, size_t size)
{
    zlistx_t *ids = zlistx_new ();
    zlistx_set_duplicator (ids, (zlistx_duplicator_fn *) strdup);
    zlistx_set_destructor (ids, (zlistx_destructor_fn *) zstr_free);
    long count = ovh_done_expand (data, size, s_collect, ids);
    if (count < 0) {
        CHECK (zlistx_size (ids) == 0);
        zlistx_destroy (&ids);
        return NULL;
    }
    CHECK (count == (long) zlistx_size (ids));
    return ids;
}

static bool
s_has (zlistx_t *ids, const char *topic, const char *src, uint64_t seq, uint64_t epoch)
{
    char id [48];
    ovh_item_envelope_id (topic, src, strlen (src), seq, epoch ? &epoch : NULL, id);
    for (char *each = (char *) zlistx_first (ids); each; each = (char *) zlistx_next (ids))
        if (streq (each, id))
            return true;
    return false;
}

static void
test_seqs_become_ranges_and_ids_again (void)
{
    ovh_done_t *done = ovh_done_new (100);
    uint64_t seqs [] = { 7, 1, 2, 3, 5, 8, 3 };     //  out of order, one twice
    for (size_t index = 0; index < sizeof seqs / sizeof seqs [0]; index++)
        s_add (done, "participantJoined", "media-1/81", seqs [index], 9);
    s_add (done, "participantJoined", "media-1/81", 4, 10);    //  another run
    s_add (done, "signalSent", "media-2", 40, 0);              //  no epoch
    ovh_item_t *bare = s_item ("signalSent", NULL, 0, 0);       //  no envelope
    CHECK (ovh_done_add (done, bare) == 0);
    CHECK (ovh_done_events (done) == 10);
    zmsg_t *msg = zmsg_new ();
    CHECK (ovh_done_take (done, msg) == 0);
    CHECK (ovh_done_events (done) == 0);
    CHECK (zmsg_size (msg) == 2);
    zframe_t *ids = zmsg_first (msg), *ranges = zmsg_next (msg);
    CHECK (zframe_size (ids) == OVH_DONE_ID_SIZE);
    CHECK (memcmp (zframe_data (ids), bare->id, OVH_DONE_ID_SIZE) == 0);
    //  1-3, 5, 7-8 | 4 | 40: five ranges in three streams, not nine seqs
    size_t streams = 2 * (2 + 10 + 1 + 17 + 1 + 8 + 4) + (2 + 7 + 1 + 10 + 1 + 8 + 4);
    CHECK_MSG (zframe_size (ranges) == streams + 5 * 16, "%zu bytes", zframe_size (ranges));
    zlistx_t *expanded = s_expand (zframe_data (ranges), zframe_size (ranges));
    REQUIRE (expanded);
    CHECK (zlistx_size (expanded) == 8);
    uint64_t want [] = { 1, 2, 3, 5, 7, 8 };
    for (size_t index = 0; index < 6; index++)
        CHECK (s_has (expanded, "participantJoined", "media-1/81", want [index], 9));
    CHECK (!s_has (expanded, "participantJoined", "media-1/81", 4, 9));
    CHECK (s_has (expanded, "participantJoined", "media-1/81", 4, 10));
    CHECK (s_has (expanded, "signalSent", "media-2", 40, 0));
    zlistx_destroy (&expanded);
    zmsg_destroy (&msg);
    ovh_item_destroy (&bare);
    //  Emptied: the next take carries nothing
    msg = zmsg_new ();
    CHECK (ovh_done_take (done, msg) == 0);
    CHECK (zframe_size (zmsg_first (msg)) == 0 && zframe_size (zmsg_next (msg)) == 0);
    zmsg_destroy (&msg);
    ovh_done_destroy (&done);
    CHECK (done == NULL);
}

static void
test_bounded (void)
{
    ovh_done_t *done = ovh_done_new (2);
    s_add (done, "signalSent", "s", 1, 0);
    s_add (done, "signalSent", "s", 2, 0);
    ovh_item_t *third = s_item ("signalSent", "s", 3, 0);
    CHECK (ovh_done_add (done, third) == -1);
    ovh_item_destroy (&third);
    ovh_done_destroy (&done);
}

//  A stream header: src "s", topic, epoch flag and value, 'ranges' ranges
static size_t
s_header (byte *at, const char *topic, uint32_t ranges)
{
    size_t size = 0;
    at [size++] = 0;
    at [size++] = 1;
    at [size++] = 's';
    at [size++] = (byte) strlen (topic);
    memcpy (at + size, topic, strlen (topic));
    size += strlen (topic);
    at [size++] = 0;
    memset (at + size, 0, 8);
    size += 8;
    for (int shift = 24; shift >= 0; shift -= 8)
        at [size++] = (byte) (ranges >> shift);
    return size;
}

static size_t
s_range (byte *at, uint64_t first, uint64_t last)
{
    for (int index = 0; index < 8; index++) {
        at [index] = (byte) (first >> (56 - 8 * index));
        at [8 + index] = (byte) (last >> (56 - 8 * index));
    }
    return 16;
}

static void
test_lying_frames_refused_whole (void)
{
    byte frame [256];
    //  A good one first: 3 ids
    size_t size = s_header (frame, "signalSent", 1);
    size += s_range (frame + size, 5, 7);
    zlistx_t *ids = s_expand (frame, size);
    CHECK (ids && zlistx_size (ids) == 3);
    zlistx_destroy (&ids);
    //  Cut anywhere: refused
    for (size_t cut = 1; cut < size; cut++)
        CHECK_MSG (s_expand (frame, cut) == NULL, "cut at %zu", cut);
    //  More ranges than bytes
    size = s_header (frame, "signalSent", 2);
    size += s_range (frame + size, 5, 7);
    CHECK (s_expand (frame, size) == NULL);
    //  A topic not in the catalog
    size = s_header (frame, "signalSend", 1);
    size += s_range (frame + size, 5, 7);
    CHECK (s_expand (frame, size) == NULL);
    //  Backwards, seq 0, too long, and a good stream before a bad one
    uint64_t bad [][2] = { { 7, 5 }, { 0, 3 }, { 1, OVH_DONE_RANGE_MAX + 1 } };
    for (size_t index = 0; index < 3; index++) {
        size = s_header (frame, "signalSent", 1);
        size += s_range (frame + size, 1, 2);
        size += s_header (frame + size, "signalSent", 1);
        size += s_range (frame + size, bad [index][0], bad [index][1]);
        CHECK_MSG (s_expand (frame, size) == NULL, "bad range %zu", index);
    }
    //  Empty: nothing, and fine
    ids = s_expand (frame, 0);
    CHECK (ids && zlistx_size (ids) == 0);
    zlistx_destroy (&ids);
}

int
main (void)
{
    test_seqs_become_ranges_and_ids_again ();
    test_bounded ();
    test_lying_frames_refused_whole ();
    return ovh_test_done ("test_done");
}
