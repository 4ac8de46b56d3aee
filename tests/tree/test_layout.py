"""The tree tells the pipeline, and the README says so truly.

Checks, against the checked-out tree (and the libraries in the build):
- every folder of bridge/ is a row of the README's "Where things are"
  table, every folder the table names exists, and every document it links
  to exists;
- tests/unit mirrors the source tree: each folder under it is a folder of
  the sources holding the classes it tests, and each test_X.c there tests
  a class ovh_X (or a behaviour of one, test_X_Y.c) found in that folder;
- the static libraries export only ovh_-prefixed symbols: a private
  global without the prefix (spool_run, dispatcher_done) fails here."""

import os
import re
import subprocess
import sys
import unittest

SOURCE = os.environ.get ("OVHOOK_SOURCE_DIR") or \
         os.path.dirname (os.path.dirname (os.path.dirname (os.path.abspath (__file__))))
BIN = os.environ.get ("OVHOOK_BIN") or os.path.join (SOURCE, "build", "bin")
LIB = os.path.join (os.path.dirname (BIN), "lib")


def readme_table ():
    """Rows of the README's "Where things are" table: (folder, links)"""
    with open (os.path.join (SOURCE, "README.md"), encoding="utf-8") as file:
        text = file.read ()
    match = re.search (r"^## Where things are\n(.*?)(?=^## )", text, re.S | re.M)
    if not match:
        return None
    rows = []
    for line in match.group (1).splitlines ():
        cells = [cell.strip () for cell in line.strip ().strip ("|").split ("|")]
        if len (cells) < 4 or not cells [0].startswith ("`"):
            continue
        rows.append ((cells [0].strip ("`"), re.findall (r"\]\(([^)#]+)", line)))
    return rows


class LayoutTest (unittest.TestCase):

    def test_readme_table_matches_the_bridge_folders (self):
        rows = readme_table ()
        self.assertIsNotNone (rows, "README.md has no '## Where things are' section")
        named = {folder.rstrip ("/") for folder, _ in rows}
        bridge = os.path.join (SOURCE, "bridge")
        for entry in sorted (os.listdir (bridge)):
            if os.path.isdir (os.path.join (bridge, entry)):
                self.assertIn ("bridge/" + entry, named, "bridge/%s is not in the README's table" % entry)
        for folder, links in rows:
            self.assertTrue (os.path.exists (os.path.join (SOURCE, folder)),
                             "the README's table names %s, which does not exist" % folder)
            for link in links:
                self.assertTrue (os.path.exists (os.path.join (SOURCE, link)),
                                 "the README's table links %s, which does not exist" % link)

    def test_stage_folders_hold_their_classes (self):
        bridge = os.path.join (SOURCE, "bridge")
        loose = [name for name in os.listdir (bridge)
                 if name.endswith ((".c", ".h")) and name != "main.c"]
        self.assertEqual (loose, [], "bridge/ holds only main.c and stage folders")
        for entry in os.listdir (bridge):
            path = os.path.join (bridge, entry)
            if os.path.isdir (path):
                self.assertTrue ([n for n in os.listdir (path) if n.endswith (".c")],
                                 "bridge/%s has no source" % entry)

    def test_unit_tests_mirror_the_tree (self):
        unit = os.path.join (SOURCE, "tests", "unit")
        checked = 0
        for folder, _, files in os.walk (unit):
            tests = [name for name in files if re.match (r"test_.*\.c$", name)]
            if not tests:
                continue
            relative = os.path.relpath (folder, unit)
            sources = os.path.join (SOURCE, relative)
            if relative == "proto":
                sources = os.path.join (SOURCE, "proto", "src")
            self.assertTrue (os.path.isdir (sources),
                             "tests/unit/%s mirrors no source folder" % relative)
            classes = {name [4:-2] for name in os.listdir (sources)
                       if name.startswith ("ovh_") and name.endswith (".c")}
            for test in tests:
                name = test [5:-2]
                self.assertTrue (any (name == c or name.startswith (c + "_") for c in classes),
                                 "tests/unit/%s/%s tests no class of %s" % (relative, test, relative))
                checked += 1
        self.assertGreater (checked, 20)

    def test_libraries_export_only_prefixed_symbols (self):
        libraries = [os.path.join (LIB, name) for name in
                     ("libovhook.a", "libovhook_bridge_core.a", "libovhook_tools.a")]
        libraries = [path for path in libraries if os.path.exists (path)]
        if not libraries:
            self.skipTest ("no static libraries in %s (build first)" % LIB)
        output = subprocess.run (["nm", "-g", "--defined-only"] + libraries, check=True,
                                 capture_output=True, text=True).stdout
        exported = [fields [2] for fields in (line.split () for line in output.splitlines ())
                    if len (fields) == 3 and fields [1] in "TDBRC"]
        self.assertGreater (len (exported), 50)
        #   Names starting with "__" are the compiler's and sanitizers' own
        self.assertEqual ([name for name in exported
                           if not name.startswith ("ovh_") and not name.startswith ("__")], [])


if __name__ == "__main__":
    unittest.main (verbosity=2)
