"""Self-test of the harness (ovhtest.py): needs no ovhook binary."""

import http.client
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

import msgpack
import zmq

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest


class ReceiverTest (ovhtest.BridgeTestCase):

    def test_records_a_request_made_with_urllib (self):
        receiver = self.receiver ()
        request = urllib.request.Request (receiver.url ("/hook?x=1"), data=b'{"a":1}',
                                          headers={"Content-Type": "application/json",
                                                   "X-Two": "b"}, method="POST")
        with urllib.request.urlopen (request, timeout=5) as response:
            self.assertEqual (response.status, 200)
        [seen] = receiver.wait_for (1)
        self.assertEqual (seen.method, "POST")
        self.assertEqual (seen.path, "/hook?x=1")
        self.assertEqual (seen.body, b'{"a":1}')
        self.assertEqual (seen.header ("content-type"), ["application/json"])
        self.assertEqual (seen.header ("X-Two"), ["b"])
        self.assertIsNotNone (seen.answered)

    def test_keep_alive_and_responder (self):
        statuses = {b"slow": (201, 0.3, [("X-Reply", "yes")]), b"bad": 500}
        receiver = self.receiver (lambda r: statuses.get (r.body, 200))
        connection = http.client.HTTPConnection ("127.0.0.1", receiver.port, timeout=5)
        answers = []
        for body in (b"ok", b"slow", b"bad", b"x" * 70000):
            started = time.monotonic ()
            connection.request ("POST", "/p", body=body)
            response = connection.getresponse ()
            response.read ()
            answers.append ((response.status, response.getheader ("X-Reply"),
                             time.monotonic () - started))
        connection.close ()
        self.assertEqual ([a [:2] for a in answers],
                          [(200, None), (201, "yes"), (500, None), (200, None)])
        self.assertGreaterEqual (answers [1][2], 0.3)
        requests = receiver.wait_for (4)
        self.assertEqual (len ({r.conn_id for r in requests}), 1, "one keep-alive connection")
        self.assertEqual (requests [3].body, b"x" * 70000)

    def test_chunked_body (self):
        receiver = self.receiver ()
        connection = http.client.HTTPConnection ("127.0.0.1", receiver.port, timeout=5)
        connection.request ("POST", "/c", body=iter ([b"abc", b"defg"]),
                            encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
        self.assertEqual (connection.getresponse ().status, 200)
        connection.close ()
        self.assertEqual (receiver.wait_for (1) [0].body, b"abcdefg")

    def test_wait_for_fails_clearly (self):
        receiver = self.receiver ()
        with self.assertRaisesRegex (AssertionError, r"0 request\(s\) arrived .* expected 1"):
            receiver.wait_for (1, timeout=0.2)

    def test_in_flight_counts_concurrency (self):
        receiver = self.receiver (lambda r: (200, 0.3))
        import threading
        def post ():
            urllib.request.urlopen (urllib.request.Request (receiver.url (), data=b"x"),
                                    timeout=5).read ()
        threads = [threading.Thread (target=post) for _ in range (3)]
        for t in threads:
            t.start ()
        for t in threads:
            t.join ()
        self.assertEqual (receiver.max_in_flight, 3)
        ovhtest.wait_until (lambda: receiver.in_flight == 0, 2, "in_flight back to 0")

    def test_stop_ends_a_hanging_request (self):
        receiver = self.receiver (lambda r: (200, 60))
        import threading
        errors = []
        def post ():
            try:
                urllib.request.urlopen (urllib.request.Request (receiver.url (), data=b"x"),
                                        timeout=10).read ()
            except Exception as e:
                errors.append (e)
        thread = threading.Thread (target=post)
        thread.start ()
        receiver.wait_for (1)
        started = time.monotonic ()
        receiver.stop ()
        thread.join (5)
        self.assertLess (time.monotonic () - started, 3)
        self.assertEqual (len (errors), 1, "the client saw the connection end")


class TlsTest (ovhtest.BridgeTestCase):

    def test_tls_with_private_ca (self):
        pki = ovhtest.make_pki (os.path.join (self.tmp, "pki"))
        receiver = self.receiver (tls=(pki ["cert"], pki ["key"]))
        self.assertTrue (receiver.url ().startswith ("https://127.0.0.1:"))
        for host in ("127.0.0.1", "localhost"):
            context = ssl.create_default_context (cafile=pki ["ca"])
            url = receiver.url ().replace ("127.0.0.1", host)
            with urllib.request.urlopen (urllib.request.Request (url, data=b"tls"),
                                         timeout=5, context=context) as response:
                self.assertEqual (response.status, 200)
        self.assertEqual ([r.body for r in receiver.wait_for (2)], [b"tls", b"tls"])
        #   The unrelated CA must not verify the server
        context = ssl.create_default_context (cafile=pki ["other_ca"])
        with self.assertRaises (urllib.error.URLError) as caught:
            urllib.request.urlopen (urllib.request.Request (receiver.url (), data=b"no"),
                                    timeout=5, context=context)
        self.assertIn ("CERTIFICATE_VERIFY_FAILED", str (caught.exception))
        self.assertTrue (receiver.wait_tls_error (), "the server saw the handshake fail")
        self.assertEqual (len (receiver.requests), 2)


class PublisherTest (ovhtest.BridgeTestCase):

    def test_xpub_sees_subscription_and_sends (self):
        sub = self.context.socket (zmq.SUB)
        self.addCleanup (sub.close, 0)
        port = ovhtest.free_port ()
        sub.bind ("tcp://127.0.0.1:%d" % port)
        sub.setsockopt (zmq.SUBSCRIBE, b"sessionCreated")
        sub.setsockopt (zmq.SUBSCRIBE, b"signalSent")
        publisher = self.publisher ("tcp://127.0.0.1:%d" % port)
        #   A libzmq socket attaches new peers only when its owner calls it:
        #   keep the SUB busy (the bridge's reader loop does the same)
        def joined ():
            sub.getsockopt (zmq.EVENTS)
            publisher._pump (10)
            return {b"sessionCreated", b"signalSent"} <= publisher.subscribed ()
        ovhtest.wait_until (joined, 5, "the SUB's subscriptions")
        self.assertEqual (sorted (publisher.collect (0.2)),
                          [b"\x01sessionCreated", b"\x01signalSent"])
        line = ovhtest.examples () [0]
        publisher.send_line (line)
        publisher.send ("signalSent", {"a": 1}, envelope=False)
        publisher.send_raw ([b"sessionCreated", b"\xc1garbage", b"x", b"y"])
        sub.setsockopt (zmq.RCVTIMEO, 5000)
        first = sub.recv_multipart ()
        self.assertEqual (first [0], b"sessionCreated")
        self.assertEqual (msgpack.unpackb (first [1]),
                          {"timestamp": 1601394690713, "sessionId": "ses_Jd8tUyvhXO"})
        self.assertEqual (msgpack.unpackb (first [2]), {"src": "py", "seq": 1})
        self.assertEqual (sub.recv_multipart (), [b"signalSent", msgpack.packb ({"a": 1})])
        self.assertEqual (sub.recv_multipart (), [b"sessionCreated", b"\xc1garbage", b"x", b"y"])

    def test_wait_subscribed_fails_clearly (self):
        publisher = self.publisher ("tcp://127.0.0.1:%d" % ovhtest.free_port ())
        with self.assertRaisesRegex (AssertionError, "never arrived"):
            publisher.wait_subscribed (["sessionCreated"], timeout=0.2)


class HelpersTest (ovhtest.BridgeTestCase):

    def test_examples_and_keys (self):
        lines = ovhtest.examples ()
        self.assertEqual (len (lines), 15)
        import json
        keys = [ovhtest.ordering_key (json.loads (l)) for l in lines]
        self.assertEqual (keys [0], "ses_Jd8tUyvhXO")
        self.assertEqual (keys [9], "media_i-1234567890abcdef0")   # nodeCrashed: id
        self.assertEqual (keys [12], "MY_CLUSTER")                 # autoscaling
        self.assertEqual (keys [13], "master_10.5.0.6")            # HANodeRegistered
        self.assertIsNone (ovhtest.ordering_key ({"sessionId": None, "timestamp": 1}))
        self.assertRegex (ovhtest.project_version (), r"^\d+\.\d+\.\d+$")

    def test_missing_binary_fails (self):
        with self.assertRaisesRegex (AssertionError, "is not built"):
            ovhtest.binary ("no-such-program")

    def test_parse_stopped (self):
        s = ovhtest.parse_stopped ("I: x stopped: received 5, delivered 3, failed 1, "
                                   "dropped 2 (utf8=1, bin=1), undelivered 0\n")
        self.assertEqual ((s ["received"], s ["delivered"], s ["failed"], s ["dropped"],
                           s ["undelivered"], s ["reasons"]),
                          (5, 3, 1, 2, 0, {"utf8": 1, "bin": 1}))
        s = ovhtest.parse_stopped ("I: x stopped: received 5, delivered 5, failed 0, "
                                   "dropped 0, lost on bus 3, undelivered 1\n")
        self.assertEqual ((s ["dropped"], s ["extra"], s ["undelivered"], s ["reasons"]),
                          (0, {"lost on bus": 3}, 1, {}))

    def test_free_ports_differ (self):
        self.assertNotEqual (ovhtest.free_port (), 0)


if __name__ == "__main__":
    ovhtest.main ()
