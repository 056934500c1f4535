"""Failing machines: an input cut short or removed while it is read, an
output folder that cannot be written, memory that runs out at any point of
a run. In every case: a message naming what failed, exit 1, the previous
tables left as they were, and nothing left behind (no temporary file, no
staging folder). Full disks and signals are in test_badinput.py and
test_spill.py."""
import os
import re
import shutil
import subprocess

from csutil import count, fault_shim, gen_text, run, tables, tmpdir


def _left_alone(d, out, before, tmp=None):
    """The previous tables are there, nothing else was left beside them."""
    assert tables(out) == before
    staged = [n for n in os.listdir(os.path.dirname(out)) if ".corpusstat-" in n]
    assert staged == [], staged
    if tmp:
        assert os.listdir(tmp) == [], os.listdir(tmp)


def _inputs(d):
    src = os.path.join(d, "in")
    os.makedirs(src)
    a, b = os.path.join(src, "a.txt"), os.path.join(src, "b.txt")
    with open(a, "w") as f:
        f.write(gen_text(seed=21, n_words=60000, blank_every=40))
    with open(b, "w") as f:
        f.write(gen_text(seed=22, n_words=60000, blank_every=40))
    subprocess.run(["zstd", "-q", "-k", b], check=True)
    return a, b, b + ".zst"


def test_input_cut_short_while_mapped():
    """A mapped input truncated under the reader (to nothing, or to whole
    pages) raises SIGBUS where the reader touches what is gone: the run
    names the file and stops, exit 1, instead of crashing. Under --state,
    where inputs are also hashed through a mapping, the same."""
    page = os.sysconf("SC_PAGE_SIZE")
    with tmpdir() as d:
        so = fault_shim(d, "truncmap")
        a, b, bz = _inputs(d)
        out, tmp, sd = os.path.join(d, "out"), os.path.join(d, "tmp"), os.path.join(d, "state")
        os.makedirs(tmp)
        count([a], out)
        before = tables(out)
        # (the input, bytes kept, options): the zstd shard keeps whole pages, so that the
        # reader meets the end of the mapping, not zeros it would report as damage
        for victim, keep, opts in ((b, 0, []), (b, 3 * page, []), (bz, page, []),
                                   (b, page, ["--state", sd])):
            with open(victim, "rb") as f:
                saved = f.read()
            assert len(saved) > keep + 2 * page
            for threads in ("1", "2"):
                p = run(["count", "-q", "-T", threads, "-o", out, "--tmp", tmp, "--memory", "64K",
                         "--chunk-size", "4096", *opts, a, victim],
                        shim=so, TRUNCATE_MAPPED=os.path.basename(victim), TRUNCATE_KEEP=str(keep))
                err = p.stderr.decode()
                assert p.returncode == 1, (victim, keep, p.returncode, err)
                assert err == (f"corpusstat: {victim}: the file became shorter while it was read "
                               "(changed during the run); no table written\n"), err
                _left_alone(d, out, before, tmp)
                if opts:
                    assert [f for f in os.listdir(sd) if f != ".lock"] == [], os.listdir(sd)
                with open(victim, "wb") as f:
                    f.write(saved)


def test_input_removed_while_mapped_is_counted_whole():
    """A file removed once it is open is still read whole from its mapping:
    the tables are those of the file as it was."""
    with tmpdir() as d:
        so = fault_shim(d, "truncmap")
        a, b, _ = _inputs(d)
        want = os.path.join(d, "want")
        count([a, b], want)
        out = os.path.join(d, "out")
        p = run(["count", "-q", "-o", out, a, b], shim=so, UNLINK_MAPPED="b.txt")
        assert p.returncode == 0, p.stderr.decode()
        assert not os.path.exists(b)
        assert tables(out) == tables(want)


def test_output_folder_that_cannot_be_written():
    """A read-only file system (as root: a tmpfs mounted read-only; else a
    folder without write permission): exit 1, the folder named, the tables
    in it left."""
    with tmpdir() as d:
        a, _, _ = _inputs(d)
        parent = os.path.join(d, "ro")
        os.makedirs(parent)
        root = os.geteuid() == 0
        if root and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", parent],
                                   stderr=subprocess.DEVNULL).returncode != 0:
            print("test_output_folder_that_cannot_be_written: cannot mount a tmpfs; not run")
            return
        try:
            out = os.path.join(parent, "out")
            count([a], out, "--ngrams", "1")
            before = tables(out)
            if root:
                subprocess.run(["mount", "-o", "remount,ro", parent], check=True)
            else:
                os.chmod(parent, 0o555)
            for target in (out, os.path.join(parent, "new", "out")):
                err = count([a], target, "--ngrams", "1", rc=1)
                why = "Read-only file system" if root else "Permission denied"
                assert re.fullmatch(rf"corpusstat: {re.escape(target)}: cannot create (a staging "
                                    rf"folder beside it|its parent folders): {why}\n", err), err
            _left_alone(d, out, before)
        finally:
            if root:
                subprocess.run(["umount", parent], check=True)
            else:
                os.chmod(parent, 0o755)


def test_allocation_failing_anywhere_in_a_run():
    """CORPUSSTAT_FAIL_ALLOC=N fails the Nth allocation, as memory running
    out would. N from the first allocation to past the last (counting,
    spilling under --memory, merging, writing the tables and the state):
    either the run finishes with the same tables, or it says so and exits
    1, leaving the previous tables, no temporary file and no staging
    folder. Never a crash."""
    with tmpdir() as d:
        a, b, _ = _inputs(d)
        out, tmp, sd = os.path.join(d, "out"), os.path.join(d, "tmp"), os.path.join(d, "state")
        os.makedirs(tmp)
        opts = ["--memory", "64K", "--tmp", tmp, "--ngrams", "1-3", "--cooc", "window"]
        want = os.path.join(d, "want")
        count([a, b], want, *opts)
        count([a], out, "--ngrams", "1")
        before = tables(out)
        oom = re.compile(r"corpusstat: out of memory \(allocating [^)]+\); no table written\n")

        def attempt(n, threads="2"):
            """A run from the same start each time: the previous tables,
            no state yet."""
            shutil.rmtree(sd, ignore_errors=True)
            shutil.rmtree(out)
            count([a], out, "--ngrams", "1")
            p = run(["count", "-q", "-o", out, "--state", sd, "-T", threads, *opts, a, b],
                    CORPUSSTAT_FAIL_ALLOC=str(n))
            err = p.stderr.decode()
            if p.returncode == 0:
                assert tables(out) == tables(want), n
                return True
            assert p.returncode == 1 and oom.fullmatch(err), (n, p.returncode, err)
            _left_alone(d, out, before, tmp)
            if os.path.exists(sd):
                assert [f for f in os.listdir(sd) if f != ".lock"] == [], (n, os.listdir(sd))
            return False

        n, failed = 1, []
        while not attempt(n):
            failed.append(n)
            n *= 2
            assert n < 1 << 40
        # the last doubling holds the end of the run: the merge, the tables
        for k in range(1, 8):
            m = n // 2 + k * (n // 2) // 8
            if m > n // 2 and not attempt(m):
                failed.append(m)
        assert len(failed) >= 10, failed
        # The last allocation of a run (found by halving, on one thread, where
        # their number is the same each time) comes before the tables are put
        # in place: "no table written" holds whatever fails.
        lo, hi = 1, 1
        while not attempt(hi, "1"):
            lo, hi = hi, hi * 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if attempt(mid, "1"):
                hi = mid
            else:
                lo = mid
        assert not attempt(lo, "1") and attempt(lo + 1, "1"), lo
