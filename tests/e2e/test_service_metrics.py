"""--metrics: the real bridge serves /metrics, /healthz and /readyz.

A known load (events delivered at once, one after a 500, two refused for
good with 400 and kept as dead letters, a message with a topic that is no
type, a malformed one) is published; a scrape parsed with
prometheus_client's parser must show exactly those counts, and they must
agree with the bridge's "stopped:" line. /readyz turns 503 naming the
circuit while the endpoint is down long enough to open the breaker, and
200 again once it answers. A busy port stops the start with a clear error."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:                 #   python3-prometheus-client (tools/install-deps.sh)
    text_string_to_metric_families = None

EVENTS = ["sessionCreated", "participantJoined", "sessionDestroyed"]


def http_get (port, path, method="GET"):
    """(status, headers, body) of one request to the status server"""
    request = urllib.request.Request ("http://127.0.0.1:%d%s" % (port, path), method=method)
    try:
        with urllib.request.urlopen (request, timeout=10) as response:
            return response.status, dict (response.headers), response.read ().decode ()
    except urllib.error.HTTPError as error:
        return error.code, dict (error.headers), error.read ().decode ()


def scrape (port):
    """{(name, frozenset(labels.items())): value} of one /metrics scrape"""
    status, headers, text = http_get (port, "/metrics")
    assert status == 200, (status, text)
    assert headers ["Content-Type"].startswith ("text/plain; version=0.0.4"), headers
    samples = {}
    for family in text_string_to_metric_families (text):
        for sample in family.samples:
            samples [(sample.name, frozenset (sample.labels.items ()))] = sample.value
    return samples


def value (samples, name, **labels):
    return samples.get ((name, frozenset (labels.items ())), 0)


def total (samples, name, **labels):
    """Sum of every series of 'name' whose labels include 'labels'"""
    return sum (v for (n, l), v in samples.items ()
                if n == name and set (labels.items ()) <= set (l))


class MetricsTest (ovhtest.BridgeTestCase):

    def setUp (self):
        if text_string_to_metric_families is None:
            self.skipTest ("python3-prometheus-client is not installed")
        super ().setUp ()

    def test_counters_match_the_load (self):
        attempts = {}
        lock = threading.Lock ()

        def responder (request):
            body = request.json ()
            with lock:
                seen = attempts.setdefault (request.header ("webhook-id") [0], 0)
                attempts [request.header ("webhook-id") [0]] = seen + 1
            if body.get ("sessionId") == "ses_flaky" and seen == 0:
                return 500
            if body ["event"] == "participantJoined":
                return 400
            return 200

        port = ovhtest.free_port ()
        dead = os.path.join (self.tmp, "dead.jsonl")
        receiver, bridge, publisher = self.bridge_setup (
            responder, events=EVENTS, args=["--metrics", "127.0.0.1:%d" % port,
                                            "--retry-initial", "100ms", "--retry-jitter", "0",
                                            "--dead-letter", dead])
        for index in range (5):
            publisher.send ("sessionCreated", {"sessionId": "ses_ok%d" % index, "timestamp": 1})
        publisher.send ("sessionCreated", {"sessionId": "ses_flaky", "timestamp": 1})
        for index in range (2):
            publisher.send ("participantJoined", {"sessionId": "ses_dead%d" % index,
                                                  "timestamp": 1, "connectionId": "con_%d" % index})
        #   A topic that is no type (it shares the subscription's prefix),
        #   and a type whose body is not a map
        publisher.send ("sessionCreatedX", {"sessionId": "ses_x", "timestamp": 1})
        publisher.send ("sessionCreated", b"\xc0")
        receiver.wait_for (9, log=bridge.show)      #   6 + 1 retry + 2 refused
        ovhtest.wait_until (lambda: value (scrape (port), "ovhook_events_received_total",
                                           event="unknown") == 1
                                    and value (scrape (port), "ovhook_dead_letters") == 2,
                            10, "the drops and dead letters counted", bridge.show)
        samples = scrape (port)
        received = {event: value (samples, "ovhook_events_received_total", event=event)
                    for event in EVENTS + ["unknown"]}
        self.assertEqual (received, {"sessionCreated": 7, "participantJoined": 2,
                                     "sessionDestroyed": 0, "unknown": 1})
        self.assertEqual (total (samples, "ovhook_events_received_total"), 10)
        self.assertEqual (value (samples, "ovhook_events_dropped_total", reason="unknown-topic"), 1)
        self.assertEqual (value (samples, "ovhook_events_dropped_total", reason="not-a-map"), 1)
        self.assertEqual (total (samples, "ovhook_events_dropped_total"), 2)
        outcomes = {(event, outcome): value (samples, "ovhook_deliveries_total", event=event,
                                             outcome=outcome)
                    for event in EVENTS for outcome in ("delivered", "retried", "dead", "failed")}
        self.assertEqual ({k: v for k, v in outcomes.items () if v},
                          {("sessionCreated", "delivered"): 6, ("sessionCreated", "retried"): 1,
                           ("participantJoined", "dead"): 2})
        self.assertEqual (value (samples, "ovhook_http_responses_total", code="200"), 6)
        self.assertEqual (value (samples, "ovhook_http_responses_total", code="500"), 1)
        self.assertEqual (value (samples, "ovhook_http_responses_total", code="400"), 2)
        self.assertEqual (total (samples, "ovhook_http_responses_total"), 9)
        #   The histogram: one observation per delivery, the retried one
        #   after its 100 ms backoff
        self.assertEqual (value (samples, "ovhook_delivery_duration_seconds_count"), 6)
        self.assertEqual (value (samples, "ovhook_delivery_duration_seconds_bucket",
                                 le="+Inf"), 6)
        self.assertLessEqual (value (samples, "ovhook_delivery_duration_seconds_bucket",
                                     le="0.05"), 5)
        self.assertGreater (value (samples, "ovhook_delivery_duration_seconds_sum"), 0.1)
        self.assertEqual (value (samples, "ovhook_bus_lost_total"), 0)
        self.assertEqual (value (samples, "ovhook_queue_events"), 0)
        self.assertEqual (value (samples, "ovhook_breaker_open"), 0)
        self.assertEqual (value (samples, "ovhook_workers_busy"), 0)
        #   Never under --workers with 32 or fewer (ovh_limiter.h)
        self.assertEqual (value (samples, "ovhook_workers_limit"), value (samples, "ovhook_workers"))
        self.assertEqual (value (samples, "ovhook_build_info", version=ovhtest.project_version ()), 1)
        self.assertGreater (value (samples, "process_resident_memory_bytes"), 1 << 20)
        self.assertGreater (value (samples, "process_open_fds"), 3)
        self.assertAlmostEqual (value (samples, "process_start_time_seconds"), time.time (),
                                delta=120)

        code, log = bridge.stop ()
        self.assertEqual (code, 0, log [-3000:])
        stopped = ovhtest.parse_stopped (log)
        self.assertEqual ((stopped ["received"], stopped ["delivered"], stopped ["dropped"],
                           stopped ["failed"], stopped ["extra"] ["dead letters"],
                           stopped ["extra"] ["failed attempts"]),
                          (total (samples, "ovhook_events_received_total"),
                           total (samples, "ovhook_deliveries_total", outcome="delivered"),
                           total (samples, "ovhook_events_dropped_total"),
                           total (samples, "ovhook_deliveries_total", outcome="failed"),
                           total (samples, "ovhook_deliveries_total", outcome="dead"),
                           total (samples, "ovhook_http_responses_total")
                           - value (samples, "ovhook_http_responses_total", code="200")))

    def test_endpoints_and_readiness (self):
        down = threading.Event ()
        down.set ()

        def responder (request):
            return 503 if down.is_set () else 200

        port = ovhtest.free_port ()
        receiver, bridge, publisher = self.bridge_setup (
            responder, events=EVENTS, args=["--metrics", "127.0.0.1:%d" % port,
                                            "--breaker-threshold", "3", "--retry-initial",
                                            "200ms", "--retry-max", "1s"])
        status, _, body = http_get (port, "/healthz")
        self.assertEqual ((status, body), (200, "ok\n"))
        self.assertEqual (http_get (port, "/nothing-here") [0], 404)
        self.assertEqual (http_get (port, "/metrics", "POST") [0], 405)
        self.assertEqual (http_get (port, "/readyz", "DELETE") [0], 405)
        self.assertEqual (http_get (port, "/readyz") [0], 200)

        for index in range (4):
            publisher.send ("sessionCreated", {"sessionId": "ses_%d" % index, "timestamp": 1})
        bridge.wait_log (r"circuit open after 3 consecutive failures")
        status, headers, body = http_get (port, "/readyz")
        self.assertEqual (status, 503, body)
        self.assertEqual (headers ["Content-Type"], "application/json")
        report = json.loads (body)
        self.assertEqual (report ["status"], "not ready")
        self.assertEqual (report ["failing"], ["circuit"])
        self.assertRegex (report ["checks"] ["circuit"], r"^open: ")
        self.assertEqual (report ["checks"] ["bus"], "ok")
        self.assertEqual (value (scrape (port), "ovhook_breaker_open"), 1)

        down.clear ()
        bridge.wait_log (r"circuit closed", timeout=15)
        status, _, body = http_get (port, "/readyz")
        self.assertEqual (status, 200, body)
        self.assertEqual (json.loads (body) ["failing"], [])
        ovhtest.wait_until (lambda: value (scrape (port), "ovhook_deliveries_total",
                                           event="sessionCreated", outcome="delivered") == 4,
                            15, "the 4 events delivered", bridge.show)
        samples = scrape (port)
        self.assertEqual (value (samples, "ovhook_breaker_open"), 0)
        self.assertGreaterEqual (value (samples, "ovhook_http_responses_total", code="503"), 3)

    def test_busy_port_stops_the_start (self):
        holder = socket.socket ()
        holder.bind (("127.0.0.1", 0))
        holder.listen ()
        self.addCleanup (holder.close)
        address = "127.0.0.1:%d" % holder.getsockname () [1]
        receiver = self.receiver ()
        bind, _ = self.bus ()
        env = ovhtest.clean_env (self.webhook_env (receiver.url (), bind))
        result = subprocess.run ([ovhtest.binary ("ovhook-bridge"), "--metrics", address],
                                 env=env, capture_output=True, text=True, timeout=30)
        self.assertNotEqual (result.returncode, 0, result.stderr)
        self.assertIn ("--metrics: cannot listen on '%s': Address already in use" % address,
                       result.stderr)
        self.assertNotIn ("ready:", result.stderr)
        result = subprocess.run ([ovhtest.binary ("ovhook-bridge"), "--metrics", "localhost"],
                                 env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual (result.returncode, 2, result.stderr)
        self.assertIn ("OVHOOK_METRICS=localhost. Is not a valid ADDR:PORT", result.stderr)


class ToolMetricsTest (ovhtest.BridgeTestCase):
    """ovhook-proxy and ovhook-tail with --metrics: what they forward,
    receive and print, scraped"""

    def setUp (self):
        if text_string_to_metric_families is None:
            self.skipTest ("python3-prometheus-client is not installed")
        super ().setUp ()

    def tool (self, program, args, name):
        process = ovhtest.ToolProcess (self.tmp, program, args, name)
        self.addCleanup (process.kill)
        return process.start ()

    def test_proxy_and_tail (self):
        front, back = ovhtest.free_port (), ovhtest.free_port ()
        proxy_port, tail_port = ovhtest.free_port (), ovhtest.free_port ()
        proxy = self.tool ("ovhook-proxy", ["--frontend", "@tcp://127.0.0.1:%d" % front,
                                            "--backend", "@tcp://127.0.0.1:%d" % back,
                                            "--metrics", "127.0.0.1:%d" % proxy_port], "proxy")
        tail = self.tool ("ovhook-tail", ["--bus", ">tcp://127.0.0.1:%d" % back,
                                          "--metrics", "127.0.0.1:%d" % tail_port,
                                          "sessionCreated", "sessionDestroyed"], "tail")
        publisher = self.publisher ("tcp://127.0.0.1:%d" % front,
                                    ["sessionCreated", "sessionDestroyed"])
        for index in range (7):
            publisher.send ("sessionCreated", {"sessionId": "ses_%d" % index, "timestamp": 1})
        #   seq 9 after 7 (seq counts per src and topic): one message lost
        publisher.seq += 1
        publisher.send ("sessionCreated", {"sessionId": "ses_9", "timestamp": 2})
        #   not a map: the tail drops it
        publisher.send ("sessionDestroyed", b"\xc0", envelope=False)
        tail.wait_lines (8)
        ovhtest.wait_until (lambda: value (scrape (tail_port), "ovhook_tail_messages_total") == 9,
                            10, "the tail's count", tail.show)
        samples = scrape (proxy_port)
        self.assertEqual (value (samples, "ovhook_proxy_messages_total"), 9)
        self.assertGreater (value (samples, "ovhook_proxy_bytes_total"), 9 * 20)
        self.assertEqual (value (samples, "ovhook_proxy_subscribed_topics"), 2)
        self.assertEqual (value (samples, "ovhook_proxy_subscribe_messages_total"), 2)
        self.assertEqual (value (samples, "ovhook_proxy_dropped_total"), 0)
        self.assertEqual (value (samples, "ovhook_build_info", version=ovhtest.project_version ()), 1)
        self.assertGreater (value (samples, "process_resident_memory_bytes"), 0)
        samples = scrape (tail_port)
        self.assertEqual (value (samples, "ovhook_tail_events_total"), 8)
        self.assertEqual (value (samples, "ovhook_tail_dropped_total"), 1)
        self.assertEqual (value (samples, "ovhook_tail_bus_lost_total"), 1)
        self.assertEqual (http_get (tail_port, "/readyz") [0], 200)
        self.assertEqual (http_get (proxy_port, "/healthz") [0], 200)
        #   A busy port: the tool does not start
        code, out, err = ovhtest.run_program ("ovhook-tail", ["--metrics",
                                                               "127.0.0.1:%d" % tail_port])
        self.assertEqual (code, 1, err)
        self.assertIn ("ovhook-tail: --metrics: cannot listen on '127.0.0.1:%d': Address "
                       "already in use" % tail_port, err)
        code, out, err = ovhtest.run_program ("ovhook-proxy", ["--metrics", "nowhere"])
        self.assertNotEqual (code, 0, err)
        self.assertIn ("ovhook-proxy: --metrics: cannot listen on 'nowhere'", err)
        proxy.stop ()
        tail.stop ()


if __name__ == "__main__":
    ovhtest.main ()
