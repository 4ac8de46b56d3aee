"""Retries: 408, 429, 5xx and transport errors (refused, timeout) are retried
with exponential backoff (Retry-After honoured on 429/503, bounded by twice
--retry-max); other statuses are final at once; --retries 0 is OpenVidu's
one attempt and one line. Proven by what the receiver saw (attempts per
webhook-id, their times) and by the E: lines (attempt N/M, retry in ...,
giving up). Per-session order holds across retries without holding a
worker; the circuit breaker pauses deliveries and probes one at a time."""

import email.utils
import json
import os
import re
import sys
import threading
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery

RETRY_TAIL = re.compile (r"attempt (\d+)/(\d+); retry in ([0-9.]+) ?(ms|s)\)")
FINAL_TAIL = re.compile (r"attempt (\d+)/(\d+); (?:giving up|final status)\b[^)]*\)")


def seconds (value, unit):
    return float (value) / (1000 if unit == "ms" else 1)


def event (session, n=0, topic="sessionCreated"):
    return topic, {"timestamp": 1700000000000 + n, "sessionId": session}


class RetryTest (ovhtest.BridgeTestCase):

    def start (self, plan, args=(), **env):
        attempts = delivery.Attempts (plan)
        receiver, bridge, xpub = self.bridge_setup (attempts, args=list (args), **env)
        return receiver, bridge, delivery.SeqPublisher (xpub, "retry-test/%d" % os.getpid ())

    def lines_of (self, log, msg_id):
        return delivery.error_lines (log, r"\bid %s\b" % msg_id)

    def arrivals (self, receiver, msg_id):
        return [r for r in receiver.requests if r.header ("webhook-id") == [msg_id]]

    def gaps (self, requests):
        return [b.time - a.time for a, b in zip (requests, requests [1:])]

    def test_statuses_retried_or_final (self):
        plans = {                       #   session: statuses of attempts 1, 2... then 200
            "ses_503": [503, 503], "ses_500": [500, 500], "ses_408": [408], "ses_502": [502],
            "ses_exhaust": [500] * 10, "ses_404": [404], "ses_400": [400], "ses_410": [410],
            "ses_302": [302], "ses_201": [201]}
        def plan (body, attempt, request):
            statuses = plans.get (body ["sessionId"], [])
            return statuses [attempt - 1] if attempt <= len (statuses) else 200
        dead = os.path.join (self.tmp, "dead.jsonl")
        receiver, bridge, publisher = self.start (
            plan, delivery.FAST_RETRY + ["--retries", "3", "--dead-letter", dead])
        url = receiver.url ()
        ids = {session: publisher.send (*event (session)) for session in sorted (plans)}
        ids ["ses_ok"] = publisher.send (*event ("ses_ok"))
        expected_attempts = {"ses_503": 3, "ses_500": 3, "ses_408": 2, "ses_502": 2,
                             "ses_exhaust": 4, "ses_ok": 1,
                             "ses_404": 1, "ses_400": 1, "ses_410": 1, "ses_302": 1, "ses_201": 1}
        receiver.wait_for (sum (expected_attempts.values ()), log=bridge.show)
        bridge.wait_log (r"E: .*key ses_exhaust, id \S+, attempt 4/4; giving up",
                         what="ses_exhaust giving up")
        time.sleep (1.0)                #   any further attempt would come within 400 ms
        log = bridge.log ()
        dead_sessions = {"ses_exhaust", "ses_404", "ses_400", "ses_410", "ses_302", "ses_201"}
        for session, count in expected_attempts.items ():
            seen = self.arrivals (receiver, ids [session])
            self.assertEqual (len (seen), count, "%s: %d attempts\n%s" % (session, len (seen), log))
            self.assertEqual (len ({r.body for r in seen}), 1)
            #   One E: line per failed attempt
            lines = self.lines_of (log, ids [session])
            failed = count if session in dead_sessions else count - 1
            self.assertEqual (len (lines), failed, "%s: E: lines %r" % (session, lines))
            for n, line in enumerate (lines, 1):
                self.assertIn ("callback endpoint %s" % url, line)
                self.assertIn ("(event sessionCreated, key %s, id %s, " % (session, ids [session]),
                               line)
                if session in dead_sessions and n == len (lines):
                    m = FINAL_TAIL.search (line)
                    self.assertTrue (m, "%s: no 'giving up'/'final status' tail: %s" % (
                        session, line))
                    self.assertEqual (m.group (1, 2), (str (n), "4"))
                else:
                    m = RETRY_TAIL.search (line)
                    self.assertTrue (m, "%s: no 'retry in' tail: %s" % (session, line))
                    self.assertEqual (m.group (1, 2), (str (n), "4"))
                    #   Jitter 0: 50 ms, 100 ms, 200 ms
                    self.assertAlmostEqual (seconds (*m.group (3, 4)), 0.05 * 2 ** (n - 1),
                                            delta=0.06, msg=line)
        #   The backoff doubles (jitter 0): the gaps between attempts show it
        gaps = self.gaps (self.arrivals (receiver, ids ["ses_exhaust"]))
        for gap, delay in zip (gaps, (0.05, 0.1, 0.2)):
            self.assertGreaterEqual (gap, delay * 0.9, gaps)
            self.assertLess (gap, delay + 0.4, gaps)
        self.assertGreater (gaps [2], gaps [0] * 2, gaps)
        self.assertRegex (self.lines_of (log, ids ["ses_404"]) [0],
                          r"expected 200, received 404 \(event sessionCreated, key ses_404")
        #   The dead letters: the final failures and the exhausted event
        with open (dead) as f:
            buried = sorted (json.loads (line) ["key"] for line in f)
        self.assertEqual (buried, ["ses_201", "ses_302", "ses_400", "ses_404", "ses_410",
                                   "ses_exhaust"])
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)

    def test_retry_after (self):
        date = {}
        def plan (body, attempt, request):
            if attempt > 1:
                return 200
            session = body ["sessionId"]
            if session == "ses_429":
                return 429, 0, [("Retry-After", "1")]
            if session == "ses_date":
                date ["sent"] = time.time ()
                return 503, 0, [("Retry-After", email.utils.formatdate (time.time () + 2,
                                                                         usegmt=True))]
            if session == "ses_cap":
                return 503, 0, [("Retry-After", "30")]
            if session == "ses_500":
                return 500, 0, [("Retry-After", "1")]   #   only 429/503 honour it
            return 200
        receiver, bridge, publisher = self.start (
            plan, ["--retry-initial", "50ms", "--retry-max", "1s", "--retry-jitter", "0",
                   "--retries", "3"])
        ids = {s: publisher.send (*event (s)) for s in ("ses_429", "ses_date", "ses_cap", "ses_500")}
        receiver.wait_for (8, timeout=10, log=bridge.show)
        time.sleep (0.3)
        log = bridge.log ()
        gap = {}
        for session, msg_id in ids.items ():
            seen = self.arrivals (receiver, msg_id)
            self.assertEqual (len (seen), 2, "%s: %r\n%s" % (session, seen, log))
            gap [session] = seen [1].time - seen [0].time
        self.assertGreaterEqual (gap ["ses_429"], 0.95, gap)
        self.assertLess (gap ["ses_429"], 1.6, gap)
        self.assertGreaterEqual (gap ["ses_date"], 0.9, gap)
        self.assertLess (gap ["ses_date"], 2.6, gap)
        #   Retry-After: 30 bounded by 2 x --retry-max = 2 s
        self.assertGreaterEqual (gap ["ses_cap"], 1.9, gap)
        self.assertLess (gap ["ses_cap"], 2.8, gap)
        self.assertLess (gap ["ses_500"], 0.5, gap)
        (line,) = self.lines_of (log, ids ["ses_429"])
        self.assertRegex (line, r"received 429 .*attempt 1/4; retry in ")
        self.assertAlmostEqual (seconds (*RETRY_TAIL.search (line).group (3, 4)), 1.0, delta=0.15)
        (line,) = self.lines_of (log, ids ["ses_cap"])
        self.assertAlmostEqual (seconds (*RETRY_TAIL.search (line).group (3, 4)), 2.0, delta=0.15)

    def test_huge_retry_after_clamped (self):
        #   Retry-After values whose milliseconds overflow 64 bits, and a date
        #   thousands of years ahead: each waits the cap (2 x --retry-max),
        #   never a negative delay (an immediate retry storm)
        asked = {"ses_big": "99999999999999999", "ses_wrap": "9223372036854776",
                 "ses_huge": "99999999999999999999999", "ses_far": "Fri, 31 Dec 9999 23:59:59 GMT"}
        def plan (body, attempt, request):
            if attempt > 1 or body ["sessionId"] not in asked:
                return 200
            return 503, 0, [("Retry-After", asked [body ["sessionId"]])]
        receiver, bridge, publisher = self.start (
            plan, ["--retry-initial", "50ms", "--retry-max", "1s", "--retry-jitter", "0",
                   "--retries", "3"])
        ids = {s: publisher.send (*event (s)) for s in sorted (asked)}
        receiver.wait_for (2 * len (asked), timeout=10, log=bridge.show)
        time.sleep (0.5)
        log = bridge.log ()
        for session, msg_id in ids.items ():
            seen = self.arrivals (receiver, msg_id)
            self.assertEqual (len (seen), 2, "%s: %r\n%s" % (session, seen, log))
            gap = seen [1].time - seen [0].time
            self.assertGreaterEqual (gap, 1.9, "%s retried after %.3f s\n%s" % (session, gap, log))
            self.assertLess (gap, 2.8, session)
            (line,) = self.lines_of (log, msg_id)
            self.assertRegex (line, r"received 503 .*attempt 1/4; retry in 2\.0 s\)$")
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)

    def test_invalid_retry_after_ignored (self):
        #   What libcurl would read as a number (3, 1, 2) is no Retry-After:
        #   the backoff applies (50 ms, not 2 s), and one line says so
        asked = {"ses_abc": "3abc", "ses_exp": "1e9", "ses_dot": "2.5",
                 "ses_date": "Tue, 31 Feb 2023 10:00:00 GMT"}
        def plan (body, attempt, request):
            if attempt > 1 or body ["sessionId"] not in asked:
                return 200
            return 503, 0, [("Retry-After", asked [body ["sessionId"]])]
        receiver, bridge, publisher = self.start (
            plan, ["--retry-initial", "50ms", "--retry-max", "1s", "--retry-jitter", "0",
                   "--retries", "3"])
        ids = {s: publisher.send (*event (s)) for s in sorted (asked)}
        receiver.wait_for (2 * len (asked), timeout=10, log=bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        for session, msg_id in ids.items ():
            seen = self.arrivals (receiver, msg_id)
            self.assertEqual (len (seen), 2, "%s: %r\n%s" % (session, seen, log))
            self.assertLess (seen [1].time - seen [0].time, 0.5, session)
        lines = [l for l in log.splitlines () if "invalid Retry-After" in l]
        self.assertEqual (len (lines), 1, log)
        self.assertRegex (lines [0], r"^W: .*ignored an invalid Retry-After '(3abc|1e9|2\.5|Tue, 31 "
                                     r"Feb 2023 10:00:00 GMT)' from the endpoint \(neither "
                                     r"delay-seconds nor an HTTP-date\), the backoff applies; "
                                     r"logged at most every 10 minutes$")

    def test_hanging_receiver_times_out (self):
        def plan (body, attempt, request):
            return (200, 5) if body ["sessionId"] == "ses_hang" and attempt == 1 else 200
        receiver, bridge, publisher = self.start (
            plan, delivery.FAST_RETRY + ["--request-timeout", "300ms"])
        hang = publisher.send (*event ("ses_hang"))
        later = publisher.send (*event ("ses_hang", 1, "participantJoined"))
        free = publisher.send (*event ("ses_free"))
        receiver.wait_for (4, log=bridge.show)
        time.sleep (0.3)
        attempts = self.arrivals (receiver, hang)
        self.assertEqual (len (attempts), 2, receiver.requests)
        self.assertGreaterEqual (attempts [1].time - attempts [0].time, 0.3)
        self.assertLess (attempts [1].time - attempts [0].time, 1.5)
        #   ses_free did not wait; ses_hang's next event did
        self.assertLess (self.arrivals (receiver, free) [0].time, attempts [1].time)
        self.assertGreater (self.arrivals (receiver, later) [0].time, attempts [1].time)
        (line,) = self.lines_of (bridge.log (), hang)
        self.assertRegex (line, r"Error sending to callback endpoint %s: .*(?i:time)" %
                          re.escape (receiver.url ()))
        self.assertRegex (line, r"\(event sessionCreated, key ses_hang, id %s, attempt 1/8; "
                                r"retry in " % hang)

    def test_refused_until_listening (self):
        hold = delivery.PortHold ()
        self.addCleanup (hold.release)
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (hold.url (), bind),
                                    delivery.FAST_RETRY + ["--retries", "100",
                                                           "--breaker-threshold", "0"])
        publisher = delivery.SeqPublisher (self.publisher (connect, ovhtest.DEFAULT_EVENTS))
        first = publisher.send (*event ("ses_r1"))
        other = publisher.send (*event ("ses_r2"))
        second = publisher.send (*event ("ses_r1", 1, "sessionDestroyed"))
        bridge.wait_log (r"E: .*id %s, attempt 4/101; retry in" % other, what="4th refusal")
        log = bridge.log ()
        lines = self.lines_of (log, first)
        self.assertGreaterEqual (len (lines), 4)
        self.assertRegex (lines [0], r"Error sending to callback endpoint %s: .*(?i:connect)"
                          % re.escape (hold.url ()))
        #   ses_r1's second event waits behind the first: never attempted yet
        self.assertEqual (self.lines_of (log, second), [])
        receiver = self.receiver (port=hold.port)
        hold.release ()
        receiver.wait_for (3, log=bridge.show)
        time.sleep (0.5)
        got = [r.header ("webhook-id") [0] for r in receiver.requests]
        self.assertEqual (sorted (got), sorted ([first, other, second]), "refused attempts "
                          "never reached the receiver: each id exactly once")
        self.assertLess (got.index (first), got.index (second))
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)

    def test_retries_zero_is_openvidu (self):
        def plan (body, attempt, request):
            return {"ses_500": 500, "ses_404": 404,
                    "ses_503": (503, 0, [("Retry-After", "1")])}.get (body ["sessionId"], 200)
        receiver, bridge, publisher = self.start (plan, delivery.FAST_RETRY + ["--retries", "0"])
        ids = {s: publisher.send (*event (s)) for s in ("ses_500", "ses_404", "ses_503", "ses_ok")}
        receiver.wait_for (4, log=bridge.show)
        time.sleep (1.5)
        self.assertEqual (len (receiver.requests), 4, receiver.requests)
        log = bridge.log ()
        self.assertEqual (len (delivery.error_lines (log)), 3, log)
        for session, code in (("ses_500", 500), ("ses_404", 404), ("ses_503", 503)):
            (line,) = self.lines_of (log, ids [session])
            #   OpenVidu's line plus the id; no attempt count, no retry (a
            #   note of the event's fate may follow)
            self.assertRegex (line, r"Unexpected HTTP status from callback endpoint %s: expected "
                              r"200, received %d \(event sessionCreated, key %s, id %s\)(; .*)?$" % (
                                  re.escape (receiver.url ()), code, session, ids [session]))
            self.assertNotRegex (line, r"attempt|retry")
        #   A refused connection: one attempt, one line
        hold = delivery.PortHold ()
        self.addCleanup (hold.release)
        bind, connect = self.bus ()
        refused = self.start_bridge (self.webhook_env (hold.url (), bind),
                                     delivery.FAST_RETRY + ["--retries", "0"])
        publisher = delivery.SeqPublisher (self.publisher (connect, ovhtest.DEFAULT_EVENTS), "r0")
        msg_id = publisher.send (*event ("ses_refused"))
        refused.wait_log (r"E: .*Error sending")
        time.sleep (1.0)
        log = refused.log ()
        self.assertEqual (len (delivery.error_lines (log)), 1, log)
        self.assertRegex (delivery.error_lines (log) [0],
                          r"\(event sessionCreated, key ses_refused, id %s\)(; .*)?$" % msg_id)
        self.assertNotRegex (delivery.error_lines (log) [0], r"attempt|retry")

    def test_session_order_across_retries (self):
        """A's first event fails twice; A's later events arrive only after it
        succeeds, B's flow meanwhile, with a single worker (so the backoff
        holds no worker)."""
        def plan (body, attempt, request):
            return 500 if body ["sessionId"] == "ses_A" and body ["timestamp"] == 0 and (
                attempt <= 2) else 200
        receiver, bridge, publisher = self.start (
            plan, ["--workers", "1", "--retry-initial", "300ms", "--retry-max", "1s",
                   "--retry-jitter", "0"])
        a_ids, b_ids = [], []
        for n in range (10):
            if n < 5:
                a_ids.append (publisher.send ("participantJoined", {
                    "timestamp": n, "sessionId": "ses_A", "connectionId": "con_A%d" % n}))
            b_ids.append (publisher.send ("participantJoined", {
                "timestamp": n, "sessionId": "ses_B", "connectionId": "con_B%d" % n}))
        receiver.wait_for (17, log=bridge.show)
        time.sleep (0.3)
        requests = receiver.requests
        self.assertEqual (len (requests), 17, requests)
        first = self.arrivals (receiver, a_ids [0])
        self.assertEqual (len (first), 3)
        success = first [2].time
        b_times = [self.arrivals (receiver, i) [0].time for i in b_ids]
        a_times = [self.arrivals (receiver, i) [0].time for i in a_ids [1:]]
        self.assertEqual (b_times, sorted (b_times), "B out of order")
        self.assertLess (max (b_times), first [1].time, "B waited for A's backoff")
        self.assertGreater (min (a_times), success, "A's later events passed its first")
        self.assertEqual (a_times, sorted (a_times), "A out of order")
        self.assertEqual ([len (self.arrivals (receiver, i)) for i in a_ids [1:] + b_ids], [1] * 14)

    def test_circuit_breaker (self):
        state = {"up": False}
        delivered = set ()
        lock = threading.Lock ()
        def plan (body, attempt, request):
            if not state ["up"]:
                return 503, 0.2
            with lock:
                delivered.add (request.header ("webhook-id") [0])
            return 200
        receiver, bridge, publisher = self.start (
            plan, ["--breaker-threshold", "5", "--retries", "100", "--retry-initial", "1s",
                   "--retry-max", "4s", "--retry-jitter", "0"])
        ids = [publisher.send (*event ("ses_%d" % n)) for n in range (8)]
        bridge.wait_log (r"W: .*circuit open after 5 consecutive failures: pausing deliveries",
                         what="circuit open")
        opened = time.monotonic ()
        before = len (receiver.requests)
        self.assertGreaterEqual (before, 5)
        #   Then one probe at a time, 1 s, 2 s, 4 s apart
        ovhtest.wait_until (lambda: len (receiver.requests) >= before + 3, 15,
                            "3 probes after the circuit opened", bridge.show)
        probes = receiver.requests [before:]
        self.assertEqual (len (probes), 3, "more than 3 probes within %.1f s: %r" % (
            time.monotonic () - opened, probes))
        for probe in probes:
            self.assertGreaterEqual (probe.time, max (r.answered or 0 for r in
                                                      receiver.requests [:probe.index]),
                                     "a probe went out while another request was in flight")
        times = [opened] + [p.time for p in probes]
        intervals = [b - a for a, b in zip (times, times [1:])]
        print ("\ncircuit breaker: %d requests before it opened, then probes %s s apart" % (
            before, ", ".join ("%.2f" % i for i in intervals)))
        #   1 s, 2 s, 4 s (= --retry-max); measured arrival to arrival, the
        #   0.2 s answers included. The requests in flight when the circuit
        #   opened are not probes: their failures must not stretch the gaps
        for interval, nominal in zip (intervals, (1, 2, 4)):
            self.assertTrue (nominal * 0.8 <= interval <= nominal + 0.7,
                             "probe intervals %s, expected ~1, 2, 4 s" % (
                                 ["%.2f" % i for i in intervals]))
        #   The endpoint recovers: the next probe closes the circuit, all arrive
        state ["up"] = True
        bridge.wait_log (r"I: .*circuit closed: the endpoint answered, deliveries resume",
                         timeout=8, what="circuit closed")
        ovhtest.wait_until (lambda: delivered >= set (ids), 8, "every event delivered",
                            bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertEqual (len (re.findall (r"circuit open after", log)), 1, log)


if __name__ == "__main__":
    ovhtest.main ()
