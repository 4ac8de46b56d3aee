/*  ovh_clikeys.c - the CURVE settings of a tool's bus socket.            */

#include <czmq.h>
#include "ovh_log.h"
#include "ovh_clikeys.h"

const char *
ovh_clikeys_getenv (const char *name)
{
    const char *value = getenv (name);
    return value && *value? value: NULL;
}

void
ovh_clikeys_env (ovh_clikeys_t *keys)
{
    assert (keys);
    if (!keys->key)
        keys->key = ovh_clikeys_getenv ("OVHOOK_BUS_KEY");
    if (!keys->server_key)
        keys->server_key = ovh_clikeys_getenv ("OVHOOK_BUS_SERVER_KEY");
    if (!keys->allow)
        keys->allow = ovh_clikeys_getenv ("OVHOOK_BUS_ALLOW");
}

int
ovh_clikeys_load (const char *name, const char *what, const char *endpoints,
                  bool bind_by_default, const ovh_clikeys_t *keys, ovh_buskeys_t **loaded)
{
    assert (keys && loaded);
    *loaded = NULL;
    char error [512];
    int role = ovh_buskeys_role (what, endpoints, bind_by_default, keys->key,
                                 keys->server_key, keys->allow, error, sizeof error);
    if (role > OVH_BUSKEYS_PLAINTEXT) {
        *loaded = ovh_buskeys_new (keys->key, role == OVH_BUSKEYS_CLIENT? keys->server_key: NULL,
                                   error, sizeof error);
        if (!*loaded)
            role = -1;
    }
    if (role < 0)
        fprintf (stderr, "%s: %s\n", name, error);
    return role;
}

int
ovh_clikeys_allow (const char *name, ovh_busauth_t **auth, const char *domain,
                   const char *folder)
{
    assert (auth);
    if (!*auth)
        *auth = ovh_busauth_new ();
    char error [512];
    if (!*auth) {
        fprintf (stderr, "%s: cannot start the bus key checks (ZAP handler)\n", name);
        return -1;
    }
    int count = ovh_busauth_allow (*auth, domain, folder, error, sizeof error);
    if (count < 0) {
        fprintf (stderr, "%s: %s\n", name, error);
        return -1;
    }
    //  An empty folder is legal (keys are added later, without a restart)
    //  but until then nobody gets in: say so
    if (count == 0)
        ovh_log_warning ("%s: no public certificate in %s yet: every peer is refused until "
                         "one is added", domain, folder);
    return 0;
}

int
ovh_clikeys_attach (const char *name, const char *what, zsock_t *socket,
                    const char *endpoints, bool bind_by_default, ovh_buskeys_t *keys,
                    int role, ovh_busmonitor_t **monitor)
{
    assert (socket && monitor);
    *monitor = NULL;
    if (role == OVH_BUSKEYS_SERVER)
        ovh_buskeys_apply_server (keys, socket, what);
    else
    if (role == OVH_BUSKEYS_CLIENT)
        ovh_buskeys_apply_client (keys, socket);
    //  Before attaching: the first handshake must not go unseen. A
    //  plaintext socket that connects is watched too: a server that wants
    //  CURVE is then named as the reason nothing comes.
    if (role != OVH_BUSKEYS_PLAINTEXT || ovh_buskeys_binds (endpoints, bind_by_default) == 0)
        *monitor = ovh_busmonitor_new (socket, what, role == OVH_BUSKEYS_SERVER);
    if (zsock_attach (socket, endpoints, bind_by_default)) {
        fprintf (stderr, "%s: cannot open %s '%s': %s\n", name, what, endpoints,
                 zmq_strerror (zmq_errno ()));
        ovh_busmonitor_destroy (monitor);
        return -1;
    }
    return 0;
}
