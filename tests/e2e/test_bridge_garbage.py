"""Invalid bus messages: each is dropped with its reason logged
(`dropped message: <code>`), counted, and never delivered; the bridge keeps
running and delivers the next valid event; a flood of garbage costs only a
few log lines."""

import os
import re
import sys
import time

import msgpack

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

T = b"sessionCreated"
VALID = msgpack.packb ({"timestamp": 1, "sessionId": "ses_ok"})
ENV = msgpack.packb ({"src": "py-garbage", "seq": 1})
TRUNCATED = b"\x82" + msgpack.packb ("timestamp") + b"\xcf\x00\x00\x01"
pk = msgpack.packb


def nested (depth):
    value = []
    for _ in range (depth - 1):
        value = [value]
    return value


#   (name, frames, code name). Every topic passes ZeroMQ's prefix filter.
CASES = [
    ("one frame", [T], "frame-count"),
    ("four frames", [T, VALID, ENV, b"x"], "frame-count"),
    ("unknown topic", [b"sessionCreatedX", VALID], "unknown-topic"),
    #   Cut inside a uint64 (a cut inside a string is a size-claim instead)
    ("truncated msgpack", [T, TRUNCATED], "truncated"),
    ("string cut short", [T, VALID [:-3]], "size-claim"),
    ("trailing bytes", [T, VALID + b"\xc0"], "trailing-bytes"),
    ("array body", [T, pk ([1, 2])], "not-a-map"),
    ("string body", [T, pk ("sessionId")], "not-a-map"),
    ("integer key", [T, pk ({1: "x"})], "key-type"),
    ("event key", [T, pk ({"event": "sessionCreated", "sessionId": "s"})], "event-key"),
    ("41 levels", [T, pk ({"sessionId": "s", "deep": nested (40)})], "depth"),
    ("array32 of 4 billion",
     [T, b"\x82" + pk ("sessionId") + pk ("s") + pk ("to") + b"\xdd\xff\xff\xff\xf0"],
     "size-claim"),
    ("str32 of 4 GiB", [T, b"\x81" + pk ("x") + b"\xdb\xff\xff\xff\xff" + b"ab"], "size-claim"),
    ("bad UTF-8", [T, b"\x82" + pk ("timestamp") + pk (1) + pk ("sessionId") + b"\xa2\xff\xfe"],
     "utf8"),
    ("surrogate in UTF-8", [T, b"\x81" + pk ("s") + b"\xa3\xed\xa0\x80"], "utf8"),
    ("NaN", [T, pk ({"sessionId": "s", "load": float ("nan")})], "float"),
    ("bin value", [T, msgpack.packb ({"sessionId": "s", "b": b"\x00\x01"}, use_bin_type=True)],
     "bin"),
    ("ext value", [T, pk ({"sessionId": "s", "x": msgpack.ExtType (5, b"ab")})], "ext"),
    ("reserved byte", [T, b"\x82" + pk ("sessionId") + pk ("s") + pk ("x") + b"\xc1"],
     "reserved-byte"),
    #   Somewhat over --max-frame (1 MiB): read, counted, logged. Beyond
    #   64 KiB over, ZeroMQ drops the sender's connection instead
    #   (test_bridge_hostile.py)
    ("1 MiB + 1 KiB frame", [T, pk ({"sessionId": "s", "data": "x" * ((1 << 20) + 1024)})],
     "frame-size"),
    ("envelope without seq", [T, VALID, pk ({"src": "py"})], "envelope"),
    ("envelope seq 0", [T, VALID, pk ({"src": "py", "seq": 0})], "envelope"),
    ("envelope src not a string", [T, VALID, pk ({"src": 5, "seq": 1})], "envelope"),
]


class GarbageTest (ovhtest.BridgeTestCase):

    def test_each_invalid_message_is_dropped_with_its_reason (self):
        receiver, bridge, publisher = self.bridge_setup ()
        for name, frames, code in CASES:
            publisher.send_raw (frames)
        publisher.send_raw ([T, VALID, ENV])
        [request] = receiver.wait_for (1, log=bridge.show)
        self.assertEqual (request.body, b'{"event":"sessionCreated","timestamp":1,"sessionId":"ses_ok"}')
        for code in sorted ({c for (_, _, c) in CASES}):
            bridge.wait_log (r"W: .*dropped message: %s\b" % re.escape (code),
                             what="dropped message: " + code)
        time.sleep (0.5)
        self.assertTrue (bridge.alive (), bridge.show ())
        self.assertEqual (len (receiver.requests), 1, "only the valid event arrives")
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual (stats ["dropped"], len (CASES), log)
        self.assertEqual (stats ["delivered"], 1, log)
        expected = {}
        for _, _, code in CASES:
            expected [code] = expected.get (code, 0) + 1
        self.assertEqual (stats ["reasons"], expected, log)

    def test_flood_is_rate_limited (self):
        receiver, bridge, publisher = self.bridge_setup ()
        before = len (bridge.log ().splitlines ())
        kinds = [[T, TRUNCATED], [T, pk ([1])], [T, b"\x81" + pk ("s") + b"\xa1\xff"]]
        count = 10000
        started = time.monotonic ()
        #   Five bursts over ~2.4 s, so that the once-a-second lines show too
        for n in range (count):
            publisher.send_raw (kinds [n % 3])
            if n % 2000 == 1999 and n < count - 1:
                time.sleep (0.6)
        publisher.send_raw ([T, VALID, ENV])
        receiver.wait_for (1, timeout=30, log=bridge.show)
        took = time.monotonic () - started
        self.assertTrue (bridge.alive (), bridge.show ())
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        flood_lines = [l for l in log.splitlines () [before:] if "dropped message" in l]
        print ("\n%d garbage messages in %.2f s: %d log lines" % (count, took, len (flood_lines)))
        for reason in ("truncated", "not-a-map", "utf8"):
            self.assertTrue (any ("dropped message: " + reason in l for l in flood_lines), log)
        self.assertLessEqual (len (flood_lines), 36, "\n".join (flood_lines [:50]))
        self.assertTrue (any (re.search (r"\(\d+ more\b", l) for l in flood_lines),
                         "no '(N more)' line:\n" + "\n".join (flood_lines))
        stats = ovhtest.parse_stopped (log)
        self.assertEqual (stats ["dropped"], count, log)
        self.assertEqual (stats ["reasons"], {"truncated": 3334, "not-a-map": 3333, "utf8": 3333},
                          log)


if __name__ == "__main__":
    ovhtest.main ()
