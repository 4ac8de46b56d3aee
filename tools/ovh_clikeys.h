/*  ovh_clikeys.h - the CURVE settings of a tool's bus socket, as every
    tool takes them: --bus-key, --bus-server-key and --bus-allow, each also
    from its environment variable (OVHOOK_BUS_KEY, OVHOOK_BUS_SERVER_KEY,
    OVHOOK_BUS_ALLOW). A flag wins over its variable, so that one command
    can differ from the host's environment; an empty variable is unset.

    The settings are checked (ovh_buskeys_role) and the key files read
    before anything is opened, so that a wrong file is a usage error
    (exit status 2) rather than a bus that silently never connects. The
    meaning of the settings is ovh_buskeys.h's.                            */

#ifndef OVH_CLIKEYS_H_INCLUDED
#define OVH_CLIKEYS_H_INCLUDED

#include <stdbool.h>
#include <czmq.h>
#include "ovh_buskeys.h"
#include "ovh_busauth.h"
#include "ovh_busmonitor.h"

typedef struct {
    const char *key;            //  this program's secret certificate
    const char *server_key;     //  the server's public one (connecting)
    const char *allow;          //  allowed public certificates (binding)
} ovh_clikeys_t;

//  The option table's rows of the three flags (ovh_cli.h)
#define OVH_CLIKEYS_KEY_OPTIONS(keys) \
    { .name = "--bus-key", .type = OVH_CLI_STRING, .target = &(keys)->key }, \
    { .name = "--bus-server-key", .type = OVH_CLI_STRING, .target = &(keys)->server_key }
#define OVH_CLIKEYS_ALLOW_OPTION(keys) \
    { .name = "--bus-allow", .type = OVH_CLI_STRING, .target = &(keys)->allow }

//  The lines of --help that describe them; 'allow' says what --bus-allow
//  is for in this tool
#define OVH_CLIKEYS_USAGE \
    "  --bus-key FILE   this program's secret certificate (ovhook-keygen's\n" \
    "                   NAME_secret): CURVE encryption and authentication\n" \
    "  --bus-server-key FILE  the public certificate of the server a\n" \
    "                   connecting bus socket connects to (with --bus-key)\n"

//  Fill the settings the flags left unset from the environment
void
    ovh_clikeys_env (ovh_clikeys_t *keys);

//  The variable 'name' when set and not empty, else NULL
const char *
    ovh_clikeys_getenv (const char *name);

//  Check the settings of the socket 'what' ("bus", "frontend") on
//  'endpoints' and read the key files. Returns the role (OVH_BUSKEYS_
//  PLAINTEXT, _CLIENT, _SERVER) with '*loaded' set (NULL in plaintext), or
//  -1 after "NAME: REASON" on stderr (ovh_buskeys's texts).
int
    ovh_clikeys_load (const char *name, const char *what, const char *endpoints,
                      bool bind_by_default, const ovh_clikeys_t *keys,
                      ovh_buskeys_t **loaded);

//  Let the holders of the certificates in 'folder' into the sockets of ZAP
//  domain 'domain', starting the process's handler '*auth' if it is NULL.
//  Returns 0, or -1 after "NAME: REASON" on stderr.
int
    ovh_clikeys_allow (const char *name, ovh_busauth_t **auth, const char *domain,
                       const char *folder);

//  Make 'socket' what 'role' says with 'keys' (a CURVE server under ZAP
//  domain 'what', or a client), watch its handshakes when CURVE is on or
//  it connects ('*monitor', in this thread; else NULL) and attach it. Returns
//  0, or -1 after "NAME: cannot open WHAT 'ENDPOINTS': WHY" on stderr
//  (then '*monitor' is NULL).
int
    ovh_clikeys_attach (const char *name, const char *what, zsock_t *socket,
                        const char *endpoints, bool bind_by_default, ovh_buskeys_t *keys,
                        int role, ovh_busmonitor_t **monitor);

#endif
