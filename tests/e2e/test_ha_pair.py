"""Active/standby bridge pair (--ha, docs/ha.md), with real processes: a
publisher binds the bus and both bridges connect to it; a receiver records
every webhook-id. Under a steady 1,000 events/s the active bridge is killed
with SIGKILL: the standby takes over within --ha-timeout, every event is
delivered, the duplicates (same webhook-id) are at most what was in flight,
and each session's first arrivals keep the publish order. Then the killed
primary comes back: it is standby, catches up, and the roles stay put."""

import contextlib
import os
import re
import sqlite3
import struct
import urllib.request
import signal
import sys
import threading
import time

import zmq

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery

TOPICS = ("participantJoined", "signalSent", "participantLeft")
RATE = 1000                 #   events per second
SESSIONS = 50
WORKERS = 8
TIMEOUT_MS = 2000           #   --ha-timeout (the default)
#   The standby hears of finished events every 20 ms: what the active
#   finished in its last 20 ms, plus what it had in flight (the workers),
#   may come again after a kill; with what a busy 2-core machine delays
#   the active's sends (its threads, the python publisher, the receiver,
#   the other bridge share it), allowed up to 50 ms of events, twice.
MAX_DUPLICATES = 2 * (WORKERS + RATE * 50 // 1000)


class Load:
    """Publishes (topic, body) pairs at RATE per second from a thread, in
    batches every 10 ms, until told to stop or out of events."""

    def __init__ (self, publisher, events):
        self.publisher = publisher
        self.events = events
        self.sent = 0
        self.stopping = threading.Event ()
        self.thread = threading.Thread (target=self._run, daemon=True)

    def _run (self):
        start = time.monotonic ()
        while self.sent < len (self.events) and not self.stopping.is_set ():
            due = min (len (self.events), int ((time.monotonic () - start) * RATE) + 1)
            if due > self.sent:
                self.publisher.send_many (self.events [self.sent:due])
                self.sent = due
            time.sleep (0.01)

    def start (self):
        self.thread.start ()
        return self

    def join (self, timeout):
        self.thread.join (timeout * ovhtest.SLOW)
        assert not self.thread.is_alive (), "the load did not finish"


def gauges (port):
    """{name: value} of the unlabelled ovhook_ha_* samples of a scrape"""
    with urllib.request.urlopen ("http://127.0.0.1:%d/metrics" % port, timeout=5) as response:
        text = response.read ().decode ()
    return {name: float (value) for name, value in
            re.findall (r"(?m)^(ovhook_ha_[a-z_]+) (\S+)$", text)}


class HaPairTest (ovhtest.BridgeTestCase):

    def setUp (self):
        super ().setUp ()
        self.receiver = delivery.FastReceiver ()
        self.addCleanup (self.receiver.stop)
        port = ovhtest.free_port ()
        socket = self.context.socket (zmq.XPUB)
        self.secure_bus (socket)
        socket.setsockopt (zmq.XPUB_VERBOSE, 1)
        socket.setsockopt (zmq.SNDHWM, 0)
        socket.setsockopt (zmq.LINGER, 0)
        socket.bind ("tcp://127.0.0.1:%d" % port)
        self.xpub = socket
        self.bus = "tcp://127.0.0.1:%d" % port
        self.ports = (ovhtest.free_port (), ovhtest.free_port ())
        self.raw = ovhtest.Publisher.__new__ (ovhtest.Publisher)
        self.raw.socket = socket
        self.raw.subscriptions = []
        self.raw.seq = 0
        self.publisher = delivery.SeqPublisher (self.raw, "ha-test/%d" % os.getpid ())
        self.metrics = {}               #   role -> metrics port

    def secure_bus (self, socket):
        """Plaintext here; test_ha_curve.py makes the bus a CURVE server"""

    def link_env (self, role):
        """Settings of the link beyond the endpoints: none in plaintext"""
        return {}

    def wait_gauges (self, who, **wanted):
        """Until the bridge of role 'who' shows these ovhook_ha_* values"""
        wanted = {"ovhook_ha_" + name: value for name, value in wanted.items ()}
        seen = [None]
        def shows ():
            seen [0] = gauges (self.metrics [who])
            return all (seen [0].get (name) == value for name, value in wanted.items ())
        ovhtest.wait_until (shows, 5, "%s: %r" % (who, wanted), lambda: repr (seen [0]))

    def bridge (self, role, name, extra=()):
        self.metrics [role] = ovhtest.free_port ()
        extra = list (extra) + ["--metrics", "127.0.0.1:%d" % self.metrics [role]]
        mine, peer = self.ports if role == "primary" else reversed (self.ports)
        env = self.webhook_env (self.receiver.url (), self.bus, events=list (TOPICS),
                                OVHOOK_HA=role, OVHOOK_HA_BIND="tcp://127.0.0.1:%d" % mine,
                                OVHOOK_HA_PEER="tcp://127.0.0.1:%d" % peer,
                                OVHOOK_WORKERS=WORKERS, OVHOOK_STATS_INTERVAL="1s")
        env.update (self.link_env (role))
        return self.start_bridge (env, list (extra), name=name)

    def wait_subscribers (self, count):
        """Until 'count' subscriptions of each topic reached the publisher."""
        def enough ():
            self.raw._pump (50)
            return all (self.raw.subscriptions.count (b"\x01" + t.encode ()) >= count
                        for t in TOPICS)
        ovhtest.wait_until (enough, 10, "%d subscribers" % count)

    def start_pair (self, spool=False, extra=()):
        spools = {role: ["--spool", os.path.join (self.tmp, role + ".db")] if spool else []
                  for role in ("primary", "backup")}
        primary = self.bridge ("primary", "primary", spools ["primary"] + list (extra))
        backup = self.bridge ("backup", "backup", spools ["backup"] + list (extra))
        primary.wait_log (r"ha: .*now active", 10, "the primary active")
        backup.wait_log (r"ha: .*now passive", 10, "the backup standby")
        self.wait_subscribers (2)
        self.wait_gauges ("primary", role=1, peer_up=1, held_events=0)
        self.wait_gauges ("backup", role=0, peer_up=1)
        return primary, backup

    def check_delivery (self, count, log):
        sent = [(r ["id"], r ["key"]) for r in self.publisher.sent]
        self.assertEqual (len (sent), count)
        hits = self.receiver.wait_unique ({msg_id for msg_id, key in sent}, 30, log)
        time.sleep (0.5)            #   anything late would show now
        hits = self.receiver.snapshot ()
        extra, ids = delivery.duplicates (hits)
        problems = delivery.order_violations (hits, sent)
        self.assertEqual (problems, [], log ())
        unknown = {h.id for h in hits} - {msg_id for msg_id, key in sent}
        self.assertEqual (unknown, set (), "ids never published")
        return extra

    def test_kill_active_under_load (self):
        self.kill_active_under_load ()

    def test_kill_active_under_load_with_spools (self):
        """The same with --spool on both: each bridge its own spool"""
        self.kill_active_under_load (spool=True)

    def load_and_kill (self, primary, backup, seconds, kill_after):
        """Start a load of 'seconds' at RATE, kill -9 the primary after
        'kill_after' seconds, wait for the backup's takeover. Returns the
        load, its events and the seconds from the kill to the takeover."""
        events = delivery.bulk_events (seconds * RATE, SESSIONS, TOPICS)
        load = Load (self.publisher, events).start ()
        time.sleep (kill_after)
        primary.process.send_signal (signal.SIGKILL)
        killed = time.monotonic ()
        primary.wait_exit ()
        backup.wait_log (r"taking over \(failover\).*now active", 10, "the takeover")
        return load, events, time.monotonic () - killed

    def kill_active_under_load (self, spool=False):
        primary, backup = self.start_pair (spool)
        load, events, takeover = self.load_and_kill (primary, backup, 6, 2)
        self.wait_gauges ("backup", role=1, peer_up=0, held_events=0)
        load.join (10)
        extra = self.check_delivery (len (events), backup.show)
        print ("\nkill -9 under %d events/s%s: takeover %.2f s after the kill (timeout %.1f s), "
               "%d events, %d duplicates (bound %d)" % (RATE, " (spools)" if spool else "",
               takeover, TIMEOUT_MS / 1000, len (events), extra, MAX_DUPLICATES))
        self.assertLess (takeover, (TIMEOUT_MS + 700) / 1000 * ovhtest.SLOW)
        self.assertLessEqual (extra, MAX_DUPLICATES)
        code, log = backup.stop ()
        self.assertEqual (code, 0, log)

    def test_primary_restarts_as_standby (self):
        primary, backup = self.start_pair ()
        load, events, takeover = self.load_and_kill (primary, backup, 8, 1.5)
        #   The primary comes back while events keep coming
        again = self.bridge ("primary", "primary-again")
        again.wait_log (r"connected to the backup \(active\): standby.*now passive", 10,
                        "the primary back as standby")
        self.wait_gauges ("primary", role=0, peer_up=1)
        self.wait_gauges ("backup", role=1, peer_up=1)
        load.join (15)
        extra = self.check_delivery (len (events), backup.show)
        #   Roles held: one takeover in the backup's log, no change since
        time.sleep (1)
        self.assertEqual (len (re.findall (r"now active", backup.log ())), 1, backup.show ())
        self.assertEqual (len (re.findall (r"ha: .*, now ", again.log ())), 1, again.show ())
        #   Caught up: the restarted primary holds only what is unfinished
        code, log = again.stop ()
        self.assertEqual (code, 0, log)
        held = re.search (r"standby: (\d+) events held", log)
        held = int (held.group (1)) if held else 0
        print ("\nprimary killed and restarted: %d events, %d duplicates, the restarted "
               "primary held %d at its stop" % (len (events), extra, held))
        self.assertLessEqual (held, WORKERS, log)
        self.assertLessEqual (extra, MAX_DUPLICATES)
        #   What it accepted, it let go as the active's seq ranges came
        #   (every event here has an envelope), or still holds
        stats = ovhtest.parse_stopped (log)
        self.assertGreater (stats ["extra"].get ("released", 0), 0, log)
        self.assertEqual (stats ["received"], stats ["dropped"] + stats ["extra"] ["released"]
                          + stats ["undelivered"], log)
        code, log = backup.stop ()
        self.assertEqual (code, 0, log)
        told = re.search (r"told the peer of (\d+) finished events in (\d+) messages, "
                          r"(\d+) bytes", log)
        self.assertTrue (told, log)
        print ("the active told the standby of %s finished events in %s messages, %s bytes "
               "(%.1f per event)" % (told.group (1), told.group (2), told.group (3),
                                     int (told.group (3)) / int (told.group (1))))

    def test_stopped_active_drains_then_hands_over (self):
        #   SIGTERM to the active while it has a queue: it keeps the link
        #   up (heartbeats, finished events) through its drain, so the
        #   standby takes over only after it ended, and sends again none
        #   of what the active delivered while draining. Answers held 50
        #   ms over 8 workers: 400 events take the active some 2.5 s, past
        #   the standby's 2 s timeout
        self.receiver.delay = 0.05
        primary, backup = self.start_pair ()
        events = delivery.bulk_events (400, SESSIONS, TOPICS)
        self.publisher.send_many (events)
        ovhtest.wait_until (lambda: self.receiver.count () >= 40, 10, "40 deliveries")
        code, log = primary.stop ()
        self.assertEqual (code, 0, log)
        stats = ovhtest.parse_stopped (log)
        #   It drained: everything it accepted was delivered, by itself
        self.assertEqual (stats ["delivered"], len (events), log)
        self.assertIn ("ha: told the peer of", log)
        #   The standby let go of all of it: the active told it through
        #   the drain, and its last flush went out as it ended
        self.wait_gauges ("backup", role=0, held_events=0)
        #   Events after the stop make it take over (Binary Star: a
        #   standby takes over only when clients still come)
        self.receiver.delay = 0
        more = delivery.bulk_events (20, SESSIONS, TOPICS)
        self.publisher.send_many (more)
        backup.wait_log (r"taking over \(failover\).*now active", 10, "the takeover")
        extra = self.check_delivery (len (events) + len (more), backup.show)
        print ("\nactive stopped with a queue: %d events, %d duplicates" % (len (events), extra))
        #   At most what the active finished in its last 20 ms and could
        #   not tell: its last flush goes out as it ends
        self.assertLessEqual (extra, WORKERS, backup.show ())
        code, log = backup.stop ()
        self.assertEqual (code, 0, log)

    def test_split_brain_heals (self):
        """The link fails while both live (the primary frozen with SIGSTOP
        past the timeout: the backup hears nothing and takes over); when it
        works again both are active, the backup steps down, the primary
        stays. Every event arrives; the duplicates all carry the same id."""
        primary, backup = self.start_pair ()
        events = delivery.bulk_events (6 * RATE, SESSIONS, TOPICS)
        load = Load (self.publisher, events).start ()
        time.sleep (1)
        primary.process.send_signal (signal.SIGSTOP)
        try:
            backup.wait_log (r"taking over \(failover\).*now active", 10, "the takeover")
            time.sleep (1)
        finally:
            primary.process.send_signal (signal.SIGCONT)
        backup.wait_log (r"the primary is active too \(split brain over\): stepping down "
                         r"to standby.*now passive", 10, "the backup stepping down")
        primary.wait_log (r"W: .*ha: the backup is active too \(split brain\): staying "
                          r"active", 10, "the primary staying active")
        self.wait_gauges ("primary", role=1, peer_up=1)
        self.wait_gauges ("backup", role=0, peer_up=1)
        load.join (10)
        extra = self.check_delivery (len (events), backup.show)
        print ("\nsplit brain (primary frozen 1 s past the takeover): %d events, %d "
               "duplicates, all with the first copy's id" % (len (events), extra))
        #   Healed for good: one step down, the primary never left
        time.sleep (1)
        self.assertEqual (len (re.findall (r"now passive", backup.log ())), 2, backup.show ())
        self.assertEqual (len (re.findall (r", now (active|passive)", primary.log ())), 1,
                          primary.show ())
        for bridge in (primary, backup):
            code, log = bridge.stop ()
            self.assertEqual (code, 0, log)

    def test_standby_queue_full_pauses_and_resumes (self):
        """The endpoint stalls: the active's queue and the standby's
        (--queue-events 300 each) fill, and the standby pauses its bus
        reads. The endpoint answers again: the active finishes, the
        standby lets those go, and reads the rest of the bus."""
        answer = threading.Event ()
        self.addCleanup (answer.set)
        stalled = ovhtest.Receiver (lambda request: (answer.wait (30), 200) [1])
        self.addCleanup (stalled.stop)
        self.receiver = stalled
        primary, backup = self.start_pair (extra=["--queue-events", "300"])
        events = delivery.bulk_events (1500, SESSIONS, TOPICS)
        Load (self.publisher, events).start ().join (10)
        backup.wait_log (r"standby's queue full \(300 events", 10, "the standby's queue full")
        answer.set ()
        stalled.wait_for (1500, 30, log=primary.show)
        backup.wait_log (r"stats: received 1500,", 15, "the standby reading the rest")
        self.wait_gauges ("backup", role=0, held_events=0)
        ids = {r.header ("webhook-id") [0] for r in stalled.requests}
        self.assertEqual (ids, {r ["id"] for r in self.publisher.sent})
        for bridge in (primary, backup):
            code, log = bridge.stop ()
            self.assertEqual (code, 0, log)

    def test_standby_spools_on_arrival_and_lets_go (self):
        """With --spool, the standby writes each event to its spool as it
        arrives: the endpoint stalls, so the active finishes nothing, and
        all the events are in the standby's spool (with --queue-events 100,
        most on disk only). The endpoint answers: as the active finishes
        each event the standby lets it go, from memory and from disk; its
        spool ends empty and its stopped line counts them released."""
        answer = threading.Event ()
        self.addCleanup (answer.set)
        stalled = ovhtest.Receiver (lambda request: (answer.wait (30), 200) [1])
        self.addCleanup (stalled.stop)
        self.receiver = stalled
        primary, backup = self.start_pair (spool=True, extra=["--queue-events", "100"])
        events = delivery.bulk_events (600, SESSIONS, TOPICS)
        Load (self.publisher, events).start ().join (10)
        spool = os.path.join (self.tmp, "backup.db")
        seen = [None]
        def rows ():
            uri = "file:%s?mode=ro" % spool
            with contextlib.closing (sqlite3.connect (uri, uri=True, timeout=5)) as db:
                seen [0] = db.execute ("SELECT count (*) FROM events").fetchone () [0]
            return seen [0]
        ovhtest.wait_until (lambda: rows () == 600, 10, "600 events in the standby's spool",
                            lambda: "%r rows\n%s" % (seen [0], backup.show ()))
        self.assertLessEqual (len (stalled.requests), WORKERS)
        answer.set ()
        stalled.wait_for (600, 30, log=primary.show)
        ovhtest.wait_until (lambda: rows () == 0, 10, "the standby's spool emptied",
                            lambda: "%r rows\n%s" % (seen [0], backup.show ()))
        self.wait_gauges ("backup", role=0, held_events=0, released_total=600)
        code, log = backup.stop ()
        self.assertEqual (code, 0, log)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["extra"].get ("released"),
                           stats ["delivered"], stats ["undelivered"]), (600, 600, 0, 0), log)
        ids = [r.header ("webhook-id") [0] for r in stalled.requests]
        self.assertEqual (sorted (ids), sorted (r ["id"] for r in self.publisher.sent))
        code, log = primary.stop ()
        self.assertEqual (code, 0, log)

    def test_standby_refuses_garbage_from_the_peer (self):
        """A peer (here a pyzmq PUB where the primary would be) sends the
        backup DONE messages that do not hold: a ranges frame cut short, a
        topic not in the catalog, a stray byte after an id, no frames at
        all. Each is refused and logged, nothing is let go; then a valid
        range of 3 seqs lets exactly those 3 events go."""
        pub = self.context.socket (zmq.PUB)
        pub.setsockopt (zmq.LINGER, 0)
        pub.bind ("tcp://127.0.0.1:%d" % self.ports [0])
        self.addCleanup (pub.close)
        backup = self.bridge ("backup", "backup")
        self.wait_subscribers (1)
        self.publisher.send_many (delivery.bulk_events (10, 5, TOPICS [:1]))
        self.wait_gauges ("backup", role=0, held_events=10)
        src = self.publisher.src.encode ()
        def stream (topic, first, last):
            return (struct.pack (">H", len (src)) + src + bytes ([len (topic)]) + topic
                    + b"\x01" + struct.pack (">QIQQ", self.publisher.epoch, 1, first, last))
        good = stream (TOPICS [0].encode (), 1, 3)
        garbage = [[b"DONE", b"", good [:-1]],
                   [b"DONE", b"", stream (b"participantJoind", 1, 3)],
                   [b"DONE", b"", stream (TOPICS [0].encode (), 3, 1)],
                   [b"DONE"]]
        def refused ():
            for message in garbage:
                pub.send_multipart (message)
            return "malformed list of finished events" in backup.log ()
        ovhtest.wait_until (refused, 10, "the garbage refused and logged", backup.show)
        time.sleep (0.2)
        self.wait_gauges ("backup", held_events=10, released_total=0)
        #   A stray byte after a whole (unknown) id shifts nothing
        pub.send_multipart ([b"DONE", b"x" * 37, good])
        def let_go ():
            pub.send_multipart ([b"DONE", b"x" * 37, good])
            return gauges (self.metrics ["backup"]).get ("ovhook_ha_released_total") == 3
        ovhtest.wait_until (let_go, 10, "3 events let go", backup.show)
        self.wait_gauges ("backup", held_events=7, released_total=3)
        code, log = backup.stop ()
        self.assertEqual (code, 0, log)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["extra"] ["released"],
                           stats ["undelivered"]), (10, 3, 7), log)


if __name__ == "__main__":
    ovhtest.main ()
