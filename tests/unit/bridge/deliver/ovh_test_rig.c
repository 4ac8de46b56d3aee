/*  ovh_test_rig.c - the dispatcher tests' shared setup (ovh_test_rig.h). */

#include <czmq.h>
#include "ovh_test.h"
#include "ovh_test_rig.h"

ovh_config_t *
ovh_test_rig_config (const char *flags)
{
    char *copy = strdup (flags);
    char *argv [32] = { "ovhook-bridge" };
    int argc = 1;
    for (char *flag = strtok (copy, " "); flag && argc < 31; flag = strtok (NULL, " "))
        argv [argc++] = flag;
    char *envp [] = { "OPENVIDU_WEBHOOK=true", "OPENVIDU_WEBHOOK_ENDPOINT=http://127.0.0.1:9/",
                      "OVHOOK_RETRY_JITTER=0", "OVHOOK_RETRY_INITIAL=20ms", NULL };
    ovh_config_t *config = ovh_config_new ();
    ovh_config_action_t action;
    REQUIRE (ovh_config_load (config, argc, argv, envp, &action) == 0);
    free (copy);
    return config;
}

char *
ovh_test_rig_body (const char *id)
{
    return zsys_sprintf ("{\"event\":\"participantJoined\",\"test\":\"%s\"}", id);
}

ovh_item_t *
ovh_test_rig_item (const char *spec)
{
    char id [32];
    snprintf (id, sizeof id, "%.*s", (int) strcspn (spec, ":"), spec);
    const char *key = strchr (spec, ':') ? strchr (spec, ':') + 1 : NULL;
    char *body = ovh_test_rig_body (id);
    ovh_item_t *item = ovh_item_restore (ovh_catalog_lookup ("participantJoined", 17), id,
                                         key, key ? strlen (key) : 0, body, strlen (body),
                                         zclock_time (), 0);
    free (body);
    REQUIRE (item);
    return item;
}

void
ovh_test_rig_post (ovh_dispatcher_t *dispatcher, const char *specs)
{
    char *copy = strdup (specs);
    for (char *spec = strtok (copy, " "); spec; spec = strtok (NULL, " "))
        REQUIRE (ovh_dispatcher_post (dispatcher, ovh_test_rig_item (spec)) == 0);
    free (copy);
}

ovh_test_rig_t
ovh_test_rig_new (const char *flags, const char *outcome, ovh_spool_t *spool,
                  ovh_deadletter_t *deadletter)
{
    ovh_test_rig_t rig = { .config = ovh_test_rig_config (flags) };
    rig.sender = ovh_test_sender_new (rig.config->workers);
    ovh_test_sender_default (rig.sender, outcome);
    rig.dispatcher = ovh_dispatcher_new_with (rig.config, NULL, spool, deadletter,
                                              ovh_test_sender_attach (rig.sender));
    REQUIRE (rig.dispatcher);
    return rig;
}

void
ovh_test_rig_end (ovh_test_rig_t *rig)
{
    ovh_dispatcher_destroy (&rig->dispatcher);
    ovh_test_sender_destroy (&rig->sender);
    ovh_config_destroy (&rig->config);
}

uint64_t
ovh_test_rig_count (ovh_dispatcher_t *dispatcher, size_t offset)
{
    ovh_dispatch_stats_t stats;
    ovh_dispatcher_stats (dispatcher, &stats);
    return *(uint64_t *) ((char *) &stats + offset);
}

ovh_spool_t *
ovh_test_rig_spool (const char *folder)
{
    char path [256], error [256];
    snprintf (path, sizeof path, "%s/spool.db", folder);
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, error, sizeof error);
    REQUIRE (spool);
    return spool;
}
