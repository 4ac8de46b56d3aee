"""Secrets: the webhook secret and the headers read from files
(--secret-file, --headers-file), so that they are in neither argv nor the
environment; no secret (signing key, header value, endpoint password or
query token) in any line the bridge writes, text or JSON logs and
--check-config included; a signing key shorter than 24 bytes is a warning,
not an error."""

import base64
import hashlib
import hmac
import json
import os
import sys

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest


def event (session, topic="sessionCreated"):
    return topic, {"timestamp": 1700000000000, "sessionId": session}


def whsec (size):
    return "whsec_" + base64.b64encode (os.urandom (size)).decode ()


class SecretsTest (ovhtest.BridgeTestCase):

    def write (self, name, text):
        path = os.path.join (self.tmp, name)
        with open (path, "w") as f:
            f.write (text)
        return path

    def test_secrets_from_files_never_shown (self):
        self.check_secrets_never_shown ("text")

    def test_secrets_never_in_json_logs (self):
        self.check_secrets_never_shown ("json")

    def check_secrets_never_shown (self, log_format):
        secret = whsec (32)
        token, query, password = ("hdr-t0ken-" + os.urandom (8).hex (),
                                  "q-t0ken-" + os.urandom (8).hex (),
                                  "pa55-" + os.urandom (8).hex ())
        secret_file = self.write ("secret", secret + "\n")
        headers_file = self.write ("headers.json", '["Authorization: Bearer %s"]\n' % token)
        receiver = self.receiver (lambda r: 500 if b"ses_fail" in r.body else 200)
        bind, connect = self.bus ()
        url = "http://al1ce:%s@127.0.0.1:%d/hook?token=%s" % (password, receiver.port, query)
        env = self.webhook_env (url, bind, OVHOOK_RETRIES="0", OVHOOK_VERBOSE="true",
                                OVHOOK_LOG_FORMAT=log_format)
        args = ["--secret-file", secret_file, "--headers-file", headers_file]
        code, out, err = ovhtest.run_program ("ovhook-bridge", args + ["--check-config"], env) [:3]
        self.assertEqual (code, 0, out + err)
        self.assertIn ("OVHOOK_WEBHOOK_SECRET=****\n", out)
        self.assertIn ("OVHOOK_WEBHOOK_SECRET_FILE=%s\n" % secret_file, out)
        self.assertIn ('OPENVIDU_WEBHOOK_HEADERS=["Authorization: ****"]\n', out)
        bridge = self.start_bridge (env, args)
        with open ("/proc/%d/cmdline" % bridge.process.pid, "rb") as f:
            self.assertNotIn (secret.encode (), f.read ())
        publisher = self.publisher (connect, ovhtest.DEFAULT_EVENTS)
        publisher.send (*event ("ses_ok"))
        publisher.send (*event ("ses_fail"))
        requests = receiver.wait_for (2, log=bridge.show)
        bridge.wait_log (r"E: .*received 500" if log_format == "text"
                         else r'"level":"error".*received 500')
        #   What the files hold is what is sent
        request = requests [0]
        self.assertEqual (request.header ("Authorization"), ["Bearer " + token])
        self.assertEqual (request.path, "/hook?token=" + query)
        signed = ("%s.%s.%s" % (request.header ("webhook-id") [0],
                                request.header ("webhook-timestamp") [0],
                                request.body.decode ())).encode ()
        key = base64.b64decode (secret [6:])
        expected = base64.b64encode (hmac.new (key, signed, hashlib.sha256).digest ()).decode ()
        self.assertEqual (request.header ("webhook-signature"), ["v1," + expected])
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        everything = out + err + log
        if log_format == "json":
            #   Decoded too: an escape must not hide a secret from this check
            lines = [json.loads (line) for line in log.splitlines ()]
            self.assertTrue (any ("received 500" in line ["msg"] for line in lines), log)
            everything += "".join (json.dumps (line, ensure_ascii=False) for line in lines)
        for shown in (secret, secret [6:], token, query, password):
            self.assertNotIn (shown, everything)

    def test_short_key_warns (self):
        short = whsec (16)
        secret_file = self.write ("short", short)
        receiver = self.receiver ()
        bind, connect = self.bus ()
        env = self.webhook_env (receiver.url ("/hook"), bind, OVHOOK_WEBHOOK_SECRET_FILE=secret_file)
        code, out, err = ovhtest.run_program ("ovhook-bridge", ["--check-config"], env) [:3]
        self.assertEqual (code, 0, out + err)
        warning = ("OVHOOK_WEBHOOK_SECRET: key 1 is 16 bytes long; Standard Webhooks asks "
                   "for 24 to 64 random bytes")
        self.assertIn ("ovhook-bridge: warning: " + warning + "\n", err)
        bridge = self.start_bridge (env)
        code, log = bridge.stop ()
        self.assertRegex (log, r"W: .*" + warning)
        self.assertNotIn (short [6:], out + err + log)
        #   24 bytes: no warning
        env ["OVHOOK_WEBHOOK_SECRET_FILE"] = self.write ("long", whsec (24))
        code, out, err = ovhtest.run_program ("ovhook-bridge", ["--check-config"], env) [:3]
        self.assertEqual ((code, err), (0, ""))

    def test_file_errors_exit_2 (self):
        secret_file = self.write ("secret", whsec (32))
        empty = self.write ("empty", "\n")
        env = {"OPENVIDU_WEBHOOK": "true", "OPENVIDU_WEBHOOK_ENDPOINT": "http://127.0.0.1:9/x",
               "OVHOOK_WEBHOOK_SECRET": whsec (32)}
        code, out, err = ovhtest.run_program (
            "ovhook-bridge", ["--secret-file", secret_file, "--headers-file", empty], env) [:3]
        self.assertEqual (code, 2, err)
        P = "ovhook-bridge: Property "
        self.assertEqual (err.splitlines (), [
            P + "OVHOOK_WEBHOOK_HEADERS_FILE=%s. Is empty" % empty,
            P + "OVHOOK_WEBHOOK_SECRET_FILE=%s. Cannot be used together with "
                "OVHOOK_WEBHOOK_SECRET: give one or the other" % secret_file])


if __name__ == "__main__":
    ovhtest.main ()
