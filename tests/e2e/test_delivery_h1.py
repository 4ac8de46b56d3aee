"""ovhook's own HTTP/1.1 client (bridge/deliver/ovh_h1sender.c), against an
endpoint that writes raw bytes: it serves plain http endpoints with a
numeric host or localhost and leaves the rest to libcurl (and says which in
its log); it sends the same request libcurl sends; it reads every framing
of a response (length, chunked, until close, 1xx first, byte by byte, cut
at 64 KiB) and fails the attempt, with libcurl's words, on what is not a
response; it reuses a kept-alive connection, and sends a request again on
a fresh one, once, when the endpoint closed the reused one unanswered."""

import json
import os
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
CLOSE = "close"             #   the endpoint closes the connection
RESET = "reset"             #   the endpoint resets it (RST)


class RawRequest:
    def __init__ (self, conn, index, head, body):
        self.conn = conn            #   the connection's number, in accept order
        self.index = index          #   the request's number on its connection
        lines = head.decode ("latin-1").split ("\r\n")
        self.line = lines [0]
        self.headers = [tuple (part.strip () for part in line.split (":", 1))
                        for line in lines [1:] if line]
        self.body = body
        self.session = json.loads (body).get ("sessionId")

    def header (self, name):
        return [value for key, value in self.headers if key.lower () == name.lower ()]


