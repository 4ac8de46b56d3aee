"""test_tools_tail - ovhook-tail as a separate process (bound, as the bridge
binds without a proxy), fed by a pyzmq XPUB of the test:

  output      each event as the bridge's webhook JSON, byte for byte (the 15
              documented examples), one line each, flushed live
  filtering   only the types asked for; a topic that merely starts with one
              (ZeroMQ matches prefixes) is dropped with a warning
  --envelope  src and seq after TABs; seq gaps reported on stderr
  garbage     invalid messages warned about (rate-limited), never a crash
  errors      unknown event (lists the names), bad endpoint syntax, usage;
              SIGTERM and a closed stdout end it with status 0

Run with Debian's /usr/bin/python3; $OVHOOK_BIN holds the binaries.
"""

import os
import signal
import subprocess
import sys
import time

import msgpack

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

SLOW = ovhtest.SLOW


Tool = ovhtest.ToolProcess


class TailTest (ovhtest.BridgeTestCase):

    def tail (self, args=(), events=None):
        """A tail bound on a free port, and an XPUB that has seen its
        subscriptions (all types, or 'events')."""
        bind, connect = self.bus ()
        self.tails = getattr (self, "tails", 0) + 1
        tail = Tool (self.tmp, "ovhook-tail", ["--bus", bind] + list (args),
                     "tail%d" % self.tails)
        self.addCleanup (tail.kill)
        tail.start ()
        publisher = self.publisher (connect, events or ovhtest.ALL_EVENTS)
        return tail, publisher

    def test_prints_the_bridge_json_byte_for_byte (self):
        tail, publisher = self.tail (["--count", "15"])
        self.assertIn ("ovhook-tail: ready: bus @tcp://127.0.0.1:", tail.log ())
        lines = ovhtest.examples ()
        for line in lines:
            publisher.send_line (line)
        self.assertEqual (tail.wait_exit (), 0, tail.show ())
        with open (tail.out_path, "rb") as f:
            self.assertEqual (f.read (), b"".join (line + b"\n" for line in lines))

    def test_output_is_live (self):
        tail, publisher = self.tail ()
        publisher.send_line (ovhtest.examples () [0])
        #   The line shows while the tail still runs: flushed per event
        self.assertEqual (tail.wait_lines (1), [ovhtest.examples () [0].decode ()])
        self.assertTrue (tail.alive ())
        code, log = tail.stop (signal.SIGTERM)
        self.assertEqual (code, 0, log)

    def test_only_the_types_asked_for_exact_topic (self):
        tail, publisher = self.tail (["sessionCreated", "nodeCrashed"],
                                     events=["sessionCreated", "nodeCrashed"])
        self.assertIn ("2 event types", tail.log ())
        self.assertEqual (publisher.subscribed (), {b"sessionCreated", b"nodeCrashed"})
        body = msgpack.packb ({"timestamp": 1, "sessionId": "s"})
        publisher.send ("sessionCreatedX", body)        # passes ZeroMQ's prefix match
        publisher.send ("participantJoined", body)      # not subscribed: never arrives
        publisher.send ("sessionCreated", body)
        self.assertEqual (tail.wait_lines (1),
                          ['{"event":"sessionCreated","timestamp":1,"sessionId":"s"}'])
        tail.wait_log (r"ovhook-tail: warning: dropped message: unknown-topic: .*sessionCreatedX")
        time.sleep (0.2)
        self.assertEqual (len (tail.lines ()), 1)

    def test_envelope_and_seq_gaps (self):
        tail, publisher = self.tail (["--envelope", "--count", "5"])
        body = msgpack.packb ({"timestamp": 1, "sessionId": "s"})
        for seq in (1, 2, 5):
            publisher.send ("sessionCreated", body, {"src": "py/1", "seq": seq})
        publisher.send ("nodeCrashed", msgpack.packb ({"id": "n"}), False)
        publisher.send ("sessionCreated", body, {"src": "py\t2", "seq": 9})
        self.assertEqual (tail.wait_exit (), 0, tail.show ())
        json = '{"event":"sessionCreated","timestamp":1,"sessionId":"s"}'
        self.assertEqual (tail.lines (), [
            json + "\tpy/1\t1", json + "\tpy/1\t2", json + "\tpy/1\t5",
            '{"event":"nodeCrashed","id":"n"}\t\t', json + "\tpy?2\t9"])
        self.assertIn ("ovhook-tail: lost 2 message(s) on the bus: sessionCreated from "
                       "src py/1 (seq 2 → 5)", tail.log ())
        self.assertEqual (tail.log ().count ("lost"), 1, tail.log ())

    def test_garbage_is_warned_about_never_fatal (self):
        tail, publisher = self.tail ()
        body = msgpack.packb ({"timestamp": 1, "sessionId": "s"})
        publisher.send_raw ([b"sessionCreated"])                            # 1 frame
        publisher.send_raw ([b"sessionCreated", body, b"\x80", b"x"])       # 4 frames
        publisher.send_raw ([b"sessionCreated", b"\x92\x01\x02"])           # not a map
        publisher.send_raw ([b"sessionCreated", b"\x81\xa1k\xa2\xff\xfe"])  # bad UTF-8
        publisher.send_raw ([b"sessionCreated", b"\x81\xa1k\xdb\xff\xff\xff\xff"])  # claim
        for _ in range (200):
            publisher.send_raw ([b"sessionCreated", b"\x81\xa1k\xc1"])      # reserved byte
        publisher.send_raw ([b"sessionCreated", body])
        self.assertEqual (tail.wait_lines (1),
                          ['{"event":"sessionCreated","timestamp":1,"sessionId":"s"}'])
        log = tail.log ()
        for name in ("frame-count", "not-a-map", "utf8", "size-claim", "reserved-byte"):
            self.assertIn ("ovhook-tail: warning: dropped message: %s: " % name, log)
        #   One line per reason and second: the 4-frame message, the same
        #   reason as the 1-frame one, and 199 of the 200 were held back
        self.assertEqual (log.count ("frame-count"), 1, log)
        self.assertEqual (log.count ("reserved-byte"), 1, log)
        #   A second later the next one is logged, with the count held back
        time.sleep (1.1)
        publisher.send_raw ([b"sessionCreated", b"\x81\xa1k\xc1"])
        tail.wait_log (r"reserved-byte: .*\(199 more of this kind since the last report\)")
        self.assertTrue (tail.alive ())

    def test_closed_stdout_ends_it_quietly (self):
        bind, connect = self.bus ()
        err_path = os.path.join (self.tmp, "tail.err")
        with open (err_path, "wb") as err:
            process = subprocess.Popen ([ovhtest.binary ("ovhook-tail"), "--bus", bind],
                                        env=ovhtest.clean_env (None), stdout=subprocess.PIPE,
                                        stderr=err)
        try:
            publisher = self.publisher (connect, ovhtest.ALL_EVENTS)
            publisher.send_line (ovhtest.examples () [0])
            self.assertTrue (process.stdout.readline ().startswith (b'{"event":"sessionCreated"'))
            process.stdout.close ()                      # as `| head -1` does
            publisher.send_line (ovhtest.examples () [1])
            self.assertEqual (process.wait (10 * SLOW), 0)
        finally:
            if process.poll () is None:
                process.kill ()
                process.wait ()

    def test_errors (self):
        code, out, err = ovhtest.run_program ("ovhook-tail", ["sessionCreated", "recordingStarted"])
        self.assertEqual (code, 2, err)
        self.assertIn ("ovhook-tail: unknown event 'recordingStarted'; valid names: "
                       "sessionCreated, ", err)
        self.assertIn ("HANodeDeregistered", err)
        for bus in ("tcp://127.0.0.1", ">tcp://[::1]:x", "@", "ipc:/x"):
            code, out, err = ovhtest.run_program ("ovhook-tail", ["--bus", bus])
            self.assertEqual (code, 2, (bus, err))
            self.assertTrue (err.startswith ("ovhook-tail: invalid bus endpoint '%s': " % bus), err)
        for args, text in ((["--count", "-1"], "--count needs"), (["--envelop"], "unknown option"),
                           (["--count"], "--count needs a value")):
            code, out, err = ovhtest.run_program ("ovhook-tail", args)
            self.assertEqual (code, 2, (args, err))
            self.assertIn ("ovhook-tail: " + text, err)
        #   A port in use is not a syntax error, but the tail cannot run
        first, publisher = self.tail ()
        code, out, err = ovhtest.run_program ("ovhook-tail", ["--bus", first.args [1]])
        self.assertEqual (code, 1, err)
        self.assertIn ("ovhook-tail: cannot open bus", err)
        code, out, err = ovhtest.run_program ("ovhook-tail", ["--version"])
        self.assertEqual (code, 0)
        self.assertTrue (out.startswith ("ovhook-tail %s " % ovhtest.project_version ()), out)


if __name__ == "__main__":
    ovhtest.main ()
