/*  main.c - ovhook-bridge: subscribe to the enabled event types on
    the bus, translate each event into OpenVidu's webhook JSON, and POST it
    with a pool of workers, in order per session.

    The main thread reads the bus (ovh_intake) and hands accepted events to
    the delivery actor (ovh_dispatcher). When the actor's queue is full, the
    main thread stops reading the bus until there is room.                  */

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include "ovh_config_cli.h"
#include "ovh_config.h"
#include "ovh_dispatcher.h"
#include "ovh_dlcommand.h"
#include "ovh_hagate.h"
#include "ovh_hangup.h"
#include "ovh_intake.h"
#include "ovh_log.h"
#include "ovh_notify.h"
#include "ovh_watch.h"

//  Messages read from the bus in one go before looking at anything else
#define READ_BATCH      1024
//  Reads without a pause for this long end a queue-full episode
#define EPISODE_END     1000

typedef struct {
    ovh_config_t *config;
    ovh_intake_t *intake;
    ovh_dispatcher_t *dispatcher;
    ovh_signer_t *signer;           //  NULL without a secret
    ovh_spool_t *spool;             //  NULL without --spool
    ovh_deadletter_t *deadletter;   //  NULL without --dead-letter
    ovh_dlcommand_t *command;       //  --redeliver's filters
    ovh_watch_t *watch;             //  NULL without --metrics
    ovh_item_t *pending;            //  read from the bus, waiting for room
    ovh_notify_t *notify;           //  the service manager (systemd), if any
    ovh_hangup_t *hangup;           //  SIGHUP: reopen the log and dead-letter files
    ovh_hagate_t *ha;               //  one of a pair (--ha), NULL alone
    bool ended_standby;             //  one of a pair, standby when it stopped
    //  A queue-full episode: from the first pause until reads have gone on
    //  for EPISODE_END ms without one; logged once at each end
    int64_t episode_start;          //  0 when none
    int64_t resumed_at;             //  when the last pause ended, 0 while paused
    uint64_t pauses;                //  in this episode
    int64_t next_stats;
    uint64_t stats_seen;            //  activity at the last stats line
} bridge_t;

//  What dropped messages were dropped for: "utf8=2, size-claim=1"
static void
s_drop_reasons (bridge_t *self, char *text, size_t size)
{
    size_t used = 0;
    text [0] = 0;
    for (int reason = 0; reason < OVH_DROP_REASONS && used < size; reason++) {
        uint64_t count = ovh_intake_dropped_for (self->intake, reason);
        if (count)
            used += snprintf (text + used, size - used, "%s%s=%" PRIu64,
                              used ? ", " : "", ovh_intake_reason_name (reason), count);
    }
}

//  One line that adds up: received = dropped + every accepted event, and
//  accepted (+ resumed from the spool) = delivered + dead letters + failed
//  + released (a pair's standby) + queued (at the end: undelivered). Failed attempts count attempts.
static void
s_log_stats (bridge_t *self, const char *prefix, const ovh_dispatch_stats_t *stats,
             uint64_t waiting)
{
    char reasons [512];
    s_drop_reasons (self, reasons, sizeof reasons);
    uint64_t dropped = ovh_intake_dropped (self->intake);
    //  A dead letter the file's writer could not keep was not kept: failed
    uint64_t lost = self->deadletter ? ovh_deadletter_lost (self->deadletter) : 0;
    ovh_dispatch_stats_t counts = *stats;
    counts.dead -= lost;
    counts.failed += lost;
    stats = &counts;
    char resumed [96] = "";
    if (self->spool)
        snprintf (resumed, sizeof resumed, "resumed %" PRIu64 ", ", stats->resumed);
    //  One of a pair: what the standby let go as its peer finished it
    if (self->config->ha)
        snprintf (resumed + strlen (resumed), sizeof resumed - strlen (resumed),
                  "released %" PRIu64 ", ", stats->released);
    ovh_log_info ("%s: received %" PRIu64 ", delivered %" PRIu64 ", failed %" PRIu64
                  ", dropped %" PRIu64 "%s%s%s, lost on bus %" PRIu64 ", dead letters %" PRIu64
                  ", failed attempts %" PRIu64 ", %s%s %" PRIu64,
                  prefix, ovh_intake_received (self->intake), stats->delivered,
                  stats->failed, dropped, dropped ? " (" : "", reasons, dropped ? ")" : "",
                  ovh_intake_lost (self->intake), stats->dead, stats->failed_attempts, resumed,
                  streq (prefix, "stopped") ? "undelivered" : "queued", waiting);
}

