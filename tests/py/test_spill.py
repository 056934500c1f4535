"""--memory and --tmp (issue 5): runs spilled to disk leave the tables byte for byte as
an unbounded run makes them, at budgets that force 1, 10 and 100+ spills and at any
thread count; the temporary folder is removed after the run, after an error and on
SIGINT/SIGTERM; a temporary disk that fills up is a clear error naming the folder, with
no table written and the previous tables left as they were."""
import csv
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from csutil import ENGINE, count, fault_shim, run, summary, tables, tmpdir  # noqa: E402

GEN = os.path.join(os.path.dirname(os.path.abspath(ENGINE)), "corpusgen")


def _corpus(d, size="1M", shards=3, seed=3):
    out = os.path.join(d, "corpus")
    subprocess.run([GEN, "-q", "-s", str(seed), "-S", size, "-n", str(shards), "-f", "text",
                    "-o", out], check=True)
    text = os.path.join(out, "text")
    return sorted(os.path.join(text, f) for f in os.listdir(text))


def _bounded(files, out, tmp, memory, *opts):
    os.makedirs(tmp, exist_ok=True)
    count(files, out, "--memory", memory, "--tmp", tmp, *opts)
    assert os.listdir(tmp) == [], f"left in --tmp: {os.listdir(tmp)}"
    sp = summary(out)["spill"]
    if sp["spills"]:
        assert sp["folder"].startswith(tmp + "/corpusstat-"), sp
        assert sp["runs"] >= sp["spills"] and sp["keys"] >= sp["runs"], sp
        assert sp["bytes_raw"] >= sp["keys"] and sp["bytes_disk"] > 0, sp
    return sp


def _traced(files, out, tmp, memory, *opts):
    """A bounded count with CORPUSSTAT_TRACE=1 (the steps on stderr, for the tests that
    check which way the merge went); returns the stderr text."""
    os.makedirs(tmp, exist_ok=True)
    os.environ["CORPUSSTAT_TRACE"] = "1"
    try:
        err = count(files, out, "--memory", memory, "--tmp", tmp, *opts)
    finally:
        del os.environ["CORPUSSTAT_TRACE"]
    assert os.listdir(tmp) == [], os.listdir(tmp)
    return err


def test_same_tables_at_budgets_forcing_1_10_100_spills():
    # The budgets were chosen on this seeded corpus: at -T 1 the spills are the same
    # every run; at -T 2 they depend on which thread counts which chunk.
    want_t1 = {"5M": (1, 9), "1M": (10, 99), "64K": (100, 10 ** 9)}
    with tmpdir() as d:
        files = _corpus(d)
        opts = ["--doc-sep", "blank", "--ngrams", "1-3", "--cooc", "window"]
        count(files, os.path.join(d, "free"), "-T", "1", *opts)
        want = tables(os.path.join(d, "free"))
        assert summary(os.path.join(d, "free"))["spill"]["spills"] == 0
        for threads in ("1", "2"):
            for memory, (lo, hi) in want_t1.items():
                out = os.path.join(d, f"m{memory}-T{threads}")
                sp = _bounded(files, out, os.path.join(d, "tmp"), memory, "-T", threads, *opts)
                assert tables(out) == want, (memory, threads)
                if threads == "1":
                    assert lo <= sp["spills"] <= hi, (memory, sp)
                else:
                    assert sp["spills"] >= 1, (memory, sp)


