/*  ovh_config_cli.c - ovhook-bridge's command line before it runs: the
    settings checked (errors printed, one per line), the one-shot actions
    (--help, --version, --check-config, --dead-letters), the log set up, and
    the warnings about a configuration that runs but maybe not as meant.
    main.c keeps what runs.                                                 */

#include <czmq.h>
#include "ovh_config_cli.h"
#include "ovh_buskeys.h"
#include "ovh_log.h"
#include "ovh_signer.h"
#include "ovhook.h"

//  A signing key shorter than Standard Webhooks allows still signs, so it
//  is a warning, not an error; the text names the entry, never the key.
//  Writes it into 'text' and returns true when there is one.
static bool
s_short_key_warning (ovh_config_t *config, char *text, size_t size)
{
    size_t key_size = 0;
    size_t entry = config->secret? ovh_signer_short_key (config->secret, &key_size): 0;
    if (entry)
        snprintf (text, size, "OVHOOK_WEBHOOK_SECRET: key %zu is %zu bytes long; Standard "
                  "Webhooks asks for %d to %d random bytes", entry, key_size,
                  OVH_SIGNER_MIN_KEY, OVH_SIGNER_MAX_KEY);
    return entry > 0;
}

//  A plaintext bus bound beyond loopback lets anyone who reaches the port
//  publish, and the bridge signs and POSTs what they send. --bus-insecure
//  says a firewall already sees to it. Writes the warning into 'text' and
//  returns true when there is one.
static bool
s_exposed_bus_warning (ovh_config_t *config, char *text, size_t size)
{
    if (config->bus_keys || config->bus_insecure || !ovh_buskeys_exposed (config->bus, false))
        return false;
    snprintf (text, size, "the bus %s is bound beyond loopback WITHOUT CURVE (no --bus-key): "
              "anyone who reaches the port can publish events that this bridge signs and "
              "POSTs, and can replay a src and seq to have real events discarded as "
              "duplicates. Set --bus-key and --bus-allow, or --bus-insecure if a firewall "
              "already keeps others out; see docs/security.md", config->bus);
    return true;
}

int
ovh_config_cli_check (ovh_config_t *config, ovh_dlcommand_t *command, int argc, char *argv [],
                      ovh_config_action_t *action)
{
    extern char **environ;
    char error [1024] = "";
    //  The dead-letter commands' options first: the rest is the bridge's
    bool taken = ovh_dlcommand_take_args (command, &argc, argv, error, sizeof error) == 0;
    int rc = ovh_config_load (config, argc, argv, environ, action);
    if (!taken && *action != OVH_CONFIG_HELP && *action != OVH_CONFIG_VERSION) {
        fprintf (stderr, "ovhook-bridge: %s\n", error);
        rc = -1;
    }
    if (*action == OVH_CONFIG_HELP) {
        ovh_config_usage (stdout);
        ovh_dlcommand_usage (stdout);
        return 0;
    }
    if (*action == OVH_CONFIG_VERSION) {
        printf ("ovhook-bridge %s (libovhook %s, protocol %d)\n", OVHOOK_VERSION_STRING,
                OVHOOK_VERSION, OVH_PROTOCOL_VERSION);
        return 0;
    }
    if (rc) {
        for (const char *line = (const char *) zlist_first (ovh_config_errors (config));
             line; line = (const char *) zlist_next (ovh_config_errors (config)))
            fprintf (stderr, "ovhook-bridge: %s\n", line);
        return 2;
    }
    if (ovh_dlcommand_wanted (command))
        return ovh_dlcommand_run (command, config->spool, config->dead_letter, stdout, stderr);
    if (ovh_dlselect_filtered (ovh_dlcommand_selection (command)) && !config->redeliver) {
        fprintf (stderr, "ovhook-bridge: --event, --session, --since, --until and --id select "
                 "dead letters: use them with --dead-letters or --redeliver\n");
        return 2;
    }
    if (*action == OVH_CONFIG_CHECK) {
        char warning [1024];
        if (s_short_key_warning (config, warning, sizeof warning))
            fprintf (stderr, "ovhook-bridge: warning: %s\n", warning);
        if (s_exposed_bus_warning (config, warning, sizeof warning))
            fprintf (stderr, "ovhook-bridge: warning: %s\n", warning);
        ovh_config_print (config, stdout);
        return 0;
    }
    return -1;                  //  go on and run
}

//  The log's format and file, and CZMQ's own lines through it. 0, or -1
//  after the reason on stderr.
int
ovh_config_cli_start_log (ovh_config_t *config)
{
    zsys_set_logident ("ovhook-bridge");
    ovh_log_set_ident ("ovhook-bridge");
    ovh_log_set_format (config->log_json ? "json" : "text");
    char error [512];
    if (config->log_file && ovh_log_set_file (config->log_file, error, sizeof error)) {
        fprintf (stderr, "ovhook-bridge: %s\n", error);
        return -1;
    }
    ovh_log_route_czmq ();
    return 0;
}

//  Warnings about a configuration that runs, but maybe not as meant
void
ovh_config_cli_warn (ovh_config_t *config)
{
    if (ovh_config_event_count (config) == 0)
        ovh_log_warning ("OPENVIDU_WEBHOOK_EVENTS is empty: no event will be sent");
    char warning [1024];
    if (s_short_key_warning (config, warning, sizeof warning))
        ovh_log_warning ("%s", warning);
    if (s_exposed_bus_warning (config, warning, sizeof warning))
        ovh_log_warning ("%s", warning);
    if (config->insecure)
        ovh_log_warning ("TLS certificates are NOT verified (--insecure): anyone on the path "
                         "can read and forge what the endpoint gets");
}
