/*  ovh_ha.c - the pair's link and state machine, as an actor.             */

#include <pthread.h>
#include <stdatomic.h>
#include "ovh_log.h"
#include "ovh_ha.h"
#include "ovh_hafsm.h"
#include "ovh_done.h"

//  Finished events are sent this often
#define FLUSH_MS        20
//  Finished events waiting for the next flush, at most: beyond, one is not
//  told, and the standby would deliver it again on takeover (with the
//  same id). Only reached if the actor could not run for seconds.
#define PENDING_MAX     (1 << 20)
//  The ZAP domain of the link's PUB (the bus's is "bus")
#define ZAP_DOMAIN      "ha"

struct _ovh_ha_t {
    ovh_config_t *config;
    zactor_t *actor;
    zsock_t *pub, *sub;             //  the actor's, once started
    ovh_busauth_t *own_busauth;     //  with CURVE, when the bus has no ZAP handler
    //  Finished events, from the dispatcher's thread to the actor's
    pthread_mutex_t lock;
    ovh_done_t *pending;
    uint64_t unsent;                //  events not told (past PENDING_MAX)
    //  What the link carried of them (the actor's): logged at the end
    uint64_t told, told_messages, told_bytes;
    atomic_uint_least64_t arrived;  //  events accepted, ever
    atomic_int role, peer_up;       //  for the metrics
    atomic_size_t held;             //  by the standby, now
    //  Set by the actor as it ends: what destroy reads it through is the
    //  join ThreadSanitizer can see (the pipe's signal goes through libzmq)
    atomic_bool finished;
};

void
ovh_ha_arrived (ovh_ha_t *self)
{
    atomic_fetch_add_explicit (&self->arrived, 1, memory_order_relaxed);
}

void
ovh_ha_set_held (ovh_ha_t *self, size_t held)
{
    atomic_store_explicit (&self->held, held, memory_order_relaxed);
}

void
ovh_ha_finished (void *arg, const ovh_item_t *item)
{
    ovh_ha_t *self = (ovh_ha_t *) arg;
    pthread_mutex_lock (&self->lock);
    if (ovh_done_add (self->pending, item))
        self->unsent++;
    pthread_mutex_unlock (&self->lock);
}

int
ovh_ha_role (ovh_ha_t *self)
{
    return atomic_load_explicit (&self->role, memory_order_relaxed);
}

int
ovh_ha_peer_up (ovh_ha_t *self)
{
    return atomic_load_explicit (&self->peer_up, memory_order_relaxed);
}

size_t
ovh_ha_held (ovh_ha_t *self)
{
    return atomic_load_explicit (&self->held, memory_order_relaxed);
}

zactor_t *
ovh_ha_actor (ovh_ha_t *self)
{
    return self->actor;
}

//  ---------------------------------------------------------------------
//  The actor

typedef struct {
    ovh_ha_t *ha;
    zsock_t *pipe;
    ovh_hafsm_t fsm;
    bool active;                    //  what the main thread was last told
    bool peer_up;
    bool heard;                     //  the peer, ever
    uint64_t arrived;               //  at the last look
    int heartbeat;
    int64_t next_heartbeat, next_flush;
    uint64_t unsent_said;
    const char *refused;            //  the last refusal logged, until a change
} s_actor_t;

//  Send the finished events gathered since the last flush: one message
static void
s_flush (s_actor_t *self)
{
    ovh_ha_t *ha = self->ha;
    zmsg_t *msg = zmsg_new ();
    if (!msg || zmsg_addstr (msg, "DONE")) {
        zmsg_destroy (&msg);
        return;                 //  told at the next flush
    }
    pthread_mutex_lock (&ha->lock);
    size_t events = ovh_done_events (ha->pending);
    int rc = events? ovh_done_take (ha->pending, msg): 0;
    uint64_t unsent = ha->unsent += rc? events: 0;
    pthread_mutex_unlock (&ha->lock);
    if (events && rc == 0) {
        ha->told += events;
        ha->told_messages++;
        ha->told_bytes += zmsg_content_size (msg);
        zmsg_send (&msg, ha->pub);
    }
    zmsg_destroy (&msg);
    if (unsent > self->unsent_said) {
        ovh_log_warning ("ha: %" PRIu64 " finished events could not be told to the peer in "
                         "time: it would deliver them again on takeover (same ids)",
                         unsent - self->unsent_said);
        self->unsent_said = unsent;
    }
}

static void
s_heartbeat (s_actor_t *self)
{
    char state [2] = { (char) ('0' + self->fsm.state), 0 };
    zsock_send (self->ha->pub, "ss", "STATE", state);
}