def test_spills_in_huge_documents_and_every_table_kind():
    # --doc-sep file: each shard is one document, cut into many runs of each kind and
    # spilled in between: doc_count must still count each document once. Then --top (a second
    # merge reads the spilled runs again), harmonic weights, and doc-scope pairs
    # (counted in a second pass, which spills too).
    with tmpdir() as d:
        files = _corpus(d, size="512K", shards=3, seed=5)
        cases = [  # options, spills at least
            (["--doc-sep", "file", "--ngrams", "1-4", "--cooc", "window"], 10),
            (["--doc-sep", "blank", "--ngrams", "1-3", "--top", "300", "--cooc", "none"], 10),
            (["--doc-sep", "line", "--ngrams", "2", "--min-count", "2", "--cooc", "window",
              "--window", "9", "--weight", "harmonic"], 10),
            (["--doc-sep", "blank", "--ngrams", "1", "--cooc", "doc", "--cooc-vocab", "1000"], 2),
        ]
        for i, (opts, least) in enumerate(cases):
            free = os.path.join(d, f"free{i}")
            count(files, free, "-T", "2", *opts)
            for threads in ("1", "2"):
                out = os.path.join(d, f"b{i}-{threads}")
                sp = _bounded(files, out, os.path.join(d, "tmp"), "64K", "-T", threads, *opts)
                assert sp["spills"] >= least, (opts, sp)
                assert tables(out) == tables(free), (opts, threads)
                s, f = summary(out), summary(free)
                for k in ("documents", "tokens", "types", "ngram_types"):
                    assert s[k] == f[k], (opts, k)


def test_lean_merge_cuts_the_same_rows():
    # Under a budget the merged tables would not fit, the merge keeps only the n-grams and
    # pairs that can be rows (--top, --min-count): n-grams in one merge, under a bar that
    # rises to the K-th best kept so far (at a count, by the first two bytes of the key);
    # pairs in one under a bar too, or in two when the budget leaves the bar no room or
    # what it keeps passes its cap (see test_pair_bar_keeps_the_top_in_one_merge). Cuts at
    # count 1 and above,
    # ties cut by bucket, a top of 1, cuts that keep everything (harmonic pairs counted less
    # than 1 included), more threads than sets of margins: the same bytes as the whole
    # tables, and the same types.
    with tmpdir() as d:
        files = _corpus(d, size="768K", shards=3, seed=11)
        cases = [  # options, merges of the runs of one table in the lean run, the most
            (["--ngrams", "1-3", "--top", "300", "--cooc", "none"], 1),
            (["--ngrams", "2-4", "--top", "20000", "--cooc", "none"], 1),
            (["--ngrams", "2", "--top", "1", "--cooc", "none"], 1),
            (["--ngrams", "1-3", "--top", "10000000", "--cooc", "none"], 1),
            (["--ngrams", "1-3", "--min-count", "3", "--cooc", "none"], 1),
            (["--ngrams", "2-3", "--min-count", "2", "--top", "700", "--cooc", "none"], 1),
            (["--ngrams", "1", "--top", "3000", "--cooc", "window"], (1, 2)),
            (["--ngrams", "1", "--min-count", "4", "--cooc", "window", "--window", "7"], (1, 2)),
            (["--ngrams", "1", "--top", "10000000", "--cooc", "window", "--window", "9",
              "--weight", "harmonic"], 2),
            (["--ngrams", "1", "--top", "500", "--min-count", "2", "--cooc", "window",
              "--weight", "harmonic"], (1, 2)),
        ]
        for i, (opts, merges) in enumerate(cases):
            opts = ["--doc-sep", "blank", *opts]
            free = os.path.join(d, f"free{i}")
            count(files, free, "-T", "2", *opts)
            assert summary(free)["spill"]["merge_passes"] <= 2  # LEAVE, then ADD at most
            for threads in ("1", "2", "5"):
                out = os.path.join(d, f"lean{i}-{threads}")
                sp = _bounded(files, out, os.path.join(d, "tmp"), "64K", "-T", threads, *opts)
                assert sp["merge_passes"] in (merges if isinstance(merges, tuple) else (merges,)), (
                    opts, sp)
                assert tables(out) == tables(free), (opts, threads)
                s, f = summary(out), summary(free)
                for k in ("types", "ngram_types", "cooc_pairs"):
                    assert s.get(k) == f.get(k), (opts, k)


