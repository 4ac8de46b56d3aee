/*  ovh_buskeys.c - CurveZMQ certificates for the bus (ovh_buskeys.h).     */

#include <czmq.h>
#include <sys/stat.h>
#include "ovh_buskeys.h"

#define CERT_MAX    (64 * 1024)     //  bytes; CZMQ writes about 400

struct _ovh_buskeys_t {
    zcert_t *cert;              //  this program's, with its secret key
    char server [41];           //  the server's public key, Z85, or ""
};

//  The Z85 key at 'path' in a certificate; false if absent or malformed
static bool
s_key (zconfig_t *root, const char *path, char *key)
{
    const char *text = zconfig_get (root, path, NULL);
    uint8_t bytes [32];
    if (!text || strlen (text) != 40 || !zmq_z85_decode (bytes, text))
        return false;
    memcpy (key, text, 41);
    return true;
}

//  Read a certificate file: 'public_key' always, 'secret_key' when not
//  NULL. Returns 0, or -1 with 'error' filled.
static int
s_load (const char *what, const char *path, char *public_key, char *secret_key,
        char *error, size_t error_size)
{
    struct stat info;
    if (stat (path, &info)) {
        snprintf (error, error_size, "%s '%s': %s", what, path, strerror (errno));
        return -1;
    }
    if (!S_ISREG (info.st_mode)) {
        snprintf (error, error_size, "%s '%s': not a regular file", what, path);
        return -1;
    }
    //  Read here, not with zconfig_load: it leaks on a file that does not
    //  parse (CZMQ 4.2.1), and a certificate is small
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (error, error_size, "%s '%s': %s", what, path, strerror (errno));
        return -1;
    }
    char text [CERT_MAX + 1];
    size_t size = fread (text, 1, sizeof text, file);
    bool failed = ferror (file);
    fclose (file);
    if (failed || size > CERT_MAX) {
        snprintf (error, error_size, "%s '%s': %s", what, path,
                  failed? "cannot be read": "too large for a certificate");
        return -1;
    }
    text [size] = 0;
    zconfig_t *root = zconfig_str_load (text);
    int rc = -1;
    if (!root || !s_key (root, "/curve/public-key", public_key))
        snprintf (error, error_size, "%s '%s': not a CurveZMQ certificate (no valid "
                  "curve public-key; ovhook-keygen writes them)", what, path);
    else
    if (secret_key && !s_key (root, "/curve/secret-key", secret_key))
        snprintf (error, error_size, "%s '%s': no curve secret-key in it (give the "
                  "NAME_secret file, not the public NAME)", what, path);
    else
    //  Like ssh with a private key: a secret others can read is no secret
    if (secret_key && (info.st_mode & (S_IROTH | S_IWOTH)))
        snprintf (error, error_size, "%s '%s': readable or writable by others (mode %04o); "
                  "make it 0600", what, path, (unsigned) (info.st_mode & 07777));
    else
        rc = 0;
    zconfig_destroy (&root);
    return rc;
}

ovh_buskeys_t *
ovh_buskeys_new (const char *key_path, const char *server_key_path,
                 char *error, size_t error_size)
{
    assert (key_path);
    char public_key [41], secret_key [41];
    if (s_load ("bus key", key_path, public_key, secret_key, error, error_size))
        return NULL;
    ovh_buskeys_t *self = (ovh_buskeys_t *) zmalloc (sizeof (ovh_buskeys_t));
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    if (server_key_path
    &&  s_load ("bus server key", server_key_path, self->server, NULL, error, error_size)) {
        free (self);
        return NULL;
    }
    uint8_t public_bytes [32], secret_bytes [32];
    zmq_z85_decode (public_bytes, public_key);
    zmq_z85_decode (secret_bytes, secret_key);
    self->cert = zcert_new_from (public_bytes, secret_bytes);
    memset (secret_bytes, 0, sizeof secret_bytes);
    memset (secret_key, 0, sizeof secret_key);
    if (!self->cert) {
        snprintf (error, error_size, "out of memory");
        free (self);
        return NULL;
    }
    return self;
}

void
ovh_buskeys_destroy (ovh_buskeys_t **self_p)
{
    assert (self_p);
    ovh_buskeys_t *self = *self_p;
    if (!self)
        return;
    zcert_destroy (&self->cert);
    free (self);
    *self_p = NULL;
}

const char *
ovh_buskeys_public (ovh_buskeys_t *self)
{
    assert (self);
    return zcert_public_txt (self->cert);
}

bool
ovh_buskeys_has_server (ovh_buskeys_t *self)
{
    assert (self);
    return self->server [0] != 0;
}

void
ovh_buskeys_apply_server (ovh_buskeys_t *self, zsock_t *socket, const char *domain)
{
    assert (self);
    assert (socket);
    zcert_apply (self->cert, socket);
    zsock_set_curve_server (socket, 1);
    zsock_set_zap_domain (socket, domain);
}