//  Tell the main thread when the role changes, with a log line
static void
s_apply (s_actor_t *self, ovh_hafsm_result_t result, const char *why)
{
    ovh_ha_state_t state = self->fsm.state;
    if (result == OVH_HAFSM_CHANGED)
        ovh_log_info ("ha: %s (%s), now %s", why, self->ha->config->ha,
                      ovh_hafsm_state_name (state));
    else
    if (result == OVH_HAFSM_REFUSED && *why && why != self->refused)
        //  Once per reason in a row: demand comes every 20 ms
        ovh_log_warning ("ha: %s", why);
    if (result != OVH_HAFSM_SAME)
        self->refused = result == OVH_HAFSM_REFUSED? why: NULL;
    bool active = state == OVH_HA_ACTIVE;
    if (active != self->active) {
        self->active = active;
        atomic_store_explicit (&self->ha->role, active, memory_order_relaxed);
        zstr_send (self->pipe, active? "ACTIVE": "STANDBY");
        //  The peer learns at once, not at the next beat
        s_heartbeat (self);
    }
}

static void
s_peer_message (s_actor_t *self)
{
    zmsg_t *msg = zmsg_recv (self->ha->sub);
    if (!msg)
        return;
    char *kind = zmsg_popstr (msg);
    int64_t now = zclock_mono ();
    if (kind && streq (kind, "STATE")) {
        char *state = zmsg_popstr (msg);
        int peer = state? atoi (state): 0;
        if (peer >= OVH_HA_PRIMARY && peer <= OVH_HA_PASSIVE) {
            ovh_hafsm_heard (&self->fsm, now);
            self->heard = true;
            const char *why;
            //  Peer states and events share their numbers (ovh_hafsm.h)
            ovh_hafsm_result_t result = ovh_hafsm_step (&self->fsm, (ovh_ha_event_t) peer,
                                                        now, &why);
            s_apply (self, result, why);
        }
        zstr_free (&state);
    }
    else
    if (kind && streq (kind, "DONE") && !self->active) {
        //  Forwarded as is: the main thread owns the hold
        zmsg_pushstr (msg, "DONE");
        zmsg_send (&msg, self->pipe);
    }
    zstr_free (&kind);
    zmsg_destroy (&msg);
}

//  At every turn of the loop (20 ms at most): the peer's health, and
//  whether events came in since the last look (Binary Star's client
//  request: what lets a standby take over). Looking this often makes the
//  takeover come at most 20 ms after the timeout.
static void
s_check (s_actor_t *self, int64_t now)
{
    bool up = self->heard && now < self->fsm.peer_expiry;
    if (up != self->peer_up) {
        self->peer_up = up;
        atomic_store_explicit (&self->ha->peer_up, up, memory_order_relaxed);
        if (up)
            ovh_log_info ("ha: peer up (%s)", self->ha->config->ha_peer);
        else
            ovh_log_warning ("ha: peer down: nothing heard from %s for %d ms",
                             self->ha->config->ha_peer, self->ha->config->ha_timeout_ms);
    }
    uint64_t arrived = atomic_load_explicit (&self->ha->arrived, memory_order_relaxed);
    size_t held = atomic_load_explicit (&self->ha->held, memory_order_relaxed);
    if (arrived != self->arrived || held) {
        self->arrived = arrived;
        const char *why;
        ovh_hafsm_result_t result = ovh_hafsm_step (&self->fsm, OVH_HA_DEMAND, now, &why);
        s_apply (self, result, why);
    }
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    ovh_ha_t *ha = (ovh_ha_t *) arg;
    s_actor_t self = { .ha = ha, .pipe = pipe };
    int timeout = ha->config->ha_timeout_ms;
    self.heartbeat = timeout / 4 > 10? timeout / 4: 10;
    int64_t now = zclock_mono ();
    ovh_hafsm_init (&self.fsm, streq (ha->config->ha, "primary"), timeout, now);
    self.next_heartbeat = now;
    self.next_flush = now + FLUSH_MS;
    zsock_signal (pipe, 0);
    ovh_log_info ("ha: %s of a pair, hearing the peer at %s, heard at %s, timeout %d ms",
                  ha->config->ha, ha->config->ha_peer, ha->config->ha_bind, timeout);
    zpoller_t *poller = zpoller_new (pipe, ha->sub, NULL);
    //  Through SIGINT/SIGTERM until destroyed, which the bridge does after
    //  its drain: the active goes on heartbeating and telling what it
    //  finished while it drains, so the standby takes over after it ended
    //  and sends none of that again (docs/ha.md)
    if (poller)
        zpoller_set_nonstop (poller, true);
    while (poller) {
        now = zclock_mono ();
        int64_t next = self.next_flush < self.next_heartbeat? self.next_flush
                                                            : self.next_heartbeat;
        void *which = zpoller_wait (poller, next > now? (int) (next - now): 0);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (term)
                break;
        }
        else
        if (which == ha->sub)
            s_peer_message (&self);
        else
        if (zpoller_terminated (poller))
            break;
        now = zclock_mono ();
        if (now >= self.next_flush) {
            s_flush (&self);
            self.next_flush = now + FLUSH_MS;
        }
        if (now >= self.next_heartbeat) {
            s_heartbeat (&self);
            self.next_heartbeat = now + self.heartbeat;
        }
        s_check (&self, now);
    }
    //  What was finished last goes out before we do: fewer duplicates
    s_flush (&self);
    if (ha->told)
        ovh_log_info ("ha: told the peer of %" PRIu64 " finished events in %" PRIu64
                      " messages, %" PRIu64 " bytes (%.1f bytes per event)", ha->told,
                      ha->told_messages, ha->told_bytes, (double) ha->told_bytes / ha->told);
    zpoller_destroy (&poller);
    atomic_store_explicit (&ha->finished, true, memory_order_release);
}

