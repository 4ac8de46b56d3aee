/*  ovh_intake.c - the bridge's side of the bus.                            */

#include "ovh_log.h"
#include "ovh_intake.h"
#include "ovh_busauth.h"
#include "ovh_busmonitor.h"
#include "ovh_ratelog.h"
#include "ovh_shard.h"

#define MAX_FRAMES      3
#define SUB_RCVHWM      5000       //  cap: small frames (ovh_bus.h sizes it)
#define MAX_SOURCES     65536
#define ZAP_DOMAIN      "bus"       //  the ZAP domain of the bridge's SUB
//  With redundant paths, how often the holes no path filled are counted
//  as lost: a hole gets one to two intervals for the slower path
#define SETTLE_INTERVAL 1000

struct _ovh_intake_t {
    ovh_config_t *config;
    zsock_t *sub;
    ovh_translator_t *translator;
    ovh_ratelog_t *ratelog;
    ovh_ratelog_t *seqlog;          //  gaps and seq going back, limited too
    ovh_seqtrack_t *seqtrack;
    ovh_busauth_t *busauth;         //  binding with CURVE: the key checks
    ovh_busmonitor_t *monitor;      //  with CURVE: the handshakes
    bool binds;                     //  with CURVE: the bus binds
    size_t paths;                   //  endpoints in config->bus
    int64_t settled;                //  zclock_mono of the last settle
    zmq_msg_t frames [MAX_FRAMES];
    //  Written by the intake's thread only, read by anyone (the metrics
    //  are scraped on another thread): relaxed atomics, bumped without a
    //  locked instruction (s_bump)
    atomic_uint_least64_t received_for [OVH_INTAKE_TYPES];
    atomic_uint_least64_t dropped_for [OVH_DROP_REASONS];
    atomic_uint_least64_t lost;     //  the seq tracker's count, where others may read it
};

//  One more, by the only thread that writes the counter: a plain load
//  and store, still a data race for no reader
static inline void
s_bump (atomic_uint_least64_t *counter)
{
    atomic_store_explicit (counter, atomic_load_explicit (counter, memory_order_relaxed) + 1,
                           memory_order_relaxed);
}

const char *
ovh_intake_reason_name (int reason)
{
    if (reason == OVH_DROP_DISABLED)
        return "disabled-topic";
    if (reason == OVH_DROP_MEMORY)
        return "out-of-memory";
    if (reason == OVH_DROP_SRC)
        return "src-not-allowed";
    if (reason == OVH_DROP_DUPLICATE)
        return "duplicate";
    if (reason == OVH_DROP_TOO_OLD)
        return "too-old";
    if (reason == OVH_DROP_SHARD)
        return "other-shard";
    return ovh_code_name ((ovh_code_t) reason);
}

//  CURVE on the SUB socket, before it attaches: a binding bus checks every
//  handshake against --bus-allow (one ZAP handler in the process), a
//  connecting one trusts the server's key. The monitor tells why a peer
//  cannot get in, on either side. 0, or -1 (logged).
static int
s_secure (ovh_intake_t *self)
{
    ovh_config_t *config = self->config;
    self->binds = ovh_buskeys_binds (config->bus, false) == 1;
    if (self->binds) {
        self->busauth = ovh_busauth_new ();
        if (!self->busauth)
            return -1;
        char error [256];
        int count = ovh_busauth_allow (self->busauth, ZAP_DOMAIN, config->bus_allow,
                                       error, sizeof error);
        if (count < 0) {
            ovh_log_error ("bus: cannot read the allowed keys in %s: %s", config->bus_allow, error);
            return -1;
        }
        ovh_buskeys_apply_server (config->bus_keys, self->sub, ZAP_DOMAIN);
        ovh_log_info ("bus: CURVE on, public key %s; %d allowed key%s in %s (read again when "
                      "it changes)", ovh_buskeys_public (config->bus_keys), count,
                      count == 1? "": "s", config->bus_allow);
        if (count == 0)
            ovh_log_warning ("bus: no public certificate in %s yet: no publisher can get in",
                             config->bus_allow);
    }
    else {
        if (ovh_buskeys_apply_client (config->bus_keys, self->sub))
            return -1;          //  the configuration makes sure of the server key
        ovh_log_info ("bus: CURVE on, public key %s, trusting the server's key in %s",
                      ovh_buskeys_public (config->bus_keys), config->bus_server_key);
    }
    self->monitor = ovh_busmonitor_new (self->sub, "bus", self->binds);
    return self->monitor? 0: -1;
}

//  The endpoints in a CZMQ list: each one is a path to the publishers
static size_t
s_count_paths (const char *endpoints)
{
    size_t paths = 1;
    for (const char *comma = strchr (endpoints, ','); comma; comma = strchr (comma + 1, ','))
        paths++;
    return paths;
}

