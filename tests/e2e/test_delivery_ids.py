"""Event ids and timestamps (Standard Webhooks headers): every request has
webhook-id 'evt_' + 32 hex and webhook-timestamp (Unix seconds, now); the id
is the same on every retry of an event and differs between events; with an
envelope it is derived from (src, topic, seq, epoch), so two bridges that
receive the same event send the same id, and two runs of a publisher that
reuse a src (ovhook-inject --src, seq restarting at 1) give their events
different ids; an envelope without epoch (older publishers) keeps the rule
(src, topic, seq); without envelope the id is random."""

import json
import os
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery


def fail_twice (sessions):
    """Plan: the events of 'sessions' get 500 on attempts 1 and 2."""
    return lambda body, attempt, request: (
        500 if body.get ("sessionId") in sessions and attempt <= 2 else 200)


class IdsTest (ovhtest.BridgeTestCase):

    def setup_ids (self, plan=None, args=()):
        attempts = delivery.Attempts (plan) if plan else delivery.Attempts ()
        receiver, bridge, publisher = self.bridge_setup (
            attempts, events=ovhtest.ALL_EVENTS, args=delivery.FAST_RETRY + list (args))
        return receiver, bridge, delivery.SeqPublisher (publisher, "ids-test/%d" % os.getpid ())

    def check_headers (self, request):
        """One webhook-id of the right form, one webhook-timestamp near now."""
        ids = request.header ("webhook-id")
        self.assertEqual (len (ids), 1, request.headers)
        self.assertRegex (ids [0], delivery.ID_RE)
        stamps = request.header ("webhook-timestamp")
        self.assertEqual (len (stamps), 1, request.headers)
        self.assertRegex (stamps [0], r"^[0-9]+$")
        self.assertLess (abs (int (stamps [0]) - time.time ()), 5,
                         "webhook-timestamp %s is not now (%d)" % (stamps [0], time.time ()))
        return ids [0]

    def test_headers_and_envelope_ids (self):
        receiver, bridge, publisher = self.setup_ids ()
        sent = {}                       #   webhook JSON (canonical) -> id or None
        for line in ovhtest.examples ():
            body = json.loads (line)
            topic = body.pop ("event")
            msg_id = publisher.send (topic, body)
            sent [json.dumps (dict (event=topic, **body), sort_keys=True)] = msg_id
        for n in range (5):
            body = {"timestamp": 1700000000000 + n, "sessionId": "ses_raw%d" % n}
            publisher.send ("sessionCreated", body, envelope=False)
            sent [json.dumps (dict (event="sessionCreated", **body), sort_keys=True)] = None
        requests = receiver.wait_for (20, log=bridge.show)
        time.sleep (0.3)
        self.assertEqual (len (receiver.requests), 20, "a request came twice")
        seen = set ()
        for request in requests:
            msg_id = self.check_headers (request)
            self.assertEqual (request.header ("webhook-signature"), [],
                              "a signature without a secret")
            expected = sent [json.dumps (request.json (), sort_keys=True)]
            if expected is not None:
                #   Derived from the envelope: computed here with hashlib
                self.assertEqual (msg_id, expected, request.body)
            seen.add (msg_id)
        self.assertEqual (len (seen), 20, "ids are not unique: %r" % sorted (seen))
        #   Events of one src and topic differ by seq only: still different ids
        self.assertEqual (len ({r ["id"] for r in publisher.sent if r ["id"]}), 15)

    def test_same_id_on_retries (self):
        receiver, bridge, publisher = self.setup_ids (fail_twice ({"ses_retry", "ses_raw"}))
        retried = publisher.send ("sessionCreated", {"timestamp": 1, "sessionId": "ses_retry"})
        publisher.send ("sessionCreated", {"timestamp": 2, "sessionId": "ses_raw"}, envelope=False)
        others = [publisher.send ("sessionCreated", {"timestamp": 3 + n, "sessionId": "ses_o%d" % n})
                  for n in range (3)]
        receiver.wait_for (9, log=bridge.show)
        bridge.wait_log (r"E: .*key ses_raw, id evt_\w+, attempt 2/8", what="2nd E: of ses_raw")
        time.sleep (0.5)                #   a 4th attempt would come within 350 ms
        requests = receiver.requests
        self.assertEqual (len (requests), 9, requests)
        attempts = delivery.by_id (delivery.hits (receiver))
        for request in requests:
            self.check_headers (request)
        #   The enveloped event: 3 attempts, the id computed from the envelope
        self.assertEqual (len (attempts [retried]), 3, list (attempts))
        self.assertEqual (len ({h.body for h in attempts [retried]}), 1)
        #   The random id is kept across retries too
        raw = [msg_id for msg_id, h in attempts.items ()
               if h [0].json () ["sessionId"] == "ses_raw"]
        self.assertEqual (len (raw), 1, "ses_raw's attempts carry different ids: %r" % (
            [(h.id, h.body) for h in delivery.hits (receiver)]))
        self.assertEqual (len (attempts [raw [0]]), 3)
        #   Other events: one attempt each, ids of their own
        for msg_id in others:
            self.assertEqual (len (attempts [msg_id]), 1)
        self.assertEqual (len (attempts), 5)
        #   The log names the id of each failed attempt
        log = bridge.log ()
        for msg_id in (retried, raw [0]):
            lines = delivery.error_lines (log, r"id %s\b" % msg_id)
            self.assertEqual (len (lines), 2, log)
            self.assertRegex (lines [0], r"attempt 1/8; retry in ")
            self.assertRegex (lines [1], r"attempt 2/8; retry in ")

    def test_inject_twice_same_src (self):
        """ovhook-inject run twice with one --src: each run starts at seq 1,
        but draws its own epoch, so different events get different ids (a
        de-duplicating receiver keeps both)"""
        receiver = self.receiver ()
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (receiver.url (), bind), delivery.FAST_RETRY)
        for session in ("ses_run1", "ses_run2"):
            code, out, err = ovhtest.run_program ("ovhook-inject", [
                "--bus", ">" + connect, "--src", "media-node-1",
                "sessionCreated", "sessionId=" + session])
            self.assertEqual (code, 0, err)
        requests = receiver.wait_for (2, log=bridge.show)
        time.sleep (0.3)
        self.assertEqual (len (receiver.requests), 2)
        ids = {r.json () ["sessionId"]: self.check_headers (r) for r in requests}
        self.assertEqual (set (ids), {"ses_run1", "ses_run2"})
        self.assertNotEqual (ids ["ses_run1"], ids ["ses_run2"],
                             "two events of two runs share one id")
        #   Neither is the id of the old rule (src, topic, seq) alone
        self.assertNotIn (delivery.envelope_id ("media-node-1", "sessionCreated", 1),
                          ids.values ())
        #   The bridge saw a restart, not a loss or a step back
        log = bridge.log ()
        self.assertRegex (log, r"I: .*publisher media-node-1 restarted \(sessionCreated "
                               r"seq 1 after 1, new epoch\)")
        self.assertNotRegex (log, r"went back|lost \d+ message")

    def test_old_envelope_without_epoch (self):
        """An envelope of protocol 1 without epoch is still accepted; its id
        follows the old rule, SHA-256 (src 0x00 topic 0x00 seq)"""
        receiver, bridge, publisher = self.setup_ids ()
        old = delivery.SeqPublisher (publisher.publisher, "old-test/%d" % os.getpid (),
                                     epoch=False)
        #   One session: delivered in publish order, so ids compare as lists
        sent = [old.send ("sessionCreated", {"timestamp": n, "sessionId": "ses_old"})
                for n in range (3)]
        self.assertEqual (sent [0], delivery.envelope_id (old.src, "sessionCreated", 1))
        requests = receiver.wait_for (3, log=bridge.show)
        self.assertEqual ([self.check_headers (r) for r in requests], sent)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        stopped = ovhtest.parse_stopped (log)
        self.assertEqual ((stopped ["received"], stopped ["dropped"]), (3, 0), log)

    def test_two_bridges_same_id (self):
        """A redundant pair: one publisher connected to two bridges; both send
        an enveloped event with the same id, so the receiver can drop one."""
        receiver = self.receiver ()
        buses = [self.bus () for _ in range (2)]
        bridges = [self.start_bridge (self.webhook_env (receiver.url (), bind), delivery.FAST_RETRY)
                   for bind, connect in buses]
        xpub = self.publisher (buses [0][1])
        xpub.socket.connect (buses [1][1])
        wanted = [b"\x01" + t.encode () for t in ovhtest.DEFAULT_EVENTS]
        ovhtest.wait_until (lambda: (xpub._pump (50) or True) and all (
            xpub.subscriptions.count (w) >= 2 for w in wanted), 10,
            "subscriptions of both bridges", lambda: repr (xpub.subscriptions))
        #   Envelopes with an epoch (a random one, as libovhook's)
        publisher = delivery.SeqPublisher (xpub, "pair-test/%d" % os.getpid ())
        self.assertIsInstance (publisher.epoch, int)
        for n in range (10):
            publisher.send ("participantJoined", {"timestamp": n, "sessionId": "ses_%d" % (n % 3),
                                                  "connectionId": "con_%d" % n})
        for n in range (2):
            publisher.send ("sessionCreated", {"timestamp": n, "sessionId": "ses_raw%d" % n},
                            envelope=False)
        receiver.wait_for (24, log=lambda: bridges [0].show () + bridges [1].show ())
        time.sleep (0.3)
        copies = {}
        for request in receiver.requests:
            canonical = json.dumps (request.json (), sort_keys=True)
            copies.setdefault (canonical, []).append (request.header ("webhook-id") [0])
        self.assertEqual (len (copies), 12)
        for record in publisher.sent:
            body = json.dumps (dict (event=record ["topic"], **record ["body"]), sort_keys=True)
            ids = copies [body]
            self.assertEqual (len (ids), 2, "%s came %d times" % (body, len (ids)))
            if record ["id"]:
                self.assertEqual (ids, [record ["id"]] * 2, body)
            else:
                #   No envelope: each bridge draws its own random id
                self.assertNotEqual (ids [0], ids [1], body)
        for bridge in bridges:
            code, log = bridge.stop ()
            self.assertEqual (code, 0, log)


if __name__ == "__main__":
    ovhtest.main ()
