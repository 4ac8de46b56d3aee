/*  test_dispatcher.c - the dispatcher's rules, without HTTP: its real
    actor and poll loop drive a stand-in sender (ovh_test_sender.h) that
    finishes each attempt as a script says and records the story of every
    event ("a1#1 a1:503 a1#2 a1:200": started, then ended with a 503...).

    Per-key order across retries, the end of retries (final status, dead
    letters, the counts), the queue's capacity, the drain (with and without
    a spool, with a sender that never answers), signals during the drain,
    and the circuit breaker. Waits are for conditions, bounded.             */

#include <czmq.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include "ovh_test.h"
#include "ovh_test_folder.h"
#include "ovh_test_sender.h"
#include "ovh_test_rig.h"

//  Generous bounds for what takes milliseconds, so that valgrind passes
#define PATIENCE        10000

static char s_folder [128];

//  The 'nth' (from 1) attempt started in the story, and the entry after it
static void
s_nth_start (ovh_test_sender_t *sender, int nth, char *start, char *next, size_t size)
{
    char *story = ovh_test_sender_story (sender, "*");
    *start = *next = 0;
    bool found = false;
    for (char *token = strtok (story, " "); token; token = strtok (NULL, " ")) {
        if (found) {
            snprintf (next, size, "%s", token);
            break;
        }
        if (strchr (token, '#') && --nth == 0) {
            snprintf (start, size, "%s", token);
            found = true;
        }
    }
    free (story);
}

//  Milliseconds from the story's entry 'from' to its entry 'to'
static int64_t
s_gap (ovh_test_sender_t *sender, const char *from, const char *to)
{
    return ovh_test_sender_when (sender, to) - ovh_test_sender_when (sender, from);
}

//  ---------------------------------------------------------------------

static void
test_order_per_key_holds_across_retries (void)
{
    ovh_test_rig_t rig = ovh_test_rig_new ("--workers 4 --retries 3 --retry-initial 300ms", "200", NULL, NULL);
    ovh_test_sender_script (rig.sender, "a1", "503 503 200");
    ovh_test_sender_script (rig.sender, "n1", "200@30");
    ovh_test_rig_post (rig.dispatcher, "a1:A a2:A b1:B b2:B n1 n2 n3");
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, COUNT (rig.dispatcher, delivered) == 7));
    //  A's second event waits until its first is delivered, retries and all
    CHECK_STORY (rig.sender, "A", "a1#1 a1:503 a1#2 a1:503 a1#3 a1:200 a2#1 a2:200");
    //  B goes on meanwhile
    CHECK_STORY (rig.sender, "B", "b1#1 b1:200 b2#1 b2:200");
    CHECK (s_gap (rig.sender, "b2:200", "a1#2") > 0);
    //  Events without a key share one lane: one after the other
    CHECK_STORY (rig.sender, NULL, "n1#1 n1:200 n2#1 n2:200 n3#1 n3:200");
    char *sent = ovh_test_sender_body (rig.sender, "a2"), *body = ovh_test_rig_body ("a2");
    CHECK_STR (sent, body);
    free (sent);
    free (body);

    ovh_dispatch_stats_t stats;
    ovh_dispatcher_drain (rig.dispatcher, PATIENCE, &stats);
    CHECK (stats.posted == 7 && stats.delivered == 7 && stats.queued == 0);
    CHECK (stats.failed_attempts == 2);
    CHECK_ADDS_UP (stats);
    ovh_test_rig_end (&rig);
}

