"""Logs: text lines with an ISO-8601 UTC time (milliseconds), JSON lines
(--log-format json) that parse one by one and carry fields on delivery
failures, a --log-file, and SIGHUP under load: the log file and the
dead-letter file renamed, then reopened, with every line in exactly one of
the old and new files and nothing delivered twice; the proxy's JSON log
file, reopened too."""

import json
import os
import re
import signal
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery

TEXT_LINE = re.compile (r"^[EWNID]: \(ovhook-bridge\) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S")
ISO = re.compile (r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def read (path):
    try:
        with open (path, "rb") as f:
            return f.read ().decode ("utf-8")
    except FileNotFoundError:
        return ""


def event (session, index=0):
    return "sessionCreated", {"timestamp": 1700000000000 + index, "sessionId": session}


class LogsTest (ovhtest.BridgeTestCase):

    def test_text_lines_have_iso_times (self):
        receiver, bridge, publisher = self.bridge_setup (
            lambda r: 500 if b"ses_fail" in r.body else 200, args=["--retries", "0", "-v"])
        publisher.send (*event ("ses_ok"))
        publisher.send (*event ("ses_fail"))
        receiver.wait_for (2, log=bridge.show)
        bridge.wait_log (r"E: .*received 500")
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        lines = log.splitlines ()
        self.assertGreaterEqual (len (lines), 5, log)
        for line in lines:
            self.assertRegex (line, TEXT_LINE)
        #   The time is now, in UTC
        stamp = re.search (r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{3}Z", lines [-1]).group (1)
        when = time.mktime (time.strptime (stamp, "%Y-%m-%dT%H:%M:%S")) - time.timezone
        self.assertLess (abs (when - time.time ()), 60, lines [-1])

    def test_json_lines_parse_and_carry_fields (self):
        def plan (body, attempt, request):
            return 503 if b"ses_fail" in request.body else 200
        receiver, bridge, publisher = self.bridge_setup (
            delivery.Attempts (plan), args=delivery.FAST_RETRY + [
                "--retries", "1", "--log-format", "json", "-v", "--stats-interval", "100ms"])
        publisher.send (*event ("ses_ok"))
        publisher.send (*event ("ses_fail"))
        receiver.wait_for (3, log=bridge.show)
        bridge.wait_log (r"giving up", what="the final failure")
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        objects = []
        for line in log.splitlines ():
            try:
                obj = json.loads (line)
            except ValueError as error:
                self.fail ("not JSON (%s): %r" % (error, line))
            self.assertIsInstance (obj, dict, line)
            self.assertRegex (obj.get ("ts", ""), ISO, line)
            self.assertIn (obj.get ("level"), ("error", "warning", "notice", "info", "debug"), line)
            self.assertIsInstance (obj.get ("msg"), str, line)
            self.assertEqual (obj.get ("program"), "ovhook-bridge", line)
            objects.append (obj)
        messages = [o ["msg"] for o in objects]
        self.assertTrue (any (m.startswith ("ovhook-bridge ") and " ready: " in m
                              for m in messages), messages)
        self.assertTrue (any (m.startswith ("stopped: received 2, delivered 1")
                              for m in messages), messages)
        failures = [o for o in objects if o.get ("session") == "ses_fail"]
        self.assertEqual ([(o ["level"], o ["attempt"], o ["attempts"], o ["outcome"])
                           for o in failures],
                          [("error", 1, 2, "retry"), ("error", 2, 2, "giving up")], failures)
        for failure in failures:
            self.assertEqual ((failure ["event"], failure ["status"], failure ["error"]),
                              ("sessionCreated", 503, ""), failure)
            self.assertRegex (failure ["event_id"], r"^evt_[0-9a-f]{32}$")
            self.assertIn ("received 503", failure ["msg"])
        self.assertEqual (failures [0] ["event_id"], failures [1] ["event_id"])
        delivered = [o for o in objects if o.get ("outcome") == "delivered"]
        self.assertEqual ([(o ["session"], o ["status"]) for o in delivered], [("ses_ok", 200)])

    def test_bad_settings (self):
        env = self.webhook_env ("http://127.0.0.1:9/hook", self.bus () [0])
        code, out, err = ovhtest.run_program ("ovhook-bridge", ["--log-format", "xml"], env) [:3]
        self.assertEqual ((code, err), (2, "ovhook-bridge: Property OVHOOK_LOG_FORMAT=xml. "
                                           "Is not text or json\n"))
        missing = os.path.join (self.tmp, "no", "such", "bridge.log")
        code, out, err = ovhtest.run_program ("ovhook-bridge", ["--log-file", missing], env) [:3]
        self.assertEqual ((code, err), (2, "ovhook-bridge: cannot open log file %s: No such "
                                           "file or directory\n" % missing))

    def test_sighup_rotates_log_and_dead_letters (self):
        log_path = os.path.join (self.tmp, "bridge.log")
        dead_path = os.path.join (self.tmp, "dead.jsonl")
        receiver = self.receiver (lambda r: 404 if b"ses_dead" in r.body else 200)
        bind, connect = self.bus ()
        env = self.webhook_env (receiver.url ("/hook"), bind, OVHOOK_RETRIES="0",
                                OVHOOK_VERBOSE="true", OVHOOK_LOG_FILE=log_path)
        bridge = self.start_bridge (env, ["--dead-letter", dead_path], ready=False)
        ovhtest.wait_until (lambda: "ready:" in read (log_path), 15, "the ready line",
                            lambda: read (log_path) + bridge.show ())
        self.assertEqual (bridge.log (), "", "nothing on stderr with --log-file")
        publisher = self.publisher (connect, ["sessionCreated"])

        #   A steady 400 events/s for 3 s; at 1 s and at 2 s, logrotate's
        #   rename then SIGHUP
        sessions = []
        start = time.monotonic ()
        rotations = 0
        while time.monotonic () - start < 3:
            elapsed = time.monotonic () - start
            if rotations < 2 and elapsed >= 1 + rotations:
                rotations += 1
                os.rename (log_path, "%s.%d" % (log_path, rotations))
                if os.path.exists (dead_path):
                    os.rename (dead_path, "%s.%d" % (dead_path, rotations))
                bridge.process.send_signal (signal.SIGHUP)
            index = len (sessions)
            session = "ses_%s_%d" % ("dead" if index % 4 == 0 else "ok", index)
            publisher.send (*event (session, index))
            sessions.append (session)
            time.sleep (0.0025)
        receiver.wait_for (len (sessions), 30, log=lambda: read (log_path))
        code, _ = bridge.stop ()
        self.assertEqual (code, 0, read (log_path))

        logs = [read ("%s.%d" % (log_path, n)) for n in (1, 2)] + [read (log_path)]
        deads = [read ("%s.%d" % (dead_path, n)) for n in (1, 2)] + [read (dead_path)]
        every_log = "".join (logs)
        for n, text in enumerate (logs):
            self.assertTrue (text.endswith ("\n"), "log %d ends in a whole line" % n)
            self.assertRegex (text, r"(delivered|callback endpoint) ", "log %d has events" % n)
        for n in (1, 2):
            self.assertIn ("SIGHUP: log file reopened", logs [n])
        self.assertIn ("stopped: received %d, delivered %d" % (
            len (sessions), len ([s for s in sessions if "ok" in s])), logs [2])
        for n, text in enumerate (deads):
            self.assertTrue (text and text.endswith ("\n"), "dead-letter file %d" % n)
        #   Each event: one line in all the logs, one request; each dead
        #   one: one line in all the dead-letter files
        counts = {}
        for match in re.finditer (r"key (ses_\w+), id", every_log):
            counts [match.group (1)] = counts.get (match.group (1), 0) + 1
        self.assertEqual (counts, {s: 1 for s in sessions})
        received = [r.json () ["sessionId"] for r in receiver.requests]
        self.assertEqual (sorted (received), sorted (sessions), "each delivered once")
        letters = [json.loads (line) ["key"] for text in deads for line in text.splitlines ()]
        self.assertEqual (sorted (letters), sorted (s for s in sessions if "dead" in s))
        for line in every_log.splitlines ():
            self.assertRegex (line, TEXT_LINE)

    def test_proxy_json_log_file_and_sighup (self):
        code, out, err = ovhtest.run_program ("ovhook-proxy", ["--log-format", "yaml"]) [:3]
        self.assertEqual ((code, err), (2, "ovhook-proxy: --log-format needs text or json, "
                                           "not 'yaml' (see --help)\n"))
        code, out, err = ovhtest.run_program ("ovhook-tail", ["--log-file", "x"]) [:3]
        self.assertEqual ((code, err), (2, "ovhook-tail: unknown option '--log-file' (see --help)\n"))
        log_path = os.path.join (self.tmp, "proxy-file.log")   #   not the stderr file
        front, back = ovhtest.free_port (), ovhtest.free_port ()
        proxy = ovhtest.ToolProcess (self.tmp, "ovhook-proxy", [
            "--frontend", "@tcp://127.0.0.1:%d" % front, "--backend", "@tcp://127.0.0.1:%d" % back,
            "--log-format", "json", "--log-file", log_path], name="proxy")
        self._bridges.append (proxy)
        proxy.start (ready=False)
        ovhtest.wait_until (lambda: "ready: " in read (log_path), 15, "the ready line",
                            lambda: read (log_path) + proxy.show ())
        os.rename (log_path, log_path + ".1")
        proxy.process.send_signal (signal.SIGHUP)
        ovhtest.wait_until (lambda: "SIGHUP" in read (log_path), 10, "the reopen",
                            lambda: read (log_path + ".1") + proxy.show ())
        code, _ = proxy.stop ()
        self.assertEqual ((code, proxy.log ()), (0, ""), "exit 0, nothing on stderr")
        old, new = read (log_path + ".1"), read (log_path)
        lines = [json.loads (line) for line in (old + new).splitlines ()]
        self.assertTrue (all (line ["program"] == "ovhook-proxy" and ISO.match (line ["ts"])
                              for line in lines), lines)
        self.assertIn ("ready: ", old)
        self.assertNotIn ("stopped: ", old)
        self.assertEqual ([line ["msg"] for line in map (json.loads, new.splitlines ())]
                          [0], "SIGHUP: log file reopened")
        self.assertIn ("stopped: forwarded 0 messages", new)


if __name__ == "__main__":
    ovhtest.main ()
