#!/usr/bin/env python3
"""Runs every test of corpusstat and ends with the line `N passed, N failed`.

Two kinds of test:
  - C unit-test binaries (build/<cfg>/tests/test_*): each prints its own
    `N passed, N failed` line, which is parsed and added to the total;
  - Python tests: every function named test_* in tests/py/test_*.py, called
    with no arguments; a test fails by raising (plain `assert` is enough).

Usage: tests/run.py [-k SUBSTRING] [-v]
Environment: CORPUSSTAT (engine binary, default build/release/corpusstat),
CS_BUILD (build folder holding tests/, default build/release).
"""
import glob
import importlib.util
import os
import re
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("CS_BUILD", os.path.join(ROOT, "build", "release"))
os.environ.setdefault("CORPUSSTAT", os.path.join(BUILD, "corpusstat"))
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed")


def run_unit_binaries(pattern, verbose):
    passed = failed = 0
    for exe in sorted(glob.glob(os.path.join(BUILD, "tests", "test_*"))):
        name = os.path.basename(exe)
        if pattern and pattern not in name:
            continue
        t0 = time.time()
        proc = subprocess.run([exe], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace")
        lines = proc.stdout.strip().splitlines()
        m = SUMMARY.match(lines[-1]) if lines else None
        if m is None or proc.returncode != 0 and int(m.group(2)) == 0:
            # A crash or a missing summary is one failure, whatever it printed.
            print(f"FAIL {name}: exit {proc.returncode}, no summary line")
            print("\n".join(lines[-30:]))
            failed += 1
            continue
        p, f = int(m.group(1)), int(m.group(2))
        passed += p
        failed += f
        if f or verbose:
            print("\n".join(l for l in lines[:-1] if f == 0 or "FAIL" in l or verbose))
        print(f"{'ok  ' if f == 0 else 'FAIL'} {name}: {p} passed, {f} failed "
              f"({time.time() - t0:.1f}s)")
    return passed, failed


def run_python_tests(pattern, verbose):
    passed = failed = 0
    sys.path.insert(0, os.path.join(ROOT, "tests", "py"))
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "py", "test_*.py"))):
        modname = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception:
            print(f"FAIL {modname}: import error")
            traceback.print_exc()
            failed += 1
            continue
        names = [n for n in dir(mod) if n.startswith("test_") and callable(getattr(mod, n))]
        # Definition order reads better in the log than alphabetical order.
        names.sort(key=lambda n: getattr(getattr(mod, n), "__code__").co_firstlineno)
        for n in names:
            full = f"{modname}.{n}"
            if pattern and pattern not in full:
                continue
            t0 = time.time()
            try:
                getattr(mod, n)()
            except Exception:
                failed += 1
                print(f"FAIL {full}")
                traceback.print_exc()
                continue
            passed += 1
            if verbose:
                print(f"ok   {full} ({time.time() - t0:.1f}s)")
    return passed, failed


def main():
    args = sys.argv[1:]
    pattern = None
    verbose = "-v" in args
    if "-k" in args:
        pattern = args[args.index("-k") + 1]
    p1, f1 = run_unit_binaries(pattern, verbose)
    p2, f2 = run_python_tests(pattern, verbose)
    print(f"{p1 + p2} passed, {f1 + f2} failed")
    return 1 if f1 + f2 else 0


if __name__ == "__main__":
    sys.exit(main())
