"""The receiver example in docs/examples/verify_receiver.py: verify () on
the Standard Webhooks reference vector and on signatures made here with
Python's own hmac (not the example's code), a wrong secret, a tampered
body, timestamps out of the 5-minute window, key rotation on both sides;
then the script itself as a server: 200 once per id, 200 "duplicate"
without processing again, 401 for a bad signature or an old timestamp, and
each response written at once (headers and body in one segment: written
apart, Nagle holds the body until the client's delayed ACK, ~40 ms)."""

import base64
import hashlib
import hmac
import http.client
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import unittest

SOURCE_DIR = os.environ.get ("OVHOOK_SOURCE_DIR") or os.path.join (
    os.path.dirname (os.path.abspath (__file__)), "..", "..")
EXAMPLE = os.path.join (SOURCE_DIR, "docs", "examples", "verify_receiver.py")

spec = importlib.util.spec_from_file_location ("verify_receiver", EXAMPLE)
example = importlib.util.module_from_spec (spec)
spec.loader.exec_module (example)

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_HEADERS = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
                  "webhook-timestamp": "1614265330",
                  "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_TIME = 1614265330


def new_secret ():
    key = os.urandom (24)
    return "whsec_" + base64.b64encode (key).decode (), key


def signed (keys, msg_id, stamp, body):
    """Headers as ovhook sends them, signed with this test's own hmac."""
    entries = []
    for key in keys:
        mac = hmac.new (key, msg_id.encode () + b"." + str (stamp).encode () + b"." + body,
                        hashlib.sha256).digest ()
        entries.append ("v1," + base64.b64encode (mac).decode ())
    return {"webhook-id": msg_id, "webhook-timestamp": str (stamp),
            "webhook-signature": " ".join (entries)}


class VerifyTest (unittest.TestCase):

    def test_reference_vector (self):
        self.assertEqual (example.verify ([VECTOR_SECRET], VECTOR_HEADERS, VECTOR_BODY,
                                          VECTOR_TIME), (True, "ok"))
        # A space-separated string works as the setting does
        self.assertEqual (example.verify ("  " + VECTOR_SECRET, VECTOR_HEADERS, VECTOR_BODY,
                                          VECTOR_TIME + 100) [0], True)

    def test_own_hmac_and_failures (self):
        secret, key = new_secret ()
        other, _ = new_secret ()
        now = int (time.time ())
        body = json.dumps ({"event": "sessionCreated", "sessionId": "ses_é",
                            "timestamp": now * 1000}, ensure_ascii=False).encode ()
        headers = signed ([key], "evt_" + os.urandom (16).hex (), now, body)
        no_match = (False, "no signature matches")
        too_far = (False, "webhook-timestamp is more than 5 minutes away from now")
        cases = [
            ("good", [secret], headers, body, now, (True, "ok")),
            ("header names in any case", [secret],
             {name.title (): value for name, value in headers.items ()}, body, now, (True, "ok")),
            ("wrong secret", [other], headers, body, now, no_match),
            ("tampered body", [secret], headers, body.replace (b"ses_", b"ses-"), now, no_match),
            ("one byte more", [secret], headers, body + b" ", now, no_match),
            ("other id", [secret], dict (headers, **{"webhook-id": "evt_x"}), body, now, no_match),
            ("5 min old", [secret], headers, body, now + 300, (True, "ok")),
            ("5 min 1 s old", [secret], headers, body, now + 301, too_far),
            ("5 min 1 s ahead", [secret], headers, body, now - 301, too_far),
            ("not v1", [secret], dict (headers, **{"webhook-signature":
             headers ["webhook-signature"].replace ("v1,", "v2,")}), body, now, no_match),
            ("timestamp not digits", [secret], dict (headers, **{"webhook-timestamp": "-1"}),
             body, now, (False, "webhook-timestamp is not Unix seconds")),
            ("no signature", [secret], {k: v for k, v in headers.items ()
                                        if k != "webhook-signature"}, body, now,
             (False, "missing webhook-id, webhook-timestamp or webhook-signature")),
        ]
        for name, secrets, given, data, when, want in cases:
            with self.subTest (name):
                self.assertEqual (example.verify (secrets, given, data, when), want)

    def test_rotation (self):
        old, old_key = new_secret ()
        new, new_key = new_secret ()
        third, _ = new_secret ()
        now = int (time.time ())
        body = b'{"event":"sessionDestroyed","sessionId":"s"}'
        both = signed ([old_key, new_key], "evt_1", now, body)
        self.assertEqual (len (both ["webhook-signature"].split (" ")), 2)
        # The sender signs with both: a receiver with either key accepts
        for secrets in ([old], [new], [old, new], [third, new]):
            self.assertEqual (example.verify (secrets, both, body, now), (True, "ok"))
        self.assertEqual (example.verify ([third], both, body, now) [0], False)
        # The receiver knows both: a sender with either key is accepted
        for keys in ([old_key], [new_key]):
            self.assertTrue (example.verify ([old, new], signed (keys, "evt_2", now, body),
                                             body, now) [0])

    def test_malformed_secret_raises (self):
        for secret in ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!", "whsec_"):
            with self.subTest (secret), self.assertRaises (ValueError):
                example.verify ([secret], VECTOR_HEADERS, VECTOR_BODY, VECTOR_TIME)
        # Padding optional, as in ovhook
        self.assertEqual (example.parse_secret ("whsec_AQ"), b"\x01")
        self.assertEqual (example.parse_secret ("whsec_AQ=="), b"\x01")


