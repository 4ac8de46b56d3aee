"""test_tools_inject - ovhook-inject as a separate process, read by a pyzmq
SUB bound in the test (another ZeroMQ and msgpack implementation):

  key=value   the msgpack body each typed argument becomes, timestamp made up
  --json      webhook lines back into bus messages (body bytes == what
              python's msgpack packs), envelope or not, a bad line reported
              with its number while the others are sent, --strict sends nothing
  --scenario  a whole session lifecycle, counts and order
  load        --count/--rate, the report line, nothing lost at exit
  errors      unknown event (lists the names), malformed key=value, wrong
              property types, unreachable bus, bad endpoint syntax, usage

Run with Debian's /usr/bin/python3; $OVHOOK_BIN holds the binaries.
"""

import json
import os
import re
import subprocess
import sys
import time

import msgpack
import zmq

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

SLOW = ovhtest.SLOW
REPORT = re.compile (r"ovhook-inject: sent (\d+) events? in ([0-9.]+) s \((\d+) events/s\)")


canon = ovhtest.canon


class InjectTest (ovhtest.BridgeTestCase):

    def setUp (self):
        super ().setUp ()
        self.sub = self.context.socket (zmq.SUB)
        self.sub.setsockopt (zmq.LINGER, 0)
        self.sub.setsockopt (zmq.RCVHWM, 0)
        self.sub.setsockopt (zmq.SUBSCRIBE, b"")
        port = self.sub.bind_to_random_port ("tcp://127.0.0.1")
        self.bus = ">tcp://127.0.0.1:%d" % port
        self.addCleanup (self.sub.close)

    def inject (self, args, stdin=b"", expect=None, timeout=30, bus=True):
        """Run ovhook-inject, receiving meanwhile (a bound SUB sends its
        subscription only while it is used). Returns (code, stderr,
        messages as lists of frames)."""
        args = [str (a) for a in args]
        if bus:
            args = ["--bus", self.bus] + args
        err_path = os.path.join (self.tmp, "inject.err")
        with open (err_path, "wb") as err:
            process = subprocess.Popen ([ovhtest.binary ("ovhook-inject")] + args,
                                        env=ovhtest.clean_env (None), stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, stderr=err)
        try:
            process.stdin.write (stdin)
            process.stdin.close ()
            messages = []
            deadline = time.monotonic () + timeout * SLOW
            poller = zmq.Poller ()
            poller.register (self.sub, zmq.POLLIN)
            while time.monotonic () < deadline:
                if poller.poll (50):
                    while True:
                        try:
                            messages.append (self.sub.recv_multipart (zmq.NOBLOCK))
                        except zmq.Again:
                            break
                elif process.poll () is not None and (expect is None or len (messages) >= expect):
                    break
            code = process.wait (5 * SLOW)
            while poller.poll (200):        # anything late is an extra message
                messages.append (self.sub.recv_multipart ())
        finally:
            if process.poll () is None:
                process.kill ()
                process.wait ()
        with open (err_path, "rb") as f:
            stderr = f.read ().decode (errors="replace")
        return code, stderr, messages

    def body (self, message):
        return msgpack.unpackb (message [1], raw=False)

    # -- key=value

    def test_key_value_typing (self):
        before = int (time.time () * 1000)
        code, err, messages = self.inject (
            ["sessionCreated", "sessionId=ses_1", "n=42", "neg=-7", "f=1.5", "e=1e3",
             "b=true", "z=null", "s==42", "zip=007", "big=18446744073709551615",
             "text=hello world", "j:=[1,{\"a\":2.0}]", "o:={}", "q:=\"x\""], expect=1)
        after = int (time.time () * 1000)
        self.assertEqual (code, 0, err)
        self.assertEqual (len (messages), 1, err)
        topic, body, envelope = messages [0]
        self.assertEqual (topic, b"sessionCreated")
        decoded = msgpack.unpackb (body, raw=False)
        timestamp = decoded.pop ("timestamp")
        self.assertEqual (list (msgpack.unpackb (body, raw=False)) [0], "timestamp")
        self.assertTrue (before <= timestamp <= after, (before, timestamp, after))
        self.assertEqual (canon (decoded), canon ({
            "sessionId": "ses_1", "n": 42, "neg": -7, "f": 1.5, "e": 1000.0, "b": True,
            "z": None, "s": "42", "zip": "007", "big": 18446744073709551615,
            "text": "hello world", "j": [1, {"a": 2.0}], "o": {}, "q": "x"}))
        self.assertEqual (msgpack.unpackb (envelope, raw=False) ["seq"], 1)
        #   Undocumented properties are warnings, not errors
        self.assertIn ("ovhook-inject: warning: sessionCreated: unknown property 'n'", err)
        self.assertRegex (err, REPORT.pattern.replace ("(\\d+) events?", "1 event"))

    def test_timestamp_given_is_kept_in_place (self):
        code, err, messages = self.inject (["nodeCrashed", "id=media_1", "timestamp=5"],
                                           expect=1)
        self.assertEqual (code, 0, err)
        self.assertEqual (list (self.body (messages [0]).items ()),
                          [("id", "media_1"), ("timestamp", 5)])

    def test_malformed_key_value (self):
        cases = [
            (["sessionCreated", "noequals"], "'noequals' is not key=value"),
            (["sessionCreated", "=5"], "empty key"),
            (["sessionCreated", "event=x"], "not by a property \"event\""),
            (["sessionCreated", "j:=[1,"], "j:=[1,"),
            (["sessionCreated", "a=1", "a=2"], "'a' is given twice"),
            (["sessionCreated", "n:=99999999999999999999"], "json-number"),
        ]
        for args, text in cases:
            code, err, messages = self.inject (args + ["--join-timeout", "100"])
            self.assertEqual (code, 2, (args, err))
            self.assertTrue (err.startswith ("ovhook-inject: "), err)
            self.assertIn (text, err)
            self.assertEqual (messages, [])

    def test_wrong_property_type_warns_or_fails_strict (self):
        args = ["participantJoined", "sessionId=s", "timestamp==yesterday"]
        code, err, messages = self.inject (args, expect=1)
        self.assertEqual (code, 0, err)
        self.assertEqual (len (messages), 1)
        self.assertIn ("ovhook-inject: warning: participantJoined: property 'timestamp' "
                       "is string, expected integer", err)
        code, err, messages = self.inject (args + ["--strict"])
        self.assertEqual (code, 2, err)
        self.assertIn ("property 'timestamp' is string, expected integer (--strict)", err)
        self.assertNotIn ("warning", err)
        self.assertEqual (messages, [])

    def test_unknown_event_lists_valid_names (self):
        code, out, err = ovhtest.run_program ("ovhook-inject",
                                              ["recordingStarted", "id=x", "--bus", self.bus])
        self.assertEqual (code, 2, err)
        self.assertIn ("ovhook-inject: unknown event 'recordingStarted'; valid names: "
                       "sessionCreated, sessionDestroyed,", err)
        for name in ovhtest.ALL_EVENTS:
            self.assertIn (name, err)

    # -- --json

    def test_json_examples_become_the_same_bus_messages (self):
        lines = ovhtest.examples ()
        path = os.path.join (self.tmp, "examples.jsonl")
        with open (path, "wb") as f:
            f.write (b"\r\n".join (lines) + b"\n\n")     # CRLF and a blank line
        code, err, messages = self.inject (["--json", path, "--src", "replay/1"], expect=15)
        self.assertEqual (code, 0, err)
        self.assertEqual (len (messages), 15, err)
        for message, line in zip (messages, lines):
            source = json.loads (line)
            event = source.pop ("event")
            self.assertEqual (message [0], event.encode ())
            self.assertEqual (message [1], msgpack.packb (source, use_bin_type=True), event)
            self.assertEqual (msgpack.unpackb (message [2], raw=False) ["src"], "replay/1")
        self.assertRegex (err, REPORT.pattern.replace ("(\\d+) events?", "15 events"))

    def test_json_stdin_no_envelope (self):
        lines = ovhtest.examples () [:3]
        code, err, messages = self.inject (["--json", "--no-envelope"],
                                           stdin=b"\n".join (lines), expect=3)
        self.assertEqual (code, 0, err)
        self.assertEqual ([len (m) for m in messages], [2, 2, 2])

    def test_json_bad_line_reported_others_sent (self):
        good = ovhtest.examples ()
        lines = [good [0], b'{"event":"sessionCreated",', good [1],
                 b'{"event":"recordingStarted"}', b"   ", good [2]]
        code, err, messages = self.inject (["--json", "-"], stdin=b"\n".join (lines), expect=3)
        self.assertEqual (code, 1, err)
        self.assertRegex (err, r"(?m)^ovhook-inject: line 2: json: ")
        self.assertRegex (err, r"(?m)^ovhook-inject: line 4: json-event: .*recordingStarted")
        self.assertNotIn ("line 5", err)
        self.assertEqual ([m [0] for m in messages],
                          [b"sessionCreated", b"sessionDestroyed", b"participantJoined"])

    def test_json_strict_sends_nothing (self):
        good = ovhtest.examples ()
        lines = [good [0], b"not json", good [1]]
        code, err, messages = self.inject (["--json", "-", "--strict", "--join-timeout", "500"],
                                           stdin=b"\n".join (lines))
        self.assertEqual (code, 2, err)
        self.assertIn ("ovhook-inject: line 2: json: ", err)
        self.assertIn ("ovhook-inject: 1 bad line: nothing sent (--strict)", err)
        self.assertEqual (messages, [])
        #   A property warning counts as a bad line with --strict
        line = b'{"event":"sessionCreated","timestamp":1,"sessionId":"s","foo":1}'
        code, err, messages = self.inject (["--json", "--strict"], stdin=line)
        self.assertEqual (code, 2, err)
        self.assertIn ("line 1: sessionCreated: unknown property 'foo' (--strict)", err)
        self.assertEqual (messages, [])
        code, err, messages = self.inject (["--json"], stdin=line, expect=1)
        self.assertEqual (code, 0, err)
        self.assertIn ("ovhook-inject: warning: line 1: sessionCreated: unknown property 'foo'",
                       err)
        self.assertEqual (len (messages), 1)

    def test_json_flag_before_file (self):
        """--json FILE with a flag in between (--json --strict FILE): the
        operand is the FILE, as the usage line says ([options] --json FILE)"""
        lines = ovhtest.examples () [:2]
        path = os.path.join (self.tmp, "two.jsonl")
        with open (path, "wb") as f:
            f.write (b"\n".join (lines) + b"\n")
        for args in (["--json", "--strict", path], ["--json", "--no-envelope", "--strict", path],
                     ["--strict", "--json", path]):
            code, err, messages = self.inject (args, expect=2)
            self.assertEqual (code, 0, (args, err))
            self.assertEqual ([m [0] for m in messages],
                              [b"sessionCreated", b"sessionDestroyed"], args)
        #   One FILE only; and an explicit "-" (stdin) takes no operand
        for args, extra in ((["--json", "--strict", path, "more"], "more"),
                            (["--json", "-", "--strict", path], path)):
            code, err, messages = self.inject (args + ["--join-timeout", "100"])
            self.assertEqual (code, 2, (args, err))
            self.assertEqual (err, "ovhook-inject: unexpected argument '%s' (see --help)\n" % extra)
            self.assertEqual (messages, [])

    def test_command_line_errors_have_no_offset (self):
        """An error about a command-line value is one line without
        "(offset 0)"; one inside a key:=JSON value keeps its offset there"""
        for args, line in (
                (["sessionCreated", "noequals"],
                 "usage: 'noequals' is not key=value (or key:=JSON, key==string)"),
                (["sessionCreated", "a=1", "a=2"],
                 "usage: property 'a' is given twice ('a=1', 'a=2')"),
                (["sessionCreated", "event=x"],
                 "event-key: 'event=x': the event is named by the EVENT argument, not by a "
                 "property \"event\" (at event)"),
                (["sessionCreated", "j:=[1,"],
                 "j:=[1,: json: j:=[1,: ']' expected near end of file (offset 3, at j)")):
            code, err, messages = self.inject (args + ["--join-timeout", "100"])
            self.assertEqual (code, 2, (args, err))
            self.assertEqual (err, "ovhook-inject: %s\n" % line)

    def test_json_missing_file (self):
        code, err, messages = self.inject (["--json", os.path.join (self.tmp, "nope.jsonl")])
        self.assertEqual (code, 2, err)
        self.assertIn ("ovhook-inject: cannot read", err)

    def test_hostile_inputs_refused (self):
        #   (args, error) each exit 2 and send nothing (issue 10). "\udcff"
        #   is the byte 0xff in an argument (surrogateescape)
        cases = [
            (["--json", self.tmp], "cannot read %s: Is a directory" % self.tmp),
            (["--src", "a\udcffb", "sessionCreated", "sessionId=s"],
             "--src 'a?b' is not valid UTF-8"),
            (["--src", "\udcc3", "--json", "-"], "--src '?' is not valid UTF-8"),
        ]
        for args, text in cases:
            code, err, messages = self.inject (args + ["--join-timeout", "100"])
            self.assertEqual (code, 2, (args, err))
            self.assertIn ("ovhook-inject: " + text, err)
            self.assertEqual (messages, [])

    # -- --scenario and load

    def test_scenario_session (self):
        code, err, messages = self.inject (["--scenario", "session", "--sessions", 2,
                                            "--participants", 3, "--seed", 11], expect=64)
        self.assertEqual (code, 0, err)
        #   Per session 2M(M-1) + 5M + 5 = 32 events for M = 3
        self.assertEqual (len (messages), 64, err)
        self.assertRegex (err, r"sent 64 events in [0-9.]+ s \(\d+ events/s\), seed 11")
        sessions = {}
        for topic, body, envelope in messages:
            sessions.setdefault (msgpack.unpackb (body) ["sessionId"], []).append (topic)
        self.assertEqual (len (sessions), 2)
        for topics in sessions.values ():
            self.assertEqual (topics [0], b"sessionCreated")
            self.assertEqual (topics [-1], b"sessionDestroyed")
            self.assertEqual (topics.count (b"participantJoined"), 3)
            self.assertEqual (topics.count (b"webrtcConnectionCreated"), 9)
            self.assertEqual (topics.count (b"recordingStatusChanged"), 3)
        #   The same seed gives the same ids
        code, err, again = self.inject (["--scenario", "lifecycle", "--sessions", 2,
                                         "--participants", 3, "--seed", 11], expect=64)
        self.assertEqual (set (sessions),
                          {msgpack.unpackb (m [1]) ["sessionId"] for m in again})

    def test_unknown_scenario (self):
        code, out, err = ovhtest.run_program ("ovhook-inject", ["--scenario", "party"])
        self.assertEqual (code, 2, err)
        self.assertIn ("ovhook-inject: unknown scenario 'party'; valid names: session, lifecycle",
                       err)

    def test_count_and_rate (self):
        start = time.monotonic ()
        code, err, messages = self.inject (["sessionCreated", "sessionId=s", "--count", 20,
                                            "--rate", 100], expect=20)
        self.assertEqual (code, 0, err)
        self.assertEqual (len (messages), 20)
        self.assertGreaterEqual (time.monotonic () - start, 0.19)
        m = REPORT.search (err)
        self.assertTrue (m, err)
        self.assertEqual (int (m.group (1)), 20)
        self.assertGreaterEqual (float (m.group (2)), 0.18)
        self.assertLess (int (m.group (3)), 120)
        self.assertNotIn ("\r", err, "no progress line when stderr is not a terminal")

    def test_nothing_lost_at_exit (self):
        code, err, messages = self.inject (["webrtcConnectionCreated", "sessionId=s",
                                            "--count", 20000, "--quiet"], expect=20000)
        self.assertEqual (code, 0, err)
        self.assertEqual (err, "")
        self.assertEqual (len (messages), 20000)
        seqs = [msgpack.unpackb (m [2]) ["seq"] for m in messages]
        self.assertEqual (seqs, list (range (1, 20001)))

    def test_subscriber_that_stops_reading_is_reported (self):
        """A subscriber that joins and then never reads: the bus cannot take
        the burst, the linger runs out at exit and the tail is thrown away
        where nobody can count it. ovhook-inject says so and exits 1."""
        sub = self.context.socket (zmq.SUB)
        sub.setsockopt (zmq.LINGER, 0)
        sub.setsockopt (zmq.RCVHWM, 10)
        sub.setsockopt (zmq.RCVBUF, 4096)
        sub.setsockopt (zmq.SUBSCRIBE, b"")
        port = sub.bind_to_random_port ("tcp://127.0.0.1")
        self.addCleanup (sub.close)
        err_path = os.path.join (self.tmp, "inject.err")
        with open (err_path, "wb") as err_file:
            process = subprocess.Popen ([ovhtest.binary ("ovhook-inject"), "--bus",
                                         ">tcp://127.0.0.1:%d" % port, "sessionCreated",
                                         "sessionId=" + "s" * 2000, "--count", "20000",
                                         "--quiet"], env=ovhtest.clean_env (None),
                                        stdout=subprocess.DEVNULL, stderr=err_file)
        #   Keep the socket alive (it answers the handshake and sends its
        #   subscription) without ever reading a message
        deadline = time.monotonic () + 60 * SLOW
        while process.poll () is None and time.monotonic () < deadline:
            sub.getsockopt (zmq.EVENTS)
            time.sleep (0.05)
        code = process.wait (5)
        with open (err_path, "rb") as f:
            err = f.read ().decode (errors="replace")
        self.assertEqual (code, 1, err)
        self.assertIn ("ovhook-inject: warning: the bus had not taken every event after 5.0 s",
                       err)

    # -- bus and usage errors

    def test_unreachable_bus (self):
        port = ovhtest.free_port ()
        bus = ">tcp://127.0.0.1:%d" % port
        start = time.monotonic ()
        code, err, messages = self.inject (["sessionCreated", "sessionId=s", "--bus", bus,
                                            "--join-timeout", 300], bus=False)
        elapsed = time.monotonic () - start
        self.assertEqual (code, 1, err)
        self.assertIn ("ovhook-inject: no subscriber on %s within 300 ms "
                       "(is the bridge or proxy running?)" % bus, err)
        self.assertGreaterEqual (elapsed, 0.3)
        self.assertLess (elapsed, 5 * SLOW)

    def test_port_in_use (self):
        bus = "@" + self.bus [1:]           # the test's SUB is bound there
        code, err, messages = self.inject (["sessionCreated", "--bus", bus], bus=False)
        self.assertEqual (code, 1, err)
        self.assertEqual (err, "ovhook-inject: cannot open bus '%s': Address already in use\n"
                          % bus)

    def test_bad_endpoint_syntax (self):
        for bus in ("tcp://127.0.0.1", ">foo://x", "", ">tcp://127.0.0.1:99999", "127.0.0.1:5560",
                    ">tcp://a:1,"):
            code, out, err = ovhtest.run_program ("ovhook-inject",
                                                  ["sessionCreated", "--bus", bus])
            self.assertEqual (code, 2, (bus, err))
            self.assertTrue (err.startswith ("ovhook-inject: invalid bus endpoint '%s': " % bus),
                             err)

    def test_usage (self):
        for args, text in ((["--count", "x", "sessionCreated"], "--count needs a number"),
                           ([], "no EVENT given"),
                           (["--bus"], "--bus needs a value"),
                           (["--frobnicate"], "unknown option '--frobnicate'"),
                           (["--json", "--scenario", "session"], "exclude each other"),
                           (["--scenario", "session", "extra"], "unexpected argument 'extra'"),
                           (["--participants", "0", "--scenario", "session"], "--participants")):
            code, out, err = ovhtest.run_program ("ovhook-inject", args)
            self.assertEqual (code, 2, (args, err))
            self.assertTrue (err.startswith ("ovhook-inject: "), err)
            self.assertIn (text, err)
        code, out, err = ovhtest.run_program ("ovhook-inject", ["--help"])
        self.assertEqual (code, 0)
        self.assertIn ("key:=JSON", out)
        code, out, err = ovhtest.run_program ("ovhook-inject", ["--version"])
        self.assertEqual (code, 0)
        self.assertTrue (out.startswith ("ovhook-inject %s " % ovhtest.project_version ()), out)


if __name__ == "__main__":
    ovhtest.main ()
