"""Envelope sequence numbers: a gap is logged as lost messages, a publisher
restarting at seq 1 is logged as a restart; every valid event is delivered."""

import os
import re
import sys

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest


#   The spec's line; a topic after "on the bus:" is tolerated (seq may count
#   per src and topic)
LOST = (r"W: .*lost (\d+) message\(s\) on the bus(?:: \S+)? from src (\S+) "
        r"\(seq (\d+) (?:→|->) (\d+)\)")


class SeqTest (ovhtest.BridgeTestCase):

    def test_gap_and_restart (self):
        receiver, bridge, publisher = self.bridge_setup ()
        sent = []
        def send (src, seq, session="ses_seq"):
            n = len (sent)
            publisher.send ("signalSent", {"timestamp": 1700000000000 + n, "sessionId": session,
                                           "from": None, "to": [], "type": "t", "data": str (n)},
                            envelope={"src": src, "seq": seq})
            sent.append (n)
        for seq in (1, 2, 3, 7):
            send ("pubA", seq)
        #   Another publisher, interleaved and without gaps: no line for it
        for seq in (1, 2, 3):
            send ("pubB", seq, "ses_other")
        send ("pubA", 1)
        send ("pubA", 2)
        send ("pubA", 3)
        requests = receiver.wait_for (len (sent), log=bridge.show)
        lost = bridge.wait_log (LOST, what="lost line")
        self.assertEqual (lost.groups (), ("3", "pubA", "3", "7"))
        restart = bridge.wait_log (r".*restart.*", what="restart line").group (0)
        self.assertIn ("pubA", restart)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertEqual (len (re.findall (r"lost \d+ message", log)), 1, log)
        self.assertNotIn ("pubB", "\n".join (l for l in log.splitlines ()
                                             if "lost" in l or "restart" in l))
        self.assertEqual (sorted (int (r.json () ["data"]) for r in requests), sent)
        ours = [int (r.json () ["data"]) for r in requests if r.json () ["sessionId"] == "ses_seq"]
        self.assertEqual (ours, [0, 1, 2, 3, 7, 8, 9])
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["delivered"], stats ["dropped"]), (len (sent), 0), log)

    def test_real_publisher_shows_no_false_gap (self):
        """libovhook's publisher loses nothing here: mixed topics, some of
        them not subscribed by the bridge (filtered by ZeroMQ at the
        publisher), must not look like lost messages."""
        enabled = ["sessionCreated", "participantJoined"]
        receiver, bridge, publisher = self.bridge_setup (events=enabled)
        publisher.close ()
        bus = ">" + bridge.ready_line.split ("bus @", 1) [1].split (",", 1) [0]
        lines = []
        for n in range (6):
            session = '"sessionId":"ses_%d"' % n
            lines += ['{"event":"sessionCreated","timestamp":%d,%s}' % (n, session),
                      '{"event":"sessionDestroyed","timestamp":%d,%s}' % (n, session),
                      '{"event":"participantJoined","timestamp":%d,%s,"connectionId":"c"}'
                      % (n, session),
                      '{"event":"signalSent","timestamp":%d,%s,"to":[]}' % (n, session)]
        code, out, err = ovhtest.test_publish (bus, lines, ["--src", "pubReal",
                                                            "--join-timeout", "1000"])
        self.assertEqual (code, 0, err)
        receiver.wait_for (12, log=bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertEqual (len (receiver.requests), 12)
        self.assertNotRegex (log, r"lost \d+ message", "a false gap was reported")
        self.assertNotRegex (log, r"(?i)restart|went back")
        stats = ovhtest.parse_stopped (log)
        self.assertEqual (stats ["extra"].get ("lost on bus", 0), 0, log)


if __name__ == "__main__":
    ovhtest.main ()