def test_pair_bar_keeps_the_top_in_one_merge():
    # A lean pair merge keeps, beside the histogram and the margins, the pairs at or above
    # a bar: the top's floor among the pairs all threads have summed so far (a lower bound
    # of the floor of all; from count 2; what it kept is cut again as it rises). When what
    # it keeps stays within its cap (what the budget leaves), that one merge is all
    # (merge_passes 1); else it gives up, and when the top reaches count 1 it cannot keep
    # them: a second merge cuts. The same bytes and types as unbounded, at 1, 2 and 5
    # threads; the way the merge went read from the trace. At one thread, and with a bar
    # that --min-count fixes, the way is certain; with more, the bar rises with the order
    # the threads take the partitions in, so it may give up.
    with tmpdir() as d:
        files = _corpus(d, size="768K", shards=3, seed=11)
        bar, once = "merged lean under a bar", "the top reaches pairs counted once"
        cases = [  # options, the way at one thread, whether more threads can differ
            (["--top", "3000"], bar, True),
            # (a top no table fills: without --top, the pairs go to rows instead)
            (["--top", "100000000", "--min-count", "4", "--window", "7"], bar, False),
            (["--top", "500", "--min-count", "2", "--weight", "harmonic"], bar, True),
            (["--top", "1"], bar, True),
            (["--top", "10000000", "--window", "9", "--weight", "harmonic"], once, False),
        ]
        for i, (opts, way, may_differ) in enumerate(cases):
            opts = ["--doc-sep", "blank", "--ngrams", "1", "--cooc", "window", *opts]
            free = os.path.join(d, f"free{i}")
            count(files, free, "-T", "2", *opts)
            for threads in ("1", "2", "5"):
                out = os.path.join(d, f"bar{i}-{threads}")
                # (the trace says which way the lean merge went)
                err = _traced(files, out, os.path.join(d, "tmp"), "4M", "-T", threads, *opts)
                merges = summary(out)["spill"]["merge_passes"]
                if threads == "1" or not may_differ:
                    assert way in err and merges == (1 if way == bar else 2), (opts, threads, err)
                else:
                    assert (bar in err and merges == 1) or (
                        "the pairs' bar gave up" in err and merges == 2), (opts, threads, err)
                assert tables(out) == tables(free), (opts, threads)
                assert summary(out)["cooc_pairs"] == summary(free)["cooc_pairs"], opts
                assert summary(out)["types"] == summary(free)["types"], opts


def test_lean_merge_leaves_grams_counted_once():
    # When the grams a lean merge keeps fit half the budget, it leaves the grams counted
    # once out (the first partitions merged would keep them all before the bar rises), and
    # a second merge adds those the top reaches when it reaches count 1: a top of 30000
    # does here (12 K bigrams and 1.4 K trigrams are counted twice or more), 300 does not.
    with tmpdir() as d:
        files = _corpus(d, size="2M", shards=2, seed=31)
        for top, merges in (("300", 1), ("30000", 2)):
            opts = ["--doc-sep", "blank", "--ngrams", "1-3", "--cooc", "none", "--top", top]
            free = os.path.join(d, f"free{top}")
            count(files, free, "-T", "2", *opts)
            with open(os.path.join(free, "ngrams.csv"), newline="", encoding="utf-8") as f:
                ones = sum(r["count"] == "1" for r in csv.DictReader(f))
            assert (ones > 0) == (merges == 2), (top, ones)
            for threads in ("1", "2", "5"):
                out = os.path.join(d, f"once{top}-{threads}")
                sp = _bounded(files, out, os.path.join(d, "tmp"), "24M", "-T", threads, *opts)
                assert sp["spills"] >= 1 and sp["merge_passes"] == merges, (top, threads, sp)
                assert tables(out) == tables(free), (top, threads)
                assert summary(out)["ngram_types"] == summary(free)["ngram_types"], top


