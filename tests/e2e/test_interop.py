"""test_interop - the bus between ovhook and another ZeroMQ + msgpack
implementation (Debian's python3-zmq and python3-msgpack), both ways,
every side a separate process.

  pyzmq -> ovhook   'topology.py pypublish' (XPUB connected to a bound bridge
                    and a bound ovhook-tail, waits for both subscriptions,
                    msgpack-packs webhook lines with its envelope {src, seq,
                    epoch}, seq per topic): the webhook-ids are those of
                    (src, topic, seq, epoch); the receiver gets the expected webhook JSON
                    byte for byte (13 documented bodies; every msgpack type;
                    floats as float64 and float32, written as the protocol
                    says: %.15g/%.16g/%.17g, %.6g..%.9g, integral ones keep
                    ".0"), per ordering key in order; the tail prints the
                    same lines with src and seq; no drop, no gap
  ovhook -> pyzmq   'topology.py pysubscribe' (SUB bound) records what
                    ovhook-inject sends: key=value typing, --json of the 15
                    documented bodies and --no-envelope give frame for frame
                    what python's msgpack packs for the expected body (same
                    keys, order, types, smallest forms), envelope {src, seq,
                    epoch} with seq 1..n per topic and one epoch per run; a --scenario read by pyzmq and
                    rendered by python's json equals what ovhook-tail prints
                    for the same seed

Run with Debian's /usr/bin/python3; $OVHOOK_BIN holds the binaries.
"""

import json
import os
import sys
import time

import msgpack

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery                                      # noqa: E402
import topology                                     # noqa: E402

#   (webhook line the python publisher packs, float32?, what the bridge POSTs)
CRAFTED = [
    ('{"event":"signalSent","timestamp":1700000000000,"sessionId":"ses_interop","from":null,'
     '"to":[],"type":"q\\"b\\\\s/\\n\\t\\b\\f\\r\\u0001\\u001f\\u007f","data":"Grüße € 😀",'
     '"neg":-9223372036854775808,"big":18446744073709551615,"small":-1,"zero":0,'
     '"yes":true,"no":false,"nested":{"a":[1,{"b":[true,false,null]},[]],"e":{}}}',
     False,
     #  the same, but DEL is written as it is (only U+0000..U+001F are escaped)
     '{"event":"signalSent","timestamp":1700000000000,"sessionId":"ses_interop","from":null,'
     '"to":[],"type":"q\\"b\\\\s/\\n\\t\\b\\f\\r\\u0001\\u001f\x7f","data":"Grüße € 😀",'
     '"neg":-9223372036854775808,"big":18446744073709551615,"small":-1,"zero":0,'
     '"yes":true,"no":false,"nested":{"a":[1,{"b":[true,false,null]},[]],"e":{}}}'),
    ('{"event":"signalSent","timestamp":1700000000001,"sessionId":"ses_interop",'
     '"data":"float64","a":1e15,"b":1e-7,"c":0.30000000000000004,"d":-0.0,"e":5e-324,'
     '"f":1.7976931348623157e308,"g":674.0,"h":1e300,"i":0.1,"j":123456789.125}',
     False,
     '{"event":"signalSent","timestamp":1700000000001,"sessionId":"ses_interop",'
     '"data":"float64","a":1e+15,"b":1e-07,"c":0.30000000000000004,"d":-0.0,'
     '"e":4.94065645841247e-324,"f":1.7976931348623157e+308,"g":674.0,"h":1e+300,"i":0.1,'
     '"j":123456789.125}'),
    ('{"event":"signalSent","timestamp":1700000000002,"sessionId":"ses_interop",'
     '"data":"float32","a":8.6,"b":0.1,"c":16777217.0,"d":3.4028234663852886e38,"e":1e-45,'
     '"f":-2.5,"g":1e10}',
     True,
     '{"event":"signalSent","timestamp":1700000000002,"sessionId":"ses_interop",'
     '"data":"float32","a":8.6,"b":0.1,"c":16777216.0,"d":3.4028235e+38,"e":1.4013e-45,'
     '"f":-2.5,"g":1e+10}'),
    ('{"event":"participantJoined","timestamp":1700000000003,"sessionId":"ses_other",'
     '"connectionId":"con_1","location":"Zürich, Switzerland","ip":"::1","platform":"",'
     '"clientData":"{\\"k\\":[1,2]}","serverData":""}', False, None),
]

SRC = "py/interop"
EPOCH = 2 ** 64 - 3                 #   the largest values go through too


canon = ovhtest.canon


