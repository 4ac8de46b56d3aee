"""The systemd units and the env files, as installed by 'cmake --install'.

  verify      systemd-analyze verify passes without a single message on the
              installed units (their ExecStart= names the installed binary,
              their Documentation= the installed man pages), and does
              complain about a broken copy (so the check can fail)
  security    systemd-analyze security --offline rates both units 2.0 or
              better (hardening kept)
  env file    every key in packaging/ovhook.env is a setting ovhook-bridge
              --help lists, and every variable it lists is in the file;
              uncommented, the file means the same to systemd's parser and
              to the bridge's --env-file (same --check-config output)
  proxy env   the proxy's file names only what its unit or the proxy reads
Skips (77) without systemd-analyze, with the reason.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert (0, os.path.join (os.path.dirname (os.path.abspath (__file__)), "..", "e2e"))
import ovhtest  # noqa: E402

BUILD_DIR = os.path.dirname (ovhtest.BIN_DIR)
PACKAGING = os.path.join (ovhtest.SOURCE_DIR, "packaging")
ANALYZE = shutil.which ("systemd-analyze")
ENV_GENERATOR = "/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator"
UNITS = ("ovhook-bridge.service", "ovhook-proxy.service")


def install (prefix):
    """cmake --install of the build tree into 'prefix'."""
    result = subprocess.run (["cmake", "--install", BUILD_DIR, "--prefix", prefix],
                             capture_output=True, text=True)
    assert result.returncode == 0, "cmake --install failed:\n" + result.stdout + result.stderr
    return prefix


def examples (path):
    """The file with each '#KEY=value' example line made an assignment."""
    with open (path, encoding="utf-8") as file:
        return [re.sub (r"^#([A-Z_][A-Z0-9_]*=)", r"\1", line.rstrip ("\n")) for line in file]


def assigned_keys (path):
    keys = []
    for line in examples (path):
        match = re.match (r"([A-Z_][A-Z0-9_]*)=", line)
        if match:
            keys.append (match.group (1))
    return keys


def systemd_parse (text, folder):
    """'text' as systemd's env-file parser reads it, as {key: value}.
    systemd-environment-d-generator reads environment.d files with the
    parser EnvironmentFile= uses (and expands $VARS, which the example
    files do not use)."""
    config = os.path.join (folder, "environment.d")
    os.makedirs (config, exist_ok=True)
    with open (os.path.join (config, "ovhook.conf"), "w", encoding="utf-8") as file:
        file.write (text)
    result = subprocess.run ([ENV_GENERATOR], capture_output=True, text=True,
                             env={"XDG_CONFIG_HOME": folder, "XDG_CONFIG_DIRS": "/nonexistent"})
    assert result.returncode == 0 and result.stderr == "", result.stderr
    values = {}
    for line in result.stdout.splitlines ():
        key, _, value = line.partition ("=")
        if value.startswith ('"'):          # the generator's own quoting
            value = value [1:-1].replace ('\\"', '"').replace ("\\\\", "\\")
        values [key] = value
    return values


@unittest.skipUnless (ANALYZE, "systemd-analyze is not installed (Debian package systemd)")
class UnitsTest (unittest.TestCase):
    @classmethod
    def setUpClass (cls):
        cls.folder = tempfile.mkdtemp (prefix="ovhook-units-")
        cls.prefix = install (os.path.join (cls.folder, "prefix"))
        cls.unitdir = os.path.join (cls.prefix, "lib", "systemd", "system")

    @classmethod
    def tearDownClass (cls):
        shutil.rmtree (cls.folder, ignore_errors=True)

    def verify (self, units):
        env = dict (os.environ, MANPATH=os.path.join (self.prefix, "share", "man"))
        return subprocess.run ([ANALYZE, "verify", "--man=yes"] + units, capture_output=True,
                               text=True, env=env, cwd=self.folder)

    def test_verify_is_silent (self):
        units = [os.path.join (self.unitdir, unit) for unit in UNITS]
        for unit in units:
            with open (unit) as file:
                self.assertIn ("ExecStart=%s/bin/" % self.prefix, file.read ())
        result = self.verify (units)
        self.assertEqual ((result.returncode, result.stdout + result.stderr), (0, ""))

    def test_verify_catches_a_broken_unit (self):
        broken = os.path.join (self.folder, "ovhook-broken.service")
        with open (os.path.join (self.unitdir, UNITS [0])) as source, open (broken, "w") as file:
            file.write (source.read ().replace ("Restart=on-failure", "Restart=sometimes"))
        result = self.verify ([broken])
        self.assertIn ("sometimes", result.stderr)

    def test_hardening (self):
        for unit in UNITS:
            result = subprocess.run ([ANALYZE, "security", "--offline=true", "--no-pager",
                                      os.path.join (self.unitdir, unit)],
                                     capture_output=True, text=True, cwd=self.folder)
            match = re.search (r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
            self.assertIsNotNone (match, result.stdout + result.stderr)
            self.assertLessEqual (float (match.group (1)), 2.0, result.stdout)


class EnvFileTest (unittest.TestCase):
    def setUp (self):
        self.folder = tempfile.mkdtemp (prefix="ovhook-env-")

    def tearDown (self):
        shutil.rmtree (self.folder, ignore_errors=True)

    def help_variables (self):
        code, out, err = ovhtest.run_program ("ovhook-bridge", ["--help"])
        self.assertEqual (code, 0, err)
        return set (re.findall (r"^  -.*?\s((?:OPENVIDU|OVHOOK)_[A-Z0-9_]+)\s*$", out, re.M))

    def test_bridge_file_names_every_setting_and_only_those (self):
        listed = self.help_variables ()
        self.assertGreater (len (listed), 30, "the help lists the variables")
        keys = assigned_keys (os.path.join (PACKAGING, "ovhook.env"))
        self.assertEqual (len (keys), len (set (keys)), "a key twice in ovhook.env")
        self.assertEqual (sorted (set (keys) - listed), [],
                          "packaging/ovhook.env names settings ovhook-bridge --help does not list")
        self.assertEqual (sorted (listed - set (keys)), [],
                          "packaging/ovhook.env lacks settings ovhook-bridge --help lists: "
                          "add a commented '#KEY=default' line for each")

    def test_every_setting_is_explained (self):
        with open (os.path.join (PACKAGING, "ovhook.env"), encoding="utf-8") as file:
            lines = file.read ().splitlines ()
        for index, line in enumerate (lines):
            if re.match (r"#?[A-Z_][A-Z0-9_]*=", line):
                self.assertTrue (lines [index - 1].startswith ("# "),
                                 "ovhook.env:%d: %s has no comment above it" % (index + 1, line))

    def test_systemd_and_the_bridge_read_it_alike (self):
        if not os.access (ENV_GENERATOR, os.X_OK):
            self.skipTest ("no %s (systemd's env-file parser)" % ENV_GENERATOR)
        # Paths would need files; the rest is what quoting could change
        lines = [line for line in examples (os.path.join (PACKAGING, "ovhook.env"))
                 if not re.match (r"[A-Z_0-9]+=/", line)]
        self.assertIn ("OPENVIDU_WEBHOOK=true", lines)
        text = "\n".join (lines) + "\n"
        self.assertNotIn ("$", text, "systemd's test parser would expand it")
        env_file = os.path.join (self.folder, "ovhook.env")
        with open (env_file, "w", encoding="utf-8") as file:
            file.write (text)
        by_bridge = ovhtest.run_program ("ovhook-bridge", ["--env-file", env_file, "--check-config"])
        by_systemd = ovhtest.run_program ("ovhook-bridge", ["--check-config"],
                                          env=systemd_parse (text, self.folder))
        self.assertEqual (by_bridge [0], 0, by_bridge [2])
        self.assertIn ('OPENVIDU_WEBHOOK_HEADERS=["Authorization: ****"]', by_bridge [1])
        self.assertEqual (by_systemd, by_bridge)

    def test_proxy_file (self):
        keys = assigned_keys (os.path.join (PACKAGING, "ovhook-proxy.env"))
        with open (os.path.join (PACKAGING, "systemd", "ovhook-proxy.service")) as file:
            unit = file.read ()
        code, out, err = ovhtest.run_program ("ovhook-proxy", ["--help"])
        for key in keys:
            self.assertTrue (key in unit or key in out, "ovhook-proxy.env: %s is read by "
                             "neither the unit nor the proxy" % key)
        for variable in re.findall (r"OVHOOK_BUS_[A-Z_]+", out):
            self.assertIn (variable, keys)


if __name__ == "__main__":
    result = unittest.main (exit=False, verbosity=2).result
    if result.wasSuccessful () and len (result.skipped) == result.testsRun:
        sys.exit (77)
    sys.exit (0 if result.wasSuccessful () else 1)
