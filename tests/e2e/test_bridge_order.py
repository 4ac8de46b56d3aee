"""Per-key order under concurrency: 20 sessions x 50 events interleaved, a
receiver answering after random delays; each session's events arrive in
publish order, exactly once, while several requests are in flight. Events
without an ordering key arrive in publish order among themselves."""

import os
import random
import sys
import threading
from collections import Counter

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

SESSIONS = 20
PER_SESSION = 50
KEYLESS = 100


def interleave (rng, streams):
    """Merge lists at random, keeping each list's own order."""
    streams = [list (s) for s in streams if s]
    merged = []
    while streams:
        stream = rng.choice (streams)
        merged.append (stream.pop (0))
        if not stream:
            streams.remove (stream)
    return merged


class OrderTest (ovhtest.BridgeTestCase):

    def test_per_session_order_with_concurrency (self):
        rng = random.Random (20261128)
        lock = threading.Lock ()
        delays = random.Random (42)
        def responder (request):
            with lock:
                return 200, delays.uniform (0, 0.020)
        receiver, bridge, publisher = self.bridge_setup (responder, args=["--workers", "32"])
        streams = [[("signalSent", {"timestamp": 1700000000000 + n, "sessionId": "ses_%02d" % s,
                                    "from": None, "to": ["con_a", "con_b"], "type": "seq",
                                    "data": str (n)}) for n in range (PER_SESSION)]
                   for s in range (SESSIONS)]
        #   No sessionId, id, nodeId or clusterId: no ordering key
        streams.append ([("sessionCreated", {"timestamp": 1700000000000 + n, "n": n})
                         for n in range (KEYLESS)])
        sent = interleave (rng, streams)
        for topic, body in sent:
            publisher.send (topic, body)
        total = len (sent)
        requests = receiver.wait_for (total, timeout=40, log=bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        requests = receiver.requests
        self.assertEqual (len (requests), total, "no duplicate deliveries")
        bodies = [r.json () for r in requests]
        #   Every event exactly once
        expected = Counter ((t, b.get ("sessionId"), b.get ("data"), b.get ("n")) for t, b in sent)
        got = Counter ((b ["event"], b.get ("sessionId"), b.get ("data"), b.get ("n"))
                       for b in bodies)
        self.assertEqual (got, expected)
        #   Per session, publish order
        for s in range (SESSIONS):
            session = "ses_%02d" % s
            order = [int (b ["data"]) for b in bodies if b.get ("sessionId") == session]
            self.assertEqual (order, list (range (PER_SESSION)), "order of " + session)
        #   Keyless events: publish order among themselves
        keyless = [b ["n"] for b in bodies if "n" in b]
        self.assertEqual (keyless, list (range (KEYLESS)), "order of events without key")
        #   ... and never two of one key in flight at once: the next request
        #   of a key arrives only after the previous one was answered
        last_done = {}
        for r in sorted (requests, key=lambda r: r.time):
            key = r.json ().get ("sessionId", "<none>")
            if key in last_done:
                self.assertGreaterEqual (r.time, last_done [key], "overlap within " + key)
            last_done [key] = r.answered
        #   Concurrency proven
        self.assertGreater (receiver.max_in_flight, 1)
        print ("\nmax in flight %d, %d connections" % (receiver.max_in_flight,
                                                       receiver.connections))
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["failed"],
                           stats ["undelivered"]), (total, total, 0, 0), log)


if __name__ == "__main__":
    ovhtest.main ()
