"""test_publisher_interop - what libovhook publishes, as another ZeroMQ and
msgpack implementation (pyzmq + python3-msgpack) reads it.

ovh-test-publish (a separate process, libovhook's webhook -> msgpack and
publisher) publishes the 15 documented webhook bodies; a pyzmq SUB bound in
this test receives them and checks, frame by frame:
  topic     the exact "event" value
  body      equal to the example minus "event": same keys in the same order,
            same values and JSON types (int stays int, 8.6 stays float), and
            byte for byte what python's msgpack packs for it (both write the
            smallest forms: the body is canonical compact msgpack)
  envelope  {"src": ..., "seq": 1..N counted per topic, "epoch": uint64 drawn
            once per run}, keys in that order
plus the tool's options and exit codes (bad lines, no subscriber, bad bus).

Run with Debian's /usr/bin/python3; $OVHOOK_BIN holds the binaries.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import unittest

import msgpack
import zmq

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

SLOW = ovhtest.SLOW


canon = ovhtest.canon


class PublisherInterop (unittest.TestCase):

    def setUp (self):
        self.tool = ovhtest.binary ("ovh-test-publish")
        self.context = zmq.Context ()
        self.sub = self.context.socket (zmq.SUB)
        self.sub.setsockopt (zmq.LINGER, 0)
        self.sub.setsockopt (zmq.SUBSCRIBE, b"")
        port = self.sub.bind_to_random_port ("tcp://127.0.0.1")
        self.bus = ">tcp://127.0.0.1:%d" % port

    def tearDown (self):
        self.sub.close ()
        self.context.term ()

    def publish (self, lines, args=(), expect=None, timeout=20):
        """Run ovh-test-publish with 'lines' on stdin, receiving meanwhile
        (a bound SUB sends its subscription only while it is being used).
        Returns (exit code, stderr, pid, messages as lists of frames)."""
        data = b"".join (l + b"\n" for l in lines)
        process = subprocess.Popen ([self.tool] + list (args), env=ovhtest.clean_env (None),
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
        try:
            process.stdin.write (data)
            process.stdin.close ()
            messages = []
            deadline = time.monotonic () + timeout * SLOW
            poller = zmq.Poller ()
            poller.register (self.sub, zmq.POLLIN)
            while time.monotonic () < deadline:
                if poller.poll (100):
                    messages.append (self.sub.recv_multipart ())
                elif process.poll () is not None and (expect is None or len (messages) >= expect):
                    break
            code = process.wait (timeout * SLOW)
            #   Anything late would be an extra message
            while poller.poll (200):
                messages.append (self.sub.recv_multipart ())
            stderr = process.stderr.read ().decode (errors="replace")
        finally:
            if process.poll () is None:
                process.kill ()
                process.wait ()
            process.stderr.close ()
        return code, stderr, process.pid, messages

    def check_message (self, message, line, src, seq):
        source = json.loads (line)
        event = source.pop ("event")
        self.assertEqual (len (message), 3, "frames of %s" % event)
        topic, body, envelope = message
        self.assertEqual (topic, event.encode ())
        decoded = msgpack.unpackb (body, raw=False, strict_map_key=True)
        self.assertEqual (canon (decoded), canon (source), "body of %s" % event)
        #   Canonical compact: what another encoder writes for the same data
        self.assertEqual (body, msgpack.packb (source, use_bin_type=True),
                          "body bytes of %s" % event)
        env = msgpack.unpackb (envelope, raw=False)
        self.assertEqual (list (env.keys ()), ["src", "seq", "epoch"])
        self.assertEqual (env ["seq"], seq)
        self.assertIsInstance (env ["epoch"], int)
        self.assertTrue (0 <= env ["epoch"] < 2 ** 64)
        if isinstance (src, str):
            self.assertEqual (env ["src"], src)
        else:
            self.assertRegex (env ["src"], src)

    def test_examples (self):
        lines = ovhtest.examples ()
        code, stderr, pid, messages = self.publish (
            lines, ["--bus", self.bus, "--src", "interop/1"], expect=15)
        self.assertEqual (code, 0, stderr)
        self.assertEqual (len (messages), 15, stderr)
        for index, (message, line) in enumerate (zip (messages, lines)):
            self.check_message (message, line, "interop/1", 1)   # seq counts per topic

    def test_default_src (self):
        lines = ovhtest.examples () [:3]
        code, stderr, pid, messages = self.publish (lines, ["--bus", self.bus], expect=3)
        self.assertEqual (code, 0, stderr)
        self.assertEqual (len (messages), 3)
        pattern = re.compile (r"^%s/%d/[0-9a-f]{16}$" % (re.escape (socket.gethostname ()), pid))
        for index, (message, line) in enumerate (zip (messages, lines)):
            self.check_message (message, line, pattern, 1)

    def test_no_envelope (self):
        lines = ovhtest.examples () [:2]
        code, stderr, pid, messages = self.publish (
            lines, ["--bus", self.bus, "--no-envelope"], expect=2)
        self.assertEqual (code, 0, stderr)
        self.assertEqual ([len (m) for m in messages], [2, 2])
        self.assertEqual (messages [1][0], b"sessionDestroyed")

    def test_repeat (self):
        lines = ovhtest.examples ()
        code, stderr, pid, messages = self.publish (
            lines, ["--bus", self.bus, "--repeat", "3", "--src", "r"], expect=45)
        self.assertEqual (code, 0, stderr)
        self.assertEqual (len (messages), 45)
        for index, message in enumerate (messages):
            self.check_message (message, lines [index % 15], "r", index // 15 + 1)

    def test_epoch_per_run (self):
        """One epoch for all the messages of a run; two runs that reuse a src
        (seq restarts at 1) have different epochs, so their events differ"""
        lines = ovhtest.examples () [:3]
        epochs = []
        for run in range (2):
            code, stderr, pid, messages = self.publish (
                lines, ["--bus", self.bus, "--src", "same"], expect=3)
            self.assertEqual (code, 0, stderr)
            self.assertEqual (len (messages), 3)
            run_epochs = {msgpack.unpackb (m [2]) ["epoch"] for m in messages}
            self.assertEqual (len (run_epochs), 1, run_epochs)
            epochs.append (run_epochs.pop ())
        self.assertNotEqual (epochs [0], epochs [1])

    def test_bad_lines (self):
        good = ovhtest.examples ()
        lines = [good [0], b'{"event":"sessionCreated",', good [1],
                 b'{"event":"recordingStarted"}', b"", good [2]]
        code, stderr, pid, messages = self.publish (lines, ["--bus", self.bus], expect=3)
        self.assertEqual (code, 1, stderr)
        self.assertIn ("line 2:", stderr)
        self.assertIn ("line 4:", stderr)
        self.assertIn ("recordingStarted", stderr)
        self.assertNotIn ("line 5", stderr)         # empty lines are skipped
        self.assertEqual ([m [0] for m in messages],
                          [b"sessionCreated", b"sessionDestroyed", b"participantJoined"])
        # three topics, each one's first message
        self.assertEqual ([msgpack.unpackb (m [2]) ["seq"] for m in messages], [1, 1, 1])

    def test_no_subscriber (self):
        port = ovhtest.free_port ()         # nobody on it
        start = time.monotonic ()
        code, stderr, pid, messages = self.publish (
            ovhtest.examples () [:1], ["--bus", ">tcp://127.0.0.1:%d" % port, "--join-timeout", "300"])
        self.assertEqual (code, 2, stderr)
        self.assertIn ("no subscriber", stderr)
        self.assertLess (time.monotonic () - start, 5 * SLOW)
        self.assertEqual (messages, [])

    def test_bad_bus (self):
        code, stderr, pid, messages = self.publish (ovhtest.examples () [:1], ["--bus", ">foo://x"])
        self.assertEqual (code, 2, stderr)
        self.assertIn ("cannot open bus", stderr)

    def test_bad_option (self):
        code, stderr, pid, messages = self.publish ([], ["--repeat", "x"])
        self.assertEqual (code, 2)
        self.assertIn ("usage", stderr)


if __name__ == "__main__":
    result = unittest.main (exit=False, verbosity=2).result
    sys.exit (0 if result.wasSuccessful () else 1)
