/*  ovh_test_sender.h - a stand-in for the dispatcher's sender (libcurl's,
    ovh_sender.h), so that a unit test runs the dispatcher's real loop
    without HTTP.

    It records every transfer started and finished, and finishes each as a
    script says. Finishing goes through the dispatcher's own poll loop: the
    stand-in hands it an eventfd to watch and a timeout for delayed
    outcomes, as curl's sockets and timers would be.

    A script is a list of outcomes, one per attempt of an event (by id);
    attempts past the list, and events without one, get the default
    outcome ("200" at first). An outcome is
        200, 503, 404...    the HTTP status (200 delivers)
        timeout, refused    a curl error: timed out, could not connect
        hang                no end until ovh_test_sender_release, or an abort
    optionally followed by "/ra=N" (a Retry-After of N seconds) and "@N"
    (finish N ms after the start): "503/ra=1", "200@30", "timeout@10".

    The record reads as a story: "a1#1" when a1 starts its first attempt,
    "a1:503" when that attempt ends with a 503 ("a1:timeout", "a1:abort").

    The test owns the stand-in: the dispatcher it is given to
    (ovh_test_sender_attach, then ovh_dispatcher_new_with) uses it until
    destroyed, then the test reads the record and destroys it. Every
    function may be called from any thread.                                 */

#ifndef OVH_TEST_SENDER_H_INCLUDED
#define OVH_TEST_SENDER_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "ovh_dispatcher_private.h"

typedef struct _ovh_test_sender_t ovh_test_sender_t;

//  A stand-in with 'workers' transfers
ovh_test_sender_t *
    ovh_test_sender_new (int workers);
void
    ovh_test_sender_destroy (ovh_test_sender_t **self_p);

//  The class to give ovh_dispatcher_new_with; the next dispatcher made
//  with it gets 'self' (one dispatcher per stand-in)
const ovh_sender_class_t *
    ovh_test_sender_attach (ovh_test_sender_t *self);

//  The outcomes of the attempts of event 'id', in order ("503 503 200")
void
    ovh_test_sender_script (ovh_test_sender_t *self, const char *id, const char *outcomes);
//  The outcome of every attempt no script names
void
    ovh_test_sender_default (ovh_test_sender_t *self, const char *outcome);
//  Finish every hanging transfer with 'outcome'
void
    ovh_test_sender_release (ovh_test_sender_t *self, const char *outcome);

//  The story so far, of the events with ordering key 'key' (NULL: the
//  events without a key; "*": all). Caller frees.
char *
    ovh_test_sender_story (ovh_test_sender_t *self, const char *key);
//  When (zclock_mono) the story's entry 'token' ("a1#2", "a1:503") was
//  recorded, -1 if it was not
int64_t
    ovh_test_sender_when (ovh_test_sender_t *self, const char *token);
//  Transfers running
size_t
    ovh_test_sender_running (ovh_test_sender_t *self);
//  The body event 'id' was last sent with; caller frees. NULL if never.
char *
    ovh_test_sender_body (ovh_test_sender_t *self, const char *id);

//  Waiting for a condition: it changes with the stand-in's record
uint64_t
    ovh_test_sender_changes (ovh_test_sender_t *self);
//  Wait until the count of changes is not 'seen', or until 'deadline'
//  (zclock_mono)
void
    ovh_test_sender_wait (ovh_test_sender_t *self, uint64_t seen, int64_t deadline);

//  True once 'condition' holds, false if it did not within 'msecs': it is
//  evaluated again at every change of the stand-in's record (the
//  dispatcher's counts change just before the stand-in records the end of
//  an act, so they are seen too)
#define OVH_TEST_WAIT(sender, msecs, condition) __extension__ ({ \
    int64_t deadline_ = zclock_mono () + (msecs); \
    bool holds_; \
    while (true) { \
        uint64_t seen_ = ovh_test_sender_changes (sender); \
        if ((holds_ = (condition)) || zclock_mono () >= deadline_) \
            break; \
        ovh_test_sender_wait (sender, seen_, deadline_); \
    } \
    holds_; \
})

#endif
