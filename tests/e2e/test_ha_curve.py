"""The active/standby pair's link with CURVE (docs/ha.md): when the bus
uses CURVE (--bus-key), so does the link, each bridge trusting only the
peer's public certificate in --ha-keys. The pair works over it (takeover
after kill -9, every event delivered), and a wrong key in --ha-keys keeps
the peers apart: neither hears the other."""

import os
import re
import shutil
import sys
import tempfile
import time

import zmq

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest
import curve
import test_ha_pair
from test_ha_pair import MAX_DUPLICATES


class HaCurveTest (test_ha_pair.HaPairTest):

    """The plaintext cases are test_ha_pair.py's: not run again here"""

    def setUp (self):
        keys = os.path.join (self.tmp_keys (), "keys")
        self.keys = {name: curve.keygen (keys, name) for name in ("bus", "primary", "backup",
                                                                   "stranger")}
        super ().setUp ()

    def tmp_keys (self):
        folder = tempfile.mkdtemp (prefix="ovhtest-ha-keys-")
        self.addCleanup (shutil.rmtree, folder, True)
        return folder

    def secure_bus (self, socket):
        socket.setsockopt (zmq.CURVE_SERVER, 1)
        socket.setsockopt (zmq.CURVE_SECRETKEY, self.keys ["bus"].secret)

    def trusted (self, role):
        """The folder of the key 'role' trusts as its peer's"""
        peer = {"primary": "backup", "backup": "primary"} [role]
        if getattr (self, "wrong_key", None) == role:
            peer = "stranger"
        folder = os.path.join (self.tmp, "trusted-by-" + role)
        if not os.path.isdir (folder):
            self.keys [peer].allow_in (folder)
        return folder

    def link_env (self, role):
        return {"OVHOOK_BUS_KEY": self.keys [role].secret_path,
                "OVHOOK_BUS_SERVER_KEY": self.keys ["bus"].public_path,
                "OVHOOK_HA_KEYS": self.trusted (role)}

    def test_takeover_over_curve (self):
        primary, backup = self.start_pair ()
        for bridge in (primary, backup):
            self.assertRegex (bridge.log (), r"ha: CURVE on the link, public key \S+; the "
                              r"peer's key from .*trusted-by-")
        load, events, takeover = self.load_and_kill (primary, backup, 3, 1)
        load.join (10)
        extra = self.check_delivery (len (events), backup.show)
        self.assertLessEqual (extra, MAX_DUPLICATES)
        code, log = backup.stop ()
        self.assertEqual (code, 0, log)

    def test_wrong_peer_key_keeps_them_apart (self):
        self.wrong_key = "backup"       #   the backup trusts a stranger's key
        primary = self.bridge ("primary", "primary")
        backup = self.bridge ("backup", "backup")
        time.sleep (3 * ovhtest.SLOW)
        for bridge in (primary, backup):
            self.assertNotIn ("ha: peer up", bridge.log (), bridge.show ())
            self.assertIsNone (re.search (r"now (active|passive)", bridge.log ()), bridge.show ())
        self.assertEqual (test_ha_pair.gauges (self.metrics ["backup"]) ["ovhook_ha_peer_up"], 0)
        #   The backup's link refused the primary's key, and says so
        self.assertRegex (backup.log (), r"refused key %s from 127\.0\.0\.1: not in .*"
                          r"trusted-by-backup" % re.escape (self.keys ["primary"].public.decode ()))


for _name in [n for n in vars (test_ha_pair.HaPairTest) if n.startswith ("test_")]:
    setattr (HaCurveTest, _name, None)


if __name__ == "__main__":
    ovhtest.main ()
