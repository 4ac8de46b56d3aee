"""The Debian package, installed on a clean Debian 12 root.

Builds the .deb from the build tree (cpack -G DEB into a temporary
folder), makes a minimal bookworm root with mmdebstrap (--variant=apt)
from the mirror this machine's apt uses, installs the package there with
apt (which fetches its dependencies), then, chrooted:
  runs        ovhook-bridge --version, every program's --help
  keys        ovhook-keygen writes a pair the bridge then loads (its
              --check-config shows the same public key)
  files       the env files (conffiles, as shipped), the units, the man
              pages, ovhook.pc naming /usr, libovhook.so.0 known to ldconfig
  service     with systemd added to the root and booted in it
              (systemd-nspawn, the host's network): the bridge's unit as
              shipped starts under all its hardening, loads its bus key as a
              credential, writes its spool, delivers a CURVE-published event
              to a receiver in this test, and stops with its last line; the
              proxy's unit starts on the ports its env file names; both
              are Type=notify, so each started only once it sent READY=1
  purge       apt-get purge removes it all, conffiles included
Skips (77), saying why: not root, no mmdebstrap, no reachable mirror, or a
sanitizer build (its binaries need the sanitizer runtime); the service part
alone without systemd-nspawn (systemd-container). 1.5 to 3 minutes, most
of it mmdebstrap and apt.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert (0, os.path.join (os.path.dirname (os.path.abspath (__file__)), "..", "e2e"))
import ovhtest  # noqa: E402

BUILD_DIR = os.path.dirname (ovhtest.BIN_DIR)
PACKAGING = os.path.join (ovhtest.SOURCE_DIR, "packaging")
PROGRAMS = ("bridge", "inject", "tail", "proxy", "keygen")


def apt_sources ():
    """This machine's Debian sources file (deb822 or one-line), and a URL
    of its first bookworm mirror, or (None, None)."""
    candidates = sorted (glob.glob ("/etc/apt/sources.list.d/*.sources")) + ["/etc/apt/sources.list"]
    for path in candidates:
        if not os.path.isfile (path):
            continue
        with open (path) as file:
            text = file.read ()
        if "bookworm" not in text:
            continue
        match = re.search (r"^URIs:\s*(\S+)", text, re.M) or \
            re.search (r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\b", text, re.M)
        if match:
            return path, match.group (1).rstrip ("/")
    return None, None


def why_skip ():
    if os.geteuid () != 0:
        return "not root (mmdebstrap makes a root and chroots into it)"
    if not shutil.which ("mmdebstrap"):
        return "mmdebstrap is not installed"
    cache = os.path.join (BUILD_DIR, "CMakeCache.txt")
    with open (cache) as file:
        if re.search (r"^OVHOOK_(SANITIZE|TSAN|FUZZ):BOOL=ON", file.read (), re.M):
            return "a sanitizer build: its binaries need the sanitizer runtime, not packaged"
    sources, mirror = apt_sources ()
    if not sources:
        return "no bookworm source in /etc/apt/sources.list*"
    try:
        urllib.request.urlopen (mirror + "/dists/bookworm/InRelease", timeout=15).close ()
    except OSError as error:
        return "mirror %s not reachable: %s" % (mirror, error)
    return None


def run (command, **kwargs):
    result = subprocess.run (command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, "%s failed (%d):\n%s%s" % (
        " ".join (command), result.returncode, result.stdout [-3000:], result.stderr [-3000:])
    return result.stdout


REASON = why_skip ()


@unittest.skipIf (REASON, REASON)
class DebTest (unittest.TestCase):
    @classmethod
    def setUpClass (cls):
        cls.folder = tempfile.mkdtemp (prefix="ovhook-deb-")
        started = time.monotonic ()
        run (["cpack", "-G", "DEB", "--config", os.path.join (BUILD_DIR, "CPackConfig.cmake"),
              "-B", cls.folder], cwd=BUILD_DIR)
        debs = glob.glob (os.path.join (cls.folder, "ovhook_*.deb"))
        assert len (debs) == 1, "cpack made %s" % debs
        cls.deb = debs [0]
        cls.root = os.path.join (cls.folder, "root")
        name = os.path.basename (cls.deb)
        # The package is copied in and installed by apt inside the root, so
        # that its dependencies come from the mirror as on a real host
        run (["mmdebstrap", "--variant=apt", "--quiet", "--skip=cleanup/apt/lists",
              "--customize-hook=copy-in %s /tmp" % cls.deb,
              "--customize-hook=chroot \"$1\" apt-get install -y -q /tmp/%s" % name,
              "--customize-hook=chroot \"$1\" apt-get clean",
              "bookworm", cls.root, apt_sources () [0]])
        print ("\npackage built and installed in a clean root in %.0f s"
               % (time.monotonic () - started), file=sys.stderr)

    @classmethod
    def tearDownClass (cls):
        shutil.rmtree (cls.folder, ignore_errors=True)

    def chroot (self, *command, check=True):
        result = subprocess.run ([shutil.which ("chroot") or "/usr/sbin/chroot", self.root]
                                 + list (command), capture_output=True,
                                 text=True, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        if check:
            self.assertEqual (result.returncode, 0, "%s: %s" % (command, result.stderr))
        return result

    def test_1_programs_run (self):
        out = self.chroot ("ovhook-bridge", "--version").stdout
        self.assertTrue (out.startswith ("ovhook-bridge %s " % ovhtest.project_version ()), out)
        for program in PROGRAMS:
            self.assertIn ("Usage: ovhook-" + program, self.chroot ("ovhook-" + program, "--help").stdout)

    def test_1_keygen_round_trip (self):
        self.chroot ("ovhook-keygen", "/tmp/bridge")
        self.assertEqual (os.stat (os.path.join (self.root, "tmp", "bridge_secret")).st_mode & 0o777,
                          0o600)
        with open (os.path.join (self.root, "tmp", "bridge")) as file:
            public = re.search (r'public-key = "(.{40})"', file.read ()).group (1)
        self.chroot ("mkdir", "/tmp/allowed")
        self.chroot ("ovhook-keygen", "--src-prefix", "media-1/", "/tmp/allowed/media-1")
        result = self.chroot ("ovhook-bridge", "--check-config", "--webhook",
                              "--endpoint", "http://127.0.0.1:9/", "--bus-key", "/tmp/bridge_secret",
                              "--bus-allow", "/tmp/allowed")
        self.assertIn ("OVHOOK_BUS_KEY=/tmp/bridge_secret", result.stdout)
        self.assertIn (public, result.stdout)

    def test_1_files (self):
        def read (path, mode="r"):
            with open (os.path.join (self.root, path.lstrip ("/")), mode) as file:
                return file.read ()
        for name in ("ovhook.env", "ovhook-proxy.env"):
            with open (os.path.join (PACKAGING, name)) as file:
                self.assertEqual (read ("/etc/ovhook/" + name), file.read ())
        conffiles = self.chroot ("dpkg-query", "-W", "-f=${Conffiles}", "ovhook").stdout
        self.assertIn ("/etc/ovhook/ovhook.env ", conffiles)
        self.assertIn ("/etc/ovhook/ovhook-proxy.env ", conffiles)
        for unit in ("ovhook-bridge.service", "ovhook-proxy.service"):
            text = read ("/lib/systemd/system/" + unit)
            self.assertIn ("ExecStart=/usr/bin/ovhook-", text)
            self.assertIn ("EnvironmentFile=-/etc/ovhook/", text)
        for program in PROGRAMS:
            self.assertTrue (read ("/usr/share/man/man1/ovhook-%s.1.gz" % program, "rb")
                             .startswith (b"\x1f\x8b"))
        self.assertIn ("prefix=/usr\n", read ("/usr/lib/pkgconfig/ovhook.pc"))
        for name in ("copyright", "changelog.gz", "operations.md", "configuration.md"):
            self.assertTrue (os.path.exists (os.path.join (self.root, "usr/share/doc/ovhook", name)),
                             name)
        self.assertIn ("libovhook.so.0 ", self.chroot ("ldconfig", "-p").stdout)

    def nsenter (self, pid, *command, check=True, timeout=120):
        result = subprocess.run (["nsenter", "-t", str (pid), "-m", "-u", "-i", "-n", "-p", "--"]
                                 + list (command), capture_output=True, text=True, timeout=timeout)
        if check:
            self.assertEqual (result.returncode, 0, "%s: %s%s" % (command, result.stdout, result.stderr))
        return result

    def write (self, path, text):
        path = os.path.join (self.root, path.lstrip ("/"))
        os.makedirs (os.path.dirname (path), exist_ok=True)
        with open (path, "w") as file:
            file.write (text)

    def test_2_service (self):
        if not shutil.which ("systemd-nspawn"):
            self.skipTest ("systemd-nspawn is not installed (Debian package systemd-container)")
        self.chroot ("apt-get", "install", "-y", "-q", "--no-install-recommends", "systemd", "systemd-sysv")
        self.chroot ("ovhook-keygen", "/etc/ovhook/keys/bridge")
        self.chroot ("ovhook-keygen", "--src-prefix", "*", "/root/publisher")
        os.makedirs (os.path.join (self.root, "etc/ovhook/keys/allowed"))
        shutil.copy (os.path.join (self.root, "root/publisher"),
                     os.path.join (self.root, "etc/ovhook/keys/allowed/publisher"))
        receiver = ovhtest.Receiver ()
        self.addCleanup (receiver.stop)
        bus, front, back = ovhtest.free_port (), ovhtest.free_port (), ovhtest.free_port ()
        self.write ("/etc/ovhook/ovhook.env", "OPENVIDU_WEBHOOK=true\n"
                    "OPENVIDU_WEBHOOK_ENDPOINT=%s\n" % receiver.url () +
                    "OVHOOK_BUS=@tcp://127.0.0.1:%d\n" % bus +
                    "OVHOOK_BUS_KEY=/run/credentials/ovhook-bridge.service/bus_secret\n"
                    "OVHOOK_BUS_ALLOW=/etc/ovhook/keys/allowed\n")
        self.write ("/etc/ovhook/ovhook-proxy.env", "OVHOOK_PROXY_FRONTEND=@tcp://127.0.0.1:%d\n"
                    "OVHOOK_PROXY_BACKEND=@tcp://127.0.0.1:%d\n" % (front, back))
        for unit in ("ovhook-bridge", "ovhook-proxy"):
            linked = subprocess.run (["readelf", "-d", os.path.join (self.root, "usr/bin", unit)],
                                     capture_output=True, text=True).stdout
            #  Type=notify units need programs that send READY=1
            self.assertIn ("libsystemd", linked, "%s does not link libsystemd" % unit)
        log = open (os.path.join (self.folder, "boot.log"), "w")
        nspawn = subprocess.Popen (["systemd-nspawn", "-q", "--keep-unit", "--register=no",
                                    "-D", self.root, "-b"], stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT)

        def boot_log ():
            with open (log.name) as file:
                return file.read () [-4000:]

        def shut_down ():
            if nspawn.poll () is None:
                nspawn.terminate ()         # SIGTERM: an orderly shutdown
                try:
                    nspawn.wait (60)
                except subprocess.TimeoutExpired:
                    nspawn.kill ()
                    nspawn.wait ()
            log.close ()
        self.addCleanup (shut_down)
        def container_init ():
            for pid in subprocess.run (["pgrep", "-P", str (nspawn.pid)], capture_output=True,
                                       text=True).stdout.split ():
                try:
                    with open ("/proc/%s/comm" % pid) as file:
                        if file.read ().strip () == "systemd":
                            return pid
                except OSError:
                    pass
            return None
        init = ovhtest.wait_until (container_init, 30, "systemd booting in the container", boot_log)
        # systemctl fails until the manager listens; then --wait waits for the boot
        ovhtest.wait_until (lambda: self.nsenter (
            init, "systemctl", "is-system-running", "--wait", check=False).stdout.strip ()
            in ("running", "degraded"), 60, "the container's boot to end", boot_log)

        def journal ():
            return self.nsenter (init, "journalctl", "--no-pager", "-o", "cat", "-u", "ovhook-bridge",
                                 check=False).stdout
        start = self.nsenter (init, "systemctl", "start", "ovhook-bridge", check=False)
        self.assertEqual (start.returncode, 0, start.stderr + journal ())
        self.assertEqual (self.nsenter (init, "systemctl", "is-active", "ovhook-bridge",
                                        check=False).stdout.strip (), "active", journal ())
        code, out, err = ovhtest.run_program ("ovhook-inject", [
            "--bus", ">tcp://127.0.0.1:%d" % bus,
            "--bus-key", os.path.join (self.root, "root/publisher_secret"),
            "--bus-server-key", os.path.join (self.root, "etc/ovhook/keys/bridge"),
            "sessionCreated", "sessionId=ses_in_a_unit"])
        self.assertEqual (code, 0, err)
        requests = receiver.wait_for (1, 20, "the event, through the unit", journal)
        self.assertIn (b'"sessionId":"ses_in_a_unit"', requests [0].body)
        spool = os.stat (os.path.join (self.root, "var/lib/private/ovhook/spool.db"))
        self.assertNotEqual (spool.st_uid, 0, "the spool is the dynamic user's")
        self.assertEqual (spool.st_mode & 0o777, 0o600)
        self.nsenter (init, "systemctl", "stop", "ovhook-bridge")
        self.assertIn ("stopped: received 1, delivered 1,", journal ())
        self.assertIn ("CURVE on", journal ())

        self.nsenter (init, "systemctl", "start", "ovhook-proxy")
        status = self.nsenter (init, "systemctl", "status", "-l", "--no-pager", "ovhook-proxy",
                               check=False).stdout
        self.assertIn ("active (running)", status)
        self.assertIn ("--frontend @tcp://127.0.0.1:%d" % front, status)
        self.nsenter (init, "systemctl", "stop", "ovhook-proxy")
        self.nsenter (init, "systemctl", "poweroff", check=False)
        nspawn.wait (60)

    def test_3_purge (self):
        self.chroot ("apt-get", "purge", "-y", "-q", "ovhook")
        for path in ("usr/bin/ovhook-bridge", "etc/ovhook/ovhook.env", "lib/systemd/system/ovhook-bridge.service",
                     "usr/share/man/man1/ovhook-bridge.1.gz", "usr/lib/libovhook.so.0"):
            self.assertFalse (os.path.lexists (os.path.join (self.root, path)), path)


if __name__ == "__main__":
    result = unittest.main (exit=False, verbosity=2).result
    if result.wasSuccessful () and len (result.skipped) == result.testsRun:
        sys.exit (77)
    sys.exit (0 if result.wasSuccessful () else 1)
