"""The sender's bookkeeping of transfers and sockets (free list, poll set
kept up to date by curl's socket callback, each socket's place stored with
curl): with --workers 1024 and a slow receiver, far more than 32 requests
are in flight at once and every event arrives once, in order per session;
with a receiver that closes some connections after answering, curl closes
and reopens sockets all the time (the poll set shrinks and grows, live
sockets move within it, fd numbers come back) and every event still
arrives once, in order. Past 64 workers the transfers are split over
several curl multi handles (shards): all of them run at once, one poll set
and one timeout serve them all, and a new transfer goes to the shard whose
connection just came free, so that sharding opens no extra connections.
Idle connections the endpoint closes leave the epoll set at their first
event, without a busy loop. Against an endpoint that answers one request
after another, 1,024 workers are brought down to 32 in flight (the
limiter, docs/delivery.md), and not against one that answers in
parallel."""

import collections
import os
import re
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery


class Arrival:
    """A request as delivery's order and duplicate checks read it."""

    def __init__ (self, request):
        self.id = request.header ("webhook-id") [0]


class WorkersTest (ovhtest.BridgeTestCase):

    def run_load (self, responder, events, sessions, args, timeout):
        receiver = self.receiver (responder)
        #   Room for every worker's connection at once: no SYN dropped
        receiver._server.socket.listen (2048)
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (receiver.url (), bind), args)
        src = "workers-test/%d" % os.getpid ()
        lines = delivery.bulk_lines (events, sessions)
        epoch = delivery.new_epoch ()
        expected = delivery.expected_ids (lines, src, epoch)
        keys = ["ses_%04d" % (i % sessions) for i in range (events)]
        code, out, err = ovhtest.test_publish (">" + connect, lines,
                                               ["--src", src, "--epoch", str (epoch)], timeout=60)
        self.assertEqual (code, 0, err)
        receiver.wait_for (events, timeout=timeout, log=bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log [-3000:])
        seen = [Arrival (r) for r in receiver.requests]
        extra, twice = delivery.duplicates (seen)
        self.assertEqual (extra, 0, "ids delivered twice: %r" % list (twice) [:5])
        self.assertEqual ({hit.id for hit in seen}, set (expected))
        self.assertEqual (delivery.order_violations (seen, list (zip (expected, keys))), [])
        self.assertEqual (delivery.error_lines (log), [])
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"]), (events, events))
        return receiver

    def test_1024_workers_slow_receiver (self):
        #   Each answer takes 0.5 s: only many transfers at once deliver
        #   4,096 events within the time
        receiver = self.run_load (lambda request: (200, 0.5), 4096, 2048,
                                  ["--workers", "1024", "--request-timeout", "20s"], 40)
        print ("\n1024 workers: max in flight %d, %d connections"
               % (receiver.max_in_flight, receiver.connections))
        self.assertGreaterEqual (receiver.max_in_flight, 512)

    def test_200_workers_all_in_flight (self):
        #   Answers held 1 s: every one of the 200 workers (four shards)
        #   gets a request in flight at once, over no more connections
        #   (the receiver may count an answered request a moment longer)
        receiver = self.run_load (lambda request: (200, 1.0), 800, 400,
                                  ["--workers", "200", "--request-timeout", "20s"], 40)
        print ("\n200 workers: max in flight %d, %d connections"
               % (receiver.max_in_flight, receiver.connections))
        self.assertGreaterEqual (receiver.max_in_flight, 200)
        self.assertLessEqual (receiver.connections, 200)

    def test_few_sessions_reuse_connections (self):
        #   Four sessions: at most four requests at a time, whatever the
        #   256 workers (four shards). Each new request must go where a
        #   connection just came free, not open one in another shard
        events = 2000
        receiver = self.run_load (None, events, 4, ["--workers", "256"], 60)
        print ("\n256 workers, 4 sessions: max in flight %d, %d connections"
               % (receiver.max_in_flight, receiver.connections))
        self.assertLessEqual (receiver.connections, 4)

    def test_lone_event_in_a_later_shard (self):
        #   One timeout serves every shard. With 100 workers (two shards of
        #   50), events 0-49 start first and fill the first shard, where
        #   the receiver holds them; 50-59 go to the second and are
        #   answered, so the second is where the next event goes. That
        #   event starts on a timer of the second shard only: it must
        #   arrive at once, not when the first shard has something to do
        hold = 4.0 * ovhtest.SLOW
        def responder (request):
            index = int (request.json () ["connectionId"].split ("_") [1])
            return (200, hold) if index < 50 else 200
        receiver, bridge, publisher = self.bridge_setup (
            responder, args=["--workers", "100", "--request-timeout", "30s"])
        lines = delivery.bulk_lines (61, 61)
        for line in lines [:60]:
            publisher.send_line (line)
        receiver.wait_for (60, timeout=10, log=bridge.show)
        ovhtest.wait_until (lambda: receiver.in_flight == 50, 5, "the unheld answers",
                            lambda: "in flight: %d" % receiver.in_flight)
        time.sleep (0.2)
        sent = time.monotonic ()
        publisher.send_line (lines [60])
        last = receiver.wait_for (61, timeout=10, log=bridge.show) [60]
        print ("\nlone event after %.3f s" % (last.time - sent))
        self.assertEqual (last.json () ["connectionId"], "con_60")
        self.assertLess (last.time - sent, hold / 2)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log [-3000:])

    def test_1024_workers_limited_at_a_queueing_endpoint (self):
        #   One thread answers at once, one request after another: 1,024
        #   requests in flight wait in its queue and answer no sooner than
        #   a few dozen. The limiter brings those in flight down towards
        #   32 (the slow receiver above, answering in parallel, keeps 512
        #   and more)
        receiver = delivery.FastReceiver ()
        self.addCleanup (receiver.stop)
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (receiver.url (), bind),
                                    ["--workers", "1024"])
        events = 30000
        lines = delivery.bulk_lines (events, 2000)
        code, out, err = ovhtest.test_publish (">" + connect, lines, timeout=60)
        self.assertEqual (code, 0, err)
        ovhtest.wait_until (lambda: receiver.count () >= events, 120 * ovhtest.SLOW,
                            "%d requests" % events, bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log [-3000:])
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"]), (events, events))
        found = re.search (r"requests in flight were limited to as few as (\d+) of 1024 workers",
                           log)
        self.assertTrue (found, log [-3000:])
        print ("\n1024 workers, queueing endpoint: limited to as few as %s" % found.group (1))
        self.assertLessEqual (int (found.group (1)), 100)

    def test_32_workers_full_speed_connections (self):
        #   One shard, as before sharding: no more connections than workers
        events = 4000
        receiver = self.run_load (None, events, 400, ["--workers", "32"], 60)
        print ("\n32 workers: max in flight %d, %d connections"
               % (receiver.max_in_flight, receiver.connections))
        self.assertLessEqual (receiver.connections, 32)

    def test_connections_closed_and_reopened (self):
        #   Every other answer closes its connection: sockets come and go
        #   while others stay open and move within the poll set
        def responder (request):
            if request.index % 2:
                return 200, 0.002, [("Connection", "close")]
            return 200, 0.002
        events = 4000
        receiver = self.run_load (responder, events, 400, ["--workers", "64"], 60)
        print ("\nclosing receiver: %d events over %d connections"
               % (events, receiver.connections))
        self.assertGreaterEqual (receiver.connections, events // 2)

    def test_idle_connections_closed_by_the_endpoint (self):
        #   A socket curl stops watching between transfers stays in the
        #   dispatcher's epoll set ("parked"). When the endpoint closes the
        #   idle connection, its first event must take it out: a parked
        #   socket left in a level-triggered set would wake the loop at
        #   every wait (a busy loop). The next events go over new ones.
        idle = 0.3
        saved = ovhtest._Handler.timeout
        ovhtest._Handler.timeout = idle     #   the receiver ends idle connections
        self.addCleanup (setattr, ovhtest._Handler, "timeout", saved)
        receiver, bridge, publisher = self.bridge_setup (args=["--workers", "8"])
        lines = delivery.bulk_lines (80, 8)
        for line in lines [:40]:
            publisher.send_line (line)
        receiver.wait_for (40, timeout=10, log=bridge.show)
        ovhtest.wait_until (lambda: not receiver._connections, 5 * ovhtest.SLOW,
                            "the receiver closing its idle connections")
        time.sleep (0.2)
        ticks = lambda: sum (int (field) for field in
                             open ("/proc/%d/stat" % bridge.process.pid).read ()
                             .rsplit (")", 1) [1].split () [11:13])
        before = ticks ()
        time.sleep (2.0)
        spent = (ticks () - before) / os.sysconf ("SC_CLK_TCK")
        print ("\nidle bridge with closed connections: %.2f s of CPU in 2 s" % spent)
        #   A busy loop spends the whole 2 s; idle, a few ms (0.5 s allows
        #   for valgrind, under which nothing is ever fully idle)
        self.assertLess (spent, 0.5)
        connections = receiver.connections
        for line in lines [40:]:
            publisher.send_line (line)
        receiver.wait_for (80, timeout=10, log=bridge.show)
        self.assertGreater (receiver.connections, connections)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log [-3000:])
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"]), (80, 80))
        self.assertEqual (delivery.error_lines (log), [])


if __name__ == "__main__":
    ovhtest.main ()
