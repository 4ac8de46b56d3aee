"""delivery - helpers of the delivery-guarantee tests (test_delivery_*.py).

Builds on ovhtest (the shared harness, unchanged). Pieces:
  envelope_id     the webhook-id a bridge must give an enveloped event,
                  computed here independently (hashlib)
  sign / verify_entries  Standard Webhooks v1 signatures with Python's hmac
  SeqPublisher    an ovhtest.Publisher that numbers envelopes per src and
                  topic (as libovhook does) and records every event sent
  PortHold        a port reserved for a receiver that is "down": bound but
                  not listening (connections refused), released only once
                  the receiver listens on it, so no other process can take it
  FastReceiver    a lean asyncio HTTP/1.1 receiver for 10,000s of requests
                  (the harness's threaded one does ~3,700/s)
  Attempts        a responder that counts the attempts of each webhook-id
                  and answers from a per-event plan
  hits / analysis one shape for what any receiver saw: (id, body, time)
  spool_*         read the bridge's SQLite spool read-only
"""

import asyncio
import base64
import collections
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import sqlite3
import sys
import threading
import time

import msgpack

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

ID_RE = re.compile (r"^evt_[0-9a-f]{32}$")
#   Short retry timings: attempts at 0, 50, 150, 350, 750 ms... no jitter,
#   so that the gaps between attempts can be asserted
FAST_RETRY = ["--retry-initial", "50ms", "--retry-max", "400ms", "--retry-jitter", "0"]
E_LINE = re.compile (r"(?m)^E: .*$")


def envelope_id (src, topic, seq, epoch=None):
    """'evt_' + the first 128 bits of SHA-256 (src 0x00 topic 0x00 seq
    [0x00 epoch]), numbers in decimal; no epoch part for an envelope
    without one (PROTOCOL.md section 6)."""
    parts = [src.encode (), topic.encode (), str (seq).encode ()]
    if epoch is not None:
        parts.append (str (epoch).encode ())
    return "evt_" + hashlib.sha256 (b"\0".join (parts)).hexdigest () [:32]


def new_epoch ():
    """A publisher run's epoch, as libovhook draws it: 64 random bits."""
    return int.from_bytes (os.urandom (8), "big")


def new_secret (size=32, padding=True):
    """A fresh 'whsec_<base64>' secret and its key bytes."""
    key = os.urandom (size)
    text = base64.b64encode (key).decode ()
    if not padding:
        text = text.rstrip ("=")
    return "whsec_" + text, key


def sign (key, msg_id, timestamp, body):
    """base64 HMAC-SHA256 (key, '<id>.<timestamp>.<body>'), hashlib/hmac only."""
    message = ("%s.%s." % (msg_id, timestamp)).encode () + body
    return base64.b64encode (hmac.new (key, message, hashlib.sha256).digest ()).decode ()


def verify_entries (key, request):
    """For each space-separated entry of webhook-signature: True if it is
    'v1,<sig>' and sig is the HMAC of this request with 'key'."""
    (msg_id,) = request.header ("webhook-id")
    (timestamp,) = request.header ("webhook-timestamp")
    (signature,) = request.header ("webhook-signature")
    expected = sign (key, msg_id, timestamp, request.body)
    result = []
    for entry in signature.split (" "):
        version, _, value = entry.partition (",")
        result.append (version == "v1" and hmac.compare_digest (value, expected))
    return result


# --------------------------------------------------------------------------
#   Publishing with envelopes we can predict

