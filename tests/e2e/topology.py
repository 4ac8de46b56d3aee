"""topology - shared pieces of the topology and interop end-to-end tests
(test_topology_*.py, test_interop.py), on top of ovhtest.

As a module:
  Proc          any program as a child (ovhtest's process helper: stderr
                to a file, stdout to another, waits for "ready:"), optionally
                inside a network namespace (ip netns exec)
  Feed          what one publisher process publishes, in publish order: made
                up webhook lines (unique ids and times), or a seeded
                --scenario recorded once by a reference run
  Namespaces    network namespaces + veth pairs, removed in every case
  run_cluster   publishers -> ovhook-proxy -> bridge + receiver and two
                ovhook-tail, every one a process, checked end to end
  main          unittest main that exits 77 (ctest: skipped) when every
                test was skipped

As a script (each one a separate process, Debian's /usr/bin/python3):
  receiver      an HTTP receiver (ovhtest.Receiver) recording every request
                to a file: for a bridge inside a network namespace
  warmup        a pyzmq XPUB that publishes throw-away events until stopped
  pypublish     a pyzmq XPUB + msgpack publisher of webhook lines
  pysubscribe   a pyzmq SUB + msgpack subscriber recording every message
"""

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname (os.path.abspath (__file__))
sys.path.insert (0, HERE)
import ovhtest                                      # noqa: E402
import curve                                        # noqa: E402

import msgpack                                      # noqa: E402
import zmq                                          # noqa: E402

SLOW = ovhtest.SLOW
SCRIPT = os.path.abspath (__file__)
PYTHON = "/usr/bin/python3"
IP = shutil.which ("ip", path="/usr/sbin:/usr/bin:/sbin:/bin")
WARMUP_SESSION = "warmup"
#   Topics an ovhook-inject session scenario publishes
SCENARIO_TOPICS = ["sessionCreated", "participantJoined", "webrtcConnectionCreated",
                   "recordingStatusChanged", "signalSent", "webrtcConnectionDestroyed",
                   "participantLeft", "sessionDestroyed"]
TIMES = re.compile (rb'"(timestamp|startTime)":(-?[0-9]+)')


# --------------------------------------------------------------------------
#   Processes

class Proc (ovhtest.BridgeProcess):
    """A program as a child process; inside network namespace 'netns' when
    given. stdin: None (nothing) or the path of a file to read."""

    def __init__ (self, folder, name, command, args=(), env=None, netns=None, stdin=None,
                  wrap=True):
        super ().__init__ (folder, args, env, name=name)
        self.name = name
        self.path = command
        self.netns = netns
        self.stdin_path = stdin
        self.wrap = wrap                #   OVHOOK_E2E_WRAPPER applies (binaries only)
        self.started = None

    def start (self, ready=True, timeout=15):
        prefix = [IP, "netns", "exec", self.netns] if self.netns else []
        wrapper = ovhtest.WRAPPER if self.wrap else []
        stdin = open (self.stdin_path, "rb") if self.stdin_path else subprocess.DEVNULL
        try:
            with open (self.log_path, "wb") as log, open (self.out_path, "wb") as out:
                self.process = subprocess.Popen (prefix + wrapper + [self.path] + self.args,
                                                 env=self.env, stdin=stdin, stdout=out,
                                                 stderr=log)
        finally:
            if stdin is not subprocess.DEVNULL:
                stdin.close ()
        self.started = time.monotonic ()
        ovhtest._live.add (self.process)
        if ready:
            self.ready_line = self.wait_log (r"ready:.*", timeout,
                                             "the ready: line of " + self.name).group (0)
        return self

    def show (self):
        text = self.log ()
        if len (text) > 6000:
            text = text [:2000] + "\n[...]\n" + text [-4000:]
        out = self.output () if os.path.exists (self.out_path) else ""
        return "---- %s%s: stderr ----\n%s\n---- %s: stdout (end) ----\n%s\n---- end ----" % (
            self.name, " (netns %s)" % self.netns if self.netns else "", text,
            self.name, out [-2000:])

    def lines (self):
        return self.output ().splitlines ()

    def finish (self, timeout=30):
        """Wait for the exit; AssertionError with the log unless status 0."""
        code = self.wait_exit (timeout)
        if code != 0:
            raise AssertionError ("%s exited with %s\n%s" % (self.name, code, self.show ()))
        return code

    def halt (self, sig=signal.SIGTERM, timeout=20):
        """Signal, wait; AssertionError with the log unless status 0."""
        code, log = self.stop (sig, timeout)
        if code != 0:
            raise AssertionError ("%s exited with %s after signal %d\n%s"
                                  % (self.name, code, sig, self.show ()))
        return log


