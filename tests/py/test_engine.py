"""The engine as a user runs it: the same bytes at any thread count and chunk
size, plain or zstd, file or stdin; the CSV read back by real clients; the
output folder replaced whole; usage errors."""
import csv
import io
import json
import os
import sqlite3
import subprocess

from csutil import (ENGINE, count, gen_text, run, summary, tables, tmpdir, zstd, zstd_frames)


def _corpus(d, jsonl=False):
    """A folder of shards: plain text, multi-frame zstd, JSONL."""
    src = os.path.join(d, "in")
    os.makedirs(src)
    for i in range(4):
        text = gen_text(seed=i, n_words=3000, blank_every=40)
        if jsonl:
            lines = [json.dumps({"id": k, "text": t}, ensure_ascii=(k % 2 == 0))
                     for k, t in enumerate(text.split("\n\n"))]
            data = ("\n".join(lines) + "\n").encode()
            name = f"s{i}.jsonl"
        else:
            data = text.encode()
            name = f"s{i}.txt"
        if i % 2:
            with open(os.path.join(src, name + ".zst"), "wb") as f:
                f.write(zstd_frames(data, 997))
        else:
            with open(os.path.join(src, name), "wb") as f:
                f.write(data)
    return src


def _same_tables_everywhere(opts, jsonl=False):
    with tmpdir() as d:
        src = _corpus(d, jsonl)
        ref = None
        for threads in ("1", "2", "3"):
            for chunk in ("1", "7", "17", "4096", "1048576"):
                if threads != "1" and chunk in ("1", "17"):
                    continue  # keep the run short; 7 covers tiny chunks in parallel
                out = os.path.join(d, f"out-{threads}-{chunk}")
                count([src], out, "-T", threads, "--chunk-size", chunk, *opts)
                t = tables(out)
                s = summary(out)
                key = {k: s[k] for k in ("documents", "segments", "tokens", "types",
                                         "invalid_utf8", "excluded_tokens", "bad_records")}
                if ref is None:
                    ref = (t, key, (threads, chunk))
                    assert len(t["terms.csv"]) > 1000, t["terms.csv"][:200]
                    continue
                for name in ref[0]:
                    assert t[name] == ref[0][name], \
                        f"{name} differs between {ref[2]} and {(threads, chunk)} with {opts}"
                assert key == ref[1], f"summary {key} != {ref[1]}"


def test_same_bytes_any_threads_and_chunks_file_docs():
    _same_tables_everywhere([])


def test_same_bytes_any_threads_and_chunks_line_docs():
    _same_tables_everywhere(["--doc-sep", "line", "--ngrams", "1-3"])


def test_same_bytes_any_threads_and_chunks_blank_docs():
    _same_tables_everywhere(["--doc-sep", "blank", "--join-lines"])


def test_same_bytes_any_threads_and_chunks_jsonl():
    _same_tables_everywhere(["--ngrams", "2-3"], jsonl=True)


def test_zstd_equals_plain_and_stdin():
    with tmpdir() as d:
        text = gen_text(seed=9, n_words=20000, blank_every=25).encode()
        plain = os.path.join(d, "a.txt")
        with open(plain, "wb") as f:
            f.write(text)
        zst = os.path.join(d, "a.txt.zst")
        zstd(plain, zst, "-19", "--long=27")
        for docsep in ("file", "blank"):
            outs = []
            for i, (inputs, stdin) in enumerate([([plain], None), ([zst], None),
                                                  (["-"], text), (["-"], open(zst, "rb").read())]):
                out = os.path.join(d, f"o{docsep}{i}")
                count(inputs, out, "--doc-sep", docsep, input=stdin)
                outs.append(tables(out))
            for o in outs[1:]:
                assert o == outs[0], f"--doc-sep {docsep}: plain, zstd and stdin differ"


