/*  ovh_busauth.c - the process's ZAP handler (ovh_busauth.h).

    Requests come from libzmq on inproc://zeromq.zap.01 (RFC 27): version,
    request id, domain, address, routing id, mechanism, credentials. The
    reply: version, request id, status code, status text, user id (the
    client's Z85 key), metadata (the certificate's, as ZMTP properties).  */

#include <czmq.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include "ovh_log.h"
#include "ovh_busauth.h"
#include "ovh_ratelog.h"

#define ZAP_ENDPOINT    "inproc://zeromq.zap.01"
#define METADATA_MAX    1024        //  bytes of properties in one reply
#define LOG_INTERVAL    10000       //  ms between two lines of one kind

enum { KIND_REFUSED, KIND_DOMAIN, KIND_COUNT };

struct _ovh_busauth_t {
    zactor_t *actor;
    atomic_uint_least64_t allowed;
    atomic_uint_least64_t refused;
};

typedef struct {
    ovh_busauth_t *owner;
    zsock_t *pipe;
    zsock_t *handler;               //  REP, bound to ZAP_ENDPOINT
    zhash_t *stores;                //  domain -> zcertstore_t
    zhash_t *folders;               //  domain -> folder, for log lines
    ovh_ratelog_t *ratelog;
} s_handler_t;

//  Append one ZMTP property (name length, name, value length, value);
//  returns the new end, or NULL when it does not fit
static uint8_t *
s_property (uint8_t *cursor, const uint8_t *end, const char *name, const char *value)
{
    size_t name_size = strlen (name), value_size = strlen (value);
    if (name_size > 255 || (size_t) (end - cursor) < 1 + name_size + 4 + value_size)
        return NULL;
    *cursor++ = (uint8_t) name_size;
    memcpy (cursor, name, name_size);
    cursor += name_size;
    for (int shift = 24; shift >= 0; shift -= 8)
        *cursor++ = (uint8_t) (value_size >> shift);
    memcpy (cursor, value, value_size);
    return cursor + value_size;
}

//  The certificate's metadata as ZMTP properties; returns their size
static size_t
s_metadata (zcert_t *cert, uint8_t *buffer, size_t size)
{
    uint8_t *cursor = buffer;
    zlist_t *keys = zcert_meta_keys (cert);
    for (const char *key = keys? (const char *) zlist_first (keys): NULL; key;
         key = (const char *) zlist_next (keys)) {
        const char *value = zcert_meta (cert, key);
        uint8_t *next = value? s_property (cursor, buffer + size, key, value): NULL;
        if (next)
            cursor = next;      //  one that does not fit is left out
    }
    zlist_destroy (&keys);
    return (size_t) (cursor - buffer);
}

//  Look the client's key up; fills 'key' (Z85) and the metadata
static bool
s_check (s_handler_t *self, const char *domain, const char *address, const char *mechanism,
         zframe_t *credentials, char *key, uint8_t *metadata, size_t *metadata_size)
{
    strcpy (key, "-");
    if (!streq (mechanism, "CURVE") || !credentials || zframe_size (credentials) != 32) {
        ovh_ratelog_warn (self->ratelog, KIND_DOMAIN, "bus: refused a %s handshake from %s "
                          "(domain '%s'): CURVE only", mechanism, address, domain);
        return false;
    }
    zmq_z85_encode (key, zframe_data (credentials), 32);
    zcertstore_t *store = (zcertstore_t *) zhash_lookup (self->stores, domain);
    if (!store) {
        ovh_ratelog_warn (self->ratelog, KIND_DOMAIN, "bus: refused key %s from %s: no "
                          "allowed keys for domain '%s'", key, address, domain);
        return false;
    }
    zcert_t *cert = zcertstore_lookup (store, key);
    if (!cert) {
        ovh_ratelog_warn (self->ratelog, KIND_REFUSED, "bus: refused key %s from %s: not in "
                          "%s", key, address, (const char *) zhash_lookup (self->folders, domain));
        return false;
    }
    *metadata_size = s_metadata (cert, metadata, METADATA_MAX);
    return true;
}

//  One request, one reply. A malformed request (never from libzmq) gets
//  no reply: the REP socket then needs one anyway, so it gets a 400.
static void
s_answer (s_handler_t *self)
{
    zmsg_t *request = zmsg_recv (self->handler);
    if (!request)
        return;
    char *version = zmsg_popstr (request);
    char *sequence = zmsg_popstr (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    char *identity = zmsg_popstr (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *credentials = zmsg_pop (request);
    char key [41];
    uint8_t metadata [METADATA_MAX];
    size_t metadata_size = 0;
    bool allowed = version && streq (version, "1.0") && domain && address && mechanism
                && s_check (self, domain, address, mechanism, credentials, key,
                            metadata, &metadata_size);
    atomic_fetch_add (allowed? &self->owner->allowed: &self->owner->refused, 1);
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, sequence? sequence: "");
    zmsg_addstr (reply, allowed? "200": "400");
    zmsg_addstr (reply, allowed? "OK": "key not allowed");
    zmsg_addstr (reply, allowed? key: "");
    zmsg_addmem (reply, metadata, metadata_size);
    zmsg_send (&reply, self->handler);
    zframe_destroy (&credentials);
    zstr_free (&version);
    zstr_free (&sequence);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&identity);
    zstr_free (&mechanism);
    zmsg_destroy (&request);
}

