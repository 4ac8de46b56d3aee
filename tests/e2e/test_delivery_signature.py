"""Signatures (Standard Webhooks v1): with OVHOOK_WEBHOOK_SECRET every request
carries webhook-signature 'v1,<base64 HMAC-SHA256 (key, id.timestamp.body)>',
one entry per secret in the order given. Verified here with Python's
hmac/hashlib (an implementation independent of the bridge's), and with the
documented example receiver (docs/examples/verify_receiver.py). A malformed
secret is a configuration error (exit 2) that never shows the secret."""

import base64
import importlib.util
import json
import os
import sys
import time

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import delivery

EXAMPLE = os.path.join (ovhtest.SOURCE_DIR, "docs", "examples", "verify_receiver.py")


def fail_once (body, attempt, request):
    return 500 if body.get ("sessionId") == "ses_retry" and attempt == 1 else 200


def load_example ():
    """docs/examples/verify_receiver.py as a module (it must be importable)."""
    assert os.path.exists (EXAMPLE), "%s is missing" % EXAMPLE
    spec = importlib.util.spec_from_file_location ("verify_receiver", EXAMPLE)
    module = importlib.util.module_from_spec (spec)
    spec.loader.exec_module (module)
    assert callable (getattr (module, "verify", None)), "%s has no verify ()" % EXAMPLE
    return module


def accepts (verify, secrets, request, now=None, body=None):
    """True if the example's verify () accepts the request. It returns
    (ok, reason); a rejection is a false ok (or an exception)."""
    headers = {name.lower (): value for name, value in request.headers}
    try:
        result = verify (secrets, headers, request.body if body is None else body,
                         int (time.time ()) if now is None else now)
    except Exception:                   # the example may raise to reject
        return False
    if isinstance (result, tuple):
        result = result [0]
    return result is True


