/*  ovh_config_cli.h - ovhook-bridge's command line before it runs            */

#ifndef OVH_CONFIG_CLI_H_INCLUDED
#define OVH_CONFIG_CLI_H_INCLUDED

#include "ovh_config.h"
#include "ovh_dlcommand.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Load the settings from 'argv' and the environment, the dead-letter
//  command's options taken out first. Carries out a one-shot action
//  (help, version, check-config, a dead-letter command) or prints the
//  errors. Returns the exit status when the program ends here, -1 when the
//  bridge is to run; *action says which action was asked for.
int
    ovh_config_cli_check (ovh_config_t *config, ovh_dlcommand_t *command, int argc,
                          char *argv [], ovh_config_action_t *action);

//  The log's format and file, and CZMQ's own lines through it. 0, or -1
//  after the reason on stderr.
int
    ovh_config_cli_start_log (ovh_config_t *config);

//  Log the warnings about a configuration that runs, but maybe not as
//  meant (no event types, a short signing key, a plaintext bus bound
//  beyond loopback, TLS not verified)
void
    ovh_config_cli_warn (ovh_config_t *config);

#ifdef __cplusplus
}
#endif

#endif
