"""The Python examples of docs/examples, run as a user would run them, and
shown whole in docs/tools.md:

  publish.py   webhook JSON lines on stdin -> a real bridge -> the receiver
               gets each body as it was; the ids are those of (src, topic,
               seq, epoch) with the src and epoch the script reports, so it
               sends an epoch; two runs give different ids
  consume.py   reads a bus; a message with a bin value (or an ext, or a
               truncated body) is skipped with a line on stderr, and the
               next valid one is printed
"""

import json
import os
import re
import subprocess
import sys
import time

import msgpack
import zmq

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery

EXAMPLES = os.path.join (ovhtest.SOURCE_DIR, "docs", "examples")
SLOW = ovhtest.SLOW


class PythonExamplesTest (ovhtest.BridgeTestCase):

    def test_examples_shown_in_tools_md (self):
        with open (os.path.join (ovhtest.SOURCE_DIR, "docs", "tools.md")) as f:
            tools = f.read ()
        for name in ("publish.py", "consume.py"):
            with open (os.path.join (EXAMPLES, name)) as f:
                self.assertIn ("```python\n" + f.read () + "```", tools, name)

    def test_publish_to_bridge (self):
        receiver = self.receiver ()
        bind, connect = self.bus ()
        bridge = self.start_bridge (self.webhook_env (receiver.url (), bind))
        lines = ovhtest.examples () [:3]
        expected = {}                   #   body -> ids, over two runs
        for run in range (2):
            result = subprocess.run ([sys.executable, os.path.join (EXAMPLES, "publish.py"),
                                      connect], input=b"\n".join (lines) + b"\n",
                                     capture_output=True, timeout=30 * SLOW)
            self.assertEqual (result.returncode, 0, result.stderr)
            m = re.search (r"publish.py: sent 3 events as src (\S+) epoch (\d+)",
                           result.stderr.decode ())
            self.assertTrue (m, result.stderr)
            src, epoch = m.group (1), int (m.group (2))
            for line in lines:
                topic = json.loads (line) ["event"]
                expected.setdefault (line, []).append (
                    delivery.envelope_id (src, topic, 1, epoch))
        requests = receiver.wait_for (6, log=bridge.show)
        time.sleep (0.3)
        self.assertEqual (len (receiver.requests), 6)
        got = {}
        for request in requests:
            got.setdefault (request.body, []).append (request.header ("webhook-id") [0])
        self.assertEqual ({k: sorted (v) for k, v in got.items ()},
                          {k: sorted (v) for k, v in expected.items ()})
        self.assertEqual (len ({i for ids in got.values () for i in ids}), 6)

    def test_consume_skips_invalid (self):
        pub = self.context.socket (zmq.XPUB)
        pub.setsockopt (zmq.LINGER, 0)
        self.addCleanup (pub.close)
        port = pub.bind_to_random_port ("tcp://127.0.0.1")
        process = subprocess.Popen ([sys.executable, os.path.join (EXAMPLES, "consume.py"),
                                     "tcp://127.0.0.1:%d" % port],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup (lambda: (process.kill (), process.wait (),
                                  process.stdout.close (), process.stderr.close ()))
        subscribed = set ()
        deadline = time.monotonic () + 10 * SLOW
        while len (subscribed) < 3 and time.monotonic () < deadline:
            if pub.poll (100):
                subscribed.add (pub.recv ())
        self.assertEqual (len (subscribed), 3, subscribed)
        envelope = msgpack.packb ({"src": "py", "seq": 1, "epoch": 7})
        bad = [
            {"timestamp": 1, "sessionId": b"ses_bin"},                    # bin
            {"timestamp": 1, "sessionId": "s", "x": msgpack.ExtType (1, b"\0")},
        ]
        for body in bad:
            pub.send_multipart ([b"sessionCreated", msgpack.packb (body, use_bin_type=True),
                                 envelope])
        pub.send_multipart ([b"sessionCreated", b"\x82\xa1a", envelope])   # truncated
        good = {"timestamp": 2, "sessionId": "ses_ok"}
        pub.send_multipart ([b"sessionCreated", msgpack.packb (good), envelope])
        line = process.stdout.readline ().decode ()
        self.assertEqual (line, '{"event":"sessionCreated","timestamp":2,"sessionId":"ses_ok"}'
                                ' py 1 7\n')
        self.assertIsNone (process.poll (), "the consumer died")
        process.kill ()
        process.wait ()
        errors = process.stderr.read ().decode ().splitlines ()
        self.assertEqual (len (errors), 3, errors)
        for error in errors:
            self.assertTrue (error.startswith ("consume.py: skipped invalid message: "), errors)


if __name__ == "__main__":
    ovhtest.main ()
