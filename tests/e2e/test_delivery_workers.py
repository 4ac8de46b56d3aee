"""The sender's bookkeeping of transfers and sockets (free list, poll set
kept up to date by curl's socket callback, each socket's place stored with
curl): with --workers 1024 and a slow receiver, far more than 32 requests
are in flight at once and every event arrives once, in order per session;
with a receiver that closes some connections after answering, curl closes
and reopens sockets all the time (the poll set shrinks and grows, live
sockets move within it, fd numbers come back) and every event still
arrives once, in order."""

import collections
import os
import sys

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


if __name__ == "__main__":
    ovhtest.main ()
