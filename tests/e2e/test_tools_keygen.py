"""test_tools_keygen - ovhook-keygen as a separate process:

  pair        NAME (public, 0644) and NAME_secret (0600), one public key in
              both, in CZMQ's certificate format, the key printed
  metadata    --src-prefix and --meta land in both files' metadata section
  overwrite   an existing NAME or NAME_secret is never overwritten (exit 1,
              the files unchanged, nothing half-written left behind)
  usage       no NAME, two NAMEs, a bad --meta, an empty --src-prefix (2)
  accepted    the secret is accepted as --bus-key by the tools, the public
              one refused as a key with the loader's words

Run with Debian's /usr/bin/python3; $OVHOOK_BIN holds the binaries.
"""

import os
import stat
import sys

sys.path.insert (0, os.path.dirname (os.path.abspath (__file__)))
import ovhtest



def section (text, name):
    """The key = "value" lines of a ZPL section, as a dict"""
    values, inside = {}, False
    for line in text.splitlines ():
        if line and not line [0].isspace () and not line.startswith ("#"):
            inside = line.strip () == name
        elif inside and "=" in line:
            key, value = line.split ("=", 1)
            values [key.strip ()] = value.strip ().strip ('"')
    return values


class KeygenTest (ovhtest.BridgeTestCase):

    def path (self, name):
        return os.path.join (self.tmp, name)

    def run_keygen (self, *args):
        return ovhtest.run_program ("ovhook-keygen", list (args))

    def test_pair_modes_and_metadata (self):
        code, out, err = self.run_keygen ("--src-prefix", "media-1/", "--meta", "host=m1",
                                          "--meta", "role=publisher", self.path ("m1"))
        self.assertEqual (code, 0, err)
        public = open (self.path ("m1")).read ()
        secret = open (self.path ("m1_secret")).read ()
        self.assertEqual (stat.S_IMODE (os.stat (self.path ("m1_secret")).st_mode), 0o600)
        self.assertEqual (stat.S_IMODE (os.stat (self.path ("m1")).st_mode), 0o644)
        key = section (public, "curve") ["public-key"]
        self.assertEqual (len (key), 40)
        self.assertEqual (section (secret, "curve") ["public-key"], key)
        self.assertEqual (len (section (secret, "curve") ["secret-key"]), 40)
        self.assertNotIn ("secret-key", public)
        self.assertIn (key, out)
        for text in (public, secret):
            self.assertEqual (section (text, "metadata"),
                              {"src-prefix": "media-1/", "host": "m1", "role": "publisher"})
        #   Two runs, two keys
        self.assertEqual (self.run_keygen (self.path ("m2")) [0], 0)
        self.assertNotEqual (section (open (self.path ("m2")).read (), "curve") ["public-key"],
                             key)
        self.assertEqual (section (open (self.path ("m2")).read (), "metadata"), {})

    def test_never_overwrites (self):
        self.assertEqual (self.run_keygen (self.path ("k")) [0], 0)
        before = {name: open (self.path (name)).read () for name in ("k", "k_secret")}
        code, out, err = self.run_keygen (self.path ("k"))
        self.assertEqual (code, 1)
        self.assertIn ("k_secret exists: not overwritten", err)
        self.assertEqual ({name: open (self.path (name)).read () for name in before}, before)
        #   Only the public one there: refused, and no secret left behind
        with open (self.path ("p"), "w") as f:
            f.write ("mine\n")
        code, out, err = self.run_keygen (self.path ("p"))
        self.assertEqual (code, 1)
        self.assertIn ("%s exists: not overwritten" % self.path ("p"), err)
        self.assertEqual (open (self.path ("p")).read (), "mine\n")
        self.assertFalse (os.path.exists (self.path ("p_secret")))
        #   A folder that does not exist
        code, out, err = self.run_keygen (self.path ("none/k"))
        self.assertEqual (code, 1)
        self.assertIn ("cannot create", err)

    def test_usage_errors (self):
        for args, text in (
                ([], "NAME is missing"),
                ([self.path ("a"), self.path ("b")], "one NAME only"),
                (["--meta", "novalue", self.path ("a")], "--meta needs KEY=VALUE"),
                (["--meta", "bad key=1", self.path ("a")], "--meta needs KEY=VALUE"),
                (["--meta", 'k=a"b', self.path ("a")], "has a control character or a double"),
                (["--src-prefix", "", self.path ("a")], "--src-prefix needs a printable prefix"),
                (["--src-prefix"], "--src-prefix needs a value"),
                (["--bogus", self.path ("a")], "unknown option '--bogus'")):
            code, out, err = self.run_keygen (*args)
            self.assertEqual (code, 2, (args, err))
            self.assertIn (text, err, args)
            self.assertFalse (os.path.exists (self.path ("a_secret")), args)
        code, out, err = self.run_keygen ("--help")
        self.assertEqual (code, 0)
        self.assertIn ("--src-prefix", out)

    def test_tools_take_the_secret_not_the_public_file (self):
        self.assertEqual (self.run_keygen (self.path ("k")) [0], 0)
        port = ovhtest.free_port ()
        bus = ">tcp://127.0.0.1:%d" % port
        #   The secret loads: what fails is the missing subscriber (1), not
        #   the key (2)
        code, out, err = ovhtest.run_program ("ovhook-inject", [
            "--bus", bus, "--bus-key", self.path ("k_secret"), "--bus-server-key",
            self.path ("k"), "--join-timeout", 100, "sessionCreated", "sessionId=s"])
        self.assertEqual (code, 1, err)
        self.assertIn ("no subscriber", err)
        code, out, err = ovhtest.run_program ("ovhook-inject", [
            "--bus", bus, "--bus-key", self.path ("k"), "--bus-server-key", self.path ("k"),
            "sessionCreated", "sessionId=s"])
        self.assertEqual (code, 2, err)
        self.assertEqual (err, "ovhook-inject: bus key '%s': no curve secret-key in it (give "
                          "the NAME_secret file, not the public NAME)\n" % self.path ("k"))


if __name__ == "__main__":
    ovhtest.main ()