class InteropTest (ovhtest.BridgeTestCase):

    # ---------------------------------------------------------- pyzmq -> ovhook

    def test_pyzmq_publisher_to_bridge_and_tail (self):
        #   The 13 documented bodies of default types (the bridge subscribes
        #   to those only; the 2 HA ones are off by default), then ours
        records = [(line.decode (), False, line.decode ()) for line in ovhtest.examples () [:13]]
        records += [(line, f32, expected or line) for line, f32, expected in CRAFTED]
        path = os.path.join (self.tmp, "pypublish.jsonl")
        with open (path, "w") as f:
            for line, f32, expected in records:
                f.write (json.dumps ({"webhook": line, "float32": f32}) + "\n")
        expected = [e.encode () for line, f32, e in records]

        receiver = self.receiver ()
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (receiver.url (), bind))
        tail_bind, tail_connect = self.bus ()
        tail = topology.program (self, "tail", "ovhook-tail", [
            "--bus", tail_bind, "--envelope", "--count", len (records)])
        publisher = topology.script (self, "pypublish", [
            "pypublish", "--connect", "%s,%s" % (connect, tail_connect), "--subscribers", 2,
            "--src", SRC, "--input", path, "--epoch", EPOCH], ready=False)
        publisher.finish (30)
        self.assertIn ("pypublish: sent %d" % len (records), publisher.log ())

        #   ovhook-tail: the same lines, in publish order, src and seq per topic
        tail.finish (15)
        seq = {}
        want = []
        for line in expected:
            topic = json.loads (line) ["event"]
            seq [topic] = seq.get (topic, 0) + 1
            want.append ("%s\t%s\t%d" % (line.decode (), SRC, seq [topic]))
        self.assertEqual (tail.lines (), want)
        self.assertEqual (tail.log ().count ("\n"), 1, tail.show ())   # the ready line only

        #   The bridge: every body byte for byte, per ordering key in order
        requests = receiver.wait_for (len (records), 15, "the python publisher's events",
                                      bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        bodies = [r.body for r in requests]
        self.assertEqual (sorted (bodies), sorted (expected), bridge.show ())
        key = lambda body: ovhtest.ordering_key (json.loads (body))
        for k in {key (b) for b in expected}:
            self.assertEqual ([b for b in bodies if key (b) == k],
                              [b for b in expected if key (b) == k], k)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["received"], stats ["delivered"], stats ["dropped"]),
                          (len (records), len (records), 0), log)
        #   The ids: computed from (src, topic, seq, epoch) by hashlib here
        seq = {}
        want_ids = {}
        for line in expected:
            topic = json.loads (line) ["event"]
            seq [topic] = seq.get (topic, 0) + 1
            want_ids [line] = delivery.envelope_id (SRC, topic, seq [topic], EPOCH)
        for request in requests:
            self.assertEqual (request.header ("webhook-id"), [want_ids [request.body]],
                              request.body)
        self.assertNotIn ("W:", log)

    # ---------------------------------------------------------- ovhook -> pyzmq

    def subscriber (self, count):
        bind, connect = self.bus ()
        out = os.path.join (self.tmp, "pysubscribe-%d.jsonl" % count)
        proc = topology.script (self, "pysubscribe", [
            "pysubscribe", "--bind", bind [1:], "--count", count, "--out", out])
        return proc, ">" + connect, out

    def inject (self, bus, args, stdin=b""):
        code, out, err = ovhtest.run_program ("ovhook-inject", ["--bus", bus, "--src", SRC]
                                              + list (args), stdin=stdin)
        self.assertEqual (code, 0, err)
        self.assertNotIn ("warning", err)
        return err

    def test_inject_read_by_pyzmq_subscriber (self):
        #   (arguments, expected body; None: timestamp filled with now)
        events = [
            (["sessionCreated", "timestamp=1601394690713", "sessionId=ses_Jd8tUyvhXO"],
             {"timestamp": 1601394690713, "sessionId": "ses_Jd8tUyvhXO"}),
            (["participantJoined", "sessionId=ses_A", "connectionId=con_A",
              "location=Berlin, Germany", "ip=37.122.145.190", "platform=Chrome 85",
              "clientData=Grüße 😀", "serverData={'user': 'client1'}"],
             {"timestamp": None, "sessionId": "ses_A", "connectionId": "con_A",
              "location": "Berlin, Germany", "ip": "37.122.145.190", "platform": "Chrome 85",
              "clientData": "Grüße 😀", "serverData": "{'user': 'client1'}"}),
            (["recordingStatusChanged", "timestamp=5", "sessionId=ses_A", "id=ses_A",
              "duration=8.6", "size=1973428", "hasAudio=true", "hasVideo=false",
              "status=ready", "reason=null", "outputMode==COMPOSED", "startTime:=674",
              "frameRate=25"],
             {"timestamp": 5, "sessionId": "ses_A", "id": "ses_A", "duration": 8.6,
              "size": 1973428, "hasAudio": True, "hasVideo": False, "status": "ready",
              "reason": None, "outputMode": "COMPOSED", "startTime": 674, "frameRate": 25}),
            (["recordingStatusChanged", "timestamp=6", "sessionId=ses_B", "duration=674.0"],
             {"timestamp": 6, "sessionId": "ses_B", "duration": 674.0}),
            (["signalSent", "timestamp=6", "sessionId=ses_A", "from=con_X",
              "to:=[\"con_Y\",\"con_Z\"]", "type=chat", "data==42"],
             {"timestamp": 6, "sessionId": "ses_A", "from": "con_X", "to": ["con_Y", "con_Z"],
              "type": "chat", "data": "42"}),
            (["mediaNodeStatusChanged", "timestamp=-9223372036854775808", "id=media_1",
              "environmentId=007", "ip=+1", "uri=ws://h:8888/kurento", "newStatus=running",
              "oldStatus=null", "clusterId=C"],
             {"timestamp": -9223372036854775808, "id": "media_1", "environmentId": "007",
              "ip": "+1", "uri": "ws://h:8888/kurento", "newStatus": "running",
              "oldStatus": None, "clusterId": "C"}),
            (["autoscaling", "timestamp=18446744073709551615", "clusterId=C",
              "reason=x", "mediaNodes:={\"launch\":{\"total\":0,\"newNodes\":[]}}",
              "system:={}"],
             {"timestamp": 18446744073709551615, "clusterId": "C", "reason": "x",
              "mediaNodes": {"launch": {"total": 0, "newNodes": []}}, "system": {}}),
        ]
        examples = ovhtest.examples ()
        count = len (events) + 1 + len (examples)
        sub, bus, out = self.subscriber (count)
        before = int (time.time () * 1000)
        for args, body in events:
            self.inject (bus, args)
        after = int (time.time () * 1000)
        self.inject (bus, ["--no-envelope", "sessionCreated", "timestamp=9",
                           "sessionId=ses_noenv"])
        self.inject (bus, ["--json", "-"], stdin=b"\n".join (examples) + b"\n")
        sub.finish (15)
        with open (out) as f:
            got = [[bytes.fromhex (h) for h in json.loads (line) ["frames"]] for line in f]
        self.assertEqual (len (got), count)

        expected = [(args [0], body, True) for args, body in events]
        expected.append (("sessionCreated", {"timestamp": 9, "sessionId": "ses_noenv"}, False))
        for line in examples:
            body = json.loads (line)
            expected.append ((body.pop ("event"), body, True))
        seq = {}
        epochs = []                     #   of the key=value runs
        json_epochs = set ()
        for index, ((topic, body, envelope), frames) in enumerate (zip (expected, got)):
            what = "message %d (%s)" % (index, topic)
            self.assertEqual (frames [0], topic.encode (), what)
            self.assertEqual (len (frames), 3 if envelope else 2, what)
            decoded = msgpack.unpackb (frames [1], raw=False)
            if body.get ("timestamp", 0) is None:
                #   Filled with now (ms), put first
                self.assertEqual (list (decoded) [0], "timestamp", what)
                self.assertTrue (before <= decoded ["timestamp"] <= after,
                                 (what, before, decoded ["timestamp"], after))
                body = dict (body, timestamp=decoded ["timestamp"])
            self.assertEqual (canon (decoded), canon (body), what)
            self.assertEqual (frames [1], msgpack.packb (body), what)     # smallest forms
            if envelope:
                #   A process of its own per event: seq 1 each; the --json
                #   run counts 1..n per topic
                number = 1
                if index > len (events):
                    number = seq [topic] = seq.get (topic, 0) + 1
                envelope = msgpack.unpackb (frames [2], raw=False)
                epoch = envelope.pop ("epoch")
                self.assertTrue (isinstance (epoch, int) and 0 <= epoch < 2 ** 64, what)
                if index < len (events):
                    epochs.append (epoch)
                else:
                    json_epochs.add (epoch)
                self.assertEqual (canon (envelope), canon ({"src": SRC, "seq": number}), what)
        #   One epoch per process: one per key=value run, one for the --json run
        self.assertEqual (len (json_epochs), 1, json_epochs)
        epochs += list (json_epochs)
        self.assertEqual (len (set (epochs)), len (events) + 1, epochs)

    def test_inject_scenario_read_by_pyzmq_equals_tail (self):
        feed = topology.scenario_feed (self, "reference", SRC, 77, 2, 2)
        sub, bus, out = self.subscriber (len (feed.lines))
        self.inject (bus, ["--scenario", "session"] + feed.args)
        sub.finish (15)
        with open (out) as f:
            got = [[bytes.fromhex (h) for h in json.loads (line) ["frames"]] for line in f]
        #   Rendered by python: {"event": topic, **body}, compact JSON
        rendered = [topology.canonical (dict ([("event", frames [0].decode ())],
                                              **msgpack.unpackb (frames [1], raw=False)))
                    for frames in got]
        self.assertEqual (feed.normalize (rendered), feed.lines)
        seq = {}
        for frames in got:
            topic = frames [0].decode ()
            seq [topic] = seq.get (topic, 0) + 1
            envelope = msgpack.unpackb (frames [2], raw=False)
            self.assertIsInstance (envelope.pop ("epoch"), int)
            self.assertEqual (envelope, {"src": SRC, "seq": seq [topic]})


if __name__ == "__main__":
    ovhtest.main ()
