"""Golden cases: tests/golden/CASE/{input/, args, expected/}. The engine must
give the expected CSVs and stderr byte for byte at -T 1, 2 and 3.
Regenerate with scripts/update-golden.sh and review the diff."""
import glob
import os
import subprocess

from csutil import ENGINE, ROOT, count, gen_text, summary, tables, tmpdir

CASES = sorted(glob.glob(os.path.join(ROOT, "tests", "golden", "*")))


def test_golden_cases_at_1_2_3_threads():
    assert len(CASES) >= 6, CASES
    engine = os.path.abspath(ENGINE)
    for case in CASES:
        with open(os.path.join(case, "args")) as f:
            args = [a for a in f.read().split("\n") if a]
        exp = os.path.join(case, "expected")
        for threads in ("1", "2", "3"):
            out = os.path.join(case, ".out")
            subprocess.run(["rm", "-rf", out], check=True)
            p = subprocess.run([engine, "count", "-q", "-T", threads, "-o", ".out", *args, "input"],
                               cwd=case, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                assert p.returncode == 0, (case, p.stderr)
                with open(os.path.join(exp, "stderr.txt"), "rb") as f:
                    assert p.stderr == f.read(), (case, threads, p.stderr)
                for name in sorted(os.listdir(exp)):
                    if name == "stderr.txt":
                        continue
                    with open(os.path.join(exp, name), "rb") as f, \
                            open(os.path.join(out, name), "rb") as g:
                        assert f.read() == g.read(), f"{case}: {name} differs at -T {threads}"
                written = sorted(n for n in os.listdir(out) if n != "summary.json")
                assert written == sorted(n for n in os.listdir(exp) if n != "stderr.txt"), written
            finally:
                subprocess.run(["rm", "-rf", out], check=True)


def test_golden_cases_under_valgrind_memcheck():
    """Every golden case under valgrind's memcheck, at -T 1 and 2 and under
    the smallest --memory (the rows written out), and a generated corpus
    large enough to spill there: no invalid read or write, no use of
    uninitialised memory, no leak (the thread stacks libgomp keeps are
    'possibly lost', not leaks), the same tables. Not under an ASan build,
    which valgrind cannot run."""
    engine = os.path.abspath(ENGINE)
    if "/asan/" in engine:
        print("test_golden_cases_under_valgrind_memcheck: an ASan build; not run")
        return
    vg = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
          "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=definite,indirect"]
    for case in CASES:
        with open(os.path.join(case, "args")) as f:
            args = [a for a in f.read().split("\n") if a]
        exp = os.path.join(case, "expected")
        for opts in (["-T", "1"], ["-T", "2"], ["-T", "2", "--memory", "64K", "--tmp", ".tmp"]):
            out, tmp = os.path.join(case, ".out"), os.path.join(case, ".tmp")
            subprocess.run(["rm", "-rf", out, tmp], check=True)
            os.makedirs(tmp)
            p = subprocess.run([*vg, engine, "count", "-q", *opts, "-o", ".out", *args, "input"],
                               cwd=case, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                assert p.returncode == 0, (case, opts, p.returncode, p.stderr.decode()[-3000:])
                for name in sorted(os.listdir(exp)):
                    if name != "stderr.txt":
                        with open(os.path.join(exp, name), "rb") as f, \
                                open(os.path.join(out, name), "rb") as g:
                            assert f.read() == g.read(), f"{case}: {name} differs, {opts}"
            finally:
                subprocess.run(["rm", "-rf", out, tmp], check=True)
    with tmpdir() as d:
        src, tmp = os.path.join(d, "in.txt"), os.path.join(d, "tmp")
        os.makedirs(tmp)
        with open(src, "w") as f:
            f.write(gen_text(seed=5, n_words=40000, blank_every=25))
        opts = ["--ngrams", "1-3", "--cooc", "window", "--memory", "64K", "--tmp", tmp]
        want, out = os.path.join(d, "want"), os.path.join(d, "out")
        count([src], want, *opts)
        p = subprocess.run([*vg, engine, "count", "-q", "-T", "2", "-o", out, *opts, src],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert p.returncode == 0, (p.returncode, p.stderr.decode()[-3000:])
        assert summary(out)["spill"]["spills"] > 0
        assert tables(out) == tables(want)
