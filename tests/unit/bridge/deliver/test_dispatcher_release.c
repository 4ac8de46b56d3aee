/*  test_dispatcher_release.c - a pair's standby (docs/ha.md): behind its
    closed gate the dispatcher queues and spools every event, and lets go
    of those its active peer finished (ovh_dispatcher_release): from its
    lanes (wherever they stand in them), from the spool when they wait on
    disk only, and, for ids that come first, when the event arrives. On
    the takeover only the rest goes out, in order per key.                  */

#include <czmq.h>
#include "ovh_test.h"
#include "ovh_test_folder.h"
#include "ovh_test_rig.h"

#define PATIENCE        10000
#define HA_FLAGS        " --ha backup --ha-bind tcp://127.0.0.1:5570 --ha-peer tcp://127.0.0.1:5571"

static char s_folder [128];

//  Until the dispatcher counts 'count' events let go (nothing else wakes
//  the test then: a short poll, bounded)
static bool
s_released (ovh_dispatcher_t *dispatcher, uint64_t count)
{
    int64_t deadline = zclock_mono () + PATIENCE;
    while (COUNT (dispatcher, released) != count && zclock_mono () < deadline)
        zclock_sleep (2);
    return COUNT (dispatcher, released) == count;
}

static void
test_standby_lets_go_what_the_peer_finished (void)
{
    ovh_test_rig_t rig = ovh_test_rig_new ("--workers 2" HA_FLAGS, "200", NULL, NULL);
    ovh_test_rig_post (rig.dispatcher, "a1:A a2:A a3:A b1:B n1 n2");
    //  The middle of A's lane, all of B's, the keyless lane's head, and
    //  x9, which has not come yet
    CHECK (ovh_dispatcher_release (rig.dispatcher, "a2b1n1x9", 8, 2) == 0);
    CHECK (s_released (rig.dispatcher, 3));
    ovh_test_rig_post (rig.dispatcher, "x9:C");
    CHECK (s_released (rig.dispatcher, 4));
    //  Gate closed: nothing went out
    CHECK (ovh_test_sender_running (rig.sender) == 0);
    CHECK_STORY (rig.sender, "*", "");
    //  The takeover: the rest, in order per key
    ovh_dispatcher_gate (rig.dispatcher, true);
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, COUNT (rig.dispatcher, delivered) == 3));
    CHECK_STORY (rig.sender, "A", "a1#1 a1:200 a3#1 a3:200");
    CHECK_STORY (rig.sender, NULL, "n2#1 n2:200");
    CHECK_STORY (rig.sender, "B", "");
    CHECK_STORY (rig.sender, "C", "");
    ovh_dispatch_stats_t stats;
    ovh_dispatcher_drain (rig.dispatcher, PATIENCE, &stats);
    CHECK (stats.posted == 7 && stats.released == 4 && stats.delivered == 3 && stats.queued == 0);
    CHECK_ADDS_UP (stats);
    ovh_test_rig_end (&rig);
}

//  The spool of the folder, indexed by id as a pair's bridge has it
static ovh_spool_t *
s_spool (void)
{
    ovh_spool_t *spool = ovh_test_rig_spool (s_folder);
    REQUIRE (ovh_spool_index_ids (spool) == 0);
    return spool;
}

//  With a spool and a memory queue of 4, most events wait on disk only:
//  those are let go by a delete in the spool, the ones in memory from the
//  lanes and the spool both; what is left is in the spool for the next
//  start, and only that. 'ids_first': the peer's ids come before the
//  events (early ids, matched as each event is queued or left on disk)
static void
s_lets_go_from_the_spool (bool ids_first)
{
    ovh_spool_t *spool = s_spool ();
    ovh_test_rig_t rig = ovh_test_rig_new ("--workers 2 --queue-events 4" HA_FLAGS, "200",
                                           spool, NULL);
    char specs [512] = "", ids [64] = "";
    for (int index = 10; index < 30; index++) {
        char spec [16];
        snprintf (spec, sizeof spec, "e%d:K%d ", index, index % 3);
        strcat (specs, spec);
        //  e10 (in memory) and e15..e29 (on disk only)
        if (index == 10 || index >= 15)
            snprintf (ids + strlen (ids), sizeof ids - strlen (ids), "e%d", index);
    }
    if (!ids_first)
        ovh_test_rig_post (rig.dispatcher, specs);
    CHECK (ovh_dispatcher_release (rig.dispatcher, ids, strlen (ids), 3) == 0);
    if (ids_first) {
        //  Let the actor read them first (were it late, the events would
        //  be let go as in the case above: the counts hold either way)
        CHECK (COUNT (rig.dispatcher, released) == 0);
        zclock_sleep (50);
        ovh_test_rig_post (rig.dispatcher, specs);
    }
    CHECK (s_released (rig.dispatcher, 16));
    ovh_dispatch_stats_t stats;
    ovh_dispatcher_drain (rig.dispatcher, 0, &stats);
    CHECK (stats.released == 16 && stats.queued == 4 && stats.delivered == 0);
    CHECK_ADDS_UP (stats);
    CHECK_STORY (rig.sender, "*", "");
    ovh_test_rig_end (&rig);
    CHECK (ovh_spool_events (spool) == 4);
    ovh_spool_destroy (&spool);

    //  The next start (alone): e11..e14, nothing else
    spool = s_spool ();
    rig = ovh_test_rig_new ("--workers 2", "200", spool, NULL);
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, COUNT (rig.dispatcher, delivered) == 4));
    CHECK_STORY (rig.sender, "K1", "e13#1 e13:200");
    CHECK_STORY (rig.sender, "K2", "e11#1 e11:200 e14#1 e14:200");
    CHECK_STORY (rig.sender, "K0", "e12#1 e12:200");
    ovh_test_rig_end (&rig);
    CHECK (ovh_spool_events (spool) == 0);
    ovh_spool_destroy (&spool);
}

static void
test_standby_lets_go_from_the_spool_too (void)
{
    s_lets_go_from_the_spool (false);
}

static void
test_ids_before_their_events_let_go_from_memory_and_disk (void)
{
    s_lets_go_from_the_spool (true);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    zsys_set_linger (0);
    REQUIRE (ovh_test_folder_new (s_folder, sizeof s_folder, "test_dispatcher_release") == 0);
    test_standby_lets_go_what_the_peer_finished ();
    test_standby_lets_go_from_the_spool_too ();
    test_ids_before_their_events_let_go_from_memory_and_disk ();
    ovh_test_folder_remove (s_folder);
    zsys_shutdown ();
    return ovh_test_done ("test_dispatcher_release");
}
