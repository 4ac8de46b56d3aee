"""An HTTPS endpoint that also speaks HTTP/2 (nginx, `listen ... ssl http2`,
`return 200`) gets each event exactly once, over HTTP/1.1, with no failed
attempt: 20,000 events published at full speed by libovhook's publisher.
libcurl would pick h2 by ALPN; the bridge pins HTTP/1.1 (see
docs/delivery.md, "HTTP version") because h2 through libcurl 7.88 against
nginx failed attempts with "Stream error in the HTTP/2 framing layer" that
were then retried: duplicates. nginx's access log is the proof: one line per
request with its protocol and webhook-id."""

import collections
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery

EVENTS = 20000
SESSIONS = 1000
NGINX = shutil.which ("nginx") or "/usr/sbin/nginx"

#   One foreground process in the test's folder, on loopback (as
#   tests/bench/nginx.conf.in); every request logged unbuffered
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
    log_format proto '$server_protocol $http_webhook_id';
    client_body_buffer_size 64k;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location /hook {{
            access_log {dir}/access.log proto;
            return 200;
        }}
    }}
}}
"""


class Nginx:

    def __init__ (self, folder, pki):
        self.dir = os.path.join (folder, "nginx")
        os.makedirs (self.dir)
        self.port = ovhtest.free_port ()
        self.log_path = os.path.join (self.dir, "access.log")
        conf = os.path.join (self.dir, "nginx.conf")
        with open (conf, "w") as f:
            f.write (CONF.format (dir=self.dir, port=self.port, cert=pki ["cert"],
                                  key=pki ["key"]))
        self.process = subprocess.Popen ([NGINX, "-p", self.dir, "-e",
                                          os.path.join (self.dir, "error.log"), "-c", conf],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        ovhtest.wait_until (self.listening, 10, "nginx listening on %d" % self.port,
                            self.errors)

    def listening (self):
        assert self.process.poll () is None, "nginx exited:\n" + self.errors ()
        return os.path.exists (os.path.join (self.dir, "nginx.pid"))

    def errors (self):
        try:
            with open (os.path.join (self.dir, "error.log")) as f:
                return f.read () [-3000:]
        except FileNotFoundError:
            return ""

    def url (self):
        return "https://127.0.0.1:%d/hook" % self.port

    def lines (self):
        try:
            with open (self.log_path) as f:
                return [line.split () for line in f if line.strip ()]
        except FileNotFoundError:
            return []

    def stop (self):
        if self.process.poll () is None:
            self.process.send_signal (signal.SIGQUIT)
            try:
                self.process.wait (10)
            except subprocess.TimeoutExpired:
                self.process.kill ()
                self.process.wait ()


class H2Test (ovhtest.BridgeTestCase):

    def test_h2_endpoint_gets_each_event_once_over_http11 (self):
        pki = ovhtest.make_pki (os.path.join (self.tmp, "pki"))
        nginx = Nginx (self.tmp, pki)
        self.addCleanup (nginx.stop)
        #   The endpoint offers h2: curl's own client would take it
        probe = subprocess.run (["curl", "-s", "-o", "/dev/null", "-w", "%{http_version}",
                                 "--cacert", pki ["ca"], "-d", "{}", nginx.url ()],
                                stdout=subprocess.PIPE, timeout=10)
        self.assertEqual (probe.stdout, b"2", "nginx does not negotiate h2: the test proves nothing")
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (nginx.url (), bind), [
            "--ca-file", pki ["ca"], "--retries", "3", "--retry-initial", "50ms"])
        src = "h2-test/%d" % os.getpid ()
        lines = delivery.bulk_lines (EVENTS, SESSIONS)
        epoch = delivery.new_epoch ()
        expected = set (delivery.expected_ids (lines, src, epoch))
        code, out, err = ovhtest.test_publish (">" + connect, lines,
                                               ["--src", src, "--epoch", str (epoch)], timeout=60)
        self.assertEqual (code, 0, err)
        #   probe + every event; then a moment for any late retry to show
        ovhtest.wait_until (lambda: len (nginx.lines ()) >= EVENTS + 1, 45,
                            "%d requests at nginx" % (EVENTS + 1),
                            lambda: "%d logged\n%s" % (len (nginx.lines ()), bridge.show ()))
        time.sleep (1.0)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log [-3000:])
        requests = nginx.lines () [1:]
        protocols = collections.Counter (protocol for protocol, _ in requests)
        ids = collections.Counter (msg_id for _, msg_id in requests)
        twice = sum (n - 1 for n in ids.values ())
        failed = delivery.error_lines (log)
        print ("\nh2 endpoint: %d events, %d requests (%s), %d duplicate(s), %d failed "
               "attempt(s)" % (EVENTS, len (requests), dict (protocols), twice, len (failed)))
        self.assertEqual (failed, [], "failed attempts:\n" + "\n".join (failed [:5]))
        self.assertEqual (dict (protocols), {"HTTP/1.1": EVENTS})
        self.assertEqual (set (ids), expected)
        self.assertEqual (twice, 0)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["failed"]),
                          (EVENTS, EVENTS, 0), log [-2000:])


if __name__ == "__main__":
    ovhtest.main ()