//  The service manager's status line (systemctl status): the counts
static void
s_notify_status (bridge_t *self, const ovh_dispatch_stats_t *stats)
{
    if (!ovh_notify_enabled (self->notify))
        return;
    char status [256];
    snprintf (status, sizeof status, "received %" PRIu64 ", delivered %" PRIu64 ", queued %"
              PRIu64 ", dead letters %" PRIu64 ", failed %" PRIu64,
              ovh_intake_received (self->intake), stats->delivered, stats->queued,
              stats->dead, stats->failed);
    ovh_notify_status (self->notify, status);
}

static void
s_periodic_stats (bridge_t *self)
{
    int64_t now = zclock_mono ();
    if (now < self->next_stats)
        return;
    self->next_stats = now + self->config->stats_interval_ms;
    ovh_dispatch_stats_t stats;
    ovh_dispatcher_stats (self->dispatcher, &stats);
    s_notify_status (self, &stats);
    uint64_t seen = ovh_intake_received (self->intake) + stats.delivered
                  + stats.failed_attempts;
    if (seen == self->stats_seen)
        return;                 //  no traffic, no line
    self->stats_seen = seen;
    s_log_stats (self, "stats", &stats, stats.queued);
}

//  One of a pair hands events to the pair's gate: held while standby
static bool
s_standby (bridge_t *self)
{
    return self->ha && !ovh_hagate_active (self->ha);
}

//  Hand the pending item over; false while the queue is full
static bool
s_post_pending (bridge_t *self)
{
    int rc = self->ha? ovh_hagate_post (self->ha, self->pending)
                     : ovh_dispatcher_post (self->dispatcher, self->pending);
    if (rc == 0) {
        self->pending = NULL;
        if (self->episode_start && !self->resumed_at)
            self->resumed_at = zclock_mono ();
        return true;
    }
    if (!self->episode_start) {
        self->episode_start = zclock_mono ();
        self->pauses = 0;
        ovh_spool_state_t state = ovh_dispatcher_spool_state (self->dispatcher);
        if (state == OVH_SPOOL_FULL)
            ovh_log_warning ("spool full (its rows hold over %zu bytes, or its disk is nearly "
                             "full): pausing bus reads; the bus buffers, then drops, what comes "
                             "meanwhile (seq gaps will show it)", self->config->spool_max_bytes);
        else
        if (state == OVH_SPOOL_FAILING)
            ovh_log_warning ("the spool cannot be written: pausing bus reads until it can; "
                             "the bus buffers, then drops, what comes meanwhile (seq gaps "
                             "will show it)");
        else
        if (self->spool)
            ovh_log_warning ("the spool's writer is behind the bus: pausing bus reads "
                             "until it catches up");
        else
            ovh_log_warning ("%s full (%zu events or %zu bytes): pausing bus reads; the bus "
                             "buffers, then drops, what comes meanwhile (seq gaps will show it)",
                             s_standby (self)? "standby's queue": "queue",
                             self->config->queue_events, self->config->queue_bytes);
    }
    if (self->resumed_at || self->pauses == 0)
        self->pauses++;
    self->resumed_at = 0;
    return false;
}

//  The episode is over once reads went on for a while without a pause
static void
s_end_episode (bridge_t *self)
{
    int64_t now = zclock_mono ();
    if (self->episode_start && self->resumed_at && now - self->resumed_at >= EPISODE_END) {
        ovh_log_info ("queue has room again: bus reads back to normal after %.1f s "
                      "(%" PRIu64 " pause%s)", (self->resumed_at - self->episode_start) / 1000.0,
                      self->pauses, self->pauses == 1 ? "" : "s");
        self->episode_start = 0;
        self->resumed_at = 0;
    }
}

