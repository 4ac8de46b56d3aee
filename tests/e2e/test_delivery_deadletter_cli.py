"""Dead letters without sqlite3 by hand: `ovhook-bridge --dead-letters
list|show ID|export FILE|purge` with the filters --event, --session,
--since, --until, --id, on a spool and on a dead-letter file, and
`--redeliver` of a selection. Dead letters are made for real (a receiver
answering 404), the commands run as the real binary, and what they select
is checked against what the receiver got; exports are fed back with
--redeliver and arrive byte for byte; purges run while a bridge writes
dead letters into the same store and lose nothing."""

import glob
import json
import os
import sys
import threading
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery

#   (topic, body): two sessions with two events each, one with one, and an
#   event without an ordering key
EVENTS = [
    ("sessionCreated", {"timestamp": 1, "sessionId": "ses_A"}),
    ("sessionCreated", {"timestamp": 2, "sessionId": "ses_B"}),
    ("participantJoined", {"timestamp": 3, "sessionId": "ses_A", "connectionId": "con_1",
                           "location": "Z\u00fcrich \"HQ\" \\ \u2603",
                           "big": 18446744073709551615, "nested": {"a": [1, 2.5, None]}}),
    ("signalSent", {"timestamp": 4, "sessionId": "ses_C", "data": "x\ny"}),
    ("sessionDestroyed", {"timestamp": 5, "sessionId": "ses_B", "reason": "lastParticipantLeft"}),
    ("sessionCreated", {"timestamp": 6}),
]


def dead_count (store):
    """How many dead letters the store holds (0 while a file is not made)."""
    code, out, err = ovhtest.run_program ("ovhook-bridge", list (store) + [
        "--dead-letters", "list", "--json"])
    assert code == 0 or "does not exist" in err, (code, out, err)
    return len (out.splitlines ())


def dead_letters (store, *args):
    """`--dead-letters list --json` with 'args': the records, in store order."""
    code, out, err = ovhtest.run_program ("ovhook-bridge", list (store) + [
        "--dead-letters", "list", "--json"] + list (args))
    assert code == 0, (code, out, err)
    return [json.loads (line) for line in out.splitlines ()]


