"""test_tools_security - CURVE on the bus between the tools, every one a
separate process, with keys made by ovhook-keygen:

  curve        inject -> CURVE proxy (both sides) -> CURVE tail: the 15
               documented events byte for byte, nothing refused
  frontend     an unknown publisher key is refused at the proxy: logged with
               the key, counted in the stats, nothing delivered, and inject
               says "the server refused this program's key"
  mismatch     a plaintext inject, and one with the wrong server key, each
               told why on stderr
  backend      a tail with an unknown key is refused at the backend: counted,
               and the tail says why
  mixing       CURVE frontend, plaintext loopback backend: a plaintext tail
               gets the events
  rotation     a key added to the allow folder of a running proxy gets in; a
               removed one is refused for new connections
  spoofing     a key with src-prefix media-1/ publishing src media-2/...: the
               proxy drops it (src-not-allowed, counted), the right src passes;
               a key without src-prefix owns no src
  bound tail   a tail bound with CURVE checks src itself
  bound inject an inject bound with '@' and an allow folder
  defaults     the proxy binds 127.0.0.1 by default; a plaintext side bound to
               the network is warned of, naming the risk; --bus-insecure and
               OVHOOK_BUS_INSECURE=true silence it; CURVE needs no warning
  errors       bad key files, missing companions, mixed endpoint lists, flags
               against variables (the flag wins)

Run with Debian's /usr/bin/python3; $OVHOOK_BIN holds the binaries.
"""

import os
import re
import shutil
import signal
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

SLOW = ovhtest.SLOW
Tool = ovhtest.ToolProcess
REFUSED = re.compile (r"stopped: handshakes refused: (\d+) at the frontend, (\d+) at the "
                      r"backend; (\d+) messages? dropped at the frontend")