static void
s_run (bridge_t *self)
{
    //  The bus, and the pair's actor (polled while a standby's queue is
    //  full too: the active's finished ids make room)
    zmq_pollitem_t polled [2] = {
        { zsock_resolve (ovh_intake_socket (self->intake)), 0, ZMQ_POLLIN, 0 },
        { self->ha? ovh_hagate_socket (self->ha): NULL, 0, ZMQ_POLLIN, 0 }
    };
    self->next_stats = zclock_mono () + self->config->stats_interval_ms;
    while (!zsys_interrupted) {
        long timeout = (long) (self->next_stats - zclock_mono ());
        if (timeout > 1000 || timeout < 0)
            timeout = timeout < 0 ? 0 : 1000;
        //  The watchdog's next ping bounds the wait too
        int64_t ping = ovh_notify_watchdog (self->notify);
        if (ping >= 0 && ping < timeout)
            timeout = (long) ping;
        if (self->pending && !s_standby (self)) {
            if (ovh_dispatcher_wait_room (self->dispatcher, self->pending, (int) timeout))
                s_post_pending (self);
        }
        else
        if (self->pending) {
            //  A standby's full queue: only the actor's news make room
            if (zmq_poll (polled + 1, 1, timeout > 10? 10: timeout) > 0)
                ovh_hagate_news (self->ha);
            if (self->pending)
                s_post_pending (self);
        }
        else
        if (zmq_poll (polled, self->ha? 2: 1, timeout) > 0 && (polled [0].revents & ZMQ_POLLIN)) {
            for (int count = 0; count < READ_BATCH && !zsys_interrupted; count++) {
                ovh_item_t *item = NULL;
                int rc = ovh_intake_read (self->intake, &item);
                if (rc == -1)
                    break;
                if (rc == 1) {
                    self->pending = item;
                    if (!s_post_pending (self))
                        break;
                }
            }
        }
        if (self->ha)
            ovh_hagate_news (self->ha);
        s_end_episode (self);
        s_periodic_stats (self);
        //  logrotate renamed the files: new lines go to new ones
        if (ovh_hangup_check (self->hangup) && self->deadletter)
            ovh_deadletter_reopen (self->deadletter);
    }
}

//  The signer, the spool and the dead-letter file. Returns 0, or 2 when one
//  cannot be used (the error is printed): never start and lose silently.
static int
s_open_delivery (bridge_t *self)
{
    ovh_config_t *config = self->config;
    char error [512];
    if (config->secret && !(self->signer = ovh_signer_new (config->secret, error, sizeof error))) {
        fprintf (stderr, "ovhook-bridge: %s\n", error);
        return 2;
    }
    if (config->spool) {
        //  One bridge per spool (a second one would deliver the same
        //  events): ovh_spool_new locks the database file
        self->spool = ovh_spool_new (config->spool, config->spool_sync_full,
                                     config->spool_max_bytes, error, sizeof error);
        if (!self->spool) {
            fprintf (stderr, "ovhook-bridge: %s\n", error);
            return 2;
        }
        //  One of a pair lets go of spooled events by id (docs/ha.md)
        if (config->ha && ovh_spool_index_ids (self->spool)) {
            fprintf (stderr, "ovhook-bridge: cannot index the spool %s by event id: %s\n",
                     config->spool, ovh_spool_error (self->spool));
            return 2;
        }
        if (config->redeliver) {
            if (ovh_dlcommand_redeliver_spool (self->command, self->spool) < 0) {
                fprintf (stderr, "ovhook-bridge: cannot redeliver the dead letters of %s: "
                         "%s\n", config->spool, ovh_spool_error (self->spool));
                return 2;
            }
        }
        ovh_log_info ("spool %s: %zu events to resume, %zu dead letters", config->spool,
                      ovh_spool_events (self->spool), ovh_spool_dead (self->spool));
    }
    else
    if (config->dead_letter) {
        self->deadletter = ovh_deadletter_new (config->dead_letter, error, sizeof error);
        if (!self->deadletter) {
            fprintf (stderr, "ovhook-bridge: cannot use dead-letter file %s: %s\n",
                     config->dead_letter, error);
            return 2;
        }
    }
    else
    if (config->redeliver) {
        fprintf (stderr, "ovhook-bridge: --redeliver needs --spool or --dead-letter\n");
        return 2;
    }
    return 0;
}

static void
s_close_delivery (bridge_t *self)
{
    ovh_deadletter_destroy (&self->deadletter);
    ovh_spool_destroy (&self->spool);
    ovh_signer_destroy (&self->signer);
}

//  --metrics: bind its address (1 if it cannot be), then, once the stages
//  run, serve their metrics and readiness
static int
s_open_watch (bridge_t *self)
{
    char error [512];
    self->watch = ovh_watch_new (self->config, error, sizeof error);
    if (!self->watch)
        fprintf (stderr, "ovhook-bridge: --metrics: %s\n", error);
    return self->watch ? 0 : 1;
}

