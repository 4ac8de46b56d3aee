#!/usr/bin/env python3
"""A webhook receiver for ovhook that checks what it is sent (stdlib only).

- the signature: `webhook-signature` must hold a `v1,<base64>` entry equal
  to HMAC-SHA256 (key, "<webhook-id>.<webhook-timestamp>.<body>") for one
  of our secrets (compared in constant time). Several secrets may be given,
  and the header may carry several entries: both sides can rotate keys.
- the timestamp: within 5 minutes of our clock, else 401 (a replayed old
  request is refused even though its signature is right);
- the id: ovhook sends every retry of an event with the same `webhook-id`,
  and two redundant bridges give one event the same id. An id already
  processed gets 200 at once and is not processed twice.

Run (secrets as for ovhook-bridge, space-separated):

    OVHOOK_WEBHOOK_SECRET="whsec_..." python3 verify_receiver.py --port 8080

It prints `accepted <id> <event type> <body>` per new event, and
`duplicate <id>` / `rejected <reason>` otherwise. `verify ()` can be
imported and called on its own.
"""

import argparse
import base64
import binascii
import collections
import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import time

TOLERANCE = 5 * 60                  # seconds of clock difference allowed
#   Remember ids for longer than ovhook may retry an event (its
#   --retry-max-age, 1 hour by default), or a late retry would be
#   processed again
REMEMBER = 2 * 3600


def parse_secret (secret):
    """`whsec_<base64>` -> key bytes (padding optional); ValueError if bad."""
    if not secret.startswith ("whsec_"):
        raise ValueError ("a secret starts with whsec_")
    text = secret [len ("whsec_"):]
    try:
        key = base64.b64decode (text + "=" * (-len (text) % 4), validate=True)
    except binascii.Error:
        raise ValueError ("a secret is whsec_ followed by base64") from None
    if not 1 <= len (key) <= 64:
        raise ValueError ("a secret decodes to 1..64 bytes")
    return key


def sign (key, msg_id, timestamp, body):
    """The base64 signature of one message (without the `v1,`)."""
    message = b"%s.%s.%s" % (msg_id.encode (), str (timestamp).encode (), body)
    return base64.b64encode (hmac.new (key, message, hashlib.sha256).digest ()).decode ()


def verify (secret_list, headers, body, now=None):
    """Check one request. secret_list: `whsec_...` strings (or one string of
    them separated by spaces); headers: any mapping of header names
    (any case) to values; body: the raw bytes; now: Unix seconds (default:
    the clock). Returns (ok, reason). A malformed secret raises ValueError
    (a configuration error, not a bad request)."""
    if isinstance (secret_list, str):
        secret_list = secret_list.split ()
    keys = [parse_secret (secret) for secret in secret_list]
    if not keys:
        return False, "no secret configured"
    lowered = {name.lower (): value for name, value in headers.items ()}
    msg_id = lowered.get ("webhook-id")
    stamp = lowered.get ("webhook-timestamp")
    signature = lowered.get ("webhook-signature")
    if not msg_id or not stamp or not signature:
        return False, "missing webhook-id, webhook-timestamp or webhook-signature"
    if not (stamp.isascii () and stamp.isdigit ()) or len (stamp) > 12:
        return False, "webhook-timestamp is not Unix seconds"
    now = time.time () if now is None else now
    if abs (now - int (stamp)) > TOLERANCE:
        return False, "webhook-timestamp is more than 5 minutes away from now"
    expected = [sign (key, msg_id, stamp, body).encode () for key in keys]
    # Compare every entry against every key, without stopping at the first
    # match: the time taken says nothing about which part was right
    matched = False
    for entry in signature.split (" "):
        version, _, value = entry.partition (",")
        if version != "v1":
            continue
        for want in expected:
            matched |= hmac.compare_digest (value.encode (), want)
    if not matched:
        return False, "no signature matches"
    return True, "ok"


class Seen:
    """Ids already processed, forgotten after REMEMBER seconds. A real
    receiver would rather use its database (a unique key on the id, set in
    the transaction that processes the event)."""

    def __init__ (self):
        self.ids = collections.OrderedDict ()
        self.lock = threading.Lock ()

    def forget_old (self, now):
        while self.ids:
            oldest, when = next (iter (self.ids.items ()))  # insertion order
            if now - when < REMEMBER:
                break
            del self.ids [oldest]


def make_handler (secrets, seen, process, out=sys.stdout):
    class Handler (http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"           # keep-alive, as ovhook uses it
        # A buffered wfile, flushed once per response: headers and body
        # written apart would leave in two segments, and Nagle holds the
        # second until the client ACKs the first, which it delays (~40 ms
        # per request on a kept-alive connection)
        wbufsize = -1

        def answer (self, status, text):
            data = (text + "\n").encode ()
            self.send_response (status)
            self.send_header ("Content-Type", "text/plain")
            self.send_header ("Content-Length", str (len (data)))
            self.end_headers ()
            self.wfile.write (data)
            self.wfile.flush ()                 # one write: headers + body

        def do_POST (self):
            body = self.rfile.read (int (self.headers.get ("Content-Length", 0)))
            ok, reason = verify (secrets, self.headers, body)
            if not ok:
                print ("rejected", reason, flush=True, file=out)
                return self.answer (401, reason)
            msg_id = self.headers ["webhook-id"]
            # One lock around check, process, remember: two deliveries of
            # one id at once (two bridges) cannot both be processed
            with seen.lock:
                seen.forget_old (time.time ())
                if msg_id in seen.ids:
                    print ("duplicate", msg_id, flush=True, file=out)
                    return self.answer (200, "duplicate")
                try:
                    process (msg_id, body)
                except Exception as error:          # not remembered: retried
                    print ("failed", msg_id, error, flush=True, file=out)
                    return self.answer (500, "processing failed")
                seen.ids [msg_id] = time.time ()
            self.answer (200, "ok")

        def log_message (self, *args):
            pass

    return Handler


def main ():
    parser = argparse.ArgumentParser (description=__doc__.split ("\n") [0])
    parser.add_argument ("--bind", default="127.0.0.1")
    parser.add_argument ("--port", type=int, default=8080, help="0: any free port")
    options = parser.parse_args ()
    secrets = os.environ.get ("OVHOOK_WEBHOOK_SECRET", "").split ()
    try:
        if not secrets:
            raise ValueError ("set OVHOOK_WEBHOOK_SECRET (whsec_..., space-separated)")
        for secret in secrets:
            parse_secret (secret)
    except ValueError as error:
        sys.exit ("verify_receiver: %s" % error)

    def process (msg_id, body):
        # The event itself: here, print it. body is the webhook JSON
        print ("accepted", msg_id, json.loads (body) ["event"], body.decode (), flush=True)

    server = http.server.ThreadingHTTPServer (
        (options.bind, options.port), make_handler (secrets, Seen (), process))
    print ("listening on http://%s:%d/" % server.server_address [:2], flush=True)
    try:
        server.serve_forever ()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main ()
