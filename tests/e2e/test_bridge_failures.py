"""Failed deliveries, with --retries 0 (OpenVidu's behaviour): each gets one E: line naming the endpoint, the event
type and the key (never a header value), and the bridge goes on delivering."""

import os
import re
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

SECRET = "T0P-S3CRET-t0ken"
HEADERS = ["Authorization: Bearer " + SECRET, "X-Other: also-" + SECRET]
STATUS = {"ses_500": 500, "ses_404": 404, "ses_201": 201, "ses_204": 204, "ses_302": 302}


def responder (request):
    body = request.json ()
    if body.get ("mode") == "hang":
        return 200, 30
    return STATUS.get (body.get ("sessionId"), 200)


def event (session, topic="sessionCreated", **extra):
    return topic, dict ({"timestamp": 1700000000000, "sessionId": session}, **extra)


class FailuresTest (ovhtest.BridgeTestCase):

    def status_line (self, url, code, session, topic="sessionCreated", expected="200"):
        return (r"E: .*Unexpected HTTP status from callback endpoint %s: expected %s, "
                r"received %d \(event %s, key %s, id evt_[0-9a-f]{32}\)" % (re.escape (url), expected, code,
                                                       topic, session))

    def transport_line (self, url, session, topic="sessionCreated"):
        return (r"E: .*Error sending to callback endpoint %s: (.+) \(event %s, key %s, id evt_[0-9a-f]{32}\)"
                % (re.escape (url), topic, session))

    def test_bad_statuses_and_timeout (self):
        receiver, bridge, publisher = self.bridge_setup (
            responder, headers=HEADERS, args=["--request-timeout", "500"], OVHOOK_RETRIES="0")
        url = receiver.url ()
        for session in ("ses_500", "ses_404", "ses_201", "ses_302"):
            publisher.send (*event (session))
        publisher.send (*event ("ses_hang", mode="hang"))
        hang_sent = time.monotonic ()
        publisher.send (*event ("ses_hang", "participantJoined", connectionId="con_1"))
        for session in ("ses_ok1", "ses_ok2", "ses_500"):
            publisher.send (*event (session, "participantLeft"))
        for session in ("ses_500", "ses_404", "ses_201", "ses_302"):
            bridge.wait_log (self.status_line (url, STATUS [session], session),
                             what="E: line of " + session)
        bridge.wait_log (self.status_line (url, 500, "ses_500", "participantLeft"))
        m = bridge.wait_log (self.transport_line (url, "ses_hang"), what="timeout E: line")
        self.assertRegex (m.group (1), r"(?i)time.?out|timed out")
        requests = receiver.wait_for (9, log=bridge.show)
        #   The hanging request was given up after ~500 ms, then the next
        #   event of the same key went out
        hang = [r for r in requests if r.json () ["sessionId"] == "ses_hang"]
        self.assertEqual ([r.json () .get ("mode") for r in hang], ["hang", None])
        self.assertGreater (hang [1].time - hang [0].time, 0.4)
        self.assertLess (hang [1].time - hang_sent, 5)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertNotIn (SECRET, log, "a header value leaked into the log")
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["failed"]),
                          (9, 3, 6), log)
        self.assertEqual (len (re.findall (r"(?m)^E: ", log)), 6, log)

    def test_accept_2xx (self):
        receiver, bridge, publisher = self.bridge_setup (responder, args=["--accept-2xx"], OVHOOK_RETRIES="0")
        for session in ("ses_201", "ses_204", "ses_ok", "ses_500", "ses_302"):
            publisher.send (*event (session))
        receiver.wait_for (5, log=bridge.show)
        bridge.wait_log (r"E: .*received 500 \(event sessionCreated, key ses_500, id evt_[0-9a-f]{32}\)")
        bridge.wait_log (r"E: .*received 302 \(event sessionCreated, key ses_302, id evt_[0-9a-f]{32}\)")
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertNotRegex (log, r"key ses_20[14],")
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["delivered"], stats ["failed"]), (3, 2), log)

    def test_refused_then_listening (self):
        port = ovhtest.free_port ()
        url = "http://127.0.0.1:%d/hook" % port
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (url, bind, headers=HEADERS, OVHOOK_RETRIES="0"))
        publisher = self.publisher (connect, ovhtest.DEFAULT_EVENTS)
        for session in ("ses_r1", "ses_r2", "ses_r1"):
            publisher.send (*event (session))
        bridge.wait_log (self.transport_line (url, "ses_r2"))
        lines = ovhtest.wait_until (
            lambda: (lambda l: len (l) >= 3 and l) (
                re.findall (self.transport_line (url, "ses_r[12]"), bridge.log ())),
            10, "3 refused E: lines", bridge.show)
        self.assertEqual (len (lines), 3)
        self.assertRegex (lines [0], r"(?i)connect")
        #   The bridge goes on: once a receiver listens there, events arrive
        receiver = self.receiver (port=port)
        publisher.send (*event ("ses_r1", "sessionDestroyed"))
        self.assertEqual (receiver.wait_for (1, log=bridge.show) [0].json () ["event"],
                          "sessionDestroyed")
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertNotIn (SECRET, log)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["delivered"], stats ["failed"]), (1, 3), log)

    def test_userinfo_is_masked (self):
        receiver = self.receiver (lambda r: 500)
        bind, connect = self.bus ()
        url = "http://alice:pa55word@127.0.0.1:%d/hook" % receiver.port
        bridge = self.start_bridge (self.webhook_env (url, bind, OVHOOK_RETRIES="0"))
        publisher = self.publisher (connect, ovhtest.DEFAULT_EVENTS)
        publisher.send (*event ("ses_u"))
        line = bridge.wait_log (r"E: .*Unexpected HTTP status .*received 500 "
                                r"\(event sessionCreated, key ses_u, id evt_[0-9a-f]{32}\)").group (0)
        self.assertIn ("****", line)
        self.assertIn ("127.0.0.1:%d/hook" % receiver.port, line)
        code, log = bridge.stop ()
        self.assertNotIn ("pa55word", log)
        self.assertNotIn ("alice:", log)

    def test_query_values_are_masked (self):
        """A token in the endpoint's query reaches the receiver, never a log line"""
        receiver = self.receiver (lambda r: 500)
        bind, connect = self.bus ()
        url = "http://127.0.0.1:%d/hook?token=q-t0ken-v4lue&x" % receiver.port
        bridge = self.start_bridge (self.webhook_env (url, bind, OVHOOK_RETRIES="0"))
        publisher = self.publisher (connect, ovhtest.DEFAULT_EVENTS)
        publisher.send (*event ("ses_q"))
        line = bridge.wait_log (r"E: .*Unexpected HTTP status .*received 500").group (0)
        self.assertIn ("/hook?token=****&****:", line)
        self.assertEqual (receiver.requests [0].path, "/hook?token=q-t0ken-v4lue&x")
        code, log = bridge.stop ()
        self.assertRegex (log, r"ready: .*endpoint http://127\.0\.0\.1:\d+/hook\?token=\*\*\*\*&\*\*\*\*,")
        self.assertNotIn ("q-t0ken-v4lue", log)


if __name__ == "__main__":
    ovhtest.main ()