static int
s_start_watch (bridge_t *self)
{
    char error [512] = "";
    if (ovh_watch_start (self->watch, self->intake, self->dispatcher, self->spool, error,
                         sizeof error) == 0) {
        ovh_log_info ("metrics and health checks on http://%s/metrics, /healthz, /readyz",
                      self->config->metrics);
        return 0;
    }
    ovh_log_error ("--metrics: %s", error);
    return -1;
}

//  Without a spool, --redeliver reads the dead-letter file back into the
//  queue, ids kept, and retires the file
static void
s_redeliver_file_line (void *arg, ovh_item_t *item)
{
    bridge_t *self = (bridge_t *) arg;
    while (ovh_dispatcher_post (self->dispatcher, item) != 0)
        if (!ovh_dispatcher_wait_room (self->dispatcher, item, 1000) && zsys_interrupted) {
            ovh_item_destroy (&item);
            return;
        }
}

static void
s_redeliver_file (bridge_t *self)
{
    ovh_dlcommand_redeliver_file (self->command, self->config->dead_letter,
                                  s_redeliver_file_line, self);
}

static void
s_count_event_types (ovh_config_t *config, char *text, size_t size)
{
    size_t count = ovh_config_event_count (config);
    snprintf (text, size, "%zu event type%s", count, count == 1 ? "" : "s");
}

//  Signals go to the main thread only: blocks them in every thread started
//  from here on (ZeroMQ's, the dispatcher's, curl's) until the caller
//  unblocks 'signals' in this thread
static void
s_start_process (bridge_t *self, sigset_t *signals)
{
    sigemptyset (signals);
    sigaddset (signals, SIGINT);
    sigaddset (signals, SIGTERM);
    sigaddset (signals, SIGHUP);
    pthread_sigmask (SIG_BLOCK, signals, NULL);
    signal (SIGPIPE, SIG_IGN);
    curl_global_init (CURL_GLOBAL_DEFAULT);
    zsys_init ();
    zsys_set_linger (0);
    //  Installed while SIGHUP is still blocked: one sent during the start
    //  waits for the handler instead of killing the process
    self->hangup = ovh_hangup_new ();
    self->notify = ovh_notify_new ();
}

//  Read the bus until a signal, then deliver what was accepted, up to the
//  drain deadline; fills 'stats'
static void
s_serve (bridge_t *self, ovh_dispatch_stats_t *stats)
{
    ovh_config_t *config = self->config;
    if (config->redeliver && !self->spool)
        s_redeliver_file (self);
    char types [32];
    s_count_event_types (config, types, sizeof types);
    ovh_log_info ("ovhook-bridge %s ready: bus %s, %s, endpoint %s, %d workers",
                  OVHOOK_VERSION_STRING, config->bus, types,
                  ovh_dispatcher_endpoint (self->dispatcher), config->workers);
    //  The bus is bound or connected and the spool open: ready
    char status [256];
    snprintf (status, sizeof status, "reading %s, %s", config->bus, types);
    ovh_notify_ready (self->notify, status);
    s_run (self);

    //  Stop reading, then deliver what was accepted, up to the deadline
    ovh_notify_stopping (self->notify);
    if (s_standby (self))
        ovh_log_info ("stopping: standby, delivering nothing (the active peer does)");
    else
        ovh_log_info ("stopping: delivering what is queued (up to %d ms)",
                      config->drain_timeout_ms);
    if (self->pending && !s_standby (self)
    &&  ovh_dispatcher_post_last (self->dispatcher, self->pending) == 0)
        self->pending = NULL;
    //  From here a signal shortens the drain (ovh_dispatcher_drain)
    zsys_interrupted = 0;
    //  A standby delivers nothing: the active peer does
    ovh_dispatcher_drain (self->dispatcher, s_standby (self)? 0: config->drain_timeout_ms,
                          stats);
}

//  The last lines: the counts, and where undelivered events are
static void
s_log_end (bridge_t *self, const ovh_dispatch_stats_t *stats)
{
    //  Read from the bus, never handed over: undelivered too
    //  What a standby holds is the active peer's to deliver: said apart
    uint64_t undelivered = stats->queued + (self->pending ? 1 : 0);
    ovh_item_destroy (&self->pending);
    if (self->ended_standby && stats->queued)
        ovh_log_info ("standby: %" PRIu64 " events held, not delivered by this bridge: the "
                      "active peer has them", stats->queued);
    s_log_stats (self, "stopped", stats, undelivered);
    ovh_intake_log_handshakes (self->intake);
    if (!self->spool)
        return;
    const char *spool = self->config->spool;
    uint64_t kept = ovh_spool_events (self->spool);
    uint64_t waiting = kept < undelivered ? kept : undelivered;
    if (waiting)
        ovh_log_info ("%" PRIu64 " undelivered events stay in the spool %s for the next start",
                      waiting, spool);
    if (undelivered > kept)
        ovh_log_warning ("%" PRIu64 " undelivered events are not in the spool: lost",
                         undelivered - kept);
    if (kept > undelivered)
        ovh_log_warning ("%" PRIu64 " events in the spool %s were delivered, but their "
                         "removal could not be written: the next start sends them again",
                         kept - undelivered, spool);
}