//  A final status ends an event at once; retries end after --retries;
//  either way a dead letter when there is a file for them, else failed
static void
s_give_up (bool with_file)
{
    char path [256];
    snprintf (path, sizeof path, "%s/dead.jsonl", s_folder);
    char error [256];
    ovh_deadletter_t *deadletter = with_file ? ovh_deadletter_new (path, error, sizeof error)
                                             : NULL;
    REQUIRE (deadletter || !with_file);
    ovh_test_rig_t rig = ovh_test_rig_new ("--workers 4 --retries 2", "200", NULL, deadletter);
    ovh_test_sender_script (rig.sender, "p1", "404");
    ovh_test_sender_script (rig.sender, "x1", "503 503 503");
    ovh_test_sender_script (rig.sender, "x2", "timeout 500 refused");
    ovh_test_rig_post (rig.dispatcher, "p1:P x1:X x2:Y ok:Z");
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, COUNT (rig.dispatcher, delivered)
                          + COUNT (rig.dispatcher, dead) + COUNT (rig.dispatcher, failed) == 4));
    CHECK_STORY (rig.sender, "P", "p1#1 p1:404");
    CHECK_STORY (rig.sender, "X", "x1#1 x1:503 x1#2 x1:503 x1#3 x1:503");
    CHECK_STORY (rig.sender, "Y", "x2#1 x2:timeout x2#2 x2:500 x2#3 x2:refused");
    CHECK_STORY (rig.sender, "Z", "ok#1 ok:200");

    ovh_dispatch_stats_t stats;
    ovh_dispatcher_drain (rig.dispatcher, PATIENCE, &stats);
    CHECK (stats.delivered == 1 && stats.queued == 0 && stats.failed_attempts == 7);
    CHECK (stats.dead == (with_file ? 3 : 0) && stats.failed == (with_file ? 0 : 3));
    CHECK_ADDS_UP (stats);
    ovh_test_rig_end (&rig);
    if (with_file) {
        ovh_deadletter_destroy (&deadletter);
        char *text = NULL;
        zfile_t *file = zfile_new (NULL, path);
        zchunk_t *chunk = file && zfile_input (file) == 0 ? zfile_read (file, 1 << 16, 0) : NULL;
        if (chunk)
            text = zchunk_strdup (chunk);
        CHECK (text && strstr (text, "\"id\":\"p1\"") && strstr (text, "\"id\":\"x1\"")
               && strstr (text, "\"id\":\"x2\"") && !strstr (text, "\"id\":\"ok\""));
        free (text);
        zchunk_destroy (&chunk);
        zfile_destroy (&file);
        unlink (path);
    }
}

static void
test_retries_end_in_a_dead_letter_or_failed (void)
{
    s_give_up (true);
    s_give_up (false);
}

static void
test_retry_after_sets_the_retry_delay (void)
{
    ovh_test_rig_t rig = ovh_test_rig_new ("--retries 1 --retry-max 400ms", "200", NULL, NULL);
    ovh_test_sender_script (rig.sender, "r1", "503/ra=1 200");
    ovh_test_sender_script (rig.sender, "r2", "503 200");
    ovh_test_rig_post (rig.dispatcher, "r1:A r2:B");
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, COUNT (rig.dispatcher, delivered) == 2));
    //  Asked for 1 s, bounded by twice --retry-max; the other the backoff
    int64_t asked = s_gap (rig.sender, "r1:503", "r1#2");
    int64_t backoff = s_gap (rig.sender, "r2:503", "r2#2");
    CHECK_MSG (asked >= 800 && asked < 800 + PATIENCE / 2, "%" PRId64 " ms", asked);
    CHECK_MSG (backoff >= 20 && backoff < 400, "%" PRId64 " ms", backoff);
    ovh_test_rig_end (&rig);
}

static void
test_post_refuses_when_full_and_wait_room_waits (void)
{
    ovh_test_rig_t rig = ovh_test_rig_new ("--queue-events 4 --workers 2", "hang", NULL, NULL);
    ovh_test_rig_post (rig.dispatcher, "e1:A e2:B e3:C e4:D");
    ovh_item_t *fifth = ovh_test_rig_item ("e5:E");
    bool refused = ovh_dispatcher_post (rig.dispatcher, fifth) == -1;
    CHECK (refused);                //  if not, the dispatcher has it now
    if (refused)
        CHECK (!ovh_dispatcher_wait_room (rig.dispatcher, fifth, 50));
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, ovh_test_sender_running (rig.sender) == 2));
    ovh_test_sender_default (rig.sender, "200");
    ovh_test_sender_release (rig.sender, "200");
    if (refused) {
        CHECK (ovh_dispatcher_wait_room (rig.dispatcher, fifth, PATIENCE));
        if (ovh_dispatcher_post (rig.dispatcher, fifth) != 0) {
            CHECK (false);
            ovh_item_destroy (&fifth);
        }
    }
    ovh_dispatch_stats_t stats;
    ovh_dispatcher_drain (rig.dispatcher, PATIENCE, &stats);
    CHECK (stats.posted == 5 && stats.delivered == 5 && stats.queued == 0);
    ovh_test_rig_end (&rig);
}

static void
test_drain_delivers_what_is_queued (void)
{
    ovh_test_rig_t rig = ovh_test_rig_new ("--workers 2", "200@5", NULL, NULL);
    ovh_test_rig_post (rig.dispatcher, "d1:A d2:A d3:B d4:B d5:C d6:C d7:A d8 d9 d10");
    int64_t start = zclock_mono ();
    ovh_dispatch_stats_t stats;
    ovh_dispatcher_drain (rig.dispatcher, PATIENCE, &stats);
    CHECK (zclock_mono () - start < PATIENCE / 2);
    CHECK (stats.delivered == 10 && stats.queued == 0);
    CHECK_STORY (rig.sender, "A", "d1#1 d1:200 d2#1 d2:200 d7#1 d7:200");
    ovh_test_rig_end (&rig);
}