class SeqPublisher:
    """Numbers envelopes 1, 2, 3... per (src, topic), like libovhook's
    publisher, with one epoch for its life (epoch=None: a random one;
    False: envelopes without epoch, as publishers older than the epoch
    wrote them), and records what it sent: self.sent is a list of
    {"topic", "body", "key", "id", "src", "seq"} (id None without envelope)."""

    def __init__ (self, publisher, src="py-test", epoch=None):
        self.publisher = publisher
        self.src = src
        self.epoch = new_epoch () if epoch is None else epoch
        self.seqs = collections.Counter ()
        self.sent = []

    def send_many (self, events):
        """Publish (topic, body) pairs with envelopes, packed first and sent
        in a tight loop (100,000 in a few seconds). Returns their ids."""
        frames = []
        ids = []
        for topic, body in events:
            self.seqs [self.src, topic] += 1
            seq = self.seqs [self.src, topic]
            record = {"topic": topic, "body": body, "key": ovhtest.ordering_key (body),
                      "id": envelope_id (self.src, topic, seq, self._epoch ()),
                      "src": self.src, "seq": seq}
            self.sent.append (record)
            ids.append (record ["id"])
            frames.append ([topic.encode (), msgpack.packb (body),
                            msgpack.packb (self._envelope (self.src, seq))])
        socket = self.publisher.socket
        for message in frames:
            socket.send_multipart (message)
        return ids

    def send (self, topic, body, envelope=True, src=None):
        src = src or self.src
        record = {"topic": topic, "body": body, "key": ovhtest.ordering_key (body),
                  "id": None, "src": src, "seq": None}
        if envelope:
            self.seqs [src, topic] += 1
            seq = self.seqs [src, topic]
            record.update (id=envelope_id (src, topic, seq, self._epoch ()), seq=seq)
            self.publisher.send (topic, body, self._envelope (src, seq))
        else:
            self.publisher.send (topic, body, False)
        self.sent.append (record)
        return record ["id"]

    def _epoch (self):
        return None if self.epoch is False else self.epoch

    def _envelope (self, src, seq):
        envelope = {"src": src, "seq": seq}
        if self.epoch is not False:
            envelope ["epoch"] = self.epoch
        return envelope


def bulk_lines (count, sessions, topics=("participantJoined", "signalSent", "participantLeft"),
                base=1700000000000):
    """'count' webhook JSON lines spread round-robin over 'sessions'
    sessions, topics cycling: line i has timestamp base + i (its publish
    rank, to check order) and sessionId ses_<i % sessions>."""
    lines = []
    for i in range (count):
        topic = topics [i % len (topics)]
        body = {"timestamp": base + i, "sessionId": "ses_%04d" % (i % sessions),
                "connectionId": "con_%d" % i}
        lines.append (json.dumps (dict (event=topic, **body), separators=(",", ":")))
    return lines


def bulk_events (count, sessions, topics=("participantJoined", "signalSent", "participantLeft")):
    """The (topic, body) pairs of bulk_lines."""
    result = []
    for line in bulk_lines (count, sessions, topics):
        body = json.loads (line)
        result.append ((body.pop ("event"), body))
    return result


def expected_ids (lines, src, epoch=None):
    """Ids of JSON lines published in this order by one publisher 'src'
    (in run 'epoch': ovh-test-publish --epoch)."""
    seqs = collections.Counter ()
    ids = []
    for line in lines:
        topic = json.loads (line) ["event"]
        seqs [topic] += 1
        ids.append (envelope_id (src, topic, seqs [topic], epoch))
    return ids


# --------------------------------------------------------------------------
#   Receivers

