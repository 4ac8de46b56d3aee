"""test_topology_local - one host, no proxy: many publisher processes at
once -> ovhook-bridge (bound, as by default) -> a real HTTP receiver.

Publishers, every one a separate process, all started together:
  3 x ovhook-inject --scenario session, distinct --seed, paced with --rate
      so that they overlap (what each publishes is known from a reference
      run of the same seed into a bound ovhook-tail: same ids, same times
      relative to the start)
  2 x ovhook-inject --json FILE     made-up sessions, unique ids and times
  2 x ovh-test-publish              libovhook's publisher, same kind of lines
Checks: every event arrives exactly once, byte for byte; per session the
receiver's order is the publisher's order; nothing else arrives; the
bridge's summary counts them all (received = delivered, nothing failed,
dropped or undelivered) and it logs no seq gap; the publishers really ran
at the same time (their sessions interleave at the receiver).

Run with Debian's /usr/bin/python3; $OVHOOK_BIN holds the binaries.
"""

import os
import sys

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest                                      # noqa: E402
import topology                                     # noqa: E402


class LocalTopologyTest (ovhtest.BridgeTestCase):

    def test_many_publisher_processes_one_bridge (self):
        feeds = [topology.scenario_feed (self, "inject-scenario-%d" % i, "scenario/%d" % i,
                                         seed, 3, 3, ["--rate", 200])
                 for i, seed in enumerate ((11, 22, 33))]
        feeds += [topology.Feed ("inject-json-%d" % i, "json", "json/%d" % i,
                                 topology.session_lines ("j%d" % i, 10, 4))
                  for i in range (2)]
        feeds += [topology.Feed ("libovhook-%d" % i, "libovhook", "lib/%d" % i,
                                 topology.session_lines ("l%d" % i, 10, 4))
                  for i in range (2)]
        total = sum (len (feed.lines) for feed in feeds)
        self.assertEqual (total, 3 * 96 + 4 * 140)

        receiver = self.receiver ()
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (receiver.url (), bind))
        publishers = [feed.command (self, ">" + connect) for feed in feeds]
        for publisher in publishers:
            publisher.finish (60)
            self.assertNotIn ("warning", publisher.log (), publisher.show ())
        receiver.wait_for (total, 30, "every published event", bridge.show)

        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["failed"],
                           stats ["dropped"], stats ["undelivered"]),
                          (total, total, 0, 0, 0), log)
        self.assertNotRegex (log, r"lost \d+ message")
        self.assertEqual (stats ["extra"].get ("lost on bus", 0), 0, log)

        requests = receiver.requests
        self.assertEqual (len (requests), total)
        self.assertEqual ({r.path for r in requests}, {"/hook"})
        topology.check_sessions (self, feeds, [r.body for r in requests], "receiver")

        #   They ran at the same time: the scenario publishers' events
        #   alternate at the receiver many times, not one publisher after
        #   the other (3 blocks would make 2 changes)
        owner = {session: feed.name for feed in feeds [:3] for session in feed.sessions}
        order = [owner [s] for s in map (topology.session_of, (r.body for r in requests))
                 if s in owner]
        changes = sum (1 for a, b in zip (order, order [1:]) if a != b)
        self.assertGreater (changes, 10, "scenario publishers did not overlap: %r" % order)


if __name__ == "__main__":
    ovhtest.main ()