class SecurityTest (ovhtest.BridgeTestCase):

    # ------------------------------------------------------------ helpers

    def keygen (self, name, *args):
        """Certificate pair NAME in the test folder: (secret path, public path)"""
        path = os.path.join (self.tmp, name)
        code, out, err = ovhtest.run_program ("ovhook-keygen", list (args) + [path])
        self.assertEqual (code, 0, err)
        return path + "_secret", path

    def folder (self, name, *publics):
        """An allow folder holding copies of the public certificates"""
        path = os.path.join (self.tmp, name)
        os.makedirs (path, exist_ok=True)
        for public in publics:
            shutil.copy (public, path)
        return path

    def tool (self, program, args, ready=True, env=None):
        self.tools = getattr (self, "tools", 0) + 1
        tool = Tool (self.tmp, program, [str (a) for a in args],
                     "%s%d" % (program [7:], self.tools))
        tool.env = ovhtest.clean_env (env)
        self.addCleanup (tool.kill)
        return tool.start (ready)

    def keys (self):
        """The usual cast: a proxy, a publisher owning media-1/, a consumer"""
        self.proxy_key = self.keygen ("proxy")
        self.pub_key = self.keygen ("pub", "--src-prefix", "media-1/")
        self.tail_key = self.keygen ("tail")
        self.stranger_key = self.keygen ("stranger", "--src-prefix", "*")

    def proxy (self, args=(), env=None, front=None, back=None):
        self.front = front or ovhtest.free_port ()
        self.back = back or ovhtest.free_port ()
        return self.tool ("ovhook-proxy", ["--frontend", "@tcp://127.0.0.1:%d" % self.front,
                                           "--backend", "@tcp://127.0.0.1:%d" % self.back,
                                           "--stats-interval", "300ms"] + list (args), env=env)

    def curve_proxy (self, extra=()):
        return self.proxy (["--bus-key", self.proxy_key [0],
                            "--frontend-allow", self.folder ("front", self.pub_key [1]),
                            "--backend-allow", self.folder ("back", self.tail_key [1])]
                           + list (extra))

    def tail (self, key=None, args=(), ready=True):
        """A tail on the proxy's backend, with 'key' (a pair) or plaintext"""
        curve = ["--bus-key", key [0], "--bus-server-key", self.proxy_key [1]] if key else []
        return self.tool ("ovhook-tail", ["--bus", ">tcp://127.0.0.1:%d" % self.back,
                                          "--envelope"] + curve + list (args), ready)

    def inject (self, key=None, args=(), server=None, stdin=b"", env=None, port=None):
        """ovhook-inject to the proxy's frontend: (code, out, err)"""
        curve = []
        if key:
            curve = ["--bus-key", key [0], "--bus-server-key", server or self.proxy_key [1]]
        return ovhtest.run_program ("ovhook-inject", [
            "--bus", ">tcp://127.0.0.1:%d" % (port or self.front)] + curve + list (args),
            stdin=stdin, env=env)

    def subscribed (self, proxy, count=17):
        """Wait until the proxy passed a tail's subscriptions upstream"""
        proxy.wait_log (r"stats: forwarded \d+ messages? \(\d+ bytes\) to consumers, %d "
                        r"subscribe" % count, 10)

    def stop (self, proxy):
        code, log = proxy.stop (signal.SIGINT)
        self.assertEqual (code, 0, log)
        return [int (n) for n in REFUSED.search (log).groups ()], log

    # -------------------------------------------------------------- tests

    def test_inject_curve_proxy_tail_byte_exact (self):
        self.keys ()
        proxy = self.curve_proxy ()
        self.assertIn ("(publishers, CURVE)", proxy.ready_line)
        self.assertIn ("(consumers, CURVE)", proxy.ready_line)
        tail = self.tail (self.tail_key, ["--count", 15])
        self.assertIn ("(CURVE)", tail.ready_line)
        self.subscribed (proxy)
        lines = ovhtest.examples ()
        code, out, err = self.inject (self.pub_key, ["--json", "-", "--src", "media-1/a"],
                                      stdin=b"\n".join (lines))
        self.assertEqual (code, 0, err + proxy.show ())
        self.assertEqual (tail.wait_exit (), 0, tail.show ())
        got = [l.split ("\t") for l in tail.lines ()]
        self.assertEqual ([g [0].encode () for g in got], lines)        # byte for byte
        self.assertEqual ({g [1] for g in got}, {"media-1/a"})
        (front, back, dropped), log = self.stop (proxy)
        self.assertEqual ((front, back, dropped), (0, 0, 0), log)
        self.assertIn ("stopped: forwarded 15 messages", log)

    def test_unknown_publisher_key_refused_at_frontend (self):
        self.keys ()
        proxy = self.curve_proxy ()
        tail = self.tail (self.tail_key)
        self.subscribed (proxy)
        code, out, err = self.inject (self.stranger_key, ["--join-timeout", 500,
                                                          "sessionCreated", "sessionId=s"])
        self.assertEqual (code, 1, err)
        self.assertIn ("ovhook-inject: no subscriber on >tcp://127.0.0.1:%d within 500 ms: "
                       "the server refused this program's key: is its public certificate in "
                       "the server's --bus-allow folder?\n" % self.front, err)
        with open (self.stranger_key [1]) as f:
            public = f.read ()
        key = re.search (r'public-key = "(.{40})"', public).group (1)
        proxy.wait_log (r"refused key %s from .*127\.0\.0\.1" % re.escape (key), 5)
        (front, back, dropped), log = self.stop (proxy)
        self.assertGreaterEqual (front, 1, log)
        self.assertEqual (back, 0, log)
        self.assertIn ("stopped: forwarded 0 messages", log)
        self.assertEqual (tail.lines (), [])

    def test_plaintext_inject_and_wrong_server_key (self):
        self.keys ()
        proxy = self.curve_proxy ()
        self.tail (self.tail_key)
        self.subscribed (proxy)
        code, out, err = self.inject (None, ["--join-timeout", 500, "sessionCreated",
                                             "sessionId=s"])
        self.assertEqual (code, 1, err)
        self.assertIn ("within 500 ms: the two sides disagree on CURVE: one has --bus-key, "
                       "the other not\n", err)
        code, out, err = self.inject (self.pub_key, ["--join-timeout", 500, "sessionCreated",
                                                     "sessionId=s"], server=self.tail_key [1])
        self.assertEqual (code, 1, err)
        self.assertIn ("within 500 ms: the server closed the connection during the handshake: "
                       "--bus-server-key is not this server's key", err)
        (front, back, dropped), log = self.stop (proxy)
        self.assertGreaterEqual (front, 2, log)
        self.assertIn ("frontend: refused a peer from", log)

    def test_unknown_consumer_refused_at_backend (self):
        self.keys ()
        proxy = self.curve_proxy ()
        tail = self.tail (self.stranger_key)
        tail.wait_log (r"bus tcp://127.0.0.1:%d: the server refused this program's key"
                       % self.back, 5)
        proxy.wait_log (r"refused key", 5)
        code, log = tail.stop (signal.SIGINT)
        self.assertEqual (code, 0, log)
        self.assertIn ("ovhook-tail: no event received: the server refused this program's key",
                       log)
        (front, back, dropped), log = self.stop (proxy)
        self.assertGreaterEqual (back, 1, log)
        self.assertEqual (front, 0, log)
        self.assertIn ("0 subscribe", log)      #   nothing passed upstream

    def test_mixed_sides (self):
        self.keys ()
        proxy = self.proxy (["--bus-key", self.proxy_key [0],
                             "--frontend-allow", self.folder ("front", self.pub_key [1])])
        self.assertIn ("(publishers, CURVE), backend @tcp://127.0.0.1:%d (consumers)"
                       % self.back, proxy.ready_line)
        tail = self.tail (None, ["--count", 2])
        self.subscribed (proxy)
        code, out, err = self.inject (self.pub_key, ["--src", "media-1/x", "--count", 2,
                                                     "sessionCreated", "sessionId=s"])
        self.assertEqual (code, 0, err)
        self.assertEqual (tail.wait_exit (), 0, tail.show ())
        self.assertEqual ([l.split ("\t") [1:] for l in tail.lines ()],
                          [["media-1/x", "1"], ["media-1/x", "2"]])
        #   The plaintext side is loopback: no warning
        self.assertNotIn ("WARNING", proxy.log ())
        #   A plaintext publisher is refused at the CURVE frontend
        code, out, err = self.inject (None, ["--join-timeout", 300, "sessionCreated",
                                             "sessionId=s"])
        self.assertEqual (code, 1, err)

    def test_key_added_and_removed_without_restart (self):
        self.keys ()
        front_folder = self.folder ("front")            #   empty at first
        proxy = self.proxy (["--bus-key", self.proxy_key [0], "--frontend-allow", front_folder])
        self.assertIn ("no public certificate in %s yet" % front_folder, proxy.log ())
        tail = self.tail (None)
        self.subscribed (proxy)
        code, out, err = self.inject (self.pub_key, ["--join-timeout", 400, "--src",
                                                     "media-1/a", "sessionCreated",
                                                     "sessionId=before"])
        self.assertEqual (code, 1, err)
        self.assertIn ("the server refused this program's key", err)
        shutil.copy (self.pub_key [1], front_folder)
        code, out, err = self.inject (self.pub_key, ["--src", "media-1/a", "sessionCreated",
                                                     "sessionId=added"])
        self.assertEqual (code, 0, err + proxy.show ())
        tail.wait_lines (1)
        os.unlink (os.path.join (front_folder, "pub"))
        code, out, err = self.inject (self.pub_key, ["--join-timeout", 400, "--src",
                                                     "media-1/a", "sessionCreated",
                                                     "sessionId=removed"])
        self.assertEqual (code, 1, err)
        self.assertIn ("the server refused this program's key", err)
        time.sleep (0.3 * SLOW)
        self.assertEqual (len (tail.lines ()), 1, tail.show ())
        self.assertIn ('"sessionId":"added"', tail.lines () [0])

    def test_src_spoofing_refused_at_proxy (self):
        self.keys ()
        nobody_key = self.keygen ("nobody")             #   no src-prefix: owns no src
        proxy = self.proxy (["--bus-key", self.proxy_key [0], "--frontend-allow",
                             self.folder ("front", self.pub_key [1], nobody_key [1])])
        tail = self.tail (None)
        self.subscribed (proxy)
        for key, src in ((self.pub_key, "media-2/evil"), (self.pub_key, "media-"),
                         (nobody_key, "media-1/a")):
            code, out, err = self.inject (key, ["--src", src, "sessionCreated",
                                                "sessionId=" + src])
            self.assertEqual (code, 0, err)             #   sent; the proxy drops it
        code, out, err = self.inject (self.pub_key, ["--src", "media-1/good",
                                                     "sessionCreated", "sessionId=good"])
        self.assertEqual (code, 0, err)
        #   Without envelope there is no src to impersonate: it passes
        code, out, err = self.inject (nobody_key, ["--no-envelope", "sessionCreated",
                                                   "sessionId=plain"])
        self.assertEqual (code, 0, err)
        lines = tail.wait_lines (2)
        time.sleep (0.3 * SLOW)
        lines = tail.lines ()
        self.assertEqual ([l.split ("\t") [1] for l in lines], ["media-1/good", ""], lines)
        (front, back, dropped), log = self.stop (proxy)
        self.assertEqual (dropped, 3, log)
        self.assertIn ("frontend: dropped a message (src-not-allowed): src 'media-2/evil' is "
                       "not owned by key ", log)
        self.assertIn ("(src-prefix 'media-1/')", log)
        self.assertIn ("stopped: forwarded 2 messages", log)

    def test_bound_tail_checks_src (self):
        self.keys ()
        port = ovhtest.free_port ()
        tail = self.tool ("ovhook-tail", ["--bus", "@tcp://127.0.0.1:%d" % port, "--envelope",
                                          "--bus-key", self.tail_key [0], "--bus-allow",
                                          self.folder ("allow", self.pub_key [1])])
        for src in ("media-9/x", "media-1/ok"):
            code, out, err = self.inject (self.pub_key, ["--src", src, "sessionCreated",
                                                         "sessionId=s"],
                                          server=self.tail_key [1], port=port)
            self.assertEqual (code, 0, err)
        tail.wait_lines (1)
        tail.wait_log (r"bus: dropped a message \(src-not-allowed\): src 'media-9/x'", 5)
        code, log = tail.stop (signal.SIGINT)
        self.assertEqual ([l.split ("\t") [1] for l in tail.lines ()], ["media-1/ok"])
        self.assertIn ("ovhook-tail: dropped 1 message whose src the publisher's key does "
                       "not own (src-not-allowed)", log)

    def test_bound_inject (self):
        self.keys ()
        port = ovhtest.free_port ()
        tail = self.tool ("ovhook-tail", ["--bus", ">tcp://127.0.0.1:%d" % port,
                                          "--bus-key", self.tail_key [0], "--bus-server-key",
                                          self.pub_key [1], "--count", 1])
        code, out, err = ovhtest.run_program ("ovhook-inject", [
            "--bus", "@tcp://127.0.0.1:%d" % port, "--bus-key", self.pub_key [0],
            "--bus-allow", self.folder ("allow", self.tail_key [1]),
            "sessionCreated", "sessionId=bound"])
        self.assertEqual (code, 0, err)
        self.assertEqual (tail.wait_exit (), 0, tail.show ())
        self.assertIn ('"sessionId":"bound"', tail.lines () [0])

    def test_default_bind_is_loopback (self):
        code, out, err = ovhtest.run_program ("ovhook-proxy", ["--help"])
        self.assertIn ("default @tcp://127.0.0.1:5560", out)
        self.assertIn ("default @tcp://127.0.0.1:5561", out)
        proxy = self.tool ("ovhook-proxy", [], ready=False)
        try:
            proxy.wait_log (r"ready:", 10)
        except AssertionError:
            if "Address already in use" in proxy.log ():
                self.skipTest ("port 5560 or 5561 in use here")
            raise
        self.assertIn ("frontend @tcp://127.0.0.1:5560 (publishers), backend "
                       "@tcp://127.0.0.1:5561 (consumers)", proxy.log ())
        #   Listening on loopback only: the sockets of ports 5560 (15B8) and
        #   5561 (15B9) in state 0A (listen), in /proc/net/tcp and tcp6 (the
        #   bus sockets have IPv6 on: 127.0.0.1 is then ::ffff:127.0.0.1)
        loopback = ("0100007F", "0000000000000000FFFF00000100007F",
                    "00000000000000000000000001000000")
        listening = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open (table) as f:
                for line in f.readlines () [1:]:
                    fields = line.split ()
                    address, port = fields [1].split (":")
                    if fields [3] == "0A" and port in ("15B8", "15B9"):
                        listening.append ((address, port))
        self.assertEqual (sorted (port for address, port in listening), ["15B8", "15B9"],
                          listening)
        self.assertTrue (all (address in loopback for address, port in listening), listening)
        self.assertNotIn ("WARNING", proxy.log ())

    def test_warning_for_plaintext_open_to_the_network (self):
        def start (args, env=None):
            proxy = self.tool ("ovhook-proxy", ["--frontend", "@tcp://0.0.0.0:%d"
                                                % ovhtest.free_port (), "--backend",
                                                "@tcp://127.0.0.1:%d" % ovhtest.free_port ()]
                               + args, env=env)
            code, log = proxy.stop (signal.SIGTERM)
            self.assertEqual (code, 0, log)
            return log
        log = start ([])
        self.assertRegex (log, r"WARNING: the frontend binds @tcp://0.0.0.0:\d+, reachable "
                          r"from the network, without CURVE: anyone who reaches the port can "
                          r"publish forged events")
        self.assertNotIn ("backend binds", log)
        self.assertNotIn ("WARNING", start (["--bus-insecure"]))
        self.assertNotIn ("WARNING", start ([], env={"OVHOOK_BUS_INSECURE": "true"}))
        self.keys ()
        self.assertNotIn ("WARNING", start (["--bus-key", self.proxy_key [0], "--bus-allow",
                                             self.folder ("allow", self.pub_key [1])]))
        proxy = self.tool ("ovhook-proxy", ["--frontend", "@tcp://127.0.0.1:%d"
                                            % ovhtest.free_port (), "--backend",
                                            "@tcp://*:%d" % ovhtest.free_port ()])
        self.assertIn ("anyone who reaches the port can read every event", proxy.log ())
        code, out, err = ovhtest.run_program ("ovhook-proxy", [], env={
            "OVHOOK_BUS_INSECURE": "yes"})
        self.assertEqual (code, 2)
        self.assertIn ("OVHOOK_BUS_INSECURE needs true or false, not 'yes'", err)

    def test_errors (self):
        self.keys ()
        missing = os.path.join (self.tmp, "missing")
        open_secret = os.path.join (self.tmp, "open_secret")
        shutil.copy (self.pub_key [0], open_secret)
        os.chmod (open_secret, 0o644)
        allow = self.folder ("allow", self.pub_key [1])
        connect, bind = ">tcp://127.0.0.1:5", "@tcp://127.0.0.1:%d" % ovhtest.free_port ()
        server = ["--bus-server-key", self.proxy_key [1]]
        for program, args, text in (
                ("ovhook-inject", ["--bus-key", missing] + server,
                 "bus key '%s': No such file or directory" % missing),
                ("ovhook-inject", ["--bus-key", open_secret] + server,
                 "bus key '%s': readable or writable by others (mode 0644); make it 0600"
                 % open_secret),
                ("ovhook-inject", ["--bus-key", self.pub_key [0], "--bus-server-key", missing],
                 "bus server key '%s': No such file or directory" % missing),
                ("ovhook-inject", ["--bus-key", self.pub_key [0]],
                 "the bus connects ('%s'): with --bus-key it needs --bus-server-key" % connect),
                ("ovhook-inject", ["--bus-server-key", self.proxy_key [1]],
                 "--bus-server-key needs --bus-key"),
                ("ovhook-inject", ["--bus", bind, "--bus-key", self.pub_key [0]],
                 "the bus binds ('%s'): with --bus-key it needs --bus-allow" % bind),
                ("ovhook-inject", ["--bus", connect + "," + bind, "--bus-key",
                                   self.pub_key [0], "--bus-allow", allow] + server,
                 "both bind and connect: with --bus-key (CURVE) a socket is either"),
                ("ovhook-tail", ["--bus", bind, "--bus-key", self.tail_key [0]],
                 "the bus binds ('%s'): with --bus-key it needs --bus-allow" % bind),
                ("ovhook-tail", ["--bus-allow", allow], "--bus-allow needs --bus-key"),
                ("ovhook-tail", ["--bus-key", self.tail_key [1]] + server,
                 "no curve secret-key in it"),
                ("ovhook-proxy", ["--frontend-allow", allow],
                 "--frontend-allow needs --bus-key"),
                ("ovhook-proxy", ["--bus-key", self.proxy_key [0]],
                 "--bus-key needs --frontend-allow, --backend-allow or --bus-allow"),
                ("ovhook-proxy", ["--bus-key", self.proxy_key [0], "--bus-allow", allow,
                                  "--frontend", ">tcp://127.0.0.1:5"],
                 "the frontend connects ('>tcp://127.0.0.1:5'): with --bus-key it needs "
                 "--bus-server-key"),
                ("ovhook-proxy", ["--bus-key", self.proxy_key [0], "--bus-allow", allow,
                                  "--frontend", "@tcp://127.0.0.1:7,>tcp://127.0.0.1:5"],
                 "the frontend endpoints '@tcp://127.0.0.1:7,>tcp://127.0.0.1:5' both bind "
                 "and connect"),
                ("ovhook-proxy", ["--bus-key", self.proxy_key [0], "--bus-allow", missing],
                 "bus allowed keys '%s': No such file or directory" % missing)):
            if program == "ovhook-inject" and "--bus" not in args:
                args = ["--bus", connect] + args
            if program == "ovhook-inject":
                args = args + ["sessionCreated", "sessionId=s"]
            if program == "ovhook-proxy" and "--frontend" not in args:
                args = args + ["--frontend", "@tcp://127.0.0.1:%d" % ovhtest.free_port (),
                               "--backend", "@tcp://127.0.0.1:%d" % ovhtest.free_port ()]
            code, out, err = ovhtest.run_program (program, args)
            self.assertEqual (code, 2, (program, args, err))
            self.assertTrue (err.startswith (program + ": "), err)
            self.assertIn (text, err, (program, args))
        #   The variables, and a flag wins over its variable: with a bad key
        #   in OVHOOK_BUS_KEY the flag's good one is used (no subscriber, 1)
        env = {"OVHOOK_BUS_KEY": missing, "OVHOOK_BUS_SERVER_KEY": self.proxy_key [1]}
        code, out, err = ovhtest.run_program ("ovhook-inject", [
            "--bus", connect, "sessionCreated", "sessionId=s"], env=env)
        self.assertEqual (code, 2, err)
        self.assertIn ("bus key '%s'" % missing, err)
        code, out, err = ovhtest.run_program ("ovhook-inject", [
            "--bus", connect, "--bus-key", self.pub_key [0], "--join-timeout", 100,
            "sessionCreated", "sessionId=s"], env=env)
        self.assertEqual (code, 1, err)
        self.assertIn ("no subscriber", err)
        code, out, err = ovhtest.run_program ("ovhook-tail", ["--bus", bind], env={
            "OVHOOK_BUS_KEY": self.tail_key [0]})
        self.assertEqual (code, 2, err)
        self.assertIn ("needs --bus-allow", err)
        for program in ("ovhook-inject", "ovhook-tail", "ovhook-proxy"):
            code, out, err = ovhtest.run_program (program, ["--help"])
            for flag in ("--bus-key", "--bus-server-key", "--bus-allow", "OVHOOK_BUS_KEY"):
                self.assertIn (flag, out, program)


if __name__ == "__main__":
    ovhtest.main ()