def test_pairs_merged_in_slices():
    # Pair partitions past a thread's share of the budget are merged in slices of their
    # keys (--ngrams 1: every slice counted is a pair slice), the pairs dealt to them
    # through a scratch file: every pair kept (no cut), the lean merge's two, doc pairs of
    # a vocabulary found in a first pass, harmonic weights; the same bytes as unbounded,
    # at 1 and 3 threads. The doc pairs of 8,000 terms cut a partition into more slices
    # than a deal has groups (CS_N_PARTS), so that a group holds several.
    with tmpdir() as d:
        files = _corpus(d, size="512K", shards=3, seed=21)
        cases = [
            ["--doc-sep", "blank", "--ngrams", "1", "--cooc", "window", "--window", "3"],
            ["--doc-sep", "blank", "--ngrams", "1", "--cooc", "window", "--top", "2000"],
            ["--doc-sep", "line", "--ngrams", "1", "--cooc", "window", "--window", "6",
             "--weight", "harmonic", "--min-count", "2"],
            ["--doc-sep", "blank", "--ngrams", "1", "--cooc", "doc", "--cooc-vocab", "8000"],
        ]
        for i, opts in enumerate(cases):
            free = os.path.join(d, f"free{i}")
            count(files, free, "-T", "2", *opts)
            assert summary(free)["spill"]["merge_slices"] == 0
            for threads in ("1", "3"):
                out = os.path.join(d, f"s{i}-{threads}")
                # (the trace says the most slices of a partition)
                err = _traced(files, out, os.path.join(d, "tmp"), "64K", "-T", threads, *opts)
                sp = summary(out)["spill"]
                assert sp["merge_slices"] >= 10, (opts, sp)
                assert tables(out) == tables(free), (opts, threads)
                assert summary(out)["cooc_pairs"] == summary(free)["cooc_pairs"], opts
                most = max(int(line.split(" slices, ")[1].split()[0])
                           for line in err.splitlines() if "pairs merged: " in line)
                assert most > 64 if "doc" in opts else most > 1, (opts, most)


def test_rows_made_as_the_merge_sums():
    # Without --top, under a budget the merged n-grams and window pairs would not fit, the
    # merge keeps none: it writes what it sums out, and once all is merged (for pairs, their
    # margins too) they are made into runs of sorted rows; a table is written from a merge
    # of its runs, merged into fewer first when they are more than the fan-in the budget
    # allows (4 at 64K). The terms' rows go out a partition at a time. The same bytes as
    # the unbounded run, whose rows stay in memory, at 1, 2 and 5 threads; --min-count 2,
    # and harmonic pairs (counts in fractions) too.
    with tmpdir() as d:
        files = _corpus(d, size="1M", shards=3, seed=21)
        cases = [  # options, merges of runs into runs at least, which kinds go to rows
            (["--doc-sep", "blank", "--ngrams", "1-3", "--cooc", "window"], 1,
             ("grams", "pairs")),
            (["--doc-sep", "line", "--ngrams", "2-4", "--min-count", "2", "--cooc", "none"], 0,
             ("grams",)),
            (["--doc-sep", "blank", "--ngrams", "1", "--cooc", "window", "--window", "9",
              "--weight", "harmonic", "--min-count", "2"], 0, ("pairs",)),
            # (pairs counted less than 1 are rows without --min-count, not with 1)
            (["--doc-sep", "blank", "--ngrams", "1", "--cooc", "window", "--window", "9",
              "--weight", "harmonic"], 0, ("pairs",)),
            (["--doc-sep", "blank", "--ngrams", "1", "--cooc", "window", "--window", "9",
              "--weight", "harmonic", "--min-count", "1"], 0, ("pairs",)),
        ]
        for i, (opts, merges, kinds) in enumerate(cases):
            free = os.path.join(d, f"free{i}")
            count(files, free, "-T", "2", *opts)
            assert summary(free)["spill"]["row_runs"] == 0
            want = tables(free)
            for threads in ("1", "2", "5"):
                out = os.path.join(d, f"b{i}-{threads}")
                err = _traced(files, out, os.path.join(d, "tmp"), "64K", "-T", threads, *opts)
                for kind in ("grams", "pairs"):
                    assert (kind + " merged into rows" in err) == (kind in kinds), (kind, err)
                sp = summary(out)["spill"]
                assert sp["row_runs"] >= 3 and sp["row_merges"] >= merges, (opts, threads, sp)
                assert tables(out) == want, (opts, threads)
                s, f = summary(out), summary(free)
                for k in ("documents", "tokens", "types", "ngram_types"):
                    assert s[k] == f[k], (opts, k)


