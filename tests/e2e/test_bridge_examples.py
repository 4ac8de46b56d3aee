"""The 15 documented webhook bodies cross the bus and arrive byte for byte,
with the headers the spec promises. Published once by ovh-test-publish (a
separate process, libovhook's publisher) and once by pyzmq."""

import json
import os
import sys

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

PATH = "/ovh/webhook?token=abc&x=1"
AUTH = "Basic YWxhZGRpbjpvcGVuc2VzYW1l"


class ExamplesTest (ovhtest.BridgeTestCase):

    def setUp (self):
        super ().setUp ()
        self.lines = ovhtest.examples ()
        self.version = ovhtest.project_version ()

    def run_bridge (self, headers):
        receiver = self.receiver ()
        bind, connect = self.bus ()
        #   All 17 types: the HA examples are off by default
        bridge = self.start_bridge (self.webhook_env (receiver.url (PATH), bind,
                                                      ovhtest.ALL_EVENTS, headers))
        self.assertIn ("17 event types", bridge.ready_line)
        return receiver, bridge, connect

    def check_arrivals (self, receiver, bridge, content_type, extra_headers):
        requests = receiver.wait_for (len (self.lines), log=bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        requests = receiver.requests
        #   Every body is exactly one example line, each line exactly once
        self.assertEqual (sorted (r.body for r in requests), sorted (self.lines),
                          "bodies differ from the documented examples")
        #   Per ordering key, in publish order
        for key in {ovhtest.ordering_key (json.loads (l)) for l in self.lines}:
            sent = [l for l in self.lines if ovhtest.ordering_key (json.loads (l)) == key]
            got = [r.body for r in requests if ovhtest.ordering_key (r.json ()) == key]
            self.assertEqual (got, sent, "order of key %s" % key)
        for r in requests:
            self.assertEqual (r.method, "POST")
            self.assertEqual (r.path, PATH)
            self.assertEqual (r.header ("Content-Type"), [content_type], r.headers)
            self.assertEqual (r.header ("User-Agent"), ["ovhook/" + self.version], r.headers)
            self.assertEqual (r.header ("Expect"), [], r.headers)
            self.assertEqual (r.header ("Content-Length"), [str (len (r.body))], r.headers)
            for name, value in extra_headers:
                self.assertEqual (r.header (name), [value], r.headers)
        #   Keep-alive: far fewer connections than requests
        self.assertLess (receiver.connections, len (requests), "connections are reused")
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["failed"],
                           stats ["dropped"], stats ["undelivered"]), (15, 15, 0, 0, 0), log)
        #   Secrets never appear in the log
        self.assertNotIn ("YWxhZGRpbjpvcGVuc2VzYW1l", log)

    def test_via_test_publish_process (self):
        headers = ["Authorization: " + AUTH, "X-Colons: a: b: c", "X-Empty-Ish: -"]
        receiver, bridge, connect = self.run_bridge (headers)
        code, out, err = ovhtest.test_publish (">" + connect, self.lines)
        self.assertEqual (code, 0, err)
        self.check_arrivals (receiver, bridge, "application/json",
                             [("Authorization", AUTH), ("X-Colons", "a: b: c"),
                              ("X-Empty-Ish", "-")])

    def test_via_pyzmq_with_content_type_override (self):
        headers = ["Content-Type: application/vnd.openvidu+json; charset=utf-8",
                   "Authorization: " + AUTH]
        receiver, bridge, connect = self.run_bridge (headers)
        publisher = self.publisher (connect, ovhtest.ALL_EVENTS)
        for line in self.lines:
            publisher.send_line (line)
        self.check_arrivals (receiver, bridge, "application/vnd.openvidu+json; charset=utf-8",
                             [("Authorization", AUTH)])

    def test_via_pyzmq_without_envelope (self):
        receiver, bridge, connect = self.run_bridge (None)
        publisher = self.publisher (connect, ovhtest.ALL_EVENTS)
        for line in self.lines:
            publisher.send_line (line, envelope=False)
        self.check_arrivals (receiver, bridge, "application/json", [])


if __name__ == "__main__":
    ovhtest.main ()
