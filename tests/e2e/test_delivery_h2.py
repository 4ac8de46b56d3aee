"""HTTP/2 delivery (OVHOOK_HTTP_VERSION, docs/delivery.md "HTTP version")
against a real nginx, a real bridge and libovhook's publisher in another
process. nginx's access log is the proof: one line per request, with its
port, protocol, webhook-id and (where nginx reads it) the body received.

* h2 over TLS (ALPN) and h2c (prior knowledge): 25,000 events published at
  full speed to an endpoint that reads each body before answering, as a
  receiver does, and that closes each connection with GOAWAY after 1,000
  requests (nginx's keepalive_requests): each event arrives exactly once,
  all over HTTP/2.0, and the bridge logs no failed attempt.
* h2 to `return 200`, which answers before reading the body and then
  resets the stream: nothing is lost, and every duplicate is one the
  bridge logged as a failed attempt (libcurl 7.88 sometimes loses such an
  answer: docs/delivery.md).
* bodies: the same events to h2, h2c and 1.1: byte-exact alike, the JSON
  the publisher sent, in publishing order per session.
* the version asked for is the one used: 1.1 stays 1.1 over an h2-capable
  TLS endpoint, auto over TLS takes h2, auto over http stays 1.1."""

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery

NGINX = shutil.which ("nginx") or "/usr/sbin/nginx"

#   One foreground process in the test's folder, on loopback (as
#   tests/bench/nginx.conf.in), one worker: its access log is written in
#   the order the requests end, and the bridge starts a session's next
#   event only after the answer to the one before. Logged unbuffered; the
#   body raw (escape=none), so that it can be compared byte for byte.
#   /hook answers without reading the body, as nginx's `return` does; /body
#   reads it first (proxy_pass to a `return 200` of its own).
CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    log_format proto escape=none
        '$server_port $connection $server_protocol $http_webhook_id $request_body';
    client_body_buffer_size 64k;
    keepalive_requests {keepalive_requests};
    ssl_certificate {cert};
    ssl_certificate_key {key};
    upstream sink {{ server 127.0.0.1:{sink}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{sink};
        access_log off;
        location / {{ return 200; }}
    }}
{servers}
}}
"""

SERVER = """
    server {{
        listen 127.0.0.1:{port}{options};
        access_log {dir}/access.log proto;
        location /hook {{ return 200; }}
        location /body {{
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://sink;
        }}
    }}