class ServerTest (unittest.TestCase):
    """The script run as it is documented, as a separate process."""

    def setUp (self):
        self.secret, self.key = new_secret ()
        env = dict (os.environ, OVHOOK_WEBHOOK_SECRET=self.secret)
        self.process = subprocess.Popen (
            [sys.executable, EXAMPLE, "--port", "0"], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup (self.stop)
        line = self.process.stdout.readline ().decode ()
        self.assertTrue (line.startswith ("listening on http://127.0.0.1:"), line)
        self.port = int (line.rstrip ("/\n").rsplit (":", 1) [1])

    def stop (self):
        if self.process.poll () is None:
            self.process.kill ()
        self.process.wait (10)
        self.process.stdout.close ()

    def post (self, connection, headers, body):
        connection.request ("POST", "/hook", body=body,
                            headers=dict (headers, **{"Content-Type": "application/json"}))
        response = connection.getresponse ()
        return response.status, response.read ().decode ().strip ()

    def test_dedup_and_rejections (self):
        connection = http.client.HTTPConnection ("127.0.0.1", self.port, timeout=10)
        now = int (time.time ())
        body = b'{"event":"sessionCreated","timestamp":1601394690713,"sessionId":"ses_A"}'
        first = signed ([self.key], "evt_" + "a" * 32, now, body)
        other = signed ([self.key], "evt_" + "b" * 32, now, body)
        # A retry: same id, later timestamp, new signature
        retry = signed ([self.key], "evt_" + "a" * 32, now + 2, body)
        answers = [self.post (connection, headers, body) for headers in (first, retry, other)]
        self.assertEqual (answers, [(200, "ok"), (200, "duplicate"), (200, "ok")])
        bad = dict (first, **{"webhook-signature": signed ([os.urandom (8)], "evt_" + "a" * 32,
                                                             now, body) ["webhook-signature"]})
        self.assertEqual (self.post (connection, bad, body), (401, "no signature matches"))
        old = signed ([self.key], "evt_" + "c" * 32, now - 600, body)
        self.assertEqual (self.post (connection, old, body),
                          (401, "webhook-timestamp is more than 5 minutes away from now"))
        connection.close ()
        self.process.kill ()
        output = self.process.stdout.read ().decode ().splitlines ()
        self.assertEqual (output, [
            "accepted evt_%s sessionCreated %s" % ("a" * 32, body.decode ()),
            "duplicate evt_%s" % ("a" * 32),
            "accepted evt_%s sessionCreated %s" % ("b" * 32, body.decode ()),
            "rejected no signature matches",
            "rejected webhook-timestamp is more than 5 minutes away from now",
        ])

    def test_one_write_per_response (self):
        """50 keep-alive requests on one connection: every response arrives
        whole in the first recv (one segment), and all 50 take far less than
        the 50 x 40 ms that a delayed ACK per response would add"""
        now = int (time.time ())
        body = b'{"event":"sessionCreated","timestamp":1601394690713,"sessionId":"ses_A"}'
        client = socket.create_connection (("127.0.0.1", self.port), timeout=10)
        self.addCleanup (client.close)
        split = []
        start = time.monotonic ()
        for n in range (50):
            headers = signed ([self.key], "evt_%032x" % n, now, body)
            request = b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            request += b"".join (b"%s: %s\r\n" % (k.encode (), v.encode ())
                                 for k, v in headers.items ())
            request += b"Content-Length: %d\r\n\r\n" % len (body) + body
            client.sendall (request)
            data = client.recv (65536)
            reads = 1
            while b"\r\n\r\n" not in data or not data.endswith (b"ok\n"):
                more = client.recv (65536)
                self.assertTrue (more, "connection closed after %r" % data)
                data += more
                reads += 1
            self.assertTrue (data.startswith (b"HTTP/1.1 200 "), data)
            if reads > 1:
                split.append (n)
        elapsed = time.monotonic () - start
        self.assertEqual (split, [], "responses that came in pieces")
        self.assertLess (elapsed, 1.5, "50 requests took %.2f s" % elapsed)

    def test_refuses_to_start_without_secret (self):
        result = subprocess.run ([sys.executable, EXAMPLE, "--port", "0"],
                                 env=dict (os.environ, OVHOOK_WEBHOOK_SECRET="whsec_!"),
                                 capture_output=True, timeout=10)
        self.assertNotEqual (result.returncode, 0)
        self.assertIn (b"whsec_ followed by base64", result.stderr)


if __name__ == "__main__":
    unittest.main (verbosity=2)