int
ovh_buskeys_apply_client (ovh_buskeys_t *self, zsock_t *socket)
{
    assert (self);
    assert (socket);
    if (!self->server [0])
        return -1;
    zcert_apply (self->cert, socket);
    zsock_set_curve_serverkey (socket, self->server);
    return 0;
}

//  Calls 'fn' with each endpoint of a CZMQ list and whether it binds;
//  stops at the first that returns false
static void
s_each (const char *endpoints, bool bind_by_default,
        bool (*fn) (const char *endpoint, size_t size, bool binds, void *arg), void *arg)
{
    const char *cursor = endpoints;
    while (cursor && *cursor) {
        const char *comma = strchr (cursor, ',');
        size_t size = comma? (size_t) (comma - cursor): strlen (cursor);
        bool binds = bind_by_default;
        if (size && (*cursor == '@' || *cursor == '>')) {
            binds = *cursor == '@';
            cursor++;
            size--;
        }
        if (size && !fn (cursor, size, binds, arg))
            return;
        cursor = comma? comma + 1: NULL;
    }
}

typedef struct {
    int binding, connecting;
    bool exposed;
} s_tally_t;

static bool
s_tally (const char *endpoint, size_t size, bool binds, void *arg)
{
    (void) endpoint;
    (void) size;
    s_tally_t *tally = (s_tally_t *) arg;
    if (binds)
        tally->binding++;
    else
        tally->connecting++;
    return true;
}

int
ovh_buskeys_binds (const char *endpoints, bool bind_by_default)
{
    s_tally_t tally = { 0 };
    s_each (endpoints, bind_by_default, s_tally, &tally);
    if (tally.binding && tally.connecting)
        return -1;
    return tally.binding? 1: 0;
}

//  A bound tcp endpoint on another address than loopback
static bool
s_exposed (const char *endpoint, size_t size, bool binds, void *arg)
{
    s_tally_t *tally = (s_tally_t *) arg;
    if (!binds || size < 6 || memcmp (endpoint, "tcp://", 6) != 0)
        return true;            //  ipc, inproc: not on the network
    const char *host = endpoint + 6;
    const char *end = endpoint + size;
    const char *colon = NULL;
    for (const char *cursor = host; cursor < end; cursor++)
        if (*cursor == ':')
            colon = cursor;     //  the last one: IPv6 addresses hold colons
    size_t host_size = colon? (size_t) (colon - host): (size_t) (end - host);
    static const char *loopback [] = { "localhost", "[::1]", "::1" };
    bool is_loopback = host_size >= 4 && memcmp (host, "127.", 4) == 0;
    for (size_t index = 0; index < 3 && !is_loopback; index++)
        is_loopback = strlen (loopback [index]) == host_size
                   && memcmp (host, loopback [index], host_size) == 0;
    if (!is_loopback)
        tally->exposed = true;
    return !tally->exposed;
}

bool
ovh_buskeys_exposed (const char *endpoints, bool bind_by_default)
{
    s_tally_t tally = { 0 };
    s_each (endpoints, bind_by_default, s_exposed, &tally);
    return tally.exposed;
}

bool
ovh_buskeys_owns (const char *prefix, const char *src, size_t src_size)
{
    if (!prefix || !*prefix)
        return false;
    if (streq (prefix, "*"))
        return true;
    size_t size = strlen (prefix);
    return src && src_size >= size && memcmp (src, prefix, size) == 0;
}

int
ovh_buskeys_role (const char *what, const char *endpoints, bool bind_by_default,
                  const char *key, const char *server_key, const char *allow,
                  char *error, size_t error_size)
{
    assert (what);
    //  A companion without the key would leave the bus in plaintext while
    //  the person who set it believes it is encrypted
    if (!key && (server_key || allow)) {
        snprintf (error, error_size, "%s needs --bus-key (this program's secret certificate)",
                  server_key? "--bus-server-key": "--bus-allow");
        return -1;
    }
    if (!key)
        return OVH_BUSKEYS_PLAINTEXT;
    int binds = ovh_buskeys_binds (endpoints, bind_by_default);
    if (binds == -1) {
        snprintf (error, error_size, "the %s endpoints '%s' both bind and connect: with "
                  "--bus-key (CURVE) a socket is either the server or a client; use one "
                  "kind of endpoint", what, endpoints);
        return -1;
    }
    if (binds == 0 && !server_key) {
        snprintf (error, error_size, "the %s connects ('%s'): with --bus-key it needs "
                  "--bus-server-key, the public certificate of the server it connects to",
                  what, endpoints);
        return -1;
    }
    if (binds == 1 && !allow) {
        snprintf (error, error_size, "the %s binds ('%s'): with --bus-key it needs "
                  "--bus-allow, a folder of the public certificates allowed to connect",
                  what, endpoints);
        return -1;
    }
    return binds? OVH_BUSKEYS_SERVER: OVH_BUSKEYS_CLIENT;
}
