"""OPENVIDU_WEBHOOK_EVENTS: the bridge subscribes to exactly the enabled
topics and delivers only those."""

import json
import os
import sys

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

SUBSET = ["sessionCreated", "participantJoined", "recordingStatusChanged", "nodeCrashed"]


class FilterTest (ovhtest.BridgeTestCase):

    def subscriptions_of (self, events):
        """Start a bridge with 'events' (None: default); return it, its
        receiver, its bus endpoint and the subscription messages a new XPUB
        saw within 1 s."""
        receiver = self.receiver ()
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (receiver.url (), bind, events))
        publisher = self.publisher (connect)
        return bridge, receiver, connect, publisher, publisher.collect (1.0)

    def test_subscriptions_are_exactly_the_enabled_topics (self):
        bridge, receiver, connect, publisher, seen = self.subscriptions_of (SUBSET)
        self.assertNotIn (b"\x01", seen, "an empty subscription takes every message")
        self.assertEqual (sorted (seen), sorted (b"\x01" + e.encode () for e in SUBSET))
        self.assertIn ("4 event types", bridge.ready_line)

    def test_default_subscriptions_leave_out_ha_events (self):
        bridge, receiver, connect, publisher, seen = self.subscriptions_of (None)
        self.assertEqual (sorted (seen), sorted (b"\x01" + e.encode ()
                                                 for e in ovhtest.DEFAULT_EVENTS))
        self.assertIn ("15 event types", bridge.ready_line)
        #   HANodeRegistered is documented but off by default: published by a
        #   separate process, it must not arrive; sessionCreated must
        lines = ovhtest.examples ()
        ha = [l for l in lines if b'"HANode' in l]
        self.assertEqual (len (ha), 2)
        code, out, err = ovhtest.test_publish (">" + connect, ha + [lines [0]],
                                               ["--join-timeout", "3000"])
        self.assertEqual (code, 0, err)
        receiver.wait_for (1, log=bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0)
        self.assertEqual ([r.body for r in receiver.requests], [lines [0]])

    def test_only_enabled_events_arrive (self):
        bridge, receiver, connect, publisher, seen = self.subscriptions_of (SUBSET)
        lines = ovhtest.examples ()
        wanted = [l for l in lines if json.loads (l) ["event"] in SUBSET]
        self.assertEqual (len (wanted), 4)
        #   From a separate process: every example, enabled or not
        code, out, err = ovhtest.test_publish (">" + connect, lines)
        self.assertEqual (code, 0, err)
        #   From pyzmq: a topic sharing a prefix with an enabled one passes
        #   ZeroMQ's prefix filter; the bridge must compare the whole frame
        body = {"timestamp": 1, "sessionId": "ses_prefix"}
        publisher.wait_subscribed (SUBSET)
        publisher.send ("sessionCreatedX", body)
        publisher.send ("sessionCreated", body)
        bridge.wait_log (r"dropped message: unknown-topic\b.*", what="unknown-topic drop")
        receiver.wait_for (len (wanted) + 1, log=bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        bodies = [r.body for r in receiver.requests]
        self.assertEqual (sorted (bodies), sorted (wanted + [b'{"event":"sessionCreated",'
                                                             b'"timestamp":1,"sessionId":"ses_prefix"}']))
        self.assertIn ("sessionCreatedX", bridge.wait_log (r"dropped message: unknown-topic.*").group (0))
        stats = ovhtest.parse_stopped (log)
        self.assertEqual (stats ["dropped"], 1, log)
        self.assertEqual (stats ["reasons"].get ("unknown-topic"), 1, log)

    def test_empty_list_subscribes_to_nothing (self):
        receiver = self.receiver ()
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (receiver.url (), bind, []), ready=False)
        publisher = self.publisher (connect)
        seen = publisher.collect (1.0)
        #   "[] means no event is sent": whether it idles or exits, it must
        #   never subscribe (an empty subscription would take every message)
        self.assertEqual (seen, [], bridge.show ())
        if bridge.alive ():
            bridge.wait_log (r"ready:.*0 event types")
            code, log = bridge.stop ()
        else:
            code = bridge.wait_exit ()
        self.assertEqual (code, 0, bridge.show ())
        self.assertEqual (receiver.requests, [])


if __name__ == "__main__":
    ovhtest.main ()
