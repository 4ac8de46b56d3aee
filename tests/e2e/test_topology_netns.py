"""test_topology_netns - several hosts: the proxy topology of
test_topology_proxy with every host in its own network namespace.

  ovhtopo<pid>-pubA    10.231.7.2    ovhook-inject --scenario, ovhook-inject --json,
                                     the warm-up publisher
  ovhtopo<pid>-pubB    10.231.7.6    ovhook-inject --scenario, ovh-test-publish
  ovhtopo<pid>-proxy   10.231.7.1, .5 (frontend :5560), .9, .13 (backend :5561)
  ovhtopo<pid>-bridge  10.231.7.10   ovhook-bridge --bus '>tcp://10.231.7.9:5561'
                                     + the HTTP receiver (topology.py receiver,
                                     a process of its own, on that namespace's
                                     127.0.0.1)
  ovhtopo<pid>-tails   10.231.7.14   ovhook-tail (every type), ovhook-tail
                                     (sessionCreated + sessionDestroyed)

Each host namespace is joined to the proxy's by a veth pair (a /30 each, in
10.231.7.0/24): the proxy is the only way between them, and nothing leaves
these namespaces (the test's own namespace uses loopback only, for the
reference runs of the scenarios). Same checks as test_topology_proxy, plus
traffic counters on the veths.

Needs root and a kernel that allows network namespaces and veth pairs:
otherwise the test is SKIPPED with the reason (exit status 77 when every
test was skipped, which ctest reports as skipped), never passed. The
namespaces (and what runs in them) are removed in every case: at the test's
cleanup, at exit, on SIGTERM; those of an earlier run killed outright
(pid gone) are removed at the next run.

Run with Debian's /usr/bin/python3; $OVHOOK_BIN holds the binaries.
"""

import os
import re
import signal
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest                                      # noqa: E402
import topology                                     # noqa: E402

NET = "10.231.7."


