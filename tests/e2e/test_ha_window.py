"""test_ha_window - the bridge's side of redundant paths, path by path:
a bridge bound on two endpoints (each a "path"), one pyzmq publisher on
each, the same src and epoch on both, so that the test decides which copy
comes first:

  path 1: seq 1..30 but 10 and 20       delivered
  path 2: seq 10                        late, not seen: delivered
  path 1: seq 31..4200 but 4150         delivered; 20 leaves the window
                                        at 4116: lost 1
  path 2: seq 4199                      seen: dropped as "duplicate"
  path 2: seq 1, 2, 3                   more than 4096 below 4200: "too-old"
                                        (one line a second: the first is logged)
  path 1: 4201, 4202 a second apart     the hole 4150 settles: lost 1

Every delivery is checked by seq (the body's data), and the counters in
the stopped line: dropped duplicate=1, too-old=3, lost on bus 2.

Run with Debian's /usr/bin/python3; $OVHOOK_BIN holds the binaries.
"""

import os
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest                                      # noqa: E402

TOPIC = "signalSent"
EPOCH = 77


class WindowTest (ovhtest.BridgeTestCase):

    def test_copies_late_ones_too_old_and_holes (self):
        receiver = self.receiver ()
        ports = [ovhtest.free_port (), ovhtest.free_port ()]
        bridge = self.start_bridge (self.webhook_env (
            receiver.url (), ",".join ("@tcp://127.0.0.1:%d" % port for port in ports)))
        paths = [self.publisher ("tcp://127.0.0.1:%d" % port, [TOPIC]) for port in ports]

        def send (path, seqs):
            for seq in seqs:
                paths [path].send (TOPIC, {"timestamp": 1700000000000 + seq,
                                           "sessionId": "ses_%d" % (seq % 40), "from": None,
                                           "to": [], "type": "t", "data": str (seq)},
                                   {"src": "media-1", "seq": seq, "epoch": EPOCH})

        def delivered ():
            return sorted (int (r.json () ["data"]) for r in receiver.requests)

        send (0, [seq for seq in range (1, 31) if seq not in (10, 20)])
        receiver.wait_for (28, log=bridge.show)
        send (1, [10])
        receiver.wait_for (29, log=bridge.show)
        send (0, [seq for seq in range (31, 4201) if seq != 4150])
        bridge.wait_log (r"W: .*lost 1 message\(s\) on the bus: signalSent from src media-1, "
                         r"out of the window at seq 4116: no path of the 2 brought them",
                         what="the hole 20 leaving the window")
        receiver.wait_for (4198, 60, log=bridge.show)
        send (1, [4199, 1, 2, 3])
        bridge.wait_log (r"W: .*signalSent seq 1 of src media-1 came after seq 4200, older "
                         r"than the 4096-message window or of an earlier run: dropped",
                         what="the too-old line")
        for seq in (4201, 4202):
            time.sleep (1.2)
            send (0, [seq])
        bridge.wait_log (r"W: .*lost 1 message\(s\) on the bus: no path of the 2 brought them",
                         what="the hole 4150 settled")
        receiver.wait_for (4200, log=bridge.show)
        time.sleep (0.3)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertEqual (delivered (), [seq for seq in range (1, 4203) if seq not in (20, 4150)])
        stats = ovhtest.parse_stopped (log)
        self.assertEqual (stats ["reasons"], {"duplicate": 1, "too-old": 3}, log)
        self.assertEqual (stats ["extra"] ["lost on bus"], 2, log)
        self.assertEqual (stats ["received"], 4200 + 4, log)


if __name__ == "__main__":
    ovhtest.main ()
