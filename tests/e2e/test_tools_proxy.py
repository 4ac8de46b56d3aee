"""test_tools_proxy - ovhook-proxy between ovhook-inject and ovhook-tail,
every one a separate process:

  inject -> proxy -> 2 tails with different subscriptions: each tail gets
            exactly its types, byte for byte the webhook JSON, counts exact
  upstream  subscriptions reach the publishers through the proxy (a pyzmq
            XPUB on the frontend sees them come and go)
  restart   the proxy restarted on the same ports: tail and publisher
            reconnect by themselves
  counters  stats lines while traffic, a summary at SIGINT/SIGTERM, exit 0
  errors    bad endpoint syntax, bad values, a port in use

Run with Debian's /usr/bin/python3; $OVHOOK_BIN holds the binaries.
"""

import json
import os
import re
import signal
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

SLOW = ovhtest.SLOW
STATS = re.compile (r"(stats|stopped): forwarded (\d+) messages? \((\d+) bytes\) to consumers, "
                    r"(\d+) subscribe and (\d+) unsubscribe messages? to publishers")


Tool = ovhtest.ToolProcess


class ProxyTest (ovhtest.BridgeTestCase):

    def tool (self, program, args, ready=True):
        self.tools = getattr (self, "tools", 0) + 1
        tool = Tool (self.tmp, program, [str (a) for a in args],
                     "%s%d" % (program [7:], self.tools))
        self.addCleanup (tool.kill)
        return tool.start (ready)

    def proxy (self, front=None, back=None, args=()):
        front = front or ovhtest.free_port ()
        back = back or ovhtest.free_port ()
        proxy = self.tool ("ovhook-proxy", ["--frontend", "@tcp://127.0.0.1:%d" % front,
                                            "--backend", "@tcp://127.0.0.1:%d" % back]
                           + list (args))
        return proxy, front, back

    def inject (self, port, args, stdin=b"", timeout=30):
        return ovhtest.run_program ("ovhook-inject",
                                    ["--bus", ">tcp://127.0.0.1:%d" % port] + list (args),
                                    stdin=stdin, timeout=timeout)

    def test_inject_through_proxy_to_two_tails (self):
        proxy, front, back = self.proxy (args=["--stats-interval", "300ms"])
        backend = ">tcp://127.0.0.1:%d" % back
        every = self.tool ("ovhook-tail", ["--bus", backend, "--count", 15 + 64])
        some = self.tool ("ovhook-tail", ["--bus", backend, "--count", 2 + 4,
                                          "sessionCreated", "sessionDestroyed"])
        #   The 15 documented bodies, then 2 sessions of 3 participants
        lines = ovhtest.examples ()
        code, out, err = self.inject (front, ["--json", "-", "--src", "inj/1"],
                                      stdin=b"\n".join (lines))
        self.assertEqual (code, 0, err + proxy.show ())
        code, out, err = self.inject (front, ["--scenario", "session", "--sessions", 2,
                                              "--participants", 3, "--src", "inj/2"])
        self.assertEqual (code, 0, err + proxy.show ())
        self.assertEqual (every.wait_exit (), 0, every.show ())
        self.assertEqual (some.wait_exit (), 0, some.show ())

        got = every.lines ()
        self.assertEqual (len (got), 79)
        self.assertEqual ([l.encode () for l in got [:15]], lines)     # byte for byte
        scenario = [json.loads (l) for l in got [15:]]
        self.assertEqual (len ({e ["sessionId"] for e in scenario}), 2)
        self.assertEqual (some.lines (), [got [0], got [1]] + [
            l for l in got [15:] if json.loads (l) ["event"] in
            ("sessionCreated", "sessionDestroyed")])
        self.assertNotIn ("lost", every.log () + some.log ())
        #   Counters: 79 events forwarded; a stats line came while traffic
        proxy.wait_log (r"stats: forwarded 79 messages", 5)
        code, log = proxy.stop (signal.SIGINT)
        self.assertEqual (code, 0, log)
        summary = [m for m in STATS.finditer (log) if m.group (1) == "stopped"]
        self.assertEqual (len (summary), 1, log)
        self.assertEqual (int (summary [0].group (2)), 79)
        self.assertGreater (int (summary [0].group (3)), 0)
        #   Each tail's subscriptions came up once per topic: 17 in all
        self.assertEqual (int (summary [0].group (4)), 17, log)

    def test_subscriptions_travel_upstream (self):
        proxy, front, back = self.proxy ()
        publisher = self.publisher ("tcp://127.0.0.1:%d" % front)
        tail = self.tool ("ovhook-tail", ["--bus", ">tcp://127.0.0.1:%d" % back,
                                          "nodeCrashed", "autoscaling"])
        publisher.wait_subscribed (["nodeCrashed", "autoscaling"])
        self.assertEqual (publisher.subscribed (), {b"nodeCrashed", b"autoscaling"})
        publisher.send ("autoscaling", {"timestamp": 1, "clusterId": "c"}, {"src": "p", "seq": 1})
        ovhtest.wait_until (lambda: tail.lines (), 10, "the tail's line", tail.show)
        self.assertEqual (tail.lines (), ['{"event":"autoscaling","timestamp":1,"clusterId":"c"}'])
        #   The consumer goes: its unsubscriptions reach the publisher
        code, log = tail.stop (signal.SIGTERM)
        self.assertEqual (code, 0, log)
        ovhtest.wait_until (lambda: (publisher.collect (0.05), not publisher.subscribed ()) [1], 10,
                            "the unsubscriptions", lambda: repr (publisher.subscriptions))
        self.assertIn (b"\x00nodeCrashed", publisher.subscriptions)

    def test_restart_of_the_proxy (self):
        proxy, front, back = self.proxy ()
        tail = self.tool ("ovhook-tail", ["--bus", ">tcp://127.0.0.1:%d" % back, "--envelope"])
        publisher = self.publisher ("tcp://127.0.0.1:%d" % front, ovhtest.ALL_EVENTS)
        body = {"timestamp": 1, "sessionId": "s"}
        publisher.send ("sessionCreated", body, {"src": "p", "seq": 1})
        ovhtest.wait_until (lambda: len (tail.lines ()) == 1, 10, "first line", tail.show)
        code, log = proxy.stop (signal.SIGTERM)
        self.assertEqual (code, 0, log)
        #   Sent while the proxy is away: the publisher queues it for the
        #   reconnection, but the new proxy passes it on only if the tail
        #   is back first (whoever reconnects first wins): it may be lost
        publisher.send ("sessionCreated", body, {"src": "p", "seq": 2})
        self.proxy (front, back)
        #   Both sides reconnect on their own (100 ms, backing off to 5 s);
        #   the tail's subscriptions reach the publisher again
        publisher.subscriptions.clear ()
        publisher.wait_subscribed (ovhtest.ALL_EVENTS, timeout=15)
        publisher.send ("sessionCreated", body, {"src": "p", "seq": 3})
        ovhtest.wait_until (lambda: tail.lines () [-1].endswith ("\tp\t3"), 10,
                            "the line after the restart", tail.show)
        #   Every seq was either printed or reported lost
        seqs = [int (line.rsplit ("\t", 1) [1]) for line in tail.lines ()]
        if seqs == [1, 3]:
            tail.wait_log (r"ovhook-tail: lost 1 message\(s\) on the bus: sessionCreated "
                           r"from src p \(seq 1 → 3\)")
        else:
            self.assertEqual (seqs, [1, 2, 3])
            self.assertNotIn ("lost", tail.log ())

    def test_hwm_and_stats_flags (self):
        proxy, front, back = self.proxy (args=["--sndhwm", 10, "--rcvhwm", 20,
                                               "--stats-interval", "1s"])
        self.assertIn ("hwm 10/20", proxy.ready_line)
        self.assertRegex (proxy.ready_line, r"ready: frontend @tcp://127.0.0.1:%d \(publishers\), "
                          r"backend @tcp://127.0.0.1:%d \(consumers\)" % (front, back))
        #   No traffic, no stats line
        time.sleep (1.3)
        self.assertNotIn ("stats:", proxy.log ())
        code, log = proxy.stop (signal.SIGTERM)
        self.assertEqual (code, 0, log)
        self.assertIn ("stopped: forwarded 0 messages (0 bytes)", log)

    def test_errors (self):
        for args, text in (
                (["--frontend", "tcp://127.0.0.1"], "invalid frontend endpoint 'tcp://127.0.0.1': "),
                (["--backend", "@foo://x"], "invalid backend endpoint '@foo://x': "),
                (["--frontend", ""], "invalid frontend endpoint '': "),
                (["--sndhwm", "-1"], "--sndhwm needs a number"),
                (["--stats-interval", "soon"], "--stats-interval needs a duration"),
                (["--stats-interval", "0"], "--stats-interval needs a duration"),
                (["--backend"], "--backend needs a value"),
                (["--bus", "x"], "unknown option '--bus'"),
                (["extra"], "unexpected argument 'extra'")):
            code, out, err = ovhtest.run_program ("ovhook-proxy", args)
            self.assertEqual (code, 2, (args, err))
            self.assertTrue (err.startswith ("ovhook-proxy: " + text), (args, err))
        #   A port in use: it cannot run (1), and says which side
        proxy, front, back = self.proxy ()
        code, out, err = ovhtest.run_program ("ovhook-proxy", [
            "--frontend", "@tcp://127.0.0.1:%d" % ovhtest.free_port (),
            "--backend", "@tcp://127.0.0.1:%d" % back])
        self.assertEqual (code, 1, err)
        self.assertIn ("ovhook-proxy: cannot open backend '@tcp://127.0.0.1:%d': "
                       "Address already in use" % back, err)
        code, out, err = ovhtest.run_program ("ovhook-proxy", ["--help"])
        self.assertEqual (code, 0)
        self.assertIn ("--stats-interval", out)


if __name__ == "__main__":
    ovhtest.main ()
