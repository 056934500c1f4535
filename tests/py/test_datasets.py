"""The corpus generator: the same seed gives the same bytes whatever the
thread count, and its plain-text and JSONL shards hold the same documents
(corpusstat gives identical tables for both)."""
import filecmp
import os
import subprocess

from csutil import ENGINE, count, tables, tmpdir

GEN = os.path.join(os.path.dirname(os.path.abspath(ENGINE)), "corpusgen")


def _gen(out, *opts):
    subprocess.run([GEN, "-q", "-s", "7", "-S", "2M", "-n", "3", "-f", "both", "-o", out, *opts],
                   check=True)


def test_generator_is_deterministic_and_formats_agree():
    with tmpdir() as d:
        a, b = os.path.join(d, "a"), os.path.join(d, "b")
        _gen(a, "-T", "1")
        _gen(b, "-T", "2")
        for sub in ("text", "jsonl"):
            names = sorted(os.listdir(os.path.join(a, sub)))
            assert len(names) == 3, names
            assert names == sorted(os.listdir(os.path.join(b, sub)))
            for n in names:
                assert filecmp.cmp(os.path.join(a, sub, n), os.path.join(b, sub, n), shallow=False), n
        t, j = os.path.join(d, "t"), os.path.join(d, "j")
        count([os.path.join(a, "text")], t, "--doc-sep", "blank")
        count([os.path.join(a, "jsonl")], j)
        assert tables(t) == tables(j)
        assert len(tables(t)["terms.csv"].splitlines()) > 10000
        p = subprocess.run([GEN, "-S", "1x"], stderr=subprocess.PIPE)
        assert p.returncode == 2 and p.stderr
