#!/usr/bin/env python3
"""Publish webhook events on the ovhook bus from Python (pyzmq + msgpack).

    python3 publish.py [ENDPOINT] < events.jsonl

Each line of stdin is one webhook JSON object, {"event": "sessionCreated",
...}; it goes out as the protocol says (proto/PROTOCOL.md): frame 1 the
event type, frame 2 the other properties as a msgpack map, in order, frame
3 the envelope {src, seq, epoch}. ENDPOINT defaults to the bridge's bus,
tcp://127.0.0.1:5560 (a proxy's frontend works the same).
"""

import json
import os
import socket
import sys
import time

import msgpack
import zmq


class Publisher:
    def __init__ (self, endpoint, join_timeout=2.0):
        self.socket = zmq.Context.instance ().socket (zmq.XPUB)
        self.socket.setsockopt (zmq.LINGER, 5000)       # deliver what is queued at exit
        self.socket.setsockopt (zmq.SNDHWM, 100000)     # room for bursts
        self.socket.connect (endpoint)
        # src: this instance. epoch: this run, drawn once, so that the ids
        # of a restarted publisher never repeat those of an earlier run,
        # even with a src that is reused (seq starts again at 1)
        self.src = "%s/%d/%s" % (socket.gethostname (), os.getpid (), os.urandom (8).hex ())
        self.epoch = int.from_bytes (os.urandom (8), "big")
        self.seq = {}                                   # per topic: 1, 2, 3...
        self.prefixes = set ()
        self.join_deadline = time.monotonic () + join_timeout

    def _wanted (self, topic):
        # An XPUB sees subscriptions (b"\x01" + prefix); ZeroMQ drops what is
        # sent before one arrives, so the first sends wait for it (slow joiner)
        while True:
            wait = max (0, self.join_deadline - time.monotonic ())
            if not self.socket.poll (0 if self._matches (topic) else int (wait * 1000) + 1):
                return
            message = self.socket.recv ()
            if message [:1] == b"\x01":
                self.prefixes.add (message [1:])
            elif message [:1] == b"\x00":
                self.prefixes.discard (message [1:])

    def _matches (self, topic):
        return any (topic.startswith (prefix) for prefix in self.prefixes)

    def send (self, topic, body):
        """topic: the event type; body: a dict of its properties (no "event")."""
        topic = topic.encode ()
        self._wanted (topic)
        self.seq [topic] = self.seq.get (topic, 0) + 1
        envelope = {"src": self.src, "seq": self.seq [topic], "epoch": self.epoch}
        self.socket.send_multipart ([topic, msgpack.packb (body), msgpack.packb (envelope)])

    def close (self):
        self.socket.close ()                            # lingers up to 5 s


def main ():
    publisher = Publisher (sys.argv [1] if len (sys.argv) > 1 else "tcp://127.0.0.1:5560")
    sent = 0
    for line in sys.stdin:
        if line.strip ():
            body = json.loads (line)                    # keeps the properties' order
            publisher.send (body.pop ("event"), body)
            sent += 1
    print ("publish.py: sent %d events as src %s epoch %d"
           % (sent, publisher.src, publisher.epoch), file=sys.stderr)
    publisher.close ()


if __name__ == "__main__":
    main ()