def program (test, name, program_name, args=(), netns=None, stdin=None, env=None,
             ready=True):
    """Start a built program ($OVHOOK_BIN) as a Proc; killed at the test's end."""
    proc = Proc (test.tmp, name, ovhtest.binary (program_name), [str (a) for a in args],
                 env, netns, stdin)
    test.addCleanup (proc.kill)
    return proc.start (ready)


def script (test, name, args=(), netns=None, ready=True):
    """Start this file as a script (one of its commands) in its own process."""
    proc = Proc (test.tmp, name, PYTHON, ["-B", SCRIPT] + [str (a) for a in args],
                 {"PYTHONDONTWRITEBYTECODE": "1", "OVHOOK_E2E_SLOW": str (SLOW)}, netns,
                 wrap=False)
    test.addCleanup (proc.kill)
    return proc.start (ready)


# --------------------------------------------------------------------------
#   What publishers publish

def canonical (obj):
    """Webhook JSON as the bridge writes it, for ordinary values (ints,
    floats Python and %.15g agree on, strings): compact, UTF-8, in order."""
    return json.dumps (obj, separators=(",", ":"), ensure_ascii=False).encode ()


def _templates ():
    """The documented bodies by event type; each must survive a load/dump
    unchanged, or lines made from it would not be what the bridge writes."""
    result = {}
    for line in ovhtest.examples ():
        obj = json.loads (line)
        assert canonical (obj) == line, "example not canonical: %r" % line
        result [obj ["event"]] = obj
    return result


def session_lines (tag, sessions, joins, base=1700000000000):
    """Webhook lines of 'sessions' made-up sessions ses_<tag>_<k>: created,
    'joins' participants joining, each sending a signal, each leaving,
    destroyed. The sessions' events interleave (step by step, session after
    session) and every line is unique (own timestamp, ids, data)."""
    templates = _templates ()
    clock = [base]

    def event (name, **values):
        obj = json.loads (json.dumps (templates [name]))
        clock [0] += 7
        obj ["timestamp"] = clock [0]
        for key, value in values.items ():
            assert key in obj, (name, key)
            obj [key] = value
        return obj

    per_session = [[] for k in range (sessions)]
    for k in range (sessions):
        sid = "ses_%s_%d" % (tag, k)
        per_session [k].append (event ("sessionCreated", sessionId=sid))
    created = {k: clock [0] for k in range (sessions)}
    for j in range (joins):
        for k in range (sessions):
            sid = "ses_%s_%d" % (tag, k)
            per_session [k].append (event ("participantJoined", sessionId=sid,
                                           connectionId="con_%s_%d_%d" % (tag, k, j),
                                           clientData="user %d of %s" % (j, sid)))
    for j in range (joins):
        for k in range (sessions):
            sid = "ses_%s_%d" % (tag, k)
            per_session [k].append (event (
                "signalSent", sessionId=sid, **{"from": "con_%s_%d_%d" % (tag, k, j)},
                to=["con_%s_%d_%d" % (tag, k, i) for i in range (joins)],
                data="{'message':'hello %d','session':'%s'}" % (j, sid)))
    for j in range (joins):
        for k in range (sessions):
            sid = "ses_%s_%d" % (tag, k)
            per_session [k].append (event ("participantLeft", sessionId=sid,
                                           connectionId="con_%s_%d_%d" % (tag, k, j),
                                           startTime=created [k], duration=j + 1))
    for k in range (sessions):
        sid = "ses_%s_%d" % (tag, k)
        per_session [k].append (event ("sessionDestroyed", sessionId=sid,
                                       startTime=created [k], duration=60 + k))
    #   Publish order: by timestamp (they were made in publish order)
    lines = [canonical (obj) for events in per_session for obj in events]
    return sorted (lines, key=lambda line: json.loads (line) ["timestamp"])


def session_of (line):
    """sessionId of a webhook line (bytes), or None."""
    value = json.loads (line).get ("sessionId")
    return value if isinstance (value, str) else None


def topic_of (line):
    return json.loads (line) ["event"]


def min_time (lines):
    return min (json.loads (line) ["timestamp"] for line in lines)


def shift_times (line, delta):
    """The line with its "timestamp" and "startTime" moved by 'delta' ms."""
    return TIMES.sub (lambda m: b'"%s":%d' % (m.group (1), int (m.group (2)) + delta), line)


