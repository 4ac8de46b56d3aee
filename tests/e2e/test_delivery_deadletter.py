"""Dead letters without a spool (--dead-letter FILE): an event that gets a
final failure or exhausts its retries is appended as one JSON line {id,
event, key, attempts, last_error, failed_at, body (the webhook JSON,
verbatim)}; --redeliver sends those events again with their ids and
renames FILE to FILE.redelivered-<unix seconds>."""

import glob
import json
import os
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery

KEYS = ("id", "event", "key", "attempts", "last_error", "failed_at", "body")


class DeadLetterTest (ovhtest.BridgeTestCase):

    def test_dead_letter_file_and_redeliver (self):
        state = {"redelivery": False}
        def plan (body, attempt, request):
            session = body.get ("sessionId")
            if session == "ses_404":
                return 404              #   final, before and after the redelivery
            if state ["redelivery"]:
                return 200
            return {"ses_500": 500, None: 410}.get (session, 200)
        dead = os.path.join (self.tmp, "dead.jsonl")
        receiver, bridge, xpub = self.bridge_setup (
            delivery.Attempts (plan),
            args=delivery.FAST_RETRY + ["--retries", "2", "--dead-letter", dead])
        publisher = delivery.SeqPublisher (xpub, "dead-test/%d" % os.getpid ())
        started = time.time ()
        ids = {
            "ses_404": publisher.send ("participantJoined", {
                "timestamp": 1, "sessionId": "ses_404", "connectionId": "con_1",
                "location": "Z\u00fcrich \"HQ\" \\ \u2603", "clientData": "a/b\n\tc",
                "ratio": 0.1, "big": 18446744073709551615, "nested": {"a": [1, 2.5, None]}}),
            "ses_500": publisher.send ("sessionCreated", {"timestamp": 2, "sessionId": "ses_500"}),
            None: publisher.send ("sessionCreated", {"timestamp": 3}),     #   no key
            "ses_ok": publisher.send ("sessionCreated", {"timestamp": 4, "sessionId": "ses_ok"}),
        }
        receiver.wait_for (1 + 3 + 1 + 1, log=bridge.show)
        bridge.wait_log (r"E: .*key ses_500, id \S+, attempt 3/3; giving up",
                         what="ses_500 giving up")
        ovhtest.wait_until (lambda: delivery.line_count (dead) == 3, 5,
                            "3 dead letters in %s" % dead, bridge.show)
        finished = time.time ()
        raw = delivery.read_bytes (dead)
        lines = raw.split (b"\n")
        self.assertEqual (lines [-1], b"", "the file ends with a newline")
        letters = {}
        for line in lines [:-1]:
            letter = json.loads (line)
            self.assertEqual (sorted (letter), sorted (KEYS), line)
            letters [letter ["id"]] = (letter, line)
        self.assertEqual (set (letters), {ids ["ses_404"], ids ["ses_500"], ids [None]})
        bodies = {r.header ("webhook-id") [0]: r.body for r in receiver.requests}
        for key, event, attempts, status in (("ses_404", "participantJoined", 1, "404"),
                                             ("ses_500", "sessionCreated", 3, "500"),
                                             (None, "sessionCreated", 1, "410")):
            letter, line = letters [ids [key]]
            self.assertEqual ((letter ["event"], letter ["key"], letter ["attempts"]),
                              (event, key, attempts), line)
            self.assertIn (status, letter ["last_error"])
            self.assertGreaterEqual (letter ["failed_at"], int (started * 1000) - 1000)
            self.assertLessEqual (letter ["failed_at"], int (finished * 1000) + 1000)
            #   The body is the webhook JSON as sent, byte for byte
            self.assertEqual (letter ["body"], json.loads (bodies [ids [key]]))
            self.assertIn (b'"body":' + bodies [ids [key]], line)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)

        #   --redeliver: the same ids again; ses_404 fails again and becomes
        #   a dead letter in a new FILE
        state ["redelivery"] = True
        bind, connect = self.bus ()
        before = int (time.time ())
        bridge = self.start_bridge (self.webhook_env (receiver.url (), bind), delivery.FAST_RETRY + [
            "--retries", "2", "--dead-letter", dead, "--redeliver"], name="redeliver")
        bridge.wait_log (r"I: .*redelivering 3 dead letters", what="the redeliver line")
        after = int (time.time ())
        requests = receiver.wait_for (6 + 3, log=bridge.show)
        again = requests [6:]
        self.assertEqual (sorted (r.header ("webhook-id") [0] for r in again), sorted (letters))
        for request in again:
            self.assertEqual (request.body, bodies [request.header ("webhook-id") [0]])
        (renamed,) = glob.glob (dead + ".redelivered-*")
        stamp = int (renamed.rsplit ("-", 1) [1])
        self.assertTrue (before - 1 <= stamp <= after + 1, (before, stamp, after))
        self.assertEqual (delivery.read_bytes (renamed), raw)
        ovhtest.wait_until (lambda: delivery.line_count (dead) == 1, 5, "ses_404 dead again",
                            bridge.show)
        with open (dead) as f:
            letter = json.loads (f.read ())
        self.assertEqual ((letter ["id"], letter ["key"]), (ids ["ses_404"], "ses_404"))
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual (stats ["delivered"], 2, log)

    def test_dead_letter_not_kept_counts_failed (self):
        """A dead letter the file cannot take (its folder is gone) is logged
        as lost and counted failed, not as a dead letter: the stopped: line
        adds up."""
        folder = os.path.join (self.tmp, "letters")
        os.mkdir (folder)
        dead = os.path.join (folder, "dead.jsonl")
        receiver, bridge, xpub = self.bridge_setup (
            delivery.Attempts (lambda body, attempt, request: 404),
            args=["--dead-letter", dead])
        self.assertEqual (os.listdir (folder), [], "no file before a dead letter")
        os.rmdir (folder)
        publisher = delivery.SeqPublisher (xpub, "lost-test/%d" % os.getpid ())
        publisher.send ("sessionCreated", {"timestamp": 1, "sessionId": "ses_A"})
        publisher.send ("sessionCreated", {"timestamp": 2, "sessionId": "ses_B"})
        receiver.wait_for (2, log=bridge.show)
        bridge.wait_log (r"E: .*cannot open dead-letter file %s: No such file or directory: "
                         r"\d dead letters? lost" % dead, what="the lost line")
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["failed"],
                           stats ["extra"] ["dead letters"], stats ["undelivered"]),
                          (2, 0, 2, 0, 0), log)

    def test_hostile_dead_letter_file (self):
        """Dead letters are appended: a link, a FIFO or a folder at the
        file's name stops the start (exit 2, naming it), and nothing is
        written through it nor made beside it."""
        victim = os.path.join (self.tmp, "passwd")
        text = b"root:x:0:0:root:/root:/bin/bash\n"
        with open (victim, "wb") as f:
            f.write (text)
        cases = [
            ("a symbolic link", lambda path: os.symlink (victim, path), "is a symbolic link"),
            ("a dangling link", lambda path: os.symlink (victim + ".new", path),
             "is a symbolic link"),
            ("a hard link", lambda path: os.link (victim, path), "has 2 hard links"),
            ("a FIFO", os.mkfifo, "is a FIFO"),
            ("a directory", os.mkdir, "is a directory"),
        ]
        bus, _ = self.bus ()
        env = self.webhook_env ("http://127.0.0.1:9/hook", bus)
        for index, (what, make, reason) in enumerate (cases):
            with self.subTest (what=what):
                folder = os.path.join (self.tmp, "case%d" % index)
                os.mkdir (folder)
                path = os.path.join (folder, "dead.jsonl")
                make (path)
                before = sorted (os.listdir (folder))
                code, out, err = ovhtest.run_program ("ovhook-bridge", ["--dead-letter", path],
                                                      env)
                self.assertEqual (code, 2, err)
                self.assertIn ("ovhook-bridge: cannot use dead-letter file %s: %s %s\n"
                               % (path, path, reason), err)
                self.assertEqual (sorted (os.listdir (folder)), before)
                self.assertEqual (delivery.read_bytes (victim), text)
                self.assertFalse (os.path.exists (victim + ".new"))

    def test_redeliver_with_no_dead_letters (self):
        """--redeliver with FILE missing or empty says so and leaves the
        folder as it was: no empty FILE.redelivered-*, no FILE created."""
        folder = os.path.join (self.tmp, "letters")
        os.mkdir (folder)
        dead = os.path.join (folder, "dead.jsonl")
        for case in ("missing", "empty"):
            if case == "empty":
                open (dead, "w").close ()
            before = sorted (os.listdir (folder))
            receiver = self.receiver ()
            bind, connect = self.bus ()
            bridge = self.start_bridge (self.webhook_env (receiver.url (), bind), [
                "--dead-letter", dead, "--redeliver"], name=case)
            bridge.wait_log (r"I: .*no dead letters in %s: nothing to redeliver" % dead,
                             what="the nothing-to-redeliver line (%s)" % case)
            code, log = bridge.stop ()
            self.assertEqual (code, 0, log)
            self.assertNotIn ("redelivering", log)
            self.assertEqual (sorted (os.listdir (folder)), before, case + "\n" + log)

    def test_redeliver_in_order_per_key (self):
        """A file holding a session's sessionDestroyed before its
        sessionCreated (lines of two runs): redelivered created first."""
        def line (number, event, key, stamp):
            body = {"event": event, "timestamp": stamp, "sessionId": key}
            return json.dumps ({"id": "evt_%032x" % number, "event": event, "key": key,
                                "attempts": 8, "last_error": "x", "failed_at": 1,
                                "body": body}, separators=(",", ":"))
        dead = os.path.join (self.tmp, "dead.jsonl")
        with open (dead, "w") as f:
            f.write ("\n".join ([line (2, "sessionDestroyed", "ses_K", 2000),
                                 line (3, "sessionCreated", "ses_L", 1500),
                                 line (1, "sessionCreated", "ses_K", 1000)]) + "\n")
        receiver, bridge, xpub = self.bridge_setup (
            args=["--dead-letter", dead, "--redeliver", "--workers", "4"])
        bridge.wait_log (r"I: .*redelivering 3 dead letters", what="the redeliver line")
        requests = receiver.wait_for (3, log=bridge.show)
        ids = [r.header ("webhook-id") [0] for r in requests
               if json.loads (r.body) ["sessionId"] == "ses_K"]
        self.assertEqual (ids, ["evt_%032x" % 1, "evt_%032x" % 2], bridge.show ())
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)


if __name__ == "__main__":
    ovhtest.main ()
