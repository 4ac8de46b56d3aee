"""Graceful stop: on SIGTERM/SIGINT the bridge stops reading, delivers what it
already queued (up to --drain-timeout), prints the stopped: summary and exits 0."""

import os
import signal
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

EVENTS = 200


class DrainTest (ovhtest.BridgeTestCase):

    def publish_sessions (self, publisher, count):
        for n in range (count):
            publisher.send ("sessionCreated", {"timestamp": 1700000000000 + n,
                                               "sessionId": "ses_%03d" % n})

    def test_sigterm_delivers_everything_queued (self):
        receiver, bridge, publisher = self.bridge_setup (lambda r: (200, 0.050),
                                                         args=["--workers", "4"])
        self.publish_sessions (publisher, EVENTS)
        #   The bridge is reading (a first request arrived); give its reader
        #   a moment to take the rest off the bus, then stop it while most
        #   events are still queued (4 workers x 50 ms: ~80 per second)
        receiver.wait_for (1, log=bridge.show)
        time.sleep (0.2)
        started = time.monotonic ()
        bridge.process.send_signal (signal.SIGTERM)
        at_signal = len (receiver.requests)
        code, log = bridge.wait_exit (timeout=20), bridge.log ()
        took = time.monotonic () - started
        print ("\n%d of %d delivered at SIGTERM, drained the rest in %.2f s"
               % (at_signal, EVENTS, took))
        self.assertLess (at_signal, EVENTS // 2, "nothing left to drain: test proves nothing")
        self.assertEqual (code, 0, log)
        requests = receiver.requests
        self.assertEqual (sorted (r.json () ["sessionId"] for r in requests),
                          ["ses_%03d" % n for n in range (EVENTS)])
        #   Every one was answered before the bridge exited
        self.assertEqual (receiver.in_flight, 0)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["failed"],
                           stats ["dropped"], stats ["undelivered"]), (EVENTS, EVENTS, 0, 0, 0),
                          log)
        #   The summary is the last thing it says
        self.assertIn ("stopped:", log.strip ().splitlines () [-1])

    def test_drain_timeout_bounds_the_stop (self):
        receiver, bridge, publisher = self.bridge_setup (lambda r: (200, 60),
                                                         args=["--drain-timeout", "1s"])
        self.publish_sessions (publisher, 10)
        receiver.wait_for (10, log=bridge.show)   # all ten hang in flight
        publisher.send ("sessionCreated", {"timestamp": 1, "sessionId": "ses_000"})
        time.sleep (0.2)                          # queued behind ses_000
        started = time.monotonic ()
        code, log = bridge.stop (timeout=10)
        took = time.monotonic () - started
        print ("\nstopped %.2f s after SIGTERM" % took)
        self.assertEqual (code, 0, log)
        self.assertGreaterEqual (took, 0.9, "did not wait for the drain timeout")
        self.assertLess (took, 4, "drain timeout of 1 s not honoured")
        stats = ovhtest.parse_stopped (log)
        self.assertEqual (stats ["received"], 11, log)
        self.assertEqual (stats ["delivered"], 0, log)
        self.assertGreater (stats ["undelivered"], 0, log)
        self.assertEqual (stats ["failed"] + stats ["undelivered"], 11, log)

    def test_sigint_when_idle (self):
        receiver, bridge, publisher = self.bridge_setup ()
        started = time.monotonic ()
        code, log = bridge.stop (signal.SIGINT, timeout=10)
        self.assertEqual (code, 0, log)
        self.assertLess (time.monotonic () - started, 3)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["undelivered"]),
                          (0, 0, 0), log)


if __name__ == "__main__":
    ovhtest.main ()
