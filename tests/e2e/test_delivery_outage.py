"""An outage of the receiver: down for 20 s (its port refuses connections)
while 10,000 events of 100 sessions are published with libovhook's
publisher (ovh-test-publish), then up on the same port: every event
arrives, per-session order holds, and each id arrives once, except
re-sends of attempts whose fate was unknown (counted and printed)."""

import os
import re
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery

EVENTS = 10000
SESSIONS = 100
OUTAGE = 20.0
REFUSED = re.compile (r"(?i)couldn't connect|connection refused|failed to connect")


class OutageTest (ovhtest.BridgeTestCase):

    def test_receiver_down_then_up (self):
        hold = delivery.PortHold ()
        self.addCleanup (hold.release)
        bind, connect = self.bus ()
        down = time.monotonic ()
        bridge = self.start_bridge (self.webhook_env (hold.url (), bind), [
            "--retries", "100", "--retry-max", "2s", "--stats-interval", "5s"])
        src = "outage-test/%d" % os.getpid ()
        lines = delivery.bulk_lines (EVENTS, SESSIONS)
        epoch = delivery.new_epoch ()
        expected = delivery.expected_ids (lines, src, epoch)
        keys = ["ses_%04d" % (i % SESSIONS) for i in range (EVENTS)]
        code, out, err = ovhtest.test_publish (">" + connect, lines,
                                               ["--src", src, "--epoch", str (epoch)], timeout=60)
        self.assertEqual (code, 0, err)
        published = time.monotonic ()
        bridge.wait_log (r"W: .*circuit open after \d+ consecutive failures",
                         what="the circuit opening during the outage")
        left = OUTAGE - (time.monotonic () - down)
        self.assertGreater (left, 0, "publishing took longer than the outage")
        time.sleep (left)
        log = bridge.log ()
        refused = delivery.error_lines (log, r"Error sending to callback endpoint")
        self.assertTrue (refused, log [-3000:])
        self.assertRegex (refused [0], REFUSED)
        #   Up on the same port (held until now: nobody else could take it)
        receiver = delivery.FastReceiver (port=hold.port)
        self.addCleanup (receiver.stop)
        hold.release ()
        up = time.monotonic ()
        seen = receiver.wait_unique (set (expected), 60, bridge.show)
        done = time.monotonic ()
        time.sleep (0.5)
        seen = receiver.snapshot ()
        first = seen [0].time - up if seen else -1
        extra, twice = delivery.duplicates (seen)
        print ("\noutage: published %d events in %.1f s, receiver down %.1f s; after it came "
               "up: first request %.2f s, all %d in %.2f s; %d requests, %d duplicate(s)" % (
                   EVENTS, published - down, up - down, first, EVENTS, done - up, len (seen),
                   extra))
        self.assertEqual ({h.id for h in seen}, set (expected), "unknown ids arrived")
        self.assertEqual (delivery.order_violations (seen, list (zip (expected, keys))), [])
        #   A duplicate is legitimate only if an attempt of that id failed in
        #   a way that leaves its fate unknown (not a refused connection)
        log = bridge.log ()
        for msg_id in twice:
            unknown = [line for line in delivery.error_lines (log, r"\bid %s\b" % msg_id)
                       if not REFUSED.search (line)]
            self.assertTrue (unknown, "%s arrived %d times with no attempt of unknown fate\n%s"
                             % (msg_id, twice [msg_id], "\n".join (
                                 delivery.error_lines (log, msg_id))))
        self.assertRegex (log, r"I: .*circuit closed: the endpoint answered, deliveries resume")
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log [-3000:])
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["undelivered"]),
                          (EVENTS, EVENTS, 0), log [-2000:])


if __name__ == "__main__":
    ovhtest.main ()
