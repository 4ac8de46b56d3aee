"""test_bus_security - the bridge's bus with CURVE (issue 12), real
processes: ovhook-bridge with --bus-key, publishers written with pyzmq and
msgpack (CURVE clients, or plaintext), keys from ovhook-keygen or from
pyzmq written as CZMQ certificate files, a real HTTP receiver.

  allowed key         events delivered byte for byte; the stop line counts
                      the handshake
  python keys         pyzmq's keys in CZMQ's files work on both sides (the
                      bridge's own key too): another language can join
  unknown key         refused, counted, logged with the key and the peer's
                      address; nothing delivered
  plaintext peer      refused and logged with the reason
  wrong server key    refused, the bridge logs why
  folder reload       a key added while running gets in, a removed one no
                      longer does (new connections), no restart
  src binding         a src outside the key's src-prefix is dropped
                      (src-not-allowed, counted, logged), an owned one
                      passes; a key without src-prefix owns no src; '*' all
  connecting bus      behind a CURVE server (a proxy's place) the server's
                      key is trusted and what it forwards is not checked; a
                      wrong --bus-server-key is logged with the reason
  wire capture        a relay between publisher and bridge sees the event's
                      text without CURVE, and none of it with CURVE
  exposed bind        a plaintext bus bound beyond loopback warns at start
                      (and in --check-config); --bus-insecure, loopback or
                      CURVE: no warning
  configuration       the errors of settings that do not go together, as
                      the bridge prints them (exit 2)

Run with Debian's /usr/bin/python3; $OVHOOK_BIN holds the binaries.
"""

import json
import os
import re
import shutil
import sys
import time

import msgpack
import zmq

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest                                      # noqa: E402
import curve                                        # noqa: E402

HANDSHAKES = re.compile (r"bus handshakes \(CURVE\): allowed (\d+), refused (\d+), failed (\d+)")
TOPICS = ovhtest.DEFAULT_EVENTS
#   The publisher's address as the bridge logs it (its bus speaks IPv6 too)
PEER = r"\[?(?:::ffff:)?127\.0\.0\.1\]?"
#   Where a refused peer came from: the monitor reads the address when it
#   hears of the connection, after libzmq accepted it; a peer that already
#   hung up by then (a plaintext publisher often does) is "an unknown address"
PEER_PORT = r"(?:%s:\d+|an unknown address)" % PEER


def line (session, marker="", topic="sessionCreated"):
    """A webhook line of 'session', as the bridge POSTs it back."""
    return json.dumps ({"event": topic, "sessionId": session, "timestamp": 1700000000000,
                        "note": marker}, separators=(",", ":")).encode ()


