"""test_ha_shards - scale-out (docs/ha.md): two bridges behind one proxy,
OVHOOK_SHARD=0/2 and 1/2, each with its own receiver and its own spool.
Every event is delivered exactly once by exactly one of them: the two sets
are disjoint, their union is everything published, each session goes
whole to the shard FNV-1a 64 of its id mod 2 names (computed here in
Python: the documented function), in publish order; each bridge counts
the other's events as dropped "other-shard".

Publishers, in their own processes: ovhook-inject --json (libovhook) and
topology.py pypublish (pyzmq + msgpack), both through the proxy.

Run with Debian's /usr/bin/python3; $OVHOOK_BIN holds the binaries.
"""

import os
import signal
import sys

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest                                      # noqa: E402
import topology                                     # noqa: E402
import hapaths                                      # noqa: E402

TOPICS = ["sessionCreated", "participantJoined", "signalSent", "participantLeft",
          "sessionDestroyed"]


def fnv1a64 (data):
    """docs/ha.md's shard function, written from its text"""
    value = 14695981039346656037
    for byte in data:
        value = ((value ^ byte) * 1099511628211) % 2 ** 64
    return value


def shard_of (session, count):
    return fnv1a64 (session.encode ()) % count


class ShardTest (ovhtest.BridgeTestCase):

    def test_two_shards_share_the_sessions (self):
        front, back = ovhtest.free_port (), ovhtest.free_port ()
        proxy = topology.program (self, "proxy", "ovhook-proxy", [
            "--frontend", "@tcp://127.0.0.1:%d" % front,
            "--backend", "@tcp://127.0.0.1:%d" % back])
        bridges, receivers = [], []
        for shard in range (2):
            receiver = self.receiver ()
            env = self.webhook_env (receiver.url (), ">tcp://127.0.0.1:%d" % back,
                                    OVHOOK_SHARD="%d/2" % shard,
                                    OVHOOK_SPOOL=os.path.join (self.tmp, "spool-%d.db" % shard))
            bridge = topology.program (self, "bridge-%d" % shard, "ovhook-bridge", env=env)
            self.assertIn ("shard %d of 2" % shard, bridge.log ())
            bridges.append (bridge)
            receivers.append (receiver)
        #   One warm-up session per shard, so that each bridge keeps one
        warm = []
        for shard in range (2):
            warm.append (next ("warmup-%d" % n for n in range (100)
                               if shard_of ("warmup-%d" % n, 2) == shard))
        bodies = lambda receiver: lambda: [r.body for r in receiver.requests]
        hapaths.warm_up (self, ["tcp://127.0.0.1:%d" % front] * 2, TOPICS,
                         [("bridge-%d" % shard, bodies (receivers [shard]), [warm [shard]])
                          for shard in range (2)], warm)

        feeds = [topology.Feed ("inject", "json", "pub/inject",
                                topology.session_lines ("i", 30, 3)),
                 topology.Feed ("pypublish", "json", "pub/py",
                                topology.session_lines ("p", 30, 3, base=1710000000000))]
        total = sum (len (feed.lines) for feed in feeds)
        publishers = [
            feeds [0].command (self, ">tcp://127.0.0.1:%d" % front),
            topology.script (self, "pypublish", [
                "pypublish", "--connect", "tcp://127.0.0.1:%d" % front, "--subscribers", 1,
                "--src", "pub/py",
                "--input", hapaths.pypublish_input (self, "py", feeds [0 + 1].lines)],
                ready=False)]
        for proc in publishers:
            proc.finish (60)
        real = lambda receiver: [b for b in bodies (receiver) () if not hapaths.is_warm (b)]
        everyone = lambda: "\n".join (p.show () for p in [proxy] + bridges + publishers)
        ovhtest.wait_until (lambda: sum (len (real (r)) for r in receivers) >= total, 30,
                            "%d events at the two receivers" % total, everyone)
        proxy.halt (signal.SIGTERM)
        stats = [ovhtest.parse_stopped (bridge.halt (signal.SIGTERM)) for bridge in bridges]

        got = [real (receiver) for receiver in receivers]
        #   Disjoint, and each session whole in the shard its hash names
        for shard in range (2):
            sessions = {topology.session_of (body) for body in got [shard]}
            self.assertTrue (sessions, "shard %d got nothing" % shard)
            for session in sessions:
                self.assertEqual (shard_of (session, 2), shard, session)
        self.assertFalse ({topology.session_of (b) for b in got [0]}
                          & {topology.session_of (b) for b in got [1]})
        #   Union = everything, once, per session in order (one receiver
        #   after the other keeps each session's order: it is in one only)
        topology.check_sessions (self, feeds, got [0] + got [1], "the two receivers")
        #   (one proxy: no rejoining path, order is exact)
        for shard in range (2):
            #   Warm-up events included: the other's are dropped too
            self.assertEqual (stats [shard] ["delivered"], len (bodies (receivers [shard]) ()),
                              stats [shard])
            self.assertGreater (stats [shard] ["reasons"].get ("other-shard", 0),
                                len (got [1 - shard]), stats [shard])
            self.assertEqual (set (stats [shard] ["reasons"]), {"other-shard"}, stats [shard])
            self.assertEqual (stats [shard] ["extra"].get ("lost on bus", 0), 0, stats [shard])
        sys.stderr.write ("\nfigures: %d events; shard 0 delivered %d (%d sessions), "
                          "shard 1 delivered %d (%d sessions)\n"
                          % (total, len (got [0]), len ({topology.session_of (b) for b in got [0]}),
                             len (got [1]), len ({topology.session_of (b) for b in got [1]})))


if __name__ == "__main__":
    ovhtest.main ()
