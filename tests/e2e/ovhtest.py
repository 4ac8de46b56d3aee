"""ovhtest - the shared harness of ovhook's end-to-end tests.

Run by Debian's /usr/bin/python3 (python3-zmq, python3-msgpack, stdlib).
Pieces:
  Receiver        a real HTTP/1.1 (or HTTPS) server in a thread of the test
                  process that records every request and answers through a
                  pluggable responder (status, delay, extra headers)
  make_pki        a private CA + server certificate (openssl CLI), and a
                  second, unrelated CA
  BridgeProcess   ovhook-bridge as a child process, stderr to a file
  Publisher       a pyzmq XPUB that sees the bridge's subscriptions arrive
  BridgeTestCase  unittest base class: temp dir, free ports, cleanup of every
                  process, server and socket a test made
Failures (timeouts included) raise AssertionError with a message that says
what was awaited and shows the bridge's log, so a test FAILS, never hangs.
"""

import atexit
import http.server
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import msgpack
import zmq

HERE = os.path.dirname (os.path.abspath (__file__))
SOURCE_DIR = os.environ.get ("OVHOOK_SOURCE_DIR") or os.path.dirname (os.path.dirname (HERE))
BIN_DIR = os.environ.get ("OVHOOK_BIN") or os.path.join (SOURCE_DIR, "build", "bin")
REFERENCE_DIR = os.environ.get ("OVHOOK_REFERENCE_DIR") or os.path.join (
    SOURCE_DIR, "tests", "data")
#   Environment variables passed through to the binaries (sanitizer builds)
PASS_THROUGH = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS")
#   Slow builds (sanitizers, valgrind) may need more: OVHOOK_E2E_SLOW=3
SLOW = float (os.environ.get ("OVHOOK_E2E_SLOW", "1"))
#   Run the bridge under a tool, e.g. "valgrind -q --error-exitcode=99"
WRAPPER = shlex.split (os.environ.get ("OVHOOK_E2E_WRAPPER", ""))

ALL_EVENTS = [
    "sessionCreated", "sessionDestroyed", "participantJoined", "participantLeft",
    "webrtcConnectionCreated", "webrtcConnectionDestroyed", "recordingStatusChanged",
    "filterEventDispatched", "signalSent", "mediaNodeStatusChanged", "autoscaling",
    "nodeCrashed", "nodeRecovered", "broadcastStarted", "broadcastStopped",
    "HANodeRegistered", "HANodeDeregistered"]
DEFAULT_EVENTS = ALL_EVENTS [:15]


def project_version ():
    """The version CMakeLists.txt declares: what User-Agent must carry."""
    with open (os.path.join (SOURCE_DIR, "CMakeLists.txt")) as f:
        m = re.search (r"project\s*\(\s*ovhook\s+VERSION\s+([0-9.]+)", f.read ())
    assert m, "no project version in CMakeLists.txt"
    return m.group (1)


def examples ():
    """The 15 documented webhook bodies, as the exact bytes of each line."""
    path = os.path.join (REFERENCE_DIR, "openvidu-examples.jsonl")
    with open (path, "rb") as f:
        lines = [line.rstrip (b"\r\n") for line in f if line.strip ()]
    assert len (lines) == 15, "%s: %d lines, expected 15" % (path, len (lines))
    return lines


def ordering_key (body):
    """The bridge's ordering key of a webhook body (dict): sessionId, else id,
    else nodeId, else clusterId, each only if a string."""
    for name in ("sessionId", "id", "nodeId", "clusterId"):
        if isinstance (body.get (name), str):
            return body [name]
    return None


def split_event (line):
    """JSON line (bytes or str) -> (topic bytes, msgpack body bytes)."""
    obj = json.loads (line)
    topic = obj.pop ("event")
    return topic.encode (), msgpack.packb (obj, use_bin_type=True)


