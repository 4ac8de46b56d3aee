"""Back-pressure and stats: a full queue pauses bus reads (logged once),
frees again (logged), and nothing is lost; the periodic stats line appears
while there is traffic."""

import os
import re
import sys
import threading

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

COUNT = 2000
QUEUE = 20
#   Read from the bus beyond --queue-events: the one event that waits for room
SLACK = 1


class QueueTest (ovhtest.BridgeTestCase):

    def test_full_queue_pauses_then_resumes_without_loss (self):
        release = threading.Event ()
        self.addCleanup (release.set)
        def responder (request):
            release.wait (20)
            return 200
        receiver, bridge, publisher = self.bridge_setup (
            responder, args=["--queue-events", str (QUEUE), "--workers", "2",
                             "--stats-interval", "300ms"])
        for n in range (COUNT):
            publisher.send ("participantJoined", {"timestamp": n, "sessionId": "ses_q",
                                                  "connectionId": "con_%04d" % n})
        bridge.wait_log (r"W: .*queue full.*pausing bus reads", what="queue full line")
        stats = bridge.wait_log (r"stats: received (\d+), delivered (\d+), failed (\d+), "
                                 r"dropped (\d+), (?:.*, )?queued (\d+)", what="stats line")
        self.assertEqual (int (stats.group (2)), 0)
        self.assertEqual (int (stats.group (5)), QUEUE, "the queue holds exactly its capacity")
        self.assertLessEqual (int (stats.group (1)), QUEUE + SLACK, "read past a full queue")
        self.assertLess (int (stats.group (1)), COUNT)
        release.set ()
        bridge.wait_log (r"I: .*queue has room again: bus reads back to normal", what="resume line")
        requests = receiver.wait_for (COUNT, timeout=30, log=bridge.show)
        self.assertEqual ([r.json () ["connectionId"] for r in requests],
                          ["con_%04d" % n for n in range (COUNT)])
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        #   One line per episode, not per message: the long blocked episode
        #   gave one; afterwards the queue may fill and free a few more times
        blocked = log [:log.index ("queue has room again")]
        self.assertEqual (len (re.findall (r"queue full", blocked)), 1, blocked)
        self.assertEqual (len (re.findall (r"queue full", log)),
                          len (re.findall (r"queue has room again", log)), log)
        self.assertLess (len (re.findall (r"queue full", log)), 5, log)
        summary = ovhtest.parse_stopped (log)
        self.assertEqual ((summary ["received"], summary ["delivered"], summary ["dropped"],
                           summary ["undelivered"]), (COUNT, COUNT, 0, 0), log)

    def test_stats_only_while_there_is_traffic (self):
        receiver, bridge, publisher = self.bridge_setup (args=["--stats-interval", "200ms"])
        publisher.send ("sessionCreated", {"timestamp": 1, "sessionId": "ses_s"})
        receiver.wait_for (1, log=bridge.show)
        line = bridge.wait_log (r"stats: received 1, delivered 1, failed 0, dropped 0, "
                                r"(?:.*, )?queued 0", what="stats line")
        #   Then quiet: no more stats lines over 1 s without traffic
        import time
        time.sleep (1.0)
        after = bridge.log () [line.end ():]
        self.assertLessEqual (len (re.findall (r"stats:", after)), 1, after)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)


if __name__ == "__main__":
    ovhtest.main ()