//  Public certificates in 'folder' now; warns about secret ones
static int
s_count (const char *folder)
{
    zdir_t *dir = zdir_new (folder, NULL);
    if (!dir)
        return -1;
    zfile_t **files = zdir_flatten (dir);
    int count = 0;
    for (size_t index = 0; files && files [index]; index++) {
        const char *name = zfile_filename (files [index], NULL);
        size_t size = strlen (name);
        if (size > 7 && streq (name + size - 7, "_secret"))
            ovh_log_warning ("bus: %s is a secret certificate in the allowed keys' folder: "
                             "it is ignored, and does not belong there", name);
        else
            count++;
    }
    zdir_flatten_free (&files);
    zdir_destroy (&dir);
    return count;
}

static void
s_store_free (void *item)
{
    zcertstore_t *store = (zcertstore_t *) item;
    zcertstore_destroy (&store);
}

//  ALLOW domain folder: replies the count, or -1 and the reason
static void
s_allow (s_handler_t *self, zmsg_t *command)
{
    char *domain = zmsg_popstr (command);
    char *folder = zmsg_popstr (command);
    struct stat info;
    int count = -1;
    const char *reason = NULL;
    if (!domain || !folder)
        reason = "bad command";
    else
    if (stat (folder, &info))
        reason = strerror (errno);
    else
    if (!S_ISDIR (info.st_mode))
        reason = "not a folder";
    else
    if ((count = s_count (folder)) < 0)
        reason = "cannot be read";
    else {
        zcertstore_t *store = zcertstore_new (folder);
        zhash_update (self->stores, domain, store);
        zhash_freefn (self->stores, domain, s_store_free);
        zhash_update (self->folders, domain, folder);
    }
    zsock_send (self->pipe, "is", reason? -1: count, reason? reason: "");
    zstr_free (&domain);
    zstr_free (&folder);
}

static void
s_actor (zsock_t *pipe, void *args)
{
    s_handler_t self = { .owner = (ovh_busauth_t *) args, .pipe = pipe };
    self.handler = zsock_new (ZMQ_REP);
    self.stores = zhash_new ();
    self.folders = zhash_new ();
    self.ratelog = ovh_ratelog_new (KIND_COUNT, LOG_INTERVAL);
    bool ready = self.handler && self.stores && self.folders && self.ratelog
              && zsock_bind (self.handler, ZAP_ENDPOINT) == 0;
    if (self.folders)
        zhash_autofree (self.folders);
    zsock_signal (pipe, 0);             //  zactor_new waits for it
    zsock_send (pipe, "i", ready? 0: -1);
    zpoller_t *poller = ready? zpoller_new (pipe, self.handler, NULL): NULL;
    //  Answer until destroyed, through SIGINT/SIGTERM too: a handler gone
    //  at the signal would leave handshakes during the drain unanswered
    if (poller)
        zpoller_set_nonstop (poller, true);
    while (poller) {
        void *which = zpoller_wait (poller, -1);
        if (which == self.handler)
            s_answer (&self);
        else
        if (which == pipe) {
            zmsg_t *command = zmsg_recv (pipe);
            char *name = command? zmsg_popstr (command): NULL;
            bool stop = !name || streq (name, "$TERM");
            if (name && streq (name, "ALLOW"))
                s_allow (&self, command);
            zstr_free (&name);
            zmsg_destroy (&command);
            if (stop)
                break;
        }
        else
        if (zpoller_terminated (poller))
            break;
    }
    zpoller_destroy (&poller);
    ovh_ratelog_destroy (&self.ratelog);
    zhash_destroy (&self.folders);
    zhash_destroy (&self.stores);
    //  Closing frees the inproc endpoint only when libzmq's reaper gets to
    //  the socket, later: unbinding frees it now, so that a handler
    //  started right after this one is destroyed can bind
    if (ready)
        zsock_unbind (self.handler, ZAP_ENDPOINT);
    zsock_destroy (&self.handler);
}

ovh_busauth_t *
ovh_busauth_new (void)
{
    ovh_busauth_t *self = (ovh_busauth_t *) zmalloc (sizeof (ovh_busauth_t));
    if (!self)
        return NULL;
    atomic_init (&self->allowed, 0);
    atomic_init (&self->refused, 0);
    self->actor = zactor_new (s_actor, self);
    int status = -1;
    if (!self->actor || zsock_recv (self->actor, "i", &status) || status) {
        ovh_log_error ("bus: cannot start the key checks (another ZAP handler in this process?)");
        zactor_destroy (&self->actor);
        free (self);
        return NULL;
    }
    return self;
}

void
ovh_busauth_destroy (ovh_busauth_t **self_p)
{
    assert (self_p);
    ovh_busauth_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor);
    free (self);
    *self_p = NULL;
}

int
ovh_busauth_allow (ovh_busauth_t *self, const char *domain, const char *folder,
                   char *error, size_t error_size)
{
    assert (self);
    assert (domain && folder);
    if (zstr_sendx (self->actor, "ALLOW", domain, folder, NULL))
        return -1;
    int count = -1;
    char *reason = NULL;
    if (zsock_recv (self->actor, "is", &count, &reason))
        count = -1;
    if (count < 0)
        snprintf (error, error_size, "bus allowed keys '%s': %s", folder,
                  reason? reason: "no answer");
    zstr_free (&reason);
    return count;
}

uint64_t
ovh_busauth_allowed (ovh_busauth_t *self)
{
    assert (self);
    return atomic_load (&self->allowed);
}

uint64_t
ovh_busauth_refused (ovh_busauth_t *self)
{
    assert (self);
    return atomic_load (&self->refused);
}