class NetnsTopologyTest (ovhtest.BridgeTestCase):

    def setUp (self):
        super ().setUp ()
        reason = topology.Namespaces.unavailable ()
        if reason:
            self.skipTest (reason)
        self.ns = topology.Namespaces ()
        self.addCleanup (self.ns.delete)

    def hosts (self, keys=None):
        """The namespaces and links of the docstring; returns the Place."""
        ns = self.ns
        proxy = ns.add ("proxy")
        hosts = {role: ns.add (role) for role in ("pubA", "pubB", "bridge", "tails")}
        for k, role in enumerate (("pubA", "pubB", "bridge", "tails")):
            ns.link (proxy, NET + str (4 * k + 1), hosts [role], NET + str (4 * k + 2))
        return topology.Place (
            "@tcp://%s1:5560,@tcp://%s5:5560" % (NET, NET),
            "@tcp://%s9:5561,@tcp://%s13:5561" % (NET, NET),
            ["tcp://%s1:5560" % NET, "tcp://%s5:5560" % NET],
            {hosts ["bridge"]: "tcp://%s9:5561" % NET, hosts ["tails"]: "tcp://%s13:5561" % NET},
            proxy_ns=proxy, bridge_ns=hosts ["bridge"], tail_ns=hosts ["tails"],
            pub_ns=[hosts ["pubA"], hosts ["pubB"]], keys=keys)

    def test_publishers_proxy_bridge_tails_on_four_hosts (self):
        feeds = [topology.scenario_feed (self, "inject-scenario-a", "hostA/scenario", 301, 3, 3),
                 topology.scenario_feed (self, "inject-scenario-b", "hostB/scenario", 302, 2, 4),
                 topology.Feed ("inject-json", "json", "hostA/json",
                                topology.session_lines ("na", 8, 4)),
                 topology.Feed ("libovhook", "libovhook", "hostB/libovhook",
                                topology.session_lines ("nb", 8, 4))]
        place = self.hosts ()
        #   Feeds go to publisher hosts in turn: a, json on pubA; b, libovhook on pubB
        before = {role: self.ns.rx_bytes (place.proxy_ns, "to-" + role)
                  for role in ("pubA", "pubB", "bridge", "tails")}
        result = topology.run_cluster (self, place, feeds)
        self.assertEqual (result ["total"], 96 + 98 + 2 * 112)
        #   The events crossed the veths: the proxy read at least the bodies
        #   from each publisher host (the consumers' links carry subscriptions)
        for role, feed_names in (("pubA", (0, 2)), ("pubB", (1, 3))):
            payload = sum (len (line) for i in feed_names for line in feeds [i].lines)
            grown = self.ns.rx_bytes (place.proxy_ns, "to-" + role) - before [role]
            self.assertGreater (grown, payload // 2, role)
        #   ... and none of these links or addresses is in the test's own
        #   namespace: nothing leaves the namespaces made for the test
        own = topology._ip ("-o", "addr", "show").stdout.decode ()
        self.assertNotIn (NET, own)
        self.assertNotIn ("to-", own)

    def test_curve_everywhere (self):
        """The same cluster with CURVE on every connection (issue 12): the
        proxy lets in the publisher hosts' keys at its frontend and the
        consumers' at its backend; each publisher host's key owns only its
        own src values (hostA/, hostB/). Every event arrives as in the
        plaintext run, and every handshake succeeded."""
        feeds = [topology.scenario_feed (self, "inject-scenario-a", "hostA/scenario", 311, 2, 3),
                 topology.scenario_feed (self, "inject-scenario-b", "hostB/scenario", 312, 2, 2),
                 topology.Feed ("inject-json", "json", "hostA/json",
                                topology.session_lines ("ca", 6, 3)),
                 topology.Feed ("libovhook", "libovhook", "hostB/libovhook",
                                topology.session_lines ("cb", 6, 3))]
        keys = topology.ClusterKeys (self, ["hostA/", "hostB/"])
        place = self.hosts (keys)
        result = topology.run_cluster (self, place, feeds)
        self.assertEqual (result ["total"], sum (len (feed.lines) for feed in feeds))
        logs = {path: open (os.path.join (self.tmp, path)).read ()
                for path in ("proxy.log", "bridge.log", "tail-all.log")}
        self.assertRegex (logs ["proxy.log"], r"\(publishers, CURVE\).*\(consumers, CURVE\)")
        self.assertRegex (logs ["proxy.log"], r"handshakes refused: 0 at the frontend, 0 at the "
                          r"backend; 0 messages dropped", logs ["proxy.log"])
        for path, text in logs.items ():
            self.assertNotRegex (text, r"(?m)^W:|^E:|does not decrypt|disagree on CURVE|"
                                 r"src-not-allowed", path + "\n" + text)
        self.assertRegex (logs ["bridge.log"],
                          r"bus handshakes with the server \(CURVE\): succeeded [1-9]\d*, failed 0",
                          logs ["bridge.log"])

    def test_proxy_host_vanishes_and_comes_back (self):
        """The proxy's host vanishes without a word (its links go first, so
        no FIN or RST reaches anyone, then the process and the namespace)
        while a publisher keeps publishing; 2 s later a new proxy host comes
        up at the same addresses. The publisher, the bridge and a tail,
        which only connect, notice and reconnect by themselves; every seq
        the publisher sent is either received or reported lost, by the
        tail and the bridge alike."""
        ns = self.ns
        roles = ("pubA", "bridge", "tails")
        hosts = {role: ns.add (role) for role in roles}

        def proxy_host (name):
            proxy_ns = ns.add (name)
            for k, role in enumerate (roles):
                ns.link (proxy_ns, NET + str (4 * k + 1), hosts [role], NET + str (4 * k + 2))
            return proxy_ns, topology.program (self, name, "ovhook-proxy", [
                "--frontend", "@tcp://%s1:5560" % NET,
                "--backend", "@tcp://%s5:5561,@tcp://%s9:5561" % (NET, NET)], netns=proxy_ns)

        first_ns, first = proxy_host ("proxy1")
        receiver = topology.ReceiverProcess (self, hosts ["bridge"])
        bridge = topology.program (self, "bridge", "ovhook-bridge", env=self.webhook_env (
            receiver.url (), ">tcp://%s5:5561" % NET), netns=hosts ["bridge"])
        tail = topology.program (self, "tail", "ovhook-tail", [
            "--bus", ">tcp://%s9:5561" % NET, "--envelope", "sessionCreated"],
            netns=hosts ["tails"])
        place = topology.Place (None, None, ["tcp://%s1:5560" % NET], {},
                                pub_ns=[hosts ["pubA"]])
        bodies = lambda: [r.body for r in receiver.requests]
        real_bodies = lambda: [b for b in bodies () if not topology.is_warmup (b)]
        out = lambda: [line.encode () for line in tail.lines ()]
        warm = topology.warm_up (self, place, [("bridge", ["sessionCreated"], bodies),
                                               ("tail", ["sessionCreated"], out)],
                                 ["sessionCreated"])
        publisher = topology.program (self, "steady", "ovhook-inject", [
            "--bus", ">tcp://%s1:5560" % NET, "--src", "hostA/steady", "--count", 0,
            "--rate", 25, "sessionCreated", "sessionId=ses_steady"],
            netns=hosts ["pubA"], ready=False)

        def seqs ():
            return [int (line.rsplit ("\t", 1) [1]) for line in tail.lines ()
                    if line.endswith ("\thostA/steady\t" + line.rsplit ("\t", 1) [1])]
        ovhtest.wait_until (lambda: len (seqs ()) >= 10, 10, "10 events at the tail", tail.show)
        for role in roles:
            topology._ip ("-n", first_ns, "link", "del", "to-" + role)
        first.kill ()
        ns.remove (first_ns)
        time.sleep (2)
        #   Everything sent before the host vanished has arrived by now
        tail_before = max (seqs ())
        bridge_before = len (real_bodies ())
        second_ns, second = proxy_host ("proxy2")
        started = time.monotonic ()
        #   Publishing never stopped: once each consumer is back, new events
        #   reach it (how long each took is measured)
        back = {}
        def both_back ():
            now = time.monotonic () - started
            if max (seqs ()) > tail_before:
                back.setdefault ("tail", now)
            if len (real_bodies ()) > bridge_before:
                back.setdefault ("bridge", now)
            return len (back) == 2
        ovhtest.wait_until (both_back, 30, "events through the new proxy at tail and bridge",
                            lambda: "back: %r\n%s%s%s" % (back, tail.show (), bridge.show (),
                                                          publisher.show ()))
        err = publisher.halt (signal.SIGINT)
        sent = int (re.search (r"sent (\d+) events", err).group (1))
        ovhtest.wait_until (lambda: max (seqs ()) == sent, 10, "the last seq %d" % sent,
                            tail.show)
        last = tail.lines () [-1].split ("\t") [0].encode ()
        ovhtest.wait_until (lambda: last in real_bodies (), 10, "the last event at the bridge",
                            bridge.show)
        code, tail_log = tail.stop (signal.SIGTERM)
        self.assertEqual (code, 0, tail_log)
        stats = ovhtest.parse_stopped (bridge.halt (signal.SIGTERM))
        second.halt (signal.SIGTERM)

        #   The tail: seqs in order; each gap reported, exactly
        printed = seqs ()
        self.assertEqual (printed, sorted (set (printed)))
        self.assertEqual (printed [0], 1)
        gaps = [(a, b) for a, b in zip (printed, printed [1:]) if b != a + 1]
        reported = re.findall (r"ovhook-tail: lost (\d+) message\(s\) on the bus: "
                               r"sessionCreated from src hostA/steady \(seq (\d+) → (\d+)\)",
                               tail_log)
        self.assertEqual ([(int (a), int (b)) for n, a, b in reported], gaps, tail_log)
        self.assertEqual (len (printed) + sum (int (n) for n, a, b in reported), sent)
        #   The bridge: delivered what it received, the rest counted as lost
        real = real_bodies ()
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["failed"],
                           stats ["dropped"]), (len (bodies ()), len (bodies ()), 0, 0))
        self.assertEqual (len (real) + stats ["extra"] ["lost on bus"], sent,
                          "%d delivered + %d lost != %d sent\n%s" % (
                              len (real), stats ["extra"] ["lost on bus"], sent, bridge.show ()))
        lost_lines = re.findall (r"lost (\d+) message\(s\) on the bus: sessionCreated from src "
                                 r"hostA/steady", bridge.log ())
        self.assertEqual (sum (map (int, lost_lines)), stats ["extra"] ["lost on bus"])
        print ("\n  proxy host away 2 s; events flowed again %.1f s (tail), %.1f s (bridge) "
               "after the new proxy; sent %d, tail lost %d, bridge lost %d, warm-up %d"
               % (back ["tail"], back ["bridge"], sent, sent - len (printed),
                  stats ["extra"] ["lost on bus"], warm), file=sys.stderr)


if __name__ == "__main__":
    topology.main ()