class Feed:
    """What one publisher process publishes, in publish order.

    kind: 'scenario' (ovhook-inject --scenario session, seeded: the same
    ids and relative times as a reference run, shifted to 'now'), 'json'
    (ovhook-inject --json FILE) or 'libovhook' (ovh-test-publish, lines on
    stdin). Every feed has its own src and its own sessions."""

    def __init__ (self, name, kind, src, lines, args=()):
        self.name = name
        self.kind = kind
        self.src = src
        self.lines = list (lines)
        self.args = list (args)
        self.sessions = {session_of (line) for line in self.lines}
        assert None not in self.sessions

    def normalize (self, lines):
        """Received lines of this feed made comparable with self.lines: a
        scenario's times move by where its timeline started."""
        if self.kind != "scenario" or not lines:
            return list (lines)
        delta = min_time (self.lines) - min_time (lines)
        return [shift_times (line, delta) for line in lines]

    def by_session (self, lines=None):
        """{sessionId: [line, ...]} in order."""
        result = {}
        for line in self.lines if lines is None else lines:
            result.setdefault (session_of (line), []).append (line)
        return result

    def command (self, test, bus, netns=None, env=None):
        """Start the publisher process (not waiting for it); 'env': its
        variables (CURVE keys)."""
        common = ["--bus", bus, "--src", self.src]
        if self.kind == "scenario":
            return program (test, self.name, "ovhook-inject",
                            common + ["--scenario", "session"] + self.args,
                            netns=netns, env=env, ready=False)
        path = os.path.join (test.tmp, self.name + ".jsonl")
        with open (path, "wb") as f:
            f.write (b"".join (line + b"\n" for line in self.lines))
        if self.kind == "json":
            return program (test, self.name, "ovhook-inject",
                            common + ["--json", path] + self.args, netns=netns, env=env,
                            ready=False)
        return program (test, self.name, "ovh-test-publish", common + self.args,
                        netns=netns, stdin=path, env=env, ready=False)


def scenario_size (sessions, participants):
    return sessions * (2 * participants * (participants - 1) + 5 * participants + 5)


def scenario_feed (test, name, src, seed, sessions, participants, args=()):
    """A seeded scenario feed; its lines are what ovhook-inject published
    with that seed in a reference run, as a bound ovhook-tail printed them."""
    count = scenario_size (sessions, participants)
    scenario = ["--seed", seed, "--sessions", sessions, "--participants", participants]
    bind, connect = test.bus ()
    tail = program (test, name + "-reference-tail", "ovhook-tail",
                    ["--bus", bind, "--count", count])
    code, out, err = ovhtest.run_program ("ovhook-inject", [
        "--bus", ">" + connect, "--scenario", "session", "--quiet"] + scenario)
    assert code == 0, "reference run of %s: %d\n%s" % (name, code, err)
    tail.finish ()
    lines = [line.encode () for line in tail.lines ()]
    assert len (lines) == count, (name, len (lines), count)
    return Feed (name, "scenario", src, lines, [str (a) for a in scenario] + list (args))


def check_sessions (test, feeds, bodies, what):
    """Every feed's events arrived exactly once, and per session in the
    feed's publish order; nothing else arrived. 'bodies': received webhook
    bodies (bytes) in arrival order, warm-up ones left out."""
    owner = {}
    for feed in feeds:
        for session in feed.sessions:
            test.assertNotIn (session, owner, "session %s in two feeds" % session)
            owner [session] = feed
    received = {feed.name: [] for feed in feeds}
    strays = []
    for body in bodies:
        feed = owner.get (session_of (body))
        (received [feed.name] if feed else strays).append (body)
    test.assertEqual (strays, [], "%s: bodies of no publisher" % what)
    for feed in feeds:
        got = feed.by_session (feed.normalize (received [feed.name]))
        want = feed.by_session ()
        for session in sorted (want):
            test.assertEqual (got.get (session, []), want [session],
                              "%s: session %s of %s (%d events) not exactly once in order"
                              % (what, session, feed.name, len (want [session])))
        test.assertEqual (sorted (got), sorted (want), "%s: sessions of %s" % (what, feed.name))
    test.assertEqual (len (bodies), sum (len (feed.lines) for feed in feeds), what)


def is_warmup (line):
    return session_of (line.split (b"\t", 1) [0]) == WARMUP_SESSION


# --------------------------------------------------------------------------
#   Network namespaces

_namespaces = []                        #   every Namespaces with names alive


