/*  ovh_test_rig.h - what the dispatcher's unit tests share: a
    configuration from flags, events from short specs ("a1:A": id a1, key
    A), a dispatcher on the stand-in sender (ovh_test_sender.h), and checks
    of its counts.                                                          */

#ifndef OVH_TEST_RIG_H_INCLUDED
#define OVH_TEST_RIG_H_INCLUDED

#include <stddef.h>
#include "ovh_config.h"
#include "ovh_dispatcher_private.h"
#include "ovh_test_sender.h"

//  A configuration: short delays, no jitter, and 'flags' ("--workers 2")
ovh_config_t *
    ovh_test_rig_config (const char *flags);

//  The body an event is sent with (freshly allocated)
char *
    ovh_test_rig_body (const char *id);

//  An event: "a1:A" is id a1 with key A, "n1" id n1 without a key
ovh_item_t *
    ovh_test_rig_item (const char *spec);

//  Post every event of 'specs' ("a1:A a2:A n1"); each must be taken
void
    ovh_test_rig_post (ovh_dispatcher_t *dispatcher, const char *specs);

//  The spool 'folder'/spool.db (1 GiB at most), made if new
ovh_spool_t *
    ovh_test_rig_spool (const char *folder);

//  One case's dispatcher, on a stand-in sender with the configuration's
//  workers and 'outcome' for every attempt no script names
typedef struct {
    ovh_config_t *config;
    ovh_test_sender_t *sender;
    ovh_dispatcher_t *dispatcher;
} ovh_test_rig_t;

ovh_test_rig_t
    ovh_test_rig_new (const char *flags, const char *outcome, ovh_spool_t *spool,
                      ovh_deadletter_t *deadletter);

//  The dispatcher (unless a case destroyed it), then the rest
void
    ovh_test_rig_end (ovh_test_rig_t *rig);

//  A count of the dispatcher's now: COUNT (dispatcher, delivered)
uint64_t
    ovh_test_rig_count (ovh_dispatcher_t *dispatcher, size_t offset);
#define COUNT(dispatcher, field) \
    ovh_test_rig_count (dispatcher, offsetof (ovh_dispatch_stats_t, field))

//  Every event counted once
#define CHECK_ADDS_UP(stats) CHECK_MSG ((stats).resumed + (stats).posted == (stats).delivered \
    + (stats).dead + (stats).failed + (stats).released + (stats).queued, "resumed %" PRIu64 \
    " + posted %" PRIu64 " != delivered %" PRIu64 " + dead %" PRIu64 " + failed %" PRIu64 \
    " + released %" PRIu64 " + queued %" PRIu64, (stats).resumed, (stats).posted, \
    (stats).delivered, (stats).dead, (stats).failed, (stats).released, (stats).queued)

#define CHECK_STORY(sender, key, want) do { \
    char *story_ = ovh_test_sender_story (sender, key); \
    CHECK_STR (story_, want); \
    free (story_); \
} while (0)

#endif
