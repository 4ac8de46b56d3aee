"""Configuration: OpenVidu's error lines (exit 2, nothing started), the
bridge's own settings, --check-config, --help, --version, disabled webhook,
--env-file and precedence (flags > environment > file)."""

import os
import re
import socket
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

P = "ovhook-bridge: Property "
HEADER_SYNTAX = ("syntax is not correct. Must be 'HEADER_NAME: HEADER_VALUE'. "
                 "For example: 'Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l'")
OK = {"OPENVIDU_WEBHOOK": "true", "OPENVIDU_WEBHOOK_ENDPOINT": "http://127.0.0.1:9/hook"}

#   An empty value: the reference allows "NAME=. " and "NAME is not set. "
EMPTY = "^ovhook-bridge: Property %s(?:=\\.| is not set\\.) "

#   (name, environment on top of OK, args, expected stderr lines).
#   A line ending in "..." is a prefix (the parser's detail text follows);
#   one starting with "^" is a regular expression.
ERRORS = [
    ("bad boolean", {"OPENVIDU_WEBHOOK": "yes"}, [],
     [P + "OPENVIDU_WEBHOOK=yes. Is not a boolean (true or false)"]),
    ("bad boolean 1", {"OPENVIDU_WEBHOOK": "1"}, [],
     [P + "OPENVIDU_WEBHOOK=1. Is not a boolean (true or false)"]),
    ("empty boolean", {"OPENVIDU_WEBHOOK": ""}, [],
     [EMPTY % "OPENVIDU_WEBHOOK" + "Cannot be empty$"]),
    ("url without scheme", {"OPENVIDU_WEBHOOK_ENDPOINT": "example.com/hook"}, [],
     [P + "OPENVIDU_WEBHOOK_ENDPOINT=example.com/hook. Is not a valid URL. ..."]),
    ("url without host", {"OPENVIDU_WEBHOOK_ENDPOINT": "http://"}, [],
     [P + "OPENVIDU_WEBHOOK_ENDPOINT=http://. Is not a valid URL. ..."]),
    ("url without host, with path", {"OPENVIDU_WEBHOOK_ENDPOINT": "http:///hook"}, [],
     [P + "OPENVIDU_WEBHOOK_ENDPOINT=http:///hook. Is not a valid URL. ..."]),
    ("url bad format", {"OPENVIDU_WEBHOOK_ENDPOINT": "http://[::1/hook"}, [],
     [P + "OPENVIDU_WEBHOOK_ENDPOINT=http://[::1/hook. Is not a valid URL. ..."]),
    ("bad url checked with webhook off",
     {"OPENVIDU_WEBHOOK": "false", "OPENVIDU_WEBHOOK_ENDPOINT": "nourl"}, [],
     [P + "OPENVIDU_WEBHOOK_ENDPOINT=nourl. Is not a valid URL. ..."]),
    ("webhook on, empty endpoint", {"OPENVIDU_WEBHOOK_ENDPOINT": ""}, [],
     [EMPTY % "OPENVIDU_WEBHOOK_ENDPOINT"
      + "With OPENVIDU_WEBHOOK=true, this property cannot be empty$"]),
    ("headers not JSON", {"OPENVIDU_WEBHOOK_HEADERS": "Authorization: x"}, [],
     [P + "OPENVIDU_WEBHOOK_HEADERS=Authorization: x. Is not a valid strings array in JSON format. ..."]),
    ("headers not strings", {"OPENVIDU_WEBHOOK_HEADERS": '["A: b", 3]'}, [],
     [P + 'OPENVIDU_WEBHOOK_HEADERS=["A: b", 3]. Is not a valid strings array in JSON format. ...']),
    ("headers an object", {"OPENVIDU_WEBHOOK_HEADERS": '{"A": "b"}'}, [],
     [P + 'OPENVIDU_WEBHOOK_HEADERS={"A": "b"}. Is not a valid strings array in JSON format. ...']),
    ("header without colon-space", {"OPENVIDU_WEBHOOK_HEADERS": '["Authorization:Basic x"]'}, [],
     [P + 'OPENVIDU_WEBHOOK_HEADERS=["Authorization:****"]. HTTP header '
      "'Authorization:****' " + HEADER_SYNTAX]),
    ("header empty name", {"OPENVIDU_WEBHOOK_HEADERS": '[": value"]'}, [],
     [P + 'OPENVIDU_WEBHOOK_HEADERS=[": ****"]. HTTP header '
      "': ****' syntax is not correct. Header name cannot be empty"]),
    ("header empty value", {"OPENVIDU_WEBHOOK_HEADERS": '["X-Name: "]'}, [],
     [P + 'OPENVIDU_WEBHOOK_HEADERS=["X-Name: "]. HTTP header '
      "'X-Name: ' syntax is not correct. Header value cannot be empty"]),
    ("framing header", {"OPENVIDU_WEBHOOK_HEADERS": '["Content-Length: 5"]'}, [],
     [P + 'OPENVIDU_WEBHOOK_HEADERS=["Content-Length: ****"]. HTTP header '
      "'Content-Length: ****' is not allowed. Content-Length is set by the bridge "
      "(framing and hop-by-hop headers cannot be configured)"]),
    ("hop-by-hop header, any case", {"OPENVIDU_WEBHOOK_HEADERS": '["transfer-ENCODING: chunked"]'}, [],
     [P + 'OPENVIDU_WEBHOOK_HEADERS=["transfer-ENCODING: ****"]. HTTP header '
      "'transfer-ENCODING: ****' is not allowed. Transfer-Encoding is set by the bridge ..."]),
    ("header name not a token", {"OPENVIDU_WEBHOOK_HEADERS": '["X A: 1", "X:Y: 2"]'}, [],
     [P + 'OPENVIDU_WEBHOOK_HEADERS=["X A: ****","X:Y: ****"]. HTTP header '
      "'X A: ****' syntax is not correct. Header name is not a token ...",
      P + 'OPENVIDU_WEBHOOK_HEADERS=["X A: ****","X:Y: ****"]. HTTP header '
      "'X:Y: ****' syntax is not correct. Header name is not a token ..."]),
    ("header blank value", {"OPENVIDU_WEBHOOK_HEADERS": '["X-WS:  "]'}, [],
     [P + 'OPENVIDU_WEBHOOK_HEADERS=["X-WS:  "]. HTTP header '
      "'X-WS:  ' syntax is not correct. Header value cannot be blank (spaces and tabs only)"]),
    ("unknown event", {"OPENVIDU_WEBHOOK_EVENTS": '["sessionCreated","recordingStarted"]'}, [],
     [P + 'OPENVIDU_WEBHOOK_EVENTS=["sessionCreated","recordingStarted"]. '
      "Event 'recordingStarted' does not exist"]),
    ("event names are case-sensitive", {"OPENVIDU_WEBHOOK_EVENTS": '["SessionCreated"]'}, [],
     [P + 'OPENVIDU_WEBHOOK_EVENTS=["SessionCreated"]. Event \'SessionCreated\' does not exist']),
    ("events not JSON", {"OPENVIDU_WEBHOOK_EVENTS": "sessionCreated"}, [],
     [P + "OPENVIDU_WEBHOOK_EVENTS=sessionCreated. Is not a valid strings array in JSON format. ..."]),
    ("workers zero", {"OVHOOK_WORKERS": "0"}, [], [P + "OVHOOK_WORKERS=0. ..."]),
    ("workers not a number", {"OVHOOK_WORKERS": "many"}, [], [P + "OVHOOK_WORKERS=many. ..."]),
    ("workers negative flag", {}, ["--workers", "-3"], [P + "OVHOOK_WORKERS=-3. ..."]),
    ("workers flag with =", {}, ["--workers=1x"], [P + "OVHOOK_WORKERS=1x. ..."]),
    ("bridge boolean", {"OVHOOK_INSECURE": "maybe"}, [],
     [P + "OVHOOK_INSECURE=maybe. ..."]),
    ("bad duration", {"OVHOOK_REQUEST_TIMEOUT": "10 parsecs"}, [],
     [P + "OVHOOK_REQUEST_TIMEOUT=10 parsecs. ..."]),
    ("bad size", {"OVHOOK_MAX_FRAME": "big"}, [], [P + "OVHOOK_MAX_FRAME=big. ..."]),
]