ovh_intake_t *
ovh_intake_new (ovh_config_t *config)
{
    assert (config);
    ovh_intake_t *self = (ovh_intake_t *) zmalloc (sizeof (ovh_intake_t));
    if (!self)
        return NULL;
    self->config = config;
    for (int index = 0; index < MAX_FRAMES; index++)
        zmq_msg_init (&self->frames [index]);
    self->translator = ovh_translator_new ();
    self->ratelog = ovh_ratelog_new (OVH_DROP_REASONS, 1000);
    self->seqlog = ovh_ratelog_new (2, 1000);
    self->seqtrack = ovh_seqtrack_new (MAX_SOURCES);
    self->sub = zsock_new (ZMQ_SUB);
    if (!self->translator || !self->ratelog || !self->seqlog || !self->seqtrack || !self->sub) {
        ovh_intake_destroy (&self);
        return NULL;
    }
    ovh_translator_set_max_frame (self->translator, config->max_frame);
    self->paths = s_count_paths (config->bus);
    ovh_seqtrack_set_paths (self->seqtrack, self->paths);
    self->settled = zclock_mono ();
    if (self->paths > 1)
        ovh_log_info ("bus: %zu paths: each event is kept once, by src, epoch, topic and seq "
                      "(a window of %d per src and topic)", self->paths, OVH_SEQ_WINDOW);
    if (config->shard.count > 1)
        ovh_log_info ("shard %d of %d: only the events whose ordering key hashes to %d "
                      "are delivered", config->shard.index, config->shard.count,
                      config->shard.index);
    //  What ZeroMQ may hold for one publisher while the bridge is not
    //  reading (its queue full): bounded by --max-frame (ovh_bus.h); a
    //  burst beyond waits in the publishers' send queues, then shows as
    //  seq gaps. Frames far over the limit never take memory.
    ovh_bus_limit (self->sub, config->max_frame, SUB_RCVHWM);
    //  A connecting bridge notices a vanished proxy and reconnects; a
    //  vanished publisher is noticed too (ovh_bus.h)
    ovh_bus_options (self->sub);
    //  Exactly the enabled types, nothing else: filtering stays at the
    //  publishers (or the proxy), and the exact check below drops the
    //  types that merely share a prefix
    for (size_t index = 0; index < ovh_catalog_size (); index++)
        if (config->events [index])
            zsock_set_subscribe (self->sub, ovh_catalog_at (index)->name);
    if (config->bus_keys && s_secure (self)) {
        ovh_intake_destroy (&self);
        return NULL;
    }
    if (zsock_attach (self->sub, config->bus, false) != 0) {
        ovh_log_error ("cannot open the bus at '%s': %s", config->bus, zmq_strerror (zmq_errno ()));
        ovh_intake_destroy (&self);
        return NULL;
    }
    return self;
}

void
ovh_intake_destroy (ovh_intake_t **self_p)
{
    assert (self_p);
    ovh_intake_t *self = *self_p;
    if (!self)
        return;
    for (int index = 0; index < MAX_FRAMES; index++)
        zmq_msg_close (&self->frames [index]);
    ovh_busmonitor_destroy (&self->monitor);
    zsock_destroy (&self->sub);
    ovh_busauth_destroy (&self->busauth);
    ovh_seqtrack_destroy (&self->seqtrack);
    ovh_ratelog_destroy (&self->ratelog);
    ovh_ratelog_destroy (&self->seqlog);
    ovh_translator_destroy (&self->translator);
    free (self);
    *self_p = NULL;
}

zsock_t *
ovh_intake_socket (ovh_intake_t *self)
{
    return self->sub;
}

//  Receive all frames of one message; frames beyond MAX_FRAMES are read and
//  discarded. Returns the frame count, or -1 when nothing was waiting.
static int
s_receive (ovh_intake_t *self)
{
    void *socket = zsock_resolve (self->sub);
    int count = 0;
    while (true) {
        zmq_msg_t *frame = &self->frames [count < MAX_FRAMES ? count : MAX_FRAMES - 1];
        if (zmq_msg_recv (frame, socket, count ? 0 : ZMQ_DONTWAIT) == -1)
            return count ? count : -1;
        count++;
        if (!zmq_msg_more (frame))
            return count;
    }
}

static int
s_drop (ovh_intake_t *self, int reason, const char *detail)
{
    s_bump (&self->dropped_for [reason]);
    ovh_ratelog_warn (self->ratelog, reason, "dropped message: %s", detail);
    return 0;
}