class RawEndpoint:
    """Accepts connections and reads requests; 'script' (request, n) gives
    what to write back to the n-th request (1, 2...) of its session: bytes,
    a pause in seconds, CLOSE or RESET, in order."""

    def __init__ (self, script, family=socket.AF_INET, host="127.0.0.1"):
        self.script = script
        self.requests = []
        self.lock = threading.Lock ()
        self.listener = socket.socket (family, socket.SOCK_STREAM)
        self.listener.setsockopt (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind ((host, 0))
        self.listener.listen (64)
        self.port = self.listener.getsockname () [1]
        self.host = host
        self.conns = 0
        self.running = True
        threading.Thread (target=self._accept, daemon=True).start ()

    def url (self, path="/hook"):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d%s" % (host, self.port, path)

    def _accept (self):
        while self.running:
            try:
                sock, _ = self.listener.accept ()
            except OSError:
                return
            with self.lock:
                self.conns += 1
                number = self.conns
            threading.Thread (target=self._serve, args=(sock, number), daemon=True).start ()

    def _serve (self, sock, number):
        sock.setsockopt (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data, index = b"", 0
        try:
            while True:
                read = ovhtest.read_request (sock, data)
                if not read:
                    return
                head, body, data = read
                index += 1
                request = RawRequest (number, index, head, body)
                with self.lock:
                    self.requests.append (request)
                    nth = sum (1 for r in self.requests if r.session == request.session)
                for action in self.script (request, nth):
                    if action == CLOSE:
                        return
                    if action == RESET:
                        sock.setsockopt (socket.SOL_SOCKET, socket.SO_LINGER,
                                         struct.pack ("ii", 1, 0))
                        return
                    if isinstance (action, float):
                        time.sleep (action)
                    else:
                        sock.sendall (action)
        except OSError:
            pass                    #   the bridge closed first (a cut body)
        finally:
            sock.close ()

    def of (self, session):
        with self.lock:
            return [r for r in self.requests if r.session == session]

    def wait (self, session, count, bridge, timeout=10):
        ovhtest.wait_until (lambda: len (self.of (session)) >= count, timeout * ovhtest.SLOW,
                            "%d requests of %s" % (count, session), bridge.show)

    def stop (self):
        self.running = False
        self.listener.close ()


def event (session, rank=0):
    return json.dumps ({"event": "participantJoined", "timestamp": 1700000000000 + rank,
                        "sessionId": session, "connectionId": "con_1"},
                       separators=(",", ":"))


#   What a first answer is, how many requests the event then takes (a
#   failed first attempt is retried, and the retry answered 200), and the
#   error the failed attempt logs
FRAMINGS = [
    ("length", [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"], 1, None),
    ("chunked", [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"], 1, None),
    ("interim", [b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
     1, None),
    ("bytewise", [item for byte in OK for item in (bytes ([byte]), 0.002)], 1, None),
    ("until_close", [b"HTTP/1.0 200 OK\r\n\r\nall of it", CLOSE], 1, None),
    ("big_body", [b"HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + b"x" * 300000], 1, None),
    ("no_2xx", [b"HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nno"], 2,
     r"expected 200, received 500 "),
    ("not_http", [b"220 smtp.example ESMTP ready\r\n\r\n"], 2,
     r"Weird server reply: .*\(HPE_\w+\)"),
    ("huge_headers", [b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 120000 + b"\r\n\r\n"], 2,
     r"Weird server reply: .*\(HPE_HEADER_OVERFLOW\)"),
    ("cut_short", [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", CLOSE], 2,
     r"transfer closed with outstanding read data remaining"),
    ("silent_close", [CLOSE], 2, r"Empty reply from server"),
    ("reset", [RESET], 2, r"Recv failure: Connection reset by peer"),
]


class H1ClientTest (ovhtest.BridgeTestCase):

    def endpoint (self, script, **kwargs):
        endpoint = RawEndpoint (script, **kwargs)
        self.addCleanup (endpoint.stop)
        return endpoint

    def start (self, url, args=(), **extra):
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (url, bind, ["participantJoined"], **extra),
                                    list (args))
        publisher = self.publisher (connect, ["participantJoined"])
        return bridge, publisher

    def test_response_framings (self):
        """Each first answer on a fresh connection (the endpoint closes
        after every final answer); a failed one is retried once"""
        plans = {name: actions for name, actions, _, _ in FRAMINGS}

        def script (request, nth):
            if nth == 1:
                return plans [request.session] + [CLOSE]
            return [OK, CLOSE]
        endpoint = self.endpoint (script)
        bridge, publisher = self.start (endpoint.url (), delivery.FAST_RETRY + ["--workers", "1"])
        self.assertRegex (bridge.log (), r"delivery: ovhook's HTTP/1.1 client")
        for rank, (name, _, requests, _) in enumerate (FRAMINGS):
            publisher.send_line (event (name, rank))
            endpoint.wait (name, requests, bridge)
            time.sleep (0.2)        #   the bridge sees the close while idle
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        for name, _, requests, error in FRAMINGS:
            hits = endpoint.of (name)
            self.assertEqual (len (hits), requests, "%s: %s" % (name, log))
            self.assertEqual (len (set (r.header ("webhook-id") [0] for r in hits)), 1, name)
            errors = delivery.error_lines (log, r"key %s\b" % name)
            if error:
                self.assertEqual (len (errors), 1, "%s: %s" % (name, log))
                self.assertRegex (errors [0], error)
            else:
                self.assertEqual (errors, [], name)
        stats = ovhtest.parse_stopped (log)
        failing = sum (1 for framing in FRAMINGS if framing [3])
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["extra"] ["failed attempts"]),
                          (len (FRAMINGS), len (FRAMINGS), failing), log)

    def test_kept_alive_reused_and_sent_again_once (self):
        """A reused connection the endpoint closes unanswered: the request
        goes again on a fresh one, not counted as a failed attempt; a
        second silent close, on that fresh one, is a failed attempt"""
        junk = OK + b"HTTP/1.1 200 OK\r\n\r\n"
        plan = {
            "ses_a": [[OK]],
            "ses_b": [[CLOSE], [OK]],
            "ses_c": [[junk]],
            "ses_d": [[b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"]],
            "ses_e": [[OK]],
            "ses_f": [[CLOSE], [CLOSE], [OK]],
        }
        endpoint = self.endpoint (lambda request, nth: plan [request.session] [nth - 1])
        bridge, publisher = self.start (endpoint.url (), delivery.FAST_RETRY + ["--workers", "1"])
        for rank, session in enumerate (plan):
            publisher.send_line (event (session, rank))
            endpoint.wait (session, len (plan [session]), bridge)
            time.sleep (0.1)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        conn = {session: [r.conn for r in endpoint.of (session)] for session in plan}
        a, b, c, d, e, f = (conn [s] for s in sorted (plan))
        self.assertEqual (b [0], a [0], conn)             #   reused...
        self.assertNotEqual (b [1], b [0], conn)          #   ...closed: sent again, fresh
        self.assertEqual (c [0], b [1], conn)             #   reused
        self.assertNotEqual (d [0], c [0], conn)          #   bytes after the answer
        self.assertNotEqual (e [0], d [0], conn)          #   Connection: close
        self.assertEqual (f [0], e [0], conn)
        self.assertEqual (len (set (f)), 3, conn)         #   fresh, then fresh after a failure
        ids = set (r.header ("webhook-id") [0] for r in endpoint.of ("ses_f"))
        self.assertEqual (len (ids), 1)
        errors = delivery.error_lines (log)
        self.assertEqual (len (errors), 1, log)
        self.assertRegex (errors [0], r"Empty reply from server \(event participantJoined, "
                                      r"key ses_f\b")
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["delivered"], stats ["extra"] ["failed attempts"]), (6, 1), log)

    def test_same_request_as_libcurl (self):
        """Request line, headers and body as libcurl writes them, for a
        path with a query, configured headers (one replacing User-Agent)
        and a signature; only the per-attempt values differ"""
        endpoint = self.endpoint (lambda request, nth: [OK])
        secret, key = delivery.new_secret ()
        url = endpoint.url ("/hook/a%20b?x=1&y=two")
        headers = ["Authorization: Bearer t0k3n", "X-Tenant: blue", "User-Agent: receiver-test"]
        requests = {}
        #   Session names of one length: bodies of one length
        for client in ("own", "crl"):
            extra = {"OVHOOK_WEBHOOK_SECRET": secret}
            if client == "crl":
                extra ["OVHOOK_HTTP_LIBCURL"] = "true"
            bind, connect = self.bus ()
            bridge = self.start_bridge (self.webhook_env (url, bind, ["participantJoined"],
                                                          headers, **extra))
            self.assertRegex (bridge.log (), r"delivery: ovhook's HTTP/1.1 client"
                              if client == "own" else r"delivery: libcurl .*OVHOOK_HTTP_LIBCURL")
            publisher = self.publisher (connect, ["participantJoined"])
            publisher.send_line (event ("ses_" + client))
            endpoint.wait ("ses_" + client, 1, bridge)
            code, log = bridge.stop ()
            self.assertEqual (code, 0, log)
            (requests [client],) = endpoint.of ("ses_" + client)
            self.assertEqual (delivery.verify_entries (key, requests [client]), [True])
        own, curl = requests ["own"], requests ["crl"]
        self.assertEqual (own.line, "POST /hook/a%20b?x=1&y=two HTTP/1.1")
        self.assertEqual (own.line, curl.line)
        vary = ("webhook-id", "webhook-timestamp", "webhook-signature")
        shown = lambda r: sorted ((k.lower (), v) for k, v in r.headers if k.lower () not in vary)
        self.assertEqual (shown (own), shown (curl))
        self.assertEqual (sorted (k.lower () for k, _ in own.headers),
                          sorted (k.lower () for k, _ in curl.headers))
        self.assertEqual (own.header ("Host"), ["127.0.0.1:%d" % endpoint.port])
        self.assertEqual (own.header ("User-Agent"), ["receiver-test"])
        self.assertEqual (own.body.replace (b"ses_own", b"ses_crl"), curl.body)

    def test_which_client_serves_which_endpoint (self):
        """Numeric hosts and localhost: ovhook's client (localhost may be
        ::1 and 127.0.0.1: the second is tried when the first refuses);
        names, https, h2 and OVHOOK_HTTP_LIBCURL: libcurl"""
        four = self.endpoint (lambda request, nth: [OK])
        six = self.endpoint (lambda request, nth: [OK], family=socket.AF_INET6, host="::1")
        own = [("127", four.url (), {}), ("six", six.url (), {}),
               ("localhost", "http://localhost:%d/hook" % four.port, {})]
        for session, url, extra in own:
            bridge, publisher = self.start (url, **extra)
            self.assertRegex (bridge.log (), r"delivery: ovhook's HTTP/1.1 client")
            publisher.send_line (event (session))
            (four if session != "six" else six).wait (session, 1, bridge)
            code, log = bridge.stop ()
            self.assertEqual (ovhtest.parse_stopped (log) ["delivered"], 1, log)
        libcurl = [("http://hooks.invalid:8080/hook", {}, r"its host is a name to resolve"),
                   ("https://127.0.0.1:%d/hook" % four.port, {}, r"https is libcurl's"),
                   (four.url (), {"OVHOOK_HTTP_VERSION": "2"}, r"--http-version 2 is libcurl's"),
                   ("http://user:pw@127.0.0.1:%d/" % four.port, {}, r"the URL holds credentials"),
                   (four.url (), {"OVHOOK_HTTP_LIBCURL": "true"}, r"OVHOOK_HTTP_LIBCURL is on")]
        for url, extra, reason in libcurl:
            bridge, _ = self.start (url, **extra)
            self.assertRegex (bridge.log (), r"delivery: libcurl [0-9.]+ \(%s\)" % reason)
            code, log = bridge.stop ()
            self.assertEqual (code, 0, log)
            self.assertNotIn ("pw", log)

    def test_connect_refused_and_timeout_errors (self):
        port = ovhtest.free_port ()
        bridge, publisher = self.start ("http://127.0.0.1:%d/hook" % port, ["--retries", "0"])
        publisher.send_line (event ("ses_refused"))
        bridge.wait_log (r"E: .*Failed to connect to 127.0.0.1 port %d after \d+ ms: "
                         r"Connection refused \(event participantJoined, key ses_refused" % port)
        bridge.stop ()
        silent = self.endpoint (lambda request, nth: [30.0])
        bridge, publisher = self.start (silent.url (), ["--retries", "0", "--request-timeout",
                                                        "500ms"])
        publisher.send_line (event ("ses_silent"))
        bridge.wait_log (r"E: .*Operation timed out after 500 milliseconds with 0 bytes "
                         r"received \(event participantJoined, key ses_silent")
        code, log = bridge.stop ()
        self.assertEqual (ovhtest.parse_stopped (log) ["failed"], 1, log)
        #   A listener whose accept queue is full drops the SYNs that
        #   follow: the connect never completes
        full = socket.socket ()
        self.addCleanup (full.close)
        full.bind (("127.0.0.1", 0))
        full.listen (0)
        port = full.getsockname () [1]
        fillers = []
        for _ in range (3):
            filler = socket.socket ()
            filler.setblocking (False)
            filler.connect_ex (("127.0.0.1", port))
            fillers.append (filler)
            self.addCleanup (filler.close)
        time.sleep (0.2)
        bridge, publisher = self.start ("http://127.0.0.1:%d/hook" % port,
                                        ["--retries", "0", "--connect-timeout", "500ms"])
        publisher.send_line (event ("ses_unreachable"))
        bridge.wait_log (r"E: .*Connection timed out after 500 milliseconds \(event "
                         r"participantJoined, key ses_unreachable")
        bridge.stop ()


if __name__ == "__main__":
    ovhtest.main ()