class PortHold:
    """A port nobody listens on, kept so: bound with SO_REUSEADDR, not
    listening (a connection is refused at once). A receiver can bind it
    while held (Linux allows it while no socket listens there); release ()
    after that leaves no window for another process to take the port."""

    def __init__ (self):
        self.socket = socket.socket (socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind (("127.0.0.1", 0))
        self.port = self.socket.getsockname () [1]

    def url (self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def release (self):
        if self.socket is not None:
            self.socket.close ()
            self.socket = None


class Hit:
    """One request as the analysis helpers see it."""
    __slots__ = ("id", "body", "time", "headers")

    def __init__ (self, msg_id, body, when, headers=None):
        self.id = msg_id
        self.body = body
        self.time = when
        self.headers = headers

    def json (self):
        return json.loads (self.body)


class _FastProtocol (asyncio.Protocol):
    def __init__ (self, owner):
        self.owner = owner
        self.buffer = b""
        self.transport = None

    def connection_made (self, transport):
        self.transport = transport
        self.owner.connections += 1
        self.owner._transports.add (transport)

    def connection_lost (self, error):
        self.owner._transports.discard (self.transport)

    def data_received (self, data):
        self.buffer += data
        while True:
            end = self.buffer.find (b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer [:end].decode ("latin-1").split ("\r\n")
            headers = {}
            for line in head [1:]:
                name, _, value = line.partition (":")
                headers [name.strip ().lower ()] = value.strip ()
            assert "chunked" not in headers.get ("transfer-encoding", ""), head
            length = int (headers.get ("content-length", "0"))
            if len (self.buffer) < end + 4 + length:
                return
            body = self.buffer [end + 4:end + 4 + length]
            self.buffer = self.buffer [end + 4 + length:]
            status = self.owner._arrive (Hit (headers.get ("webhook-id"), body, time.monotonic (),
                                              headers if self.owner.keep_headers else None))
            answer = b"HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n" % status
            if self.owner.delay:
                self.owner._loop.call_later (self.owner.delay, self.transport.write, answer)
            else:
                self.transport.write (answer)


class FastReceiver:
    """HTTP/1.1 keep-alive server on 127.0.0.1 (asyncio, one thread) that
    answers 'status' (200) to everything and records Hit objects. For bulk
    tests only: no TLS, Content-Length bodies; 'delay' holds every answer
    that many seconds (one request at a time per connection, as the bridge
    sends them)."""

    def __init__ (self, port=0, status=200, keep_headers=False, delay=0):
        self.status = status
        self.delay = delay
        self.keep_headers = keep_headers
        self.hits = []
        self.connections = 0
        self._transports = set ()       #   open connections (loop thread only)
        self._cond = threading.Condition ()
        self._loop = asyncio.new_event_loop ()
        started = threading.Event ()
        failure = []

        def run ():
            asyncio.set_event_loop (self._loop)
            try:
                self._server = self._loop.run_until_complete (self._loop.create_server (
                    lambda: _FastProtocol (self), "127.0.0.1", port, reuse_address=True,
                    backlog=256))
            except OSError as e:
                failure.append (e)
                started.set ()
                return
            started.set ()
            self._loop.run_forever ()
            self._server.close ()
            self._loop.run_until_complete (self._server.wait_closed ())
            self._loop.close ()

        self._thread = threading.Thread (target=run, daemon=True)
        self._thread.start ()
        started.wait (10)
        if failure:
            raise failure [0]
        self.port = self._server.sockets [0].getsockname () [1]

    def url (self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def _arrive (self, hit):
        with self._cond:
            self.hits.append (hit)
            if len (self.hits) % 100 == 0:
                self._cond.notify_all ()
            return self.status

    def count (self):
        with self._cond:
            return len (self.hits)

    def snapshot (self):
        with self._cond:
            return list (self.hits)

    def wait_unique (self, ids, timeout, log=lambda: ""):
        """Wait until every id of the set 'ids' has arrived at least once."""
        seen = set ()
        done = [0]

        def check ():
            with self._cond:
                fresh = self.hits [done [0]:]
                done [0] = len (self.hits)
            seen.update (h.id for h in fresh)
            return ids <= seen
        ovhtest.wait_until (check, timeout, "%d distinct ids at the receiver" % len (ids),
                            lambda: "have %d of them, %d requests\n%s" % (
                                len (ids & seen), self.count (), log ()))
        return self.snapshot ()

    def _shutdown (self):
        self._server.close ()
        for transport in list (self._transports):
            transport.close ()
        #   Let the transports finish closing, then end the loop
        self._loop.call_later (0.05, self._loop.stop)

    def stop (self):
        if self._loop.is_running ():
            self._loop.call_soon_threadsafe (self._shutdown)
        self._thread.join (5)


def hits (receiver):
    """What a receiver saw, as Hit objects in arrival order."""
    if isinstance (receiver, FastReceiver):
        return receiver.snapshot ()
    result = []
    for r in receiver.requests:
        ids = r.header ("webhook-id")
        result.append (Hit (ids [0] if ids else None, r.body, r.time))
    return result


class Attempts:
    """A responder (ovhtest.Receiver) that numbers the attempts of each
    webhook-id (1, 2...) and answers plan (body_dict, attempt, request);
    the plan returns what ovhtest's responders return. Records each
    attempt's number on the request as request.attempt."""

    def __init__ (self, plan=lambda body, attempt, request: 200):
        self.plan = plan
        self.counts = collections.Counter ()
        self.lock = threading.Lock ()

    def __call__ (self, request):
        msg_id = (request.header ("webhook-id") or [None]) [0]
        with self.lock:
            self.counts [msg_id] += 1
            request.attempt = self.counts [msg_id]
        return self.plan (request.json (), request.attempt, request)


# --------------------------------------------------------------------------
#   Analysis

def by_id (hit_list):
    """{id: [hits]} in arrival order."""
    result = collections.OrderedDict ()
    for hit in hit_list:
        result.setdefault (hit.id, []).append (hit)
    return result


def duplicates (hit_list):
    """(number of extra arrivals, {id: arrivals} of the ids seen twice or more)."""
    counts = collections.Counter (h.id for h in hit_list)
    extra = {i: n for i, n in counts.items () if n > 1}
    return sum (n - 1 for n in extra.values ()), extra


def order_violations (hit_list, sent):
    """Sessions whose events' FIRST arrivals are not in publish order.
    'sent' is a list of (id, key) in publish order. Returns a list of texts."""
    rank = {msg_id: i for i, (msg_id, key) in enumerate (sent)}
    key_of = dict (sent)
    first = collections.OrderedDict ()
    for hit in hit_list:
        first.setdefault (hit.id, hit)
    per_key = collections.defaultdict (list)
    for msg_id in first:
        if msg_id in rank:
            per_key [key_of [msg_id]].append (rank [msg_id])
    problems = []
    for key, ranks in per_key.items ():
        if ranks != sorted (ranks):
            problems.append ("%s: publish ranks in arrival order %r" % (key, ranks [:20]))
    return problems


def error_lines (log, pattern=""):
    """Every E: line of the log (matching 'pattern' if given)."""
    regex = re.compile (pattern)
    return [line for line in E_LINE.findall (log) if regex.search (line)]


# --------------------------------------------------------------------------
#   Spool (read-only, while the bridge writes it)

def _spool_query (path, sql):
    if not os.path.exists (path):
        return None
    try:
        db = sqlite3.connect ("file:%s?mode=ro" % path, uri=True, timeout=2)
        try:
            return db.execute (sql).fetchall ()
        finally:
            db.close ()
    except sqlite3.Error:
        return None                     #   not created yet, or busy: ask again


def spool_count (path, table="events"):
    rows = _spool_query (path, "SELECT count(*) FROM %s" % table)
    return rows [0][0] if rows else None


def spool_ids (path, table="events"):
    rows = _spool_query (path, "SELECT id FROM %s" % table)
    return None if rows is None else [r [0] for r in rows]


def spool_receipts (path):
    """The delivery receipts beside the spool (PATH.delivered, as
    docs/durability.md describes it): a set of (rowid, id), read here
    independently of the bridge's parser. A last line without its newline
    is not a receipt."""
    try:
        with open (path + ".delivered", "rb") as file:
            text = file.read ().decode ("ascii")
    except FileNotFoundError:
        return set ()
    receipts = set ()
    for line in text.split ("\n") [:-1]:        #   the rest has no newline
        row, _, id = line.partition (" ")
        if row.isdigit () and id:
            receipts.add ((int (row), id))
    return receipts


def spool_rows (path, table="dead_letters"):
    """Every row of 'table' as a dict."""
    if not os.path.exists (path):
        return None
    db = sqlite3.connect ("file:%s?mode=ro" % path, uri=True, timeout=2)
    try:
        db.row_factory = sqlite3.Row
        return [dict (row) for row in db.execute ("SELECT * FROM %s" % table)]
    finally:
        db.close ()


def spool_copy_ids (path, folder, table="events", rows=False):
    """Ids of 'table' in a copy of the spool (database + WAL) made now:
    for a spool whose writer was killed (the copy replays the WAL, the
    original is left as the bridge will find it). With rows=True,
    (rowid, id) pairs."""
    copy = os.path.join (folder, "spool-copy-%d.db" % time.monotonic_ns ())
    shutil.copyfile (path, copy)
    if os.path.exists (path + "-wal"):
        shutil.copyfile (path + "-wal", copy + "-wal")
    db = sqlite3.connect (copy)
    try:
        if rows:
            return [(r [0], r [1]) for r in db.execute ("SELECT rowid, id FROM %s" % table)]
        return [r [0] for r in db.execute ("SELECT id FROM %s" % table)]
    finally:
        db.close ()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists (copy + suffix):
                os.unlink (copy + suffix)


def read_bytes (path):
    """The bytes of a file, None if it does not exist."""
    try:
        with open (path, "rb") as f:
            return f.read ()
    except FileNotFoundError:
        return None


def line_count (path):
    """Number of complete lines in a file (0 if it does not exist)."""
    return (read_bytes (path) or b"").count (b"\n")