//  What the seq of one src and topic tells: gaps, restarts, going back.
//  Gaps and going back can come in floods (a paused bus, two publishers
//  with one src): rate-limited, each on its own. A restart is one line per
//  run of a publisher, and worth seeing every time.
//  Returns the verdict: with redundant paths, OVH_SEQ_DUPLICATE and
//  OVH_SEQ_TOO_OLD are not to be kept.
static ovh_seq_t
s_check_seq (ovh_intake_t *self, const ovh_event_t *event)
{
    uint64_t last, lost_before = ovh_seqtrack_lost (self->seqtrack);
    ovh_seq_t verdict = ovh_seqtrack_record (self->seqtrack, event->type->name, event->src,
                                             event->src_size, event->seq,
                                             event->has_epoch? &event->epoch: NULL, &last);
    //  With redundant paths a gap is only a hole another path may fill:
    //  what is lost is said when it leaves the window (here) or is
    //  settled (s_settle)
    uint64_t lost = ovh_seqtrack_lost (self->seqtrack) - lost_before;
    if (self->paths > 1 && lost && verdict != OVH_SEQ_RESTART && verdict != OVH_SEQ_JUMP) {
        char src [204];
        ovh_shown (src, sizeof src, event->src, event->src_size);
        ovh_ratelog_warn (self->seqlog, 0, "lost %" PRIu64 " message(s) on the bus: %s from "
                          "src %s, out of the window at seq %" PRIu64 ": no path of the %zu "
                          "brought them", lost, event->type->name, src, event->seq,
                          self->paths);
    }
    if (verdict == OVH_SEQ_GAP && self->paths > 1)
        return verdict;
    char sentence [512];
    if (!ovh_seqtrack_describe (verdict, event, last, sentence, sizeof sentence))
        return verdict;
    if (verdict == OVH_SEQ_GAP)
        ovh_ratelog_warn (self->seqlog, 0, "%s", sentence);
    else
    if (verdict == OVH_SEQ_JUMP)
        //  The stats line's "lost on bus" leaves it out (ovh_seqtrack.h)
        ovh_ratelog_warn (self->seqlog, 0, "%s: not counted as lost on bus", sentence);
    else
    if (verdict == OVH_SEQ_RESTART)
        ovh_log_info ("%s", sentence);
    else
        ovh_ratelog_warn (self->seqlog, 1, "%s", sentence);
    return verdict;
}

//  With redundant paths, count the holes no path filled in time (at most
//  once a second, from the reading loop)
static void
s_settle (ovh_intake_t *self)
{
    int64_t now = zclock_mono ();
    if (self->paths < 2 || now - self->settled < SETTLE_INTERVAL)
        return;
    self->settled = now;
    uint64_t lost = ovh_seqtrack_settle (self->seqtrack);
    if (lost) {
        ovh_ratelog_warn (self->seqlog, 0, "lost %" PRIu64 " message(s) on the bus: no "
                          "path of the %zu brought them", lost, self->paths);
        atomic_store_explicit (&self->lost, ovh_seqtrack_lost (self->seqtrack),
                               memory_order_relaxed);
    }
}

//  Whether the event belongs to this bridge's shard
static bool
s_in_shard (ovh_intake_t *self, const ovh_item_t *item)
{
    const ovh_shard_t *shard = &self->config->shard;
    if (shard->count < 2)
        return true;
    return ovh_shard_of (item->has_key? item->key: NULL, item->key_size, shard->count)
        == shard->index;
}

//  Whether the publisher's key owns the src of an event. Asked only on a
//  binding CURVE bus: a message that our ZAP handler let in carries the key
//  (User-Id) and its certificate's src-prefix. One from a server we
//  connected to has no User-Id: that server (a proxy) vouches for it.
static bool
s_src_allowed (ovh_intake_t *self, const ovh_event_t *event)
{
    zmq_msg_t *first = &self->frames [0];
    const char *key = zmq_msg_gets (first, "User-Id");
    if (!key)
        return true;
    const char *prefix = zmq_msg_gets (first, OVH_BUSKEYS_SRC_PREFIX);
    if (ovh_buskeys_owns (prefix, event->src, event->src_size))
        return true;
    //  Both the src and the prefix are shown safely: the src is the
    //  publisher's, the prefix is a certificate's metadata
    char src [96], shown_prefix [96], detail [320];
    ovh_shown (src, sizeof src, event->src, event->src_size);
    if (prefix)
        ovh_shown (shown_prefix, sizeof shown_prefix, prefix, strlen (prefix));
    snprintf (detail, sizeof detail, "src-not-allowed: key %s sent src '%s'%s%s%s", key, src,
              prefix? ", its certificate allows src-prefix '": " and its certificate has no "
              "src-prefix", prefix? shown_prefix: "", prefix? "' only": "");
    s_drop (self, OVH_DROP_SRC, detail);
    return false;
}