static void
test_drain_stops_at_its_deadline_when_nothing_answers (void)
{
    ovh_test_rig_t rig = ovh_test_rig_new ("--workers 2", "hang", NULL, NULL);
    ovh_test_rig_post (rig.dispatcher, "h1:A h2:A h3:B h4:C h5");
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, ovh_test_sender_running (rig.sender) == 2));
    int64_t start = zclock_mono ();
    ovh_dispatch_stats_t stats;
    ovh_dispatcher_drain (rig.dispatcher, 300, &stats);
    int64_t took = zclock_mono () - start;
    CHECK_MSG (took >= 300 && took < PATIENCE / 2, "%" PRId64 " ms", took);
    CHECK (stats.queued == 5 && stats.delivered == 0 && stats.unwritten == 0);
    CHECK_ADDS_UP (stats);
    //  The two in flight were cut short, the rest never started
    CHECK_STORY (rig.sender, "*", "h1#1 h3#1 h1:abort h3:abort");
    ovh_test_rig_end (&rig);
}

static ovh_spool_t *
s_spool (void)
{
    return ovh_test_rig_spool (s_folder);
}

static void
test_drain_leaves_the_undelivered_in_the_spool_for_the_next_start (void)
{
    ovh_spool_t *spool = s_spool ();
    ovh_test_rig_t rig = ovh_test_rig_new ("--workers 2", "hang", spool, NULL);
    ovh_test_rig_post (rig.dispatcher, "s1:A s2:A s3:A t1:B");
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, ovh_test_sender_running (rig.sender) == 2));
    ovh_dispatch_stats_t stats;
    ovh_dispatcher_drain (rig.dispatcher, 300, &stats);
    CHECK (stats.queued == 4 && stats.unwritten == 0 && stats.delivered == 0);
    ovh_test_rig_end (&rig);
    CHECK (ovh_spool_events (spool) == 4);
    ovh_spool_destroy (&spool);

    //  The next start: the same events, the same ids, in order
    spool = s_spool ();
    rig = ovh_test_rig_new ("--workers 2", "200", spool, NULL);
    CHECK (COUNT (rig.dispatcher, resumed) == 4);
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, COUNT (rig.dispatcher, delivered) == 4));
    //  An attempt cut short by the drain is not counted against the event
    CHECK_STORY (rig.sender, "A", "s1#1 s1:200 s2#1 s2:200 s3#1 s3:200");
    CHECK_STORY (rig.sender, "B", "t1#1 t1:200");
    char *sent = ovh_test_sender_body (rig.sender, "s3"), *body = ovh_test_rig_body ("s3");
    CHECK_STR (sent, body);
    free (sent);
    free (body);
    ovh_dispatcher_drain (rig.dispatcher, PATIENCE, &stats);
    CHECK (stats.resumed == 4 && stats.posted == 0 && stats.delivered == 4 && stats.queued == 0);
    ovh_test_rig_end (&rig);
    CHECK (ovh_spool_events (spool) == 0);
    ovh_spool_destroy (&spool);
}

//  ---------------------------------------------------------------------
//  Signals, as the bridge takes them: blocked in every thread but the
//  main one, where CZMQ's handler sets zsys_interrupted

static atomic_bool s_signalling;

//  Signals the process, SIGTERM and SIGINT in turn, until told to stop
static void *
s_signaller (void *arg)
{
    int pause_ms = *(int *) arg;
    for (int count = 0; atomic_load (&s_signalling); count++) {
        kill (getpid (), count % 2 ? SIGINT : SIGTERM);
        if (pause_ms)
            zclock_sleep (pause_ms);
    }
    return NULL;
}

//  Drain 'dispatcher' (and destroy it, if 'destroy') while signals come
//  every 'pause_ms'; the drain's duration into *took
static void
s_drain_under_signals (ovh_dispatcher_t **dispatcher, int pause_ms, bool destroy,
                       ovh_dispatch_stats_t *stats, int64_t *took)
{
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    pthread_t signaller;
    atomic_store (&s_signalling, true);
    REQUIRE (pthread_create (&signaller, NULL, s_signaller, &pause_ms) == 0);
    pthread_sigmask (SIG_UNBLOCK, &signals, NULL);
    zsys_interrupted = 0;
    int64_t start = zclock_mono ();
    ovh_dispatcher_drain (*dispatcher, 8000, stats);
    *took = zclock_mono () - start;
    if (destroy)
        ovh_dispatcher_destroy (dispatcher);
    atomic_store (&s_signalling, false);
    pthread_join (signaller, NULL);
    //  Whatever is still pending must not hurry a later test
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    struct timespec none = { 0, 0 };
    while (sigtimedwait (&signals, NULL, &none) > 0)
        ;
    zsys_interrupted = 0;
}