class SignatureTest (ovhtest.BridgeTestCase):

    def deliver_signed (self, args=(), **env):
        """Bridge with 'env'/'args', 15 examples plus one event answered 500
        once (so a retry is signed too): returns (requests, bridge log)."""
        receiver, bridge, xpub = self.bridge_setup (
            delivery.Attempts (fail_once), events=ovhtest.ALL_EVENTS,
            args=delivery.FAST_RETRY + list (args), **env)
        publisher = delivery.SeqPublisher (xpub)
        for line in ovhtest.examples ():
            body = json.loads (line)
            publisher.send (body.pop ("event"), body)
        publisher.send ("sessionCreated", {"timestamp": 1, "sessionId": "ses_retry"})
        requests = receiver.wait_for (17, log=bridge.show)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertEqual (len (receiver.requests), 17)
        return requests, log

    def test_one_secret (self):
        secret, key = delivery.new_secret ()
        requests, log = self.deliver_signed (OVHOOK_WEBHOOK_SECRET=secret)
        _, wrong_key = delivery.new_secret ()
        retried = set ()
        for request in requests:
            (signature,) = request.header ("webhook-signature")
            self.assertRegex (signature, r"^v1,[A-Za-z0-9+/]{43}=$")
            self.assertEqual (delivery.verify_entries (key, request), [True], request)
            #   Another key, or a changed body, id or timestamp: no match
            self.assertEqual (delivery.verify_entries (wrong_key, request), [False])
            request.body += b" "
            self.assertEqual (delivery.verify_entries (key, request), [False])
            request.body = request.body [:-1]
            if request.json ().get ("sessionId") == "ses_retry":
                retried.add (request.header ("webhook-id") [0])
        self.assertEqual (len (retried), 1, "the retry has the same id and is signed too")
        self.assertNotIn (secret [6:], log)

    def test_rotation_two_secrets (self):
        old, old_key = delivery.new_secret (32)
        #   20 bytes: base64 with one '=' of padding, given without it
        new, new_key = delivery.new_secret (20, padding=False)
        self.assertFalse (new.endswith ("="))
        requests, log = self.deliver_signed (args=["--secret", old + " " + new])
        _, wrong_key = delivery.new_secret ()
        for request in requests:
            (signature,) = request.header ("webhook-signature")
            self.assertRegex (signature, r"^v1,\S+ v1,\S+$")
            #   Each entry verifies with its own secret, in the order given
            self.assertEqual (delivery.verify_entries (old_key, request), [True, False])
            self.assertEqual (delivery.verify_entries (new_key, request), [False, True])
            self.assertEqual (delivery.verify_entries (wrong_key, request), [False, False])
        for secret in (old, new):
            self.assertNotIn (secret [6:], log)

    def test_example_receiver_accepts_the_bridge (self):
        verify = load_example ().verify
        old, _ = delivery.new_secret ()
        new, _ = delivery.new_secret (48)
        other, _ = delivery.new_secret ()
        requests, log = self.deliver_signed (OVHOOK_WEBHOOK_SECRET=old + " " + new)
        for request in requests:
            self.assertTrue (accepts (verify, [old], request), request)
            self.assertTrue (accepts (verify, [new], request), request)
            self.assertTrue (accepts (verify, [other, new], request), request)
            self.assertFalse (accepts (verify, [other], request), "wrong secret accepted")
            self.assertFalse (accepts (verify, [old], request, body=request.body + b" "),
                              "changed body accepted")
            #   The timestamp is checked: +-5 minutes
            self.assertFalse (accepts (verify, [old], request, now=int (time.time ()) + 600),
                              "a 10-minute-old request accepted")
            self.assertFalse (accepts (verify, [old], request, now=int (time.time ()) - 600),
                              "a request from the future accepted")

    def test_malformed_secret_is_a_config_error (self):
        good, _ = delivery.new_secret ()
        too_long = "whsec_" + base64.b64encode (os.urandom (65)).decode ()
        cases = [                       #   value, entry named in the message
            ("n0tAWhsecPrefixValue", 1),
            ("whsec_", 1),              #   decodes to 0 bytes
            ("whsec_Zm9v*YmFy!!", 1),   #   not base64
            (too_long, 1),              #   65 bytes: more than 64
            (good + " whsec_Zm9v$$YmFy", 2),
            (good + " " + good [6:], 2),    #   the second lacks its prefix
        ]
        bind, _ = self.bus ()
        for value, entry in cases:
            for how in ("env", "flag"):
                with self.subTest (value=value [:30], how=how):
                    env = self.webhook_env ("http://127.0.0.1:9/hook", bind)
                    args = []
                    if how == "env":
                        env ["OVHOOK_WEBHOOK_SECRET"] = value
                    else:
                        args = ["--secret", value]
                    code, out, err = ovhtest.run_program ("ovhook-bridge", args, env, timeout=10)
                    self.assertEqual (code, 2, err)
                    self.assertNotIn ("ready:", err)
                    self.assertRegex (err, r"ovhook-bridge: Property OVHOOK_WEBHOOK_SECRET=\*\*\*\*\. "
                                           r"Is not a valid secret: entry %d\b" % entry)
                    for part in value.split (" "):
                        secret_part = part [6:] if part.startswith ("whsec_") else part
                        if len (secret_part) >= 6:
                            self.assertNotIn (secret_part, err + out, "the secret leaked")

    def test_check_config_masks_the_secret (self):
        secret, _ = delivery.new_secret ()
        bind, _ = self.bus ()
        env = self.webhook_env ("http://127.0.0.1:9/hook", bind, OVHOOK_WEBHOOK_SECRET=secret)
        code, out, err = ovhtest.run_program ("ovhook-bridge", ["--check-config"], env)
        self.assertEqual (code, 0, err)
        self.assertNotIn (secret [6:], out + err)
        self.assertRegex (out, r"(?m)^OVHOOK_WEBHOOK_SECRET=\*\*\*\*")

    def test_no_secret_no_signature (self):
        receiver, bridge, publisher = self.bridge_setup ()
        publisher.send ("sessionCreated", {"timestamp": 1, "sessionId": "ses_plain"})
        (request,) = receiver.wait_for (1, log=bridge.show)
        self.assertEqual (request.header ("webhook-signature"), [])
        self.assertEqual (len (request.header ("webhook-id")), 1)


if __name__ == "__main__":
    ovhtest.main ()