int
ovh_intake_read (ovh_intake_t *self, ovh_item_t **item_p)
{
    assert (self);
    s_settle (self);
    int count = s_receive (self);
    if (count == -1)
        return -1;

    ovh_frame_t frames [MAX_FRAMES];
    for (int index = 0; index < count && index < MAX_FRAMES; index++) {
        frames [index].data = zmq_msg_data (&self->frames [index]);
        frames [index].size = zmq_msg_size (&self->frames [index]);
    }
    ovh_event_t event;
    if (ovh_translator_translate (self->translator, frames, (size_t) count, &event)) {
        //  By its topic when it names a type, whatever else is wrong
        const ovh_event_type_t *type = ovh_catalog_lookup ((const char *) frames [0].data,
                                                           frames [0].size);
        s_bump (&self->received_for [type ? type->index : OVH_CATALOG_SIZE]);
        const ovh_error_t *error = ovh_translator_error (self->translator);
        return s_drop (self, error->code, error->text);
    }
    s_bump (&self->received_for [event.type->index]);
    //  Before the seq is recorded: an impostor's seq must not count
    if (self->busauth && event.has_envelope && !s_src_allowed (self, &event))
        return 0;
    if (!self->config->events [event.type->index]) {
        char detail [128];
        snprintf (detail, sizeof detail, "disabled-topic: %s is not enabled", event.type->name);
        return s_drop (self, OVH_DROP_DISABLED, detail);
    }
    if (event.has_envelope) {
        ovh_seq_t verdict = s_check_seq (self, &event);
        atomic_store_explicit (&self->lost, ovh_seqtrack_lost (self->seqtrack),
                               memory_order_relaxed);
        //  Another path's copy: expected, one per event and path, so
        //  counted and never logged
        if (verdict == OVH_SEQ_DUPLICATE) {
            s_bump (&self->dropped_for [OVH_DROP_DUPLICATE]);
            return 0;
        }
        if (verdict == OVH_SEQ_TOO_OLD) {     //  logged by s_check_seq
            s_bump (&self->dropped_for [OVH_DROP_TOO_OLD]);
            return 0;
        }
    }
    ovh_item_t *item = ovh_item_new (&event);
    if (!item)
        return s_drop (self, OVH_DROP_MEMORY, "out-of-memory: event not queued");
    if (!s_in_shard (self, item)) {
        ovh_item_destroy (&item);
        s_bump (&self->dropped_for [OVH_DROP_SHARD]);
        return 0;
    }
    *item_p = item;
    return 1;
}

uint64_t
ovh_intake_received (ovh_intake_t *self)
{
    uint64_t total = 0;
    for (int type = 0; type < OVH_INTAKE_TYPES; type++)
        total += atomic_load_explicit (&self->received_for [type], memory_order_relaxed);
    return total;
}

uint64_t
ovh_intake_dropped (ovh_intake_t *self)
{
    uint64_t total = 0;
    for (int reason = 0; reason < OVH_DROP_REASONS; reason++)
        total += atomic_load_explicit (&self->dropped_for [reason], memory_order_relaxed);
    return total;
}

uint64_t
ovh_intake_dropped_for (ovh_intake_t *self, int reason)
{
    assert (reason >= 0 && reason < OVH_DROP_REASONS);
    return atomic_load_explicit (&self->dropped_for [reason], memory_order_relaxed);
}

atomic_uint_least64_t *
ovh_intake_received_counters (ovh_intake_t *self)
{
    assert (self);
    return self->received_for;
}

atomic_uint_least64_t *
ovh_intake_dropped_counters (ovh_intake_t *self)
{
    assert (self);
    return self->dropped_for;
}

uint64_t
ovh_intake_lost (ovh_intake_t *self)
{
    return atomic_load_explicit (&self->lost, memory_order_relaxed);
}

ovh_busauth_t *
ovh_intake_busauth (ovh_intake_t *self)
{
    assert (self);
    return self->busauth;
}

void
ovh_intake_log_handshakes (ovh_intake_t *self)
{
    assert (self);
    if (!self->monitor)
        return;
    uint64_t failed = ovh_busmonitor_failed (self->monitor);
    if (self->busauth) {
        //  The monitor counts refused keys among its failures too
        uint64_t refused = ovh_busauth_refused (self->busauth);
        ovh_log_info ("bus handshakes (CURVE): allowed %" PRIu64 ", refused %" PRIu64
                      ", failed %" PRIu64, ovh_busauth_allowed (self->busauth), refused,
                      failed > refused? failed - refused: 0);
    }
    else
        ovh_log_info ("bus handshakes with the server (CURVE): succeeded %" PRIu64
                      ", failed %" PRIu64, ovh_busmonitor_succeeded (self->monitor), failed);
}