class BusSecurityTest (ovhtest.BridgeTestCase):

    def setUp (self):
        super ().setUp ()
        self.keys = os.path.join (self.tmp, "keys")
        self.allow = os.path.join (self.tmp, "allow")
        os.makedirs (self.allow)

    def curve_bridge (self, make_keys=curve.keygen, events=None):
        """Receiver, and a bridge binding a CURVE bus on loopback that lets
        in the keys of self.allow. Returns (receiver, bridge, endpoint, the
        bridge's Keys)."""
        server = make_keys (self.keys, "bridge")
        receiver = self.receiver ()
        bind, connect = self.bus ()
        env = self.webhook_env (receiver.url (), bind, events, OVHOOK_BUS_KEY=server.secret_path,
                                OVHOOK_BUS_ALLOW=self.allow)
        bridge = self.start_bridge (env)
        self.assertIn ("bus: CURVE on, public key %s" % server.public.decode (), bridge.log ())
        return receiver, bridge, connect, server

    def stop (self, bridge):
        """Stop the bridge: (stopped: numbers, handshake numbers, log)."""
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        m = HANDSHAKES.search (log)
        self.assertIsNotNone (m, "no handshake line at stop:\n" + log [-3000:])
        return ovhtest.parse_stopped (log), tuple (map (int, m.groups ())), log

    def refused (self, publisher, seconds=1.5):
        """A publisher that cannot get in never sees a subscription; what
        it sends meanwhile goes nowhere."""
        for index in range (5):
            publisher.send_line (line ("ses_refused_%d" % index))
        self.assertEqual (publisher.collect (seconds * ovhtest.SLOW), [],
                          "a refused publisher saw subscriptions")

    # ---------------------------------------------------------------------

    def test_allowed_key_delivers_byte_exact (self):
        #   All 17 types: the HA examples are off by default
        receiver, bridge, connect, server = self.curve_bridge (events=ovhtest.ALL_EVENTS)
        keys = curve.keygen (self.keys, "media-1", src_prefix="py")
        keys.allow_in (self.allow)
        publisher = curve.curve_publisher (self, connect, keys, server.public, ovhtest.ALL_EVENTS)
        lines = ovhtest.examples ()
        for text in lines:
            publisher.send_line (text)          #   envelope src "py", which the key owns
        receiver.wait_for (len (lines), log=bridge.show)
        stats, handshakes, log = self.stop (bridge)
        self.assertEqual (sorted (r.body for r in receiver.requests), sorted (lines))
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["dropped"]),
                          (15, 15, 0), log)
        self.assertEqual (handshakes, (1, 0, 0), log)
        #   The secret key is in no log line
        self.assertNotIn (server.secret.decode (), log)
        self.assertNotIn (keys.secret.decode (), log)

    def test_python_keys_in_czmq_files (self):
        """pyzmq's keys written as CZMQ certificates, for the bridge and the
        publisher alike, and the src-prefix read from such a file"""
        receiver, bridge, connect, server = self.curve_bridge (make_keys=curve.python_keys)
        keys = curve.python_keys (self.keys, "other-language", src_prefix="py-")
        keys.allow_in (self.allow)
        publisher = curve.curve_publisher (self, connect, keys, server.public, TOPICS)
        #   The refused one first: one connection keeps order, so once the
        #   good one is delivered the bridge has counted the refused one
        publisher.send_line (line ("ses_spoof"), {"src": "media-9", "seq": 1})
        publisher.send_line (line ("ses_interop"), {"src": "py-1", "seq": 1})
        receiver.wait_for (1, log=bridge.show)
        stats, handshakes, log = self.stop (bridge)
        self.assertEqual ([r.body for r in receiver.requests], [line ("ses_interop")])
        self.assertEqual (stats ["reasons"], {"src-not-allowed": 1}, log)
        self.assertEqual (handshakes [0], 1, log)

    def test_unknown_key_refused (self):
        receiver, bridge, connect, server = self.curve_bridge ()
        curve.keygen (self.keys, "allowed").allow_in (self.allow)
        stranger = curve.keygen (self.keys, "stranger", src_prefix="py")
        publisher = curve.curve_publisher (self, connect, stranger, server.public)
        self.refused (publisher)
        bridge.wait_log (r"bus: refused key %s from %s: not in %s"
                         % (re.escape (stranger.public.decode ()), PEER, re.escape (self.allow)))
        stats, handshakes, log = self.stop (bridge)
        self.assertEqual (receiver.requests, [])
        self.assertEqual (stats ["received"], 0, log)
        #   Refused, not failed: the monitor's failures less the refused keys
        self.assertEqual ((handshakes [0], handshakes [2]), (0, 0), log)
        self.assertGreaterEqual (handshakes [1], 1, log)

    def test_plaintext_publisher_refused (self):
        receiver, bridge, connect, server = self.curve_bridge ()
        self.refused (curve.curve_publisher (self, connect))
        #   Whichever side sees the mismatch first: the bridge, or the
        #   publisher, which then hangs up
        bridge.wait_log (r"bus: refused a peer from %s: it (does not use CURVE|closed the "
                         r"connection during the handshake: it does not use CURVE)" % PEER_PORT)
        stats, handshakes, log = self.stop (bridge)
        self.assertEqual (receiver.requests, [])
        self.assertEqual (stats ["received"], 0, log)
        self.assertEqual (handshakes [:2], (0, 0), log)
        self.assertGreaterEqual (handshakes [2], 1, log)

    def test_wrong_server_key_refused (self):
        receiver, bridge, connect, server = self.curve_bridge ()
        keys = curve.keygen (self.keys, "media-1", src_prefix="py")
        keys.allow_in (self.allow)
        impostor = curve.keygen (self.keys, "impostor")
        self.refused (curve.curve_publisher (self, connect, keys, impostor.public))
        bridge.wait_log (r"bus: refused a peer from %s: its handshake does not decrypt: it "
                         r"was given another server key" % PEER_PORT)
        stats, handshakes, log = self.stop (bridge)
        self.assertEqual (receiver.requests, [])
        self.assertEqual (handshakes [:2], (0, 0), log)
        self.assertGreaterEqual (handshakes [2], 1, log)

    def test_allow_folder_reloaded_without_restart (self):
        receiver, bridge, connect, server = self.curve_bridge ()
        self.assertIn ("no publisher can get in", bridge.log ())
        keys = curve.keygen (self.keys, "late", src_prefix="py")
        self.refused (curve.curve_publisher (self, connect, keys, server.public))
        #   Added while running: a new connection gets in
        path = keys.allow_in (self.allow)
        publisher = curve.curve_publisher (self, connect, keys, server.public, TOPICS)
        publisher.send_line (line ("ses_after_add"))
        receiver.wait_for (1, log=bridge.show)
        #   Removed: new connections are refused again (the log line is
        #   rate-limited: the stop line's count tells)
        os.unlink (path)
        self.refused (curve.curve_publisher (self, connect, keys, server.public))
        stats, handshakes, log = self.stop (bridge)
        self.assertEqual ([r.json () ["sessionId"] for r in receiver.requests], ["ses_after_add"])
        self.assertEqual (handshakes [0], 1, log)
        self.assertGreaterEqual (handshakes [1], 2, log)

    def test_src_binding (self):
        receiver, bridge, connect, server = self.curve_bridge ()
        media = curve.keygen (self.keys, "media-1", src_prefix="media-1/")
        bare = curve.keygen (self.keys, "bare")                 #   no src-prefix
        relay = curve.keygen (self.keys, "relay", src_prefix="*")
        for keys in (media, bare, relay):
            keys.allow_in (self.allow)
        one = curve.curve_publisher (self, connect, media, server.public, TOPICS)
        #   On each connection a delivered event comes last, so waiting for
        #   the deliveries waits for every refusal before it too
        one.send_line (line ("ses_spoofed"), {"src": "media-2/a", "seq": 1})
        one.send_line (line ("ses_prefix_only"), {"src": "media-1", "seq": 1})
        one.send_line (line ("ses_owned"), {"src": "media-1/a", "seq": 1})
        two = curve.curve_publisher (self, connect, bare, server.public, TOPICS)
        two.send_line (line ("ses_bare_envelope"), {"src": "media-1/a", "seq": 2})
        two.send_line (line ("ses_bare_no_envelope"), False)
        three = curve.curve_publisher (self, connect, relay, server.public, TOPICS)
        three.send_line (line ("ses_relayed"), {"src": "anything\nat all", "seq": 1})
        receiver.wait_for (3, log=bridge.show)
        bridge.wait_log (r"dropped message: src-not-allowed: key %s sent src 'media-2/a', its "
                         r"certificate allows src-prefix 'media-1/' only"
                         % re.escape (media.public.decode ()))
        stats, handshakes, log = self.stop (bridge)
        self.assertEqual (sorted (r.json () ["sessionId"] for r in receiver.requests),
                          ["ses_bare_no_envelope", "ses_owned", "ses_relayed"])
        self.assertEqual (stats ["reasons"], {"src-not-allowed": 3}, log)
        self.assertEqual ((stats ["received"], stats ["delivered"]), (6, 3), log)
        self.assertEqual (handshakes, (3, 0, 0), log)

    def test_connecting_bus_trusts_the_server (self):
        """A bridge behind a CURVE server (where ovhook-proxy stands): the
        server's key is trusted, what it forwards is not checked"""
        server = curve.keygen (self.keys, "proxy")
        client = curve.keygen (self.keys, "bridge")
        port = ovhtest.free_port ()
        xpub = self.context.socket (zmq.XPUB)
        self.addCleanup (xpub.close, 0)
        xpub.setsockopt (zmq.XPUB_VERBOSE, 1)
        xpub.curve_server = True
        xpub.curve_publickey = server.public
        xpub.curve_secretkey = server.secret
        xpub.bind ("tcp://127.0.0.1:%d" % port)
        receiver = self.receiver ()
        env = self.webhook_env (receiver.url (), ">tcp://127.0.0.1:%d" % port, ["signalSent"],
                                OVHOOK_BUS_KEY=client.secret_path,
                                OVHOOK_BUS_SERVER_KEY=server.public_path)
        bridge = self.start_bridge (env)
        self.assertTrue (xpub.poll (10000 * ovhtest.SLOW), "no subscription through CURVE")
        self.assertEqual (xpub.recv (), b"\x01signalSent")
        text = line ("ses_forwarded", topic="signalSent")
        topic, body = ovhtest.split_event (text)
        xpub.send_multipart ([topic, body, msgpack.packb ({"src": "whoever", "seq": 1})])
        receiver.wait_for (1, log=bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertEqual (receiver.requests [0].body, text)
        self.assertRegex (log, r"bus handshakes with the server \(CURVE\): succeeded 1, failed 0")
        #   The wrong server key: the bridge says why nothing comes
        other = curve.keygen (self.keys, "not-the-proxy")
        env ["OVHOOK_BUS_SERVER_KEY"] = other.public_path
        bridge = self.start_bridge (env)
        bridge.wait_log (r"bus tcp://127\.0\.0\.1:%d: the (handshake does not decrypt|server "
                         r"closed the connection during the handshake)" % port)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertRegex (log, r"bus handshakes with the server \(CURVE\): succeeded 0, "
                               r"failed [1-9]")

    def wire_run (self, secure):
        """One event through a recording relay; returns the bytes on the wire."""
        marker = "MARKER-%s-0123456789" % ("curve" if secure else "plain")
        receiver = self.receiver ()
        bind, connect = self.bus ()
        env = self.webhook_env (receiver.url (), bind)
        publisher_keys = server = None
        if secure:
            server = curve.keygen (self.keys, "bridge-wire")
            publisher_keys = curve.keygen (self.keys, "wire", src_prefix="py")
            publisher_keys.allow_in (self.allow)
            env.update (OVHOOK_BUS_KEY=server.secret_path, OVHOOK_BUS_ALLOW=self.allow)
        bridge = self.start_bridge (env)
        relay = curve.Relay (("127.0.0.1", int (connect.rsplit (":", 1) [1])))
        self.addCleanup (relay.close)
        publisher = curve.curve_publisher (self, relay.endpoint (), publisher_keys,
                                           server and server.public, TOPICS)
        publisher.send_line (line ("ses_%s" % marker, marker))
        receiver.wait_for (1, log=bridge.show)
        self.assertIn (marker.encode (), receiver.requests [0].body)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        return marker.encode (), relay.wire ()

    def test_wire_capture (self):
        marker, wire = self.wire_run (secure=False)
        self.assertIn (marker, wire, "the plaintext run shows the event: the relay records")
        self.assertIn (b"sessionCreated", wire)
        marker, wire = self.wire_run (secure=True)
        self.assertGreater (len (wire), 200, "the relay saw the CURVE traffic")
        self.assertNotIn (marker, wire)
        self.assertNotIn (b"ses_", wire)
        #   Neither the topics nor the subscriptions show
        self.assertNotIn (b"sessionCreated", wire)
        self.assertNotIn (b"participantJoined", wire)

    def test_exposed_bind_warning (self):
        receiver = self.receiver ()
        warning = (r"W: .*the bus @tcp://0\.0\.0\.0:\d+ is bound beyond loopback WITHOUT CURVE "
                   r"\(no --bus-key\): anyone who reaches the port can publish events that this "
                   r"bridge signs and POSTs, and can replay a src and seq to have real events "
                   r"discarded as duplicates\..*docs/security\.md")
        exposed = "@tcp://0.0.0.0:%d" % ovhtest.free_port ()
        bridge = self.start_bridge (self.webhook_env (receiver.url (), exposed))
        self.assertRegex (bridge.log (), warning)
        self.assertEqual (len (re.findall ("WITHOUT CURVE", bridge.log ())), 1)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        code, out, err = ovhtest.run_program ("ovhook-bridge", ["--check-config", "--bus", exposed])
        self.assertEqual (code, 0, err)
        self.assertIn ("warning: the bus %s is bound beyond loopback WITHOUT CURVE" % exposed, err)
        #   No warning: --bus-insecure, a loopback bus, a CURVE bus
        server = curve.keygen (self.keys, "bridge")
        quiet = [({"OVHOOK_BUS": exposed, "OVHOOK_BUS_INSECURE": "true"}, ["--check-config"]),
                 ({"OVHOOK_BUS": self.bus () [0]}, []),
                 ({"OVHOOK_BUS": exposed, "OVHOOK_BUS_KEY": server.secret_path,
                   "OVHOOK_BUS_ALLOW": self.allow}, [])]
        for env, args in quiet:
            if args:
                code, out, err = ovhtest.run_program ("ovhook-bridge", args, env)
                self.assertEqual (code, 0, err)
                self.assertNotIn ("WITHOUT CURVE", err)
                continue
            env = dict (self.webhook_env (receiver.url (), env.pop ("OVHOOK_BUS")), **env)
            bridge = self.start_bridge (env)
            code, log = bridge.stop ()
            self.assertEqual (code, 0, log)
            self.assertNotIn ("WITHOUT CURVE", log)
        bridge = self.start_bridge (self.webhook_env (receiver.url (), exposed), ["--bus-insecure"])
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertNotIn ("WITHOUT CURVE", log)

    def test_configuration_errors (self):
        """What the bridge prints (exit 2, never ready); the exact texts of
        every case are in tests/unit/bridge/config/test_config.c"""
        server = curve.keygen (self.keys, "bridge")
        open_key = os.path.join (self.keys, "open_secret")
        shutil.copyfile (server.secret_path, open_key)
        os.chmod (open_key, 0o644)
        key = "Property OVHOOK_BUS_KEY=%s. " % server.secret_path
        cases = [
            ({"OVHOOK_BUS_ALLOW": self.allow},
             "Property OVHOOK_BUS_ALLOW=%s. Needs OVHOOK_BUS_KEY: without a key of its own the "
             "bridge does not use CURVE" % self.allow),
            ({"OVHOOK_BUS_KEY": server.secret_path},
             "Property OVHOOK_BUS_ALLOW is not set. Needed with OVHOOK_BUS_KEY on a bus that "
             "binds (OVHOOK_BUS=@tcp://127.0.0.1:5560)"),
            ({"OVHOOK_BUS_KEY": server.secret_path, "OVHOOK_BUS": ">tcp://127.0.0.1:5561"},
             "Property OVHOOK_BUS_SERVER_KEY is not set. Needed with OVHOOK_BUS_KEY on a bus "
             "that connects"),
            ({"OVHOOK_BUS_KEY": server.secret_path, "OVHOOK_BUS_ALLOW": self.allow,
              "OVHOOK_BUS": "@tcp://127.0.0.1:5560,>tcp://127.0.0.1:5561"},
             key + "Cannot be used with a bus that both binds and connects"),
            ({"OVHOOK_BUS_KEY": server.public_path, "OVHOOK_BUS_ALLOW": self.allow},
             "Property OVHOOK_BUS_KEY=%s. Cannot be used: bus key '%s': no curve secret-key in "
             "it" % (server.public_path, server.public_path)),
            ({"OVHOOK_BUS_KEY": open_key, "OVHOOK_BUS_ALLOW": self.allow},
             "Property OVHOOK_BUS_KEY=%s. Cannot be used: bus key '%s': readable or writable "
             "by others (mode 0644); make it 0600" % (open_key, open_key)),
            ({"OVHOOK_BUS_KEY": server.secret_path, "OVHOOK_BUS_ALLOW": server.public_path},
             "Property OVHOOK_BUS_ALLOW=%s. Is not a readable folder: Not a folder"
             % server.public_path),
        ]
        for env, expected in cases:
            with self.subTest (env=env):
                code, out, err = ovhtest.run_program (
                    "ovhook-bridge", [], dict (env, OPENVIDU_WEBHOOK="true",
                                               OPENVIDU_WEBHOOK_ENDPOINT="http://127.0.0.1:9/"))
                self.assertEqual (code, 2, err)
                self.assertIn ("ovhook-bridge: " + expected, err)
                self.assertNotIn ("ready:", err)
                self.assertNotIn (server.secret.decode (), err + out)
        #   --check-config shows the path and the public key, never the secret
        code, out, err = ovhtest.run_program ("ovhook-bridge", [
            "--check-config", "--bus-key", server.secret_path, "--bus-allow", self.allow])
        self.assertEqual (code, 0, err)
        self.assertIn ("OVHOOK_BUS_KEY=%s   # public key: %s\n"
                       % (server.secret_path, server.public.decode ()), out)
        self.assertNotIn (server.secret.decode (), out + err)


if __name__ == "__main__":
    ovhtest.main ()
