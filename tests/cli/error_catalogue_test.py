#!/usr/bin/env python3
"""docs/errors.md is executable: every ```console block in it is run and must print
exactly the stderr it shows and exit with the code it shows.

A block is `$ COMMAND` (a bash line, run in a fresh empty folder with lpsim's folder first
on PATH), the expected stderr lines, then `[exit N]`. An expected line ending in `…` must
only start with the text before it. Usage: error_catalogue_test.py BIN_DIR ERRORS_MD
"""
import os
import re
import subprocess
import sys
import tempfile

bin_dir, doc = sys.argv[1], sys.argv[2]
blocks = re.findall(r"```console\n(.*?)```", open(doc).read(), re.S)
env = dict(os.environ, PATH=os.path.abspath(bin_dir) + os.pathsep + os.environ["PATH"])
env.pop("LPSIM_DATA_DIR", None)
failed = 0
for block in blocks:
    lines = block.rstrip("\n").split("\n")
    if not lines[0].startswith("$ ") or not re.fullmatch(r"\[exit \d+\]", lines[-1]):
        print(f"BAD BLOCK (want '$ command' ... '[exit N]'):\n{block}")
        failed += 1
        continue
    command, expected, code = lines[0][2:], lines[1:-1], int(lines[-1][6:-1])
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(["bash", "-c", command], cwd=d, env=env, capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
    got = r.stderr.rstrip("\n").split("\n") if r.stderr.strip() else []
    ok = r.returncode == code and len(got) == len(expected)
    for e, g in zip(expected, got):
        ok = ok and (g.startswith(e[:-1]) if e.endswith("…") else g == e)
    if not ok:
        failed += 1
        print(f"MISMATCH: $ {command}\n  expected (exit {code}):\n    " + "\n    ".join(expected) +
              f"\n  got (exit {r.returncode}):\n    " + "\n    ".join(got))
print(f"error catalogue: {len(blocks) - failed} of {len(blocks)} examples as documented")
sys.exit(1 if failed or not blocks else 0)