def test_long_window_shard():
    """A frame written with --long=31 (2 GiB window) decodes."""
    with tmpdir() as d:
        plain = os.path.join(d, "a.txt")
        with open(plain, "w", encoding="utf-8") as f:
            f.write(gen_text(seed=3, n_words=5000))
        zst = os.path.join(d, "a.txt.zst")
        zstd(plain, zst, "--long=31", "-3")
        count([plain], os.path.join(d, "p"))
        count([zst], os.path.join(d, "z"))
        assert tables(os.path.join(d, "p")) == tables(os.path.join(d, "z"))


def test_csv_read_back_by_python_csv_and_sqlite():
    with tmpdir() as d:
        src = _corpus(d)
        out = os.path.join(d, "out")
        count([src], out, "--ngrams", "1-3")
        s = summary(out)
        with open(os.path.join(out, "terms.csv"), newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert rows[0] == ["term", "count", "doc_count"]
        assert len(rows) - 1 == s["types"]
        assert sum(int(r[1]) for r in rows[1:]) == s["tokens"]
        assert any("," in r[0] for r in rows[1:]), "a quoted term such as 1,000 is expected"
        counts = [int(r[1]) for r in rows[1:]]
        assert counts == sorted(counts, reverse=True)
        with open(os.path.join(out, "ngrams.csv"), newline="", encoding="utf-8") as f:
            grams = list(csv.reader(f))
        assert grams[0] == ["n", "ngram", "count", "doc_count"]
        ns = [int(r[0]) for r in grams[1:]]
        assert ns == sorted(ns) and set(ns) == {2, 3}
        for r in grams[1:]:
            assert len(r[1].split(" ")) == int(r[0]), r
            assert 1 <= int(r[3]) <= int(r[2])
        # sqlite3's own CSV importer
        db = os.path.join(d, "t.db")
        p = subprocess.run(["sqlite3", db, ".import --csv " + os.path.join(out, "terms.csv") + " terms",
                            "SELECT count(*), sum(count) FROM terms"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.returncode == 0, p.stderr
        n, total = p.stdout.strip().split("|")
        assert int(n) == s["types"] and int(total) == s["tokens"], p.stdout
        con = sqlite3.connect(db)
        top = con.execute("SELECT term FROM terms ORDER BY CAST(count AS INTEGER) DESC LIMIT 1").fetchone()
        assert top[0] == rows[1][0]


def test_bom_and_top_and_min_count():
    with tmpdir() as d:
        src = _corpus(d)
        full, cut = os.path.join(d, "full"), os.path.join(d, "cut")
        count([src], full)
        count([src], cut, "--top", "5", "--min-count", "3", "--bom")
        t_full, t_cut = tables(full), tables(cut)
        assert t_cut["terms.csv"].startswith(b"\xef\xbb\xbfterm,count,doc_count\n")
        lines = t_full["terms.csv"].split(b"\n")
        assert t_cut["terms.csv"][3:] == b"\n".join(lines[:6]) + b"\n"
        grams = [l for l in t_cut["ngrams.csv"][3:].split(b"\n")[1:] if l]
        assert 0 < len(grams) <= 5 and all(int(l.rsplit(b",", 2)[1]) >= 3 for l in grams)
        cooc = [l for l in t_cut["cooc.csv"][3:].split(b"\n")[1:] if l]
        assert len(cooc) == 5 and all(float(l.split(b",")[2]) >= 3 for l in cooc)
        assert t_cut["cooc.csv"][3:].split(b"\n")[:6] == t_full["cooc.csv"].split(b"\n")[:6]
        count([src], cut, "--top", "0")
        assert tables(cut) == {"terms.csv": b"term,count,doc_count\n",
                               "ngrams.csv": b"n,ngram,count,doc_count\n",
                               "cooc.csv": b"term_a,term_b,count,pmi,npmi,llr\n"}
        count([src], cut, "--ngrams", "1")
        assert "ngrams.csv" not in tables(cut), "a stale ngrams.csv must not survive"


def test_output_folder_inside_input_is_not_read():
    with tmpdir() as d:
        src = _corpus(d)
        out = os.path.join(src, "tables")
        count([src], out)
        first = tables(out)
        count([src], out)
        assert tables(out) == first
        assert summary(out)["inputs"][0]["path"].endswith("s0.txt")
        assert not any("tables" in i["path"] for i in summary(out)["inputs"])
        # also when its files are named one by one, or in a list made with find(1)
        lst = os.path.join(d, "list")
        with open(lst, "w") as f:
            for root, _, names in sorted(os.walk(src)):
                for n in sorted(names):
                    f.write(os.path.join(root, n) + "\n")
            f.write("  \n\n")  # blank lines name nothing
        count(["@" + lst, os.path.join(out, "terms.csv")], out)
        assert tables(out) == first
        assert summary(out)["unreadable_inputs"] == 0


def test_output_folder_with_other_files_is_refused():
    with tmpdir() as d:
        src = _corpus(d)
        out = os.path.join(d, "mine")
        os.makedirs(out)
        with open(os.path.join(out, "notes.txt"), "w") as f:
            f.write("keep me")
        err = count([src], out, rc=1)
        assert "notes.txt" in err and "refusing" in err, err
        assert os.listdir(out) == ["notes.txt"]
        with open(os.path.join(d, "file"), "w") as f:
            f.write("x")
        err = count([src], os.path.join(d, "file"), rc=1)
        assert "not a folder" in err, err


def test_usage_errors_exit_2():
    with tmpdir() as d:
        for opts in (["--ngrams", "3-1"], ["--ngrams", "0"], ["--window", "0"], ["--window", "40"],
                     ["--max-len", "x"], ["--doc-sep", "para"], ["--nope"], ["--cooc", "pairs"],
                     ["--min-len", "9", "--max-len", "4"], ["-T", "-1"], ["--cooc-vocab", "10"],
                     ["--cooc-terms", "x"], ["--cooc", "none", "--cooc-vocab", "5"],
                     ["--cooc", "doc", "--cooc-vocab", "5", "--cooc-terms", "x"],
                     ["--weight", "idf"], ["--window", "33"], ["--cooc-vocab", "-1"]):
            p = run(["count", "-o", os.path.join(d, "o"), *opts, d])
            assert p.returncode == 2, (opts, p.returncode, p.stderr)
            assert p.stderr.startswith(b"corpusstat: "), p.stderr
            assert not os.path.exists(os.path.join(d, "o"))
        assert run(["count"]).returncode == 2
        assert run(["frobnicate"]).returncode == 2
        p = run(["--version"], check_rc=0)
        assert p.stdout.startswith(b"corpusstat ")
        p = run(["--help"], check_rc=0)
        assert b"Usage: corpusstat count" in p.stdout


def test_cooc_none_and_window_options_accepted():
    with tmpdir() as d:
        src = _corpus(d)
        out = os.path.join(d, "o")
        count([src], out, "--cooc", "none", "--window", "5", "--weight", "harmonic")
        assert not os.path.exists(os.path.join(out, "cooc.csv"))
        assert "cooc_pairs" not in summary(out)
        # window scope is the default: a later run's tables replace the earlier ones
        count([src], out)
        assert os.path.exists(os.path.join(out, "cooc.csv"))
        s = summary(out)
        assert s["options"]["cooc"] == "window" and s["options"]["window"] == 5
        assert s["options"]["weight"] == "none" and s["cooc_pairs"] > 0
        count([src], out, "--cooc", "none")
        assert not os.path.exists(os.path.join(out, "cooc.csv")), "a stale cooc.csv survived"


def test_list_file_and_repeated_inputs():
    with tmpdir() as d:
        src = _corpus(d)
        files = sorted(os.path.join(src, f) for f in os.listdir(src))
        lst = os.path.join(d, "list")
        with open(lst, "w") as f:
            f.write("\n".join(files) + "\n")
        a, b = os.path.join(d, "a"), os.path.join(d, "b")
        count([src], a)
        count(["@" + lst], b)
        assert tables(a) == tables(b)
        count([files[0], files[0]], b)
        once = os.path.join(d, "once")
        count([files[0]], once)
        assert summary(b)["tokens"] == 2 * summary(once)["tokens"]
        assert summary(b)["documents"] == 2


def test_progress_line_only_on_a_terminal():
    """On a terminal (script(1) gives one): bytes done / total, MB/s, ETA on
    stderr; -q or a pipe: nothing."""
    with tmpdir() as d:
        src = os.path.join(d, "a.txt")
        with open(src, "w", encoding="utf-8") as f:
            f.write(gen_text(seed=5, n_words=1500000))
        out = os.path.join(d, "o")
        from csutil import ENGINE
        # many chunks, and a count phase well past the first 250 ms between reports
        # (the input three times: counting it once took 0.35 s here, too near)
        cmd = (f"{os.path.abspath(ENGINE)} count -T 1 --doc-sep line --chunk-size 65536 "
               f"-o {out} {src} {src} {src}")
        p = subprocess.run(["script", "-qec", cmd, "/dev/null"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, errors="replace")
        assert p.returncode == 0, p.stdout + p.stderr
        assert "MB/s" in p.stdout and "ETA" in p.stdout and "/ " in p.stdout, repr(p.stdout[:300])
        p = subprocess.run(["script", "-qec", cmd.replace(" count ", " count -q "), "/dev/null"],
                           stdout=subprocess.PIPE, text=True, errors="replace")
        assert "MB/s" not in p.stdout, repr(p.stdout[:300])
        assert run(["count", "-o", out, src], check_rc=0).stderr == b""


def test_stopword_file_with_bom_and_blank_lines():
    with tmpdir() as d:
        src = os.path.join(d, "a.txt")
        with open(src, "w", encoding="utf-8") as f:
            f.write("The cat and THE dog\n")
        sw = os.path.join(d, "stop.txt")
        with open(sw, "wb") as f:
            f.write(b"\xef\xbb\xbfthe\n\n  AND \r\n")
        out = os.path.join(d, "o")
        count([src], out, "--stopwords", sw)
        assert tables(out)["terms.csv"] == b"term,count,doc_count\ncat,1,1\ndog,1,1\n"
        assert summary(out)["excluded_tokens"] == 3
        assert summary(out)["options"]["stopwords_loaded"] == 2
        err = count([src], out, "--stopwords", os.path.join(d, "missing"), rc=2)
        assert "missing" in err and "No such file" in err, err


def test_stdin_file_partly_read_by_the_parent():
    """stdin is a regular file whose first line a shell `read` consumed: the
    engine reads on from there (it must not map the file from its start)."""
    with tmpdir() as d:
        src = os.path.join(d, "a.txt")
        with open(src, "w") as f:
            f.write("skip me\nkeep these words\n")
        out = os.path.join(d, "o")
        from csutil import ENGINE
        subprocess.run(["bash", "-c", f"(read -r _; {os.path.abspath(ENGINE)} count -q -o {out} -) < {src}"],
                       check=True)
        assert tables(out)["terms.csv"] == b"term,count,doc_count\nkeep,1,1\nthese,1,1\nwords,1,1\n"


def test_cooc_doc_reads_regular_files_twice_only():
    with tmpdir() as d:
        src = _corpus(d)
        out = os.path.join(d, "o")
        # fewer than two vocabulary terms: no pair, and no second pass needed
        for k in ("0", "1"):
            count([src], out, "--cooc", "doc", "--cooc-vocab", k)
            assert tables(out)["cooc.csv"] == b"term_a,term_b,count,pmi,npmi,llr\n"
        count([src], out, "--cooc", "doc", "--cooc-vocab", "2")
        assert tables(out)["cooc.csv"].count(b"\n") == 2
        # stdin and a FIFO cannot be read twice: a usage error, not a hang
        err = count(["-"], out, "--cooc", "doc", rc=2, input=b"a b c\n")
        assert "stdin" in err and "--cooc-terms" in err, err
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        p = subprocess.run([ENGINE, "count", "-q", "-o", out, "--cooc", "doc", fifo],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        assert p.returncode == 2 and b"not a regular file" in p.stderr, p.stderr
        # with the terms given, one pass: stdin works
        terms = os.path.join(d, "terms")
        with open(terms, "w") as f:
            f.write("a\nc\n")
        count(["-"], out, "--cooc", "doc", "--cooc-terms", terms, input=b"a b c\nc a\n")
        assert tables(out)["cooc.csv"].split(b"\n")[1].startswith(b"a,c,1,")


def test_mapped_file_fed_in_pieces_and_given_back():
    """A mapped plain file is fed to the tokenizer in 4 MiB pieces, each given back
    to the kernel once read (--doc-sep file: one document, the whole file). A piece
    boundary inside a two-byte letter, inside a joined term and in a run of spaces
    changes nothing: the tables equal those of the same bytes through stdin (read in
    one buffer, never mapped, fed whole). The file has no blank line, so under
    --doc-sep blank too it is one view, from its first byte. (What it saves: a 1 GiB
    plain file counted at -T 2 peaked at 1.74 GB before, 0.89 GB after; too slow a file
    for a test.)"""
    piece = 4 << 20
    with tmpdir() as d:
        head = gen_text(seed=5, n_words=2000).encode()
        data = bytearray(head)
        # (bytes, how many of them go before the boundary)
        for k, (seq, before) in enumerate([(b"\xc3\xa9\xc3\xa9 caf\xc3\xa9 ", 3),
                                           (b" ex-governor's U.S 3.5 ", 4),
                                           (b"word" + b" " * 8 + b"word ", 8)], start=1):
            pad = k * piece - before - len(data)
            data += (b"lorem ipsum dolor " * (pad // 18 + 1))[:pad - 1] + b" "
            assert len(data) + before == k * piece
            data += seq
        data += (b"abc d\xc3\xa9f " * (1 << 20))[: 6 << 20].rsplit(b" ", 1)[0] + b" " + head
        data = bytes(data)
        path = os.path.join(d, "big.txt")
        with open(path, "wb") as f:
            f.write(data)
        for mode in ("file", "blank"):
            opts = ["-T", "2", "--doc-sep", mode, "--ngrams", "1-3", "--cooc", "window"]
            a, b = os.path.join(d, "a" + mode), os.path.join(d, "b" + mode)
            count([path], a, *opts)
            # stdin in one buffer larger than the file: one cs_tok_feed call, no cut
            # anywhere (with the default 1 MiB chunks it would be fed in 1 MiB pieces,
            # cut at every 4 MiB boundary too)
            count(["-"], b, *opts, "--chunk-size", str(64 << 20), input=data)
            assert tables(a) == tables(b), mode


def test_peak_rss_is_the_runs_own():
    """summary.json's peak_rss_bytes is the program's own peak (VmHWM), not what a
    large parent held when it started it: getrusage's ru_maxrss carries the parent's
    peak across fork and exec on Linux, and a run started by a test runner holding
    480 MB reported 480 MB."""
    with tmpdir() as d:
        path = os.path.join(d, "a.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(gen_text(seed=3, n_words=5000))
        held = bytearray(768 << 20)
        for i in range(0, len(held), 4096):  # touched: resident in this process
            held[i] = 1
        out = os.path.join(d, "out")
        count([path], out, "--ngrams", "1-3")
        peak = summary(out)["peak_rss_bytes"]
        del held
        assert 0 < peak < 384 << 20, peak
