"""Shared helpers for the Python tests: run the engine, read its tables."""
import json
import os
import random
import subprocess
import sys
import tempfile

ENGINE = os.environ.get("CORPUSSTAT", "build/release/corpusstat")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(args, input=None, check_rc=None, shim=None, **env):
    """Runs `corpusstat ARGS`; returns CompletedProcess (bytes stdout/stderr).
    env: variables added to the environment; shim: an LD_PRELOAD library
    (fault_shim)."""
    e = None
    if env or shim:
        e = dict(os.environ, **env)
        if shim:
            # an ASan build wants its runtime first; the shims only wrap a few calls
            e["LD_PRELOAD"] = shim
            e["ASAN_OPTIONS"] = e.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    p = subprocess.run([ENGINE] + [str(a) for a in args], input=input,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError(f"corpusstat {args}: exit {p.returncode}, want {check_rc}\n"
                             f"stderr: {p.stderr.decode(errors='replace')}")
    return p


def fault_shim(d, name):
    """tests/faults/NAME.c built into folder d as an LD_PRELOAD library
    (with the system's cc); returns its path."""
    so = os.path.join(d, name + ".so")
    subprocess.run([os.environ.get("CC", "cc"), "-shared", "-fPIC", "-O1", "-o", so,
                    os.path.join(ROOT, "tests", "faults", name + ".c"), "-ldl"], check=True)
    return so


def count(inputs, out, *opts, rc=0, input=None):
    """corpusstat count -q -o OUT OPTS INPUTS; returns the stderr text."""
    p = run(["count", "-q", "-o", out, *opts, *inputs], input=input, check_rc=rc)
    return p.stderr.decode("utf-8", errors="replace")


def tables(out):
    """{name: bytes} of the CSV tables in an output folder."""
    res = {}
    for name in ("terms.csv", "ngrams.csv", "cooc.csv"):
        path = os.path.join(out, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                res[name] = f.read()
    return res


def summary(out):
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        return json.load(f)


def zstd(src, dst, *opts):
    subprocess.run(["zstd", "-q", "-f", *opts, src, "-o", dst], check=True)


def zstd_frames(data: bytes, piece: int) -> bytes:
    """data compressed as one zstd frame per `piece` bytes, concatenated."""
    out = b""
    for i in range(0, max(len(data), 1), piece):
        p = subprocess.run(["zstd", "-q", "-c", "-3"], input=data[i:i + piece],
                           stdout=subprocess.PIPE, check=True)
        out += p.stdout
    return out


WORDS = ("the of and to in a is that for it as was with be by on not he this are "
         "or his from at which but have an they you were her she there been one "
         "Almaty Astana Nazarbaev Zhakiyanov’s opposition ex-governor U.S 3.5 1,000 "
         "Казахстан оппозиция Назарбаев өкімет қала ұлт Ғылым ЖӘНЕ straße STRASSE "
         "İstanbul ﬁnd don't rock-'n'-roll co‐op 1994-1997 é e\u0301").split()
PUNCT = [" ", " ", " ", " ", ", ", ". ", "! ", "? ", " - ", " -- ", "\n", "\r\n", "… ",
         " (", ") ", "\t", ": ", "; ", " \"", "\" "]


def gen_text(seed, n_words, blank_every=0):
    """Deterministic news-like text exercising joiners, case, scripts."""
    rng = random.Random(seed)
    parts = []
    for i in range(n_words):
        w = rng.choice(WORDS)
        if rng.random() < 0.3:  # a growing vocabulary: tables must resize
            w += str(rng.randrange(2000))
        parts.append(w)
        parts.append(rng.choice(PUNCT))
        if blank_every and i % blank_every == blank_every - 1:
            parts.append("\n\n")
    return "".join(parts)


def tmpdir():
    return tempfile.TemporaryDirectory(prefix="cs-test-")


def run_standalone(ns, argv=None):
    """Runs the test_* functions of a module's namespace in file order, those whose
    name holds argv[1] when given: `python3 tests/py/test_x.py [PATTERN]` without the
    runner. Returns the exit code."""
    import time
    argv = sys.argv if argv is None else argv
    pattern = argv[1] if len(argv) > 1 else ""
    failed = 0
    for name, fn in sorted(((n, f) for n, f in ns.items() if n.startswith("test_")),
                           key=lambda nf: nf[1].__code__.co_firstlineno):
        if pattern not in name:
            continue
        t0 = time.time()
        try:
            fn()
            print(f"ok   {name} ({time.time() - t0:.1f}s)")
        except Exception as e:
            failed += 1
            print(f"FAIL {name}: {e}")
    return 1 if failed else 0


def assert_rows(got, want, title):
    """Raises AssertionError, titled, with got and want side by side row by row and the
    rows that differ marked, unless they are equal."""
    if got == want:
        return
    lines = [title]
    for i in range(max(len(got), len(want))):
        g = got[i] if i < len(got) else None
        w = want[i] if i < len(want) else None
        lines.append(f"  {'  ' if g == w else '!!'} got {g}  want {w}")
    raise AssertionError("\n".join(lines))