def read_request (sock, data=b""):
    """One HTTP/1.1 request with a Content-Length off a raw socket, after
    'data' already read: (head, body, bytes read past it), or None when the
    peer closes first."""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv (65536)
        if not chunk:
            return None
        data += chunk
    head, data = data.split (b"\r\n\r\n", 1)
    length = int (re.search (rb"(?im)^content-length: *(\d+)", head).group (1))
    while len (data) < length:
        chunk = sock.recv (65536)
        if not chunk:
            return None
        data += chunk
    return head, data [:length], data [length:]


def free_port ():
    """A port nobody listens on now (bind 0, close). Good enough for tests
    that run two at a time."""
    with socket.socket (socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind (("127.0.0.1", 0))
        return s.getsockname () [1]


def wait_until (predicate, timeout, what, details=lambda: ""):
    """Poll 'predicate' until it is true; AssertionError after 'timeout'."""
    deadline = time.monotonic () + timeout * SLOW
    while True:
        value = predicate ()
        if value:
            return value
        if time.monotonic () > deadline:
            raise AssertionError ("timed out after %.1f s waiting for %s\n%s"
                                  % (timeout * SLOW, what, details ()))
        time.sleep (0.02)


# --------------------------------------------------------------------------
#   HTTP receiver


def stacks (pid):
    """Every thread's stack of a process that does not end (gdb, when the
    machine has it): what a hang at exit was waiting for"""
    gdb = shutil.which ("gdb")
    if not gdb:
        return ""
    try:
        out = subprocess.run ([gdb, "-p", str (pid), "-batch", "-nx",
                               "-ex", "thread apply all bt"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return "\n(gdb: %s)" % error
    lines = [l for l in out.stdout.decode (errors="replace").splitlines ()
             if l.startswith (("#", "Thread"))]
    return "\n---- its threads (gdb) ----\n" + "\n".join (lines [:200])

class Request:
    """One request as the receiver saw it."""
    def __init__ (self, index, method, path, headers, body, conn_id):
        self.index = index              #   arrival order, from 0
        self.method = method
        self.path = path
        self.headers = headers          #   [(name, value)], as sent
        self.body = body                #   bytes
        self.time = time.monotonic ()   #   arrival (body fully read)
        self.conn_id = conn_id          #   connection number, from 1
        self.answered = None            #   time the response began (before any byte)

    def header (self, name):
        """Every value of header 'name' (case-insensitive), in order."""
        return [v for (k, v) in self.headers if k.lower () == name.lower ()]

    def json (self):
        return json.loads (self.body)

    def __repr__ (self):
        return "<%s %s conn %d: %r>" % (self.method, self.path, self.conn_id, self.body [:120])


class _Handler (http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"       #   keep-alive
    server_version = "ovhtest"
    timeout = 60                        #   idle keep-alive connections end

    def log_message (self, *args):
        pass

    def _read_body (self):
        if "chunked" in self.headers.get ("Transfer-Encoding", "").lower ():
            body = b""
            while True:
                size = int (self.rfile.readline ().split (b";") [0], 16)
                if size == 0:
                    while self.rfile.readline () not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read (size)
                self.rfile.readline ()
        return self.rfile.read (int (self.headers.get ("Content-Length", "0")))

    def _handle (self):
        receiver = self.server.receiver
        body = self._read_body ()
        request = receiver._arrive (self.command, self.path, list (self.headers.items ()),
                                    body, self.conn_id)
        status, delay, extra = receiver._respond (request)
        if delay > 0 and receiver._stopping.wait (delay):
            self.close_connection = True
            receiver._leave (request)
            return
        request.answered = time.monotonic ()
        self.send_response (status)
        for name, value in extra:
            self.send_header (name, value)
        self.send_header ("Content-Length", "0")
        self.end_headers ()
        self.wfile.flush ()
        receiver._leave (request)

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _handle


class _Server (http.server.ThreadingHTTPServer):
    daemon_threads = True
    #   socketserver's default backlog of 5 drops SYNs when the bridge opens
    #   its 32 connections at once; the retries then cost 1 s, 3 s...
    request_queue_size = 256

    def finish_request (self, sock, address):
        receiver = self.receiver
        sock.settimeout (_Handler.timeout)
        if receiver.ssl_context is not None:
            try:
                sock = receiver.ssl_context.wrap_socket (sock, server_side=True)
            except (OSError, ssl.SSLError) as e:
                receiver._tls_failed (e)
                sock.close ()
                return
        conn_id = receiver._connect (sock)
        try:
            handler = _Handler.__new__ (_Handler)
            handler.conn_id = conn_id
            handler.__init__ (sock, address, self)
        except (OSError, ValueError):
            pass                        #   peer went away, or we stopped
        finally:
            receiver._disconnect (sock)
            try:
                sock.close ()
            except OSError:
                pass


class Receiver:
    """HTTP/1.1 server on 127.0.0.1 in a thread; records every request.
    responder (request) returns status, or (status, delay), or
    (status, delay, [(header, value)]); default 200 at once.
    tls = (certfile, keyfile) makes it HTTPS."""

    def __init__ (self, responder=None, tls=None, port=0):
        self.responder = responder or (lambda request: 200)
        self.ssl_context = None
        if tls:
            self.ssl_context = ssl.SSLContext (ssl.PROTOCOL_TLS_SERVER)
            self.ssl_context.load_cert_chain (*tls)
        self._cond = threading.Condition ()
        self._requests = []
        self._connections = set ()
        self._conn_count = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.tls_errors = []
        self._stopping = threading.Event ()
        self._server = _Server (("127.0.0.1", port), _Handler)
        self._server.receiver = self
        self.port = self._server.server_address [1]
        self._thread = threading.Thread (target=self._server.serve_forever,
                                         kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start ()

    def url (self, path="/hook"):
        scheme = "https" if self.ssl_context else "http"
        return "%s://127.0.0.1:%d%s" % (scheme, self.port, path)

    # -- called by the server threads
    def _connect (self, sock):
        with self._cond:
            self._conn_count += 1
            self._connections.add (sock)
            return self._conn_count

    def _disconnect (self, sock):
        with self._cond:
            self._connections.discard (sock)

    def _tls_failed (self, error):
        with self._cond:
            self.tls_errors.append (str (error))
            self._cond.notify_all ()

    def _arrive (self, method, path, headers, body, conn_id):
        with self._cond:
            request = Request (len (self._requests), method, path, headers, body, conn_id)
            self._requests.append (request)
            self.in_flight += 1
            self.max_in_flight = max (self.max_in_flight, self.in_flight)
            self._cond.notify_all ()
            return request

    def _respond (self, request):
        try:
            answer = self.responder (request)
        except Exception as e:          # a broken responder must be visible
            print ("responder failed: %r" % e)
            answer = 599
        if isinstance (answer, int):
            answer = (answer,)
        answer = tuple (answer)
        status, delay, extra = answer + ((0, []) [len (answer) - 1:])
        return status, delay, extra

    def _leave (self, request):
        with self._cond:
            self.in_flight -= 1
            self._cond.notify_all ()

    # -- for tests
    @property
    def requests (self):
        with self._cond:
            return list (self._requests)

    @property
    def connections (self):
        with self._cond:
            return self._conn_count

    def wait_for (self, count, timeout=10, what=None, log=lambda: ""):
        """Wait until at least 'count' requests have arrived; returns them.
        Fails with a clear message (and the bridge log, via 'log')."""
        deadline = time.monotonic () + timeout * SLOW
        with self._cond:
            while len (self._requests) < count:
                left = deadline - time.monotonic ()
                if left <= 0:
                    raise AssertionError (
                        "receiver: %d request(s) arrived within %.1f s, expected %d%s\n"
                        "last requests: %r\n%s" % (
                            len (self._requests), timeout * SLOW, count,
                            " (%s)" % what if what else "", self._requests [-3:], log ()))
                self._cond.wait (left)
            return list (self._requests)

    def wait_tls_error (self, timeout=10):
        with self._cond:
            self._cond.wait_for (lambda: self.tls_errors, timeout * SLOW)
            return list (self.tls_errors)

    def stop (self):
        self._stopping.set ()
        self._server.shutdown ()
        with self._cond:
            connections = list (self._connections)
        for sock in connections:
            try:
                sock.shutdown (socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close ()
        self._thread.join (5)


# --------------------------------------------------------------------------
#   Certificates

def _openssl (*args, cwd):
    result = subprocess.run (["/usr/bin/openssl"] + list (args), cwd=cwd,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert result.returncode == 0, "openssl %s failed:\n%s" % (
        " ".join (args), result.stdout.decode (errors="replace"))


def make_pki (folder):
    """Make in 'folder': ca.pem (private CA), server.pem + server.key (signed by
    it, for 127.0.0.1 and localhost), other-ca.pem (an unrelated CA).
    Returns a dict of absolute paths."""
    os.makedirs (folder, exist_ok=True)
    for name, cn in (("ca", "ovhook test CA"), ("other-ca", "ovhook unrelated CA")):
        _openssl ("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                  "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
                  "-subj", "/CN=" + cn,
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    with open (os.path.join (folder, "server.ext"), "w") as f:
        f.write ("basicConstraints=CA:FALSE\n"
                 "keyUsage=critical,digitalSignature,keyEncipherment\n"
                 "extendedKeyUsage=serverAuth\n"
                 "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl ("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
              "-nodes", "-keyout", "server.key", "-out", "server.csr",
              "-subj", "/CN=localhost", cwd=folder)
    _openssl ("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
              "-set_serial", str (int.from_bytes (os.urandom (8), "big")),
              "-days", "2", "-extfile", "server.ext", "-out", "server.pem", cwd=folder)
    return {name: os.path.join (folder, file) for name, file in (
        ("ca", "ca.pem"), ("cert", "server.pem"), ("key", "server.key"),
        ("other_ca", "other-ca.pem"))}


# --------------------------------------------------------------------------
#   Processes

_live = set ()                          #   every child not yet reaped


def _kill_leftovers ():
    for process in list (_live):
        if process.poll () is None:
            process.kill ()
            process.wait ()
        _live.discard (process)


atexit.register (_kill_leftovers)
signal.signal (signal.SIGTERM, lambda signum, frame: (_kill_leftovers (), os._exit (143)))


def binary (name):
    """Path of a built program; AssertionError (a failure, not a skip) if absent."""
    path = os.path.join (BIN_DIR, name)
    if not os.access (path, os.X_OK):
        raise AssertionError ("%s is not built (OVHOOK_BIN=%s): build the project first"
                              % (path, BIN_DIR))
    return path


def clean_env (env):
    """A clean environment: PATH, sanitizer options, then 'env'."""
    result = {"PATH": os.environ.get ("PATH", "/usr/bin:/bin")}
    for name in PASS_THROUGH:
        if name in os.environ:
            result [name] = os.environ [name]
    result.update ({k: str (v) for k, v in (env or {}).items () if v is not None})
    return result


class BridgeProcess:
    """ovhook-bridge running as a child; stderr (the log) goes to a file."""

    def __init__ (self, folder, args=(), env=None, name="bridge"):
        self.path = binary ("ovhook-bridge")
        self.args = [str (a) for a in args]
        self.env = clean_env (env)
        self.log_path = os.path.join (folder, name + ".log")
        self.out_path = os.path.join (folder, name + ".out")
        self.process = None
        self.code = None

    def start (self, ready=True, timeout=15):
        with open (self.log_path, "wb") as log, open (self.out_path, "wb") as out:
            self.process = subprocess.Popen (WRAPPER + [self.path] + self.args, env=self.env,
                                             stdin=subprocess.DEVNULL, stdout=out, stderr=log)
        _live.add (self.process)
        if ready:
            self.ready_line = self.wait_log (r"ready:.*", timeout, "the ready: line").group (0)
        return self

    def log (self):
        try:
            with open (self.log_path, "rb") as f:
                return f.read ().decode ("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def output (self):
        with open (self.out_path, "rb") as f:
            return f.read ().decode ("utf-8", errors="replace")

    def show (self):
        text = self.log ()
        if len (text) > 6000:
            text = text [:2000] + "\n[...]\n" + text [-4000:]
        out = self.output () if os.path.exists (self.out_path) else ""
        if out:
            out = "---- bridge stdout ----\n%s" % out [-3000:]
        return "---- bridge log, stderr (%s) ----\n%s%s---- end of log ----" % (
            self.log_path, text, out)

    def alive (self):
        return self.process is not None and self.process.poll () is None

    def wait_log (self, pattern, timeout=10, what=None, start=0):
        """Wait until the log (from character 'start') matches 'pattern';
        returns the match. Fails early if the bridge exits."""
        regex = re.compile (pattern)
        def found ():
            m = regex.search (self.log (), start)
            if m is None and self.process.poll () is not None:
                m = regex.search (self.log (), start)
                if m is None:
                    raise AssertionError ("bridge exited with %s while waiting for %s\n%s"
                                          % (self.process.returncode, what or pattern, self.show ()))
            return m
        return wait_until (found, timeout, what or repr (pattern), self.show)

    def wait_exit (self, timeout=15):
        try:
            self.code = self.process.wait (timeout * SLOW)
        except subprocess.TimeoutExpired:
            raise AssertionError ("bridge still running %.1f s later\n%s%s"
                                  % (timeout * SLOW, self.show (), stacks (self.process.pid)))
        _live.discard (self.process)
        return self.code

    def stop (self, sig=signal.SIGTERM, timeout=20):
        """Signal it and wait; returns (exit code, log)."""
        if self.process.poll () is None:
            self.process.send_signal (sig)
        return self.wait_exit (timeout), self.log ()

    def kill (self):
        if self.process is not None and self.process.poll () is None:
            self.process.kill ()
            self.process.wait ()
        if self.process is not None:
            _live.discard (self.process)


def canon (value):
    """A form of a decoded JSON/msgpack value that compares key order and
    type too (in Python True == 1, and key order does not matter to ==)."""
    if isinstance (value, dict):
        return ("object", [(k, canon (v)) for k, v in value.items ()])
    if isinstance (value, list):
        return ("array", [canon (v) for v in value])
    return (type (value).__name__, value)


class ToolProcess (BridgeProcess):
    """One of the tools (ovhook-tail, ovhook-proxy...) as a child process:
    the bridge's process helper (stderr to a file, stdout to another, waits
    for "ready:") on another binary."""

    def __init__ (self, folder, program, args, name):
        super ().__init__ (folder, args, name=name)
        self.path = binary (program)

    def lines (self):
        return self.output ().splitlines ()

    def wait_lines (self, count, timeout=10):
        return wait_until (lambda: len (self.lines ()) >= count and self.lines (),
                           timeout, "%d lines from %s" % (count, self.path), self.show)


def run_program (name, args=(), env=None, stdin=b"", timeout=15):
    """Run a built program to its end: (exit code, stdout, stderr) as text."""
    process = subprocess.Popen ([binary (name)] + [str (a) for a in args], env=clean_env (env),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    _live.add (process)
    try:
        out, err = process.communicate (stdin, timeout * SLOW)
    except subprocess.TimeoutExpired:
        process.kill ()
        out, err = process.communicate ()
        raise AssertionError ("%s %s still running after %.1f s\nstderr:\n%s" % (
            name, " ".join (map (str, args)), timeout * SLOW, err.decode (errors="replace")))
    finally:
        _live.discard (process)
    return process.returncode, out.decode (errors="replace"), err.decode (errors="replace")


def test_publish (bus, lines, args=(), timeout=30):
    """Publish JSON lines with $OVHOOK_BIN/ovh-test-publish (separate process)
    on 'bus' (e.g. ">tcp://127.0.0.1:PORT"). Returns (code, stdout, stderr)."""
    data = b"".join ((l if isinstance (l, bytes) else l.encode ()) + b"\n" for l in lines)
    return run_program ("ovh-test-publish", ["--bus", bus] + list (args), stdin=data,
                        timeout=timeout)


# --------------------------------------------------------------------------
#   pyzmq publisher

class Publisher:
    """XPUB connected to the bridge's bus. It sees the subscriptions arrive
    (b"\\x01" + topic), so it can wait for them before sending: no slow joiner."""

    def __init__ (self, context, endpoint):
        self.socket = context.socket (zmq.XPUB)
        self.socket.setsockopt (zmq.XPUB_VERBOSE, 1)   #   see every subscription
        self.socket.setsockopt (zmq.SNDHWM, 0)         #   never drop our sends
        self.socket.setsockopt (zmq.LINGER, 5000)
        self.socket.connect (endpoint)
        self.subscriptions = []         #   every raw subscription message
        self.seq = 0

    def _pump (self, timeout_ms):
        if self.socket.poll (timeout_ms, zmq.POLLIN):
            while True:
                try:
                    self.subscriptions.append (self.socket.recv (zmq.NOBLOCK))
                except zmq.Again:
                    break

    def subscribed (self):
        """Topics subscribed now (subscribe minus unsubscribe messages)."""
        topics = set ()
        for message in self.subscriptions:
            if message [:1] == b"\x01":
                topics.add (message [1:])
            elif message [:1] == b"\x00":
                topics.discard (message [1:])
        return topics

    def wait_subscribed (self, topics, timeout=10):
        wanted = {t.encode () if isinstance (t, str) else t for t in topics}
        deadline = time.monotonic () + timeout * SLOW
        while not wanted <= self.subscribed ():
            left = deadline - time.monotonic ()
            if left <= 0:
                raise AssertionError ("publisher: subscriptions %r never arrived (have %r)"
                                      % (sorted (wanted - self.subscribed ()), self.subscriptions))
            self._pump (int (min (left, 0.1) * 1000) + 1)

    def collect (self, duration):
        """Every subscription message arriving within 'duration' seconds."""
        end = time.monotonic () + duration
        while time.monotonic () < end:
            self._pump (int ((end - time.monotonic ()) * 1000) + 1)
        return list (self.subscriptions)

    def send_raw (self, frames):
        self.socket.send_multipart ([f if isinstance (f, bytes) else f.encode () for f in frames])

    def send (self, topic, body, envelope=None, src="py"):
        """body: dict (packed) or bytes; envelope: None (next seq of 'src'),
        False (no envelope), dict (packed) or bytes."""
        if isinstance (topic, str):
            topic = topic.encode ()
        if isinstance (body, dict):
            body = msgpack.packb (body, use_bin_type=True)
        frames = [topic, body]
        if envelope is None:
            self.seq += 1
            envelope = {"src": src, "seq": self.seq}
        if envelope is not False:
            frames.append (envelope if isinstance (envelope, bytes) else msgpack.packb (envelope))
        self.socket.send_multipart (frames)

    def send_line (self, line, envelope=None):
        """Publish one webhook JSON line as the protocol says."""
        topic, body = split_event (line)
        self.send (topic, body, envelope)

    def close (self):
        self.socket.close (linger=2000)


# --------------------------------------------------------------------------
#   unittest base

class BridgeTestCase (unittest.TestCase):
    """Gives each test a temp dir, a ZeroMQ context and cleanup of everything
    it started: no process, server or socket outlives the test."""

    def setUp (self):
        self.tmp = tempfile.mkdtemp (prefix="ovhtest-")
        self.context = zmq.Context ()
        self._bridges = []
        self.addCleanup (self._cleanup)

    def _cleanup (self):
        for bridge in self._bridges:
            bridge.kill ()
        _kill_leftovers ()
        self.context.destroy (linger=0)
        if os.environ.get ("OVHOOK_E2E_KEEP"):
            print ("\nkept test files in", self.tmp)
        else:
            shutil.rmtree (self.tmp, ignore_errors=True)

    def receiver (self, responder=None, tls=None, port=0):
        receiver = Receiver (responder, tls, port)
        self.addCleanup (receiver.stop)
        return receiver

    def bus (self):
        """A free port for the bridge's bus: (bind spec, connect endpoint)."""
        port = free_port ()
        return "@tcp://127.0.0.1:%d" % port, "tcp://127.0.0.1:%d" % port

    def webhook_env (self, endpoint, bus, events=None, headers=None, **extra):
        """The environment of a running bridge: webhook on, 'endpoint', bus
        bind spec; events/headers as lists (None: OpenVidu's default)."""
        env = {"OPENVIDU_WEBHOOK": "true", "OPENVIDU_WEBHOOK_ENDPOINT": endpoint,
               "OVHOOK_BUS": bus}
        if events is not None:
            env ["OPENVIDU_WEBHOOK_EVENTS"] = json.dumps (events)
        if headers is not None:
            env ["OPENVIDU_WEBHOOK_HEADERS"] = json.dumps (headers)
        env.update (extra)
        return env

    def start_bridge (self, env, args=(), ready=True, name="bridge"):
        bridge = BridgeProcess (self.tmp, args, env, name="%s%d" % (name, len (self._bridges)))
        self._bridges.append (bridge)
        return bridge.start (ready)

    def publisher (self, endpoint, topics=None, timeout=10):
        """XPUB on 'endpoint' that has seen the subscriptions of 'topics'."""
        publisher = Publisher (self.context, endpoint)
        self.addCleanup (publisher.close)
        if topics:
            publisher.wait_subscribed (topics, timeout)
        return publisher

    def bridge_setup (self, responder=None, events=None, headers=None, args=(),
                      path="/hook", **extra):
        """Receiver + bridge + publisher subscribed to the enabled events."""
        receiver = self.receiver (responder)
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (receiver.url (path), bind, events,
                                                      headers, **extra), args)
        publisher = self.publisher (connect, events if events is not None else DEFAULT_EVENTS)
        return receiver, bridge, publisher


STOPPED = re.compile (r"stopped: received (\d+), delivered (\d+), failed (\d+), "
                      r"dropped (\d+)(?: \(([^)]*)\))?, (.*)undelivered (\d+)")


def parse_stopped (log):
    """The stopped: summary as a dict of ints, plus 'reasons' {name: n}.
    Counters beyond the spec's ("lost on bus 3, ") land in 'extra'."""
    m = STOPPED.search (log)
    assert m, "no stopped: summary line in the log:\n" + log [-3000:]
    result = dict (zip (("received", "delivered", "failed", "dropped"), map (int, m.groups () [:4])))
    result ["undelivered"] = int (m.group (7))
    result ["reasons"] = {}
    for part in (m.group (5) or "").split (","):
        if "=" in part:
            name, n = part.strip ().split ("=", 1)
            result ["reasons"] [name] = int (n)
    result ["extra"] = {}
    for part in m.group (6).split (","):
        words = part.strip ().rsplit (" ", 1)
        if len (words) == 2 and words [1].isdigit ():
            result ["extra"] [words [0]] = int (words [1])
    return result


def main ():
    unittest.main (verbosity=2)
