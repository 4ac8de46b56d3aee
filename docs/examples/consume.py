#!/usr/bin/env python3
"""Read the ovhook bus from Python (pyzmq + msgpack): one line per event,
the webhook JSON, then the envelope's src, seq and epoch.

    python3 consume.py [ENDPOINT]

ENDPOINT defaults to a proxy's backend, tcp://127.0.0.1:5561. Invalid
messages are skipped with a line on stderr, as the bridge does.
"""

import json
import math
import sys

import msgpack
import zmq

EVENTS = {b"sessionCreated", b"participantJoined", b"sessionDestroyed"}


def check (value):
    """Raise ValueError if 'value' has no JSON form (bin, ext, NaN...)."""
    if isinstance (value, dict):
        for key, item in value.items ():
            if not isinstance (key, str):
                raise ValueError ("a map key is not a string")
            check (item)
    elif isinstance (value, list):
        for item in value:
            check (item)
    elif isinstance (value, float) and not math.isfinite (value):
        raise ValueError ("a float is NaN or infinite")
    elif value is not None and not isinstance (value, (bool, int, float, str)):
        raise ValueError ("a value is %s" % type (value).__name__)


def decode (frames):
    """(webhook dict, envelope dict) of a valid message; ValueError if not."""
    # ZeroMQ matches subscriptions by prefix: compare the whole topic
    if len (frames) not in (2, 3) or frames [0] not in EVENTS:
        raise ValueError ("not an event we subscribed to")
    try:
        body = msgpack.unpackb (frames [1], raw=False)
        envelope = msgpack.unpackb (frames [2], raw=False) if len (frames) == 3 else {}
    except (ValueError, msgpack.UnpackException) as error:    # bad msgpack or UTF-8
        raise ValueError ("undecodable: %s" % error) from None
    if not isinstance (body, dict) or not isinstance (envelope, dict) or "event" in body:
        raise ValueError ("the body or the envelope is not a map as expected")
    check (body)
    return {"event": frames [0].decode (), **body}, envelope


def main ():
    sub = zmq.Context ().socket (zmq.SUB)
    sub.setsockopt (zmq.RECONNECT_IVL, 100)         # reconnect quickly...
    sub.setsockopt (zmq.RECONNECT_IVL_MAX, 5000)    # ...backing off to 5 s
    sub.setsockopt (zmq.TCP_KEEPALIVE, 1)           # notice a vanished peer (~5 s)
    sub.setsockopt (zmq.TCP_KEEPALIVE_IDLE, 2)
    sub.setsockopt (zmq.TCP_KEEPALIVE_INTVL, 1)
    sub.setsockopt (zmq.TCP_KEEPALIVE_CNT, 3)
    for topic in EVENTS:
        sub.setsockopt (zmq.SUBSCRIBE, topic)
    sub.connect (sys.argv [1] if len (sys.argv) > 1 else "tcp://127.0.0.1:5561")
    while True:
        frames = sub.recv_multipart ()
        try:
            webhook, envelope = decode (frames)
        except ValueError as error:
            print ("consume.py: skipped invalid message: %s" % error, file=sys.stderr,
                   flush=True)
            continue
        print (json.dumps (webhook, ensure_ascii=False, separators=(",", ":")),
               envelope.get ("src"), envelope.get ("seq"), envelope.get ("epoch"), flush=True)


if __name__ == "__main__":
    main ()