int
main (int argc, char *argv [])
{
    ovh_config_t *config = ovh_config_new ();
    if (!config) {
        fprintf (stderr, "ovhook-bridge: out of memory\n");
        return 1;
    }
    ovh_config_action_t action = OVH_CONFIG_RUN;
    ovh_dlcommand_t *command = ovh_dlcommand_new ();
    int rc = command ? ovh_config_cli_check (config, command, argc, argv, &action) : 1;
    if (rc >= 0) {
        ovh_dlcommand_destroy (&command);
        ovh_config_destroy (&config);
        return rc;
    }
    //  Logs go to stderr or --log-file; stdout is for --help, --version,
    //  --check-config
    if (ovh_config_cli_start_log (config)) {
        ovh_dlcommand_destroy (&command);
        ovh_config_destroy (&config);
        return 2;
    }
    if (!config->webhook) {
        ovh_log_info ("webhook is disabled (OPENVIDU_WEBHOOK=false): nothing to do");
        ovh_dlcommand_destroy (&command);
        ovh_config_destroy (&config);
        ovh_log_close ();
        return 0;
    }
    ovh_config_cli_warn (config);
    bridge_t bridge = { .config = config, .command = command };
    sigset_t signals;
    s_start_process (&bridge, &signals);
    ovh_dispatch_stats_t stats = { 0 };
    //  The metrics' address first: a busy port stops the start at once
    rc = config->metrics ? s_open_watch (&bridge) : 0;
    if (rc == 0)
        rc = s_open_delivery (&bridge);
    if (rc == 0) {
        bridge.dispatcher = ovh_dispatcher_new (config, bridge.signer, bridge.spool,
                                                bridge.deadletter);
        rc = 1;
    }
    bridge.intake = bridge.dispatcher ? ovh_intake_new (config) : NULL;
    //  One of a pair: the link to the peer, after the bus (whose ZAP
    //  handler, if any, it shares) and before the bus is read
    if (bridge.intake && config->ha
    &&  !(bridge.ha = ovh_hagate_new (config, bridge.dispatcher,
                                      ovh_intake_busauth (bridge.intake))))
        ovh_intake_destroy (&bridge.intake);
    if (bridge.watch && bridge.ha)
        ovh_watch_set_ha (bridge.watch, ovh_hagate_ha (bridge.ha));
    if (bridge.intake && bridge.watch && s_start_watch (&bridge))
        ovh_intake_destroy (&bridge.intake);
    pthread_sigmask (SIG_UNBLOCK, &signals, NULL);
    if (bridge.intake) {
        s_serve (&bridge, &stats);
        rc = 0;
    }
    //  Signals have nothing left to shorten: from here they wait, blocked,
    //  so that one arriving while CZMQ restores the default handlers
    //  cannot kill the process before its last line
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    ovh_watch_destroy (&bridge.watch);     //  its scrapes read the stages
    ovh_dispatcher_destroy (&bridge.dispatcher);
    //  After the dispatcher, whose last finished ids it sends the peer
    bridge.ended_standby = s_standby (&bridge);
    ovh_hagate_destroy (&bridge.ha);
    //  Every dead letter on disk (or counted lost) before the last line
    if (bridge.deadletter && ovh_deadletter_flush (bridge.deadletter))
        ovh_log_error ("%" PRIu64 " dead letters could NOT be kept in %s: lost",
                       ovh_deadletter_lost (bridge.deadletter), config->dead_letter);
    if (rc == 0)
        s_log_end (&bridge, &stats);
    ovh_intake_destroy (&bridge.intake);
    s_close_delivery (&bridge);
    ovh_notify_destroy (&bridge.notify);
    ovh_hangup_destroy (&bridge.hangup);
    ovh_dlcommand_destroy (&command);
    ovh_config_destroy (&config);
    ovh_log_close ();
    zsys_shutdown ();
    curl_global_cleanup ();
    return rc;
}
