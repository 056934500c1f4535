"""Golden cases: tests/golden/CASE/{input/, args, expected/}. The engine must
give the expected CSVs and stderr byte for byte at -T 1, 2 and 3.
Regenerate with scripts/update-golden.sh and review the diff."""
import glob
import os
import subprocess

from csutil import ENGINE, ROOT

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
