"""Head-of-line isolation: one session whose requests take 2 s each at the
receiver holds up only itself; 200 events of other sessions published after
it all arrive before the slow session's second event."""

import os
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

SLOW = "ses_slow"
OTHERS = 200


class IsolationTest (ovhtest.BridgeTestCase):

    def test_slow_session_blocks_only_itself (self):
        def responder (request):
            return (200, 2.0) if request.json ().get ("sessionId") == SLOW else 200
        receiver, bridge, publisher = self.bridge_setup (responder)
        started = time.monotonic ()
        publisher.send ("sessionCreated", {"timestamp": 1, "sessionId": SLOW})
        publisher.send ("participantJoined", {"timestamp": 2, "sessionId": SLOW,
                                              "connectionId": "con_slow"})
        for n in range (OTHERS):
            publisher.send ("sessionCreated", {"timestamp": 3 + n, "sessionId": "ses_%03d" % n})
        requests = receiver.wait_for (OTHERS + 2, timeout=15, log=bridge.show)
        slow = [r for r in requests if r.json () ["sessionId"] == SLOW]
        others = [r for r in requests if r.json () ["sessionId"] != SLOW]
        self.assertEqual ([r.json () ["event"] for r in slow],
                          ["sessionCreated", "participantJoined"])
        self.assertEqual (len (others), OTHERS)
        self.assertEqual (len ({r.body for r in others}), OTHERS, "each exactly once")
        #   The second slow event waits for the first one's answer (2 s) ...
        self.assertGreaterEqual (slow [1].time - slow [0].time, 1.9)
        #   ... while every other session got through before it
        last_other = max (r.time for r in others)
        self.assertLess (last_other, slow [1].time,
                         "other sessions waited behind the slow one: last other at "
                         "+%.2f s, slow #2 at +%.2f s" % (last_other - started,
                                                          slow [1].time - started))
        self.assertLess (last_other - started, 1.9)
        print ("\n%d other events done %.3f s after publishing began; slow #2 at %.3f s"
               % (OTHERS, last_other - started, slow [1].time - started))
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["delivered"], stats ["failed"]), (OTHERS + 2, 0), log)


if __name__ == "__main__":
    ovhtest.main ()