def matches (expected, line):
    if expected.startswith ("^"):
        return re.match (expected, line) is not None
    if expected.endswith ("..."):
        return line.startswith (expected [:-3]) and len (line) > len (expected) - 3
    return line == expected


class ConfigTest (ovhtest.BridgeTestCase):

    def run_bridge (self, env, args=(), timeout=10):
        started = time.monotonic ()
        result = ovhtest.run_program ("ovhook-bridge", args, env, timeout=timeout)
        return result + (time.monotonic () - started,)

    def assert_refused (self, env, args, expected, name):
        """Exit 2, each expected line on stderr, never ready, nothing bound."""
        receiver = self.receiver ()
        port = ovhtest.free_port ()
        env = dict (env, OVHOOK_BUS="@tcp://127.0.0.1:%d" % port)
        code, out, err, took = self.run_bridge (env, args)
        lines = err.splitlines ()
        self.assertEqual (code, 2, "%s: exit %s\nstderr:\n%s" % (name, code, err))
        for expected in expected:
            self.assertTrue (any (matches (expected, l) for l in lines),
                             "%s: no line %r\nstderr:\n%s" % (name, expected, err))
        self.assertNotIn ("ready:", err, name)
        self.assertEqual (receiver.requests, [], name)
        self.assertLess (took, 5, name)
        with socket.socket () as s:     #   the bus was never left bound
            self.assertNotEqual (s.connect_ex (("127.0.0.1", port)), 0, name)
        return err

    def test_each_error (self):
        for name, env, args, expected in ERRORS:
            with self.subTest (name):
                self.assert_refused (dict (OK, **env), args, expected, name)

    def test_unset_endpoint_with_webhook_on (self):
        err = self.assert_refused ({"OPENVIDU_WEBHOOK": "true"}, [], [], "unset endpoint")
        self.assertRegex (err, "(?m)" + EMPTY % "OPENVIDU_WEBHOOK_ENDPOINT"
                          + "With OPENVIDU_WEBHOOK=true, this property cannot be empty$")

    def test_unknown_flag (self):
        err = self.assert_refused (OK, ["--no-such-flag"], [], "unknown flag")
        self.assertIn ("--no-such-flag", err)
        err = self.assert_refused (OK, ["--workers"], [], "flag without value")
        self.assertIn ("--workers", err)

    def test_all_errors_are_printed (self):
        env = {"OPENVIDU_WEBHOOK": "maybe", "OPENVIDU_WEBHOOK_ENDPOINT": "nourl",
               "OPENVIDU_WEBHOOK_HEADERS": '["NoColon"]',
               "OPENVIDU_WEBHOOK_EVENTS": '["nope","sessionCreated","alsoNope"]',
               "OVHOOK_WORKERS": "0"}
        expected = [P + "OPENVIDU_WEBHOOK=maybe. Is not a boolean (true or false)",
                    P + "OPENVIDU_WEBHOOK_ENDPOINT=nourl. Is not a valid URL. ...",
                    P + "OPENVIDU_WEBHOOK_HEADERS=[\"NoColon\"]. HTTP header 'NoColon' "
                        + HEADER_SYNTAX,
                    P + "OPENVIDU_WEBHOOK_EVENTS=[\"nope\",\"sessionCreated\",\"alsoNope\"]. "
                        "Event 'nope' does not exist",
                    P + "OPENVIDU_WEBHOOK_EVENTS=[\"nope\",\"sessionCreated\",\"alsoNope\"]. "
                        "Event 'alsoNope' does not exist",
                    P + "OVHOOK_WORKERS=0. ..."]
        err = self.assert_refused (env, [], expected, "all errors")
        self.assertGreaterEqual (len ([l for l in err.splitlines () if "Property " in l]), 6)

    def test_check_config_masks_header_values (self):
        env = dict (OK, OPENVIDU_WEBHOOK_HEADERS='["Authorization: Bearer s3cr3t-t0ken",'
                                                 '"X-Api-Key: k3y-value"]',
                    OVHOOK_WORKERS="5")
        code, out, err, took = self.run_bridge (env, ["--check-config"])
        text = out + err
        self.assertEqual (code, 0, text)
        self.assertNotIn ("s3cr3t-t0ken", text)
        self.assertNotIn ("k3y-value", text)
        self.assertIn ("Authorization: ****", text)
        self.assertIn ("X-Api-Key: ****", text)
        self.assertRegex (text, r"(?m)^OVHOOK_WORKERS=5$")
        self.assertRegex (text, r"(?m)^OPENVIDU_WEBHOOK=true$")
        self.assertRegex (text, r"(?m)^OPENVIDU_WEBHOOK_ENDPOINT=http://127\.0\.0\.1:9/hook$")
        self.assertNotIn ("ready:", text)
        #   And with an error: exit 2 and the Property line
        code, out, err, took = self.run_bridge (dict (env, OPENVIDU_WEBHOOK="maybe"),
                                                ["--check-config"])
        self.assertEqual (code, 2, out + err)
        self.assertIn (P + "OPENVIDU_WEBHOOK=maybe. Is not a boolean (true or false)", err)

    def test_check_config_masks_endpoint (self):
        """userinfo and query values masked in --check-config and in errors"""
        url = "http://al1ce:pa55w0rd@127.0.0.1:9/hook?token=q-t0ken-v4lue"
        code, out, err, took = self.run_bridge (dict (OK, OPENVIDU_WEBHOOK_ENDPOINT=url),
                                                ["--check-config"])
        self.assertEqual (code, 0, out + err)
        self.assertRegex (out, r"(?m)^OPENVIDU_WEBHOOK_ENDPOINT=http://\*\*\*\*@127\.0\.0\.1:9"
                               r"/hook\?token=\*\*\*\*$")
        code, out, err, took = self.run_bridge (
            dict (OK, OPENVIDU_WEBHOOK_ENDPOINT="ftp" + url [4:]), ["--check-config"])
        self.assertEqual (code, 2, out + err)
        self.assertIn (P + "OPENVIDU_WEBHOOK_ENDPOINT=ftp://****@127.0.0.1:9/hook?token=****. "
                       "Is not a valid URL. ...".replace (" ...", ""), err)
        for secret in ("al1ce", "pa55w0rd", "q-t0ken-v4lue"):
            self.assertNotIn (secret, out + err)

    def test_errors_mask_header_values (self):
        """A bad headers setting is shown with its values masked: a token
        next to the bad header must not reach the log"""
        headers = '["Authorization: Bearer s3cr3t-t0ken", "Content-Length: 5", "X-Key:k3y-value"]'
        err = self.assert_refused (dict (OK, OPENVIDU_WEBHOOK_HEADERS=headers), [], [
            P + 'OPENVIDU_WEBHOOK_HEADERS=["Authorization: ****","Content-Length: ****",'
                '"X-Key:****"]. HTTP header \'Content-Length: ****\' is not allowed. ...',
            P + 'OPENVIDU_WEBHOOK_HEADERS=["Authorization: ****","Content-Length: ****",'
                '"X-Key:****"]. HTTP header \'X-Key:****\' ' + HEADER_SYNTAX], "masked")
        for secret in ("s3cr3t-t0ken", "k3y-value"):
            self.assertNotIn (secret, err)

    def test_ca_file_checked_at_start (self):
        """A CA file that holds no certificate stops the start (it would fail
        every delivery); a good one passes"""
        pki = ovhtest.make_pki (os.path.join (self.tmp, "pki"))
        def write (name, text):
            path = os.path.join (self.tmp, name)
            with open (path, "w") as f:
                f.write (text)
            return path
        cases = [
            ("not PEM", write ("passwd", "root:x:0:0:root:/root:/bin/bash\n"),
             "Contains no PEM certificate"),
            ("empty", write ("empty.pem", ""), "Is empty: it contains no PEM certificate"),
            ("a key, no certificate", pki ["key"], "Contains no PEM certificate"),
            ("broken PEM", write ("broken.pem", "-----BEGIN CERTIFICATE-----\nMII!\n"
                                                "-----END CERTIFICATE-----\n"),
             "Is not a valid PEM file: ..."),
            ("missing", os.path.join (self.tmp, "missing.pem"),
             "Is not a readable file: No such file or directory"),
            ("directory", self.tmp, "Is not a readable file: Not a regular file"),
        ]
        for name, path, reason in cases:
            with self.subTest (name):
                self.assert_refused (OK, ["--ca-file", path],
                                     [P + "OVHOOK_CA_FILE=%s. %s" % (path, reason)], name)
        code, out, err, took = self.run_bridge (dict (OK, OVHOOK_CA_FILE=pki ["ca"]),
                                                ["--check-config"])
        self.assertEqual (code, 0, out + err)
        self.assertIn ("OVHOOK_CA_FILE=%s\n" % pki ["ca"], out)

    def test_help_and_version (self):
        code, out, err, took = self.run_bridge ({}, ["--help"])
        self.assertEqual (code, 0, err)
        for flag in ("--bus", "--workers", "--env-file", "--check-config", "--insecure"):
            self.assertIn (flag, out + err)
        code, out, err, took = self.run_bridge ({}, ["--version"])
        self.assertEqual (code, 0, err)
        self.assertIn (ovhtest.project_version (), out + err)

    def test_disabled_webhook_exits_0 (self):
        for env in ({}, {"OPENVIDU_WEBHOOK": "false"}, {"OPENVIDU_WEBHOOK": "FALSE",
                                                         "OPENVIDU_WEBHOOK_ENDPOINT": ""}):
            with self.subTest (env=env):
                code, out, err, took = self.run_bridge (env)
                self.assertEqual (code, 0, err)
                self.assertIn ("webhook is disabled", err)
                self.assertEqual (out, "", "the log belongs on stderr")
                self.assertNotIn ("ready:", err)

    def test_boolean_any_case (self):
        for value in ("TRUE", "True", "tRuE"):
            code, out, err, took = self.run_bridge (dict (OK, OPENVIDU_WEBHOOK=value),
                                                    ["--check-config"])
            self.assertEqual (code, 0, err)
            self.assertRegex (out + err, r"(?m)^OPENVIDU_WEBHOOK=true$")

    def test_env_file_and_precedence (self):
        path = os.path.join (self.tmp, "ovhook.env")
        with open (path, "w") as f:
            f.write ("# a comment\n\nOPENVIDU_WEBHOOK=true\n"
                     "OPENVIDU_WEBHOOK_ENDPOINT=http://127.0.0.1:7/from-file\n"
                     "OVHOOK_WORKERS=3\nOVHOOK_MAX_FRAME=2M\n")
        def workers (env, args):
            code, out, err, took = self.run_bridge (env, ["--env-file", path, "--check-config"]
                                                    + args)
            self.assertEqual (code, 0, err)
            text = out + err
            self.assertRegex (text, r"(?m)^OPENVIDU_WEBHOOK_ENDPOINT=http://127\.0\.0\.1:7/from-file$")
            return re.search (r"(?m)^OVHOOK_WORKERS=(\d+)$", text).group (1)
        self.assertEqual (workers ({}, []), "3")                          # file
        self.assertEqual (workers ({"OVHOOK_WORKERS": "5"}, []), "5")     # env > file
        self.assertEqual (workers ({"OVHOOK_WORKERS": "5"}, ["--workers", "7"]), "7")
        self.assertEqual (workers ({"OVHOOK_WORKERS": "5"}, ["--workers=8"]), "8")
        #   Environment beats the file for OpenVidu's properties too
        code, out, err, took = self.run_bridge (
            {"OPENVIDU_WEBHOOK_ENDPOINT": "http://127.0.0.1:8/from-env"},
            ["--env-file", path, "--check-config"])
        self.assertEqual (code, 0, err)
        self.assertRegex (out + err, r"(?m)^OPENVIDU_WEBHOOK_ENDPOINT=http://127\.0\.0\.1:8/from-env$")
        #   A running bridge configured by the file alone
        receiver = self.receiver ()
        bind, connect = self.bus ()
        path = os.path.join (self.tmp, "run.env")
        with open (path, "w") as f:
            f.write ("OPENVIDU_WEBHOOK=true\nOPENVIDU_WEBHOOK_ENDPOINT=%s\nOVHOOK_BUS=%s\n"
                     % (receiver.url ("/f"), bind))
        bridge = self.start_bridge ({}, ["--env-file", path])
        self.assertIn (receiver.url ("/f"), bridge.ready_line)
        publisher = self.publisher (connect, ["sessionCreated"])
        publisher.send_line (ovhtest.examples () [0])
        self.assertEqual (receiver.wait_for (1, log=bridge.show) [0].path, "/f")
        self.assertEqual (bridge.stop () [0], 0)


if __name__ == "__main__":
    ovhtest.main ()