"""


class Nginx:
    """nginx with one server per kind: "h2" (TLS, h2 and http/1.1 by
    ALPN), "h2c" (plain, h2 with prior knowledge only: nginx 1.22 cannot
    serve both on one plain port), "http" (plain HTTP/1.1)."""

    OPTIONS = {"h2": " ssl http2", "h2c": " http2", "http": ""}

    def __init__ (self, folder, pki, kinds=("h2", "h2c", "http"), keepalive_requests=1000):
        self.dir = os.path.join (folder, "nginx")
        os.makedirs (self.dir)
        self.ports = {kind: ovhtest.free_port () for kind in kinds}
        self.log_path = os.path.join (self.dir, "access.log")
        servers = "".join (SERVER.format (port=self.ports [kind], options=self.OPTIONS [kind],
                                          dir=self.dir) for kind in kinds)
        conf = os.path.join (self.dir, "nginx.conf")
        with open (conf, "w") as f:
            f.write (CONF.format (dir=self.dir, cert=pki ["cert"], key=pki ["key"],
                                  sink=ovhtest.free_port (), servers=servers,
                                  keepalive_requests=keepalive_requests))
        self.process = subprocess.Popen ([NGINX, "-p", self.dir, "-e",
                                          os.path.join (self.dir, "error.log"), "-c", conf],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        ovhtest.wait_until (self.listening, 10, "nginx listening", self.errors)

    def listening (self):
        assert self.process.poll () is None, "nginx exited:\n" + self.errors ()
        return os.path.exists (os.path.join (self.dir, "nginx.pid"))

    def errors (self):
        try:
            with open (os.path.join (self.dir, "error.log")) as f:
                return f.read () [-3000:]
        except FileNotFoundError:
            return ""

    def url (self, kind, path="/hook"):
        scheme = "https" if kind == "h2" else "http"
        return "%s://127.0.0.1:%d%s" % (scheme, self.ports [kind], path)

    def requests (self, kind):
        """(protocol, webhook-id, body bytes, connection number) of each
        request to 'kind', in the order nginx ended them."""
        port = b"%d" % self.ports [kind]
        try:
            with open (self.log_path, "rb") as f:
                lines = f.read ().split (b"\n")
        except FileNotFoundError:
            return []
        result = []
        for line in lines:
            fields = line.split (b" ", 4)
            #   Requests without a webhook-id (curl's probe) are not the bridge's
            if len (fields) == 5 and fields [0] == port and fields [3] not in (b"", b"-"):
                body = b"" if fields [4] == b"-" else fields [4]
                result.append ((fields [2].decode (), fields [3].decode (), body,
                                int (fields [1])))
        return result

    def stop (self):
        if self.process.poll () is None:
            self.process.send_signal (signal.SIGQUIT)
            try:
                self.process.wait (10)
            except subprocess.TimeoutExpired:
                self.process.kill ()
                self.process.wait ()


class H2Test (ovhtest.BridgeTestCase):

    def setUp (self):
        super ().setUp ()
        self.pki = ovhtest.make_pki (os.path.join (self.tmp, "pki"))
        self.nginx = Nginx (self.tmp, self.pki)
        self.addCleanup (self.nginx.stop)

    def deliver (self, kind, version, lines, src, epoch, path="/hook", timeout=60):
        """A bridge with --http-version 'version' to nginx's 'kind' server;
        'lines' published by ovh-test-publish; waits for 'expect' requests
        there (as many as lines), then a moment for any late retry, and
        stops the bridge. Returns (its requests, bridge log)."""
        before = len (self.nginx.requests (kind))
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (self.nginx.url (kind, path), bind), [
            "--ca-file", self.pki ["ca"], "--http-version", version, "--retries", "3",
            "--retry-initial", "50ms"])
        code, out, err = ovhtest.test_publish (">" + connect, lines,
                                               ["--src", src, "--epoch", str (epoch)],
                                               timeout=timeout)
        self.assertEqual (code, 0, err)
        expect = len (lines)
        ovhtest.wait_until (lambda: len (self.nginx.requests (kind)) - before >= expect, timeout,
                            "%d requests at nginx's %s server" % (expect, kind),
                            lambda: "%d logged\n%s\n%s" % (len (self.nginx.requests (kind)),
                                                           self.nginx.errors (), bridge.show ()))
        time.sleep (1.0)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log [-3000:])
        return self.nginx.requests (kind) [before:], log

    def each_once (self, kind, version, protocol, events=25000, sessions=1000, path="/body"):
        lines = delivery.bulk_lines (events, sessions)
        src, epoch = "h2-test/%s/%d" % (kind, os.getpid ()), delivery.new_epoch ()
        expected = set (delivery.expected_ids (lines, src, epoch))
        requests, log = self.deliver (kind, version, lines, src, epoch, path)
        protocols = collections.Counter (request [0] for request in requests)
        ids = collections.Counter (request [1] for request in requests)
        twice = sum (n - 1 for n in ids.values ())
        failed = delivery.error_lines (log)
        connections = len (set (request [3] for request in requests))
        print ("\n%s, --http-version %s: %d events, %d requests (%s) on %d connections, "
               "%d duplicate(s), %d lost, %d failed attempt(s)" % (
                   kind, version, events, len (requests), dict (protocols), connections, twice,
                   len (expected - set (ids)), len (failed)))
        self.assertEqual (failed, [], "failed attempts:\n" + "\n".join (failed [:5]))
        self.assertEqual (dict (protocols), {protocol: events})
        self.assertEqual (set (ids), expected)
        self.assertEqual (twice, 0)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["failed"]),
                          (events, events, 0), log [-2000:])
        #   Over h2, nginx closed each connection with GOAWAY after 1,000
        #   requests: the test went through them (h2c on libcurl < 8.0 uses
        #   a connection per request instead)
        self.assertGreaterEqual (connections, events // 1000, "no GOAWAY: the test proves less")
        return log, connections

    def test_h2_over_tls_each_event_once (self):
        #   The endpoint offers h2 by ALPN: curl's own client takes it
        probe = subprocess.run (["curl", "-s", "-o", "/dev/null", "-w", "%{http_version}",
                                 "--cacert", self.pki ["ca"], "-d", "{}",
                                 self.nginx.url ("h2", "/probe")],
                                stdout=subprocess.PIPE, timeout=10)
        self.assertEqual (probe.stdout, b"2", "nginx does not negotiate h2: the test proves nothing")
        log, connections = self.each_once ("h2", "2", "HTTP/2.0")
        #   Multiplexed: a connection per 1,000 requests or so, not one per worker
        self.assertLessEqual (connections, 25000 // 1000 * 3)
        #   25 GOAWAYs: what libcurl gave up resending was sent again
        self.assertLessEqual (log.count ("is sent again"), 1, log [-2000:])

    def test_h2c_each_event_once (self):
        log, connections = self.each_once ("h2c", "2", "HTTP/2.0")
        #   libcurl 7.88 cannot reuse an h2c connection: the bridge says so
        self.assertIn ("one connection per request", log)

    def test_h2_answer_before_body_loses_nothing (self):
        events = 20000
        lines = delivery.bulk_lines (events, 1000)
        src, epoch = "h2-early/%d" % os.getpid (), delivery.new_epoch ()
        expected = set (delivery.expected_ids (lines, src, epoch))
        requests, log = self.deliver ("h2", "2", lines, src, epoch, "/hook")
        ids = collections.Counter (request [1] for request in requests)
        twice = sum (n - 1 for n in ids.values ())
        failed = delivery.error_lines (log)
        print ("\nh2 `return 200`: %d events, %d requests, %d duplicate(s), %d failed "
               "attempt(s)" % (events, len (requests), twice, len (failed)))
        self.assertEqual (set (ids), expected)
        self.assertEqual (collections.Counter (r [0] for r in requests),
                          {"HTTP/2.0": len (requests)})
        #   A duplicate follows a failed attempt logged, or a request the
        #   sender sent again after libcurl gave up on a refused stream (said
        #   once in the log, not counted: CI once saw 76 duplicates for 74
        #   failed attempts); never more than that
        resent = events // 200 if "is sent again" in log else 0
        #   Failed attempts as the stopped line counts them, or the error
        #   lines if more (a local run once saw 224 duplicates for 223 error
        #   lines)
        attempts = ovhtest.parse_stopped (log) ["extra"].get ("failed attempts", len (failed))
        #   And libcurl re-sends by itself, unlogged, the streams a GOAWAY
        #   cut (nginx sends one per 1,000 requests): one of those the
        #   server had already taken makes a duplicate nobody logged (CI
        #   saw 8 duplicates for 7 failed attempts): allowed, one per GOAWAY
        goaways = events // 1000
        self.assertLessEqual (twice, max (attempts, len (failed)) + resent + goaways,
                              "\n".join (failed [:5]))
        #   Only the answers libcurl lost are failures: 5 to 14 in 20,000 on
        #   a quiet machine, 295 at a load average of 5; a stream reset after
        #   a 200 counted as a failure would make thousands
        self.assertLess (len (failed), events // 20, "\n".join (failed [:5]))
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["failed"]),
                          (events, events, 0), log [-2000:])

    def test_bodies_byte_exact_in_order (self):
        events, sessions = 3000, 100
        lines = delivery.bulk_lines (events, sessions)
        #   Bodies with escapes and characters beyond ASCII too
        for i in range (0, events, 7):
            body = json.loads (lines [i])
            body ["connectionId"] = "con_\u00e9\u4e2d\U0001f600 \"q\" \\ /%d" % i
            lines [i] = json.dumps (body, separators=(",", ":"), ensure_ascii=False)
        src, epoch = "h2-bodies/%d" % os.getpid (), delivery.new_epoch ()
        ids = delivery.expected_ids (lines, src, epoch)
        sent = dict (zip (ids, (json.loads (line) for line in lines)))
        rank = {msg_id: index for index, msg_id in enumerate (ids)}
        received = {}
        for kind, version in (("h2", "1.1"), ("h2", "2"), ("h2c", "2")):
            requests, log = self.deliver (kind, version, lines, src, epoch, path="/body")
            label = "%s --http-version %s" % (kind, version)
            protocol = "HTTP/1.1" if version == "1.1" else "HTTP/2.0"
            self.assertEqual (collections.Counter (r [0] for r in requests), {protocol: events},
                              label)
            bodies = {r [1]: r [2] for r in requests}
            self.assertEqual (len (bodies), events, label + ": an event came twice")
            self.assertEqual (set (bodies), set (ids), label)
            #   In publishing order per session, as nginx ended them
            last = {}
            for _, msg_id, body, _ in requests:
                session = sent [msg_id] ["sessionId"]
                self.assertGreater (rank [msg_id], last.get (session, -1),
                                    "%s: %s out of order" % (label, session))
                last [session] = rank [msg_id]
            #   The JSON published, every field and character
            for msg_id, body in bodies.items ():
                self.assertEqual (json.loads (body.decode ("utf-8")), sent [msg_id], label)
            received [label] = bodies
        reference = received ["h2 --http-version 1.1"]
        for label in ("h2 --http-version 2", "h2c --http-version 2"):
            differ = [i for i in ids if received [label] [i] != reference [i]]
            self.assertEqual (differ, [], "%s: bodies differ from HTTP/1.1's" % label)
        print ("\nbodies: %d events x 3 (1.1, h2, h2c): byte-exact alike, in order per session"
               % events)

    def test_version_asked_is_used (self):
        lines = delivery.bulk_lines (300, 30)
        #   1.1 over an h2-capable TLS endpoint; auto over TLS takes h2;
        #   auto over http stays 1.1 (an h2c preface would get a 400 there)
        for kind, version, protocol in (("h2", "1.1", "HTTP/1.1"), ("h2", "auto", "HTTP/2.0"),
                                        ("http", "auto", "HTTP/1.1")):
            src, epoch = "h2-versions/%s/%s/%d" % (kind, version, os.getpid ()), delivery.new_epoch ()
            #   /body: over h2, `return 200` may make libcurl 7.88 lose an
            #   answer (test_h2_answer_before_body_loses_nothing)
            requests, log = self.deliver (kind, version, lines, src, epoch, "/body")
            self.assertEqual (collections.Counter (r [0] for r in requests),
                              {protocol: len (lines)}, "%s --http-version %s" % (kind, version))
            self.assertEqual (delivery.error_lines (log), [])


if __name__ == "__main__":
    ovhtest.main ()
