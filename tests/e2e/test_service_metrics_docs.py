"""The dashboard and the alert rules in docs/ use metrics that exist: every
ovhook_* and process_* name in docs/grafana/ovhook-dashboard.json and
docs/prometheus/ovhook-alerts.yml is in a real scrape of the bridge; the
rules pass `promtool check rules`; the dashboard is valid JSON."""

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

DOCS = os.path.join (ovhtest.SOURCE_DIR, "docs")
DASHBOARD = os.path.join (DOCS, "grafana", "ovhook-dashboard.json")
RULES = os.path.join (DOCS, "prometheus", "ovhook-alerts.yml")
NAME = re.compile (r"\b((?:ovhook|process)_[a-z_]+)\b")


def scraped_names (port):
    """Every sample name a scrape can hold: the TYPE lines' families, with a
    histogram's _bucket, _sum and _count"""
    with urllib.request.urlopen ("http://127.0.0.1:%d/metrics" % port, timeout=10) as response:
        text = response.read ().decode ()
    names = set ()
    for name, kind in re.findall (r"^# TYPE (\S+) (\S+)$", text, re.M):
        names.add (name)
        if kind == "histogram":
            names.update (name + suffix for suffix in ("_bucket", "_sum", "_count"))
    return names


class DocsTest (ovhtest.BridgeTestCase):

    def test_rules_pass_promtool (self):
        promtool = shutil.which ("promtool")
        if not promtool:
            self.skipTest ("promtool is not installed (Debian's prometheus package)")
        result = subprocess.run ([promtool, "check", "rules", RULES], capture_output=True,
                                 text=True, timeout=60)
        self.assertEqual (result.returncode, 0, result.stdout + result.stderr)
        self.assertIn ("SUCCESS", result.stdout)

    def test_every_name_exists_in_a_scrape (self):
        with open (DASHBOARD) as file:
            dashboard = json.load (file)
        exprs = [target ["expr"] for panel in dashboard ["panels"]
                 for target in panel.get ("targets", [])]
        self.assertGreaterEqual (len (exprs), 10)
        self.assertTrue (any ("histogram_quantile" in expr for expr in exprs))
        with open (RULES) as file:
            rules = file.read ()
        used = set (NAME.findall ("\n".join (exprs))) | set (NAME.findall (rules))
        self.assertIn ("ovhook_breaker_open", used)
        port = ovhtest.free_port ()
        receiver, bridge, publisher = self.bridge_setup (
            args=["--metrics", "127.0.0.1:%d" % port], events=["sessionCreated"])
        publisher.send ("sessionCreated", {"sessionId": "ses_docs", "timestamp": 1})
        receiver.wait_for (1, log=bridge.show)
        names = scraped_names (port)
        self.assertEqual (sorted (used - names), [], "named in the docs, not in a scrape")


if __name__ == "__main__":
    ovhtest.main ()