//  ---------------------------------------------------------------------

//  CURVE on both sockets, before they attach. 0, or -1 (logged).
static int
s_secure (ovh_ha_t *self, ovh_busauth_t *busauth)
{
    ovh_config_t *config = self->config;
    if (!busauth)
        busauth = self->own_busauth = ovh_busauth_new ();
    if (!busauth)
        return -1;
    char error [256];
    int count = ovh_busauth_allow (busauth, ZAP_DOMAIN, config->ha_keys, error, sizeof error);
    if (count < 1) {
        ovh_log_error ("ha: cannot let the peer in: %s", count? error: "no key in --ha-keys");
        return -1;
    }
    ovh_buskeys_apply_server (config->ha_link_keys, self->pub, ZAP_DOMAIN);
    if (ovh_buskeys_apply_client (config->ha_link_keys, self->sub))
        return -1;
    ovh_log_info ("ha: CURVE on the link, public key %s; the peer's key from %s",
                  ovh_buskeys_public (config->ha_link_keys), config->ha_keys);
    return 0;
}

ovh_ha_t *
ovh_ha_new (ovh_config_t *config, ovh_busauth_t *busauth)
{
    assert (config && config->ha && config->ha_bind && config->ha_peer);
    ovh_ha_t *self = (ovh_ha_t *) zmalloc (sizeof (ovh_ha_t));
    if (!self)
        return NULL;
    self->config = config;
    pthread_mutex_init (&self->lock, NULL);
    self->pending = ovh_done_new (PENDING_MAX);
    self->pub = zsock_new (ZMQ_PUB);
    self->sub = zsock_new (ZMQ_SUB);
    if (!self->pending || !self->pub || !self->sub) {
        ovh_ha_destroy (&self);
        return NULL;
    }
    //  Heartbeats and ids are small; a standby that stopped reading loses
    //  the oldest, never blocks the active
    zsock_set_sndhwm (self->pub, 100000);
    zsock_set_rcvhwm (self->sub, 100000);
    zsock_set_subscribe (self->sub, "");
    //  Notice a vanished peer's connection, as the bus does (ovh_bus.h)
    zsock_set_heartbeat_ivl (self->sub, 1000);
    zsock_set_heartbeat_timeout (self->sub, 3000);
    if (config->ha_link_keys && s_secure (self, busauth)) {
        ovh_ha_destroy (&self);
        return NULL;
    }
    if (zsock_attach (self->pub, config->ha_bind, true)) {
        ovh_log_error ("ha: cannot bind --ha-bind '%s': %s", config->ha_bind,
                       zmq_strerror (zmq_errno ()));
        ovh_ha_destroy (&self);
        return NULL;
    }
    if (zsock_attach (self->sub, config->ha_peer, false)) {
        ovh_log_error ("ha: cannot connect --ha-peer '%s': %s", config->ha_peer,
                       zmq_strerror (zmq_errno ()));
        ovh_ha_destroy (&self);
        return NULL;
    }
    self->actor = zactor_new (s_actor, self);
    if (!self->actor)
        ovh_ha_destroy (&self);
    return self;
}

void
ovh_ha_destroy (ovh_ha_t **self_p)
{
    assert (self_p);
    ovh_ha_t *self = *self_p;
    if (!self)
        return;
    if (self->actor) {
        zactor_destroy (&self->actor);
        //  zactor_destroy waited for the actor's last signal, sent after
        //  it ended: the flag is set, and reading it orders the actor's
        //  last use of the lock and sockets before their destruction
        for (int waited = 0; waited < 5000; waited++) {
            if (atomic_load_explicit (&self->finished, memory_order_acquire))
                break;
            zclock_sleep (1);
        }
    }
    zsock_destroy (&self->pub);
    zsock_destroy (&self->sub);
    ovh_busauth_destroy (&self->own_busauth);
    pthread_mutex_destroy (&self->lock);
    ovh_done_destroy (&self->pending);
    free (self);
    *self_p = NULL;
}
