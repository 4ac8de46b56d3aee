"""HTTPS endpoints: certificates are verified by default (--ca-file for a
private CA), a wrong or missing CA fails clearly, --insecure opts out with a
warning."""

import os
import re
import sys

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest

LINE = ovhtest.examples () [0]


class TlsTest (ovhtest.BridgeTestCase):

    @classmethod
    def setUpClass (cls):
        import tempfile
        cls.pki_dir = tempfile.mkdtemp (prefix="ovhtest-pki-")
        cls.pki = ovhtest.make_pki (cls.pki_dir)

    @classmethod
    def tearDownClass (cls):
        import shutil
        shutil.rmtree (cls.pki_dir, ignore_errors=True)

    def run_case (self, args=(), env=None, host="127.0.0.1"):
        """HTTPS receiver + bridge; publish one example, then a second one."""
        receiver = self.receiver (tls=(self.pki ["cert"], self.pki ["key"]))
        bind, connect = self.bus ()
        url = receiver.url ().replace ("127.0.0.1", host)
        bridge = self.start_bridge (self.webhook_env (url, bind, OVHOOK_RETRIES="0", **(env or {})), args)
        publisher = self.publisher (connect, ovhtest.DEFAULT_EVENTS)
        publisher.send_line (LINE)
        publisher.send ("sessionDestroyed", {"timestamp": 2, "sessionId": "ses_Jd8tUyvhXO"})
        return receiver, bridge, url

    def assert_delivered (self, receiver, bridge):
        requests = receiver.wait_for (2, log=bridge.show)
        self.assertEqual (requests [0].body, LINE)
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        self.assertEqual (ovhtest.parse_stopped (log) ["delivered"], 2, log)
        self.assertNotRegex (log, r"(?m)^E: ")
        return log

    def assert_certificate_error (self, receiver, bridge, url):
        pattern = (r"E: .*Error sending to callback endpoint %s: (.+) "
                   r"\(event sessionCreated, key ses_Jd8tUyvhXO, id evt_[0-9a-f]{32}\)" % re.escape (url))
        m = bridge.wait_log (pattern, what="certificate E: line")
        self.assertRegex (m.group (1), r"(?i)certificate|SSL peer")
        bridge.wait_log (pattern.replace ("sessionCreated", "sessionDestroyed"))
        self.assertEqual (receiver.requests, [], "nothing may reach an unverified server")
        self.assertTrue (receiver.wait_tls_error (), "the handshake was refused by the bridge")
        code, log = bridge.stop ()
        self.assertEqual (code, 0, log)
        stats = ovhtest.parse_stopped (log)
        self.assertEqual ((stats ["delivered"], stats ["failed"]), (0, 2), log)
        return m.group (1)

    def test_private_ca_file (self):
        receiver, bridge, url = self.run_case (["--ca-file", self.pki ["ca"]])
        self.assert_delivered (receiver, bridge)

    def test_private_ca_from_environment_and_localhost (self):
        receiver, bridge, url = self.run_case (env={"OVHOOK_CA_FILE": self.pki ["ca"]},
                                               host="localhost")
        self.assert_delivered (receiver, bridge)

    def test_system_cas_refuse_a_private_ca (self):
        receiver, bridge, url = self.run_case ()
        print ("\nsystem CAs:", self.assert_certificate_error (receiver, bridge, url))

    def test_wrong_ca_refused (self):
        receiver, bridge, url = self.run_case (["--ca-file", self.pki ["other_ca"]])
        print ("\nwrong CA:", self.assert_certificate_error (receiver, bridge, url))

    def test_insecure_delivers_with_a_warning (self):
        receiver, bridge, url = self.run_case (["--insecure"])
        log = self.assert_delivered (receiver, bridge)
        self.assertRegex (log, r"(?im)^W: .*(insecure|not verif|verification)")


if __name__ == "__main__":
    ovhtest.main ()