static void
test_a_signal_ends_the_drain_early (void)
{
    ovh_test_rig_t rig = ovh_test_rig_new ("--workers 2", "hang", NULL, NULL);
    ovh_test_rig_post (rig.dispatcher, "g1:A g2:A g3:B");
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, ovh_test_sender_running (rig.sender) == 2));
    ovh_dispatch_stats_t stats;
    int64_t took;
    s_drain_under_signals (&rig.dispatcher, 20, false, &stats, &took);
    CHECK_MSG (took < 4000, "the drain took %" PRId64 " ms of its 8000", took);
    CHECK (stats.queued == 3 && stats.delivered == 0);
    CHECK_ADDS_UP (stats);
    ovh_test_rig_end (&rig);
}

static void
test_signals_without_pause_during_drain_and_destroy_do_no_harm (void)
{
    ovh_spool_t *spool = s_spool ();
    ovh_test_rig_t rig = ovh_test_rig_new ("--workers 4", "200@2", spool, NULL);
    //  Two keys hang, two workers go on with the others
    for (int index = 1; index <= 4; index++) {
        char id [8];
        snprintf (id, sizeof id, "m%d", index);
        ovh_test_sender_script (rig.sender, id, "hang");
    }
    ovh_test_rig_post (rig.dispatcher, "m1:A m2:A m3:B m4:B o1:E o2:E o3:F o4:G o5 o6");
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, COUNT (rig.dispatcher, delivered) == 6
                          && ovh_test_sender_running (rig.sender) == 2));
    ovh_dispatch_stats_t stats;
    int64_t took;
    s_drain_under_signals (&rig.dispatcher, 0, true, &stats, &took);
    CHECK_MSG (took < 4000, "the drain took %" PRId64 " ms of its 8000", took);
    CHECK (rig.dispatcher == NULL);
    CHECK (stats.delivered == 6 && stats.queued == 4 && stats.unwritten == 0);
    CHECK_ADDS_UP (stats);
    CHECK (ovh_spool_events (spool) == 4);
    ovh_test_rig_end (&rig);
    ovh_spool_destroy (&spool);
}

//  ---------------------------------------------------------------------

static void
test_breaker_pauses_then_sends_one_probe (void)
{
    ovh_test_rig_t rig = ovh_test_rig_new ("--workers 4 --retries 5 --retry-initial 300ms "
                                     "--breaker-threshold 3", "hang", NULL, NULL);
    ovh_test_rig_post (rig.dispatcher, "k1:K1 k2:K2 k3:K3 k4:K4 k5:K5 k6:K6");
    //  Four attempts out, then all four fail at once; from then on the
    //  endpoint answers
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, ovh_test_sender_running (rig.sender) == 4));
    ovh_test_sender_default (rig.sender, "200");
    ovh_test_sender_release (rig.sender, "503");
    CHECK (OVH_TEST_WAIT (rig.sender, PATIENCE, COUNT (rig.dispatcher, delivered) == 6));
    CHECK (COUNT (rig.dispatcher, failed_attempts) == 4);
    //  The third failure opened the circuit: nothing until the pause...
    char probe [32], after [32];
    s_nth_start (rig.sender, 5, probe, after, sizeof probe);
    int64_t pause = s_gap (rig.sender, "k3:503", probe);
    CHECK_MSG (pause >= 300, "the fifth attempt (%s) came %" PRId64 " ms after", probe, pause);
    //  ...then one probe alone, and the rest once it succeeded
    char *id = strndup (probe, strcspn (probe, "#"));
    char *want = zsys_sprintf ("%s:200", id);
    CHECK_STR (after, want);
    free (id);
    free (want);
    ovh_test_rig_end (&rig);
}

int
main (void)
{
    //  As the bridge does: the threads started from here on never take
    //  SIGINT or SIGTERM (the signal tests unblock them in this one)
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    zsys_init ();
    zsys_set_logstream (stderr);
    zsys_set_linger (0);
    REQUIRE (ovh_test_folder_new (s_folder, sizeof s_folder, "test_dispatcher") == 0);

    test_order_per_key_holds_across_retries ();
    test_retries_end_in_a_dead_letter_or_failed ();
    test_retry_after_sets_the_retry_delay ();
    test_post_refuses_when_full_and_wait_room_waits ();
    test_drain_delivers_what_is_queued ();
    test_drain_stops_at_its_deadline_when_nothing_answers ();
    test_drain_leaves_the_undelivered_in_the_spool_for_the_next_start ();
    test_a_signal_ends_the_drain_early ();
    test_signals_without_pause_during_drain_and_destroy_do_no_harm ();
    test_breaker_pauses_then_sends_one_probe ();

    ovh_test_folder_remove (s_folder);
    zsys_shutdown ();
    return ovh_test_done ("test_dispatcher");
}
