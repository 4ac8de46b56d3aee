"""systemd notifications: with NOTIFY_SOCKET (a datagram socket of this
test standing in for systemd) and WATCHDOG_USEC, the bridge and the proxy
send READY=1 once their bus ports accept connections, STATUS= lines with
their counters, WATCHDOG=1 at half the interval, STOPPING=1 on SIGTERM."""

import os
import socket
import sys
import threading
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest


class FakeSystemd:
    """An AF_UNIX datagram socket that records (time, message, ports open)
    for each datagram; 'ports' are probed as each READY=1 arrives."""

    def __init__ (self, folder, ports):
        self.path = os.path.join (folder, "notify")
        self.socket = socket.socket (socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind (self.path)
        self.socket.settimeout (0.1)
        self.ports = ports
        self.messages = []
        self.running = True
        self.thread = threading.Thread (target=self._run, daemon=True)
        self.thread.start ()

    def _open (self, port):
        try:
            with socket.create_connection (("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    def _run (self):
        while self.running:
            try:
                data = self.socket.recv (4096).decode ()
            except socket.timeout:
                continue
            probed = [self._open (p) for p in self.ports] if "READY=1" in data else None
            self.messages.append ((time.monotonic (), data, probed))

    def with_prefix (self, prefix):
        return [(t, m, p) for t, m, p in list (self.messages)
                if any (line.startswith (prefix) for line in m.split ("\n"))]

    def stop (self):
        self.running = False
        self.thread.join ()
        self.socket.close ()


class NotifyTest (ovhtest.BridgeTestCase):

    def systemd (self, ports):
        manager = FakeSystemd (self.tmp, ports)
        self.addCleanup (manager.stop)
        return manager

    def check_lifecycle (self, manager, process, status_words):
        ready = ovhtest.wait_until (lambda: manager.with_prefix ("READY=1"), 15, "READY=1",
                                    process.show)
        self.assertEqual (len (ready), 1, manager.messages)
        self.assertTrue (all (ready [0] [2]), "READY=1 before the ports accept: %r" % (ready,))
        #   WatchdogSec=200ms: a ping every 100 ms
        time.sleep (1)
        since = ready [0] [0]
        pings = [t for t, m, p in manager.with_prefix ("WATCHDOG=1") if t > since]
        self.assertGreaterEqual (len (pings), 5, manager.messages)
        self.assertLess (max (b - a for a, b in zip ([since] + pings, pings)), 0.2 * ovhtest.SLOW)
        statuses = [m for t, m, p in manager.with_prefix ("STATUS=") if "READY" not in m]
        self.assertTrue (statuses, manager.messages)
        for word in status_words:
            self.assertIn (word, statuses [-1])
        self.assertEqual (manager.with_prefix ("STOPPING=1"), [])
        code, log = process.stop ()
        self.assertEqual (code, 0, log)
        stopping = manager.with_prefix ("STOPPING=1")
        self.assertEqual (len (stopping), 1, manager.messages)
        return statuses

    def test_bridge (self):
        receiver = self.receiver ()
        bind, connect = self.bus ()
        port = int (bind.rsplit (":", 1) [1])
        manager = self.systemd ([port])
        env = self.webhook_env (receiver.url ("/hook"), bind, NOTIFY_SOCKET=manager.path,
                                WATCHDOG_USEC="200000")
        bridge = self.start_bridge (env, ["--stats-interval", "200ms"], ready=False)
        ovhtest.wait_until (lambda: manager.with_prefix ("READY=1"), 15, "READY=1", bridge.show)
        publisher = self.publisher (connect, ["sessionCreated"])
        publisher.send ("sessionCreated", {"timestamp": 1, "sessionId": "ses_notify"})
        receiver.wait_for (1, log=bridge.show)
        statuses = self.check_lifecycle (manager, bridge, [])
        self.assertIn ("STATUS=received 1, delivered 1, queued 0, dead letters 0, failed 0",
                       statuses [-1])
        self.assertIn ("READY=1\nSTATUS=reading %s" % bind,
                       manager.with_prefix ("READY=1") [0] [1])

    def test_bridge_outside_systemd (self):
        #   No NOTIFY_SOCKET: nothing sent, nothing to wait for
        receiver, bridge, publisher = self.bridge_setup ()
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)

    def test_proxy (self):
        front, back = ovhtest.free_port (), ovhtest.free_port ()
        manager = self.systemd ([front, back])
        proxy = ovhtest.ToolProcess (self.tmp, "ovhook-proxy", [
            "--frontend", "@tcp://127.0.0.1:%d" % front, "--backend", "@tcp://127.0.0.1:%d" % back,
            "--stats-interval", "200ms"], name="proxy")
        proxy.env.update (NOTIFY_SOCKET=manager.path, WATCHDOG_USEC="200000")
        self._bridges.append (proxy)
        proxy.start (ready=False)
        self.check_lifecycle (manager, proxy, ["forwarded 0 messages"])


if __name__ == "__main__":
    ovhtest.main ()
