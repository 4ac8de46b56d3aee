"""The durable spool (--spool DB, SQLite): an accepted event survives kill -9,
the restarted bridge delivers what the spool holds with the same ids and in
per-session order; killed at full speed it loses nothing accepted and
re-sends at most the in-flight requests; a corrupted or unusable spool file
stops the bridge at start (exit 2, 'cannot use spool'), never a silent loss;
dead letters stay in the spool and --redeliver sends them with their ids."""

import os
import re
import sqlite3
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery

DOWN_EVENTS = 100000
FAST_EVENTS = 50000
WORKERS = 8


class SpoolTest (ovhtest.BridgeTestCase):

    def spool_bridge (self, url, db, bind, args=(), name="bridge"):
        return self.start_bridge (self.webhook_env (url, bind), [
            "--spool", db, "--retries", "100", "--retry-max", "2s"] + list (args), name=name)

    def test_kill9_while_receiver_down (self):
        hold = delivery.PortHold ()
        self.addCleanup (hold.release)
        db = os.path.join (self.tmp, "spool.db")
        bind, connect = self.bus ()
        bridge = self.spool_bridge (hold.url (), db, bind)
        publisher = delivery.SeqPublisher (self.publisher (connect, ovhtest.DEFAULT_EVENTS),
                                           "spool-down/%d" % os.getpid ())
        started = time.monotonic ()
        ids = publisher.send_many (delivery.bulk_events (DOWN_EVENTS, 1000))
        sent = time.monotonic ()
        ovhtest.wait_until (lambda: delivery.spool_count (db) == DOWN_EVENTS, 60,
                            "%d events in the spool" % DOWN_EVENTS,
                            lambda: "spool holds %s\n%s" % (delivery.spool_count (db),
                                                             bridge.show ()))
        spooled = time.monotonic ()
        bridge.kill ()                  #   SIGKILL
        self.assertEqual (bridge.process.returncode, -9)
        kept = delivery.spool_copy_ids (db, self.tmp)
        self.assertEqual (sorted (kept), sorted (ids), "the spool lost events in the kill")
        #   Restart on the same spool; the receiver comes up after it
        bridge = self.spool_bridge (hold.url (), db, bind, name="restarted")
        bridge.wait_log (r"I: .*spool %s: %d events to resume, 0 dead letters" % (
            re.escape (db), DOWN_EVENTS), what="the resume line")
        receiver = delivery.FastReceiver (port=hold.port)
        self.addCleanup (receiver.stop)
        hold.release ()
        up = time.monotonic ()
        receiver.wait_unique (set (ids), 60, bridge.show)
        done = time.monotonic ()
        ovhtest.wait_until (lambda: delivery.spool_count (db) == 0, 10,
                            "the spool emptied after delivery",
                            lambda: "spool holds %s" % delivery.spool_count (db))
        seen = receiver.snapshot ()
        extra, twice = delivery.duplicates (seen)
        print ("\nkill -9 while down: published %d in %.1f s, all spooled %.1f s after the "
               "start; after the restart all delivered in %.1f s (%.0f/s); %d requests, "
               "%d duplicate(s)" % (DOWN_EVENTS, sent - started, spooled - started,
                                    done - up, DOWN_EVENTS / (done - up), len (seen), extra))
        self.assertEqual ({h.id for h in seen}, set (ids))
        keys = [r ["key"] for r in publisher.sent]
        self.assertEqual (delivery.order_violations (seen, list (zip (ids, keys))), [])
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log [-3000:])

    def test_kill9_at_full_speed (self):
        receiver = delivery.FastReceiver ()
        self.addCleanup (receiver.stop)
        db = os.path.join (self.tmp, "spool.db")
        bind, connect = self.bus ()
        bridge = self.spool_bridge (receiver.url (), db, bind, ["--workers", str (WORKERS)])
        publisher = delivery.SeqPublisher (self.publisher (connect, ovhtest.DEFAULT_EVENTS),
                                           "spool-fast/%d" % os.getpid ())
        ids = publisher.send_many (delivery.bulk_events (FAST_EVENTS, 200))
        ovhtest.wait_until (lambda: receiver.count () >= FAST_EVENTS // 2, 60,
                            "half the events delivered", bridge.show)
        bridge.kill ()
        time.sleep (0.3)                #   the receiver reads what was already sent
        before = receiver.snapshot ()
        self.assertLess (len (before), FAST_EVENTS, "killed too late: all delivered already")
        #   Accepted = delivered before the kill, or committed in the spool.
        #   Rows with a delivery receipt were delivered: the restart removes
        #   them before it resumes the rest
        rows = delivery.spool_copy_ids (db, self.tmp, rows=True)
        receipts = delivery.spool_receipts (db)
        left = [id for row, id in rows if (row, id) not in receipts]
        receipted = len (rows) - len (left)
        accepted = {h.id for h in before} | {id for row, id in rows}
        self.assertLessEqual (accepted, set (ids), "unknown ids")
        self.assertLessEqual ({id for row, id in receipts if (row, id) in set (rows)},
                              {h.id for h in before}, "a receipt for an event never delivered")
        bridge = self.spool_bridge (receiver.url (), db, bind, ["--workers", str (WORKERS)],
                                    name="restarted")
        if receipted:
            bridge.wait_log (r"I: .*spool %s: %d delivered events removed" % (re.escape (db),
                                                                           receipted),
                             what="the receipts line")
        bridge.wait_log (r"I: .*spool %s: %d events to resume" % (re.escape (db), len (left)),
                         what="the resume line")
        receiver.wait_unique (accepted, 60, bridge.show)
        time.sleep (0.5)
        seen = receiver.snapshot ()
        extra, twice = delivery.duplicates (seen)
        overlap = len (before) + len (left) - len (accepted)
        print ("\nkill -9 at full speed: %d of %d delivered before the kill, %d left in the "
               "spool to resume (%d of them had arrived: in flight), %d more removed by "
               "their delivery receipts, %d never accepted (in the dead bridge's bus buffers), "
               "%d duplicate(s) after the restart (workers %d)" % (
                   len (before), FAST_EVENTS, len (left), overlap, receipted,
                   FAST_EVENTS - len (accepted), extra, WORKERS))
        self.assertEqual ({h.id for h in seen} - set (ids), set ())
        #   In flight when killed: the requests under way, at most WORKERS
        #   (a delivery whose removal was not committed has its receipt)
        self.assertLessEqual (extra, WORKERS, "more duplicates than requests in flight: %r"
                              % sorted (twice.items ()) [:20])
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log [-3000:])

    def test_one_bridge_per_spool (self):
        db = os.path.join (self.tmp, "shared.db")
        receiver = self.receiver ()
        first_bind, _ = self.bus ()
        first = self.spool_bridge (receiver.url (), db, first_bind)
        second_bind, _ = self.bus ()
        second = self.start_bridge (self.webhook_env (receiver.url (), second_bind),
                                    ["--spool", db], ready=False, name="second")
        code = second.wait_exit (10)
        self.assertEqual (code, 2, second.log ())
        self.assertIn ("cannot use spool %s: in use by another ovhook-bridge" % db, second.log ())
        #   The lock is the database's: neither another name for it (a hard
        #   link) nor a removed PATH.lock lets a second bridge in
        link = os.path.join (self.tmp, "other-name.db")
        os.link (db, link)
        os.unlink (db + ".lock")
        for path, what in ((link, "a hard link"), (db, "PATH.lock removed")):
            with self.subTest (what=what):
                second = self.start_bridge (self.webhook_env (receiver.url (), second_bind),
                                            ["--spool", path], ready=False, name="second")
                self.assertEqual (second.wait_exit (10), 2, second.log ())
                self.assertIn ("cannot use spool %s: in use by another ovhook-bridge" % path,
                               second.log ())
        os.unlink (link)
        #   Once the first has stopped, the spool is free again
        code, log = first.stop ()
        self.assertEqual (code, 0, log)
        third = self.spool_bridge (receiver.url (), db, second_bind, name="third")
        code, log = third.stop ()
        self.assertEqual (code, 0, log)

    def test_unusable_spool_stops_the_start (self):
        garbage = os.path.join (self.tmp, "garbage.db")
        with open (garbage, "wb") as f:
            f.write (os.urandom (8192))
        text = os.path.join (self.tmp, "text.db")
        with open (text, "wb") as f:
            f.write (b"this is not a database\n" * 50)
        foreign = os.path.join (self.tmp, "foreign.db")
        db = sqlite3.connect (foreign)
        db.executescript ("CREATE TABLE t (x); INSERT INTO t VALUES (1); PRAGMA user_version = 7;")
        db.close ()
        damaged = os.path.join (self.tmp, "damaged.db")
        db = sqlite3.connect (damaged)
        db.executescript ("CREATE TABLE filler (x TEXT); PRAGMA user_version = 1;")
        db.executemany ("INSERT INTO filler VALUES (?)", [("x" * 200,)] * 2000)
        db.commit ()
        db.close ()
        with open (damaged, "r+b") as f:     #   keep the header page, ruin the rest
            f.seek (4096 * 3)
            f.write (os.urandom (4096 * 20))
        #   A new spool whose receipts file cannot be opened (an empty file
        #   is a new spool: it gets the schema before the receipts open)
        blocked = os.path.join (self.tmp, "blocked.db")
        sqlite3.connect (blocked).close ()
        os.mkdir (blocked + ".delivered")
        cases = [
            (blocked, "receipts that cannot be opened"),
            (garbage, "random bytes"),
            (text, "a text file"),
            (foreign, "another program's database (user_version 7)"),
            (damaged, "damaged pages"),
            (self.tmp, "a directory"),
            (os.path.join (self.tmp, "no-such-dir", "spool.db"), "a missing directory"),
            ("/proc/ovhook-spool.db", "an unwritable place"),
        ]
        bind, _ = self.bus ()
        for path, what in cases:
            with self.subTest (what=what):
                before = delivery.read_bytes (path) if os.path.isfile (path) else b""
                env = self.webhook_env ("http://127.0.0.1:9/hook", bind)
                code, out, err = ovhtest.run_program ("ovhook-bridge", ["--spool", path], env)
                self.assertEqual (code, 2, "%s: exit %d\n%s" % (what, code, err))
                self.assertIn ("ovhook-bridge: cannot use spool %s: " % path, err)
                if path == blocked:
                    self.assertIn ("%s.delivered is a directory" % path, err)
                self.assertNotIn ("ready:", err)
                #   Left as it was for the operator to look at (SQLite's
                #   100-byte header aside: the journal mode and change
                #   counter there may have been written before the check)
                after = delivery.read_bytes (path) if os.path.isfile (path) else b""
                if path == blocked:
                    continue
                self.assertEqual (len (after), len (before), "%s: the file was changed" % what)
                self.assertEqual (after [100:], before [100:], "%s: the file was changed" % what)
        #   The same through the environment
        env = self.webhook_env ("http://127.0.0.1:9/hook", bind, OVHOOK_SPOOL=garbage)
        code, out, err = ovhtest.run_program ("ovhook-bridge", [], env)
        self.assertEqual (code, 2, err)
        self.assertIn ("cannot use spool %s: " % garbage, err)

    def test_hostile_files_stop_the_start (self):
        """A link, a FIFO or a folder at any name the spool uses, or a file
        that is not SQLite: exit 2 naming it, before anything is made
        beside it; the folder and the victim (a stand-in for /etc/passwd)
        as they were."""
        victim = os.path.join (self.tmp, "passwd")
        with open (victim, "w") as f:
            f.write ("root:x:0:0:root:/root:/bin/bash\n")
        def symlink (target):
            os.symlink (victim, target)
        cases = [
            ("", symlink, "is a symbolic link"),
            (".delivered", symlink, "is a symbolic link"),
            (".delivered", lambda target: os.link (victim, target), "has 2 hard links"),
            (".lock", symlink, "is a symbolic link"),
            (".reserve", symlink, "is a symbolic link"),
            ("-wal", os.mkfifo, "is a FIFO"),
            ("-journal", os.mkdir, "is a directory"),
        ]
        bind, _ = self.bus ()
        env = self.webhook_env ("http://127.0.0.1:9/hook", bind)
        for index, (suffix, make, reason) in enumerate (cases):
            with self.subTest (name="spool.db" + suffix, reason=reason):
                folder = os.path.join (self.tmp, "case%d" % index)
                os.mkdir (folder)
                db = os.path.join (folder, "spool.db")
                make (db + suffix)
                before = sorted (os.listdir (folder))
                code, out, err = ovhtest.run_program ("ovhook-bridge", ["--spool", db], env)
                self.assertEqual (code, 2, err)
                self.assertIn ("ovhook-bridge: cannot use spool %s: %s%s %s\n" % (
                    db, db, suffix, reason), err)
                self.assertEqual (sorted (os.listdir (folder)), before, "left behind")
                self.assertEqual (delivery.read_bytes (victim),
                                  b"root:x:0:0:root:/root:/bin/bash\n")
        #   Not SQLite: refused before a lock is made beside it (a failed
        #   --spool /etc/passwd left /etc/passwd.lock)
        before = sorted (os.listdir (self.tmp))
        code, out, err = ovhtest.run_program ("ovhook-bridge", ["--spool", victim], env)
        self.assertEqual (code, 2, err)
        self.assertIn ("cannot use spool %s: not an ovhook spool (not an SQLite database)"
                       % victim, err)
        self.assertEqual (sorted (os.listdir (self.tmp)), before, "left behind")
        #   A device: nothing beside it (a failed run left /dev/null-journal)
        code, out, err = ovhtest.run_program ("ovhook-bridge", ["--spool", "/dev/null"], env)
        self.assertEqual (code, 2, err)
        self.assertIn ("cannot use spool /dev/null: /dev/null is a device", err)
        for suffix in ("-journal", "-wal", "-shm", ".lock", ".delivered", ".reserve"):
            self.assertFalse (os.path.lexists ("/dev/null" + suffix), suffix)

    def test_corrupted_wal_stops_the_start (self):
        """A byte changed in the middle of the WAL of a killed bridge: SQLite
        drops every commit after the bad frame without a word; the commit
        record in PATH.lock shows it, and the start is refused."""
        events = 5000
        hold = delivery.PortHold ()
        self.addCleanup (hold.release)
        db = os.path.join (self.tmp, "spool.db")
        bind, connect = self.bus ()
        bridge = self.spool_bridge (hold.url (), db, bind)
        publisher = delivery.SeqPublisher (self.publisher (connect, ovhtest.DEFAULT_EVENTS),
                                           "spool-wal/%d" % os.getpid ())
        publisher.send_many (delivery.bulk_events (events, 100))
        ovhtest.wait_until (lambda: delivery.spool_count (db) == events, 60,
                            "%d events in the spool" % events, bridge.show)
        bridge.kill ()
        size = os.path.getsize (db + "-wal")
        self.assertGreater (size, 100000, "the WAL was checkpointed")
        with open (db + "-wal", "r+b") as f:
            f.seek (size // 2)
            byte = f.read (1)
            f.seek (size // 2)
            f.write (bytes ([byte [0] ^ 0x55]))
        env = self.webhook_env (hold.url (), bind)
        code, out, err = ovhtest.run_program ("ovhook-bridge", ["--spool", db], env)
        self.assertEqual (code, 2, err)
        match = re.search (r"cannot use spool %s: the database holds (\d+) commits \(last row "
                           r"(\d+)\), but %s.lock recorded (\d+) \(last row (\d+)\): (\d+) "
                           r"committed batches were lost \(a corrupted or cut %s-wal\); to "
                           r"start with what it holds, remove %s.lock\n" % (
                               (re.escape (db),) * 4), err)
        self.assertTrue (match, err)
        self.assertEqual (int (match.group (4)), events)
        self.assertLess (int (match.group (2)), events)
        print ("\ncorrupted WAL: %s" % err.strip ())
        #   The way out the message gives
        os.unlink (db + ".lock")
        bridge = self.spool_bridge (hold.url (), db, bind, name="accepting")
        bridge.wait_log (r"I: .*spool %s: \d+ events to resume" % re.escape (db))
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)

    def test_dead_letters_and_redeliver (self):
        state = {"status": 404}
        def responder (request):
            if request.json () ["sessionId"] == "ses_dead":
                return state ["status"]
            return 200
        db = os.path.join (self.tmp, "spool.db")
        receiver = self.receiver (responder)
        bind, connect = self.bus ()
        bridge = self.spool_bridge (receiver.url (), db, bind, delivery.FAST_RETRY)
        publisher = delivery.SeqPublisher (self.publisher (connect, ovhtest.DEFAULT_EVENTS))
        started_ms = time.time () * 1000
        dead_id = publisher.send ("participantJoined", {
            "timestamp": 1, "sessionId": "ses_dead", "connectionId": "con_1",
            "location": "Z\u00fcrich \"HQ\"", "ratio": 0.1})
        ok_id = publisher.send ("sessionCreated", {"timestamp": 2, "sessionId": "ses_ok"})
        receiver.wait_for (2, log=bridge.show)
        ovhtest.wait_until (lambda: delivery.spool_count (db, "dead_letters") == 1, 10,
                            "the dead letter in the spool", bridge.show)
        ovhtest.wait_until (lambda: delivery.spool_count (db) == 0, 10, "events emptied")
        (row,) = delivery.spool_rows (db, "dead_letters")
        (first,) = [r for r in receiver.requests if r.header ("webhook-id") == [dead_id]]
        body = row ["json"] if isinstance (row ["json"], bytes) else row ["json"].encode ()
        self.assertEqual ((row ["id"], row ["type"], row ["key"], row ["attempts"]),
                          (dead_id, "participantJoined", "ses_dead", 1))
        self.assertEqual (body, first.body)
        self.assertIn ("404", row ["last_error"])
        self.assertLessEqual (started_ms - 1000, row ["accepted_ms"])
        self.assertLessEqual (row ["accepted_ms"], row ["failed_ms"])
        self.assertLessEqual (row ["failed_ms"], time.time () * 1000 + 1000)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        #   Restart with --redeliver, the endpoint now accepts it
        state ["status"] = 200
        bridge = self.spool_bridge (receiver.url (), db, bind, delivery.FAST_RETRY +
                                    ["--redeliver"], name="redeliver")
        bridge.wait_log (r"I: .*redelivering 1 dead letters", what="the redeliver line")
        #   Counted before or after the dead letter went back: 0 + 1 or 1 + 0
        m = re.search (r"I: .*spool %s: (\d+) events to resume, (\d+) dead letters"
                       % re.escape (db), bridge.log ())
        self.assertTrue (m and int (m.group (1)) + int (m.group (2)) == 1, bridge.log ())
        requests = receiver.wait_for (3, log=bridge.show)
        again = requests [2]
        self.assertEqual (again.header ("webhook-id"), [dead_id])
        self.assertEqual (again.body, first.body)
        ovhtest.wait_until (lambda: (delivery.spool_count (db, "dead_letters"),
                                     delivery.spool_count (db)) == (0, 0), 10,
                            "an empty spool after redelivery", bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertEqual ([r.header ("webhook-id") [0] for r in receiver.requests].count (ok_id), 1)


if __name__ == "__main__":
    ovhtest.main ()