def test_term_tables_in_generations():
    # A thread's term table past its share starts a new generation at the next document
    # (its entries spilled, its ids going on): terms long enough to live outside their
    # entries (over 24 bytes), in Latin and Cyrillic, seen again in later generations,
    # with n-grams and pairs over them and a --top that cuts; one document per line.
    import random
    rnd = random.Random(5)
    words = ["".join(rnd.choice("abcdefghij") for _ in range(rnd.randint(1, 40)))
             for _ in range(4000)]  # more than a generation's least (CS_GEN_MIN_TERMS)
    words += ["привет" * rnd.randint(1, 8) + str(i) for i in range(400)]
    with tmpdir() as d:
        f = os.path.join(d, "long.txt")
        with open(f, "w", encoding="utf-8") as fh:
            for _ in range(3000):
                fh.write(" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 30))) + "\n")
        opts = ["--doc-sep", "line", "--ngrams", "1-3", "--cooc", "window", "--top", "5000"]
        free = os.path.join(d, "free")
        count([f], free, "-T", "2", *opts)
        want = tables(free)
        for threads in ("1", "2"):
            out = os.path.join(d, f"gen{threads}")
            sp = _bounded([f], out, os.path.join(d, "tmp"), "64K", "-T", threads,
                          "--chunk-size", "4096", *opts)
            assert sp["files"] >= int(threads) * 4, sp  # 2 orders, pairs and terms a thread
            assert tables(out) == want, threads
            assert summary(out)["types"] == summary(free)["types"]


def _limit_file_size(limit):
    def preexec():  # (SIGXFSZ left as it is: the engine ignores it itself)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    return preexec


def test_full_temporary_disk_is_a_clear_error():
    # A file size limit stands in for a full disk (EFBIG where a disk gives ENOSPC):
    # the spill fails, the run stops with the folder's name, exit 1, no table.
    with tmpdir() as d:
        files = _corpus(d, size="512K", shards=2, seed=7)
        out, tmp = os.path.join(d, "out"), os.path.join(d, "tmp")
        os.makedirs(tmp)
        count(files, out, "--ngrams", "1-2")  # the previous tables
        before = tables(out)
        p = subprocess.run([ENGINE, "count", "-q", "-o", out, "--memory", "64K", "--tmp", tmp,
                            "--ngrams", "1-3", *files], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, preexec_fn=_limit_file_size(40 << 10))
        err = p.stderr.decode()
        assert p.returncode == 1, (p.returncode, err)
        assert "cannot write to the temporary folder " + tmp + "/corpusstat-" in err, err
        assert "File too large" in err and "--tmp" in err, err
        assert os.listdir(tmp) == []
        assert tables(out) == before
        assert sorted(os.listdir(d)) == ["corpus", "out", "tmp"], os.listdir(d)


def test_really_full_temporary_disk():
    # A 256 KiB tmpfs as --tmp: the spill meets ENOSPC itself. Needs root and mount
    # rights (CI has both); elsewhere this test only says so and returns.
    with tmpdir() as d:
        small = os.path.join(d, "small")
        os.makedirs(small)
        m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", small],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if m.returncode != 0:
            print("  (skipped: cannot mount a tmpfs here)")
            return
        try:
            files = _corpus(d, size="1M", shards=2, seed=13)
            out = os.path.join(d, "out")
            err = count(files, out, "--memory", "64K", "--tmp", small, "--ngrams", "1-3", rc=1)
            assert "cannot write to the temporary folder " + small + "/corpusstat-" in err, err
            assert "No space left on device" in err, err
            assert os.listdir(small) == [] and not os.path.exists(out)
        finally:
            subprocess.run(["umount", small], check=True)


def test_full_disk_in_the_second_pass_of_doc_pairs():
    # --cooc doc --cooc-vocab reads the inputs twice; a spill that fails in the second
    # reading stops it: the message names the folder, not an input "changed".
    with tmpdir() as d:
        files = _corpus(d, size="1M", shards=2, seed=10)
        out, tmp = os.path.join(d, "out"), os.path.join(d, "tmp")
        os.makedirs(tmp)
        for threads in ("1", "2"):
            p = subprocess.run([ENGINE, "count", "-q", "-T", threads, "-o", out, "--memory", "64K",
                                "--tmp", tmp, "--ngrams", "1", "--cooc", "doc", "--cooc-vocab",
                                "20000", *files], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=_limit_file_size(1 << 20))
            err = p.stderr.decode()
            assert p.returncode == 1, (threads, p.returncode, err)
            assert "cannot write to the temporary folder " + tmp in err, (threads, err)
            assert "changed" not in err, (threads, err)
            assert os.listdir(tmp) == [] and not os.path.exists(out)


def test_tmp_inside_the_output_folder():
    # The spill files go before the output folder is replaced, so none is left in the
    # old one (which the commit moves aside and removes).
    with tmpdir() as d:
        files = _corpus(d, size="256K", shards=2, seed=11)
        out = os.path.join(d, "out")
        count(files, out, "--ngrams", "1-3")
        want = tables(out)
        count(files, out, "--memory", "64K", "--tmp", out, "--ngrams", "1-3")
        sp = summary(out)["spill"]
        assert sp["spills"] >= 1 and sp["folder"].startswith(out + "/corpusstat-"), sp
        assert tables(out) == want
        assert sorted(os.listdir(d)) == ["corpus", "out"], os.listdir(d)
        assert sorted(os.listdir(out)) == ["cooc.csv", "ngrams.csv", "summary.json",
                                           "terms.csv"], os.listdir(out)


def _fails(so, args, tmp, out, before, **env):
    """A run under the shim (env: its settings) that must fail: exit 1, the previous
    tables left, --tmp empty. Returns its stderr, for the message."""
    p = run(args, shim=so, **env)
    err = p.stderr.decode()
    assert p.returncode == 1, (env, p.returncode, err)
    assert os.listdir(tmp) == [] and tables(out) == before
    return err


def _fault_setup(d):
    """The shim, a corpus, an output folder holding tables from an earlier run (which a
    failing run must leave as they are), an empty --tmp."""
    so = fault_shim(d, "failpread")
    files = _corpus(d, size="512K", shards=2, seed=12)
    out, tmp = os.path.join(d, "out"), os.path.join(d, "tmp")
    os.makedirs(tmp)
    count(files, out, "--ngrams", "1")
    return so, files, out, tmp, tables(out)


def test_run_that_cannot_be_read_back_writes_no_table():
    # A spilled run whose read fails (EIO from the shim) in the merge, or in the second
    # merge of --top: exit 1, the file named, no table, the folder removed.
    with tmpdir() as d:
        so, files, out, tmp, before = _fault_setup(d)
        # --ngrams 2 alone, and a top no table fills with grams counted twice or more:
        # the second merge reads every run again, as many times as the first
        base = ["count", "-q", "-T", "1", "-o", out, "--memory", "64K", "--tmp", tmp,
                "--ngrams", "2", "--cooc", "none", "--top", "100000000", *files]
        p = run(base, shim=so, FAIL_PREAD_LOG="1")
        assert p.returncode == 0, p.stderr
        assert tables(out) != before
        calls = int(p.stderr.decode().split("failpread: ")[1].split()[0])
        assert calls >= 20 and calls % 2 == 0, calls
        count(files, out, "--ngrams", "1")
        for first_failing in (1, calls // 2 + 1):
            err = _fails(so, base, tmp, out, before, FAIL_PREAD_FROM=str(first_failing))
            assert "cannot read back the temporary file " + tmp + "/corpusstat-" in err, err
            assert "Input/output error" in err, err
        # Window pairs merged in slices (the runs read to plan them, then dealt to them
        # through a scratch file), in the two merges of a lean run: reads failing from
        # anywhere in them.
        pairs = ["count", "-q", "-T", "2", "-o", out, "--memory", "64K", "--tmp", tmp,
                 "--ngrams", "1", "--cooc", "window", "--top", "3000", *files]
        p = run(pairs, shim=so, FAIL_PREAD_LOG="1")
        assert p.returncode == 0, p.stderr
        calls = int(p.stderr.decode().split("failpread: ")[1].split()[0])
        assert summary(out)["spill"]["merge_slices"] > 0
        count(files, out, "--ngrams", "1")
        # (the reads vary a little from run to run at -T 2, with the chunks each thread
        # counted: the last point is a fiftieth before the end, in the second merge)
        for first_failing in (1, calls // 4, calls // 2, calls * 3 // 4, calls - calls // 50):
            err = _fails(so, pairs, tmp, out, before, FAIL_PREAD_FROM=str(first_failing))
            assert "Input/output error" in err, err


def test_merge_scratch_that_cannot_be_written_writes_no_table():
    # The pair merge deals a sliced partition's pairs through a scratch file of its own
    # (t<thread>-slices<merge>.zst); a disk that fills there, after the counting's spills
    # went through (pwrite fails with ENOSPC from the shim): exit 1, the folder named, no
    # table, the folder removed, the previous tables left.
    with tmpdir() as d:
        so, files, out, tmp, before = _fault_setup(d)
        for opts in (["--top", "3000"], []):  # the lean merge's two passes; one merge
            args = ["count", "-q", "-T", "2", "-o", out, "--memory", "64K", "--tmp", tmp,
                    "--ngrams", "1", "--cooc", "window", *opts, *files]
            err = _fails(so, args, tmp, out, before, FAIL_PWRITE_MATCH="-slices")
            assert "cannot write to the temporary folder " + tmp + "/corpusstat-" in err, err
            assert "No space left on device" in err, err
            p = run(args, shim=so, FAIL_PWRITE_MATCH="no-such-file")
            assert p.returncode == 0, p.stderr
            assert summary(out)["spill"]["merge_slices"] > 0
            count(files, out, "--ngrams", "1")


def test_rows_that_cannot_be_written_or_read_back_write_no_table():
    # The summed grams the merge writes out (t<thread>-sums.zst) and the runs of rows
    # (rowrun.h: t<thread>-rows<n>.zst made of them, rows<n>-merged.zst for the fan-in,
    # t<thread>-rows.zst for the terms' rows) on a disk that fills, then read back with an
    # error in the last reads, which are the writer's: exit 1, the folder or file named,
    # no table, the previous tables left, --tmp empty.
    with tmpdir() as d:
        so, files, out, tmp, before = _fault_setup(d)
        args = ["count", "-q", "-T", "1", "-o", out, "--memory", "64K", "--tmp", tmp,
                "--ngrams", "1-3", "--cooc", "none", *files]
        p = run(args, shim=so, FAIL_PREAD_LOG="1")
        assert p.returncode == 0, p.stderr
        calls = int(p.stderr.decode().split("failpread: ")[1].split()[0])
        sp = summary(out)["spill"]
        assert sp["row_runs"] > 4 and sp["row_merges"] >= 1, sp
        count(files, out, "--ngrams", "1")
        for match in ("-sums", "-rows3", "-merged", "-rows."):
            err = _fails(so, args, tmp, out, before, FAIL_PWRITE_MATCH=match)
            assert "cannot write to the temporary folder " + tmp + "/corpusstat-" in err, err
            assert "No space left on device" in err, err
        for first_failing in (calls - calls // 20, calls):
            err = _fails(so, args, tmp, out, before, FAIL_PREAD_FROM=str(first_failing))
            assert "cannot read back the temporary file " + tmp + "/corpusstat-" in err, err
            assert "Input/output error" in err, err


def test_missing_tmp_folder_is_named():
    with tmpdir() as d:
        files = _corpus(d, size="256K", shards=1, seed=8)
        missing = os.path.join(d, "no", "such")
        err = count(files, os.path.join(d, "out"), "--memory", "64K", "--tmp", missing,
                    "--ngrams", "1-3", rc=1)
        assert "cannot make a temporary folder in " + missing in err, err
        assert not os.path.exists(os.path.join(d, "out"))


def test_vocab_triangle_within_budget():
    # Doc pairs of a small vocabulary are counted in a dense triangle (50 MB a thread for
    # 5,000 terms), only when it fits the runs' share of the budget: at --memory 1M the
    # pairs go to runs instead. Peak RSS read from summary.json; not under ASan, whose
    # shadow memory is most of it.
    if "asan" in ENGINE:
        return
    with tmpdir() as d:
        files = _corpus(d, size="512K", shards=2, seed=14)
        opts = ["-T", "2", "--ngrams", "1", "--cooc", "doc", "--cooc-vocab", "5000",
                "--top", "100", "--doc-sep", "blank"]
        free = os.path.join(d, "free")
        count(files, free, *opts)
        out = os.path.join(d, "out")
        _bounded(files, out, os.path.join(d, "tmp"), "1M", *opts)
        assert tables(out) == tables(free)
        assert summary(out)["peak_rss_bytes"] < 80 << 20, summary(out)["peak_rss_bytes"]


def test_signals_remove_spilled_runs():
    """SIGTERM and SIGINT mid-run: the spilled runs, the staging folder
    beside the output and the state file being written are removed; the
    previous tables are left as they were; the status says the signal."""
    with tmpdir() as d:
        files = _corpus(d, size="4M", shards=4, seed=9)
        out, tmp, sd = os.path.join(d, "out"), os.path.join(d, "tmp"), os.path.join(d, "state")
        os.makedirs(tmp)
        count(files[:1], out, "--ngrams", "1")
        before = tables(out)
        left_before = sorted(os.listdir(d))
        for sig in (signal.SIGTERM, signal.SIGINT):
            p = subprocess.Popen([ENGINE, "count", "-q", "-T", "2", "-o", out, "--memory", "64K",
                                  "--tmp", tmp, "--state", sd, "--ngrams", "1-4",
                                  "--cooc", "window", *files],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            spilled = False
            deadline = time.time() + 60
            while time.time() < deadline and p.poll() is None:
                try:
                    folders = os.listdir(tmp)
                    spilled = bool(folders and os.listdir(os.path.join(tmp, folders[0])))
                except FileNotFoundError:  # the run removed it between the two listings
                    pass
                if spilled:
                    break
                time.sleep(0.005)
            assert spilled and p.poll() is None, \
                "the run ended before it spilled or before the signal: make the corpus larger"
            staged = [n for n in os.listdir(d) if n.startswith(".out.corpusstat-")]
            assert staged, "the staging folder is made when the run starts"
            p.send_signal(sig)
            p.wait(timeout=60)
            assert p.returncode == -sig, (sig, p.returncode, p.stderr.read())
            p.stderr.close()
            assert os.listdir(tmp) == [], (sig, os.listdir(tmp))
            assert sorted(n for n in os.listdir(d) if n != "state") == left_before, \
                (sig, os.listdir(d))
            assert [n for n in os.listdir(sd) if n != ".lock"] == [], (sig, os.listdir(sd))
            assert tables(out) == before


def test_memory_usage_errors():
    with tmpdir() as d:
        f = os.path.join(d, "a.txt")
        with open(f, "w") as fh:
            fh.write("a b c\n")
        for bad in ("10K", "12Q", "M", "-1G", "99999999999999999999T", ""):
            p = run(["count", "-q", "-o", os.path.join(d, "out"), "--memory", bad, f])
            assert p.returncode == 2, (bad, p.returncode)
            assert b"--memory" in p.stderr, p.stderr
        p = run(["count", "-q", "-o", os.path.join(d, "out"), "--tmp", "", f])
        assert p.returncode == 2 and b"--tmp" in p.stderr
        # sizes in every unit are accepted; summary.json records the budget
        for size, want in (("65536", 65536), ("64k", 65536), ("3M", 3 << 20), ("2G", 2 << 30),
                           ("1T", 1 << 40)):
            out = os.path.join(d, "out" + size)
            count([f], out, "--memory", size)
            assert summary(out)["options"]["memory_bytes"] == want
        count([f], os.path.join(d, "dflt"))
        s = summary(os.path.join(d, "dflt"))
        assert s["options"]["memory_bytes"] >= 64 << 20 and s["options"]["tmp"] is None
        assert s["spill"] == {"folder": None, "spills": 0, "runs": 0, "keys": 0, "files": 0,
                              "bytes_raw": 0, "bytes_disk": 0, "bytes_read": 0,
                              "merge_levels": 0, "merge_passes": 1, "merge_slices": 0,
                              "row_runs": 0, "row_merges": 0}


if __name__ == "__main__":
    from csutil import run_standalone
    sys.exit(run_standalone(globals()))