def _ip (*args, check=True):
    result = subprocess.run ([IP] + list (args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    if check and result.returncode != 0:
        raise AssertionError ("ip %s failed (%d): %s" % (" ".join (args), result.returncode,
                                                        result.stderr.decode (errors="replace")))
    return result


class Namespaces:
    """Network namespaces named ovhtopo<pid>-<role>, joined by veth pairs.
    delete () removes them (the veths go with them); it runs at the test's
    cleanup (after the processes inside were killed), at exit and on SIGTERM."""
    PREFIX = "ovhtopo"

    def __init__ (self):
        self.tag = "%s%d" % (self.PREFIX, os.getpid ())
        self.names = []
        _namespaces.append (self)

    @classmethod
    def unavailable (cls):
        """None when namespaces and veth pairs can be made here, else why not."""
        if IP is None:
            return "no 'ip' command (iproute2)"
        if os.geteuid () != 0:
            return "network namespaces need root (euid %d)" % os.geteuid ()
        cls.remove_stale ()
        probe = "%s%d-probe" % (cls.PREFIX, os.getpid ())
        result = _ip ("netns", "add", probe, check=False)
        if result.returncode != 0:
            return "cannot create a network namespace: ip netns add: %s" % (
                result.stderr.decode (errors="replace").strip ())
        try:
            result = _ip ("-n", probe, "link", "add", "name", "probe0", "type", "veth",
                          "peer", "name", "probe1", check=False)
            if result.returncode != 0:
                return "cannot create a veth pair in a namespace: %s" % (
                    result.stderr.decode (errors="replace").strip ())
        finally:
            _ip ("netns", "del", probe, check=False)
        return None

    @classmethod
    def remove_stale (cls):
        """Namespaces of earlier runs killed before their cleanup (pid gone)."""
        listing = _ip ("netns", "list", check=False).stdout.decode (errors="replace")
        for line in listing.splitlines ():
            m = re.match (r"(%s(\d+)-\S+)" % cls.PREFIX, line)
            if not m:
                continue
            try:
                os.kill (int (m.group (2)), 0)
            except ProcessLookupError:
                _ip ("netns", "del", m.group (1), check=False)
            except PermissionError:
                pass

    def add (self, role):
        name = "%s-%s" % (self.tag, role)
        _ip ("netns", "add", name)
        self.names.append (name)
        _ip ("-n", name, "link", "set", "lo", "up")
        return name

    def link (self, a, address_a, b, address_b, prefix=30):
        """A veth pair between namespaces a and b (each end named after the
        other side's role), with these IPv4 addresses, up."""
        end_a, end_b = "to-" + b.rsplit ("-", 1) [1], "to-" + a.rsplit ("-", 1) [1]
        _ip ("-n", a, "link", "add", "name", end_a, "type", "veth", "peer", "name", end_b, "netns", b)
        for ns, end, address in ((a, end_a, address_a), (b, end_b, address_b)):
            _ip ("-n", ns, "addr", "add", "%s/%d" % (address, prefix), "dev", end)
            _ip ("-n", ns, "link", "set", end, "up")
        return end_a, end_b

    def rx_bytes (self, ns, device):
        stats = json.loads (_ip ("-n", ns, "-j", "-s", "link", "show", "dev", device).stdout)
        return stats [0] ["stats64"] ["rx"] ["bytes"]

    def remove (self, name):
        """Remove one namespace now (a host that vanishes)."""
        _ip ("netns", "del", name)
        self.names.remove (name)

    def delete (self):
        for name in reversed (self.names):
            _ip ("netns", "del", name, check=False)
        self.names = []


def _delete_all_namespaces ():
    for namespaces in _namespaces:
        namespaces.delete ()


atexit.register (_delete_all_namespaces)
_previous_sigterm = signal.getsignal (signal.SIGTERM)


def _on_sigterm (signum, frame):
    ovhtest._kill_leftovers ()          #   what runs inside first
    _delete_all_namespaces ()
    if callable (_previous_sigterm):
        _previous_sigterm (signum, frame)
    os._exit (143)


signal.signal (signal.SIGTERM, _on_sigterm)


# --------------------------------------------------------------------------
#   A receiver in a process of its own (for a bridge in a namespace)

class RecordedRequest:
    def __init__ (self, record):
        self.path = record ["path"]
        self.conn_id = record ["conn"]
        self.body = bytes.fromhex (record ["body"])


class ReceiverProcess:
    """'topology.py receiver' started by the test, read through its file."""

    def __init__ (self, test, netns):
        self.path = os.path.join (test.tmp, "receiver-%s.jsonl" % (netns or "local"))
        self.proc = script (test, "receiver", ["receiver", "--out", self.path], netns)
        self.port = int (re.search (r"port (\d+)", self.proc.ready_line).group (1))

    def url (self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    @property
    def requests (self):
        with open (self.path, "rb") as f:
            data = f.read ()
        #   A line being written may be incomplete: only whole lines count
        return [RecordedRequest (json.loads (line)) for line in data.split (b"\n") [:-1]]


# --------------------------------------------------------------------------
#   The proxy topology, run for real

class Place:
    """Where each component of run_cluster runs and how they reach each
    other. Namespace names None: the test's own (loopback)."""

    def __init__ (self, frontend, backend, pub_connect, consumer_connect,
                  proxy_ns=None, bridge_ns=None, tail_ns=None, pub_ns=(None,), keys=None):
        self.frontend = frontend                #   proxy --frontend (bind)
        self.backend = backend                  #   proxy --backend (bind)
        self.pub_connect = pub_connect          #   [endpoint per publisher ns]
        self.consumer_connect = consumer_connect    #   {ns: endpoint} of the backend
        self.proxy_ns = proxy_ns
        self.bridge_ns = bridge_ns
        self.tail_ns = tail_ns
        self.pub_ns = list (pub_ns)
        self.keys = keys                        #   ClusterKeys: CURVE everywhere, or None


class ClusterKeys:
    """CURVE on every bus connection of run_cluster (issue 12): a pair per
    role made by ovhook-keygen; the proxy lets the publishers' keys into its
    frontend and the consumers' into its backend; every program connects
    with its own secret and the proxy's public key, through the variables
    every program reads. Publisher i gets src-prefix 'prefixes [i]', so the
    proxy checks each host's src values against its key."""

    def __init__ (self, test, prefixes):
        folder = os.path.join (test.tmp, "keys")
        self.publishers = os.path.join (folder, "publishers")
        self.consumers = os.path.join (folder, "consumers")
        own = os.path.join (folder, "own")
        self.proxy = curve.keygen (own, "proxy", src_prefix="*")
        self.pubs = [curve.keygen (own, "pub%d" % index, src_prefix=prefix)
                     for index, prefix in enumerate (prefixes)]
        self.bridge = curve.keygen (own, "bridge")
        self.tails = curve.keygen (own, "tails")
        for keys in self.pubs:
            keys.allow_in (self.publishers)
        for keys in (self.bridge, self.tails):
            keys.allow_in (self.consumers)

    def proxy_args (self):
        return ["--bus-key", self.proxy.secret_path, "--frontend-allow", self.publishers,
                "--backend-allow", self.consumers]

    def env (self, keys):
        return {"OVHOOK_BUS_KEY": keys.secret_path,
                "OVHOOK_BUS_SERVER_KEY": self.proxy.public_path}

    def pub_env (self, index):
        return self.env (self.pubs [index % len (self.pubs)])


def warm_up (test, place, consumers, topics):
    """Make sure every consumer's subscription to every topic the feeds use
    has reached the proxy before the publishers start: a throw-away
    publisher sends warm-up events (sessionId "warmup", no envelope) on
    each topic until each consumer got one of each topic it subscribed to.
    (The proxy forwards the first subscription of a topic upstream and not
    the others', so no publisher could tell that a second consumer joined.)
    Returns the number of warm-up messages sent."""
    keys = []
    if place.keys:
        keys = ["--key", place.keys.pubs [0].secret_path,
                "--server-key", place.keys.proxy.public_path]
    warm = script (test, "warmup", ["warmup", "--connect", place.pub_connect [0],
                                    "--topics", ",".join (topics)] + keys, place.pub_ns [0])

    def missing ():
        result = []
        for name, wanted, lines in consumers:
            seen = {topic_of (line.split (b"\t") [0]) for line in lines () if is_warmup (line)}
            result += ["%s: %s" % (name, t) for t in wanted if t in topics and t not in seen]
        return result

    ovhtest.wait_until (lambda: not missing (), 20, "warm-up events at every consumer",
                        lambda: "still missing %s\n%s" % (missing (), warm.show ()))
    warm.halt ()
    return int (re.search (r"warmup: sent (\d+)", warm.log ()).group (1))


def run_cluster (test, place, feeds, some_topics=("sessionCreated", "sessionDestroyed")):
    """Publishers (one process per feed) -> ovhook-proxy -> ovhook-bridge
    (connecting) + receiver, and two ovhook-tail --envelope: one for every
    type, one for 'some_topics'. Checks that each consumer got exactly what
    it subscribed to, once, in each publisher's order, with seq 1..n per src
    and topic, and that the proxy forwarded exactly what was published."""
    keys = place.keys
    proxy = program (test, "proxy", "ovhook-proxy", ["--frontend", place.frontend,
                                                     "--backend", place.backend]
                     + (keys.proxy_args () if keys else []), netns=place.proxy_ns)
    if place.bridge_ns is None:
        receiver = test.receiver ()
    else:
        receiver = ReceiverProcess (test, place.bridge_ns)
    bridge_env = test.webhook_env (receiver.url (), ">" + place.consumer_connect [place.bridge_ns])
    tail_env = None
    if keys:
        bridge_env.update (keys.env (keys.bridge))
        tail_env = keys.env (keys.tails)
    bridge = Proc (test.tmp, "bridge", ovhtest.binary ("ovhook-bridge"), [], bridge_env,
                   place.bridge_ns)
    test.addCleanup (bridge.kill)
    bridge.start ()
    backend = ">" + place.consumer_connect [place.tail_ns]
    every = program (test, "tail-all", "ovhook-tail", ["--bus", backend, "--envelope"],
                     netns=place.tail_ns, env=tail_env)
    some = program (test, "tail-some", "ovhook-tail", ["--bus", backend, "--envelope"]
                    + list (some_topics), netns=place.tail_ns, env=tail_env)

    topics = sorted ({topic_of (line) for feed in feeds for line in feed.lines})
    received = lambda: [r.body for r in receiver.requests]
    out = lambda tail: lambda: [l.encode () for l in tail.lines ()]
    warm_sent = warm_up (test, place, [
        ("bridge", ovhtest.DEFAULT_EVENTS, received),
        ("tail-all", ovhtest.ALL_EVENTS, out (every)),
        ("tail-some", some_topics, out (some))], topics)

    #   Every publisher at once
    publishers = [feed.command (test, ">" + place.pub_connect [i % len (place.pub_connect)],
                                place.pub_ns [i % len (place.pub_ns)],
                                keys.pub_env (i % len (place.pub_ns)) if keys else None)
                  for i, feed in enumerate (feeds)]
    for proc in publishers:
        proc.finish (60)
        test.assertNotIn ("warning", proc.log (), proc.show ())
    total = sum (len (feed.lines) for feed in feeds)
    filtered = sum (1 for feed in feeds for line in feed.lines if topic_of (line) in some_topics)

    def real (lines):
        return [line for line in lines if not is_warmup (line)]
    everyone = lambda: (proxy.show () + bridge.show () + every.show () + some.show ())
    ovhtest.wait_until (lambda: len (real (received ())) >= total, 30,
                        "%d events at the receiver" % total, everyone)
    ovhtest.wait_until (lambda: len (real (out (every) ())) >= total, 10,
                        "%d lines from tail-all" % total, everyone)
    ovhtest.wait_until (lambda: len (real (out (some) ())) >= filtered, 10,
                        "%d lines from tail-some" % filtered, everyone)

    #   Stop the proxy first: nothing can arrive at a consumer after that
    log = proxy.halt (signal.SIGTERM)
    m = re.search (r"stopped: forwarded (\d+) messages?", log)
    test.assertIsNotNone (m, log)
    test.assertEqual (int (m.group (1)), warm_sent + total,
                      "proxy forwarded != %d warm-up + %d published\n%s"
                      % (warm_sent, total, log))
    for tail in (every, some):
        tail.halt (signal.SIGTERM)
        test.assertNotIn ("lost", tail.log (), tail.show ())
        test.assertNotIn ("warning", tail.log (), tail.show ())
    stats = ovhtest.parse_stopped (bridge.halt (signal.SIGTERM))
    bodies = received ()
    test.assertEqual ((stats ["received"], stats ["delivered"], stats ["failed"],
                       stats ["dropped"], stats ["undelivered"]),
                      (len (bodies), len (bodies), 0, 0, 0), bridge.show ())
    test.assertNotRegex (bridge.log (), r"lost \d+ message")
    test.assertEqual (stats ["extra"].get ("lost on bus", 0), 0, bridge.show ())

    #   The bridge: exactly once, per session in publish order
    check_sessions (test, feeds, real (bodies), "receiver")
    #   The tails: exactly their types, per publisher in publish order
    for tail, wanted in ((every, None), (some, some_topics)):
        lines = real (out (tail) ())
        by_src = {}
        for line in lines:
            json_text, src, seq = line.split (b"\t")
            by_src.setdefault (src.decode (), []).append ((json_text, int (seq)))
        test.assertEqual (sorted (by_src), sorted (feed.src for feed in feeds), tail.name)
        for feed in feeds:
            got = by_src [feed.src]
            want = [line for line in feed.lines if wanted is None or topic_of (line) in wanted]
            test.assertEqual (feed.normalize ([j for j, s in got]), want,
                              "%s: the events of %s, in order" % (tail.name, feed.name))
            #   seq counts per src and topic: 1..n for each topic, none skipped
            per_topic = {}
            for json_text, seq in got:
                per_topic.setdefault (topic_of (json_text), []).append (seq)
            for topic, seqs in per_topic.items ():
                test.assertEqual (seqs, list (range (1, len (seqs) + 1)),
                                  "%s: seq of %s %s" % (tail.name, feed.src, topic))
        test.assertEqual (len (lines), filtered if wanted else total, tail.name)
    return {"total": total, "warm_sent": warm_sent, "bridge": stats, "filtered": filtered}


# --------------------------------------------------------------------------
#   unittest main: all skipped -> 77

def main ():
    test_program = unittest.main (verbosity=2, exit=False)
    result = test_program.result
    if not result.wasSuccessful ():
        sys.exit (1)
    if result.testsRun and len (result.skipped) == result.testsRun:
        sys.exit (77)
    sys.exit (0)


# --------------------------------------------------------------------------
#   Scripts: each runs as a process of its own

def _stopper ():
    """A flag set by SIGTERM/SIGINT, so that a script ends its loop cleanly."""
    stop = threading.Event ()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal (sig, lambda signum, frame: stop.set ())
    return stop


def _say (text):
    sys.stderr.write (text + "\n")
    sys.stderr.flush ()


def cmd_receiver (args):
    """receiver --out FILE: ovhtest's HTTP receiver (127.0.0.1, a free port)
    that appends every request to FILE as a JSON line {path, conn, body (hex)}
    before answering 200. Writes "ready: port N" on stderr."""
    out = open (args [args.index ("--out") + 1], "ab")
    lock = threading.Lock ()

    def responder (request):
        record = {"path": request.path, "conn": request.conn_id, "body": request.body.hex ()}
        with lock:
            out.write (json.dumps (record).encode () + b"\n")
            out.flush ()
        return 200

    stop = _stopper ()
    receiver = ovhtest.Receiver (responder)
    _say ("topology receiver ready: port %d" % receiver.port)
    stop.wait ()
    receiver.stop ()
    return 0


def _xpub (context, endpoints, options=None):
    socket = context.socket (zmq.XPUB)
    socket.setsockopt (zmq.XPUB_VERBOSE, 1)         #   every subscription, from every peer
    socket.setsockopt (zmq.SNDHWM, 0)               #   never drop a send
    for option, value in (options or {}).items ():
        socket.setsockopt (option, value)
    for endpoint in endpoints.split (","):
        socket.connect (endpoint)
    return socket


def _wait_subscriptions (socket, wanted, timeout):
    """Read subscription messages until each topic in 'wanted' (bytes ->
    count) was subscribed that many times. False on timeout."""
    have = {}
    deadline = time.monotonic () + timeout
    while any (have.get (t, 0) < n for t, n in wanted.items ()):
        left = deadline - time.monotonic ()
        if left <= 0:
            _say ("subscriptions so far: %r, wanted %r" % (have, wanted))
            return False
        if socket.poll (int (min (left, 0.1) * 1000) + 1, zmq.POLLIN):
            message = socket.recv ()
            if message [:1] == b"\x01":
                have [message [1:]] = have.get (message [1:], 0) + 1
    return True


def cmd_warmup (args):
    """warmup --connect ENDPOINTS --topics T1,T2 [--interval-ms 50]: XPUB
    waits until every topic is subscribed, then publishes one throw-away
    event per topic every interval until SIGTERM; "warmup: sent N" at the end."""
    endpoints = args [args.index ("--connect") + 1]
    topics = [t.encode () for t in args [args.index ("--topics") + 1].split (",")]
    interval = int (args [args.index ("--interval-ms") + 1]) if "--interval-ms" in args else 50
    stop = _stopper ()
    context = zmq.Context ()
    options = {}
    if "--key" in args:             #   CURVE: our secret certificate, the server's public one
        secret_path = args [args.index ("--key") + 1]
        options = {zmq.CURVE_PUBLICKEY: curve._read_key (secret_path, "public-key"),
                   zmq.CURVE_SECRETKEY: curve._read_key (secret_path, "secret-key"),
                   zmq.CURVE_SERVERKEY: curve._read_key (args [args.index ("--server-key") + 1],
                                                         "public-key")}
    socket = _xpub (context, endpoints, options)
    if not _wait_subscriptions (socket, {t: 1 for t in topics}, 20 * SLOW):
        return 2
    _say ("warmup ready: %d topics subscribed" % len (topics))
    sent = 0
    while not stop.is_set ():
        for topic in topics:
            socket.send_multipart ([topic, msgpack.packb (
                {"timestamp": sent, "sessionId": WARMUP_SESSION})])
            sent += 1
        stop.wait (interval / 1000)
        while socket.poll (0, zmq.POLLIN):
            socket.recv ()
    socket.close (linger=5000)
    context.term ()
    _say ("warmup: sent %d" % sent)
    return 0


def cmd_pypublish (args):
    """pypublish --connect ENDPOINTS --subscribers N --src SRC --input FILE
    [--epoch N] [--rate R]: the way another program publishes with pyzmq +
    msgpack (R events a second, steadily; as fast as it can without). FILE
    holds JSON records {"webhook": "<webhook JSON line>", "float32": bool};
    each becomes [topic, msgpack body (floats as float32 when asked), msgpack
    envelope {src, seq, epoch}] with seq counted per topic and one epoch for
    the run (64 random bits unless given). A PUB would drop what it sends
    before the subscriptions arrive: the XPUB waits until each topic it will
    send was subscribed N times (by N subscribers)."""
    endpoints = args [args.index ("--connect") + 1]
    subscribers = int (args [args.index ("--subscribers") + 1])
    src = args [args.index ("--src") + 1]
    if "--epoch" in args:
        epoch = int (args [args.index ("--epoch") + 1])
    else:
        epoch = int.from_bytes (os.urandom (8), "big")
    with open (args [args.index ("--input") + 1], "rb") as f:
        records = [json.loads (line) for line in f if line.strip ()]
    messages = []
    for record in records:
        body = json.loads (record ["webhook"])
        topic = body.pop ("event").encode ()
        messages.append ((topic, msgpack.packb (body, use_single_float=record.get ("float32",
                                                                                   False))))
    context = zmq.Context ()
    socket = _xpub (context, endpoints)
    if not _wait_subscriptions (socket, {t: subscribers for t, b in messages}, 20 * SLOW):
        return 2
    rate = float (args [args.index ("--rate") + 1]) if "--rate" in args else 0
    started = time.monotonic ()
    seq = {}
    for index, (topic, body) in enumerate (messages):
        if rate:
            delay = started + index / rate - time.monotonic ()
            if delay > 0:
                time.sleep (delay)
        seq [topic] = seq.get (topic, 0) + 1
        socket.send_multipart ([topic, body, msgpack.packb ({"src": src, "seq": seq [topic],
                                                             "epoch": epoch})])
    socket.close (linger=10000)                     #   lingers until all went out
    context.term ()
    _say ("pypublish: sent %d" % len (messages))
    return 0


def cmd_pysubscribe (args):
    """pysubscribe --bind ENDPOINT --count N --out FILE [TOPIC ...]: SUB
    bound (as the bridge binds), subscribed to the topics (all 17 by default);
    appends each message to FILE as {"frames": [hex, ...]}; exits 0 after N
    messages, or on SIGTERM. Writes "ready:" on stderr once subscribed."""
    endpoint = args [args.index ("--bind") + 1]
    count = int (args [args.index ("--count") + 1])
    out = open (args [args.index ("--out") + 1], "ab")
    rest = args [args.index ("--out") + 2:]
    topics = rest or ovhtest.ALL_EVENTS
    stop = _stopper ()
    context = zmq.Context ()
    socket = context.socket (zmq.SUB)
    socket.setsockopt (zmq.RCVHWM, 0)
    for topic in topics:
        socket.setsockopt (zmq.SUBSCRIBE, topic.encode ())
    socket.bind (endpoint)
    _say ("pysubscribe ready: %s, %d topics" % (endpoint, len (topics)))
    got = 0
    #   Keep calling into the socket: it attaches new peers (and sends them
    #   our subscriptions) only while we do
    while got < count and not stop.is_set ():
        if socket.poll (50, zmq.POLLIN):
            frames = socket.recv_multipart ()
            out.write (json.dumps ({"frames": [f.hex () for f in frames]}).encode () + b"\n")
            out.flush ()
            got += 1
    socket.close (linger=0)
    context.term ()
    return 0


COMMANDS = {"receiver": cmd_receiver, "warmup": cmd_warmup, "pypublish": cmd_pypublish,
            "pysubscribe": cmd_pysubscribe}

if __name__ == "__main__":
    if len (sys.argv) < 2 or sys.argv [1] not in COMMANDS:
        sys.stderr.write ("usage: topology.py {%s} ...\n" % ",".join (sorted (COMMANDS)))
        sys.exit (2)
    sys.exit (COMMANDS [sys.argv [1]] (sys.argv [2:]))
