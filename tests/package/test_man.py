"""The man pages the build makes from each program's --help (help2man).

For each of the five programs: build/man/man1/ovhook-<program>.1 exists
and its compressed copy too; rendered (man -l, else groff, else nroff)
it has the sections NAME, SYNOPSIS, DESCRIPTION, SEE ALSO, its NAME line
is the packaging/man include's (not help2man's "manual page for"), it
names the version --version prints, and it mentions every option --help
lists. Skips (77) only when no roff formatter is installed.
"""

import gzip
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert (0, os.path.join (os.path.dirname (os.path.abspath (__file__)), "..", "e2e"))
import ovhtest  # noqa: E402

MAN_DIR = os.path.join (os.path.dirname (ovhtest.BIN_DIR), "man", "man1")
PROGRAMS = ("bridge", "inject", "tail", "proxy", "keygen")
SECTIONS = ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO")


def render (page):
    """The page as text, one line per paragraph line, wide enough that no
    option is broken across lines."""
    env = dict (os.environ, MANWIDTH="400", COLUMNS="400", LANG="C.UTF-8", MAN_KEEP_FORMATTING="")
    if shutil.which ("man"):
        command = ["man", "--no-hyphenation", "--no-justification", "-l", page]
    elif shutil.which ("groff"):
        command = ["groff", "-man", "-Tutf8", "-rLL=400n", page]
    else:
        command = ["nroff", "-man", page]
    result = subprocess.run (command, capture_output=True, text=True, env=env)
    assert result.returncode == 0, "%s: %s" % (" ".join (command), result.stderr)
    # No bold or underline by backspace; the typographic hyphen and minus as '-'
    text = re.sub (r".\x08", "", result.stdout)
    return text.replace ("\u2010", "-").replace ("\u2212", "-"), result.stderr


@unittest.skipUnless (shutil.which ("man") or shutil.which ("groff") or shutil.which ("nroff"),
                      "no roff formatter (man-db, groff-base)")
class ManPageTest (unittest.TestCase):
    def check_page (self, program):
        name = "ovhook-" + program
        page = os.path.join (MAN_DIR, name + ".1")
        self.assertTrue (os.path.exists (page), "%s was not built" % page)
        with open (page, "rb") as plain, gzip.open (page + ".gz") as packed:
            self.assertEqual (packed.read (), plain.read (), page + ".gz is not the page")
        text, warnings = render (page)
        self.assertEqual (warnings, "", "%s renders with warnings" % page)
        headings = re.findall (r"^([A-Z][A-Z ]+)$", text, re.M)
        for section in SECTIONS:
            self.assertIn (section, headings, "%s has no %s section" % (page, section))
        name_section = text.split ("\nNAME\n", 1) [1].split ("\nSYNOPSIS\n", 1) [0]
        self.assertRegex (name_section.strip (), r"^%s - \w" % name)
        self.assertNotIn ("manual page for", name_section)
        code, version, err = ovhtest.run_program (name, ["--version"])
        self.assertEqual (code, 0, err)
        self.assertIn (version.split () [1], text)
        code, usage, err = ovhtest.run_program (name, ["--help"])
        self.assertEqual ((code, err), (0, ""), "--help must exit 0 and write stdout only")
        options = set (re.findall (r"(?<![\w-])(--?[a-zA-Z][\w-]*)", "\n".join (
            line for line in usage.splitlines () if line.lstrip ().startswith ("-"))))
        self.assertIn ("--help", options)
        missing = sorted (option for option in options
                          if not re.search (r"(?<![\w-])%s(?![\w-])" % re.escape (option), text))
        self.assertEqual (missing, [], "%s lacks options --help lists" % page)

    def test_bridge (self):
        self.check_page ("bridge")

    def test_inject (self):
        self.check_page ("inject")

    def test_tail (self):
        self.check_page ("tail")

    def test_proxy (self):
        self.check_page ("proxy")

    def test_keygen (self):
        self.check_page ("keygen")


if __name__ == "__main__":
    result = unittest.main (exit=False, verbosity=2).result
    if result.wasSuccessful () and len (result.skipped) == result.testsRun:
        sys.exit (77)
    sys.exit (0 if result.wasSuccessful () else 1)
