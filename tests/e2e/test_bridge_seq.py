"""Envelope sequence numbers: a gap is logged as lost messages, a publisher
restarting at seq 1 is logged as a restart; every valid event is delivered."""

import os
import re
import sys

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest


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
        lost = bridge.wait_log (r"W: .*lost (\d+) message\(s\) on the bus from src (\S+) "
                                r"\(seq (\d+) (?:→|->) (\d+)\)", what="lost line")
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


if __name__ == "__main__":
    ovhtest.main ()