class DeadLetterCliTest (ovhtest.BridgeTestCase):

    def make_dead (self, store, events=EVENTS):
        """Run a bridge on 'store' whose receiver answers 404, publish
        'events', wait until each is a dead letter, stop it. Returns
        {webhook id: (topic, key, body bytes as POSTed)} and the ids in
        publish order."""
        receiver, bridge, xpub = self.bridge_setup (lambda request: 404, args=list (store) + [
            "--breaker-threshold", "0"])
        publisher = delivery.SeqPublisher (xpub, "cli-test/%d/%d" % (os.getpid (), len (
            self._bridges)))
        ids = [publisher.send (topic, body) for topic, body in events]
        receiver.wait_for (len (events), log=bridge.show)
        ovhtest.wait_until (lambda: dead_count (store) >= len (events), 10,
                            "%d dead letters" % len (events), bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        #  An event with no ordering key is logged as key (none), never with
        #  whatever the stack held (it once was: valgrind saw it)
        keyless = sum (1 for topic, body in events if not {"sessionId", "id", "nodeId",
                                                            "clusterId"} & set (body))
        self.assertEqual (log.count (", key (none), id evt_"), keyless, log)
        sent = {}
        for request in receiver.requests:
            body = json.loads (request.body)
            sent [request.header ("webhook-id") [0]] = (body ["event"], ovhtest.ordering_key (
                body), request.body)
        return sent, ids

    def run_ok (self, store, *args):
        code, out, err = ovhtest.run_program ("ovhook-bridge", list (store) + list (args))
        self.assertEqual (code, 0, (args, out, err))
        return out

    def check_commands (self, store):
        started = time.time ()
        sent, ids = self.make_dead (store)
        letters = dead_letters (store)
        #   list: every dead letter once, in the order they died (sessions
        #   die in parallel), each field right
        self.assertEqual (sorted (l ["id"] for l in letters), sorted (ids))
        self.assertEqual ([l ["failed_at"] for l in letters],
                          sorted (l ["failed_at"] for l in letters))
        for letter in letters:
            event, key, body = sent [letter ["id"]]
            self.assertEqual ((letter ["event"], letter ["key"], letter ["attempts"]),
                              (event, key, 1), letter)
            self.assertIn ("received 404", letter ["last_error"])
            self.assertLessEqual (abs (letter ["failed_at"] / 1000 - started), 30)
            self.assertEqual (letter ["dead_since"], time.strftime (
                "%Y-%m-%dT%H:%M:%S", time.gmtime (letter ["failed_at"] // 1000)) + ".%03dZ" % (
                letter ["failed_at"] % 1000))
        number = {l ["id"]: l ["number"] for l in letters}
        text = self.run_ok (store, "--dead-letters", "list").splitlines ()
        self.assertTrue (text [0].startswith ("ID "), text)
        self.assertEqual (len (text), 1 + len (ids), text)
        for line, letter in zip (text [1:], letters):
            fields = line.split ()
            self.assertEqual ((fields [0], fields [1], fields [2], fields [3], fields [5]),
                              (str (letter ["number"]), letter ["dead_since"], letter ["event"],
                               letter ["key"] or "-", letter ["id"]), line)

        #   Filters select exactly the right ones
        def selected (*args):
            return sorted (l ["id"] for l in dead_letters (store, *args))
        by_event = lambda *events: sorted (i for i in ids if sent [i] [0] in events)
        self.assertEqual (selected ("--event", "sessionCreated"), by_event ("sessionCreated"))
        self.assertEqual (selected ("--event", "signalSent,sessionDestroyed"),
                          by_event ("signalSent", "sessionDestroyed"))
        self.assertEqual (selected ("--event", "signalSent", "--event", "participantJoined"),
                          by_event ("signalSent", "participantJoined"))
        self.assertEqual (selected ("--session", "ses_A"), sorted ([ids [0], ids [2]]))
        self.assertEqual (selected ("--session", "ses_B", "--event", "sessionDestroyed"),
                          [ids [4]])
        self.assertEqual (selected ("--since", "1h"), sorted (ids))
        self.assertEqual (selected ("--until", "1h"), [])
        self.assertEqual (selected ("--since", time.strftime ("%Y-%m-%dT%H:%M:%SZ", time.gmtime (
            time.time () + 3600))), [])
        self.assertEqual (selected ("--until", "2099-01-01"), sorted (ids))
        self.assertEqual (selected ("--id", "%d,%s" % (number [ids [1]], ids [3])),
                          sorted ([ids [1], ids [3]]))
        cut = letters [3] ["failed_at"]
        stamp = lambda ms: time.strftime ("%Y-%m-%dT%H:%M:%S", time.gmtime (ms // 1000)) + \
            ".%03dZ" % (ms % 1000)
        self.assertEqual (selected ("--since", stamp (cut)),
                          sorted (l ["id"] for l in letters if l ["failed_at"] >= cut))
        self.assertEqual (selected ("--until", stamp (cut)),
                          sorted (l ["id"] for l in letters if l ["failed_at"] < cut))

        #   show: the whole record, the body indented, numbers kept exact
        out = self.run_ok (store, "--dead-letters", "show", str (number [ids [2]]))
        head, body = out.split ("body:\n", 1)
        self.assertIn ("webhook id:  %s\n" % ids [2], head)
        self.assertIn ("event:       participantJoined\n", head)
        self.assertIn ("session:     ses_A\n", head)
        self.assertIn ("received 404", head)
        self.assertEqual (json.loads (body), json.loads (sent [ids [2]] [2]))
        self.assertIn ('"big": 18446744073709551615', body)
        self.assertIn ('\n  "nested": {\n    "a": [\n      1,', body)
        out = self.run_ok (store, "--dead-letters", "show", ids [5], "--json")
        letter = json.loads (out)
        self.assertEqual ((letter ["id"], letter ["key"]), (ids [5], None))
        self.assertIn (b'"body":' + sent [ids [5]] [2] + b"}\n", out.encode ())

        #   export: the selection as dead-letter lines, bodies byte for byte
        exported = os.path.join (self.tmp, "export-%d.jsonl" % len (self._bridges))
        out = self.run_ok (store, "--dead-letters", "export", exported, "--session", "ses_B")
        self.assertIn ("exported 2 dead letters", out)
        lines = delivery.read_bytes (exported).splitlines ()
        #   ses_B's two died one after the other: in that order
        self.assertEqual ([json.loads (l) ["id"] for l in lines], [ids [1], ids [4]])
        for line in lines:
            letter = json.loads (line)
            self.assertEqual (list (letter), ["id", "event", "key", "attempts", "last_error",
                                              "failed_at", "body"])
            self.assertTrue (line.endswith (b',"body":' + sent [letter ["id"]] [2] + b"}"), line)
        self.assertEqual (os.stat (exported).st_mode & 0o777, 0o600)
        code, out, err = ovhtest.run_program ("ovhook-bridge", list (store) + [
            "--dead-letters", "export", exported])
        self.assertEqual ((code, out), (1, ""), err)
        self.assertIn ("cannot export to %s: it exists" % exported, err)
        self.assertEqual (len (delivery.read_bytes (exported).splitlines ()), 2)

        #   purge: the selection only, and says how many
        out = self.run_ok (store, "--dead-letters", "purge", "--event", "signalSent")
        self.assertIn ("purged 1 dead letter from", out)
        self.assertEqual (selected (), sorted (i for i in ids if i != ids [3]))
        out = self.run_ok (store, "--dead-letters", "purge", "--session", "nobody")
        self.assertIn ("purged 0 dead letters", out)
        self.assertEqual (len (selected ()), 5)
        return sent, ids, exported

    def test_commands_on_a_spool (self):
        spool = os.path.join (self.tmp, "spool.db")
        sent, ids, exported = self.check_commands (["--spool", spool])
        #   The rows are gone from SQLite itself too; the rest is untouched
        out = self.run_ok (["--spool", spool], "--dead-letters", "purge")
        self.assertIn ("purged 5 dead letters", out)
        self.assertEqual (dead_letters (["--spool", spool]), [])

        #   The export, fed back with --redeliver to a receiver that answers
        #   200: exactly those bodies, byte for byte, with their ids
        receiver, bridge, _ = self.bridge_setup (lambda request: 200, args=[
            "--dead-letter", exported, "--redeliver"])
        requests = receiver.wait_for (2, log=bridge.show)
        time.sleep (0.3)
        self.assertEqual (len (receiver.requests), 2)
        self.assertEqual ([(r.header ("webhook-id") [0], r.body) for r in requests],
                          [(ids [1], sent [ids [1]] [2]), (ids [4], sent [ids [4]] [2])])
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)

    def test_commands_on_a_file (self):
        dead = os.path.join (self.tmp, "dead.jsonl")
        sent, ids, _ = self.check_commands (["--dead-letter", dead])
        #   The file keeps the lines it had, as they were, minus the purged
        lines = delivery.read_bytes (dead).splitlines ()
        self.assertEqual (sorted (json.loads (l) ["id"] for l in lines),
                          sorted (i for i in ids if i != ids [3]))
        self.assertEqual (os.stat (dead).st_mode & 0o777, 0o600)
        self.assertEqual (glob.glob (dead + ".*"), [], "no file left beside it")
        #   A line that cannot be read is named, left out, and kept by a purge
        with open (dead, "ab") as f:
            f.write (b'{"id":"evt_nope"}\n')
        code, out, err = ovhtest.run_program ("ovhook-bridge", [
            "--dead-letter", dead, "--dead-letters", "list", "--json"])
        self.assertEqual ((code, len (out.splitlines ())), (1, 5), err)
        self.assertIn ("dead-letter file %s line 6: no valid \"id\"" % dead, err)
        code, out, err = ovhtest.run_program ("ovhook-bridge", [
            "--dead-letter", dead, "--dead-letters", "purge"])
        self.assertEqual (code, 1, err)
        self.assertIn ("purged 5 dead letters", out)
        self.assertIn ("line 6: no valid \"id\" (evt_ and 32 hex digits): kept as it is", err)
        self.assertEqual (delivery.read_bytes (dead), b'{"id":"evt_nope"}\n')

    def check_selective_redeliver (self, store, dead_file=None):
        sent, ids = self.make_dead (store)
        receiver, bridge, _ = self.bridge_setup (lambda request: 200, args=list (store) + [
            "--redeliver", "--session", "ses_A", "--session", "ses_B",
            "--event", "sessionCreated,sessionDestroyed"])
        chosen = [ids [0], ids [1], ids [4]]
        requests = receiver.wait_for (3, log=bridge.show)
        time.sleep (0.3)
        self.assertEqual (len (receiver.requests), 3, bridge.show ())
        got = [(r.header ("webhook-id") [0], r.body) for r in requests]
        self.assertEqual (sorted (got), sorted ((i, sent [i] [2]) for i in chosen))
        #   In their original order per session
        session_b = [i for i, _ in got if sent [i] [1] == "ses_B"]
        self.assertEqual (session_b, [ids [1], ids [4]])
        bridge.wait_log (r"I: .*redelivering 3 selected dead letters", what="the redeliver line")
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        #   The others stay dead letters, untouched
        left = dead_letters (store)
        self.assertEqual (sorted (l ["id"] for l in left), sorted ([ids [2], ids [3], ids [5]]))
        return left

    def test_selective_redeliver_spool (self):
        spool = os.path.join (self.tmp, "spool.db")
        self.check_selective_redeliver (["--spool", spool])

    def test_selective_redeliver_file (self):
        dead = os.path.join (self.tmp, "dead.jsonl")
        left = self.check_selective_redeliver (["--dead-letter", dead])
        (retired,) = glob.glob (dead + ".redelivered-*")
        #   The lines left are the lines as they were, byte for byte
        lines = delivery.read_bytes (retired).splitlines (keepends=True)
        self.assertEqual (len (lines), 6)
        self.assertEqual (delivery.read_bytes (dead),
                          b"".join (l for l in lines if json.loads (l) ["id"] in
                                    [x ["id"] for x in left]))

    def busy_bridge (self, store, total=600, turn=None):
        """A bridge on 'store' whose receiver answers 404, and a thread
        that publishes 'total' events to it, 25 every 50 ms; or, given
        the threading.Event 'turn', 100 at a time, each batch after the
        caller set it (its purge ran between two batches, however slow
        the machine)."""
        receiver, bridge, xpub = self.bridge_setup (lambda request: 404, args=list (store) + [
            "--breaker-threshold", "0"])
        publisher = delivery.SeqPublisher (xpub, "busy-test/%d" % os.getpid ())

        def publish ():
            for index in range (total):
                if turn and index % 100 == 0 and index:
                    turn.wait (30)
                    turn.clear ()
                publisher.send ("signalSent" if index % 3 else "sessionCreated",
                                {"timestamp": index, "sessionId": "ses_%d" % (index % 7)})
                if index % 25 == 24 and not turn:
                    time.sleep (0.05)
        thread = threading.Thread (target=publish)
        thread.start ()
        self.addCleanup (thread.join)
        ovhtest.wait_until (lambda: dead_count (store) > 0, 10, "a first dead letter",
                            bridge.show)
        return receiver, bridge, thread

    def test_purge_while_running_file (self):
        """The bridge keeps appending dead letters while purges rewrite
        the file: every event ends either purged or still a dead letter,
        once (the writer appends under a shared flock, the purge renames
        under an exclusive one)."""
        store = ["--dead-letter", os.path.join (self.tmp, "d.jsonl")]
        total = 600
        turn = threading.Event ()
        receiver, bridge, thread = self.busy_bridge (store, total, turn)
        purged = rounds = during = 0
        while thread.is_alive () or rounds < during + 2:
            during += thread.is_alive ()
            code, out, err = ovhtest.run_program ("ovhook-bridge", store + [
                "--dead-letters", "purge", "--event", "signalSent"])
            self.assertEqual (code, 0, (out, err))
            purged += int (out.split () [1])
            rounds += 1
            turn.set ()                 #   the next batch may come
        self.assertGreaterEqual (during, 3, "purges while the bridge wrote")
        receiver.wait_for (total, timeout=30, log=bridge.show)
        ovhtest.wait_until (lambda: purged + dead_count (store) >= total, 10,
                            "every dead letter written", bridge.show)
        #  A slow bridge (valgrind) may still have been writing after the
        #  rounds above: one last purge takes the signalSent written since
        code, out, err = ovhtest.run_program ("ovhook-bridge", store + [
            "--dead-letters", "purge", "--event", "signalSent"])
        self.assertEqual (code, 0, (out, err))
        purged += int (out.split () [1])
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertNotIn ("lost", log.split ("stopped:") [0])
        left = dead_letters (store)
        ids = [l ["id"] for l in left]
        self.assertEqual (len (ids), len (set (ids)), "no dead letter twice")
        self.assertEqual (purged + len (left), total, (purged, len (left)))
        self.assertEqual (sum (1 for l in left if l ["event"] == "sessionCreated"), total // 3)
        self.assertEqual (purged, total - total // 3)

    def test_spool_in_use (self):
        """While a bridge runs on a spool, list, show and export read it
        without disturbing the bridge (no failed write in its log), and a
        purge is refused, naming the reason; stopped, the purge works."""
        spool = os.path.join (self.tmp, "spool.db")
        store = ["--spool", spool]
        total = 600
        receiver, bridge, thread = self.busy_bridge (store, total)
        rounds = during = 0
        while thread.is_alive () or rounds < 3:
            during += thread.is_alive ()
            letters = dead_letters (store)
            self.assertTrue (letters)
            self.run_ok (store, "--dead-letters", "show", str (letters [-1] ["number"]))
            self.run_ok (store, "--dead-letters", "export", os.path.join (
                self.tmp, "export-%d" % rounds), "--event", "sessionCreated")
            code, out, err = ovhtest.run_program ("ovhook-bridge", store + [
                "--dead-letters", "purge"])
            self.assertEqual ((code, out), (1, ""), err)
            self.assertIn ("ovhook-bridge: spool %s: in use by a running ovhook-bridge: stop "
                           "it, purge, start it again" % spool, err)
            rounds += 1
        self.assertGreaterEqual (during, 1, "reads while the bridge wrote")
        receiver.wait_for (total, timeout=30, log=bridge.show)
        ovhtest.wait_until (lambda: dead_count (store) >= total, 10,
                            "every dead letter written", bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertNotIn ("failed (", log)
        self.assertNotIn ("could NOT", log)
        self.assertIn ("dead letters %d" % total, log)
        out = self.run_ok (store, "--dead-letters", "purge", "--event", "signalSent")
        self.assertIn ("purged %d dead letters" % (total - total // 3), out)
        self.assertEqual (dead_count (store), total // 3)

    def test_errors (self):
        """Each wrong command: a clear line naming what is wrong and where,
        and a non-zero exit, before anything is touched."""
        spool = os.path.join (self.tmp, "spool.db")
        self.make_dead (["--spool", spool], EVENTS [:1])
        dead = os.path.join (self.tmp, "dead.jsonl")
        with open (dead, "wb") as f:
            f.write (b'{"id":"evt_0123456789abcdef0123456789abcdef","event":"sessionCreated",'
                     b'"key":null,"attempts":1,"last_error":"","failed_at":1,'
                     b'"body":{"event":"sessionCreated","timestamp":1}}\n[1,2]\n')
        exists = os.path.join (self.tmp, "exists.jsonl")
        with open (exists, "wb") as f:
            f.write (b"keep me\n")
        text = os.path.join (self.tmp, "text.txt")
        with open (text, "wb") as f:
            f.write (b"hello, not SQLite\n" * 10)
        missing = os.path.join (self.tmp, "missing.db")
        S, F = ["--spool", spool], ["--dead-letter", dead]
        cases = [
            (S + ["--dead-letters"], 2, "--dead-letters needs a command: the commands are "
             "list, show ID, export FILE and purge"),
            (S + ["--dead-letters", "frob"], 2, "--dead-letters 'frob': unknown command; "
             "the commands are list, show ID, export FILE and purge"),
            (S + ["--dead-letters", "show"], 2, "--dead-letters show needs the ID of a dead "
             "letter (the number list shows, or its webhook id)"),
            (["--dead-letters", "show", "--spool", spool], 2, "--dead-letters show needs the ID"),
            (S + ["--dead-letters", "show", "999"], 1, "spool %s: no dead letter with id 999 "
             "(list shows their ids)" % spool),
            (S + ["--dead-letters", "show", "x1"], 2, "--id 'x1': not a dead letter's id"),
            (S + ["--dead-letters", "export"], 2, "--dead-letters export needs the FILE to "
             "write the dead letters to"),
            (S + ["--dead-letters", "export", exists], 1, "cannot export to %s: it exists "
             "(export never overwrites a file)" % exists),
            (["--dead-letters", "list"], 2, "--dead-letters needs the store of the dead "
             "letters: --spool PATH or --dead-letter FILE (or OVHOOK_SPOOL, "
             "OVHOOK_DEAD_LETTER)"),
            (["--spool", missing, "--dead-letters", "list"], 1, "spool %s: does not exist"
             % missing),
            (["--spool", text, "--dead-letters", "purge"], 1, "spool %s: not an ovhook spool "
             "(not an SQLite database)" % text),
            (["--dead-letter", missing, "--dead-letters", "list"], 1, "dead-letter file %s: "
             "does not exist" % missing),
            (F + ["--dead-letters", "list"], 1, "dead-letter file %s line 2: not a JSON "
             "object: left out" % dead),
            (S + ["--dead-letters", "list", "--event", "sessionCreate"], 2,
             "--event 'sessionCreate': not an event type; the types are: sessionCreated,"),
            (S + ["--dead-letters", "list", "--since", "yesterday"], 2,
             "--since 'yesterday': not a time: give an ISO-8601 time"),
            (S + ["--dead-letters", "list", "--session"], 2, "--session needs a value"),
            (["--dead-letters", "list", "--session", "--spool", spool], 2,
             "--session needs a value"),
            (S + ["--dead-letters", "show", "1", "--event", "signalSent"], 2,
             "--event: --dead-letters show takes an ID, not filters"),
            (S + ["--dead-letters", "purge", "--json"], 2,
             "--json goes with --dead-letters list or show"),
            (S + ["--event", "sessionCreated"], 2, "--event, --session, --since, --until and "
             "--id select dead letters: use them with --dead-letters or --redeliver"),
            (S + ["--dead-letters", "list", "--dead-letters", "purge"], 2,
             "--dead-letters: given twice"),
        ]
        for args, want_code, want in cases:
            code, out, err = ovhtest.run_program ("ovhook-bridge", args)
            self.assertEqual (code, want_code, (args, out, err))
            self.assertIn ("ovhook-bridge: " + want, err, args)
        #   Nothing was touched
        self.assertEqual (delivery.read_bytes (exists), b"keep me\n")
        self.assertEqual (len (dead_letters (["--spool", spool])), 1)
        self.assertFalse (os.path.exists (missing))


if __name__ == "__main__":
    ovhtest.main ()
